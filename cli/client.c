/* SPDX-License-Identifier: MIT */
/* client.c -- what the services' clients share; sock time and sock daytime */

#include <sock.h>

#include "cli.h"
#include "client.h"
#include "reply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long sock time waits for the server to close after its 4 bytes. */
#define CLOSE_WAIT_MS 1000

/* The longest daytime reply kept: RFC 867 asks for one line. */
#define DAYTIME_MAX 65536

#define TIME_PORT 37
#define DAYTIME_PORT 13

int client_setup(const struct cli_command *cmd, int argc, char **argv, int port,
		 bool more_operands, struct cli_options *o, char *addr)
{
	int ret = cli_parse(cmd, argc, argv, o);

	if (ret >= 0)
		return ret;
	if (o->first >= argc)
		return cli_usage(cmd->name, "missing address");
	if (!more_operands && o->first + 1 < argc)
		return cli_usage(cmd->name, "unexpected operand '%s'",
				 argv[o->first + 1]);
	if (cli_addr_with_port(argv[o->first], port, addr, CLI_ADDR_MAX))
		return cli_usage(cmd->name, "address too long");
	if (o->wait_ms < 0)
		o->wait_ms = o->udp ? UDP_WAIT_MS : TCP_WAIT_MS;
	return -1;
}

int client_open(struct sock *s, const struct cli_options *o, const char *addr)
{
	int err = cli_connect(s, o->udp ? SOCK_DGRAM : SOCK_STREAM, addr,
			      AF_UNSPEC, o->wait_ms);
	int ret;

	if (err)
		return cli_addr_fail("connect to", addr, err);
	ret = cli_tls_client(s, o, addr, o->wait_ms);
	if (ret >= 0)
		sock_close(s);
	return ret;
}

/* Make room for more of a reply of at most max bytes (plus one, to see
 * that a reply is too long).  Returns the room, or -ENOMEM. */
static ssize_t room(struct reply *r, size_t *cap, size_t max)
{
	size_t want;
	char *p;

	if (r->len < *cap)
		return (ssize_t)(*cap - r->len);
	want = *cap ? *cap * 2 : 4096;
	if (want > max + 1)
		want = max + 1;
	p = realloc(r->data, want);
	if (!p)
		return -ENOMEM;
	r->data = p;
	*cap = want;
	return (ssize_t)(want - r->len);
}

int client_exchange(struct sock *s, const void *req, size_t req_len, size_t max,
		    int64_t deadline, struct reply *r)
{
	size_t cap = 0;
	ssize_t n;
	int err;

	*r = (struct reply){ NULL, 0 };
	err = sock_settimeout(s, cli_remaining(deadline));
	if (!err && req_len)
		err = sock_sendall(s, req, req_len, NULL, 0);
	if (err)
		return err;
	for (;;) {
		n = room(r, &cap, max);
		if (n < 0)
			return (int)n;
		err = sock_settimeout(s, cli_remaining(deadline));
		if (err)
			return err;
		n = sock_recv(s, r->data + r->len, (size_t)n, 0);
		if (n <= 0)
			return (int)n;
		r->len += (size_t)n;
		if (r->len > max)
			return -EMSGSIZE;
	}
}

ssize_t client_udp_ask(struct sock *s, const void *req, size_t req_len,
		       void *buf, size_t size, int wait_ms)
{
	ssize_t n = -ETIMEDOUT;
	int i, err;

	err = sock_settimeout(s, wait_ms);
	for (i = 0; !err && i < UDP_TRIES && n == -ETIMEDOUT; i++) {
		n = sock_send(s, req, req_len, 0);
		if (n >= 0)
			n = sock_recv(s, buf, size, MSG_TRUNC);
	}
	return err ? err : n;
}

int client_udp_fail(const char *addr, ssize_t err, int wait_ms)
{
	if (err == -ETIMEDOUT)
		return cli_fail("no reply from %s after %d tries of %g s", addr,
				UDP_TRIES, wait_ms / 1000.0);
	return cli_fail("no reply from %s: %s", addr, sock_strerror((int)err));
}

/* The seed's two lines: Python's time.ctime() and the offset of the local
 * clock, read (now) when the reply came. */
static int print_time(time_t t, time_t now)
{
	char text[64];

	if (!ctime_r(&t, text))
		snprintf(text, sizeof(text), "%lld seconds after 1970\n",
			 (long long)t);
	printf("server time is %s", text);
	printf("local clock is %lld seconds off\n", (long long)(now - t));
	return CLI_OK;
}

/* The shorter of a timeout (SOCK_FOREVER: the longest) and limit_ms. */
static int at_most(int timeout_ms, int limit_ms)
{
	return timeout_ms < 0 || timeout_ms > limit_ms ? limit_ms : timeout_ms;
}

static int time_tcp(struct sock *s, const char *addr, int64_t deadline)
{
	unsigned char buf[4], extra;
	size_t got = 0;
	time_t now, t;
	ssize_t n;
	int err;

	err = sock_settimeout(s, cli_remaining(deadline));
	if (!err)
		err = sock_recv_exact(s, buf, sizeof(buf), &got);
	now = time(NULL);
	if (err == SOCK_EEOF)
		return cli_fail("%s closed after %zu of 4 bytes", addr, got);
	if (err == -ETIMEDOUT)
		return cli_fail("%s: %s after %zu of 4 bytes", addr,
				sock_strerror(err), got);
	if (err)
		return cli_fail("%s: %s", addr, sock_strerror(err));
	/*
	 * RFC 868: the server closes once it sent the 4 bytes.  More bytes
	 * mean this is no time server; a server slow to close has still
	 * told the time.
	 */
	n = sock_settimeout(s, at_most(cli_remaining(deadline), CLOSE_WAIT_MS));
	if (!n)
		n = sock_recv(s, &extra, 1, 0);
	if (n > 0)
		return cli_fail("%s sent more than 4 bytes: not a time server",
				addr);
	if (reply_time(buf, sizeof(buf), now, &t))
		return cli_fail("%s: %s", addr, sock_strerror(-EBADMSG));
	return print_time(t, now);
}

static int time_udp(struct sock *s, const char *addr, int wait_ms)
{
	unsigned char buf[64];
	time_t now, t;
	ssize_t n;

	/* RFC 868 over UDP: any datagram, even an empty one, asks. */
	n = client_udp_ask(s, "", 0, buf, sizeof(buf), wait_ms);
	if (n < 0)
		return client_udp_fail(addr, n, wait_ms);
	now = time(NULL);
	if (reply_time(buf, (size_t)n, now, &t))
		return cli_fail("%s replied with %zd bytes, not 4: "
				"not a time server",
				addr, n);
	return print_time(t, now);
}

static const struct cli_command time_command = {
	.name = "time",
	.opts = "uw:",
	.help = "usage: sock time [--udp] [-w SECONDS] HOST[:PORT]\n"
		"\n"
		"Ask an RFC 868 time server (port 37 by default) for the time "
		"and print it\nwith the local clock's offset from it (local "
		"minus server, in seconds).\n"
		"\n"
		"  -u, --udp     ask over UDP: an empty datagram, 3 tries\n"
		"  -w SECONDS    TCP: the whole exchange's limit (default "
		"10);\n"
		"                UDP: the wait for each try's reply (default "
		"2)\n",
};

int cmd_time(int argc, char **argv)
{
	char addr[CLI_ADDR_MAX];
	struct cli_options o;
	int64_t deadline;
	struct sock s;
	int ret;

	ret = client_setup(&time_command, argc, argv, TIME_PORT, false, &o,
			   addr);
	if (ret >= 0)
		return ret;
	deadline = cli_deadline(o.wait_ms);
	ret = client_open(&s, &o, addr);
	if (ret >= 0)
		return ret;
	if (o.udp)
		ret = time_udp(&s, addr, o.wait_ms);
	else
		ret = time_tcp(&s, addr, deadline);
	sock_close(&s);
	return ret;
}

/* Print a daytime reply as one line: its CR LF (or LF) becomes LF. */
static int print_line(const char *data, size_t len)
{
	fwrite(data, 1, reply_daytime_line(data, len), stdout);
	putchar('\n');
	return CLI_OK;
}

static int daytime_tcp(struct sock *s, const char *addr, int64_t deadline)
{
	struct reply r;
	int err, ret;

	err = client_exchange(s, NULL, 0, DAYTIME_MAX, deadline, &r);
	/* A whole line came, though the server did not close after it. */
	if (err == -ETIMEDOUT && r.len && r.data[r.len - 1] == '\n')
		err = 0;
	if (err == -EMSGSIZE)
		ret = cli_fail("%s sent more than %d bytes: not a daytime "
			       "server",
			       addr, DAYTIME_MAX);
	else if (err)
		ret = cli_fail("%s: %s", addr, sock_strerror(err));
	else if (!r.len)
		ret = cli_fail("%s closed without sending the date", addr);
	else
		ret = print_line(r.data, r.len);
	free(r.data);
	return ret;
}

static int daytime_udp(struct sock *s, const char *addr, int wait_ms)
{
	char buf[DAYTIME_MAX];
	ssize_t n;

	n = client_udp_ask(s, "", 0, buf, sizeof(buf), wait_ms);
	if (n < 0)
		return client_udp_fail(addr, n, wait_ms);
	if ((size_t)n > sizeof(buf))
		return cli_fail("%s replied with %zd bytes: not a daytime "
				"server",
				addr, n);
	return print_line(buf, (size_t)n);
}

static const struct cli_command daytime_command = {
	.name = "daytime",
	.opts = "uw:TA:N:K",
	.help = "usage: sock daytime [--udp] [-w SECONDS] [--tls [--cafile "
		"FILE]] HOST[:PORT]\n"
		"\n"
		"Ask an RFC 867 daytime server (port 13 by default) for the "
		"date and print\nthe line it sends.\n"
		"\n"
		"  -u, --udp     ask over UDP: an empty datagram, 3 tries\n"
		"  -w SECONDS    TCP: the whole exchange's limit (default "
		"10);\n"
		"                UDP: the wait for each try's reply (default "
		"2)\n" CLIENT_TLS_HELP,
};

int cmd_daytime(int argc, char **argv)
{
	char addr[CLI_ADDR_MAX];
	struct cli_options o;
	int64_t deadline;
	struct sock s;
	int ret;

	ret = client_setup(&daytime_command, argc, argv, DAYTIME_PORT, false,
			   &o, addr);
	if (ret >= 0)
		return ret;
	deadline = cli_deadline(o.wait_ms);
	ret = client_open(&s, &o, addr);
	if (ret >= 0)
		return ret;
	if (o.udp)
		ret = daytime_udp(&s, addr, o.wait_ms);
	else
		ret = daytime_tcp(&s, addr, deadline);
	sock_close(&s);
	return ret;
}

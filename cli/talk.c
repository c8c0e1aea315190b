/* SPDX-License-Identifier: MIT */
/* talk.c -- sock echo, clients, chat: clients that send, then print replies */

#include <sock.h>

#include "cli.h"
#include "client.h"
#include "json.h"
#include "pump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The largest UDP payload (over IPv4): what one datagram can carry. */
#define DATAGRAM_MAX 65507
/* The longest client list read: far beyond any list a server keeps. */
#define CLIENTS_MAX (64 << 20)

/* Default ports: RFC 862's, and the seed's client list and chat room. */
#define ECHO_PORT 7
#define CLIENTS_PORT 5000
#define CHAT_PORT 5001

/* The words joined by single spaces, plus LF, in a malloc'd buffer. */
static char *join_words(int n, char **words, size_t *len)
{
	size_t size = 1;
	char *buf, *p;
	int i;

	for (i = 0; i < n; i++)
		size += strlen(words[i]) + 1;
	buf = malloc(size);
	if (!buf)
		return NULL;
	p = buf;
	for (i = 0; i < n; i++) {
		if (i)
			*p++ = ' ';
		memcpy(p, words[i], strlen(words[i]));
		p += strlen(words[i]);
	}
	*p++ = '\n';
	*len = (size_t)(p - buf);
	return buf;
}

/* Read standard input whole into buf, at most size bytes.  Returns the
 * count, -EMSGSIZE when there is more, or -errno. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	char more;

	for (;;) {
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return (ssize_t)len;
		len += (size_t)n;
		if (len == size)
			return read(fd, &more, 1) > 0 ? -EMSGSIZE
						      : (ssize_t)len;
	}
}

static int echo_udp(struct sock *s, const char *addr, const char *msg,
		    size_t len, int wait_ms)
{
	char in[DATAGRAM_MAX], out[DATAGRAM_MAX];
	ssize_t n;

	if (!msg) {
		n = read_all(STDIN_FILENO, in, sizeof(in));
		if (n == -EMSGSIZE)
			return cli_fail("standard input holds more than %d "
					"bytes, the most one datagram carries",
					DATAGRAM_MAX);
		if (n < 0)
			return cli_fail("cannot read standard input: %s",
					sock_strerror((int)n));
		msg = in;
		len = (size_t)n;
	}
	n = client_udp_ask(s, msg, len, out, sizeof(out), wait_ms);
	if (n < 0)
		return client_udp_fail(addr, n, wait_ms);
	if ((size_t)n > sizeof(out))
		return cli_fail("%s replied with %zd bytes, more than %d", addr,
				n, DATAGRAM_MAX);
	if (fwrite(out, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout))
		return cli_fail("cannot write standard output: %s",
				sock_strerror(-errno));
	return CLI_OK;
}

static int echo_tcp(struct sock *s, const char *addr, const char *msg,
		    size_t len, int wait_ms)
{
	struct pump p = {
		.sock = s,
		.msg = msg,
		.msg_len = len,
		.in_fd = msg ? -1 : STDIN_FILENO,
		.out_fd = STDOUT_FILENO,
		.idle_ms = SOCK_FOREVER,
		.drain_ms = wait_ms,
	};
	int err = pump_run(&p);

	return err ? pump_fail(&p, addr, err) : CLI_OK;
}

static const struct cli_command echo_command = {
	.name = "echo",
	.opts = "uw:TA:N:K",
	.options_first = true,
	.help = "usage: sock echo [--udp] [-w SECONDS] [--tls [--cafile FILE]] "
		"HOST[:PORT]\n"
		"                 [MESSAGE...]\n"
		"\n"
		"Send the MESSAGE words, joined by spaces and ended by a "
		"newline, or else\nstandard input as it is, to an RFC 862 "
		"echo server (port 7 by default),\nand print what comes "
		"back.  Over TCP the input is streamed while replies\nare "
		"printed; its end shuts down the sending side and replies "
		"are printed\nuntil the server closes.  Over UDP the input "
		"is one datagram and the\nreply is the datagram that comes "
		"back.  Options go before the address.\n"
		"\n"
		"  -u, --udp     over UDP: one datagram, 3 tries\n"
		"  -w SECONDS    TCP: the limit to connect, and to wait for "
		"the server once\n"
		"                the input ended (default 10); UDP: the wait "
		"for each try's\n"
		"                reply (default 2)\n" CLIENT_TLS_HELP,
};

int cmd_echo(int argc, char **argv)
{
	char addr[CLI_ADDR_MAX], *msg = NULL;
	struct cli_options o;
	size_t len = 0;
	struct sock s;
	int ret;

	ret = client_setup(&echo_command, argc, argv, ECHO_PORT, true, &o,
			   addr);
	if (ret >= 0)
		return ret;
	if (o.first + 1 < argc) {
		msg = join_words(argc - o.first - 1, argv + o.first + 1, &len);
		if (!msg)
			return cli_fail("%s", sock_strerror(-ENOMEM));
	}
	ret = client_open(&s, &o, addr);
	if (ret < 0) {
		if (o.udp)
			ret = echo_udp(&s, addr, msg, len, o.wait_ms);
		else
			ret = echo_tcp(&s, addr, msg, len, o.wait_ms);
		sock_close(&s);
	}
	free(msg);
	return ret;
}

/* Print the list, or say why it cannot be. */
static int print_clients(const char *addr, const struct reply *r)
{
	const char *why;
	size_t at;
	int err;

	if (!r->len)
		return cli_fail("%s closed without sending the list", addr);
	err = json_print_indented(r->data, r->len, stdout, &at, &why);
	if (err == -EINVAL)
		return cli_fail("invalid JSON from %s at byte %zu: %s", addr,
				at, why);
	if (err)
		return cli_fail("cannot write standard output: %s",
				sock_strerror(err));
	return CLI_OK;
}

static const struct cli_command clients_command = {
	.name = "clients",
	.opts = "n:w:TA:N:K",
	.help = "usage: sock clients [-n NAME] [-w SECONDS] [--tls [--cafile "
		"FILE]] HOST[:PORT]\n"
		"\n"
		"Join the client list of a server like the seed's "
		"client_list.py (port\n5000 by default): send NAME, read the "
		"list the server answers with, of\nany length up to 64 MiB, "
		"and print it as indented JSON.\n"
		"\n"
		"  -n NAME       the name to register (default 'name')\n"
		"  -w SECONDS    the whole exchange's limit (default "
		"10)\n" CLIENT_TLS_HELP,
};

int cmd_clients(int argc, char **argv)
{
	char addr[CLI_ADDR_MAX];
	struct cli_options o;
	const char *name;
	int64_t deadline;
	struct reply r;
	struct sock s;
	int err, ret;

	ret = client_setup(&clients_command, argc, argv, CLIENTS_PORT, false,
			   &o, addr);
	if (ret >= 0)
		return ret;
	name = o.name ? o.name : "name";
	if (!name[0])
		return cli_usage("clients", "the name must not be empty");
	deadline = cli_deadline(o.wait_ms);
	ret = client_open(&s, &o, addr);
	if (ret >= 0)
		return ret;
	/* The seed's client sends the bare name, then reads: no newline, no
	 * shutdown. */
	err = client_exchange(&s, name, strlen(name), CLIENTS_MAX, deadline,
			      &r);
	sock_close(&s);
	if (err == -EMSGSIZE)
		ret = cli_fail("%s sent a list longer than %d MiB", addr,
			       CLIENTS_MAX >> 20);
	else if (err == -ETIMEDOUT && !r.len)
		ret = cli_fail("%s: no reply within %g s", addr,
			       o.wait_ms / 1000.0);
	else if (err == -ETIMEDOUT)
		ret = cli_fail("%s: the list did not end within %g s", addr,
			       o.wait_ms / 1000.0);
	else if (err)
		ret = cli_fail("%s: %s", addr, sock_strerror(err));
	else
		ret = print_clients(addr, &r);
	free(r.data);
	return ret;
}

static const struct cli_command chat_command = {
	.name = "chat",
	.opts = "w:",
	.help = "usage: sock chat [-w SECONDS] HOST[:PORT]\n"
		"\n"
		"Join a line-based chat room (port 5001 by default): lines "
		"typed on\nstandard input go to the room, what the room sends "
		"goes to standard\noutput.  The session ends when the server "
		"closes, or when the input ends\nand the server then closes "
		"or stays silent for SECONDS.\n"
		"\n"
		"  -w SECONDS    the limit to connect, and the wait for the "
		"server once the\n"
		"                input ended (default 10)\n",
};

int cmd_chat(int argc, char **argv)
{
	char addr[CLI_ADDR_MAX];
	struct cli_options o;
	struct sock s;
	struct pump p;
	int err, ret;

	ret = client_setup(&chat_command, argc, argv, CHAT_PORT, false, &o,
			   addr);
	if (ret >= 0)
		return ret;
	ret = client_open(&s, &o, addr);
	if (ret >= 0)
		return ret;
	p = (struct pump){
		.sock = &s,
		.in_fd = STDIN_FILENO,
		.out_fd = STDOUT_FILENO,
		.idle_ms = SOCK_FOREVER,
		.drain_ms = o.wait_ms,
		.stop_at_peer_end = true,
	};
	err = pump_run(&p);
	sock_close(&s);
	/* Leaving a room that does not close on a half-closed connection
	 * is still leaving it. */
	if (err == -ETIMEDOUT && p.failed == PUMP_IDLE)
		return CLI_OK;
	return err ? pump_fail(&p, addr, err) : CLI_OK;
}

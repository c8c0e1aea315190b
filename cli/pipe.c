/* SPDX-License-Identifier: MIT */
/* pipe.c -- sock connect and sock listen: netcat, standard I/O to a socket */

#include <sock.h>

#include "cli.h"
#include "pump.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

/*
 * Over UDP nothing marks the end of the replies: once standard input ended,
 * a session without -w lasts until the peer has been silent this long.
 */
#define DGRAM_LINGER_MS 2000

/* Room for any datagram a listener's first sender sends. */
#define DGRAM_MAX 65536

static void say(const struct cli_options *o, const char *what,
		const struct sock_addr *addr)
{
	char text[SOCK_ADDR_STRLEN];

	if (!o->verbose)
		return;
	if (!addr->len || sock_addr_format(addr, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "an unnamed socket");
	fprintf(stderr, "sock: %s %s\n", what, text);
}

/*
 * Copy standard input to s (unless can_send is false: then it is not
 * read) and s to standard output until the session ends.
 */
static int run(struct sock *s, const char *peer, const struct cli_options *o,
	       bool can_send)
{
	int idle = o->wait_ms, drain = o->wait_ms;
	struct pump p;
	int err;

	if (s->type == SOCK_DGRAM && can_send && drain < 0)
		drain = DGRAM_LINGER_MS;
	p = (struct pump){
		.sock = s,
		.in_fd = can_send ? STDIN_FILENO : -1,
		.out_fd = STDOUT_FILENO,
		.idle_ms = idle,
		.drain_ms = drain,
	};
	err = pump_run(&p);
	return err ? pump_fail(&p, peer, err) : CLI_OK;
}

/* The one operand, ADDR.  Returns -1 to go on, or the status to exit
 * with. */
static int operand(const struct cli_command *cmd, int argc, char **argv,
		   struct cli_options *o, const char **addr)
{
	int ret = cli_parse(cmd, argc, argv, o);

	if (ret >= 0)
		return ret;
	if (o->first >= argc)
		return cli_usage(cmd->name, "missing address");
	if (o->first + 1 < argc)
		return cli_usage(cmd->name, "unexpected operand '%s'",
				 argv[o->first + 1]);
	*addr = argv[o->first];
	return -1;
}

static const struct cli_command connect_command = {
	.name = "connect",
	.opts = "u46vw:TA:N:KC:Y:",
	.help = "usage: sock connect [-u] [-4|-6] [-v] [-w SECONDS]\n"
		"                    [--tls [--cafile FILE] [--servername "
		"NAME] "
		"[--insecure]] ADDR\n"
		"\n"
		"Connect to ADDR (HOST:PORT, [IPV6]:PORT, a Unix socket path "
		"or @name)\nand copy standard input to it and what it sends "
		"to standard output,\nboth at once.  Over a stream the end "
		"of standard input shuts down the\nsending side, and the "
		"session lasts until the peer closes too.\n"
		"\n"
		"  -u            UDP (a Unix datagram socket with a Unix "
		"address): each\n"
		"                read of standard input is one datagram; "
		"once it ended,\n"
		"                replies are printed until the peer is "
		"silent for 2 s\n"
		"                (or SECONDS)\n"
		"  -4, -6        only IPv4 or only IPv6 addresses\n"
		"  -v            tell on standard error whom we talk to, and\n"
		"                each lookup and connection attempt\n"
		"  -w SECONDS    give up connecting, or on a session where "
		"nothing moved,\n"
		"                after SECONDS (default: no limit)\n"
		"  --tls         speak TLS, verifying the server: its chain "
		"against the\n"
		"                system's trust store and its name against "
		"ADDR's host\n"
		"  --cafile FILE trust the CA certificates in FILE (PEM) "
		"instead\n"
		"  --servername NAME  the name to verify and send as SNI\n"
		"  --insecure    verify nothing: any server will do\n"
		"  --tls-cert FILE, --tls-key FILE  a client certificate, "
		"when asked\n",
};

static const char *family_name(int family)
{
	return family == AF_INET6  ? "IPv6"
	       : family == AF_INET ? "IPv4"
				   : "both";
}

/* With -v: each lookup and attempt of the connect, as the report has
 * them (Happy Eyeballs races IPv6 against IPv4). */
static void tell_report(const struct cli_options *o,
			const struct sock_connect_report *r)
{
	const struct sock_connect_attempt *a;
	char text[SOCK_ADDR_STRLEN];
	int i;

	if (!o->verbose)
		return;
	for (i = 0; i < r->n_lookups; i++) {
		if (r->lookup[i].end_ms < 0)
			fprintf(stderr, "sock: lookup %s: no answer yet\n",
				family_name(r->lookup[i].family));
		else if (r->lookup[i].result < 0)
			fprintf(stderr, "sock: lookup %s: %s, at %d ms\n",
				family_name(r->lookup[i].family),
				sock_strerror(r->lookup[i].result),
				r->lookup[i].end_ms);
		else
			fprintf(stderr,
				"sock: lookup %s: %d address%s, at %d ms\n",
				family_name(r->lookup[i].family),
				r->lookup[i].result,
				r->lookup[i].result == 1 ? "" : "es",
				r->lookup[i].end_ms);
	}
	for (i = 0; i < r->n_attempts; i++) {
		a = &r->attempt[i];
		if (sock_addr_format(&a->addr, text, sizeof(text)) < 0)
			snprintf(text, sizeof(text), "?");
		fprintf(stderr, "sock: attempt %s: %d to %d ms, %s\n", text,
			a->start_ms, a->end_ms,
			a->result == 0		  ? "connected"
			: a->result == -ECANCELED ? "closed: another won"
						  : sock_strerror(a->result));
	}
}

/* With -v: what the TLS handshake agreed. */
static void tell_tls(const struct cli_options *o, const struct sock *s)
{
	char subject[256];

	if (!o->verbose || !sock_is_tls(s))
		return;
	if (sock_tls_peer_subject(s, subject, sizeof(subject)) <= 0)
		snprintf(subject, sizeof(subject), "no certificate");
	fprintf(stderr, "sock: TLS %s, %s, peer %s\n", sock_tls_version(s),
		sock_tls_cipher(s), subject);
}

int cmd_connect(int argc, char **argv)
{
	struct sock_connect_report report;
	struct sock_connect_options opt = { .report = &report };
	int type, err, ret;
	struct cli_options o;
	struct sock_addr peer;
	const char *addr;
	struct sock s;

	ret = operand(&connect_command, argc, argv, &o, &addr);
	if (ret >= 0)
		return ret;
	type = o.udp ? SOCK_DGRAM : SOCK_STREAM;
	if (o.family == AF_UNSPEC && !cli_addr_is_unix(addr)) {
		err = sock_connect_with(&s, type, addr, o.wait_ms, &opt);
		tell_report(&o, &report);
	} else {
		err = cli_connect(&s, type, addr, o.family, o.wait_ms);
	}
	if (err)
		return cli_addr_fail("connect to", addr, err);
	if (!sock_getpeername(&s, &peer))
		say(&o, "connected to", &peer);
	ret = cli_tls_client(&s, &o, addr, o.wait_ms);
	if (ret >= 0) {
		sock_close(&s);
		return ret;
	}
	tell_tls(&o, &s);
	ret = run(&s, addr, &o, true);
	sock_close(&s);
	return ret;
}

/*
 * The text to listen on: a bare port is the wildcard address, of the
 * family -4 or -6 asks for; a host name is resolved for that family.
 */
static int listen_text(const char *addr, const struct cli_options *o, int type,
		       char *buf, size_t size)
{
	const char *any = o->family == AF_INET6 ? "[::]" : "";
	struct sock_addr a;
	int n;

	if (addr[strspn(addr, "0123456789")] == '\0') {
		n = snprintf(buf, size, "%s:%s", any, addr);
	} else if (addr[0] == ':') {
		n = snprintf(buf, size, "%s%s", any, addr);
	} else if (o->family == AF_UNSPEC || cli_addr_is_unix(addr)) {
		n = snprintf(buf, size, "%s", addr);
	} else {
		n = cli_resolve_family(&a, addr, o->family, type, AI_PASSIVE,
				       SOCK_FOREVER);
		if (n)
			return n;
		n = sock_addr_format(&a, buf, size);
	}
	return n < 0 || (size_t)n >= size ? SOCK_EBADADDR : 0;
}

/* Remove the socket file of a Unix listener bound to a path. */
static void unlink_path(const struct sock_addr *addr)
{
	if (sock_addr_family(addr) == AF_UNIX &&
	    addr->len > offsetof(struct sockaddr_un, sun_path) &&
	    addr->u.un.sun_path[0])
		unlink(addr->u.un.sun_path);
}

/* Write all len bytes of buf to fd. */
static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int listen_stream(struct sock *l, const char *addr,
			 const struct cli_options *o, struct sock_tls_ctx *ctx)
{
	struct sock_addr self = { 0 }, peer;
	struct sock c;
	int err, ret;

	err = sock_getsockname(l, &self);
	if (!err)
		err = sock_settimeout(l, o->wait_ms);
	if (!err)
		err = sock_accept(l, &c, &peer);
	/* One connection only: nobody else may connect, or find the file. */
	sock_close(l);
	unlink_path(&self);
	if (err == -ETIMEDOUT)
		return cli_fail("no connection to %s within %g s", addr,
				o->wait_ms / 1000.0);
	if (err)
		return cli_fail("cannot accept on %s: %s", addr,
				sock_strerror(err));
	say(o, "connection from", &peer);
	if (ctx) {
		err = sock_settimeout(&c, o->wait_ms);
		if (!err)
			err = sock_tls_wrap(&c, ctx, NULL);
		if (!err)
			err = sock_settimeout(&c, SOCK_FOREVER);
		if (err) {
			cli_fail("TLS with the peer of %s: %s: %s", addr,
				 sock_strerror(err), sock_tls_reason(&c));
			sock_close(&c);
			return CLI_FAILURE;
		}
		tell_tls(o, &c);
	}
	ret = run(&c, addr, o, true);
	sock_close(&c);
	return ret;
}

/*
 * A datagram listener answers its first sender: it connects to it, so that
 * only that peer's datagrams come through after the first.  A Unix sender
 * with no name cannot be answered: the listener then only prints what
 * anyone sends.
 */
static int listen_dgram(struct sock *l, const char *addr,
			const struct cli_options *o)
{
	struct sock_addr peer;
	char buf[DGRAM_MAX];
	bool named;
	ssize_t n;
	int err;

	err = sock_settimeout(l, o->wait_ms);
	n = err ? err : sock_recvfrom(l, buf, sizeof(buf), &peer, 0);
	if (n == -ETIMEDOUT)
		return cli_fail("no datagram to %s within %g s", addr,
				o->wait_ms / 1000.0);
	if (n < 0)
		return cli_fail("cannot receive on %s: %s", addr,
				sock_strerror((int)n));
	say(o, "datagram from", &peer);
	/* An unnamed Unix sender comes with no address at all. */
	named = peer.len > 0 &&
		(sock_addr_family(&peer) != AF_UNIX ||
		 peer.len > offsetof(struct sockaddr_un, sun_path));
	if (named) {
		err = sock_connect_addr(l, &peer);
		if (err)
			return cli_fail("cannot answer the sender to %s: %s",
					addr, sock_strerror(err));
	}
	err = write_all(STDOUT_FILENO, buf, (size_t)n);
	if (err)
		return cli_fail("cannot write standard output: %s",
				sock_strerror(err));
	return run(l, addr, o, named);
}

static const struct cli_command listen_command = {
	.name = "listen",
	.opts = "u46vw:TC:Y:A:",
	.help = "usage: sock listen [-u] [-4|-6] [-v] [-w SECONDS]\n"
		"                   [--tls --tls-cert FILE [--tls-key FILE] "
		"[--cafile FILE]] ADDR\n"
		"\n"
		"Listen on ADDR (PORT or :PORT for every IPv4 address, "
		"HOST:PORT,\n[IPV6]:PORT, a Unix socket path or @name), "
		"accept one connection, and\ncopy standard input to it and "
		"what it sends to standard output, as\n'sock connect' does.  "
		"A Unix socket file is removed once the\nconnection came "
		"(or the session ended, for datagrams).\n"
		"\n"
		"  -u            UDP (a Unix datagram socket with a Unix "
		"address): answer\n"
		"                the first sender, whose datagrams alone "
		"are printed after\n"
		"  -4, -6        IPv4 or IPv6 (-6 with a bare port: [::])\n"
		"  -v            tell on standard error the address "
		"listened on and the peer\n"
		"  -w SECONDS    give up waiting for the peer, or on a "
		"session where\n"
		"                nothing moved, after SECONDS (default: no "
		"limit)\n"
		"  --tls         speak TLS as a server, with the certificate "
		"chain in\n"
		"                --tls-cert FILE and its key in --tls-key "
		"FILE (or in\n"
		"                the chain's file)\n"
		"  --cafile FILE require a client certificate from a CA in "
		"FILE\n",
};

int cmd_listen(int argc, char **argv)
{
	int type, err, ret, flags = 0;
	struct sock_addr self = { 0 };
	struct sock_tls_ctx *ctx = NULL;
	char text[CLI_ADDR_MAX];
	struct cli_options o;
	const char *addr;
	struct sock l;

	ret = operand(&listen_command, argc, argv, &o, &addr);
	if (ret >= 0)
		return ret;
	/* The certificate is read first: its trouble is told at once. */
	if (o.tls && (ret = cli_tls_server_ctx(&o, &ctx)) >= 0)
		return ret;
	type = o.udp ? SOCK_DGRAM : SOCK_STREAM;
	err = listen_text(addr, &o, type, text, sizeof(text));
	if (err) {
		sock_tls_ctx_free(ctx);
		return cli_addr_fail("listen on", addr, err);
	}
	if (cli_addr_is_unix(text))
		flags |= SOCK_LISTEN_UNLINK;
	err = sock_listen(&l, type, text, 1, flags);
	if (err) {
		sock_tls_ctx_free(ctx);
		return cli_addr_fail("listen on", addr, err);
	}
	if (!sock_getsockname(&l, &self)) {
		/* Port 0 asked the system for one: which, the user cannot
		 * know unless told, so it is said even without -v. */
		size_t n = strlen(text);
		bool any_port = n >= 2 && !strcmp(text + n - 2, ":0");
		struct cli_options loud = o;

		loud.verbose = o.verbose || any_port;
		say(&loud, "listening on", &self);
	}
	if (type == SOCK_STREAM) {
		ret = listen_stream(&l, addr, &o, ctx);
		sock_tls_ctx_free(ctx);
		return ret;
	}
	ret = listen_dgram(&l, addr, &o);
	sock_close(&l);
	unlink_path(&self);
	return ret;
}

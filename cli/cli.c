/* SPDX-License-Identifier: MIT */
/* cli.c -- what the commands share: messages, options, addresses, connect */

#include <sock.h>

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How many resolved addresses cli_connect() tries with -4 or -6. */
#define CONNECT_ADDRS_MAX 16

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_FAILURE;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sock %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'sock %s --help')\n", cmd);
	return CLI_USAGE;
}

/* The short option of a long one: --udp is -u, --help is -h. */
static const struct option long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "udp", no_argument, NULL, 'u' },
	{ "tls", no_argument, NULL, 'T' },
	{ "cafile", required_argument, NULL, 'A' },
	{ "servername", required_argument, NULL, 'N' },
	{ "insecure", no_argument, NULL, 'K' },
	{ "tls-cert", required_argument, NULL, 'C' },
	{ "tls-key", required_argument, NULL, 'Y' },
	{ NULL, 0, NULL, 0 },
};

/* Take one option c with its argument arg into o. */
static int take_option(const struct cli_command *cmd, int c, const char *arg,
		       struct cli_options *o)
{
	switch (c) {
	case 'u':
		o->udp = true;
		break;
	case '4':
		o->family = AF_INET;
		break;
	case '6':
		o->family = AF_INET6;
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'n':
		o->name = arg;
		break;
	case 'T':
		o->tls = true;
		break;
	case 'K':
		o->insecure = true;
		break;
	case 'A':
		o->cafile = arg;
		break;
	case 'N':
		o->servername = arg;
		break;
	case 'C':
		o->cert = arg;
		break;
	case 'Y':
		o->key = arg;
		break;
	case 'c': {
		char *end;
		long n;

		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n < 1 || n > 1000000)
			return cli_usage(cmd->name,
					 "-c wants a count from 1, not '%s'",
					 arg);
		o->count = (int)n;
		break;
	}
	case 'w':
		if (cli_seconds(arg, &o->wait_ms))
			return cli_usage(cmd->name,
					 "-w wants seconds above 0, not '%s'",
					 arg);
		break;
	}
	return -1;
}

/* The TLS options make sense only together. */
static int check_tls_options(const struct cli_command *cmd,
			     const struct cli_options *o)
{
	const char *lone = o->cafile	   ? "--cafile"
			   : o->servername ? "--servername"
			   : o->insecure   ? "--insecure"
			   : o->cert	   ? "--tls-cert"
			   : o->key	   ? "--tls-key"
					   : NULL;

	if (!o->tls && lone)
		return cli_usage(cmd->name, "%s needs --tls", lone);
	if (o->tls && o->udp)
		return cli_usage(cmd->name, "--tls is for TCP, not --udp");
	if (o->insecure && (o->cafile || o->servername))
		return cli_usage(cmd->name, "--insecure verifies nothing: no "
					    "--cafile or --servername with it");
	if (o->key && !o->cert)
		return cli_usage(cmd->name, "--tls-key needs --tls-cert");
	return -1;
}

int cli_tls_client(struct sock *s, const struct cli_options *o,
		   const char *addr, int timeout_ms)
{
	char host[SOCK_ADDR_STRLEN], port[64];
	const char *name = o->servername;
	struct sock_tls_ctx *ctx;
	int err;

	if (!o->tls)
		return -1;
	if (!name &&
	    sock_addr_split(addr, host, sizeof(host), port, sizeof(port)) ==
		    0 &&
	    host[0])
		name = host;
	err = sock_tls_ctx_new(&ctx, SOCK_TLS_CLIENT);
	if (err)
		return cli_fail("TLS: %s", sock_strerror(err));
	if (o->insecure)
		err = sock_tls_ctx_set_verify(ctx, SOCK_TLS_VERIFY_NONE);
	if (!err && o->cafile)
		err = sock_tls_ctx_load_verify(ctx, o->cafile, NULL);
	if (!err && o->cert)
		err = sock_tls_ctx_use_cert(ctx, o->cert, o->key);
	if (err) {
		cli_fail("TLS: %s", sock_tls_ctx_reason(ctx)[0]
					    ? sock_tls_ctx_reason(ctx)
					    : sock_strerror(err));
		sock_tls_ctx_free(ctx);
		return CLI_FAILURE;
	}
	err = sock_settimeout(s, timeout_ms);
	if (!err)
		err = sock_tls_wrap(s, ctx, name);
	sock_tls_ctx_free(ctx);
	if (err == -EINVAL && !name)
		return cli_fail("TLS with %s: no server name to verify "
				"(--servername NAME, or --insecure)",
				addr);
	if (err)
		return cli_fail("TLS with %s: %s: %s", addr, sock_strerror(err),
				sock_tls_reason(s));
	err = sock_settimeout(s, SOCK_FOREVER);
	return err ? cli_fail("TLS: %s", sock_strerror(err)) : -1;
}

int cli_tls_server_ctx(const struct cli_options *o, struct sock_tls_ctx **ctx)
{
	int err;

	if (!o->cert)
		return cli_fail("--tls needs --tls-cert FILE (and --tls-key "
				"FILE unless the key is in it)");
	err = sock_tls_ctx_new(ctx, SOCK_TLS_SERVER);
	if (err)
		return cli_fail("TLS: %s", sock_strerror(err));
	err = sock_tls_ctx_use_cert(*ctx, o->cert, o->key);
	if (!err && o->cafile) {
		err = sock_tls_ctx_load_verify(*ctx, o->cafile, NULL);
		if (!err)
			err = sock_tls_ctx_set_verify(*ctx,
						      SOCK_TLS_VERIFY_REQUIRE);
	}
	if (err) {
		cli_fail("TLS: %s", sock_tls_ctx_reason(*ctx)[0]
					    ? sock_tls_ctx_reason(*ctx)
					    : sock_strerror(err));
		sock_tls_ctx_free(*ctx);
		*ctx = NULL;
		return CLI_FAILURE;
	}
	return -1;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv,
	      struct cli_options *o)
{
	char optstring[64];
	int c, ret;

	*o = (struct cli_options){ .family = AF_UNSPEC, .wait_ms = -1 };
	snprintf(optstring, sizeof(optstring), "%s:h%s",
		 cmd->options_first ? "+" : "", cmd->opts);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, optstring, long_options, NULL)) !=
	       -1) {
		if (c == 'h') {
			fputs(cmd->help, stdout);
			return CLI_OK;
		}
		if (c == ':')
			return cli_usage(cmd->name,
					 "option '-%c' needs a value", optopt);
		if (c == '?' && optopt)
			return cli_usage(cmd->name, "unknown option '-%c'",
					 optopt);
		if (c == '?' || !strchr(cmd->opts, c))
			return cli_usage(cmd->name, "unknown option '%s'",
					 argv[optind - 1]);
		ret = take_option(cmd, c, optarg, o);
		if (ret >= 0)
			return ret;
	}
	o->first = optind;
	return check_tls_options(cmd, o);
}

/* What is wrong with addr, in words closer to it than err's, or NULL. */
static const char *addr_trouble(const char *addr, int err, char *buf,
				size_t size)
{
	char host[SOCK_ADDR_STRLEN], port[64];
	size_t i;

	if (!strcmp(addr, "unix:"))
		return "a Unix address needs a path or @name after 'unix:'";
	if (!strncmp(addr, "packet:", 7))
		return "a packet: address names an interface for raw frames "
		       "(sock_open with AF_PACKET), not a peer to connect to "
		       "or listen on";
	/* glibc says EAI_SERVICE for a name /etc/services lacks, too. */
	if (err == SOCK_ESERVICE &&
	    sock_addr_split(addr, host, sizeof(host), port, sizeof(port)) ==
		    0 &&
	    port[0]) {
		for (i = 0; port[i] >= '0' && port[i] <= '9'; i++)
			;
		if (port[i]) {
			snprintf(buf, size,
				 "unknown service name '%s' (a port number, or "
				 "a name in /etc/services)",
				 port);
			return buf;
		}
	}
	return NULL;
}

int cli_addr_fail(const char *verb, const char *addr, int err)
{
	char buf[160];
	const char *why = addr_trouble(addr, err, buf, sizeof(buf));

	cli_fail("cannot %s %s: %s", verb, addr,
		 why ? why : sock_strerror(err));
	return err == SOCK_EBADADDR || why ? CLI_USAGE : CLI_FAILURE;
}

int cli_seconds(const char *text, int *ms)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(text, &end);
	if (errno || end == text || *end || !(s > 0) || s > 86400)
		return -EINVAL;
	*ms = (int)(s * 1000 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

bool cli_addr_is_unix(const char *addr)
{
	struct sock_addr a;

	return !sock_addr_parse(&a, addr) && sock_addr_family(&a) == AF_UNIX;
}

int cli_addr_with_port(const char *addr, int port, char *buf, size_t size)
{
	const char *colon = strchr(addr, ':');
	const char *close = strrchr(addr, ']');
	int n;

	if (cli_addr_is_unix(addr))
		n = snprintf(buf, size, "%s", addr);
	else if (addr[0] == '[' && close && close[1] == '\0')
		n = snprintf(buf, size, "%s:%d", addr, port);
	else if (addr[0] != '[' && colon && strchr(colon + 1, ':'))
		n = snprintf(buf, size, "[%s]:%d", addr, port);
	else if (!colon)
		n = snprintf(buf, size, "%s:%d", addr, port);
	else
		n = snprintf(buf, size, "%s", addr);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Resolve host:port text for one family into at most max addresses.
 * Returns their count, or a negative code. */
static ssize_t resolve(const char *text, int family, int type, int flags,
		       struct sock_addrinfo *ai, size_t max, int timeout_ms)
{
	char host[CLI_ADDR_MAX], port[NI_MAXSERV];
	int err;

	err = sock_addr_split(text, host, sizeof(host), port, sizeof(port));
	if (err)
		return err;
	return sock_getaddrinfo(host[0] ? host : NULL, port, family, type,
				flags, ai, max, timeout_ms);
}

int cli_resolve_family(struct sock_addr *addr, const char *text, int family,
		       int type, int flags, int timeout_ms)
{
	struct sock_addrinfo ai;
	ssize_t n;

	n = resolve(text, family, type, flags, &ai, 1, timeout_ms);
	if (n < 0)
		return (int)n;
	*addr = ai.addr;
	return 0;
}

/* Connect s to one address within deadline; s is closed on failure. */
static int connect_addr(struct sock *s, const struct sock_addr *addr, int type,
			int64_t deadline)
{
	int err;

	err = sock_open(s, sock_addr_family(addr), type, 0);
	if (err)
		return err;
	if (sock_addr_family(addr) == AF_UNIX && type == SOCK_DGRAM) {
		/* "unix:" autobinds: the server's reply needs an address. */
		err = sock_bind(s, "unix:");
		if (err)
			goto out_close;
	}
	err = sock_settimeout(s, cli_remaining(deadline));
	if (!err)
		err = sock_connect_addr(s, addr);
	if (!err)
		err = sock_settimeout(s, SOCK_FOREVER);
	if (err)
		goto out_close;
	return 0;

out_close:
	sock_close(s);
	return err;
}

/* cli_connect() for one family: try each address it resolves to. */
static int connect_family(struct sock *s, int type, const char *text,
			  int family, int timeout_ms)
{
	struct sock_addrinfo ai[CONNECT_ADDRS_MAX];
	int64_t deadline = cli_deadline(timeout_ms);
	int err, first = 0;
	ssize_t n, i;

	n = resolve(text, family, type, 0, ai, CONNECT_ADDRS_MAX, timeout_ms);
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		err = connect_addr(s, &ai[i].addr, type, deadline);
		if (!err)
			return 0;
		if (!first || err == -ECONNREFUSED)
			first = err;
	}
	return first;
}

int cli_connect(struct sock *s, int type, const char *addr, int family,
		int timeout_ms)
{
	struct sock_addr local;

	if (!sock_addr_parse(&local, addr) &&
	    sock_addr_family(&local) == AF_UNIX)
		return connect_addr(s, &local, type, cli_deadline(timeout_ms));
	if (family != AF_UNSPEC)
		return connect_family(s, type, addr, family, timeout_ms);
	return sock_connect(s, type, addr, timeout_ms);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cli_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
}

int cli_remaining(int64_t deadline)
{
	int64_t left;

	if (deadline == INT64_MAX)
		return SOCK_FOREVER;
	left = deadline - now_ms();
	if (left < 1)
		return 1;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

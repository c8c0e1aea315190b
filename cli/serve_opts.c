/* SPDX-License-Identifier: MIT */
/* serve_opts.c -- sock serve's command line: options, SERVICE[=ADDR], --help */

#include <sock.h>

#include "cli.h"
#include "serve.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: sock serve [OPTIONS] [SERVICE[=ADDR] ...]\n"
		     "\n"
		     "Run the services in the foreground, one log line per "
		     "event "
		     "on standard\nerror, until SIGINT or SIGTERM.  No "
		     "SERVICE: "
		     "all of them.  ADDR is PORT,\nHOST:PORT, [V6]:PORT or a "
		     "Unix "
		     "address (/path, unix:path, @abstract).\n"
		     "\nservices (default address 127.0.0.1:PORT):\n");
	for (i = 0; i < services_count; i++)
		fprintf(out, "  %-8s %5d  %-9s %s\n", services[i].name,
			services[i].port,
			services[i].transports & SERVICE_DGRAM ? "tcp, udp"
							       : "tcp",
			services[i].summary);
	fprintf(out, "\noptions:\n"
		     "  --host HOST          default host (127.0.0.1)\n"
		     "  --tcp-only           streams only (TCP, Unix stream)\n"
		     "  --udp-only           datagrams only (UDP, Unix "
		     "datagram)\n"
		     "  --engine ENGINE      epoll or io_uring\n"
		     "  --workers N          event loops, one thread each (1)\n"
		     "  --max-conns N        concurrent connections (10000)\n"
		     "  --max-per-source N   connections per peer host (256; "
		     "no "
		     "cap when every\n"
		     "                       address is loopback)\n"
		     "  --idle-timeout S     close connections idle S seconds "
		     "(300; 0: never)\n"
		     "  --udp-rate N         datagrams answered per second "
		     "per source host (5)\n"
		     "  --udp-burst N        datagrams answered at once per "
		     "source host (5)\n"
		     "  --udp-amplification F\n"
		     "                       replies to a datagram carry at "
		     "most F times its\n"
		     "                       size (2); loopback is exempt "
		     "from these three,\n"
		     "                       'unlimited' turns one off (see "
		     "sock(1))\n"
		     "  --inetd SERVICE      serve the socket on standard "
		     "input\n"
		     "  --busy-poll          spin instead of sleeping: lower "
		     "latency, a whole\n"
		     "                       core per worker\n"
		     "  -q, --quiet          no line per connection\n"
		     "  --backlog N          connections the kernel keeps "
		     "waiting to be accepted\n"
		     "                       (the system's most, "
		     "net.core.somaxconn)\n"
		     "  --dual-stack         an IPv6 address ([::]:7) takes "
		     "IPv4 peers too\n"
		     "  --allow CIDR         serve only peers in these ranges "
		     "(repeatable)\n"
		     "  --deny CIDR          never serve peers in these ranges "
		     "(repeatable);\n"
		     "                       TCP and UDP listeners: "
		     "10.0.0.0/8, 2001:db8::/32\n"
		     "  --proxy-protocol     TCP listeners take a PROXY "
		     "header (HAProxy's, v1 or\n"
		     "                       v2) first, and serve the client "
		     "it names\n"
		     "  --proxy-from CIDR    the proxies to believe "
		     "(repeatable; needed with\n"
		     "                       --proxy-protocol): others are "
		     "refused\n"
		     "  --proxy-timeout S    for the header to arrive "
		     "(default 5)\n"
		     "  --tls-cert FILE      TCP listeners speak TLS with "
		     "this certificate chain\n"
		     "                       (PEM, the leaf first); UDP ones "
		     "are not opened\n"
		     "  --tls-key FILE       its private key (default: in the "
		     "--tls-cert file)\n"
		     "  --tls-timeout S      for a TLS handshake to finish "
		     "(default 10)\n"
		     "  --stats ADDR         answer each connection on ADDR "
		     "(a Unix socket path,\n"
		     "                       or host:port) with the counters "
		     "as JSON (sock stats)\n"
		     "  --log-format FORMAT  text (one line per event, the "
		     "default) or json\n"
		     "                       (one JSON object per line)\n"
		     "  -h, --help           this text\n"
		     "\nSockets passed by systemd (LISTEN_FDS) are served "
		     "instead of addresses;\nsee sock(1).\n");
}

/* A whole number in [min, max] from text, or -1. */
static long number(const char *text, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -1;
	return v;
}

int serve_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sock serve: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* One line, as every command says it (cli_usage). */
	fprintf(stderr, " (see 'sock serve --help')\n");
	return CLI_USAGE;
}

enum {
	OPT_HOST = 256,
	OPT_TCP_ONLY,
	OPT_UDP_ONLY,
	OPT_ENGINE,
	OPT_WORKERS,
	OPT_MAX_CONNS,
	OPT_MAX_PER_SOURCE,
	OPT_IDLE,
	OPT_UDP_RATE,
	OPT_UDP_BURST,
	OPT_UDP_AMPLIFICATION,
	OPT_INETD,
	OPT_BUSY_POLL,
	OPT_LOG_FORMAT,
	OPT_ALLOW,
	OPT_DENY,
	OPT_DUAL_STACK,
	OPT_BACKLOG,
	OPT_PROXY,
	OPT_PROXY_FROM,
	OPT_PROXY_TIMEOUT,
	OPT_STATS,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_TIMEOUT,
};

const struct option serve_options[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "tcp-only", no_argument, NULL, OPT_TCP_ONLY },
	{ "udp-only", no_argument, NULL, OPT_UDP_ONLY },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "max-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "udp-rate", required_argument, NULL, OPT_UDP_RATE },
	{ "udp-burst", required_argument, NULL, OPT_UDP_BURST },
	{ "udp-amplification", required_argument, NULL, OPT_UDP_AMPLIFICATION },
	{ "inetd", required_argument, NULL, OPT_INETD },
	{ "busy-poll", no_argument, NULL, OPT_BUSY_POLL },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "deny", required_argument, NULL, OPT_DENY },
	{ "dual-stack", no_argument, NULL, OPT_DUAL_STACK },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "proxy-protocol", no_argument, NULL, OPT_PROXY },
	{ "proxy-from", required_argument, NULL, OPT_PROXY_FROM },
	{ "proxy-timeout", required_argument, NULL, OPT_PROXY_TIMEOUT },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-timeout", required_argument, NULL, OPT_TLS_TIMEOUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A guard setting: a count from 1, or "unlimited"; 0 for bad text. */
static unsigned int guard_value(const char *text)
{
	long v;

	if (!strcmp(text, "unlimited"))
		return SOCK_UNLIMITED;
	v = number(text, 1, 1000000000);
	return v < 0 ? 0 : (unsigned int)v;
}

static int parse_guard(struct serve *sv, int opt, const char *arg)
{
	static const char *const names[] = { "--udp-rate", "--udp-burst",
					     "--udp-amplification" };
	unsigned int v = guard_value(arg);

	if (!v)
		return serve_usage_error("%s wants a count from 1 or "
					 "'unlimited', not '%s'",
					 names[opt - OPT_UDP_RATE], arg);
	if (opt == OPT_UDP_RATE)
		sv->cfg.dgram_rate = v;
	else if (opt == OPT_UDP_BURST)
		sv->cfg.dgram_burst = v;
	else
		sv->cfg.dgram_amplification = v;
	return -1;
}

/* Returns -1 to go on, or the exit status. */
int serve_parse_option(struct serve *sv, int opt, const char *arg)
{
	long v;

	switch (opt) {
	case OPT_HOST:
		sv->host = arg;
		return -1;
	case OPT_TCP_ONLY:
	case OPT_UDP_ONLY:
		if (sv->transports != (SERVICE_STREAM | SERVICE_DGRAM))
			return serve_usage_error("%s", "--tcp-only and "
						       "--udp-only "
						       "exclude each other");
		sv->transports = opt == OPT_TCP_ONLY ? SERVICE_STREAM
						     : SERVICE_DGRAM;
		return -1;
	case OPT_ENGINE:
		if (!strcmp(arg, "epoll"))
			sv->cfg.engine = SOCK_ENGINE_EPOLL;
		else if (!strcmp(arg, "io_uring") || !strcmp(arg, "uring"))
			sv->cfg.engine = SOCK_ENGINE_URING;
		else
			return serve_usage_error("unknown engine '%s' (epoll, "
						 "io_uring)",
						 arg);
		return -1;
	case OPT_WORKERS:
		v = number(arg, 1, 256);
		if (v < 0)
			return serve_usage_error("--workers wants 1 to 256, "
						 "not '%s'",
						 arg);
		sv->cfg.workers = (unsigned int)v;
		return -1;
	case OPT_MAX_CONNS:
	case OPT_MAX_PER_SOURCE:
		v = number(arg, 1, 10000000);
		if (v < 0)
			return serve_usage_error("wants a count from 1, not "
						 "'%s'",
						 arg);
		if (opt == OPT_MAX_CONNS) {
			sv->cfg.max_conns = (unsigned int)v;
		} else {
			sv->cfg.max_per_source = (unsigned int)v;
			sv->max_per_source_set = true;
		}
		return -1;
	case OPT_IDLE:
		v = number(arg, 0, INT_MAX / 1000);
		if (v < 0)
			return serve_usage_error("--idle-timeout wants "
						 "seconds, not "
						 "'%s'",
						 arg);
		sv->cfg.idle_timeout_ms = v ? (int)v * 1000 : SOCK_FOREVER;
		return -1;
	case OPT_UDP_RATE:
	case OPT_UDP_BURST:
	case OPT_UDP_AMPLIFICATION:
		return parse_guard(sv, opt, arg);
	case OPT_INETD:
		sv->inetd = arg;
		return -1;
	case OPT_BUSY_POLL:
		sv->cfg.busy_poll = true;
		return -1;
	case OPT_ALLOW:
	case OPT_DENY: {
		struct serve_range *r;

		r = realloc(sv->ranges, (sv->nranges + 1) * sizeof(*r));
		if (!r) {
			fprintf(stderr, "sock: %s\n", sock_strerror(-ENOMEM));
			return CLI_FAILURE;
		}
		sv->ranges = r;
		r[sv->nranges].cidr = arg;
		r[sv->nranges++].deny = opt == OPT_DENY;
		return -1;
	}
	case OPT_BACKLOG:
		v = number(arg, 1, INT_MAX);
		if (v < 0)
			return serve_usage_error("--backlog wants a count from "
						 "1, not '%s'",
						 arg);
		sv->backlog = (int)v;
		return -1;
	case OPT_DUAL_STACK:
		sv->dual_stack = true;
		return -1;
	case OPT_PROXY:
		sv->proxy = true;
		return -1;
	case OPT_STATS:
		sv->stats_addr = arg;
		return -1;
	case OPT_TLS_CERT:
		sv->tls_cert = arg;
		return -1;
	case OPT_TLS_KEY:
		sv->tls_key = arg;
		return -1;
	case OPT_TLS_TIMEOUT:
		v = number(arg, 1, INT_MAX / 1000);
		if (v < 0)
			return serve_usage_error("--tls-timeout wants "
						 "seconds from 1, not '%s'",
						 arg);
		sv->tls_timeout_ms = (int)v * 1000;
		return -1;
	case OPT_PROXY_FROM: {
		const char **from;

		from = realloc(sv->proxy_from,
			       (sv->nproxy_from + 1) * sizeof(*from));
		if (!from) {
			fprintf(stderr, "sock: %s\n", sock_strerror(-ENOMEM));
			return CLI_FAILURE;
		}
		sv->proxy_from = from;
		from[sv->nproxy_from++] = arg;
		return -1;
	}
	case OPT_PROXY_TIMEOUT:
		v = number(arg, 1, INT_MAX / 1000);
		if (v < 0)
			return serve_usage_error("--proxy-timeout wants "
						 "seconds from 1, not '%s'",
						 arg);
		sv->proxy_timeout_ms = (int)v * 1000;
		return -1;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return serve_usage_error("--log-format is text or "
						 "json, not '%s'",
						 arg);
		sv->json = !strcmp(arg, "json");
		return -1;
	case 'q':
		sv->quiet = true;
		return -1;
	case 'h':
		usage(stdout);
		return CLI_OK;
	}
	return serve_usage_error("%s", "bad option");
}

/* ---- SERVICE[=ADDR] ---- */

int serve_spec_addr(const struct serve *sv, const struct service *def,
		    const char *addr, char *out, size_t size)
{
	const char *host = sv->host;
	bool v6 = strchr(host, ':') && host[0] != '[';
	char port[16];

	if (addr && serve_is_unix_text(addr)) {
		snprintf(out, size, "%s", addr);
		return 0;
	}
	if (addr && !strchr(addr, ':')) {
		if (number(addr, 0, 65535) < 0)
			return -EINVAL;
		snprintf(port, sizeof(port), "%s", addr);
	} else if (addr) {
		snprintf(out, size, "%s", addr);
		return 0;
	} else {
		snprintf(port, sizeof(port), "%d", def->port);
	}
	snprintf(out, size, v6 ? "[%s]:%s" : "%s:%s", host, port);
	return 0;
}

int serve_parse_spec(struct serve *sv, const char *arg, struct serve_spec *spec)
{
	const char *eq = strchr(arg, '='), *addr = eq ? eq + 1 : NULL;
	char name[32];

	snprintf(name, sizeof(name), "%.*s",
		 (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
	spec->def = services_find(name);
	if (!spec->def)
		return serve_usage_error("unknown service '%s' (see --help)",
					 name);
	if (!(spec->def->transports & sv->transports))
		return serve_usage_error("%s: no transport left by "
					 "--tcp-only or --udp-only",
					 name);
	if (addr && !*addr)
		return serve_usage_error("%s= wants an address", name);
	spec->has_addr = addr != NULL;
	if (serve_spec_addr(sv, spec->def, addr, spec->addr,
			    sizeof(spec->addr)))
		return serve_usage_error("bad address for %s (PORT, HOST:PORT, "
					 "[V6]:PORT or a Unix address)",
					 name);
	if (!sv->named[spec->def - services]) {
		sv->named[spec->def - services] = true;
		sv->nnamed++;
	}
	return -1;
}

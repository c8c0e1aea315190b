/* SPDX-License-Identifier: MIT */
/* serve.c -- sock serve: the services on the event engine, one log line per event */

#include <sock.h>

#include "cli.h"
#include "../services/services.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Sockets passed by systemd that one run takes. */
#define ACTIVATION_MAX 64
/* Descriptors kept for everything but connections: listeners, the
 * loop's own, standard streams. */
#define FD_MARGIN 64

/* One listener, made or adopted, for its "listen" log line. */
struct listener {
	const struct service *def;
	const char *transport; /* "tcp", "udp", "unix", "unixgram" */
	char addr[SOCK_ADDR_STRLEN];
	bool logged;
};

struct serve {
	struct sock_server_config cfg;
	bool max_per_source_set;
	bool quiet;
	bool silent; /* standard error is the client's socket */
	bool timestamps;
	unsigned int transports; /* SERVICE_STREAM | SERVICE_DGRAM */
	const char *host;
	const char *inetd;
	/* per entry of services[]: a copy with its state as data */
	struct sock_service *svcs;
	void **states;
	bool *named; /* named on the command line */
	size_t nnamed;
	struct listener *lis;
	size_t nlis, lis_cap;
	struct sock_server *srv;
};

/* ---- logging ---- */

__attribute__((format(printf, 2, 3))) static void say(const struct serve *sv,
						      const char *fmt, ...)
{
	char line[1024];
	size_t n = 0;
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int r;

	if (sv->silent)
		return;
	if (sv->timestamps) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ld ",
				      ts.tv_nsec / 1000000);
	}
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r
					      : sizeof(line) - n - 2;
	line[n++] = '\n';
	/* One write per line: workers log from several threads. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

static void addr_text(const struct sock_addr *a, char *buf, size_t size)
{
	if (!a || sock_addr_format(a, buf, size) < 0)
		snprintf(buf, size, "-");
}

static void log_listen(struct serve *sv, const struct sock_event *ev)
{
	char addr[SOCK_ADDR_STRLEN];
	size_t i;

	/* Every worker has its own socket on each address: one line. */
	if (ev->worker != 0)
		return;
	addr_text(ev->addr, addr, sizeof(addr));
	for (i = 0; i < sv->nlis; i++) {
		struct listener *l = &sv->lis[i];

		if (!l->logged && !strcmp(l->def->name, ev->service) &&
		    !strcmp(l->addr, addr)) {
			l->logged = true;
			say(sv, "listen %s %s %s", ev->service, l->transport,
			    addr);
			return;
		}
	}
	say(sv, "listen %s %s", ev->service, addr);
}

/* Why a connection ended, in the words of the server's log. */
static const char *close_reason(int err)
{
	switch (err) {
	case -ESHUTDOWN:
		return "closed at stop";
	case -ENOBUFS:
		return "output overflow";
	case -ETIMEDOUT:
		return "timed out";
	}
	return sock_strerror(err);
}

static void log_close(struct serve *sv, const struct sock_event *ev,
		      const char *peer)
{
	if (ev->err)
		say(sv, "close %s %s in=%llu out=%llu ms=%lld: %s", ev->service,
		    peer, (unsigned long long)ev->bytes_in,
		    (unsigned long long)ev->bytes_out,
		    (long long)ev->duration_ms, close_reason(ev->err));
	else
		say(sv, "close %s %s in=%llu out=%llu ms=%lld", ev->service,
		    peer, (unsigned long long)ev->bytes_in,
		    (unsigned long long)ev->bytes_out,
		    (long long)ev->duration_ms);
}

static void on_event(const struct sock_event *ev, void *data)
{
	struct serve *sv = data;
	const char *svc = ev->service ? ev->service : "-";
	char peer[SOCK_ADDR_STRLEN], times[32] = "";

	addr_text(ev->addr, peer, sizeof(peer));
	switch (ev->kind) {
	case SOCK_EV_LISTEN:
		log_listen(sv, ev);
		break;
	case SOCK_EV_ACCEPT:
		if (!sv->quiet)
			say(sv, "accept %s %s", svc, peer);
		break;
	case SOCK_EV_CLOSE:
		if (!sv->quiet)
			log_close(sv, ev, peer);
		break;
	case SOCK_EV_LIMIT:
	case SOCK_EV_ERROR:
		if (ev->count > 1)
			snprintf(times, sizeof(times), " (%u times)",
				 ev->count);
		say(sv, "%s %s %s %s%s%s%s",
		    ev->kind == SOCK_EV_LIMIT ? "limit" : "error", svc,
		    ev->what ? ev->what : "-", peer, ev->err ? ": " : "",
		    ev->err ? sock_strerror(ev->err) : "", times);
		break;
	case SOCK_EV_ENGINE:
		say(sv, "engine %s", ev->what ? ev->what : "-");
		break;
	case SOCK_EV_STOP:
		say(sv, "stop");
		break;
	}
}

/* ---- descriptors ---- */

/* The most connections sock serve takes unless told otherwise. */
#define DEFAULT_MAX_CONNS 65536

/*
 * Take every descriptor the hard limit allows (each connection is one),
 * and fit the connection cap to them unless --max-conns set it.
 */
static void fit_fd_limit(struct serve *sv)
{
	unsigned long have = DEFAULT_MAX_CONNS + FD_MARGIN;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl))
				getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < have)
			have = (unsigned long)rl.rlim_cur;
	}
	if (!sv->cfg.max_conns) {
		sv->cfg.max_conns = have > 2 * FD_MARGIN
					    ? (unsigned int)(have - FD_MARGIN)
					    : FD_MARGIN;
		if (have < 1024 + FD_MARGIN)
			say(sv,
			    "limit descriptors %lu: at most %u connections "
			    "(raise the hard limit: ulimit -Hn)",
			    have, sv->cfg.max_conns);
	} else if (have < (unsigned long)sv->cfg.max_conns + FD_MARGIN) {
		say(sv,
		    "limit descriptors %lu: fewer than --max-conns %u "
		    "needs (raise the hard limit: ulimit -Hn)",
		    have, sv->cfg.max_conns);
	}
}

/* ---- listeners ---- */

static const char *transport_name(int type, bool local)
{
	if (local)
		return type == SOCK_DGRAM ? "unixgram" : "unix";
	return type == SOCK_DGRAM ? "udp" : "tcp";
}

static bool is_unix_text(const char *addr)
{
	return strchr(addr, '/') || !strncmp(addr, "unix:", 5) ||
	       addr[0] == '@';
}

/* Remember a listener for its log line; its address read back. */
static int note_listener(struct serve *sv, const struct service *def, int type,
			 int index)
{
	struct sock_addr a;
	struct listener *l;
	size_t cap;

	if (sv->nlis == sv->lis_cap) {
		cap = sv->lis_cap ? 2 * sv->lis_cap : 16;
		l = realloc(sv->lis, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		sv->lis = l;
		sv->lis_cap = cap;
	}
	l = &sv->lis[sv->nlis++];
	memset(l, 0, sizeof(*l));
	l->def = def;
	if (sock_server_addr(sv->srv, index, &a))
		memset(&a, 0, sizeof(a));
	addr_text(&a, l->addr, sizeof(l->addr));
	l->transport = transport_name(type, sock_addr_family(&a) == AF_UNIX);
	return 0;
}

static const struct sock_service *svc_of(struct serve *sv,
					 const struct service *def)
{
	return &sv->svcs[def - services];
}

static int add_one(struct serve *sv, const struct service *def, int type,
		   const char *addr)
{
	int flags = is_unix_text(addr) ? SOCK_LISTEN_UNLINK : 0;
	int index, err;

	index = sock_server_add(sv->srv, svc_of(sv, def), type, addr, flags);
	if (index < 0) {
		fprintf(stderr, "sock: cannot listen on %s (%s %s): %s\n", addr,
			def->name, type == SOCK_DGRAM ? "udp" : "tcp",
			sock_strerror(index));
		return index;
	}
	err = note_listener(sv, def, type, index);
	if (err)
		fprintf(stderr, "sock: %s\n", sock_strerror(err));
	return err;
}

/* The transports def is served on at addr under the options. */
static unsigned int transports_at(const struct serve *sv,
				  const struct service *def, const char *addr)
{
	unsigned int t = def->transports & sv->transports;

	/* One Unix path cannot hold a stream and a datagram socket:
	 * streams, unless --udp-only asks for datagrams. */
	if (is_unix_text(addr) && t == (SERVICE_STREAM | SERVICE_DGRAM))
		t = SERVICE_STREAM;
	return t;
}

static int add_service(struct serve *sv, const struct service *def,
		       const char *addr)
{
	unsigned int t = transports_at(sv, def, addr);
	int err = 0;

	if (t & SERVICE_STREAM)
		err = add_one(sv, def, SOCK_STREAM, addr);
	if (!err && (t & SERVICE_DGRAM))
		err = add_one(sv, def, SOCK_DGRAM, addr);
	return err;
}

/* ---- command line ---- */

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
		     "  --inetd SERVICE      serve the socket on standard "
		     "input\n"
		     "  -q, --quiet          no line per connection\n"
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

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt,
							     ...)
{
	va_list ap;

	fprintf(stderr, "sock serve: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'sock serve --help'.\n");
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
	OPT_INETD,
};

static const struct option options[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "tcp-only", no_argument, NULL, OPT_TCP_ONLY },
	{ "udp-only", no_argument, NULL, OPT_UDP_ONLY },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "max-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "inetd", required_argument, NULL, OPT_INETD },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on, or the exit status. */
static int parse_option(struct serve *sv, int opt, const char *arg)
{
	long v;

	switch (opt) {
	case OPT_HOST:
		sv->host = arg;
		return -1;
	case OPT_TCP_ONLY:
	case OPT_UDP_ONLY:
		if (sv->transports != (SERVICE_STREAM | SERVICE_DGRAM))
			return usage_error("%s", "--tcp-only and --udp-only "
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
			return usage_error("unknown engine '%s' (epoll, "
					   "io_uring)",
					   arg);
		return -1;
	case OPT_WORKERS:
		v = number(arg, 1, 256);
		if (v < 0)
			return usage_error("--workers wants 1 to 256, not '%s'",
					   arg);
		sv->cfg.workers = (unsigned int)v;
		return -1;
	case OPT_MAX_CONNS:
	case OPT_MAX_PER_SOURCE:
		v = number(arg, 1, 10000000);
		if (v < 0)
			return usage_error("wants a count from 1, not '%s'",
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
			return usage_error("--idle-timeout wants seconds, not "
					   "'%s'",
					   arg);
		sv->cfg.idle_timeout_ms = v ? (int)v * 1000 : SOCK_FOREVER;
		return -1;
	case OPT_INETD:
		sv->inetd = arg;
		return -1;
	case 'q':
		sv->quiet = true;
		return -1;
	case 'h':
		usage(stdout);
		return CLI_OK;
	}
	return usage_error("%s", "bad option");
}

/* ---- the services' state ---- */

static int make_states(struct serve *sv)
{
	size_t i;
	int err;

	sv->svcs = calloc(services_count, sizeof(*sv->svcs));
	sv->states = calloc(services_count, sizeof(*sv->states));
	sv->named = calloc(services_count, sizeof(*sv->named));
	if (!sv->svcs || !sv->states || !sv->named)
		return -ENOMEM;
	for (i = 0; i < services_count; i++) {
		sv->svcs[i] = *services[i].svc;
		if (!services[i].state_new)
			continue;
		err = services[i].state_new(&sv->states[i]);
		if (err)
			return err;
		sv->svcs[i].data = sv->states[i];
	}
	return 0;
}

static void free_states(struct serve *sv)
{
	size_t i;

	for (i = 0; sv->states && i < services_count; i++)
		if (services[i].state_free)
			services[i].state_free(sv->states[i]);
	free(sv->states);
	free(sv->svcs);
	free(sv->named);
	free(sv->lis);
}

/* ---- addresses from the command line ---- */

/* The address text for SERVICE[=ADDR]: host and default port, or ADDR
 * with a bare PORT completed by the host. */
static int spec_addr(const struct serve *sv, const struct service *def,
		     const char *addr, char *out, size_t size)
{
	const char *host = sv->host;
	bool v6 = strchr(host, ':') && host[0] != '[';
	char port[16];

	if (addr && is_unix_text(addr)) {
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

/*
 * Whether every address is loopback or Unix: then every peer is this
 * host, and a per-source cap would only be a second, lower --max-conns.
 */
static bool is_local_text(const char *addr)
{
	struct sock_addr a;

	if (is_unix_text(addr))
		return true;
	if (sock_resolve(&a, addr, SOCK_STREAM, 2000))
		return false;
	return sock_addr_is_loopback(&a);
}

/* One SERVICE[=ADDR] of the command line. */
struct spec {
	const struct service *def;
	bool has_addr;
	char addr[SOCK_ADDR_STRLEN];
};

/* Split SERVICE[=ADDR] into spec.  Returns -1, or the exit status. */
static int parse_spec(struct serve *sv, char *arg, struct spec *spec)
{
	char *eq = strchr(arg, '=');
	const char *addr = eq ? eq + 1 : NULL;

	if (eq)
		*eq = '\0';
	spec->def = services_find(arg);
	if (!spec->def)
		return usage_error("unknown service '%s' (see --help)", arg);
	if (!(spec->def->transports & sv->transports))
		return usage_error("%s: no transport left by --tcp-only or "
				   "--udp-only",
				   arg);
	if (addr && !*addr)
		return usage_error("%s= wants an address", arg);
	spec->has_addr = addr != NULL;
	if (spec_addr(sv, spec->def, addr, spec->addr, sizeof(spec->addr)))
		return usage_error("bad address for %s (PORT, HOST:PORT, "
				   "[V6]:PORT or a Unix address)",
				   arg);
	if (!sv->named[spec->def - services]) {
		sv->named[spec->def - services] = true;
		sv->nnamed++;
	}
	return -1;
}

/* ---- systemd socket activation ---- */

/* "echo", "sock-echo.socket", "sock@echo.socket": the service named. */
static const struct service *service_by_fdname(const char *name)
{
	char base[256];
	const char *p;
	size_t n;

	snprintf(base, sizeof(base), "%s", name);
	n = strlen(base);
	if (n > 7 && !strcmp(base + n - 7, ".socket"))
		base[n - 7] = '\0';
	p = strrchr(base, '@');
	if (!p)
		p = strrchr(base, '-');
	return services_find(p ? p + 1 : base);
}

static const struct service *service_by_port(int port)
{
	size_t i;

	for (i = 0; i < services_count; i++)
		if (port > 0 &&
		    (services[i].std_port == port || services[i].port == port))
			return &services[i];
	return NULL;
}

/*
 * Which service an activated socket is for: the one its name names, else
 * the only SERVICE of the command line, else the one whose standard or
 * default port the socket is bound to.
 */
static const struct service *match_fd(const struct serve *sv,
				      const struct sock_listen_fd *fd)
{
	const struct service *def = service_by_fdname(fd->name);
	struct sock_addr a;
	size_t i;

	if (def)
		return def;
	if (sv->nnamed == 1)
		for (i = 0; i < services_count; i++)
			if (sv->named[i])
				return &services[i];
	if (sock_getsockname(&fd->sock, &a))
		return NULL;
	return service_by_port(sock_addr_port(&a));
}

static bool fd_is_local(const struct sock *s)
{
	struct sock_addr a;

	if (sock_getpeername(s, &a) && sock_getsockname(s, &a))
		return false;
	return sock_addr_is_loopback(&a);
}

/* Serve what systemd passed.  Returns 0 or the exit status. */
static int adopt_activated(struct serve *sv, struct sock_listen_fd *fds, int n)
{
	const struct service *def;
	int i, index, type;

	for (i = 0; i < n; i++) {
		def = match_fd(sv, &fds[i]);
		type = fds[i].sock.type;
		if (!def) {
			fprintf(stderr,
				"sock: socket %d ('%s') from systemd: no "
				"service goes with it (name it with "
				"FileDescriptorName=)\n",
				3 + i, fds[i].name);
			return CLI_FAILURE;
		}
		if (!(def->transports &
		      (type == SOCK_DGRAM ? SERVICE_DGRAM : SERVICE_STREAM))) {
			fprintf(stderr, "sock: %s does not serve %s sockets\n",
				def->name,
				type == SOCK_DGRAM ? "datagram" : "stream");
			return CLI_FAILURE;
		}
		index = sock_server_adopt(sv->srv, svc_of(sv, def),
					  &fds[i].sock);
		if (index < 0) {
			fprintf(stderr, "sock: cannot serve socket %d: %s\n",
				3 + i, sock_strerror(index));
			return CLI_FAILURE;
		}
		if (note_listener(sv, def, type, index))
			return CLI_FAILURE;
	}
	return 0;
}

/* ---- inetd ---- */

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * inetd passes the socket as standard input, output and error.  The
 * server serves its own duplicate, so the originals must go (or the peer
 * never sees the close); and log lines must not go to the client.
 */
static int adopt_stdin(struct serve *sv, const struct service *def)
{
	struct sock s;
	int err, null, type, listening = 0;

	err = sock_fromfd(&s, STDIN_FILENO);
	if (err) {
		fprintf(stderr, "sock: --inetd: standard input: %s\n",
			sock_strerror(err));
		return CLI_FAILURE;
	}
	type = s.type;
	if (!(def->transports &
	      (type == SOCK_DGRAM ? SERVICE_DGRAM : SERVICE_STREAM))) {
		fprintf(stderr, "sock: --inetd: %s does not serve %s sockets\n",
			def->name, type == SOCK_DGRAM ? "datagram" : "stream");
		sock_close(&s);
		return CLI_FAILURE;
	}
	/* A datagram or listening socket is a listener; a connected
	 * stream is one connection. */
	if (type == SOCK_DGRAM ||
	    sock_getsockopt(&s, SOL_SOCKET, SO_ACCEPTCONN, &listening))
		listening = type == SOCK_DGRAM;
	if (same_file(STDIN_FILENO, STDERR_FILENO))
		sv->silent = true;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		if (same_file(STDIN_FILENO, STDOUT_FILENO))
			dup2(null, STDOUT_FILENO);
		if (sv->silent)
			dup2(null, STDERR_FILENO);
		dup2(null, STDIN_FILENO);
		close(null);
	}
	err = sock_server_adopt(sv->srv, svc_of(sv, def), &s);
	if (err < 0) {
		fprintf(stderr, "sock: --inetd: %s\n", sock_strerror(err));
		return CLI_FAILURE;
	}
	if (listening && note_listener(sv, def, type, err))
		return CLI_FAILURE;
	return 0;
}

/* ---- running ---- */

static void configure(struct serve *sv, struct spec *specs, size_t nspecs,
		      struct sock_listen_fd *fds, int nfds)
{
	bool local = true;
	size_t i;
	int j;

	sv->cfg.stop_on_signals = true;
	sv->cfg.on_event = on_event;
	sv->cfg.event_data = sv;
	fit_fd_limit(sv);
	if (sv->max_per_source_set)
		return;
	for (i = 0; i < nspecs && local; i++)
		local = is_local_text(specs[i].addr);
	for (j = 0; j < nfds && local; j++)
		local = fd_is_local(&fds[j].sock);
	if (sv->inetd)
		local = false;
	if (local)
		sv->cfg.max_per_source = SOCK_UNLIMITED;
}

/* Every named service on its address, or all on their defaults. */
static int build_specs(struct serve *sv, int argc, char **argv,
		       struct spec **out, size_t *n)
{
	struct spec *specs;
	size_t i, count = argc > 0 ? (size_t)argc : services_count;
	int rc;

	specs = calloc(count, sizeof(*specs));
	if (!specs)
		return CLI_FAILURE;
	*out = specs;
	*n = 0;
	for (i = 0; i < (size_t)argc; i++) {
		rc = parse_spec(sv, argv[i], &specs[(*n)++]);
		if (rc >= 0)
			return rc;
	}
	for (i = 0; argc == 0 && i < services_count; i++) {
		if (!(services[i].transports & sv->transports))
			continue;
		specs[*n].def = &services[i];
		spec_addr(sv, &services[i], NULL, specs[*n].addr,
			  sizeof(specs[*n].addr));
		(*n)++;
	}
	return -1;
}

static int open_all(struct serve *sv, struct spec *specs, size_t nspecs,
		    struct sock_listen_fd *fds, int nfds)
{
	const struct service *def;
	size_t i;

	if (sv->inetd) {
		def = services_find(sv->inetd);
		return adopt_stdin(sv, def);
	}
	if (nfds > 0)
		return adopt_activated(sv, fds, nfds);
	for (i = 0; i < nspecs; i++)
		if (add_service(sv, specs[i].def, specs[i].addr))
			return CLI_FAILURE;
	return 0;
}

static int serve(struct serve *sv, struct spec *specs, size_t nspecs)
{
	struct sock_listen_fd fds[ACTIVATION_MAX];
	int nfds = 0, err, rc = CLI_FAILURE, i;

	/* inetd may pass the client's socket as standard error too. */
	if (sv->inetd && same_file(STDIN_FILENO, STDERR_FILENO))
		sv->silent = true;
	if (!sv->inetd) {
		nfds = sock_listen_fds(fds, ACTIVATION_MAX);
		if (nfds < 0) {
			fprintf(stderr, "sock: LISTEN_FDS: %s\n",
				sock_strerror(nfds));
			return CLI_FAILURE;
		}
		if (nfds > ACTIVATION_MAX) {
			fprintf(stderr,
				"sock: more than %d sockets from "
				"systemd\n",
				ACTIVATION_MAX);
			goto out_fds;
		}
	}
	configure(sv, specs, nspecs, fds, nfds);
	err = sock_server_new(&sv->srv, &sv->cfg);
	if (err) {
		fprintf(stderr, "sock: cannot start the server: %s\n",
			sock_strerror(err));
		goto out_fds;
	}
	rc = open_all(sv, specs, nspecs, fds, nfds);
	if (rc == 0) {
		err = sock_server_run(sv->srv);
		if (err) {
			fprintf(stderr, "sock: cannot serve: %s\n",
				sock_strerror(err));
			rc = CLI_FAILURE;
		}
	}
	sock_server_free(sv->srv);
out_fds:
	for (i = 0; i < nfds && i < ACTIVATION_MAX; i++)
		sock_close(&fds[i].sock);
	return rc;
}

int cmd_serve(int argc, char **argv)
{
	struct serve sv = { .transports = SERVICE_STREAM | SERVICE_DGRAM,
			    .host = "127.0.0.1" };
	struct spec *specs = NULL;
	size_t nspecs = 0;
	int opt, rc;

	sv.timestamps = getenv("JOURNAL_STREAM") == NULL;
	/* A log reader that goes away must not take the server with it. */
	signal(SIGPIPE, SIG_IGN);
	if (make_states(&sv)) {
		fprintf(stderr, "sock: %s\n", sock_strerror(-ENOMEM));
		rc = CLI_FAILURE;
		goto out;
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qh", options, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			rc = usage_error("bad option '%s'", argv[optind - 1]);
			goto out;
		}
		rc = parse_option(&sv, opt, optarg);
		if (rc >= 0)
			goto out;
	}
	if (sv.inetd) {
		if (!services_find(sv.inetd)) {
			rc = usage_error("unknown service '%s' (see --help)",
					 sv.inetd);
			goto out;
		}
		if (optind < argc) {
			rc = usage_error("%s", "--inetd serves one service: "
					       "no SERVICE arguments");
			goto out;
		}
	}
	rc = build_specs(&sv, argc - optind, argv + optind, &specs, &nspecs);
	if (rc < 0)
		rc = serve(&sv, specs, nspecs);
out:
	free(specs);
	free_states(&sv);
	return rc;
}

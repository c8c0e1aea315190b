/* SPDX-License-Identifier: MIT */
/* serve.c -- sock serve: the services on the event engine, until a signal */

#include <sock.h>

#include "cli.h"
#include "serve.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Sockets passed by systemd that one run takes. */
#define ACTIVATION_MAX 64
/* Descriptors kept for everything but connections: listeners, the
 * loop's own, standard streams. */
#define FD_MARGIN 64

/* ---- descriptors ---- */

/* The most connections sock serve takes unless told otherwise. */
#define DEFAULT_MAX_CONNS 65536

/*
 * Take every descriptor the hard limit allows, and fit the connection
 * cap to them unless --max-conns set it.  Each connection is one
 * descriptor because every service here is event-driven: a thread or
 * pool handler's connection would hold two while its job lives (the
 * server's own duplicate, server.h), and the cap would have to halve.
 */
static void fit_fd_limit(struct serve *sv)
{
	unsigned long have = DEFAULT_MAX_CONNS + FD_MARGIN;
	unsigned int fit, asked;
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
	fit = have > 2 * FD_MARGIN ? (unsigned int)(have - FD_MARGIN)
				   : FD_MARGIN;
	if (!sv->cfg.max_conns) {
		sv->cfg.max_conns = fit;
		if (have < 1024 + FD_MARGIN)
			serve_log_descriptors(sv, have, 0);
	} else if (have < (unsigned long)sv->cfg.max_conns + FD_MARGIN) {
		/* The cap in force, and in the log, is what the
		 * descriptors allow: past it every accept would fail. */
		asked = sv->cfg.max_conns;
		if (fit < asked)
			sv->cfg.max_conns = fit;
		serve_log_descriptors(sv, have, asked);
	}
}

/* ---- listeners ---- */

static const char *transport_name(int type, bool local)
{
	if (local)
		return type == SOCK_DGRAM ? "unixgram" : "unix";
	return type == SOCK_DGRAM ? "udp" : "tcp";
}

bool serve_is_unix_text(const char *addr)
{
	return strchr(addr, '/') || !strncmp(addr, "unix:", 5) ||
	       addr[0] == '@';
}

/* --allow and --deny on listener index, if it is an IP one (Unix
 * sockets are guarded by their file's permissions).  Says what is wrong
 * with a range itself. */
static int apply_ranges(struct serve *sv, int index, const struct sock_addr *a)
{
	int family = sock_addr_family(a), err;
	size_t i;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	sv->ranges_applied = true;
	for (i = 0; i < sv->nranges; i++) {
		err = sv->ranges[i].deny
			      ? sock_server_deny(sv->srv, index,
						 sv->ranges[i].cidr)
			      : sock_server_allow(sv->srv, index,
						  sv->ranges[i].cidr);
		if (err == -EINVAL)
			fprintf(stderr,
				"sock: --%s '%s' is not an address range "
				"(10.0.0.0/8, 192.168.1.7, 2001:db8::/32; no "
				"bits set past the prefix length)\n",
				sv->ranges[i].deny ? "deny" : "allow",
				sv->ranges[i].cidr);
		else if (err)
			fprintf(stderr, "sock: --%s: %s\n",
				sv->ranges[i].deny ? "deny" : "allow",
				sock_strerror(err));
		if (err)
			return err;
	}
	return 0;
}

/* --proxy-protocol on listener index, if it is a TCP one. */
static int apply_proxy(struct serve *sv, int index, int type,
		       const struct sock_addr *a)
{
	int family = sock_addr_family(a), err;
	size_t i;

	if (!sv->proxy || type != SOCK_STREAM ||
	    (family != AF_INET && family != AF_INET6))
		return 0;
	sv->proxy_applied = true;
	for (i = 0; i < sv->nproxy_from; i++) {
		err = sock_server_proxy(sv->srv, index, sv->proxy_from[i],
					sv->proxy_timeout_ms);
		if (err == -EINVAL)
			fprintf(stderr,
				"sock: --proxy-from '%s' is not an address "
				"range (10.0.0.0/8, 127.0.0.1, ::1; no bits "
				"set past the prefix length)\n",
				sv->proxy_from[i]);
		else if (err)
			fprintf(stderr, "sock: --proxy-protocol: %s\n",
				sock_strerror(err));
		if (err)
			return err;
	}
	return 0;
}

/* Remember a listener for its log line; its address read back. */
int serve_note_listener(struct serve *sv, const struct service *def, int type,
			int index)
{
	struct sock_addr a;
	struct serve_listener *l;
	size_t cap;
	int err;

	if (sv->nlis == sv->lis_cap) {
		cap = sv->lis_cap ? 2 * sv->lis_cap : 16;
		l = realloc(sv->lis, cap * sizeof(*l));
		if (!l) {
			fprintf(stderr, "sock: %s\n", sock_strerror(-ENOMEM));
			return -ENOMEM;
		}
		sv->lis = l;
		sv->lis_cap = cap;
	}
	l = &sv->lis[sv->nlis++];
	memset(l, 0, sizeof(*l));
	l->def = def;
	l->index = index;
	if (sock_server_addr(sv->srv, index, &a))
		memset(&a, 0, sizeof(a));
	serve_addr_text(&a, l->addr, sizeof(l->addr));
	l->transport = transport_name(type, sock_addr_family(&a) == AF_UNIX);
	if (type == SOCK_STREAM && sv->backlog &&
	    (err = sock_server_backlog(sv->srv, index, sv->backlog))) {
		fprintf(stderr, "sock: --backlog: %s\n", sock_strerror(err));
		return err;
	}
	err = apply_proxy(sv, index, type, &a);
	if (err)
		return err;
	if (sv->tls && type == SOCK_STREAM) {
		err = sock_server_tls(sv->srv, index, sv->tls,
				      sv->tls_timeout_ms);
		if (err) {
			fprintf(stderr, "sock: --tls-cert: %s\n",
				sock_strerror(err));
			return err;
		}
		l->transport = sock_addr_family(&a) == AF_UNIX ? "unix+tls"
							       : "tls";
	}
	return apply_ranges(sv, index, &a);
}

const struct sock_service *serve_svc(struct serve *sv,
				     const struct service *def)
{
	return &sv->svcs[def - services];
}

static int add_one(struct serve *sv, const struct service *def, int type,
		   const char *addr, bool quiet)
{
	int flags = serve_is_unix_text(addr) ? SOCK_LISTEN_UNLINK
		    : sv->dual_stack	     ? SOCK_LISTEN_DUALSTACK
					     : 0;
	int index;

	index = sock_server_add(sv->srv, serve_svc(sv, def), type, addr, flags);
	if (index < 0 && quiet)
		return index;
	if (index < 0) {
		fprintf(stderr, "sock: cannot listen on %s (%s %s): %s\n", addr,
			def->name, type == SOCK_DGRAM ? "udp" : "tcp",
			sock_strerror(index));
		return index;
	}
	return serve_note_listener(sv, def, type, index);
}

/* The transports def is served on at addr under the serve_options. */
static unsigned int transports_at(const struct serve *sv,
				  const struct service *def, const char *addr)
{
	unsigned int t = def->transports & sv->transports;

	/* One Unix path cannot hold a stream and a datagram socket:
	 * streams, unless --udp-only asks for datagrams. */
	if (serve_is_unix_text(addr) && t == (SERVICE_STREAM | SERVICE_DGRAM))
		t = SERVICE_STREAM;
	return t;
}

/* addr is host:0 (or [v6]:0). */
static bool port_is_zero(const char *addr)
{
	char host[SOCK_ADDR_STRLEN], port[32];

	return sock_addr_split(addr, host, sizeof(host), port, sizeof(port)) ==
		       0 &&
	       !strcmp(port, "0");
}

static int add_service(struct serve *sv, const struct service *def,
		       const char *addr)
{
	unsigned int t = transports_at(sv, def, addr);
	int err = 0;

	/* TLS is for streams: a datagram listener is not opened, and the
	 * log says so. */
	if (sv->tls && (t & SERVICE_DGRAM)) {
		t &= ~(unsigned int)SERVICE_DGRAM;
		serve_log_not_tls(sv, def->name, addr);
	}

	if (t & SERVICE_STREAM)
		err = add_one(sv, def, SOCK_STREAM, addr, false);
	if (err || !(t & SERVICE_DGRAM))
		return err;
	/* Port 0 for both: UDP on the port TCP was given, as services on
	 * a fixed port are, when it is free (it nearly always is). */
	if ((t & SERVICE_STREAM) && port_is_zero(addr) &&
	    add_one(sv, def, SOCK_DGRAM, sv->lis[sv->nlis - 1].addr, true) == 0)
		return 0;
	return add_one(sv, def, SOCK_DGRAM, addr, false);
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
	free(sv->ranges);
	free(sv->proxy_from);
	sock_tls_ctx_free(sv->tls);
}

/* ---- running ---- */

/*
 * Whether every address is loopback or Unix: then every peer is this
 * host, and a per-source cap would only be a second, lower --max-conns.
 */
static bool is_local_text(const char *addr)
{
	struct sock_addr a;

	if (serve_is_unix_text(addr))
		return true;
	if (sock_resolve(&a, addr, SOCK_STREAM, 2000))
		return false;
	return sock_addr_is_loopback(&a);
}

static void configure(struct serve *sv, struct serve_spec *specs, size_t nspecs,
		      struct sock_listen_fd *fds, int nfds)
{
	bool local = true;
	size_t i;
	int j;

	sv->cfg.stop_on_signals = true;
	sv->cfg.on_event = serve_on_event;
	sv->cfg.event_data = sv;
	fit_fd_limit(sv);
	if (sv->max_per_source_set)
		return;
	for (i = 0; i < nspecs && local; i++)
		local = is_local_text(specs[i].addr);
	for (j = 0; j < nfds && local; j++)
		local = serve_fd_is_local(&fds[j].sock);
	/* inetd's peer, and the clients a proxy names, are not this host
	 * whatever the address served. */
	if (sv->inetd || sv->proxy)
		local = false;
	if (local)
		sv->cfg.max_per_source = SOCK_UNLIMITED;
}

/* Every named service on its address, or all on their defaults. */
static int build_specs(struct serve *sv, int argc, char **argv,
		       struct serve_spec **out, size_t *n)
{
	struct serve_spec *specs;
	size_t i, count = argc > 0 ? (size_t)argc : services_count;
	int rc;

	specs = calloc(count, sizeof(*specs));
	if (!specs)
		return CLI_FAILURE;
	*out = specs;
	*n = 0;
	for (i = 0; i < (size_t)argc; i++) {
		rc = serve_parse_spec(sv, argv[i], &specs[(*n)++]);
		if (rc >= 0)
			return rc;
	}
	for (i = 0; argc == 0 && i < services_count; i++) {
		if (!(services[i].transports & sv->transports))
			continue;
		specs[*n].def = &services[i];
		serve_spec_addr(sv, &services[i], NULL, specs[*n].addr,
				sizeof(specs[*n].addr));
		(*n)++;
	}
	return -1;
}

static int open_all(struct serve *sv, struct serve_spec *specs, size_t nspecs,
		    struct sock_listen_fd *fds, int nfds)
{
	const struct service *def;
	size_t i;

	if (sv->inetd) {
		def = services_find(sv->inetd);
		return serve_adopt_stdin(sv, def);
	}
	if (nfds > 0)
		return serve_adopt_activated(sv, fds, nfds);
	for (i = 0; i < nspecs; i++)
		if (add_service(sv, specs[i].def, specs[i].addr))
			return CLI_FAILURE;
	return 0;
}

static int serve(struct serve *sv, struct serve_spec *specs, size_t nspecs)
{
	struct sock_listen_fd fds[ACTIVATION_MAX];
	int nfds = 0, err, rc = CLI_FAILURE, i;

	/* inetd may pass the client's socket as standard error too. */
	if (sv->inetd && serve_same_file(STDIN_FILENO, STDERR_FILENO))
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
	/* Ranges that apply to no listener would protect nothing, and be
	 * taken for protection: a usage error, before anything is served. */
	if (rc == 0 && sv->nranges && !sv->ranges_applied) {
		fprintf(stderr, "sock: --allow and --deny apply to TCP and UDP "
				"listeners, and there is none\n");
		rc = CLI_USAGE;
	}
	if (rc == 0 && sv->stats_addr && serve_stats_listen(sv))
		rc = CLI_FAILURE;
	if (rc == 0 && sv->proxy && !sv->proxy_applied) {
		fprintf(stderr, "sock: --proxy-protocol applies to TCP "
				"listeners, and there is none\n");
		rc = CLI_USAGE;
	}
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

/* The server context of --tls-cert and --tls-key.  Returns -1 to go on,
 * or the exit status (the reason said). */
static int serve_tls_context(struct serve *sv)
{
	int err;

	err = sock_tls_ctx_new(&sv->tls, SOCK_TLS_SERVER);
	if (err) {
		fprintf(stderr, "sock: TLS: %s\n", sock_strerror(err));
		return CLI_FAILURE;
	}
	err = sock_tls_ctx_use_cert(sv->tls, sv->tls_cert, sv->tls_key);
	if (err) {
		fprintf(stderr, "sock: --tls-cert %s%s%s: %s\n", sv->tls_cert,
			sv->tls_key ? " --tls-key " : "",
			sv->tls_key ? sv->tls_key : "",
			err == SOCK_ETLS ? sock_tls_ctx_reason(sv->tls)
					 : sock_strerror(err));
		return CLI_FAILURE;
	}
	return -1;
}

int cmd_serve(int argc, char **argv)
{
	struct serve sv = { .transports = SERVICE_STREAM | SERVICE_DGRAM,
			    .host = "127.0.0.1",
			    .log_fd = STDERR_FILENO };
	struct serve_spec *specs = NULL;
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
	while ((opt = getopt_long(argc, argv, ":qh", serve_options, NULL)) !=
	       -1) {
		if (opt == ':') {
			rc = serve_usage_error("option '%s' needs a value",
					       argv[optind - 1]);
			goto out;
		}
		if (opt == '?') {
			rc = optopt ? serve_usage_error("unknown option '-%c'",
							optopt)
				    : serve_usage_error("unknown option '%s'",
							argv[optind - 1]);
			goto out;
		}
		rc = serve_parse_option(&sv, opt, optarg);
		if (rc >= 0)
			goto out;
	}
	if (sv.proxy_timeout_ms && !sv.proxy) {
		rc = serve_usage_error("%s", "--proxy-timeout is for "
					     "--proxy-protocol");
		goto out;
	}
	if (sv.proxy != (sv.nproxy_from > 0)) {
		rc = serve_usage_error("%s", sv.proxy ? "--proxy-protocol "
							"needs "
							"--proxy-from CIDR: "
							"the "
							"proxies whose headers "
							"to "
							"believe"
						      : "--proxy-from is for "
							"--proxy-protocol");
		goto out;
	}
	if ((sv.tls_key || sv.tls_timeout_ms) && !sv.tls_cert) {
		rc = serve_usage_error("%s", sv.tls_key ? "--tls-key is for "
							  "--tls-cert"
							: "--tls-timeout is "
							  "for "
							  "--tls-cert");
		goto out;
	}
	if (sv.inetd && sv.tls_cert) {
		rc = serve_usage_error("%s", "--tls-cert is for listeners, "
					     "not --inetd");
		goto out;
	}
	if (sv.tls_cert) {
		rc = serve_tls_context(&sv);
		if (rc >= 0)
			goto out;
	}
	if (sv.inetd && sv.proxy) {
		rc = serve_usage_error("%s", "--proxy-protocol is for "
					     "listeners, not --inetd");
		goto out;
	}
	if (sv.inetd) {
		if (!services_find(sv.inetd)) {
			rc = serve_usage_error("unknown service '%s' (see "
					       "--help)",
					       sv.inetd);
			goto out;
		}
		if (optind < argc) {
			rc = serve_usage_error("%s", "--inetd serves one "
						     "service: "
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

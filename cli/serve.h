/* SPDX-License-Identifier: MIT */
/* serve.h -- what the files of sock serve share: its state and their functions */

#ifndef SOCK_CLI_SERVE_H
#define SOCK_CLI_SERVE_H

#include <sock.h>

#include "../services/services.h"

#include <getopt.h>

/* One listener, made or adopted, for its "listen" log line. */
struct serve_listener {
	const struct service *def;
	int index;	       /* the server's listener number */
	const char *transport; /* "tcp", "udp", "unix", "unixgram" */
	char addr[SOCK_ADDR_STRLEN];
	bool logged;
};

/* One --allow or --deny. */
struct serve_range {
	const char *cidr;
	bool deny;
};

/* Everything one run of sock serve knows. */
struct serve {
	struct sock_server_config cfg;
	bool max_per_source_set;
	bool quiet;
	bool json;	 /* --log-format json: a JSON object per line */
	bool dual_stack; /* --dual-stack: IPv6 addresses take IPv4 too */
	bool silent;	 /* standard error is the client's socket */
	int log_fd;	 /* where the log goes: standard error */
	bool timestamps;
	unsigned int transports; /* SERVICE_STREAM | SERVICE_DGRAM */
	const char *host;
	const char *inetd;
	/* per entry of services[]: a copy with its state as data */
	struct sock_service *svcs;
	void **states;
	bool *named; /* named on the command line */
	size_t nnamed;
	struct serve_listener *lis;
	size_t nlis, lis_cap;
	/* --allow and --deny, for every TCP and UDP listener */
	struct serve_range *ranges;
	size_t nranges;
	bool ranges_applied; /* to at least one listener */
	/* --proxy-protocol: TCP listeners take a PROXY header from the
	 * --proxy-from ranges, within proxy_timeout_ms (0: the default) */
	bool proxy;
	const char **proxy_from;
	size_t nproxy_from;
	int proxy_timeout_ms;
	bool proxy_applied; /* to at least one listener */
	/* --tls-cert, --tls-key, --tls-timeout: TCP listeners speak TLS
	 * with this context; UDP ones are not opened */
	const char *tls_cert;
	const char *tls_key;
	int tls_timeout_ms;
	struct sock_tls_ctx *tls;
	/* --stats ADDR: the counters answered there */
	const char *stats_addr;
	struct sock_service stats_svc;
	int backlog; /* --backlog: 0 for the system's */
	struct sock_server *srv;
};

/* One SERVICE[=ADDR] of the command line. */
struct serve_spec {
	const struct service *def;
	bool has_addr;
	char addr[SOCK_ADDR_STRLEN];
};

/* serve.c */

/* True for Unix address text: a path with '/', "unix:...", "@name". */
bool serve_is_unix_text(const char *addr);
/* The service copy that carries def's state. */
const struct sock_service *serve_svc(struct serve *sv,
				     const struct service *def);
/* Remember listener index of the server for its log line, and give it
 * the --allow and --deny ranges.  Says what went wrong on standard
 * error; returns 0 or the error. */
int serve_note_listener(struct serve *sv, const struct service *def, int type,
			int index);

/* stats.c: --stats ADDR, a listener that answers each connection with
 * the counters as JSON.  Returns 0 or a code (said on standard error). */
int serve_stats_listen(struct serve *sv);

/* serve_log.c: the log, one line per event on standard error */

/* Write one log line (a newline is added), with one write(2). */
__attribute__((format(printf, 2, 3))) void serve_say(const struct serve *sv,
						     const char *fmt, ...);
/* addr as text, "-" for none. */
void serve_addr_text(const struct sock_addr *a, char *buf, size_t size);
/* Room for serve_log_text's output of SOCK_ADDR_STRLEN bytes of input. */
#define SERVE_LOG_TEXT_MAX (4 * SOCK_ADDR_STRLEN)
/* in as log text in out (size bytes, NUL included, at least 5): UTF-8
 * kept, each byte of an ill-formed sequence or of a character that could
 * mislead a reader (controls, space, backslash, invisible and
 * bidirectional marks) written as \xNN, so that the text maps back to
 * in exactly.  Cut at a character when out is short. */
void serve_log_text(const char *in, char *out, size_t size);
/* The line saying the descriptors allow fewer connections than wanted:
 * the cap in force (sv->cfg.max_conns), and asked, the --max-conns it
 * lowered, or 0 when the cap was fitted to them from the start. */
void serve_log_descriptors(struct serve *sv, unsigned long have,
			   unsigned int asked);
/* The line saying a datagram listener of service at addr was not opened:
 * TLS serves streams only. */
void serve_log_not_tls(struct serve *sv, const char *service, const char *addr);
/* The server's on_event hook; data is the struct serve. */
void serve_on_event(const struct sock_event *ev, void *data);

/* serve_opts.c: the command line */

extern const struct option serve_options[];
/* Print "sock serve: ..." and the hint; returns CLI_USAGE. */
__attribute__((format(printf, 1, 2))) int serve_usage_error(const char *fmt,
							    ...);
/* Apply option opt with its argument.  Returns -1 to go on, or the exit
 * status. */
int serve_parse_option(struct serve *sv, int opt, const char *arg);
/* Split SERVICE[=ADDR] into spec.  Returns -1, or the exit status. */
int serve_parse_spec(struct serve *sv, const char *arg,
		     struct serve_spec *spec);
/* The address text for def: addr (a bare PORT gets the default host) or
 * the default host and port.  Returns 0 or -EINVAL. */
int serve_spec_addr(const struct serve *sv, const struct service *def,
		    const char *addr, char *out, size_t size);

/* serve_adopt.c: sockets made elsewhere, by systemd or inetd */

/* Serve the sockets systemd passed.  Returns 0 or the exit status. */
int serve_adopt_activated(struct serve *sv, struct sock_listen_fd *fds, int n);
/* Serve the socket on standard input as def.  Returns 0 or the exit
 * status. */
int serve_adopt_stdin(struct serve *sv, const struct service *def);
/* True when s is bound (or connected) to a loopback or Unix address. */
bool serve_fd_is_local(const struct sock *s);
/* True when descriptors a and b are the same open file. */
bool serve_same_file(int a, int b);

#endif /* SOCK_CLI_SERVE_H */

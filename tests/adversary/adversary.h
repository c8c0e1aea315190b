/* SPDX-License-Identifier: MIT */
/* adversary.h -- attacks on `sock serve` from outside, and what must stay true */

/*
 * The adversary starts `sock serve` on one engine, attacks it as a peer
 * would (floods, resets, half-open and garbage connections, UDP from many
 * sources) and checks what must hold: a well-behaved client beside the
 * attack is served correctly within a liveness bound, caps hold, what the
 * attack cost comes back when it leaves.  Every figure it measures
 * (latencies, memory, counts) is printed, one line each, and asserted
 * only where a bound must hold.  tests/cli/adversary_test.sh runs it on
 * each engine.
 *
 * Every loop is bounded by a count and a deadline; every process it starts
 * (the servers, a client) is ended by its PID; it talks to loopback, or to
 * the network namespaces it is given.
 */

#ifndef ADVERSARY_H
#define ADVERSARY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A well-behaved client waits this long at most for any answer: a
 * liveness bound, not a latency target (those are in bench/; the FIGURE
 * lines report the latencies).  It must hold on a loaded 2-core machine
 * under ASan: 1 s did not, once in ten runs of make test beside a fuzzer
 * (io_uring beside 200 non-readers: one echo of 36 took 1098 ms, median
 * 45 ms).  A client starved by an attack waits for good. */
#define LIVENESS_MS 3000

/* What one run of the program knows. */
struct adv {
	const char *sock;      /* the sock program */
	const char *engine;    /* epoll or io_uring */
	const char *tmp;       /* a directory for the servers' logs */
	const char *netns_srv; /* a namespace for a server (10.78.0.1) */
	const char *netns_cli; /* and its peers' (10.78.0.2, .10 ...) */
	bool sanitized;	       /* sock was built with a sanitizer */
	bool uring;	       /* engine is io_uring */
};

/* ---- report.c: checks and figures, one line each ---- */

/* A figure: "FIGURE ENGINE SCENARIO.WHAT: text". */
void figure(const char *scen, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A check: PASS, or FAIL with the text saying what was seen. */
void check(const char *scen, const char *what, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void skip(const char *scen, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void report_start(const char *engine);
/* The closing line; returns the exit status (1 when a check failed). */
int report_end(double seconds);

/* ---- util.c: time, sockets, latencies ---- */

int64_t now_us(void);
void sleep_ms(int ms);
/* A TCP connection to 127.0.0.1:port (host when not NULL), blocking, or
 * -1; rcvbuf > 0 sets SO_RCVBUF first. */
int tcp_connect(const char *host, int port, int rcvbuf);
int set_nonblock(int fd);
/* Read exactly len bytes within ms; 0, or -1 (timeout, end, error). */
int read_exact(int fd, void *buf, size_t len, int ms);
/* One receive within ms: the count, 0 at the end, -1 for an error or
 * nothing within ms. */
ssize_t recv_wait(int fd, void *buf, size_t len, int ms);
/* Read until len bytes, the end of stream or ms passed; the count. */
ssize_t read_some(int fd, void *buf, size_t len, int ms);
/* Read until the end of the stream within ms (what comes is dropped):
 * 0 at the end, -1 if it did not come (or an error came). */
int read_to_end(int fd, int ms);
/* Send everything (blocking socket); 0 or -1. */
int send_all(int fd, const void *buf, size_t len);
/* Close with SO_LINGER 0: the peer gets a reset. */
void close_reset(int fd);

/* Latencies, in milliseconds. */
struct lat {
	double *ms;
	size_t n, cap;
};
void lat_add(struct lat *l, double ms);
double lat_pct(struct lat *l, double pct);
void lat_figure(const char *scen, const char *what, struct lat *l);
void lat_free(struct lat *l);

/* ---- server.c: sock serve as a child process ---- */

#define SERVER_SVCS 8

struct server {
	pid_t pid;
	char log[512];
	char engine[32];
	unsigned int cap; /* "at most N connections" when logged, else 0 */
	struct {
		char name[16];
		int tcp, udp;
	} svc[SERVER_SVCS];
	size_t nsvc;
};

/*
 * Start `sock serve --engine E ARGS...` (args ends with NULL) and wait
 * until it logged `listens` listen lines; nofile > 0 sets its descriptor
 * limit, netns (a path) its network namespace.  0, or -1 after a FAIL.
 */
int server_start(const struct adv *a, struct server *s, const char *scen,
		 const char *const *args, unsigned int listens, long nofile,
		 const char *netns);
/* The port SERVICE listens on (udp or tcp), or 0. */
int server_port(const struct server *s, const char *name, bool udp);
/* SIGTERM, then the exit status checked: 0 within the bound, and no
 * sanitizer report in the log. */
void server_stop(struct server *s, const char *scen);
bool server_alive(const struct server *s);
long server_rss_kib(const struct server *s);
int server_fds(const struct server *s);
/* Resident KiB of the io_uring engine's stream receive buffers (its 16 MiB
 * mapping), or -1 when the server has no such mapping. */
long server_rxbufs_kib(const struct server *s);
/* Wait until the server holds at most want descriptors, at most ms; its
 * count then. */
int server_wait_fds(const struct server *s, int want, int ms);
/* Lines of the log that contain text. */
int server_log_count(const struct server *s, const char *text);
/* Figures and the check every scenario ends with: memory came back. */
void rss_check(const struct adv *a, const char *scen, long base_kib,
	       long after_kib);
long rss_margin_kib(long base_kib);

/* ---- client.c: well-behaved clients ---- */

/* An echo client on its own thread: one 64-byte echo every interval_ms
 * until stopped (at most max echoes), every echo checked and timed. */
struct echoer {
	int fd, interval_ms, max;
	pthread_t thread;
	atomic_bool stop;
	struct lat lat;
	int done, wrong, slow, failed;
};
int echoer_start(struct echoer *e, int port, int interval_ms, int max);
void echoer_stop(struct echoer *e);
/* The figures and checks of an echoer's run, under what. */
void echoer_report(struct echoer *e, const char *scen, const char *what);
/* One echo of a 64-byte message tagged seq on fd: its time in ms, -1 for
 * a wrong answer, -2 for none within 5 s. */
double echo_once(int fd, unsigned int seq);
/* n echoes in a row on one connection, into lat; wrong or missing ones
 * counted in *bad. */
void echo_burst(int port, int n, struct lat *lat, int *bad);

/* Every TCP service of s answers one well-behaved client correctly
 * within LIVENESS_MS: one check per service, latencies as figures. */
void probe_services(const struct server *s, const char *scen);

/* ---- the scenarios ---- */

void scenario_nonread(const struct adv *a);
void scenario_idle_cap(const struct adv *a);
void scenario_fitted_cap(const struct adv *a);
void scenario_workers_cap(const struct adv *a);
void scenario_hostile(const struct adv *a);
void scenario_udp_loopback(const struct adv *a);
void scenario_udp_netns(const struct adv *a);

#endif

/* SPDX-License-Identifier: MIT */
/* bench.h -- sock bench: what the load generator's files share */

#ifndef SOCK_CLI_BENCH_H
#define SOCK_CLI_BENCH_H

#include <sock.h>

#include <stdbool.h>
#include <stdint.h>

int cmd_bench(int argc, char **argv);

/*
 * A latency histogram in the manner of HdrHistogram: values in
 * nanoseconds fall into power-of-two ranges, each split into
 * BENCH_HIST_SUB linear sub-buckets, so every recorded value is kept to
 * within 1/BENCH_HIST_SUB (under 1%) from 1 ns to about 18 minutes, in a
 * fixed 36 KiB with no allocation per value.
 */
#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_MAX_BITS 40
#define BENCH_HIST_BUCKETS                                                     \
	((BENCH_HIST_MAX_BITS - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns, max_ns;
	uint64_t bucket[BENCH_HIST_BUCKETS];
};

void bench_hist_reset(struct bench_hist *h);
void bench_hist_add(struct bench_hist *h, uint64_t ns);
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from);
/* The value below which a fraction q (0 < q <= 1) of the values lie. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);

/* The workloads. */
enum bench_mode {
	BENCH_PINGPONG,
	BENCH_CONNRATE,
	BENCH_UDP,
	BENCH_BULK_SEND,
	BENCH_BULK_RECV,
	BENCH_HOLD,
};

/* The command line, read-only once the workers start. */
struct bench_opts {
	enum bench_mode mode;
	const char *target;
	struct sock_addr addr;
	unsigned int conns;    /* connections (udp: sockets) */
	unsigned int size;     /* message or request size in bytes */
	unsigned int inflight; /* per connection (connrate: in total) */
	unsigned int threads;  /* worker threads */
	unsigned int sources;  /* spread IPv4 sources over 127.0.0.1..N */
	int64_t warmup_ns;     /* not counted, before the measured window */
	int64_t duration_ns;   /* the measured window */
	int64_t timeout_ns;    /* udp: a request unanswered this long is lost;
				   tcp: connect and stall limit */
	bool verify;	       /* check every byte received */
	bool expect_time;      /* connrate: answers are RFC 868 times */
	bool json;
	int server_pid; /* sample this process's CPU time and memory */
	void *tls;	/* --tls: the OpenSSL client context (bench_tls.c) */
	bool tls_verify;
};

/*
 * What one worker counted in the measured window.  The supervisor reads
 * ops and bytes while the worker runs (for the progress line), so the
 * worker updates them with relaxed atomic stores.
 */
struct bench_stats {
	uint64_t ops;
	uint64_t bytes;
	uint64_t errors;      /* connections that failed */
	uint64_t lost;	      /* udp: requests never answered in time */
	uint64_t late;	      /* udp: answers that came after their timeout */
	uint64_t mismatches;  /* answers that differed from what was expected */
	uint64_t established; /* hold: connections open at the end */
	struct bench_hist hist;
	char error[160]; /* the first error, for the summary */
};

/* One worker thread: its share of the connections and its counts. */
struct bench_worker {
	const struct bench_opts *opts;
	unsigned int index;
	unsigned int first_conn, nconns; /* its share */
	int64_t start_ns;		 /* when the run began (monotonic) */
	int64_t measure_ns;		 /* start of the measured window */
	int64_t end_ns;			 /* end of the measured window */
	int stop;			 /* set by the supervisor: the end */
	bool measuring;			 /* stats were reset at measure_ns */
	struct bench_stats stats;
	int result; /* 0 or a negative code: could not run */
};

/* "pingpong", "connrate" ... */
const char *bench_mode_name(enum bench_mode mode);

/* Whether the supervisor told the worker to end (atomic: it is set from
 * another thread). */
static inline bool bench_stopped(const struct bench_worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_RELAXED);
}

/* The monotonic clock in nanoseconds. */
int64_t bench_now_ns(void);

/* Record the first error of a worker, printf-style, for the summary. */
void bench_error(struct bench_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Count an operation of bytes bytes, completed at now after lat_ns. */
void bench_count(struct bench_worker *w, int64_t now, uint64_t bytes,
		 int64_t lat_ns);

/* Called by workers on every wake-up: starts the measured window when its
 * time comes, and returns true when the run is over. */
bool bench_tick(struct bench_worker *w, int64_t now);

/* Called by workers when their run is over, before they close their
 * connections: waits until the supervisor has read the server's CPU
 * time, so a server that forks per connection (xinetd) still holds every
 * child when it is read. */
void bench_linger(const struct bench_worker *w);

/* A non-blocking socket for the target, bound to this connection's source
 * address (opts->sources), with connect started.  Returns the descriptor
 * or a negative code. */
int bench_connect(const struct bench_opts *opts, unsigned int conn, int type);

/* The data every sender draws from and every checker compares with:
 * BENCH_PATTERN_PERIOD pseudo-random bytes, repeated so that any window of
 * BENCH_PATTERN_WINDOW bytes starting inside the period is contiguous. */
#define BENCH_PATTERN_PERIOD 65521u
#define BENCH_PATTERN_WINDOW (1u << 20)
const unsigned char *bench_pattern(void);

/* The workers, one per mode; each returns 0 or a negative code. */
int bench_run_pingpong(struct bench_worker *w);
int bench_run_connrate(struct bench_worker *w);
int bench_run_udp(struct bench_worker *w);
int bench_run_bulk(struct bench_worker *w);
int bench_run_hold(struct bench_worker *w);

/*
 * --tls (bench_tls.c): OpenSSL on the workers' non-blocking sockets.
 * init makes o->tls (verifying against cafile, or the system's store,
 * unless insecure; says what failed).  A connection's session is made on
 * its descriptor once it is connected; handshake, send and receive return
 * what send(2) and recv(2) would, as codes: -EAGAIN with *want (EPOLLIN
 * or EPOLLOUT) for what to wait for, 0 for the server's close_notify,
 * SOCK_ETLS, SOCK_ECERT, SOCK_ETLSEOF or -errno.  A receive returns whole
 * records only (len at least 16 KiB), so no plaintext waits inside
 * OpenSSL unseen by epoll.
 */
int bench_tls_init(struct bench_opts *o, const char *cafile, bool insecure);
void bench_tls_free(struct bench_opts *o);
void *bench_tls_new(const struct bench_opts *o, int fd);
void bench_tls_free_conn(void *ssl);
/* Send close_notify if the socket takes it now; never waits. */
void bench_tls_close(void *ssl);
int bench_tls_handshake(void *ssl, uint32_t *want);
ssize_t bench_tls_send(void *ssl, const void *buf, size_t len);
ssize_t bench_tls_recv(void *ssl, void *buf, size_t len);

/* hold: how many connections every worker has open; the supervisor waits
 * for them before it measures the server's memory. */
uint64_t bench_hold_open(const struct bench_worker *w);

#endif /* SOCK_CLI_BENCH_H */

/* SPDX-License-Identifier: MIT */
/* core.h -- the server's workers and shared state, for the files of src/server */

#ifndef SOCK_CORE_H
#define SOCK_CORE_H

#include "engine/engine.h"

/* What a rate-limited report is about (struct sock__worker.reports). */
enum sock__report_kind {
	SOCK__REPORT_MAX_CONNS,
	SOCK__REPORT_PER_SOURCE,
	SOCK__REPORT_IDLE,
	SOCK__REPORT_TOTAL,
	SOCK__REPORT_DESCRIPTORS,
	SOCK__REPORT_OVERFLOW,
	SOCK__REPORT_TRUNCATED,
	SOCK__REPORT_PRIVILEGED,
	SOCK__REPORT_OWN_PORT,
	SOCK__REPORT_RATE,
	SOCK__REPORT_LOOP,
	SOCK__REPORT_AMPLIFICATION,
	SOCK__REPORT_ACCEPT,
	SOCK__REPORT_NOMEM,
	SOCK__REPORT_ACCESS,
	SOCK__REPORT_VERIFY,
	SOCK__REPORT_PROXY_SOURCE,
	SOCK__REPORT_PROXY_HEADER,
	SOCK__REPORT_TLS,
	SOCK__REPORT_TLS_PROTOCOL,
	SOCK__REPORT_COUNT,
};

/* At most one report of a kind per second; the rest are counted. */
struct sock__report {
	int64_t last_ms;
	unsigned int suppressed;
	int err;
	const char *service;
};

struct sock__jobs; /* modes.c */

/* Connections are carved from slabs of this many, never freed singly. */
#define SOCK__SLAB_CONNS 256

/* One event loop of a server, and everything served on it. */
struct sock__worker {
	struct sock_server *srv;
	struct sock_loop *loop;
	unsigned int index;
	pthread_t thread;
	bool thread_started;
	int run_err;
	/* listeners of this worker, owned */
	struct sock__listener **lis;
	size_t nlis, lis_cap;
	unsigned int nlis_open;
	/* event-mode connections */
	struct sock__list conns;  /* by opening time */
	struct sock__list idle;	  /* by last activity */
	struct sock__list linger; /* closing, by close time */
	unsigned int nconns;	  /* event conns + blocking jobs */
	/* sock_server_stats' counters of what belongs to no listener */
	atomic_ullong stat[SOCK_STAT_COUNT];
	bool cap_paused; /* accepting paused: the server is at its cap */
	struct sock_conn *pending; /* to be closed after this batch */
	struct sock_conn *free_conns;
	void **slabs;
	size_t nslabs, slabs_cap;
	/* timers */
	struct sock_timer tick;
	struct sock_timer grace;
	struct sock_timer every; /* sock_server_every, on worker 0 */
	struct sock_timer quiet; /* sock_server_idle, on worker 0 */
	int tick_ms;
	/* stopping */
	bool stopping;
	bool grace_over;
	bool started;
	/* descriptor kept in reserve for EMFILE */
	int reserve_fd;
	struct sock__report reports[SOCK__REPORT_COUNT];
	struct sock__jobs *jobs;
};

/* A source host and how many connections it holds (per-source cap). */
struct sock__source {
	struct sock__source *next;
	uint8_t addr[16];
	unsigned int count;
};

#define SOCK__SOURCE_BUCKETS 1024

/* The datagram guard's rate sketch: rows of buckets (guard.c).  The sizes
 * may be set smaller at build time (the fuzz target makes hosts collide
 * all the time); the guard's bounds hold for any size. */
#define SOCK__GUARD_ROWS 4
#ifndef SOCK__GUARD_CELLS
#define SOCK__GUARD_CELLS 4096 /* per row; a power of two */
#endif
/* The returned-reply check: the last reply per source host and port. */
#ifndef SOCK__ECHO_SLOTS
#define SOCK__ECHO_SLOTS 1024
#endif
#define SOCK__ECHO_WINDOW_MS 500
/* IP and UDP headers of a datagram, counted in the amplification bound. */
#define SOCK__UDP4_HEADER 28
#define SOCK__UDP6_HEADER 48

/* The last reply sent to a source host and port. */
struct sock__echo {
	uint64_t tag; /* hash of the host and port; 0: empty */
	uint64_t digest;
	int64_t sent_ms;
};

/* The datagram guard of a server, shared by its workers (guard.c). */
struct sock__guard {
	pthread_mutex_t lock; /* over cells and echo */
	uint64_t seed[2];     /* secret, per server */
	int64_t interval_ns;  /* 1 s / dgram_rate; 0: no rate limit */
	int64_t tolerance_ns; /* (dgram_burst - 1) intervals */
	int64_t *cells;	      /* ROWS x CELLS arrival times; NULL: off */
	struct sock__echo *echo;
};

/* An allow or deny range: the first bits of addr, an IP address as
 * sock__host_key() writes it (access.c). */
struct sock__rule {
	uint8_t addr[16];
	uint8_t bits;
	bool v6;   /* an IPv6 range: never matches a v4-mapped peer */
	bool deny; /* otherwise allow */
};

/* Who may use listener index: its ranges in the order given, and the
 * verify hook; shared by every worker's socket on that address. */
struct sock__access {
	struct sock__access *next;
	int index;
	int family; /* of the listener: ranges only for AF_INET, AF_INET6 */
	int type;   /* of the listener */
	struct sock__rule *rules;
	size_t nrules, cap, nallow;
	sock_verify_fn verify;
	void *verify_data;
	/* PROXY protocol (proxy.c): the proxies trusted, when any, and how
	 * long a header may take (0: the default) */
	struct sock__rule *proxy_from;
	size_t nproxy, proxy_cap;
	int proxy_timeout_ms;
	/* TLS (tls_conn.c): the server context, when the listener has one (a
	 * reference of ours), and how long a handshake may take (0: the
	 * default) */
	struct sock_tls_ctx *tls;
	int tls_timeout_ms;
};

/* A hook of the server's first loop, called after ms (a periodic one,
 * or one for quiet). */
struct sock__hook {
	sock_every_fn fn;
	void *data;
	int ms;
};

/* A connected socket given to sock_server_adopt, served at run. */
struct sock__adopted {
	struct sock__adopted *next;
	struct sock sock;
	const struct sock_service *svc;
};

struct sock_server {
	struct sock_server_config cfg; /* defaults filled in */
	struct sock__worker *workers;
	unsigned int nworkers;
	atomic_int stopping;
	/* connections of all workers, against cfg.max_conns */
	atomic_uint nconns;
	/* a service forks handlers: connections are shut down before they
	 * are closed, since a child may hold their descriptors */
	bool forks;
	/* set by run, read by the calls that must come before it, which
	 * another thread may make (refused then, not raced) */
	atomic_bool ran;
	int next_index;
	struct sock__adopted *adopted;
	/* access rules of the listeners that have some (access.c) */
	struct sock__access *access;
	/* sock_server_every: the periodic hook */
	struct sock__hook every;
	/* sock_server_idle: the quiet hook, and when the server last took
	 * a connection or a datagram (any worker; CLOCK_MONOTONIC, ms) */
	struct sock__hook idle;
	atomic_llong last_request_ms;
	/* per-source connection counts, shared by the workers */
	pthread_mutex_t src_lock;
	struct sock__source *sources[SOCK__SOURCE_BUCKETS];
	/* UDP ports of our own datagram listeners (loop guard) */
	uint16_t own_ports[64];
	size_t nown_ports;
	/* the datagram guard, shared by the workers */
	struct sock__guard guard;
	/* signals */
	bool sigmask_saved;
	sigset_t old_sigmask;
	/* run: worker threads wait at the gate until all of them exist
	 * (server.c) */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	int gate;
};

/* How long an orderly close waits for the peer to end its side. */
#define SOCK__LINGER_MS 2000

/* ---- server.c ---- */

/* Serve the connections given to sock_server_adopt (worker 0, at
 * start). */
void sock__server_open_adopted(struct sock_server *srv);

/* ---- worker.c ---- */

/* Set up worker index of srv, with its loop.  Returns 0 or -errno. */
int sock__worker_init(struct sock_server *srv, struct sock__worker *w,
		      unsigned int index);
/* Free what w holds: listeners, jobs, loop, connections. */
void sock__worker_release(struct sock__worker *w);
/* Run w's loop until the server stops (a thread's start routine). */
void *sock__worker_main(void *arg);
/* Take a slot under the connection cap for a connection or job on w:
 * false when the server is at its cap. */
bool sock__worker_conn_begin(struct sock__worker *w);
/* The server is at its cap: w pauses accepting (reported once). */
void sock__worker_at_cap(struct sock__worker *w, const char *service);
/* A connection or job ended: its slot is free again. */
void sock__worker_conn_ended(struct sock__worker *w);
/* A blocking job from peer ended (modes.c, on the loop's thread). */
void sock__job_ended(struct sock__worker *w, const struct sock_addr *peer);

/* ---- listener.c ---- */

/* Take over *s (cleared) as a listener of w for svc, numbered index. */
int sock__listener_attach(struct sock__worker *w,
			  const struct sock_service *svc, struct sock *s,
			  int index);
/* Make the engine's state match what l should be doing. */
void sock__listener_update(struct sock__listener *l);
/* Pause or resume every stream listener of w (the connection cap). */
void sock__worker_pause_accepting(struct sock__worker *w, bool pause);
/* Serve the connections l holds while slots are free; false if some
 * are left. */
bool sock__listener_serve_held(struct sock__listener *l);
/* A connection or datagram arrived on w: the server is not quiet.  The
 * clock is read afresh (the loop's was read before a batch that may have
 * been long), so the quiet hook never comes early. */
static inline void sock__worker_request(struct sock__worker *w)
{
	if (w->srv->idle.fn)
		atomic_store_explicit(&w->srv->last_request_ms,
				      sock__now_ns() / 1000000,
				      memory_order_relaxed);
}

/* The timeout of the connections l gives blocking handlers. */
static inline int sock__handler_timeout(const struct sock__listener *l)
{
	return l->handler_timeout_ms ? l->handler_timeout_ms
				     : l->w->srv->cfg.idle_timeout_ms;
}
/* Serve fd from peer (its slot under the cap taken): counted against
 * its source, then opened or handed to a handler. */
void sock__listener_serve_peer(struct sock__listener *l, int fd,
			       const struct sock_addr *peer);
/* Close the connections l holds (stopping). */
void sock__listener_drop_held(struct sock__listener *l);
/* Stop l for good and close its socket. */
void sock__listener_close(struct sock__listener *l);
/* Close (if open) and free l. */
void sock__listener_free(struct sock__listener *l);

/* ---- report.c ---- */

/* Report an event through the server's hook (if any). */
void sock__emit(struct sock__worker *w, enum sock_event_kind kind,
		const char *service, const struct sock_addr *addr, int err,
		const char *what);
/* Report a limit or error, at most once a second per kind, and count it
 * (sock_server_stats): on the worker, for what belongs to no listener... */
void sock__report(struct sock__worker *w, enum sock__report_kind kind,
		  const char *service, const struct sock_addr *addr, int err);
/* ... or on listener l, for what concerns it. */
void sock__report_on(struct sock__listener *l, enum sock__report_kind kind,
		     const struct sock_addr *addr, int err);

/* Add n to counter k of stat (a listener's, or a worker's).  Only the
 * loop thread of the listener's (or worker's) worker writes its
 * counters, so a relaxed load and store do: no locked instruction on
 * the hot path, and readers in other threads still read whole values.
 * Built with -DSOCK_NO_STATS, nothing is counted: only to measure what
 * counting costs. */
static inline void sock__stat_add(atomic_ullong *stat, unsigned int k,
				  uint64_t n)
{
#ifdef SOCK_NO_STATS
	(void)stat, (void)k, (void)n;
#else
	atomic_store_explicit(
		&stat[k],
		atomic_load_explicit(&stat[k], memory_order_relaxed) + n,
		memory_order_relaxed);
#endif
}
/* Report what the rate limit held back: kinds whose second has passed,
 * or all of them (the worker is ending). */
void sock__report_flush(struct sock__worker *w, bool all);

/* ---- source.c ---- */

/* An IP address as 16 bytes (IPv4 as ::ffff:a.b.c.d), and its hash. */
void sock__host_key(const struct sock_addr *a, uint8_t key[16]);
uint32_t sock__host_hash(const uint8_t key[16]);
/* Per-source accounting; add returns false over the cap.  Kept whatever
 * the cap, unlimited included: the datagram guard reads it. */
bool sock__source_add(struct sock_server *srv, const struct sock_addr *peer);
void sock__source_del(struct sock_server *srv, const struct sock_addr *peer);
/* True when peer's host holds a stream connection to srv now: it answered
 * our TCP handshake, so it is real (not a spoofed address). */
bool sock__source_holds(struct sock_server *srv, const struct sock_addr *peer);
/* Forget every source (the server is being freed). */
void sock__sources_free(struct sock_server *srv);

/* ---- proxy_header.c ---- */

/* The longest version 1 header (HAProxy's spec: 107 bytes with CRLF),
 * and the most bytes a version 2 header may carry after its fixed 16
 * (addresses and TLVs; HAProxy sends 12 or 36 and a few TLVs). */
#define SOCK__PROXY_V1_MAX 107
#define SOCK__PROXY_V2_LEN_MAX 2048
#define SOCK__PROXY_MAX (16 + SOCK__PROXY_V2_LEN_MAX)

/* What a complete PROXY header said. */
struct sock__proxy_header {
	size_t len;	      /* the header's length in bytes */
	int version;	      /* 1 or 2 */
	bool local;	      /* no client address: v2 LOCAL (the proxy's own
			    health check), v1 UNKNOWN, or a v2 family other
			    than TCP over IPv4 or IPv6; src and dst empty */
	struct sock_addr src; /* the client, as the proxy saw it */
	struct sock_addr dst; /* the address the client connected to */
};

/*
 * Read the first have bytes of a connection (have <= SOCK__PROXY_MAX) as
 * a PROXY protocol header (version 1 text or version 2 binary), reading no
 * byte past buf + have.  Returns:
 *  - 0: a complete header is the first h->len bytes (h filled in); for
 *    version 1 that is exactly when buf[have - 1] is the line's LF;
 *  - n > 0: not complete yet, and the next n bytes surely belong to the
 *    header (a reader may take that many without reading past it); for
 *    version 1, once its length is not known, the header ends at the
 *    first LF: *line is set, and n is the most bytes left before
 *    SOCK__PROXY_V1_MAX (the reader takes bytes up to and including the
 *    first LF only);
 *  - -EPROTO: not a PROXY header, or one that breaks the grammar (bytes
 *    already wrong are reported as soon as they are seen, before the
 *    rest arrives); -EMSGSIZE: a version 2 length over
 *    SOCK__PROXY_V2_LEN_MAX, or a version 1 line over SOCK__PROXY_V1_MAX
 *    bytes.
 * A first read of 16 bytes never passes the end of any header but the
 * shortest version 1 one ("PROXY UNKNOWN\r\n", 15 bytes): with have = 0
 * the answer is 15.
 */
int sock__proxy_parse(const uint8_t *buf, size_t have,
		      struct sock__proxy_header *h, bool *line);

/* ---- proxy.c ---- */

/* True when peer is one of a's trusted proxies. */
bool sock__proxy_trusts(const struct sock__access *a,
			const struct sock_addr *peer);
/* Read fd's PROXY header (its slot under the cap taken), then serve it
 * as from the client the header names; on failure fd is closed, the
 * slot freed, and the reason reported. */
void sock__proxy_begin(struct sock__listener *l, int fd,
		       const struct sock_addr *proxy);
/* Close the connections of l still reading their header. */
void sock__proxy_drop(struct sock__listener *l);
/* In a forked handler: close the descriptors of those connections (the
 * child's copies; nothing else is touched). */
void sock__proxy_close_inherited(struct sock__listener *l);

/* ---- access.c ---- */

/* Parse a range: "10.0.0.0/8", "192.0.2.7" (/32), "2001:db8::/32",
 * "[::1]" (/128), "::ffff:10.0.0.0/104" (an IPv4 range).  Host bits set
 * past the prefix are an error.  Returns 0 or -EINVAL. */
int sock__access_parse(const char *text, struct sock__rule *rule);
/* True when key (sock__host_key) is in rule's range. */
bool sock__access_match(const struct sock__rule *rule, const uint8_t key[16]);
/* SOCK__REPORT_COUNT when peer may use a's listener; otherwise why not
 * (SOCK__REPORT_ACCESS: a deny range, or no allow range, holds it;
 * SOCK__REPORT_VERIFY: the hook said no). */
enum sock__report_kind sock__access_check(const struct sock__access *a,
					  const struct sock_service *svc,
					  const struct sock_addr *peer);
/* Free every listener's rules (the server is being freed). */
void sock__access_free(struct sock_server *srv);

/* ---- guard.c ---- */

/* Set g up from settings with their defaults filled in. */
void sock__guard_init(struct sock__guard *g,
		      const struct sock_server_config *cfg);
/* Allocate g's tables (the server has a datagram listener); nothing when
 * the rate limit is off.  Returns 0 or -ENOMEM. */
int sock__guard_alloc(struct sock__guard *g);
void sock__guard_release(struct sock__guard *g);
/*
 * Whether a datagram of len bytes from peer (an IP source that is not
 * loopback) arriving at now_ms may be served: SOCK__REPORT_COUNT if so,
 * SOCK__REPORT_LOOP when it is the reply we just sent peer coming back,
 * SOCK__REPORT_RATE over peer's host's rate.  Takes a token when it
 * admits.
 */
enum sock__report_kind sock__guard_admit(struct sock__guard *g,
					 const struct sock_addr *peer,
					 const void *data, size_t len,
					 int64_t now_ms);
/* A reply of len bytes was sent to peer at now_ms. */
void sock__guard_replied(struct sock__guard *g, const struct sock_addr *peer,
			 const void *data, size_t len, int64_t now_ms);
/* The IP and UDP header bytes of a datagram to or from peer. */
size_t sock__guard_header(const struct sock_addr *peer);
/*
 * The amplification bound, in bytes on the wire.  budget: what the replies
 * to a datagram of len bytes may carry (SOCK__UNBOUNDED for factor
 * SOCK_UNLIMITED).  take: charge a reply of len bytes to *room; false,
 * and nothing charged, when it does not fit.  payload: the largest reply
 * that fits in room, at most max.
 */
#define SOCK__UNBOUNDED UINT64_MAX
uint64_t sock__guard_budget(unsigned int factor, size_t len, size_t header);
bool sock__guard_take(uint64_t *room, size_t len, size_t header);
size_t sock__guard_payload(uint64_t room, size_t header, size_t max);

/* ---- conn.c: a connection's life ---- */

/* Serve a new connection on fd with l's service (event mode); its slot
 * under the connection cap is taken already. */
void sock__conn_open(struct sock__listener *l, int fd,
		     const struct sock_addr *peer);
/* Close c after this batch, with err as the reason (the first one
 * given stays). */
void sock__conn_close_soon(struct sock_conn *c, int err);
/* Start or stop reading c's input (flow control). */
void sock__conn_set_reading(struct sock_conn *c, bool on);
/* Bytes moved on c: it is not idle. */
void sock__conn_touch(struct sock_conn *c);
/* c's queue is empty: close if closing, else resume reading and call
 * on_drain if owed. */
void sock__conn_drained(struct sock_conn *c);
/* Close pending connections; called after every batch. */
void sock__conn_flush_pending(struct sock__worker *w);
/* Close idle, lingering and over-age connections. */
void sock__conn_check_timeouts(struct sock__worker *w);
/* End every connection of w now (the grace period is over). */
void sock__conn_abort_all(struct sock__worker *w, int err);
/* Free w's connection slabs. */
void sock__conn_release_slabs(struct sock__worker *w);
/* Rebuild a connection's peer address. */
void sock__conn_peer(const struct sock_conn *c, struct sock_addr *addr);

/* Serve a new connection on fd whose TLS handshake is done: ssl (the
 * session, now c's) carries its records (tls_conn.c). */
void sock__conn_open_tls(struct sock__listener *l, int fd,
			 const struct sock_addr *peer, void *ssl);

/* ---- output.c: a connection's output ---- */

/* Bytes queued on c. */
size_t sock__conn_output_len(const struct sock_conn *c);
/* Drop c's queue. */
void sock__conn_output_free(struct sock_conn *c);
/* Send len bytes on c's socket as they are (a TLS connection's records):
 * what it takes now, the rest queued.  Returns 0, or the code that closed
 * c (-ENOBUFS past the hard limit, -EPIPE ...). */
int sock__conn_send_raw(struct sock_conn *c, const void *data, size_t len);
/* Have the engine call sock__conn_writable once c takes more; before
 * conn_start, the engine's start picks the wish up.  Returns 0 or
 * -errno. */
int sock__conn_want_room(struct sock_conn *c);

/* ---- tls_conn.c: TLS listeners ---- */

/* The handshake's default time limit. */
#define SOCK__TLS_TIMEOUT_MS 10000

/* Shake hands with fd from peer (its slot under the cap taken and its
 * source counted), on the loop; then serve it with l's handlers.  On
 * failure fd is closed, the slot and count freed, the reason reported. */
void sock__tls_begin(struct sock__listener *l, int fd,
		     const struct sock_addr *peer);
/* Close the connections of l still shaking hands (stopping). */
void sock__tls_drop(struct sock__listener *l);
/* In a forked handler: close the descriptors of those connections. */
void sock__tls_close_inherited(struct sock__listener *l);
/* An event connection's TLS: c's session now sends through c's output
 * (called by sock__conn_open_tls before on_open). */
void sock__conn_tls_bind(struct sock_conn *c);
/* len > 0 bytes of records arrived on c: their plaintext goes to
 * on_data. */
void sock__conn_tls_received(struct sock_conn *c, const void *data, size_t len);
/* The peer's close_notify came before the end of its stream. */
bool sock__conn_tls_peer_ended(const struct sock_conn *c);
/* sock_conn_send and sock_conn_send_some on a TLS connection. */
int sock__conn_tls_send(struct sock_conn *c, const void *data, size_t len);
ssize_t sock__conn_tls_send_some(struct sock_conn *c, const void *data,
				 size_t len);
/* Send close_notify once (sock_conn_close). */
void sock__conn_tls_notify(struct sock_conn *c);
/* Free c's session. */
void sock__conn_tls_free(struct sock_conn *c);
/* Free an OpenSSL session no connection took (NULL: nothing). */
void sock__tls_session_free(void *ssl);

/* ---- jobs.c: blocking handlers ---- */

/* Serve connection fd from peer with l's blocking handler; tls: its TLS
 * state (handshake done) when l is a TLS listener, else NULL. */
void sock__job_accepted(struct sock__listener *l, int fd, struct sock_tls *tls,
			const struct sock_addr *peer);
/* Serve a datagram with l's blocking datagram handler. */
void sock__job_datagram(struct sock__listener *l, const void *data, size_t len,
			const struct sock_addr *peer);
/* The grace period is over: make running handlers return (shut their
 * connections down, SIGTERM forked children). */
void sock__jobs_shutdown(struct sock__worker *w);
/* True when no blocking handler of w is running or queued. */
bool sock__jobs_idle(struct sock__worker *w);
/* Wait for w's handlers to finish and free what modes.c holds. */
void sock__jobs_release(struct sock__worker *w);

#endif /* SOCK_CORE_H */

/* SPDX-License-Identifier: MIT */
/* engine.h -- the loop, and what the server core and the engines share */

/*
 * src/ has three rooms: sock/ (the socket calls), server/ (the framework:
 * settings, workers, listeners, connections, datagrams, blocking
 * handlers), engine/ (the loop, and the engines that wait and receive for
 * it: epoll.c, uring*.c).  This header is the whole of what an engine
 * knows of the server: it includes nothing of server/, reads the core's
 * state only through the calls below, and keeps its own state in its own
 * files (loop->engine, and the engine_* fields marked below).
 *
 * Who does what, for a stream connection:
 *
 *   engine -> core   sock__listener_accepted(): a connection arrived
 *                    sock__conn_received(): bytes (or the end) arrived
 *                    sock__conn_writable(): the socket takes more
 *                    sock__conn_failed(): the connection broke
 *                    sock__conn_release(): the engine holds nothing more
 *   core -> engine   conn_start, conn_reading (deliver input or not),
 *                    conn_want_room (tell me when writable), conn_close
 *
 * The core sends: every byte of a stream goes out by send(2) from
 * server/conn.c, at once when the socket takes it, else from the
 * connection's queue once the engine reports room.  So "output pending"
 * has one meaning on every engine: bytes in the core's queue
 * (sock__conn_output_pending), and the engines never hold output.
 *
 * Everything of a worker -- its loop, listeners and connections -- belongs
 * to one thread.
 */

#ifndef SOCK_ENGINE_H
#define SOCK_ENGINE_H

#include "internal.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

struct sock__listener;
struct sock__worker;

/*
 * Objects handed to the kernel (epoll data, io_uring user_data) carry
 * what they are in the low 3 bits of their address; every such object is
 * at least 8-byte aligned.
 */
enum sock__tag {
	SOCK__TAG_WATCH = 0,
	SOCK__TAG_LISTENER = 1,
	SOCK__TAG_CONN = 2,
	SOCK__TAG_MASK = 7,
};

/* An intrusive doubly linked list; an empty list points at itself. */
struct sock__list {
	struct sock__list *prev, *next;
};

static inline void sock__list_init(struct sock__list *l)
{
	l->prev = l->next = l;
}

static inline bool sock__list_is_empty(const struct sock__list *l)
{
	return l->next == l;
}

static inline void sock__list_del(struct sock__list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = e;
}

static inline void sock__list_add_tail(struct sock__list *head,
				       struct sock__list *e)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

#define sock__container_of(ptr, type, member)                                  \
	((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- a stream connection ---- */

/*
 * The life of a connection, owned by server/conn.c (the transitions are
 * asserted there; docs/design.md has the diagram):
 *
 *   OPEN ---------------------> CLOSING ---------> LINGER
 *     |   sock_conn_close with     |   output sent,    |   peer's end,
 *     |   output pending, or the   |   peer may still  |   2 s, or the
 *     |   peer's end with output   |   send: write     |   grace period
 *     |                            |   side shut       |
 *     +----------------------------+-------------------+
 *     |  failure, abort, timeout, orderly end with nothing to wait for
 *     v
 *   PENDING --(after the batch: on_close, SOCK_EV_CLOSE, conn_close)--> DEAD
 *   DEAD --(sock__conn_release: the engine holds nothing of it)--> free
 *
 * OPEN -> LINGER directly when sock_conn_close finds nothing pending.
 * Flags beside the phase: READING (the core wants input: off while the
 * output queue is at its limit), EOF (the peer ended its side), WANT_DRAIN
 * (on_drain is owed: a send was held back), OPENED (on_open was called),
 * STARTED (conn_start was called), ROOM (conn_want_room is under way).
 */
enum sock__conn_phase {
	SOCK__CONN_OPEN = 0,
	SOCK__CONN_CLOSING,
	SOCK__CONN_LINGER,
	SOCK__CONN_PENDING,
	SOCK__CONN_DEAD,
};

enum sock__conn_flag {
	SOCK__CONN_READING = 1 << 0,
	SOCK__CONN_EOF = 1 << 1,
	SOCK__CONN_WANT_DRAIN = 1 << 2,
	SOCK__CONN_OPENED = 1 << 3,
	SOCK__CONN_STARTED = 1 << 4,
	SOCK__CONN_ROOM = 1 << 5,
};

/* Queued output of one connection: bytes head..tail of data are unsent.
 * Allocated only while something is queued (server/conn.c). */
struct sock__outq;

/*
 * A stream connection.  Kept small: an idle connection costs this struct
 * and nothing else (no buffer), so 10,000 idle connections fit in a
 * couple of MiB.  Fields are the core's unless marked; an engine reads
 * the core's only through the calls below.
 */
struct sock_conn {
	int fd;		       /* set by the core; closed by conn_close */
	uint8_t phase;	       /* enum sock__conn_phase */
	uint8_t flags;	       /* enum sock__conn_flag */
	uint8_t peer_family;   /* AF_INET, AF_INET6, AF_UNIX */
	uint8_t engine_ops;    /* the engine's: operations in flight */
	uint16_t engine_bits;  /* the engine's */
	uint16_t peer_port;    /* host order */
	int err;	       /* why it ends, once known */
	uint8_t peer_addr[16]; /* IPv4 in the first 4 bytes */
	struct sock__listener *lis;
	void *data;
	struct sock__list idle; /* worker's idle or linger list */
	struct sock__list all;	/* worker's list by opening time */
	struct sock_conn *next_pending;
	int64_t active_ms; /* last byte either way, or close time */
	int64_t opened_ms;
	uint64_t bytes_in, bytes_out;
	struct sock__outq *out;
	void *tls; /* the OpenSSL session of a TLS listener's connection
		      (server/tls_conn.c), or NULL */
};

/* ---- a listener ---- */

/* A listening stream socket or a bound datagram socket of one worker.
 * Engines read sock, loop, paused and closed, and own engine_*. */
struct sock__access; /* core.h */

struct sock__listener {
	struct sock sock;
	struct sock_loop *loop;
	bool paused; /* accepting suspended (cap, EMFILE) */
	bool closed;
	void *engine_data;
	uint32_t engine_bits;
	/* the core's */
	const struct sock_service *svc;
	struct sock__worker *w;
	struct sock_addr addr;
	int index;			   /* server-wide listener number */
	const struct sock__access *access; /* who may connect; NULL: all */
	int backoff_ms; /* EMFILE back-off, doubles up to 1 s */
	struct sock_timer resume;
	/* connections accepted while the server was at its cap, served
	 * first when a slot frees (worker.c) */
	int *held_fds;
	unsigned int nheld, held_cap;
	/* connections reading their PROXY header (server/proxy.c) */
	struct sock__list proxied;
	/* connections shaking hands (server/tls_conn.c) */
	struct sock__list shaking;
	/* sock_server_stats' counters of this socket (its worker's) */
	atomic_ullong stat[SOCK_STAT_COUNT];
	/* blocking handlers' connection timeout; 0: the idle timeout */
	int handler_timeout_ms;
};

static inline bool sock__listener_is_dgram(const struct sock__listener *l)
{
	return l->sock.type == SOCK_DGRAM;
}

/* ---- what an engine may read of a connection's state ---- */

static inline struct sock_loop *sock__conn_loop(const struct sock_conn *c)
{
	return c->lis->loop;
}

/* The core wants c's input: it is reading, or lingering (input is read
 * and dropped until the peer closes). */
static inline bool sock__conn_wants_input(const struct sock_conn *c)
{
	return (c->phase == SOCK__CONN_OPEN || c->phase == SOCK__CONN_CLOSING)
		       ? (c->flags & SOCK__CONN_READING) != 0
		       : c->phase == SOCK__CONN_LINGER;
}

/* c is over for the engine: its completions only settle it. */
static inline bool sock__conn_is_gone(const struct sock_conn *c)
{
	return c->phase >= SOCK__CONN_PENDING;
}

/* Bytes wait in c's queue: the socket did not take them. */
static inline bool sock__conn_output_pending(const struct sock_conn *c)
{
	return c->out != NULL;
}

/* The core waits for sock__conn_writable (conn_start arms it if asked
 * before). */
static inline bool sock__conn_wants_room(const struct sock_conn *c)
{
	return (c->flags & SOCK__CONN_ROOM) != 0;
}

/* c may stop wanting input soon (output waits, or it is closing): an
 * engine that reads ahead should read a buffer at a time. */
static inline bool sock__conn_reads_slowly(const struct sock_conn *c)
{
	return c->out != NULL || c->phase == SOCK__CONN_CLOSING;
}

/* ---- engines ---- */

/* The most bytes an engine hands sock__conn_received at once. */
#define SOCK__RECV_MAX (64 * 1024)

/* What the server hands an engine before it starts. */
struct sock__engine_limits {
	size_t max_datagram; /* largest datagram taken whole */
};

/* How an engine works a loop. */
struct sock__engine {
	enum sock_engine kind;
	int (*init)(struct sock_loop *loop);
	void (*release)(struct sock_loop *loop);
	/* Wait up to timeout_ms (-1: until something happens) and dispatch
	 * it.  Returns 0 or -errno. */
	int (*wait)(struct sock_loop *loop, int timeout_ms);
	int (*watch_add)(struct sock_loop *loop, struct sock_watch *w);
	void (*watch_del)(struct sock_loop *loop, struct sock_watch *w);
	/* Accept connections or receive datagrams on l, until paused.
	 * Returns 0 or -errno. */
	int (*listener_start)(struct sock__listener *l);
	void (*listener_pause)(struct sock__listener *l);
	/* Stop for good and close l's socket. */
	void (*listener_close)(struct sock__listener *l);
	/* Begin delivering c's input while sock__conn_wants_input (c->fd
	 * is open).  Returns 0 or -errno. */
	int (*conn_start)(struct sock_conn *c);
	/* sock__conn_wants_input changed: start or stop delivering.  An
	 * engine that cannot stop at once (a receive already done) may
	 * deliver one more buffer. */
	void (*conn_reading)(struct sock_conn *c);
	/* Call sock__conn_writable(c) once c's socket can take more
	 * bytes, once.  Returns 0 or -errno. */
	int (*conn_want_room)(struct sock_conn *c);
	/* Close c's descriptor; call sock__conn_release(c) once nothing of
	 * c is in flight any more (at once, or after cancellations). */
	void (*conn_close)(struct sock_conn *c);
	/* Queue a reply datagram on l to peer (copying data unless it lies
	 * in the receive buffer still held); sent before the next wait.
	 * Returns 0 or -errno (the reply is dropped). */
	int (*dgram_reply)(struct sock__listener *l, const void *data,
			   size_t len, const struct sock_addr *peer);
};

/* The engine kind asked for: SOCK_ENGINE_DEFAULT resolved through the
 * SOCK_ENGINE environment variable. */
enum sock_engine sock__engine_resolve(enum sock_engine kind);

extern const struct sock__engine sock__engine_epoll SOCK_INTERNAL;
extern const struct sock__engine sock__engine_uring SOCK_INTERNAL;

/* Signal callbacks of a loop, indexed by signal number. */
struct sock__signal {
	void (*cb)(struct sock_loop *loop, int signo, void *arg);
	void *arg;
};

struct sock_loop {
	const struct sock__engine *eng;
	int64_t now_ms;
	atomic_int stop;
	bool running;
	bool busy_poll;
	/* eventfd: sock_loop_stop() and other threads wake the loop */
	int wake_fd;
	struct sock_watch wake_watch;
	/* timers: a binary min-heap on when; timer->slot is index + 1 */
	struct sock_timer **heap;
	size_t nheap, heap_cap;
	/* signals through signalfd */
	int sig_fd;
	sigset_t sig_mask;
	struct sock_watch sig_watch;
	struct sock__signal sig[_NSIG];
	/* the engine's state, private to its files */
	void *engine;
	struct sock__engine_limits limits;
	/* the server worker on this loop (the core's), or NULL */
	struct sock__worker *worker;
	/* time spent waiting for events (sock__loop_wait_begin to the
	 * next time update), and since when the loop runs, in ns */
	int64_t wait_from_ns;
	atomic_llong idle_ns;
	atomic_llong started_ns;
	atomic_llong ended_ns; /* 0 while running */
};

/* Engines call this right before their blocking wait: what follows up to
 * the next sock__loop_update_time() counts as idle. */
static inline void sock__loop_wait_begin(struct sock_loop *loop)
{
	loop->wait_from_ns = sock__now_ns();
}

/* Called by engines after each batch of events they dispatched. */
void sock__loop_after_batch(struct sock_loop *loop);

/* Update the loop's clock. */
void sock__loop_update_time(struct sock_loop *loop);

/* Wake loop from another thread or a signal handler. */
void sock__loop_wake(struct sock_loop *loop);

/* ---- the core, as the engines call it (server/) ---- */

/* The server's end-of-batch work on a worker's loop. */
void sock__worker_after_batch(struct sock__worker *w);
/* A connection was accepted on l (peer may be NULL: unknown). */
void sock__listener_accepted(struct sock__listener *l, int fd,
			     const struct sockaddr *peer, socklen_t peerlen);
/* accept() on l failed with err (EMFILE, ENFILE, ENOBUFS ...). */
void sock__listener_accept_failed(struct sock__listener *l, int err);
/* len bytes arrived on c; len 0 is end of stream. */
void sock__conn_received(struct sock_conn *c, const void *data, size_t len);
/* c's socket takes more (after conn_want_room). */
void sock__conn_writable(struct sock_conn *c);
/* c failed with err (-ECONNRESET ...). */
void sock__conn_failed(struct sock_conn *c, int err);
/* The engine holds nothing of c any more: free it. */
void sock__conn_release(struct sock_conn *c);
/* A datagram arrived on l; flags are the recvmsg flags (MSG_TRUNC). */
void sock__dgram_received(struct sock__listener *l, const void *data,
			  size_t len, int flags, const struct sockaddr *peer,
			  socklen_t peerlen);
/* A reply datagram on l could not be sent: err says why. */
void sock__dgram_reply_failed(struct sock__listener *l, int err);

#endif /* SOCK_ENGINE_H */

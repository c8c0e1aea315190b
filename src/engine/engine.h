/* SPDX-License-Identifier: MIT */
/* engine.h -- the loop, listeners and connections as the engines see them */

/*
 * Layers, top down:
 *
 *   server.c   the public server: settings, listeners, workers, run, stop
 *   conn.c     what every engine shares about a stream connection: the
 *              handlers, output queue, limits, timeouts, orderly close
 *   dgram.c    the same for datagrams: checks, guard, handler dispatch
 *   modes.c    blocking handlers: inline, thread, pool, fork
 *   loop.c     the loop: timers, signals, wake-ups, run and stop
 *   engine_*.c how a loop waits and moves bytes: epoll or io_uring
 *
 * An engine delivers what happened by calling the sock__*_received/...
 * functions below; the core asks the engine to act through struct
 * sock__engine.  Everything of a worker -- its loop, listeners and
 * connections -- belongs to one thread.
 */

#ifndef SOCK_ENGINE_H
#define SOCK_ENGINE_H

#include "internal.h"

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

/* Queued output of one connection: bytes head..tail of data are unsent.
 * Allocated only while something is queued. */
struct sock__outq {
	uint32_t head, tail, cap;
	char data[];
};

/* Connection state bits. */
enum {
	SOCK__CONN_READING = 1 << 0,	/* the engine delivers input */
	SOCK__CONN_EOF = 1 << 1,	/* the peer ended its side */
	SOCK__CONN_CLOSING = 1 << 2,	/* sock_conn_close: flush, then end */
	SOCK__CONN_LINGER = 1 << 3,	/* write side shut, draining input */
	SOCK__CONN_DEAD = 1 << 4,	/* on_close done, awaiting release */
	SOCK__CONN_PENDING = 1 << 5,	/* on the worker's pending list */
	SOCK__CONN_WANT_DRAIN = 1 << 6, /* call on_drain when queue empties */
	SOCK__CONN_OPENED = 1 << 7,	/* on_open was called */
};

/*
 * A stream connection.  Kept small: an idle connection costs this struct
 * and nothing else (no buffer), so 10,000 idle connections fit in a
 * couple of MiB.
 */
struct sock_conn {
	int fd;
	uint16_t state;	       /* SOCK__CONN_* */
	uint8_t peer_family;   /* AF_INET, AF_INET6, AF_UNIX */
	uint8_t engine_bits;   /* private to the engine */
	int err;	       /* why it ends, once known */
	uint16_t peer_port;    /* host order */
	uint16_t engine_ops;   /* io_uring: operations in flight */
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
};

/* A listening stream socket or a bound datagram socket of one worker. */
struct sock__listener {
	struct sock sock;
	const struct sock_service *svc;
	struct sock__worker *w;
	struct sock_addr addr;
	int index;   /* server-wide listener number */
	bool paused; /* accepting suspended (cap, EMFILE) */
	bool closed;
	int backoff_ms; /* EMFILE back-off, doubles up to 1 s */
	struct sock_timer resume;
	void *engine_data; /* private to the engine */
	uint32_t engine_bits;
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
	/* Accept connections or receive datagrams on l, until paused. */
	int (*listener_start)(struct sock__listener *l);
	void (*listener_pause)(struct sock__listener *l);
	/* Stop for good and close l's socket. */
	void (*listener_close)(struct sock__listener *l);
	/* Begin delivering c's input (c->fd is open, c is registered). */
	int (*conn_start)(struct sock_conn *c);
	/* Send or queue; see sock_conn_send.  Returns 0 or -errno; an
	 * error means the connection failed (the core closes it). */
	int (*conn_send)(struct sock_conn *c, const void *data, size_t len);
	/* c's socket took less than a producer offered (nothing is
	 * queued): call sock__conn_drained once it takes more.  Returns 0
	 * or -errno. */
	int (*conn_want_room)(struct sock_conn *c);
	/* Start or stop delivering c's input (flow control, linger). */
	void (*conn_reading)(struct sock_conn *c, bool on);
	/* Close c's descriptor; call sock__conn_release(c) once nothing of
	 * c is in flight any more (at once, or after cancellations). */
	void (*conn_close)(struct sock_conn *c);
	/* Queue a reply datagram on l to peer (copying data unless it lies
	 * in the receive buffer still held); sent before the next wait. */
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
	/* engine state */
	int epfd;
	void *engine;
	/* the server worker on this loop, or NULL */
	struct sock__worker *worker;
};

/* The server's end-of-batch work on a worker's loop (core.h). */
void sock__worker_after_batch(struct sock__worker *w);

/* Called by engines after each batch of events they dispatched. */
void sock__loop_after_batch(struct sock_loop *loop);

/* Update the loop's clock. */
void sock__loop_update_time(struct sock_loop *loop);

/* Wake loop from another thread or a signal handler. */
void sock__loop_wake(struct sock_loop *loop);

/* ---- delivered by the engines to the core ---- */

/* A connection was accepted on l (peer may be NULL: unknown). */
void sock__listener_accepted(struct sock__listener *l, int fd,
			     const struct sockaddr *peer, socklen_t peerlen);
/* accept() on l failed with err (EMFILE, ENFILE, ENOBUFS ...). */
void sock__listener_accept_failed(struct sock__listener *l, int err);
/* len bytes arrived on c; len 0 is end of stream. */
void sock__conn_received(struct sock_conn *c, const void *data, size_t len);
/* bytes of queued output were sent on c. */
void sock__conn_sent(struct sock_conn *c, size_t bytes);
/* c's queued output is all sent. */
void sock__conn_drained(struct sock_conn *c);
/* c failed with err (-ECONNRESET ...). */
void sock__conn_failed(struct sock_conn *c, int err);
/* The engine holds nothing of c any more: free it. */
void sock__conn_release(struct sock_conn *c);
/* A datagram arrived on l; flags are the recvmsg flags (MSG_TRUNC). */
void sock__dgram_received(struct sock__listener *l, const void *data,
			  size_t len, int flags, const struct sockaddr *peer,
			  socklen_t peerlen);

/* ---- output queue helpers for the engines (conn.c) ---- */

/* Append len bytes to c's queue.  Returns 0, or -ENOBUFS past the hard
 * limit, or -ENOMEM. */
int sock__outq_append(struct sock_conn *c, const void *data, size_t len);
/* Bytes queued on c. */
static inline size_t sock__outq_len(const struct sock_conn *c)
{
	return c->out ? c->out->tail - c->out->head : 0;
}
/* Mark n queued bytes of c sent; frees the queue when empty. */
void sock__outq_consume(struct sock_conn *c, size_t n);
/* The worker's output limit (where reading stops). */
size_t sock__conn_output_limit(const struct sock_conn *c);

#endif /* SOCK_ENGINE_H */

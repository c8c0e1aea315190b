/* SPDX-License-Identifier: MIT */
/* uring.h -- the io_uring engine's records, and what its files share */

/*
 * The io_uring engine in three files:
 *
 *   uring.c         the ring: submission, provided buffers, watches,
 *                   waiting and dispatching completions, the ops table
 *   uring_conn.c    stream connections: receiving, waiting for room,
 *                   closing (the core sends: see engine.h)
 *   uring_listen.c  listeners: accepting, receiving datagrams, replies
 *
 * Everything handed to the kernel (user_data) is ours and lives until its
 * last completion: watches and listeners have their own small records,
 * and a closed connection is released to the core only when no
 * operation on it is left.
 */

#ifndef SOCK_URING_H
#define SOCK_URING_H

#include "engine.h"

#ifdef SOCK_HAVE_URING

#include <liburing.h>

/* Replies are allocated this many at a time. */
#define SOCK__URING_POOL_CHUNK 64

/* Provided buffer groups. */
enum {
	SOCK__URING_BGID_STREAM = 0,
	SOCK__URING_BGID_DGRAM = 1,
};

/* user_data tags past the shared ones of engine.h */
enum {
	SOCK__URING_TAG_REPLY = 4,
	SOCK__URING_TAG_ROOM = 5,   /* a poll for room to send */
	SOCK__URING_TAG_IGNORE = 6, /* a cancellation that found nothing */
};

/* engine_bits of a connection */
enum {
	SOCK__URING_RECV = 1 << 0,    /* a receive is armed */
	SOCK__URING_MULTI = 1 << 1,   /* ... and it is multishot */
	SOCK__URING_CANCEL = 1 << 2,  /* ... and its cancellation is asked */
	SOCK__URING_ROOM = 1 << 3,    /* a poll for room is armed */
	SOCK__URING_HELD = 1 << 4,    /* input waits in held */
	SOCK__URING_STARVED = 1 << 5, /* receive ended for want of buffers */
	SOCK__URING_EOF = 1 << 6,     /* receive saw the end of stream */
	SOCK__URING_CLOSED = 1 << 7,  /* conn_close was called */
	SOCK__URING_GREEDY = 1 << 8,  /* emptied the ring: a buffer at a time */
};

/* A provided buffer ring and its buffers. */
struct sock__uring_bufs {
	struct io_uring_buf_ring *br;
	char *mem;
	uint16_t *refs; /* holders of each buffer we have */
	uint16_t *free; /* stack of free buffers */
	size_t len;	/* bytes per buffer */
	size_t stride;
	unsigned int count;  /* buffers, a power of two */
	unsigned int depth;  /* buffers to keep in the ring */
	unsigned int inring; /* buffers in the ring */
	unsigned int out;    /* buffers we have */
	unsigned int nfree;
	bool registered;     /* the kernel has the ring */
	bool starved;	     /* a receive found the ring empty */
	bool starved_lately; /* ... since the last trim */
	/* buffers taken in the batch under way, and the most in one batch
	 * since the last look at trimming */
	unsigned int batch_taken, peak_taken;
	int bgid;
	unsigned int depth0; /* the depth it started with */
	/* buffers that may hold pages (given to the kernel since their
	 * last trim), and how many */
	uint8_t *dirty;
	unsigned int ndirty;
};

/* A growable array of pointers, unordered. */
struct sock__uring_vec {
	void **v;
	size_t n, cap;
};

/* Input read ahead of the core and kept aside, in one of e->aside's
 * buffers (bid < 0: the end of stream). */
struct sock__uring_held {
	struct sock_conn *c;
	int32_t len;
	int32_t bid;
};

/* A listener's record, which outlives it until its last completion. */
struct sock__uring_lis {
	struct sock__listener *l; /* NULL once closed */
	int fd;			  /* closed with the record once l is */
	bool dgram, armed, canceling, starved;
	unsigned int ops;
	struct msghdr msg; /* recvmsg layout: name only */
};

/* A datagram reply in flight. */
struct sock__uring_reply {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage addr;
	struct sock__uring_lis *ul;
	struct sock__uring_bufs *g;
	int bid;
	char *copy;
	size_t copy_cap;
	struct sock__uring_reply *next;
};

/* The engine of one loop. */
struct sock__uring {
	struct io_uring ring;
	unsigned int inflight;		/* operations whose last CQE is due */
	struct sock__uring_vec watches; /* struct ur_watch */
	unsigned int watches_unarmed;	/* watches whose re-arm failed */
	/* provided buffers, and the one being handled, which a datagram
	 * reply may keep */
	struct sock__uring_bufs stream, dgram;
	/* buffers of our own for input kept aside (never the kernel's) */
	struct sock__uring_bufs aside;
	struct sock__uring_bufs *cur_g;
	int cur_bid;
	uintptr_t cur_lo, cur_hi;
	int64_t trim_ms; /* when buffers were last looked at for trimming */
	/* uring_conn.c */
	bool replay;		       /* held input may be deliverable */
	unsigned int nrecv;	       /* connections with a receive armed */
	struct sock__uring_held *held; /* in arrival order */
	size_t nheld, held_cap;
	struct sock__uring_vec starved; /* connections */
	struct sock__uring_vec closing; /* closed connections holding c->fd */
	/* uring_listen.c */
	struct sock__uring_vec lis;	     /* struct sock__uring_lis */
	struct sock__uring_vec reply_chunks; /* pool allocations */
	struct sock__uring_reply *free_reply;
	unsigned int nreply;
};

static inline struct sock__uring *sock__uring_of(const struct sock_loop *loop)
{
	return loop->engine;
}

static inline struct sock__uring *sock__uring_of_conn(const struct sock_conn *c)
{
	return sock__conn_loop(c)->engine;
}

static inline uint64_t sock__uring_key(const void *p, unsigned int tag)
{
	return (uint64_t)(uintptr_t)p | tag;
}

/* ---- engine_uring.c: containers, submission, provided buffers ---- */

int sock__uring_vec_push(struct sock__uring_vec *pv, void *p);
void sock__uring_vec_remove(struct sock__uring_vec *pv, const void *p);
/* SOCK__URING_POOL_CHUNK zeroed records of size bytes, recorded in
 * chunks. */
void *sock__uring_pool_chunk(struct sock__uring_vec *chunks, size_t size);

/* An SQE into *sqe, submitting the queue first if it is full.  Returns
 * 0, or the error of that submission (-EBUSY, -EAGAIN ...). */
int sock__uring_get_sqe(struct sock__uring *e, struct io_uring_sqe **sqe);

/* An operation whose completion matters: counted until its last CQE. */
static inline void sock__uring_submit_op(struct sock__uring *e,
					 struct io_uring_sqe *sqe,
					 const void *p, unsigned int tag)
{
	io_uring_sqe_set_data64(sqe, sock__uring_key(p, tag));
	e->inflight++;
}

/* Hand the kernel everything queued and run the completions due, so that
 * cancelled operations let go of their sockets now.  Returns 0, or a
 * negative code if SQEs may still be queued. */
int sock__uring_flush_now(struct sock__uring *e);
/* Cancel what user_data k names; only a failure to find it posts. */
void sock__uring_cancel(struct sock__uring *e, uint64_t k);

/* Set up g: count buffers of len bytes, depth of them in the ring of
 * group bgid (bgid < 0: buffers of our own, with no ring). */
int sock__uring_bufs_setup(struct sock__uring *e, struct sock__uring_bufs *g,
			   int bgid, unsigned int count, size_t len,
			   unsigned int depth);

static inline char *sock__uring_buf_addr(const struct sock__uring_bufs *g,
					 int bid)
{
	return g->mem + (size_t)bid * g->stride;
}

/* A buffer of e->aside (put back with sock__uring_buf_put), or -1 if
 * none is left. */
int sock__uring_aside_get(struct sock__uring *e);

/* A completion handed us buffer bid. */
static inline void sock__uring_buf_take(struct sock__uring_bufs *g, int bid)
{
	assert(g->inring > 0 && g->refs[bid] == 0);
	g->batch_taken++;
	g->inring--;
	g->out++;
	g->refs[bid] = 1;
}

static inline void sock__uring_buf_put(struct sock__uring_bufs *g, int bid)
{
	assert(g->refs[bid] > 0);
	if (--g->refs[bid])
		return;
	g->out--;
	g->free[g->nfree++] = (uint16_t)bid;
}

/* The buffer id a completion carries, or -1. */
static inline int sock__uring_cqe_bid(unsigned int flags)
{
	return flags & IORING_CQE_F_BUFFER
		       ? (int)(flags >> IORING_CQE_BUFFER_SHIFT)
		       : -1;
}

/* Mark buffer bid of g, holding len bytes at p, as being handled. */
static inline void sock__uring_cur_set(struct sock__uring *e,
				       struct sock__uring_bufs *g, int bid,
				       const char *p, size_t len)
{
	e->cur_g = g;
	e->cur_bid = bid;
	e->cur_lo = (uintptr_t)p;
	e->cur_hi = (uintptr_t)p + len;
}

static inline void sock__uring_cur_clear(struct sock__uring *e)
{
	e->cur_g = NULL;
	e->cur_lo = e->cur_hi = 0;
}

/* Whether [p, p + len) lies in the buffer being handled, which can take
 * one more holder. */
static inline bool sock__uring_in_cur(const struct sock__uring *e,
				      const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	return e->cur_g && len && a >= e->cur_lo && a + len <= e->cur_hi &&
	       e->cur_g->refs[e->cur_bid] < UINT16_MAX;
}

/* ---- uring_conn.c: stream connections ---- */

int sock__uring_conn_start(struct sock_conn *c);
void sock__uring_conn_reading(struct sock_conn *c);
int sock__uring_conn_want_room(struct sock_conn *c);
void sock__uring_conn_close(struct sock_conn *c);
/* A receive's completion. */
void sock__uring_recv_done(struct sock__uring *e, struct sock_conn *c, int res,
			   unsigned int flags);
/* The completion of a poll for room. */
void sock__uring_room_done(struct sock__uring *e, struct sock_conn *c, int res);
/* Re-arm the receives that ran out of buffers (the ring has some). */
void sock__uring_conn_refill(struct sock__uring *e);
/* Deliver input held for connections that want it again. */
void sock__uring_conn_replay(struct sock__uring *e);
/* The ring is gone: close what closed connections still hold. */
void sock__uring_conn_release(struct sock__uring *e);

/* ---- uring_listen.c: listeners and datagrams ---- */

int sock__uring_listener_start(struct sock__listener *l);
void sock__uring_listener_pause(struct sock__listener *l);
void sock__uring_listener_close(struct sock__listener *l);
int sock__uring_dgram_reply(struct sock__listener *l, const void *data,
			    size_t len, const struct sock_addr *peer);
/* An accept's or a datagram receive's completion. */
void sock__uring_lis_done(struct sock__uring *e, struct sock__uring_lis *ul,
			  int res, unsigned int flags);
/* A reply's completion. */
void sock__uring_reply_done(struct sock__uring *e, struct sock__uring_reply *r,
			    int res);
/* Re-arm the datagram receives that ran out of buffers. */
void sock__uring_lis_refill(struct sock__uring *e);
/* The ring is gone: free the listeners' records and the replies. */
void sock__uring_lis_release(struct sock__uring *e);

#endif /* SOCK_HAVE_URING */

#endif /* SOCK_URING_H */

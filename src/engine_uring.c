/* SPDX-License-Identifier: MIT */
/* engine_uring.c -- the io_uring engine: multishot accept and receive from a shared buffer ring, send SQEs */

#include "core.h"

#ifdef SOCK_HAVE_URING

#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * How it works.  Every stream connection has one receive armed while the
 * core wants its input, a multishot one (one buffer per SQE once flow
 * control or a close has slowed it); the kernel picks a buffer from a
 * ring shared by all connections of the loop, so an idle connection holds
 * no buffer.  A receive buffer stays ours while its data is handled and
 * while a send from it (an echo) is in flight, counted in refs[].  Each
 * connection has at most one send in flight, which keeps byte order; what
 * is sent meanwhile waits in c->out and goes out as one send when the
 * first completes.
 *
 * c->out is the core's view of pending output: it exists (possibly
 * empty) from the first send until everything handed to the kernel has
 * completed, so the core's orderly close waits for our sends, and it
 * holds the bytes not yet handed over, which flow control counts.  The
 * kernel never reads c->out itself: the core may grow or free it at any
 * time.  A send reads a receive buffer or a queue taken over from c->out,
 * both ours until the send's completion.
 *
 * Everything handed to the kernel (user_data) is ours and lives until its
 * last completion: watches and listeners have their own small records,
 * and a closed connection is released to the core only when no
 * operation on it is left.
 */

#define SQ_ENTRIES 512
#define CQ_ENTRIES 8192
/*
 * Stream receive buffers: one receive fills at most one, so a 16 KiB
 * message arrives in one piece.  Only as many as are in use at once get
 * touched (see the provided buffers below): the count bounds memory, the
 * first depth is what a quiet loop keeps in the ring.
 */
#define RX_COUNT 1024
#define RX_SIZE (16 * 1024)
#define RX_DEPTH 16
/* Data at least this long is sent from the receive buffer it lies in;
 * shorter is copied, which gives the buffer back at once. */
#define SEND_IN_PLACE_MIN 1024
/* Datagram receive buffers span at most this much memory. */
#define DGRAM_MEMORY (16u << 20)
#define DGRAM_MAX_COUNT 256
#define DGRAM_DEPTH 8
/* Output queues kept for reuse: a new one's capacity, and at most how
 * many, how large each and all together. */
#define OUTQ_SIZE 4096
#define OUTQ_CACHE 256
#define OUTQ_KEEP (256 * 1024)
#define OUTQ_CACHE_BYTES (2u << 20)
/* Datagram replies in flight at most, and the copy kept per slot. */
#define REPLY_MAX 4096
#define REPLY_KEEP 2048
/* Sends and replies are allocated this many at a time. */
#define POOL_CHUNK 64

enum { BGID_STREAM = 0, BGID_DGRAM = 1 };

/* user_data tags past the shared ones of engine.h */
enum {
	TAG_SEND = 3,
	TAG_REPLY = 4,
	TAG_IGNORE = 5, /* a cancellation that found nothing */
};

/* engine_bits of a connection */
enum {
	C_RECV = 1 << 0,    /* a receive is armed */
	C_SLOW = 1 << 1,    /* flow-controlled: one buffer at a time */
	C_SEND = 1 << 2,    /* a send is in flight */
	C_WANT = 1 << 3,    /* the core wants input */
	C_HELD = 1 << 4,    /* input waits in held[] */
	C_STARVED = 1 << 5, /* receive ended for want of buffers */
	C_EOF = 1 << 6,	    /* receive saw the end of stream */
	C_CLOSED = 1 << 7,  /* conn_close was called */
};

/* A provided buffer ring and its buffers. */
struct bufgroup {
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
	bool starved; /* a receive found the ring empty */
};

/* A growable array of pointers, unordered. */
struct ptrvec {
	void **v;
	size_t n, cap;
};

/* Input received while the core did not want it, in arrival order. */
struct held {
	struct sock_conn *c;
	int32_t res; /* bytes, 0 for end of stream */
	int32_t bid;
};

/* A send in flight: from a receive buffer, or from a queue we own. */
struct tx {
	struct sock_conn *c;
	const char *p;
	size_t len; /* bytes left */
	struct bufgroup *g;
	int bid;
	struct sock__outq *q;
	struct tx *next;
};

/* A listener's record, which outlives it until its last completion. */
struct ur_lis {
	struct sock__listener *l; /* NULL once closed */
	int fd;			  /* closed with the record once l is */
	bool dgram, armed, canceling, starved;
	unsigned int ops;
	/* connections accepted while paused, delivered on resume */
	int *fds;
	unsigned int nfds, fds_cap;
	struct msghdr msg; /* recvmsg layout: name only */
};

/* A datagram reply in flight. */
struct reply {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage addr;
	struct ur_lis *ul;
	struct bufgroup *g;
	int bid;
	char *copy;
	size_t copy_cap;
	struct reply *next;
};

/* A watch's record: the caller's struct may be gone before the poll's
 * last completion. */
struct ur_watch {
	struct sock_watch *w; /* NULL once unwatched */
	bool armed, busy;
};

struct uring_engine {
	struct io_uring ring;
	bool replay;	       /* held input or accepts may be deliverable */
	unsigned int inflight; /* operations whose last CQE is due */
	struct bufgroup stream, dgram;
	/* the receive buffer being handled, which sends may keep */
	struct bufgroup *cur_g;
	int cur_bid;
	uintptr_t cur_lo, cur_hi;
	struct held *held;
	size_t nheld, held_cap;
	struct ptrvec starved; /* connections */
	struct ptrvec rearm;   /* connections given held input */
	struct ptrvec closing; /* closed connections still holding c->fd */
	struct ptrvec lis;     /* struct ur_lis */
	struct ptrvec watches; /* struct ur_watch */
	struct ptrvec tx_chunks, reply_chunks; /* pool allocations */
	struct tx *free_tx;
	struct reply *free_reply;
	unsigned int nreply;
	struct sock__outq *outq[OUTQ_CACHE];
	unsigned int noutq;
	size_t outq_bytes;
};

static struct uring_engine *state(const struct sock_loop *loop)
{
	return loop->engine;
}

static struct uring_engine *conn_engine(const struct sock_conn *c)
{
	return c->lis->w->loop->engine;
}

static uint64_t key(const void *p, unsigned int tag)
{
	return (uint64_t)(uintptr_t)p | tag;
}

/* ---- small containers ---- */

static int vec_push(struct ptrvec *pv, void *p)
{
	size_t cap;
	void **v;

	if (pv->n == pv->cap) {
		cap = pv->cap ? 2 * pv->cap : 16;
		v = realloc(pv->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n++] = p;
	return 0;
}

static void vec_remove(struct ptrvec *pv, const void *p)
{
	size_t i;

	for (i = 0; i < pv->n; i++) {
		if (pv->v[i] == p) {
			pv->v[i] = pv->v[--pv->n];
			return;
		}
	}
}

/* An empty queue for c->out, or the buffer of a copied send.  Queues
 * that grew are kept too, so that bursts do not reallocate. */
static struct sock__outq *outq_get(struct uring_engine *e)
{
	struct sock__outq *q;

	if (e->noutq) {
		q = e->outq[--e->noutq];
		e->outq_bytes -= q->cap;
	} else {
		q = malloc(sizeof(*q) + OUTQ_SIZE);
		if (!q)
			return NULL;
		q->cap = OUTQ_SIZE;
	}
	q->head = q->tail = 0;
	return q;
}

static void outq_put(struct uring_engine *e, struct sock__outq *q)
{
	if (q->cap <= OUTQ_KEEP && e->noutq < OUTQ_CACHE &&
	    e->outq_bytes + q->cap <= OUTQ_CACHE_BYTES) {
		e->outq[e->noutq++] = q;
		e->outq_bytes += q->cap;
	} else {
		free(q);
	}
}

/* POOL_CHUNK zeroed records of size bytes, recorded in chunks. */
static void *pool_chunk(struct ptrvec *chunks, size_t size)
{
	void *chunk = calloc(POOL_CHUNK, size);

	if (chunk && vec_push(chunks, chunk)) {
		free(chunk);
		chunk = NULL;
	}
	return chunk;
}

static struct tx *tx_get(struct uring_engine *e)
{
	struct tx *tx;
	size_t i;

	if (!e->free_tx) {
		tx = pool_chunk(&e->tx_chunks, sizeof(*tx));
		if (!tx)
			return NULL;
		for (i = 0; i < POOL_CHUNK; i++) {
			tx[i].next = e->free_tx;
			e->free_tx = &tx[i];
		}
	}
	tx = e->free_tx;
	e->free_tx = tx->next;
	return tx;
}

/* ---- submission ---- */

static struct io_uring_sqe *get_sqe(struct uring_engine *e)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);

	if (sqe)
		return sqe;
	/* The submission queue is full: hand it to the kernel now. */
	if (io_uring_submit(&e->ring) < 0)
		return NULL;
	return io_uring_get_sqe(&e->ring);
}

/* An operation whose completion matters: counted until its last CQE. */
static void submit_op(struct uring_engine *e, struct io_uring_sqe *sqe,
		      const void *p, unsigned int tag)
{
	io_uring_sqe_set_data64(sqe, key(p, tag));
	e->inflight++;
}

/*
 * Hand the kernel everything queued and run the completions due, so that
 * cancelled operations let go of their sockets now.  Returns 0, or a
 * negative code if SQEs may still be queued.
 */
static int flush_now(struct uring_engine *e)
{
	int ret = io_uring_submit_and_get_events(&e->ring);

	return ret < 0 ? ret : 0;
}

/* Cancel what user_data k names; only a failure to find it posts. */
static void cancel(struct uring_engine *e, uint64_t k)
{
	struct io_uring_sqe *sqe = get_sqe(e);

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, k, 0);
	io_uring_sqe_set_data64(sqe, TAG_IGNORE);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* ---- provided buffers ---- */

/*
 * A buffer is in the kernel's ring, ours (refs > 0: being handled, or
 * sent from), or free.  The ring is kept only as deep as receives need,
 * from a LIFO stack of free buffers: the kernel takes a ring's buffers
 * in turn, so a ring holding them all would touch every page of them,
 * where this reuses the few recently freed (resident, cache-warm) ones.
 * A receive that finds the ring empty deepens it for the next time.
 */

static void group_free(struct bufgroup *g)
{
	if (g->br)
		munmap(g->br, g->count * sizeof(struct io_uring_buf));
	if (g->mem)
		munmap(g->mem, g->count * g->stride);
	free(g->refs);
	free(g->free);
	memset(g, 0, sizeof(*g));
}

static char *buf_addr(const struct bufgroup *g, int bid)
{
	return g->mem + (size_t)bid * g->stride;
}

/* Top the ring up to its depth from the free stack, and tell the
 * kernel. */
static void group_refill(struct bufgroup *g)
{
	unsigned int n = 0;
	uint16_t bid;

	if (g->starved) {
		g->starved = false;
		g->depth = 2 * g->depth < g->count ? 2 * g->depth : g->count;
	}
	while (g->inring < g->depth && g->nfree) {
		bid = g->free[--g->nfree];
		io_uring_buf_ring_add(g->br, buf_addr(g, bid),
				      (unsigned int)g->len, bid,
				      io_uring_buf_ring_mask(g->count),
				      (int)n++);
		g->inring++;
	}
	if (n)
		io_uring_buf_ring_advance(g->br, (int)n);
}

/*
 * count buffers of len bytes.  Buffers and their ring are anonymous
 * mappings: untouched pages cost nothing, a forked handler does not
 * inherit them (MADV_DONTFORK), and valgrind takes them as initialised,
 * as the kernel fills them unseen.
 */
static int group_setup(struct uring_engine *e, struct bufgroup *g, int bgid,
		       unsigned int count, size_t len, unsigned int depth)
{
	struct io_uring_buf_reg reg = { .ring_entries = count,
					.bgid = (uint16_t)bgid };
	size_t ring_bytes = count * sizeof(struct io_uring_buf);
	unsigned int i;
	int err;

	g->count = count;
	g->len = len;
	/* Aligned for the kernel's recvmsg header at a buffer's start. */
	g->stride = (len + 63) & ~(size_t)63;
	g->depth = depth;
	g->br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	g->mem = mmap(NULL, count * g->stride, PROT_READ | PROT_WRITE,
		      MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (g->br == MAP_FAILED)
		g->br = NULL;
	if (g->mem == MAP_FAILED)
		g->mem = NULL;
	g->refs = calloc(count, sizeof(*g->refs));
	g->free = calloc(count, sizeof(*g->free));
	if (!g->br || !g->mem || !g->refs || !g->free) {
		err = -ENOMEM;
		goto out_free;
	}
	madvise(g->br, ring_bytes, MADV_DONTFORK);
	madvise(g->mem, count * g->stride, MADV_DONTFORK);
	reg.ring_addr = (uint64_t)(uintptr_t)g->br;
	err = io_uring_register_buf_ring(&e->ring, &reg, 0);
	if (err)
		goto out_free;
	io_uring_buf_ring_init(g->br);
	for (i = 0; i < count; i++)
		g->free[g->nfree++] = (uint16_t)(count - 1 - i);
	group_refill(g);
	return 0;

out_free:
	group_free(g);
	return err;
}

/* A completion handed us buffer bid. */
static void buf_take(struct bufgroup *g, int bid)
{
	g->inring--;
	g->out++;
	g->refs[bid] = 1;
}

static void buf_put(struct bufgroup *g, int bid)
{
	if (--g->refs[bid])
		return;
	g->out--;
	g->free[g->nfree++] = (uint16_t)bid;
}

/* The buffer id a completion carries, or -1. */
static int cqe_bid(unsigned int flags)
{
	return flags & IORING_CQE_F_BUFFER
		       ? (int)(flags >> IORING_CQE_BUFFER_SHIFT)
		       : -1;
}

/* Mark buffer bid of g, holding len bytes at p, as being handled. */
static void cur_set(struct uring_engine *e, struct bufgroup *g, int bid,
		    const char *p, size_t len)
{
	e->cur_g = g;
	e->cur_bid = bid;
	e->cur_lo = (uintptr_t)p;
	e->cur_hi = (uintptr_t)p + len;
}

static void cur_clear(struct uring_engine *e)
{
	e->cur_g = NULL;
	e->cur_lo = e->cur_hi = 0;
}

/* Whether [p, p + len) lies in the buffer being handled, which can take
 * one more holder. */
static bool in_cur(const struct uring_engine *e, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	return e->cur_g && len && a >= e->cur_lo && a + len <= e->cur_hi &&
	       e->cur_g->refs[e->cur_bid] < UINT16_MAX;
}

/* ---- watches: one-shot polls, re-armed after the callback, which makes
 * them level-triggered (a multishot poll reports edges only) ---- */

static int watch_arm(struct uring_engine *e, struct ur_watch *uw)
{
	struct io_uring_sqe *sqe = get_sqe(e);

	if (!sqe)
		return -ENOMEM;
	io_uring_prep_poll_add(sqe, uw->w->fd, (unsigned int)uw->w->events);
	submit_op(e, sqe, uw, SOCK__TAG_WATCH);
	uw->armed = true;
	return 0;
}

static void watch_free(struct uring_engine *e, struct ur_watch *uw)
{
	vec_remove(&e->watches, uw);
	free(uw);
}

static int ur_watch_add(struct sock_loop *loop, struct sock_watch *w)
{
	struct uring_engine *e = state(loop);
	struct ur_watch *uw;
	struct stat st;
	int err;

	/* What epoll refuses at once: a bad descriptor, and files, which
	 * a poll would find ready for ever. */
	if (fstat(w->fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
		return -EPERM;
	uw = calloc(1, sizeof(*uw));
	if (!uw)
		return -ENOMEM;
	uw->w = w;
	err = vec_push(&e->watches, uw);
	if (!err)
		err = watch_arm(e, uw);
	if (err) {
		watch_free(e, uw);
		return err;
	}
	return 0;
}

static void ur_watch_del(struct sock_loop *loop, struct sock_watch *w)
{
	struct uring_engine *e = state(loop);
	struct ur_watch *uw;
	size_t i;

	for (i = 0; i < e->watches.n; i++) {
		uw = e->watches.v[i];
		if (uw->w != w)
			continue;
		uw->w = NULL;
		if (uw->armed)
			cancel(e, key(uw, SOCK__TAG_WATCH));
		else if (!uw->busy)
			watch_free(e, uw);
		return;
	}
}

static void watch_done(struct uring_engine *e, struct ur_watch *uw, int res)
{
	struct sock_watch *w = uw->w;

	uw->armed = false;
	e->inflight--;
	/* An error (the descriptor closed under us) ends the watch. */
	if (w && res >= 0) {
		uw->busy = true;
		w->cb(w, res, w->arg);
		uw->busy = false;
		if (uw->w && watch_arm(e, uw) == 0)
			return;
	}
	if (!uw->w)
		watch_free(e, uw);
}

/* ---- connections: receiving ---- */

static void conn_free(struct sock_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->engine_bits = 0;
	sock__conn_release(c);
}

/* A closed connection goes back to the core once nothing of it is in
 * flight. */
static void conn_settle(struct uring_engine *e, struct sock_conn *c)
{
	if (!(c->engine_bits & C_CLOSED) || c->engine_ops)
		return;
	vec_remove(&e->closing, c);
	conn_free(c);
}

static bool conn_gone(const struct sock_conn *c)
{
	return (c->engine_bits & C_CLOSED) ||
	       (c->state & (SOCK__CONN_PENDING | SOCK__CONN_DEAD));
}

/*
 * A multishot receive reads whatever arrives, as it arrives, into the
 * shared buffers; a peer that sends faster than it reads would have it
 * read ahead of flow control, a socket buffer's worth at a time.  A
 * connection that was flow-controlled therefore receives one buffer per
 * SQE until it keeps up again.
 */
static int recv_arm(struct uring_engine *e, struct sock_conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(e);

	if (!sqe)
		return -ENOMEM;
	if (c->engine_bits & C_SLOW)
		io_uring_prep_recv(sqe, c->fd, NULL, 0, 0);
	else
		io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID_STREAM;
	submit_op(e, sqe, c, SOCK__TAG_CONN);
	c->engine_bits |= C_RECV;
	c->engine_ops++;
	return 0;
}

/* Arm c's receive if the core wants input, none is armed, and none is
 * held or waits for buffers. */
static void recv_update(struct uring_engine *e, struct sock_conn *c)
{
	uint8_t busy = C_RECV | C_HELD | C_STARVED | C_EOF;
	int err;

	if (!(c->engine_bits & C_WANT) || (c->engine_bits & busy) ||
	    conn_gone(c) || !e->stream.br)
		return;
	err = recv_arm(e, c);
	if (err)
		sock__conn_failed(c, err);
}

/*
 * Keep input the core does not want yet.  Cancelling the receive is not
 * immediate: what arrives before the cancellation takes effect waits
 * here, buffers and all, in order.
 */
static void hold(struct uring_engine *e, struct sock_conn *c, int bid, int res)
{
	struct held *h;
	size_t cap;

	if (e->nheld == e->held_cap) {
		cap = e->held_cap ? 2 * e->held_cap : 64;
		h = realloc(e->held, cap * sizeof(*h));
		if (!h) {
			if (bid >= 0)
				buf_put(&e->stream, bid);
			sock__conn_failed(c, -ENOMEM);
			return;
		}
		e->held = h;
		e->held_cap = cap;
	}
	e->held[e->nheld++] = (struct held){ .c = c, .res = res, .bid = bid };
	c->engine_bits |= C_HELD;
	if (c->engine_bits & C_WANT)
		e->replay = true;
}

static void drop_held(struct uring_engine *e, struct sock_conn *c)
{
	size_t i, kept = 0;

	if (!(c->engine_bits & C_HELD))
		return;
	for (i = 0; i < e->nheld; i++) {
		if (e->held[i].c != c)
			e->held[kept++] = e->held[i];
		else if (e->held[i].bid >= 0)
			buf_put(&e->stream, e->held[i].bid);
	}
	e->nheld = kept;
	c->engine_bits &= (uint8_t)~C_HELD;
}

/* Receive one buffer per SQE from now on (see recv_arm). */
static void recv_slow(struct uring_engine *e, struct sock_conn *c)
{
	if (c->engine_bits & C_SLOW)
		return;
	c->engine_bits |= C_SLOW;
	if (c->engine_bits & C_RECV)
		cancel(e, key(c, SOCK__TAG_CONN));
}

/* Hand res bytes of buffer bid (or the end of stream) to the core. */
static void deliver(struct uring_engine *e, struct sock_conn *c, int bid,
		    int res)
{
	char *p;

	if (res == 0) {
		sock__conn_received(c, NULL, 0);
		return;
	}
	p = buf_addr(&e->stream, bid);
	cur_set(e, &e->stream, bid, p, (size_t)res);
	sock__conn_received(c, p, (size_t)res);
	cur_clear(e);
	buf_put(&e->stream, bid);
	/*
	 * Closing, with output to send first: input is dropped meanwhile,
	 * and read a buffer at a time, as epoll reads it.  Once the output
	 * is sent the core closes at once if nothing is left unread, else
	 * lingers; a multishot receive, reading all that arrives, would
	 * leave nothing unread while the peer still sends, and the close
	 * would reset the connection under the reply.
	 */
	if ((c->state & (SOCK__CONN_CLOSING | SOCK__CONN_LINGER)) ==
	    SOCK__CONN_CLOSING)
		recv_slow(e, c);
}

/* c's receive found no buffer: the ring is deepened, and c re-armed,
 * before the next wait. */
static void starve(struct uring_engine *e, struct sock_conn *c)
{
	e->stream.starved = true;
	if (vec_push(&e->starved, c) == 0)
		c->engine_bits |= C_STARVED;
}

static void recv_done(struct uring_engine *e, struct sock_conn *c, int res,
		      unsigned int flags)
{
	int bid = cqe_bid(flags);

	if (bid >= 0)
		buf_take(&e->stream, bid);
	if (!(flags & IORING_CQE_F_MORE)) {
		c->engine_bits &= (uint8_t)~C_RECV;
		c->engine_ops--;
		e->inflight--;
	}
	if (c->engine_bits & C_CLOSED) {
		if (bid >= 0)
			buf_put(&e->stream, bid);
		conn_settle(e, c);
		return;
	}
	if (res > 0 && bid < 0)
		res = -EIO;
	if (res == -ENOBUFS) {
		if (c->engine_bits & C_WANT)
			starve(e, c);
	} else if (res < 0 && res != -ECANCELED) {
		c->engine_bits |= C_EOF;
		sock__conn_failed(c, res);
	} else if (res >= 0) {
		if (res == 0)
			c->engine_bits |= C_EOF;
		/* Nothing left to send when more comes: the peer keeps up. */
		if (!c->out)
			c->engine_bits &= (uint8_t)~C_SLOW;
		if ((c->engine_bits & (C_WANT | C_HELD)) != C_WANT)
			hold(e, c, bid, res);
		else
			deliver(e, c, bid, res);
	}
	recv_update(e, c);
}

/* ---- connections: sending ---- */

static void tx_release(struct uring_engine *e, struct tx *tx)
{
	if (tx->g)
		buf_put(tx->g, tx->bid);
	if (tx->q)
		outq_put(e, tx->q);
	tx->g = NULL;
	tx->q = NULL;
	tx->next = e->free_tx;
	e->free_tx = tx;
}

static int tx_submit(struct uring_engine *e, struct sock_conn *c, struct tx *tx)
{
	struct io_uring_sqe *sqe = get_sqe(e);

	if (!sqe)
		return -ENOMEM;
	io_uring_prep_send(sqe, c->fd, tx->p, tx->len, MSG_NOSIGNAL);
	submit_op(e, sqe, tx, TAG_SEND);
	tx->c = c;
	c->engine_bits |= C_SEND;
	c->engine_ops++;
	return 0;
}

/*
 * Send what c->out holds: the send takes the queue over and c->out
 * becomes an empty one, so the core sees output pending until the send
 * completes.  That is spare, the queue the last send took, if any: a
 * busy connection's two queues take turns, filled and sent, and reach
 * their size once.
 */
static int send_queue(struct uring_engine *e, struct sock_conn *c,
		      struct sock__outq *spare)
{
	struct sock__outq *q = spare ? spare : outq_get(e);
	struct tx *tx = tx_get(e);
	int err = -ENOMEM;

	if (q && tx) {
		q->head = q->tail = 0;
		tx->q = c->out;
		tx->p = tx->q->data + tx->q->head;
		tx->len = tx->q->tail - tx->q->head;
		err = tx_submit(e, c, tx);
		if (!err) {
			c->out = q;
			return 0;
		}
		tx->q = NULL;
	}
	if (q)
		outq_put(e, q);
	if (tx)
		tx_release(e, tx);
	return err;
}

/* Send len bytes straight from the receive buffer being handled. */
static int send_in_place(struct uring_engine *e, struct sock_conn *c,
			 const void *data, size_t len)
{
	struct sock__outq *q = outq_get(e);
	struct tx *tx = tx_get(e);
	int err = -ENOMEM;

	if (q && tx) {
		tx->g = e->cur_g;
		tx->bid = e->cur_bid;
		tx->g->refs[tx->bid]++;
		tx->p = data;
		tx->len = len;
		err = tx_submit(e, c, tx);
		if (!err) {
			c->out = q;
			return 0;
		}
	}
	if (q)
		outq_put(e, q);
	if (tx)
		tx_release(e, tx);
	return err;
}

/*
 * An echo of a large message sends from the buffer it received into,
 * without a copy, while buffers are plentiful; past half of them out,
 * data is copied so that peers slow to read cannot pin them all.
 */
static bool send_in_place_ok(const struct uring_engine *e, const void *data,
			     size_t len)
{
	return len >= SEND_IN_PLACE_MIN && in_cur(e, data, len) &&
	       2 * e->cur_g->out <= e->cur_g->count;
}

static int ur_conn_send(struct sock_conn *c, const void *data, size_t len)
{
	struct uring_engine *e = conn_engine(c);
	bool sending = c->engine_bits & C_SEND;
	int err;

	if (!sending && !c->out && send_in_place_ok(e, data, len))
		return send_in_place(e, c, data, len);
	if (!c->out) {
		c->out = outq_get(e);
		if (!c->out)
			return -ENOMEM;
	}
	err = sock__outq_append(c, data, len);
	if (!err && !sending)
		err = send_queue(e, c, NULL);
	if (err && !sending && !sock__outq_len(c)) {
		outq_put(e, c->out);
		c->out = NULL;
	}
	return err;
}

static void send_done(struct uring_engine *e, struct tx *tx, int res)
{
	struct sock_conn *c = tx->c;
	struct sock__outq *spare;
	int err;

	c->engine_ops--;
	e->inflight--;
	/* A short send: the rest goes out from where it stopped. */
	if (res > 0 && (size_t)res < tx->len && !conn_gone(c)) {
		sock__conn_sent(c, (size_t)res);
		tx->p += res;
		tx->len -= (size_t)res;
		err = tx_submit(e, c, tx);
		if (!err)
			return;
		res = err;
	}
	spare = tx->q;
	tx->q = NULL;
	tx_release(e, tx);
	c->engine_bits &= (uint8_t)~C_SEND;
	if (res > 0 && !conn_gone(c)) {
		sock__conn_sent(c, (size_t)res);
		if (sock__outq_len(c)) {
			err = send_queue(e, c, spare);
			if (err)
				sock__conn_failed(c, err);
			return;
		}
		outq_put(e, c->out);
		c->out = NULL;
		sock__conn_drained(c);
	} else if (!conn_gone(c)) {
		sock__conn_failed(c, res ? res : -EPIPE);
	}
	/* Closing (after this batch, or now): the rest is dropped. */
	if (spare)
		outq_put(e, spare);
	conn_settle(e, c);
}

/* ---- connections: lifecycle ---- */

static int ur_conn_start(struct sock_conn *c)
{
	struct uring_engine *e = conn_engine(c);
	int err;

	if (!e->stream.br) {
		err = group_setup(e, &e->stream, BGID_STREAM, RX_COUNT, RX_SIZE,
				  RX_DEPTH);
		if (err)
			return err;
	}
	if (c->state & (SOCK__CONN_READING | SOCK__CONN_LINGER))
		c->engine_bits |= C_WANT;
	else
		c->engine_bits &= (uint8_t)~C_WANT;
	if ((c->engine_bits & (C_WANT | C_RECV)) == C_WANT)
		return recv_arm(e, c);
	return 0;
}

/*
 * Flow control cancels the receive rather than holding its completions:
 * a multishot receive left armed would keep taking shared buffers for a
 * peer we do not read, and starve every other connection of the loop.
 * Cancelled, the peer's data waits in its socket and TCP slows it down.
 */
static void ur_conn_reading(struct sock_conn *c, bool on)
{
	struct uring_engine *e = conn_engine(c);

	if (!on) {
		c->engine_bits &= (uint8_t)~C_WANT;
		recv_slow(e, c);
		return;
	}
	c->engine_bits |= C_WANT;
	if (c->engine_bits & C_HELD)
		e->replay = true;
	recv_update(e, c);
}

/*
 * Cancel everything on c and close its descriptor at once.  An operation
 * keeps its socket open until its completion has run, and the loop may
 * stop right after this close (its last connection gone), so the
 * cancellation is submitted and run now.  Should that fail, queued
 * operations still name the descriptor, whose number must not be reused
 * before they are submitted: it is shut down, which ends them, and
 * closed with their last completion.  c goes back to the core then.
 */
static void ur_conn_close(struct sock_conn *c)
{
	struct uring_engine *e = conn_engine(c);
	struct io_uring_sqe *sqe;

	drop_held(e, c);
	if (c->engine_bits & C_STARVED)
		vec_remove(&e->starved, c);
	c->engine_bits =
		(uint8_t)((c->engine_bits & (C_RECV | C_SEND)) | C_CLOSED);
	if (!c->engine_ops) {
		conn_free(c);
		return;
	}
	sqe = get_sqe(e);
	if (sqe) {
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, TAG_IGNORE);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		if (flush_now(e) == 0) {
			close(c->fd);
			c->fd = -1;
			return;
		}
	}
	shutdown(c->fd, SHUT_RDWR);
	/* Recorded to be closed by release, should the loop end first. */
	vec_push(&e->closing, c);
}

/* ---- listeners ---- */

static struct ur_lis *lis_new(struct uring_engine *e, struct sock__listener *l)
{
	struct ur_lis *ul = calloc(1, sizeof(*ul));

	if (!ul)
		return NULL;
	if (vec_push(&e->lis, ul)) {
		free(ul);
		return NULL;
	}
	ul->l = l;
	ul->fd = l->sock.fd;
	ul->dgram = l->sock.type == SOCK_DGRAM;
	ul->msg.msg_namelen = sizeof(struct sockaddr_storage);
	l->engine_data = ul;
	return ul;
}

static void lis_free(struct uring_engine *e, struct ur_lis *ul)
{
	unsigned int i;

	for (i = 0; i < ul->nfds; i++)
		close(ul->fds[i]);
	if (!ul->l && ul->fd >= 0)
		close(ul->fd);
	if (ul->l)
		ul->l->engine_data = NULL;
	vec_remove(&e->lis, ul);
	free(ul->fds);
	free(ul);
}

/* A closed listener's record goes with its last completion. */
static void lis_settle(struct uring_engine *e, struct ur_lis *ul)
{
	if (!ul->l && !ul->ops)
		lis_free(e, ul);
}

static bool lis_active(const struct ur_lis *ul)
{
	return ul->l && !ul->l->paused && !ul->l->closed;
}

static int lis_arm(struct uring_engine *e, struct ur_lis *ul)
{
	struct io_uring_sqe *sqe = get_sqe(e);

	if (!sqe)
		return -ENOMEM;
	if (ul->dgram) {
		io_uring_prep_recvmsg_multishot(sqe, ul->fd, &ul->msg, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID_DGRAM;
	} else {
		io_uring_prep_multishot_accept(sqe, ul->fd, NULL, NULL,
					       SOCK_NONBLOCK | SOCK_CLOEXEC);
	}
	submit_op(e, sqe, ul, SOCK__TAG_LISTENER);
	ul->armed = true;
	ul->ops++;
	return 0;
}

static void lis_cancel(struct uring_engine *e, struct ur_lis *ul)
{
	if (!ul->armed || ul->canceling)
		return;
	cancel(e, key(ul, SOCK__TAG_LISTENER));
	ul->canceling = true;
}

/* Sizes the datagram buffers for the server's largest datagram, exactly
 * (a longer one is truncated, and dropped): its payload, the sender's
 * address and the kernel's header. */
static int dgram_setup(struct uring_engine *e, size_t max_datagram)
{
	size_t len = sizeof(struct io_uring_recvmsg_out) +
		     sizeof(struct sockaddr_storage) + max_datagram;
	unsigned int count = 2;

	while (count < DGRAM_MAX_COUNT && 2 * count * len <= DGRAM_MEMORY)
		count *= 2;
	return group_setup(e, &e->dgram, BGID_DGRAM, count, len,
			   count < DGRAM_DEPTH ? count : DGRAM_DEPTH);
}

static int ur_listener_start(struct sock__listener *l)
{
	struct uring_engine *e = state(l->w->loop);
	struct ur_lis *ul = l->engine_data;
	int err;

	if (!ul) {
		ul = lis_new(e, l);
		if (!ul)
			return -ENOMEM;
	}
	if (ul->dgram && !e->dgram.br) {
		err = dgram_setup(e, l->w->srv->cfg.max_datagram);
		if (err)
			return err;
	}
	if (ul->nfds)
		e->replay = true;
	/* Armed still (a pause's cancellation under way): the last
	 * completion re-arms, as l is then active. */
	if (ul->armed)
		return 0;
	return lis_arm(e, ul);
}

static void ur_listener_pause(struct sock__listener *l)
{
	struct ur_lis *ul = l->engine_data;

	if (ul)
		lis_cancel(state(l->w->loop), ul);
}

static void ur_listener_close(struct sock__listener *l)
{
	struct uring_engine *e = state(l->w->loop);
	struct ur_lis *ul = l->engine_data;

	if (ul) {
		lis_cancel(e, ul);
		ul->l = NULL;
		l->engine_data = NULL;
		for (; ul->nfds; ul->nfds--)
			close(ul->fds[ul->nfds - 1]);
		/* As for connections: the socket is closed at once, once the
		 * cancellation has run (new connections are refused). */
		if (ul->ops && flush_now(e)) {
			ul->fd = sock_detach(&l->sock);
			return;
		}
		ul->fd = -1;
		lis_settle(e, ul);
	}
	sock_close(&l->sock);
}

/* Keep a connection accepted after a pause was asked for, until resume:
 * the cap must hold, and nothing is refused. */
static void stash_fd(struct ur_lis *ul, int fd)
{
	unsigned int cap;
	int *fds;

	if (ul->nfds == ul->fds_cap) {
		cap = ul->fds_cap ? 2 * ul->fds_cap : 8;
		fds = realloc(ul->fds, cap * sizeof(*fds));
		if (!fds) {
			close(fd);
			return;
		}
		ul->fds = fds;
		ul->fds_cap = cap;
	}
	ul->fds[ul->nfds++] = fd;
}

/* accept(2) reports the errors of connections that died in the queue;
 * they are that connection's, not the listener's. */
static bool accept_error_is_transient(int err)
{
	return err == ECONNABORTED || err == EPROTO || err == EINTR ||
	       err == ENETDOWN || err == ENOPROTOOPT || err == EHOSTDOWN ||
	       err == ENONET || err == EHOSTUNREACH || err == ENETUNREACH ||
	       err == EOPNOTSUPP;
}

/* After a listener's operation ended: re-arm it if it is active. */
static void lis_rearm(struct uring_engine *e, struct ur_lis *ul)
{
	int err;

	if (ul->armed || !lis_active(ul))
		return;
	err = lis_arm(e, ul);
	if (err && ul->dgram)
		ul->starved = true; /* tried again before the next wait */
	else if (err)
		sock__listener_accept_failed(ul->l, err);
}

static void accept_done(struct ur_lis *ul, int res)
{
	struct sock__listener *l = ul->l;

	if (!l) {
		if (res >= 0)
			close(res);
		return;
	}
	if (res >= 0) {
		if (l->paused)
			stash_fd(ul, res);
		else
			sock__listener_accepted(l, res, NULL, 0);
	} else if (res != -ECANCELED && !accept_error_is_transient(-res)) {
		/* EMFILE and the like: the core backs off, pausing l,
		 * and its resume re-arms. */
		sock__listener_accept_failed(l, res);
	}
}

static void dgram_done(struct uring_engine *e, struct ur_lis *ul, int res,
		       int bid)
{
	struct io_uring_recvmsg_out *o;
	struct sockaddr *name;
	char *buf;

	if (res == -ENOBUFS) {
		e->dgram.starved = true;
		ul->starved = true;
		return;
	}
	if (res < 0 || bid < 0 || !ul->l || ul->l->closed)
		return;
	buf = buf_addr(&e->dgram, bid);
	o = io_uring_recvmsg_validate(buf, res, &ul->msg);
	if (!o)
		return;
	name = io_uring_recvmsg_name(o);
	cur_set(e, &e->dgram, bid, io_uring_recvmsg_payload(o, &ul->msg),
		io_uring_recvmsg_payload_length(o, res, &ul->msg));
	sock__dgram_received(ul->l, (const void *)e->cur_lo,
			     e->cur_hi - e->cur_lo, (int)o->flags, name,
			     o->namelen < sizeof(struct sockaddr_storage)
				     ? o->namelen
				     : sizeof(struct sockaddr_storage));
	cur_clear(e);
}

static void lis_done(struct uring_engine *e, struct ur_lis *ul, int res,
		     unsigned int flags)
{
	int bid = cqe_bid(flags);

	if (!(flags & IORING_CQE_F_MORE)) {
		ul->armed = ul->canceling = false;
		ul->ops--;
		e->inflight--;
	}
	if (ul->dgram) {
		if (bid >= 0)
			buf_take(&e->dgram, bid);
		dgram_done(e, ul, res, bid);
		if (bid >= 0)
			buf_put(&e->dgram, bid);
	} else {
		accept_done(ul, res);
	}
	if (!ul->l) {
		lis_settle(e, ul);
		return;
	}
	if (!ul->starved)
		lis_rearm(e, ul);
}

/* ---- datagram replies ---- */

static struct reply *reply_get(struct uring_engine *e)
{
	struct reply *r;
	size_t i;

	if (!e->free_reply) {
		if (e->nreply >= REPLY_MAX)
			return NULL;
		r = pool_chunk(&e->reply_chunks, sizeof(*r));
		if (!r)
			return NULL;
		for (i = 0; i < POOL_CHUNK; i++) {
			r[i].next = e->free_reply;
			e->free_reply = &r[i];
		}
		e->nreply += POOL_CHUNK;
	}
	r = e->free_reply;
	e->free_reply = r->next;
	r->g = NULL;
	return r;
}

static void reply_put(struct uring_engine *e, struct reply *r)
{
	if (r->g)
		buf_put(r->g, r->bid);
	if (r->copy_cap > REPLY_KEEP) {
		free(r->copy);
		r->copy = NULL;
		r->copy_cap = 0;
	}
	r->next = e->free_reply;
	e->free_reply = r;
}

/* Point r at len bytes of data: in place if they lie in the datagram
 * being handled, else copied into r. */
static int reply_fill(struct uring_engine *e, struct reply *r, const void *data,
		      size_t len)
{
	char *copy;

	r->iov.iov_len = len;
	r->iov.iov_base = NULL;
	if (in_cur(e, data, len)) {
		r->g = e->cur_g;
		r->bid = e->cur_bid;
		r->g->refs[r->bid]++;
		r->iov.iov_base = (void *)data;
		return 0;
	}
	if (!len)
		return 0;
	if (len > r->copy_cap) {
		copy = realloc(r->copy, len);
		if (!copy)
			return -ENOBUFS;
		r->copy = copy;
		r->copy_cap = len;
	}
	memcpy(r->copy, data, len);
	r->iov.iov_base = r->copy;
	return 0;
}

/* Replies are sendmsg SQEs, handed to the kernel with the next wait, in
 * the loop iteration that received their datagrams. */
static int ur_dgram_reply(struct sock__listener *l, const void *data,
			  size_t len, const struct sock_addr *peer)
{
	struct uring_engine *e = state(l->w->loop);
	struct ur_lis *ul = l->engine_data;
	struct io_uring_sqe *sqe;
	struct reply *r;

	if (!ul)
		return -EBADF;
	r = reply_get(e);
	if (!r)
		return -ENOBUFS;
	if (reply_fill(e, r, data, len) || !(sqe = get_sqe(e))) {
		reply_put(e, r);
		return -ENOBUFS;
	}
	memcpy(&r->addr, &peer->u, peer->len);
	memset(&r->msg, 0, sizeof(r->msg));
	r->msg.msg_name = &r->addr;
	r->msg.msg_namelen = peer->len;
	r->msg.msg_iov = &r->iov;
	r->msg.msg_iovlen = 1;
	r->ul = ul;
	/* MSG_DONTWAIT: a full socket drops the reply, as epoll does,
	 * rather than parking it until there is room. */
	io_uring_prep_sendmsg(sqe, ul->fd, &r->msg,
			      MSG_NOSIGNAL | MSG_DONTWAIT);
	submit_op(e, sqe, r, TAG_REPLY);
	ul->ops++;
	return 0;
}

static void reply_done(struct uring_engine *e, struct reply *r, int res)
{
	struct ur_lis *ul = r->ul;

	ul->ops--;
	e->inflight--;
	if (res < 0 && ul->l)
		sock__report(ul->l->w, SOCK__REPORT_OVERFLOW, ul->l->svc->name,
			     NULL, res);
	reply_put(e, r);
	lis_settle(e, ul);
}

/* ---- waiting ---- */

/* Deliver input held for connections that want it again, and
 * connections accepted while their listener was paused. */
static void replay(struct uring_engine *e)
{
	size_t i, n = e->nheld, kept = 0;
	struct ur_lis *ul;
	struct held h;
	int fd;

	e->replay = false;
	for (i = 0; i < n; i++)
		e->held[i].c->engine_bits &= (uint8_t)~C_HELD;
	/* C_HELD now marks a connection with an earlier entry kept. */
	for (i = 0; i < n; i++) {
		h = e->held[i];
		if ((h.c->engine_bits & (C_WANT | C_HELD)) != C_WANT) {
			h.c->engine_bits |= C_HELD;
			e->held[kept++] = h;
			continue;
		}
		deliver(e, h.c, h.bid, h.res);
		if (vec_push(&e->rearm, h.c))
			sock__conn_failed(h.c, -ENOMEM);
	}
	e->nheld = kept;
	/* Receives resume once all that was held is delivered. */
	for (i = 0; i < e->rearm.n; i++)
		recv_update(e, e->rearm.v[i]);
	e->rearm.n = 0;
	for (i = 0; i < e->lis.n; i++) {
		ul = e->lis.v[i];
		while (ul->nfds && lis_active(ul)) {
			fd = ul->fds[0];
			memmove(ul->fds, ul->fds + 1,
				--ul->nfds * sizeof(*ul->fds));
			sock__listener_accepted(ul->l, fd, NULL, 0);
		}
	}
}

/* Give the kernel back the buffers we are done with, and re-arm the
 * receives that ran out of them. */
static void refill(struct uring_engine *e)
{
	struct sock_conn *c;
	struct ur_lis *ul;
	size_t i;

	if (e->stream.br) {
		group_refill(&e->stream);
		while (e->starved.n && e->stream.inring) {
			c = e->starved.v[--e->starved.n];
			c->engine_bits &= (uint8_t)~C_STARVED;
			recv_update(e, c);
		}
	}
	if (e->dgram.br) {
		group_refill(&e->dgram);
		for (i = 0; i < e->lis.n; i++) {
			ul = e->lis.v[i];
			if (ul->starved && e->dgram.inring) {
				ul->starved = false;
				lis_rearm(e, ul);
			}
		}
	}
}

static void dispatch(struct uring_engine *e, const struct io_uring_cqe *cqe)
{
	void *p =
		(void *)(uintptr_t)(cqe->user_data & ~(uint64_t)SOCK__TAG_MASK);

	switch (cqe->user_data & SOCK__TAG_MASK) {
	case SOCK__TAG_WATCH:
		watch_done(e, p, cqe->res);
		break;
	case SOCK__TAG_LISTENER:
		lis_done(e, p, cqe->res, cqe->flags);
		break;
	case SOCK__TAG_CONN:
		recv_done(e, p, cqe->res, cqe->flags);
		break;
	case TAG_SEND:
		send_done(e, p, cqe->res);
		break;
	case TAG_REPLY:
		reply_done(e, p, cqe->res);
		break;
	}
}

/* Take the next completion off the ring into *out. */
static bool next_cqe(struct uring_engine *e, struct io_uring_cqe *out)
{
	struct io_uring_cqe *cqe;
	unsigned int head;

	io_uring_for_each_cqe(&e->ring, head, cqe)
	{
		*out = *cqe;
		io_uring_cq_advance(&e->ring, 1);
		return true;
	}
	return false;
}

static int ur_wait(struct sock_loop *loop, int timeout_ms)
{
	struct uring_engine *e = state(loop);
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe, c;
	unsigned int n;
	int ret;

	if (e->replay)
		timeout_ms = 0;
	refill(e);
	/* One system call submits what the last batch queued and waits. */
	if (timeout_ms == 0) {
		ret = io_uring_submit_and_get_events(&e->ring);
	} else if (timeout_ms < 0) {
		ret = io_uring_submit_and_wait(&e->ring, 1);
	} else {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
		ret = io_uring_submit_and_wait_timeout(&e->ring, &cqe, 1, &ts,
						       NULL);
	}
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN &&
	    ret != -EBUSY)
		return ret;
	sock__loop_update_time(loop);
	/* Bounded, as handling may add completions (sends that complete
	 * at once when a full queue is submitted). */
	for (n = 0; n < CQ_ENTRIES && next_cqe(e, &c); n++)
		dispatch(e, &c);
	if (e->replay)
		replay(e);
	sock__loop_after_batch(loop);
	return 0;
}

/* ---- the ring ---- */

#define NEEDED_FEATURES                                                        \
	(IORING_FEAT_FAST_POLL | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG)

/*
 * Completions run cooperatively, when the loop's thread enters the
 * kernel (no interrupt of it to run them), and any thread may submit: a
 * loop made by one thread and run by another, or freed by a third, needs
 * nothing special.  Deferring them to the wait of a single submitter
 * (Linux 6.1) measured no faster here, and would tie a loop to a thread.
 */
static int ring_setup(struct uring_engine *e)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
			 IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL,
		.cq_entries = CQ_ENTRIES,
	};
	int err;

	err = io_uring_queue_init_params(SQ_ENTRIES, &e->ring, &p);
	if (err)
		return err;
	if ((p.features & NEEDED_FEATURES) != NEEDED_FEATURES) {
		io_uring_queue_exit(&e->ring);
		return -ENOSYS;
	}
	return 0;
}

/* The operations used, and one of Linux 6.0 (zero-copy send), whose
 * presence vouches for multishot receive of the same release: older
 * kernels are refused, and the loop falls back to epoll. */
static int probe_ops(struct uring_engine *e)
{
	static const int ops[] = {
		IORING_OP_POLL_ADD, IORING_OP_ACCEPT,  IORING_OP_ASYNC_CANCEL,
		IORING_OP_SEND,	    IORING_OP_RECV,    IORING_OP_SENDMSG,
		IORING_OP_RECVMSG,  IORING_OP_SEND_ZC,
	};
	struct io_uring_probe *probe = io_uring_get_probe_ring(&e->ring);
	size_t i;
	int err = 0;

	if (!probe)
		return -ENOSYS;
	for (i = 0; i < SOCK_ARRAY_SIZE(ops); i++)
		if (!io_uring_opcode_supported(probe, ops[i]))
			err = -ENOSYS;
	io_uring_free_probe(probe);
	return err;
}

static int ur_init(struct sock_loop *loop)
{
	struct uring_engine *e = calloc(1, sizeof(*e));
	int err;

	if (!e)
		return -ENOMEM;
	err = ring_setup(e);
	if (!err) {
		err = probe_ops(e);
		if (err)
			io_uring_queue_exit(&e->ring);
	}
	if (err) {
		free(e);
		return err;
	}
	/* The rings stay mapped across fork(): a server may be made, then
	 * run in a child (daemons do).  The buffers, made by the process
	 * that runs the loop, are not inherited. */
	loop->engine = e;
	return 0;
}

/*
 * Cancel everything and wait (bounded) for the last completions, so the
 * kernel holds nothing of ours when it is freed.
 */
static void drain(struct uring_engine *e)
{
	struct __kernel_timespec ts = { .tv_nsec = 100 * 1000000 };
	struct io_uring_cqe *cqe, c;
	struct io_uring_sqe *sqe;
	int64_t deadline = sock__now_ns() + 1000000000;
	int ret;

	if (!e->inflight)
		return;
	sqe = get_sqe(e);
	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, TAG_IGNORE);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	while (e->inflight && sock__now_ns() < deadline) {
		ret = io_uring_submit_and_wait_timeout(&e->ring, &cqe, 1, &ts,
						       NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR)
			return;
		while (next_cqe(e, &c))
			if ((c.user_data & SOCK__TAG_MASK) < TAG_IGNORE &&
			    !(c.flags & IORING_CQE_F_MORE))
				e->inflight--;
	}
}

/* Free the pools, with what sends and replies still in flight hold. */
static void pools_free(struct uring_engine *e)
{
	struct reply *r;
	struct tx *tx;
	size_t i, j;

	for (i = 0; i < e->tx_chunks.n; i++) {
		tx = e->tx_chunks.v[i];
		for (j = 0; j < POOL_CHUNK; j++)
			free(tx[j].q);
		free(tx);
	}
	for (i = 0; i < e->reply_chunks.n; i++) {
		r = e->reply_chunks.v[i];
		for (j = 0; j < POOL_CHUNK; j++)
			free(r[j].copy);
		free(r);
	}
	free(e->tx_chunks.v);
	free(e->reply_chunks.v);
}

static void ur_release(struct sock_loop *loop)
{
	struct uring_engine *e = state(loop);
	struct sock_conn *c;
	size_t i;

	drain(e);
	io_uring_queue_exit(&e->ring);
	for (i = 0; i < e->closing.n; i++) {
		c = e->closing.v[i];
		close(c->fd);
		c->fd = -1;
	}
	while (e->lis.n)
		lis_free(e, e->lis.v[e->lis.n - 1]);
	for (i = 0; i < e->watches.n; i++)
		free(e->watches.v[i]);
	pools_free(e);
	for (i = 0; i < e->noutq; i++)
		free(e->outq[i]);
	group_free(&e->stream);
	group_free(&e->dgram);
	free(e->held);
	free(e->starved.v);
	free(e->rearm.v);
	free(e->closing.v);
	free(e->lis.v);
	free(e->watches.v);
	free(e);
	loop->engine = NULL;
}

const struct sock__engine sock__engine_uring = {
	.kind = SOCK_ENGINE_URING,
	.init = ur_init,
	.release = ur_release,
	.wait = ur_wait,
	.watch_add = ur_watch_add,
	.watch_del = ur_watch_del,
	.listener_start = ur_listener_start,
	.listener_pause = ur_listener_pause,
	.listener_close = ur_listener_close,
	.conn_start = ur_conn_start,
	.conn_send = ur_conn_send,
	.conn_reading = ur_conn_reading,
	.conn_close = ur_conn_close,
	.dgram_reply = ur_dgram_reply,
};

#else /* !SOCK_HAVE_URING */

/* Built without liburing: every loop asked for io_uring uses epoll. */
static int ur_init(struct sock_loop *loop)
{
	(void)loop;
	return -ENOSYS;
}

const struct sock__engine sock__engine_uring = {
	.kind = SOCK_ENGINE_URING,
	.init = ur_init,
};

#endif /* SOCK_HAVE_URING */

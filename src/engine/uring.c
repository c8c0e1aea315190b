/* SPDX-License-Identifier: MIT */
/* uring.c -- the io_uring engine: the ring, buffers, waiting */

#include "uring.h"

#ifdef SOCK_HAVE_URING

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The engine's files are listed in uring.h.  This one owns the ring:
 * what is queued goes to the kernel with the loop's next wait, in one
 * system call with the wait, and the completions that come back are
 * dispatched by their user_data tag to the file of their operation.
 */

#define SQ_ENTRIES 512
#define CQ_ENTRIES 8192

/* ---- small containers ---- */

int sock__uring_vec_push(struct sock__uring_vec *pv, void *p)
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

void sock__uring_vec_remove(struct sock__uring_vec *pv, const void *p)
{
	size_t i;

	for (i = 0; i < pv->n; i++) {
		if (pv->v[i] == p) {
			pv->v[i] = pv->v[--pv->n];
			return;
		}
	}
}

void *sock__uring_pool_chunk(struct sock__uring_vec *chunks, size_t size)
{
	void *chunk = calloc(SOCK__URING_POOL_CHUNK, size);

	if (chunk && sock__uring_vec_push(chunks, chunk)) {
		free(chunk);
		chunk = NULL;
	}
	return chunk;
}

/* ---- submission ---- */

int sock__uring_get_sqe(struct sock__uring *e, struct io_uring_sqe **sqe)
{
	int ret;

	*sqe = io_uring_get_sqe(&e->ring);
	if (*sqe)
		return 0;
	/* The submission queue is full: hand it to the kernel now. */
	ret = io_uring_submit(&e->ring);
	if (ret < 0)
		return ret;
	*sqe = io_uring_get_sqe(&e->ring);
	return *sqe ? 0 : -EBUSY;
}

int sock__uring_flush_now(struct sock__uring *e)
{
	int ret = io_uring_submit_and_get_events(&e->ring);

	return ret < 0 ? ret : 0;
}

void sock__uring_cancel(struct sock__uring *e, uint64_t k)
{
	struct io_uring_sqe *sqe;

	if (sock__uring_get_sqe(e, &sqe))
		return;
	io_uring_prep_cancel64(sqe, k, 0);
	io_uring_sqe_set_data64(sqe, SOCK__URING_TAG_IGNORE);
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

static void group_free(struct sock__uring_bufs *g)
{
	if (g->br)
		munmap(g->br, g->count * sizeof(struct io_uring_buf));
	if (g->mem)
		munmap(g->mem, g->count * g->stride);
	free(g->refs);
	free(g->free);
	free(g->dirty);
	memset(g, 0, sizeof(*g));
}

/*
 * Top the ring up to its depth from the free stack, and tell the kernel.
 * A starved receive doubles the depth, up to max_depth: twice the
 * receives that can take from it (a multishot receive in a flood would
 * otherwise take every buffer of the ring in each batch, and have every
 * page of them touched, for no more throughput than a buffer or two per
 * receive per batch gives).
 */
static void group_refill(struct sock__uring_bufs *g, unsigned int max_depth)
{
	unsigned int n = 0, cap = max_depth < g->depth0 ? g->depth0 : max_depth;
	uint16_t bid;

	if (cap > g->count)
		cap = g->count;
	if (g->starved) {
		g->starved = false;
		g->starved_lately = true;
		g->depth = 2 * g->depth;
	}
	if (g->depth > cap)
		g->depth = cap;
	while (g->inring < g->depth && g->nfree) {
		bid = g->free[--g->nfree];
		if (!g->dirty[bid]) {
			g->dirty[bid] = 1;
			g->ndirty++;
		}
		io_uring_buf_ring_add(g->br, sock__uring_buf_addr(g, bid),
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
/* Hand g's ring, emptied, to the kernel.  Returns 0 or -errno. */
static int group_register(struct sock__uring *e, struct sock__uring_bufs *g)
{
	struct io_uring_buf_reg reg = { .ring_entries = g->count,
					.bgid = (uint16_t)g->bgid };
	int err;

	reg.ring_addr = (uint64_t)(uintptr_t)g->br;
	io_uring_buf_ring_init(g->br);
	err = io_uring_register_buf_ring(&e->ring, &reg, 0);
	g->registered = err == 0;
	return err;
}

int sock__uring_bufs_setup(struct sock__uring *e, struct sock__uring_bufs *g,
			   int bgid, unsigned int count, size_t len,
			   unsigned int depth)
{
	size_t ring_bytes = count * sizeof(struct io_uring_buf);
	unsigned int i;
	int err;

	g->count = count;
	g->len = len;
	g->bgid = bgid;
	g->depth0 = depth;
	/* Aligned for the kernel's recvmsg header at a buffer's start. */
	g->stride = (len + 63) & ~(size_t)63;
	g->depth = depth;
	if (bgid >= 0) {
		g->br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		if (g->br == MAP_FAILED)
			g->br = NULL;
	}
	g->mem = mmap(NULL, count * g->stride, PROT_READ | PROT_WRITE,
		      MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (g->mem == MAP_FAILED)
		g->mem = NULL;
	g->refs = calloc(count, sizeof(*g->refs));
	g->free = calloc(count, sizeof(*g->free));
	g->dirty = calloc(count, sizeof(*g->dirty));
	if ((bgid >= 0 && !g->br) || !g->mem || !g->refs || !g->free ||
	    !g->dirty) {
		err = -ENOMEM;
		goto out_free;
	}
	madvise(g->mem, count * g->stride, MADV_DONTFORK);
	for (i = 0; i < count; i++)
		g->free[g->nfree++] = (uint16_t)(count - 1 - i);
	if (bgid < 0)
		return 0; /* buffers of our own, never the kernel's */
	madvise(g->br, ring_bytes, MADV_DONTFORK);
	err = group_register(e, g);
	if (err)
		goto out_free;
	group_refill(g, depth);
	return 0;

out_free:
	group_free(g);
	return err;
}

/*
 * Give back the memory of buffers no longer needed.  A flood deepens the
 * ring (see group_refill), and every buffer it touched keeps its pages
 * after the flood has passed.  Once a second, if no receive starved and
 * far more buffers were touched than the busiest batch of that second
 * took, the ring is taken back from the kernel (unregistered: no
 * selection can be under way, see ur_wait), the pages of every buffer we
 * do not hold are dropped, and the ring is registered again, as deep as
 * that batch needs.  Armed receives name the group, not the ring, and
 * select from the new one.  Under steady load nothing is trimmed: the
 * buffers touched are the ones in use.
 */
#define TRIM_EVERY_MS 1000
/* Buffers for input read ahead of the core (uring_conn.c): as many, and
 * as large, as the stream ring's. */
#define ASIDE_COUNT 1024
#define ASIDE_SIZE (16 * 1024)

static void batch_done(struct sock__uring_bufs *g)
{
	if (g->batch_taken > g->peak_taken)
		g->peak_taken = g->batch_taken;
	g->batch_taken = 0;
}

static void drop_pages(struct sock__uring_bufs *g, unsigned int lo,
		       unsigned int hi)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)sock__uring_buf_addr(g, (int)lo);
	uintptr_t b = (uintptr_t)sock__uring_buf_addr(g, (int)hi);

	/* Only whole pages: a page shared with a held buffer stays. */
	a = (a + page - 1) & ~(page - 1);
	b &= ~(page - 1);
	if (a < b)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

static void group_trim(struct sock__uring *e, struct sock__uring_bufs *g)
{
	unsigned int bid, lo;
	unsigned int need = g->peak_taken > g->depth0 ? g->peak_taken
						      : g->depth0;
	/* A group that took no buffer for a whole period is idle: all it
	 * touched beyond what it holds goes back.  A busy one keeps four
	 * times its need, so that steady load does not trim and re-touch. */
	unsigned int keep = g->peak_taken ? 4 * need : 0;
	bool quiet = !g->starved_lately && g->ndirty > keep + g->out;

	g->starved_lately = false;
	g->peak_taken = 0;
	if (!g->mem || !quiet)
		return;
	if (g->bgid >= 0) {
		if (!g->registered ||
		    io_uring_unregister_buf_ring(&e->ring, g->bgid))
			return;
		g->registered = false;
		/* Everything in the ring is ours again. */
		g->nfree = 0;
		for (bid = g->count; bid-- > 0;)
			if (!g->refs[bid])
				g->free[g->nfree++] = (uint16_t)bid;
		g->inring = 0;
	}
	for (lo = bid = 0; bid <= g->count; bid++) {
		if (bid < g->count && !g->refs[bid]) {
			if (g->dirty[bid])
				g->ndirty--;
			g->dirty[bid] = 0;
			continue;
		}
		drop_pages(g, lo, bid);
		lo = bid + 1;
	}
	if (g->bgid < 0)
		return;
	g->depth = 2 * need < g->count ? 2 * need : g->count;
	/* Should this fail (out of memory), receives starve until the
	 * next refill registers it. */
	if (group_register(e, g) == 0)
		group_refill(g, g->depth);
}

int sock__uring_aside_get(struct sock__uring *e)
{
	struct sock__uring_bufs *g = &e->aside;
	uint16_t bid;

	if (!g->mem &&
	    sock__uring_bufs_setup(e, g, -1, ASIDE_COUNT, ASIDE_SIZE, 0))
		return -1;
	if (!g->nfree)
		return -1;
	bid = g->free[--g->nfree];
	if (!g->dirty[bid]) {
		g->dirty[bid] = 1;
		g->ndirty++;
	}
	g->refs[bid] = 1;
	g->out++;
	g->batch_taken++;
	return bid;
}

/* How soon a wait with a watch it could not re-arm looks again. */
#define REARM_RETRY_MS 10

/* ---- watches: one-shot polls, re-armed after the callback, which makes
 * them level-triggered (a multishot poll reports edges only) ---- */

/* A watch's record: the caller's struct may be gone before the poll's
 * last completion. */
struct ur_watch {
	struct sock_watch *w; /* NULL once unwatched */
	bool armed, busy;
	bool unarmed; /* its re-arm failed (a full submission queue): the
			 next wait tries again (watches_rearm) */
};

static int watch_arm(struct sock__uring *e, struct ur_watch *uw)
{
	struct io_uring_sqe *sqe;
	int err;

	err = sock__uring_get_sqe(e, &sqe);
	if (err)
		return err;
	io_uring_prep_poll_add(sqe, uw->w->fd, (unsigned int)uw->w->events);
	sock__uring_submit_op(e, sqe, uw, SOCK__TAG_WATCH);
	uw->armed = true;
	return 0;
}

static void watch_free(struct sock__uring *e, struct ur_watch *uw)
{
	sock__uring_vec_remove(&e->watches, uw);
	free(uw);
}

static int ur_watch_add(struct sock_loop *loop, struct sock_watch *w)
{
	struct sock__uring *e = sock__uring_of(loop);
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
	err = sock__uring_vec_push(&e->watches, uw);
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
	struct sock__uring *e = sock__uring_of(loop);
	struct ur_watch *uw;
	size_t i;

	for (i = 0; i < e->watches.n; i++) {
		uw = e->watches.v[i];
		if (uw->w != w)
			continue;
		uw->w = NULL;
		if (uw->unarmed) {
			uw->unarmed = false;
			e->watches_unarmed--;
		}
		if (uw->armed)
			sock__uring_cancel(e, sock__uring_key(uw,
							      SOCK__TAG_WATCH));
		else if (!uw->busy)
			watch_free(e, uw);
		return;
	}
}

static void watch_done(struct sock__uring *e, struct ur_watch *uw, int res)
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
		/* No room to re-arm it now: the watch must not end unseen
		 * (its owner would wait for ever), so the next wait tries
		 * again. */
		if (uw->w) {
			uw->unarmed = true;
			e->watches_unarmed++;
			return;
		}
	}
	if (!uw->w)
		watch_free(e, uw);
}

/* Arm again the watches whose re-arm failed. */
static void watches_rearm(struct sock__uring *e)
{
	struct ur_watch *uw;
	size_t i;

	for (i = 0; i < e->watches.n && e->watches_unarmed; i++) {
		uw = e->watches.v[i];
		if (uw->unarmed && watch_arm(e, uw) == 0) {
			uw->unarmed = false;
			e->watches_unarmed--;
		}
	}
}

/* ---- waiting ---- */

/* Give the kernel back the buffers we are done with, and re-arm the
 * receives that ran out of them. */
static void refill(struct sock__uring *e)
{
	if (e->stream.br &&
	    (e->stream.registered || group_register(e, &e->stream) == 0)) {
		group_refill(&e->stream, 2 * e->nrecv);
		sock__uring_conn_refill(e);
	}
	if (e->dgram.br &&
	    (e->dgram.registered || group_register(e, &e->dgram) == 0)) {
		group_refill(&e->dgram, e->dgram.count);
		sock__uring_lis_refill(e);
	}
}

static void dispatch(struct sock__uring *e, const struct io_uring_cqe *cqe)
{
	void *p =
		(void *)(uintptr_t)(cqe->user_data & ~(uint64_t)SOCK__TAG_MASK);

	switch (cqe->user_data & SOCK__TAG_MASK) {
	case SOCK__TAG_WATCH:
		watch_done(e, p, cqe->res);
		break;
	case SOCK__TAG_LISTENER:
		sock__uring_lis_done(e, p, cqe->res, cqe->flags);
		break;
	case SOCK__TAG_CONN:
		sock__uring_recv_done(e, p, cqe->res, cqe->flags);
		break;
	case SOCK__URING_TAG_REPLY:
		sock__uring_reply_done(e, p, cqe->res);
		break;
	case SOCK__URING_TAG_ROOM:
		sock__uring_room_done(e, p, cqe->res);
		break;
	}
}

/* Take the next completion off the ring into *out. */
static bool next_cqe(struct sock__uring *e, struct io_uring_cqe *out)
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

/* Buffers touched and not held: a trim would give memory back. */
static bool trim_owed(const struct sock__uring_bufs *g)
{
	return g->mem && g->ndirty > g->out;
}

static int ur_wait(struct sock_loop *loop, int timeout_ms)
{
	struct sock__uring *e = sock__uring_of(loop);
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe, c;
	unsigned int n;
	int ret;

	if (e->replay)
		timeout_ms = 0;
	/* A loop with nothing to wait for but its peers still wakes to give
	 * back buffers a burst touched: once it has been idle for a period,
	 * the trim takes them all. */
	if ((timeout_ms < 0 || timeout_ms > TRIM_EVERY_MS) &&
	    (trim_owed(&e->stream) || trim_owed(&e->dgram) ||
	     trim_owed(&e->aside)))
		timeout_ms = TRIM_EVERY_MS;
	refill(e);
	if (e->watches_unarmed) {
		watches_rearm(e);
		/* Still no room: look again soon, not never. */
		if (e->watches_unarmed &&
		    (timeout_ms < 0 || timeout_ms > REARM_RETRY_MS))
			timeout_ms = REARM_RETRY_MS;
	}
	/* One system call submits what the last batch queued and waits. */
	sock__loop_wait_begin(loop);
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
	batch_done(&e->stream);
	batch_done(&e->dgram);
	batch_done(&e->aside);
	/* Every completion posted is reaped, and no system call has run
	 * since: the kernel is not selecting buffers now. */
	if (n < CQ_ENTRIES && loop->now_ms - e->trim_ms >= TRIM_EVERY_MS) {
		e->trim_ms = loop->now_ms;
		group_trim(e, &e->stream);
		group_trim(e, &e->dgram);
		group_trim(e, &e->aside);
	}
	if (e->replay)
		sock__uring_conn_replay(e);
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
static int ring_setup(struct sock__uring *e)
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
static int probe_ops(struct sock__uring *e)
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
	struct sock__uring *e = calloc(1, sizeof(*e));
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

/* Whether cqe is the last of an operation counted in flight. */
static bool ends_op(const struct io_uring_cqe *cqe)
{
	return (cqe->user_data & SOCK__TAG_MASK) < SOCK__URING_TAG_IGNORE &&
	       !(cqe->flags & IORING_CQE_F_MORE);
}

/* A completion drained unhandled: an accept's connection is closed. */
static void drop_accepted(const struct io_uring_cqe *cqe)
{
	const struct sock__uring_lis *ul;

	if ((cqe->user_data & SOCK__TAG_MASK) != SOCK__TAG_LISTENER ||
	    cqe->res < 0)
		return;
	ul = (const void *)(uintptr_t)(cqe->user_data &
				       ~(uint64_t)SOCK__TAG_MASK);
	if (!ul->dgram)
		close(cqe->res);
}

/*
 * Cancel everything and wait (bounded) for the last completions, so the
 * kernel holds nothing of ours when it is freed.
 */
static void drain(struct sock__uring *e)
{
	struct __kernel_timespec ts = { .tv_nsec = 100 * 1000000 };
	struct io_uring_cqe *cqe, c;
	struct io_uring_sqe *sqe;
	int64_t deadline = sock__now_ns() + 1000000000;
	int ret;

	if (!e->inflight || sock__uring_get_sqe(e, &sqe))
		return;
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, SOCK__URING_TAG_IGNORE);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	while (e->inflight && sock__now_ns() < deadline) {
		ret = io_uring_submit_and_wait_timeout(&e->ring, &cqe, 1, &ts,
						       NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR)
			return;
		while (next_cqe(e, &c)) {
			if (ends_op(&c))
				e->inflight--;
			drop_accepted(&c);
		}
	}
}

static void ur_release(struct sock_loop *loop)
{
	struct sock__uring *e = sock__uring_of(loop);
	size_t i;

	drain(e);
	io_uring_queue_exit(&e->ring);
	sock__uring_conn_release(e);
	sock__uring_lis_release(e);
	for (i = 0; i < e->watches.n; i++)
		free(e->watches.v[i]);
	group_free(&e->stream);
	group_free(&e->dgram);
	group_free(&e->aside);
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
	.listener_start = sock__uring_listener_start,
	.listener_pause = sock__uring_listener_pause,
	.listener_close = sock__uring_listener_close,
	.conn_start = sock__uring_conn_start,
	.conn_want_room = sock__uring_conn_want_room,
	.conn_reading = sock__uring_conn_reading,
	.conn_close = sock__uring_conn_close,
	.dgram_reply = sock__uring_dgram_reply,
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

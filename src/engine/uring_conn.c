/* SPDX-License-Identifier: MIT */
/* uring_conn.c -- the io_uring engine's stream connections */

#include "uring.h"

#ifdef SOCK_HAVE_URING

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A stream connection has one receive armed while the core wants its
 * input.  The kernel picks a buffer from a ring shared by all the loop's
 * connections, so an idle connection holds none; the buffer goes back as
 * soon as the core has handled its data (the core copies what it keeps:
 * output it could not send).  Nothing is held for a connection the core
 * does not read: its data stays in the kernel, as with epoll.
 *
 * The receive is multishot -- one SQE reads all that arrives -- while
 * nothing holds the core back and the peer has shown it does not send
 * faster than the loop reads (a receive found less than a buffer).  A
 * new connection, a fast sender, one whose output waits (the peer may
 * not be reading) and one that is closing get receives of one buffer
 * each, re-armed as the core takes them, so that reading never runs
 * ahead of the core by more than a buffer.  A multishot receive that
 * meets a burst has read ahead by the time it is cancelled: what arrives
 * after the core stopped wanting input (its output queue is full) is
 * copied aside, in order, into buffers of our own (bounded; a connection
 * that needs more is closed with -ENOBUFS) and given to the core when it
 * wants input again.  The shared ring is never pinned by a peer that
 * does not read.
 */

/*
 * Stream receive buffers: one receive fills at most one, so a 16 KiB
 * message arrives in one piece.  Only as many as are in use at once get
 * touched (see the provided buffers in uring.c): the count bounds
 * memory, the first depth is what a quiet loop keeps in the ring.
 */
#define RX_COUNT 1024
#define RX_SIZE (16 * 1024)
#define RX_DEPTH 16

/* ---- handing a closed connection back ---- */

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
static void conn_settle(struct sock__uring *e, struct sock_conn *c)
{
	if (!(c->engine_bits & SOCK__URING_CLOSED) || c->engine_ops)
		return;
	sock__uring_vec_remove(&e->closing, c);
	conn_free(c);
}

/* An operation on c completed for good. */
static void op_done(struct sock__uring *e, struct sock_conn *c)
{
	assert(c->engine_ops > 0 && e->inflight > 0);
	c->engine_ops--;
	e->inflight--;
}

/* ---- receiving ---- */

static int recv_arm(struct sock__uring *e, struct sock_conn *c)
{
	struct io_uring_sqe *sqe;
	bool multi = !sock__conn_reads_slowly(c) &&
		     !(c->engine_bits & SOCK__URING_GREEDY);
	int err;

	err = sock__uring_get_sqe(e, &sqe);
	if (err)
		return err;
	if (multi)
		io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	else
		io_uring_prep_recv(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = SOCK__URING_BGID_STREAM;
	sock__uring_submit_op(e, sqe, c, SOCK__TAG_CONN);
	c->engine_bits |= SOCK__URING_RECV;
	c->engine_bits &= (uint16_t) ~(SOCK__URING_MULTI | SOCK__URING_CANCEL);
	e->nrecv++;
	if (multi)
		c->engine_bits |= SOCK__URING_MULTI;
	assert(c->engine_ops < UINT8_MAX);
	c->engine_ops++;
	return 0;
}

static void recv_cancel(struct sock__uring *e, struct sock_conn *c)
{
	if (!(c->engine_bits & SOCK__URING_RECV) ||
	    (c->engine_bits & SOCK__URING_CANCEL))
		return;
	sock__uring_cancel(e, sock__uring_key(c, SOCK__TAG_CONN));
	c->engine_bits |= SOCK__URING_CANCEL;
}

/*
 * Bring c's receive in line with what the core wants: armed while it
 * wants input (multishot only while it does not read slowly), cancelled
 * when it does not.
 */
static void recv_update(struct sock__uring *e, struct sock_conn *c)
{
	uint16_t bits = c->engine_bits;
	int err;

	if (sock__conn_is_gone(c) || (bits & SOCK__URING_CLOSED))
		return;
	if (!sock__conn_wants_input(c)) {
		recv_cancel(e, c);
		return;
	}
	if (bits & SOCK__URING_RECV) {
		if ((bits & SOCK__URING_MULTI) &&
		    (sock__conn_reads_slowly(c) || (bits & SOCK__URING_GREEDY)))
			recv_cancel(e, c); /* re-armed one at a time */
		return;
	}
	if (bits & (SOCK__URING_STARVED | SOCK__URING_EOF | SOCK__URING_HELD) ||
	    !e->stream.registered)
		return;
	err = recv_arm(e, c);
	if (err)
		sock__conn_failed(c, err);
}

/*
 * c's receive found no buffer: the ring is deepened, and c re-armed,
 * before the next wait, in the order they starved.  A multishot receive
 * that empties the ring takes every buffer of each batch as long as its
 * peer sends; it comes back as a receive of one buffer at a time, until
 * one finds less than a buffer waiting, so that one fast sender does not
 * starve the loop's other connections.
 */
static void starve(struct sock__uring *e, struct sock_conn *c)
{
	e->stream.starved = true;
	c->engine_bits |= SOCK__URING_GREEDY;
	if (c->engine_bits & SOCK__URING_STARVED)
		return;
	if (sock__uring_vec_push(&e->starved, c) == 0)
		c->engine_bits |= SOCK__URING_STARVED;
	else
		sock__conn_failed(c, -ENOMEM);
}

/* Hand res bytes of buffer bid (0: the end of stream) to the core. */
static void deliver(struct sock__uring *e, struct sock_conn *c, int bid,
		    int res)
{
	char *p;

	if (res == 0) {
		sock__conn_received(c, NULL, 0);
		return;
	}
	p = sock__uring_buf_addr(&e->stream, bid);
	sock__conn_received(c, p, (size_t)res);
}

/* Input for c goes to the core now: it wants it, and nothing read
 * before waits aside. */
static bool deliverable(const struct sock_conn *c)
{
	return sock__conn_wants_input(c) &&
	       !(c->engine_bits & SOCK__URING_HELD);
}

/*
 * Copy res bytes of buffer bid (0: the end of stream) aside for c, into
 * a buffer of our own: the shared ring's buffer goes back at once.  The
 * copies are bounded (e->aside's count), and their pages go back to the
 * system once unused (see group_trim).
 */
static void hold(struct sock__uring *e, struct sock_conn *c, int bid, int res)
{
	struct sock__uring_held *h;
	int abid = -1;
	size_t cap;

	if (e->nheld == e->held_cap) {
		cap = e->held_cap ? 2 * e->held_cap : 64;
		h = realloc(e->held, cap * sizeof(*h));
		if (!h) {
			sock__conn_failed(c, -ENOMEM);
			return;
		}
		e->held = h;
		e->held_cap = cap;
	}
	if (res) {
		abid = sock__uring_aside_get(e);
		if (abid < 0) {
			sock__conn_failed(c, -ENOBUFS);
			return;
		}
		memcpy(sock__uring_buf_addr(&e->aside, abid),
		       sock__uring_buf_addr(&e->stream, bid), (size_t)res);
	}
	e->held[e->nheld++] =
		(struct sock__uring_held){ .c = c, .len = res, .bid = abid };
	c->engine_bits |= SOCK__URING_HELD;
}

static void held_release(struct sock__uring *e,
			 const struct sock__uring_held *h)
{
	if (h->bid >= 0)
		sock__uring_buf_put(&e->aside, h->bid);
}

static void drop_held(struct sock__uring *e, struct sock_conn *c)
{
	size_t i, kept = 0;

	if (!(c->engine_bits & SOCK__URING_HELD))
		return;
	for (i = 0; i < e->nheld; i++) {
		if (e->held[i].c == c)
			held_release(e, &e->held[i]);
		else
			e->held[kept++] = e->held[i];
	}
	e->nheld = kept;
	c->engine_bits &= (uint16_t)~SOCK__URING_HELD;
}

/* Give the core what was kept aside for connections that want input
 * again, in the order it arrived. */
void sock__uring_conn_replay(struct sock__uring *e)
{
	size_t i, kept = 0, n = e->nheld;
	struct sock__uring_held h;

	e->replay = false;
	for (i = 0; i < n; i++)
		e->held[i].c->engine_bits &= (uint16_t)~SOCK__URING_HELD;
	/* HELD marks, from here, a connection with an earlier entry kept. */
	for (i = 0; i < n; i++) {
		h = e->held[i];
		if (!deliverable(h.c)) {
			h.c->engine_bits |= SOCK__URING_HELD;
			e->held[kept++] = h;
			continue;
		}
		if (h.len)
			sock__conn_received(
				h.c, sock__uring_buf_addr(&e->aside, h.bid),
				(size_t)h.len);
		else
			sock__conn_received(h.c, NULL, 0);
		held_release(e, &h);
		/* Receiving resumes; should a later entry of h.c stay kept,
		 * what arrives meanwhile is kept after it. */
		recv_update(e, h.c);
	}
	/* Completions, the only source of entries, are not handled here. */
	assert(e->nheld == n);
	e->nheld = kept;
}

void sock__uring_recv_done(struct sock__uring *e, struct sock_conn *c, int res,
			   unsigned int flags)
{
	int bid = sock__uring_cqe_bid(flags);

	if (bid >= 0)
		sock__uring_buf_take(&e->stream, bid);
	if (!(flags & IORING_CQE_F_MORE)) {
		c->engine_bits &=
			(uint16_t) ~(SOCK__URING_RECV | SOCK__URING_MULTI |
				     SOCK__URING_CANCEL);
		assert(e->nrecv > 0);
		e->nrecv--;
		op_done(e, c);
	}
	if (res > 0 && bid < 0)
		res = -EIO;
	if (!(c->engine_bits & SOCK__URING_CLOSED)) {
		if (res == -ENOBUFS) {
			if (sock__conn_wants_input(c))
				starve(e, c);
		} else if (res < 0 && res != -ECANCELED) {
			c->engine_bits |= SOCK__URING_EOF;
			sock__conn_failed(c, res);
		} else if (res >= 0) {
			if (res == 0)
				c->engine_bits |= SOCK__URING_EOF;
			/* A full buffer: more is likely waiting, the peer
			 * sends faster than it is read. */
			if (res == RX_SIZE)
				c->engine_bits |= SOCK__URING_GREEDY;
			else if (!(flags & IORING_CQE_F_MORE))
				c->engine_bits &= (uint16_t)~SOCK__URING_GREEDY;
			if (deliverable(c))
				deliver(e, c, bid, res);
			else
				hold(e, c, bid, res);
		}
	}
	if (bid >= 0)
		sock__uring_buf_put(&e->stream, bid);
	if (c->engine_bits & SOCK__URING_CLOSED)
		conn_settle(e, c);
	else
		recv_update(e, c);
}

/* ---- waiting for room ---- */

int sock__uring_conn_want_room(struct sock_conn *c)
{
	struct sock__uring *e = sock__uring_of_conn(c);
	struct io_uring_sqe *sqe;
	int err;

	if (c->engine_bits & SOCK__URING_ROOM)
		return 0;
	err = sock__uring_get_sqe(e, &sqe);
	if (err)
		return err;
	io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
	sock__uring_submit_op(e, sqe, c, SOCK__URING_TAG_ROOM);
	c->engine_bits |= SOCK__URING_ROOM;
	c->engine_ops++;
	return 0;
}

void sock__uring_room_done(struct sock__uring *e, struct sock_conn *c, int res)
{
	(void)res; /* an error shows in the core's next send */
	c->engine_bits &= (uint16_t)~SOCK__URING_ROOM;
	op_done(e, c);
	if (c->engine_bits & SOCK__URING_CLOSED) {
		conn_settle(e, c);
		return;
	}
	sock__conn_writable(c);
	/* The queue may have emptied: reading goes back to multishot. */
	recv_update(e, c);
}

/* ---- starting, flow control, closing ---- */

int sock__uring_conn_start(struct sock_conn *c)
{
	struct sock__uring *e = sock__uring_of_conn(c);
	int err;

	if (!e->stream.br) {
		err = sock__uring_bufs_setup(e, &e->stream,
					     SOCK__URING_BGID_STREAM, RX_COUNT,
					     RX_SIZE, RX_DEPTH);
		if (err)
			return err;
	}
	if (sock__conn_wants_room(c)) {
		err = sock__uring_conn_want_room(c);
		if (err)
			return err;
	}
	/* One buffer at a time, until a receive shows the peer does not
	 * send more than the loop reads (see starve). */
	c->engine_bits |= SOCK__URING_GREEDY;
	if (sock__conn_wants_input(c) && e->stream.registered)
		return recv_arm(e, c);
	return 0;
}

/* Flow control cancels the receive: the peer's data waits in its socket
 * and TCP slows it down, as with epoll. */
void sock__uring_conn_reading(struct sock_conn *c)
{
	struct sock__uring *e = sock__uring_of_conn(c);

	if ((c->engine_bits & SOCK__URING_HELD) && sock__conn_wants_input(c))
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
void sock__uring_conn_close(struct sock_conn *c)
{
	struct sock__uring *e = sock__uring_of_conn(c);
	struct io_uring_sqe *sqe;

	drop_held(e, c);
	if (c->engine_bits & SOCK__URING_STARVED)
		sock__uring_vec_remove(&e->starved, c);
	c->engine_bits &= SOCK__URING_RECV | SOCK__URING_MULTI |
			  SOCK__URING_CANCEL | SOCK__URING_ROOM;
	c->engine_bits |= SOCK__URING_CLOSED;
	if (!c->engine_ops) {
		conn_free(c);
		return;
	}
	if (sock__uring_get_sqe(e, &sqe) == 0) {
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, SOCK__URING_TAG_IGNORE);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		if (sock__uring_flush_now(e) == 0) {
			close(c->fd);
			c->fd = -1;
			return;
		}
	}
	shutdown(c->fd, SHUT_RDWR);
	/* Recorded to be closed by release, should the loop end first. */
	if (sock__uring_vec_push(&e->closing, c))
		return; /* closed with its last completion all the same */
}

/* ---- around the wait ---- */

void sock__uring_conn_refill(struct sock__uring *e)
{
	struct sock_conn *c;

	size_t i = 0;

	while (i < e->starved.n && e->stream.inring) {
		c = e->starved.v[i++];
		c->engine_bits &= (uint16_t)~SOCK__URING_STARVED;
		recv_update(e, c);
	}
	if (i == 0)
		return;
	memmove(e->starved.v, e->starved.v + i,
		(e->starved.n - i) * sizeof(*e->starved.v));
	e->starved.n -= i;
}

void sock__uring_conn_release(struct sock__uring *e)
{
	struct sock_conn *c;
	size_t i;

	for (i = 0; i < e->closing.n; i++) {
		c = e->closing.v[i];
		close(c->fd);
		c->fd = -1;
	}
	free(e->held);
	free(e->starved.v);
	free(e->closing.v);
}

#endif /* SOCK_HAVE_URING */

/* SPDX-License-Identifier: MIT */
/* uring_conn.c -- the io_uring engine's stream connections */

#include "uring.h"

#ifdef SOCK_HAVE_URING

#include <stdlib.h>
#include <unistd.h>

/*
 * Every stream connection has one receive armed while the core wants its
 * input, a multishot one (one buffer per SQE once flow control or a
 * close has slowed it); the kernel picks a buffer from a ring shared by
 * all connections of the loop, so an idle connection holds no buffer.  A
 * receive buffer stays ours while its data is handled and while a send
 * from it (an echo) is in flight, counted in refs[].
 */

/*
 * Stream receive buffers: one receive fills at most one, so a 16 KiB
 * message arrives in one piece.  Only as many as are in use at once get
 * touched (see the provided buffers in engine_uring.c): the count bounds
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

void sock__uring_conn_settle(struct sock__uring *e, struct sock_conn *c)
{
	if (!(c->engine_bits & SOCK__URING_CLOSED) || c->engine_ops)
		return;
	sock__uring_vec_remove(&e->closing, c);
	conn_free(c);
}

/* ---- receiving ---- */

/*
 * A multishot receive reads whatever arrives, as it arrives, into the
 * shared buffers; a peer that sends faster than it reads would have it
 * read ahead of flow control, a socket buffer's worth at a time.  A
 * connection that was flow-controlled therefore receives one buffer per
 * SQE until it keeps up again.
 */
static int recv_arm(struct sock__uring *e, struct sock_conn *c)
{
	struct io_uring_sqe *sqe = sock__uring_get_sqe(e);

	if (!sqe)
		return -ENOMEM;
	if (c->engine_bits & SOCK__URING_SLOW)
		io_uring_prep_recv(sqe, c->fd, NULL, 0, 0);
	else
		io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = SOCK__URING_BGID_STREAM;
	sock__uring_submit_op(e, sqe, c, SOCK__TAG_CONN);
	c->engine_bits |= SOCK__URING_RECV;
	c->engine_ops++;
	return 0;
}

/* Arm c's receive if the core wants input, none is armed, and none is
 * held or waits for buffers. */
static void recv_update(struct sock__uring *e, struct sock_conn *c)
{
	uint8_t busy = SOCK__URING_RECV | SOCK__URING_HELD |
		       SOCK__URING_STARVED | SOCK__URING_EOF;
	int err;

	if (!(c->engine_bits & SOCK__URING_WANT) || (c->engine_bits & busy) ||
	    sock__uring_conn_gone(c) || !e->stream.br)
		return;
	err = recv_arm(e, c);
	if (err)
		sock__conn_failed(c, err);
}

/* Whether input for c goes to the core now: it wants it, and nothing
 * received before waits in held[]. */
static bool deliverable(const struct sock_conn *c)
{
	return (c->engine_bits & (SOCK__URING_WANT | SOCK__URING_HELD)) ==
	       SOCK__URING_WANT;
}

/*
 * Keep input the core does not want yet.  Cancelling the receive is not
 * immediate: what arrives before the cancellation takes effect waits
 * here, buffers and all, in order.
 */
static void hold(struct sock__uring *e, struct sock_conn *c, int bid, int res)
{
	struct sock__uring_held *h;
	size_t cap;

	if (e->nheld == e->held_cap) {
		cap = e->held_cap ? 2 * e->held_cap : 64;
		h = realloc(e->held, cap * sizeof(*h));
		if (!h) {
			if (bid >= 0)
				sock__uring_buf_put(&e->stream, bid);
			sock__conn_failed(c, -ENOMEM);
			return;
		}
		e->held = h;
		e->held_cap = cap;
	}
	e->held[e->nheld++] =
		(struct sock__uring_held){ .c = c, .res = res, .bid = bid };
	c->engine_bits |= SOCK__URING_HELD;
	if (c->engine_bits & SOCK__URING_WANT)
		e->replay = true;
}

static void drop_held(struct sock__uring *e, struct sock_conn *c)
{
	size_t i, kept = 0;

	if (!(c->engine_bits & SOCK__URING_HELD))
		return;
	for (i = 0; i < e->nheld; i++) {
		if (e->held[i].c != c)
			e->held[kept++] = e->held[i];
		else if (e->held[i].bid >= 0)
			sock__uring_buf_put(&e->stream, e->held[i].bid);
	}
	e->nheld = kept;
	c->engine_bits &= (uint8_t)~SOCK__URING_HELD;
}

/* Receive one buffer per SQE from now on (see recv_arm). */
static void recv_slow(struct sock__uring *e, struct sock_conn *c)
{
	if (c->engine_bits & SOCK__URING_SLOW)
		return;
	c->engine_bits |= SOCK__URING_SLOW;
	if (c->engine_bits & SOCK__URING_RECV)
		sock__uring_cancel(e, sock__uring_key(c, SOCK__TAG_CONN));
}

/* Hand res bytes of buffer bid (or the end of stream) to the core. */
static void deliver(struct sock__uring *e, struct sock_conn *c, int bid,
		    int res)
{
	char *p;

	if (res == 0) {
		sock__conn_received(c, NULL, 0);
		return;
	}
	p = sock__uring_buf_addr(&e->stream, bid);
	sock__uring_cur_set(e, &e->stream, bid, p, (size_t)res);
	sock__conn_received(c, p, (size_t)res);
	sock__uring_cur_clear(e);
	sock__uring_buf_put(&e->stream, bid);
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
static void starve(struct sock__uring *e, struct sock_conn *c)
{
	e->stream.starved = true;
	if (sock__uring_vec_push(&e->starved, c) == 0)
		c->engine_bits |= SOCK__URING_STARVED;
}

void sock__uring_recv_done(struct sock__uring *e, struct sock_conn *c, int res,
			   unsigned int flags)
{
	int bid = sock__uring_cqe_bid(flags);

	if (bid >= 0)
		sock__uring_buf_take(&e->stream, bid);
	if (!(flags & IORING_CQE_F_MORE)) {
		c->engine_bits &= (uint8_t)~SOCK__URING_RECV;
		c->engine_ops--;
		e->inflight--;
	}
	if (c->engine_bits & SOCK__URING_CLOSED) {
		if (bid >= 0)
			sock__uring_buf_put(&e->stream, bid);
		sock__uring_conn_settle(e, c);
		return;
	}
	if (res > 0 && bid < 0)
		res = -EIO;
	if (res == -ENOBUFS) {
		if (c->engine_bits & SOCK__URING_WANT)
			starve(e, c);
	} else if (res < 0 && res != -ECANCELED) {
		c->engine_bits |= SOCK__URING_EOF;
		sock__conn_failed(c, res);
	} else if (res >= 0) {
		if (res == 0)
			c->engine_bits |= SOCK__URING_EOF;
		/* Nothing left to send when more comes: the peer keeps up. */
		if (!c->out)
			c->engine_bits &= (uint8_t)~SOCK__URING_SLOW;
		if (deliverable(c))
			deliver(e, c, bid, res);
		else
			hold(e, c, bid, res);
	}
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
	if (c->state & (SOCK__CONN_READING | SOCK__CONN_LINGER))
		c->engine_bits |= SOCK__URING_WANT;
	else
		c->engine_bits &= (uint8_t)~SOCK__URING_WANT;
	if ((c->engine_bits & (SOCK__URING_WANT | SOCK__URING_RECV)) ==
	    SOCK__URING_WANT)
		return recv_arm(e, c);
	return 0;
}

/*
 * Flow control cancels the receive rather than holding its completions:
 * a multishot receive left armed would keep taking shared buffers for a
 * peer we do not read, and starve every other connection of the loop.
 * Cancelled, the peer's data waits in its socket and TCP slows it down.
 */
void sock__uring_conn_reading(struct sock_conn *c, bool on)
{
	struct sock__uring *e = sock__uring_of_conn(c);

	if (!on) {
		c->engine_bits &= (uint8_t)~SOCK__URING_WANT;
		recv_slow(e, c);
		return;
	}
	c->engine_bits |= SOCK__URING_WANT;
	if (c->engine_bits & SOCK__URING_HELD)
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
	c->engine_bits &= SOCK__URING_RECV | SOCK__URING_SEND;
	c->engine_bits |= SOCK__URING_CLOSED;
	if (!c->engine_ops) {
		conn_free(c);
		return;
	}
	sqe = sock__uring_get_sqe(e);
	if (sqe) {
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
	sock__uring_vec_push(&e->closing, c);
}

/* ---- around the wait ---- */

void sock__uring_conn_replay(struct sock__uring *e)
{
	size_t i, n = e->nheld, kept = 0;
	struct sock__uring_held h;

	for (i = 0; i < n; i++)
		e->held[i].c->engine_bits &= (uint8_t)~SOCK__URING_HELD;
	/* HELD now marks a connection with an earlier entry kept. */
	for (i = 0; i < n; i++) {
		h = e->held[i];
		if (!deliverable(h.c)) {
			h.c->engine_bits |= SOCK__URING_HELD;
			e->held[kept++] = h;
			continue;
		}
		deliver(e, h.c, h.bid, h.res);
		if (sock__uring_vec_push(&e->rearm, h.c))
			sock__conn_failed(h.c, -ENOMEM);
	}
	e->nheld = kept;
	/* Receives resume once all that was held is delivered. */
	for (i = 0; i < e->rearm.n; i++)
		recv_update(e, e->rearm.v[i]);
	e->rearm.n = 0;
}

void sock__uring_conn_refill(struct sock__uring *e)
{
	struct sock_conn *c;

	while (e->starved.n && e->stream.inring) {
		c = e->starved.v[--e->starved.n];
		c->engine_bits &= (uint8_t)~SOCK__URING_STARVED;
		recv_update(e, c);
	}
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
	free(e->rearm.v);
	free(e->closing.v);
}

#endif /* SOCK_HAVE_URING */

/* SPDX-License-Identifier: MIT */
/* uring_send.c -- the io_uring engine's stream output */

#include "uring.h"

#ifdef SOCK_HAVE_URING

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Each connection has at most one send in flight, which keeps byte
 * order; what is sent meanwhile waits in c->out and goes out as one send
 * when the first completes.
 *
 * c->out is the core's view of pending output: it exists (possibly
 * empty) from the first send until everything handed to the kernel has
 * completed, so the core's orderly close waits for our sends, and it
 * holds the bytes not yet handed over, which flow control counts.  The
 * kernel never reads c->out itself: the core may grow or free it at any
 * time.  A send reads a receive buffer or a queue taken over from c->out,
 * both ours until the send's completion.
 */

/* Data at least this long is sent from the receive buffer it lies in;
 * shorter is copied, which gives the buffer back at once. */
#define SEND_IN_PLACE_MIN 1024
/* Output queues kept for reuse: a new one's capacity, and at most how
 * large each and all together (SOCK__URING_OUTQ_CACHE of them). */
#define OUTQ_SIZE 4096
#define OUTQ_KEEP (256 * 1024)
#define OUTQ_CACHE_BYTES (2u << 20)

/* ---- queues and sends, kept for reuse ---- */

/* An empty queue for c->out, or the buffer of a copied send.  Queues
 * that grew are kept too, so that bursts do not reallocate. */
static struct sock__outq *outq_get(struct sock__uring *e)
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

static void outq_put(struct sock__uring *e, struct sock__outq *q)
{
	if (q->cap <= OUTQ_KEEP && e->noutq < SOCK__URING_OUTQ_CACHE &&
	    e->outq_bytes + q->cap <= OUTQ_CACHE_BYTES) {
		e->outq[e->noutq++] = q;
		e->outq_bytes += q->cap;
	} else {
		free(q);
	}
}

static struct sock__uring_tx *tx_get(struct sock__uring *e)
{
	struct sock__uring_tx *tx;
	size_t i;

	if (!e->free_tx) {
		tx = sock__uring_pool_chunk(&e->tx_chunks, sizeof(*tx));
		if (!tx)
			return NULL;
		for (i = 0; i < SOCK__URING_POOL_CHUNK; i++) {
			tx[i].next = e->free_tx;
			e->free_tx = &tx[i];
		}
	}
	tx = e->free_tx;
	e->free_tx = tx->next;
	return tx;
}

static void tx_release(struct sock__uring *e, struct sock__uring_tx *tx)
{
	if (tx->g)
		sock__uring_buf_put(tx->g, tx->bid);
	if (tx->q)
		outq_put(e, tx->q);
	tx->g = NULL;
	tx->q = NULL;
	tx->next = e->free_tx;
	e->free_tx = tx;
}

/* ---- sending ---- */

static int tx_submit(struct sock__uring *e, struct sock_conn *c,
		     struct sock__uring_tx *tx)
{
	struct io_uring_sqe *sqe = sock__uring_get_sqe(e);

	if (!sqe)
		return -ENOMEM;
	io_uring_prep_send(sqe, c->fd, tx->p, tx->len, MSG_NOSIGNAL);
	sock__uring_submit_op(e, sqe, tx, SOCK__URING_TAG_SEND);
	tx->c = c;
	c->engine_bits |= SOCK__URING_SEND;
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
static int send_queue(struct sock__uring *e, struct sock_conn *c,
		      struct sock__outq *spare)
{
	struct sock__outq *q = spare ? spare : outq_get(e);
	struct sock__uring_tx *tx = tx_get(e);
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
static int send_in_place(struct sock__uring *e, struct sock_conn *c,
			 const void *data, size_t len)
{
	struct sock__outq *q = outq_get(e);
	struct sock__uring_tx *tx = tx_get(e);
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
static bool send_in_place_ok(const struct sock__uring *e, const void *data,
			     size_t len)
{
	return len >= SEND_IN_PLACE_MIN && sock__uring_in_cur(e, data, len) &&
	       2 * e->cur_g->out <= e->cur_g->count;
}

int sock__uring_conn_send(struct sock_conn *c, const void *data, size_t len)
{
	struct sock__uring *e = sock__uring_of_conn(c);
	bool sending = c->engine_bits & SOCK__URING_SEND;
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

void sock__uring_send_done(struct sock__uring *e, struct sock__uring_tx *tx,
			   int res)
{
	struct sock_conn *c = tx->c;
	struct sock__outq *spare;
	int err;

	c->engine_ops--;
	e->inflight--;
	/* A short send: the rest goes out from where it stopped. */
	if (res > 0 && (size_t)res < tx->len && !sock__uring_conn_gone(c)) {
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
	c->engine_bits &= (uint8_t)~SOCK__URING_SEND;
	if (res > 0 && !sock__uring_conn_gone(c)) {
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
	} else if (!sock__uring_conn_gone(c)) {
		sock__conn_failed(c, res ? res : -EPIPE);
	}
	/* Closing (after this batch, or now): the rest is dropped. */
	if (spare)
		outq_put(e, spare);
	sock__uring_conn_settle(e, c);
}

/* ---- producers: what the socket takes ---- */

/*
 * sock_conn_send_some sends at once, outside the ring, what the socket
 * takes; when it takes less, a poll for room stands in for a send in
 * flight (SOCK__URING_SEND without c->out), so output queued meanwhile by
 * sock_conn_send waits behind it and keeps its order.  Its completion
 * sends that output, or tells the producer there is room.
 */
static int writable_arm(struct sock__uring *e, struct sock_conn *c)
{
	struct io_uring_sqe *sqe = sock__uring_get_sqe(e);

	if (!sqe)
		return -ENOMEM;
	io_uring_prep_poll_add(sqe, c->fd, POLLOUT);
	sock__uring_submit_op(e, sqe, c, SOCK__URING_TAG_WRITABLE);
	c->engine_bits |= SOCK__URING_SEND;
	c->engine_ops++;
	return 0;
}

int sock__uring_conn_want_room(struct sock_conn *c)
{
	if (c->engine_bits & SOCK__URING_SEND)
		return 0; /* a send or a wait for room is in flight */
	return writable_arm(sock__uring_of_conn(c), c);
}

void sock__uring_writable_done(struct sock__uring *e, struct sock_conn *c,
			       int res)
{
	int err;

	(void)res; /* an error shows in the producer's next send */
	c->engine_ops--;
	e->inflight--;
	c->engine_bits &= (uint8_t)~SOCK__URING_SEND;
	if (!sock__uring_conn_gone(c)) {
		if (c->out && sock__outq_len(c)) {
			err = send_queue(e, c, NULL);
			if (err)
				sock__conn_failed(c, err);
		} else {
			if (c->out) {
				outq_put(e, c->out);
				c->out = NULL;
			}
			sock__conn_drained(c);
		}
	}
	sock__uring_conn_settle(e, c);
}

void sock__uring_send_release(struct sock__uring *e)
{
	struct sock__uring_tx *tx;
	size_t i, j;

	/* With what sends still in flight hold. */
	for (i = 0; i < e->tx_chunks.n; i++) {
		tx = e->tx_chunks.v[i];
		for (j = 0; j < SOCK__URING_POOL_CHUNK; j++)
			free(tx[j].q);
		free(tx);
	}
	free(e->tx_chunks.v);
	for (i = 0; i < e->noutq; i++)
		free(e->outq[i]);
}

#endif /* SOCK_HAVE_URING */

/* SPDX-License-Identifier: MIT */
/* output.c -- a connection's output: sends, the queue, flow control */

/*
 * Every engine sends the same way, from here: send(2) at once what the
 * socket takes, queue the rest, ask the engine to report room, and send
 * from the queue when it does.  Data the socket will not take stays with
 * the peer's socket on the other side as long as possible -- in the
 * kernel, not in our memory -- and a peer that does not read costs at
 * most the output limit before the server stops reading from it.
 */

#include "core.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

struct sock__outq {
	uint32_t head, tail, cap;
	char data[];
};

/*
 * A queue's whole allocation, header included, is a power of two: 4 KiB
 * first, doubled as it grows.  From 64 KiB up it is pages of its own
 * (mmap, grown by mremap) rather than the heap's: a peer that stops
 * reading makes its queue grow to the hard limit, and when hundreds of
 * such queues are freed their memory must go back to the system.  In the
 * heap it would not: glibc raises its mmap threshold to the size of each
 * mapped block it frees, so later queues of that size come from the
 * heap, where the ones freed leave holes it does not give back (an
 * io_uring server kept 11 MiB after 200 non-readers left).
 */
#define OUTQ_FIRST 4096
#define OUTQ_MAPPED (64 * 1024)

static size_t outq_size(const struct sock__outq *q)
{
	return q ? sizeof(*q) + q->cap : 0;
}

/* q resized to size bytes in all (its data kept), or NULL with q left
 * as it was. */
static struct sock__outq *outq_resize(struct sock__outq *q, size_t size)
{
	size_t old = outq_size(q);
	void *p;

	if (size < OUTQ_MAPPED)
		return realloc(q, size);
	if (old >= OUTQ_MAPPED) {
		p = mremap(q, old, size, MREMAP_MAYMOVE);
		return p == MAP_FAILED ? NULL : p;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (q) {
		memcpy(p, q, old);
		free(q);
	}
	return p;
}

static void outq_free(struct sock__outq *q)
{
	if (outq_size(q) >= OUTQ_MAPPED)
		munmap(q, outq_size(q));
	else
		free(q);
}

void sock__conn_output_free(struct sock_conn *c)
{
	outq_free(c->out);
	c->out = NULL;
}

size_t sock__conn_output_len(const struct sock_conn *c)
{
	return c->out ? c->out->tail - c->out->head : 0;
}

static size_t output_limit(const struct sock_conn *c)
{
	return c->lis->w->srv->cfg.output_limit;
}

/*
 * Append len bytes to c's queue.  Returns 0, -ENOBUFS past the hard
 * limit (a producer that ignored sock_conn_is_full), or -ENOMEM.  The
 * hard limit is four times the output limit, plus what an engine may
 * deliver at once (a handler that answers every input -- echo -- may
 * meet it with its queue just under the output limit, however small
 * that limit is).
 */
static int outq_append(struct sock_conn *c, const void *data, size_t len)
{
	struct sock__outq *q = c->out, *nq;
	size_t used = sock__conn_output_len(c), size;

	if (used + len > 4 * output_limit(c) + SOCK__RECV_MAX)
		return -ENOBUFS;
	/* Move the bytes to the front only when at least as many were sent
	 * as are left (then each byte is moved at most once on average);
	 * otherwise the queue grows. */
	if (q && q->tail + len > q->cap && used + len <= q->cap &&
	    q->head >= used) {
		memmove(q->data, q->data + q->head, used);
		q->head = 0;
		q->tail = (uint32_t)used;
	}
	if (!q || q->tail + len > q->cap) {
		size = q ? 2 * outq_size(q) : OUTQ_FIRST;
		while (size - sizeof(*q) < (q ? q->tail : 0) + len)
			size *= 2;
		nq = outq_resize(q, size);
		if (!nq)
			return -ENOMEM;
		if (!q)
			nq->head = nq->tail = 0;
		nq->cap = (uint32_t)(size - sizeof(*nq));
		c->out = q = nq;
	}
	memcpy(q->data + q->tail, data, len);
	q->tail += (uint32_t)len;
	return 0;
}

/* n queued bytes were sent; an empty queue is freed (idle connections
 * hold no buffer). */
static void outq_consume(struct sock_conn *c, size_t n)
{
	struct sock__outq *q = c->out;

	assert(n <= (size_t)(q->tail - q->head));
	q->head += (uint32_t)n;
	if (q->head == q->tail)
		sock__conn_output_free(c);
}

/* ---- sending ---- */

static void sent(struct sock_conn *c, size_t n)
{
	c->bytes_out += n;
	sock__stat_add(c->lis->stat, SOCK_STAT_BYTES_OUT, (uint64_t)n);
	sock__conn_touch(c);
}

/* Send what c's socket takes of len bytes now.  Returns the count (0 if
 * it takes none), or the -errno that ends the connection. */
static ssize_t send_now(struct sock_conn *c, const void *data, size_t len)
{
	ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n > 0)
		sent(c, (size_t)n);
	return n;
}

int sock__conn_want_room(struct sock_conn *c)
{
	if (c->flags & SOCK__CONN_ROOM)
		return 0;
	c->flags |= SOCK__CONN_ROOM;
	if (!(c->flags & SOCK__CONN_STARTED))
		return 0;
	return sock__conn_loop(c)->eng->conn_want_room(c);
}

bool sock_conn_is_full(const struct sock_conn *c)
{
	return sock__conn_output_len(c) >= output_limit(c);
}

/* The error a send on a connection that no longer sends returns. */
static int closed_error(const struct sock_conn *c)
{
	return c->err ? c->err : -EPIPE;
}

int sock__conn_send_raw(struct sock_conn *c, const void *data, size_t len)
{
	ssize_t n = 0;
	int err;

	if (!c->out) {
		n = send_now(c, data, len);
		if (n < 0) {
			sock__conn_close_soon(c, (int)n);
			return (int)n;
		}
		if ((size_t)n == len)
			return 0;
	}
	err = outq_append(c, (const char *)data + n, len - (size_t)n);
	if (!err)
		err = sock__conn_want_room(c);
	if (err) {
		if (err == -ENOBUFS || err == -ENOMEM)
			sock__report_on(c->lis,
					err == -ENOBUFS ? SOCK__REPORT_OVERFLOW
							: SOCK__REPORT_NOMEM,
					NULL, err);
		sock__conn_close_soon(c, err);
		return err;
	}
	c->flags |= SOCK__CONN_WANT_DRAIN;
	/* Flow control: stop reading from a peer that does not read what
	 * we send it. */
	if (sock_conn_is_full(c))
		sock__conn_set_reading(c, false);
	return 0;
}

int sock_conn_send(struct sock_conn *c, const void *data, size_t len)
{
	if (c->phase != SOCK__CONN_OPEN)
		return closed_error(c);
	if (len == 0)
		return 0;
	if (c->tls)
		return sock__conn_tls_send(c, data, len);
	return sock__conn_send_raw(c, data, len);
}

ssize_t sock_conn_send_some(struct sock_conn *c, const void *data, size_t len)
{
	ssize_t n;
	int err;

	if (c->phase != SOCK__CONN_OPEN)
		return closed_error(c);
	if (c->out) {
		/* Queued output goes first; room is already asked for. */
		c->flags |= SOCK__CONN_WANT_DRAIN;
		return 0;
	}
	if (len == 0)
		return 0;
	if (c->tls)
		return sock__conn_tls_send_some(c, data, len);
	n = send_now(c, data, len);
	if (n < 0) {
		sock__conn_close_soon(c, (int)n);
		return n;
	}
	if ((size_t)n < len) {
		c->flags |= SOCK__CONN_WANT_DRAIN;
		err = sock__conn_want_room(c);
		if (err) {
			sock__conn_close_soon(c, err);
			return err;
		}
	}
	return n;
}

void sock__conn_writable(struct sock_conn *c)
{
	struct sock__outq *q;
	ssize_t n;
	int err;

	c->flags &= (uint8_t)~SOCK__CONN_ROOM;
	if (sock__conn_is_gone(c))
		return;
	if (c->out) {
		q = c->out;
		n = send_now(c, q->data + q->head, q->tail - q->head);
		if (n < 0) {
			sock__conn_close_soon(c, (int)n);
			return;
		}
		outq_consume(c, (size_t)n);
		if (c->out) {
			err = sock__conn_want_room(c);
			if (err)
				sock__conn_close_soon(c, err);
			return;
		}
	}
	sock__conn_drained(c);
}

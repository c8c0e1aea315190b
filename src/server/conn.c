/* SPDX-License-Identifier: MIT */
/* conn.c -- stream connections: handlers, output queue, limits, orderly close */

#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- allocation: slabs of connections, reused through a free list ---- */

static int add_slab(struct sock__worker *w)
{
	struct sock_conn *slab;
	void **slabs;
	size_t i, cap;

	if (w->nslabs == w->slabs_cap) {
		cap = w->slabs_cap ? 2 * w->slabs_cap : 8;
		slabs = realloc(w->slabs, cap * sizeof(*slabs));
		if (!slabs)
			return -ENOMEM;
		w->slabs = slabs;
		w->slabs_cap = cap;
	}
	slab = malloc(SOCK__SLAB_CONNS * sizeof(*slab));
	if (!slab)
		return -ENOMEM;
	w->slabs[w->nslabs++] = slab;
	for (i = 0; i < SOCK__SLAB_CONNS; i++) {
		slab[i].next_pending = w->free_conns;
		w->free_conns = &slab[i];
	}
	return 0;
}

static struct sock_conn *conn_alloc(struct sock__worker *w)
{
	struct sock_conn *c;

	if (!w->free_conns && add_slab(w))
		return NULL;
	c = w->free_conns;
	w->free_conns = c->next_pending;
	memset(c, 0, sizeof(*c));
	return c;
}

void sock__conn_release_slabs(struct sock__worker *w)
{
	size_t i;

	for (i = 0; i < w->nslabs; i++)
		free(w->slabs[i]);
	free(w->slabs);
	w->slabs = NULL;
	w->nslabs = w->slabs_cap = 0;
	w->free_conns = NULL;
}

void sock__conn_release(struct sock_conn *c)
{
	struct sock__worker *w = c->lis->w;

	c->next_pending = w->free_conns;
	w->free_conns = c;
}

/* ---- peer addresses, kept compact ---- */

static void store_peer(struct sock_conn *c, const struct sock_addr *peer)
{
	c->peer_family = (uint8_t)sock_addr_family(peer);
	switch (c->peer_family) {
	case AF_INET:
		memcpy(c->peer_addr, &peer->u.in.sin_addr, 4);
		c->peer_port = ntohs(peer->u.in.sin_port);
		break;
	case AF_INET6:
		memcpy(c->peer_addr, &peer->u.in6.sin6_addr, 16);
		c->peer_port = ntohs(peer->u.in6.sin6_port);
		break;
	}
}

void sock__conn_peer(const struct sock_conn *c, struct sock_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	switch (c->peer_family) {
	case AF_INET:
		addr->u.in.sin_family = AF_INET;
		memcpy(&addr->u.in.sin_addr, c->peer_addr, 4);
		addr->u.in.sin_port = htons(c->peer_port);
		addr->len = sizeof(addr->u.in);
		break;
	case AF_INET6:
		addr->u.in6.sin6_family = AF_INET6;
		memcpy(&addr->u.in6.sin6_addr, c->peer_addr, 16);
		addr->u.in6.sin6_port = htons(c->peer_port);
		addr->len = sizeof(addr->u.in6);
		break;
	case AF_UNIX:
		addr->u.un.sun_family = AF_UNIX;
		addr->len = sizeof(sa_family_t);
		break;
	}
}

int sock_conn_peer(const struct sock_conn *c, struct sock_addr *addr)
{
	sock__conn_peer(c, addr);
	if (c->peer_family == AF_UNIX && c->fd >= 0) {
		/* Unix peers are rarely named; ask only when wanted. */
		struct sock s = { .fd = c->fd };

		return sock_getpeername(&s, addr);
	}
	return addr->len ? 0 : -ENOTCONN;
}

/* ---- accessors ---- */

void *sock_conn_data(const struct sock_conn *c)
{
	return c->data;
}

void sock_conn_set_data(struct sock_conn *c, void *data)
{
	c->data = data;
}

void *sock_conn_service_data(const struct sock_conn *c)
{
	return c->lis->svc->data;
}

struct sock_loop *sock_conn_loop(const struct sock_conn *c)
{
	return c->lis->w->loop;
}

/* ---- the output queue ---- */

size_t sock__conn_output_limit(const struct sock_conn *c)
{
	return c->lis->w->srv->cfg.output_limit;
}

int sock__outq_append(struct sock_conn *c, const void *data, size_t len)
{
	size_t limit = 4 * sock__conn_output_limit(c);
	struct sock__outq *q = c->out, *nq;
	size_t used = q ? q->tail - q->head : 0, cap;

	if (used + len > limit)
		return -ENOBUFS;
	if (q && q->tail + len > q->cap && q->head) {
		memmove(q->data, q->data + q->head, used);
		q->head = 0;
		q->tail = (uint32_t)used;
	}
	if (!q || q->tail + len > q->cap) {
		cap = q ? 2 * (size_t)q->cap : 4096;
		while (cap < used + len)
			cap *= 2;
		nq = realloc(q, sizeof(*nq) + cap);
		if (!nq)
			return -ENOMEM;
		if (!q)
			nq->head = nq->tail = 0;
		nq->cap = (uint32_t)cap;
		c->out = q = nq;
	}
	memcpy(q->data + q->tail, data, len);
	q->tail += (uint32_t)len;
	return 0;
}

void sock__outq_consume(struct sock_conn *c, size_t n)
{
	struct sock__outq *q = c->out;

	q->head += (uint32_t)n;
	if (q->head == q->tail) {
		/* Idle connections hold no buffer. */
		free(q);
		c->out = NULL;
	}
}

/* ---- activity and closing ---- */

/* Note activity: c moves to the tail of the idle list (once per ms). */
static inline void touch(struct sock_conn *c)
{
	struct sock__worker *w = c->lis->w;
	int64_t now = w->loop->now_ms;

	if (c->active_ms == now || (c->state & SOCK__CONN_LINGER))
		return;
	c->active_ms = now;
	sock__list_del(&c->idle);
	sock__list_add_tail(&w->idle, &c->idle);
}

/* Close c after this batch, with err as the reason. */
static void schedule_close(struct sock_conn *c, int err)
{
	struct sock__worker *w = c->lis->w;

	if (c->state & (SOCK__CONN_PENDING | SOCK__CONN_DEAD))
		return;
	if (err && !c->err)
		c->err = err;
	c->state |= SOCK__CONN_PENDING | SOCK__CONN_CLOSING;
	/* Out of the timeout lists, so no check finds it twice. */
	sock__list_del(&c->idle);
	sock__list_del(&c->all);
	c->next_pending = w->pending;
	w->pending = c;
}

void sock__conn_failed(struct sock_conn *c, int err)
{
	schedule_close(c, err);
}

void sock_conn_abort(struct sock_conn *c, int err)
{
	schedule_close(c, err);
}

/* Bytes the kernel has received on fd that no one has read. */
static int unread_bytes(int fd)
{
	int n = 0;

	if (ioctl(fd, FIONREAD, &n) < 0)
		return 0;
	return n;
}

/*
 * All output is out and c is closing.  Closing a socket whose peer still
 * sends makes the kernel answer with a reset, which can destroy our last
 * reply before the peer reads it.  Input unread right now is not the
 * test: a peer that sent something may send more a moment later.  So
 * close at once only when the peer has ended its side, or has never sent
 * a byte and nothing waits (a time client); otherwise shut our side down
 * and read until the peer closes: the "lingering close".
 */
static void close_when_drained(struct sock_conn *c)
{
	struct sock__worker *w = c->lis->w;

	if (c->state & SOCK__CONN_LINGER)
		return; /* already done (a producer's wait for room ended) */
	if ((c->state & SOCK__CONN_EOF) ||
	    (c->bytes_in == 0 && unread_bytes(c->fd) == 0)) {
		schedule_close(c, 0);
		return;
	}
	if (shutdown(c->fd, SHUT_WR) < 0) {
		schedule_close(c, -errno);
		return;
	}
	c->state |= SOCK__CONN_LINGER;
	c->active_ms = w->loop->now_ms;
	sock__list_del(&c->idle);
	sock__list_add_tail(&w->linger, &c->idle);
	w->loop->eng->conn_reading(c, true);
}

void sock_conn_close(struct sock_conn *c)
{
	if (c->state & (SOCK__CONN_CLOSING | SOCK__CONN_DEAD))
		return;
	c->state |= SOCK__CONN_CLOSING;
	if (!c->out)
		close_when_drained(c);
}

bool sock_conn_is_full(const struct sock_conn *c)
{
	return sock__outq_len(c) >= sock__conn_output_limit(c);
}

int sock_conn_send(struct sock_conn *c, const void *data, size_t len)
{
	struct sock_loop *loop = c->lis->w->loop;
	int err;

	if (c->state & SOCK__CONN_CLOSING)
		return c->err ? c->err : -EPIPE;
	if (len == 0)
		return 0;
	err = loop->eng->conn_send(c, data, len);
	if (err) {
		if (err == -ENOBUFS || err == -ENOMEM)
			sock__report(c->lis->w,
				     err == -ENOBUFS ? SOCK__REPORT_OVERFLOW
						     : SOCK__REPORT_NOMEM,
				     c->lis->svc->name, NULL, err);
		schedule_close(c, err);
		return err;
	}
	if (c->out) {
		c->state |= SOCK__CONN_WANT_DRAIN;
		/* Flow control: stop reading from a peer that does not read
		 * what we send it. */
		if ((c->state & SOCK__CONN_READING) && sock_conn_is_full(c)) {
			c->state &= (uint16_t)~SOCK__CONN_READING;
			loop->eng->conn_reading(c, false);
		}
	}
	return 0;
}

/*
 * Nothing is queued (c->out is NULL), so no engine operation writes to
 * the socket: the bytes go straight out, on either engine, and only the
 * wait for room is the engine's.
 */
ssize_t sock_conn_send_some(struct sock_conn *c, const void *data, size_t len)
{
	ssize_t n;
	int err;

	if (c->state & SOCK__CONN_CLOSING)
		return c->err ? c->err : -EPIPE;
	if (c->out) {
		c->state |= SOCK__CONN_WANT_DRAIN;
		return 0;
	}
	if (len == 0)
		return 0;
	n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			err = -errno;
			schedule_close(c, err);
			return err;
		}
		n = 0;
	}
	if (n > 0)
		sock__conn_sent(c, (size_t)n);
	if ((size_t)n < len) {
		c->state |= SOCK__CONN_WANT_DRAIN;
		err = c->lis->w->loop->eng->conn_want_room(c);
		if (err) {
			schedule_close(c, err);
			return err;
		}
	}
	return n;
}

void sock__conn_sent(struct sock_conn *c, size_t bytes)
{
	c->bytes_out += bytes;
	touch(c);
}

void sock__conn_drained(struct sock_conn *c)
{
	const struct sock_service *svc = c->lis->svc;

	if (c->state & (SOCK__CONN_PENDING | SOCK__CONN_DEAD))
		return;
	if (c->state & SOCK__CONN_CLOSING) {
		close_when_drained(c);
		return;
	}
	if (!(c->state & SOCK__CONN_READING)) {
		c->state |= SOCK__CONN_READING;
		c->lis->w->loop->eng->conn_reading(c, true);
	}
	if (c->state & SOCK__CONN_WANT_DRAIN) {
		c->state &= (uint16_t)~SOCK__CONN_WANT_DRAIN;
		if (svc->on_drain)
			svc->on_drain(c);
	}
}

void sock__conn_received(struct sock_conn *c, const void *data, size_t len)
{
	struct sock_loop *loop = c->lis->w->loop;

	if (c->state & (SOCK__CONN_PENDING | SOCK__CONN_DEAD))
		return;
	if (len == 0) {
		c->state |= SOCK__CONN_EOF;
		if ((c->state & SOCK__CONN_LINGER) || !c->out) {
			schedule_close(c, 0);
			return;
		}
		/* Output still queued: end of stream stays readable, so stop
		 * asking, and close once the queue is sent. */
		c->state &= (uint16_t)~SOCK__CONN_READING;
		loop->eng->conn_reading(c, false);
		sock_conn_close(c);
		return;
	}
	c->bytes_in += len;
	if (c->state & SOCK__CONN_CLOSING)
		return; /* lingering: input is dropped */
	touch(c);
	c->lis->svc->on_data(c, data, len);
}

/* ---- opening ---- */

void sock__conn_open(struct sock__listener *l, int fd,
		     const struct sock_addr *peer)
{
	struct sock__worker *w = l->w;
	const struct sock_service *svc = l->svc;
	struct sock_conn *c;
	int err;

	c = conn_alloc(w);
	if (!c) {
		sock__report(w, SOCK__REPORT_NOMEM, svc->name, peer, -ENOMEM);
		sock__source_del(w->srv, peer);
		close(fd);
		return;
	}
	c->fd = fd;
	c->lis = l;
	c->state = SOCK__CONN_READING;
	c->opened_ms = c->active_ms = w->loop->now_ms;
	store_peer(c, peer);
	sock__list_add_tail(&w->conns, &c->all);
	sock__list_add_tail(&w->idle, &c->idle);
	sock__worker_conn_started(w, svc->name);
	sock__emit(w, SOCK_EV_ACCEPT, svc->name, peer, 0, NULL);
	c->state |= SOCK__CONN_OPENED;
	if (svc->on_open)
		svc->on_open(c);
	/* A connection closed by on_open with everything sent (time,
	 * daytime) never needs to be watched. */
	if (c->state & SOCK__CONN_PENDING)
		return;
	err = w->loop->eng->conn_start(c);
	if (err)
		schedule_close(c, err);
}

/* ---- closing ---- */

static void finish(struct sock_conn *c)
{
	struct sock__worker *w = c->lis->w;
	const struct sock_service *svc = c->lis->svc;
	struct sock_event ev;
	struct sock_addr peer;

	c->state |= SOCK__CONN_DEAD | SOCK__CONN_CLOSING;
	if ((c->state & SOCK__CONN_OPENED) && svc->on_close)
		svc->on_close(c, c->err);
	sock__conn_peer(c, &peer);
	if (w->srv->cfg.on_event) {
		memset(&ev, 0, sizeof(ev));
		ev.kind = SOCK_EV_CLOSE;
		ev.service = svc->name;
		ev.addr = &peer;
		ev.err = c->err;
		ev.bytes_in = c->bytes_in;
		ev.bytes_out = c->bytes_out;
		ev.duration_ms = w->loop->now_ms - c->opened_ms;
		ev.worker = w->index;
		w->srv->cfg.on_event(&ev, w->srv->cfg.event_data);
	}
	sock__source_del(w->srv, &peer);
	free(c->out);
	c->out = NULL;
	/* A forked handler may hold this descriptor too: closing ours alone
	 * would not end the connection. */
	if (w->srv->forks)
		shutdown(c->fd, SHUT_RDWR);
	w->loop->eng->conn_close(c);
	sock__worker_conn_ended(w);
}

void sock__conn_flush_pending(struct sock__worker *w)
{
	struct sock_conn *c;

	/* on_close may send on other connections and fail them: they join
	 * the list while it is being emptied. */
	while ((c = w->pending)) {
		w->pending = c->next_pending;
		c->next_pending = NULL;
		finish(c);
	}
}

static bool expired(const struct sock__list *head, int64_t now, int limit_ms)
{
	const struct sock_conn *c;

	if (sock__list_is_empty(head) || limit_ms < 0)
		return false;
	c = sock__container_of(head->next, struct sock_conn, idle);
	return now - c->active_ms >= limit_ms;
}

void sock__conn_check_timeouts(struct sock__worker *w)
{
	const struct sock_server_config *cfg = &w->srv->cfg;
	int64_t now = w->loop->now_ms;
	struct sock_conn *c;
	struct sock_addr peer;

	while (expired(&w->idle, now, cfg->idle_timeout_ms)) {
		c = sock__container_of(w->idle.next, struct sock_conn, idle);
		sock__conn_peer(c, &peer);
		sock__report(w, SOCK__REPORT_IDLE, c->lis->svc->name, &peer,
			     -ETIMEDOUT);
		schedule_close(c, -ETIMEDOUT);
	}
	while (expired(&w->linger, now, SOCK__LINGER_MS)) {
		c = sock__container_of(w->linger.next, struct sock_conn, idle);
		schedule_close(c, 0);
	}
	while (cfg->total_timeout_ms >= 0 && !sock__list_is_empty(&w->conns)) {
		c = sock__container_of(w->conns.next, struct sock_conn, all);
		if (now - c->opened_ms < cfg->total_timeout_ms)
			break;
		sock__conn_peer(c, &peer);
		sock__report(w, SOCK__REPORT_TOTAL, c->lis->svc->name, &peer,
			     -ETIMEDOUT);
		schedule_close(c, -ETIMEDOUT);
	}
}

void sock__conn_abort_all(struct sock__worker *w, int err)
{
	struct sock_conn *c;

	while (!sock__list_is_empty(&w->conns)) {
		c = sock__container_of(w->conns.next, struct sock_conn, all);
		schedule_close(c, (c->state & SOCK__CONN_LINGER) ? 0 : err);
	}
}

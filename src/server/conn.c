/* SPDX-License-Identifier: MIT */
/* conn.c -- stream connections: their life from accept to release, input, orderly close */

#include "core.h"

#include <assert.h>

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
	return c->lis->loop;
}

/* ---- the state machine (engine.h has the diagram) ---- */

/* Which phases each phase may go to. */
static const uint8_t phase_next[] = {
	[SOCK__CONN_OPEN] = 1 << SOCK__CONN_CLOSING | 1 << SOCK__CONN_LINGER |
			    1 << SOCK__CONN_PENDING,
	[SOCK__CONN_CLOSING] = 1 << SOCK__CONN_LINGER | 1 << SOCK__CONN_PENDING,
	[SOCK__CONN_LINGER] = 1 << SOCK__CONN_PENDING,
	[SOCK__CONN_PENDING] = 1 << SOCK__CONN_DEAD,
	[SOCK__CONN_DEAD] = 0,
};

static void set_phase(struct sock_conn *c, enum sock__conn_phase to)
{
	assert(c->phase < SOCK_ARRAY_SIZE(phase_next));
	assert(phase_next[c->phase] & (1u << to));
	c->phase = (uint8_t)to;
}

/* Tell the engine that sock__conn_wants_input(c) may have changed. */
static void reading_changed(struct sock_conn *c)
{
	if (c->flags & SOCK__CONN_STARTED)
		sock__conn_loop(c)->eng->conn_reading(c);
}

void sock__conn_set_reading(struct sock_conn *c, bool on)
{
	if (on == !!(c->flags & SOCK__CONN_READING))
		return;
	if (on)
		c->flags |= SOCK__CONN_READING;
	else
		c->flags &= (uint8_t)~SOCK__CONN_READING;
	reading_changed(c);
}

/* ---- activity and closing ---- */

void sock__conn_touch(struct sock_conn *c)
{
	struct sock__worker *w = c->lis->w;
	int64_t now = w->loop->now_ms;

	/* Once per ms at most; lingering connections keep their place on
	 * the linger list. */
	if (c->active_ms == now || c->phase == SOCK__CONN_LINGER)
		return;
	c->active_ms = now;
	sock__list_del(&c->idle);
	sock__list_add_tail(&w->idle, &c->idle);
}

void sock__conn_close_soon(struct sock_conn *c, int err)
{
	struct sock__worker *w = c->lis->w;

	if (c->phase >= SOCK__CONN_PENDING)
		return;
	if (err && !c->err)
		c->err = err;
	set_phase(c, SOCK__CONN_PENDING);
	/* Out of the timeout lists, so no check finds it twice. */
	sock__list_del(&c->idle);
	sock__list_del(&c->all);
	c->next_pending = w->pending;
	w->pending = c;
}

void sock__conn_failed(struct sock_conn *c, int err)
{
	sock__conn_close_soon(c, err);
}

void sock_conn_abort(struct sock_conn *c, int err)
{
	sock__conn_close_soon(c, err);
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

	assert(!c->out);
	if ((c->flags & SOCK__CONN_EOF) ||
	    (c->bytes_in == 0 && unread_bytes(c->fd) == 0)) {
		sock__conn_close_soon(c, 0);
		return;
	}
	if (shutdown(c->fd, SHUT_WR) < 0) {
		sock__conn_close_soon(c, -errno);
		return;
	}
	set_phase(c, SOCK__CONN_LINGER);
	c->active_ms = w->loop->now_ms;
	sock__list_del(&c->idle);
	sock__list_add_tail(&w->linger, &c->idle);
	reading_changed(c);
}

void sock_conn_close(struct sock_conn *c)
{
	if (c->phase != SOCK__CONN_OPEN)
		return;
	if (c->tls) {
		/* close_notify first: it may fail the connection. */
		sock__conn_tls_notify(c);
		if (c->phase != SOCK__CONN_OPEN)
			return;
	}
	if (c->out)
		set_phase(c, SOCK__CONN_CLOSING);
	else
		close_when_drained(c);
}

void sock__conn_drained(struct sock_conn *c)
{
	const struct sock_service *svc = c->lis->svc;

	if (c->phase == SOCK__CONN_CLOSING) {
		close_when_drained(c);
		return;
	}
	if (c->phase != SOCK__CONN_OPEN)
		return;
	/* Flow control ends with the queue. */
	sock__conn_set_reading(c, true);
	if (c->flags & SOCK__CONN_WANT_DRAIN) {
		c->flags &= (uint8_t)~SOCK__CONN_WANT_DRAIN;
		if (svc->on_drain)
			svc->on_drain(c);
	}
}

/* ---- input ---- */

void sock__conn_received(struct sock_conn *c, const void *data, size_t len)
{
	if (sock__conn_is_gone(c))
		return;
	if (len == 0) {
		/* A TLS stream cut without close_notify was maybe cut
		 * short: not an orderly end. */
		if (c->tls && c->phase == SOCK__CONN_OPEN &&
		    !sock__conn_tls_peer_ended(c)) {
			sock__conn_close_soon(c, SOCK_ETLSEOF);
			return;
		}
		c->flags |= SOCK__CONN_EOF;
		if (c->phase == SOCK__CONN_LINGER || !c->out) {
			sock__conn_close_soon(c, 0);
			return;
		}
		/* Output still queued: the end of stream stays readable, so
		 * stop asking, and close once the queue is sent. */
		sock__conn_set_reading(c, false);
		sock_conn_close(c);
		return;
	}
	c->bytes_in += len;
	sock__stat_add(c->lis->stat, SOCK_STAT_BYTES_IN, len);
	if (c->phase != SOCK__CONN_OPEN)
		return; /* closing or lingering: input is dropped */
	sock__conn_touch(c);
	if (c->tls)
		sock__conn_tls_received(c, data, len);
	/* A service that only sends has no on_data: input is dropped. */
	else if (c->lis->svc->on_data)
		c->lis->svc->on_data(c, data, len);
}

/* ---- opening ---- */

static void conn_open(struct sock__listener *l, int fd,
		      const struct sock_addr *peer, void *tls)
{
	struct sock__worker *w = l->w;
	const struct sock_service *svc = l->svc;
	struct sock_conn *c;
	int err;

	c = conn_alloc(w);
	if (!c) {
		sock__report_on(l, SOCK__REPORT_NOMEM, peer, -ENOMEM);
		sock__source_del(w->srv, peer);
		sock__worker_conn_ended(w);
		sock__tls_session_free(tls);
		close(fd);
		return;
	}
	c->tls = tls;
	if (tls)
		sock__conn_tls_bind(c);
	c->fd = fd;
	c->lis = l;
	c->phase = SOCK__CONN_OPEN;
	c->flags = SOCK__CONN_READING;
	c->opened_ms = c->active_ms = w->loop->now_ms;
	store_peer(c, peer);
	sock__list_add_tail(&w->conns, &c->all);
	sock__list_add_tail(&w->idle, &c->idle);
	sock__stat_add(l->stat, SOCK_STAT_ACCEPTED, 1);
	sock__emit(w, SOCK_EV_ACCEPT, svc->name, peer, 0, NULL);
	c->flags |= SOCK__CONN_OPENED;
	if (svc->on_open)
		svc->on_open(c);
	/* A connection closed by on_open with everything sent (time,
	 * daytime) never needs to be watched. */
	if (sock__conn_is_gone(c))
		return;
	c->flags |= SOCK__CONN_STARTED;
	err = w->loop->eng->conn_start(c);
	if (err)
		sock__conn_close_soon(c, err);
}

void sock__conn_open(struct sock__listener *l, int fd,
		     const struct sock_addr *peer)
{
	conn_open(l, fd, peer, NULL);
}

void sock__conn_open_tls(struct sock__listener *l, int fd,
			 const struct sock_addr *peer, void *ssl)
{
	conn_open(l, fd, peer, ssl);
}

/* ---- closing ---- */

static void emit_close(struct sock__worker *w, const struct sock_conn *c,
		       const struct sock_addr *peer)
{
	struct sock_event ev;

	sock__stat_add(c->lis->stat, SOCK_STAT_CLOSED, 1);
	if (!w->srv->cfg.on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = SOCK_EV_CLOSE;
	ev.service = c->lis->svc->name;
	ev.addr = peer;
	ev.err = c->err;
	ev.bytes_in = c->bytes_in;
	ev.bytes_out = c->bytes_out;
	ev.duration_ms = w->loop->now_ms - c->opened_ms;
	ev.worker = w->index;
	w->srv->cfg.on_event(&ev, w->srv->cfg.event_data);
}

static void finish(struct sock_conn *c)
{
	struct sock__worker *w = c->lis->w;
	const struct sock_service *svc = c->lis->svc;
	struct sock_addr peer;

	set_phase(c, SOCK__CONN_DEAD);
	if ((c->flags & SOCK__CONN_OPENED) && svc->on_close)
		svc->on_close(c, c->err);
	sock__conn_peer(c, &peer);
	emit_close(w, c, &peer);
	sock__source_del(w->srv, &peer);
	sock__conn_output_free(c);
	if (c->tls)
		sock__conn_tls_free(c);
	/* A forked handler may hold this descriptor too: closing ours alone
	 * would not end the connection. */
	if (w->srv->forks)
		shutdown(c->fd, SHUT_RDWR);
	w->loop->eng->conn_close(c);
	sock__worker_conn_ended(w);
}

void sock__conn_release(struct sock_conn *c)
{
	struct sock__worker *w = c->lis->w;

	assert(c->phase == SOCK__CONN_DEAD && c->fd < 0 && !c->engine_ops);
	c->next_pending = w->free_conns;
	w->free_conns = c;
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

/* Close c for a timeout (kind).  It is a deliberate end, so a TLS peer
 * is told (close_notify, sent at once on a socket that is not full), and
 * does not take it for a cut stream. */
static void timed_out(struct sock_conn *c, enum sock__report_kind kind)
{
	struct sock_addr peer;

	sock__conn_peer(c, &peer);
	sock__report_on(c->lis, kind, &peer, -ETIMEDOUT);
	if (c->tls && c->phase == SOCK__CONN_OPEN)
		sock__conn_tls_notify(c);
	sock__conn_close_soon(c, -ETIMEDOUT);
}

void sock__conn_check_timeouts(struct sock__worker *w)
{
	const struct sock_server_config *cfg = &w->srv->cfg;
	int64_t now = w->loop->now_ms;
	struct sock_conn *c;

	while (expired(&w->idle, now, cfg->idle_timeout_ms)) {
		c = sock__container_of(w->idle.next, struct sock_conn, idle);
		timed_out(c, SOCK__REPORT_IDLE);
	}
	while (expired(&w->linger, now, SOCK__LINGER_MS)) {
		c = sock__container_of(w->linger.next, struct sock_conn, idle);
		sock__conn_close_soon(c, 0);
	}
	while (cfg->total_timeout_ms >= 0 && !sock__list_is_empty(&w->conns)) {
		c = sock__container_of(w->conns.next, struct sock_conn, all);
		if (now - c->opened_ms < cfg->total_timeout_ms)
			break;
		timed_out(c, SOCK__REPORT_TOTAL);
	}
}

void sock__conn_abort_all(struct sock__worker *w, int err)
{
	struct sock_conn *c;

	while (!sock__list_is_empty(&w->conns)) {
		c = sock__container_of(w->conns.next, struct sock_conn, all);
		sock__conn_close_soon(c,
				      c->phase == SOCK__CONN_LINGER ? 0 : err);
	}
}

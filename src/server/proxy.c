/* SPDX-License-Identifier: MIT */
/* proxy.c -- the PROXY protocol on accept: trusted proxies, the header read under a timeout */

/*
 * A listener with proxies configured (sock_server_proxy) serves only
 * connections from them, and each one's first bytes must be a PROXY
 * header (proxy_header.c parses it).  The header is read on the loop, by a
 * watch on the descriptor, taking only bytes that belong to it (a
 * version 2 header says its length; a version 1 line is peeked at and
 * taken through its LF), so that what follows is the service's, whole,
 * on either engine.  Until the header is in, the connection holds a slot
 * under the server's cap (not its proxy's per-source count: every
 * connection of a proxy comes from it) and has its own timeout.  Then the
 * client's address from the header is the peer everywhere: the access
 * ranges and verify hook, the per-source cap, events, handlers.
 */

#include "core.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long a connection may take to send its header, by default. */
#define PROXY_TIMEOUT_MS 5000

/* A connection whose PROXY header is being read. */
struct proxied {
	struct sock__list link; /* in its listener's proxied */
	struct sock__listener *l;
	int fd;
	struct sock_addr proxy; /* the peer that connected: the proxy */
	struct sock_watch watch;
	struct sock_timer timer;
	size_t have;
	uint8_t buf[SOCK__PROXY_MAX];
};

bool sock__proxy_trusts(const struct sock__access *a,
			const struct sock_addr *peer)
{
	int family = sock_addr_family(peer);
	uint8_t key[16];
	size_t i;

	if (family != AF_INET && family != AF_INET6)
		return false;
	sock__host_key(peer, key);
	for (i = 0; i < a->nproxy; i++)
		if (sock__access_match(&a->proxy_from[i], key))
			return true;
	return false;
}

/* Close fd, which no handler was given: shut down first when the server
 * forks handlers, as a child forked meanwhile holds a copy of it (the
 * peer must see the end now, not when that child exits). */
static void close_conn(const struct sock__listener *l, int fd)
{
	if (l->w->srv->forks)
		shutdown(fd, SHUT_RDWR);
	close(fd);
}

/* p leaves: its watch and timer stopped, it unlinked and freed; its
 * descriptor stays open (the caller's). */
static void proxied_free(struct proxied *p)
{
	sock_unwatch(&p->watch);
	sock_timer_stop(p->l->w->loop, &p->timer);
	sock__list_del(&p->link);
	free(p);
}

/* The header could not be had: the connection is closed, its slot
 * freed, the reason reported with the proxy's address. */
static void proxied_fail(struct proxied *p, int err)
{
	struct sock__listener *l = p->l;
	struct sock__worker *w = l->w;
	struct sock_addr proxy = p->proxy;
	int fd = p->fd;

	proxied_free(p);
	close_conn(l, fd);
	sock__report_on(l, SOCK__REPORT_PROXY_HEADER, &proxy, err);
	sock__worker_conn_ended(w);
}

/* The header is in: serve the connection as from the client it names. */
static void proxied_done(struct proxied *p, const struct sock__proxy_header *h)
{
	struct sock__listener *l = p->l;
	struct sock__worker *w = l->w;
	enum sock__report_kind why;
	struct sock_addr peer;
	int fd = p->fd;

	peer = h->local ? p->proxy : h->src;
	sock_addr_unmap(&peer);
	proxied_free(p);
	why = sock__access_check(l->access, l->svc, &peer);
	if (why != SOCK__REPORT_COUNT) {
		sock__report_on(l, why, &peer, -EACCES);
		close_conn(l, fd);
		sock__worker_conn_ended(w);
		return;
	}
	sock__listener_serve_peer(l, fd, &peer);
}

/*
 * Take what the reader may of the header: n bytes that surely belong to
 * it, or for a version 1 line the bytes up to and including its LF (seen
 * with MSG_PEEK first).  Returns the bytes taken, 0 at the end of the
 * stream, or -errno.
 */
static ssize_t take(struct proxied *p, size_t n, bool line)
{
	uint8_t *at = p->buf + p->have;
	uint8_t *lf;
	ssize_t got;

	if (line) {
		got = recv(p->fd, at, n, MSG_PEEK);
		if (got <= 0)
			return got < 0 ? -errno : 0;
		lf = memchr(at, '\n', (size_t)got);
		n = lf ? (size_t)(lf - at) + 1 : (size_t)got;
	}
	got = recv(p->fd, at, n, 0);
	return got < 0 ? -errno : got;
}

static void proxied_readable(struct sock_watch *watch, int revents, void *arg)
{
	struct proxied *p = arg;
	struct sock__proxy_header h;
	bool line = false;
	ssize_t got;
	int r;

	(void)watch;
	(void)revents;
	r = sock__proxy_parse(p->buf, p->have, &h, &line);
	if (r <= 0) { /* cannot be: a verdict ends the wait */
		proxied_fail(p, r ? r : -EPROTO);
		return;
	}
	got = take(p, (size_t)r, line);
	if (got == -EAGAIN || got == -EINTR)
		return;
	if (got <= 0) {
		/* Ended or reset before the header was whole. */
		proxied_fail(p, got ? (int)got : SOCK_EEOF);
		return;
	}
	p->have += (size_t)got;
	line = false;
	r = sock__proxy_parse(p->buf, p->have, &h, &line);
	if (r == 0)
		proxied_done(p, &h);
	else if (r < 0)
		proxied_fail(p, r);
}

static void proxied_timeout(struct sock_timer *t, void *arg)
{
	(void)t;
	proxied_fail(arg, -ETIMEDOUT);
}

void sock__proxy_begin(struct sock__listener *l, int fd,
		       const struct sock_addr *proxy)
{
	struct sock__worker *w = l->w;
	struct proxied *p;
	int err = -ENOMEM;

	p = malloc(sizeof(*p));
	if (!p)
		goto fail;
	memset(p, 0, offsetof(struct proxied, buf));
	p->l = l;
	p->fd = fd;
	p->proxy = *proxy;
	sock__list_init(&p->link);
	sock_timer_init(&p->timer, proxied_timeout, p);
	err = sock_timer_start(w->loop, &p->timer,
			       l->access->proxy_timeout_ms
				       ? l->access->proxy_timeout_ms
				       : PROXY_TIMEOUT_MS,
			       0);
	if (err)
		goto fail;
	err = sock_watch(w->loop, &p->watch, fd, POLLIN, proxied_readable, p);
	if (err) {
		sock_timer_stop(w->loop, &p->timer);
		goto fail;
	}
	sock__list_add_tail(&l->proxied, &p->link);
	return;

fail:
	free(p);
	close(fd);
	sock__report_on(
		l, err == -ENOMEM ? SOCK__REPORT_NOMEM : SOCK__REPORT_ACCEPT,
		proxy, err);
	sock__worker_conn_ended(w);
}

void sock__proxy_drop(struct sock__listener *l)
{
	struct proxied *p;
	int fd;

	while (!sock__list_is_empty(&l->proxied)) {
		p = sock__container_of(l->proxied.next, struct proxied, link);
		fd = p->fd;
		proxied_free(p);
		close_conn(l, fd);
		sock__worker_conn_ended(l->w);
	}
}

void sock__proxy_close_inherited(struct sock__listener *l)
{
	struct sock__list *e;

	for (e = l->proxied.next; e != &l->proxied; e = e->next)
		close(sock__container_of(e, struct proxied, link)->fd);
}

/* SPDX-License-Identifier: MIT */
/* dgram.c -- datagrams: truncation, loop and reflection guard, dispatch */

#include "core.h"

#include <string.h>

struct sock_dgram {
	struct sock__listener *lis;
	const struct sock_addr *peer;
};

/*
 * A token bucket per source host in a direct-mapped table: a host that
 * shares a slot with another resets it, so the table stays bounded
 * whatever the number of sources; a reflection attack, whose datagrams
 * all name the victim, meets one bucket.
 */
static bool rate_allows(struct sock_server *srv, const struct sock_addr *peer,
			int64_t now)
{
	uint32_t rate = srv->cfg.dgram_rate;
	struct sock__rate *r;
	uint8_t key[16];
	int64_t elapsed;
	bool ok;

	if (rate == SOCK_UNLIMITED || !srv->rates)
		return true;
	sock__host_key(peer, key);
	pthread_mutex_lock(&srv->rate_lock);
	r = &srv->rates[sock__host_hash(key) % SOCK__RATE_SLOTS];
	if (memcmp(r->addr, key, 16) != 0 || r->refill_ms == 0) {
		memcpy(r->addr, key, 16);
		r->tokens = rate;
		r->refill_ms = now;
	}
	elapsed = now - r->refill_ms;
	if (elapsed > 0) {
		uint64_t add = (uint64_t)elapsed * rate / 1000;

		if (add > 0) {
			r->tokens = (uint32_t)(r->tokens + add > rate
						       ? rate
						       : r->tokens + add);
			r->refill_ms = now;
		}
	}
	ok = r->tokens > 0;
	if (ok)
		r->tokens--;
	pthread_mutex_unlock(&srv->rate_lock);
	return ok;
}

static bool is_own_port(const struct sock_server *srv, int port)
{
	size_t i;

	for (i = 0; i < srv->nown_ports; i++)
		if (srv->own_ports[i] == port)
			return true;
	return false;
}

/*
 * Whether to serve a datagram from peer at all.  Replying to a privileged
 * port or to one of our own services is how the classic UDP loops start
 * (echo answering chargen, forever); a flood from one host is answered
 * only up to a rate, except on loopback, which no one can spoof from
 * outside.
 */
static enum sock__report_kind guard(struct sock__listener *l,
				    const struct sock_addr *peer)
{
	struct sock_server *srv = l->w->srv;
	int family = sock_addr_family(peer), port;

	if (family != AF_INET && family != AF_INET6)
		return SOCK__REPORT_COUNT;
	port = sock_addr_port(peer);
	if (!srv->cfg.allow_privileged_peers) {
		if (port < 1024)
			return SOCK__REPORT_PRIVILEGED;
		if (is_own_port(srv, port))
			return SOCK__REPORT_OWN_PORT;
	}
	if (!sock_addr_is_loopback(peer) &&
	    !rate_allows(srv, peer, l->w->loop->now_ms))
		return SOCK__REPORT_RATE;
	return SOCK__REPORT_COUNT;
}

void sock__dgram_received(struct sock__listener *l, const void *data,
			  size_t len, int flags, const struct sockaddr *sa,
			  socklen_t salen)
{
	const struct sock_service *svc = l->svc;
	struct sock_dgram d;
	struct sock_addr peer;
	enum sock__report_kind why;

	if (sock_addr_from_sockaddr(&peer, sa, salen))
		memset(&peer, 0, sizeof(peer));
	if (flags & MSG_TRUNC) {
		sock__report(l->w, SOCK__REPORT_TRUNCATED, svc->name, &peer,
			     SOCK_ETRUNC);
		return;
	}
	why = guard(l, &peer);
	if (why != SOCK__REPORT_COUNT) {
		sock__report(l->w, why, svc->name, &peer, -EPERM);
		return;
	}
	if (svc->mode != SOCK_MODE_EVENT) {
		sock__job_datagram(l, data, len, &peer);
		return;
	}
	d.lis = l;
	d.peer = &peer;
	svc->on_datagram(&d, data, len);
}

int sock_dgram_reply(struct sock_dgram *d, const void *data, size_t len)
{
	struct sock__listener *l = d->lis;

	if (len > l->w->srv->cfg.max_datagram)
		return -EMSGSIZE;
	if (d->peer->len == 0 || (sock_addr_family(d->peer) == AF_UNIX &&
				  d->peer->len <= sizeof(sa_family_t)))
		return -EDESTADDRREQ; /* an unnamed Unix sender */
	return l->w->loop->eng->dgram_reply(l, data, len, d->peer);
}

const struct sock_addr *sock_dgram_peer(const struct sock_dgram *d)
{
	return d->peer;
}

void *sock_dgram_service_data(const struct sock_dgram *d)
{
	return d->lis->svc->data;
}

struct sock_loop *sock_dgram_loop(const struct sock_dgram *d)
{
	return d->lis->w->loop;
}

void sock__dgram_reply_failed(struct sock__listener *l, int err)
{
	sock__report(l->w, SOCK__REPORT_OVERFLOW, l->svc->name, NULL, err);
}

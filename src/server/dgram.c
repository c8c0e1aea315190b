/* SPDX-License-Identifier: MIT */
/* dgram.c -- datagrams: truncation, loop and reflection guard, dispatch */

#include "core.h"

#include <string.h>

/*
 * room is what the amplification bound leaves for the replies to this
 * datagram, in bytes on the wire (IP and UDP headers included);
 * SOCK__UNBOUNDED when there is no bound.  watched: the sender is an IP
 * host that is not loopback, so replies are remembered for the
 * returned-reply check.
 */
struct sock_dgram {
	struct sock__listener *lis;
	const struct sock_addr *peer;
	uint64_t room;
	size_t header;
	bool watched;
};

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
 * (echo answering chargen, forever).  Loops between our services and
 * another server's, on any ports, are what the guard's tables end (see
 * guard.c): our own reply coming back is not answered, and a host is
 * answered only up to a small burst and rate, so the first refused reply
 * ends any loop.  Loopback is exempt: no one can spoof it from outside.
 */
static enum sock__report_kind guard(struct sock__listener *l,
				    const struct sock_addr *peer,
				    const void *data, size_t len)
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
	if (sock_addr_is_loopback(peer))
		return SOCK__REPORT_COUNT;
	return sock__guard_admit(&srv->guard, peer, data, len,
				 l->w->loop->now_ms);
}

/*
 * The amplification bound: the replies to one datagram from a host that
 * may be a spoofed victim carry at most dgram_amplification times its
 * size on the wire, so whoever forges the source address gets no more
 * bytes sent to the victim than it sends itself, times that factor.
 * Unbounded for loopback and for hosts that hold a stream connection to
 * this server: they completed a TCP handshake, so they are real.
 */
static void bound_replies(struct sock_dgram *d, size_t len)
{
	struct sock_server *srv = d->lis->w->srv;
	uint32_t factor = srv->cfg.dgram_amplification;
	int family = sock_addr_family(d->peer);

	d->room = SOCK__UNBOUNDED;
	d->header = 0;
	d->watched = false;
	if ((family != AF_INET && family != AF_INET6) ||
	    sock_addr_is_loopback(d->peer))
		return;
	d->watched = true;
	d->header = sock__guard_header(d->peer);
	if (factor == SOCK_UNLIMITED || sock__source_holds(srv, d->peer))
		return;
	d->room = sock__guard_budget(factor, len, d->header);
}

void sock__dgram_received(struct sock__listener *l, const void *data,
			  size_t len, int flags, const struct sockaddr *sa,
			  socklen_t salen)
{
	const struct sock_service *svc = l->svc;
	struct sock_dgram d;
	struct sock_addr peer;
	enum sock__report_kind why;

	sock__worker_request(l->w);
	sock__stat_add(l->stat, SOCK_STAT_DGRAMS_IN, 1);
	if (sock_addr_from_sockaddr(&peer, sa, salen))
		memset(&peer, 0, sizeof(peer));
	/* An IPv4 source of a dual-stack socket as IPv4: so it is named,
	 * keyed and answered (a UDPv6 socket sends to an AF_INET address
	 * unless it is IPv6-only, and a dual-stack one is not). */
	sock_addr_unmap(&peer);
	/* Refused sources first: they take no token from the guard, and
	 * are reported as refused whatever they sent. */
	if (l->access) {
		why = sock__access_check(l->access, svc, &peer);
		if (why != SOCK__REPORT_COUNT) {
			sock__report_on(l, why, &peer, -EACCES);
			return;
		}
	}
	if (flags & MSG_TRUNC) {
		sock__report_on(l, SOCK__REPORT_TRUNCATED, &peer, SOCK_ETRUNC);
		return;
	}
	why = guard(l, &peer, data, len);
	if (why != SOCK__REPORT_COUNT) {
		sock__report_on(l, why, &peer, -EPERM);
		return;
	}
	if (svc->mode != SOCK_MODE_EVENT) {
		sock__job_datagram(l, data, len, &peer);
		return;
	}
	d.lis = l;
	d.peer = &peer;
	bound_replies(&d, len);
	svc->on_datagram(&d, data, len);
}

int sock_dgram_reply(struct sock_dgram *d, const void *data, size_t len)
{
	struct sock__listener *l = d->lis;
	uint64_t room = d->room;
	int err;

	if (len > l->w->srv->cfg.max_datagram)
		return -EMSGSIZE;
	if (d->peer->len == 0 || (sock_addr_family(d->peer) == AF_UNIX &&
				  d->peer->len <= sizeof(sa_family_t)))
		return -EDESTADDRREQ; /* an unnamed Unix sender */
	if (!sock__guard_take(&room, len, d->header)) {
		sock__report_on(l, SOCK__REPORT_AMPLIFICATION, d->peer,
				-EMSGSIZE);
		return -EMSGSIZE;
	}
	err = l->w->loop->eng->dgram_reply(l, data, len, d->peer);
	if (err)
		return err;
	sock__stat_add(l->stat, SOCK_STAT_DGRAMS_OUT, 1);
	d->room = room;
	if (d->watched)
		sock__guard_replied(&l->w->srv->guard, d->peer, data, len,
				    l->w->loop->now_ms);
	return 0;
}

size_t sock_dgram_room(const struct sock_dgram *d)
{
	return sock__guard_payload(d->room, d->header,
				   d->lis->w->srv->cfg.max_datagram);
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
	sock__report_on(l, SOCK__REPORT_OVERFLOW, NULL, err);
}

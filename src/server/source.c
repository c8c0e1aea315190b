/* SPDX-License-Identifier: MIT */
/* source.c -- connections per source host, shared by the workers */

/*
 * The table is kept whatever max_per_source is, unlimited included: a
 * host that holds a connection completed a TCP handshake with us, which
 * a spoofed address cannot, and the datagram guard trusts such hosts
 * with full-size replies (sock__source_holds).
 */

#include "core.h"

#include <stdlib.h>
#include <string.h>

void sock__host_key(const struct sock_addr *a, uint8_t key[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (sock_addr_family(a) == AF_INET) {
		memcpy(key, mapped, 12);
		memcpy(key + 12, &a->u.in.sin_addr, 4);
	} else {
		memcpy(key, &a->u.in6.sin6_addr, 16);
	}
}

uint32_t sock__host_hash(const uint8_t key[16])
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static bool is_ip(const struct sock_addr *a)
{
	int f = sock_addr_family(a);

	return f == AF_INET || f == AF_INET6;
}

static struct sock__source **find_source(struct sock_server *srv,
					 const uint8_t key[16])
{
	struct sock__source **p;

	p = &srv->sources[sock__host_hash(key) % SOCK__SOURCE_BUCKETS];
	while (*p && memcmp((*p)->addr, key, 16) != 0)
		p = &(*p)->next;
	return p;
}

bool sock__source_add(struct sock_server *srv, const struct sock_addr *peer)
{
	struct sock__source **p, *s;
	uint8_t key[16];
	bool ok = true;

	if (!is_ip(peer))
		return true;
	sock__host_key(peer, key);
	pthread_mutex_lock(&srv->src_lock);
	p = find_source(srv, key);
	if (*p) {
		ok = srv->cfg.max_per_source == SOCK_UNLIMITED ||
		     (*p)->count < srv->cfg.max_per_source;
		if (ok)
			(*p)->count++;
	} else {
		s = calloc(1, sizeof(*s));
		if (s) {
			memcpy(s->addr, key, 16);
			s->count = 1;
			*p = s;
		}
		/* Out of memory: serve rather than refuse; the count is
		 * only missing for this host. */
	}
	pthread_mutex_unlock(&srv->src_lock);
	return ok;
}

void sock__source_del(struct sock_server *srv, const struct sock_addr *peer)
{
	struct sock__source **p, *s;
	uint8_t key[16];

	if (!is_ip(peer))
		return;
	sock__host_key(peer, key);
	pthread_mutex_lock(&srv->src_lock);
	p = find_source(srv, key);
	s = *p;
	if (s && --s->count == 0) {
		*p = s->next;
		free(s);
	}
	pthread_mutex_unlock(&srv->src_lock);
}

bool sock__source_holds(struct sock_server *srv, const struct sock_addr *peer)
{
	uint8_t key[16];
	bool holds;

	if (!is_ip(peer))
		return false;
	sock__host_key(peer, key);
	pthread_mutex_lock(&srv->src_lock);
	holds = *find_source(srv, key) != NULL;
	pthread_mutex_unlock(&srv->src_lock);
	return holds;
}

void sock__sources_free(struct sock_server *srv)
{
	struct sock__source *s, *next;
	size_t i;

	for (i = 0; i < SOCK__SOURCE_BUCKETS; i++) {
		for (s = srv->sources[i]; s; s = next) {
			next = s->next;
			free(s);
		}
		srv->sources[i] = NULL;
	}
}

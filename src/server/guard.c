/* SPDX-License-Identifier: MIT */
/* guard.c -- the datagram guard's tables: rate per source host, replies that come back */

#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/*
 * The rate limit is a sketch, not a table of sources: SOCK__GUARD_ROWS
 * rows of SOCK__GUARD_CELLS token buckets, and a host is given one bucket
 * per row by a hash keyed with a secret seed.  Sources that land in the
 * same bucket share it: a collision can only take tokens away from a
 * host, never give it any, so however many sources there are, a host
 * gets no more than one bucket of its own would allow, burst + rate x
 * elapsed.
 *
 * Each bucket is kept as the generic cell rate algorithm keeps it, as one
 * "theoretical arrival time" (tat): a datagram at now conforms when
 * tat <= now + (burst - 1) x interval, and then tat = max(tat, now) +
 * interval, where interval = 1 s / rate rounded up.  Over any window, a
 * bucket lets at most burst + window / interval datagrams through.
 *
 * A host's tat is read as the least of its buckets' (the count-min
 * sketch's estimate), and a datagram it is granted raises every one of
 * its buckets to at least the new tat (the sketch's conservative update).
 * Each bucket then stays at or above the tat the host would have alone,
 * since buckets only ever rise, so the host's grants conform to its own
 * bucket: the bound above holds.  A real client is refused for others'
 * traffic only when all its buckets are busy: with k busy hosts, about
 * (1 - e^(-k / SOCK__GUARD_CELLS))^SOCK__GUARD_ROWS of the others; with
 * 4 rows of 4096, 16% for 4096 hosts each flooding, 0.001% for 240.
 * (2 rows of 8192, the same memory, would be 15% and 0.08%: more rows
 * serve the common case, a flood from a few hundred hosts, better.)
 */

/* splitmix64's finaliser: every output bit depends on every input bit. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t host_hash(const struct sock__guard *g,
			  const struct sock_addr *peer)
{
	uint8_t key[16];

	sock__host_key(peer, key);
	return mix64(mix64(load64(key) ^ g->seed[0]) ^ load64(key + 8));
}

/* FNV-1a over the bytes, keyed, then mixed with the length. */
static uint64_t digest(const struct sock__guard *g, const void *data,
		       size_t len)
{
	const uint8_t *p = data;
	uint64_t h = 14695981039346656037ull ^ g->seed[1];
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return mix64(h ^ len);
}

/*
 * The seed only keeps real clients from being made to share buckets on
 * purpose; the bound on each host does not depend on it.  So when the
 * kernel has no randomness to give yet, the clock and an address do.
 */
static void seed(struct sock__guard *g)
{
	struct timespec ts;

	if (getrandom(g->seed, sizeof(g->seed), GRND_NONBLOCK) ==
	    (ssize_t)sizeof(g->seed))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	g->seed[0] = mix64((uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)g);
	g->seed[1] = mix64(g->seed[0] ^ (uint64_t)ts.tv_sec);
}

void sock__guard_init(struct sock__guard *g,
		      const struct sock_server_config *cfg)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	seed(g);
	if (cfg->dgram_rate == SOCK_UNLIMITED ||
	    cfg->dgram_burst == SOCK_UNLIMITED)
		return;
	g->interval_ns = (int64_t)((1000000000ull + cfg->dgram_rate - 1) /
				   cfg->dgram_rate);
	g->tolerance_ns = (int64_t)(cfg->dgram_burst - 1) * g->interval_ns;
}

int sock__guard_alloc(struct sock__guard *g)
{
	if (g->cells || !g->interval_ns)
		return 0;
	g->cells = calloc((size_t)SOCK__GUARD_ROWS * SOCK__GUARD_CELLS,
			  sizeof(*g->cells));
	g->echo = calloc(SOCK__ECHO_SLOTS, sizeof(*g->echo));
	if (!g->cells || !g->echo) {
		free(g->cells);
		free(g->echo);
		g->cells = NULL;
		g->echo = NULL;
		return -ENOMEM;
	}
	return 0;
}

void sock__guard_release(struct sock__guard *g)
{
	free(g->cells);
	free(g->echo);
	g->cells = NULL;
	g->echo = NULL;
	pthread_mutex_destroy(&g->lock);
}

/* The slot of the returned-reply check for peer's host and port, and the
 * tag that says it is peer's (never 0: 0 marks an empty slot). */
static struct sock__echo *echo_slot(struct sock__guard *g, uint64_t host,
				    const struct sock_addr *peer, uint64_t *tag)
{
	uint64_t h = mix64(host ^ (uint64_t)sock_addr_port(peer));

	*tag = h | 1;
	return &g->echo[(h >> 32) % SOCK__ECHO_SLOTS];
}

/*
 * A datagram that is, byte for byte, the reply we sent its source a
 * moment ago is our reply coming back: the peer is a service that
 * answered it (an echo), and answering again is the next turn of a loop.
 * A client that sends the same bytes twice is refused only when its
 * second datagram follows our reply within SOCK__ECHO_WINDOW_MS.
 */
static bool is_returned_reply(struct sock__guard *g, uint64_t host,
			      const struct sock_addr *peer, const void *data,
			      size_t len, int64_t now_ms)
{
	const struct sock__echo *e;
	uint64_t tag;

	e = echo_slot(g, host, peer, &tag);
	return e->tag == tag && now_ms - e->sent_ms <= SOCK__ECHO_WINDOW_MS &&
	       e->digest == digest(g, data, len);
}

static bool rate_allows(struct sock__guard *g, uint64_t h, int64_t now_ms)
{
	int64_t now = now_ms * 1000000, *cell[SOCK__GUARD_ROWS],
		tat = INT64_MAX;
	int i;

	for (i = 0; i < SOCK__GUARD_ROWS; i++) {
		cell[i] = &g->cells[(size_t)i * SOCK__GUARD_CELLS +
				    (h & (SOCK__GUARD_CELLS - 1))];
		h = mix64(h); /* the next row's bucket, independent */
		if (*cell[i] < tat)
			tat = *cell[i];
	}
	if (tat - now > g->tolerance_ns)
		return false;
	tat = (tat > now ? tat : now) + g->interval_ns;
	for (i = 0; i < SOCK__GUARD_ROWS; i++)
		if (*cell[i] < tat)
			*cell[i] = tat;
	return true;
}

enum sock__report_kind sock__guard_admit(struct sock__guard *g,
					 const struct sock_addr *peer,
					 const void *data, size_t len,
					 int64_t now_ms)
{
	enum sock__report_kind why = SOCK__REPORT_COUNT;
	uint64_t host;

	if (!g->cells)
		return why;
	host = host_hash(g, peer);
	pthread_mutex_lock(&g->lock);
	if (is_returned_reply(g, host, peer, data, len, now_ms))
		why = SOCK__REPORT_LOOP;
	else if (!rate_allows(g, host, now_ms))
		why = SOCK__REPORT_RATE;
	pthread_mutex_unlock(&g->lock);
	return why;
}

void sock__guard_replied(struct sock__guard *g, const struct sock_addr *peer,
			 const void *data, size_t len, int64_t now_ms)
{
	struct sock__echo *e;
	uint64_t host, tag, d;

	if (!g->echo)
		return;
	host = host_hash(g, peer);
	d = digest(g, data, len);
	pthread_mutex_lock(&g->lock);
	e = echo_slot(g, host, peer, &tag);
	e->tag = tag;
	e->digest = d;
	e->sent_ms = now_ms;
	pthread_mutex_unlock(&g->lock);
}

size_t sock__guard_header(const struct sock_addr *peer)
{
	const struct in6_addr *a6 = &peer->u.in6.sin6_addr;

	/* A v4-mapped peer of a dual-stack socket is IPv4 on the wire. */
	if (sock_addr_family(peer) == AF_INET ||
	    (sock_addr_family(peer) == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6)))
		return SOCK__UDP4_HEADER;
	return SOCK__UDP6_HEADER;
}

uint64_t sock__guard_budget(unsigned int factor, size_t len, size_t header)
{
	if (factor == SOCK_UNLIMITED)
		return SOCK__UNBOUNDED;
	return (uint64_t)factor * ((uint64_t)len + header);
}

bool sock__guard_take(uint64_t *room, size_t len, size_t header)
{
	uint64_t wire = (uint64_t)len + header;

	if (*room == SOCK__UNBOUNDED)
		return true;
	if (wire > *room)
		return false;
	*room -= wire;
	return true;
}

size_t sock__guard_payload(uint64_t room, size_t header, size_t max)
{
	if (room == SOCK__UNBOUNDED)
		return max;
	if (room <= header)
		return 0;
	return room - header < max ? (size_t)(room - header) : max;
}

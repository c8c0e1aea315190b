/* SPDX-License-Identifier: MIT */
/* guard_fuzz.c -- fuzz target: the datagram guard's rate, loop check and amplification bound */

/*
 * Build and run (from the repository root; libFuzzer ships with clang):
 *
 *   clang -std=gnu11 -D_GNU_SOURCE -g -O1 -Iinclude -Isrc \
 *	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *	-DSOCK__GUARD_CELLS=4 -DSOCK__ECHO_SLOTS=2 \
 *	tests/fuzz/guard_fuzz.c src/server/guard.c src/server/source.c \
 *	$(find src/sock -name '*.c') -lpthread -o build/guard_fuzz
 *   build/guard_fuzz -max_total_time=60
 *
 * The tiny tables (-D...) make every host share buckets and slots with
 * the others all the time, which is where a guard would go wrong; the
 * bounds below must hold for any table size.
 *
 * The input: a byte each for the rate (1..64 a second), the burst (1..16)
 * and the amplification factor (1..4, or unlimited), 16 bytes of hash
 * seed, then records of 7 bytes, one datagram each: the source (one of 8
 * IPv4 hosts, each also seen as ::ffff:a.b.c.d, and 8 IPv6 hosts; a bit
 * that makes the datagram a copy of the last reply sent to that source),
 * the port (one of 4), the size, the time step, and the replies the
 * handler tries (how many, how big: fixed sizes, or exactly what
 * sock__guard_payload() says fits, or one byte more).  The guard is
 * driven as src/server/dgram.c drives it: sock__guard_admit(), then each
 * reply charged with sock__guard_take() and, when sent,
 * sock__guard_replied().
 *
 * Invariants, per source host, for any sequence:
 *  - rate: the datagrams admitted in any window from t0 to t1 number at
 *    most burst + (t1 - t0) x rate (floored), however the hosts collide;
 *  - amplification: the reply bytes sent, headers counted, are at most
 *    factor x the bytes of the datagrams admitted, headers counted; a
 *    reply of sock__guard_payload() bytes fits, one byte more does not;
 *  - the loop check refuses only a datagram equal to the last reply sent
 *    to that host and port, at most 500 ms before;
 * and no crash, no leak, no memory beyond the fixed tables.
 */

#include "server/core.h"

#include "fuzz.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#define HOSTS 16
#define PORTS 4
#define MAX_LEN 1500
#define MAX_GRANTS 1024 /* more records than a default input holds */

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned int u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static unsigned int u16(struct in *in)
{
	unsigned int hi = u8(in);

	return hi << 8 | u8(in);
}

/* What the model remembers of each host, and of each host and port. */
static struct {
	int64_t grants[MAX_GRANTS]; /* admission times */
	size_t ngrants;
	uint64_t wire_in, wire_out;
} host[HOSTS];

static struct {
	bool sent;
	int64_t sent_ms;
	size_t len;
	uint8_t data[MAX_LEN];
} last[HOSTS][PORTS];

/* Host h: 10.77.0.(h + 1), also as ::ffff:10.77.0.(h + 1), for h < 8;
 * fd77::h after that. */
static void host_addr(struct sock_addr *a, unsigned int h, bool mapped,
		      unsigned int port)
{
	memset(a, 0, sizeof(*a));
	if (h < 8 && !mapped) {
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_addr.s_addr = htonl(0x0a4d0001u + h);
		a->u.in.sin_port = htons((uint16_t)(1024 + port));
		a->len = sizeof(a->u.in);
		return;
	}
	a->u.in6.sin6_family = AF_INET6;
	if (h < 8) {
		a->u.in6.sin6_addr.s6_addr[10] = 0xff;
		a->u.in6.sin6_addr.s6_addr[11] = 0xff;
		a->u.in6.sin6_addr.s6_addr[12] = 10;
		a->u.in6.sin6_addr.s6_addr[13] = 77;
		a->u.in6.sin6_addr.s6_addr[15] = (uint8_t)(h + 1);
	} else {
		a->u.in6.sin6_addr.s6_addr[0] = 0xfd;
		a->u.in6.sin6_addr.s6_addr[1] = 0x77;
		a->u.in6.sin6_addr.s6_addr[15] = (uint8_t)h;
	}
	a->u.in6.sin6_port = htons((uint16_t)(1024 + port));
	a->len = sizeof(a->u.in6);
}

/* Every window that ends with the grant just made at now. */
static void check_rate(unsigned int h, unsigned int burst, unsigned int rate)
{
	size_t n = host[h].ngrants, i;
	int64_t now = host[h].grants[n - 1], w;

	for (i = 0; i < n; i++) {
		w = now - host[h].grants[i];
		FUZZ_CHECK(n - i <= burst + (uint64_t)w * rate / 1000,
			   "host %u: %zu datagrams in %lld ms (burst %u, rate "
			   "%u)",
			   h, n - i, (long long)w, burst, rate);
	}
}

/* The handler: up to three replies, charged to room as dgram.c does. */
static void reply(struct sock__guard *g, const struct sock_addr *peer,
		  unsigned int h, unsigned int port, uint64_t *room,
		  unsigned int plan, int64_t now)
{
	size_t header = sock__guard_header(peer), fits, len;
	unsigned int count = plan & 3, sel = plan >> 2, i;
	static uint8_t buf[MAX_LEN + 1];

	for (i = 0; i < count; i++) {
		fits = sock__guard_payload(*room, header, MAX_LEN);
		len = sel == 63 ? fits : sel == 62 ? fits + 1 : sel * 24u;
		if (len > MAX_LEN)
			len = MAX_LEN;
		memset(buf, (int)(sel + i), len);
		if (!sock__guard_take(room, len, header)) {
			/* 0 from sock__guard_payload: an empty reply fits,
			 * or nothing does. */
			FUZZ_CHECK(len > fits || *room < header,
				   "a reply of %zu bytes, room for %zu, "
				   "refused",
				   len, fits);
			continue;
		}
		FUZZ_CHECK(len <= fits || fits == MAX_LEN,
			   "a reply of %zu bytes fitted, room said %zu", len,
			   fits);
		host[h].wire_out += len + header;
		sock__guard_replied(g, peer, buf, len, now);
		last[h][port].sent = true;
		last[h][port].sent_ms = now;
		last[h][port].len = len;
		memcpy(last[h][port].data, buf, len);
	}
}

static void one_datagram(struct sock__guard *g, struct in *in,
			 const struct sock_server_config *cfg, int64_t *now)
{
	unsigned int src = u8(in), port = u8(in) % PORTS,
		     len = u16(in) % MAX_LEN;
	unsigned int step = u8(in), plan = u8(in), h = src % HOSTS;
	static uint8_t payload[MAX_LEN];
	enum sock__report_kind why;
	struct sock_addr peer;
	uint64_t room;

	*now += step < 200 ? step : (step - 200) * 100;
	host_addr(&peer, h, src & 0x10, port);
	memset(payload, (int)len, len);
	if ((src & 0x20) && last[h][port].sent) {
		len = (unsigned int)last[h][port].len;
		memcpy(payload, last[h][port].data, len);
	}
	why = sock__guard_admit(g, &peer, payload, len, *now);
	if (why == SOCK__REPORT_LOOP) {
		FUZZ_CHECK(last[h][port].sent && last[h][port].len == len &&
				   !memcmp(last[h][port].data, payload, len) &&
				   *now - last[h][port].sent_ms <=
					   SOCK__ECHO_WINDOW_MS,
			   "host %u port %u: refused as a loop, but it is not "
			   "our "
			   "last reply",
			   h, port);
		return;
	}
	if (why != SOCK__REPORT_COUNT)
		return;
	FUZZ_CHECK(host[h].ngrants < MAX_GRANTS, "too many records");
	host[h].grants[host[h].ngrants++] = *now;
	check_rate(h, cfg->dgram_burst, cfg->dgram_rate);
	host[h].wire_in += len + sock__guard_header(&peer);
	room = sock__guard_budget(cfg->dgram_amplification, len,
				  sock__guard_header(&peer));
	reply(g, &peer, h, port, &room, plan, *now);
	if (cfg->dgram_amplification != SOCK_UNLIMITED)
		FUZZ_CHECK(host[h].wire_out <=
				   (uint64_t)cfg->dgram_amplification *
					   host[h].wire_in,
			   "host %u got %llu bytes for %llu", h,
			   (unsigned long long)host[h].wire_out,
			   (unsigned long long)host[h].wire_in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct sock_server_config cfg = { 0 };
	struct sock__guard g;
	int64_t now = 1000000;
	unsigned int f;
	int i;

	cfg.dgram_rate = 1 + u8(&in) % 64;
	cfg.dgram_burst = 1 + u8(&in) % 16;
	f = u8(&in) % 5;
	cfg.dgram_amplification = f == 4 ? SOCK_UNLIMITED : f + 1;
	memset(host, 0, sizeof(host));
	memset(last, 0, sizeof(last));
	sock__guard_init(&g, &cfg);
	for (i = 0; i < 16; i++)
		((uint8_t *)g.seed)[i] = (uint8_t)u8(&in);
	FUZZ_CHECK(sock__guard_alloc(&g) == 0, "out of memory");
	while (in.n >= 7)
		one_datagram(&g, &in, &cfg, &now);
	sock__guard_release(&g);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* guard_test.c -- the datagram guard against the attacks it exists for */

#include "server_util.h"

#include "server/core.h"
#include "services.h"

#include <arpa/inet.h>

/*
 * These tests drive the guard the way the engines do, through
 * sock__dgram_received() on a server's UDP listener, with source
 * addresses a test could not send from.  Nothing is sent to them: the
 * loop's engine is a copy of the real one whose dgram_reply records the
 * reply instead of sending it, and the loop's clock is set by hand, so
 * rates are checked against exact elapsed time.  The servers are not
 * run, so the engine plays no part: tests/cli/reflection_test.sh runs
 * the attacks with real datagrams between two network namespaces, on
 * both engines.
 */

#define VICTIM 0x0a4d0002u  /* 10.77.0.2 */
#define OTHERS 0x0a4e0000u  /* 10.78.0.0/16: a crowd of sources */
#define NEIGHBOR 0x0a4f0000 /* 10.79.0.0/16: well-behaved clients */

/* One reply the fake engine took. */
struct reply {
	struct sock_addr to;
	size_t len;
	unsigned char data[1024];
};

#define REPLIES_MAX 16

/* A server on its own, with what its replies were. */
struct side {
	struct sock_server *srv;
	struct sock__listener *l;
	struct sock_service svc;
	const struct service *def;
	void *state;
	const struct sock__engine *real;
	struct sock__engine fake;
	struct reply r[REPLIES_MAX]; /* since the last side_take */
	size_t n;
	unsigned int replies;
	uint64_t bytes, largest;
};

static struct side sides[2];

/* What the counting handler saw. */
static struct {
	struct sock_addr victim;
	unsigned int victim_calls;
	unsigned int other_calls;
} seen;

static bool same_addr(const struct sock_addr *a, const struct sock_addr *b)
{
	return a->len == b->len && memcmp(&a->u, &b->u, a->len) == 0;
}

static void count_dgram(struct sock_dgram *d, const void *data, size_t len)
{
	(void)data;
	(void)len;
	if (same_addr(sock_dgram_peer(d), &seen.victim))
		seen.victim_calls++;
	else
		seen.other_calls++;
}

static const struct sock_service count_svc = { .name = "count",
					       .on_datagram = count_dgram };

static int fake_reply(struct sock__listener *l, const void *data, size_t len,
		      const struct sock_addr *peer)
{
	struct side *s = l->w->srv == sides[0].srv ? &sides[0] : &sides[1];
	struct reply *r;

	CHECK(l->w->srv == s->srv);
	s->replies++;
	s->bytes += len;
	if (len > s->largest)
		s->largest = len;
	if (s->n == REPLIES_MAX)
		return -ENOBUFS;
	r = &s->r[s->n++];
	r->to = *peer;
	r->len = len < sizeof(r->data) ? len : sizeof(r->data);
	memcpy(r->data, data, r->len);
	return 0;
}

/* Serve svc (with the state of def, if any) on side s's UDP listener. */
static struct sock__listener *side_open(struct side *s,
					struct sock_server_config *cfg,
					const struct sock_service *svc,
					const struct service *def)
{
	struct sock_loop *loop;

	memset(s, 0, sizeof(*s));
	s->svc = *svc;
	s->def = def;
	if (def && def->state_new) {
		CHECK_OK(def->state_new(&s->state));
		s->svc.data = s->state;
	}
	cfg->engine = test_engine;
	if (!cfg->on_event)
		cfg->on_event = rec_event;
	CHECK_OK(sock_server_new(&s->srv, cfg));
	CHECK_OK(
		sock_server_add(s->srv, &s->svc, SOCK_DGRAM, "127.0.0.1:0", 0));
	loop = s->srv->workers[0].loop;
	loop->now_ms = 1000000;
	s->real = loop->eng;
	s->fake = *loop->eng;
	s->fake.dgram_reply = fake_reply;
	loop->eng = &s->fake;
	s->l = s->srv->workers[0].lis[0];
	return s->l;
}

static void side_close(struct side *s)
{
	if (!s->srv)
		return;
	s->srv->workers[0].loop->eng = s->real;
	sock_server_free(s->srv);
	if (s->state)
		s->def->state_free(s->state);
	memset(s, 0, sizeof(*s));
}

static void side_advance(struct side *s, int64_t ms)
{
	s->srv->workers[0].loop->now_ms += ms;
}

static int64_t side_now(const struct side *s)
{
	return s->srv->workers[0].loop->now_ms;
}

/* A datagram from from, as an engine delivers it. */
static void side_receive(struct side *s, const struct sock_addr *from,
			 const void *data, size_t len)
{
	sock__dgram_received(s->l, data, len, 0, &from->u.sa, from->len);
}

/* An IPv4 source. */
static void v4(struct sock_addr *a, uint32_t host, int port)
{
	memset(a, 0, sizeof(*a));
	a->u.in.sin_family = AF_INET;
	a->u.in.sin_addr.s_addr = htonl(host);
	a->u.in.sin_port = htons((uint16_t)port);
	a->len = sizeof(a->u.in);
}

/* An IPv6 source fd77::host (a unique local address). */
static void v6(struct sock_addr *a, uint16_t host, int port)
{
	memset(a, 0, sizeof(*a));
	a->u.in6.sin6_family = AF_INET6;
	a->u.in6.sin6_addr.s6_addr[0] = 0xfd;
	a->u.in6.sin6_addr.s6_addr[1] = 0x77;
	a->u.in6.sin6_addr.s6_addr[14] = (uint8_t)(host >> 8);
	a->u.in6.sin6_addr.s6_addr[15] = (uint8_t)host;
	a->u.in6.sin6_port = htons((uint16_t)port);
	a->len = sizeof(a->u.in6);
}

/* At most burst + rate x elapsed, rounded up. */
static unsigned int rate_bound(unsigned int burst, unsigned int rate,
			       int64_t elapsed_ms)
{
	return burst +
	       (unsigned int)(((uint64_t)elapsed_ms * rate + 999) / 1000);
}

/* ---- the rate, per source host ---- */

/* One source alone gets its burst at once, then the rate, no more and
 * no less. */
static void rate_limit_holds_for_one_source(void)
{
	struct sock_server_config cfg = { .dgram_rate = 5, .dgram_burst = 5 };
	struct side *s = &sides[0];
	int64_t start;
	unsigned int bound;
	int i;

	side_open(s, &cfg, &count_svc, NULL);
	v4(&seen.victim, VICTIM, 40000);
	start = side_now(s);
	for (i = 0; i < 200; i++) {
		side_receive(s, &seen.victim, "x", 1);
		if (i < 199)
			side_advance(s, 10);
	}
	bound = rate_bound(5, 5, side_now(s) - start);
	fprintf(stderr,
		"    200 datagrams in %lld ms: %u answered (bound %u)\n",
		(long long)(side_now(s) - start), seen.victim_calls, bound);
	CHECK_INT(seen.victim_calls, <=, bound);
	CHECK_INT(seen.victim_calls, >=, bound - 1);
	CHECK(rec_count(SOCK_EV_LIMIT, "datagram-rate") >= 1);
	side_close(s);
}

/*
 * Issue 9, defect 2: a spoofed victim interleaved with thousands of other
 * sources.  The victim must be answered no more often than the rate
 * allows it alone, however its buckets are shared; and the crowd must not
 * leave most well-behaved clients without an answer.
 */
static void colliding_source_cannot_reset_rate_limit(void)
{
	struct sock_server_config cfg = { .dgram_rate = 5, .dgram_burst = 5 };
	struct side *s = &sides[0];
	struct sock_addr other;
	unsigned int round, i, bound, served;
	int64_t start;

	side_open(s, &cfg, &count_svc, NULL);
	v4(&seen.victim, VICTIM, 40000);
	start = side_now(s);
	for (round = 0; round < 100; round++) {
		side_receive(s, &seen.victim, "x", 1);
		for (i = 0; i < 4096; i++) {
			v4(&other, OTHERS + i, 40000 + (int)round);
			side_receive(s, &other, "x", 1);
		}
		side_advance(s, 1);
	}
	bound = rate_bound(5, 5, side_now(s) - start);
	fprintf(stderr, "    victim answered %u of 100 (bound %u)\n",
		seen.victim_calls, bound);
	CHECK_INT(seen.victim_calls, <=, bound);
	/* 4096 busy hosts fill a share of each row; a client is refused
	 * only when all its buckets are full (about 16% here). */
	served = seen.other_calls;
	for (i = 0; i < 100; i++) {
		v4(&other, NEIGHBOR + i, 50000);
		side_receive(s, &other, "hello", 5);
	}
	served = seen.other_calls - served;
	fprintf(stderr,
		"    well-behaved clients answered during the flood: "
		"%u of 100\n",
		served);
	CHECK_INT(served, >=, 50);
	side_close(s);
}

/* The same over IPv6, and across the two families: an IPv4 host seen
 * through a dual-stack socket (::ffff:a.b.c.d) is the same host. */
static void rate_limit_holds_over_ipv6_and_mapped(void)
{
	struct sock_server_config cfg = { .dgram_rate = 5, .dgram_burst = 5 };
	struct side *s = &sides[0];
	struct sock_addr mapped;
	unsigned int i;

	side_open(s, &cfg, &count_svc, NULL);
	v6(&seen.victim, 2, 40000);
	for (i = 0; i < 50; i++)
		side_receive(s, &seen.victim, "x", 1);
	CHECK_INT(seen.victim_calls, ==, 5);
	side_close(s);
	/* 10.77.0.2 as itself, then as ::ffff:10.77.0.2: one budget. */
	side_open(s, &cfg, &count_svc, NULL);
	v4(&seen.victim, VICTIM, 40000);
	seen.victim_calls = 0;
	for (i = 0; i < 3; i++)
		side_receive(s, &seen.victim, "x", 1);
	v6(&mapped, 0, 40000);
	memset(&mapped.u.in6.sin6_addr, 0, 16);
	mapped.u.in6.sin6_addr.s6_addr[10] = 0xff;
	mapped.u.in6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&mapped.u.in6.sin6_addr.s6_addr[12], &seen.victim.u.in.sin_addr,
	       4);
	for (i = 0; i < 10; i++)
		side_receive(s, &mapped, "x", 1);
	CHECK_INT(seen.victim_calls + seen.other_calls, ==, 5);
	side_close(s);
}

/* SOCK_UNLIMITED turns the rate off; loopback is never limited. */
static void rate_limit_off_when_unlimited_and_for_loopback(void)
{
	struct sock_server_config off = { .dgram_rate = SOCK_UNLIMITED };
	struct sock_server_config cfg = { 0 };
	struct side *s = &sides[0];
	unsigned int i;

	side_open(s, &off, &count_svc, NULL);
	v4(&seen.victim, VICTIM, 40000);
	for (i = 0; i < 1000; i++)
		side_receive(s, &seen.victim, "x", 1);
	CHECK_INT(seen.victim_calls, ==, 1000);
	side_close(s);
	side_open(s, &cfg, &count_svc, NULL);
	v4(&seen.victim, 0x7f000002u, 40000); /* 127.0.0.2 */
	seen.victim_calls = 0;
	for (i = 0; i < 1000; i++)
		side_receive(s, &seen.victim, "x", 1);
	CHECK_INT(seen.victim_calls, ==, 1000);
	side_close(s);
}

/* ---- loops ---- */

/*
 * CVE-2024-2169: service a on server A (10.77.0.1:7007) and service b on
 * server B (10.77.0.2:8007), and one datagram to A spoofed from B.  Each
 * reply is delivered to the other side, as the network would, 1 ms a
 * hop.  Returns how many datagrams crossed, up to max.
 */
static unsigned int run_loop(const struct service *a, const struct service *b,
			     struct sock_server_config *cfg, unsigned int max)
{
	struct sock_server_config cfg_b = *cfg;
	struct sock_addr addr[2];
	struct side *from, *to;
	unsigned int crossed = 0;
	struct reply r;

	side_open(&sides[0], cfg, a->svc, a);
	side_open(&sides[1], &cfg_b, b->svc, b);
	v4(&addr[0], 0x0a4d0001u, 7007);
	v4(&addr[1], 0x0a4d0002u, 8007);
	side_receive(&sides[0], &addr[1], "x", 1);
	while (crossed < max) {
		from = &sides[crossed % 2];
		to = &sides[(crossed + 1) % 2];
		if (from->n == 0)
			break;
		/* These services answer a datagram with one. */
		CHECK_INT(from->n, ==, 1);
		r = from->r[0];
		from->n = 0;
		CHECK(same_addr(&r.to, &addr[(crossed + 1) % 2]));
		crossed++;
		side_advance(&sides[0], 1);
		side_advance(&sides[1], 1);
		side_receive(to, &addr[crossed % 2 ? 0 : 1], r.data, r.len);
	}
	side_close(&sides[0]);
	side_close(&sides[1]);
	return crossed;
}

/*
 * Every pair of the UDP services that answer (echo, daytime, chargen,
 * time) in a loop: without the guard the loop never ends (here: until
 * the test's cap); with the defaults it dies within 2 x burst + 1
 * datagrams, and at once when an echo is in it.
 */
static void loop_between_two_servers_dies(void)
{
	static const char *const names[] = { "echo", "daytime", "chargen",
					     "time" };
	struct sock_server_config off = { .dgram_rate = SOCK_UNLIMITED };
	struct sock_server_config cfg = { 0 };
	const struct service *a, *b;
	unsigned int i, j, n, worst = 0;

	a = services_find("echo");
	n = run_loop(a, a, &off, 10000);
	fprintf(stderr, "    echo<->echo, guard off: %u datagrams (the cap)\n",
		n);
	CHECK_INT(n, ==, 10000);
	for (i = 0; i < SOCK_ARRAY_SIZE(names); i++) {
		for (j = 0; j < SOCK_ARRAY_SIZE(names); j++) {
			a = services_find(names[i]);
			b = services_find(names[j]);
			memset(&cfg, 0, sizeof(cfg));
			n = run_loop(a, b, &cfg, 10000);
			fprintf(stderr, "    %s<->%s: %u datagrams\n", names[i],
				names[j], n);
			CHECK_INT(n, <=, 2 * 5 + 1);
			if (i == 0 || j == 0)
				CHECK_INT(n, <=, 3); /* our reply came back */
			worst = n > worst ? n : worst;
		}
	}
	fprintf(stderr, "    longest loop: %u datagrams\n", worst);
	CHECK(rec_count(SOCK_EV_LIMIT, NULL) >= 1);
}

/* A bigger burst lets a loop run longer, never past 2 x burst + 1. */
static void loop_bounded_by_the_burst(void)
{
	struct sock_server_config cfg = { .dgram_burst = 20 };
	unsigned int n;

	n = run_loop(services_find("daytime"), services_find("chargen"), &cfg,
		     10000);
	fprintf(stderr, "    daytime<->chargen, burst 20: %u datagrams\n", n);
	CHECK_INT(n, <=, 2 * 20 + 1);
	CHECK_INT(n, >=, 20);
}

/*
 * The returned-reply check and its false positive: a client that sends
 * the same bytes to echo twice is refused only when the second comes
 * within 500 ms of our reply; other bytes, or the same from another
 * port, are answered at once.
 */
static void same_payload_twice_is_answered_after_the_window(void)
{
	struct sock_server_config cfg = { 0 };
	struct side *s = &sides[0];
	struct sock_addr c, c2;

	side_open(s, &cfg, &echo_service, NULL);
	v4(&c, VICTIM, 40000);
	v4(&c2, VICTIM, 40001);
	side_receive(s, &c, "ping", 4);
	CHECK_INT(s->replies, ==, 1);
	side_advance(s, 100);
	side_receive(s, &c, "ping", 4); /* our reply, back at once */
	CHECK_INT(s->replies, ==, 1);
	CHECK(rec_count(SOCK_EV_LIMIT, "datagram-loop") == 1);
	side_receive(s, &c, "pong", 4);
	CHECK_INT(s->replies, ==, 2);
	side_receive(s, &c2, "pong", 4);
	CHECK_INT(s->replies, ==, 3);
	side_advance(s, 501);
	side_receive(s, &c, "pong", 4); /* a client's second ping */
	CHECK_INT(s->replies, ==, 4);
	side_close(s);
}

/* ---- amplification ---- */

/*
 * Spoofed 1-byte requests to chargen "from" a victim that is not
 * loopback: each reply is cut to what 2 x 29 bytes on the wire leave
 * (30 bytes of the pattern over IPv4, 50 over IPv6) rather than dropped,
 * and the victim gets at most twice the bytes the attacker sent.
 */
static void chargen_reply_bounded_for_unverified_source(void)
{
	struct sock_server_config cfg = { 0 };
	struct side *s = &sides[0];
	const struct service *def = services_find("chargen");
	struct sock_addr victim[2];
	uint64_t sent_wire, got_wire;
	unsigned int f, i;

	v4(&victim[0], VICTIM, 9999);
	v6(&victim[1], 2, 9999);
	for (f = 0; f < 2; f++) {
		side_open(s, &cfg, def->svc, def);
		for (i = 0; i < 200; i++) {
			side_receive(s, &victim[f], "x", 1);
			s->n = 0;
			/* Under the rate, all served; past the window of
			 * the returned-reply check (a 1-byte "x" reply). */
			side_advance(s, 600);
		}
		sent_wire = 200 * (1 + (f ? 48 : 28));
		got_wire = s->bytes + s->replies * (f ? 48 : 28);
		fprintf(stderr,
			"    IPv%d: 200 requests (%llu bytes on the wire), "
			"%u replies (%llu bytes on the wire), largest %llu\n",
			f ? 6 : 4, (unsigned long long)sent_wire, s->replies,
			(unsigned long long)got_wire,
			(unsigned long long)s->largest);
		CHECK_INT(s->replies, ==, 200);
		CHECK_INT(got_wire, <=, 2 * sent_wire);
		CHECK_INT(s->largest, ==, f ? 50 : 30);
		side_close(s);
	}
}

/*
 * RFC 864's 0-512 bytes for a host that holds a TCP connection to the
 * server (it completed a handshake: not spoofed) and for loopback; the
 * bound is back once the connection is gone.
 */
static void chargen_full_for_a_verified_source(void)
{
	struct sock_server_config cfg = { 0 };
	struct side *s = &sides[0];
	const struct service *def = services_find("chargen");
	struct sock_addr victim, conn, lo;
	unsigned int i;

	side_open(s, &cfg, def->svc, def);
	v4(&victim, VICTIM, 9999);
	v4(&conn, VICTIM, 51000);
	CHECK(sock__source_add(s->srv, &conn)); /* as an accept does */
	for (i = 0; i < 100; i++) {
		side_receive(s, &victim, "x", 1);
		side_advance(s, 600);
	}
	fprintf(stderr, "    verified: largest reply %llu\n",
		(unsigned long long)s->largest);
	CHECK_INT(s->largest, >, 30);
	CHECK_INT(s->largest, <=, 512);
	sock__source_del(s->srv, &conn);
	s->largest = 0;
	for (i = 0; i < 100; i++) {
		side_receive(s, &victim, "x", 1);
		side_advance(s, 600);
	}
	CHECK_INT(s->largest, ==, 30);
	v4(&lo, 0x7f000001u, 9999);
	s->largest = 0;
	for (i = 0; i < 100; i++)
		side_receive(s, &lo, "x", 1);
	fprintf(stderr, "    loopback: largest reply %llu\n",
		(unsigned long long)s->largest);
	CHECK_INT(s->largest, >, 30);
	side_close(s);
}

/* The per-source table behind the check is kept when connections per
 * source are not capped. */
static void verified_source_known_with_no_per_source_cap(void)
{
	struct sock_server_config cfg = { .max_per_source = SOCK_UNLIMITED };
	struct sock_server *srv;
	struct sock_addr a;
	int i;

	CHECK_OK(sock_server_new(&srv, &cfg));
	v4(&a, VICTIM, 51000);
	CHECK(!sock__source_holds(srv, &a));
	for (i = 0; i < 3; i++)
		CHECK(sock__source_add(srv, &a));
	CHECK(sock__source_holds(srv, &a));
	for (i = 0; i < 3; i++)
		sock__source_del(srv, &a);
	CHECK(!sock__source_holds(srv, &a));
	sock_server_free(srv);
}

/* The replies that must fit: daytime and time answer an empty request,
 * echo any request, over both families. */
static void small_replies_fit_the_bound(void)
{
	static const char *const names[] = { "daytime", "time", "echo" };
	struct sock_server_config cfg = { 0 };
	struct side *s = &sides[0];
	const struct service *def;
	struct sock_addr victim[2];
	static char big[1400];
	unsigned int i, f;

	v4(&victim[0], VICTIM, 9999);
	v6(&victim[1], 2, 9999);
	for (i = 0; i < SOCK_ARRAY_SIZE(names); i++) {
		def = services_find(names[i]);
		for (f = 0; f < 2; f++) {
			side_open(s, &cfg, def->svc, def);
			side_receive(s, &victim[f], "", 0);
			side_advance(s, 1000);
			side_receive(s, &victim[f], big, sizeof(big));
			CHECK_INT(s->replies, ==, 2);
			CHECK_INT(rec_count(SOCK_EV_LIMIT, NULL), ==, 0);
			side_close(s);
		}
	}
}

/* What a handler learns and gets: sock_dgram_room, several replies to
 * one datagram, a reply over the bound refused and reported. */
static size_t room_seen[4];
static int reply_err[4];

static void greedy_dgram(struct sock_dgram *d, const void *data, size_t len)
{
	static const char pad[100];
	int i;

	(void)data;
	for (i = 0; i < 4; i++) {
		room_seen[i] = sock_dgram_room(d);
		reply_err[i] = sock_dgram_reply(d, pad, i == 3 ? 100 : len);
	}
}

static void over_bound_reply_refused_and_reported(void)
{
	struct sock_server_config cfg = { 0 };
	struct sock_server_config off = { .dgram_amplification =
						  SOCK_UNLIMITED };
	struct sock_service svc = { .name = "greedy",
				    .on_datagram = greedy_dgram };
	struct side *s = &sides[0];
	struct sock_addr c;

	v4(&c, VICTIM, 9999);
	side_open(s, &cfg, &svc, NULL);
	/* 10 bytes: 38 on the wire, room for 76: two 10-byte replies. */
	side_receive(s, &c, "0123456789", 10);
	CHECK_INT(room_seen[0], ==, 76 - 28);
	CHECK_INT(reply_err[0], ==, 0);
	CHECK_INT(room_seen[1], ==, 38 - 28);
	CHECK_INT(reply_err[1], ==, 0);
	CHECK_INT(room_seen[2], ==, 0);
	CHECK_ERR(reply_err[2], -EMSGSIZE);
	CHECK_ERR(reply_err[3], -EMSGSIZE);
	CHECK_INT(s->replies, ==, 2);
	CHECK(rec_count(SOCK_EV_LIMIT, "datagram-amplification") >= 1);
	side_close(s);
	/* With no bound, the room is the largest datagram. */
	side_open(s, &off, &svc, NULL);
	side_receive(s, &c, "0123456789", 10);
	CHECK_INT(room_seen[0], ==, 65536);
	CHECK_INT(reply_err[3], ==, 0);
	CHECK_INT(s->replies, ==, 4);
	side_close(s);
}

static const struct test tests[] = {
	TEST(rate_limit_holds_for_one_source),
	TEST(colliding_source_cannot_reset_rate_limit),
	TEST(rate_limit_holds_over_ipv6_and_mapped),
	TEST(rate_limit_off_when_unlimited_and_for_loopback),
	TEST(loop_between_two_servers_dies),
	TEST(loop_bounded_by_the_burst),
	TEST(same_payload_twice_is_answered_after_the_window),
	TEST(chargen_reply_bounded_for_unverified_source),
	TEST(chargen_full_for_a_verified_source),
	TEST(verified_source_known_with_no_per_source_cap),
	TEST(small_replies_fit_the_bound),
	TEST(over_bound_reply_refused_and_reported),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

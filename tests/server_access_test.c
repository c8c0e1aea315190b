/* SPDX-License-Identifier: MIT */
/* server_access_test.c -- who may connect: allow and deny ranges, the verify hook */

/*
 * Peers come from several loopback addresses (127.0.0.1 to .4, all of
 * 127/8 is ours), so ranges can tell them apart.  A refused peer must
 * never reach a handler: no SOCK_EV_ACCEPT, no on_open, no job, no slot
 * under the connection cap; it is closed at once and reported as a
 * "access" or "verify" limit with -EACCES.
 */

#include "server_util.h"

/* A client from source host src (port 0) connected to text. */
static void client_from(struct sock *c, int type, const char *src,
			const char *text)
{
	char from[64];

	snprintf(from, sizeof(from), "%s:0", src);
	CHECK_OK(sock_connect_from(c, type, text, from, 5000));
	CHECK_OK(sock_settimeout(c, 5000));
}

/* Served: an echo comes back. */
static void served_from(const char *src, const char *addr)
{
	struct sock c;

	client_from(&c, SOCK_STREAM, src, addr);
	echo_once(&c, src);
	CHECK_OK(sock_close(&c));
}

/* Refused: closed by the server without a byte. */
static void refused_from(const char *src, const char *addr)
{
	struct sock c;

	client_from(&c, SOCK_STREAM, src, addr);
	CHECK(closed_by_server(&c, 5000));
	CHECK_OK(sock_close(&c));
}

/* The events of a refusal: a limit named what, -EACCES, from host src
 * (a dual-stack socket's IPv4 peer too: reported unmapped). */
static void check_refusal(const char *what, const char *src)
{
	struct rec_event ev;
	unsigned int i;
	bool found = false;

	CHECK(rec_wait(SOCK_EV_LIMIT, what, 1, 3000));
	for (i = 0; !found && rec_find(SOCK_EV_LIMIT, i, &ev); i++) {
		if (strcmp(ev.what, what))
			continue;
		CHECK_ERR(ev.err, -EACCES);
		found = !strncmp(ev.addr, src, strlen(src)) &&
			ev.addr[strlen(src)] == ':';
	}
	CHECK(found);
}

/*
 * Deny and allow ranges on one listener, in each mode that runs in this
 * process: a denied host is refused even inside an allowed range, a host
 * outside every allow range is refused, the others are served, and the
 * refused ones never reach the handler (no accept event).
 */
static void ranges_refuse_before_the_handler(enum sock_mode mode)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	int index;

	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[mode], SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	CHECK_OK(sock_server_deny(t.srv, index, "127.0.0.2"));
	CHECK_OK(sock_server_allow(t.srv, index, "127.0.0.0/30"));
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 1, 3000));
	refused_from("127.0.0.2", addr);
	check_refusal("access", "127.0.0.2");
	refused_from("127.0.0.4", addr); /* outside 127.0.0.0/30 */
	served_from("127.0.0.1", addr);
	served_from("127.0.0.3", addr);
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 2, 3000));
	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 2);
	CHECK(!rec_find_addr(SOCK_EV_ACCEPT, "127.0.0.2", NULL));
	ts_stop(&t, 3000);
	ts_free(&t);
}

static void ranges_refuse_event(void)
{
	ranges_refuse_before_the_handler(SOCK_MODE_EVENT);
}
ENGINE_TEST(ranges_refuse_event)

static void ranges_refuse_thread(void)
{
	ranges_refuse_before_the_handler(SOCK_MODE_THREAD);
}
ENGINE_TEST(ranges_refuse_thread)

static void ranges_refuse_pool(void)
{
	ranges_refuse_before_the_handler(SOCK_MODE_POOL);
}
ENGINE_TEST(ranges_refuse_pool)

/*
 * A refused peer takes no slot under the cap.  With max_conns 1, 32
 * connections from a denied host are left open by their clients, and
 * an allowed client is still served at once: had any of them been taken
 * in, the one slot would be theirs.  Each is closed by the server.
 */
static void refused_peers_take_no_slot(void)
{
	struct sock_server_config cfg = { .max_conns = 1 };
	char addr[SOCK_ADDR_STRLEN];
	struct sock allowed, c[32];
	struct tserver t;
	int index, i;

	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	CHECK_OK(sock_server_deny(t.srv, index, "127.0.0.2/32"));
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 1, 3000));
	for (i = 0; i < 32; i++)
		client_from(&c[i], SOCK_STREAM, "127.0.0.2", addr);
	client_from(&allowed, SOCK_STREAM, "127.0.0.1", addr);
	echo_once(&allowed, "the only slot is mine");
	for (i = 0; i < 32; i++) {
		CHECK(closed_by_server(&c[i], 5000));
		CHECK_OK(sock_close(&c[i]));
	}
	echo_once(&allowed, "still served");
	CHECK_OK(sock_close(&allowed));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(refused_peers_take_no_slot)

/*
 * On a dual-stack socket IPv4 peers arrive as ::ffff:a.b.c.d: an IPv4
 * range holds them, and an IPv6 range, even ::/0, does not.
 */
static void v4_mapped_peers_meet_ipv4_ranges(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], buf[SOCK_ADDR_STRLEN], v4[64];
	struct tserver t;
	int index, flags;

	flags = tr_listen(TR_DUAL, buf, sizeof(buf));
	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, buf, flags);
	ts_addr(&t, index, addr);
	CHECK_OK(sock_server_deny(t.srv, index, "127.0.0.2/32"));
	CHECK_OK(sock_server_deny(t.srv, index, "::/0"));
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 1, 3000));
	snprintf(v4, sizeof(v4), "127.0.0.1:%d", ts_port(&t, index));
	refused_from("127.0.0.2", v4);
	check_refusal("access", "127.0.0.2");
	served_from("127.0.0.1", v4);
	/* A real IPv6 peer is in ::/0. */
	snprintf(v4, sizeof(v4), "[::1]:%d", ts_port(&t, index));
	refused_from("[::1]", v4);
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(v4_mapped_peers_meet_ipv4_ranges)

/* What a blocking handler was told of its peer (written in the handler's
 * thread, read in the test's: under the lock, since the socket between
 * them is no synchronisation ThreadSanitizer can see). */
static char handler_peer[SOCK_ADDR_STRLEN];
static pthread_mutex_t handler_peer_lock = PTHREAD_MUTEX_INITIALIZER;

static void echo_noting_peer(struct sock *c, const struct sock_addr *peer,
			     void *data)
{
	char buf[256];
	ssize_t n;

	(void)data;
	pthread_mutex_lock(&handler_peer_lock);
	CHECK(sock_addr_format(peer, handler_peer, sizeof(handler_peer)) > 0);
	pthread_mutex_unlock(&handler_peer_lock);
	while ((n = sock_recv(c, buf, sizeof(buf), 0)) > 0)
		CHECK_OK(sock_sendall(c, buf, (size_t)n, NULL, 0));
}

static const struct sock_service noting_svc = {
	.name = "echo",
	.mode = SOCK_MODE_THREAD,
	.handle = echo_noting_peer,
	.handle_datagram = blk_echo_dgram,
};

/*
 * A dual-stack socket's IPv4 peers are reported as IPv4, never as
 * ::ffff:a.b.c.d: in the accept and close events, to a blocking handler,
 * to a datagram handler, and a datagram reply still reaches them.
 */
static void dual_stack_peers_are_ipv4(void)
{
	struct sock_server_config cfg = { 0 };
	char buf[SOCK_ADDR_STRLEN], v4[64], uv4[64], mine[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	struct tserver t;
	struct sock c, u;
	int ev_index, blk_index, udp_index, flags;

	flags = tr_listen(TR_DUAL, buf, sizeof(buf));
	ts_new(&t, &cfg);
	ev_index =
		ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, buf, flags);
	blk_index = ts_add(&t, &noting_svc, SOCK_STREAM, buf, flags);
	udp_index =
		ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM, buf, flags);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 3, 3000));

	snprintf(v4, sizeof(v4), "127.0.0.1:%d", ts_port(&t, ev_index));
	client_from(&c, SOCK_STREAM, "127.0.0.3", v4);
	echo_once(&c, "event mode");
	local_text(&c, mine);
	CHECK_OK(sock_close(&c));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 3000));
	CHECK(rec_find(SOCK_EV_ACCEPT, 0, &ev));
	CHECK_STR(ev.addr, mine);
	CHECK(rec_find(SOCK_EV_CLOSE, 0, &ev));
	CHECK_STR(ev.addr, mine);

	snprintf(v4, sizeof(v4), "127.0.0.1:%d", ts_port(&t, blk_index));
	client_from(&c, SOCK_STREAM, "127.0.0.3", v4);
	echo_once(&c, "thread mode");
	local_text(&c, mine);
	CHECK_OK(sock_close(&c));
	pthread_mutex_lock(&handler_peer_lock);
	CHECK_STR(handler_peer, mine);
	pthread_mutex_unlock(&handler_peer_lock);

	snprintf(uv4, sizeof(uv4), "127.0.0.1:%d", ts_port(&t, udp_index));
	client_from(&u, SOCK_DGRAM, "127.0.0.3", uv4);
	echo_once(&u, "a datagram answered");
	CHECK_OK(sock_close(&u));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(dual_stack_peers_are_ipv4)

static atomic_int verify_calls;

/* Refuses 127.0.0.4, and anything not named echo. */
static bool verify_not_4(const struct sock_addr *peer,
			 const struct sock_service *svc, void *data)
{
	char text[SOCK_ADDR_STRLEN];

	CHECK(data == &verify_calls);
	atomic_fetch_add(&verify_calls, 1);
	CHECK(sock_addr_format(peer, text, sizeof(text)) > 0);
	return !strcmp(svc->name, "echo") && strncmp(text, "127.0.0.4:", 10);
}

/*
 * The verify hook is asked about each peer the ranges let through, and
 * only those: a peer it refuses is closed before the handler, reported
 * as "verify".  For datagrams too, per datagram.
 */
static void verify_hook_decides_after_the_ranges(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], uaddr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock u;
	int index, uindex;

	atomic_store(&verify_calls, 0);
	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	uindex = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM,
			"127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_addr(&t, uindex, uaddr);
	CHECK_OK(sock_server_deny(t.srv, index, "127.0.0.2"));
	CHECK_OK(sock_server_verify(t.srv, index, verify_not_4, &verify_calls));
	CHECK_OK(
		sock_server_verify(t.srv, uindex, verify_not_4, &verify_calls));
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 2, 3000));
	refused_from("127.0.0.2", addr); /* the range: not asked */
	CHECK_INT(atomic_load(&verify_calls), ==, 0);
	refused_from("127.0.0.4", addr);
	check_refusal("verify", "127.0.0.4");
	served_from("127.0.0.3", addr);
	CHECK_INT(atomic_load(&verify_calls), ==, 2);
	/* A datagram from .4 is dropped; one from .3 is answered. */
	client_from(&u, SOCK_DGRAM, "127.0.0.4", uaddr);
	CHECK_OK(sock_sendall(&u, "dropped", 7, NULL, 0));
	CHECK_OK(sock_close(&u));
	client_from(&u, SOCK_DGRAM, "127.0.0.3", uaddr);
	echo_once(&u, "answered");
	CHECK_OK(sock_close(&u));
	CHECK_INT(atomic_load(&verify_calls), ==, 4);
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(verify_hook_decides_after_the_ranges)

/*
 * Datagrams from a denied source are dropped before the reflection
 * guard: no answer, a limit event.  Sent first, and the server reads in
 * order, so when the allowed one is answered the denied one was read.
 */
static void denied_datagrams_are_dropped(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], buf[64];
	struct sock denied, allowed;
	struct tserver t;
	int index;

	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM,
		       "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	CHECK_OK(sock_server_allow(t.srv, index, "127.0.0.1/32"));
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 1, 3000));
	client_from(&denied, SOCK_DGRAM, "127.0.0.2", addr);
	CHECK_OK(sock_sendall(&denied, "no answer", 9, NULL, 0));
	client_from(&allowed, SOCK_DGRAM, "127.0.0.1", addr);
	echo_once(&allowed, "an answer");
	check_refusal("access", "127.0.0.2");
	CHECK_INT(sock_recv(&denied, buf, sizeof(buf), MSG_DONTWAIT), ==,
		  -EAGAIN);
	CHECK_OK(sock_close(&denied));
	CHECK_OK(sock_close(&allowed));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(denied_datagrams_are_dropped)

/* What the calls refuse, and why. */
static void bad_ranges_and_calls_are_refused(void)
{
	static const char *const bad[] = {
		"",	      "/8",	     "10.0.0.0/",   "10.0.0.0/33",
		"10.0.0.1/8", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8",
		"10.0.0",     "host.name",   "::1/129",	    "[::1",
		"[10.0.0.1]", "::1/64",	     "10.0.0.0/ 8", "1000/8",
	};
	struct sock_server_config cfg = { 0 };
	char name[64];
	struct tserver t;
	size_t i;
	int index, uindex;

	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	unix_name(name, sizeof(name));
	uindex = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, name, 0);
	for (i = 0; i < SOCK_ARRAY_SIZE(bad); i++) {
		CHECK_ERR(sock_server_allow(t.srv, index, bad[i]), -EINVAL);
		CHECK_ERR(sock_server_deny(t.srv, index, bad[i]), -EINVAL);
	}
	CHECK_OK(sock_server_allow(t.srv, index, "[2001:db8::]/32"));
	CHECK_OK(sock_server_allow(t.srv, index, "::ffff:10.0.0.0/104"));
	CHECK_OK(sock_server_deny(t.srv, index, "0.0.0.0/0"));
	CHECK_ERR(sock_server_allow(t.srv, 99, "10.0.0.0/8"), -ENOENT);
	CHECK_ERR(sock_server_verify(t.srv, 99, verify_not_4, NULL), -ENOENT);
	CHECK_ERR(sock_server_allow(t.srv, uindex, "10.0.0.0/8"),
		  -EAFNOSUPPORT);
	CHECK_OK(sock_server_verify(t.srv, uindex, verify_not_4, NULL));
	CHECK_OK(sock_server_verify(t.srv, uindex, NULL, NULL));
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 2, 3000));
	ts_stop(&t, 3000);
	CHECK_ERR(sock_server_allow(t.srv, index, "10.0.0.0/8"), -EBUSY);
	CHECK_ERR(sock_server_verify(t.srv, index, NULL, NULL), -EBUSY);
	ts_free(&t);
}
ENGINE_TEST(bad_ranges_and_calls_are_refused)

static const struct test tests[] = {
	TEST_ENGINES(ranges_refuse_event),
	TEST_ENGINES(ranges_refuse_thread),
	TEST_ENGINES(ranges_refuse_pool),
	TEST_ENGINES(refused_peers_take_no_slot),
	TEST_ENGINES(v4_mapped_peers_meet_ipv4_ranges),
	TEST_ENGINES(verify_hook_decides_after_the_ranges),
	TEST_ENGINES(denied_datagrams_are_dropped),
	TEST_ENGINES(bad_ranges_and_calls_are_refused),
	TEST_ENGINES(dual_stack_peers_are_ipv4),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

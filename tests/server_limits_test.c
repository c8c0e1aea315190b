/* SPDX-License-Identifier: MIT */
/* server_limits_test.c -- caps, timeouts, descriptors, output, guards */

#include "server_util.h"

/* ---- the connection cap: extra connections wait, none is lost ---- */

#define CLIENTS 20
#define CAP 5

static void cap_case(enum sock_mode mode)
{
	struct sock_service svc = counted_svc(mode);
	struct shared *counter;
	struct sock_server_config cfg = { .max_conns = CAP, .pool_threads = 8 };
	char addr[SOCK_ADDR_STRLEN], buf[16];
	struct pollfd p[CLIENTS];
	struct sock c[CLIENTS];
	long long end;
	struct tserver t;
	int i, index, want, served = 0;

	counter = counted_reset();
	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &svc, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	for (i = 0; i < CLIENTS; i++) {
		client(&c[i], SOCK_STREAM, addr);
		CHECK_OK(sock_sendall(&c[i], "request", 7, NULL, 0));
		p[i].fd = c[i].fd;
		p[i].events = POLLIN;
	}
	/* The cap fills up, and stays full: no sixth is served. */
	want = mode == SOCK_MODE_INLINE ? 1 : CAP;
	end = test_now_ms() + TEST_WAIT_MS;
	while (atomic_load(&counter->now) < want && test_now_ms() < end)
		usleep(5000);
	CHECK_INT(atomic_load(&counter->now), ==, want);
	usleep(200000);
	CHECK_INT(atomic_load(&counter->total), ==, want);
	/* Each client closes once answered, making room for another. */
	end = test_now_ms() + 10000;
	while (served < CLIENTS && test_now_ms() < end) {
		CHECK_INT(poll(p, CLIENTS, 1000), >=, 0);
		for (i = 0; i < CLIENTS; i++) {
			if (p[i].fd < 0 || !(p[i].revents & POLLIN))
				continue;
			CHECK_OK(sock_recv_exact(&c[i], buf, 7, NULL));
			CHECK(memcmp(buf, "request", 7) == 0);
			CHECK_OK(sock_close(&c[i]));
			p[i].fd = -1;
			served++;
		}
	}
	CHECK_INT(served, ==, CLIENTS);
	CHECK_INT(atomic_load(&counter->total), ==, CLIENTS);
	CHECK_INT(atomic_load(&counter->peak), ==, want);
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_CLOSE, NULL), ==, CLIENTS);
	if (mode != SOCK_MODE_INLINE)
		CHECK_INT(rec_count(SOCK_EV_LIMIT, "max-connections"), >=, 1);
}

#define CAP_TEST(mode, MODE)                                                   \
	static void cap_queues_extra_connections_##mode(void)                  \
	{                                                                      \
		cap_case(SOCK_MODE_##MODE);                                    \
	}                                                                      \
	ENGINE_TEST(cap_queues_extra_connections_##mode)

CAP_TEST(event, EVENT)
CAP_TEST(inline, INLINE)
CAP_TEST(thread, THREAD)
CAP_TEST(pool, POOL)
CAP_TEST(fork, FORK)

/* ---- the cap per source host ---- */

static void per_source_case(enum sock_mode mode)
{
	struct sock_server_config cfg = { .max_per_source = 2 };
	char addr[SOCK_ADDR_STRLEN];
	struct sock a, b, extra, other;
	struct rec_event ev;
	struct tserver t;
	unsigned int i;
	int index;

	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&a, SOCK_STREAM, addr);
	client(&b, SOCK_STREAM, addr);
	echo_once(&a, "first");
	echo_once(&b, "second");
	/* A third from the same host is closed at once. */
	client(&extra, SOCK_STREAM, addr);
	CHECK(closed_by_server(&extra, TEST_WAIT_MS));
	CHECK_OK(sock_close(&extra));
	/* Another host is not affected. */
	CHECK_OK(sock_connect_from(&other, SOCK_STREAM, addr, "127.0.0.2:0",
				   5000));
	CHECK_OK(sock_settimeout(&other, 5000));
	echo_once(&other, "from elsewhere");
	/* Once one closes, the host may connect again. */
	CHECK_OK(sock_close(&a));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 2000));
	client(&extra, SOCK_STREAM, addr);
	echo_once(&extra, "room again");
	CHECK_OK(sock_close(&extra));
	CHECK_OK(sock_close(&b));
	CHECK_OK(sock_close(&other));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "max-per-source"), ==, 1);
	/* A limit, not a failed call: no error (it said EMFILE once). */
	for (i = 0; rec_find(SOCK_EV_LIMIT, i, &ev); i++)
		if (!strcmp(ev.what, "max-per-source"))
			CHECK_ERR(ev.err, 0);
}

static void per_source_cap_event(void)
{
	per_source_case(SOCK_MODE_EVENT);
}
ENGINE_TEST(per_source_cap_event)

static void per_source_cap_thread(void)
{
	per_source_case(SOCK_MODE_THREAD);
}
ENGINE_TEST(per_source_cap_thread)

static void per_source_cap_fork(void)
{
	per_source_case(SOCK_MODE_FORK);
}
ENGINE_TEST(per_source_cap_fork)

/* ---- idle and total timeouts ---- */

#define IDLE 300

/* A client that connects and sends nothing, and one that sends a byte
 * less often than the idle timeout, are both closed. */
static void idle_case(enum sock_mode mode)
{
	struct sock_server_config cfg = { .idle_timeout_ms = IDLE };
	char addr[SOCK_ADDR_STRLEN];
	struct sock silent, slow, alive;
	long long start, took;
	struct tserver t;
	int index, i;
	bool closed = false;

	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	start = test_now_ms();
	client(&silent, SOCK_STREAM, addr);
	CHECK(closed_by_server(&silent, TEST_WAIT_MS));
	took = test_now_ms() - start;
	CHECK_INT(took, >=, IDLE - 50);
	CHECK_INT(took, <, IDLE + TEST_LATE_MS);
	/* One byte every 2 x IDLE: closed before the third. */
	client(&slow, SOCK_STREAM, addr);
	client(&alive, SOCK_STREAM, addr);
	for (i = 0; i < 3 && !closed; i++) {
		if (sock_send(&slow, "x", 1, 0) != 1)
			break;
		usleep(2 * IDLE * 1000);
		CHECK_OK(sock_settimeout(&slow, 0));
		closed = closed_by_server(&slow, 0);
	}
	CHECK(closed || closed_by_server(&slow, 100));
	CHECK_INT(i, <=, 2);
	CHECK_OK(sock_close(&silent));
	CHECK_OK(sock_close(&slow));
	CHECK_OK(sock_close(&alive));
	ts_stop(&t, 3000);
	ts_free(&t);
	if (mode == SOCK_MODE_EVENT)
		CHECK_INT(rec_count(SOCK_EV_LIMIT, "idle-timeout"), >=, 1);
}

static void idle_timeout_event(void)
{
	idle_case(SOCK_MODE_EVENT);
}
ENGINE_TEST(idle_timeout_event)

static void idle_timeout_thread(void)
{
	idle_case(SOCK_MODE_THREAD);
}
ENGINE_TEST(idle_timeout_thread)

static void idle_timeout_fork(void)
{
	idle_case(SOCK_MODE_FORK);
}
ENGINE_TEST(idle_timeout_fork)

#define TOTAL 700

/* A client that keeps talking is closed when the total timeout passes. */
static void total_case(enum sock_mode mode)
{
	struct sock_server_config cfg = { .idle_timeout_ms = 400,
					  .total_timeout_ms = TOTAL };
	char addr[SOCK_ADDR_STRLEN], lc[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	long long start, took;
	struct tserver t;
	struct sock c;
	int index, i;

	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	local_text(&c, lc);
	start = test_now_ms();
	CHECK_OK(sock_settimeout(&c, 1000));
	for (i = 0; i < 50; i++) {
		char b;

		if (sock_send(&c, "y", 1, 0) != 1 ||
		    sock_recv(&c, &b, 1, 0) != 1)
			break;
		usleep(100000);
	}
	took = test_now_ms() - start;
	CHECK_INT(took, >=, TOTAL - 150);
	CHECK_INT(took, <, TOTAL + TEST_LATE_MS);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "total-timeout"), >=, 1);
	CHECK(rec_find_addr(SOCK_EV_CLOSE, lc, &ev));
	CHECK_INT(ev.err, ==, -ETIMEDOUT);
}

#define TOTAL_TEST(mode, MODE)                                                 \
	static void total_timeout_##mode(void)                                 \
	{                                                                      \
		total_case(SOCK_MODE_##MODE);                                  \
	}                                                                      \
	ENGINE_TEST(total_timeout_##mode)

TOTAL_TEST(event, EVENT)
TOTAL_TEST(thread, THREAD)
TOTAL_TEST(pool, POOL)
TOTAL_TEST(fork, FORK)

/* ---- out of descriptors ---- */

/* CPU time (user + system) of process pid, in ms. */
static long long cpu_ms(pid_t pid)
{
	unsigned long utime, stime;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	CHECK(f != NULL);
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	/* Fields after the command name, which may hold spaces. */
	p = strrchr(buf, ')');
	CHECK(p != NULL);
	CHECK_INT(sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%lu %lu",
			 &utime, &stime),
		  ==, 2);
	return (long long)(utime + stime) * 1000 / sysconf(_SC_CLK_TCK);
}

#define FLOOD 200

/*
 * In a child with few descriptors, a flood of connections must not make
 * the server spin on a listener it cannot accept from: it reports the
 * shortage, backs off, and serves again once descriptors are free.
 */
static void out_of_descriptors_backs_off_and_recovers(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct rlimit rl = { 48, 48 };
	static struct sock c[FLOOD];
	long long cpu0, t0, cpu, elapsed;
	struct tserver t;
	struct sock late;
	int i, n = 0, index;

	ts_new_in(&t, &cfg, true);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	/* The child inherits the limit; this process keeps a higher one
	 * for its clients. */
	CHECK_INT(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	if (rl.rlim_max < FLOOD + 64)
		SKIP("RLIMIT_NOFILE hard limit %lu too low",
		     (unsigned long)rl.rlim_max);
	rl.rlim_cur = 48;
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	ts_start(&t);
	rl.rlim_cur = rl.rlim_max;
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 1, 3000));
	for (i = 0; i < FLOOD; i++) {
		if (sock_connect(&c[i], SOCK_STREAM, addr, 2000))
			break;
		n++;
	}
	CHECK_INT(n, >, 60);
	CHECK(rec_wait(SOCK_EV_LIMIT, "descriptors", 1, 3000));
	/* A second of flood: the pending connections stay pending. */
	cpu0 = cpu_ms(t.pid);
	t0 = test_now_ms();
	usleep(1000000);
	cpu = cpu_ms(t.pid) - cpu0;
	elapsed = test_now_ms() - t0;
	CHECK_INT(cpu * 100, <, 30 * elapsed);
	/* Reports are rate-limited: the tries after the first are counted
	 * into one report a second later. */
	CHECK(rec_wait(SOCK_EV_LIMIT, "descriptors", 2, 2000));
	for (i = 0; i < n; i++)
		CHECK_OK(sock_close(&c[i]));
	/* Descriptors free again: a new client is served. */
	client(&late, SOCK_STREAM, addr);
	echo_once(&late, "served again");
	CHECK_OK(sock_close(&late));
	ts_stop(&t, 5000);
	ts_free(&t);
}
ENGINE_TEST(out_of_descriptors_backs_off_and_recovers)

/* ---- a peer that never reads ---- */

#define LIMIT (64 * 1024)
#define HOGS 4
#define HOG_MAX (64 * 1024 * 1024)

/*
 * Clients that send without reading: the server stops reading from each
 * once its queued output reaches the limit, so their sends block, its
 * memory stays bounded, nothing is dropped (each gets every byte back
 * once it reads), and other clients are still served.
 */
static void output_case(enum sock_mode mode)
{
	struct sock_server_config cfg = { .output_limit = LIMIT };
	char addr[SOCK_ADDR_STRLEN];
	static char out[65536], in[65536];
	size_t sent[HOGS], got, want;
	struct sock hog[HOGS], other;
	long before, after;
	struct tserver t;
	ssize_t n;
	int i, index;

	ts_new_in(&t, &cfg, true);
	index = ts_add(&t, &echo_svc[mode], SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&other, SOCK_STREAM, addr);
	echo_once(&other, "warm up");
	before = rss_kib(t.pid);
	for (i = 0; i < HOGS; i++) {
		client(&hog[i], SOCK_STREAM, addr);
		CHECK_OK(sock_settimeout(&hog[i], 300));
		memset(out, 'a' + i, sizeof(out));
		for (sent[i] = 0; sent[i] < HOG_MAX; sent[i] += (size_t)n) {
			n = sock_send(&hog[i], out, sizeof(out), 0);
			if (n == -ETIMEDOUT)
				break;
			CHECK_INT(n, >, 0);
		}
		CHECK_INT(sent[i], <, HOG_MAX);
	}
	after = rss_kib(t.pid);
	/* Valgrind's own bookkeeping is resident too: not comparable. */
	if (!under_valgrind())
		CHECK_INT(after - before, <,
			  rss_budget_kib((HOGS * 4 * LIMIT + (2 << 20)) >> 10));
	echo_once(&other, "still served");
	for (i = 0; i < HOGS; i++) {
		CHECK_OK(sock_shutdown(&hog[i], SHUT_WR));
		CHECK_OK(sock_settimeout(&hog[i], 5000));
		for (got = 0; got < sent[i]; got += (size_t)n) {
			want = sent[i] - got < sizeof(in) ? sent[i] - got
							  : sizeof(in);
			n = sock_recv(&hog[i], in, want, 0);
			CHECK_INT(n, >, 0);
			CHECK(in[0] == 'a' + i && in[n - 1] == 'a' + i);
		}
		CHECK_INT(sock_recv(&hog[i], in, 1, 0), ==, 0);
		CHECK_OK(sock_close(&hog[i]));
	}
	CHECK_OK(sock_close(&other));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "output-overflow"), ==, 0);
}

static void output_bounded_for_a_peer_that_never_reads_event(void)
{
	output_case(SOCK_MODE_EVENT);
}
ENGINE_TEST(output_bounded_for_a_peer_that_never_reads_event)

static void output_bounded_for_a_peer_that_never_reads_thread(void)
{
	output_case(SOCK_MODE_THREAD);
}
ENGINE_TEST(output_bounded_for_a_peer_that_never_reads_thread)

/*
 * The cap counts the server's connections, whichever workers serve them:
 * a Unix listener lives on the first worker only and still gets the whole
 * cap; one connection more waits until another ends.
 */
static void cap_is_the_servers_not_a_workers_share(void)
{
	struct sock_server_config cfg = { .workers = 4, .max_conns = 6 };
	char addr[SOCK_ADDR_STRLEN];
	struct sock c[7];
	struct tserver t;
	char byte;
	int i;

	ts_new(&t, &cfg);
	unix_name(addr, sizeof(addr));
	ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, addr, 0);
	ts_start(&t);
	for (i = 0; i < 6; i++) {
		client(&c[i], SOCK_STREAM, addr);
		echo_once(&c[i], "within the cap");
	}
	/* The seventh connects (the backlog) but is not served... */
	client(&c[6], SOCK_STREAM, addr);
	CHECK_OK(sock_sendall(&c[6], "x", 1, NULL, 0));
	CHECK_OK(sock_settimeout(&c[6], 300));
	CHECK_ERR(sock_recv(&c[6], &byte, 1, 0), -ETIMEDOUT);
	/* ...until one ends. */
	CHECK_OK(sock_close(&c[0]));
	CHECK_OK(sock_settimeout(&c[6], 5000));
	CHECK_INT(sock_recv(&c[6], &byte, 1, 0), ==, 1);
	CHECK_INT(byte, ==, 'x');
	for (i = 1; i < 7; i++)
		CHECK_OK(sock_close(&c[i]));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(cap_is_the_servers_not_a_workers_share)

/* ---- producers ---- */

#define PRODUCE_TOTAL (8 << 20)
#define PRODUCE_CHUNK (64 * 1024)

/*
 * A producer: PRODUCE_TOTAL bytes of a counting pattern (the byte at
 * stream offset k is k mod 256), sent with sock_conn_send_some at the
 * reader's pace, then an orderly close.  The offset lives in the data
 * pointer.
 */
static void produce_more(struct sock_conn *c)
{
	static unsigned char buf[PRODUCE_CHUNK + 256];
	size_t off = (size_t)(uintptr_t)sock_conn_data(c), len;
	ssize_t n;
	int i;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	for (;;) {
		len = PRODUCE_TOTAL - off;
		if (len == 0) {
			sock_conn_close(c);
			break;
		}
		if (len > PRODUCE_CHUNK)
			len = PRODUCE_CHUNK;
		n = sock_conn_send_some(c, buf + off % 256, len);
		if (n < 0)
			return;
		off += (size_t)n;
		if ((size_t)n < len)
			break;
	}
	sock_conn_set_data(c, (void *)(uintptr_t)off);
}

static void produce_ignore(struct sock_conn *c, const void *data, size_t len)
{
	(void)c;
	(void)data;
	(void)len;
}

static const struct sock_service producer_svc = {
	.name = "producer",
	.on_open = produce_more,
	.on_data = produce_ignore,
	.on_drain = produce_more,
};

/*
 * A reader that stops for a while: the producer stops with it, holding
 * no more memory than the output limit allows; then every byte arrives
 * in order and the stream ends.
 */
static void producer_follows_the_reader(void)
{
	struct sock_server_config cfg = { .output_limit = LIMIT };
	char addr[SOCK_ADDR_STRLEN];
	static unsigned char in[32768];
	long before, after;
	struct tserver t;
	size_t got = 0;
	ssize_t n, i;
	struct sock c;
	int index;

	ts_new_in(&t, &cfg, true);
	index = ts_add(&t, &producer_svc, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	/* A first connection makes the engine set up what it keeps per
	 * loop (io_uring's receive buffers): not the producer's. */
	client(&c, SOCK_STREAM, addr);
	CHECK_INT(sock_recv(&c, in, sizeof(in), 0), >, 0);
	CHECK_OK(sock_close(&c));
	before = rss_kib(t.pid);
	client(&c, SOCK_STREAM, addr);
	usleep(300 * 1000); /* the socket buffers fill; the producer waits */
	after = rss_kib(t.pid);
	if (!under_valgrind())
		CHECK_INT(after - before, <,
			  rss_budget_kib((4 * LIMIT + (1 << 20)) >> 10));
	CHECK_OK(sock_settimeout(&c, 5000));
	while ((n = sock_recv(&c, in, sizeof(in), 0)) > 0) {
		for (i = 0; i < n; i++)
			if (in[i] != (unsigned char)(got + (size_t)i))
				test_fail(__FILE__, __LINE__, "byte %zu is %u",
					  got + (size_t)i, in[i]);
		got += (size_t)n;
		if (got % (1 << 20) < sizeof(in))
			usleep(20 * 1000); /* a slow reader */
	}
	CHECK_INT(n, ==, 0);
	CHECK_INT(got, ==, PRODUCE_TOTAL);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "output-overflow"), ==, 0);
}
ENGINE_TEST(producer_follows_the_reader)

/* ---- orderly close ---- */

#define REPLY_BIG (4 << 20)

/* On the first data: a big reply, then close, as a request-reply
 * service does; later input is the peer's business. */
static void reply_and_close(struct sock_conn *c, const void *data, size_t len)
{
	static char reply[REPLY_BIG];

	(void)data;
	(void)len;
	if (sock_conn_data(c))
		return;
	sock_conn_set_data(c, c);
	memset(reply, 'r', sizeof(reply));
	if (sock_conn_send(c, reply, sizeof(reply)) == 0)
		sock_conn_close(c);
}

static const struct sock_service reply_svc = {
	.name = "reply",
	.on_data = reply_and_close,
};

/*
 * A client that keeps sending while it reads a long reply: the server's
 * close must not reset the connection under it (a reset drops what the
 * kernel has not sent yet), so every byte of the reply arrives.
 */
static void close_waits_for_a_peer_that_still_sends(void)
{
	struct sock_server_config cfg = { .output_limit = 8 << 20 };
	char addr[SOCK_ADDR_STRLEN];
	static char in[65536];
	struct tserver t;
	size_t got = 0;
	struct sock c;
	ssize_t n;
	int index;

	ts_new(&t, &cfg);
	index = ts_add(&t, &reply_svc, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_setsockopt(&c, SOL_SOCKET, SO_RCVBUF, 16384));
	CHECK_INT(sock_send(&c, "?", 1, 0), ==, 1);
	usleep(100 * 1000); /* the server replies, and closes */
	while ((n = sock_recv(&c, in, sizeof(in), 0)) > 0) {
		got += (size_t)n;
		if (sock_send(&c, "more", 4, 0) < 0)
			break; /* the server closed its reading side */
	}
	CHECK_INT(n, ==, 0);
	CHECK_INT(got, ==, REPLY_BIG);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(close_waits_for_a_peer_that_still_sends)

/* ---- datagrams ---- */

/* Expect no datagram on c for ms. */
static void no_reply(struct sock *c, int ms)
{
	char buf[16];

	CHECK_OK(sock_settimeout(c, ms));
	CHECK_ERR(sock_recv(c, buf, sizeof(buf), 0), -ETIMEDOUT);
	CHECK_OK(sock_settimeout(c, 5000));
}

static void truncated_case(enum sock_mode mode)
{
	struct sock_server_config cfg = { .max_datagram = 512 };
	char addr[SOCK_ADDR_STRLEN];
	static char big[513], back[1024];
	struct tserver t;
	struct sock c;
	int index;

	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], SOCK_DGRAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&c, SOCK_DGRAM, addr);
	memset(big, 'b', sizeof(big));
	CHECK_INT(sock_send(&c, big, 513, 0), ==, 513);
	no_reply(&c, 300);
	CHECK(rec_wait(SOCK_EV_LIMIT, "datagram-truncated", 1, 2000));
	/* The largest allowed passes whole. */
	CHECK_INT(sock_send(&c, big, 512, 0), ==, 512);
	CHECK_INT(sock_recv(&c, back, sizeof(back), 0), ==, 512);
	CHECK(memcmp(back, big, 512) == 0);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "datagram-truncated"), ==, 1);
}

static void datagram_over_max_is_dropped_event(void)
{
	truncated_case(SOCK_MODE_EVENT);
}
ENGINE_TEST(datagram_over_max_is_dropped_event)

static void datagram_over_max_is_dropped_pool(void)
{
	truncated_case(SOCK_MODE_POOL);
}
ENGINE_TEST(datagram_over_max_is_dropped_pool)

static void datagram_over_max_is_dropped_fork(void)
{
	truncated_case(SOCK_MODE_FORK);
}
ENGINE_TEST(datagram_over_max_is_dropped_fork)

/* A UDP client bound to a privileged port, or -1 if none is free. */
static int privileged_client(struct sock *c, const char *addr)
{
	char from[32];
	int port;

	for (port = 999; port > 900; port--) {
		CHECK_OK(sock_open(c, AF_INET, SOCK_DGRAM, 0));
		snprintf(from, sizeof(from), "127.0.0.1:%d", port);
		if (sock_bind(c, from) == 0) {
			CHECK_OK(sock_connect_to(c, addr));
			CHECK_OK(sock_settimeout(c, 5000));
			return port;
		}
		CHECK_OK(sock_close(c));
	}
	return -1;
}

static void privileged_case(enum sock_mode mode)
{
	struct sock_server_config cfg = { 0 };
	struct sock_server_config allow = { .allow_privileged_peers = true };
	char addr[SOCK_ADDR_STRLEN], buf[16];
	struct tserver t;
	struct sock c;
	int index;

	if (geteuid() != 0)
		SKIP("binding a privileged port needs root");
	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], SOCK_DGRAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	if (privileged_client(&c, addr) < 0)
		SKIP("no free port in 901-999");
	CHECK_INT(sock_send(&c, "ping", 4, 0), ==, 4);
	no_reply(&c, 300);
	CHECK(rec_wait(SOCK_EV_LIMIT, "privileged-source-port", 1, 2000));
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	/* Allowed explicitly, it is answered. */
	ts_new_in(&t, &allow, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], SOCK_DGRAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	CHECK_INT(privileged_client(&c, addr), >, 0);
	CHECK_INT(sock_send(&c, "ping", 4, 0), ==, 4);
	CHECK_INT(sock_recv(&c, buf, sizeof(buf), 0), ==, 4);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}

static void no_reply_to_a_privileged_port_event(void)
{
	privileged_case(SOCK_MODE_EVENT);
}
ENGINE_TEST(no_reply_to_a_privileged_port_event)

static void no_reply_to_a_privileged_port_thread(void)
{
	privileged_case(SOCK_MODE_THREAD);
}
ENGINE_TEST(no_reply_to_a_privileged_port_thread)

/* A datagram whose source port is one of the server's own datagram
 * services gets no answer: two services must never talk in a loop. */
static void own_port_case(enum sock_mode mode)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], from[32];
	struct tserver t;
	struct sock c;
	int index, other_port;

	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], SOCK_DGRAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	other_port = ts_port(&t, ts_add(&t, &echo_svc[SOCK_MODE_EVENT],
					SOCK_DGRAM, "127.0.0.1:0", 0));
	ts_start(&t);
	/* The same port on another loopback address: the guard looks at
	 * the port. */
	CHECK_OK(sock_open(&c, AF_INET, SOCK_DGRAM, 0));
	snprintf(from, sizeof(from), "127.0.0.2:%d", other_port);
	CHECK_OK(sock_bind(&c, from));
	CHECK_OK(sock_connect_to(&c, addr));
	CHECK_INT(sock_send(&c, "loop?", 5, 0), ==, 5);
	no_reply(&c, 300);
	CHECK(rec_wait(SOCK_EV_LIMIT, "own-service-port", 1, 2000));
	CHECK_OK(sock_close(&c));
	/* From any other port it is answered. */
	client(&c, SOCK_DGRAM, addr);
	echo_once(&c, "no loop");
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}

static void no_reply_to_our_own_ports_event(void)
{
	own_port_case(SOCK_MODE_EVENT);
}
ENGINE_TEST(no_reply_to_our_own_ports_event)

static void no_reply_to_our_own_ports_fork(void)
{
	own_port_case(SOCK_MODE_FORK);
}
ENGINE_TEST(no_reply_to_our_own_ports_fork)

/* ---- datagrams waiting for blocking handlers ---- */

static struct shared *gate;

/* Counts the datagram, then holds its thread until the gate opens. */
static void held_dgram(struct sock *s, const void *msg, size_t len,
		       const struct sock_addr *peer, void *data)
{
	long long end = test_now_ms() + 10000;

	(void)s;
	(void)msg;
	(void)len;
	(void)peer;
	(void)data;
	atomic_fetch_add(&gate->total, 1);
	while (!atomic_load(&gate->now) && test_now_ms() < end)
		usleep(1000);
}

/*
 * Datagrams queued for busy handlers are bounded (256 per worker): the
 * rest are dropped and reported, and those queued are all handled once
 * the handlers are free.
 */
static void datagrams_waiting_for_handlers_are_bounded(void)
{
	struct sock_service svc = { .name = "held",
				    .mode = SOCK_MODE_POOL,
				    .handle_datagram = held_dgram };
	struct sock_server_config cfg = { .pool_threads = 2 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;
	long long end;
	int i, index;

	gate = shared_new();
	ts_new(&t, &cfg);
	index = ts_add(&t, &svc, SOCK_DGRAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&c, SOCK_DGRAM, addr);
	for (i = 0; i < 300; i++) {
		CHECK_INT(sock_send(&c, "d", 1, 0), ==, 1);
		usleep(500); /* paced: the kernel must not drop any */
	}
	CHECK(rec_wait(SOCK_EV_LIMIT, "datagram-rate", 1, 3000));
	CHECK_INT(atomic_load(&gate->total), <=, 2);
	atomic_store(&gate->now, 1);
	end = test_now_ms() + TEST_WAIT_MS;
	while (atomic_load(&gate->total) < 256 && test_now_ms() < end)
		usleep(5000);
	usleep(100000);
	CHECK_INT(atomic_load(&gate->total), ==, 256);
	/* Reports after the first come a second later, counted. */
	CHECK(rec_wait(SOCK_EV_LIMIT, "datagram-rate", 300 - 256, 3000));
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "datagram-rate"), ==, 300 - 256);
}
ENGINE_TEST(datagrams_waiting_for_handlers_are_bounded)

/*
 * The listen backlog bounds the connections the kernel completes before
 * the server accepts them: with 1, a server that is not yet running
 * holds two (Linux takes one more than the backlog) and the third's SYN
 * is dropped, so its connect times out; once the server runs, the two
 * are served.  Datagram listeners have no backlog.
 */
static void backlog_bounds_the_accept_queue(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c[3];
	int index, dgram;

	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	dgram = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM,
		       "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	CHECK_ERR(sock_server_backlog(t.srv, dgram, 4), -EOPNOTSUPP);
	CHECK_ERR(sock_server_backlog(t.srv, 99, 4), -ENOENT);
	CHECK_ERR(sock_server_backlog(t.srv, index, 0), -EINVAL);
	CHECK_OK(sock_server_backlog(t.srv, index, 1));
	CHECK_OK(sock_connect(&c[0], SOCK_STREAM, addr, 5000));
	CHECK_OK(sock_connect(&c[1], SOCK_STREAM, addr, 5000));
	CHECK_ERR(sock_connect(&c[2], SOCK_STREAM, addr, 300), -ETIMEDOUT);
	ts_start(&t);
	CHECK_OK(sock_settimeout(&c[0], 5000));
	CHECK_OK(sock_settimeout(&c[1], 5000));
	echo_once(&c[0], "first in the queue");
	echo_once(&c[1], "second in the queue");
	CHECK_OK(sock_close(&c[0]));
	CHECK_OK(sock_close(&c[1]));
	CHECK_ERR(sock_server_backlog(t.srv, index, 8), -EBUSY);
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(backlog_bounds_the_accept_queue)

static const struct test tests[] = {
	TEST_ENGINES(backlog_bounds_the_accept_queue),
	TEST_ENGINES(cap_queues_extra_connections_event),
	TEST_ENGINES(cap_queues_extra_connections_inline),
	TEST_ENGINES(cap_queues_extra_connections_thread),
	TEST_ENGINES(cap_queues_extra_connections_pool),
	TEST_ENGINES(cap_queues_extra_connections_fork),
	TEST_ENGINES(per_source_cap_event),
	TEST_ENGINES(per_source_cap_thread),
	TEST_ENGINES(per_source_cap_fork),
	TEST_ENGINES(idle_timeout_event),
	TEST_ENGINES(idle_timeout_thread),
	TEST_ENGINES(idle_timeout_fork),
	TEST_ENGINES(total_timeout_event),
	TEST_ENGINES(total_timeout_thread),
	TEST_ENGINES(total_timeout_pool),
	TEST_ENGINES(total_timeout_fork),
	TEST_ENGINES(out_of_descriptors_backs_off_and_recovers),
	TEST_ENGINES(output_bounded_for_a_peer_that_never_reads_event),
	TEST_ENGINES(output_bounded_for_a_peer_that_never_reads_thread),
	TEST_ENGINES(cap_is_the_servers_not_a_workers_share),
	TEST_ENGINES(producer_follows_the_reader),
	TEST_ENGINES(close_waits_for_a_peer_that_still_sends),
	TEST_ENGINES(datagram_over_max_is_dropped_event),
	TEST_ENGINES(datagram_over_max_is_dropped_pool),
	TEST_ENGINES(datagram_over_max_is_dropped_fork),
	TEST_ENGINES(no_reply_to_a_privileged_port_event),
	TEST_ENGINES(no_reply_to_a_privileged_port_thread),
	TEST_ENGINES(no_reply_to_our_own_ports_event),
	TEST_ENGINES(no_reply_to_our_own_ports_fork),
	TEST_ENGINES(datagrams_waiting_for_handlers_are_bounded),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

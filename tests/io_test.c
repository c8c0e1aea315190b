/* SPDX-License-Identifier: MIT */
/* io_test.c -- sending and receiving: timeouts, whole buffers, lines, fds */

#include "test.h"

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

/* ---- helpers ---------------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* CPU time this process used, in ms: a call that spins while it waits
 * uses about as much CPU as it waits. */
static long long cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 2000) == 1;
}

/* The lowest free descriptor: compared before and after a call, it tells
 * whether the call leaked one. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	CHECK(fd >= 0);
	close(fd);
	return fd;
}

/*
 * A connected TCP pair on 127.0.0.1: p[0] the client, p[1] the accepted
 * end.  rcvbuf and sndbuf (0: default) are set on the accepting side and
 * the client side, before the handshake, so that they bound the window.
 */
static void tcp_pair_sized(struct sock p[2], int rcvbuf, int sndbuf)
{
	struct sock l;
	struct sock_addr a;

	CHECK_OK(sock_open(&l, AF_INET, SOCK_STREAM, 0));
	if (rcvbuf)
		CHECK_OK(sock_setsockopt(&l, SOL_SOCKET, SO_RCVBUF, rcvbuf));
	CHECK_OK(sock_bind(&l, "127.0.0.1:0"));
	CHECK_OK(sock_listen_bound(&l, 1));
	CHECK_OK(sock_getsockname(&l, &a));
	CHECK_OK(sock_open(&p[0], AF_INET, SOCK_STREAM, 0));
	if (sndbuf)
		CHECK_OK(sock_setsockopt(&p[0], SOL_SOCKET, SO_SNDBUF, sndbuf));
	CHECK_OK(sock_settimeout(&p[0], 2000));
	CHECK_OK(sock_connect_addr(&p[0], &a));
	CHECK_OK(sock_settimeout(&l, 2000));
	CHECK_OK(sock_accept(&l, &p[1], NULL));
	CHECK_OK(sock_close(&l));
	CHECK_OK(sock_settimeout(&p[0], SOCK_FOREVER));
}

static void tcp_pair(struct sock p[2])
{
	tcp_pair_sized(p, 0, 0);
}

static void unix_pair(struct sock p[2])
{
	CHECK_OK(sock_socketpair(p, AF_UNIX, SOCK_STREAM, 0));
}

/* A UDP socket bound to 127.0.0.1 and a free port; *a is its address. */
static void udp_bound(struct sock *s, struct sock_addr *a)
{
	CHECK_OK(sock_open(s, AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(sock_bind(s, "127.0.0.1:0"));
	CHECK_OK(sock_getsockname(s, a));
	CHECK_OK(sock_settimeout(s, 2000));
}

static void close_pair(struct sock p[2])
{
	CHECK_OK(sock_close(&p[0]));
	CHECK_OK(sock_close(&p[1]));
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

/* Bytes that are not all alike, so a lost or repeated block shows. */
static unsigned char *pattern(size_t len)
{
	unsigned char *buf = malloc(len);
	uint32_t x = 2463534242u;
	size_t i;

	CHECK(buf != NULL);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	return buf;
}

/* A thread that sends parts on a socket, delay_ms before each, and then
 * shuts down writing if asked. */
struct sender {
	pthread_t thread;
	struct sock *s;
	int delay_ms;
	const char *parts[4];
	bool shut;
};

static void *sender_main(void *arg)
{
	struct sender *t = arg;
	size_t i, sent;

	for (i = 0; i < TEST_COUNT(t->parts) && t->parts[i]; i++) {
		sleep_ms(t->delay_ms);
		if (sock_sendall(t->s, t->parts[i], strlen(t->parts[i]), &sent,
				 0) < 0)
			abort();
	}
	if (t->shut && sock_shutdown(t->s, SHUT_WR) < 0)
		abort();
	return NULL;
}

static void sender_start(struct sender *t)
{
	CHECK(pthread_create(&t->thread, NULL, sender_main, t) == 0);
}

static void sender_join(struct sender *t)
{
	CHECK(pthread_join(t->thread, NULL) == 0);
}

/* A thread that reads a stream to its end, slowly, adding up a checksum. */
struct reader {
	pthread_t thread;
	struct sock *s;
	size_t got;
	uint64_t sum;
	int err;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	unsigned char buf[997];
	unsigned int reads = 0;
	ssize_t n;

	r->sum = FNV_INIT;
	for (;;) {
		n = sock_recv(r->s, buf, sizeof(buf), 0);
		if (n <= 0) {
			r->err = (int)n;
			return NULL;
		}
		r->sum = fnv1a(r->sum, buf, (size_t)n);
		r->got += (size_t)n;
		if (++reads % 64 == 0)
			sleep_ms(1);
	}
}

/* ---- send and recv, and timeouts ------------------------------------ */

static void send_and_recv_round_trip(void)
{
	struct sock p[2];
	char buf[16];

	tcp_pair(p);
	CHECK_INT(sock_send(&p[0], "hello", 5, 0), ==, 5);
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), 0), ==, 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_INT(sock_send(&p[1], "", 0, 0), ==, 0);
	close_pair(p);
}

/* Timed on the fastest of five tries: a loaded machine may pause any
 * one call, while a call that waits waits in each. */
static void recv_with_zero_timeout_is_eagain(void)
{
	long long t0, fastest = LLONG_MAX;
	struct sock p[2];
	char buf[4];
	int i;

	unix_pair(p);
	sock_setblocking(&p[1], false);
	for (i = 0; i < 5; i++) {
		t0 = test_now_ms();
		CHECK_ERR(sock_recv(&p[1], buf, sizeof(buf), 0), -EAGAIN);
		if (test_now_ms() - t0 < fastest)
			fastest = test_now_ms() - t0;
	}
	CHECK_INT(fastest, <, 100);
	close_pair(p);
}

static void recv_dontwait_does_not_wait(void)
{
	struct sock p[2];
	char buf[4];

	unix_pair(p);
	CHECK_ERR(sock_recv(&p[1], buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN);
	close_pair(p);
}

static void recv_with_short_timeout_times_out(void)
{
	struct sock p[2];
	long long t0, elapsed;
	char buf[4];

	tcp_pair(p);
	CHECK_OK(sock_settimeout(&p[1], 200));
	t0 = test_now_ms();
	CHECK_ERR(sock_recv(&p[1], buf, sizeof(buf), 0), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 150);
	CHECK_INT(elapsed, <, 200 + TEST_LATE_MS);
	close_pair(p);
}

static void recv_forever_gets_late_data(void)
{
	struct sender t = { .delay_ms = 200, .parts = { "late" } };
	struct sock p[2];
	long long t0;
	char buf[16];

	tcp_pair(p);
	t.s = &p[0];
	sender_start(&t);
	t0 = test_now_ms();
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), 0), ==, 4);
	CHECK_INT(test_now_ms() - t0, >=, 150);
	CHECK(memcmp(buf, "late", 4) == 0);
	sender_join(&t);
	close_pair(p);
}

static void recv_of_closed_stream_is_zero(void)
{
	struct sock p[2];
	char buf[4];

	tcp_pair(p);
	CHECK_OK(sock_send(&p[0], "x", 1, 0));
	CHECK_OK(sock_close(&p[0]));
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), 0), ==, 1);
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), 0), ==, 0);
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), 0), ==, 0);
	CHECK_OK(sock_close(&p[1]));
}

static void recv_on_closed_socket_is_ebadf(void)
{
	struct sock s = SOCK_CLOSED;
	char buf[4] = "abc";

	CHECK_ERR(sock_recv(&s, buf, sizeof(buf), 0), -EBADF);
	CHECK_ERR(sock_send(&s, buf, sizeof(buf), 0), -EBADF);
}

/* Fill p[0]'s way to p[1] with non-blocking sends; returns the bytes. */
static size_t fill(struct sock *s)
{
	static const char block[4096];
	size_t total = 0;
	int saved = s->timeout_ms, i;
	ssize_t n = 0;

	sock_setblocking(s, false);
	for (i = 0; i < 100000; i++) {
		n = sock_send(s, block, sizeof(block), 0);
		if (n < 0)
			break;
		total += (size_t)n;
	}
	CHECK_ERR(n, -EAGAIN);
	CHECK_OK(sock_settimeout(s, saved));
	return total;
}

static void send_to_full_peer_times_out(void)
{
	struct sock p[2];
	long long t0, elapsed;

	unix_pair(p);
	CHECK_INT(fill(&p[0]), >, 0);
	sock_setblocking(&p[0], false);
	CHECK_ERR(sock_send(&p[0], "x", 1, 0), -EAGAIN);
	CHECK_OK(sock_settimeout(&p[0], 200));
	t0 = test_now_ms();
	CHECK_ERR(sock_send(&p[0], "x", 1, 0), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 150);
	CHECK_INT(elapsed, <, 200 + TEST_LATE_MS);
	close_pair(p);
}

/* A datagram sent by address to a full Unix socket: poll cannot wait for
 * room there, and the call must still wait without spinning. */
static void sendto_full_unix_receiver_waits_without_spinning(void)
{
	struct sock a, b;
	struct sock_addr to;
	long long t0, c0, elapsed;
	char name[64];
	int i;
	ssize_t n = 0;

	snprintf(name, sizeof(name), "@libsock-io-test-%d", (int)getpid());
	CHECK_OK(sock_addr_parse(&to, name));
	CHECK_OK(sock_open(&b, AF_UNIX, SOCK_DGRAM, 0));
	CHECK_OK(sock_bind_addr(&b, &to));
	CHECK_OK(sock_open(&a, AF_UNIX, SOCK_DGRAM, 0));
	sock_setblocking(&a, false);
	for (i = 0; i < 100000; i++) {
		n = sock_sendto(&a, "d", 1, &to, 0);
		if (n < 0)
			break;
	}
	CHECK_ERR(n, -EAGAIN);
	CHECK_OK(sock_settimeout(&a, 300));
	t0 = test_now_ms();
	c0 = cpu_ms();
	CHECK_ERR(sock_sendto(&a, "d", 1, &to, 0), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 250);
	CHECK_INT(elapsed, <, 300 + TEST_LATE_MS);
	CHECK_INT(cpu_ms() - c0, <, elapsed / 2);
	CHECK_OK(sock_close(&a));
	CHECK_OK(sock_close(&b));
}

/* ---- sendall --------------------------------------------------------- */

static void sendall_moves_megabytes_to_slow_reader(void)
{
	const size_t len = 4 << 20;
	unsigned char *data = pattern(len);
	struct reader r = { .err = 1 };
	struct sock p[2];
	size_t sent = 0;

	tcp_pair_sized(p, 4096, 4096);
	r.s = &p[1];
	CHECK(pthread_create(&r.thread, NULL, reader_main, &r) == 0);
	CHECK_OK(sock_settimeout(&p[0], 20000));
	CHECK_OK(sock_sendall(&p[0], data, len, &sent, 0));
	CHECK_INT(sent, ==, len);
	CHECK_OK(sock_shutdown(&p[0], SHUT_WR));
	CHECK(pthread_join(r.thread, NULL) == 0);
	CHECK_INT(r.err, ==, 0);
	CHECK_INT(r.got, ==, len);
	CHECK(r.sum == fnv1a(FNV_INIT, data, len));
	free(data);
	close_pair(p);
}

static void sendall_times_out_when_peer_stops_reading(void)
{
	const size_t len = 16 << 20;
	unsigned char *data = pattern(len);
	struct sock p[2];
	long long t0, elapsed;
	size_t sent = 0;

	tcp_pair_sized(p, 4096, 4096);
	CHECK_OK(sock_settimeout(&p[0], 300));
	t0 = test_now_ms();
	CHECK_ERR(sock_sendall(&p[0], data, len, &sent, 0), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 250);
	CHECK_INT(elapsed, <, 300 + TEST_LATE_MS);
	CHECK_INT(sent, >, 0);
	CHECK_INT(sent, <, len);
	free(data);
	close_pair(p);
}

static void sendall_with_zero_timeout_reports_partial(void)
{
	const size_t len = 16 << 20;
	unsigned char *data = pattern(len);
	struct sock p[2];
	size_t sent = 0;

	unix_pair(p);
	sock_setblocking(&p[0], false);
	CHECK_ERR(sock_sendall(&p[0], data, len, &sent, 0), -EAGAIN);
	CHECK_INT(sent, >, 0);
	CHECK_INT(sent, <, len);
	free(data);
	close_pair(p);
}

static void sendall_of_empty_buffer_sends_empty_datagram(void)
{
	struct sock a, b;
	struct sock_addr aa, ba;
	size_t sent = 99;
	char buf[8];

	udp_bound(&a, &aa);
	udp_bound(&b, &ba);
	CHECK_OK(sock_connect_addr(&a, &ba));
	CHECK_OK(sock_sendall(&a, "", 0, &sent, 0));
	CHECK_INT(sent, ==, 0);
	CHECK_INT(sock_recv(&b, buf, sizeof(buf), 0), ==, 0);
	CHECK_OK(sock_close(&a));
	CHECK_OK(sock_close(&b));
}

/* ---- a peer that is gone --------------------------------------------- */

/* Close p[1] with SO_LINGER {1, 0}: the kernel sends a reset. */
static void reset_peer(struct sock p[2])
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	CHECK_OK(sock_setsockopt_buf(&p[1], SOL_SOCKET, SO_LINGER, &lg,
				     sizeof(lg)));
	CHECK_OK(sock_close(&p[1]));
	CHECK(wait_readable(p[0].fd));
}

static void reset_by_peer_is_econnreset_on_recv(void)
{
	struct sock p[2];
	char buf[4];

	tcp_pair(p);
	reset_peer(p);
	CHECK_ERR(sock_recv(&p[0], buf, sizeof(buf), 0), -ECONNRESET);
	CHECK_OK(sock_close(&p[0]));
}

static void reset_by_peer_is_econnreset_on_send(void)
{
	struct sock p[2];

	tcp_pair(p);
	reset_peer(p);
	CHECK_ERR(sock_send(&p[0], "x", 1, 0), -ECONNRESET);
	CHECK_OK(sock_close(&p[0]));
}

static void send_to_closed_peer_is_epipe_without_signal(void)
{
	struct sock p[2];
	size_t sent = 99;
	int fd = 0;

	/* The harness restores SIGPIPE's default action: were it raised, it
	 * would kill this test. */
	unix_pair(p);
	CHECK_OK(sock_close(&p[1]));
	CHECK_ERR(sock_send(&p[0], "x", 1, 0), -EPIPE);
	CHECK_ERR(sock_sendall(&p[0], "xyz", 3, &sent, 0), -EPIPE);
	CHECK_INT(sent, ==, 0);
	CHECK_ERR(sock_send_fds(&p[0], "x", 1, &fd, 1), -EPIPE);
	CHECK_OK(sock_close(&p[0]));
}

static void send_to_closed_tcp_peer_fails_without_signal(void)
{
	struct sock p[2];
	ssize_t n = 0;
	int i;

	tcp_pair(p);
	CHECK_OK(sock_close(&p[1]));
	/* The first send may go out before the peer's reset answers it. */
	for (i = 0; i < 100; i++) {
		n = sock_send(&p[0], "x", 1, 0);
		if (n < 0)
			break;
		sleep_ms(10);
	}
	CHECK(n == -EPIPE || n == -ECONNRESET);
	CHECK_ERR(sock_send(&p[0], "x", 1, 0), -EPIPE);
	CHECK_OK(sock_close(&p[0]));
}

/* ---- datagrams ------------------------------------------------------- */

static void zero_length_datagram_is_data(void)
{
	struct sock a, b;
	struct sock_addr aa, ba, from;
	char buf[8];

	udp_bound(&a, &aa);
	udp_bound(&b, &ba);
	CHECK_INT(sock_sendto(&a, "", 0, &ba, 0), ==, 0);
	CHECK_INT(sock_sendto(&a, "x", 1, &ba, 0), ==, 1);
	CHECK_INT(sock_recvfrom(&b, buf, sizeof(buf), &from, 0), ==, 0);
	CHECK(sock_addr_is_equal(&from, &aa));
	CHECK_INT(sock_recvfrom(&b, buf, sizeof(buf), &from, 0), ==, 1);
	CHECK_INT(buf[0], ==, 'x');
	CHECK_OK(sock_close(&a));
	CHECK_OK(sock_close(&b));
}

static void recvfrom_reports_sender(void)
{
	struct sock a, b, c;
	struct sock_addr aa, ba, ca, from;
	void *out = NULL;
	char buf[8];

	udp_bound(&a, &aa);
	udp_bound(&b, &ba);
	udp_bound(&c, &ca);
	CHECK_INT(sock_sendto(&a, "from-a", 6, &ba, 0), ==, 6);
	CHECK_INT(sock_sendto(&c, "from-c", 6, &ba, 0), ==, 6);
	CHECK_INT(sock_recvfrom(&b, buf, sizeof(buf), &from, 0), ==, 6);
	CHECK(memcmp(buf, "from-a", 6) == 0);
	CHECK(sock_addr_is_equal(&from, &aa));
	CHECK_INT(sock_recvfrom_alloc(&b, 100, &out, &from, 0), ==, 6);
	CHECK_STR(out, "from-c");
	CHECK(sock_addr_is_equal(&from, &ca));
	free(out);
	/* The sender may answer to the address reported. */
	CHECK_INT(sock_sendto(&b, "re", 2, &from, 0), ==, 2);
	CHECK_INT(sock_recvfrom(&c, buf, sizeof(buf), NULL, 0), ==, 2);
	CHECK_OK(sock_close(&a));
	CHECK_OK(sock_close(&b));
	CHECK_OK(sock_close(&c));
}

static void recvfrom_with_timeout_times_out(void)
{
	struct sock b;
	struct sock_addr ba, from;
	long long t0, elapsed;
	char buf[8];

	udp_bound(&b, &ba);
	CHECK_OK(sock_settimeout(&b, 200));
	t0 = test_now_ms();
	CHECK_ERR(sock_recvfrom(&b, buf, sizeof(buf), &from, 0), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 150);
	CHECK_INT(elapsed, <, 200 + TEST_LATE_MS);
	CHECK_INT(from.len, ==, 0);
	CHECK_OK(sock_close(&b));
}

static void long_datagram_is_truncated(void)
{
	struct sock p[2];
	char buf[4];

	CHECK_OK(sock_socketpair(p, AF_UNIX, SOCK_DGRAM, 0));
	CHECK_INT(sock_send(&p[0], "0123456789", 10, 0), ==, 10);
	CHECK_INT(sock_send(&p[0], "abcdefghij", 10, 0), ==, 10);
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), 0), ==, 4);
	CHECK(memcmp(buf, "0123", 4) == 0);
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), MSG_TRUNC), ==, 10);
	CHECK(memcmp(buf, "abcd", 4) == 0);
	close_pair(p);
}

/* ---- recv_all -------------------------------------------------------- */

struct bulk {
	pthread_t thread;
	struct sock *s;
	const unsigned char *data;
	size_t len;
};

static void *bulk_main(void *arg)
{
	struct bulk *b = arg;

	if (sock_sendall(b->s, b->data, b->len, NULL, 0) < 0 ||
	    sock_shutdown(b->s, SHUT_WR) < 0)
		abort();
	return NULL;
}

static void recv_all_reads_stream_to_its_end(void)
{
	size_t len = 3 << 20;
	unsigned char *data = pattern(len);
	struct bulk b = { .data = data, .len = len };
	struct sock p[2];
	void *out;

	tcp_pair(p);
	b.s = &p[0];
	CHECK(pthread_create(&b.thread, NULL, bulk_main, &b) == 0);
	CHECK_INT(sock_recv_all(&p[1], 8 << 20, &out), ==, len);
	CHECK(pthread_join(b.thread, NULL) == 0);
	CHECK(memcmp(out, data, len) == 0);
	CHECK_INT(((char *)out)[len], ==, '\0');
	free(out);
	free(data);
	close_pair(p);
}

static void recv_all_of_empty_stream_is_zero(void)
{
	struct sock p[2];
	void *out;

	unix_pair(p);
	CHECK_OK(sock_shutdown(&p[0], SHUT_WR));
	CHECK_INT(sock_recv_all(&p[1], 16, &out), ==, 0);
	CHECK(out != NULL);
	CHECK_STR(out, "");
	free(out);
	close_pair(p);
}

static void recv_all_takes_exactly_max(void)
{
	char text[64];
	struct sock p[2];
	void *out;

	memset(text, 'x', sizeof(text));
	unix_pair(p);
	CHECK_OK(sock_sendall(&p[0], text, sizeof(text), NULL, 0));
	CHECK_OK(sock_shutdown(&p[0], SHUT_WR));
	CHECK_INT(sock_recv_all(&p[1], sizeof(text), &out), ==, sizeof(text));
	CHECK(memcmp(out, text, sizeof(text)) == 0);
	free(out);
	close_pair(p);
}

static void recv_all_past_max_is_emsgsize(void)
{
	char text[100], rest[64];
	struct sock p[2];
	void *out = &out;

	memset(text, 'y', sizeof(text));
	unix_pair(p);
	CHECK_OK(sock_sendall(&p[0], text, sizeof(text), NULL, 0));
	CHECK_OK(sock_shutdown(&p[0], SHUT_WR));
	CHECK_ERR(sock_recv_all(&p[1], 64, &out), -EMSGSIZE);
	CHECK(out == NULL);
	/* Nothing past max was consumed. */
	CHECK_INT(sock_recv(&p[1], rest, sizeof(rest), 0), ==, 36);
	CHECK_ERR(sock_recv_all(&p[1], 0, &out), -EINVAL);
	close_pair(p);
}

static void recv_all_without_end_times_out(void)
{
	struct sock p[2];
	long long t0, ms;
	void *out = &out;

	unix_pair(p);
	CHECK_OK(sock_sendall(&p[0], "abc", 3, NULL, 0));
	CHECK_OK(sock_settimeout(&p[1], 200));
	t0 = test_now_ms();
	CHECK_ERR(sock_recv_all(&p[1], 1024, &out), -ETIMEDOUT);
	ms = test_now_ms() - t0;
	CHECK_INT(ms, >=, 150);
	CHECK_INT(ms, <, 200 + TEST_LATE_MS);
	CHECK(out == NULL);
	close_pair(p);
}

/* ---- recv_alloc ------------------------------------------------------ */

static void recv_alloc_returns_terminated_buffer(void)
{
	struct sock p[2];
	void *out = NULL;

	unix_pair(p);
	CHECK_INT(sock_send(&p[0], "hello", 5, 0), ==, 5);
	CHECK_INT(sock_recv_alloc(&p[1], 1 << 20, &out, 0), ==, 5);
	CHECK_STR(out, "hello");
	/* Most of the megabyte asked for was given back. */
	CHECK_INT(malloc_usable_size(out), <, 4096);
	free(out);
	CHECK_INT(sock_send(&p[0], "abcdef", 6, 0), ==, 6);
	CHECK_INT(sock_recv_alloc(&p[1], 4, &out, 0), ==, 4);
	CHECK_STR(out, "abcd");
	free(out);
	CHECK_INT(sock_recv_alloc(&p[1], 4, &out, MSG_PEEK), ==, 2);
	CHECK_STR(out, "ef");
	free(out);
	CHECK_OK(sock_close(&p[0]));
	CHECK_INT(sock_recv_alloc(&p[1], 4, &out, 0), ==, 2);
	free(out);
	CHECK_INT(sock_recv_alloc(&p[1], 4, &out, 0), ==, 0);
	CHECK(out != NULL);
	CHECK_STR(out, "");
	free(out);
	CHECK_OK(sock_close(&p[1]));
}

static void recv_alloc_failure_leaves_null(void)
{
	struct sock p[2];
	void *out = &out;

	unix_pair(p);
	CHECK_ERR(sock_recv_alloc(&p[1], 0, &out, 0), -EINVAL);
	CHECK(out == NULL);
	out = &out;
	sock_setblocking(&p[1], false);
	CHECK_ERR(sock_recv_alloc(&p[1], 64, &out, 0), -EAGAIN);
	CHECK(out == NULL);
	out = &out;
	CHECK_ERR(sock_recv_alloc(&p[1], SIZE_MAX, &out, 0), -EINVAL);
	CHECK(out == NULL);
	close_pair(p);
}

static void recv_alloc_truncated_datagram_is_terminated(void)
{
	struct sock p[2];
	void *out = NULL;

	CHECK_OK(sock_socketpair(p, AF_UNIX, SOCK_DGRAM, 0));
	CHECK_INT(sock_send(&p[0], "0123456789", 10, 0), ==, 10);
	CHECK_INT(sock_recv_alloc(&p[1], 3, &out, MSG_TRUNC), ==, 10);
	CHECK_STR(out, "012");
	free(out);
	close_pair(p);
}

/* ---- recv_exact ------------------------------------------------------ */

static void recv_exact_gathers_pieces(void)
{
	struct sender t = { .delay_ms = 50,
			    .parts = { "abc", "defg", "hijkl", "mno" } };
	struct sock p[2];
	size_t got = 0;
	char buf[16];

	tcp_pair(p);
	t.s = &p[0];
	sender_start(&t);
	CHECK_OK(sock_settimeout(&p[1], 5000));
	CHECK_INT(sock_recv_exact(&p[1], buf, 12, &got), ==, 0);
	CHECK_INT(got, ==, 12);
	CHECK(memcmp(buf, "abcdefghijkl", 12) == 0);
	/* The rest is left for the next receive. */
	CHECK_OK(sock_recv_exact(&p[1], buf, 3, NULL));
	CHECK(memcmp(buf, "mno", 3) == 0);
	sender_join(&t);
	close_pair(p);
}

static void recv_exact_reports_early_end(void)
{
	struct sock p[2];
	size_t got = 0;
	char buf[16];

	unix_pair(p);
	CHECK_INT(sock_send(&p[0], "12345", 5, 0), ==, 5);
	CHECK_OK(sock_shutdown(&p[0], SHUT_WR));
	CHECK_ERR(sock_recv_exact(&p[1], buf, 10, &got), SOCK_EEOF);
	CHECK_INT(got, ==, 5);
	CHECK(memcmp(buf, "12345", 5) == 0);
	CHECK_OK(sock_recv_exact(&p[1], buf, 0, &got));
	CHECK_INT(got, ==, 0);
	close_pair(p);
}

static void recv_exact_times_out_with_count(void)
{
	struct sock p[2];
	long long t0, elapsed;
	size_t got = 0;
	char buf[16];

	unix_pair(p);
	CHECK_INT(sock_send(&p[0], "123", 3, 0), ==, 3);
	CHECK_OK(sock_settimeout(&p[1], 200));
	t0 = test_now_ms();
	CHECK_ERR(sock_recv_exact(&p[1], buf, 10, &got), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 150);
	CHECK_INT(elapsed, <, 200 + TEST_LATE_MS);
	CHECK_INT(got, ==, 3);
	close_pair(p);
}

/* ---- recv_line ------------------------------------------------------- */

/* Lines split across sends, one waited for, and a last one without '\n'. */
static void check_lines(struct sock p[2])
{
	struct sender t = {
		.s = &p[0],
		.delay_ms = 150,
		.parts = { "one\ntwo\nthr", "ee\nfo", "ur\nlast" },
		.shut = true,
	};
	char buf[32];

	sender_start(&t);
	CHECK_OK(sock_settimeout(&p[1], 5000));
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 4);
	CHECK_STR(buf, "one\n");
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 4);
	CHECK_STR(buf, "two\n");
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 6);
	CHECK_STR(buf, "three\n");
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 5);
	CHECK_STR(buf, "four\n");
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 4);
	CHECK_STR(buf, "last");
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 0);
	sender_join(&t);
	close_pair(p);
}

static void recv_line_reads_split_lines_tcp(void)
{
	struct sock p[2];

	tcp_pair(p);
	check_lines(p);
}

static void recv_line_reads_split_lines_unix(void)
{
	struct sock p[2];

	unix_pair(p);
	check_lines(p);
}

static void recv_line_leaves_rest_unread(void)
{
	struct sock p[2];
	char buf[32];

	unix_pair(p);
	CHECK_INT(sock_send(&p[0], "line\nrest", 9, 0), ==, 9);
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 5);
	CHECK_STR(buf, "line\n");
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), 0), ==, 4);
	CHECK(memcmp(buf, "rest", 4) == 0);
	close_pair(p);
}

static void recv_line_too_long_is_emsgsize(void)
{
	struct sock p[2];
	char buf[8], all[16];

	tcp_pair(p);
	CHECK_INT(sock_send(&p[0], "abcdefghij\n", 11, 0), ==, 11);
	CHECK(wait_readable(p[1].fd));
	sleep_ms(20); /* let all 11 bytes land */
	CHECK_ERR(sock_recv_line(&p[1], buf, sizeof(buf)), -EMSGSIZE);
	/* Exactly size - 1 with the '\n' fits. */
	CHECK_INT(sock_recv_line(&p[1], all, 12), ==, 11);
	CHECK_STR(all, "abcdefghij\n");
	close_pair(p);
}

static void recv_line_over_long_leaves_data(void)
{
	struct sock p[2];
	char buf[8], all[16];

	unix_pair(p);
	CHECK_INT(sock_send(&p[0], "abcdefghij", 10, 0), ==, 10);
	CHECK_ERR(sock_recv_line(&p[1], buf, sizeof(buf)), -EMSGSIZE);
	CHECK_INT(sock_recv(&p[1], all, sizeof(all), 0), ==, 10);
	CHECK(memcmp(all, "abcdefghij", 10) == 0);
	CHECK_ERR(sock_recv_line(&p[1], buf, 1), -EINVAL);
	close_pair(p);
}

static void check_partial_line_times_out(struct sock p[2])
{
	long long t0, c0, elapsed;
	char buf[32];

	CHECK_INT(sock_send(&p[0], "abc", 3, 0), ==, 3);
	CHECK(wait_readable(p[1].fd));
	sock_setblocking(&p[1], false);
	CHECK_ERR(sock_recv_line(&p[1], buf, sizeof(buf)), -EAGAIN);
	CHECK_OK(sock_settimeout(&p[1], 300));
	t0 = test_now_ms();
	c0 = cpu_ms();
	CHECK_ERR(sock_recv_line(&p[1], buf, sizeof(buf)), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 250);
	CHECK_INT(elapsed, <, 300 + TEST_LATE_MS);
	/* It waited for more bytes; it did not peek in a loop. */
	CHECK_INT(cpu_ms() - c0, <, elapsed / 2);
	CHECK_INT(sock_recv(&p[1], buf, sizeof(buf), 0), ==, 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	close_pair(p);
}

static void recv_line_partial_times_out_tcp(void)
{
	struct sock p[2];

	tcp_pair(p);
	check_partial_line_times_out(p);
}

static void recv_line_partial_times_out_unix(void)
{
	struct sock p[2];

	unix_pair(p);
	check_partial_line_times_out(p);
}

static void recv_line_waits_forever_without_spinning(void)
{
	struct sender t = { .delay_ms = 300, .parts = { "par", "tial\n" } };
	struct sock p[2];
	long long t0, c0, elapsed;
	char buf[32];

	unix_pair(p);
	t.s = &p[0];
	sender_start(&t);
	t0 = test_now_ms();
	c0 = cpu_ms();
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 8);
	elapsed = test_now_ms() - t0;
	CHECK_STR(buf, "partial\n");
	CHECK_INT(elapsed, >=, 500);
	CHECK_INT(cpu_ms() - c0, <, elapsed / 2);
	sender_join(&t);
	close_pair(p);
}

static void recv_line_at_end_of_stream(void)
{
	struct sock p[2];
	char buf[32];

	tcp_pair(p);
	CHECK_INT(sock_send(&p[0], "no newline", 10, 0), ==, 10);
	CHECK_OK(sock_close(&p[0]));
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 10);
	CHECK_STR(buf, "no newline");
	CHECK_INT(sock_recv_line(&p[1], buf, sizeof(buf)), ==, 0);
	CHECK_OK(sock_close(&p[1]));
}

static void recv_line_reset_mid_line_is_error(void)
{
	struct sock p[2];
	char buf[32];

	tcp_pair(p);
	CHECK_INT(sock_send(&p[1], "half", 4, 0), ==, 4);
	CHECK(wait_readable(p[0].fd));
	reset_peer(p);
	/* The partial line is not taken for a last line: the stream failed. */
	CHECK_ERR(sock_recv_line(&p[0], buf, sizeof(buf)), -ECONNRESET);
	CHECK_OK(sock_close(&p[0]));
}

/* ---- descriptors ----------------------------------------------------- */

static void fd_passing_carries_a_pipe(void)
{
	struct sock p[2];
	int pipefd[2], got[4], n = 0;
	size_t nfds = TEST_COUNT(got);
	char buf[16];

	unix_pair(p);
	CHECK(pipe(pipefd) == 0);
	CHECK_INT(sock_send_fds(&p[0], "F", 1, &pipefd[0], 1), ==, 1);
	close(pipefd[0]);
	CHECK_INT(sock_recv_fds(&p[1], buf, sizeof(buf), got, &nfds), ==, 1);
	CHECK_INT(buf[0], ==, 'F');
	CHECK_INT(nfds, ==, 1);
	CHECK(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	CHECK_INT(write(pipefd[1], "via pipe", 8), ==, 8);
	n = (int)read(got[0], buf, sizeof(buf));
	CHECK_INT(n, ==, 8);
	CHECK(memcmp(buf, "via pipe", 8) == 0);
	close(got[0]);
	close(pipefd[1]);
	close_pair(p);
}

static void fd_passing_many_on_seqpacket(void)
{
	struct sock p[2];
	int fds[253], got[253];
	size_t nfds = TEST_COUNT(got), i;
	char buf[4];

	CHECK_OK(sock_socketpair(p, AF_UNIX, SOCK_SEQPACKET, 0));
	for (i = 0; i < TEST_COUNT(fds); i++)
		fds[i] = 0;
	CHECK_INT(sock_send_fds(&p[0], "", 0, fds, TEST_COUNT(fds)), ==, 0);
	CHECK_INT(sock_recv_fds(&p[1], buf, sizeof(buf), got, &nfds), ==, 0);
	CHECK_INT(nfds, ==, TEST_COUNT(fds));
	for (i = 0; i < nfds; i++) {
		CHECK(fcntl(got[i], F_GETFD) & FD_CLOEXEC);
		close(got[i]);
	}
	close_pair(p);
}

static void fd_passing_too_many_for_room_is_emsgsize(void)
{
	struct sock p[2];
	int fds[3] = { 0, 1, 2 }, got[1] = { -1 }, before;
	size_t nfds = 1;
	char buf[16];

	unix_pair(p);
	before = lowest_free_fd();
	CHECK_INT(sock_send_fds(&p[0], "abc", 3, fds, 3), ==, 3);
	CHECK_ERR(sock_recv_fds(&p[1], buf, sizeof(buf), got, &nfds),
		  -EMSGSIZE);
	CHECK_INT(nfds, ==, 0);
	/* Those that arrived were closed, and the data was consumed. */
	CHECK_INT(lowest_free_fd(), ==, before);
	sock_setblocking(&p[1], false);
	CHECK_ERR(sock_recv(&p[1], buf, sizeof(buf), 0), -EAGAIN);
	/* With no room at all, too. */
	nfds = 0;
	CHECK_INT(sock_send_fds(&p[0], "d", 1, fds, 1), ==, 1);
	CHECK_ERR(sock_recv_fds(&p[1], buf, sizeof(buf), NULL, &nfds),
		  -EMSGSIZE);
	CHECK_INT(lowest_free_fd(), ==, before);
	close_pair(p);
}

static void fd_passing_rejects_bad_counts(void)
{
	struct sock p[2];
	int fds[254] = { 0 };

	unix_pair(p);
	CHECK_ERR(sock_send_fds(&p[0], "x", 1, fds, 254), -EINVAL);
	CHECK_ERR(sock_send_fds(&p[0], "", 0, fds, 1), -EINVAL);
	close_pair(p);
}

static void recv_fds_of_plain_data_has_none(void)
{
	struct sock p[2];
	int got[2];
	size_t nfds = 2;
	char buf[16];

	unix_pair(p);
	CHECK_INT(sock_send_fds(&p[0], "plain", 5, NULL, 0), ==, 5);
	CHECK_INT(sock_recv_fds(&p[1], buf, sizeof(buf), got, &nfds), ==, 5);
	CHECK_INT(nfds, ==, 0);
	CHECK(memcmp(buf, "plain", 5) == 0);
	sock_setblocking(&p[1], false);
	nfds = 2;
	CHECK_ERR(sock_recv_fds(&p[1], buf, sizeof(buf), got, &nfds), -EAGAIN);
	CHECK_INT(nfds, ==, 0);
	close_pair(p);
}

static void fd_passing_with_passcred_keeps_fds(void)
{
	struct sock p[2];
	int got[1];
	size_t nfds = 1;
	char buf[4];

	unix_pair(p);
	CHECK_OK(sock_setsockopt(&p[1], SOL_SOCKET, SO_PASSCRED, 1));
	CHECK_INT(sock_send_fds(&p[0], "c", 1, (int[]){ 0 }, 1), ==, 1);
	CHECK_INT(sock_recv_fds(&p[1], buf, sizeof(buf), got, &nfds), ==, 1);
	CHECK_INT(nfds, ==, 1);
	close(got[0]);
	close_pair(p);
}

/* ---- makefile -------------------------------------------------------- */

static void makefile_reads_lines_and_writes_formatted(void)
{
	struct sock p[2];
	char line[64];
	FILE *f = NULL;

	unix_pair(p);
	CHECK_OK(sock_makefile(&p[0], "r+", &f));
	CHECK(f != NULL);
	CHECK_INT(sock_send(&p[1], "hello\nworld\n", 12, 0), ==, 12);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_STR(line, "hello\n");
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK_STR(line, "world\n");
	CHECK_INT(fprintf(f, "n=%d\n", 42), ==, 5);
	CHECK_INT(fflush(f), ==, 0);
	CHECK_OK(sock_settimeout(&p[1], 2000));
	CHECK_INT(sock_recv(&p[1], line, sizeof(line), 0), ==, 5);
	CHECK(memcmp(line, "n=42\n", 5) == 0);
	/* Closing the stream leaves the socket open. */
	CHECK_INT(fclose(f), ==, 0);
	CHECK_INT(sock_send(&p[0], "still", 5, 0), ==, 5);
	CHECK_INT(sock_recv(&p[1], line, sizeof(line), 0), ==, 5);
	close_pair(p);
}

static void makefile_read_and_write_only(void)
{
	struct sock p[2];
	FILE *r = NULL, *w = NULL;
	char line[64];

	tcp_pair(p);
	CHECK_OK(sock_makefile(&p[0], "wb", &w));
	CHECK_OK(sock_makefile(&p[1], "rb", &r));
	CHECK_INT(fputs("over tcp\n", w), >=, 0);
	CHECK_INT(fflush(w), ==, 0);
	CHECK(fgets(line, sizeof(line), r) != NULL);
	CHECK_STR(line, "over tcp\n");
	/* A read-only stream cannot be written, nor the other way. */
	CHECK_INT(fputc('x', r), ==, EOF);
	CHECK_INT(fgetc(w), ==, EOF);
	CHECK_INT(fclose(w), ==, 0);
	/* The socket p[0] is still open: the peer sees no end yet. */
	sock_setblocking(&p[1], false);
	CHECK_ERR(sock_recv(&p[1], line, sizeof(line), 0), -EAGAIN);
	CHECK_OK(sock_close(&p[0]));
	CHECK(fgets(line, sizeof(line), r) == NULL);
	CHECK(feof(r));
	CHECK_INT(fclose(r), ==, 0);
	CHECK_OK(sock_close(&p[1]));
}

static void makefile_timeout_is_stream_error(void)
{
	struct sock p[2];
	long long t0, elapsed;
	char line[64];
	FILE *f = NULL;

	unix_pair(p);
	CHECK_OK(sock_settimeout(&p[0], 200));
	CHECK_OK(sock_makefile(&p[0], "r", &f));
	/* The stream keeps the timeout it was made with. */
	CHECK_OK(sock_settimeout(&p[0], SOCK_FOREVER));
	t0 = test_now_ms();
	errno = 0;
	CHECK(fgets(line, sizeof(line), f) == NULL);
	CHECK_INT(errno, ==, ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 150);
	CHECK_INT(elapsed, <, 200 + TEST_LATE_MS);
	CHECK(ferror(f));
	CHECK_INT(fclose(f), ==, 0);
	close_pair(p);
}

static void makefile_write_to_closed_peer_is_epipe(void)
{
	struct sock p[2];
	FILE *f = NULL;

	unix_pair(p);
	CHECK_OK(sock_makefile(&p[0], "w", &f));
	CHECK_OK(sock_close(&p[1]));
	CHECK_INT(fputs("lost", f), >=, 0);
	errno = 0;
	CHECK_INT(fflush(f), ==, EOF);
	CHECK_INT(errno, ==, EPIPE);
	CHECK(ferror(f));
	fclose(f);
	CHECK_OK(sock_close(&p[0]));
}

static void makefile_rejects_bad_mode(void)
{
	static const char *const bad[] = { "", "x", "a", "w+x", "rr" };
	struct sock p[2];
	FILE *f;
	size_t i;
	int before;

	unix_pair(p);
	before = lowest_free_fd();
	for (i = 0; i < TEST_COUNT(bad); i++) {
		f = stdout;
		CHECK_ERR(sock_makefile(&p[0], bad[i], &f), -EINVAL);
		CHECK(f == NULL);
	}
	CHECK_INT(lowest_free_fd(), ==, before);
	CHECK_OK(sock_makefile(&p[0], "rw", &f));
	fclose(f);
	CHECK_OK(sock_makefile(&p[0], "r+b", &f));
	fclose(f);
	CHECK_INT(lowest_free_fd(), ==, before);
	close_pair(p);
	f = stdout;
	CHECK_ERR(sock_makefile(&p[0], "r", &f), -EBADF);
	CHECK(f == NULL);
}

/* ---- sendfile -------------------------------------------------------- */

/* An unlinked temporary file holding data. */
static int temp_file(const unsigned char *data, size_t len)
{
	char path[] = "/tmp/libsock-io-test-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	CHECK_INT(write(fd, data, len), ==, len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

static void sendfile_sends_whole_file_and_part(void)
{
	const size_t len = 300000;
	unsigned char *data = pattern(len);
	struct reader r = { .err = 1 };
	struct sock p[2];
	size_t sent = 0;
	int fd = temp_file(data, len);

	tcp_pair(p);
	r.s = &p[1];
	CHECK(pthread_create(&r.thread, NULL, reader_main, &r) == 0);
	CHECK_OK(sock_sendfile(&p[0], fd, 0, 0, &sent));
	CHECK_INT(sent, ==, len);
	CHECK_OK(sock_sendfile(&p[0], fd, 1000, 5000, &sent));
	CHECK_INT(sent, ==, 5000);
	/* Past the end it stops at the end. */
	CHECK_OK(sock_sendfile(&p[0], fd, (off_t)len - 10, 100, &sent));
	CHECK_INT(sent, ==, 10);
	CHECK_OK(sock_shutdown(&p[0], SHUT_WR));
	CHECK(pthread_join(r.thread, NULL) == 0);
	CHECK_INT(r.err, ==, 0);
	CHECK_INT(r.got, ==, len + 5000 + 10);
	CHECK(r.sum ==
	      fnv1a(fnv1a(fnv1a(FNV_INIT, data, len), data + 1000, 5000),
		    data + len - 10, 10));
	/* The file's own offset was not moved. */
	CHECK_INT(lseek(fd, 0, SEEK_CUR), ==, 0);
	CHECK_ERR(sock_sendfile(&p[0], fd, -1, 0, &sent), -EINVAL);
	close(fd);
	free(data);
	close_pair(p);
}

static void sendfile_times_out_when_peer_stops_reading(void)
{
	const size_t len = 16 << 20;
	struct sock p[2];
	long long t0, elapsed;
	size_t sent = 0;
	char path[] = "/tmp/libsock-io-test-XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	unlink(path);
	CHECK(ftruncate(fd, (off_t)len) == 0);
	tcp_pair_sized(p, 4096, 4096);
	CHECK_OK(sock_settimeout(&p[0], 300));
	t0 = test_now_ms();
	CHECK_ERR(sock_sendfile(&p[0], fd, 0, 0, &sent), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 250);
	CHECK_INT(elapsed, <, 300 + TEST_LATE_MS);
	CHECK_INT(sent, >, 0);
	CHECK_INT(sent, <, len);
	close(fd);
	close_pair(p);
}

static void sendfile_to_closed_peer_is_epipe_without_signal(void)
{
	unsigned char data[100] = { 0 };
	struct sock p[2];
	sigset_t mask, pending;
	size_t sent = 99;
	int fd = temp_file(data, sizeof(data));

	unix_pair(p);
	CHECK_OK(sock_close(&p[1]));
	CHECK_ERR(sock_sendfile(&p[0], fd, 0, 0, &sent), -EPIPE);
	CHECK_INT(sent, ==, 0);
	/* SIGPIPE is neither left blocked nor pending. */
	CHECK(pthread_sigmask(SIG_BLOCK, NULL, &mask) == 0);
	CHECK(!sigismember(&mask, SIGPIPE));
	CHECK(sigpending(&pending) == 0);
	CHECK(!sigismember(&pending, SIGPIPE));
	close(fd);
	CHECK_OK(sock_close(&p[0]));
}

/* ---- sendmsg and recvmsg --------------------------------------------- */

static void sendmsg_and_recvmsg_with_iovecs(void)
{
	struct iovec out[3] = {
		{ .iov_base = "ab", .iov_len = 2 },
		{ .iov_base = "cde", .iov_len = 3 },
		{ .iov_base = "f", .iov_len = 1 },
	};
	char a[4], b[4];
	struct iovec in[2] = {
		{ .iov_base = a, .iov_len = sizeof(a) },
		{ .iov_base = b, .iov_len = sizeof(b) },
	};
	struct msghdr mo = { .msg_iov = out, .msg_iovlen = 3 };
	struct msghdr mi = { .msg_iov = in, .msg_iovlen = 2 };
	struct sock p[2];

	CHECK_OK(sock_socketpair(p, AF_UNIX, SOCK_DGRAM, 0));
	CHECK_INT(sock_sendmsg(&p[0], &mo, 0), ==, 6);
	CHECK_INT(sock_recvmsg(&p[1], &mi, 0), ==, 6);
	CHECK(memcmp(a, "abcd", 4) == 0);
	CHECK(memcmp(b, "ef", 2) == 0);
	CHECK(!(mi.msg_flags & MSG_TRUNC));
	/* A datagram longer than the iovecs is truncated, and says so. */
	CHECK_INT(sock_sendmsg(&p[0], &mo, 0), ==, 6);
	in[1].iov_len = 1;
	CHECK_INT(sock_recvmsg(&p[1], &mi, 0), ==, 5);
	CHECK(mi.msg_flags & MSG_TRUNC);
	CHECK(memcmp(b, "e", 1) == 0);
	/* And with a timeout, nothing comes. */
	CHECK_OK(sock_settimeout(&p[1], 100));
	CHECK_ERR(sock_recvmsg(&p[1], &mi, 0), -ETIMEDOUT);
	close_pair(p);
}

static void sendmsg_to_address(void)
{
	struct sock a, b;
	struct sock_addr aa, ba, from;
	struct iovec iov = { .iov_base = "to-b", .iov_len = 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	char buf[8];

	udp_bound(&a, &aa);
	udp_bound(&b, &ba);
	m.msg_name = &ba.u;
	m.msg_namelen = ba.len;
	CHECK_INT(sock_sendmsg(&a, &m, 0), ==, 4);
	CHECK_INT(sock_recvfrom(&b, buf, sizeof(buf), &from, 0), ==, 4);
	CHECK(sock_addr_is_equal(&from, &aa));
	CHECK_OK(sock_close(&a));
	CHECK_OK(sock_close(&b));
}

static const struct test tests[] = {
	TEST(send_and_recv_round_trip),
	TEST(recv_all_reads_stream_to_its_end),
	TEST(recv_all_of_empty_stream_is_zero),
	TEST(recv_all_takes_exactly_max),
	TEST(recv_all_past_max_is_emsgsize),
	TEST(recv_all_without_end_times_out),
	TEST(recv_with_zero_timeout_is_eagain),
	TEST(recv_dontwait_does_not_wait),
	TEST(recv_with_short_timeout_times_out),
	TEST(recv_forever_gets_late_data),
	TEST(recv_of_closed_stream_is_zero),
	TEST(recv_on_closed_socket_is_ebadf),
	TEST(send_to_full_peer_times_out),
	TEST(sendto_full_unix_receiver_waits_without_spinning),
	TEST(sendall_moves_megabytes_to_slow_reader),
	TEST(sendall_times_out_when_peer_stops_reading),
	TEST(sendall_with_zero_timeout_reports_partial),
	TEST(sendall_of_empty_buffer_sends_empty_datagram),
	TEST(reset_by_peer_is_econnreset_on_recv),
	TEST(reset_by_peer_is_econnreset_on_send),
	TEST(send_to_closed_peer_is_epipe_without_signal),
	TEST(send_to_closed_tcp_peer_fails_without_signal),
	TEST(zero_length_datagram_is_data),
	TEST(recvfrom_reports_sender),
	TEST(recvfrom_with_timeout_times_out),
	TEST(long_datagram_is_truncated),
	TEST(recv_alloc_returns_terminated_buffer),
	TEST(recv_alloc_failure_leaves_null),
	TEST(recv_alloc_truncated_datagram_is_terminated),
	TEST(recv_exact_gathers_pieces),
	TEST(recv_exact_reports_early_end),
	TEST(recv_exact_times_out_with_count),
	TEST(recv_line_reads_split_lines_tcp),
	TEST(recv_line_reads_split_lines_unix),
	TEST(recv_line_leaves_rest_unread),
	TEST(recv_line_too_long_is_emsgsize),
	TEST(recv_line_over_long_leaves_data),
	TEST(recv_line_partial_times_out_tcp),
	TEST(recv_line_partial_times_out_unix),
	TEST(recv_line_waits_forever_without_spinning),
	TEST(recv_line_at_end_of_stream),
	TEST(recv_line_reset_mid_line_is_error),
	TEST(fd_passing_carries_a_pipe),
	TEST(fd_passing_many_on_seqpacket),
	TEST(fd_passing_too_many_for_room_is_emsgsize),
	TEST(fd_passing_rejects_bad_counts),
	TEST(recv_fds_of_plain_data_has_none),
	TEST(fd_passing_with_passcred_keeps_fds),
	TEST(makefile_reads_lines_and_writes_formatted),
	TEST(makefile_read_and_write_only),
	TEST(makefile_timeout_is_stream_error),
	TEST(makefile_write_to_closed_peer_is_epipe),
	TEST(makefile_rejects_bad_mode),
	TEST(sendfile_sends_whole_file_and_part),
	TEST(sendfile_times_out_when_peer_stops_reading),
	TEST(sendfile_to_closed_peer_is_epipe_without_signal),
	TEST(sendmsg_and_recvmsg_with_iovecs),
	TEST(sendmsg_to_address),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

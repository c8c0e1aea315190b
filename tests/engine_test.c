/* SPDX-License-Identifier: MIT */
/* engine_test.c -- the engines under loops and servers: watches, timers, signals, transfers, flow control, datagrams, cancellation, fallback */

/*
 * Every test runs once per engine (an io_uring run whose loop falls back
 * to epoll is skipped).  What the engines hold of the caller's memory
 * and of the kernel's is checked under the sanitizers and valgrind.
 *
 * Valgrind (3.19) holds its lock across io_uring_enter: while a loop
 * waits on its ring, no other thread of its process runs.  So servers
 * run in a child process of their own, single-threaded, which valgrind
 * checks too; the few tests that need another thread beside a waiting
 * loop skip their io_uring run under valgrind.
 */

#include "server/core.h"
#include "server_util.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

/* Run on engine e; threads: another thread of the loop's process must
 * run while the loop waits. */
static void pick_engine(enum sock_engine e, bool threads)
{
	struct sock_loop *loop;
	enum sock_engine got;

	test_engine = e;
	if (e == SOCK_ENGINE_URING && threads && under_valgrind())
		SKIP("valgrind stops every thread while one waits on a ring");
	CHECK_OK(sock_loop_new(&loop, e));
	got = sock_loop_engine(loop);
	sock_loop_free(loop);
	if (got != e)
		SKIP("io_uring unavailable: the loop falls back to epoll");
}

#define ENGINES(fn, threads)                                                   \
	static void fn##_epoll(void)                                           \
	{                                                                      \
		pick_engine(SOCK_ENGINE_EPOLL, threads);                       \
		fn();                                                          \
	}                                                                      \
	static void fn##_io_uring(void)                                        \
	{                                                                      \
		pick_engine(SOCK_ENGINE_URING, threads);                       \
		fn();                                                          \
	}

/* A loop on the engine under test. */
static struct sock_loop *loop_new(void)
{
	struct sock_loop *loop;

	CHECK_OK(sock_loop_new(&loop, test_engine));
	CHECK_INT(sock_loop_engine(loop), ==, test_engine);
	return loop;
}

static void stop_loop(struct sock_timer *t, void *arg)
{
	(void)t;
	sock_loop_stop(arg);
}

/* Run loop until stopped, or for at most ms. */
static void run_for(struct sock_loop *loop, int ms)
{
	struct sock_timer guard;

	sock_timer_init(&guard, stop_loop, loop);
	CHECK_OK(sock_timer_start(loop, &guard, ms, 0));
	CHECK_OK(sock_loop_run(loop));
	sock_timer_stop(loop, &guard);
}

/* ---- loops: timers, watches, signals, stopping ---- */

struct ticks {
	struct sock_loop *loop;
	int n;
	char order[8];
	long long last_ms;
};

static void on_tick(struct sock_timer *t, void *arg)
{
	struct ticks *k = arg;

	(void)t;
	k->order[k->n++] = 'r';
	k->last_ms = test_now_ms();
	if (k->n == 4)
		sock_loop_stop(k->loop);
}

static void on_once(struct sock_timer *t, void *arg)
{
	struct ticks *k = arg;

	(void)t;
	k->order[k->n++] = 'o';
}

static void timers_fire_in_order_and_in_time(void)
{
	struct sock_timer rep, once;
	struct ticks k = { 0 };
	long long start;

	k.loop = loop_new();
	sock_timer_init(&rep, on_tick, &k);
	sock_timer_init(&once, on_once, &k);
	start = test_now_ms();
	CHECK_OK(sock_timer_start(k.loop, &rep, 40, 40));
	CHECK_OK(sock_timer_start(k.loop, &once, 10, 0));
	CHECK_OK(sock_loop_run(k.loop));
	CHECK_STR(k.order, "orrr");
	CHECK_INT(k.last_ms - start, >=, 110);
	CHECK_INT(k.last_ms - start, <, 130 + TEST_LATE_MS);
	sock_loop_free(k.loop);
}
ENGINES(timers_fire_in_order_and_in_time, false)

struct reader {
	int calls, bytes;
	bool unwatch, free_it;
};

/* Reads one byte per call: a level-triggered watch calls again while
 * bytes are left. */
static void on_readable(struct sock_watch *w, int revents, void *arg)
{
	struct reader *r = arg;
	char c;

	CHECK(revents & POLLIN);
	r->calls++;
	if (read(w->fd, &c, 1) == 1)
		r->bytes++;
	if (r->unwatch) {
		sock_unwatch(w);
		if (r->free_it)
			free(w);
	}
}

static void watches_are_level_triggered(void)
{
	struct sock_loop *loop = loop_new();
	struct reader r = { 0 };
	struct sock_watch w;
	int p[2];

	CHECK_INT(pipe2(p, O_NONBLOCK | O_CLOEXEC), ==, 0);
	CHECK_INT(write(p[1], "abc", 3), ==, 3);
	CHECK_OK(sock_watch(loop, &w, p[0], POLLIN, on_readable, &r));
	run_for(loop, 100);
	CHECK_INT(r.bytes, ==, 3);
	CHECK_INT(r.calls, ==, 3);
	/* Quiet once drained; called again for new data. */
	CHECK_INT(write(p[1], "d", 1), ==, 1);
	run_for(loop, 50);
	CHECK_INT(r.calls, ==, 4);
	sock_unwatch(&w);
	CHECK_INT(write(p[1], "e", 1), ==, 1);
	run_for(loop, 50);
	CHECK_INT(r.calls, ==, 4);
	sock_loop_free(loop);
	close(p[0]);
	close(p[1]);
}
ENGINES(watches_are_level_triggered, false)

/* A watch may be unwatched and freed in its own callback, or freed right
 * after sock_unwatch with its poll still in flight. */
static void watch_memory_is_the_callers_again_after_unwatch(void)
{
	struct sock_loop *loop = loop_new();
	struct reader r = { .unwatch = true, .free_it = true };
	struct sock_watch *w = malloc(sizeof(*w));
	int p[2];

	CHECK(w != NULL);
	CHECK_INT(pipe2(p, O_NONBLOCK | O_CLOEXEC), ==, 0);
	CHECK_INT(write(p[1], "ab", 2), ==, 2);
	CHECK_OK(sock_watch(loop, w, p[0], POLLIN, on_readable, &r));
	run_for(loop, 50);
	CHECK_INT(r.calls, ==, 1);
	/* Armed, then unwatched and freed before the loop runs again. */
	w = malloc(sizeof(*w));
	CHECK(w != NULL);
	r.unwatch = false;
	CHECK_OK(sock_watch(loop, w, p[0], POLLIN, on_readable, &r));
	run_for(loop, 20);
	CHECK_INT(r.calls, ==, 2);
	sock_unwatch(w);
	memset(w, 0xa5, sizeof(*w));
	free(w);
	CHECK_INT(write(p[1], "c", 1), ==, 1);
	run_for(loop, 50);
	CHECK_INT(r.calls, ==, 2);
	sock_loop_free(loop);
	close(p[0]);
	close(p[1]);
}
ENGINES(watch_memory_is_the_callers_again_after_unwatch, false)

/* A closed descriptor, and a file (always ready: a watch would spin). */
static void watch_refuses_closed_descriptors_and_files(void)
{
	struct sock_loop *loop = loop_new();
	struct sock_watch w;
	int p[2], fd;

	CHECK_INT(pipe2(p, O_CLOEXEC), ==, 0);
	close(p[0]);
	close(p[1]);
	CHECK_ERR(sock_watch(loop, &w, p[0], POLLIN, on_readable, NULL),
		  -EBADF);
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK_INT(fd, >=, 0);
	CHECK_ERR(sock_watch(loop, &w, fd, POLLIN, on_readable, NULL), -EPERM);
	close(fd);
	sock_loop_free(loop);
}
ENGINES(watch_refuses_closed_descriptors_and_files, false)

static void on_usr1(struct sock_loop *loop, int signo, void *arg)
{
	(void)signo;
	(*(int *)arg)++;
	sock_loop_stop(loop);
}

static void send_usr1(struct sock_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	kill(getpid(), SIGUSR1);
}

static void signals_reach_the_loop(void)
{
	struct sock_loop *loop = loop_new();
	struct sock_timer t;
	int got = 0;

	CHECK_OK(sock_loop_signal(loop, SIGUSR1, on_usr1, &got));
	sock_timer_init(&t, send_usr1, NULL);
	CHECK_OK(sock_timer_start(loop, &t, 20, 0));
	run_for(loop, 3000);
	CHECK_INT(got, ==, 1);
	sock_loop_free(loop);
}
ENGINES(signals_reach_the_loop, false)

static void *stop_later(void *arg)
{
	usleep(50 * 1000);
	sock_loop_stop(arg);
	return NULL;
}

/* Nothing to wait for but the stop: the wake-up must get through. */
static void stop_from_another_thread_wakes_the_loop(void)
{
	struct sock_loop *loop = loop_new();
	long long start = test_now_ms();
	pthread_t th;

	CHECK_INT(pthread_create(&th, NULL, stop_later, loop), ==, 0);
	CHECK_OK(sock_loop_run(loop));
	CHECK_INT(test_now_ms() - start, <, 50 + TEST_LATE_MS);
	pthread_join(th, NULL);
	sock_loop_free(loop);
}
ENGINES(stop_from_another_thread_wakes_the_loop, true)

struct in_thread {
	struct sock_loop *loop;
	struct reader r;
	int err;
};

/* The loop stops once both bytes are read (the test's timer only bounds
 * it: a loop that reads nothing fails the test, not hangs it). */
static void read_then_stop(struct sock_watch *w, int revents, void *arg)
{
	struct in_thread *it = arg;

	on_readable(w, revents, &it->r);
	if (it->r.bytes == 2)
		sock_loop_stop(it->loop);
}

static void *run_in_thread(void *arg)
{
	struct in_thread *it = arg;
	struct sock_timer t;

	sock_timer_init(&t, stop_loop, it->loop);
	it->err = sock_timer_start(it->loop, &t, TEST_WAIT_MS, 0);
	if (!it->err)
		it->err = sock_loop_run(it->loop);
	return NULL;
}

/* A server's loops are made by the thread that makes the server and run
 * by their workers. */
static void loop_made_in_one_thread_runs_in_another(void)
{
	struct in_thread it = { .loop = loop_new() };
	struct sock_watch w;
	pthread_t th;
	int p[2];

	CHECK_INT(pipe2(p, O_NONBLOCK | O_CLOEXEC), ==, 0);
	CHECK_INT(write(p[1], "xy", 2), ==, 2);
	CHECK_OK(sock_watch(it.loop, &w, p[0], POLLIN, read_then_stop, &it));
	CHECK_INT(pthread_create(&th, NULL, run_in_thread, &it), ==, 0);
	pthread_join(th, NULL);
	CHECK_OK(it.err);
	CHECK_INT(it.r.bytes, ==, 2);
	sock_loop_free(it.loop);
	close(p[0]);
	close(p[1]);
}
ENGINES(loop_made_in_one_thread_runs_in_another, false)

/* ---- choosing the engine ---- */

static void io_uring_is_used_when_asked_for(void)
{
	struct sock_loop *loop;

	pick_engine(SOCK_ENGINE_URING, false);
	CHECK_INT(setenv("SOCK_ENGINE", "io_uring", 1), ==, 0);
	CHECK_OK(sock_loop_new(&loop, SOCK_ENGINE_DEFAULT));
	CHECK_INT(sock_loop_engine(loop), ==, SOCK_ENGINE_URING);
	sock_loop_free(loop);
	CHECK_INT(setenv("SOCK_ENGINE", "epoll", 1), ==, 0);
	CHECK_OK(sock_loop_new(&loop, SOCK_ENGINE_DEFAULT));
	CHECK_INT(sock_loop_engine(loop), ==, SOCK_ENGINE_EPOLL);
	sock_loop_free(loop);
	CHECK_OK(sock_loop_new(&loop, SOCK_ENGINE_URING));
	CHECK_INT(sock_loop_engine(loop), ==, SOCK_ENGINE_URING);
	CHECK_STR(sock_engine_name(sock_loop_engine(loop)), "io_uring");
	sock_loop_free(loop);
}

#if defined(__x86_64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/*
 * What a container's seccomp profile does (Docker's default refuses
 * io_uring): io_uring_setup fails with EPERM.  Only this test's child
 * process is filtered.
 */
static void refuse_io_uring_setup(void)
{
#ifdef TEST_AUDIT_ARCH
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = SOCK_ARRAY_SIZE(code),
				   .filter = code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		SKIP("seccomp unavailable: %s", strerror(errno));
#else
	SKIP("no seccomp filter written for this architecture");
#endif
}

static void falls_back_to_epoll_when_io_uring_is_refused(void)
{
	struct sock_server_config cfg = { .engine = SOCK_ENGINE_URING };
	struct sock_loop *loop;
	char addr[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	struct tserver t;
	struct sock c;

	pick_engine(SOCK_ENGINE_URING, false);
	refuse_io_uring_setup();
	CHECK_OK(sock_loop_new(&loop, SOCK_ENGINE_URING));
	CHECK_INT(sock_loop_engine(loop), ==, SOCK_ENGINE_EPOLL);
	sock_loop_free(loop);
	/* The server says so, and serves all the same. */
	ts_new(&t, &cfg);
	ts_addr(&t,
		ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0),
		addr);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	echo_once(&c, "served by epoll");
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	CHECK(rec_find(SOCK_EV_ENGINE, 0, &ev));
	CHECK_STR(ev.what, "epoll (io_uring unavailable)");
	sock_server_free(t.srv);
}

/* ---- streams ---- */

/* A server of svc on loopback, in a child process; its address in
 * addr. */
static void serve(struct tserver *t, struct sock_server_config *cfg,
		  const struct sock_service *svc, int type,
		  char addr[SOCK_ADDR_STRLEN])
{
	ts_new_in(t, cfg, true);
	ts_addr(t, ts_add(t, svc, type, "127.0.0.1:0", 0), addr);
	ts_start(t);
}

/* Byte i of test stream seed: not periodic within a buffer's size, so a
 * reordered or repeated piece shows. */
static unsigned char pattern(uint32_t seed, size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u + seed;

	return (unsigned char)(x ^ x >> 13 ^ x >> 24);
}

static void fill(unsigned char *buf, size_t len, uint32_t seed, size_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(seed, off + i);
}

/* Check len received bytes at stream offset off. */
static void check_pattern(const unsigned char *buf, size_t len, uint32_t seed,
			  size_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern(seed, off + i))
			CHECK_INT(off + i, ==, -1);
}

struct sender {
	struct sock *c;
	size_t len;
	uint32_t seed;
	int err;
};

/* Send len pattern bytes, then end the sending side. */
static void *send_stream(void *arg)
{
	struct sender *s = arg;
	unsigned char buf[8192];
	size_t off, n;

	for (off = 0; off < s->len && !s->err; off += n) {
		n = s->len - off < sizeof(buf) ? s->len - off : sizeof(buf);
		fill(buf, n, s->seed, off);
		s->err = sock_sendall(s->c, buf, n, NULL, 0);
	}
	if (!s->err)
		s->err = sock_shutdown(s->c, SHUT_WR);
	return NULL;
}

/* Read the pattern back to the end of stream; returns its length. */
static size_t recv_stream(struct sock *c, uint32_t seed)
{
	unsigned char buf[16384];
	size_t off = 0;
	ssize_t n;

	while ((n = sock_recv(c, buf, sizeof(buf), 0)) > 0) {
		check_pattern(buf, (size_t)n, seed, off);
		off += (size_t)n;
	}
	CHECK_INT(n, ==, 0);
	return off;
}

/* 1 MiB through, with the client's side shut as it is sent: every byte
 * comes back, in order, then the end of stream. */
static void echo_of_a_mebibyte_through_a_half_closed_connection(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct sender s = { .len = 1 << 20, .seed = 7 };
	struct tserver t;
	struct sock c;
	pthread_t th;

	serve(&t, &cfg, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	s.c = &c;
	CHECK_INT(pthread_create(&th, NULL, send_stream, &s), ==, 0);
	CHECK_INT(recv_stream(&c, s.seed), ==, s.len);
	pthread_join(th, NULL);
	CHECK_OK(s.err);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(echo_of_a_mebibyte_through_a_half_closed_connection, false)

#define MANY 300

static void many_connections_at_once(void)
{
	struct sock_server_config cfg = { .max_per_source = SOCK_UNLIMITED };
	char addr[SOCK_ADDR_STRLEN], msg[32], buf[32];
	static struct sock c[MANY];
	struct tserver t;
	int i, len;

	serve(&t, &cfg, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, addr);
	for (i = 0; i < MANY; i++)
		client(&c[i], SOCK_STREAM, addr);
	for (i = 0; i < MANY; i++) {
		len = snprintf(msg, sizeof(msg), "connection %d", i);
		CHECK_OK(sock_sendall(&c[i], msg, (size_t)len, NULL, 0));
	}
	for (i = MANY - 1; i >= 0; i--) {
		len = snprintf(msg, sizeof(msg), "connection %d", i);
		CHECK_OK(sock_recv_exact(&c[i], buf, (size_t)len, NULL));
		CHECK(memcmp(buf, msg, (size_t)len) == 0);
		CHECK_OK(sock_close(&c[i]));
	}
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(many_connections_at_once, false)

static void echo_many(struct sock *c, int from, int to)
{
	static unsigned char out[2048], in[2048];
	int i;

	for (i = from; i < to; i++) {
		fill(out, sizeof(out), (uint32_t)i, 0);
		CHECK_OK(sock_sendall(c, out, sizeof(out), NULL, 0));
		CHECK_OK(sock_recv_exact(c, in, sizeof(in), NULL));
		CHECK(memcmp(in, out, sizeof(in)) == 0);
	}
}

/*
 * Large messages echoed one at a time, many more than the receive
 * buffers: each buffer comes back after its send, and the few in use
 * are reused, so the server's memory stays put (a buffer kept per
 * message would add a page each).
 */
static void receive_buffers_come_back_after_sends(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;
	long before;

	serve(&t, &cfg, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	echo_many(&c, 0, 100);
	before = rss_kib(t.pid);
	echo_many(&c, 100, 3000);
	CHECK_INT(rss_kib(t.pid) - before, <, rss_budget_kib(1024));
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(receive_buffers_come_back_after_sends, false)

/* ---- one connection's data sent to others (a chat room) ---- */

#define LISTENERS 3
#define FAN_MSGS 200
#define FAN_SIZE 3000

/* The server process's room. */
static struct {
	struct sock_conn *to[LISTENERS];
	int n;
} room;

static void fan_open(struct sock_conn *c)
{
	if (room.n < LISTENERS)
		room.to[room.n++] = c;
}

/* What arrives goes to every listener, from the same buffer. */
static void fan_data(struct sock_conn *c, const void *data, size_t len)
{
	int i;

	(void)c;
	for (i = 0; i < LISTENERS; i++)
		if (room.to[i] != c && sock_conn_send(room.to[i], data, len))
			return;
}

static void fan_close(struct sock_conn *c, int err)
{
	int i;

	(void)err;
	for (i = 0; i < LISTENERS; i++)
		if (room.to[i] == c)
			room.to[i] = NULL;
}

static const struct sock_service fan_svc = {
	.name = "fan",
	.on_open = fan_open,
	.on_data = fan_data,
	.on_close = fan_close,
};

struct fan_reader {
	struct sock c;
	size_t got;
};

static void *read_fan(void *arg)
{
	struct fan_reader *r = arg;
	unsigned char buf[FAN_SIZE];
	ssize_t n;

	while (r->got < FAN_MSGS * FAN_SIZE) {
		n = sock_recv(&r->c, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		check_pattern(buf, (size_t)n, 3, r->got);
		r->got += (size_t)n;
	}
	return NULL;
}

static void one_buffer_sent_to_many_connections(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct fan_reader r[LISTENERS];
	pthread_t th[LISTENERS];
	unsigned char msg[FAN_SIZE];
	struct tserver t;
	struct sock from;
	int i;

	serve(&t, &cfg, &fan_svc, SOCK_STREAM, addr);
	for (i = 0; i < LISTENERS; i++) {
		client(&r[i].c, SOCK_STREAM, addr);
		r[i].got = 0;
	}
	CHECK(rec_wait(SOCK_EV_ACCEPT, NULL, LISTENERS, 3000));
	for (i = 0; i < LISTENERS; i++)
		CHECK_INT(pthread_create(&th[i], NULL, read_fan, &r[i]), ==, 0);
	client(&from, SOCK_STREAM, addr);
	for (i = 0; i < FAN_MSGS; i++) {
		fill(msg, sizeof(msg), 3, (size_t)i * FAN_SIZE);
		CHECK_OK(sock_sendall(&from, msg, sizeof(msg), NULL, 0));
	}
	for (i = 0; i < LISTENERS; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(r[i].got, ==, FAN_MSGS * FAN_SIZE);
		CHECK_OK(sock_close(&r[i].c));
	}
	CHECK_OK(sock_close(&from));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(one_buffer_sent_to_many_connections, false)

/* ---- flow control ---- */

#define FLOW_LIMIT (64 * 1024)

/* The most output ever queued on a connection, noted by the server's
 * process in memory shared with the test's. */
static size_t *max_queued;

static void noting_echo(struct sock_conn *c, const void *data, size_t len)
{
	if (sock_conn_send(c, data, len))
		return;
	if (sock__conn_output_len(c) > *max_queued)
		*max_queued = sock__conn_output_len(c);
}

static const struct sock_service noting_svc = {
	.name = "echo",
	.on_data = noting_echo,
};

/*
 * A peer that sends and never reads: the server stops reading from it,
 * its queue stays within four times the output limit, its sends block,
 * and once it reads, every byte comes back in order.
 */
static void flow_control_stops_a_peer_that_never_reads(void)
{
	struct sock_server_config cfg = { .output_limit = FLOW_LIMIT };
	char addr[SOCK_ADDR_STRLEN];
	static unsigned char buf[65536];
	struct tserver t;
	struct sock c;
	size_t sent = 0;
	ssize_t n;

	max_queued = mmap(NULL, sizeof(*max_queued), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(max_queued != MAP_FAILED);
	serve(&t, &cfg, &noting_svc, SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_settimeout(&c, 300));
	for (;;) {
		fill(buf, sizeof(buf), 11, sent);
		n = sock_send(&c, buf, sizeof(buf), 0);
		if (n == -ETIMEDOUT)
			break;
		CHECK_INT(n, >, 0);
		sent += (size_t)n;
		CHECK_INT(sent, <, 256 << 20);
	}
	CHECK_INT(*max_queued, >=, FLOW_LIMIT);
	CHECK_INT(*max_queued, <=, 4 * FLOW_LIMIT);
	CHECK_OK(sock_shutdown(&c, SHUT_WR));
	CHECK_OK(sock_settimeout(&c, 5000));
	CHECK_INT(recv_stream(&c, 11), ==, sent);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "output-overflow"), ==, 0);
}
ENGINES(flow_control_stops_a_peer_that_never_reads, false)

/* ---- output of the server's own ---- */

#define PRODUCE (1 << 20)

static size_t produced;

/* Send until full, resume on drain, close after PRODUCE bytes. */
static void produce(struct sock_conn *c)
{
	static unsigned char chunk[4096];
	size_t n;

	while (produced < PRODUCE && !sock_conn_is_full(c)) {
		n = PRODUCE - produced < sizeof(chunk) ? PRODUCE - produced
						       : sizeof(chunk);
		fill(chunk, n, 5, produced);
		if (sock_conn_send(c, chunk, n))
			return;
		produced += n;
	}
	if (produced == PRODUCE)
		sock_conn_close(c);
}

static void produce_data(struct sock_conn *c, const void *data, size_t len)
{
	(void)c;
	(void)data;
	(void)len;
}

static const struct sock_service producer_svc = {
	.name = "producer",
	.on_open = produce,
	.on_data = produce_data,
	.on_drain = produce,
};

/* Output made by the server (copied, not echoed) paced by on_drain,
 * then an orderly close: all of it arrives, then the end of stream. */
static void producer_paced_by_on_drain_is_received_whole(void)
{
	struct sock_server_config cfg = { .output_limit = 32 * 1024 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;

	produced = 0;
	serve(&t, &cfg, &producer_svc, SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	usleep(100 * 1000); /* the server fills its queue meanwhile */
	CHECK_INT(recv_stream(&c, 5), ==, PRODUCE);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(producer_paced_by_on_drain_is_received_whole, false)

static void greet_and_close(struct sock_conn *c)
{
	if (sock_conn_send(c, "hello\n", 6) == 0)
		sock_conn_close(c);
}

static const struct sock_service greeter_svc = {
	.name = "greeter",
	.on_open = greet_and_close,
	.on_data = produce_data,
};

/* A reply sent and the connection closed in on_open (daytime's way):
 * the close waits for the send. */
static void close_in_on_open_sends_the_greeting_first(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], buf[16];
	struct tserver t;
	struct sock c;
	int i;

	serve(&t, &cfg, &greeter_svc, SOCK_STREAM, addr);
	for (i = 0; i < 20; i++) {
		client(&c, SOCK_STREAM, addr);
		CHECK_OK(sock_recv_exact(&c, buf, 6, NULL));
		CHECK(memcmp(buf, "hello\n", 6) == 0);
		CHECK_INT(sock_recv(&c, buf, sizeof(buf), 0), ==, 0);
		CHECK_OK(sock_close(&c));
	}
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(close_in_on_open_sends_the_greeting_first, false)

static void send_and_abort(struct sock_conn *c, const void *data, size_t len)
{
	static char big[1 << 20];

	(void)data;
	(void)len;
	if (sock_conn_send(c, big, sizeof(big)) == 0)
		sock_conn_abort(c, -ECONNABORTED);
}

static const struct sock_service aborter_svc = {
	.name = "aborter",
	.on_data = send_and_abort,
};

/* An abort with a send in flight cancels it; the peer sees the end. */
static void abort_cancels_a_send_in_flight(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	struct tserver t;
	struct sock c;

	serve(&t, &cfg, &aborter_svc, SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_sendall(&c, "go", 2, NULL, 0));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 3000));
	CHECK(closed_by_server(&c, TEST_WAIT_MS));
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK(rec_find(SOCK_EV_CLOSE, 0, &ev));
	CHECK_INT(ev.err, ==, -ECONNABORTED);
}
ENGINES(abort_cancels_a_send_in_flight, false)

/* Stopped with a send stuck on a peer that does not read: after the
 * grace period the connection is closed and run returns. */
static void stop_ends_a_connection_whose_send_is_stuck(void)
{
	struct sock_server_config cfg = { .grace_ms = 200 };
	char addr[SOCK_ADDR_STRLEN];
	static unsigned char buf[65536];
	struct tserver t;
	struct sock c;
	long long took;
	ssize_t n;

	serve(&t, &cfg, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_settimeout(&c, 300));
	memset(buf, 'x', sizeof(buf));
	while ((n = sock_send(&c, buf, sizeof(buf), 0)) > 0)
		;
	CHECK_INT(n, ==, -ETIMEDOUT);
	took = ts_stop(&t, 5000);
	CHECK_INT(took, >=, 150);
	CHECK_INT(took, <, 150 + TEST_LATE_MS);
	CHECK(closed_by_server(&c, TEST_WAIT_MS));
	CHECK_OK(sock_close(&c));
	ts_free(&t);
}
ENGINES(stop_ends_a_connection_whose_send_is_stuck, false)

/* ---- producers: what the socket takes (sock_conn_send_some) ---- */

#define SOME_TOTAL (4 << 20)
#define SOME_CHUNK 65536
#define SOME_SEED 9

/* What a producer's server tells the test, in memory both share. */
struct some_log {
	atomic_uint calls;  /* producer runs: on_open and on_drain */
	atomic_uint shorts; /* sock_conn_send_some sent less than offered */
	atomic_uint drains; /* on_drain calls */
	atomic_uint waited; /* called while sock_conn_send output waited */
	atomic_uint sooner; /* sent some while sock_conn_send output waited */
	atomic_uint queued; /* sock_conn_send_some left output queued */
};

static struct some_log *slog;

static void some_log_new(void)
{
	slog = mmap(NULL, sizeof(*slog), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(slog != MAP_FAILED);
	memset(slog, 0, sizeof(*slog));
}

/*
 * Offer the stream from the offset kept in c's data until the socket
 * takes less than offered; true when the connection is closing.
 */
static bool send_some_until_full(struct sock_conn *c)
{
	static unsigned char chunk[SOME_CHUNK];
	size_t off = (size_t)(uintptr_t)sock_conn_data(c), n;
	ssize_t sent;
	bool waiting;

	for (;;) {
		if (off == SOME_TOTAL) {
			sock_conn_close(c);
			return true;
		}
		n = SOME_TOTAL - off < sizeof(chunk) ? SOME_TOTAL - off
						     : sizeof(chunk);
		fill(chunk, n, SOME_SEED, off);
		waiting = c->out != NULL;
		sent = sock_conn_send_some(c, chunk, n);
		if (sent < 0)
			return true;
		if (waiting)
			atomic_fetch_add(&slog->waited, 1);
		if (sent && waiting)
			atomic_fetch_add(&slog->sooner, 1);
		if (!waiting && c->out)
			atomic_fetch_add(&slog->queued, 1);
		off += (size_t)sent;
		sock_conn_set_data(c, (void *)(uintptr_t)off);
		if ((size_t)sent < n) {
			atomic_fetch_add(&slog->shorts, 1);
			return false;
		}
	}
}

static void some_produce(struct sock_conn *c)
{
	atomic_fetch_add(&slog->calls, 1);
	send_some_until_full(c);
}

/* A small socket buffer, so the producer waits for room many times. */
static void some_open(struct sock_conn *c)
{
	int size = 16384;

	CHECK_INT(setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)),
		  ==, 0);
	some_produce(c);
}

static void some_drain(struct sock_conn *c)
{
	atomic_fetch_add(&slog->drains, 1);
	some_produce(c);
}

static void abort_on_data(struct sock_conn *c, const void *data, size_t len)
{
	(void)data;
	(void)len;
	sock_conn_abort(c, -ECONNABORTED);
}

static const struct sock_service some_svc = {
	.name = "some",
	.on_open = some_open,
	.on_data = abort_on_data,
	.on_drain = some_drain,
};

/* Read the producer's stream to its end, pausing now and then. */
static size_t recv_some_stream(struct sock *c, size_t off)
{
	static unsigned char buf[32768];
	ssize_t n;

	CHECK_OK(sock_settimeout(c, 5000));
	while ((n = sock_recv(c, buf, sizeof(buf), 0)) > 0) {
		check_pattern(buf, (size_t)n, SOME_SEED, off);
		off += (size_t)n;
		if (off % (1 << 20) < sizeof(buf))
			usleep(30 * 1000);
	}
	CHECK_INT(n, ==, 0);
	return off;
}

/* Wait up to 3 s for the producer to find the socket full. */
static void wait_for_a_full_socket(void)
{
	long long end = test_now_ms() + TEST_WAIT_MS;

	while (!atomic_load(&slog->shorts) && test_now_ms() < end)
		usleep(5000);
	CHECK_INT(atomic_load(&slog->shorts), >, 0);
	usleep(50 * 1000); /* the wait for room is under way */
}

/*
 * A reader that pauses: the producer sends what the socket takes, queues
 * nothing, and resumes in on_drain, once per time it fell short; every
 * byte arrives in order, then the end of stream.
 */
static void producer_sends_some_at_the_readers_pace(void)
{
	struct sock_server_config cfg = { .output_limit = 32 * 1024 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;

	some_log_new();
	serve(&t, &cfg, &some_svc, SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_setsockopt(&c, SOL_SOCKET, SO_RCVBUF, 16384));
	wait_for_a_full_socket();
	CHECK_INT(recv_some_stream(&c, 0), ==, SOME_TOTAL);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(atomic_load(&slog->queued), ==, 0);
	CHECK_INT(atomic_load(&slog->drains), >, 0);
	CHECK_INT(atomic_load(&slog->drains), <=, atomic_load(&slog->shorts));
	CHECK_INT(rec_count(SOCK_EV_CLOSE, NULL), ==, 1);
}
ENGINES(producer_sends_some_at_the_readers_pace, false)

/*
 * An abort while the producer waits for room ends the wait; the
 * connection's memory, reused by the next one, is not written by it.
 */
static void abort_while_a_producer_waits_for_room(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	static unsigned char buf[SOME_CHUNK];
	struct rec_event ev;
	struct tserver t;
	struct sock c;

	some_log_new();
	serve(&t, &cfg, &some_svc, SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	wait_for_a_full_socket();
	CHECK_OK(sock_sendall(&c, "x", 1, NULL, 0));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 3000));
	CHECK(closed_by_server(&c, TEST_WAIT_MS));
	CHECK_OK(sock_close(&c));
	CHECK(rec_find(SOCK_EV_CLOSE, 0, &ev));
	CHECK_INT(ev.err, ==, -ECONNABORTED);
	/* The next connection is served from the start of the stream. */
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_recv_exact(&c, buf, sizeof(buf), NULL));
	check_pattern(buf, sizeof(buf), SOME_SEED, 0);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(abort_while_a_producer_waits_for_room, false)

/* Stopped while a producer waits for room that never comes: after the
 * grace period the connection is closed and run returns. */
static void stop_while_a_producer_waits_for_room(void)
{
	struct sock_server_config cfg = { .grace_ms = 200 };
	char addr[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	struct tserver t;
	struct sock c;
	long long took;

	some_log_new();
	serve(&t, &cfg, &some_svc, SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	wait_for_a_full_socket();
	took = ts_stop(&t, 5000);
	CHECK_INT(took, >=, 150);
	CHECK_INT(took, <, 150 + TEST_LATE_MS);
	CHECK(closed_by_server(&c, TEST_WAIT_MS));
	CHECK_OK(sock_close(&c));
	ts_free(&t);
	CHECK(rec_find(SOCK_EV_CLOSE, 0, &ev));
	CHECK_INT(ev.err, ==, -ESHUTDOWN);
}
ENGINES(stop_while_a_producer_waits_for_room, false)

/*
 * Taking turns with sock_conn_send: output it queued goes first, so
 * sock_conn_send_some sends nothing while it waits, and on_drain follows
 * once it is out; what sock_conn_send adds while the producer waits for
 * room follows what went before.  The stream arrives whole, in order.
 */
#define MIXED_CHUNK (192 * 1024) /* more than the socket takes */

static void mixed_produce(struct sock_conn *c)
{
	static unsigned char chunk[MIXED_CHUNK];
	size_t off = (size_t)(uintptr_t)sock_conn_data(c), n;
	unsigned int turn = atomic_fetch_add(&slog->calls, 1);

	n = SOME_TOTAL - off < sizeof(chunk) ? SOME_TOTAL - off : sizeof(chunk);
	if (turn % 2 && n) {
		fill(chunk, n, SOME_SEED, off);
		if (sock_conn_send(c, chunk, n))
			return;
		sock_conn_set_data(c, (void *)(uintptr_t)(off + n));
	}
	if (send_some_until_full(c))
		return;
	/* Short: a little more, queued behind the wait for room. */
	off = (size_t)(uintptr_t)sock_conn_data(c);
	n = SOME_TOTAL - off < 1000 ? SOME_TOTAL - off : 1000;
	fill(chunk, n, SOME_SEED, off);
	if (sock_conn_send(c, chunk, n) == 0)
		sock_conn_set_data(c, (void *)(uintptr_t)(off + n));
}

static void mixed_open(struct sock_conn *c)
{
	int size = 16384;

	CHECK_INT(setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)),
		  ==, 0);
	mixed_produce(c);
}

static void mixed_drain(struct sock_conn *c)
{
	atomic_fetch_add(&slog->drains, 1);
	mixed_produce(c);
}

static const struct sock_service mixed_svc = {
	.name = "mixed",
	.on_open = mixed_open,
	.on_data = abort_on_data,
	.on_drain = mixed_drain,
};

static void send_some_waits_behind_queued_output(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;

	some_log_new();
	serve(&t, &cfg, &mixed_svc, SOCK_STREAM, addr);
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_setsockopt(&c, SOL_SOCKET, SO_RCVBUF, 16384));
	usleep(100 * 1000);
	CHECK_INT(recv_some_stream(&c, 0), ==, SOME_TOTAL);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(atomic_load(&slog->waited), >, 2);
	CHECK_INT(atomic_load(&slog->sooner), ==, 0);
	CHECK_INT(atomic_load(&slog->drains), >, 2);
}
ENGINES(send_some_waits_behind_queued_output, false)

/* Several workers, each with its own loop (made by this thread, run by
 * its own), on one port. */
static void workers_share_a_port(void)
{
	struct sock_server_config cfg = { .workers = 3 };
	char addr[SOCK_ADDR_STRLEN], msg[32];
	static struct sock c[60];
	struct tserver t;
	int i;

	ts_new(&t, &cfg);
	ts_addr(&t,
		ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0),
		addr);
	ts_start(&t);
	for (i = 0; i < 60; i++)
		client(&c[i], SOCK_STREAM, addr);
	for (i = 0; i < 60; i++) {
		snprintf(msg, sizeof(msg), "worker test %d", i);
		echo_once(&c[i], msg);
		CHECK_OK(sock_close(&c[i]));
	}
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(workers_share_a_port, true)

/* ---- datagrams ---- */

/* Receive one datagram of want bytes (-ETIMEDOUT: none expected). */
static void expect_datagram(struct sock *c, const void *want, ssize_t len)
{
	static char buf[2048];
	ssize_t n = sock_recv(c, buf, sizeof(buf), 0);

	CHECK_INT(n, ==, len);
	if (len > 0)
		CHECK(memcmp(buf, want, (size_t)len) == 0);
}

static void datagrams_empty_full_and_truncated(void)
{
	struct sock_server_config cfg = { .max_datagram = 512 };
	char addr[SOCK_ADDR_STRLEN];
	static char big[513];
	struct tserver t;
	struct sock c;
	int i;

	serve(&t, &cfg, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM, addr);
	client(&c, SOCK_DGRAM, addr);
	for (i = 0; i < 3; i++) {
		CHECK_INT(sock_send(&c, "", 0, 0), ==, 0);
		expect_datagram(&c, "", 0);
	}
	memset(big, 'm', sizeof(big));
	CHECK_INT(sock_send(&c, big, 512, 0), ==, 512);
	expect_datagram(&c, big, 512);
	CHECK_INT(sock_send(&c, big, 513, 0), ==, 513);
	CHECK(rec_wait(SOCK_EV_LIMIT, "datagram-truncated", 1, 2000));
	CHECK_OK(sock_settimeout(&c, 300));
	expect_datagram(&c, NULL, -ETIMEDOUT);
	/* Still served after. */
	CHECK_OK(sock_settimeout(&c, 5000));
	echo_once(&c, "after");
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(datagrams_empty_full_and_truncated, false)

/* Two replies per datagram, made in the handler's own memory. */
static void shout_twice(struct sock_dgram *d, const void *data, size_t len)
{
	char up[64];
	size_t i;

	for (i = 0; i < len && i < sizeof(up); i++)
		up[i] = (char)(((const char *)data)[i] & ~0x20);
	if (sock_dgram_reply(d, up, i) == 0)
		memset(up, '!', sizeof(up));
	if (sock_dgram_reply(d, data, len))
		return;
}

static const struct sock_service shout_svc = {
	.name = "shout",
	.on_datagram = shout_twice,
};

static void datagram_replies_are_copied_unless_echoed(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;
	int i;

	serve(&t, &cfg, &shout_svc, SOCK_DGRAM, addr);
	client(&c, SOCK_DGRAM, addr);
	for (i = 0; i < 200; i++) {
		CHECK_INT(sock_send(&c, "hello", 5, 0), ==, 5);
		expect_datagram(&c, "HELLO", 5);
		expect_datagram(&c, "hello", 5);
	}
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINES(datagram_replies_are_copied_unless_echoed, false)

/* ---- the errors engines report ---- */

static void swap_and_stop_reading(struct sock_conn *c, const void *data,
				  size_t len)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)data;
	(void)len;
	CHECK_INT(null, >=, 0);
	/* The socket goes, /dev/null takes its number: the next epoll_ctl
	 * on it fails (EPERM: a file epoll cannot watch). */
	CHECK_INT(dup3(null, c->fd, O_CLOEXEC), ==, c->fd);
	close(null);
	sock__conn_set_reading(c, false);
}

static const struct sock_service swap_svc = {
	.name = "swap",
	.on_data = swap_and_stop_reading,
};

/*
 * An epoll_ctl that fails ends the connection with its own error (here
 * EPERM), not a made-up one: on_close and the close event say what
 * happened.
 */
static void epoll_failure_ends_a_connection_with_its_error(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	struct tserver t;
	struct sock c;

	use_engine(SOCK_ENGINE_EPOLL);
	ts_new(&t, &cfg);
	ts_addr(&t, ts_add(&t, &swap_svc, SOCK_STREAM, "127.0.0.1:0", 0), addr);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_sendall(&c, "x", 1, NULL, 0));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 3000));
	CHECK(rec_find(SOCK_EV_CLOSE, 0, &ev));
	CHECK_ERR(ev.err, -EPERM);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}

static void unix_dgram_sender(struct sock *c, const char *server,
			      const char *msg)
{
	CHECK_OK(sock_open(c, AF_UNIX, SOCK_DGRAM, 0));
	CHECK_OK(sock_bind(c, "unix:"));
	CHECK_OK(sock_connect_to(c, server));
	CHECK_OK(sock_sendall(c, msg, strlen(msg), NULL, 0));
}

/*
 * Replies sent in one batch, the first to a sender that went away: that
 * reply is reported with its own error (the receiver is gone:
 * ECONNREFUSED), not with what a later reply of the batch left behind,
 * and the later reply still goes out.
 */
static void failed_reply_is_reported_with_its_error(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], buf[16];
	struct rec_event ev;
	struct tserver t;
	struct sock gone, stays;

	ts_new(&t, &cfg);
	unix_name(addr, sizeof(addr));
	ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM, addr, 0);
	/* Both wait in the socket before the server reads: one batch. */
	unix_dgram_sender(&gone, addr, "first");
	unix_dgram_sender(&stays, addr, "second");
	CHECK_OK(sock_close(&gone));
	ts_start(&t);
	CHECK_OK(sock_settimeout(&stays, 3000));
	CHECK_INT(sock_recv(&stays, buf, sizeof(buf), 0), ==, 6);
	CHECK(memcmp(buf, "second", 6) == 0);
	CHECK(rec_wait(SOCK_EV_LIMIT, "output-overflow", 1, 3000));
	CHECK(rec_find(SOCK_EV_LIMIT, 0, &ev));
	CHECK_STR(ev.what, "output-overflow");
	CHECK_ERR(ev.err, -ECONNREFUSED);
	CHECK_OK(sock_close(&stays));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(failed_reply_is_reported_with_its_error)

static const struct test tests[] = {
	TEST_ENGINES(timers_fire_in_order_and_in_time),
	TEST_ENGINES(watches_are_level_triggered),
	TEST_ENGINES(watch_memory_is_the_callers_again_after_unwatch),
	TEST_ENGINES(watch_refuses_closed_descriptors_and_files),
	TEST_ENGINES(signals_reach_the_loop),
	TEST_ENGINES(stop_from_another_thread_wakes_the_loop),
	TEST_ENGINES(loop_made_in_one_thread_runs_in_another),
	TEST(io_uring_is_used_when_asked_for),
	TEST(falls_back_to_epoll_when_io_uring_is_refused),
	TEST_ENGINES(echo_of_a_mebibyte_through_a_half_closed_connection),
	TEST_ENGINES(many_connections_at_once),
	TEST_ENGINES(receive_buffers_come_back_after_sends),
	TEST_ENGINES(one_buffer_sent_to_many_connections),
	TEST_ENGINES(flow_control_stops_a_peer_that_never_reads),
	TEST_ENGINES(producer_paced_by_on_drain_is_received_whole),
	TEST_ENGINES(close_in_on_open_sends_the_greeting_first),
	TEST_ENGINES(abort_cancels_a_send_in_flight),
	TEST_ENGINES(stop_ends_a_connection_whose_send_is_stuck),
	TEST_ENGINES(producer_sends_some_at_the_readers_pace),
	TEST_ENGINES(abort_while_a_producer_waits_for_room),
	TEST_ENGINES(stop_while_a_producer_waits_for_room),
	TEST_ENGINES(send_some_waits_behind_queued_output),
	TEST_ENGINES(workers_share_a_port),
	TEST_ENGINES(datagrams_empty_full_and_truncated),
	TEST_ENGINES(datagram_replies_are_copied_unless_echoed),
	TEST(epoll_failure_ends_a_connection_with_its_error),
	TEST_ENGINES(failed_reply_is_reported_with_its_error),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

/* SPDX-License-Identifier: MIT */
/* server_modes_test.c -- every mode on every transport; events */

#include "server_util.h"

#include <signal.h>

/* ---- echo: every mode x transport ---- */

#define CHUNK 8192
#define CHUNKS 8

static const char greeting[] = "hello, world";

/* Bytes each stream client sends (and gets back). */
#define STREAM_BYTES (sizeof(greeting) - 1 + CHUNK * CHUNKS)

/* Send CHUNKS chunks of patterned bytes, each echoed before the next. */
static void echo_chunks(struct sock *c)
{
	static char out[CHUNK], in[CHUNK];
	int i, j;

	for (i = 0; i < CHUNKS; i++) {
		for (j = 0; j < CHUNK; j++)
			out[j] = (char)(i * 31 + j);
		CHECK_OK(sock_sendall(c, out, CHUNK, NULL, 0));
		CHECK_OK(sock_recv_exact(c, in, CHUNK, NULL));
		CHECK(memcmp(in, out, CHUNK) == 0);
	}
}

static void echo_stream_clients(enum sock_mode mode, const char *addr)
{
	struct sock a, b;

	client(&a, SOCK_STREAM, addr);
	client(&b, SOCK_STREAM, addr);
	if (mode == SOCK_MODE_INLINE) {
		/* One connection at a time: b waits until a is done. */
		echo_once(&a, greeting);
		echo_chunks(&a);
		CHECK_OK(sock_close(&a));
		echo_once(&b, greeting);
		echo_chunks(&b);
	} else {
		/* b is served while a is open and idle. */
		echo_once(&b, greeting);
		echo_chunks(&b);
		echo_once(&a, greeting);
		echo_chunks(&a);
		CHECK_OK(sock_close(&a));
	}
	CHECK_OK(sock_close(&b));
}

static void echo_dgram_clients(const char *addr)
{
	struct sock a, b;
	char buf[16];

	client(&a, SOCK_DGRAM, addr);
	client(&b, SOCK_DGRAM, addr);
	echo_once(&a, greeting);
	echo_once(&b, "second client");
	/* A datagram of 0 bytes is data, and is echoed as 0 bytes. */
	CHECK_INT(sock_send(&a, "", 0, 0), ==, 0);
	CHECK_INT(sock_recv(&a, buf, sizeof(buf), 0), ==, 0);
	echo_once(&a, "after the empty one");
	CHECK_OK(sock_close(&a));
	CHECK_OK(sock_close(&b));
}

/* Every connection's CLOSE reports its bytes where they can be known:
 * event mode always, blocking handlers on TCP (the kernel's counters),
 * except forked ones, whose parent closed its copy at once. */
static void check_stream_events(enum sock_mode mode, enum transport tr,
				unsigned int conns)
{
	bool counted = mode == SOCK_MODE_EVENT ||
		       (mode != SOCK_MODE_FORK && tr != TR_UNIX);
	struct rec_event ev;
	unsigned int i;

	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, conns);
	CHECK_INT(rec_count(SOCK_EV_CLOSE, NULL), ==, conns);
	for (i = 0; i < conns; i++) {
		CHECK(rec_find(SOCK_EV_CLOSE, i, &ev));
		CHECK_STR(ev.service, "echo");
		CHECK_INT(ev.err, ==, 0);
		CHECK_INT(ev.duration_ms, >=, 0);
		if (!counted)
			continue;
		CHECK_INT(ev.bytes_in, ==, STREAM_BYTES);
		CHECK_INT(ev.bytes_out, ==, STREAM_BYTES);
	}
}

static void echo_case(enum sock_mode mode, enum transport tr)
{
	struct sock_server_config cfg = { .grace_ms = LONG_GRACE,
					  .pool_threads = 4 };
	char text[SOCK_ADDR_STRLEN], addr[SOCK_ADDR_STRLEN];
	int type = tr_type(tr), flags, index;
	struct tserver t;

	int port;

	flags = tr_listen(tr, text, sizeof(text));
	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], type, text, flags);
	ts_addr(&t, index, addr);
	port = type == SOCK_STREAM ? ts_port(&t, index) : 0;
	ts_start(&t);
	if (type == SOCK_DGRAM) {
		echo_dgram_clients(addr);
	} else if (tr == TR_DUAL) {
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		echo_stream_clients(mode, addr);
		snprintf(addr, sizeof(addr), "[::1]:%d", port);
		echo_stream_clients(mode, addr);
	} else {
		echo_stream_clients(mode, addr);
	}
	/* With no connection left, stopping takes no grace period. */
	CHECK_INT(ts_stop(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LISTEN, NULL), ==, 1);
	CHECK_INT(rec_count(SOCK_EV_STOP, NULL), ==, 1);
	if (type == SOCK_STREAM)
		check_stream_events(mode, tr, tr == TR_DUAL ? 4 : 2);
	else
		CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 0);
}

#define ECHO(mode, MODE, tr, TR)                                               \
	static void echo_##mode##_##tr(void)                                   \
	{                                                                      \
		echo_case(SOCK_MODE_##MODE, TR_##TR);                          \
	}                                                                      \
	ENGINE_TEST(echo_##mode##_##tr)

#define ECHO_MODE(mode, MODE)                                                  \
	ECHO(mode, MODE, tcp4, TCP4)                                           \
	ECHO(mode, MODE, tcp6, TCP6)                                           \
	ECHO(mode, MODE, dualstack, DUAL)                                      \
	ECHO(mode, MODE, unix, UNIX)                                           \
	ECHO(mode, MODE, udp, UDP)                                             \
	ECHO(mode, MODE, unix_dgram, UNIXDG)

ECHO_MODE(event, EVENT)
ECHO_MODE(inline, INLINE)
ECHO_MODE(thread, THREAD)
ECHO_MODE(pool, POOL)
ECHO_MODE(fork, FORK)

#define TEST_ECHO_MODE(mode)                                                   \
	TEST_ENGINES(echo_##mode##_tcp4), TEST_ENGINES(echo_##mode##_tcp6),    \
		TEST_ENGINES(echo_##mode##_dualstack),                         \
		TEST_ENGINES(echo_##mode##_unix),                              \
		TEST_ENGINES(echo_##mode##_udp),                               \
		TEST_ENGINES(echo_##mode##_unix_dgram)

/* ---- where handlers run ---- */

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static atomic_int loop_tid;

static void note_loop(const struct sock_event *ev, void *data)
{
	if (ev->kind == SOCK_EV_ENGINE)
		atomic_store(&loop_tid, gettid_());
	rec_event(ev, data);
}

/* Reply "pid tid sigterm-blocked" and wait for the client to close. */
static void whoami(struct sock *c, const struct sock_addr *peer, void *data)
{
	sigset_t mask;
	char line[64];
	ssize_t n;

	(void)peer;
	(void)data;
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	n = snprintf(line, sizeof(line), "%d %d %d\n", (int)getpid(),
		     (int)gettid_(), sigismember(&mask, SIGTERM));
	if (sock_sendall(c, line, (size_t)n, NULL, 0) == 0)
		while (sock_recv(c, line, sizeof(line), 0) > 0)
			;
}

static void whoami_dgram(struct sock *s, const void *msg, size_t len,
			 const struct sock_addr *peer, void *data)
{
	sigset_t mask;
	char line[64];
	int n;

	(void)msg;
	(void)len;
	(void)data;
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	n = snprintf(line, sizeof(line), "%d %d %d\n", (int)getpid(),
		     (int)gettid_(), sigismember(&mask, SIGTERM));
	if (sock_sendto(s, line, (size_t)n, peer, 0) < 0)
		return;
}

struct where {
	int pid, tid, sigterm_blocked;
};

static struct where ask(struct sock *c)
{
	struct where w;
	char line[64];
	ssize_t n;

	if (c->type == SOCK_DGRAM)
		CHECK_INT(sock_send(c, "?", 1, 0), ==, 1);
	n = c->type == SOCK_DGRAM ? sock_recv(c, line, sizeof(line) - 1, 0)
				  : sock_recv_line(c, line, sizeof(line));
	CHECK_INT(n, >, 0);
	line[n] = '\0';
	CHECK_INT(sscanf(line, "%d %d %d", &w.pid, &w.tid, &w.sigterm_blocked),
		  ==, 3);
	return w;
}

static void where_handlers_run(enum sock_mode mode, int type)
{
	struct sock_service svc = { .name = "whoami",
				    .mode = mode,
				    .handle = whoami,
				    .handle_datagram = whoami_dgram };
	struct sock_server_config cfg = { .pool_threads = 2,
					  .grace_ms = LONG_GRACE,
					  .stop_on_signals = true,
					  .on_event = note_loop };
	char addr[SOCK_ADDR_STRLEN];
	struct where w[4];
	struct sock c[4];
	struct tserver t;
	sigset_t term;
	int i, index, tid, server_pid, ntids = 0, tids[4];

	/* stop_on_signals blocks SIGTERM in the loop's thread; it must be
	 * blocked in this thread too, and no forked handler may inherit
	 * that. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &svc, type, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_ENGINE, NULL, 1, 2000));
	tid = atomic_load(&loop_tid);
	server_pid = t.child ? t.pid : getpid();
	/* Connections at once, except where each waits its turn. */
	for (i = 0; i < 4; i++) {
		client(&c[i], type, addr);
		w[i] = ask(&c[i]);
		if (mode == SOCK_MODE_INLINE || mode == SOCK_MODE_POOL ||
		    type == SOCK_DGRAM)
			CHECK_OK(sock_close(&c[i]));
	}
	for (i = 0; i < 4; i++) {
		CHECK_INT(w[i].sigterm_blocked, ==, mode != SOCK_MODE_FORK);
		switch (mode) {
		case SOCK_MODE_INLINE:
			CHECK_INT(w[i].pid, ==, getpid());
			CHECK_INT(w[i].tid, ==, tid);
			break;
		case SOCK_MODE_THREAD:
			CHECK_INT(w[i].pid, ==, getpid());
			CHECK_INT(w[i].tid, !=, tid);
			if (i && type == SOCK_STREAM)
				CHECK_INT(w[i].tid, !=, w[i - 1].tid);
			break;
		case SOCK_MODE_POOL:
			CHECK_INT(w[i].pid, ==, getpid());
			CHECK_INT(w[i].tid, !=, tid);
			if (!ntids || tids[ntids - 1] != w[i].tid)
				tids[ntids++] = w[i].tid;
			break;
		default:
			CHECK_INT(w[i].pid, !=, server_pid);
			if (i)
				CHECK_INT(w[i].pid, !=, w[i - 1].pid);
			break;
		}
	}
	/* Two pool threads, whatever the number of jobs. */
	for (i = 2; i < ntids; i++)
		CHECK(tids[i] == tids[0] || tids[i] == tids[1]);
	for (i = 0; i < 4; i++)
		CHECK_OK(sock_close(&c[i]));
	CHECK_INT(ts_stop(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
}

static void handlers_run_inline_on_the_loop(void)
{
	where_handlers_run(SOCK_MODE_INLINE, SOCK_STREAM);
	where_handlers_run(SOCK_MODE_INLINE, SOCK_DGRAM);
}
ENGINE_TEST(handlers_run_inline_on_the_loop)

static void handlers_run_in_a_thread_each(void)
{
	where_handlers_run(SOCK_MODE_THREAD, SOCK_STREAM);
	where_handlers_run(SOCK_MODE_THREAD, SOCK_DGRAM);
}
ENGINE_TEST(handlers_run_in_a_thread_each)

static void handlers_run_in_the_pool(void)
{
	where_handlers_run(SOCK_MODE_POOL, SOCK_STREAM);
	where_handlers_run(SOCK_MODE_POOL, SOCK_DGRAM);
}
ENGINE_TEST(handlers_run_in_the_pool)

static void handlers_run_in_a_process_each_with_no_signal_blocked(void)
{
	where_handlers_run(SOCK_MODE_FORK, SOCK_STREAM);
	where_handlers_run(SOCK_MODE_FORK, SOCK_DGRAM);
}
ENGINE_TEST(handlers_run_in_a_process_each_with_no_signal_blocked)

/* With every pool thread busy, a new connection waits in the queue until
 * a handler returns; nothing is refused. */
static void pool_queues_jobs_while_threads_are_busy(void)
{
	struct sock_service svc = { .name = "whoami",
				    .mode = SOCK_MODE_POOL,
				    .handle = whoami };
	struct sock_server_config cfg = { .pool_threads = 2 };
	char addr[SOCK_ADDR_STRLEN], line[64];
	struct where w0, w1, w2;
	struct sock c[3];
	struct tserver t;
	int index;

	ts_new(&t, &cfg);
	index = ts_add(&t, &svc, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&c[0], SOCK_STREAM, addr);
	client(&c[1], SOCK_STREAM, addr);
	w0 = ask(&c[0]);
	w1 = ask(&c[1]);
	CHECK_INT(w0.tid, !=, w1.tid);
	client(&c[2], SOCK_STREAM, addr);
	CHECK_OK(sock_settimeout(&c[2], 300));
	CHECK_ERR(sock_recv_line(&c[2], line, sizeof(line)), -ETIMEDOUT);
	CHECK_OK(sock_settimeout(&c[2], 5000));
	CHECK_OK(sock_close(&c[0]));
	w2 = ask(&c[2]);
	CHECK_INT(w2.tid, ==, w0.tid);
	CHECK_OK(sock_close(&c[1]));
	CHECK_OK(sock_close(&c[2]));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(pool_queues_jobs_while_threads_are_busy)

/* ---- ownership of the handler's socket ---- */

static atomic_int detached_fd = -1;

static void detach_handler(struct sock *c, const struct sock_addr *peer,
			   void *data)
{
	(void)peer;
	(void)data;
	atomic_store(&detached_fd, sock_detach(c));
}

/* A handler that detaches its socket keeps it: the server does not
 * close it when the handler returns. */
static void detached_socket_outlives_the_handler(void)
{
	struct sock_service svc = { .name = "detach",
				    .mode = SOCK_MODE_THREAD,
				    .handle = detach_handler };
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], buf[8];
	struct tserver t;
	struct sock c, kept;
	int index;

	ts_new(&t, &cfg);
	index = ts_add(&t, &svc, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 3000));
	CHECK_INT(atomic_load(&detached_fd), >=, 0);
	sock__adopt(&kept, atomic_load(&detached_fd), AF_INET, SOCK_STREAM, 0);
	CHECK_OK(sock_sendall(&kept, "kept", 4, NULL, 0));
	CHECK_OK(sock_recv_exact(&c, buf, 4, NULL));
	CHECK(memcmp(buf, "kept", 4) == 0);
	CHECK_OK(sock_close(&kept));
	CHECK_INT(sock_recv(&c, buf, sizeof(buf), 0), ==, 0);
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(detached_socket_outlives_the_handler)

static struct shared *exits;

static void count_exit(void)
{
	atomic_fetch_add(&exits->total, 1);
}

static void quick_handler(struct sock *c, const struct sock_addr *peer,
			  void *data)
{
	(void)peer;
	(void)data;
	if (sock_sendall(c, "bye\n", 4, NULL, 0) < 0)
		return;
}

/* A forked handler's process ends with _exit: the application's atexit
 * handlers run once, in the application, never in a handler's child. */
static void forked_handler_never_runs_atexit(void)
{
	struct sock_service svc = { .name = "bye",
				    .mode = SOCK_MODE_FORK,
				    .handle = quick_handler };
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], buf[8];
	struct tserver t;
	struct sock c;
	int i, index;

	exits = shared_new();
	CHECK_INT(atexit(count_exit), ==, 0);
	/* The server runs in a child of its own (which inherits the
	 * atexit registration), so its handlers' children have no thread
	 * of the test to leave behind. */
	ts_new_in(&t, &cfg, true);
	index = ts_add(&t, &svc, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	for (i = 0; i < 3; i++) {
		client(&c, SOCK_STREAM, addr);
		CHECK_OK(sock_recv_exact(&c, buf, 4, NULL));
		CHECK_INT(sock_recv(&c, buf, sizeof(buf), 0), ==, 0);
		CHECK_OK(sock_close(&c));
	}
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 3, 3000));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(atomic_load(&exits->total), ==, 0);
}
ENGINE_TEST(forked_handler_never_runs_atexit)

/* ---- events ---- */

static void events_tell_the_life_of_a_server(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN], local[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	struct sock_addr a;
	struct tserver t;
	struct sock c;
	int index;

	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 1, 2000));
	CHECK(rec_find(SOCK_EV_ENGINE, 0, &ev));
	CHECK(rec_find(SOCK_EV_LISTEN, 0, &ev));
	CHECK_STR(ev.addr, addr);
	CHECK_STR(ev.service, "echo");
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_getsockname(&c, &a));
	CHECK_OK(sock_addr_format(&a, local, sizeof(local)));
	echo_once(&c, "twelve bytes");
	echo_once(&c, "and seven");
	CHECK(rec_find(SOCK_EV_ACCEPT, 0, &ev));
	CHECK_STR(ev.addr, local);
	CHECK_INT(rec_count(SOCK_EV_CLOSE, NULL), ==, 0);
	CHECK_OK(sock_close(&c));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 2000));
	CHECK(rec_find(SOCK_EV_CLOSE, 0, &ev));
	CHECK_STR(ev.addr, local);
	CHECK_INT(ev.bytes_in, ==, 21);
	CHECK_INT(ev.bytes_out, ==, 21);
	CHECK_INT(ev.err, ==, 0);
	CHECK_INT(rec_count(SOCK_EV_STOP, NULL), ==, 0);
	ts_stop(&t, 3000);
	CHECK_INT(rec_count(SOCK_EV_STOP, NULL), ==, 1);
	/* In order: ENGINE, LISTEN, ACCEPT, CLOSE, STOP. */
	pthread_mutex_lock(&rec.lock);
	CHECK_INT(rec.n, ==, 5);
	CHECK_INT(rec.ev[0].kind, ==, SOCK_EV_ENGINE);
	CHECK_INT(rec.ev[1].kind, ==, SOCK_EV_LISTEN);
	CHECK_INT(rec.ev[2].kind, ==, SOCK_EV_ACCEPT);
	CHECK_INT(rec.ev[3].kind, ==, SOCK_EV_CLOSE);
	CHECK_INT(rec.ev[4].kind, ==, SOCK_EV_STOP);
	pthread_mutex_unlock(&rec.lock);
	ts_free(&t);
}
ENGINE_TEST(events_tell_the_life_of_a_server)

/* Sends a line on open and closes: daytime's shape, with no on_data. */
static void hello_open(struct sock_conn *c)
{
	CHECK_OK(sock_conn_send(c, "hello\n", 6));
	sock_conn_close(c);
}

/* Sends a line on open and stays: what the peer sends is dropped. */
static void hello_stay(struct sock_conn *c)
{
	CHECK_OK(sock_conn_send(c, "hello\n", 6));
}

/*
 * An event service that only sends (on_open, no on_data) is a service:
 * socketserver serves a handler that never reads.  One that closes on
 * open; one that stays open, whose input is read and dropped (counted in
 * the close event's bytes) until the client ends.
 */
static void service_that_only_sends(void)
{
	static const struct sock_service once = { .name = "hello",
						  .on_open = hello_open };
	static const struct sock_service stay = { .name = "stay",
						  .on_open = hello_stay };
	static const struct sock_service none = { .name = "none" };
	struct sock_server_config cfg = { 0 };
	char a1[SOCK_ADDR_STRLEN], a2[SOCK_ADDR_STRLEN], buf[16];
	struct rec_event ev;
	struct tserver t;
	struct sock c;
	int i1, i2;

	ts_new(&t, &cfg);
	CHECK_ERR(sock_server_add(t.srv, &none, SOCK_STREAM, "127.0.0.1:0", 0),
		  -EINVAL);
	i1 = ts_add(&t, &once, SOCK_STREAM, "127.0.0.1:0", 0);
	i2 = ts_add(&t, &stay, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, i1, a1);
	ts_addr(&t, i2, a2);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 2, 3000));
	client(&c, SOCK_STREAM, a1);
	CHECK_OK(sock_recv_exact(&c, buf, 6, NULL));
	CHECK(memcmp(buf, "hello\n", 6) == 0);
	CHECK(closed_by_server(&c, 5000));
	CHECK_OK(sock_close(&c));
	client(&c, SOCK_STREAM, a2);
	CHECK_OK(sock_recv_exact(&c, buf, 6, NULL));
	CHECK_OK(sock_sendall(&c, "dropped", 7, NULL, 0));
	CHECK_OK(sock_shutdown(&c, SHUT_WR));
	CHECK(closed_by_server(&c, 5000));
	CHECK_OK(sock_close(&c));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 2, 3000));
	CHECK(rec_find(SOCK_EV_CLOSE, 1, &ev));
	CHECK_INT(ev.bytes_in, ==, 7);
	CHECK_INT(ev.bytes_out, ==, 6);
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(service_that_only_sends)

static const struct test tests[] = {
	TEST_ENGINES(service_that_only_sends),
	TEST_ECHO_MODE(event),
	TEST_ECHO_MODE(inline),
	TEST_ECHO_MODE(thread),
	TEST_ECHO_MODE(pool),
	TEST_ECHO_MODE(fork),
	TEST_ENGINES(handlers_run_inline_on_the_loop),
	TEST_ENGINES(handlers_run_in_a_thread_each),
	TEST_ENGINES(handlers_run_in_the_pool),
	TEST_ENGINES(handlers_run_in_a_process_each_with_no_signal_blocked),
	TEST_ENGINES(pool_queues_jobs_while_threads_are_busy),
	TEST_ENGINES(detached_socket_outlives_the_handler),
	TEST_ENGINES(forked_handler_never_runs_atexit),
	TEST_ENGINES(events_tell_the_life_of_a_server),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

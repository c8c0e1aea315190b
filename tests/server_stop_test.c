/* SPDX-License-Identifier: MIT */
/* server_stop_test.c -- stopping: from a thread, a signal, with connections */

#include "server_util.h"

/* A server with a listener of every mode, streams and datagrams. */
static void add_every_mode(struct tserver *t, char addr[SOCK_ADDR_STRLEN])
{
	enum sock_mode m;
	int index;

	for (m = SOCK_MODE_EVENT; m <= SOCK_MODE_FORK; m++) {
		index = ts_add(t, &echo_svc[m], SOCK_STREAM, "127.0.0.1:0", 0);
		ts_add(t, &echo_svc[m], SOCK_DGRAM, "127.0.0.1:0", 0);
		if (m == SOCK_MODE_THREAD)
			ts_addr(t, index, addr);
	}
}

/* With no connection open, stopping takes no part of the grace period. */
static void stop_from_a_thread_is_immediate_when_idle(void)
{
	struct sock_server_config cfg = { .grace_ms = LONG_GRACE };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;

	ts_new(&t, &cfg);
	add_every_mode(&t, addr);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 10, 2000));
	/* A connection served and closed leaves nothing behind. */
	client(&c, SOCK_STREAM, addr);
	echo_once(&c, "before the stop");
	CHECK_OK(sock_close(&c));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, TEST_WAIT_MS));
	CHECK_INT(ts_stop(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_STOP, NULL), ==, 1);
}
ENGINE_TEST(stop_from_a_thread_is_immediate_when_idle)

static void stop_before_run_makes_run_return_at_once(void)
{
	struct sock_server_config cfg = { .grace_ms = LONG_GRACE };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;

	ts_new(&t, &cfg);
	add_every_mode(&t, addr);
	sock_server_stop(t.srv);
	sock_server_stop(t.srv);
	ts_start(&t);
	CHECK_INT(ts_wait(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
	/* A server runs once. */
	CHECK_INT(rec_count(SOCK_EV_STOP, NULL), ==, 1);
}
ENGINE_TEST(stop_before_run_makes_run_return_at_once)

static void run_twice_is_refused(void)
{
	struct sock_server_config cfg = { 0 };
	struct tserver t;

	ts_new(&t, &cfg);
	ts_add(&t, &echo_svc[SOCK_MODE_THREAD], SOCK_STREAM, "127.0.0.1:0", 0);
	sock_server_stop(t.srv);
	ts_start(&t);
	ts_wait(&t, 3000);
	CHECK_ERR(sock_server_run(t.srv), -EBUSY);
	ts_free(&t);
}
ENGINE_TEST(run_twice_is_refused)

/* stop_on_signals: SIGTERM to a server's process stops it at once. */
static void stop_from_sigterm_to_the_process(void)
{
	struct sock_server_config cfg = { .grace_ms = LONG_GRACE };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;

	ts_new_in(&t, &cfg, true);
	add_every_mode(&t, addr);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 10, 2000));
	client(&c, SOCK_STREAM, addr);
	echo_once(&c, "before the signal");
	CHECK_OK(sock_close(&c));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, TEST_WAIT_MS));
	/* ts_stop sends SIGTERM to the child and waits for it to exit 0. */
	CHECK_INT(ts_stop(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_STOP, NULL), ==, 1);
}
ENGINE_TEST(stop_from_sigterm_to_the_process)

/* The same in the test's own process: the signal must be blocked in
 * every thread, and is read by the loop, not delivered. */
static void stop_from_sigint_with_the_server_in_a_thread(void)
{
	struct sock_server_config cfg = { .grace_ms = LONG_GRACE,
					  .stop_on_signals = true };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	sigset_t set;
	long long start;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ts_new(&t, &cfg);
	add_every_mode(&t, addr);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 10, 2000));
	start = test_now_ms();
	CHECK_INT(kill(getpid(), SIGINT), ==, 0);
	ts_wait(&t, TEST_WAIT_MS);
	CHECK_INT(test_now_ms() - start, <, TEST_LATE_MS);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_STOP, NULL), ==, 1);
}
ENGINE_TEST(stop_from_sigint_with_the_server_in_a_thread)

/* ---- stopping with connections open ---- */

/* The grace period of the tests below: what they check within it (a
 * refusal, connections still served) must fit in it with room to spare
 * on a loaded machine, under valgrind or ThreadSanitizer. */
#define GRACE (under_valgrind() ? 4000 : 2000)

/*
 * Connect until refused: the listeners are closed.  False if connects
 * are still accepted after TEST_WAIT_MS.  A refusal alone proves little
 * (every connect is refused once the server has exited): the callers
 * check, after it, that the server still serves what it had open.
 */
static bool refused_soon(const char *addr)
{
	long long end = test_now_ms() + TEST_WAIT_MS;
	struct sock c;
	int err;

	do {
		err = sock_connect(&c, SOCK_STREAM, addr, TEST_WAIT_MS);
		if (err == -ECONNREFUSED)
			return true;
		if (!err)
			CHECK_OK(sock_close(&c));
		usleep(10000);
	} while (test_now_ms() < end);
	return false;
}

/*
 * Stopping closes the listeners at once (new connections are refused),
 * serves open connections for the grace period, then closes the rest;
 * run returns when all are gone.
 */
static void stop_with_open_connections(enum sock_mode mode)
{
	struct sock_server_config cfg = { .grace_ms = GRACE };
	char addr[SOCK_ADDR_STRLEN], la[SOCK_ADDR_STRLEN], lb[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	long long start, closed_at;
	struct tserver t;
	struct sock a, b;
	int index;

	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	index = ts_add(&t, &echo_svc[mode], SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&a, SOCK_STREAM, addr);
	client(&b, SOCK_STREAM, addr);
	echo_once(&a, "open");
	echo_once(&b, "open too");
	local_text(&a, la);
	local_text(&b, lb);
	start = test_now_ms();
	if (t.child)
		kill(t.pid, SIGTERM);
	else
		sock_server_stop(t.srv);
	/* The stop begins by closing the listener: connects are refused
	 * from then on, while the grace period has just begun. */
	CHECK(rec_wait(SOCK_EV_STOP, NULL, 1, TEST_WAIT_MS));
	CHECK(refused_soon(addr));
	/* Within the grace period open connections are still served, and
	 * one that ends then ends in order. */
	echo_once(&a, "still served");
	echo_once(&b, "still served");
	CHECK_OK(sock_close(&b));
	/* After it, the rest are closed (not before: a lower bound holds
	 * however loaded the machine is). */
	CHECK(closed_by_server(&a, GRACE + TEST_WAIT_MS));
	closed_at = test_now_ms() - start;
	CHECK_INT(closed_at, >=, GRACE - 100);
	CHECK_INT(closed_at, <, GRACE + TEST_LATE_MS);
	ts_wait(&t, TEST_WAIT_MS);
	CHECK_INT(test_now_ms() - start, <, GRACE + TEST_LATE_MS);
	CHECK_OK(sock_close(&a));
	ts_free(&t);
	/* a was cut short by the stop, b was not. */
	CHECK(rec_find_addr(SOCK_EV_CLOSE, lb, &ev));
	CHECK_INT(ev.err, ==, 0);
	CHECK(rec_find_addr(SOCK_EV_CLOSE, la, &ev));
	CHECK_INT(ev.err, ==, -ESHUTDOWN);
	CHECK_INT(ev.duration_ms, >=, GRACE - 100);
}

/*
 * With several workers a forked handler must not hold the listening
 * sockets of the other workers: after a stop, connects are refused
 * while forked handlers still serve their connections.
 */
static void stop_refuses_connects_with_forked_handlers_on_workers(void)
{
	char addr[SOCK_ADDR_STRLEN] = "";
	struct sock c[6];
	int fds[2], i, status;
	ssize_t n;
	pid_t pid;

	CHECK_INT(pipe(fds), ==, 0);
	fflush(NULL);
	pid = fork();
	CHECK_INT(pid, >=, 0);
	if (pid == 0) {
		struct sock_server_config cfg = { .workers = 2,
						  .grace_ms = 3 * TEST_WAIT_MS,
						  .stop_on_signals = true,
						  .engine = test_engine };
		struct sock_server *srv;
		struct sock_addr a;
		int index;

		close(fds[0]);
		if (sock_server_new(&srv, &cfg))
			_exit(2);
		index = sock_server_add(srv, &echo_svc[SOCK_MODE_FORK],
					SOCK_STREAM, "127.0.0.1:0", 0);
		if (index < 0 || sock_server_addr(srv, index, &a) ||
		    sock_addr_format(&a, addr, sizeof(addr)) < 0 ||
		    write(fds[1], addr, sizeof(addr)) != sizeof(addr))
			_exit(2);
		close(fds[1]);
		_exit(sock_server_run(srv) ? 3 : 0);
	}
	close(fds[1]);
	n = read(fds[0], addr, sizeof(addr));
	close(fds[0]);
	CHECK_INT(n, ==, sizeof(addr));
	/* Handlers forked by both workers, most likely (SO_REUSEPORT
	 * spreads connections by their ports). */
	for (i = 0; i < 6; i++) {
		client(&c[i], SOCK_STREAM, addr);
		echo_once(&c[i], "forked");
	}
	CHECK_INT(kill(pid, SIGTERM), ==, 0);
	/* Refused while the handlers still serve (in a grace period far
	 * longer than the wait): no child holds a listener. */
	CHECK(refused_soon(addr));
	echo_once(&c[0], "still served in the grace period");
	for (i = 0; i < 6; i++)
		CHECK_OK(sock_close(&c[i]));
	CHECK_INT(waitpid(pid, &status, 0), ==, pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
ENGINE_TEST(stop_refuses_connects_with_forked_handlers_on_workers)

/* ---- connections that arrive in the batch that asks for a stop ---- */

/* The gate service: "hold" holds the loop (it says so on held, then
 * waits for a byte on release), "stop" stops the server from the loop,
 * anything else comes back. */
struct gate {
	struct sock_server *srv;
	int held, release;
};

static void gate_data(struct sock_conn *c, const void *data, size_t len)
{
	struct gate *g = sock_conn_service_data(c);
	char b = 0;

	if (len == 4 && !memcmp(data, "hold", 4)) {
		if (write(g->held, &b, 1) != 1 || read(g->release, &b, 1) != 1)
			abort();
	} else if (len == 4 && !memcmp(data, "stop", 4)) {
		sock_server_stop(g->srv);
	} else if (sock_conn_send(c, data, len) < 0) {
		return;
	}
}

#define LATE_CLIENTS 8

/*
 * A stop asked for while connections wait to be accepted: the loop
 * reads the stop in the same batch as the listener's readiness (the
 * gate holds the loop until both are there, stop first).  Those
 * connections came after the stop, so they are not served (they would
 * be refused a moment later); before the fix the batch went on
 * accepting and serving them, up to 64, in fork mode a process each.
 */
static void connections_after_a_stop_in_the_same_batch_are_not_served(void)
{
	struct sock_server_config cfg = { .grace_ms = 20000 };
	struct sock_service gate_svc = { .name = "gate",
					 .mode = SOCK_MODE_EVENT,
					 .on_data = gate_data };
	char gate_addr[SOCK_ADDR_STRLEN], addr[SOCK_ADDR_STRLEN], buf[8];
	struct sock x, y, late[LATE_CLIENTS];
	int held[2], release[2], i;
	struct gate g;
	struct tserver t;
	ssize_t n;

	CHECK_INT(pipe2(held, O_CLOEXEC), ==, 0);
	CHECK_INT(pipe2(release, O_CLOEXEC), ==, 0);
	g.held = held[1];
	g.release = release[0];
	gate_svc.data = &g;
	ts_new(&t, &cfg);
	g.srv = t.srv;
	ts_addr(&t, ts_add(&t, &gate_svc, SOCK_STREAM, "127.0.0.1:0", 0),
		gate_addr);
	ts_addr(&t,
		ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0),
		addr);
	ts_start(&t);
	client(&x, SOCK_STREAM, gate_addr);
	client(&y, SOCK_STREAM, gate_addr);
	echo_once(&x, "x open");
	echo_once(&y, "y open");
	/* io_uring sees y's stop only if a receive is armed on y while the
	 * loop is held.  The first receive of a connection takes one buffer
	 * and is armed again when the loop next submits, which may be after
	 * the hold; the one that brought a second message stays armed. */
	echo_once(&y, "y again");
	CHECK_OK(sock_sendall(&x, "hold", 4, NULL, 0));
	CHECK_INT(read(held[0], buf, 1), ==, 1);
	/* The loop is held: the stop is read first, then the listener. */
	CHECK_OK(sock_sendall(&y, "stop", 4, NULL, 0));
	for (i = 0; i < LATE_CLIENTS; i++) {
		client(&late[i], SOCK_STREAM, addr);
		CHECK_OK(sock_sendall(&late[i], "late", 4, NULL, 0));
	}
	CHECK_INT(write(release[1], "", 1), ==, 1);
	for (i = 0; i < LATE_CLIENTS; i++) {
		CHECK_OK(sock_settimeout(&late[i], TEST_WAIT_MS));
		n = sock_recv(&late[i], buf, sizeof(buf), 0);
		if (n != 0 && n != -ECONNRESET)
			test_fail(__FILE__, __LINE__,
				  "late client %d served: %zd", i, n);
		CHECK_OK(sock_close(&late[i]));
	}
	/* The connections open before the stop are still served. */
	echo_once(&x, "x still served");
	CHECK_OK(sock_close(&x));
	CHECK_OK(sock_close(&y));
	ts_wait(&t, TEST_WAIT_MS);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_STOP, NULL), ==, 1);
	close(held[0]);
	close(held[1]);
	close(release[0]);
	close(release[1]);
}
ENGINE_TEST(connections_after_a_stop_in_the_same_batch_are_not_served)

#define STOP_OPEN(mode, MODE)                                                  \
	static void stop_with_open_connections_##mode(void)                    \
	{                                                                      \
		stop_with_open_connections(SOCK_MODE_##MODE);                  \
	}                                                                      \
	ENGINE_TEST(stop_with_open_connections_##mode)

STOP_OPEN(event, EVENT)
STOP_OPEN(thread, THREAD)
STOP_OPEN(pool, POOL)
STOP_OPEN(fork, FORK)

/*
 * Inline handlers run on the loop, so nothing can interrupt one: as in
 * socketserver, the stop takes effect when the handler under way
 * returns, and then at once.
 */
static void inline_stop_waits_for_the_handler_under_way(void)
{
	struct sock_server_config cfg = { .grace_ms = LONG_GRACE };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock a;
	int index;

	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_INLINE], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&a, SOCK_STREAM, addr);
	echo_once(&a, "inline");
	sock_server_stop(t.srv);
	usleep(200000);
	CHECK_INT(atomic_load(&t.done), ==, 0);
	echo_once(&a, "still inline");
	CHECK_OK(sock_close(&a));
	CHECK_INT(ts_wait(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
}
ENGINE_TEST(inline_stop_waits_for_the_handler_under_way)

static void ignore_sigterm(struct sock *c, const struct sock_addr *peer,
			   void *data)
{
	(void)c;
	(void)peer;
	(void)data;
	signal(SIGTERM, SIG_IGN);
	sleep(30);
}

/* A forked handler that ignores SIGTERM is killed a second later. */
static void stubborn_forked_handler_is_killed(void)
{
	struct sock_service svc = { .name = "stubborn",
				    .mode = SOCK_MODE_FORK,
				    .handle = ignore_sigterm };
	struct sock_server_config cfg = { .grace_ms = 300 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock a;
	long long took;
	int index;

	ts_new_in(&t, &cfg, true);
	index = ts_add(&t, &svc, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	client(&a, SOCK_STREAM, addr);
	CHECK(rec_wait(SOCK_EV_ACCEPT, NULL, 1, TEST_WAIT_MS));
	usleep(100000);
	took = ts_stop(&t, TEST_WAIT_MS);
	CHECK_INT(took, >=, 300 + 900);
	CHECK_INT(took, <, 300 + 1000 + TEST_LATE_MS);
	CHECK(closed_by_server(&a, TEST_WAIT_MS));
	CHECK_OK(sock_close(&a));
	ts_free(&t);
}
ENGINE_TEST(stubborn_forked_handler_is_killed)

/*
 * A second SIGTERM while the server stops (a second Ctrl-C; timeout(1)
 * signals the process and then its group) is harmless: the process still
 * ends with run's status, not killed by the signal.  (One that comes
 * after the loops ended and before run returns is taken by run; the
 * server examples under timeout(1) in tests/cli meet that case.)
 */
static void second_sigterm_while_stopping_is_taken(void)
{
	struct sock_server_config cfg = { .grace_ms = 400 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;

	ts_new_in(&t, &cfg, true);
	add_every_mode(&t, addr);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 10, 2000));
	/* An open connection holds the server in its grace period. */
	client(&c, SOCK_STREAM, addr);
	echo_once(&c, "held open");
	CHECK_INT(kill(t.pid, SIGTERM), ==, 0);
	CHECK(rec_wait(SOCK_EV_STOP, NULL, 1, 2000));
	CHECK_INT(kill(t.pid, SIGTERM), ==, 0);
	ts_wait(&t, 3000); /* exited 0, not killed */
	CHECK_OK(sock_close(&c));
	ts_free(&t);
}
ENGINE_TEST(second_sigterm_while_stopping_is_taken)

/* ---- sock_serve: a server in one call ---- */

/* Connect to addr, retrying while the server is still starting. */
static void client_when_up(struct sock *c, const char *addr)
{
	long long end = test_now_ms() + TEST_WAIT_MS;
	int err;

	while ((err = sock_connect(c, SOCK_STREAM, addr, 1000)) ==
		       -ECONNREFUSED &&
	       test_now_ms() < end)
		usleep(10000);
	CHECK_OK(err);
}

/* sock_serve in a child, with config or the defaults (NULL): it serves
 * until SIGTERM, then returns 0. */
static void serve_in_one_call(const struct sock_server_config *config)
{
	char addr[SOCK_ADDR_STRLEN];
	struct sock c;
	int status;
	pid_t pid;

	snprintf(addr, sizeof(addr), "@libsock-serve-test-%d", (int)getpid());
	fflush(NULL);
	pid = fork();
	CHECK_INT(pid, >=, 0);
	if (pid == 0)
		_exit(sock_serve(&echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, addr,
				 config)
			      ? 3
			      : 0);
	client_when_up(&c, addr);
	echo_once(&c, "served in one call");
	CHECK_OK(sock_close(&c));
	CHECK_INT(kill(pid, SIGTERM), ==, 0);
	CHECK_INT(waitpid(pid, &status, 0), ==, pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void serve_in_one_call_with_a_config(void)
{
	struct sock_server_config cfg = { .stop_on_signals = true,
					  .engine = test_engine };

	serve_in_one_call(&cfg);
}
ENGINE_TEST(serve_in_one_call_with_a_config)

static void serve_in_one_call_with_the_defaults(void)
{
	serve_in_one_call(NULL);
}

/* What keeps sock_serve from serving comes back at once. */
static void serve_in_one_call_reports_what_failed(void)
{
	struct sock_server_config bad = { .output_limit = 1u << 30 };
	const struct sock_service *svc = &echo_svc[SOCK_MODE_EVENT];
	char addr[SOCK_ADDR_STRLEN];
	struct sock_addr a;
	struct sock l;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 0, 0));
	CHECK_OK(sock_getsockname(&l, &a));
	CHECK_INT(sock_addr_format(&a, addr, sizeof(addr)), >, 0);
	CHECK_ERR(sock_serve(svc, SOCK_STREAM, addr, NULL), -EADDRINUSE);
	CHECK_OK(sock_close(&l));
	CHECK_ERR(sock_serve(svc, SOCK_STREAM, "127.0.0.1", NULL),
		  SOCK_EBADADDR);
	CHECK_ERR(sock_serve(svc, SOCK_STREAM, "127.0.0.1:0", &bad), -EINVAL);
}

struct every_count {
	atomic_int calls;
	atomic_int after_stop; /* calls seen once the stop was asked */
	atomic_bool stopped;
	pthread_t thread;
};

/* Stops the server on its fifth call; notes the calling thread. */
static void every_counts(struct sock_server *srv, void *data)
{
	struct every_count *e = data;

	if (atomic_load(&e->stopped))
		atomic_fetch_add(&e->after_stop, 1);
	if (atomic_fetch_add(&e->calls, 1) == 0)
		e->thread = pthread_self();
	if (atomic_load(&e->calls) == 5) {
		atomic_store(&e->stopped, true);
		sock_server_stop(srv);
	}
}

/*
 * sock_server_every: the hook is called every interval while the server
 * runs, on the loop's thread (not the caller's), may stop the server,
 * and is not called again once the stop begins.  It is for a server that
 * has not run.
 */
static void every_hook_runs_until_it_stops_the_server(void)
{
	struct sock_server_config cfg = { .grace_ms = LONG_GRACE };
	static struct every_count e;
	struct tserver t;

	memset(&e, 0, sizeof(e));
	ts_new(&t, &cfg);
	(void)ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, "127.0.0.1:0",
		     0);
	CHECK_ERR(sock_server_every(t.srv, 0, every_counts, &e), -EINVAL);
	CHECK_OK(sock_server_every(t.srv, 20, every_counts, &e));
	ts_start(&t);
	/* Run returns: the hook's stop was taken, without the grace. */
	CHECK(ts_wait(&t, TEST_WAIT_MS) < TEST_WAIT_MS);
	CHECK_INT(atomic_load(&e.calls), ==, 5);
	CHECK_INT(atomic_load(&e.after_stop), ==, 0);
	CHECK(!pthread_equal(e.thread, pthread_self()));
	CHECK_ERR(sock_server_every(t.srv, 20, NULL, NULL), -EBUSY);
	ts_free(&t);
}
ENGINE_TEST(every_hook_runs_until_it_stops_the_server)

struct quiet_count {
	atomic_int calls;
	atomic_llong at[2]; /* test_now_ms() of the first two calls */
};

/* Notes its first two calls, and stops the server at the second. */
static void quiet_counts(struct sock_server *srv, void *data)
{
	struct quiet_count *q = data;
	int n = atomic_fetch_add(&q->calls, 1);

	if (n < 2)
		atomic_store(&q->at[n], test_now_ms());
	if (n == 1)
		sock_server_stop(srv);
}

/*
 * sock_server_idle: not called while connections and datagrams keep
 * coming (one every 50 ms for 1.5 s, with 1 s of quiet wanted), then
 * called once the server has been quiet for 1 s (never sooner), and
 * again after 1 s more.  The 1 s against 50 ms is a liveness margin: a
 * test loop would have to stall 20 times over to call it early.
 */
static void idle_hook_runs_when_nobody_came(void)
{
	struct sock_server_config cfg = { .workers = 2,
					  .grace_ms = LONG_GRACE };
	char tcp[SOCK_ADDR_STRLEN], udp[SOCK_ADDR_STRLEN];
	static struct quiet_count q;
	long long last = 0, t_end;
	struct tserver t;
	struct sock c;
	int ti, ui, i;

	memset(&q, 0, sizeof(q));
	ts_new(&t, &cfg);
	ti = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, "127.0.0.1:0",
		    0);
	ui = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM, "127.0.0.1:0",
		    0);
	ts_addr(&t, ti, tcp);
	ts_addr(&t, ui, udp);
	CHECK_ERR(sock_server_idle(t.srv, 0, quiet_counts, &q), -EINVAL);
	CHECK_OK(sock_server_idle(t.srv, 1000, quiet_counts, &q));
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 4, 3000));
	t_end = test_now_ms() + 1500;
	for (i = 0; test_now_ms() < t_end && i < 100; i++) {
		/* The request reaches the server after this. */
		last = test_now_ms();
		client(&c, i % 2 ? SOCK_DGRAM : SOCK_STREAM, i % 2 ? udp : tcp);
		echo_once(&c, "still here");
		CHECK_OK(sock_close(&c));
		usleep(50000);
	}
	CHECK_INT(atomic_load(&q.calls), ==, 0);
	CHECK(ts_wait(&t, TEST_WAIT_MS) < TEST_WAIT_MS);
	CHECK_INT(atomic_load(&q.calls), ==, 2);
	printf("    quiet after the last request: %lld ms, then %lld ms\n",
	       atomic_load(&q.at[0]) - last,
	       atomic_load(&q.at[1]) - atomic_load(&q.at[0]));
	/* Never early (1 ms: the clocks' truncation to milliseconds). */
	CHECK_INT(atomic_load(&q.at[0]) - last, >=, 1000 - 1);
	CHECK_INT(atomic_load(&q.at[1]) - atomic_load(&q.at[0]), >=, 1000 - 1);
	CHECK_ERR(sock_server_idle(t.srv, 100, NULL, NULL), -EBUSY);
	ts_free(&t);
}
ENGINE_TEST(idle_hook_runs_when_nobody_came)

/*
 * sock_server_handler_timeout: a blocking handler's read on a silent
 * connection times out after the listener's 200 ms, not the server's
 * 5 min idle timeout; the echo handler then returns and the connection
 * closes.  The other listener keeps the idle timeout.
 */
static void handler_timeout_bounds_blocking_reads(void)
{
	struct sock_server_config cfg = { .grace_ms = LONG_GRACE };
	char quick[SOCK_ADDR_STRLEN], slow[SOCK_ADDR_STRLEN];
	struct sock c, d;
	struct tserver t;
	long long t0, ms;
	int qi, si;

	ts_new(&t, &cfg);
	qi = ts_add(&t, &echo_svc[SOCK_MODE_THREAD], SOCK_STREAM, "127.0.0.1:0",
		    0);
	si = ts_add(&t, &echo_svc[SOCK_MODE_THREAD], SOCK_STREAM, "127.0.0.1:0",
		    0);
	ts_addr(&t, qi, quick);
	ts_addr(&t, si, slow);
	CHECK_ERR(sock_server_handler_timeout(t.srv, qi, 0), -EINVAL);
	CHECK_ERR(sock_server_handler_timeout(t.srv, qi, -2), -EINVAL);
	CHECK_ERR(sock_server_handler_timeout(t.srv, 99, 200), -ENOENT);
	CHECK_OK(sock_server_handler_timeout(t.srv, qi, 200));
	ts_start(&t);
	client(&c, SOCK_STREAM, quick);
	client(&d, SOCK_STREAM, slow);
	echo_once(&c, "answered, then silent");
	t0 = test_now_ms();
	CHECK(closed_by_server(&c, 5000));
	ms = test_now_ms() - t0;
	CHECK_INT(ms, >=, 150);
	CHECK_INT(ms, <, TEST_LATE_MS);
	/* The other listener's handler still waits: its echo works after
	 * longer than 200 ms of silence. */
	usleep(400000);
	echo_once(&d, "still served");
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&d));
	CHECK_ERR(sock_server_handler_timeout(t.srv, qi, 100), -EBUSY);
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(handler_timeout_bounds_blocking_reads)

static const struct test tests[] = {
	TEST_ENGINES(idle_hook_runs_when_nobody_came),
	TEST_ENGINES(handler_timeout_bounds_blocking_reads),
	TEST_ENGINES(every_hook_runs_until_it_stops_the_server),
	TEST_ENGINES(stop_from_a_thread_is_immediate_when_idle),
	TEST_ENGINES(stop_before_run_makes_run_return_at_once),
	TEST_ENGINES(run_twice_is_refused),
	TEST_ENGINES(connections_after_a_stop_in_the_same_batch_are_not_served),
	TEST_ENGINES(stop_refuses_connects_with_forked_handlers_on_workers),
	TEST_ENGINES(stop_from_sigterm_to_the_process),
	TEST_ENGINES(stop_from_sigint_with_the_server_in_a_thread),
	TEST_ENGINES(stop_with_open_connections_event),
	TEST_ENGINES(stop_with_open_connections_thread),
	TEST_ENGINES(stop_with_open_connections_pool),
	TEST_ENGINES(stop_with_open_connections_fork),
	TEST_ENGINES(inline_stop_waits_for_the_handler_under_way),
	TEST_ENGINES(stubborn_forked_handler_is_killed),
	TEST_ENGINES(second_sigterm_while_stopping_is_taken),
	TEST_ENGINES(serve_in_one_call_with_a_config),
	TEST(serve_in_one_call_with_the_defaults),
	TEST(serve_in_one_call_reports_what_failed),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

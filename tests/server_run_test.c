/* SPDX-License-Identifier: MIT */
/* server_run_test.c -- a run that cannot start leaves its caller as it was */

#include "server_util.h"

#define FILL_MAX 256

/* Take every descriptor left under the soft limit; returns how many. */
static int fill_descriptors(int fds[FILL_MAX])
{
	int n = 0;

	while (n < FILL_MAX &&
	       (fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		n++;
	CHECK_INT(errno, ==, EMFILE);
	return n;
}

static void release_descriptors(int fds[FILL_MAX], int n)
{
	while (n > 0)
		close(fds[--n]);
}

/* The calling thread's mask, every signal compared. */
static void check_same_mask(const sigset_t *want)
{
	sigset_t now;
	int signo;

	sigemptyset(&now);
	CHECK_INT(pthread_sigmask(SIG_SETMASK, NULL, &now), ==, 0);
	for (signo = 1; signo < SIGRTMIN; signo++)
		if (sigismember(want, signo) != sigismember(&now, signo))
			test_fail(__FILE__, __LINE__, "signal %d (%s) is %s",
				  signo, strsignal(signo),
				  sigismember(&now, signo) ? "blocked now"
							   : "unblocked now");
}

static void on_open_greet(struct sock_conn *c)
{
	if (sock_conn_send(c, "hello\n", 6) < 0)
		return;
}

static const struct sock_service greeter = {
	.name = "greet",
	.on_open = on_open_greet,
	.on_data = ev_echo_data,
};

/*
 * The caller's mask: SIGINT and SIGTERM delivered (run blocks them to
 * read them with signalfd), SIGUSR1 blocked with one pending.  A failed
 * run must leave all of it so.
 */
static void caller_mask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGUSR1);
	CHECK_INT(pthread_sigmask(SIG_SETMASK, mask, NULL), ==, 0);
	CHECK_INT(raise(SIGUSR1), ==, 0);
}

static void check_caller_mask(const sigset_t *mask)
{
	sigset_t pending;

	check_same_mask(mask);
	sigemptyset(&pending);
	CHECK_INT(sigpending(&pending), ==, 0);
	CHECK(sigismember(&pending, SIGUSR1));
	CHECK(!sigismember(&pending, SIGINT));
}

/*
 * With stop_on_signals, run blocks SIGINT and SIGTERM and reads them from
 * a signalfd.  Out of descriptors, the signalfd cannot be made and run
 * fails: the signals must be delivered to the caller as before.
 */
static void run_out_of_descriptors_leaves_signal_mask_as_it_was(void)
{
	struct sock_server_config cfg = { .stop_on_signals = true };
	struct rlimit rl;
	struct sock_server *srv;
	int fds[FILL_MAX], n, err;
	sigset_t mask;

	caller_mask(&mask);
	/* The soft limit only: valgrind refuses to move the hard one. */
	CHECK_INT(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	rl.rlim_cur = 128;
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	cfg.engine = test_engine;
	cfg.on_event = rec_event;
	CHECK_OK(sock_server_new(&srv, &cfg));
	CHECK_OK(sock_server_add(srv, &greeter, SOCK_STREAM, "127.0.0.1:0", 0));
	n = fill_descriptors(fds);
	err = sock_server_run(srv);
	release_descriptors(fds, n);
	CHECK_ERR(err, -EMFILE);
	check_caller_mask(&mask);
	/* Nothing was served. */
	CHECK_INT(rec_count(SOCK_EV_LISTEN, NULL), ==, 0);
	sock_server_free(srv);
}
ENGINE_TEST(run_out_of_descriptors_leaves_signal_mask_as_it_was)

/*
 * Let this process start only `extra` more threads.  RLIMIT_NPROC counts
 * the tasks of the real user and does not bind root, so the test becomes
 * a user that runs nothing else (an id above any real account's).  The
 * hard limit stays higher, so unlimit_threads() can lift it again (the
 * leak checker at exit needs a thread of its own).
 */
static void limit_threads(int extra)
{
	struct rlimit rl = { (rlim_t)extra + 1, 64 };
	uid_t uid = 3000000 + (uid_t)getpid() % 1000000;

	if (geteuid() != 0)
		SKIP("needs root to run as a user of its own (RLIMIT_NPROC)");
	CHECK_INT(setrlimit(RLIMIT_NPROC, &rl), ==, 0);
	CHECK_INT(setresgid(uid, uid, uid), ==, 0);
	CHECK_INT(setresuid(uid, uid, uid), ==, 0);
}

static void unlimit_threads(void)
{
	struct rlimit rl = { 64, 64 };

	CHECK_INT(setrlimit(RLIMIT_NPROC, &rl), ==, 0);
}

/*
 * workers = 3: run starts two threads.  When it cannot start them all,
 * run fails -- and serves nothing in the meantime: no worker listens,
 * accepts or opens the adopted connection, and the caller's mask is as
 * it was.
 */
static void run_that_cannot_start_a_worker_serves_nothing(int extra)
{
	struct sock_server_config cfg = { .stop_on_signals = true,
					  .workers = 3,
					  .grace_ms = 100 };
	struct sock_server *srv;
	struct sock pair[2];
	char buf[16];
	sigset_t mask;
	int err;

	caller_mask(&mask);
	cfg.engine = test_engine;
	cfg.on_event = rec_event;
	CHECK_OK(sock_server_new(&srv, &cfg));
	CHECK_OK(sock_server_add(srv, &greeter, SOCK_STREAM, "127.0.0.1:0", 0));
	CHECK_OK(sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(sock_server_adopt(srv, &greeter, &pair[0]));
	limit_threads(extra);
	err = sock_server_run(srv);
	unlimit_threads();
	CHECK_ERR(err, -EAGAIN);
	check_caller_mask(&mask);
	CHECK_INT(rec_count(SOCK_EV_ENGINE, NULL), ==, 0);
	CHECK_INT(rec_count(SOCK_EV_LISTEN, NULL), ==, 0);
	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 0);
	/* The adopted connection was not greeted, and is closed with the
	 * server. */
	CHECK_ERR(sock_recv(&pair[1], buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN);
	sock_server_free(srv);
	CHECK_OK(sock_settimeout(&pair[1], 5000));
	CHECK_INT(sock_recv(&pair[1], buf, sizeof(buf), 0), ==, 0);
	CHECK_OK(sock_close(&pair[1]));
}

static void run_that_cannot_start_its_first_worker_serves_nothing(void)
{
	run_that_cannot_start_a_worker_serves_nothing(0);
}
ENGINE_TEST(run_that_cannot_start_its_first_worker_serves_nothing)

static void run_that_cannot_start_its_last_worker_serves_nothing(void)
{
	run_that_cannot_start_a_worker_serves_nothing(1);
}
ENGINE_TEST(run_that_cannot_start_its_last_worker_serves_nothing)

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST_ENGINES(
			run_out_of_descriptors_leaves_signal_mask_as_it_was),
		TEST_ENGINES(
			run_that_cannot_start_its_first_worker_serves_nothing),
		TEST_ENGINES(
			run_that_cannot_start_its_last_worker_serves_nothing),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

/* SPDX-License-Identifier: MIT */
/* loop_test.c -- the event loop on its own: timers against I/O */

#include "test.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

static enum sock_engine engine = SOCK_ENGINE_EPOLL;

static void use(enum sock_engine e)
{
	struct sock_loop *loop;

	engine = e;
	CHECK_OK(sock_loop_new(&loop, e));
	if (sock_loop_engine(loop) != e) {
		sock_loop_free(loop);
		SKIP("io_uring unavailable: the loop falls back to epoll");
	}
	sock_loop_free(loop);
}

struct starve {
	struct sock_loop *loop;
	struct sock_timer timer;
	struct sock_watch watch;
	long fires, reads;
};

static void rearm_now(struct sock_timer *t, void *arg)
{
	struct starve *st = arg;

	st->fires++;
	CHECK_OK(sock_timer_start(st->loop, t, 0, 0));
}

static void read_one(struct sock_watch *w, int revents, void *arg)
{
	struct starve *st = arg;
	char c;

	(void)revents;
	CHECK_INT(read(w->fd, &c, 1), ==, 1);
	if (++st->reads == 3)
		sock_loop_stop(st->loop);
}

/*
 * A timer that restarts itself with 0 ms from its own callback (the
 * header allows both) must not keep the loop from its descriptors.
 */
static void zero_timer_does_not_starve_io(void)
{
	struct starve st = { 0 };
	int p[2];

	CHECK_INT(pipe(p), ==, 0);
	CHECK_INT(write(p[1], "abc", 3), ==, 3);
	CHECK_OK(sock_loop_new(&st.loop, engine));
	sock_timer_init(&st.timer, rearm_now, &st);
	CHECK_OK(sock_timer_start(st.loop, &st.timer, 0, 0));
	CHECK_OK(sock_watch(st.loop, &st.watch, p[0], POLLIN, read_one, &st));
	CHECK_OK(sock_loop_run(st.loop));
	CHECK_INT(st.reads, ==, 3);
	CHECK_INT(st.fires, >=, 1);
	/* One firing per pass, each pass polling the pipe. */
	CHECK_INT(st.fires, <=, 10);
	sock_unwatch(&st.watch);
	sock_timer_stop(st.loop, &st.timer);
	sock_loop_free(st.loop);
	close(p[0]);
	close(p[1]);
}

static void zero_timer_does_not_starve_io_epoll(void)
{
	use(SOCK_ENGINE_EPOLL);
	zero_timer_does_not_starve_io();
}

static void zero_timer_does_not_starve_io_io_uring(void)
{
	if (getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload"))
		SKIP("valgrind does not model io_uring");
	use(SOCK_ENGINE_URING);
	zero_timer_does_not_starve_io();
}

static void never_called(struct sock_loop *loop, int signo, void *arg)
{
	(void)loop;
	(void)arg;
	test_fail(__FILE__, __LINE__, "signal %d read", signo);
}

static bool blocked(int signo)
{
	sigset_t now;

	sigemptyset(&now);
	CHECK_INT(pthread_sigmask(SIG_SETMASK, NULL, &now), ==, 0);
	return sigismember(&now, signo);
}

/*
 * sock_loop_signal blocks the signal to read it from a signalfd.  When
 * the signalfd cannot be made (no descriptor left) it fails, and the
 * signal must reach the program as before: unblocked.
 */
static void signal_that_fails_leaves_the_mask_alone(void)
{
	struct rlimit rl;
	struct sock_loop *loop;
	int fds[64], n = 0;
	sigset_t none;

	sigemptyset(&none);
	CHECK_INT(pthread_sigmask(SIG_SETMASK, &none, NULL), ==, 0);
	/* The soft limit only: valgrind refuses to move the hard one. */
	CHECK_INT(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	rl.rlim_cur = 64;
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	CHECK_OK(sock_loop_new(&loop, engine));
	while (n < 64 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	CHECK_ERR(sock_loop_signal(loop, SIGUSR1, never_called, NULL), -EMFILE);
	while (n > 0)
		close(fds[--n]);
	CHECK(!blocked(SIGUSR1));
	/* With a descriptor free, the same call works. */
	CHECK_OK(sock_loop_signal(loop, SIGUSR1, never_called, NULL));
	CHECK(blocked(SIGUSR1));
	sock_loop_free(loop);
}

static void signal_that_fails_leaves_the_mask_alone_epoll(void)
{
	use(SOCK_ENGINE_EPOLL);
	signal_that_fails_leaves_the_mask_alone();
}

static void signal_that_fails_leaves_the_mask_alone_io_uring(void)
{
	if (getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload"))
		SKIP("valgrind does not model io_uring");
	use(SOCK_ENGINE_URING);
	signal_that_fails_leaves_the_mask_alone();
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(zero_timer_does_not_starve_io_epoll),
		TEST(zero_timer_does_not_starve_io_io_uring),
		TEST(signal_that_fails_leaves_the_mask_alone_epoll),
		TEST(signal_that_fails_leaves_the_mask_alone_io_uring),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

/* SPDX-License-Identifier: MIT */
/* loop_test.c -- the event loop on its own: timers against I/O */

#include "test.h"

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

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(zero_timer_does_not_starve_io_epoll),
		TEST(zero_timer_does_not_starve_io_io_uring),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

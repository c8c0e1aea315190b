/* SPDX-License-Identifier: MIT */
/* server_faults_test.c -- the server when a resource runs out: what make torture found */

/*
 * Each test provokes, with a descriptor limit or an early stop, a failure
 * that fault injection (tests/torture) first found, and checks what must
 * hold: the error reported is the one that happened, nothing is left
 * open, the program's state is as it was.
 */

#include "server_util.h"

#include <dirent.h>

/* The highest descriptor open, and how many are. */
static rlim_t fd_limit(void)
{
	struct rlimit rl;

	CHECK_INT(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
	return rl.rlim_cur;
}

static int open_fds(int *highest)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0, fd;

	CHECK(d != NULL);
	*highest = -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		n++;
		/* Valgrind's own descriptors sit above the program's limit. */
		if (fd > *highest && (rlim_t)fd < fd_limit())
			*highest = fd;
	}
	closedir(d);
	return n;
}

/* Descriptors taken so that only a few are left. */
struct squeeze {
	struct rlimit old;
	int fds[1024];
	int n;
};

/* Leave exactly room descriptors free: the limit set room above the
 * highest open, and every free number below it taken.  (The free numbers
 * below the highest may be none: a CI runner's shell had every one in
 * use.) */
static void squeeze_fds(struct squeeze *s, int room)
{
	struct rlimit low;
	int highest, fd;

	CHECK_INT(getrlimit(RLIMIT_NOFILE, &s->old), ==, 0);
	open_fds(&highest);
	low = s->old;
	low.rlim_cur = (rlim_t)highest + 1 + (rlim_t)room;
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
	s->n = 0;
	while (s->n < (int)SOCK_ARRAY_SIZE(s->fds) &&
	       (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		s->fds[s->n++] = fd;
	CHECK_INT(errno, ==, EMFILE);
	CHECK_INT(s->n, >=, room);
	while (room-- > 0)
		close(s->fds[--s->n]);
}

static void unsqueeze_fds(struct squeeze *s)
{
	while (s->n > 0)
		close(s->fds[--s->n]);
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &s->old), ==, 0);
}

/*
 * The first connection of a thread-mode service makes the worker's job
 * records, with an eventfd.  With the accepted connection taking the last
 * descriptor, that fails: the server must say it ran out of descriptors
 * (-EMFILE), not of memory, close the connection and report its close as
 * it reported its accept, and serve the next one once descriptors are
 * free again.
 */
static void job_records_without_a_descriptor_report_emfile(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct rec_event ev;
	struct squeeze sq;
	struct tserver t;
	struct sock c;
	int index;

	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_THREAD], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 1, 3000));
	/* One descriptor for the client, one for the server's accept. */
	squeeze_fds(&sq, 2);
	client(&c, SOCK_STREAM, addr);
	CHECK(rec_wait(SOCK_EV_ERROR, NULL, 1, 3000));
	unsqueeze_fds(&sq);
	CHECK(rec_find(SOCK_EV_ERROR, 0, &ev));
	CHECK_ERR(ev.err, -EMFILE);
	/* Reported accepted, the connection is reported closed too. */
	CHECK(rec_find(SOCK_EV_CLOSE, 0, &ev));
	CHECK_ERR(ev.err, -EMFILE);
	CHECK(closed_by_server(&c, 3000));
	CHECK_OK(sock_close(&c));
	client(&c, SOCK_STREAM, addr);
	echo_once(&c, "descriptors again");
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(job_records_without_a_descriptor_report_emfile)

/*
 * stop_on_signals blocks SIGINT and SIGTERM and reads them with
 * signalfd.  When that cannot start (no descriptor for the signalfd),
 * run fails with -EMFILE and must give the signal mask back: left
 * blocked, a later Ctrl-C would do nothing.
 */
static void failed_start_gives_the_signal_mask_back(void)
{
	struct sock_server_config cfg = { .stop_on_signals = true };
	sigset_t before, after;
	struct squeeze sq;
	struct tserver t;
	int err;

	ts_new(&t, &cfg);
	ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, "127.0.0.1:0", 0);
	CHECK_INT(pthread_sigmask(SIG_SETMASK, NULL, &before), ==, 0);
	CHECK(!sigismember(&before, SIGINT));
	CHECK(!sigismember(&before, SIGTERM));
	squeeze_fds(&sq, 0);
	err = sock_server_run(t.srv);
	unsqueeze_fds(&sq);
	CHECK_ERR(err, -EMFILE);
	CHECK_INT(pthread_sigmask(SIG_SETMASK, NULL, &after), ==, 0);
	CHECK(!sigismember(&after, SIGINT));
	CHECK(!sigismember(&after, SIGTERM));
	sock_server_free(t.srv);
}
ENGINE_TEST(failed_start_gives_the_signal_mask_back)

/*
 * A connection waits in the backlog when the server stops before it ever
 * waited for events.  Closing the listener hands the kernel an accept
 * (io_uring) that takes the connection as it is cancelled: that
 * connection must be closed, not left open and unseen, its client
 * hanging, once the server is freed.
 */
static void connection_waiting_at_stop_is_closed(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct tserver t;
	struct sock c;
	int before, after, highest, index;

	before = open_fds(&highest);
	ts_new(&t, &cfg);
	index = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0);
	ts_addr(&t, index, addr);
	client(&c, SOCK_STREAM, addr);
	sock_server_stop(t.srv);
	ts_start(&t);
	ts_wait(&t, 3000);
	ts_free(&t);
	CHECK(closed_by_server(&c, 2000));
	CHECK_OK(sock_close(&c));
	after = open_fds(&highest);
	CHECK_INT(after, ==, before);
}
ENGINE_TEST(connection_waiting_at_stop_is_closed)

static const struct test tests[] = {
	TEST_ENGINES(job_records_without_a_descriptor_report_emfile),
	TEST_ENGINES(failed_start_gives_the_signal_mask_back),
	TEST_ENGINES(connection_waiting_at_stop_is_closed),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

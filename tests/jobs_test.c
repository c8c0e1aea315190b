/* SPDX-License-Identifier: MIT */
/* jobs_test.c -- blocking handlers' jobs (server/jobs.c, handlers.c) driven directly */

/*
 * Jobs are made by the loop, run elsewhere (a thread, a pool thread, a
 * child process) and collected by the loop again.  These tests hand jobs
 * to a worker directly (as an accept would) and run its loop on the
 * test's thread until the jobs are collected, so what they check --
 * counts, events, cuts, bounds -- is the jobs' own doing, not a server's
 * around them.  Connections are Unix socket pairs: the test holds the
 * peer's end.
 */

#include "server/jobs.h"
#include "server_util.h"

#include <fcntl.h>
#include <sys/socket.h>

/* ---- a worker with one listener for a service ---- */

struct rig {
	struct sock_server *srv;
	struct sock__worker *w;
	struct sock__listener *l;
	struct sock_timer poll;
	int64_t deadline_ms;
};

static void rig_new(struct rig *r, const struct sock_service *svc,
		    struct sock_server_config *cfg, int type)
{
	struct sock lis;
	char name[64];

	rec_reset();
	cfg->on_event = rec_event;
	CHECK_OK(sock_server_new(&r->srv, cfg));
	r->w = &r->srv->workers[0];
	unix_name(name, sizeof(name));
	CHECK_OK(sock_listen(&lis, type, name, 0, 0));
	CHECK_OK(sock__listener_attach(r->w, svc, &lis, 0));
	r->l = r->w->lis[0];
}

static void rig_free(struct rig *r)
{
	CHECK(sock__jobs_idle(r->w));
	CHECK_INT(r->w->nconns, ==, 0);
	sock_server_free(r->srv);
}

/* A connection for the listener's service, as an accept hands it over;
 * returns the test's end. */
static int accept_one(struct rig *r)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sock pair[2];
	struct sock_addr peer;

	CHECK_OK(sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0));
	CHECK_INT(fcntl(pair[0].fd, F_SETFL, O_NONBLOCK | O_RDWR), ==, 0);
	/* The test's end blocks, for at most 5 s a read. */
	CHECK_INT(fcntl(pair[1].fd, F_SETFL, O_RDWR), ==, 0);
	CHECK_OK(sock_setsockopt_buf(&pair[1], SOL_SOCKET, SO_RCVTIMEO, &tv,
				     sizeof(tv)));
	memset(&peer, 0, sizeof(peer));
	peer.u.un.sun_family = AF_UNIX;
	peer.len = sizeof(sa_family_t);
	CHECK(sock__worker_conn_begin(r->w));
	sock__job_accepted(r->l, pair[0].fd, NULL, &peer);
	return pair[1].fd;
}

static void check_idle(struct sock_timer *t, void *arg)
{
	struct rig *r = arg;

	(void)t;
	if (sock__jobs_idle(r->w) || r->w->loop->now_ms >= r->deadline_ms)
		sock_loop_stop(r->w->loop);
}

/* Run the worker's loop until every job is collected, for at most ms;
 * true if they all were. */
static bool run_until_idle(struct rig *r, int ms)
{
	sock__loop_update_time(r->w->loop);
	r->deadline_ms = r->w->loop->now_ms + ms;
	sock_timer_init(&r->poll, check_idle, r);
	CHECK_OK(sock_timer_start(r->w->loop, &r->poll, 5, 5));
	CHECK_OK(sock_loop_run(r->w->loop));
	sock_timer_stop(r->w->loop, &r->poll);
	return sock__jobs_idle(r->w);
}

/* ---- handlers ---- */

static atomic_int running, finished;

static void echo_handler(struct sock *c, const struct sock_addr *peer,
			 void *data)
{
	atomic_fetch_add(&running, 1);
	blk_echo(c, peer, data);
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&finished, 1);
}

/* Blocks in a receive until its connection ends. */
static void waiting_handler(struct sock *c, const struct sock_addr *peer,
			    void *data)
{
	char byte;

	(void)peer;
	(void)data;
	atomic_fetch_add(&running, 1);
	CHECK_OK(sock_settimeout(c, SOCK_FOREVER));
	while (sock_recv(c, &byte, 1, 0) > 0)
		;
	atomic_fetch_sub(&running, 1);
	atomic_fetch_add(&finished, 1);
}

static void echo_through(int fd, const char *msg)
{
	size_t len = strlen(msg);
	char buf[64];

	CHECK_INT(write(fd, msg, len), ==, (ssize_t)len);
	CHECK_INT(read(fd, buf, sizeof(buf)), ==, (ssize_t)len);
	CHECK(memcmp(buf, msg, len) == 0);
}

/* ---- tests ---- */

static void mode_case(enum sock_mode mode)
{
	const struct sock_service svc = { .name = "echo",
					  .mode = mode,
					  .handle = echo_handler };
	struct sock_server_config cfg = { .pool_threads = 2 };
	struct rig r;
	int fd;

	rig_new(&r, &svc, &cfg, SOCK_STREAM);
	fd = accept_one(&r);
	echo_through(fd, "one job");
	CHECK_INT(shutdown(fd, SHUT_WR), ==, 0);
	CHECK(run_until_idle(&r, 10000));
	CHECK_INT(rec_count(SOCK_EV_CLOSE, NULL), ==, 1);
	close(fd);
	rig_free(&r);
}

/* A connection's job runs its handler (in a thread, a pool thread or a
 * child), and once it returns the loop collects it: one close event, the
 * count back to zero. */
static void thread_job_is_served_and_collected(void)
{
	mode_case(SOCK_MODE_THREAD);
	CHECK_INT(atomic_load(&finished), ==, 1);
}

static void pool_job_is_served_and_collected(void)
{
	mode_case(SOCK_MODE_POOL);
	CHECK_INT(atomic_load(&finished), ==, 1);
}

static void fork_job_is_served_and_reaped(void)
{
	mode_case(SOCK_MODE_FORK);
}

/* A pool of two runs two handlers at a time; the others wait in the
 * queue, in order, and run as earlier ones return. */
static void pool_runs_no_more_than_its_threads(void)
{
	const struct sock_service svc = { .name = "wait",
					  .mode = SOCK_MODE_POOL,
					  .handle = waiting_handler };
	struct sock_server_config cfg = { .pool_threads = 2 };
	struct rig r;
	int fd[5], i;
	long long end;

	rig_new(&r, &svc, &cfg, SOCK_STREAM);
	for (i = 0; i < 5; i++)
		fd[i] = accept_one(&r);
	end = test_now_ms() + 3000;
	while (atomic_load(&running) < 2 && test_now_ms() < end)
		usleep(2000);
	usleep(100000);
	CHECK_INT(atomic_load(&running), ==, 2);
	for (i = 0; i < 5; i++)
		close(fd[i]);
	CHECK(run_until_idle(&r, 10000));
	CHECK_INT(atomic_load(&finished), ==, 5);
	CHECK_INT(rec_count(SOCK_EV_CLOSE, NULL), ==, 5);
	rig_free(&r);
}

/* A stop's grace is over: running handlers' connections are shut down,
 * so their blocked calls fail and they return; each job ends with
 * -ESHUTDOWN. */
static void shutdown_cuts_running_handlers(void)
{
	const struct sock_service svc = { .name = "wait",
					  .mode = SOCK_MODE_THREAD,
					  .handle = waiting_handler };
	struct sock_server_config cfg = { 0 };
	struct rec_event ev;
	struct rig r;
	int fd[3], i;
	long long end;

	rig_new(&r, &svc, &cfg, SOCK_STREAM);
	for (i = 0; i < 3; i++)
		fd[i] = accept_one(&r);
	end = test_now_ms() + 3000;
	while (atomic_load(&running) < 3 && test_now_ms() < end)
		usleep(2000);
	CHECK_INT(atomic_load(&running), ==, 3);
	sock__jobs_shutdown(r.w);
	CHECK(run_until_idle(&r, 10000));
	CHECK_INT(atomic_load(&finished), ==, 3);
	for (i = 0; i < 3; i++) {
		CHECK(rec_find(SOCK_EV_CLOSE, (unsigned int)i, &ev));
		CHECK_ERR(ev.err, -ESHUTDOWN);
		close(fd[i]);
	}
	rig_free(&r);
}

/* A job over the total timeout is cut by the jobs' timer: its
 * connection is shut down and the job ends with -ETIMEDOUT. */
static void total_timeout_cuts_a_job(void)
{
	const struct sock_service svc = { .name = "wait",
					  .mode = SOCK_MODE_THREAD,
					  .handle = waiting_handler };
	struct sock_server_config cfg = { .total_timeout_ms = 200 };
	struct rec_event ev;
	struct rig r;
	int fd;

	rig_new(&r, &svc, &cfg, SOCK_STREAM);
	fd = accept_one(&r);
	CHECK(run_until_idle(&r, 10000));
	CHECK(rec_find(SOCK_EV_CLOSE, 0, &ev));
	CHECK_ERR(ev.err, -ETIMEDOUT);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "total-timeout"), ==, 1);
	close(fd);
	rig_free(&r);
}

static atomic_int dgram_gate;

/* Holds its datagram until the gate opens. */
static void gated_dgram(struct sock *s, const void *msg, size_t len,
			const struct sock_addr *peer, void *data)
{
	(void)s;
	(void)msg;
	(void)len;
	(void)peer;
	(void)data;
	while (!atomic_load(&dgram_gate))
		usleep(1000);
	atomic_fetch_add(&finished, 1);
}

#define DGRAMS 300
#define DGRAM_BOUND DGRAM_JOBS_MAX

/* Datagrams waiting for blocking handlers are bounded: past 256 queued
 * or running, more are dropped and reported, and memory stays put. */
static void datagram_jobs_are_bounded(void)
{
	const struct sock_service svc = { .name = "gated",
					  .mode = SOCK_MODE_POOL,
					  .handle_datagram = gated_dgram };
	struct sock_server_config cfg = { .pool_threads = 4 };
	struct sock_addr peer;
	struct rig r;
	int i;

	rig_new(&r, &svc, &cfg, SOCK_DGRAM);
	memset(&peer, 0, sizeof(peer));
	CHECK_OK(sock_addr_parse(&peer, "127.0.0.1:9999"));
	for (i = 0; i < DGRAMS; i++)
		sock__job_datagram(r.l, "d", 1, &peer);
	CHECK_INT(r.w->jobs->ndgrams, ==, DGRAM_BOUND);
	sock__report_flush(r.w, true);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "datagram-rate"), ==,
		  DGRAMS - DGRAM_BOUND);
	atomic_store(&dgram_gate, 1);
	CHECK(run_until_idle(&r, 10000));
	CHECK_INT(atomic_load(&finished), ==, DGRAM_BOUND);
	rig_free(&r);
}

static atomic_int slow_done;

static void slow_handler(struct sock *c, const struct sock_addr *peer,
			 void *data)
{
	(void)c;
	(void)peer;
	(void)data;
	usleep(200000);
	atomic_store(&slow_done, 1);
}

/* Releasing the jobs (the server is freed) waits for every handler to
 * return: none outlives the server. */
static void release_waits_for_running_handlers(void)
{
	const struct sock_service svc = { .name = "slow",
					  .mode = SOCK_MODE_THREAD,
					  .handle = slow_handler };
	struct sock_server_config cfg = { 0 };
	struct rig r;
	int fd;

	rig_new(&r, &svc, &cfg, SOCK_STREAM);
	fd = accept_one(&r);
	sock__jobs_release(r.w);
	CHECK_INT(atomic_load(&slow_done), ==, 1);
	close(fd);
	r.w->nconns = 0; /* collected by no loop: released directly */
	atomic_store(&r.srv->nconns, 0);
	sock_server_free(r.srv);
}

static const struct test tests[] = {
	TEST(thread_job_is_served_and_collected),
	TEST(pool_job_is_served_and_collected),
	TEST(fork_job_is_served_and_reaped),
	TEST(pool_runs_no_more_than_its_threads),
	TEST(shutdown_cuts_running_handlers),
	TEST(total_timeout_cuts_a_job),
	TEST(datagram_jobs_are_bounded),
	TEST(release_waits_for_running_handlers),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

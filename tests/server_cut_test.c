/* SPDX-License-Identifier: MIT */
/* server_cut_test.c -- a stop or total timeout cuts its job's connection, nothing else */

#include "server_util.h"

#include <linux/sched.h>
#include <sys/stat.h>

/*
 * A blocking handler may let go of its descriptor while it still runs:
 * sock_detach() it and close it, and the number is free for the next
 * socket anyone opens.  The server cuts a job (stop, total timeout) by
 * shutting its connection down; that must reach the job's connection,
 * wherever it went, and never the socket that took the number.
 */

/* What the handler shares with the test (one test per process). */
static struct {
	/* the unrelated socket: the handler moves [0] onto its number */
	struct sock unrelated[2];
	atomic_int reused; /* the number the handler gave up, or -1 */
	atomic_int got;	   /* what recv on the unrelated socket returned */
	atomic_int done;
} cut = { .reused = -1, .got = -2 };

/*
 * Detach, then let the number go to another socket: dup3 closes the
 * connection's descriptor and puts the unrelated socket on its number in
 * one step (a close and an open would let any thread take it between).
 * Then serve the unrelated socket: wait for one byte, answer one.
 */
static void detach_and_reuse(struct sock *c, const struct sock_addr *peer,
			     void *data)
{
	struct pollfd p;
	char b = 0;
	int fd;

	(void)peer;
	(void)data;
	fd = sock_detach(c);
	if (fd < 0 || dup3(cut.unrelated[0].fd, fd, O_CLOEXEC) != fd)
		goto out;
	atomic_store(&cut.reused, fd);
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 10000) == 1)
		atomic_store(&cut.got, (int)recv(fd, &b, 1, 0));
	if (b == 'x' && send(fd, "y", 1, MSG_NOSIGNAL) != 1)
		atomic_store(&cut.got, -3);
	close(fd);
out:
	atomic_store(&cut.done, 1);
}

static const struct sock_service reuse_svc[] = {
	{ .name = "reuse",
	  .mode = SOCK_MODE_THREAD,
	  .handle = detach_and_reuse },
	{ .name = "reuse", .mode = SOCK_MODE_POOL, .handle = detach_and_reuse },
};

enum cut_by { CUT_BY_STOP, CUT_BY_TOTAL_TIMEOUT };

static void wait_flag(atomic_int *flag, int want_not, int ms)
{
	long long end = test_now_ms() + ms;

	while (atomic_load(flag) == want_not && test_now_ms() < end)
		usleep(2000);
	CHECK_INT(atomic_load(flag), !=, want_not);
}

/* The handler is still running, and the unrelated socket untouched. */
static void check_unrelated_untouched(void)
{
	if (atomic_load(&cut.done))
		test_fail(__FILE__, __LINE__,
			  "the handler's socket on number %d ended early: "
			  "recv returned %d, so the cut shut it down",
			  atomic_load(&cut.reused), atomic_load(&cut.got));
}

static void
cut_reaches_the_connection_not_the_reused_number(const struct sock_service *svc,
						 enum cut_by by)
{
	struct sock_server_config cfg = { .grace_ms = 100 };
	char addr[SOCK_ADDR_STRLEN], other[SOCK_ADDR_STRLEN];
	struct sock c, sentinel;
	struct rec_event ev;
	struct tserver t;
	char b;
	int i;

	if (by == CUT_BY_TOTAL_TIMEOUT)
		cfg.total_timeout_ms = 300;
	CHECK_OK(sock_socketpair(cut.unrelated, AF_UNIX, SOCK_STREAM, 0));
	ts_new(&t, &cfg);
	ts_addr(&t, ts_add(&t, svc, SOCK_STREAM, "127.0.0.1:0", 0), addr);
	ts_addr(&t,
		ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM,
		       "127.0.0.1:0", 0),
		other);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	wait_flag(&cut.reused, -1, 5000);
	if (by == CUT_BY_STOP) {
		/* An event connection: the stop closes it just before it
		 * cuts the jobs, in the same timer callback. */
		client(&sentinel, SOCK_STREAM, other);
		echo_once(&sentinel, "up");
		sock_server_stop(t.srv);
		CHECK(closed_by_server(&sentinel, 5000));
		CHECK_OK(sock_close(&sentinel));
		usleep(200000);
	} else {
		/* Reported after the cut. */
		CHECK(rec_wait(SOCK_EV_LIMIT, "total-timeout", 1, 5000));
	}
	check_unrelated_untouched();
	/* The job's connection was cut while its handler still runs. */
	CHECK(closed_by_server(&c, 5000));
	check_unrelated_untouched();
	/* The socket on the number carries a byte each way, and its
	 * handler returns. */
	for (i = 0; i < 2; i++)
		if (sock_send(&cut.unrelated[1], "x", 1, 0) == 1)
			break;
	wait_flag(&cut.done, 0, 5000);
	CHECK_INT(atomic_load(&cut.got), ==, 1);
	CHECK_OK(sock_settimeout(&cut.unrelated[1], 2000));
	CHECK_INT(sock_recv(&cut.unrelated[1], &b, 1, 0), ==, 1);
	CHECK_INT(b, ==, 'y');
	local_text(&c, addr);
	if (by == CUT_BY_TOTAL_TIMEOUT) {
		CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 5000));
		CHECK(rec_find_addr(SOCK_EV_CLOSE, addr, &ev));
		CHECK_ERR(ev.err, -ETIMEDOUT);
		ts_stop(&t, 5000);
	} else {
		ts_wait(&t, 5000);
		CHECK(rec_find_addr(SOCK_EV_CLOSE, addr, &ev));
		CHECK_ERR(ev.err, -ESHUTDOWN);
	}
	ts_free(&t);
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&cut.unrelated[1]));
}

static void stop_cuts_thread_job_not_the_socket_on_its_old_number(void)
{
	cut_reaches_the_connection_not_the_reused_number(&reuse_svc[0],
							 CUT_BY_STOP);
}
ENGINE_TEST(stop_cuts_thread_job_not_the_socket_on_its_old_number)

static void stop_cuts_pool_job_not_the_socket_on_its_old_number(void)
{
	cut_reaches_the_connection_not_the_reused_number(&reuse_svc[1],
							 CUT_BY_STOP);
}
ENGINE_TEST(stop_cuts_pool_job_not_the_socket_on_its_old_number)

static void total_timeout_cuts_thread_job_not_the_socket_on_its_old_number(void)
{
	cut_reaches_the_connection_not_the_reused_number(&reuse_svc[0],
							 CUT_BY_TOTAL_TIMEOUT);
}
ENGINE_TEST(total_timeout_cuts_thread_job_not_the_socket_on_its_old_number)

static void total_timeout_cuts_pool_job_not_the_socket_on_its_old_number(void)
{
	cut_reaches_the_connection_not_the_reused_number(&reuse_svc[1],
							 CUT_BY_TOTAL_TIMEOUT);
}
ENGINE_TEST(total_timeout_cuts_pool_job_not_the_socket_on_its_old_number)

/*
 * Against server.h ("do not close it yourself"), a handler closes its
 * socket without sock_detach and the number goes to another socket
 * before it returns.  Closing the job's connection then must not close
 * or shut down that socket.
 */
static void close_and_reuse(struct sock *c, const struct sock_addr *peer,
			    void *data)
{
	(void)peer;
	(void)data;
	if (dup3(cut.unrelated[0].fd, c->fd, O_CLOEXEC) == c->fd)
		atomic_store(&cut.reused, c->fd);
}

static const struct sock_service close_reuse_svc = {
	.name = "close-reuse",
	.mode = SOCK_MODE_THREAD,
	.handle = close_and_reuse,
};

static void handler_that_closes_without_detach_costs_no_other_socket(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct stat want, got;
	struct tserver t;
	struct sock c;
	char b;
	int fd;

	CHECK_OK(sock_socketpair(cut.unrelated, AF_UNIX, SOCK_STREAM, 0));
	CHECK_INT(fstat(cut.unrelated[0].fd, &want), ==, 0);
	ts_new(&t, &cfg);
	ts_addr(&t, ts_add(&t, &close_reuse_svc, SOCK_STREAM, "127.0.0.1:0", 0),
		addr);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	/* The job ends: its connection is closed. */
	CHECK(closed_by_server(&c, 5000));
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, 1, 5000));
	fd = atomic_load(&cut.reused);
	CHECK_INT(fd, >=, 0);
	/* The number still holds the other socket, open both ways. */
	if (fstat(fd, &got) != 0 || got.st_ino != want.st_ino)
		test_fail(__FILE__, __LINE__,
			  "descriptor %d, the other socket's, was closed", fd);
	CHECK_INT(send(fd, "x", 1, MSG_NOSIGNAL), ==, 1);
	CHECK_OK(sock_settimeout(&cut.unrelated[1], 2000));
	CHECK_INT(sock_recv(&cut.unrelated[1], &b, 1, 0), ==, 1);
	CHECK_INT(sock_send(&cut.unrelated[1], "y", 1, 0), ==, 1);
	CHECK_INT(recv(fd, &b, 1, 0), ==, 1);
	close(fd);
	ts_stop(&t, 5000);
	ts_free(&t);
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&cut.unrelated[1]));
}
ENGINE_TEST(handler_that_closes_without_detach_costs_no_other_socket)

/*
 * A forked handler is cut with SIGTERM (and SIGKILL a second later).  Its
 * pid is its own only until it is reaped, and an application may reap it
 * first (a waitpid(-1) of its own, SIGCHLD ignored): then the kernel may
 * give the pid to an unrelated process, which a signal sent by pid would
 * hit.
 */
static struct {
	int grace_ms;
	atomic_int pid;	   /* the forked handler's */
	int client_fd;	   /* the test's end of its connection */
	atomic_int victim; /* the process that took its pid */
	atomic_int error;  /* why it could not be made */
} fk;

static void send_pid_and_wait(struct sock *c, const struct sock_addr *peer,
			      void *data)
{
	int32_t pid = (int32_t)getpid();
	char b;

	(void)peer;
	(void)data;
	if (sock_sendall(c, &pid, sizeof(pid), NULL, 0) < 0 ||
	    sock_recv(c, &b, 1, 0) < 0)
		return;
}

static const struct sock_service fork_svc = {
	.name = "forked",
	.mode = SOCK_MODE_FORK,
	.handle = send_pid_and_wait,
};

/* A new child of this process with exactly pid (clone3's set_tid needs
 * CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE).  It waits to be killed. */
static pid_t child_with_pid(pid_t pid)
{
	struct clone_args args;
	struct timespec ts = { 20, 0 };
	pid_t tid = pid;
	long r;

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.set_tid = (uint64_t)(uintptr_t)&tid;
	args.set_tid_size = 1;
	r = syscall(SYS_clone3, &args, sizeof(args));
	if (r == 0) {
		nanosleep(&ts, NULL);
		_exit(0);
	}
	return (pid_t)r;
}

/*
 * On the loop, after the stop began: end the forked handler, reap it as
 * the application, have an unrelated process take its pid, and hold the
 * loop past the grace period, so the cut comes as soon as this returns.
 */
static void take_the_pid(struct sock_conn *conn, const void *data, size_t len)
{
	int status;
	pid_t v;

	if (len != 1 || *(const char *)data != 'g') {
		ev_echo_data(conn, data, len);
		return;
	}
	if (send(fk.client_fd, "r", 1, MSG_NOSIGNAL) != 1 ||
	    waitpid(fk.pid, &status, 0) != fk.pid) {
		atomic_store(&fk.error, errno ? errno : EIO);
		return;
	}
	v = child_with_pid(fk.pid);
	if (v < 0)
		atomic_store(&fk.error, errno);
	else
		atomic_store(&fk.victim, v);
	usleep((unsigned int)(fk.grace_ms + 200) * 1000);
}

static const struct sock_service take_pid_svc = {
	.name = "take-pid",
	.on_data = take_the_pid,
};

static void stop_never_signals_a_process_that_reused_the_pid(void)
{
	struct sock_server_config cfg = { .grace_ms = 300,
					  .idle_timeout_ms = 10000 };
	char addr[SOCK_ADDR_STRLEN], other[SOCK_ADDR_STRLEN];
	struct sock c, trigger;
	struct tserver t;
	int32_t pid;
	int status;
	pid_t r, victim;

	fk.grace_ms = cfg.grace_ms;
	ts_new(&t, &cfg);
	ts_addr(&t, ts_add(&t, &fork_svc, SOCK_STREAM, "127.0.0.1:0", 0), addr);
	ts_addr(&t, ts_add(&t, &take_pid_svc, SOCK_STREAM, "127.0.0.1:0", 0),
		other);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_recv_exact(&c, &pid, sizeof(pid), NULL));
	atomic_store(&fk.pid, pid);
	fk.client_fd = c.fd;
	client(&trigger, SOCK_STREAM, other);
	echo_once(&trigger, "p");
	sock_server_stop(t.srv);
	CHECK(rec_wait(SOCK_EV_STOP, NULL, 1, 5000));
	CHECK_OK(sock_sendall(&trigger, "g", 1, NULL, 0));
	ts_wait(&t, 10000);
	ts_free(&t);
	if (atomic_load(&fk.error))
		SKIP("cannot give pid %d to a new process: %s", (int)pid,
		     strerror(atomic_load(&fk.error)));
	victim = atomic_load(&fk.victim);
	CHECK_INT(victim, ==, pid);
	r = waitpid(victim, &status, WNOHANG);
	if (r < 0 && errno == ECHILD)
		test_fail(__FILE__, __LINE__,
			  "pid %d, taken by a process the server never "
			  "started, was ended and reaped by the server",
			  (int)victim);
	if (r == victim)
		test_fail(__FILE__, __LINE__,
			  "pid %d, reused by an unrelated process, ended: %s",
			  (int)victim,
			  WIFSIGNALED(status) ? strsignal(WTERMSIG(status))
					      : "exited");
	CHECK_INT(r, ==, 0);
	CHECK_INT(kill(victim, SIGKILL), ==, 0);
	CHECK_INT(waitpid(victim, &status, 0), ==, victim);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&trigger));
}
ENGINE_TEST(stop_never_signals_a_process_that_reused_the_pid)

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST_ENGINES(
			stop_cuts_thread_job_not_the_socket_on_its_old_number),
		TEST_ENGINES(
			stop_cuts_pool_job_not_the_socket_on_its_old_number),
		TEST_ENGINES(
			total_timeout_cuts_thread_job_not_the_socket_on_its_old_number),
		TEST_ENGINES(
			total_timeout_cuts_pool_job_not_the_socket_on_its_old_number),
		TEST_ENGINES(
			handler_that_closes_without_detach_costs_no_other_socket),
		TEST_ENGINES(stop_never_signals_a_process_that_reused_the_pid),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

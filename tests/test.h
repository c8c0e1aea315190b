/* SPDX-License-Identifier: MIT */
/* test.h -- the unit test harness: each test in a forked child, with an alarm */

/*
 * A test program lists its tests in main:
 *
 *	static const struct test tests[] = {
 *		TEST(parse_rejects_missing_port),
 *	};
 *	int main(int argc, char **argv)
 *	{
 *		return test_main(argc, argv, tests, TEST_COUNT(tests));
 *	}
 *
 * Each test runs in a forked child with an alarm of TEST_TIMEOUT seconds
 * (override with SOCK_TEST_TIMEOUT), so a hang or crash stays inside one
 * test.  A CHECK that fails ends the child with status 1; SKIP ends it with
 * 77.  The program prints one line per test and last a line
 * "RESULT <name> <passed> <failed> <skipped>" that tests/run.sh adds up.
 * An optional argument runs only the tests whose names contain it.
 */

#ifndef SOCK_TEST_H
#define SOCK_TEST_H

#include <sock.h>

#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_TIMEOUT 30
#define TEST_SKIP_STATUS 77

/*
 * Bounds on time are liveness bounds, never speed targets (those are in
 * bench/): CI is a loaded 2-core machine, and the tests run under
 * valgrind and ThreadSanitizer too, many times slower.
 *
 * TEST_WAIT_MS: how long a test waits for what must happen (an event, a
 * close, a refusal).  Only a failing test waits this long.
 * TEST_LATE_MS: how late a call with a timeout (or a server with a
 * timer) may end and still be on time.  A deadline ignored or mistaken
 * for another (a call that blocks, waits for the resolver, or counts in
 * seconds) misses it by more.
 */
#define TEST_WAIT_MS 10000
#define TEST_LATE_MS 5000

struct test {
	const char *name;
	void (*fn)(void);
};

#define TEST(fn)                                                               \
	{                                                                      \
#fn, fn                                                        \
	}
#define TEST_COUNT(t) (sizeof(t) / sizeof((t)[0]))

__attribute__((noreturn, format(printf, 3, 4))) static void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A condition that must hold. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			test_fail(__FILE__, __LINE__, "CHECK(%s) failed",      \
				  #cond);                                      \
	} while (0)

/* Two integers compared with op, both values shown on failure. */
#define CHECK_INT(a, op, b)                                                    \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (!(a_ op b_))                                               \
			test_fail(__FILE__, __LINE__,                          \
				  "%s %s %s: %lld vs %lld", #a, #op, #b, a_,   \
				  b_);                                         \
	} while (0)

/* A libsock call that must succeed (return >= 0); its code is named if
 * not. */
#define CHECK_OK(expr)                                                         \
	do {                                                                   \
		long long r_ = (long long)(expr);                              \
		if (r_ < 0)                                                    \
			test_fail(__FILE__, __LINE__, "%s: %lld (%s)", #expr,  \
				  r_, sock_strerror((int)r_));                 \
	} while (0)

/* A libsock call that must fail with exactly code. */
#define CHECK_ERR(expr, code)                                                  \
	do {                                                                   \
		long long r_ = (long long)(expr), c_ = (long long)(code);      \
		if (r_ != c_)                                                  \
			test_fail(__FILE__, __LINE__,                          \
				  "%s: got %lld (%s), want %s (%lld)", #expr,  \
				  r_, sock_strerror((int)r_), #code, c_);      \
	} while (0)

/* Two NUL-terminated strings that must be equal. */
#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (strcmp(a_, b_) != 0)                                       \
			test_fail(__FILE__, __LINE__, "%s: \"%s\" != \"%s\"",  \
				  #a, a_, b_);                                 \
	} while (0)

/* End the test as skipped, saying why. */
#define SKIP(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "    skip: ");                                 \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(TEST_SKIP_STATUS);                                        \
	} while (0)

/* Milliseconds on CLOCK_MONOTONIC, for measuring how long a call took. */
static inline long long test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int test_timeout(void)
{
	const char *env = getenv("SOCK_TEST_TIMEOUT");
	int t = env ? atoi(env) : 0;

	return t > 0 ? t : TEST_TIMEOUT;
}

/* A lookup abandoned at its deadline finishes in its own thread: wait
 * (up to 10 s) for such threads to end, so that a leak check at exit
 * finds none of them still running. */
static void test_settle(void)
{
	int i;

	for (i = 0; i < 1000 && sock__resolve_threads() > 0; i++)
		usleep(10000);
}

/* Threads of this process, as the kernel counts them: one that has
 * ended is gone, joined or not. */
static inline int test_threads(void)
{
	struct dirent *e;
	int n = 0;
	DIR *d;

	d = opendir("/proc/self/task");
	CHECK(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void *test_no_op(void *arg)
{
	return arg;
}

/*
 * The threads this process has before a test starts its own.  A
 * sanitizer may start threads of its own, and ThreadSanitizer starts
 * one at the first pthread_create of a process: one thread is started
 * and joined first, so that the count includes them.
 */
static inline int test_threads_base(void)
{
	pthread_t t;

	CHECK_INT(pthread_create(&t, NULL, test_no_op, NULL), ==, 0);
	CHECK_INT(pthread_join(t, NULL), ==, 0);
	return test_threads();
}

/* Wait (at most 20 s) until the process is back to base threads: an
 * abandoned lookup worker, say, has finished. */
static inline void test_wait_threads(int base)
{
	int i;

	for (i = 0; i < 2000 && test_threads() > base; i++)
		usleep(10000);
	CHECK_INT(test_threads(), ==, base);
}

/* Run one test in a child; return 0 pass, 1 fail, 2 skip. */
static int test_run_one(const struct test *t)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		alarm((unsigned int)test_timeout());
		t->fn();
		test_settle();
		exit(0);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			return 1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_SKIP_STATUS)
		return 2;
	if (WIFSIGNALED(status))
		fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(status),
			WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
	return 1;
}

static int test_main(int argc, char **argv, const struct test *tests,
		     size_t count)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	const char *name = strrchr(argv[0], '/');
	static const char *const label[] = { "PASS", "FAIL", "SKIP" };
	int total[3] = { 0, 0, 0 }, r;
	size_t i;

	name = name ? name + 1 : argv[0];
	for (i = 0; i < count; i++) {
		if (only && !strstr(tests[i].name, only))
			continue;
		r = test_run_one(&tests[i]);
		total[r]++;
		printf("%s %s.%s\n", label[r], name, tests[i].name);
		fflush(stdout);
	}
	printf("RESULT %s %d %d %d\n", name, total[0], total[1], total[2]);
	return total[1] ? 1 : 0;
}

#endif /* SOCK_TEST_H */

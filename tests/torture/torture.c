/* SPDX-License-Identifier: MIT */
/* torture.c -- the torture program: runs one scenario and gives its verdict */

/*
 * usage: torture list          the scenarios, one per line ("skip NAME
 *                              WHY" for those this machine cannot run)
 *        torture NAME          run scenario NAME once, with the failure
 *                              TORTURE_FAIL names (shim.h), and print
 *                              the calls counted and the verdict
 *
 * The exit status is 0 for a clean run (correct result, or a clean error,
 * or a clean recovery), 1 for a defect the scenario saw, 2 for a usage
 * error; the sanitizers exit with their own statuses.  tests/torture/walk.sh
 * drives it over every injection point.
 */

#include "torture.h"

#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A scenario is ended by SIGALRM (a hang) after this long. */
#define SCENARIO_ALARM_S 60
/* Descriptors above this are not expected in a scenario. */
#define FDS_MAX 1024

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void run_error(struct run *r, const char *where, int code)
{
	pthread_mutex_lock(&r->lock);
	if (r->nerr < sizeof(r->err) / sizeof(r->err[0])) {
		snprintf(r->err[r->nerr].where, sizeof(r->err[0].where), "%s",
			 where);
		r->err[r->nerr].code = code;
		r->nerr++;
	}
	pthread_mutex_unlock(&r->lock);
}

void run_bad(struct run *r, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&r->lock);
	if (!r->bad[0]) {
		va_start(ap, fmt);
		vsnprintf(r->bad, sizeof(r->bad), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&r->lock);
}

void run_done(struct run *r)
{
	pthread_mutex_lock(&r->lock);
	r->done = true;
	pthread_mutex_unlock(&r->lock);
}

bool uring_available(const struct scenario *sc)
{
	struct sock_loop *loop;
	bool ok;

	(void)sc;
	if (sock_loop_new(&loop, SOCK_ENGINE_URING))
		return false;
	ok = sock_loop_engine(loop) == SOCK_ENGINE_URING;
	sock_loop_free(loop);
	return ok;
}

/* ---- descriptors ---- */

struct fds {
	bool open[FDS_MAX];
	int beyond; /* descriptors at or past FDS_MAX */
};

static void fds_read(struct fds *f)
{
	struct dirent *e;
	DIR *d;
	int fd;

	memset(f, 0, sizeof(*f));
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		if (fd >= 0 && fd < FDS_MAX)
			f->open[fd] = true;
		else
			f->beyond++;
	}
	closedir(d);
}

/* Describe the first difference between before and after into buf;
 * false if there is none. */
static bool fds_differ(const struct fds *before, const struct fds *after,
		       char *buf, size_t size)
{
	char path[64], target[PATH_MAX];
	ssize_t n;
	int fd;

	for (fd = 0; fd < FDS_MAX; fd++) {
		if (before->open[fd] == after->open[fd])
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		snprintf(buf, size, "descriptor %d %s (%s)", fd,
			 after->open[fd] ? "left open" : "closed", target);
		return true;
	}
	if (before->beyond != after->beyond) {
		snprintf(buf, size,
			 "%d descriptors past %d at the start, %d "
			 "at the end",
			 before->beyond, FDS_MAX, after->beyond);
		return true;
	}
	return false;
}

/* ---- the verdict ---- */

static const char *code_name(int code, char *buf, size_t size)
{
	snprintf(buf, size, "%d (%s)", code, sock_strerror(code));
	return buf;
}

/* Print the verdict; returns the exit status. */
static int verdict(struct run *r, const char *fd_diff)
{
	char a[96], b[96];
	unsigned int i;

	if (r->bad[0]) {
		printf("torture: verdict FAIL: %s\n", r->bad);
		return 1;
	}
	if (fd_diff) {
		printf("torture: verdict FAIL: %s\n", fd_diff);
		return 1;
	}
	for (i = 0; i < r->nerr; i++) {
		if (torture_code_ok(r->err[i].code))
			continue;
		if (!torture_fired())
			printf("torture: verdict FAIL: %s reported %s with "
			       "nothing injected\n",
			       r->err[i].where,
			       code_name(r->err[i].code, a, sizeof(a)));
		else
			printf("torture: verdict FAIL: %s reported %s, but "
			       "the failure injected is %s\n",
			       r->err[i].where,
			       code_name(r->err[i].code, a, sizeof(a)),
			       code_name(torture_code(), b, sizeof(b)));
		return 1;
	}
	if (!r->done && !r->nerr) {
		printf("torture: verdict FAIL: the work failed and no error "
		       "was reported\n");
		return 1;
	}
	if (!r->done) {
		printf("torture: verdict clean-error: %s reported %s\n",
		       r->err[0].where,
		       code_name(r->err[0].code, a, sizeof(a)));
		return 0;
	}
	printf("torture: verdict %s\n",
	       torture_fired() ? "recovered" : "correct");
	return 0;
}

/* ---- the scenarios ---- */

static const struct {
	const struct scenario *v;
	const size_t *n;
} tables[] = {
	{ serve_scenarios, &serve_scenarios_count },
	{ client_scenarios, &client_scenarios_count },
	{ connect_scenarios, &connect_scenarios_count },
	{ tls_scenarios, &tls_scenarios_count },
};

static const struct scenario *find(const char *name)
{
	size_t t, i;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (i = 0; i < *tables[t].n; i++)
			if (!strcmp(tables[t].v[i].name, name))
				return &tables[t].v[i];
	return NULL;
}

static int list(void)
{
	const struct scenario *sc;
	size_t t, i;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (i = 0; i < *tables[t].n; i++) {
			sc = &tables[t].v[i];
			if (sc->available && !sc->available(sc))
				printf("skip %s io_uring unavailable\n",
				       sc->name);
			else
				printf("%s\n", sc->name);
		}
	}
	return 0;
}

/* Lookup threads abandoned at a deadline hold a descriptor until their
 * getaddrinfo returns: wait for them (bounded) before counting. */
static void wait_resolvers(void)
{
	int i;

	for (i = 0; i < 500 && sock__resolve_threads() > 0; i++)
		usleep(10000);
}

static int run_one(const struct scenario *sc)
{
	struct fds before, after;
	char diff[PATH_MAX + 128];
	struct run r;
	int status;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.lock, NULL);
	printf("torture: scenario %s\n", sc->name);
	fflush(stdout);
	fds_read(&before);
	if (torture_start())
		return 2;
	alarm(SCENARIO_ALARM_S);
	sc->run(sc, &r);
	alarm(0);
	wait_resolvers();
	fds_read(&after);
	torture_report(stdout);
	status = verdict(&r, fds_differ(&before, &after, diff, sizeof(diff))
				     ? diff
				     : NULL);
	fflush(stdout);
	pthread_mutex_destroy(&r.lock);
	return status;
}

int main(int argc, char **argv)
{
	const struct scenario *sc;

	/* The scenarios' peers may close early: a send must not kill. */
	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && !strcmp(argv[1], "list"))
		return list();
	if (argc != 2) {
		fprintf(stderr, "usage: torture list | torture SCENARIO\n");
		return 2;
	}
	sc = find(argv[1]);
	if (!sc) {
		fprintf(stderr, "torture: no scenario '%s'\n", argv[1]);
		return 2;
	}
	if (sc->available && !sc->available(sc)) {
		printf("torture: scenario %s skipped: io_uring unavailable\n",
		       sc->name);
		return 77;
	}
	return run_one(sc);
}

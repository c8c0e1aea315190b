/* SPDX-License-Identifier: MIT */
/* server.c -- sock serve as the adversary's child: start, ports, memory, stop */

#include "adversary.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a server may take to start, and to stop after SIGTERM (its
 * grace period is 2 s; the attackers are gone by then). */
#define START_MS 10000
#define STOP_MS 5000

/* The child: its namespace, its limit, its log; then sock serve. */
static void child(const struct adv *a, const struct server *s,
		  const char *const *argv, long nofile, const char *netns)
{
	struct rlimit rl = { (rlim_t)nofile, (rlim_t)nofile };
	int fd;

	/* Should the adversary die, its server goes with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (netns) {
		fd = open(netns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(126);
	}
	if (nofile > 0 && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		_exit(126);
	fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		_exit(126);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(126);
	/* The log's lines begin with a time stamp unless under systemd. */
	unsetenv("JOURNAL_STREAM");
	unsetenv("LISTEN_FDS");
	execv(a->sock, (char *const *)argv);
	_exit(127);
}

/* Read the log's engine, listen and descriptor-limit lines; the number of
 * listen lines. */
static unsigned int parse_log(struct server *s)
{
	char line[512], word[32], name[16], transport[16], addr[128];
	unsigned int listens = 0, cap;
	FILE *f = fopen(s->log, "r");
	const char *colon;
	size_t i;

	if (!f)
		return 0;
	s->nsvc = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s engine %31s", word) == 1)
			snprintf(s->engine, sizeof(s->engine), "%s", word);
		if (sscanf(line, "%*s limit descriptors %*u: at most %u",
			   &cap) == 1)
			s->cap = cap;
		if (sscanf(line, "%*s listen %15s %15s %127s", name, transport,
			   addr) != 3)
			continue;
		listens++;
		colon = strrchr(addr, ':');
		for (i = 0; i < s->nsvc && strcmp(s->svc[i].name, name); i++)
			;
		if (i == s->nsvc && s->nsvc < SERVER_SVCS)
			snprintf(s->svc[s->nsvc++].name, sizeof(s->svc[0].name),
				 "%s", name);
		if (i < s->nsvc && colon && !strcmp(transport, "tcp"))
			s->svc[i].tcp = atoi(colon + 1);
		else if (i < s->nsvc && colon && !strcmp(transport, "udp"))
			s->svc[i].udp = atoi(colon + 1);
	}
	fclose(f);
	return listens;
}

int server_start(const struct adv *a, struct server *s, const char *scen,
		 const char *const *args, unsigned int listens, long nofile,
		 const char *netns)
{
	const char *argv[32] = { a->sock, "serve", "--engine", a->engine };
	size_t n = 4;
	int64_t deadline = now_us() + (int64_t)START_MS * 1000;
	int status;

	memset(s, 0, sizeof(*s));
	snprintf(s->log, sizeof(s->log), "%s/%s-%s.log", a->tmp, a->engine,
		 scen);
	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	/* Not an earlier run's log, read before the child writes its own. */
	unlink(s->log);
	fflush(stdout);
	s->pid = fork();
	if (s->pid < 0) {
		check(scen, "server_starts", false, "fork: %s",
		      strerror(errno));
		return -1;
	}
	if (s->pid == 0)
		child(a, s, argv, nofile, netns);
	while (parse_log(s) < listens && now_us() < deadline) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			break;
		}
		sleep_ms(10);
	}
	if (s->pid > 0 && parse_log(s) >= listens)
		return 0;
	check(scen, "server_starts", false, "no %u listen lines in %s", listens,
	      s->log);
	server_stop(s, scen);
	return -1;
}

int server_port(const struct server *s, const char *name, bool udp)
{
	size_t i;

	for (i = 0; i < s->nsvc; i++)
		if (!strcmp(s->svc[i].name, name))
			return udp ? s->svc[i].udp : s->svc[i].tcp;
	return 0;
}

bool server_alive(const struct server *s)
{
	int status;

	return s->pid > 0 && waitpid(s->pid, &status, WNOHANG) == 0;
}

int server_log_count(const struct server *s, const char *text)
{
	FILE *f = fopen(s->log, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, text))
			n++;
	fclose(f);
	return n;
}

/* How the server ended, in words; true for exit status 0. */
static bool ended_well(int status, char *why, size_t size)
{
	if (WIFEXITED(status))
		snprintf(why, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, size, "status %#x", status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void server_stop(struct server *s, const char *scen)
{
	int64_t deadline = now_us() + (int64_t)STOP_MS * 1000;
	int status = 0, sanitizer;
	bool gone = false, ok;
	char why[64];

	if (s->pid <= 0)
		return;
	/* Still running: a server that died under the attack ends here. */
	if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
		ended_well(status, why, sizeof(why));
		check(scen, "server_survives", false, "it ended by itself: %s",
		      why);
		s->pid = 0;
		return;
	}
	kill(s->pid, SIGTERM);
	while (now_us() < deadline && !gone) {
		gone = waitpid(s->pid, &status, WNOHANG) == s->pid;
		if (!gone)
			sleep_ms(10);
	}
	if (!gone) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
		snprintf(why, sizeof(why), "still running %d ms after SIGTERM",
			 STOP_MS);
		ok = false;
	} else {
		ok = ended_well(status, why, sizeof(why));
	}
	s->pid = 0;
	sanitizer = server_log_count(s, "Sanitizer") +
		    server_log_count(s, "runtime error:");
	check(scen, "server_stops_cleanly", ok && !sanitizer,
	      "%s; %d sanitizer lines in %s", why, sanitizer, s->log);
}

/* A "Key:   N kB" line of /proc; -1 when absent. */
static long proc_kib(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	size_t klen = strlen(key);
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long server_rss_kib(const struct server *s)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)s->pid);
	return proc_kib(path, "VmRSS");
}

int server_fds(const struct server *s)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)s->pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

int server_wait_fds(const struct server *s, int want, int ms)
{
	int64_t deadline = now_us() + (int64_t)ms * 1000;
	int n = server_fds(s);

	while (n > want && now_us() < deadline) {
		sleep_ms(10);
		n = server_fds(s);
	}
	return n;
}

/*
 * The io_uring engine's stream receive buffers are one anonymous mapping
 * of 1024 x 16 KiB (src/engine/uring_conn.c): its resident size is the
 * most buffers that were out of the free stack at once, since free
 * buffers are reused last-in first-out and their pages never given back.
 */
#define RXBUFS_KIB 16384

long server_rxbufs_kib(const struct server *s)
{
	unsigned long lo, hi;
	long size = 0, rss, found = -1;
	char path[64], line[512];
	bool anon = false;
	int off;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)s->pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* "start-end perms offset dev inode [path]" opens a
		 * mapping; without a path it is anonymous. */
		off = 0;
		if (sscanf(line, "%lx-%lx %*s %*x %*x:%*x %*u %n", &lo, &hi,
			   &off) == 2 &&
		    off > 0) {
			anon = line[off] == '\0' || line[off] == '\n';
			size = (long)((hi - lo) / 1024);
			continue;
		}
		if (anon && size == RXBUFS_KIB &&
		    sscanf(line, "Rss: %ld kB", &rss) == 1)
			found = found < 0 ? rss : found + rss;
	}
	fclose(f);
	return found;
}

/*
 * What the server may keep after an attack has left: its RSS at the
 * baseline, measured before the attack in the same run, plus
 * max(8 MiB, 50%).  The margin is for what is legitimately kept: the
 * allocator's free lists and trim threshold (128 KiB per arena), the
 * connection slab grown to the attack's size (hundreds of bytes a
 * connection), stacks and pages touched once.  It is far below what the
 * attacks cost when nothing comes back: 200 non-readers held at 256 KiB
 * each are 50 MiB, and the io_uring engine's receive buffers, once all
 * touched, are 16 MiB.
 */
long rss_margin_kib(long base_kib)
{
	long half = base_kib / 2;

	return half > 8192 ? half : 8192;
}

void rss_check(const struct adv *a, const char *scen, long base_kib,
	       long after_kib)
{
	long limit = base_kib + rss_margin_kib(base_kib);

	/* ASan's allocator keeps freed memory in quarantine, and its own
	 * pools: the RSS is not the program's. */
	if (a->sanitized) {
		skip(scen, "rss_comes_back",
		     "a sanitizer's allocator keeps freed memory "
		     "(%ld KiB after, baseline %ld KiB)",
		     after_kib, base_kib);
		return;
	}
	check(scen, "rss_comes_back",
	      base_kib > 0 && after_kib > 0 && after_kib <= limit,
	      "RSS %ld KiB after the attack left, above baseline %ld "
	      "KiB + margin %ld KiB",
	      after_kib, base_kib, rss_margin_kib(base_kib));
}

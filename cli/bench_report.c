/* SPDX-License-Identifier: MIT */
/* bench_report.c -- sock bench: watching the server, the progress line, the summary */

#include "bench_report.h"
#include "cli.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the server, through /proc ---- */

/*
 * Fields 4 (ppid) and 14-17 (utime, stime, cutime, cstime) of
 * /proc/PID/stat.  The command name (field 2) may hold spaces and
 * parentheses, so counting starts after its last ')'.
 */
static int read_stat(int pid, int *ppid, uint64_t *self, uint64_t *reaped)
{
	char path[64], buf[1024], *p, *end;
	unsigned long long f[18];
	size_t n;
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2; /* field 3, the state */
	while (*p && *p != ' ')
		p++;
	for (i = 4; i <= 17; i++) {
		f[i] = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	*ppid = (int)f[4];
	*self = f[14] + f[15];
	*reaped = f[16] + f[17];
	return 0;
}

/* CPU time a living child has used: the sum over its threads of
 * /proc/PID/task/TID/schedstat's first field, in nanoseconds. */
static uint64_t child_ns(const char *pid)
{
	char path[300], buf[128];
	struct dirent *de;
	uint64_t ns = 0;
	FILE *fp;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%s/schedstat", pid,
			 de->d_name);
		fp = fopen(path, "re");
		if (!fp)
			continue;
		if (fgets(buf, sizeof(buf), fp))
			ns += strtoull(buf, NULL, 10);
		fclose(fp);
	}
	closedir(d);
	return ns;
}

/*
 * The process's own time (all its threads, living or gone), its reaped
 * children's, and its living children's: a server that forks per
 * connection (xinetd) is charged for them too.  The living children are
 * read in nanoseconds: /proc/PID/stat counts whole clock ticks per
 * process, and fifty children of a few milliseconds each would add up
 * to nothing.
 */
void bench_server_sample(const struct bench_server *srv, struct bench_cpu *out)
{
	uint64_t self, reaped, cself, creaped;
	long tck = sysconf(_SC_CLK_TCK);
	struct dirent *de;
	int ppid;
	DIR *d;

	out->ok = false;
	if (!srv->pid || tck <= 0 || read_stat(srv->pid, &ppid, &self, &reaped))
		return;
	out->ns = (self + reaped) * (1000000000u / (uint64_t)tck);
	out->ok = true;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (!read_stat(atoi(de->d_name), &ppid, &cself, &creaped) &&
		    ppid == srv->pid)
			out->ns += child_ns(de->d_name);
	}
	closedir(d);
}

static long read_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kb;
}

static long count_fds(int pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

void bench_server_init(struct bench_server *srv, int pid)
{
	memset(srv, 0, sizeof(*srv));
	srv->pid = pid;
	srv->rss_before_kb = srv->rss_after_kb = -1;
	if (!pid)
		return;
	srv->rss_before_kb = read_rss_kb(pid);
	srv->fds_before = count_fds(pid);
}

void bench_server_hold_sample(const struct bench_opts *o,
			      const struct bench_worker *w,
			      struct bench_server *srv)
{
	int64_t now = bench_now_ns();
	bool last = now >= w[0].end_ns;
	uint64_t open = 0;
	unsigned int i;
	long fds;

	if (!srv->pid || srv->hold_done)
		return;
	for (i = 0; i < o->threads; i++)
		open += bench_hold_open(&w[i]);
	if (open < o->conns && !last)
		return;
	/* The server has accepted them when it holds a descriptor for
	 * each; a server that gives up waiting (or uses none) is read
	 * after 5 s. */
	fds = count_fds(srv->pid);
	if (!srv->settled_ns)
		srv->settled_ns = now;
	if (fds < srv->fds_before + (long)open && !last &&
	    now - srv->settled_ns < 5000000000)
		return;
	/* Let it finish what the last accepts started. */
	if (now - srv->settled_ns < 300000000 && !last)
		return;
	srv->rss_after_kb = read_rss_kb(srv->pid);
	srv->fds_after = fds;
	srv->held = open;
	srv->hold_done = true;
}

/* ---- progress and summary ---- */

static void add_up(const struct bench_opts *o, const struct bench_worker *w,
		   struct bench_stats *sum, bool with_hist)
{
	unsigned int i;

	memset(sum, 0, sizeof(*sum));
	bench_hist_reset(&sum->hist);
	for (i = 0; i < o->threads; i++) {
		const struct bench_stats *s = &w[i].stats;

		sum->ops += __atomic_load_n(&s->ops, __ATOMIC_RELAXED);
		sum->bytes += __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
		sum->errors += __atomic_load_n(&s->errors, __ATOMIC_RELAXED);
		if (!with_hist)
			continue;
		sum->lost += s->lost;
		sum->late += s->late;
		sum->mismatches += s->mismatches;
		sum->established += s->established;
		bench_hist_merge(&sum->hist, &s->hist);
		if (!sum->error[0] && s->error[0])
			memcpy(sum->error, s->error, sizeof(sum->error));
	}
}

static const char *op_name(enum bench_mode mode)
{
	switch (mode) {
	case BENCH_PINGPONG:
		return "messages";
	case BENCH_CONNRATE:
	case BENCH_HOLD:
		return "connections";
	case BENCH_UDP:
		return "requests";
	default:
		return "transfers";
	}
}

static const char *op_singular(enum bench_mode mode)
{
	switch (mode) {
	case BENCH_PINGPONG:
		return "message";
	case BENCH_UDP:
		return "request";
	default:
		return "connection";
	}
}

static bool is_bulk(enum bench_mode mode)
{
	return mode == BENCH_BULK_SEND || mode == BENCH_BULK_RECV;
}

void bench_show_progress(const struct bench_opts *o,
			 const struct bench_worker *w, int64_t now)
{
	static struct bench_stats sum; /* the supervisor's own, 36 KiB */
	double t = (double)(now - w[0].measure_ns) / 1e9;

	add_up(o, w, &sum, false);
	if (o->mode == BENCH_HOLD) {
		uint64_t open = 0;
		unsigned int i;

		for (i = 0; i < o->threads; i++)
			open += bench_hold_open(&w[i]);
		fprintf(stderr, "\r\033[Khold %s: %llu of %u open, %.1f s",
			o->target, (unsigned long long)open, o->conns,
			(double)(now - w[0].start_ns) / 1e9);
	} else if (t < 0) {
		fprintf(stderr, "\r\033[K%s %s: warming up, %.1f s",
			bench_mode_name(o->mode), o->target, -t);
	} else if (t > 0) {
		fprintf(stderr,
			"\r\033[K%s %s: %.1f / %.1f s  %.0f %s/s  %.1f MB/s  "
			"errors %llu",
			bench_mode_name(o->mode), o->target, t,
			(double)o->duration_ns / 1e9, (double)sum.ops / t,
			op_name(o->mode), (double)sum.bytes / t / 1e6,
			(unsigned long long)sum.errors);
	}
}

/* Figures derived once for both kinds of output. */
struct figures {
	double secs, ops_s, mb_s;
	double p50, p99, p999, min, max, mean; /* microseconds */
	bool have_cpu, have_mem;
	double cpu_s, cpu_us_op, cpu_util, cpu_us_mb;
	double mem_per_conn;
};

static void derive(const struct bench_opts *o, const struct bench_stats *s,
		   const struct bench_server *srv, struct figures *f)
{
	const struct bench_hist *h = &s->hist;

	memset(f, 0, sizeof(*f));
	f->secs = (double)srv->window_ns / 1e9;
	if (f->secs > 0) {
		f->ops_s = (double)s->ops / f->secs;
		f->mb_s = (double)s->bytes / f->secs / 1e6;
	}
	if (h->count) {
		f->p50 = (double)bench_hist_quantile(h, 0.5) / 1e3;
		f->p99 = (double)bench_hist_quantile(h, 0.99) / 1e3;
		f->p999 = (double)bench_hist_quantile(h, 0.999) / 1e3;
		f->min = (double)h->min_ns / 1e3;
		f->max = (double)h->max_ns / 1e3;
		f->mean = (double)h->sum_ns / (double)h->count / 1e3;
	}
	/* A child that exited between the samples and is not reaped yet
	 * is missing from the second: then there is no figure. */
	f->have_cpu = srv->cpu_before.ok && srv->cpu_after.ok &&
		      srv->cpu_after.ns >= srv->cpu_before.ns &&
		      o->mode != BENCH_HOLD;
	if (f->have_cpu) {
		f->cpu_s =
			(double)(srv->cpu_after.ns - srv->cpu_before.ns) / 1e9;
		f->cpu_us_op = s->ops ? f->cpu_s * 1e6 / (double)s->ops : 0;
		f->cpu_us_mb = s->bytes ? f->cpu_s * 1e12 / (double)s->bytes
					: 0;
		f->cpu_util = f->secs > 0 ? f->cpu_s / f->secs : 0;
	}
	f->have_mem = srv->hold_done && srv->rss_before_kb >= 0 &&
		      srv->rss_after_kb >= 0 && srv->held;
	if (f->have_mem)
		f->mem_per_conn =
			(double)(srv->rss_after_kb - srv->rss_before_kb) *
			1024.0 / (double)srv->held;
}

static void print_json(const struct bench_opts *o, const struct bench_stats *s,
		       const struct bench_server *srv, const struct figures *f)
{
	printf("{\"mode\":\"%s\",\"target\":\"", bench_mode_name(o->mode));
	for (const char *p = o->target; *p; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		if ((unsigned char)*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	printf("\",\"connections\":%u,\"size\":%u,\"inflight\":%u,"
	       "\"threads\":%u,\"duration_s\":%.3f,\"warmup_s\":%.3f,",
	       o->conns, o->size, o->inflight, o->threads, f->secs,
	       (double)o->warmup_ns / 1e9);
	printf("\"ops\":%llu,\"ops_per_s\":%.1f,\"bytes\":%llu,"
	       "\"mb_per_s\":%.3f,\"gb_per_s\":%.4f,",
	       (unsigned long long)s->ops, f->ops_s,
	       (unsigned long long)s->bytes, f->mb_s, f->mb_s / 1e3);
	printf("\"errors\":%llu,\"mismatches\":%llu,\"lost\":%llu,"
	       "\"late\":%llu,\"established\":%llu,",
	       (unsigned long long)s->errors, (unsigned long long)s->mismatches,
	       (unsigned long long)s->lost, (unsigned long long)s->late,
	       (unsigned long long)s->established);
	printf("\"latency_us\":{\"samples\":%llu,\"min\":%.2f,\"mean\":%.2f,"
	       "\"p50\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f},",
	       (unsigned long long)s->hist.count, f->min, f->mean, f->p50,
	       f->p99, f->p999, f->max);
	printf("\"server\":");
	if (!srv->pid) {
		printf("null");
	} else {
		printf("{\"pid\":%d", srv->pid);
		if (f->have_cpu)
			printf(",\"cpu_s\":%.3f,\"cpu_us_per_op\":%.4f,"
			       "\"cpu_us_per_mb\":%.4f,\"cpu_util\":%.4f",
			       f->cpu_s, f->cpu_us_op, f->cpu_us_mb,
			       f->cpu_util);
		if (f->have_mem)
			printf(",\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,"
			       "\"held\":%llu,\"bytes_per_conn\":%.1f",
			       srv->rss_before_kb, srv->rss_after_kb,
			       (unsigned long long)srv->held, f->mem_per_conn);
		printf("}");
	}
	printf(",\"error\":");
	if (s->error[0]) {
		putchar('"');
		for (const char *p = s->error; *p; p++) {
			if (*p == '"' || *p == '\\')
				putchar('\\');
			putchar((unsigned char)*p < 0x20 ? ' ' : *p);
		}
		putchar('"');
	} else {
		printf("null");
	}
	printf("}\n");
}

/* Latency in the unit that reads best. */
static const char *dur(char *buf, size_t size, double us)
{
	if (us >= 1e6)
		snprintf(buf, size, "%.2f s", us / 1e6);
	else if (us >= 1e3)
		snprintf(buf, size, "%.2f ms", us / 1e3);
	else
		snprintf(buf, size, "%.1f us", us);
	return buf;
}

static void print_text(const struct bench_opts *o, const struct bench_stats *s,
		       const struct bench_server *srv, const struct figures *f)
{
	char a[32], b[32], c[32], d[32];

	printf("%s %s: ", bench_mode_name(o->mode), o->target);
	if (o->mode == BENCH_CONNRATE)
		printf("%u connections in flight", o->inflight);
	else
		printf("%u %s", o->conns,
		       o->mode == BENCH_UDP ? "sockets" : "connections");
	if (o->mode == BENCH_PINGPONG || o->mode == BENCH_UDP)
		printf(", %u B each, %u in flight each", o->size, o->inflight);
	printf(", %.2f s measured after %.2f s warm-up, %u thread%s\n", f->secs,
	       (double)o->warmup_ns / 1e9, o->threads,
	       o->threads == 1 ? "" : "s");
	if (o->mode == BENCH_HOLD) {
		printf("  held       %llu of %u connections\n",
		       (unsigned long long)s->established, o->conns);
	} else if (is_bulk(o->mode)) {
		printf("  transfer   %.3f GB in %.2f s: %.3f GB/s\n",
		       (double)s->bytes / 1e9, f->secs, f->mb_s / 1e3);
	} else {
		printf("  %-10s %llu (%.0f/s), %.2f MB/s\n", op_name(o->mode),
		       (unsigned long long)s->ops, f->ops_s, f->mb_s);
	}
	if (s->hist.count)
		printf("  latency    p50 %s  p99 %s  p99.9 %s  max %s\n",
		       dur(a, sizeof(a), f->p50), dur(b, sizeof(b), f->p99),
		       dur(c, sizeof(c), f->p999), dur(d, sizeof(d), f->max));
	if (o->mode == BENCH_UDP)
		printf("  lost       %llu (%.3f%%), %llu answered late\n",
		       (unsigned long long)s->lost,
		       s->ops + s->lost ? 100.0 * (double)s->lost /
						  (double)(s->ops + s->lost)
					: 0.0,
		       (unsigned long long)s->late);
	if (f->have_cpu && is_bulk(o->mode))
		printf("  server     pid %d: %.1f us CPU per MB, %.0f%% of a "
		       "core\n",
		       srv->pid, f->cpu_us_mb, f->cpu_util * 100);
	else if (f->have_cpu)
		printf("  server     pid %d: %.2f us CPU per %s, %.0f%% of a "
		       "core\n",
		       srv->pid, f->cpu_us_op, op_singular(o->mode),
		       f->cpu_util * 100);
	if (f->have_mem)
		printf("  server     pid %d: VmRSS %ld -> %ld KiB with %llu "
		       "held: %.0f B per connection\n",
		       srv->pid, srv->rss_before_kb, srv->rss_after_kb,
		       (unsigned long long)srv->held, f->mem_per_conn);
	printf("  errors     %llu failed, %llu wrong answers%s%s\n",
	       (unsigned long long)s->errors, (unsigned long long)s->mismatches,
	       s->error[0] ? ": " : "", s->error);
}

int bench_report(const struct bench_opts *o, const struct bench_worker *w,
		 const struct bench_server *srv)
{
	static struct bench_stats sum;
	struct figures f;
	unsigned int i;
	bool failed;

	add_up(o, w, &sum, true);
	derive(o, &sum, srv, &f);
	if (o->json)
		print_json(o, &sum, srv, &f);
	else
		print_text(o, &sum, srv, &f);
	fflush(stdout);
	failed = sum.errors || sum.mismatches;
	for (i = 0; i < o->threads; i++)
		failed |= w[i].result != 0;
	if (o->mode == BENCH_HOLD)
		failed |= sum.established < o->conns;
	if (failed)
		fprintf(stderr, "sock bench: %s\n",
			sum.error[0] ? sum.error : "the run had failures");
	return failed ? CLI_FAILURE : CLI_OK;
}

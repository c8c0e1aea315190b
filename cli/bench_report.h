/* SPDX-License-Identifier: MIT */
/* bench_report.h -- sock bench: watching the server, the progress line, the summary */

#ifndef SOCK_CLI_BENCH_REPORT_H
#define SOCK_CLI_BENCH_REPORT_H

#include "bench.h"

/* CPU time a process and its children used, in nanoseconds. */
struct bench_cpu {
	bool ok;
	uint64_t ns;
};

/* What --server-pid observed. */
struct bench_server {
	int pid; /* 0: not watched */
	struct bench_cpu cpu_before, cpu_after;
	int64_t window_ns;
	/* hold: memory before connecting and once every connection is in */
	long rss_before_kb, rss_after_kb;
	long fds_before, fds_after;
	uint64_t held;	    /* connections open when rss_after was read */
	int64_t settled_ns; /* when the server was first seen to hold all */
	bool hold_done;
};

void bench_server_init(struct bench_server *srv, int pid);
void bench_server_sample(const struct bench_server *srv, struct bench_cpu *out);
/* hold: once every connection is open and the server has accepted them,
 * read its memory. */
void bench_server_hold_sample(const struct bench_opts *o,
			      const struct bench_worker *w,
			      struct bench_server *srv);

/* One progress line on standard error, rewritten in place. */
void bench_show_progress(const struct bench_opts *o,
			 const struct bench_worker *w, int64_t now);

/* Print the summary (or the JSON object); returns the exit status. */
int bench_report(const struct bench_opts *o, const struct bench_worker *w,
		 const struct bench_server *srv);

#endif /* SOCK_CLI_BENCH_REPORT_H */

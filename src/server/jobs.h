/* SPDX-License-Identifier: MIT */
/* jobs.h -- blocking handlers' jobs, shared by jobs.c and handlers.c */

/*
 * A job is one connection or one datagram served by a blocking handler.
 * Inline jobs run on the loop and end there.  Every other job is
 * created by the loop, runs elsewhere (a thread, a pool thread, a child
 * process) and is collected by the loop again: threads put finished jobs
 * on the done list and write the worker's eventfd; children are watched
 * through a pidfd.  Only the loop's thread creates, counts and frees jobs;
 * the lock guards the lists that other threads touch, and the registry of
 * running jobs through which a stop or a total timeout shuts their
 * sockets down.
 */

#ifndef SOCK_JOBS_H
#define SOCK_JOBS_H

#include "core.h"

/* Datagrams being handled or queued per worker; more are dropped. */
#define DGRAM_JOBS_MAX 256
/* A forked handler gets this long between SIGTERM and SIGKILL. */
#define KILL_AFTER_MS 1000
/* Longest period of the jobs' timer: reaping without pidfd, SIGKILL. */
#define TICK_MAX_MS 250

struct job {
	struct sock__list link; /* js->queue, js->active or js->done */
	struct sock__jobs *js;
	const struct sock_service *svc;
	struct sock__listener *lis; /* its counters (sock_server_stats) */
	/* stream: the connection; datagram: the socket to reply on */
	struct sock conn;
	/*
	 * Thread and pool streams: the job's own duplicate of conn's
	 * descriptor from accept to the job's end, else -1.  A cut shuts
	 * the connection down through it, so the cut reaches the
	 * connection whatever the handler did with conn (detached it,
	 * closed it) and never a socket that took conn's number since.
	 * Read and closed under the lock only.
	 */
	int cut_fd;
	bool stream;
	bool has_thread;
	pthread_t thread;
	pid_t pid; /* forked handler, or 0 */
	/* The child's pidfd: signals and reaping go through it, as its pid
	 * may be another process's once someone else reaped it.  -1 when
	 * pidfd_open failed (then by pid). */
	int pidfd;
	bool pid_watched; /* pid_watch is on the loop; else the timer reaps */
	struct sock_watch pid_watch;
	int64_t started_ms;
	int64_t term_ms; /* when SIGTERM was sent, or 0 */
	bool killed;	 /* SIGKILL was sent */
	int err;	 /* why it was cut short, or 0 */
	uint64_t bytes_in, bytes_out;
	struct sock_addr peer;
	size_t len;
	char data[]; /* the datagram */
};

struct sock__jobs {
	struct sock__worker *w;
	pthread_mutex_t lock;
	pthread_cond_t queued; /* pool: a job was queued, or quit */
	pthread_cond_t ended;  /* a job moved to done */
	struct sock__list queue;
	struct sock__list active;
	struct sock__list done;
	bool quit;
	/* the loop's side: done jobs are announced on wake_fd */
	int wake_fd;
	struct sock_watch wake_watch;
	struct sock_timer timer;
	unsigned int njobs;   /* not yet collected */
	unsigned int ndgrams; /* of which datagrams */
	pthread_t *pool;
	unsigned int npool;
	bool no_pidfd; /* pidfd_open is not in this kernel */
};

static inline const struct sock_server_config *
config(const struct sock__worker *w)
{
	return &w->srv->cfg;
}

/* ---- handlers.c: where blocking handlers run ---- */

/* Call the job's handler. */
void sock__handler_serve(struct job *job);
/* Close the job's connection (send side shut first) unless the handler
 * detached it; takes the kernel's byte counts first. */
void sock__handler_close_conn(struct job *job);
/* Start routines: a thread per job, and a pool thread. */
void *sock__handler_thread_main(void *arg);
void *sock__handler_pool_main(void *arg);
/* The child of a forked handler; never returns. */
__attribute__((noreturn)) void sock__handler_child_main(struct sock__worker *w,
							struct job *job);
/* Wake the loop: a job is done. */
void sock__jobs_wake(struct sock__jobs *js);

#endif /* SOCK_JOBS_H */

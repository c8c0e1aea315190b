/* SPDX-License-Identifier: MIT */
/* jobs.c -- blocking handlers' jobs as the loop sees them: made, dispatched, collected, cut */

#include "jobs.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the loop's side ---- */

static void emit_close(struct sock__worker *w, const struct job *job)
{
	const struct sock_server_config *cfg = config(w);
	struct sock_event ev;

	sock__stat_add(job->lis->stat, SOCK_STAT_CLOSED, 1);
	sock__stat_add(job->lis->stat, SOCK_STAT_BYTES_IN, job->bytes_in);
	sock__stat_add(job->lis->stat, SOCK_STAT_BYTES_OUT, job->bytes_out);
	if (!cfg->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = SOCK_EV_CLOSE;
	ev.service = job->svc->name;
	ev.addr = &job->peer;
	ev.err = job->err;
	ev.bytes_in = job->bytes_in;
	ev.bytes_out = job->bytes_out;
	ev.duration_ms = w->loop->now_ms - job->started_ms;
	ev.worker = w->index;
	cfg->on_event(&ev, cfg->event_data);
}

static void close_pidfd(struct job *job)
{
	if (job->pid_watched)
		sock_unwatch(&job->pid_watch);
	job->pid_watched = false;
	if (job->pidfd >= 0)
		close(job->pidfd);
	job->pidfd = -1;
}

/* A job is over: account for it and free it (loop thread). */
static void collect(struct sock__jobs *js, struct job *job)
{
	struct sock__worker *w = js->w;

	if (job->has_thread)
		pthread_join(job->thread, NULL);
	close_pidfd(job);
	if (job->stream) {
		emit_close(w, job);
		sock__job_ended(w, &job->peer);
	} else {
		js->ndgrams--;
	}
	free(job);
	if (--js->njobs == 0)
		sock_timer_stop(w->loop, &js->timer);
}

static void collect_done(struct sock_watch *watch, int revents, void *arg)
{
	struct sock__jobs *js = arg;
	struct sock__list done;
	struct job *job;
	uint64_t v;

	(void)revents;
	if (read(watch->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	sock__list_init(&done);
	pthread_mutex_lock(&js->lock);
	if (!sock__list_is_empty(&js->done)) {
		done = js->done;
		done.next->prev = done.prev->next = &done;
		sock__list_init(&js->done);
	}
	pthread_mutex_unlock(&js->lock);
	while (!sock__list_is_empty(&done)) {
		job = sock__container_of(done.next, struct job, link);
		sock__list_del(&job->link);
		collect(js, job);
	}
}

/*
 * Reap a forked handler if it has ended (options WNOHANG), or when it
 * does (0).  Returns true when it is gone.  ECHILD: it was reaped
 * already, by the kernel (SIGCHLD ignored) or by the application.  By
 * pidfd when there is one: after such a reaping its pid may be another
 * child's.
 */
static bool reap(struct job *job, int options)
{
	siginfo_t si;
	int status, r;
	pid_t p;

	if (job->pidfd >= 0) {
		memset(&si, 0, sizeof(si));
		do
			r = waitid(P_PIDFD, (id_t)job->pidfd, &si,
				   WEXITED | options);
		while (r < 0 && errno == EINTR);
		if (r == 0 || errno != EINVAL) /* EINVAL: before Linux 5.4 */
			return r == 0 ? si.si_pid != 0 : errno == ECHILD;
	}
	do
		p = waitpid(job->pid, &status, options);
	while (p < 0 && errno == EINTR);
	return p == job->pid || (p < 0 && errno == ECHILD);
}

/*
 * Signal a forked handler.  Through its pidfd the signal reaches that
 * process or none (ESRCH once it ended).  By pid only without a pidfd:
 * the pid stays ours until we reap it, unless the application reaps our
 * children itself.
 */
static void signal_child(const struct job *job, int sig)
{
#ifdef SYS_pidfd_send_signal
	if (job->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, job->pidfd, sig, NULL, 0);
		return;
	}
#endif
	kill(job->pid, sig);
}

static void child_gone(struct sock__jobs *js, struct job *job)
{
	close_pidfd(job);
	pthread_mutex_lock(&js->lock);
	sock__list_del(&job->link);
	pthread_mutex_unlock(&js->lock);
	collect(js, job);
}

static void child_exited(struct sock_watch *watch, int revents, void *arg)
{
	struct job *job = arg;

	(void)watch;
	(void)revents;
	if (reap(job, WNOHANG))
		child_gone(job->js, job);
}

/* Make a job's handler return: shut its connection down (blocked calls
 * fail), or SIGTERM its process.  Lock held. */
static void cut_locked(struct job *job, int err, int64_t now)
{
	if (!job->err)
		job->err = err;
	if (job->cut_fd >= 0)
		shutdown(job->cut_fd, SHUT_RDWR);
	if (job->pid > 0 && !job->term_ms) {
		signal_child(job, SIGTERM);
		job->term_ms = now;
	}
}

/* Cut jobs over the total timeout; SIGKILL children that outlived
 * SIGTERM.  Returns the last job cut, or NULL; *peer is its peer. */
static const struct sock_service *
check_jobs_locked(struct sock__jobs *js, int64_t now, struct sock_addr *peer)
{
	int total = config(js->w)->total_timeout_ms;
	struct sock__list *lists[2] = { &js->queue, &js->active }, *e;
	const struct sock_service *cut = NULL;
	struct job *job;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		for (e = lists[i]->next; e != lists[i]; e = e->next) {
			job = sock__container_of(e, struct job, link);
			if (total >= 0 && job->stream && !job->err &&
			    now - job->started_ms >= total) {
				cut_locked(job, -ETIMEDOUT, now);
				*peer = job->peer;
				cut = job->svc;
			}
			if (job->pid > 0 && job->term_ms && !job->killed &&
			    now - job->term_ms >= KILL_AFTER_MS) {
				signal_child(job, SIGKILL);
				job->killed = true;
			}
		}
	}
	return cut;
}

/* Reap children that have no pidfd watch to tell us (pidfd_open or the
 * watch failed). */
static void reap_unwatched(struct sock__jobs *js)
{
	struct sock__list *e, *next;
	struct job *job;

	/* Only the loop thread adds or removes children, so the list
	 * cannot change under us except for thread jobs moving to done,
	 * which happens under the lock. */
	pthread_mutex_lock(&js->lock);
	for (e = js->active.next; e != &js->active; e = next) {
		next = e->next;
		job = sock__container_of(e, struct job, link);
		if (job->pid <= 0 || job->pid_watched || !reap(job, WNOHANG))
			continue;
		sock__list_del(&job->link);
		sock__list_add_tail(&js->done, &job->link);
		sock__jobs_wake(js);
	}
	pthread_mutex_unlock(&js->lock);
}

static void jobs_tick(struct sock_timer *t, void *arg)
{
	struct sock__jobs *js = arg;
	struct sock__worker *w = js->w;
	const struct sock_service *cut;
	struct sock_addr peer;

	(void)t;
	pthread_mutex_lock(&js->lock);
	cut = check_jobs_locked(js, w->loop->now_ms, &peer);
	pthread_mutex_unlock(&js->lock);
	if (cut)
		sock__report(w, SOCK__REPORT_TOTAL, cut->name, &peer,
			     -ETIMEDOUT);
	reap_unwatched(js);
}

static int tick_ms(const struct sock__worker *w)
{
	int total = config(w)->total_timeout_ms, ms = TICK_MAX_MS;

	if (total >= 0 && total / 4 < ms)
		ms = total / 4;
	return ms < 10 ? 10 : ms;
}

/* Make w's jobs on first use.  Returns 0 or -errno. */
static int jobs_get(struct sock__worker *w)
{
	struct sock__jobs *js;
	int err;

	if (w->jobs)
		return 0;
	js = calloc(1, sizeof(*js));
	if (!js)
		return -ENOMEM;
	js->w = w;
	sock__list_init(&js->queue);
	sock__list_init(&js->active);
	sock__list_init(&js->done);
	sock_timer_init(&js->timer, jobs_tick, js);
	js->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (js->wake_fd < 0) {
		err = -errno;
		goto out_free;
	}
	err = sock_watch(w->loop, &js->wake_watch, js->wake_fd, POLLIN,
			 collect_done, js);
	if (err)
		goto out_close;
	pthread_mutex_init(&js->lock, NULL);
	pthread_cond_init(&js->queued, NULL);
	pthread_cond_init(&js->ended, NULL);
	w->jobs = js;
	return 0;

out_close:
	close(js->wake_fd);
out_free:
	free(js);
	return err;
}

static int start_pool(struct sock__jobs *js)
{
	const struct sock_server_config *cfg = config(js->w);
	unsigned int n = (cfg->pool_threads + cfg->workers - 1) / cfg->workers;

	js->pool = calloc(n, sizeof(*js->pool));
	if (!js->pool)
		return -ENOMEM;
	while (js->npool < n &&
	       pthread_create(&js->pool[js->npool], NULL,
			      sock__handler_pool_main, js) == 0)
		js->npool++;
	/* Creating many threads takes a while (seconds under valgrind):
	 * timers started later in this batch must not start from a clock
	 * read before it. */
	sock__loop_update_time(js->w->loop);
	/* Fewer threads than asked still serve; none cannot, and the next
	 * job tries again rather than waiting in a queue nobody takes. */
	if (js->npool)
		return 0;
	free(js->pool);
	js->pool = NULL;
	return -EAGAIN;
}

static void register_job(struct sock__jobs *js, struct job *job,
			 struct sock__list *list)
{
	pthread_mutex_lock(&js->lock);
	sock__list_add_tail(list, &job->link);
	pthread_mutex_unlock(&js->lock);
}

static void unregister_job(struct sock__jobs *js, struct job *job)
{
	pthread_mutex_lock(&js->lock);
	sock__list_del(&job->link);
	pthread_mutex_unlock(&js->lock);
}

static int start_thread(struct sock__jobs *js, struct job *job)
{
	int err;

	register_job(js, job, &js->active);
	err = pthread_create(&job->thread, NULL, sock__handler_thread_main,
			     job);
	if (err) {
		unregister_job(js, job);
		return -err;
	}
	job->has_thread = true;
	return 0;
}

static int enqueue(struct sock__jobs *js, struct job *job)
{
	int err;

	if (!js->npool) {
		err = start_pool(js);
		if (err)
			return err;
	}
	pthread_mutex_lock(&js->lock);
	sock__list_add_tail(&js->queue, &job->link);
	pthread_cond_signal(&js->queued);
	pthread_mutex_unlock(&js->lock);
	return 0;
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Fork a handler process.  The parent learns of its end through a pidfd
 * watched by the loop, so no SIGCHLD handler is installed and nothing
 * else of the application is disturbed; without a pidfd (an old kernel,
 * or no descriptor left) the jobs' timer reaps it.
 */
static int start_child(struct sock__jobs *js, struct job *job)
{
	struct sock__worker *w = js->w;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		sock__handler_child_main(w, job);
	/* Forking a large process takes a while, as above. */
	sock__loop_update_time(w->loop);
	job->pid = pid;
	/* The child speaks for the connection now: the parent's copy of
	 * its TLS session goes without a word (no close_notify). */
	if (job->stream) {
		sock__tls_release(&job->conn, false);
		sock_close(&job->conn);
	}
	job->pidfd = js->no_pidfd ? -1 : open_pidfd(pid);
	if (job->pidfd < 0 && !js->no_pidfd && errno == ENOSYS)
		js->no_pidfd = true;
	/* Unwatched, the pidfd still serves to signal and reap. */
	job->pid_watched = job->pidfd >= 0 &&
			   sock_watch(w->loop, &job->pid_watch, job->pidfd,
				      POLLIN, child_exited, job) == 0;
	register_job(js, job, &js->active);
	return 0;
}

static int dispatch(struct sock__jobs *js, struct job *job)
{
	int err;

	switch (job->svc->mode) {
	case SOCK_MODE_THREAD:
		err = start_thread(js, job);
		break;
	case SOCK_MODE_POOL:
		err = enqueue(js, job);
		break;
	default:
		err = start_child(js, job);
		break;
	}
	if (err)
		return err;
	if (js->njobs++ == 0 &&
	    sock_timer_start(js->w->loop, &js->timer, tick_ms(js->w),
			     tick_ms(js->w)))
		sock__report(js->w, SOCK__REPORT_NOMEM, job->svc->name, NULL,
			     -ENOMEM);
	if (!job->stream)
		js->ndgrams++;
	return 0;
}

static struct job *job_new(struct sock__listener *l,
			   const struct sock_addr *peer, size_t len)
{
	struct job *job = calloc(1, sizeof(*job) + len);

	if (!job)
		return NULL;
	sock__list_init(&job->link);
	job->js = l->w->jobs;
	job->svc = l->svc;
	job->lis = l;
	job->cut_fd = -1;
	job->pidfd = -1;
	job->peer = *peer;
	job->started_ms = l->w->loop->now_ms;
	job->conn.fd = -1;
	job->len = len;
	return job;
}

/* ---- connections ---- */

static void serve_inline(struct sock__listener *l, int fd, struct sock_tls *tls,
			 const struct sock_addr *peer)
{
	struct sock__worker *w = l->w;
	struct job job;

	memset(&job, 0, sizeof(job));
	job.cut_fd = -1;
	job.pidfd = -1;
	job.svc = l->svc;
	job.lis = l;
	job.stream = true;
	job.peer = *peer;
	job.started_ms = w->loop->now_ms;
	sock__adopt(&job.conn, fd, l->sock.family, l->sock.type,
		    l->sock.protocol);
	job.conn.tls = tls;
	job.conn.timeout_ms = sock__handler_timeout(l);
	sock__handler_serve(&job);
	sock__handler_close_conn(&job);
	/* The loop stood still while the handler ran. */
	sock__loop_update_time(w->loop);
	emit_close(w, &job);
	sock__job_ended(w, peer);
}

/* A connection no job could take: closed, its end reported as any
 * connection's is, and the failure. */
static void job_refused(struct sock__listener *l, int fd, struct sock_tls *tls,
			const struct sock_addr *peer, int err,
			enum sock__report_kind kind)
{
	struct sock__worker *w = l->w;
	struct sock conn = { .fd = -1, .tls = tls };
	struct job gone;

	/* No handler will speak: the session ends without close_notify. */
	sock__tls_release(&conn, false);
	memset(&gone, 0, sizeof(gone));
	gone.svc = l->svc;
	gone.lis = l;
	gone.peer = *peer;
	gone.err = err;
	gone.started_ms = w->loop->now_ms;
	close(fd);
	emit_close(w, &gone);
	sock__report_on(l, kind, peer, err);
	sock__job_ended(w, peer);
}

void sock__job_accepted(struct sock__listener *l, int fd, struct sock_tls *tls,
			const struct sock_addr *peer)
{
	enum sock__report_kind kind = SOCK__REPORT_NOMEM;
	struct sock__worker *w = l->w;
	struct job *job = NULL;
	int err;

	if (l->svc->mode == SOCK_MODE_INLINE) {
		serve_inline(l, fd, tls, peer);
		return;
	}
	err = jobs_get(w);
	if (!err && !(job = job_new(l, peer, 0)))
		err = -ENOMEM;
	if (err) {
		job_refused(l, fd, tls, peer, err, kind);
		return;
	}
	job->stream = true;
	sock__adopt(&job->conn, fd, l->sock.family, l->sock.type,
		    l->sock.protocol);
	job->conn.tls = tls;
	job->conn.timeout_ms = sock__handler_timeout(l);
	/* A child is cut by signal; a thread's connection through the
	 * job's own descriptor, made before the handler has conn. */
	if (l->svc->mode != SOCK_MODE_FORK) {
		job->cut_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (job->cut_fd < 0) {
			err = -errno;
			kind = SOCK__REPORT_DESCRIPTORS;
			goto out_close;
		}
	}
	err = dispatch(w->jobs, job);
	if (!err)
		return;
	if (job->cut_fd >= 0)
		close(job->cut_fd);
out_close:
	job->conn.tls = NULL; /* job_refused frees it */
	free(job);
	job_refused(l, fd, tls, peer, err, kind);
}

/* ---- datagrams ---- */

void sock__job_datagram(struct sock__listener *l, const void *data, size_t len,
			const struct sock_addr *peer)
{
	struct sock__worker *w = l->w;
	const struct sock_service *svc = l->svc;
	struct sock__jobs *js;
	struct job *job;
	struct sock s;
	int err;

	if (svc->mode == SOCK_MODE_INLINE) {
		/* A copy: the handler cannot change the listener's. */
		s = l->sock;
		s.timeout_ms = sock__handler_timeout(l);
		svc->handle_datagram(&s, data, len, peer, svc->data);
		sock__loop_update_time(w->loop);
		return;
	}
	err = jobs_get(w);
	if (err)
		goto out_report;
	js = w->jobs;
	if (js->ndgrams >= DGRAM_JOBS_MAX) {
		sock__report_on(l, SOCK__REPORT_RATE, peer, -ENOBUFS);
		return;
	}
	job = job_new(l, peer, len);
	if (!job) {
		err = -ENOMEM;
		goto out_report;
	}
	memcpy(job->data, data, len);
	/* A forked child replies on its inherited copy of the socket;
	 * threads get their own descriptor, as the listener's may be
	 * closed (at stop) while they still reply. */
	job->conn = l->sock;
	if (svc->mode != SOCK_MODE_FORK) {
		job->conn.fd = fcntl(l->sock.fd, F_DUPFD_CLOEXEC, 3);
		if (job->conn.fd < 0) {
			err = -errno;
			free(job);
			goto out_report;
		}
	}
	job->conn.timeout_ms = sock__handler_timeout(l);
	err = dispatch(js, job);
	if (!err)
		return;
	if (svc->mode != SOCK_MODE_FORK)
		sock_close(&job->conn);
	free(job);
out_report:
	sock__report_on(l, SOCK__REPORT_NOMEM, peer, err);
}

/* ---- stopping ---- */

void sock__jobs_shutdown(struct sock__worker *w)
{
	struct sock__jobs *js = w->jobs;
	struct sock__list *lists[2], *e;
	unsigned int i;

	if (!js)
		return;
	lists[0] = &js->queue;
	lists[1] = &js->active;
	pthread_mutex_lock(&js->lock);
	for (i = 0; i < 2; i++)
		for (e = lists[i]->next; e != lists[i]; e = e->next)
			cut_locked(sock__container_of(e, struct job, link),
				   -ESHUTDOWN, w->loop->now_ms);
	pthread_mutex_unlock(&js->lock);
}

bool sock__jobs_idle(struct sock__worker *w)
{
	return !w->jobs || w->jobs->njobs == 0;
}

/* Kill and reap every child still running (the loop is not running). */
static void kill_children(struct sock__jobs *js)
{
	struct sock__list *e, *next;
	struct job *job;

	pthread_mutex_lock(&js->lock);
	for (e = js->active.next; e != &js->active; e = next) {
		next = e->next;
		job = sock__container_of(e, struct job, link);
		if (job->pid <= 0)
			continue;
		signal_child(job, SIGKILL);
		reap(job, 0);
		close_pidfd(job);
		sock__list_del(&job->link);
		free(job);
	}
	pthread_mutex_unlock(&js->lock);
}

/* Wait for every handler thread to end, and free all jobs. */
static void drain(struct sock__jobs *js)
{
	struct job *job;
	unsigned int i;

	pthread_mutex_lock(&js->lock);
	js->quit = true;
	pthread_cond_broadcast(&js->queued);
	pthread_mutex_unlock(&js->lock);
	for (i = 0; i < js->npool; i++)
		pthread_join(js->pool[i], NULL);
	free(js->pool);
	js->pool = NULL;
	js->npool = 0;
	pthread_mutex_lock(&js->lock);
	/* The pool serves its queue before it quits; anything left had no
	 * thread to run it. */
	while (!sock__list_is_empty(&js->queue)) {
		job = sock__container_of(js->queue.next, struct job, link);
		sock__list_del(&job->link);
		sock_close(&job->conn);
		if (job->cut_fd >= 0)
			close(job->cut_fd);
		free(job);
	}
	for (;;) {
		while (sock__list_is_empty(&js->done) &&
		       !sock__list_is_empty(&js->active))
			pthread_cond_wait(&js->ended, &js->lock);
		if (sock__list_is_empty(&js->done))
			break;
		job = sock__container_of(js->done.next, struct job, link);
		sock__list_del(&job->link);
		pthread_mutex_unlock(&js->lock);
		if (job->has_thread)
			pthread_join(job->thread, NULL);
		close_pidfd(job);
		free(job);
		pthread_mutex_lock(&js->lock);
	}
	pthread_mutex_unlock(&js->lock);
}

void sock__jobs_release(struct sock__worker *w)
{
	struct sock__jobs *js = w->jobs;

	if (!js)
		return;
	sock__jobs_shutdown(w);
	kill_children(js);
	drain(js);
	sock_timer_stop(w->loop, &js->timer);
	sock_unwatch(&js->wake_watch);
	close(js->wake_fd);
	pthread_mutex_destroy(&js->lock);
	pthread_cond_destroy(&js->queued);
	pthread_cond_destroy(&js->ended);
	free(js);
	w->jobs = NULL;
}

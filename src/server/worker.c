/* SPDX-License-Identifier: MIT */
/* worker.c -- workers: one loop each, their connection counts, timers and stop */

#include "core.h"

#include <assert.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * The connection cap is one count for the whole server, shared by the
 * workers' threads: a slot is taken before a connection is served
 * (compare-and-swap, so no two workers take the last one), and a worker
 * that finds none holds the connection it accepted and pauses accepting.
 */
static bool cap_reached(const struct sock_server *srv, unsigned int n)
{
	return srv->cfg.max_conns != SOCK_UNLIMITED && n >= srv->cfg.max_conns;
}

bool sock__worker_conn_begin(struct sock__worker *w)
{
	struct sock_server *srv = w->srv;
	unsigned int n = atomic_load(&srv->nconns);
	unsigned int i;

	do {
		if (cap_reached(srv, n))
			return false;
	} while (!atomic_compare_exchange_weak(&srv->nconns, &n, n + 1));
	w->nconns++;
	if (cap_reached(srv, n + 1)) {
		/* The last slot: every worker pauses, not only this one. */
		sock__worker_at_cap(w, NULL);
		for (i = 0; i < srv->nworkers; i++)
			if (&srv->workers[i] != w)
				sock__loop_wake(srv->workers[i].loop);
	}
	return true;
}

void sock__worker_at_cap(struct sock__worker *w, const char *service)
{
	if (w->cap_paused)
		return;
	sock__report(w, SOCK__REPORT_MAX_CONNS, service, NULL, 0);
	sock__worker_pause_accepting(w, true);
}

/*
 * After each batch: serve the connections held at the cap while slots
 * are free, then pause or resume accepting as the cap says.
 */
static void check_cap(struct sock__worker *w)
{
	struct sock_server *srv = w->srv;
	bool held = false;
	size_t i;

	if (!w->cap_paused && !cap_reached(srv, atomic_load(&srv->nconns)))
		return;
	for (i = 0; i < w->nlis; i++)
		if (!sock__listener_serve_held(w->lis[i]))
			held = true;
	if (held || cap_reached(srv, atomic_load(&srv->nconns)))
		sock__worker_at_cap(w, NULL);
	else if (w->cap_paused)
		sock__worker_pause_accepting(w, false);
}

void sock__worker_conn_ended(struct sock__worker *w)
{
	struct sock_server *srv = w->srv;
	unsigned int n, i;

	assert(w->nconns > 0);
	w->nconns--;
	n = atomic_fetch_sub(&srv->nconns, 1);
	assert(n > 0);
	if (!cap_reached(srv, n))
		return;
	/* The server was at its cap: workers hold connections or paused,
	 * and take the slot at their next batch. */
	for (i = 0; i < srv->nworkers; i++)
		if (&srv->workers[i] != w)
			sock__loop_wake(srv->workers[i].loop);
}

void sock__job_ended(struct sock__worker *w, const struct sock_addr *peer)
{
	sock__source_del(w->srv, peer);
	sock__worker_conn_ended(w);
}

static void tick(struct sock_timer *t, void *arg)
{
	struct sock__worker *w = arg;

	(void)t;
	sock__conn_check_timeouts(w);
	sock__report_flush(w, false);
	/* Another thread may have taken the descriptor the reserve gave up
	 * while it was out: take one back when there is one again. */
	if (w->reserve_fd < 0)
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void every(struct sock_timer *t, void *arg)
{
	struct sock__worker *w = arg;

	(void)t;
	if (!w->stopping && !atomic_load(&w->srv->stopping))
		w->srv->every.fn(w->srv, w->srv->every.data);
}

/* socketserver's handle_timeout(): the server has been quiet for
 * idle_ms since the last request (or the last call). */
static void quiet(struct sock_timer *t, void *arg)
{
	struct sock__worker *w = arg;
	struct sock_server *srv = w->srv;
	int64_t now = sock__now_ns() / 1000000, since;
	int64_t wait = srv->idle.ms;

	if (w->stopping || atomic_load(&srv->stopping))
		return;
	since = now - atomic_load_explicit(&srv->last_request_ms,
					   memory_order_relaxed);
	if (since >= srv->idle.ms) {
		atomic_store_explicit(&srv->last_request_ms, now,
				      memory_order_relaxed);
		srv->idle.fn(srv, srv->idle.data);
	} else {
		wait = srv->idle.ms - since;
	}
	if (!w->stopping && !atomic_load(&srv->stopping) &&
	    sock_timer_start(w->loop, t, (int)wait, 0))
		sock__report(w, SOCK__REPORT_NOMEM, NULL, NULL, -ENOMEM);
}

static void grace_over(struct sock_timer *t, void *arg)
{
	struct sock__worker *w = arg;

	(void)t;
	w->grace_over = true;
	sock__conn_abort_all(w, -ESHUTDOWN);
	sock__jobs_shutdown(w);
}

static void begin_stop(struct sock__worker *w)
{
	size_t i;

	w->stopping = true;
	sock_timer_stop(w->loop, &w->every);
	sock_timer_stop(w->loop, &w->quiet);
	for (i = 0; i < w->nlis; i++)
		sock__listener_close(w->lis[i]);
	if (w->index == 0)
		sock__emit(w, SOCK_EV_STOP, NULL, NULL, 0, NULL);
	/* The clock was read before this batch, which may have been long:
	 * the grace period counts from now. */
	sock__loop_update_time(w->loop);
	if (sock_timer_start(w->loop, &w->grace, w->srv->cfg.grace_ms, 0))
		grace_over(&w->grace, w);
}

void sock__worker_after_batch(struct sock__worker *w)
{
	sock__conn_flush_pending(w);
	if (!w->started)
		return;
	check_cap(w);
	if (!w->stopping && atomic_load(&w->srv->stopping))
		begin_stop(w);
	if (w->nconns == 0 && sock__jobs_idle(w) &&
	    (w->stopping || w->nlis_open == 0)) {
		sock__report_flush(w, true);
		sock_loop_stop(w->loop);
	}
}

static int tick_interval(const struct sock_server_config *c)
{
	int ms = SOCK__LINGER_MS;

	if (c->idle_timeout_ms > 0 && c->idle_timeout_ms < ms)
		ms = c->idle_timeout_ms;
	if (c->total_timeout_ms > 0 && c->total_timeout_ms < ms)
		ms = c->total_timeout_ms;
	ms /= 4;
	return ms < 10 ? 10 : ms > 1000 ? 1000 : ms;
}

int sock__worker_init(struct sock_server *srv, struct sock__worker *w,
		      unsigned int index)
{
	int err;

	w->srv = srv;
	w->index = index;
	sock__list_init(&w->conns);
	sock__list_init(&w->idle);
	sock__list_init(&w->linger);
	sock_timer_init(&w->tick, tick, w);
	sock_timer_init(&w->grace, grace_over, w);
	sock_timer_init(&w->every, every, w);
	sock_timer_init(&w->quiet, quiet, w);
	w->tick_ms = tick_interval(&srv->cfg);
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	err = sock_loop_new(&w->loop, srv->cfg.engine);
	if (err)
		return err;
	w->loop->worker = w;
	w->loop->busy_poll = srv->cfg.busy_poll;
	w->loop->limits.max_datagram = srv->cfg.max_datagram;
	return 0;
}

void sock__worker_release(struct sock__worker *w)
{
	size_t i;

	for (i = 0; i < w->nlis; i++)
		sock__listener_free(w->lis[i]);
	free(w->lis);
	sock__jobs_release(w);
	sock_loop_free(w->loop);
	sock__conn_release_slabs(w);
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
}

static void start_worker(struct sock__worker *w)
{
	char what[64];
	enum sock_engine want;
	size_t i;

	w->started = true;
	sock__loop_update_time(w->loop);
	if (w->index == 0) {
		want = sock__engine_resolve(w->srv->cfg.engine);
		snprintf(what, sizeof(what), "%s%s",
			 sock_engine_name(sock_loop_engine(w->loop)),
			 want != sock_loop_engine(w->loop) ? " (io_uring "
							     "unavailable)"
							   : "");
		sock__emit(w, SOCK_EV_ENGINE, NULL, NULL, 0, what);
	}
	for (i = 0; i < w->nlis; i++) {
		sock__listener_update(w->lis[i]);
		if (!w->lis[i]->closed)
			sock__emit(w, SOCK_EV_LISTEN, w->lis[i]->svc->name,
				   &w->lis[i]->addr, 0, NULL);
	}
	if (w->index == 0)
		sock__server_open_adopted(w->srv);
	if (sock_timer_start(w->loop, &w->tick, w->tick_ms, w->tick_ms))
		w->run_err = -ENOMEM;
	if (w->index == 0 && w->srv->every.fn &&
	    sock_timer_start(w->loop, &w->every, w->srv->every.ms,
			     w->srv->every.ms))
		w->run_err = -ENOMEM;
	if (w->index == 0 && w->srv->idle.fn) {
		atomic_store(&w->srv->last_request_ms, w->loop->now_ms);
		if (sock_timer_start(w->loop, &w->quiet, w->srv->idle.ms, 0))
			w->run_err = -ENOMEM;
	}
}

/*
 * w's loop cannot run (it failed, or never started): end at once what it
 * serves, as the end of a stop's grace period would -- on_close for every
 * connection, descriptors closed, output freed, handlers cut -- since no
 * batch will ever do it.
 */
static void worker_abandon(struct sock__worker *w, int err)
{
	size_t i;

	w->stopping = true;
	for (i = 0; i < w->nlis; i++)
		sock__listener_close(w->lis[i]);
	sock__conn_abort_all(w, err);
	sock__conn_flush_pending(w);
	sock__jobs_shutdown(w);
	sock__report_flush(w, true);
}

void *sock__worker_main(void *arg)
{
	struct sock__worker *w = arg;

	start_worker(w);
	if (!w->run_err)
		w->run_err = sock_loop_run(w->loop);
	/* One worker that cannot serve stops them all: run must return. */
	if (w->run_err) {
		worker_abandon(w, w->run_err);
		sock_server_stop(w->srv);
	}
	return NULL;
}

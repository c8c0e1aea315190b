/* SPDX-License-Identifier: MIT */
/* loop.c -- the event loop: timers, signals, wake-ups, run and stop */

#include "engine.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

enum sock_engine sock__engine_resolve(enum sock_engine kind)
{
	const char *env;

	if (kind != SOCK_ENGINE_DEFAULT)
		return kind;
	env = getenv("SOCK_ENGINE");
	if (env && (!strcmp(env, "io_uring") || !strcmp(env, "uring")))
		return SOCK_ENGINE_URING;
	return SOCK_ENGINE_EPOLL;
}

static const struct sock__engine *engine_for(enum sock_engine kind)
{
	return sock__engine_resolve(kind) == SOCK_ENGINE_URING
		       ? &sock__engine_uring
		       : &sock__engine_epoll;
}

const char *sock_engine_name(enum sock_engine engine)
{
	switch (engine) {
	case SOCK_ENGINE_EPOLL:
		return "epoll";
	case SOCK_ENGINE_URING:
		return "io_uring";
	default:
		return "default";
	}
}

void sock__loop_update_time(struct sock_loop *loop)
{
	int64_t now = sock__now_ns();

	if (loop->wait_from_ns) {
		atomic_fetch_add_explicit(&loop->idle_ns,
					  now - loop->wait_from_ns,
					  memory_order_relaxed);
		loop->wait_from_ns = 0;
	}
	loop->now_ms = now / 1000000;
}

int64_t sock_loop_now_ms(const struct sock_loop *loop)
{
	return loop->now_ms;
}

enum sock_engine sock_loop_engine(const struct sock_loop *loop)
{
	return loop->eng->kind;
}

static void wake_ready(struct sock_watch *w, int revents, void *arg)
{
	uint64_t v;

	(void)revents;
	(void)arg;
	/* Only to empty the counter: the flags that matter are atomics. */
	if (read(w->fd, &v, sizeof(v)) < 0)
		return;
}

void sock__loop_wake(struct sock_loop *loop)
{
	uint64_t one = 1;
	int saved = errno;

	/* write(2) is async-signal-safe; EAGAIN means already awake. */
	if (write(loop->wake_fd, &one, sizeof(one)) < 0)
		errno = saved;
}

void sock_loop_stop(struct sock_loop *loop)
{
	atomic_store(&loop->stop, 1);
	sock__loop_wake(loop);
}

/* Start the engine, falling back to epoll when io_uring is refused. */
static int start_engine(struct sock_loop *loop, enum sock_engine kind)
{
	int err;

	loop->eng = engine_for(kind);
	err = loop->eng->init(loop);
	if (err && loop->eng != &sock__engine_epoll) {
		loop->eng = &sock__engine_epoll;
		err = loop->eng->init(loop);
	}
	return err;
}

int sock_loop_new(struct sock_loop **out, enum sock_engine engine)
{
	struct sock_loop *loop;
	int err;

	*out = NULL;
	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->sig_fd = -1;
	sigemptyset(&loop->sig_mask);
	sock__loop_update_time(loop);
	loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wake_fd < 0) {
		err = -errno;
		goto out_free;
	}
	err = start_engine(loop, engine);
	if (err)
		goto out_close;
	err = sock_watch(loop, &loop->wake_watch, loop->wake_fd, POLLIN,
			 wake_ready, NULL);
	if (err)
		goto out_release;
	*out = loop;
	return 0;

out_release:
	loop->eng->release(loop);
out_close:
	close(loop->wake_fd);
out_free:
	free(loop);
	return err;
}

void sock_loop_free(struct sock_loop *loop)
{
	if (!loop)
		return;
	assert(!loop->running);
	sock_unwatch(&loop->wake_watch);
	if (loop->sig_fd >= 0) {
		sock_unwatch(&loop->sig_watch);
		close(loop->sig_fd);
	}
	loop->eng->release(loop);
	close(loop->wake_fd);
	free(loop->heap);
	free(loop);
}

/* ---- timers: a binary min-heap ---- */

static bool timer_before(const struct sock_timer *a, const struct sock_timer *b)
{
	return a->when < b->when;
}

static void heap_set(struct sock_loop *loop, size_t i, struct sock_timer *t)
{
	loop->heap[i] = t;
	t->slot = i + 1;
}

static void heap_up(struct sock_loop *loop, size_t i)
{
	struct sock_timer *t = loop->heap[i];

	while (i > 0 && timer_before(t, loop->heap[(i - 1) / 2])) {
		heap_set(loop, i, loop->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct sock_loop *loop, size_t i)
{
	struct sock_timer *t = loop->heap[i];
	size_t child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= loop->nheap)
			break;
		if (child + 1 < loop->nheap &&
		    timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timer_before(loop->heap[child], t))
			break;
		heap_set(loop, i, loop->heap[child]);
		i = child;
	}
	heap_set(loop, i, t);
}

void sock_timer_init(struct sock_timer *timer,
		     void (*cb)(struct sock_timer *timer, void *arg), void *arg)
{
	memset(timer, 0, sizeof(*timer));
	timer->cb = cb;
	timer->arg = arg;
}

void sock_timer_stop(struct sock_loop *loop, struct sock_timer *timer)
{
	size_t i;

	if (!timer->slot)
		return;
	i = timer->slot - 1;
	timer->slot = 0;
	loop->nheap--;
	if (i == loop->nheap)
		return;
	heap_set(loop, i, loop->heap[loop->nheap]);
	heap_up(loop, i);
	heap_down(loop, loop->heap[i]->slot - 1);
}

int sock_timer_start(struct sock_loop *loop, struct sock_timer *timer,
		     int after_ms, int repeat_ms)
{
	struct sock_timer **heap;
	size_t cap;

	if (after_ms < 0 || repeat_ms < 0)
		return -EINVAL;
	sock_timer_stop(loop, timer);
	if (loop->nheap == loop->heap_cap) {
		cap = loop->heap_cap ? 2 * loop->heap_cap : 16;
		heap = realloc(loop->heap, cap * sizeof(*heap));
		if (!heap)
			return -ENOMEM;
		loop->heap = heap;
		loop->heap_cap = cap;
	}
	timer->when = loop->now_ms + after_ms;
	timer->period = repeat_ms;
	heap_set(loop, loop->nheap++, timer);
	heap_up(loop, loop->nheap - 1);
	return 0;
}

/*
 * Fire the timers that are due; return ms until the next, or -1.  A pass
 * fires at most as many timers as there were when it began, so a timer
 * restarted from its own callback with 0 ms cannot starve I/O: it fires
 * again after the next poll (a timeout of 0 is returned).
 */
static int run_timers(struct sock_loop *loop)
{
	size_t budget = loop->nheap;
	struct sock_timer *t;
	int64_t left;

	while (loop->nheap) {
		if (budget-- == 0)
			return 0;
		t = loop->heap[0];
		if (t->when > loop->now_ms) {
			left = t->when - loop->now_ms;
			return left > INT32_MAX ? INT32_MAX : (int)left;
		}
		sock_timer_stop(loop, t);
		if (t->period) {
			/* Re-arm before the callback, which may stop it. */
			t->when = loop->now_ms + t->period;
			heap_set(loop, loop->nheap++, t);
			heap_up(loop, loop->nheap - 1);
		}
		t->cb(t, t->arg);
		if (atomic_load_explicit(&loop->stop, memory_order_relaxed))
			return 0;
	}
	return -1;
}

/* ---- watches ---- */

int sock_watch(struct sock_loop *loop, struct sock_watch *watch, int fd,
	       int events,
	       void (*cb)(struct sock_watch *watch, int revents, void *arg),
	       void *arg)
{
	int err;

	memset(watch, 0, sizeof(*watch));
	watch->fd = fd;
	watch->events = events;
	watch->cb = cb;
	watch->arg = arg;
	watch->loop = loop;
	err = loop->eng->watch_add(loop, watch);
	if (err)
		return err;
	watch->active = 1;
	return 0;
}

void sock_unwatch(struct sock_watch *watch)
{
	if (!watch->active)
		return;
	watch->active = 0;
	watch->loop->eng->watch_del(watch->loop, watch);
}

/* ---- signals ---- */

static void signals_ready(struct sock_watch *w, int revents, void *arg)
{
	struct sock_loop *loop = arg;
	struct signalfd_siginfo si[8];
	ssize_t n, i;
	int signo;

	(void)revents;
	n = read(w->fd, si, sizeof(si));
	for (i = 0; n > 0 && i < n / (ssize_t)sizeof(si[0]); i++) {
		signo = (int)si[i].ssi_signo;
		if (signo > 0 && signo < _NSIG && loop->sig[signo].cb)
			loop->sig[signo].cb(loop, signo, loop->sig[signo].arg);
	}
}

int sock_loop_signal(struct sock_loop *loop, int signo,
		     void (*cb)(struct sock_loop *loop, int signo, void *arg),
		     void *arg)
{
	sigset_t one, old;
	int fd, err;

	if (signo <= 0 || signo >= _NSIG || !cb)
		return -EINVAL;
	if (loop->sig[signo].cb)
		return -EEXIST;
	sigemptyset(&one);
	sigaddset(&one, signo);
	err = pthread_sigmask(SIG_BLOCK, &one, &old);
	if (err)
		return -err;
	sigaddset(&loop->sig_mask, signo);
	fd = signalfd(loop->sig_fd, &loop->sig_mask,
		      SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_unblock;
	}
	if (loop->sig_fd < 0) {
		loop->sig_fd = fd;
		err = sock_watch(loop, &loop->sig_watch, fd, POLLIN,
				 signals_ready, loop);
		if (err) {
			close(fd);
			loop->sig_fd = -1;
			goto out_unblock;
		}
	}
	loop->sig[signo].cb = cb;
	loop->sig[signo].arg = arg;
	return 0;

out_unblock:
	/* The caller's mask as it was: a signal it let through still
	 * reaches it. */
	sigdelset(&loop->sig_mask, signo);
	if (!sigismember(&old, signo))
		pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	return err;
}

/* ---- running ---- */

void sock__loop_after_batch(struct sock_loop *loop)
{
	if (loop->worker)
		sock__worker_after_batch(loop->worker);
}

int sock_loop_run(struct sock_loop *loop)
{
	int timeout, err = 0;

	assert(!loop->running);
	loop->running = true;
	sock__loop_update_time(loop);
	if (!atomic_load(&loop->started_ns))
		atomic_store(&loop->started_ns, sock__now_ns());
	atomic_store(&loop->ended_ns, 0);
	while (!atomic_load_explicit(&loop->stop, memory_order_acquire)) {
		timeout = run_timers(loop);
		sock__loop_after_batch(loop);
		if (atomic_load_explicit(&loop->stop, memory_order_acquire))
			break;
		if (loop->busy_poll)
			timeout = 0;
		err = loop->eng->wait(loop, timeout);
		if (err)
			break;
	}
	atomic_store(&loop->stop, 0);
	atomic_store(&loop->ended_ns, sock__now_ns());
	loop->running = false;
	return err;
}

/* SPDX-License-Identifier: MIT */
/* server.c -- the server: settings, workers, listeners, accepting, run, stop */

#include "core.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- settings ---- */

static void apply_defaults(struct sock_server_config *c)
{
	if (!c->workers)
		c->workers = 1;
	if (!c->max_conns)
		c->max_conns = 10000;
	if (!c->max_per_source)
		c->max_per_source = 256;
	if (!c->idle_timeout_ms)
		c->idle_timeout_ms = 300000;
	if (!c->total_timeout_ms)
		c->total_timeout_ms = SOCK_FOREVER;
	if (!c->grace_ms)
		c->grace_ms = 2000;
	if (!c->output_limit)
		c->output_limit = 256 * 1024;
	if (!c->pool_threads)
		c->pool_threads = 16;
	if (!c->max_datagram)
		c->max_datagram = 65536;
	if (!c->dgram_rate)
		c->dgram_rate = 1000;
}

static int check_config(const struct sock_server_config *c)
{
	if (c->workers > 256 || c->pool_threads > 4096 ||
	    c->idle_timeout_ms < SOCK_FOREVER ||
	    c->total_timeout_ms < SOCK_FOREVER || c->grace_ms < 0 ||
	    c->output_limit > (1u << 28) || c->max_datagram > (1u << 24) ||
	    c->engine > SOCK_ENGINE_URING)
		return -EINVAL;
	return 0;
}

/* ---- events ---- */

static const char *const report_what[SOCK__REPORT_COUNT] = {
	[SOCK__REPORT_MAX_CONNS] = "max-connections",
	[SOCK__REPORT_PER_SOURCE] = "max-per-source",
	[SOCK__REPORT_IDLE] = "idle-timeout",
	[SOCK__REPORT_TOTAL] = "total-timeout",
	[SOCK__REPORT_DESCRIPTORS] = "descriptors",
	[SOCK__REPORT_OVERFLOW] = "output-overflow",
	[SOCK__REPORT_TRUNCATED] = "datagram-truncated",
	[SOCK__REPORT_PRIVILEGED] = "privileged-source-port",
	[SOCK__REPORT_OWN_PORT] = "own-service-port",
	[SOCK__REPORT_RATE] = "datagram-rate",
	[SOCK__REPORT_ACCEPT] = "accept",
	[SOCK__REPORT_NOMEM] = "memory",
};

static void emit_full(struct sock__worker *w, struct sock_event *ev)
{
	ev->worker = w->index;
	w->srv->cfg.on_event(ev, w->srv->cfg.event_data);
}

void sock__emit(struct sock__worker *w, enum sock_event_kind kind,
		const char *service, const struct sock_addr *addr, int err,
		const char *what)
{
	struct sock_event ev;

	if (!w->srv->cfg.on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.service = service;
	ev.addr = addr;
	ev.err = err;
	ev.what = what;
	emit_full(w, &ev);
}

static void emit_report(struct sock__worker *w, enum sock__report_kind kind,
			const char *service, const struct sock_addr *addr,
			int err, unsigned int count)
{
	struct sock_event ev;

	if (!w->srv->cfg.on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind == SOCK__REPORT_ACCEPT || kind == SOCK__REPORT_NOMEM
			  ? SOCK_EV_ERROR
			  : SOCK_EV_LIMIT;
	ev.service = service;
	ev.addr = addr;
	ev.err = err;
	ev.what = report_what[kind];
	ev.count = count;
	emit_full(w, &ev);
}

void sock__report(struct sock__worker *w, enum sock__report_kind kind,
		  const char *service, const struct sock_addr *addr, int err)
{
	struct sock__report *r = &w->reports[kind];
	int64_t now = w->loop->now_ms;

	if (r->last_ms && now - r->last_ms < 1000) {
		r->suppressed++;
		r->service = service;
		r->err = err;
		return;
	}
	r->last_ms = now ? now : 1;
	r->suppressed = 0;
	emit_report(w, kind, service, addr, err, 1);
}

void sock__report_flush(struct sock__worker *w, bool all)
{
	int64_t now = w->loop->now_ms;
	struct sock__report *r;
	int k;

	for (k = 0; k < SOCK__REPORT_COUNT; k++) {
		r = &w->reports[k];
		if (!r->suppressed || (!all && now - r->last_ms < 1000))
			continue;
		emit_report(w, (enum sock__report_kind)k, r->service, NULL,
			    r->err, r->suppressed);
		r->suppressed = 0;
		r->last_ms = now;
	}
}

/* ---- per-source connection counts ---- */

void sock__host_key(const struct sock_addr *a, uint8_t key[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (sock_addr_family(a) == AF_INET) {
		memcpy(key, mapped, 12);
		memcpy(key + 12, &a->u.in.sin_addr, 4);
	} else {
		memcpy(key, &a->u.in6.sin6_addr, 16);
	}
}

uint32_t sock__host_hash(const uint8_t key[16])
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

static bool is_ip(const struct sock_addr *a)
{
	int f = sock_addr_family(a);

	return f == AF_INET || f == AF_INET6;
}

static struct sock__source **find_source(struct sock_server *srv,
					 const uint8_t key[16])
{
	struct sock__source **p;

	p = &srv->sources[sock__host_hash(key) % SOCK__SOURCE_BUCKETS];
	while (*p && memcmp((*p)->addr, key, 16) != 0)
		p = &(*p)->next;
	return p;
}

bool sock__source_add(struct sock_server *srv, const struct sock_addr *peer)
{
	struct sock__source **p, *s;
	uint8_t key[16];
	bool ok = true;

	if (!is_ip(peer) || srv->cfg.max_per_source == SOCK_UNLIMITED)
		return true;
	sock__host_key(peer, key);
	pthread_mutex_lock(&srv->src_lock);
	p = find_source(srv, key);
	if (*p) {
		ok = (*p)->count < srv->cfg.max_per_source;
		if (ok)
			(*p)->count++;
	} else {
		s = calloc(1, sizeof(*s));
		if (s) {
			memcpy(s->addr, key, 16);
			s->count = 1;
			*p = s;
		}
		/* Out of memory: serve rather than refuse; the count is
		 * only missing for this host. */
	}
	pthread_mutex_unlock(&srv->src_lock);
	return ok;
}

void sock__source_del(struct sock_server *srv, const struct sock_addr *peer)
{
	struct sock__source **p, *s;
	uint8_t key[16];

	if (!is_ip(peer) || srv->cfg.max_per_source == SOCK_UNLIMITED)
		return;
	sock__host_key(peer, key);
	pthread_mutex_lock(&srv->src_lock);
	p = find_source(srv, key);
	s = *p;
	if (s && --s->count == 0) {
		*p = s->next;
		free(s);
	}
	pthread_mutex_unlock(&srv->src_lock);
}

static void free_sources(struct sock_server *srv)
{
	struct sock__source *s, *next;
	size_t i;

	for (i = 0; i < SOCK__SOURCE_BUCKETS; i++) {
		for (s = srv->sources[i]; s; s = next) {
			next = s->next;
			free(s);
		}
		srv->sources[i] = NULL;
	}
}

/* ---- accepting ---- */

static bool is_stream(const struct sock__listener *l)
{
	return l->sock.type == SOCK_STREAM || l->sock.type == SOCK_SEQPACKET;
}

/* Make the engine's state match what l should be doing. */
static void update_listener(struct sock__listener *l)
{
	struct sock__worker *w = l->w;
	int err;
	bool want = !l->closed && !w->stopping && w->started &&
		    !l->resume.slot && !(is_stream(l) && w->cap_paused);

	if (want == !l->paused)
		return;
	if (want) {
		err = w->loop->eng->listener_start(l);
		if (err == 0) {
			l->paused = false;
			return;
		}
		/* Out of memory, say: try again after a while rather than
		 * leave the listener paused for good, unseen. */
		sock__report(w, SOCK__REPORT_ACCEPT, l->svc->name, &l->addr,
			     err);
		if (sock_timer_start(w->loop, &l->resume, 1000, 0) == 0)
			return;
	} else {
		w->loop->eng->listener_pause(l);
		l->paused = true;
	}
}

void sock__worker_pause_accepting(struct sock__worker *w, bool pause)
{
	size_t i;

	w->cap_paused = pause;
	for (i = 0; i < w->nlis; i++)
		update_listener(w->lis[i]);
}

void sock__worker_conn_started(struct sock__worker *w, const char *service)
{
	struct sock_server *srv = w->srv;
	unsigned int n;

	w->nconns++;
	n = atomic_fetch_add(&srv->nconns, 1) + 1;
	if (srv->cfg.max_conns != SOCK_UNLIMITED && n >= srv->cfg.max_conns &&
	    !w->cap_paused) {
		sock__report(w, SOCK__REPORT_MAX_CONNS, service, NULL, 0);
		sock__worker_pause_accepting(w, true);
	}
}

/* Resume accepting on w if the server is below its cap again. */
static void check_cap(struct sock__worker *w)
{
	if (w->cap_paused &&
	    atomic_load(&w->srv->nconns) < w->srv->cfg.max_conns)
		sock__worker_pause_accepting(w, false);
}

void sock__worker_conn_ended(struct sock__worker *w)
{
	struct sock_server *srv = w->srv;
	unsigned int n, i;

	w->nconns--;
	n = atomic_fetch_sub(&srv->nconns, 1);
	if (srv->cfg.max_conns == SOCK_UNLIMITED || n < srv->cfg.max_conns)
		return;
	/* The server was at its cap: any worker may have paused. */
	check_cap(w);
	for (i = 0; i < srv->nworkers; i++)
		if (&srv->workers[i] != w)
			sock__loop_wake(srv->workers[i].loop);
}

void sock__job_ended(struct sock__worker *w, const struct sock_addr *peer)
{
	sock__source_del(w->srv, peer);
	sock__worker_conn_ended(w);
}

void sock__listener_accepted(struct sock__listener *l, int fd,
			     const struct sockaddr *sa, socklen_t salen)
{
	struct sock__worker *w = l->w;
	struct sock_addr peer;
	struct sock s = { .fd = fd };

	if (w->stopping) {
		close(fd);
		return;
	}
	l->backoff_ms = 0;
	if (!sa || sock_addr_from_sockaddr(&peer, sa, salen))
		if (sock_getpeername(&s, &peer))
			memset(&peer, 0, sizeof(peer));
	if (!sock__source_add(w->srv, &peer)) {
		sock__report(w, SOCK__REPORT_PER_SOURCE, l->svc->name, &peer,
			     -EMFILE);
		close(fd);
		return;
	}
	if (l->svc->mode == SOCK_MODE_EVENT) {
		sock__conn_open(l, fd, &peer);
		return;
	}
	sock__worker_conn_started(w, l->svc->name);
	sock__emit(w, SOCK_EV_ACCEPT, l->svc->name, &peer, 0, NULL);
	sock__job_accepted(l, fd, &peer);
}

static void resume_listener(struct sock_timer *t, void *arg)
{
	struct sock__listener *l = arg;

	(void)t;
	update_listener(l);
}

/*
 * Out of descriptors: the pending connection cannot be accepted, and
 * level-triggered readiness would report it again at once, forever.  Free
 * the descriptor kept in reserve, accept the connection and close it (the
 * client sees a clean close instead of a hang), take the reserve back,
 * and pause accepting for a back-off that doubles up to a second.
 */
void sock__listener_accept_failed(struct sock__listener *l, int err)
{
	struct sock__worker *w = l->w;
	int fd;

	if ((err == -EMFILE || err == -ENFILE) && w->reserve_fd >= 0) {
		close(w->reserve_fd);
		fd = accept4(l->sock.fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	sock__report(w,
		     err == -EMFILE || err == -ENFILE ? SOCK__REPORT_DESCRIPTORS
						      : SOCK__REPORT_ACCEPT,
		     l->svc->name, NULL, err);
	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : 50;
	if (l->backoff_ms > 1000)
		l->backoff_ms = 1000;
	if (sock_timer_start(w->loop, &l->resume, l->backoff_ms, 0) == 0)
		update_listener(l);
}

/* ---- workers ---- */

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

static void close_listener(struct sock__listener *l)
{
	if (l->closed)
		return;
	sock_timer_stop(l->w->loop, &l->resume);
	l->w->loop->eng->listener_close(l);
	l->closed = true;
	l->paused = true;
	l->w->nlis_open--;
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
	for (i = 0; i < w->nlis; i++)
		close_listener(w->lis[i]);
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

static int worker_init(struct sock_server *srv, struct sock__worker *w,
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
	w->tick_ms = tick_interval(&srv->cfg);
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	err = sock_loop_new(&w->loop, srv->cfg.engine);
	if (err)
		return err;
	w->loop->worker = w;
	w->loop->busy_poll = srv->cfg.busy_poll;
	return 0;
}

static void free_listener(struct sock__listener *l)
{
	if (!l->closed && l->w->started)
		close_listener(l);
	else if (!l->closed)
		sock_close(&l->sock);
	free(l);
}

static void worker_release(struct sock__worker *w)
{
	size_t i;

	for (i = 0; i < w->nlis; i++)
		free_listener(w->lis[i]);
	free(w->lis);
	sock__jobs_release(w);
	sock_loop_free(w->loop);
	sock__conn_release_slabs(w);
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
}

int sock_server_new(struct sock_server **out,
		    const struct sock_server_config *config)
{
	struct sock_server *srv;
	unsigned int i;
	int err;

	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	if (config)
		srv->cfg = *config;
	err = check_config(&srv->cfg);
	if (err)
		goto out_free;
	apply_defaults(&srv->cfg);
	pthread_mutex_init(&srv->src_lock, NULL);
	pthread_mutex_init(&srv->rate_lock, NULL);
	srv->workers = calloc(srv->cfg.workers, sizeof(*srv->workers));
	if (!srv->workers) {
		err = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < srv->cfg.workers; i++) {
		err = worker_init(srv, &srv->workers[i], i);
		srv->nworkers = i + 1;
		if (err)
			goto out_server;
	}
	*out = srv;
	return 0;

out_server:
	sock_server_free(srv);
	return err;
out_free:
	free(srv);
	return err;
}

void sock_server_free(struct sock_server *srv)
{
	struct sock__adopted *a, *next;
	unsigned int i;

	if (!srv)
		return;
	for (i = 0; i < srv->nworkers; i++)
		worker_release(&srv->workers[i]);
	for (a = srv->adopted; a; a = next) {
		next = a->next;
		sock_close(&a->sock);
		free(a);
	}
	free_sources(srv);
	free(srv->rates);
	free(srv->workers);
	pthread_mutex_destroy(&srv->src_lock);
	pthread_mutex_destroy(&srv->rate_lock);
	free(srv);
}

/* ---- listeners ---- */

static int check_service(const struct sock_service *svc, int type)
{
	bool dgram = type == SOCK_DGRAM;

	if (!svc || !svc->name || svc->mode > SOCK_MODE_FORK)
		return -EINVAL;
	if (svc->mode == SOCK_MODE_EVENT)
		return (dgram ? svc->on_datagram != NULL : svc->on_data != NULL)
			       ? 0
			       : -EINVAL;
	return (dgram ? svc->handle_datagram != NULL : svc->handle != NULL)
		       ? 0
		       : -EINVAL;
}

static int attach_listener(struct sock__worker *w,
			   const struct sock_service *svc, struct sock *s,
			   int index)
{
	struct sock__listener *l, **lis;
	size_t cap;

	if (w->nlis == w->lis_cap) {
		cap = w->lis_cap ? 2 * w->lis_cap : 8;
		lis = realloc(w->lis, cap * sizeof(*lis));
		if (!lis)
			return -ENOMEM;
		w->lis = lis;
		w->lis_cap = cap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->sock = *s;
	sock__clear(s);
	l->svc = svc;
	l->w = w;
	l->index = index;
	l->paused = true;
	sock_timer_init(&l->resume, resume_listener, l);
	if (sock_getsockname(&l->sock, &l->addr))
		memset(&l->addr, 0, sizeof(l->addr));
	w->lis[w->nlis++] = l;
	w->nlis_open++;
	return 0;
}

static int remember_port(struct sock_server *srv, const struct sock_addr *a,
			 int type)
{
	int port = sock_addr_port(a);

	if (type != SOCK_DGRAM || port <= 0)
		return 0;
	if (srv->nown_ports < SOCK_ARRAY_SIZE(srv->own_ports))
		srv->own_ports[srv->nown_ports++] = (uint16_t)port;
	if (!srv->rates) {
		srv->rates = calloc(SOCK__RATE_SLOTS, sizeof(*srv->rates));
		if (!srv->rates)
			return -ENOMEM;
	}
	return 0;
}

/* Undo a sock_server_add that failed half-way: the listeners numbered
 * index that earlier workers got. */
static void detach_listeners(struct sock_server *srv, int index)
{
	struct sock__worker *w;
	unsigned int i;

	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		if (w->nlis && w->lis[w->nlis - 1]->index == index) {
			free_listener(w->lis[--w->nlis]);
			w->nlis_open--;
		}
	}
}

int sock_server_add(struct sock_server *srv, const struct sock_service *svc,
		    int type, const char *text, int flags)
{
	char bound[SOCK_ADDR_STRLEN];
	struct sock_addr addr;
	unsigned int i, n;
	struct sock s;
	int err, index;

	err = check_service(svc, type);
	if (err || srv->ran)
		return err ? err : -EBUSY;
	n = srv->nworkers;
	if ((svc->flags & SOCK_SERVICE_ONE_LOOP) ||
	    sock__addr_is_local_text(text))
		n = 1;
	if (n > 1)
		flags |= SOCK_LISTEN_REUSEPORT;
	index = srv->next_index++;
	for (i = 0; i < n; i++) {
		/* Every worker's socket on the port the first one got. */
		err = sock_listen(&s, type, i ? bound : text, 0, flags);
		if (err)
			return err;
		if (i == 0) {
			err = sock_getsockname(&s, &addr);
			if (!err &&
			    sock_addr_format(&addr, bound, sizeof(bound)) < 0)
				err = -ENOSPC;
			if (!err)
				err = remember_port(srv, &addr, type);
		}
		if (!err)
			err = attach_listener(&srv->workers[i], svc, &s, index);
		if (err) {
			sock_close(&s);
			detach_listeners(srv, index);
			return err;
		}
	}
	if (svc->mode == SOCK_MODE_FORK)
		srv->forks = true;
	return index;
}

int sock_server_adopt(struct sock_server *srv, const struct sock_service *svc,
		      struct sock *sock)
{
	struct sock_addr addr;
	struct sock__adopted *a;
	int listening = 0, err, index;

	if (srv->ran || sock->fd < 0)
		return -EINVAL;
	err = check_service(svc, sock->type);
	if (err)
		return err;
	if (svc->mode == SOCK_MODE_FORK)
		srv->forks = true;
	if (sock->type != SOCK_DGRAM) {
		err = sock_getsockopt(sock, SOL_SOCKET, SO_ACCEPTCONN,
				      &listening);
		if (err)
			return err;
	}
	if (sock->type == SOCK_DGRAM || listening) {
		index = srv->next_index++;
		if (sock_getsockname(sock, &addr) == 0) {
			err = remember_port(srv, &addr, sock->type);
			if (err)
				return err;
		}
		err = attach_listener(&srv->workers[0], svc, sock, index);
		return err ? err : index;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->sock = *sock;
	a->svc = svc;
	sock__clear(sock);
	a->next = srv->adopted;
	srv->adopted = a;
	return 0;
}

int sock_server_addr(const struct sock_server *srv, int index,
		     struct sock_addr *addr)
{
	const struct sock__worker *w = &srv->workers[0];
	size_t i;

	for (i = 0; i < w->nlis; i++) {
		if (w->lis[i]->index == index) {
			*addr = w->lis[i]->addr;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- running ---- */

void sock_server_stop(struct sock_server *srv)
{
	unsigned int i;

	atomic_store(&srv->stopping, 1);
	for (i = 0; i < srv->nworkers; i++)
		sock__loop_wake(srv->workers[i].loop);
}

static void on_signal(struct sock_loop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	sock_server_stop(arg);
}

static int catch_signals(struct sock_server *srv)
{
	struct sock_loop *loop = srv->workers[0].loop;
	int err;

	if (pthread_sigmask(SIG_SETMASK, NULL, &srv->old_sigmask) == 0)
		srv->sigmask_saved = true;
	err = sock_loop_signal(loop, SIGINT, on_signal, srv);
	if (!err)
		err = sock_loop_signal(loop, SIGTERM, on_signal, srv);
	return err;
}

/*
 * After the stop, give the program its signal mask back.  A SIGINT or
 * SIGTERM that came while the server was stopping (a second Ctrl-C, or
 * timeout(1) and systemd signalling the process and then its group) asked
 * for what is done: it is taken, not left pending to kill the process
 * once unblocked.  Signals the program itself had blocked stay pending.
 */
static void restore_signals(struct sock_server *srv)
{
	static const struct timespec now = { 0, 0 };
	sigset_t ours;

	sigemptyset(&ours);
	if (!sigismember(&srv->old_sigmask, SIGINT))
		sigaddset(&ours, SIGINT);
	if (!sigismember(&srv->old_sigmask, SIGTERM))
		sigaddset(&ours, SIGTERM);
	while (sigtimedwait(&ours, NULL, &now) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &srv->old_sigmask, NULL);
}

static void open_adopted(struct sock_server *srv)
{
	struct sock__worker *w = &srv->workers[0];
	struct sock__listener *l;
	struct sock__adopted *a;
	struct sock_addr peer;
	int fd;

	while ((a = srv->adopted)) {
		srv->adopted = a->next;
		/* A connection needs a listener for its service and
		 * worker: a closed stand-in. */
		if (attach_listener(w, a->svc, &a->sock, -1) == 0) {
			l = w->lis[w->nlis - 1];
			l->closed = true;
			w->nlis_open--;
			if (sock_getpeername(&l->sock, &peer))
				memset(&peer, 0, sizeof(peer));
			/* The stand-in keeps family and type for the
			 * handler's socket; only the descriptor moves. */
			fd = l->sock.fd;
			l->sock.fd = -1;
			sock__listener_accepted(
				l, fd, peer.len ? &peer.u.sa : NULL, peer.len);
		} else {
			sock_close(&a->sock);
		}
		free(a);
	}
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
		update_listener(w->lis[i]);
		if (!w->lis[i]->closed)
			sock__emit(w, SOCK_EV_LISTEN, w->lis[i]->svc->name,
				   &w->lis[i]->addr, 0, NULL);
	}
	if (w->index == 0)
		open_adopted(w->srv);
	if (sock_timer_start(w->loop, &w->tick, w->tick_ms, w->tick_ms))
		w->run_err = -ENOMEM;
}

static void *worker_main(void *arg)
{
	struct sock__worker *w = arg;

	start_worker(w);
	if (!w->run_err)
		w->run_err = sock_loop_run(w->loop);
	/* One worker that cannot serve stops them all: run must return. */
	if (w->run_err)
		sock_server_stop(w->srv);
	return NULL;
}

int sock_server_run(struct sock_server *srv)
{
	unsigned int i;
	int err = 0;

	if (srv->ran)
		return -EBUSY;
	srv->ran = true;
	if (srv->cfg.stop_on_signals) {
		err = catch_signals(srv);
		if (err)
			return err;
	}
	for (i = 1; i < srv->nworkers; i++) {
		err = -pthread_create(&srv->workers[i].thread, NULL,
				      worker_main, &srv->workers[i]);
		if (err) {
			sock_server_stop(srv);
			break;
		}
		srv->workers[i].thread_started = true;
	}
	worker_main(&srv->workers[0]);
	for (i = 1; i < srv->nworkers; i++)
		if (srv->workers[i].thread_started)
			pthread_join(srv->workers[i].thread, NULL);
	/* "run returns when every handler has returned": join the pools. */
	for (i = 0; i < srv->nworkers; i++)
		sock__jobs_release(&srv->workers[i]);
	for (i = 0; i < srv->nworkers && !err; i++)
		err = srv->workers[i].run_err;
	if (srv->sigmask_saved)
		restore_signals(srv);
	return err;
}

int sock_serve(const struct sock_service *svc, int type, const char *addr,
	       const struct sock_server_config *config)
{
	struct sock_server_config defaults = { .stop_on_signals = true };
	struct sock_server *srv;
	int err;

	err = sock_server_new(&srv, config ? config : &defaults);
	if (err)
		return err;
	err = sock_server_add(srv, svc, type, addr, 0);
	if (err >= 0)
		err = sock_server_run(srv);
	sock_server_free(srv);
	return err < 0 ? err : 0;
}

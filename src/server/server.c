/* SPDX-License-Identifier: MIT */
/* server.c -- the public server: settings, services and listeners, run, stop */

#include "core.h"

#include <stdlib.h>
#include <string.h>

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
		c->dgram_rate = 5;
	if (!c->dgram_burst)
		c->dgram_burst = 5;
	if (!c->dgram_amplification)
		c->dgram_amplification = 2;
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
	pthread_mutex_init(&srv->gate_lock, NULL);
	pthread_cond_init(&srv->gate_cond, NULL);
	sock__guard_init(&srv->guard, &srv->cfg);
	srv->workers = calloc(srv->cfg.workers, sizeof(*srv->workers));
	if (!srv->workers) {
		err = -ENOMEM;
		goto out_free;
	}
	for (i = 0; i < srv->cfg.workers; i++) {
		err = sock__worker_init(srv, &srv->workers[i], i);
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
		sock__worker_release(&srv->workers[i]);
	for (a = srv->adopted; a; a = next) {
		next = a->next;
		sock_close(&a->sock);
		free(a);
	}
	sock__sources_free(srv);
	sock__access_free(srv);
	sock__guard_release(&srv->guard);
	free(srv->workers);
	pthread_mutex_destroy(&srv->src_lock);
	pthread_mutex_destroy(&srv->gate_lock);
	pthread_cond_destroy(&srv->gate_cond);
	free(srv);
}

static int check_service(const struct sock_service *svc, int type)
{
	bool dgram = type == SOCK_DGRAM;

	if (!svc || !svc->name || svc->mode > SOCK_MODE_FORK)
		return -EINVAL;
	/* A stream service may only send (daytime): on_open is enough. */
	if (svc->mode == SOCK_MODE_EVENT)
		return (dgram ? svc->on_datagram != NULL
			      : svc->on_data != NULL || svc->on_open != NULL)
			       ? 0
			       : -EINVAL;
	return (dgram ? svc->handle_datagram != NULL : svc->handle != NULL)
		       ? 0
		       : -EINVAL;
}

static int remember_port(struct sock_server *srv, const struct sock_addr *a,
			 int type)
{
	int port = sock_addr_port(a);

	if (type != SOCK_DGRAM || port <= 0)
		return 0;
	if (srv->nown_ports < SOCK_ARRAY_SIZE(srv->own_ports))
		srv->own_ports[srv->nown_ports++] = (uint16_t)port;
	return sock__guard_alloc(&srv->guard);
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
			sock__listener_free(w->lis[--w->nlis]);
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
			err = sock__listener_attach(&srv->workers[i], svc, &s,
						    index);
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
		err = sock__listener_attach(&srv->workers[0], svc, sock, index);
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

/* Set one of srv's hooks, before run. */
static int set_hook(struct sock_server *srv, struct sock__hook *hook, int ms,
		    sock_every_fn fn, void *data)
{
	if (fn && ms < 1)
		return -EINVAL;
	if (srv->ran)
		return -EBUSY;
	*hook = (struct sock__hook){ fn, data, ms };
	return 0;
}

int sock_server_every(struct sock_server *srv, int interval_ms,
		      sock_every_fn fn, void *data)
{
	return srv ? set_hook(srv, &srv->every, interval_ms, fn, data)
		   : -EINVAL;
}

int sock_server_idle(struct sock_server *srv, int timeout_ms, sock_every_fn fn,
		     void *data)
{
	return srv ? set_hook(srv, &srv->idle, timeout_ms, fn, data) : -EINVAL;
}

/* A walk over the sockets of one listener number, one per worker that
 * has it: start at { 0 }; NULL after the last. */
struct lis_walk {
	unsigned int w;
	size_t j;
};

static struct sock__listener *lis_next(const struct sock_server *srv, int index,
				       struct lis_walk *it)
{
	struct sock__listener *l;

	for (; it->w < srv->nworkers; it->w++, it->j = 0) {
		while (it->j < srv->workers[it->w].nlis) {
			l = srv->workers[it->w].lis[it->j++];
			if (l->index == index)
				return l;
		}
	}
	return NULL;
}

int sock_server_handler_timeout(struct sock_server *srv, int index,
				int timeout_ms)
{
	struct lis_walk it = { 0 };
	struct sock__listener *l;
	bool found = false;

	if (!srv || timeout_ms < SOCK_FOREVER || timeout_ms == 0)
		return -EINVAL;
	if (srv->ran)
		return -EBUSY;
	while ((l = lis_next(srv, index, &it))) {
		l->handler_timeout_ms = timeout_ms;
		found = true;
	}
	return found ? 0 : -ENOENT;
}

int sock_server_backlog(struct sock_server *srv, int index, int backlog)
{
	struct lis_walk it = { 0 };
	struct sock__listener *l;
	bool found = false;

	if (!srv || backlog < 1)
		return -EINVAL;
	/* Before run only: a running worker may close its listener, and
	 * the number could then name another socket. */
	if (srv->ran)
		return -EBUSY;
	while ((l = lis_next(srv, index, &it))) {
		if (sock__listener_is_dgram(l))
			return -EOPNOTSUPP;
		found = true;
		/* listen() again sets the queue's length. */
		if (l->sock.fd >= 0 && listen(l->sock.fd, backlog) < 0)
			return -errno;
	}
	return found ? 0 : -ENOENT;
}

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

void sock__server_open_adopted(struct sock_server *srv)
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
		if (sock__listener_attach(w, a->svc, &a->sock, -1) == 0) {
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

/* What the worker threads find at the gate. */
enum { GATE_WAIT, GATE_OPEN, GATE_CLOSED };

static void *worker_thread(void *arg)
{
	struct sock__worker *w = arg;
	struct sock_server *srv = w->srv;
	int gate;

	pthread_mutex_lock(&srv->gate_lock);
	while ((gate = srv->gate) == GATE_WAIT)
		pthread_cond_wait(&srv->gate_cond, &srv->gate_lock);
	pthread_mutex_unlock(&srv->gate_lock);
	return gate == GATE_OPEN ? sock__worker_main(w) : NULL;
}

static void set_gate(struct sock_server *srv, int gate)
{
	pthread_mutex_lock(&srv->gate_lock);
	srv->gate = gate;
	pthread_cond_broadcast(&srv->gate_cond);
	pthread_mutex_unlock(&srv->gate_lock);
}

static void join_workers(struct sock_server *srv)
{
	unsigned int i;

	for (i = 1; i < srv->nworkers; i++) {
		if (srv->workers[i].thread_started)
			pthread_join(srv->workers[i].thread, NULL);
		srv->workers[i].thread_started = false;
	}
}

/*
 * Start a thread for every worker but the first.  They wait at the gate
 * until all exist, so a run that cannot have them all serves nothing:
 * the ones started leave without listening, accepting or reporting.
 */
static int start_workers(struct sock_server *srv)
{
	unsigned int i;
	int err = 0;

	srv->gate = GATE_WAIT;
	for (i = 1; i < srv->nworkers && !err; i++) {
		err = -pthread_create(&srv->workers[i].thread, NULL,
				      worker_thread, &srv->workers[i]);
		srv->workers[i].thread_started = !err;
	}
	set_gate(srv, err ? GATE_CLOSED : GATE_OPEN);
	if (err)
		join_workers(srv);
	return err;
}

int sock_server_run(struct sock_server *srv)
{
	unsigned int i;
	int err;

	if (atomic_exchange(&srv->ran, true))
		return -EBUSY;
	if (srv->cfg.stop_on_signals) {
		err = catch_signals(srv);
		/* Not started: the signals blocked so far are unblocked. */
		if (err && srv->sigmask_saved)
			pthread_sigmask(SIG_SETMASK, &srv->old_sigmask, NULL);
		if (err)
			goto out_mask;
	}
	err = start_workers(srv);
	if (err)
		goto out_mask;
	sock__worker_main(&srv->workers[0]);
	join_workers(srv);
	/* "run returns when every handler has returned": join the pools. */
	for (i = 0; i < srv->nworkers; i++)
		sock__jobs_release(&srv->workers[i]);
	for (i = 0; i < srv->nworkers && !err; i++)
		err = srv->workers[i].run_err;
	if (srv->sigmask_saved)
		restore_signals(srv);
	return err;

out_mask:
	/* Nothing was served: the caller's mask as it was, and a SIGINT or
	 * SIGTERM that came meanwhile is the caller's (delivered now if it
	 * lets them through), not a stop request. */
	if (srv->sigmask_saved)
		pthread_sigmask(SIG_SETMASK, &srv->old_sigmask, NULL);
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

/* ---- statistics ---- */

static const char *const stat_names[SOCK_STAT_COUNT] = {
	[SOCK_STAT_ACCEPTED] = "accepted",
	[SOCK_STAT_CLOSED] = "closed",
	[SOCK_STAT_OPEN] = "open",
	[SOCK_STAT_BYTES_IN] = "bytes_in",
	[SOCK_STAT_BYTES_OUT] = "bytes_out",
	[SOCK_STAT_DGRAMS_IN] = "dgrams_in",
	[SOCK_STAT_DGRAMS_OUT] = "dgrams_out",
	[SOCK_STAT_AT_CAP] = "at_cap",
	[SOCK_STAT_PER_SOURCE] = "per_source",
	[SOCK_STAT_ACCESS] = "access",
	[SOCK_STAT_VERIFY] = "verify",
	[SOCK_STAT_PROXY_SOURCE] = "proxy_source",
	[SOCK_STAT_PROXY_HEADER] = "proxy_header",
	[SOCK_STAT_DESCRIPTORS] = "descriptors",
	[SOCK_STAT_IDLE_TIMEOUT] = "idle_timeout",
	[SOCK_STAT_TOTAL_TIMEOUT] = "total_timeout",
	[SOCK_STAT_OUTPUT_OVERFLOW] = "output_overflow",
	[SOCK_STAT_DGRAM_TRUNCATED] = "dgram_truncated",
	[SOCK_STAT_DGRAM_PRIVILEGED] = "dgram_privileged",
	[SOCK_STAT_DGRAM_OWN_PORT] = "dgram_own_port",
	[SOCK_STAT_DGRAM_RATE] = "dgram_rate",
	[SOCK_STAT_DGRAM_LOOP] = "dgram_loop",
	[SOCK_STAT_DGRAM_AMPLIFICATION] = "dgram_amplification",
	[SOCK_STAT_ERRORS] = "errors",
	[SOCK_STAT_TLS_HANDSHAKE] = "tls_handshake",
	[SOCK_STAT_TLS_PROTOCOL] = "tls_protocol",
};

const char *sock_stat_name(int stat)
{
	return stat >= 0 && stat < SOCK_STAT_COUNT ? stat_names[stat] : NULL;
}

static void stat_sum(uint64_t sum[SOCK_STAT_COUNT], atomic_ullong *stat)
{
	int k;

	for (k = 0; k < SOCK_STAT_COUNT; k++)
		sum[k] += atomic_load_explicit(&stat[k], memory_order_relaxed);
}

int sock_server_stats(const struct sock_server *srv, int index, uint64_t *out,
		      size_t n)
{
	uint64_t sum[SOCK_STAT_COUNT] = { 0 };
	struct sock__listener *l;
	bool found = index < 0;
	unsigned int i;
	size_t j;

	if (!srv || (n && !out) || index < -1)
		return -EINVAL;
	for (i = 0; i < srv->nworkers; i++) {
		if (index < 0)
			stat_sum(sum, srv->workers[i].stat);
		for (j = 0; j < srv->workers[i].nlis; j++) {
			l = srv->workers[i].lis[j];
			if (index >= 0 && l->index != index)
				continue;
			stat_sum(sum, l->stat);
			found = true;
		}
	}
	if (!found)
		return -ENOENT;
	/* The counters are read one by one: a connection accepted and
	 * closed between two reads can make closed pass accepted for a
	 * moment, and open is then 0, not negative. */
	sum[SOCK_STAT_OPEN] =
		sum[SOCK_STAT_ACCEPTED] > sum[SOCK_STAT_CLOSED]
			? sum[SOCK_STAT_ACCEPTED] - sum[SOCK_STAT_CLOSED]
			: 0;
	memcpy(out, sum,
	       (n < SOCK_STAT_COUNT ? n : SOCK_STAT_COUNT) * sizeof(*out));
	if (n > SOCK_STAT_COUNT)
		memset(out + SOCK_STAT_COUNT, 0,
		       (n - SOCK_STAT_COUNT) * sizeof(*out));
	return SOCK_STAT_COUNT;
}

int sock_server_loop_time(const struct sock_server *srv, unsigned int worker,
			  uint64_t *busy_us, uint64_t *idle_us)
{
	const struct sock_loop *loop;
	int64_t start, end, idle, all;

	if (!srv || !busy_us || !idle_us)
		return -EINVAL;
	if (worker >= srv->nworkers)
		return -ENOENT;
	loop = srv->workers[worker].loop;
	start = loop ? atomic_load(&loop->started_ns) : 0;
	end = atomic_load(&loop->ended_ns);
	idle = atomic_load(&loop->idle_ns);
	if (!start) {
		*busy_us = *idle_us = 0;
		return 0;
	}
	all = (end ? end : sock__now_ns()) - start;
	*idle_us = (uint64_t)idle / 1000;
	*busy_us = all > idle ? (uint64_t)(all - idle) / 1000 : 0;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* listener.c -- listeners: starting, pausing at the cap, accepting, closing */

#include "core.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Make the engine's state match what l should be doing. */
void sock__listener_update(struct sock__listener *l)
{
	struct sock__worker *w = l->w;
	int err;
	bool want = !l->closed && !w->stopping && w->started &&
		    !l->resume.slot &&
		    !(!sock__listener_is_dgram(l) && w->cap_paused);

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
		sock__report_on(l, SOCK__REPORT_ACCEPT, &l->addr, err);
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
		sock__listener_update(w->lis[i]);
}

/*
 * The peer of a connection on l accepted without its address (io_uring's
 * multishot accept).  SO_PEERNAME answers even once the peer has reset,
 * where getpeername() fails: such a connection still counts against its
 * source, and its log line names it.  It wants a length no longer than
 * the address, so the listener's family gives it.
 */
static void peer_of(const struct sock__listener *l, int fd,
		    struct sock_addr *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = l->sock.family == AF_INET ? sizeof(struct sockaddr_in)
						  : sizeof(struct sockaddr_in6);
	struct sock s = { .fd = fd };

	memset(peer, 0, sizeof(*peer));
	if (l->sock.family != AF_INET && l->sock.family != AF_INET6) {
		if (sock_getpeername(&s, peer))
			memset(peer, 0, sizeof(*peer));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERNAME, &ss, &len) < 0 ||
	    sock_addr_from_sockaddr(peer, (struct sockaddr *)&ss, len))
		memset(peer, 0, sizeof(*peer));
}

/* The peer of fd, as the accept gave it (sa) or as the socket says;
 * an IPv4 peer of a dual-stack socket as IPv4, not ::ffff:a.b.c.d. */
static void peer_from(const struct sock__listener *l, int fd,
		      const struct sockaddr *sa, socklen_t salen,
		      struct sock_addr *peer)
{
	if (!sa || sock_addr_from_sockaddr(peer, sa, salen))
		peer_of(l, fd, peer);
	sock_addr_unmap(peer);
}

void sock__listener_serve_peer(struct sock__listener *l, int fd,
			       const struct sock_addr *peer_in)
{
	struct sock__worker *w = l->w;
	struct sock_addr peer = *peer_in;

	if (!sock__source_add(w->srv, &peer)) {
		/* A limit of ours, not a failed call: no error code (it
		 * was logged as "too many open files"). */
		sock__report_on(l, SOCK__REPORT_PER_SOURCE, &peer, 0);
		close(fd);
		sock__worker_conn_ended(w);
		return;
	}
	if (l->access && l->access->tls) {
		sock__tls_begin(l, fd, &peer);
		return;
	}
	if (l->svc->mode == SOCK_MODE_EVENT) {
		sock__conn_open(l, fd, &peer);
		return;
	}
	sock__stat_add(l->stat, SOCK_STAT_ACCEPTED, 1);
	sock__emit(w, SOCK_EV_ACCEPT, l->svc->name, &peer, 0, NULL);
	sock__job_accepted(l, fd, NULL, &peer);
}

static bool takes_proxy_header(const struct sock__listener *l)
{
	return l->access && l->access->nproxy;
}

/* Serve fd, whose slot under the cap is taken: behind a proxy, once its
 * header named the client. */
static void serve(struct sock__listener *l, int fd, const struct sockaddr *sa,
		  socklen_t salen)
{
	struct sock_addr peer;

	peer_from(l, fd, sa, salen, &peer);
	if (takes_proxy_header(l))
		sock__proxy_begin(l, fd, &peer);
	else
		sock__listener_serve_peer(l, fd, &peer);
}

/* True when the peer of fd may use l; otherwise fd is closed and the
 * refusal reported.  Behind a proxy, the peer must be a trusted proxy
 * (the client's address, checked against the ranges, comes later). */
static bool admitted(struct sock__listener *l, int fd,
		     const struct sockaddr *sa, socklen_t salen)
{
	enum sock__report_kind why;
	struct sock_addr peer;

	peer_from(l, fd, sa, salen, &peer);
	if (takes_proxy_header(l)) {
		if (sock__proxy_trusts(l->access, &peer))
			return true;
		sock__report_on(l, SOCK__REPORT_PROXY_SOURCE, &peer, -EACCES);
		close(fd);
		return false;
	}
	why = sock__access_check(l->access, l->svc, &peer);
	if (why == SOCK__REPORT_COUNT)
		return true;
	sock__report_on(l, why, &peer, -EACCES);
	close(fd);
	return false;
}

/* Keep fd, accepted while the server is at its cap, until a slot frees:
 * served at once stays at most the cap, and nothing is refused. */
static void hold(struct sock__listener *l, int fd)
{
	unsigned int cap;
	int *fds;

	if (l->nheld == l->held_cap) {
		cap = l->held_cap ? 2 * l->held_cap : 4;
		fds = realloc(l->held_fds, cap * sizeof(*fds));
		if (!fds) {
			sock__report_on(l, SOCK__REPORT_NOMEM, NULL, -ENOMEM);
			close(fd);
			return;
		}
		l->held_fds = fds;
		l->held_cap = cap;
	}
	l->held_fds[l->nheld++] = fd;
}

void sock__listener_accepted(struct sock__listener *l, int fd,
			     const struct sockaddr *sa, socklen_t salen)
{
	struct sock__worker *w = l->w;

	/* A stop asked for during this batch (by another thread or a
	 * signal) closes the listeners once the batch is over: what is
	 * accepted meanwhile would have been refused, and is not served
	 * (a burst of accepts, each a fork, must not hold the stop up).
	 * Adopted connections come through closed stand-ins, and are. */
	if (w->stopping || (!l->closed && atomic_load(&w->srv->stopping))) {
		close(fd);
		return;
	}
	l->backoff_ms = 0;
	sock__worker_request(w);
	/* Before it costs anything: a slot under the cap, a held place. */
	if (l->access && !admitted(l, fd, sa, salen))
		return;
	/* Connections held earlier go first. */
	if (l->nheld || !sock__worker_conn_begin(w)) {
		hold(l, fd);
		sock__worker_at_cap(w, l->svc->name);
		return;
	}
	serve(l, fd, sa, salen);
}

bool sock__listener_serve_held(struct sock__listener *l)
{
	int fd;

	while (l->nheld) {
		if (!sock__worker_conn_begin(l->w))
			return false;
		fd = l->held_fds[0];
		memmove(l->held_fds, l->held_fds + 1,
			--l->nheld * sizeof(*l->held_fds));
		serve(l, fd, NULL, 0);
	}
	return true;
}

void sock__listener_drop_held(struct sock__listener *l)
{
	int fd;

	while (l->nheld) {
		fd = l->held_fds[--l->nheld];
		/* A forked child may hold a copy: the peer sees the end
		 * now. */
		if (l->w->srv->forks)
			shutdown(fd, SHUT_RDWR);
		close(fd);
	}
}

static void resume_listener(struct sock_timer *t, void *arg)
{
	struct sock__listener *l = arg;

	(void)t;
	sock__listener_update(l);
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
	sock__report_on(l,
			err == -EMFILE || err == -ENFILE
				? SOCK__REPORT_DESCRIPTORS
				: SOCK__REPORT_ACCEPT,
			NULL, err);
	l->backoff_ms = l->backoff_ms ? l->backoff_ms * 2 : 50;
	if (l->backoff_ms > 1000)
		l->backoff_ms = 1000;
	if (sock_timer_start(w->loop, &l->resume, l->backoff_ms, 0) == 0)
		sock__listener_update(l);
}

void sock__listener_close(struct sock__listener *l)
{
	sock__listener_drop_held(l);
	sock__proxy_drop(l);
	sock__tls_drop(l);
	if (l->closed)
		return;
	sock_timer_stop(l->w->loop, &l->resume);
	l->w->loop->eng->listener_close(l);
	l->closed = true;
	l->paused = true;
	l->w->nlis_open--;
}

void sock__listener_free(struct sock__listener *l)
{
	if (!l->closed && l->w->started)
		sock__listener_close(l);
	else if (!l->closed)
		sock_close(&l->sock);
	sock__listener_drop_held(l);
	sock__proxy_drop(l);
	sock__tls_drop(l);
	free(l->held_fds);
	free(l);
}

int sock__listener_attach(struct sock__worker *w,
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
	l->loop = w->loop;
	l->index = index;
	l->paused = true;
	sock__list_init(&l->proxied);
	sock__list_init(&l->shaking);
	sock_timer_init(&l->resume, resume_listener, l);
	if (sock_getsockname(&l->sock, &l->addr))
		memset(&l->addr, 0, sizeof(l->addr));
	w->lis[w->nlis++] = l;
	w->nlis_open++;
	return 0;
}

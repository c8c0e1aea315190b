/* SPDX-License-Identifier: MIT */
/* engine_epoll.c -- the epoll engine: readiness, one recv and one send per message */

#include "engine.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Events taken from the kernel per epoll_wait. */
#define EPOLL_BATCH 256
/* Stream input is read into one buffer per loop, this large. */
#define RXBUF_SIZE SOCK__RECV_MAX
/* Datagrams received (and replies sent) per recvmmsg (sendmmsg). */
#define DGRAM_BATCH 32

/* engine_bits of connections and listeners */
enum {
	REGISTERED = 1 << 0,
	WANT_IN = 1 << 1,
	WANT_OUT = 1 << 2,
};

struct dgram_batch {
	size_t slot;
	char *in_buf;
	struct mmsghdr in[DGRAM_BATCH];
	struct iovec in_iov[DGRAM_BATCH];
	struct sockaddr_storage in_addr[DGRAM_BATCH];
	/* receive buffers whose datagrams are being handled */
	const char *held_lo, *held_hi;
	/* replies waiting for sendmmsg */
	int out_fd;
	struct sock__listener *out_lis;
	unsigned int nout;
	struct mmsghdr out[DGRAM_BATCH];
	struct iovec out_iov[DGRAM_BATCH];
	struct sockaddr_storage out_addr[DGRAM_BATCH];
	char *arena;
	size_t arena_used, arena_size;
};

struct epoll_engine {
	int epfd;
	struct epoll_event ev[EPOLL_BATCH];
	int nev, cur; /* the batch being dispatched */
	char *rxbuf;
	struct dgram_batch *dg;
};

static struct epoll_engine *state(const struct sock_loop *loop)
{
	return loop->engine;
}

static uint64_t key(const void *p, enum sock__tag tag)
{
	return (uint64_t)(uintptr_t)p | tag;
}

/* Drop events of the batch under way that concern key: the object is
 * going away, and its memory may be reused before they are reached. */
static void forget(struct sock_loop *loop, uint64_t k)
{
	struct epoll_engine *st = state(loop);
	int i;

	for (i = st->cur + 1; i < st->nev; i++)
		if (st->ev[i].data.u64 == k)
			st->ev[i].data.u64 = 0;
}

static int ctl(struct sock_loop *loop, int op, int fd, uint32_t events,
	       uint64_t k)
{
	struct epoll_event ev = { .events = events, .data.u64 = k };

	if (epoll_ctl(state(loop)->epfd, op, fd, &ev) < 0)
		return -errno;
	return 0;
}

static int ep_init(struct sock_loop *loop)
{
	struct epoll_engine *st;
	int err;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd < 0) {
		err = -errno;
		free(st);
		return err;
	}
	loop->engine = st;
	return 0;
}

static void ep_release(struct sock_loop *loop)
{
	struct epoll_engine *st = state(loop);

	if (st->dg) {
		free(st->dg->in_buf);
		free(st->dg->arena);
		free(st->dg);
	}
	free(st->rxbuf);
	close(st->epfd);
	free(st);
	loop->engine = NULL;
}

/* ---- watches ---- */

static int ep_watch_add(struct sock_loop *loop, struct sock_watch *w)
{
	return ctl(loop, EPOLL_CTL_ADD, w->fd, (uint32_t)w->events,
		   key(w, SOCK__TAG_WATCH));
}

static void ep_watch_del(struct sock_loop *loop, struct sock_watch *w)
{
	ctl(loop, EPOLL_CTL_DEL, w->fd, 0, 0);
	forget(loop, key(w, SOCK__TAG_WATCH));
}

/* ---- connections ---- */

/* Make c's registration ask for what the core wants now: input while it
 * wants input, writability while it waits for room.  Returns 0 or
 * -errno. */
static int conn_sync(struct sock_conn *c)
{
	struct sock_loop *loop = sock__conn_loop(c);
	uint8_t want = (uint8_t)((sock__conn_wants_input(c) ? WANT_IN : 0) |
				 (sock__conn_wants_room(c) ? WANT_OUT : 0));
	uint32_t ev = (want & WANT_IN ? EPOLLIN : 0) |
		      (want & WANT_OUT ? EPOLLOUT : 0);
	int err;

	if ((c->engine_bits & REGISTERED) &&
	    (c->engine_bits & (WANT_IN | WANT_OUT)) == want)
		return 0;
	err = ctl(loop,
		  c->engine_bits & REGISTERED ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		  c->fd, ev, key(c, SOCK__TAG_CONN));
	if (err)
		return err;
	c->engine_bits = (uint8_t)(REGISTERED | want);
	return 0;
}

static int ep_conn_start(struct sock_conn *c)
{
	struct epoll_engine *st = state(sock__conn_loop(c));

	if (!st->rxbuf) {
		st->rxbuf = malloc(RXBUF_SIZE);
		if (!st->rxbuf)
			return -ENOMEM;
	}
	return conn_sync(c);
}

static void ep_conn_reading(struct sock_conn *c)
{
	int err = conn_sync(c);

	if (err)
		sock__conn_failed(c, err);
}

static int ep_conn_want_room(struct sock_conn *c)
{
	return conn_sync(c);
}

static void conn_recv(struct sock_loop *loop, struct sock_conn *c)
{
	ssize_t n = recv(c->fd, state(loop)->rxbuf, RXBUF_SIZE, 0);

	if (n > 0)
		sock__conn_received(c, state(loop)->rxbuf, (size_t)n);
	else if (n == 0)
		sock__conn_received(c, NULL, 0);
	else if (errno != EAGAIN && errno != EINTR)
		sock__conn_failed(c, -errno);
}

static void conn_ready(struct sock_loop *loop, struct sock_conn *c, uint32_t ev)
{
	bool handled = false;
	int err;

	if (sock__conn_is_gone(c))
		return;
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    (c->engine_bits & WANT_IN)) {
		conn_recv(loop, c);
		handled = true;
	}
	if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) &&
	    (c->engine_bits & WANT_OUT) && !sock__conn_is_gone(c)) {
		sock__conn_writable(c);
		handled = true;
	}
	if (sock__conn_is_gone(c))
		return;
	/* An error or hang-up on a connection that asked for nothing must
	 * still end it, or level-triggered epoll reports it forever. */
	if (!handled && (ev & (EPOLLHUP | EPOLLERR))) {
		sock__conn_failed(c, -ECONNRESET);
		return;
	}
	/* Writability is reported once per want_room: stop asking unless
	 * the core asked again. */
	err = conn_sync(c);
	if (err)
		sock__conn_failed(c, err);
}

static void ep_conn_close(struct sock_conn *c)
{
	struct sock_loop *loop = sock__conn_loop(c);

	/* The descriptor may live on in a forked child, where close()
	 * would not remove it from the epoll set. */
	if (c->engine_bits & REGISTERED)
		ctl(loop, EPOLL_CTL_DEL, c->fd, 0, 0);
	forget(loop, key(c, SOCK__TAG_CONN));
	close(c->fd);
	c->fd = -1;
	c->engine_bits = 0;
	sock__conn_release(c);
}

/* ---- datagrams ---- */

static int dgram_setup(struct sock_loop *loop, size_t slot)
{
	struct epoll_engine *st = state(loop);
	struct dgram_batch *dg;
	int i;

	if (st->dg)
		return 0;
	dg = calloc(1, sizeof(*dg));
	if (!dg)
		return -ENOMEM;
	dg->slot = slot;
	dg->arena_size = 2 * slot;
	dg->in_buf = malloc(DGRAM_BATCH * slot);
	dg->arena = malloc(dg->arena_size);
	if (!dg->in_buf || !dg->arena) {
		free(dg->in_buf);
		free(dg->arena);
		free(dg);
		return -ENOMEM;
	}
	for (i = 0; i < DGRAM_BATCH; i++) {
		dg->in_iov[i].iov_base = dg->in_buf + i * slot;
		dg->in_iov[i].iov_len = slot;
		dg->in[i].msg_hdr.msg_iov = &dg->in_iov[i];
		dg->in[i].msg_hdr.msg_iovlen = 1;
		dg->in[i].msg_hdr.msg_name = &dg->in_addr[i];
		dg->out[i].msg_hdr.msg_iov = &dg->out_iov[i];
		dg->out[i].msg_hdr.msg_iovlen = 1;
		dg->out[i].msg_hdr.msg_name = &dg->out_addr[i];
	}
	st->dg = dg;
	return 0;
}

static void dgram_flush(struct dgram_batch *dg)
{
	unsigned int sent = 0;
	int n;

	while (sent < dg->nout) {
		n = sendmmsg(dg->out_fd, dg->out + sent, dg->nout - sent,
			     MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			sent += (unsigned int)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* sendmmsg fails only for the first message it is given:
		 * errno is that reply's (its peer unreachable, say, or the
		 * socket buffer full).  Skip it, send the rest. */
		if (dg->out_lis)
			sock__dgram_reply_failed(dg->out_lis,
						 n < 0 ? -errno : -EIO);
		sent++;
	}
	dg->nout = 0;
	dg->arena_used = 0;
}

static int ep_dgram_reply(struct sock__listener *l, const void *data,
			  size_t len, const struct sock_addr *peer)
{
	struct dgram_batch *dg = state(l->loop)->dg;
	const char *p = data;
	struct mmsghdr *m;

	if (dg->nout == DGRAM_BATCH || (dg->nout && dg->out_fd != l->sock.fd))
		dgram_flush(dg);
	/* A reply from the receive buffers (echo) is sent from where it
	 * lies; anything else is copied. */
	if (!(p >= dg->held_lo && p + len <= dg->held_hi)) {
		if (dg->arena_used + len > dg->arena_size)
			dgram_flush(dg);
		if (len > dg->arena_size)
			return -EMSGSIZE;
		memcpy(dg->arena + dg->arena_used, data, len);
		p = dg->arena + dg->arena_used;
		dg->arena_used += len;
	}
	m = &dg->out[dg->nout++];
	dg->out_fd = l->sock.fd;
	dg->out_lis = l;
	dg->out_iov[m - dg->out].iov_base = (void *)p;
	dg->out_iov[m - dg->out].iov_len = len;
	memcpy(m->msg_hdr.msg_name, &peer->u, peer->len);
	m->msg_hdr.msg_namelen = peer->len;
	return 0;
}

static void dgram_ready(struct sock_loop *loop, struct sock__listener *l)
{
	struct dgram_batch *dg = state(loop)->dg;
	int i, n;

	for (i = 0; i < DGRAM_BATCH; i++)
		dg->in[i].msg_hdr.msg_namelen = sizeof(dg->in_addr[i]);
	n = recvmmsg(l->sock.fd, dg->in, DGRAM_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return; /* EAGAIN, or an ICMP error reported on the socket */
	dg->held_lo = dg->in_buf;
	dg->held_hi = dg->in_buf + DGRAM_BATCH * dg->slot;
	for (i = 0; i < n && !l->closed; i++)
		sock__dgram_received(l, dg->in_iov[i].iov_base,
				     dg->in[i].msg_len,
				     dg->in[i].msg_hdr.msg_flags,
				     (struct sockaddr *)&dg->in_addr[i],
				     dg->in[i].msg_hdr.msg_namelen);
	if (dg->nout)
		dgram_flush(dg);
	dg->held_lo = dg->held_hi = NULL;
}

/* ---- listeners ---- */

static void accept_ready(struct sock__listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i, fd;

	/* A bounded burst, so one busy listener cannot starve the rest. */
	for (i = 0; i < 64 && !l->paused; i++) {
		len = sizeof(ss);
		fd = accept4(l->sock.fd, (struct sockaddr *)&ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			sock__listener_accepted(l, fd, (struct sockaddr *)&ss,
						len);
			continue;
		}
		if (errno == EAGAIN)
			return;
		if (!sock__accept_error_is_transient(errno)) {
			sock__listener_accept_failed(l, -errno);
			return;
		}
	}
}

static int ep_listener_start(struct sock__listener *l)
{
	struct sock_loop *loop = l->loop;
	int err;

	if (sock__listener_is_dgram(l)) {
		err = dgram_setup(loop, loop->limits.max_datagram);
		if (err)
			return err;
	}
	if (l->engine_bits & REGISTERED)
		return 0;
	err = ctl(loop, EPOLL_CTL_ADD, l->sock.fd, EPOLLIN,
		  key(l, SOCK__TAG_LISTENER));
	if (err)
		return err;
	l->engine_bits |= REGISTERED;
	return 0;
}

static void ep_listener_pause(struct sock__listener *l)
{
	struct sock_loop *loop = l->loop;

	if (!(l->engine_bits & REGISTERED))
		return;
	ctl(loop, EPOLL_CTL_DEL, l->sock.fd, 0, 0);
	forget(loop, key(l, SOCK__TAG_LISTENER));
	l->engine_bits &= ~(uint32_t)REGISTERED;
}

static void ep_listener_close(struct sock__listener *l)
{
	struct dgram_batch *dg = state(l->loop)->dg;

	if (dg && dg->nout && dg->out_fd == l->sock.fd)
		dgram_flush(dg);
	ep_listener_pause(l);
	sock_close(&l->sock);
}

/* ---- waiting ---- */

static void dispatch(struct sock_loop *loop, const struct epoll_event *ev)
{
	uint64_t k = ev->data.u64;
	void *p = (void *)(uintptr_t)(k & ~(uint64_t)SOCK__TAG_MASK);
	struct sock_watch *w;
	struct sock__listener *l;

	switch (k & SOCK__TAG_MASK) {
	case SOCK__TAG_CONN:
		conn_ready(loop, p, ev->events);
		break;
	case SOCK__TAG_LISTENER:
		l = p;
		if (l->paused || l->closed)
			break;
		if (sock__listener_is_dgram(l))
			dgram_ready(loop, l);
		else
			accept_ready(l);
		break;
	case SOCK__TAG_WATCH:
		w = p;
		if (w && w->active)
			w->cb(w, (int)ev->events, w->arg);
		break;
	}
}

static int ep_wait(struct sock_loop *loop, int timeout_ms)
{
	struct epoll_engine *st = state(loop);
	int n;

	sock__loop_wait_begin(loop);
	n = epoll_wait(st->epfd, st->ev, EPOLL_BATCH, timeout_ms);
	sock__loop_update_time(loop);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	st->nev = n;
	for (st->cur = 0; st->cur < n; st->cur++)
		if (st->ev[st->cur].data.u64)
			dispatch(loop, &st->ev[st->cur]);
	st->nev = 0;
	sock__loop_after_batch(loop);
	return 0;
}

const struct sock__engine sock__engine_epoll = {
	.kind = SOCK_ENGINE_EPOLL,
	.init = ep_init,
	.release = ep_release,
	.wait = ep_wait,
	.watch_add = ep_watch_add,
	.watch_del = ep_watch_del,
	.listener_start = ep_listener_start,
	.listener_pause = ep_listener_pause,
	.listener_close = ep_listener_close,
	.conn_start = ep_conn_start,
	.conn_want_room = ep_conn_want_room,
	.conn_reading = ep_conn_reading,
	.conn_close = ep_conn_close,
	.dgram_reply = ep_dgram_reply,
};

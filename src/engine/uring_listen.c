/* SPDX-License-Identifier: MIT */
/* uring_listen.c -- the io_uring engine's listeners and datagrams */

#include "uring.h"

#ifdef SOCK_HAVE_URING

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Datagram receive buffers span at most this much memory. */
#define DGRAM_MEMORY (16u << 20)
#define DGRAM_MAX_COUNT 256
#define DGRAM_DEPTH 8
/* Datagram replies in flight at most, and the copy kept per slot. */
#define REPLY_MAX 4096
#define REPLY_KEEP 2048

/* ---- listeners and their records ---- */

static struct sock__uring_lis *lis_new(struct sock__uring *e,
				       struct sock__listener *l)
{
	struct sock__uring_lis *ul = calloc(1, sizeof(*ul));

	if (!ul)
		return NULL;
	if (sock__uring_vec_push(&e->lis, ul)) {
		free(ul);
		return NULL;
	}
	ul->l = l;
	ul->fd = l->sock.fd;
	ul->dgram = l->sock.type == SOCK_DGRAM;
	ul->msg.msg_namelen = sizeof(struct sockaddr_storage);
	l->engine_data = ul;
	return ul;
}

static void lis_free(struct sock__uring *e, struct sock__uring_lis *ul)
{
	if (!ul->l && ul->fd >= 0)
		close(ul->fd);
	if (ul->l)
		ul->l->engine_data = NULL;
	sock__uring_vec_remove(&e->lis, ul);
	free(ul);
}

/* A closed listener's record goes with its last completion. */
static void lis_settle(struct sock__uring *e, struct sock__uring_lis *ul)
{
	if (!ul->l && !ul->ops)
		lis_free(e, ul);
}

static bool lis_active(const struct sock__uring_lis *ul)
{
	return ul->l && !ul->l->paused && !ul->l->closed;
}

static int lis_arm(struct sock__uring *e, struct sock__uring_lis *ul)
{
	struct io_uring_sqe *sqe;
	int err;

	err = sock__uring_get_sqe(e, &sqe);
	if (err)
		return err;
	if (ul->dgram) {
		io_uring_prep_recvmsg_multishot(sqe, ul->fd, &ul->msg, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = SOCK__URING_BGID_DGRAM;
	} else {
		io_uring_prep_multishot_accept(sqe, ul->fd, NULL, NULL,
					       SOCK_NONBLOCK | SOCK_CLOEXEC);
	}
	sock__uring_submit_op(e, sqe, ul, SOCK__TAG_LISTENER);
	ul->armed = true;
	ul->ops++;
	return 0;
}

static void lis_cancel(struct sock__uring *e, struct sock__uring_lis *ul)
{
	if (!ul->armed || ul->canceling)
		return;
	sock__uring_cancel(e, sock__uring_key(ul, SOCK__TAG_LISTENER));
	ul->canceling = true;
}

/* Sizes the datagram buffers for the server's largest datagram, exactly
 * (a longer one is truncated, and dropped): its payload, the sender's
 * address and the kernel's header. */
static int dgram_setup(struct sock__uring *e, size_t max_datagram)
{
	size_t len = sizeof(struct io_uring_recvmsg_out) +
		     sizeof(struct sockaddr_storage) + max_datagram;
	unsigned int count = 2;

	while (count < DGRAM_MAX_COUNT && 2 * count * len <= DGRAM_MEMORY)
		count *= 2;
	return sock__uring_bufs_setup(
		e, &e->dgram, SOCK__URING_BGID_DGRAM, count, len,
		count < DGRAM_DEPTH ? count : DGRAM_DEPTH);
}

int sock__uring_listener_start(struct sock__listener *l)
{
	struct sock__uring *e = sock__uring_of(l->loop);
	struct sock__uring_lis *ul = l->engine_data;
	int err;

	if (!ul) {
		ul = lis_new(e, l);
		if (!ul)
			return -ENOMEM;
	}
	if (ul->dgram && !e->dgram.br) {
		err = dgram_setup(e, l->loop->limits.max_datagram);
		if (err)
			return err;
	}
	/* Armed still (a pause's cancellation under way): the last
	 * completion re-arms, as l is then active. */
	if (ul->armed)
		return 0;
	return lis_arm(e, ul);
}

void sock__uring_listener_pause(struct sock__listener *l)
{
	struct sock__uring_lis *ul = l->engine_data;

	if (ul)
		lis_cancel(sock__uring_of(l->loop), ul);
}

void sock__uring_listener_close(struct sock__listener *l)
{
	struct sock__uring *e = sock__uring_of(l->loop);
	struct sock__uring_lis *ul = l->engine_data;

	if (ul) {
		lis_cancel(e, ul);
		ul->l = NULL;
		l->engine_data = NULL;
		/* As for connections: the socket is closed at once, once the
		 * cancellation has run (new connections are refused). */
		if (ul->ops && sock__uring_flush_now(e)) {
			ul->fd = sock_detach(&l->sock);
			return;
		}
		ul->fd = -1;
		lis_settle(e, ul);
	}
	sock_close(&l->sock);
}

/* After a listener's operation ended: re-arm it if it is active. */
static void lis_rearm(struct sock__uring *e, struct sock__uring_lis *ul)
{
	int err;

	if (ul->armed || !lis_active(ul))
		return;
	err = lis_arm(e, ul);
	if (err && ul->dgram)
		ul->starved = true; /* tried again before the next wait */
	else if (err)
		sock__listener_accept_failed(ul->l, err);
}

static void accept_done(struct sock__uring_lis *ul, int res)
{
	struct sock__listener *l = ul->l;

	if (!l) {
		if (res >= 0)
			close(res);
		return;
	}
	/* Accepted after a pause was asked for (the cancellation was under
	 * way): the core holds it until a slot frees, if it must. */
	if (res >= 0) {
		sock__listener_accepted(l, res, NULL, 0);
	} else if (res != -ECANCELED &&
		   !sock__accept_error_is_transient(-res)) {
		/* EMFILE and the like: the core backs off, pausing l,
		 * and its resume re-arms. */
		sock__listener_accept_failed(l, res);
	}
}

static void dgram_done(struct sock__uring *e, struct sock__uring_lis *ul,
		       int res, int bid)
{
	struct io_uring_recvmsg_out *o;
	struct sockaddr *name;
	char *buf;

	if (res == -ENOBUFS) {
		e->dgram.starved = true;
		ul->starved = true;
		return;
	}
	if (res < 0 || bid < 0 || !ul->l || ul->l->closed)
		return;
	buf = sock__uring_buf_addr(&e->dgram, bid);
	o = io_uring_recvmsg_validate(buf, res, &ul->msg);
	if (!o)
		return;
	name = io_uring_recvmsg_name(o);
	sock__uring_cur_set(e, &e->dgram, bid,
			    io_uring_recvmsg_payload(o, &ul->msg),
			    io_uring_recvmsg_payload_length(o, res, &ul->msg));
	sock__dgram_received(ul->l, (const void *)e->cur_lo,
			     e->cur_hi - e->cur_lo, (int)o->flags, name,
			     o->namelen < sizeof(struct sockaddr_storage)
				     ? o->namelen
				     : sizeof(struct sockaddr_storage));
	sock__uring_cur_clear(e);
}

void sock__uring_lis_done(struct sock__uring *e, struct sock__uring_lis *ul,
			  int res, unsigned int flags)
{
	int bid = sock__uring_cqe_bid(flags);

	if (!(flags & IORING_CQE_F_MORE)) {
		ul->armed = ul->canceling = false;
		ul->ops--;
		e->inflight--;
	}
	if (ul->dgram) {
		if (bid >= 0)
			sock__uring_buf_take(&e->dgram, bid);
		dgram_done(e, ul, res, bid);
		if (bid >= 0)
			sock__uring_buf_put(&e->dgram, bid);
	} else {
		accept_done(ul, res);
	}
	if (!ul->l) {
		lis_settle(e, ul);
		return;
	}
	if (!ul->starved)
		lis_rearm(e, ul);
}

/* ---- datagram replies ---- */

static struct sock__uring_reply *reply_get(struct sock__uring *e)
{
	struct sock__uring_reply *r;
	size_t i;

	if (!e->free_reply) {
		if (e->nreply >= REPLY_MAX)
			return NULL;
		r = sock__uring_pool_chunk(&e->reply_chunks, sizeof(*r));
		if (!r)
			return NULL;
		for (i = 0; i < SOCK__URING_POOL_CHUNK; i++) {
			r[i].next = e->free_reply;
			e->free_reply = &r[i];
		}
		e->nreply += SOCK__URING_POOL_CHUNK;
	}
	r = e->free_reply;
	e->free_reply = r->next;
	r->g = NULL;
	return r;
}

static void reply_put(struct sock__uring *e, struct sock__uring_reply *r)
{
	if (r->g)
		sock__uring_buf_put(r->g, r->bid);
	if (r->copy_cap > REPLY_KEEP) {
		free(r->copy);
		r->copy = NULL;
		r->copy_cap = 0;
	}
	r->next = e->free_reply;
	e->free_reply = r;
}

/* Point r at len bytes of data: in place if they lie in the datagram
 * being handled, else copied into r. */
static int reply_fill(struct sock__uring *e, struct sock__uring_reply *r,
		      const void *data, size_t len)
{
	char *copy;

	r->iov.iov_len = len;
	r->iov.iov_base = NULL;
	if (sock__uring_in_cur(e, data, len)) {
		r->g = e->cur_g;
		r->bid = e->cur_bid;
		r->g->refs[r->bid]++;
		r->iov.iov_base = (void *)data;
		return 0;
	}
	if (!len)
		return 0;
	if (len > r->copy_cap) {
		copy = realloc(r->copy, len);
		if (!copy)
			return -ENOMEM;
		r->copy = copy;
		r->copy_cap = len;
	}
	memcpy(r->copy, data, len);
	r->iov.iov_base = r->copy;
	return 0;
}

/* Replies are sendmsg SQEs, handed to the kernel with the next wait, in
 * the loop iteration that received their datagrams. */
int sock__uring_dgram_reply(struct sock__listener *l, const void *data,
			    size_t len, const struct sock_addr *peer)
{
	struct sock__uring *e = sock__uring_of(l->loop);
	struct sock__uring_lis *ul = l->engine_data;
	struct io_uring_sqe *sqe = NULL;
	struct sock__uring_reply *r;
	int err;

	if (!ul)
		return -EBADF;
	r = reply_get(e);
	if (!r)
		return e->nreply >= REPLY_MAX ? -ENOBUFS : -ENOMEM;
	err = reply_fill(e, r, data, len);
	if (!err)
		err = sock__uring_get_sqe(e, &sqe);
	if (err) {
		reply_put(e, r);
		return err;
	}
	memcpy(&r->addr, &peer->u, peer->len);
	memset(&r->msg, 0, sizeof(r->msg));
	r->msg.msg_name = &r->addr;
	r->msg.msg_namelen = peer->len;
	r->msg.msg_iov = &r->iov;
	r->msg.msg_iovlen = 1;
	r->ul = ul;
	/* MSG_DONTWAIT: a full socket drops the reply, as epoll does,
	 * rather than parking it until there is room. */
	io_uring_prep_sendmsg(sqe, ul->fd, &r->msg,
			      MSG_NOSIGNAL | MSG_DONTWAIT);
	sock__uring_submit_op(e, sqe, r, SOCK__URING_TAG_REPLY);
	ul->ops++;
	return 0;
}

void sock__uring_reply_done(struct sock__uring *e, struct sock__uring_reply *r,
			    int res)
{
	struct sock__uring_lis *ul = r->ul;

	ul->ops--;
	e->inflight--;
	if (res < 0 && ul->l)
		sock__dgram_reply_failed(ul->l, res);
	reply_put(e, r);
	lis_settle(e, ul);
}

/* ---- around the wait ---- */

void sock__uring_lis_refill(struct sock__uring *e)
{
	struct sock__uring_lis *ul;
	size_t i;

	for (i = 0; i < e->lis.n; i++) {
		ul = e->lis.v[i];
		if (ul->starved && e->dgram.inring) {
			ul->starved = false;
			lis_rearm(e, ul);
		}
	}
}

void sock__uring_lis_release(struct sock__uring *e)
{
	struct sock__uring_reply *r;
	size_t i, j;

	while (e->lis.n)
		lis_free(e, e->lis.v[e->lis.n - 1]);
	free(e->lis.v);
	/* With what replies still in flight hold. */
	for (i = 0; i < e->reply_chunks.n; i++) {
		r = e->reply_chunks.v[i];
		for (j = 0; j < SOCK__URING_POOL_CHUNK; j++)
			free(r[j].copy);
		free(r);
	}
	free(e->reply_chunks.v);
}

#endif /* SOCK_HAVE_URING */

/* SPDX-License-Identifier: MIT */
/* io.c -- sending and receiving under one deadline: buffers, messages, lines */

#include "internal.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* The deadline of one call.  MSG_DONTWAIT keeps its kernel meaning: the
 * call does not wait, whatever the socket's timeout. */
static int64_t call_deadline(const struct sock *s, int flags)
{
	if (flags & MSG_DONTWAIT)
		return SOCK__NOW;
	return sock__deadline(s->timeout_ms);
}

/*
 * A datagram sent by address to a Unix socket whose queue is full fails
 * with EAGAIN, but poll() on the sender cannot watch that receiver's queue
 * and reports POLLOUT at once.  Sleep 1 ms between tries there instead of
 * spinning until the deadline.
 */
static int wait_writable(const struct sock *s, const struct msghdr *msg,
			 int64_t deadline)
{
	if (s->family != AF_UNIX || s->type != SOCK_DGRAM || !msg->msg_name)
		return sock__wait(s->fd, POLLOUT, deadline);
	return sock__backoff(deadline);
}

/* sendmsg(2) until it does not block or deadline passes. */
static ssize_t sendmsg_until(struct sock *s, const struct msghdr *msg,
			     int flags, int64_t deadline)
{
	ssize_t n;
	int err;

	for (;;) {
		n = sendmsg(s->fd, msg, flags | MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		err = errno;
		if (err == EINTR)
			continue;
		if (err != EAGAIN)
			return -err;
		err = wait_writable(s, msg, deadline);
		if (err)
			return err;
	}
}

/* recvmsg(2) until it does not block or deadline passes. */
static ssize_t recvmsg_until(struct sock *s, struct msghdr *msg, int flags,
			     int64_t deadline)
{
	ssize_t n;
	int err;

	for (;;) {
		n = recvmsg(s->fd, msg, flags);
		if (n >= 0)
			return n;
		err = errno;
		if (err == EINTR)
			continue;
		if (err != EAGAIN)
			return -err;
		err = sock__wait(s->fd, POLLIN, deadline);
		if (err)
			return err;
	}
}

static ssize_t send_until(struct sock *s, const void *buf, size_t len,
			  const struct sock_addr *to, int flags,
			  int64_t deadline)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (s->tls)
		return to ? -EISCONN
			  : sock__tls_send(s, buf, len, flags, deadline);
	if (to) {
		msg.msg_name = (void *)&to->u;
		msg.msg_namelen = to->len;
	}
	return sendmsg_until(s, &msg, flags, deadline);
}

static ssize_t recv_until(struct sock *s, void *buf, size_t len,
			  struct sock_addr *from, int flags, int64_t deadline)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (s->tls) {
		if (from)
			memset(from, 0, sizeof(*from));
		return sock__tls_recv(s, buf, len, flags, deadline);
	}
	if (from) {
		memset(from, 0, sizeof(*from));
		msg.msg_name = &from->u;
		msg.msg_namelen = sizeof(from->u);
	}
	n = recvmsg_until(s, &msg, flags, deadline);
	if (from)
		from->len = n >= 0 ? msg.msg_namelen : 0;
	return n;
}

ssize_t sock_send(struct sock *s, const void *buf, size_t len, int flags)
{
	assert(s);
	return send_until(s, buf, len, NULL, flags, call_deadline(s, flags));
}

int sock_sendall(struct sock *s, const void *buf, size_t len, size_t *sent,
		 int flags)
{
	int64_t deadline = call_deadline(s, flags);
	size_t done = 0;
	ssize_t n;

	assert(s);
	/* At least one send, as in Python: on a datagram socket an empty
	 * buffer is an empty datagram. */
	do {
		n = send_until(s, (const char *)buf + done, len - done, NULL,
			       flags, deadline);
		if (n < 0)
			break;
		done += (size_t)n;
	} while (done < len);
	if (sent)
		*sent = done;
	return n < 0 ? (int)n : 0;
}

ssize_t sock_sendto(struct sock *s, const void *buf, size_t len,
		    const struct sock_addr *to, int flags)
{
	assert(s && to);
	return send_until(s, buf, len, to, flags, call_deadline(s, flags));
}

ssize_t sock_sendmsg(struct sock *s, const struct msghdr *msg, int flags)
{
	assert(s && msg);
	if (s->tls) /* ancillary data cannot travel in TLS records */
		return -EOPNOTSUPP;
	return sendmsg_until(s, msg, flags, call_deadline(s, flags));
}

ssize_t sock_recv(struct sock *s, void *buf, size_t len, int flags)
{
	assert(s);
	return recv_until(s, buf, len, NULL, flags, call_deadline(s, flags));
}

ssize_t sock_recvfrom(struct sock *s, void *buf, size_t len,
		      struct sock_addr *from, int flags)
{
	assert(s);
	return recv_until(s, buf, len, from, flags, call_deadline(s, flags));
}

ssize_t sock_recvmsg(struct sock *s, struct msghdr *msg, int flags)
{
	assert(s && msg);
	if (s->tls)
		return -EOPNOTSUPP;
	return recvmsg_until(s, msg, flags, call_deadline(s, flags));
}

/*
 * Give back what a receive into a buffer of max + 1 bytes did not use, when
 * that is most of it: a realloc may copy the n bytes, which only pays when
 * it frees much more.  A failed shrink keeps the larger buffer.
 */
static void *shrink(void *p, size_t n, size_t max)
{
	void *q;

	if (max - n < 256 || n > max / 2)
		return p;
	q = realloc(p, n + 1);
	return q ? q : p;
}

ssize_t sock_recvfrom_alloc(struct sock *s, size_t max, void **out,
			    struct sock_addr *from, int flags)
{
	size_t len;
	char *buf;
	ssize_t n;

	assert(s && out);
	*out = NULL;
	if (max == 0 || max >= SSIZE_MAX)
		return -EINVAL;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	n = recv_until(s, buf, max, from, flags, call_deadline(s, flags));
	if (n < 0) {
		free(buf);
		return n;
	}
	/* With MSG_TRUNC, n is a datagram's real length: it may exceed max. */
	len = (size_t)n < max ? (size_t)n : max;
	buf[len] = '\0';
	*out = shrink(buf, len, max);
	return n;
}

ssize_t sock_recv_alloc(struct sock *s, size_t max, void **out, int flags)
{
	return sock_recvfrom_alloc(s, max, out, NULL, flags);
}

ssize_t sock_recv_all(struct sock *s, size_t max, void **out)
{
	int64_t deadline = sock__deadline(s->timeout_ms);
	size_t len = 0, room = max < 4096 ? max : 4096;
	char *buf, *more;
	ssize_t n;

	assert(s && out);
	*out = NULL;
	if (max == 0 || max >= SSIZE_MAX)
		return -EINVAL;
	buf = malloc(room + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == room) {
			/* Full: one byte more would be past max. */
			if (room == max) {
				n = recv_until(s, buf, 1, NULL, MSG_PEEK,
					       deadline);
				if (n > 0)
					n = -EMSGSIZE;
				if (n < 0)
					goto out_free;
				break;
			}
			room = room > max / 2 ? max : 2 * room;
			more = realloc(buf, room + 1);
			if (!more) {
				n = -ENOMEM;
				goto out_free;
			}
			buf = more;
		}
		n = recv_until(s, buf + len, room - len, NULL, 0, deadline);
		if (n < 0)
			goto out_free;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = shrink(buf, len, room);
	return (ssize_t)len;

out_free:
	free(buf);
	return n;
}

/* Receive exactly len bytes within deadline; *got counts them. */
static int recv_exact_until(struct sock *s, char *buf, size_t len, size_t *got,
			    int64_t deadline)
{
	ssize_t n;

	while (*got < len) {
		n = recv_until(s, buf + *got, len - *got, NULL, 0, deadline);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return SOCK_EEOF;
		*got += (size_t)n;
	}
	return 0;
}

int sock_recv_exact(struct sock *s, void *buf, size_t len, size_t *received)
{
	size_t got = 0;
	int err;

	assert(s);
	err = recv_exact_until(s, buf, len, &got,
			       sock__deadline(s->timeout_ms));
	if (received)
		*received = got;
	return err;
}

/*
 * sock_recv_line() peeks, and when the peeked bytes hold no '\n' it must
 * wait for MORE bytes than are queued.  poll() cannot: POLLIN stays ready
 * while anything is unread, so the loop would spin.  SO_RCVLOWAT raised to
 * the peeked count + 1 works for TCP only (Unix sockets ignore it in
 * poll), changes the socket under other users, and makes TCP grow its
 * receive buffer.  An edge-triggered epoll set has none of those faults:
 * once the readiness already there is harvested, its next event means a
 * new arrival, the end of the stream or an error.  Events are ORed into
 * *events, so an end of stream harvested with the last bytes is not lost.
 */
static int harvest(int epfd, uint32_t *events)
{
	struct epoll_event ev;
	int n;

	do {
		n = epoll_wait(epfd, &ev, 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n > 0)
		*events |= ev.events;
	return 0;
}

static int wait_for_more(int fd, int *epfd, uint32_t *events, int64_t deadline)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
	int err;

	if (deadline == SOCK__NOW)
		return -EAGAIN;
	if (*epfd < 0) {
		*epfd = epoll_create1(EPOLL_CLOEXEC);
		if (*epfd < 0)
			return -errno;
		if (epoll_ctl(*epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		/* This harvest is the level the caller already saw; it peeks
		 * again before waiting, so nothing that came since is missed. */
		return harvest(*epfd, events);
	}
	err = sock__wait(*epfd, POLLIN, deadline);
	if (err)
		return err;
	return harvest(*epfd, events);
}

/* After the stream ended or failed, no more bytes can come: the error, if
 * the socket holds one, or 1 to take the partial line as the last. */
static int stream_end(int fd, uint32_t events)
{
	socklen_t len = sizeof(int);
	int so_err = 0;

	if (!(events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
		return 0;
	if ((events & EPOLLERR) &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len) == 0 && so_err)
		return -so_err;
	return 1;
}

/* Peek for a line in buf within deadline: its length with the '\n', the
 * length of a last line without one, 0 at end of stream, or an error. */
static ssize_t peek_line(struct sock *s, char *buf, size_t size,
			 int64_t deadline, int *epfd)
{
	uint32_t events = 0;
	size_t scanned = 0;
	ssize_t n;
	char *nl;
	int err;

	for (;;) {
		n = recv_until(s, buf, size - 1, NULL, MSG_PEEK, deadline);
		if (n <= 0)
			return n;
		if ((size_t)n < scanned)
			scanned = 0; /* another reader took bytes */
		nl = memchr(buf + scanned, '\n', (size_t)n - scanned);
		if (nl)
			return nl - buf + 1;
		if ((size_t)n == size - 1)
			return -EMSGSIZE;
		scanned = (size_t)n;
		err = stream_end(s->fd, events);
		if (err)
			return err < 0 ? err : n;
		err = wait_for_more(s->fd, epfd, &events, deadline);
		if (err)
			return err;
	}
}

ssize_t sock_recv_line(struct sock *s, char *buf, size_t size)
{
	int64_t deadline = sock__deadline(s->timeout_ms);
	size_t got = 0;
	int epfd = -1;
	ssize_t n;
	int err;

	assert(s && buf);
	if (size < 2)
		return -EINVAL;
	if (s->tls)
		return sock__tls_recv_line(s, buf, size, deadline);
	n = peek_line(s, buf, size, deadline, &epfd);
	if (epfd >= 0)
		close(epfd);
	if (n <= 0)
		return n;
	/* The line is queued already, so this takes it without waiting. */
	err = recv_exact_until(s, buf, (size_t)n, &got, deadline);
	if (err)
		return err;
	buf[n] = '\0';
	return n;
}

/* SPDX-License-Identifier: MIT */
/* sock.c -- the socket object: lifecycle, options, bind, accept, connect */

#include "internal.h"

#include <assert.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void sock__clear(struct sock *s)
{
	s->fd = -1;
	s->family = 0;
	s->type = 0;
	s->protocol = 0;
	s->timeout_ms = SOCK_FOREVER;
	s->tls = NULL;
}

void sock__adopt(struct sock *s, int fd, int family, int type, int protocol)
{
	s->fd = fd;
	s->family = family;
	s->type = type;
	s->protocol = protocol;
	s->timeout_ms = SOCK_FOREVER;
	s->tls = NULL;
}

int sock_open(struct sock *s, int family, int type, int protocol)
{
	int fd;

	assert(s);
	sock__clear(s);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		return -errno;
	sock__adopt(s, fd, family, type, protocol);
	return 0;
}

int sock__get_int_opt(int fd, int name, int *value)
{
	socklen_t len = sizeof(*value);

	if (getsockopt(fd, SOL_SOCKET, name, value, &len) < 0)
		return -errno;
	return 0;
}

int sock_fromfd(struct sock *s, int fd)
{
	int dup_fd, family, type, protocol, flags, err;

	assert(s);
	sock__clear(s);
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0)
		return -errno;
	err = sock__get_int_opt(dup_fd, SO_DOMAIN, &family);
	if (!err)
		err = sock__get_int_opt(dup_fd, SO_TYPE, &type);
	if (!err)
		err = sock__get_int_opt(dup_fd, SO_PROTOCOL, &protocol);
	if (err)
		goto out_close;
	/* On the description fd shares with its other holders: a socket,
	 * unlike a terminal (which libuv reopens), has no second one to
	 * take.  Set last, so a failure leaves fd as it was. */
	flags = fcntl(dup_fd, F_GETFL);
	if (flags < 0 || fcntl(dup_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		err = -errno;
		goto out_close;
	}
	sock__adopt(s, dup_fd, family, type, protocol);
	return 0;

out_close:
	close(dup_fd);
	return err;
}

int sock_socketpair(struct sock pair[2], int family, int type, int protocol)
{
	int fds[2];

	assert(pair);
	sock__clear(&pair[0]);
	sock__clear(&pair[1]);
	if (family == 0)
		family = AF_UNIX;
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (socketpair(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol,
		       fds) < 0)
		return -errno;
	sock__adopt(&pair[0], fds[0], family, type, protocol);
	sock__adopt(&pair[1], fds[1], family, type, protocol);
	return 0;
}

int sock_dup(const struct sock *s, struct sock *out)
{
	int fd;

	assert(s && out);
	sock__clear(out);
	if (s->fd < 0)
		return -EBADF;
	if (s->tls) /* one TLS state cannot serve two sockets */
		return -EOPNOTSUPP;
	fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*out = *s;
	out->fd = fd;
	return 0;
}

int sock_detach(struct sock *s)
{
	int fd = s->fd;

	sock__tls_release(s, false);
	sock__clear(s);
	return fd;
}

int sock_fileno(const struct sock *s)
{
	return s->fd;
}

int sock_close(struct sock *s)
{
	int fd = s->fd;

	sock__tls_release(s, true);
	sock__clear(s);
	if (fd < 0)
		return 0;
	/* On Linux the descriptor is released even when close() reports
	 * EINTR; retrying could close a descriptor another thread just got. */
	if (close(fd) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

int sock_settimeout(struct sock *s, int timeout_ms)
{
	if (timeout_ms < SOCK_FOREVER)
		return -EINVAL;
	s->timeout_ms = timeout_ms;
	return 0;
}

int sock_gettimeout(const struct sock *s)
{
	return s->timeout_ms;
}

void sock_setblocking(struct sock *s, bool blocking)
{
	s->timeout_ms = blocking ? SOCK_FOREVER : 0;
}

bool sock_getblocking(const struct sock *s)
{
	return s->timeout_ms != 0;
}

int sock_set_inheritable(struct sock *s, bool inheritable)
{
	int flags = fcntl(s->fd, F_GETFD);

	if (flags < 0)
		return -errno;
	flags = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
	if (fcntl(s->fd, F_SETFD, flags) < 0)
		return -errno;
	return 0;
}

int sock_get_inheritable(const struct sock *s)
{
	int flags = fcntl(s->fd, F_GETFD);

	if (flags < 0)
		return -errno;
	return !(flags & FD_CLOEXEC);
}

int sock_setsockopt(struct sock *s, int level, int name, int value)
{
	return sock_setsockopt_buf(s, level, name, &value, sizeof(value));
}

int sock_setsockopt_buf(struct sock *s, int level, int name, const void *buf,
			socklen_t len)
{
	if (setsockopt(s->fd, level, name, buf, len) < 0)
		return -errno;
	return 0;
}

/* s is a TCP socket: the TCP options apply. */
static bool is_tcp(const struct sock *s)
{
	return s->type == SOCK_STREAM &&
	       (s->family == AF_INET || s->family == AF_INET6);
}

int sock_set_keepalive(struct sock *s, bool on, int idle_s, int interval_s,
		       int count)
{
	int err;

	if (!is_tcp(s))
		return -ENOPROTOOPT;
	if (!on)
		return sock_setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, 0);
	/* The kernel's bounds (MAX_TCP_KEEPIDLE, ..._KEEPINTVL, ..._KEEPCNT),
	 * checked first so that a bad value changes nothing. */
	if (idle_s < 0 || idle_s > 32767 || interval_s < 0 ||
	    interval_s > 32767 || count < 0 || count > 127)
		return -EINVAL;
	err = 0;
	if (idle_s)
		err = sock_setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, idle_s);
	if (!err && interval_s)
		err = sock_setsockopt(s, IPPROTO_TCP, TCP_KEEPINTVL,
				      interval_s);
	if (!err && count)
		err = sock_setsockopt(s, IPPROTO_TCP, TCP_KEEPCNT, count);
	if (!err)
		err = sock_setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, 1);
	return err;
}

int sock_set_user_timeout(struct sock *s, int timeout_ms)
{
	if (!is_tcp(s))
		return -ENOPROTOOPT;
	if (timeout_ms < 0)
		return -EINVAL;
	return sock_setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, timeout_ms);
}

int sock_set_nodelay(struct sock *s, bool on)
{
	if (!is_tcp(s))
		return -ENOPROTOOPT;
	return sock_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, on);
}

int sock_getsockopt(const struct sock *s, int level, int name, int *value)
{
	socklen_t len = sizeof(*value);

	*value = 0;
	return sock_getsockopt_buf(s, level, name, value, &len);
}

int sock_getsockopt_buf(const struct sock *s, int level, int name, void *buf,
			socklen_t *len)
{
	if (getsockopt(s->fd, level, name, buf, len) < 0)
		return -errno;
	return 0;
}

/* The first address text resolves to for s, within s's timeout. */
static int resolve_for(const struct sock *s, const char *text, int flags,
		       struct sock_addr *addr)
{
	struct sock_addrinfo ai;
	ssize_t n;

	n = sock__resolve(text, s->family, s->type, flags, &ai, 1,
			  sock__deadline(s->timeout_ms));
	if (n < 0)
		return (int)n;
	*addr = ai.addr;
	return 0;
}

int sock_bind(struct sock *s, const char *text)
{
	struct sock_addr addr;
	int err;

	err = resolve_for(s, text, AI_PASSIVE, &addr);
	if (err)
		return err;
	return sock_bind_addr(s, &addr);
}

int sock_bind_addr(struct sock *s, const struct sock_addr *addr)
{
	if (bind(s->fd, &addr->u.sa, addr->len) < 0)
		return -errno;
	return 0;
}

int sock_listen_bound(struct sock *s, int backlog)
{
	if (listen(s->fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
		return -errno;
	return 0;
}

/*
 * accept(2) hands on errors of connections that died while queued, and
 * network errors, as if they were its own.  They concern that connection
 * only: the listener is fine and the next one may be good.
 */
bool sock__accept_error_is_transient(int err)
{
	switch (err) {
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EOPNOTSUPP:
	case EINTR:
		return true;
	}
	return false;
}

int sock_accept(struct sock *s, struct sock *conn, struct sock_addr *peer)
{
	int64_t deadline = sock__deadline(s->timeout_ms);
	struct sock_addr tmp;
	struct sock_addr *a = peer ? peer : &tmp;
	int fd, err;

	assert(conn);
	sock__clear(conn);
	for (;;) {
		a->len = sizeof(a->u);
		fd = accept4(s->fd, &a->u.sa, &a->len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		err = errno;
		if (sock__accept_error_is_transient(err))
			continue;
		if (err != EAGAIN)
			return -err;
		err = sock__wait(s->fd, POLLIN, deadline);
		if (err)
			return err;
	}
	sock__adopt(conn, fd, s->family, s->type, s->protocol);
	return 0;
}

/*
 * Connect within deadline.  A stream connect in progress is waited for
 * with poll and its result read from SO_ERROR.  A Unix socket whose
 * listener's backlog is full answers EAGAIN and offers nothing to poll
 * for, so it is retried after a short sleep.
 */
int sock__connect_deadline(struct sock *s, const struct sock_addr *addr,
			   int64_t deadline)
{
	int err, so_err;

	for (;;) {
		if (connect(s->fd, &addr->u.sa, addr->len) == 0)
			return 0;
		err = errno;
		if (err == EAGAIN && s->family == AF_UNIX) {
			err = sock__backoff(deadline);
			if (err)
				return err;
			continue;
		}
		if (err != EINPROGRESS && err != EINTR)
			return -err;
		break;
	}
	if (deadline == SOCK__NOW)
		return -EINPROGRESS;
	err = sock__wait(s->fd, POLLOUT, deadline);
	if (err)
		return err;
	err = sock__get_int_opt(s->fd, SO_ERROR, &so_err);
	if (err)
		return err;
	return -so_err;
}

int sock_connect_addr(struct sock *s, const struct sock_addr *addr)
{
	return sock__connect_deadline(s, addr, sock__deadline(s->timeout_ms));
}

int sock_connect_to(struct sock *s, const char *text)
{
	int64_t deadline = sock__deadline(s->timeout_ms);
	struct sock_addrinfo ai;
	ssize_t n;

	n = sock__resolve(text, s->family, s->type, 0, &ai, 1, deadline);
	if (n < 0)
		return (int)n;
	return sock__connect_deadline(s, &ai.addr, deadline);
}

int sock_getsockname(const struct sock *s, struct sock_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->len = sizeof(addr->u);
	if (getsockname(s->fd, &addr->u.sa, &addr->len) < 0) {
		addr->len = 0;
		return -errno;
	}
	return 0;
}

int sock_getpeername(const struct sock *s, struct sock_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->len = sizeof(addr->u);
	if (getpeername(s->fd, &addr->u.sa, &addr->len) < 0) {
		addr->len = 0;
		return -errno;
	}
	return 0;
}

int sock_shutdown(struct sock *s, int how)
{
	int err;

	/* TLS's end of the stream comes before TCP's. */
	if (s->tls && (how == SHUT_WR || how == SHUT_RDWR)) {
		err = sock__tls_close_notify(s, sock__deadline(s->timeout_ms));
		if (err)
			return err;
	}
	if (shutdown(s->fd, how) < 0)
		return -errno;
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* connect.c -- Python's create_connection and create_server */

#include "internal.h"

#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

/* How many of the resolved addresses are tried. */
#define ADDRS_MAX 16

/*
 * How much an attempt's error says about the destination, for reporting
 * one when every attempt failed: an answer from a live host (a refusal, a
 * reset) beats silence until the deadline, silence beats a network that
 * could not be reached, and each of those beats a local failure such as a
 * family this machine lacks or a source address it cannot use.  With a
 * zero timeout "in progress" stands for silence.
 */
static int error_rank(int err)
{
	switch (err) {
	case -ECONNREFUSED:
	case -ECONNRESET:
		return 3;
	case -ETIMEDOUT:
	case -EINPROGRESS:
	case -EAGAIN:
		return 2;
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		return 1;
	}
	return 0;
}

/* The more telling of two errors; the earlier one (best) on a tie. */
static int better_error(int best, int err)
{
	return !best || error_rank(err) > error_rank(best) ? err : best;
}

/* True once a finite deadline has passed (a zero timeout has none left
 * from the start, yet every address gets its non-blocking attempt). */
static bool deadline_passed(int64_t deadline)
{
	return deadline != SOCK__NEVER && deadline != SOCK__NOW &&
	       sock__remaining_ms(deadline) == 0;
}

/* Open a socket for ai, bind it to source (may be NULL) and connect it,
 * waiting no later than deadline. */
static int connect_one(struct sock *s, const struct sock_addrinfo *ai,
		       const char *source, int64_t deadline)
{
	struct sock_addrinfo src;
	ssize_t n;
	int err;

	if (source) {
		n = sock__resolve(source, ai->family, ai->type, AI_PASSIVE,
				  &src, 1, deadline);
		if (n < 0)
			return (int)n;
	}
	err = sock_open(s, ai->family, ai->type, ai->protocol);
	if (err)
		return err;
	if (source) {
		err = sock_bind_addr(s, &src.addr);
		if (err)
			goto out_close;
	}
	err = sock__connect_deadline(s, &ai->addr, deadline);
	if (err)
		goto out_close;
	return 0;

out_close:
	sock_close(s);
	return err;
}

int sock_connect_from(struct sock *s, int type, const char *addr,
		      const char *source, int timeout_ms)
{
	int64_t deadline = sock__deadline(timeout_ms);
	struct sock_addrinfo ai[ADDRS_MAX];
	int err, best = 0;
	ssize_t n, i;

	sock__clear(s);
	if (type <= 0)
		return -EINVAL;
	n = sock__resolve(addr, AF_UNSPEC, type, 0, ai, ADDRS_MAX, deadline);
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		err = connect_one(s, &ai[i], source, deadline);
		if (!err)
			return 0;
		best = better_error(best, err);
		if (deadline_passed(deadline))
			break;
	}
	return best;
}

int sock_connect(struct sock *s, int type, const char *addr, int timeout_ms)
{
	return sock_connect_from(s, type, addr, NULL, timeout_ms);
}

/*
 * A Unix socket's file outlives the socket.  Remove it only when it is a
 * socket and connecting to it is refused: no one listens there any more.
 * A live socket, another kind of file, or any doubt leaves the file for
 * bind() to report EADDRINUSE.
 */
static void remove_stale(const struct sock_addr *addr, int type)
{
	const char *path = addr->u.un.sun_path;
	struct sock probe;
	struct stat st;
	int err;

	if (addr->len <= offsetof(struct sockaddr_un, sun_path) || !path[0])
		return; /* the unnamed address or an abstract name */
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	if (sock_open(&probe, AF_UNIX, type, 0))
		return;
	err = sock__connect_deadline(&probe, addr, SOCK__NOW);
	sock_close(&probe);
	if (err == -ECONNREFUSED)
		unlink(path);
}

static int set_listen_options(struct sock *s, int flags)
{
	int err;

	if (s->family == AF_UNIX)
		return 0;
	/* As Python's create_server: a restarted server binds at once, even
	 * while its previous run's connections linger in TIME_WAIT. */
	err = sock_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1);
	if (!err && (flags & SOCK_LISTEN_REUSEPORT))
		err = sock_setsockopt(s, SOL_SOCKET, SO_REUSEPORT, 1);
	if (!err && s->family == AF_INET6)
		err = sock_setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY,
				      !(flags & SOCK_LISTEN_DUALSTACK));
	return err;
}

static int listen_one(struct sock *s, const struct sock_addrinfo *ai,
		      int backlog, int flags)
{
	int err;

	err = sock_open(s, ai->family, ai->type, ai->protocol);
	if (err)
		return err;
	err = set_listen_options(s, flags);
	if (err)
		goto out_close;
	if (ai->family == AF_UNIX && (flags & SOCK_LISTEN_UNLINK))
		remove_stale(&ai->addr, ai->type);
	err = sock_bind_addr(s, &ai->addr);
	if (err)
		goto out_close;
	if (ai->type == SOCK_STREAM || ai->type == SOCK_SEQPACKET) {
		err = sock_listen_bound(s, backlog);
		if (err)
			goto out_close;
	}
	return 0;

out_close:
	sock_close(s);
	return err;
}

int sock_listen(struct sock *s, int type, const char *addr, int backlog,
		int flags)
{
	struct sock_addrinfo ai[ADDRS_MAX];
	int family = AF_UNSPEC, err, first = 0;
	ssize_t n, i;

	sock__clear(s);
	if (type <= 0)
		return -EINVAL;
	/* The wildcard of both families is [::] with IPV6_V6ONLY cleared. */
	if ((flags & SOCK_LISTEN_DUALSTACK) && addr[0] == ':')
		family = AF_INET6;
	n = sock__resolve(addr, family, type, AI_PASSIVE, ai, ADDRS_MAX,
			  SOCK__NEVER);
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		err = listen_one(s, &ai[i], backlog, flags);
		if (!err)
			return 0;
		if (!first)
			first = err;
	}
	return first;
}

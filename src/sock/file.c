/* SPDX-License-Identifier: MIT */
/* file.c -- sockets and files: a stdio stream on a socket, sendfile */

#include "internal.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>

/*
 * A stream's cookie is its own socket: a malloc'd duplicate of the one it
 * was made from, so it keeps the timeout that socket had then.
 */
static ssize_t stream_read(void *cookie, char *buf, size_t size)
{
	ssize_t n;

	n = sock_recv(cookie, buf, size, 0);
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	return n;
}

/* stdio takes a count below size as a write error; the bytes that went
 * out before the error are reported all the same. */
static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
	size_t sent = 0;
	int err;

	err = sock_sendall(cookie, buf, size, &sent, 0);
	if (err)
		errno = -err;
	return (ssize_t)sent;
}

static int stream_close(void *cookie)
{
	int err;

	err = sock_close(cookie);
	free(cookie);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

/* The fopencookie() mode for a makefile() mode, or NULL if it is none.
 * Python's "rw" and a "b" (stdio ignores it) are accepted too. */
static const char *stream_mode(const char *mode)
{
	static const char *const modes[][2] = {
		{ "r", "r" },	 { "rb", "r" },	 { "w", "w" },
		{ "wb", "w" },	 { "r+", "r+" }, { "r+b", "r+" },
		{ "rb+", "r+" }, { "rw", "r+" },
	};
	size_t i;

	for (i = 0; i < SOCK_ARRAY_SIZE(modes); i++)
		if (strcmp(mode, modes[i][0]) == 0)
			return modes[i][1];
	return NULL;
}

int sock_makefile(const struct sock *s, const char *mode, FILE **out)
{
	cookie_io_functions_t io = { .close = stream_close };
	struct sock *copy;
	const char *m;
	int err;

	assert(s && mode && out);
	*out = NULL;
	m = stream_mode(mode);
	if (!m)
		return -EINVAL;
	if (m[0] == 'r')
		io.read = stream_read;
	if (m[0] == 'w' || m[1] == '+')
		io.write = stream_write;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	err = sock_dup(s, copy);
	if (err)
		goto out_free;
	*out = fopencookie(copy, m, io);
	if (!*out) {
		err = -errno;
		goto out_close;
	}
	return 0;

out_close:
	sock_close(copy);
out_free:
	free(copy);
	return err;
}

/* Largest count for one sendfile(2); Linux moves at most 2 GiB - 4 KiB. */
#define SENDFILE_CHUNK ((size_t)1 << 30)

/*
 * sendfile(2) takes no MSG_NOSIGNAL: writing to a closed peer raises
 * SIGPIPE.  The signal is blocked in this thread for the call, and a
 * SIGPIPE the call raised (not one pending before) is taken back before
 * the old mask returns.
 */
struct sigpipe_guard {
	sigset_t old;
	bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g, int err)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	if (err == -EPIPE && !g->was_pending) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Send from fd at *offset until count bytes went (0: end of file). */
static int sendfile_until(struct sock *s, int fd, off_t *offset, size_t count,
			  size_t *done, int64_t deadline)
{
	size_t chunk;
	ssize_t n;
	int err;

	while (count == 0 || *done < count) {
		chunk = count ? count - *done : SENDFILE_CHUNK;
		if (chunk > SENDFILE_CHUNK)
			chunk = SENDFILE_CHUNK;
		n = sendfile(s->fd, fd, offset, chunk);
		if (n > 0) {
			*done += (size_t)n;
			continue;
		}
		if (n == 0)
			return 0; /* end of file: sent all there was */
		err = errno;
		if (err == EINTR)
			continue;
		if (err != EAGAIN)
			return -err;
		err = sock__wait(s->fd, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}

/* TLS records are made in user space: read the file and send it, as
 * Python's SSLSocket.sendfile() falls back to send(). */
static int sendfile_tls(struct sock *s, int fd, off_t offset, size_t count,
			size_t *done, int64_t deadline)
{
	char buf[16384];
	size_t want, off;
	ssize_t n, w;

	while (count == 0 || *done < count) {
		want = sizeof(buf);
		if (count && count - *done < want)
			want = count - *done;
		n = pread(fd, buf, want, offset + (off_t)*done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0; /* end of file: sent all there was */
		for (off = 0; off < (size_t)n; off += (size_t)w) {
			w = sock__tls_send(s, buf + off, (size_t)n - off, 0,
					   deadline);
			if (w < 0)
				return (int)w;
			*done += (size_t)w;
		}
	}
	return 0;
}

int sock_sendfile(struct sock *s, int fd, off_t offset, size_t count,
		  size_t *sent)
{
	int64_t deadline = sock__deadline(s->timeout_ms);
	struct sigpipe_guard guard;
	size_t done = 0;
	int err;

	assert(s);
	if (sent)
		*sent = 0;
	if (offset < 0)
		return -EINVAL;
	if (s->tls) {
		err = sendfile_tls(s, fd, offset, count, &done, deadline);
		if (sent)
			*sent = done;
		return err;
	}
	sigpipe_block(&guard);
	err = sendfile_until(s, fd, &offset, count, &done, deadline);
	sigpipe_restore(&guard, err);
	if (sent)
		*sent = done;
	return err;
}

/* SPDX-License-Identifier: MIT */
/* activation.c -- systemd socket activation without libsystemd */

/*
 * The protocol (sd_listen_fds(3)): the service manager passes sockets as
 * descriptors 3, 4, ... and sets LISTEN_FDS to their count, LISTEN_PID to
 * the process they are meant for (so a child that inherits the
 * environment does not take them too) and, optionally, LISTEN_FDNAMES to
 * their names, separated by colons.
 */

#include "internal.h"

#include "activation.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_FDS_START 3

/* Bound on LISTEN_FDS: far above any real use, and keeps fd + n in int. */
#define LISTEN_FDS_MAX 65536

/* A decimal number in 0...max with nothing around it, or -EINVAL. */
static long parse_count(const char *text, long max)
{
	char *end;
	long v;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	return v;
}

static void unset_all(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

/*
 * Check LISTEN_FDNAMES (NULL: absent): exactly n names, each of at most 255
 * bytes.  Returns 0 or -EINVAL.
 */
static int check_names(const char *names, long n)
{
	const char *p, *end;
	long count = 0;

	if (!names)
		return 0;
	for (p = names;; p = end + 1) {
		end = strchrnul(p, ':');
		if (end - p > 255)
			return -EINVAL;
		count++;
		if (!*end)
			break;
	}
	return count == n ? 0 : -EINVAL;
}

void sock__activation_name(const char *names, long index, char out[256])
{
	const char *p = names, *end;
	long i;

	out[0] = '\0';
	if (!names)
		return;
	for (i = 0; i < index; i++)
		p = strchr(p, ':') + 1;
	end = strchrnul(p, ':');
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
}

/* Make fd close-on-exec and non-blocking, and read what socket it is. */
static int prepare(int fd, struct sock *s)
{
	int flags, family, type, protocol, err;

	flags = fcntl(fd, F_GETFD);
	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return -errno;
	err = sock__get_int_opt(fd, SO_DOMAIN, &family);
	if (!err)
		err = sock__get_int_opt(fd, SO_TYPE, &type);
	if (!err)
		err = sock__get_int_opt(fd, SO_PROTOCOL, &protocol);
	if (err)
		return err;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	/* The descriptor is taken as it is, not duplicated: the server
	 * that adopts it must be its only owner. */
	sock__adopt(s, fd, family, type, protocol);
	return 0;
}

/* How many descriptors LISTEN_FDS and LISTEN_FDNAMES describe (0 when
 * LISTEN_FDS is absent), or -EINVAL. */
static long passed_count(const char *fds, const char *names)
{
	long n;

	if (!fds)
		return 0;
	n = parse_count(fds, LISTEN_FDS_MAX);
	if (n < 0)
		return n;
	return check_names(names, n) ? -EINVAL : n;
}

long sock__activation_count(const char *pid, const char *fds, const char *names,
			    long self, bool *mine)
{
	long p;

	*mine = false;
	if (!pid)
		return 0;
	p = parse_count(pid, INT_MAX);
	if (p > 0 && p != self)
		return 0; /* meant for another process */
	*mine = true;
	return p > 0 ? passed_count(fds, names) : -EINVAL;
}

int sock_listen_fds(struct sock_listen_fd *out, size_t max)
{
	const char *names = getenv("LISTEN_FDNAMES");
	size_t written = 0;
	bool mine;
	long n, i;
	int err;

	n = sock__activation_count(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
				   names, (long)getpid(), &mine);
	if (!mine)
		return 0;
	for (i = 0; i < n; i++) {
		struct sock s;

		err = prepare(LISTEN_FDS_START + (int)i, &s);
		if (err) {
			n = err;
			break;
		}
		if (written < max) {
			out[written].sock = s;
			sock__activation_name(names, i, out[written].name);
			written++;
		}
	}
	/* On failure nothing is handed over. */
	while (n < 0 && written > 0)
		sock__clear(&out[--written].sock);
	unset_all();
	return (int)n;
}

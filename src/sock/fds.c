/* SPDX-License-Identifier: MIT */
/* fds.c -- passing descriptors over Unix sockets (SCM_RIGHTS) */

#include "internal.h"

#include <assert.h>
#include <string.h>
#include <unistd.h>

/* The kernel's SCM_MAX_FD: the most descriptors one message carries. */
#define MAX_FDS 253

/*
 * Control buffer room for the most descriptors one message carries, and
 * for the SCM_CREDENTIALS message the kernel puts first when SO_PASSCRED
 * is set, so that it does not truncate the descriptors away.
 */
union fds_control {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int) * MAX_FDS) +
		 CMSG_SPACE(sizeof(struct ucred))];
};

ssize_t sock_send_fds(struct sock *s, const void *buf, size_t len,
		      const int *fds, size_t nfds)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union fds_control control;
	struct cmsghdr *cm;

	assert(s);
	if (nfds > MAX_FDS)
		return -EINVAL;
	/* A stream sends descriptors along with bytes: with no byte to
	 * carry them the kernel would drop them and report success. */
	if (nfds > 0 && len == 0 && s->type == SOCK_STREAM)
		return -EINVAL;
	if (nfds > 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sock_sendmsg(s, &msg, 0);
}

static bool is_rights(const struct cmsghdr *cm)
{
	return cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS;
}

/* How many descriptors one SCM_RIGHTS message holds. */
static size_t rights_count(const struct cmsghdr *cm)
{
	return (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
}

/* The i-th descriptor of an SCM_RIGHTS message; CMSG_DATA need not be
 * aligned for int. */
static int rights_fd(const struct cmsghdr *cm, size_t i)
{
	int fd;

	memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
	return fd;
}

/*
 * Move the descriptors that arrived with msg into fds, which has room for
 * max.  Returns how many, or -EMSGSIZE when more arrived than fit or the
 * kernel truncated the control data; then all that arrived are closed, as
 * the caller could not hold them all.
 */
static int take_fds(struct msghdr *msg, int *fds, size_t max)
{
	struct cmsghdr *cm;
	size_t count = 0, i;
	bool fit;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm))
		if (is_rights(cm))
			count += rights_count(cm);
	fit = count <= max && !(msg->msg_flags & MSG_CTRUNC);
	count = 0;
	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (!is_rights(cm))
			continue;
		for (i = 0; i < rights_count(cm); i++) {
			if (fit)
				fds[count++] = rights_fd(cm, i);
			else
				close(rights_fd(cm, i));
		}
	}
	return fit ? (int)count : -EMSGSIZE;
}

ssize_t sock_recv_fds(struct sock *s, void *buf, size_t len, int *fds,
		      size_t *nfds)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union fds_control control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	size_t room;
	ssize_t n;
	int count;

	assert(s && nfds);
	room = *nfds;
	*nfds = 0;
	n = sock_recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	count = take_fds(&msg, fds, room);
	if (count < 0)
		return count;
	*nfds = (size_t)count;
	return n;
}

/* SPDX-License-Identifier: MIT */
/* udp_echo.c -- reference: hand-written UDP echo, plain or batched */

/*
 * usage: udp_echo [--mmsg] PORT
 *
 * Plain: recvfrom and sendto, one datagram at a time, until the socket is
 * empty, then epoll_wait.  --mmsg: recvmmsg takes up to BATCH datagrams and
 * one sendmmsg answers them all, from where they were received.
 */

#include "ref.h"

#include <sys/epoll.h>

#define BATCH 32
#define DGRAM_MAX 65536

static char bufs[BATCH][DGRAM_MAX];

static void plain(int fd)
{
	struct sockaddr_storage peer;
	socklen_t len;
	ssize_t n;

	for (;;) {
		len = sizeof(peer);
		n = recvfrom(fd, bufs[0], DGRAM_MAX, 0,
			     (struct sockaddr *)&peer, &len);
		if (n < 0)
			return;
		sendto(fd, bufs[0], (size_t)n, 0, (struct sockaddr *)&peer,
		       len);
	}
}

static void batched(int fd)
{
	static struct mmsghdr msg[BATCH];
	static struct iovec iov[BATCH];
	static struct sockaddr_storage peer[BATCH];
	int i, n;

	for (;;) {
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = DGRAM_MAX;
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
			msg[i].msg_hdr.msg_name = &peer[i];
			msg[i].msg_hdr.msg_namelen = sizeof(peer[i]);
		}
		n = recvmmsg(fd, msg, BATCH, 0, NULL);
		if (n <= 0)
			return;
		/* Answer with what arrived: same buffers, same lengths. */
		for (i = 0; i < n; i++)
			iov[i].iov_len = msg[i].msg_len;
		sendmmsg(fd, msg, (unsigned int)n, 0);
		if (n < BATCH)
			return;
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int mmsg = argc == 3 && !strcmp(argv[1], "--mmsg");
	int fd, ep;

	if (argc != 2 + mmsg) {
		fprintf(stderr, "usage: udp_echo [--mmsg] PORT\n");
		return 2;
	}
	ref_setup();
	fd = ref_listen(SOCK_DGRAM, ref_port(argv[1 + mmsg]));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		ref_die("epoll");
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) < 1)
			continue;
		if (mmsg)
			batched(fd);
		else
			plain(fd);
	}
}

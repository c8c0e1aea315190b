/* SPDX-License-Identifier: MIT */
/* time_server.c -- reference: a hand-written RFC 868 time server */

/*
 * usage: time_server PORT
 *
 * epoll tells when connections wait; each is accepted, sent its 4 bytes
 * (a new socket's buffer always takes them) and closed.
 */

#include "ref.h"

#include <sys/epoll.h>
#include <time.h>

/* Seconds from 1900, RFC 868's epoch, to 1970. */
#define RFC868_EPOCH_OFFSET 2208988800u

static void serve(int lfd)
{
	unsigned char out[4];
	uint32_t t;
	int i, fd;

	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		t = (uint32_t)time(NULL) + RFC868_EPOCH_OFFSET;
		out[0] = (unsigned char)(t >> 24);
		out[1] = (unsigned char)(t >> 16);
		out[2] = (unsigned char)(t >> 8);
		out[3] = (unsigned char)t;
		send(fd, out, sizeof(out), MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int lfd, ep;

	if (argc != 2) {
		fprintf(stderr, "usage: time_server PORT\n");
		return 2;
	}
	ref_setup();
	lfd = ref_listen(SOCK_STREAM, ref_port(argv[1]));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		ref_die("epoll");
	for (;;)
		if (epoll_wait(ep, &ev, 1, -1) == 1)
			serve(lfd);
}

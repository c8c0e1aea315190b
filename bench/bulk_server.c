/* SPDX-License-Identifier: MIT */
/* bulk_server.c -- reference: hand-written discard and chargen servers */

/*
 * usage: bulk_server discard|chargen PORT
 *
 * Level-triggered epoll.  discard reads 256 KiB at a time and drops it.
 * chargen writes the RFC 864 pattern (and drops what the client sends) 256 KiB at a time from a buffer that
 * holds one period (95 lines of 74 bytes) and 256 KiB more, so any
 * position of the stream starts a contiguous write; each connection keeps
 * only where it is in the period, indexed by descriptor.
 */

#include "ref.h"

#include <sys/epoll.h>

#define CHUNK (256 * 1024)
#define LINE 74
#define PERIOD (95 * LINE)

static char buf[PERIOD + CHUNK];
static char sink[CHUNK];
static uint16_t *where;

static void fill_pattern(void)
{
	size_t i;

	for (i = 0; i < sizeof(buf); i++) {
		size_t line = i / LINE % 95, col = i % LINE;

		if (col < 72)
			buf[i] = (char)(0x20 + (line + col) % 95);
		else
			buf[i] = col == 72 ? '\r' : '\n';
	}
}

static void on_conn(int fd, uint32_t events, int chargen)
{
	ssize_t n;

	if (!chargen || (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		n = read(fd, sink, CHUNK);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			close(fd);
			return;
		}
		if (!chargen)
			return;
	}
	if (events & EPOLLOUT) {
		n = write(fd, buf + where[fd], CHUNK);
		if (n > 0)
			where[fd] =
				(uint16_t)((where[fd] + (size_t)n) % PERIOD);
		else if (errno != EAGAIN)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev[64] = { { .events = EPOLLIN } };
	int chargen, lfd, ep, fd, i, n;

	if (argc != 3 || (strcmp(argv[1], "discard") && strcmp(argv[1], "charge"
									"n"))) {
		fprintf(stderr, "usage: bulk_server discard|chargen PORT\n");
		return 2;
	}
	chargen = !strcmp(argv[1], "chargen");
	ref_setup();
	fill_pattern();
	where = calloc(1 << 20, sizeof(*where));
	lfd = ref_listen(SOCK_STREAM, ref_port(argv[2]));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev[0].data.fd = lfd;
	if (!where || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev[0]) < 0)
		ref_die("setup");
	for (;;) {
		n = epoll_wait(ep, ev, 64, -1);
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd != lfd) {
				on_conn(ev[i].data.fd, ev[i].events, chargen);
				continue;
			}
			fd = accept4(lfd, NULL, NULL,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0 || fd >= 1 << 20) {
				if (fd >= 0)
					close(fd);
				continue;
			}
			where[fd] = 0;
			ev[i].events = EPOLLIN | (chargen ? EPOLLOUT : 0);
			ev[i].data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev[i]);
		}
	}
}

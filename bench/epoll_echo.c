/* SPDX-License-Identifier: MIT */
/* epoll_echo.c -- reference: a hand-written single-threaded epoll echo server */

/*
 * usage: epoll_echo [--busy] PORT
 *
 * Level-triggered epoll, one read and one write per event: the practical
 * limit for an echo server on one core.  The connection is its descriptor
 * and nothing more; only a write the socket could not take whole is kept,
 * and reading from that connection pauses until it is sent.  With --busy
 * the loop never sleeps (epoll_wait with timeout 0): the latency
 * reference, at the price of a whole core.
 */

#include "ref.h"

#include <sys/epoll.h>

#define BUF_SIZE (64 * 1024)

/* Output a socket did not take, indexed by descriptor; NULL for none. */
struct pending {
	size_t off, len;
	char data[];
};

static struct pending **pending;
static char buf[BUF_SIZE];

static void drop(int fd)
{
	free(pending[fd]);
	pending[fd] = NULL;
	close(fd);
}

static void want(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void echo(int ep, int fd)
{
	ssize_t n, w;

	n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		drop(fd);
		return;
	}
	w = write(fd, buf, (size_t)n);
	if (w == n)
		return;
	if (w < 0 && errno != EAGAIN) {
		drop(fd);
		return;
	}
	if (w < 0)
		w = 0;
	pending[fd] = malloc(sizeof(struct pending) + (size_t)(n - w));
	if (!pending[fd]) {
		drop(fd);
		return;
	}
	pending[fd]->off = 0;
	pending[fd]->len = (size_t)(n - w);
	memcpy(pending[fd]->data, buf + w, (size_t)(n - w));
	want(ep, fd, EPOLLOUT);
}

static void flush(int ep, int fd)
{
	struct pending *p = pending[fd];
	ssize_t w;

	w = write(fd, p->data + p->off, p->len - p->off);
	if (w < 0) {
		if (errno != EAGAIN)
			drop(fd);
		return;
	}
	p->off += (size_t)w;
	if (p->off < p->len)
		return;
	free(p);
	pending[fd] = NULL;
	want(ep, fd, EPOLLIN);
}

static void accept_all(int ep, int lfd, int maxfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int i, fd;

	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (fd >= maxfd) {
			close(fd);
			continue;
		}
		ref_nodelay(fd);
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev[256] = { { .events = EPOLLIN } };
	int busy = argc == 3 && !strcmp(argv[1], "--busy");
	int ep, lfd, i, n, maxfd;
	struct rlimit rl;

	if (argc != 2 + busy) {
		fprintf(stderr, "usage: epoll_echo [--busy] PORT\n");
		return 2;
	}
	ref_setup();
	getrlimit(RLIMIT_NOFILE, &rl);
	maxfd = (int)rl.rlim_cur;
	pending = calloc((size_t)maxfd, sizeof(*pending));
	lfd = ref_listen(SOCK_STREAM, ref_port(argv[1 + busy]));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!pending || ep < 0)
		ref_die("setup");
	ev[0].data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev[0]) < 0)
		ref_die("epoll_ctl");
	for (;;) {
		n = epoll_wait(ep, ev, 256, busy ? 0 : -1);
		for (i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == lfd)
				accept_all(ep, lfd, maxfd);
			else if (pending[fd])
				flush(ep, fd);
			else
				echo(ep, fd);
		}
	}
}

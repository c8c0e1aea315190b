/* SPDX-License-Identifier: MIT */
/* util.c -- the adversary's tools: time, plain sockets, latency figures */

#include "adversary.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int tcp_connect(const char *host, int port, int rcvbuf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port) };
	int fd;

	inet_pton(AF_INET, host ? host : "127.0.0.1", &sin.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* On loopback the kernel completes the handshake while the accept
	 * queue has room, whether the server accepts or not. */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Wait for fd to be readable until deadline (us): 1, 0 (time), -1. */
static int wait_in(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t left = deadline - now_us();
	int r;

	if (left < 0)
		return 0;
	r = poll(&p, 1, (int)((left + 999) / 1000));
	if (r < 0 && errno == EINTR)
		return wait_in(fd, deadline);
	return r;
}

ssize_t recv_wait(int fd, void *buf, size_t len, int ms)
{
	int64_t deadline = now_us() + (int64_t)ms * 1000;
	ssize_t n;

	while (wait_in(fd, deadline) > 0) {
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			return n;
	}
	return -1;
}

ssize_t read_some(int fd, void *buf, size_t len, int ms)
{
	int64_t deadline = now_us() + (int64_t)ms * 1000;
	size_t got = 0;
	ssize_t n;

	while (got < len && wait_in(fd, deadline) > 0) {
		n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int read_exact(int fd, void *buf, size_t len, int ms)
{
	return read_some(fd, buf, len, ms) == (ssize_t)len ? 0 : -1;
}

int read_to_end(int fd, int ms)
{
	int64_t deadline = now_us() + (int64_t)ms * 1000;
	char buf[16384];
	ssize_t n;

	while (wait_in(fd, deadline) > 0) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
	}
	return -1;
}

int send_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, (const char *)buf + done, len - done,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

void close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* ---- latencies ---- */

void lat_add(struct lat *l, double ms)
{
	double *p;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? 2 * l->cap : 256;
		p = realloc(l->ms, cap * sizeof(*p));
		if (!p)
			return;
		l->ms = p;
		l->cap = cap;
	}
	l->ms[l->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double lat_pct(struct lat *l, double pct)
{
	size_t i;

	if (!l->n)
		return 0;
	qsort(l->ms, l->n, sizeof(*l->ms), cmp_double);
	i = (size_t)(pct / 100.0 * (double)(l->n - 1) + 0.5);
	return l->ms[i < l->n ? i : l->n - 1];
}

void lat_figure(const char *scen, const char *what, struct lat *l)
{
	if (!l->n) {
		figure(scen, what, "no answers");
		return;
	}
	figure(scen, what, "p50 %.3f ms, p99 %.3f ms, max %.3f ms (%zu)",
	       lat_pct(l, 50), lat_pct(l, 99), lat_pct(l, 100), l->n);
}

void lat_free(struct lat *l)
{
	free(l->ms);
	memset(l, 0, sizeof(*l));
}

/* SPDX-License-Identifier: MIT */
/* nonread.c -- echo clients that send and never read, beside a working client */

#include "adversary.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

/*
 * Issue 9, defects 1 and 10: on io_uring, 32 such clients pinned 246 of
 * the loop's 1024 shared receive buffers, 400 took the server to 103 MB
 * (epoll: 5.4 MB), and the memory stayed after they left.  The
 * attackers keep their receive buffers small, so that the kernel's share
 * of the attack stays small and the server's shows.
 */
#define NONREADERS 200
#define NONREAD_RCVBUF 4096
/*
 * Most send NONREAD_WIDE each, which the kernel's buffers take: many
 * connections, each with data in flight.  The first NONREAD_DEEP send up
 * to NONREAD_MAX, past what the kernel takes, until the server's output
 * limit stops it reading from them.  All push for at most PUSH_MS, and
 * stop when none could send for STUCK_MS.
 */
#define NONREAD_DEEP 64
#define NONREAD_WIDE (512u << 10)
#define NONREAD_MAX (16u << 20)
#define PUSH_MS 2500
#define STUCK_MS 200
/* The working client's pace beside the flood. */
#define ECHO_EVERY_MS 5

struct flood {
	int fd[NONREADERS];
	size_t sent[NONREADERS];
	int n, cut;
	long rss_peak;
};

static void flood_open(struct flood *f, int port)
{
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < NONREADERS; i++) {
		f->fd[f->n] = tcp_connect(NULL, port, NONREAD_RCVBUF);
		if (f->fd[f->n] >= 0 && set_nonblock(f->fd[f->n]) == 0)
			f->n++;
	}
}

/* One attacker sends what its socket takes; whether it sent anything. */
static bool flood_send(struct flood *f, int i)
{
	static char chunk[16384];
	bool moved = false;
	ssize_t n;

	if (!chunk[0])
		memset(chunk, 'n', sizeof(chunk));
	while (f->sent[i] < (i < NONREAD_DEEP ? NONREAD_MAX : NONREAD_WIDE)) {
		n = send(f->fd[i], chunk, sizeof(chunk), MSG_NOSIGNAL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				close(f->fd[i]);
				f->fd[i] = -1;
				f->cut++;
			}
			break;
		}
		f->sent[i] += (size_t)n;
		moved = true;
	}
	return moved;
}

/* Push until every attacker is blocked, sampling the server's RSS. */
static void flood_push(struct flood *f, const struct server *s)
{
	int64_t t0 = now_us(), moved_at = t0;
	struct pollfd p[NONREADERS];
	long rss;
	int i;

	while (now_us() - t0 < (int64_t)PUSH_MS * 1000 &&
	       now_us() - moved_at < (int64_t)STUCK_MS * 1000) {
		for (i = 0; i < f->n; i++)
			p[i] = (struct pollfd){ f->fd[i], POLLOUT, 0 };
		if (poll(p, (nfds_t)f->n, 20) > 0)
			for (i = 0; i < f->n; i++)
				if ((p[i].revents & POLLOUT) && f->fd[i] >= 0 &&
				    flood_send(f, i))
					moved_at = now_us();
		rss = server_rss_kib(s);
		f->rss_peak = rss > f->rss_peak ? rss : f->rss_peak;
	}
}

/* The server's send and receive queues of each connection on port, from
 * /proc/net/tcp, by the peer's port; the number of connections found. */
static int server_queues(int port, long *tx, long *rx, int *peer, int max)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	unsigned int lport, rport;
	char line[256];
	int n = 0;

	while (f && n < max && fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%x %*x:%x %*x %lx:%lx", &lport,
			   &rport, &tx[n], &rx[n]) == 4 &&
		    (int)lport == port)
			peer[n++] = (int)rport;
	if (f)
		fclose(f);
	return n;
}

/*
 * What the server keeps of the attack in its own memory: what the
 * attackers sent, less what is still in the kernel (unsent on our side,
 * in the server's socket both ways, unread on our side).  On loopback
 * every byte is in one of those places or in the server.
 */
static long flood_held_kib(const struct flood *f, int port)
{
	static long tx[2 * NONREADERS], rx[2 * NONREADERS];
	static int peer[2 * NONREADERS];
	struct sockaddr_in me;
	socklen_t len;
	long held = 0;
	int unsent, inq, i, k, n;

	n = server_queues(port, tx, rx, peer, 2 * NONREADERS);
	for (i = 0; i < f->n; i++) {
		len = sizeof(me);
		if (f->fd[i] < 0 ||
		    getsockname(f->fd[i], (struct sockaddr *)&me, &len) ||
		    ioctl(f->fd[i], SIOCOUTQNSD, &unsent) ||
		    ioctl(f->fd[i], SIOCINQ, &inq))
			continue;
		for (k = 0; k < n && peer[k] != ntohs(me.sin_port); k++)
			;
		if (k < n)
			held += (long)f->sent[i] - unsent - inq - tx[k] - rx[k];
	}
	return held / 1024;
}

static void flood_close(struct flood *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
	f->n = 0;
}

static long wait_rss(const struct server *s, long limit, int ms)
{
	int64_t deadline = now_us() + (int64_t)ms * 1000;
	long rss = server_rss_kib(s);

	while (rss > limit && now_us() < deadline) {
		sleep_ms(50);
		rss = server_rss_kib(s);
	}
	return rss;
}

static void figure_rxbufs(const struct server *s, const char *what)
{
	long kib = server_rxbufs_kib(s);

	if (kib < 0)
		figure("nonread", what, "no io_uring receive buffers");
	else
		figure("nonread", what,
		       "%ld KiB resident of 16384 (%ld of 1024 "
		       "buffers touched)",
		       kib, kib / 16);
}

void scenario_nonread(const struct adv *a)
{
	static const char *const args[] = { "--quiet", "--tcp-only", "echo=0",
					    NULL };
	const char *scen = "nonread";
	struct lat alone = { 0 }, fresh = { 0 }, after = { 0 };
	long rss0, rss_flood, rss_after;
	int port, fds0, fds, bad = 0, fresh_bad = 0;
	struct server s;
	struct echoer e;
	static struct flood f;
	size_t i, deep = 0, wide = 0;

	if (server_start(a, &s, scen, args, 1, 0, NULL))
		return;
	port = server_port(&s, "echo", false);
	fds0 = server_fds(&s);
	echo_burst(port, 200, &alone, &bad);
	server_wait_fds(&s, fds0, 2000);
	rss0 = server_rss_kib(&s);
	lat_figure(scen, "alone_latency", &alone);

	if (echoer_start(&e, port, ECHO_EVERY_MS, 5000)) {
		check(scen, "working_client_connects", false, "cannot connect");
		server_stop(&s, scen);
		return;
	}
	flood_open(&f, port);
	flood_push(&f, &s);
	/* A new client during the flood, too. */
	echo_burst(port, 50, &fresh, &fresh_bad);
	sleep_ms(300);
	rss_flood = server_rss_kib(&s);
	f.rss_peak = rss_flood > f.rss_peak ? rss_flood : f.rss_peak;
	for (i = 0; i < (size_t)f.n; i++)
		*(i < NONREAD_DEEP ? &deep : &wide) += f.sent[i];
	figure(scen, "attack",
	       "%d non-reading clients: %d sent until blocked, %zu KiB each "
	       "on average; %d sent %zu KiB each on average; %d cut off by "
	       "the server",
	       f.n, NONREAD_DEEP, deep / 1024 / NONREAD_DEEP,
	       f.n - NONREAD_DEEP,
	       f.n > NONREAD_DEEP ? wide / 1024 / (size_t)(f.n - NONREAD_DEEP)
				  : 0,
	       f.cut);
	figure(scen, "server_holds",
	       "%ld KiB of the attack's data in its own memory",
	       flood_held_kib(&f, port));
	figure_rxbufs(&s, "rx_buffers_during");
	echoer_stop(&e);
	echoer_report(&e, scen, "beside_flood");
	lat_figure(scen, "new_client_during_flood_latency", &fresh);
	check(scen, "new_client_served_during_flood",
	      fresh_bad == 0 && fresh.n == 50 &&
		      lat_pct(&fresh, 100) <= LIVENESS_MS,
	      "%zu of 50 echoes, max %.1f ms", fresh.n, lat_pct(&fresh, 100));

	flood_close(&f);
	fds = server_wait_fds(&s, fds0, 5000);
	check(scen, "flood_connections_released", fds <= fds0,
	      "the server holds %d descriptors, %d before", fds, fds0);
	rss_after = wait_rss(&s, rss0 + rss_margin_kib(rss0), 2000);
	figure(scen, "rss",
	       "baseline %ld KiB, with the flood %ld KiB (peak %ld), %ld KiB "
	       "after it left",
	       rss0, rss_flood, f.rss_peak, rss_after);
	figure_rxbufs(&s, "rx_buffers_after");
	echo_burst(port, 200, &after, &bad);
	lat_figure(scen, "after_flood_latency", &after);
	check(scen, "alone_and_after_echoes_correct", bad == 0,
	      "%d echo runs failed", bad);
	rss_check(a, scen, rss0, rss_after);
	lat_free(&alone);
	lat_free(&fresh);
	lat_free(&after);
	server_stop(&s, scen);
}

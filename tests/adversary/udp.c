/* SPDX-License-Identifier: MIT */
/* udp.c -- UDP floods from many sources beside a well-behaved UDP client */

#include "adversary.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Many sources, each its own address and port, flood every UDP service
 * (loopback: 127.78.x.y, exempt from the per-source rate limit; in the
 * namespaces: 10.78.0.10 up, which are not).  Beside them a client asks
 * the echo service at a real client's pace; each request is sent again
 * every RETRY_MS, as UDP clients do, and must be answered within
 * LIVENESS_MS.
 */
#define FLOOD_SOURCES 240
#define FLOOD_RATE 40000 /* datagrams a second, all sources together */
#define FLOOD_MS 1500
#define RETRY_MS 100

struct udp_client {
	struct sockaddr_in from, to;
	int every_ms, count;
	pthread_t thread;
	struct lat lat;
	int answered, first_try, wrong, lost;
};

/* A flood source: a UDP socket bound to host:0, non-blocking, with a
 * small receive buffer for the answers it never reads; or -1. */
static int flood_socket(const char *host)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int small = 4096;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, host, &me.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request: its answer's time in ms, -1 wrong, -2 none in time. */
static double ask(int fd, unsigned int seq, int *tries)
{
	int64_t t0 = now_us(), deadline = t0 + (int64_t)LIVENESS_MS * 1000;
	char msg[64], got[128];
	int len = snprintf(msg, sizeof(msg), "adversary udp %u", seq), wait;
	ssize_t n;

	*tries = 0;
	while (now_us() < deadline) {
		send(fd, msg, (size_t)len, 0);
		(*tries)++;
		wait = (int)((deadline - now_us()) / 1000);
		wait = wait < RETRY_MS ? wait : RETRY_MS;
		/* Earlier tries' answers may come late: matched by seq. */
		while ((n = recv_wait(fd, got, sizeof(got), wait)) >= 0) {
			if (n == len && !memcmp(got, msg, (size_t)len))
				return (double)(now_us() - t0) / 1000.0;
			if (n < 14 || memcmp(got, "adversary udp ", 14))
				return -1;
			wait = (int)((deadline - now_us()) / 1000);
			wait = wait < RETRY_MS ? wait : RETRY_MS;
		}
	}
	return -2;
}

static void *udp_client_main(void *arg)
{
	struct udp_client *u = arg;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), i, tries;
	double ms;

	if (fd < 0 || bind(fd, (struct sockaddr *)&u->from, sizeof(u->from)) ||
	    connect(fd, (struct sockaddr *)&u->to, sizeof(u->to))) {
		u->lost = u->count;
		goto out;
	}
	for (i = 0; i < u->count; i++) {
		ms = ask(fd, (unsigned int)i, &tries);
		if (ms == -1)
			u->wrong++;
		else if (ms < 0)
			u->lost++;
		else {
			u->answered++;
			u->first_try += tries == 1;
			lat_add(&u->lat, ms);
		}
		sleep_ms(u->every_ms);
	}
out:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int udp_client_start(struct udp_client *u, const char *from,
			    const char *to, int port, int every_ms, int count)
{
	memset(u, 0, sizeof(*u));
	u->from.sin_family = u->to.sin_family = AF_INET;
	inet_pton(AF_INET, from, &u->from.sin_addr);
	inet_pton(AF_INET, to, &u->to.sin_addr);
	u->to.sin_port = htons((uint16_t)port);
	u->every_ms = every_ms;
	u->count = count;
	return pthread_create(&u->thread, NULL, udp_client_main, u) ? -1 : 0;
}

static void udp_client_report(struct udp_client *u, const char *scen)
{
	pthread_join(u->thread, NULL);
	lat_figure(scen, "client_latency", &u->lat);
	figure(scen, "client_answers",
	       "%d of %d requests answered, %d at the first try", u->answered,
	       u->count, u->first_try);
	check(scen, "client_answers_correct", u->wrong == 0,
	      "%d answers were not the request", u->wrong);
	check(scen, "client_answered_within_liveness_bound",
	      u->answered == u->count, "%d of %d requests unanswered in %d ms",
	      u->lost, u->count, LIVENESS_MS);
	lat_free(&u->lat);
}

/*
 * FLOOD_SOURCES sockets, source i at prefix + (i / 200, i % 200), paced to
 * FLOOD_RATE, round robin over every UDP port of the server, for FLOOD_MS;
 * the number of datagrams sent.  Nothing is read back.
 */
static long flood(const struct server *s, const char *host, bool loopback,
		  int *sources)
{
	static int fd[FLOOD_SOURCES];
	struct sockaddr_in to = { .sin_family = AF_INET };
	int64_t t0 = now_us(), ahead;
	char addr[32], payload[32];
	long sent = 0, tries = 0;
	int n = 0, i, k, ports[SERVER_SVCS], nports = 0;

	for (k = 0; k < (int)s->nsvc; k++)
		if (s->svc[k].udp)
			ports[nports++] = s->svc[k].udp;
	inet_pton(AF_INET, host, &to.sin_addr);
	for (i = 0; i < FLOOD_SOURCES; i++) {
		if (loopback)
			snprintf(addr, sizeof(addr), "127.78.%d.%d",
				 1 + i / 200, 1 + i % 200);
		else
			snprintf(addr, sizeof(addr), "10.78.0.%d", 10 + i);
		if ((fd[n] = flood_socket(addr)) >= 0)
			n++;
	}
	memset(payload, 'f', sizeof(payload));
	while (n && nports && now_us() - t0 < (int64_t)FLOOD_MS * 1000) {
		to.sin_port = htons((uint16_t)ports[tries % nports]);
		if (sendto(fd[tries % n], payload, sizeof(payload), 0,
			   (struct sockaddr *)&to, sizeof(to)) > 0)
			sent++;
		tries++;
		/* Paced: no faster than FLOOD_RATE. */
		ahead = tries * 1000000 / FLOOD_RATE - (now_us() - t0);
		if (tries % 64 == 0 && ahead > 1000)
			sleep_ms((int)(ahead / 1000));
	}
	*sources = n;
	while (n > 0)
		close(fd[--n]);
	return sent;
}

static const char *const udp_args_lo[] = { "--quiet",	"--udp-only", "echo=0",
					   "discard=0", "daytime=0",  "time=0",
					   "chargen=0", NULL };

void scenario_udp_loopback(const struct adv *a)
{
	const char *scen = "udp_loopback";
	struct udp_client u;
	struct server s;
	int64_t t0;
	long sent, rss0;
	int sources;

	if (server_start(a, &s, scen, udp_args_lo, 5, 0, NULL))
		return;
	rss0 = server_rss_kib(&s);
	if (udp_client_start(&u, "127.0.0.1", "127.0.0.1",
			     server_port(&s, "echo", true), 10, 150)) {
		check(scen, "client_starts", false, "no thread");
		server_stop(&s, scen);
		return;
	}
	t0 = now_us();
	sent = flood(&s, "127.0.0.1", true, &sources);
	figure(scen, "attack",
	       "%ld datagrams from %d sources in %.2f s to %zu UDP services",
	       sent, sources, (double)(now_us() - t0) / 1e6, s.nsvc);
	udp_client_report(&u, scen);
	figure(scen, "rss", "before %ld KiB, after %ld KiB", rss0,
	       server_rss_kib(&s));
	server_stop(&s, scen);
}

/* Run the rest of this thread (and the threads it starts) in the
 * namespace at path; the one it left, or -1. */
static int enter_netns(const char *path)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (self < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		if (self >= 0)
			close(self);
		self = -1;
	}
	if (fd >= 0)
		close(fd);
	return self;
}

static void leave_netns(int self)
{
	if (self >= 0 && setns(self, CLONE_NEWNET) < 0)
		perror("adversary: setns back");
	if (self >= 0)
		close(self);
}

/*
 * Non-loopback sources meet the per-source rate limit; whatever its slots
 * are shared with, a client at a real client's pace (ten requests a
 * second) stays answered while 240 other hosts flood.
 */
void scenario_udp_netns(const struct adv *a)
{
	static const char *const args[] = {
		"--quiet",   "--udp-only", "--host", "10.78.0.1", "echo=0",
		"discard=0", "daytime=0",  "time=0", "chargen=0", NULL
	};
	const char *scen = "udp_netns";
	struct udp_client u;
	struct server s;
	int self, sources = 0;
	long sent = 0;
	int64_t t0;

	if (!a->netns_srv || !a->netns_cli) {
		skip(scen, "all",
		     "no network namespaces (they need root and "
		     "ip(8)): non-loopback sources not tried");
		return;
	}
	if (server_start(a, &s, scen, args, 5, 0, a->netns_srv))
		return;
	self = enter_netns(a->netns_cli);
	if (self < 0) {
		check(scen, "enter_namespace", false, "setns %s: %s",
		      a->netns_cli, strerror(errno));
		server_stop(&s, scen);
		return;
	}
	if (udp_client_start(&u, "10.78.0.2", "10.78.0.1",
			     server_port(&s, "echo", true), 100, 15) == 0) {
		t0 = now_us();
		sent = flood(&s, "10.78.0.1", false, &sources);
		figure(scen, "attack",
		       "%ld datagrams from %d hosts in %.2f s to %zu UDP "
		       "services",
		       sent, sources, (double)(now_us() - t0) / 1e6, s.nsvc);
		udp_client_report(&u, scen);
	} else {
		check(scen, "client_starts", false, "no thread");
	}
	leave_netns(self);
	check(scen, "flood_sources_bound", sources == FLOOD_SOURCES,
	      "%d of %d source addresses could be bound", sources,
	      FLOOD_SOURCES);
	server_stop(&s, scen);
}

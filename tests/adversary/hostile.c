/* SPDX-License-Identifier: MIT */
/* hostile.c -- half-open connections, garbage on every port, a reset storm */

#include "adversary.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Half-open connections per service, of each kind. */
#define HALF_OPEN 40
/* The reset storm: at most this many connections, for at most STORM_MS. */
#define STORM_MAX 3000
#define STORM_MS 1500
/* A chat line as relayed: "ADDR:PORT: " + at most 1024 bytes + CR LF. */
#define CHAT_LINE_MAX (1024 + 64)

static const char *const tcp_services[] = { "echo",    "discard", "daytime",
					    "chargen", "time",	  "clients",
					    "chat" };
#define NSERVICES (sizeof(tcp_services) / sizeof(tcp_services[0]))

/* The same bytes on every run: a failure can be replayed. */
static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void random_bytes(char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)rng();
}

static void release_check(const struct server *s, const char *scen, int base)
{
	int fds = server_wait_fds(s, base, 5000);

	check(scen, "connections_released", fds <= base,
	      "the server holds %d descriptors, %d before", fds, base);
}

/* ---- half-open ---- */

/* Wait until the server's descriptor count holds still for 100 ms, at
 * most ms. */
static void settle_fds(const struct server *s, int ms)
{
	int64_t deadline = now_us() + (int64_t)ms * 1000;
	int last = -1, now, still = 0;

	while (still < 5 && now_us() < deadline) {
		now = server_fds(s);
		still = now == last ? still + 1 : 0;
		last = now;
		sleep_ms(20);
	}
}

static void half_open(const struct server *s, int base)
{
	static int fd[NSERVICES * HALF_OPEN + 2 * HALF_OPEN];
	int n = 0, silent = 0, halves = 0, port, i;
	size_t k;

	for (k = 0; k < NSERVICES; k++) {
		port = server_port(s, tcp_services[k], false);
		for (i = 0; port && i < HALF_OPEN; i++)
			if ((fd[n] = tcp_connect(NULL, port, 0)) >= 0) {
				n++;
				silent++;
			}
	}
	/* Half a line to the services that read lines. */
	for (k = 0; k < 2; k++) {
		port = server_port(s, k ? "chat" : "clients", false);
		for (i = 0; port && i < HALF_OPEN; i++) {
			fd[n] = tcp_connect(NULL, port, 0);
			if (fd[n] < 0)
				continue;
			if (send_all(fd[n++], "half a li", 9) == 0)
				halves++;
		}
	}
	/* Measured once the server took them in: its descriptors stopped
	 * changing (daytime, time and clients end theirs). */
	settle_fds(s, 2000);
	figure("halfopen", "attack",
	       "%d connections that never send, %d that sent half a line; "
	       "the server holds %d",
	       silent, halves, server_fds(s) - base);
	probe_services(s, "halfopen");
	while (n > 0)
		close(fd[--n]);
	release_check(s, "halfopen", base);
}

/* ---- garbage ---- */

/* Send len bytes on a fresh connection while dropping what comes back,
 * then end our side and drain; within ms. */
static void spew(int port, const char *data, size_t len, int ms)
{
	int64_t deadline = now_us() + (int64_t)ms * 1000;
	int fd = tcp_connect(NULL, port, 0);
	struct pollfd p;
	size_t done = 0;
	char junk[16384];
	ssize_t n = 0;

	if (fd < 0 || set_nonblock(fd) < 0)
		goto out;
	while (done < len && now_us() < deadline) {
		p = (struct pollfd){ fd, POLLIN | POLLOUT, 0 };
		if (poll(&p, 1, 20) <= 0)
			continue;
		n = p.revents & POLLIN ? recv(fd, junk, sizeof(junk), 0) : -1;
		if ((p.revents & (POLLERR | POLLHUP)) ||
		    ((p.revents & POLLIN) && n == 0))
			break;
		if (!(p.revents & POLLOUT))
			continue;
		n = send(fd, data + done, len - done, MSG_NOSIGNAL);
		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;
	}
	shutdown(fd, SHUT_WR);
	read_to_end(fd, 200);
out:
	if (fd >= 0)
		close(fd);
}

static void garbage_udp(const struct server *s)
{
	static const size_t sizes[] = { 0, 1, 7, 512, 1472, 8192, 65507 };
	static char data[65507];
	struct sockaddr_in to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t k, i;
	int port;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	random_bytes(data, sizeof(data));
	for (k = 0; fd >= 0 && k < s->nsvc; k++) {
		port = s->svc[k].udp;
		to.sin_port = htons((uint16_t)port);
		for (i = 0; port && i < sizeof(sizes) / sizeof(sizes[0]); i++)
			sendto(fd, data, sizes[i], MSG_DONTWAIT,
			       (struct sockaddr *)&to, sizeof(to));
	}
	if (fd >= 0)
		close(fd);
}

/*
 * What a chat member received while others sent garbage: lines of at most
 * CHAT_LINE_MAX bytes ending CR LF, with no control character but TAB.
 */
static bool chat_clean(const char *buf, size_t len, size_t *lines,
		       size_t *longest)
{
	size_t i, start = 0;
	unsigned char c;

	*lines = *longest = 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)buf[i];
		if (c == '\n') {
			if (i == start || buf[i - 1] != '\r')
				return false;
			*longest = i + 1 - start > *longest ? i + 1 - start
							    : *longest;
			(*lines)++;
			start = i + 1;
		} else if (c == '\r') {
			if (i + 1 < len && buf[i + 1] != '\n')
				return false;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return false;
		}
	}
	return *longest <= CHAT_LINE_MAX;
}

/* `sock clients` parses the list as JSON: it must, after garbage names. */
static bool clients_list_parses(const struct adv *a, int port)
{
	char addr[32];
	int64_t deadline = now_us() + 5000 * 1000;
	int status = -1, fd;
	pid_t pid;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, STDOUT_FILENO);
		execl(a->sock, a->sock, "clients", "-n", "adversary", "-w", "2",
		      addr, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return false;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_us() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return false;
		}
		sleep_ms(10);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void garbage(const struct adv *a, const struct server *s, int base)
{
	static char junk[256 * 1024], room[256 * 1024];
	int chat = server_port(s, "chat", false), member = -1, port;
	size_t k, lines = 0, longest = 0;
	ssize_t got = 0;
	bool clean;
	int i;

	random_bytes(junk, sizeof(junk));
	if (chat && (member = tcp_connect(NULL, chat, 0)) >= 0)
		recv_wait(member, room, sizeof(room), LIVENESS_MS);
	for (k = 0; k < NSERVICES; k++) {
		port = server_port(s, tcp_services[k], false);
		if (!port)
			continue;
		spew(port, junk, 64 * 1024, 1000);
		/* A line that never ends. */
		memset(room, 'A', sizeof(room));
		spew(port, room, sizeof(room), 1000);
		for (i = 0; i < 256; i++)
			room[i] = (char)i;
		spew(port, room, 4 * 256, 1000);
	}
	garbage_udp(s);
	figure("garbage", "attack",
	       "%zu TCP services: 64 KiB random, 256 KiB without a line end, "
	       "every byte value; 7 datagrams of 0..65507 random bytes per "
	       "UDP service",
	       NSERVICES);
	if (member >= 0) {
		got = read_some(member, room, sizeof(room), 300);
		clean = chat_clean(room, got > 0 ? (size_t)got : 0, &lines,
				   &longest);
		figure("garbage", "chat_member_received",
		       "%zd bytes, %zu lines, the longest %zu bytes", got,
		       lines, longest);
		check("garbage", "chat_relays_clean_lines", clean && lines > 0,
		      "a relayed line holds a control character, lacks its CR "
		      "LF or is longer than %d bytes",
		      CHAT_LINE_MAX);
		close(member);
	}
	probe_services(s, "garbage");
	port = server_port(s, "clients", false);
	if (port)
		check("garbage", "clients_list_parses",
		      clients_list_parses(a, port),
		      "sock clients failed on the list");
	release_check(s, "garbage", base);
}

/* ---- reset storm ---- */

/* A connection that gives up after 100 ms, and resets when closed. */
static int storm_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port) };
	struct timeval tv = { 0, 100000 };
	struct linger lg = { 1, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect, maybe send a line, maybe wait for an answer, reset; the
 * number of connections made. */
static int storm(const struct server *s, int *stalled)
{
	int64_t t0 = now_us();
	char buf[256];
	int n = 0, fd, port;

	*stalled = 0;
	while (n < STORM_MAX && now_us() - t0 < (int64_t)STORM_MS * 1000) {
		port = server_port(s, tcp_services[n % NSERVICES], false);
		fd = port ? storm_connect(port) : -1;
		if (fd < 0) {
			(*stalled)++;
			n++;
			continue;
		}
		if (n / NSERVICES % 3 >= 1)
			send(fd, "adversary reset\n", 16, MSG_NOSIGNAL);
		if (n / NSERVICES % 3 == 2)
			recv_wait(fd, buf, sizeof(buf), 20);
		close(fd);
		n++;
	}
	return n;
}

/* Accept lines of the log without the peer's address. */
static int accepts_without_peer(const struct server *s, int *all)
{
	char line[512], svc[32], peer[128];
	FILE *f = fopen(s->log, "r");
	int n = 0;

	*all = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s accept %31s %127s", svc, peer) == 2) {
			(*all)++;
			n += !strcmp(peer, "-");
		}
	if (f)
		fclose(f);
	return n;
}

static void reset_storm(const struct adv *a, const struct server *s, int base)
{
	const char *scen = "reset_storm";
	int64_t t0;
	long rss0 = server_rss_kib(s), rss;
	int n, stalled, all, anon;
	struct echoer e;

	if (echoer_start(&e, server_port(s, "echo", false), 5, 2000)) {
		check(scen, "working_client_connects", false, "cannot connect");
		return;
	}
	t0 = now_us();
	n = storm(s, &stalled);
	figure(scen, "attack",
	       "%d connections reset in %.2f s, %d did not connect in 100 ms",
	       n, (double)(now_us() - t0) / 1e6, stalled);
	echoer_stop(&e);
	echoer_report(&e, scen, "beside_storm");
	release_check(s, scen, base);
	probe_services(s, scen);
	rss = server_rss_kib(s);
	for (t0 = now_us();
	     rss > rss0 + rss_margin_kib(rss0) && now_us() - t0 < 2000000;
	     rss = server_rss_kib(s))
		sleep_ms(50);
	figure(scen, "rss", "before %ld KiB, after %ld KiB", rss0, rss);
	rss_check(a, scen, rss0, rss);
	anon = accepts_without_peer(s, &all);
	figure(scen, "accepts_without_peer_address",
	       "%d of %d accept lines (issue 9 defect 8)", anon, all);
}

void scenario_hostile(const struct adv *a)
{
	static const char *const args[] = { "echo=0",	 "discard=0",
					    "daytime=0", "chargen=0",
					    "time=0",	 "clients=0",
					    "chat=0",	 NULL };
	struct server s;
	int base;

	if (server_start(a, &s, "hostile", args, 12, 0, NULL))
		return;
	base = server_fds(&s);
	probe_services(&s, "baseline");
	half_open(&s, base);
	garbage(a, &s, base);
	reset_storm(a, &s, base);
	server_stop(&s, "hostile");
}

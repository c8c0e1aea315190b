/* SPDX-License-Identifier: MIT */
/* client.c -- the well-behaved clients served beside the attacks */

#include "adversary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long an echo is waited for at most: past LIVENESS_MS, so that a
 * slow answer is measured (and fails the bound) rather than cut. */
#define ECHO_WAIT_MS 10000
#define ECHO_LEN 64

/* ---- echo ---- */

static void echo_message(char *msg, unsigned int seq)
{
	size_t i;

	snprintf(msg, ECHO_LEN, "adversary %08u ", seq);
	for (i = strlen(msg); i < ECHO_LEN - 1; i++)
		msg[i] = (char)('a' + (seq + i) % 26);
	msg[ECHO_LEN - 1] = '\n';
}

double echo_once(int fd, unsigned int seq)
{
	char msg[ECHO_LEN], got[ECHO_LEN];
	int64_t t0 = now_us();

	echo_message(msg, seq);
	if (send_all(fd, msg, sizeof(msg)) < 0 ||
	    read_exact(fd, got, sizeof(got), ECHO_WAIT_MS) < 0)
		return -2;
	if (memcmp(msg, got, sizeof(msg)))
		return -1;
	return (double)(now_us() - t0) / 1000.0;
}

void echo_burst(int port, int n, struct lat *lat, int *bad)
{
	int fd = tcp_connect(NULL, port, 0), i;
	double ms;

	if (fd < 0) {
		(*bad)++;
		return;
	}
	for (i = 0; i < n; i++) {
		ms = echo_once(fd, (unsigned int)i);
		if (ms < 0) {
			(*bad)++;
			break;
		}
		lat_add(lat, ms);
	}
	close(fd);
}

static void *echoer_main(void *arg)
{
	struct echoer *e = arg;
	double ms;

	while (!atomic_load(&e->stop) && e->done < e->max) {
		ms = echo_once(e->fd, (unsigned int)e->done);
		if (ms == -1) {
			e->wrong++;
			break;
		}
		if (ms < 0) {
			e->failed++;
			break;
		}
		lat_add(&e->lat, ms);
		if (ms > LIVENESS_MS)
			e->slow++;
		e->done++;
		sleep_ms(e->interval_ms);
	}
	return NULL;
}

int echoer_start(struct echoer *e, int port, int interval_ms, int max)
{
	memset(e, 0, sizeof(*e));
	e->interval_ms = interval_ms;
	e->max = max;
	e->fd = tcp_connect(NULL, port, 0);
	if (e->fd < 0)
		return -1;
	if (pthread_create(&e->thread, NULL, echoer_main, e)) {
		close(e->fd);
		e->fd = -1;
		return -1;
	}
	return 0;
}

void echoer_stop(struct echoer *e)
{
	if (e->fd < 0)
		return;
	atomic_store(&e->stop, true);
	pthread_join(e->thread, NULL);
	close(e->fd);
	e->fd = -1;
}

void echoer_report(struct echoer *e, const char *scen, const char *what)
{
	char name[96];

	snprintf(name, sizeof(name), "%s_latency", what);
	lat_figure(scen, name, &e->lat);
	snprintf(name, sizeof(name), "%s_echoes_correct", what);
	check(scen, name, e->wrong == 0, "an echo came back wrong");
	snprintf(name, sizeof(name), "%s_served_within_%dms", what,
		 LIVENESS_MS);
	check(scen, name, e->done > 0 && !e->failed && !e->slow,
	      "%d echoes, %d slower than %d ms, %d not answered in %d "
	      "ms",
	      e->done, e->slow, LIVENESS_MS, e->failed, ECHO_WAIT_MS);
	lat_free(&e->lat);
}

/* ---- one client of each service ---- */

/* Each probe returns 0 when the answer is right, else -1 and why. */
typedef int (*probe_fn)(int port, char *why, size_t size);

static int probe_echo(int port, char *why, size_t size)
{
	int fd = tcp_connect(NULL, port, 0);
	double ms = fd < 0 ? -3 : echo_once(fd, 7);

	if (fd >= 0)
		close(fd);
	snprintf(why, size, "%s",
		 ms == -3   ? "cannot connect"
		 : ms == -1 ? "wrong echo"
			    : "no echo");
	return ms >= 0 ? 0 : -1;
}

/* Discard reads everything and closes after our end of stream. */
static int probe_discard(int port, char *why, size_t size)
{
	int fd = tcp_connect(NULL, port, 0), err = -1;
	char junk[1024] = { 0 };

	snprintf(why, size, "no close after our end of stream");
	if (fd < 0)
		return -1;
	if (send_all(fd, junk, sizeof(junk)) == 0 && shutdown(fd, SHUT_WR) == 0)
		err = read_to_end(fd, LIVENESS_MS);
	close(fd);
	return err;
}

/* "Sat Nov 21 09:57:24 2026" CR LF, then the end. */
static int probe_daytime(int port, char *why, size_t size)
{
	int fd = tcp_connect(NULL, port, 0);
	char line[64] = "";
	ssize_t n = fd < 0 ? -1
			   : read_some(fd, line, sizeof(line) - 1, LIVENESS_MS);

	if (fd >= 0)
		close(fd);
	snprintf(why, size, "got %zd bytes", n);
	return n == 26 && !memcmp(line + 24, "\r\n", 2) ? 0 : -1;
}

/* Four bytes: seconds since 1900, near our clock. */
static int probe_time(int port, char *why, size_t size)
{
	int fd = tcp_connect(NULL, port, 0);
	unsigned char t[8];
	ssize_t n = fd < 0 ? -1 : read_some(fd, t, sizeof(t), LIVENESS_MS);
	long long now = (long long)time(NULL) + 2208988800LL, v;

	if (fd >= 0)
		close(fd);
	v = n == 4 ? (long long)t[0] << 24 | t[1] << 16 | t[2] << 8 | t[3] : 0;
	snprintf(why, size, "got %zd bytes, %lld s off", n, v - now);
	return n == 4 && llabs(v - (now & 0xffffffffLL)) < 60 ? 0 : -1;
}

/* RFC 864's first line: 72 characters from ' ', CR LF. */
static int probe_chargen(int port, char *why, size_t size)
{
	int fd = tcp_connect(NULL, port, 0), i, err = -1;
	char line[74], want[74];

	for (i = 0; i < 72; i++)
		want[i] = (char)(' ' + i);
	memcpy(want + 72, "\r\n", 2);
	if (fd >= 0 && read_exact(fd, line, sizeof(line), LIVENESS_MS) == 0)
		err = memcmp(line, want, sizeof(want)) ? -1 : 0;
	if (fd >= 0)
		close(fd);
	snprintf(why, size, "not the first line of the pattern");
	return err;
}

/* Our name in the JSON list, then the end. */
static int probe_clients(int port, char *why, size_t size)
{
	int fd = tcp_connect(NULL, port, 0);
	static char reply[128 * 1024 + 1];
	ssize_t n = -1;

	if (fd >= 0 && send_all(fd, "adversary-probe\n", 16) == 0)
		n = read_some(fd, reply, sizeof(reply) - 1, LIVENESS_MS);
	if (fd >= 0)
		close(fd);
	reply[n > 0 ? n : 0] = '\0';
	snprintf(why, size, "got %zd bytes", n);
	return n > 0 && reply[0] == '{' && reply[n - 1] == '}' &&
			       strstr(reply, "\"adversary-probe\":")
		       ? 0
		       : -1;
}

/* Read fd until text shows up or ms pass; 0 when it did. */
static int await_text(int fd, const char *text, int ms)
{
	int64_t deadline = now_us() + (int64_t)ms * 1000;
	size_t have = 0, keep = strlen(text);
	char buf[8192];
	ssize_t n;

	for (;;) {
		n = recv_wait(fd, buf + have, sizeof(buf) - 1 - have,
			      (int)((deadline - now_us()) / 1000));
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, text))
			return 0;
		/* Keep the tail, where text may have begun. */
		if (have > sizeof(buf) / 2) {
			memmove(buf, buf + have - keep, keep);
			have = keep;
		}
	}
}

/* Two members: what one says reaches the other. */
static int probe_chat(int port, char *why, size_t size)
{
	int a = tcp_connect(NULL, port, 0), b = tcp_connect(NULL, port, 0);
	int64_t deadline = now_us() + (int64_t)LIVENESS_MS * 1000;
	int err = -1;

	snprintf(why, size, "no welcome");
	if (a < 0 || b < 0 || await_text(a, "* welcome", LIVENESS_MS) ||
	    await_text(b, "* welcome", LIVENESS_MS))
		goto out;
	snprintf(why, size, "the line did not reach the other member");
	if (send_all(a, "adversary ping\n", 15) == 0)
		err = await_text(b, ": adversary ping\r\n",
				 (int)((deadline - now_us()) / 1000));
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return err;
}

static const struct {
	const char *name;
	probe_fn fn;
} probes[] = {
	{ "echo", probe_echo },	      { "discard", probe_discard },
	{ "daytime", probe_daytime }, { "time", probe_time },
	{ "chargen", probe_chargen }, { "clients", probe_clients },
	{ "chat", probe_chat },
};

void probe_services(const struct server *s, const char *scen)
{
	char figures[512] = "", name[64], why[128];
	size_t i, len = 0;
	int64_t t0;
	double ms;
	int port, err;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		port = server_port(s, probes[i].name, false);
		if (!port)
			continue;
		t0 = now_us();
		err = probes[i].fn(port, why, sizeof(why));
		ms = (double)(now_us() - t0) / 1000.0;
		snprintf(name, sizeof(name), "%s_served", probes[i].name);
		check(scen, name, !err && ms <= LIVENESS_MS, "%s (%.1f ms)",
		      err ? why : "answered, too late", ms);
		len += (size_t)snprintf(figures + len, sizeof(figures) - len,
					"%s%s %.2f ms", len ? ", " : "",
					probes[i].name, ms);
	}
	figure(scen, "service_latency", "%s", figures);
}

/* SPDX-License-Identifier: MIT */
/* serve_log.c -- sock serve's log: one line per server event on standard error */

#include <sock.h>

#include "cli.h"
#include "serve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void serve_say(const struct serve *sv, const char *fmt, ...)
{
	char line[1024];
	size_t n = 0;
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int r;

	if (sv->silent)
		return;
	if (sv->timestamps) {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ld ",
				      ts.tv_nsec / 1000000);
	}
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r
					      : sizeof(line) - n - 2;
	line[n++] = '\n';
	/* One write per line: workers log from several threads. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void serve_addr_text(const struct sock_addr *a, char *buf, size_t size)
{
	if (!a || sock_addr_format(a, buf, size) < 0)
		snprintf(buf, size, "-");
}

static void log_listen(struct serve *sv, const struct sock_event *ev)
{
	char addr[SOCK_ADDR_STRLEN];
	size_t i;

	/* Every worker has its own socket on each address: one line. */
	if (ev->worker != 0)
		return;
	serve_addr_text(ev->addr, addr, sizeof(addr));
	for (i = 0; i < sv->nlis; i++) {
		struct serve_listener *l = &sv->lis[i];

		if (!l->logged && !strcmp(l->def->name, ev->service) &&
		    !strcmp(l->addr, addr)) {
			l->logged = true;
			serve_say(sv, "listen %s %s %s", ev->service,
				  l->transport, addr);
			return;
		}
	}
	serve_say(sv, "listen %s %s", ev->service, addr);
}

/* Why a connection ended, in the words of the server's log. */
static const char *close_reason(int err)
{
	switch (err) {
	case -ESHUTDOWN:
		return "closed at stop";
	case -ENOBUFS:
		return "output overflow";
	case -ETIMEDOUT:
		return "timed out";
	}
	return sock_strerror(err);
}

static void log_close(struct serve *sv, const struct sock_event *ev,
		      const char *peer)
{
	if (ev->err)
		serve_say(sv, "close %s %s in=%llu out=%llu ms=%lld: %s",
			  ev->service, peer, (unsigned long long)ev->bytes_in,
			  (unsigned long long)ev->bytes_out,
			  (long long)ev->duration_ms, close_reason(ev->err));
	else
		serve_say(sv, "close %s %s in=%llu out=%llu ms=%lld",
			  ev->service, peer, (unsigned long long)ev->bytes_in,
			  (unsigned long long)ev->bytes_out,
			  (long long)ev->duration_ms);
}

void serve_on_event(const struct sock_event *ev, void *data)
{
	struct serve *sv = data;
	const char *svc = ev->service ? ev->service : "-";
	char peer[SOCK_ADDR_STRLEN], times[32] = "";

	/* Quiet: not even the address is formatted, per connection. */
	if (sv->quiet &&
	    (ev->kind == SOCK_EV_ACCEPT || ev->kind == SOCK_EV_CLOSE))
		return;
	serve_addr_text(ev->addr, peer, sizeof(peer));
	switch (ev->kind) {
	case SOCK_EV_LISTEN:
		log_listen(sv, ev);
		break;
	case SOCK_EV_ACCEPT:
		if (!sv->quiet)
			serve_say(sv, "accept %s %s", svc, peer);
		break;
	case SOCK_EV_CLOSE:
		if (!sv->quiet)
			log_close(sv, ev, peer);
		break;
	case SOCK_EV_LIMIT:
	case SOCK_EV_ERROR:
		if (ev->count > 1)
			snprintf(times, sizeof(times), " (%u times)",
				 ev->count);
		serve_say(sv, "%s %s %s %s%s%s%s",
			  ev->kind == SOCK_EV_LIMIT ? "limit" : "error", svc,
			  ev->what ? ev->what : "-", peer, ev->err ? ": " : "",
			  ev->err ? sock_strerror(ev->err) : "", times);
		break;
	case SOCK_EV_ENGINE:
		serve_say(sv, "engine %s", ev->what ? ev->what : "-");
		break;
	case SOCK_EV_STOP:
		serve_say(sv, "stop");
		break;
	}
}

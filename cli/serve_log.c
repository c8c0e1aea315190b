/* SPDX-License-Identifier: MIT */
/* serve_log.c -- sock serve's log: one line per server event on standard error,
 * as text or as a JSON object */

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
	if (write(sv->log_fd, line, n) < 0)
		return;
}

void serve_addr_text(const struct sock_addr *a, char *buf, size_t size)
{
	if (!a || sock_addr_format(a, buf, size) < 0)
		snprintf(buf, size, "-");
}

/* A character the log writes as \xNN bytes: controls (C0, DEL, C1),
 * the space and the backslash (so that a peer's text can neither pass
 * for fields of its own nor for an escape: the escaping is one to one),
 * and the invisible ones that change how a line reads (zero-width marks,
 * bidirectional overrides and isolates, line and paragraph separators,
 * the byte-order mark). */
static bool log_escapes(unsigned int cp)
{
	return cp <= 0x20 || cp == '\\' || (cp >= 0x7f && cp <= 0x9f) ||
	       (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
	       (cp >= 0xfff9 && cp <= 0xfffb);
}

void serve_log_text(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t len = strlen(in), i = 0, o = 0;
	unsigned int cp;
	int n;

	while (i < len) {
		n = clients_utf8_next(s + i, len - i, &cp);
		if (n > 0 && !log_escapes(cp)) {
			if (o + (size_t)n + 1 > size)
				break;
			memcpy(out + o, s + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
			continue;
		}
		/* Each byte as \xNN: a control's bytes, or a bad one's. */
		n = n > 0 ? n : -n;
		if (o + 4 * (size_t)n + 1 > size)
			break;
		while (n-- > 0) {
			snprintf(out + o, size - o, "\\x%02x", s[i++]);
			o += 4;
		}
	}
	out[o] = '\0';
}

/* ---- JSON records ---- */

/* One JSON object being written: members added to buf in order. */
struct jrec {
	char buf[8192];
	size_t n;
	bool cut; /* a member did not fit and was left out */
};

static void jr_raw(struct jrec *r, const char *text, size_t len)
{
	memcpy(r->buf + r->n, text, len);
	r->n += len;
}

/* A literal's bytes, without its NUL. */
#define JR_LIT(r, lit) jr_raw(r, lit, sizeof(lit) - 1)

/* Room for len more bytes, with the closing "}\n" and a ",\"cut\":true". */
static bool jr_room(struct jrec *r, size_t len)
{
	if (r->n + len + 16 <= sizeof(r->buf))
		return true;
	r->cut = true;
	return false;
}

static void jr_key(struct jrec *r, const char *key)
{
	JR_LIT(r, ",\"");
	jr_raw(r, key, strlen(key));
	JR_LIT(r, "\":");
}

static void jr_str(struct jrec *r, const char *key, const char *value)
{
	size_t len = strlen(value);

	if (!jr_room(r, strlen(key) + 4 + clients_json_room(len)))
		return;
	jr_key(r, key);
	r->n += clients_json_string(r->buf + r->n, value, len);
}

static void jr_num(struct jrec *r, const char *key, long long value)
{
	char num[24];
	int len = snprintf(num, sizeof(num), "%lld", value);

	if (!jr_room(r, strlen(key) + 4 + (size_t)len))
		return;
	jr_key(r, key);
	jr_raw(r, num, (size_t)len);
}

/* Begin with the time (UTC, milliseconds) and the event's name. */
static void jr_begin(struct jrec *r, const char *event)
{
	struct timespec ts;
	struct tm tm;

	r->n = 0;
	r->cut = false;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	r->n = strftime(r->buf, sizeof(r->buf), "{\"time\":\"%Y-%m-%dT%H:%M:%S",
			&tm);
	r->n += (size_t)snprintf(r->buf + r->n, sizeof(r->buf) - r->n,
				 ".%03ldZ\"", ts.tv_nsec / 1000000);
	jr_str(r, "event", event);
}

/* The error's text and number, when there is one. */
static void jr_error(struct jrec *r, int err, const char *text)
{
	if (!err)
		return;
	jr_str(r, "error", text);
	jr_num(r, "errno", err < 0 ? -err : err);
}

/* Close the object and write it, one write(2) as serve_say does. */
static void jr_end(const struct serve *sv, struct jrec *r)
{
	if (sv->silent)
		return;
	if (r->cut)
		JR_LIT(r, ",\"cut\":true");
	JR_LIT(r, "}\n");
	if (write(sv->log_fd, r->buf, r->n) < 0)
		return;
}

/* ---- events ---- */

/* The listener whose "listen" line this is, once per address: every
 * worker has its own socket on each.  NULL when it is not one of ours. */
static struct serve_listener *
listen_once(struct serve *sv, const struct sock_event *ev, const char *addr)
{
	size_t i;

	for (i = 0; i < sv->nlis; i++) {
		struct serve_listener *l = &sv->lis[i];

		if (!l->logged && !strcmp(l->def->name, ev->service) &&
		    !strcmp(l->addr, addr)) {
			l->logged = true;
			return l;
		}
	}
	return NULL;
}

/* addr as it is, to match our listeners; text as the log shows it. */
static void log_listen(struct serve *sv, const struct sock_event *ev,
		       const char *addr, const char *text)
{
	struct serve_listener *l;
	struct jrec r;

	if (ev->worker != 0)
		return;
	l = listen_once(sv, ev, addr);
	if (!sv->json) {
		if (l)
			serve_say(sv, "listen %s %s %s", ev->service,
				  l->transport, text);
		else
			serve_say(sv, "listen %s %s", ev->service, text);
		return;
	}
	jr_begin(&r, "listen");
	jr_str(&r, "service", ev->service);
	if (l)
		jr_str(&r, "transport", l->transport);
	jr_str(&r, "addr", text);
	jr_end(sv, &r);
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
		      const char *svc, const char *peer)
{
	unsigned long long in = ev->bytes_in, out = ev->bytes_out;
	long long ms = (long long)ev->duration_ms;
	struct jrec r;

	if (sv->json) {
		jr_begin(&r, "close");
		jr_str(&r, "service", svc);
		jr_str(&r, "peer", peer);
		jr_num(&r, "in", (long long)in);
		jr_num(&r, "out", (long long)out);
		jr_num(&r, "ms", ms);
		jr_error(&r, ev->err, close_reason(ev->err));
		jr_end(sv, &r);
	} else if (ev->err) {
		serve_say(sv, "close %s %s in=%llu out=%llu ms=%lld: %s", svc,
			  peer, in, out, ms, close_reason(ev->err));
	} else {
		serve_say(sv, "close %s %s in=%llu out=%llu ms=%lld", svc, peer,
			  in, out, ms);
	}
}

/* A limit met or an error, counted: the same event may stand for many. */
static void log_problem(struct serve *sv, const struct sock_event *ev,
			const char *svc, const char *peer)
{
	const char *kind = ev->kind == SOCK_EV_LIMIT ? "limit" : "error";
	const char *what = ev->what ? ev->what : "-";
	char times[32] = "";
	struct jrec r;

	if (sv->json) {
		jr_begin(&r, kind);
		jr_str(&r, "service", svc);
		jr_str(&r, "what", what);
		jr_str(&r, "peer", peer);
		jr_error(&r, ev->err, sock_strerror(ev->err));
		jr_num(&r, "count", ev->count > 1 ? ev->count : 1);
		jr_end(sv, &r);
		return;
	}
	if (ev->count > 1)
		snprintf(times, sizeof(times), " (%u times)", ev->count);
	serve_say(sv, "%s %s %s %s%s%s%s", kind, svc, what, peer,
		  ev->err ? ": " : "", ev->err ? sock_strerror(ev->err) : "",
		  times);
}

/* An event with a name and perhaps one word: "engine io_uring", "stop". */
static void log_word(struct serve *sv, const char *event, const char *what)
{
	struct jrec r;

	if (!sv->json) {
		if (what)
			serve_say(sv, "%s %s", event, what);
		else
			serve_say(sv, "%s", event);
		return;
	}
	jr_begin(&r, event);
	if (what)
		jr_str(&r, "what", what);
	jr_end(sv, &r);
}

void serve_log_not_tls(struct serve *sv, const char *service, const char *addr)
{
	const char *why = "TLS serves TCP only";
	char text[SERVE_LOG_TEXT_MAX];
	struct jrec r;

	serve_log_text(addr, text, sizeof(text));
	if (!sv->json) {
		serve_say(sv, "skip %s udp %s: %s", service, text, why);
		return;
	}
	jr_begin(&r, "skip");
	jr_str(&r, "service", service);
	jr_str(&r, "transport", "udp");
	jr_str(&r, "addr", text);
	jr_str(&r, "why", why);
	jr_end(sv, &r);
}

void serve_log_descriptors(struct serve *sv, unsigned long have,
			   unsigned int asked)
{
	const char *hint = "raise the hard limit: ulimit -Hn";
	struct jrec r;

	if (!sv->json) {
		if (asked)
			serve_say(sv,
				  "limit descriptors %lu: --max-conns %u "
				  "lowered to %u (%s)",
				  have, asked, sv->cfg.max_conns, hint);
		else
			serve_say(sv,
				  "limit descriptors %lu: at most %u "
				  "connections (%s)",
				  have, sv->cfg.max_conns, hint);
		return;
	}
	jr_begin(&r, "limit");
	jr_str(&r, "what", "descriptors");
	jr_num(&r, "descriptors", (long long)have);
	jr_num(&r, "max_conns", sv->cfg.max_conns);
	if (asked)
		jr_num(&r, "asked", asked);
	jr_str(&r, "hint", hint);
	jr_end(sv, &r);
}

void serve_on_event(const struct sock_event *ev, void *data)
{
	struct serve *sv = data;
	const char *svc = ev->service ? ev->service : "-";
	char addr[SOCK_ADDR_STRLEN], peer[SERVE_LOG_TEXT_MAX];

	/* Quiet: not even the address is formatted, per connection. */
	if (sv->quiet &&
	    (ev->kind == SOCK_EV_ACCEPT || ev->kind == SOCK_EV_CLOSE))
		return;
	serve_addr_text(ev->addr, addr, sizeof(addr));
	/* A peer's Unix path is any bytes (and a listener's is whatever the
	 * command line said): no newline of its own in a line, nothing but
	 * UTF-8 in a JSON string. */
	serve_log_text(addr, peer, sizeof(peer));
	switch (ev->kind) {
	case SOCK_EV_LISTEN:
		log_listen(sv, ev, addr, peer);
		break;
	case SOCK_EV_ACCEPT:
		if (sv->json) {
			struct jrec r;

			jr_begin(&r, "accept");
			jr_str(&r, "service", svc);
			jr_str(&r, "peer", peer);
			jr_end(sv, &r);
		} else {
			serve_say(sv, "accept %s %s", svc, peer);
		}
		break;
	case SOCK_EV_CLOSE:
		log_close(sv, ev, svc, peer);
		break;
	case SOCK_EV_LIMIT:
	case SOCK_EV_ERROR:
		log_problem(sv, ev, svc, peer);
		break;
	case SOCK_EV_ENGINE:
		log_word(sv, "engine", ev->what ? ev->what : "-");
		break;
	case SOCK_EV_STOP:
		log_word(sv, "stop", NULL);
		break;
	}
}

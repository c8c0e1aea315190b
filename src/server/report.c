/* SPDX-License-Identifier: MIT */
/* report.c -- events, and limits reported at most once a second per kind */

#include "core.h"

#include <string.h>

static const char *const report_what[SOCK__REPORT_COUNT] = {
	[SOCK__REPORT_MAX_CONNS] = "max-connections",
	[SOCK__REPORT_PER_SOURCE] = "max-per-source",
	[SOCK__REPORT_IDLE] = "idle-timeout",
	[SOCK__REPORT_TOTAL] = "total-timeout",
	[SOCK__REPORT_DESCRIPTORS] = "descriptors",
	[SOCK__REPORT_OVERFLOW] = "output-overflow",
	[SOCK__REPORT_TRUNCATED] = "datagram-truncated",
	[SOCK__REPORT_PRIVILEGED] = "privileged-source-port",
	[SOCK__REPORT_OWN_PORT] = "own-service-port",
	[SOCK__REPORT_RATE] = "datagram-rate",
	[SOCK__REPORT_LOOP] = "datagram-loop",
	[SOCK__REPORT_AMPLIFICATION] = "datagram-amplification",
	[SOCK__REPORT_ACCEPT] = "accept",
	[SOCK__REPORT_NOMEM] = "memory",
	[SOCK__REPORT_ACCESS] = "access",
	[SOCK__REPORT_VERIFY] = "verify",
	[SOCK__REPORT_PROXY_SOURCE] = "proxy-source",
	[SOCK__REPORT_PROXY_HEADER] = "proxy-header",
	[SOCK__REPORT_TLS] = "tls-handshake",
	[SOCK__REPORT_TLS_PROTOCOL] = "tls-protocol",
};

/* The counter of each kind (sock_server_stats). */
static const unsigned char report_stat[SOCK__REPORT_COUNT] = {
	[SOCK__REPORT_MAX_CONNS] = SOCK_STAT_AT_CAP,
	[SOCK__REPORT_PER_SOURCE] = SOCK_STAT_PER_SOURCE,
	[SOCK__REPORT_IDLE] = SOCK_STAT_IDLE_TIMEOUT,
	[SOCK__REPORT_TOTAL] = SOCK_STAT_TOTAL_TIMEOUT,
	[SOCK__REPORT_DESCRIPTORS] = SOCK_STAT_DESCRIPTORS,
	[SOCK__REPORT_OVERFLOW] = SOCK_STAT_OUTPUT_OVERFLOW,
	[SOCK__REPORT_TRUNCATED] = SOCK_STAT_DGRAM_TRUNCATED,
	[SOCK__REPORT_PRIVILEGED] = SOCK_STAT_DGRAM_PRIVILEGED,
	[SOCK__REPORT_OWN_PORT] = SOCK_STAT_DGRAM_OWN_PORT,
	[SOCK__REPORT_RATE] = SOCK_STAT_DGRAM_RATE,
	[SOCK__REPORT_LOOP] = SOCK_STAT_DGRAM_LOOP,
	[SOCK__REPORT_AMPLIFICATION] = SOCK_STAT_DGRAM_AMPLIFICATION,
	[SOCK__REPORT_ACCEPT] = SOCK_STAT_ERRORS,
	[SOCK__REPORT_NOMEM] = SOCK_STAT_ERRORS,
	[SOCK__REPORT_ACCESS] = SOCK_STAT_ACCESS,
	[SOCK__REPORT_VERIFY] = SOCK_STAT_VERIFY,
	[SOCK__REPORT_PROXY_SOURCE] = SOCK_STAT_PROXY_SOURCE,
	[SOCK__REPORT_PROXY_HEADER] = SOCK_STAT_PROXY_HEADER,
	[SOCK__REPORT_TLS] = SOCK_STAT_TLS_HANDSHAKE,
	[SOCK__REPORT_TLS_PROTOCOL] = SOCK_STAT_TLS_PROTOCOL,
};

static void emit_full(struct sock__worker *w, struct sock_event *ev)
{
	ev->worker = w->index;
	w->srv->cfg.on_event(ev, w->srv->cfg.event_data);
}

void sock__emit(struct sock__worker *w, enum sock_event_kind kind,
		const char *service, const struct sock_addr *addr, int err,
		const char *what)
{
	struct sock_event ev;

	if (!w->srv->cfg.on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.service = service;
	ev.addr = addr;
	ev.err = err;
	ev.what = what;
	emit_full(w, &ev);
}

static void emit_report(struct sock__worker *w, enum sock__report_kind kind,
			const char *service, const struct sock_addr *addr,
			int err, unsigned int count)
{
	struct sock_event ev;

	if (!w->srv->cfg.on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind == SOCK__REPORT_ACCEPT || kind == SOCK__REPORT_NOMEM
			  ? SOCK_EV_ERROR
			  : SOCK_EV_LIMIT;
	ev.service = service;
	ev.addr = addr;
	ev.err = err;
	ev.what = report_what[kind];
	ev.count = count;
	emit_full(w, &ev);
}

static void report(struct sock__worker *w, enum sock__report_kind kind,
		   const char *service, const struct sock_addr *addr, int err)
{
	struct sock__report *r = &w->reports[kind];
	int64_t now = w->loop->now_ms;

	if (r->last_ms && now - r->last_ms < 1000) {
		r->suppressed++;
		r->service = service;
		r->err = err;
		return;
	}
	r->last_ms = now ? now : 1;
	r->suppressed = 0;
	emit_report(w, kind, service, addr, err, 1);
}

void sock__report(struct sock__worker *w, enum sock__report_kind kind,
		  const char *service, const struct sock_addr *addr, int err)
{
	sock__stat_add(w->stat, report_stat[kind], 1);
	report(w, kind, service, addr, err);
}

void sock__report_on(struct sock__listener *l, enum sock__report_kind kind,
		     const struct sock_addr *addr, int err)
{
	sock__stat_add(l->stat, report_stat[kind], 1);
	report(l->w, kind, l->svc->name, addr, err);
}

void sock__report_flush(struct sock__worker *w, bool all)
{
	int64_t now = w->loop->now_ms;
	struct sock__report *r;
	int k;

	for (k = 0; k < SOCK__REPORT_COUNT; k++) {
		r = &w->reports[k];
		if (!r->suppressed || (!all && now - r->last_ms < 1000))
			continue;
		emit_report(w, (enum sock__report_kind)k, r->service, NULL,
			    r->err, r->suppressed);
		r->suppressed = 0;
		r->last_ms = now;
	}
}

/* SPDX-License-Identifier: MIT */
/* bench_conn.c -- sock bench: connection rate and held connections */

#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define EV_BATCH 256
/* Seconds from 1900 (RFC 868's epoch) to 1970. */
#define RFC868_EPOCH_OFFSET 2208988800u
/* How far an RFC 868 answer may be from the local clock. */
#define TIME_SLACK_S 5

/* One connection slot: a connection under way, replaced when it ends. */
struct slot {
	int fd;
	void *tls;	/* --tls: the session, once connected */
	unsigned int n; /* connections made through this slot */
	int64_t start;
	uint64_t got;
	unsigned char head[4];
};

struct conn_set {
	struct bench_worker *w;
	const struct bench_opts *o;
	int epfd;
	struct slot *slots;
	unsigned char scratch[64 * 1024];
};

static void count_error(struct conn_set *set, int err, const char *what)
{
	struct bench_worker *w = set->w;

	if (bench_stopped(w) || bench_now_ns() >= w->end_ns)
		return;
	__atomic_store_n(&w->stats.errors, w->stats.errors + 1,
			 __ATOMIC_RELAXED);
	bench_error(w, "%s %s: %s", what, set->o->target, sock_strerror(err));
}

/* What a new connection waits for: the answer, or with --tls the end of
 * the connect. */
static uint32_t first_events(const struct conn_set *set)
{
	return set->o->tls ? EPOLLOUT : EPOLLIN;
}

/* Start the next connection of slot i. */
static int slot_start(struct conn_set *set, unsigned int i, uint32_t events)
{
	struct slot *s = &set->slots[i];
	struct epoll_event ev = { .events = events, .data.u32 = i };
	unsigned int id = set->w->first_conn + i;
	int fd;

	s->fd = -1;
	s->got = 0;
	s->start = bench_now_ns();
	fd = bench_connect(set->o, id + s->n++ * set->o->inflight, SOCK_STREAM);
	if (fd < 0) {
		count_error(set, fd, "cannot connect to");
		return fd;
	}
	if (epoll_ctl(set->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -errno;
	}
	s->fd = fd;
	return 0;
}

static void slot_end(struct slot *s)
{
	bench_tls_free_conn(s->tls);
	s->tls = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* RFC 868: 4 bytes, seconds since 1900 modulo 2^32, near our clock. */
static bool time_is_good(const struct slot *s)
{
	uint32_t t = (uint32_t)s->head[0] << 24 | (uint32_t)s->head[1] << 16 |
		     (uint32_t)s->head[2] << 8 | s->head[3];
	uint32_t now = (uint32_t)time(NULL) + RFC868_EPOCH_OFFSET;
	int32_t off = (int32_t)(t - now);

	return s->got == 4 && off >= -TIME_SLACK_S && off <= TIME_SLACK_S;
}

static void connrate_done(struct conn_set *set, struct slot *s)
{
	struct bench_worker *w = set->w;
	int64_t now = bench_now_ns();

	if (set->o->expect_time && !time_is_good(s)) {
		if (!bench_stopped(w) && now < w->end_ns) {
			w->stats.mismatches++;
			bench_error(w,
				    "%s answered %llu bytes, not an RFC 868 "
				    "time "
				    "within %d s of ours",
				    set->o->target, (unsigned long long)s->got,
				    TIME_SLACK_S);
		}
	} else {
		bench_count(w, now, s->got, now - s->start);
	}
	slot_end(s);
}

/* Read to the end of the stream, then start over. */
static void connrate_event(struct conn_set *set, unsigned int i)
{
	struct slot *s = &set->slots[i];
	size_t keep;
	ssize_t n;

	for (;;) {
		n = recv(s->fd, set->scratch, sizeof(set->scratch),
			 MSG_DONTWAIT);
		if (n > 0) {
			keep = s->got < 4 ? 4 - (size_t)s->got : 0;
			memcpy(s->head + s->got, set->scratch,
			       keep < (size_t)n ? keep : (size_t)n);
			s->got += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break;
	}
	if (n == 0) {
		connrate_done(set, s);
	} else {
		count_error(set, -errno, "connection to");
		slot_end(s);
	}
	if (!bench_tick(set->w, bench_now_ns()))
		slot_start(set, i, first_events(set));
}

/*
 * --tls: a full handshake, then close_notify and the close.  An operation
 * is a handshake done; its latency, from connect() to the handshake's
 * end.
 */
static void connrate_tls_event(struct conn_set *set, unsigned int i,
			       uint32_t events)
{
	struct slot *s = &set->slots[i];
	struct epoll_event ev = { .data.u32 = i };
	uint32_t want = 0;
	socklen_t len = sizeof(int);
	int64_t now;
	int err = 0;

	if (!s->tls) {
		if (events & (EPOLLERR | EPOLLHUP)) {
			getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			err = err ? -err : -ECONNRESET;
		} else if (!(events & EPOLLOUT)) {
			return; /* not connected yet */
		} else if (!(s->tls = bench_tls_new(set->o, s->fd))) {
			err = -ENOMEM;
		}
	}
	if (!err)
		err = bench_tls_handshake(s->tls, &want);
	if (err == -EAGAIN) {
		ev.events = want;
		if (epoll_ctl(set->epfd, EPOLL_CTL_MOD, s->fd, &ev) == 0)
			return;
		err = -errno;
	}
	if (err) {
		count_error(set, err, "TLS with");
	} else {
		now = bench_now_ns();
		bench_count(set->w, now, 0, now - s->start);
		bench_tls_close(s->tls);
	}
	slot_end(s);
	if (!bench_tick(set->w, bench_now_ns()))
		slot_start(set, i, EPOLLOUT);
}

/* Connections that made no progress within the timeout fail. */
static void check_stalls(struct conn_set *set, int64_t now)
{
	unsigned int i;

	for (i = 0; i < set->w->nconns; i++) {
		struct slot *s = &set->slots[i];

		if (s->fd >= 0 && now - s->start > set->o->timeout_ns) {
			count_error(set, -ETIMEDOUT, "connection to");
			slot_end(s);
		}
		if (s->fd < 0)
			slot_start(set, i, first_events(set));
	}
}

int bench_run_connrate(struct bench_worker *w)
{
	struct conn_set *set;
	struct epoll_event ev[EV_BATCH];
	int64_t now, next_check = 0;
	unsigned int i;
	int n, err = 0;

	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->w = w;
	set->o = w->opts;
	set->slots = calloc(w->nconns, sizeof(*set->slots));
	set->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!set->slots || set->epfd < 0) {
		err = set->slots ? -errno : -ENOMEM;
		goto out;
	}
	for (i = 0; i < w->nconns; i++)
		slot_start(set, i, first_events(set));
	while (!bench_tick(w, now = bench_now_ns())) {
		if (now >= next_check) {
			check_stalls(set, now);
			next_check = now + 100000000;
		}
		n = epoll_wait(set->epfd, ev, EV_BATCH, 10);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++) {
			if (set->o->tls)
				connrate_tls_event(set, ev[i].data.u32,
						   ev[i].events);
			else
				connrate_event(set, ev[i].data.u32);
		}
	}
	bench_linger(w);
	for (i = 0; i < w->nconns; i++)
		slot_end(&set->slots[i]);
out:
	if (set->epfd >= 0)
		close(set->epfd);
	free(set->slots);
	free(set);
	return err;
}

/* ---- hold ---- */

uint64_t bench_hold_open(const struct bench_worker *w)
{
	return __atomic_load_n(&w->stats.established, __ATOMIC_RELAXED);
}

static void hold_set(struct bench_worker *w, uint64_t open)
{
	__atomic_store_n(&w->stats.established, open, __ATOMIC_RELAXED);
}

/* A connection slot's event: its connect finished, or the server ended
 * it.  Returns true when a slot became free for the next connect. */
static bool hold_event(struct conn_set *set, unsigned int i, uint32_t ev)
{
	struct bench_worker *w = set->w;
	struct slot *s = &set->slots[i];
	struct epoll_event mod = { .events = EPOLLIN, .data.u32 = i };
	int err = 0;
	socklen_t len = sizeof(err);
	bool pending = s->got == 0;

	if (s->fd < 0)
		return false;
	if (ev & (EPOLLERR | EPOLLHUP | EPOLLIN)) {
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		count_error(set, err ? -err : -ECONNRESET,
			    pending ? "cannot connect to" : "connection to");
		if (!pending)
			hold_set(w, w->stats.established - 1);
		slot_end(s);
		return pending;
	}
	if (pending && (ev & EPOLLOUT)) {
		s->got = 1;
		epoll_ctl(set->epfd, EPOLL_CTL_MOD, s->fd, &mod);
		hold_set(w, w->stats.established + 1);
		return true;
	}
	return false;
}

int bench_run_hold(struct bench_worker *w)
{
	const struct bench_opts *o = w->opts;
	struct epoll_event ev[EV_BATCH];
	unsigned int next = 0, pending = 0, i;
	struct conn_set *set;
	int n, err = 0;

	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->w = w;
	set->o = o;
	set->slots = calloc(w->nconns, sizeof(*set->slots));
	set->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!set->slots || set->epfd < 0) {
		err = set->slots ? -errno : -ENOMEM;
		goto out;
	}
	for (i = 0; i < w->nconns; i++)
		set->slots[i].fd = -1;
	while (!bench_tick(w, bench_now_ns())) {
		/* Keep at most --inflight connects under way, so the
		 * server's accept queue does not overflow. */
		while (next < w->nconns && pending < o->inflight) {
			if (!slot_start(set, next, EPOLLOUT))
				pending++;
			next++;
		}
		n = epoll_wait(set->epfd, ev, EV_BATCH, 50);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++)
			if (hold_event(set, ev[i].data.u32, ev[i].events))
				pending--;
	}
	bench_linger(w);
	for (i = 0; i < w->nconns; i++)
		slot_end(&set->slots[i]);
out:
	if (set->epfd >= 0)
		close(set->epfd);
	free(set->slots);
	free(set);
	return err;
}

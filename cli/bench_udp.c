/* SPDX-License-Identifier: MIT */
/* bench_udp.c -- sock bench: UDP requests with ids, answers checked, losses counted */

#include "bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Datagrams per recvmmsg and per sendmmsg. */
#define BATCH 64
#define EV_BATCH 64
/* The low bits of an id name its slot (--inflight is at most 4096). */
#define SLOT_BITS 12
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

/* A request in flight: its id is also its first 8 bytes on the wire. */
struct request {
	uint64_t id;
	int64_t sent_at;
};

struct usock {
	int fd;
	unsigned int id;
	uint64_t gen;	     /* ids issued */
	struct request *req; /* --inflight of them */
	unsigned int *queue; /* slots waiting to be sent */
	unsigned int nqueue;
};

struct udp_set {
	struct bench_worker *w;
	const struct bench_opts *o;
	const unsigned char *pat;
	int epfd;
	struct usock *socks;
	/* receive batch */
	unsigned char *rxbuf;
	size_t rxslot;
	struct mmsghdr rmsg[BATCH];
	struct iovec riov[BATCH];
	/* send batch: each request is its id, then pattern bytes */
	struct mmsghdr smsg[BATCH];
	struct iovec siov[BATCH][2];
};

/* The payload after the id: pattern bytes chosen by the id, so an answer
 * that belongs to another request does not compare equal. */
static const unsigned char *payload(const struct udp_set *set, uint64_t id)
{
	return set->pat + id % BENCH_PATTERN_PERIOD;
}

static void issue(struct usock *u, unsigned int slot, int64_t now)
{
	u->req[slot].id = (++u->gen << SLOT_BITS) | slot;
	u->req[slot].sent_at = now;
	u->queue[u->nqueue++] = slot;
}

static void udp_error(struct udp_set *set, int err, const char *what)
{
	struct bench_worker *w = set->w;

	if (bench_stopped(w) || bench_now_ns() >= w->end_ns)
		return;
	__atomic_store_n(&w->stats.errors, w->stats.errors + 1,
			 __ATOMIC_RELAXED);
	bench_error(w, "%s %s: %s", what, set->o->target, sock_strerror(err));
}

static void udp_flush(struct udp_set *set, struct usock *u)
{
	unsigned int i, n, done = 0;
	int sent;

	while (done < u->nqueue) {
		n = u->nqueue - done < BATCH ? u->nqueue - done : BATCH;
		for (i = 0; i < n; i++) {
			struct request *r = &u->req[u->queue[done + i]];

			set->siov[i][0].iov_base = &r->id;
			set->siov[i][0].iov_len = 8;
			set->siov[i][1].iov_base = (void *)payload(set, r->id);
			set->siov[i][1].iov_len = set->o->size - 8;
		}
		sent = sendmmsg(u->fd, set->smsg, n, MSG_DONTWAIT);
		if (sent <= 0) {
			if (sent < 0 && errno == EINTR)
				continue;
			/* A full buffer or a refusal: these requests go
			 * unanswered and time out like lost ones. */
			if (sent < 0 && errno != EAGAIN)
				udp_error(set, -errno, "cannot send to");
			break;
		}
		done += (unsigned int)sent;
	}
	u->nqueue = 0;
}

static void answer(struct udp_set *set, struct usock *u,
		   const unsigned char *buf, size_t len, int64_t now)
{
	struct bench_worker *w = set->w;
	struct request *r;
	uint64_t id;

	if (len < 8) {
		w->stats.mismatches++;
		bench_error(w, "%s answered a %zu-byte datagram",
			    set->o->target, len);
		return;
	}
	memcpy(&id, buf, 8);
	r = &u->req[id & SLOT_MASK];
	if ((id & SLOT_MASK) >= set->o->inflight || r->id != id) {
		/* Answered after it was counted lost (or garbage). */
		w->stats.late++;
		return;
	}
	if (len != set->o->size || memcmp(buf + 8, payload(set, id), len - 8)) {
		w->stats.mismatches++;
		bench_error(w, "%s echoed request %llu wrongly (%zu bytes)",
			    set->o->target, (unsigned long long)id, len);
	} else {
		bench_count(w, now, len, now - r->sent_at);
	}
	if (!bench_tick(w, now))
		issue(u, (unsigned int)(id & SLOT_MASK), now);
}

static void udp_recv(struct udp_set *set, struct usock *u)
{
	int64_t now;
	int i, n;

	for (;;) {
		n = recvmmsg(u->fd, set->rmsg, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				udp_error(set, -errno, "answer from");
			break;
		}
		now = bench_now_ns();
		for (i = 0; i < n; i++)
			answer(set, u, set->rxbuf + (size_t)i * set->rxslot,
			       set->rmsg[i].msg_len, now);
		if (n < BATCH)
			break;
	}
	udp_flush(set, u);
}

/* Requests unanswered within the timeout are lost: count and replace. */
static void expire(struct udp_set *set, int64_t now)
{
	unsigned int i, k;

	for (i = 0; i < set->w->nconns; i++) {
		struct usock *u = &set->socks[i];

		for (k = 0; k < set->o->inflight; k++) {
			if (now - u->req[k].sent_at < set->o->timeout_ns)
				continue;
			set->w->stats.lost++;
			issue(u, k, now);
		}
		udp_flush(set, u);
	}
}

static int udp_setup(struct udp_set *set)
{
	const struct bench_opts *o = set->o;
	struct bench_worker *w = set->w;
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int i;
	int fd;

	set->rxslot = o->size + 1; /* one more: longer answers show */
	set->rxbuf = malloc(BATCH * set->rxslot);
	set->socks = calloc(w->nconns, sizeof(*set->socks));
	if (!set->rxbuf || !set->socks)
		return -ENOMEM;
	for (i = 0; i < BATCH; i++) {
		set->riov[i].iov_base = set->rxbuf + (size_t)i * set->rxslot;
		set->riov[i].iov_len = set->rxslot;
		set->rmsg[i].msg_hdr.msg_iov = &set->riov[i];
		set->rmsg[i].msg_hdr.msg_iovlen = 1;
		set->smsg[i].msg_hdr.msg_iov = set->siov[i];
		set->smsg[i].msg_hdr.msg_iovlen = 2;
	}
	for (i = 0; i < w->nconns; i++) {
		struct usock *u = &set->socks[i];

		u->fd = -1;
		u->id = w->first_conn + i;
		u->req = calloc(o->inflight, sizeof(*u->req));
		u->queue = calloc(o->inflight, sizeof(*u->queue));
		if (!u->req || !u->queue)
			return -ENOMEM;
		fd = bench_connect(o, u->id, SOCK_DGRAM);
		if (fd < 0)
			return fd;
		u->fd = fd;
		ev.data.ptr = u;
		if (epoll_ctl(set->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

static void udp_cleanup(struct udp_set *set)
{
	unsigned int i;

	for (i = 0; set->socks && i < set->w->nconns; i++) {
		if (set->socks[i].fd >= 0)
			close(set->socks[i].fd);
		free(set->socks[i].req);
		free(set->socks[i].queue);
	}
	free(set->socks);
	free(set->rxbuf);
	close(set->epfd);
	free(set);
}

int bench_run_udp(struct bench_worker *w)
{
	struct epoll_event ev[EV_BATCH];
	int64_t now, next_expire;
	struct udp_set *set;
	unsigned int i, k;
	int n, err;

	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	set->w = w;
	set->o = w->opts;
	set->pat = bench_pattern();
	set->epfd = epoll_create1(EPOLL_CLOEXEC);
	err = set->epfd < 0 ? -errno : udp_setup(set);
	if (err) {
		bench_error(w, "cannot set up sockets for %s: %s",
			    set->o->target, sock_strerror(err));
		udp_cleanup(set);
		return err;
	}
	now = bench_now_ns();
	for (i = 0; i < w->nconns; i++) {
		for (k = 0; k < set->o->inflight; k++)
			issue(&set->socks[i], k, now);
		udp_flush(set, &set->socks[i]);
	}
	next_expire = now + 10000000;
	while (!bench_tick(w, now = bench_now_ns())) {
		if (now >= next_expire) {
			expire(set, now);
			next_expire = now + 10000000;
		}
		n = epoll_wait(set->epfd, ev, EV_BATCH, 10);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (i = 0; i < (unsigned int)(n > 0 ? n : 0); i++)
			udp_recv(set, ev[i].data.ptr);
	}
	bench_linger(w);
	udp_cleanup(set);
	return err;
}

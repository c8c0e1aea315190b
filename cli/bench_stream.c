/* SPDX-License-Identifier: MIT */
/* bench_stream.c -- sock bench: pingpong and bulk transfer workers */

#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Bytes taken per recv, and sent per send in bulk mode. */
#define RX_SIZE (256 * 1024)
#define BULK_CHUNK (256 * 1024)
/* Events taken per epoll_wait. */
#define EV_BATCH 256
/* A bulk stream gets this many sends or receives per wake-up, so one
 * fast stream cannot starve the others. */
#define BULK_BURST 8

/* RFC 864: line i is the 72 characters starting at position i mod 95 of
 * the 95 printable characters, then CR LF; the pattern repeats after 95
 * lines. */
#define CHARGEN_LINE 74
#define CHARGEN_PERIOD (95 * CHARGEN_LINE)

struct stream {
	int fd;
	unsigned int id;
	bool connected, want_out, dead;
	void *tls;	 /* --tls: the session (bench_tls.c) */
	bool shaken;	 /* its handshake is done */
	uint32_t seed;	 /* where this stream starts in the pattern */
	uint64_t queued; /* bytes of the messages issued so far */
	uint64_t sent, recvd;
	int64_t *stamps; /* when each message in flight was issued */
};

struct stream_set {
	struct bench_worker *w;
	const struct bench_opts *o;
	const unsigned char *pat;
	int epfd;
	unsigned int alive;
	struct stream *s;
	int64_t *stamps;
	unsigned char *rx;
};

static unsigned char chargen[CHARGEN_PERIOD + RX_SIZE];
static pthread_once_t chargen_once = PTHREAD_ONCE_INIT;

static void chargen_fill(void)
{
	size_t i;

	for (i = 0; i < CHARGEN_PERIOD; i++) {
		size_t line = i / CHARGEN_LINE, col = i % CHARGEN_LINE;

		if (col < 72)
			chargen[i] = (unsigned char)(0x20 + (line + col) % 95);
		else
			chargen[i] = col == 72 ? '\r' : '\n';
	}
	for (; i < sizeof(chargen); i++)
		chargen[i] = chargen[i - CHARGEN_PERIOD];
}

static void stream_fail(struct stream_set *set, struct stream *s, int err,
			const char *what)
{
	struct bench_worker *w = set->w;

	if (s->dead)
		return;
	if (!bench_stopped(w) && bench_now_ns() < w->end_ns) {
		__atomic_store_n(&w->stats.errors, w->stats.errors + 1,
				 __ATOMIC_RELAXED);
		bench_error(w, "connection %u to %s: %s%s%s", s->id,
			    set->o->target, what, err ? ": " : "",
			    err ? sock_strerror(err) : "");
	}
	bench_tls_free_conn(s->tls);
	s->tls = NULL;
	close(s->fd);
	s->fd = -1;
	s->dead = true;
	set->alive--;
}

/* send(2) and recv(2) without waiting, or their TLS equivalents: the
 * count, 0 at the end (recv), or -errno (-EAGAIN: not now). */
static ssize_t s_send(struct stream *s, const void *buf, size_t len)
{
	ssize_t n;

	if (s->tls)
		return bench_tls_send(s->tls, buf, len);
	n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n < 0 ? (errno == EINTR ? -EAGAIN : -errno) : n;
}

static ssize_t s_recv(struct stream *s, void *buf, size_t len)
{
	ssize_t n;

	if (s->tls)
		return bench_tls_recv(s->tls, buf, len);
	n = recv(s->fd, buf, len, MSG_DONTWAIT);
	return n < 0 ? (errno == EINTR ? -EAGAIN : -errno) : n;
}

static void set_out(struct stream_set *set, struct stream *s, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0),
				  .data.ptr = s };

	if (s->want_out == on)
		return;
	s->want_out = on;
	if (epoll_ctl(set->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0)
		stream_fail(set, s, -errno, "epoll_ctl");
}

/* Send what is queued and not yet sent, straight from the pattern. */
static void pp_flush(struct stream_set *set, struct stream *s)
{
	size_t len;
	ssize_t n;

	while (s->sent < s->queued) {
		len = (size_t)(s->queued - s->sent);
		n = s_send(s,
			   set->pat +
				   (s->seed + s->sent) % BENCH_PATTERN_PERIOD,
			   len);
		if (n < 0) {
			if (n == -EAGAIN)
				break;
			stream_fail(set, s, (int)n, "send");
			return;
		}
		s->sent += (uint64_t)n;
	}
	set_out(set, s, s->sent < s->queued);
}

static void pp_issue(struct stream_set *set, struct stream *s, int64_t now)
{
	uint64_t msg = s->queued / set->o->size;

	s->stamps[msg % set->o->inflight] = now;
	s->queued += set->o->size;
}

/* Report the first byte that differs, where in the stream it lies. */
static void pp_mismatch(struct stream_set *set, struct stream *s,
			const unsigned char *got, const unsigned char *want,
			size_t n)
{
	size_t i = 0;

	while (i < n && got[i] == want[i])
		i++;
	set->w->stats.mismatches++;
	bench_error(set->w,
		    "connection %u: byte %llu received is 0x%02x, not 0x%02x",
		    s->id, (unsigned long long)(s->recvd + i), got[i], want[i]);
	stream_fail(set, s, 0, "wrong data received");
}

static void pp_recv(struct stream_set *set, struct stream *s, bool stopping)
{
	const struct bench_opts *o = set->o;
	uint64_t done, k;
	const unsigned char *want;
	int64_t now;
	ssize_t n;

	n = s_recv(s, set->rx, RX_SIZE);
	if (n <= 0) {
		if (n == -EAGAIN)
			return;
		stream_fail(set, s, (int)n,
			    n < 0 ? "recv" : "closed by the server");
		return;
	}
	if (s->recvd + (uint64_t)n > s->sent) {
		set->w->stats.mismatches++;
		stream_fail(set, s, 0, "more bytes echoed than sent");
		return;
	}
	want = set->pat + (s->seed + s->recvd) % BENCH_PATTERN_PERIOD;
	if (memcmp(set->rx, want, (size_t)n)) {
		pp_mismatch(set, s, set->rx, want, (size_t)n);
		return;
	}
	now = bench_now_ns();
	done = s->recvd / o->size;
	s->recvd += (uint64_t)n;
	for (k = done; k < s->recvd / o->size; k++) {
		bench_count(set->w, now, o->size,
			    now - s->stamps[k % o->inflight]);
		if (!stopping)
			pp_issue(set, s, now);
	}
	if (s->queued > s->sent)
		pp_flush(set, s);
}

static void bulk_recv(struct stream_set *set, struct stream *s)
{
	const unsigned char *want;
	ssize_t n;
	int i;

	for (i = 0; i < BULK_BURST; i++) {
		n = s_recv(s, set->rx, RX_SIZE);
		if (n <= 0) {
			if (n == -EAGAIN)
				return;
			stream_fail(set, s, (int)n,
				    n < 0 ? "recv" : "closed by the server");
			return;
		}
		if (set->o->verify) {
			/* A server may start at any line: the first byte
			 * names it. */
			if (!s->recvd)
				s->seed = (uint32_t)((set->rx[0] - 0x20u) % 95 *
						     CHARGEN_LINE);
			want = chargen + (s->seed + s->recvd) % CHARGEN_PERIOD;
			if (memcmp(set->rx, want, (size_t)n)) {
				pp_mismatch(set, s, set->rx, want, (size_t)n);
				return;
			}
		}
		s->recvd += (uint64_t)n;
		bench_count(set->w, 0, (uint64_t)n, -1);
		if ((size_t)n < RX_SIZE - (s->tls ? 16384 : 0))
			return;
	}
}

static void bulk_send(struct stream_set *set, struct stream *s)
{
	ssize_t n;
	int i;

	for (i = 0; i < BULK_BURST; i++) {
		n = s_send(s,
			   set->pat +
				   (s->seed + s->sent) % BENCH_PATTERN_PERIOD,
			   BULK_CHUNK);
		if (n < 0) {
			if (n != -EAGAIN)
				stream_fail(set, s, (int)n, "send");
			return;
		}
		s->sent += (uint64_t)n;
		bench_count(set->w, 0, (uint64_t)n, -1);
	}
}

static bool stream_ready(struct stream_set *set, struct stream *s);

/* The first writable event: the connection is up, or it failed. */
static bool stream_connected(struct stream_set *set, struct stream *s,
			     uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (ev & (EPOLLERR | EPOLLHUP)) {
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		stream_fail(set, s, err ? -err : -ECONNRESET, "cannot connect");
		return false;
	}
	s->connected = true;
	if (set->o->tls && !s->tls) {
		s->tls = bench_tls_new(set->o, s->fd);
		if (!s->tls) {
			stream_fail(set, s, -ENOMEM, "TLS");
			return false;
		}
	}
	return stream_ready(set, s);
}

/* The connection is up (and its handshake done): the work begins. */
static bool stream_ready(struct stream_set *set, struct stream *s)
{
	uint32_t want = 0;
	int err;

	if (s->tls && !s->shaken) {
		err = bench_tls_handshake(s->tls, &want);
		if (err == -EAGAIN) {
			set_out(set, s, want == EPOLLOUT);
			return false;
		}
		if (err) {
			stream_fail(set, s, err, "TLS handshake");
			return false;
		}
		s->shaken = true;
		set_out(set, s, true);
	}
	if (set->o->mode == BENCH_PINGPONG) {
		int64_t now = bench_now_ns();
		unsigned int i;

		for (i = 0; i < set->o->inflight; i++)
			pp_issue(set, s, now);
		pp_flush(set, s);
	} else if (set->o->mode == BENCH_BULK_RECV) {
		set_out(set, s, false);
	}
	return !s->dead;
}

static void stream_event(struct stream_set *set, struct stream *s, uint32_t ev,
			 bool stopping)
{
	enum bench_mode mode = set->o->mode;

	if (s->dead)
		return;
	if (!s->connected) {
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (!stream_connected(set, s, ev))
			return;
	} else if (s->tls && !s->shaken) {
		if (!stream_ready(set, s))
			return;
	}
	if (mode == BENCH_BULK_SEND) {
		/* A TLS server speaks after the handshake (TLS 1.3's
		 * session tickets): taken, and dropped. */
		if ((ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
		    (!s->tls || s_recv(s, set->rx, RX_SIZE) != -EAGAIN)) {
			stream_fail(set, s, -ECONNRESET,
				    "closed by the server");
			return;
		}
		if (!stopping)
			bulk_send(set, s);
		return;
	}
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		if (mode == BENCH_PINGPONG)
			pp_recv(set, s, stopping);
		else
			bulk_recv(set, s);
	}
	if (!s->dead && (ev & EPOLLOUT) && mode == BENCH_PINGPONG)
		pp_flush(set, s);
}

static int open_all(struct stream_set *set)
{
	const struct bench_opts *o = set->o;
	struct bench_worker *w = set->w;
	struct epoll_event ev;
	struct stream *s;
	unsigned int i;
	int fd;

	for (i = 0; i < w->nconns; i++) {
		s = &set->s[i];
		s->id = w->first_conn + i;
		s->fd = -1;
		s->dead = true;
		s->seed = (uint32_t)(s->id * 7919u % BENCH_PATTERN_PERIOD);
		s->stamps = set->stamps ? set->stamps + (size_t)i * o->inflight
					: NULL;
		fd = bench_connect(o, s->id, SOCK_STREAM);
		if (fd < 0) {
			bench_error(w, "cannot connect to %s: %s", o->target,
				    sock_strerror(fd));
			w->stats.errors++;
			continue;
		}
		s->fd = fd;
		s->dead = false;
		s->want_out = true;
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.ptr = s;
		if (epoll_ctl(set->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		set->alive++;
	}
	return 0;
}

static int stream_loop(struct stream_set *set)
{
	struct epoll_event ev[EV_BATCH];
	struct bench_worker *w = set->w;
	bool stopping = false;
	int i, n;

	while (set->alive) {
		stopping = bench_tick(w, bench_now_ns());
		if (stopping)
			break;
		n = epoll_wait(set->epfd, ev, EV_BATCH, 10);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++)
			stream_event(set, ev[i].data.ptr, ev[i].events,
				     stopping);
	}
	return 0;
}

static int run_streams(struct bench_worker *w)
{
	const struct bench_opts *o = w->opts;
	struct stream_set set = { .w = w, .o = o, .pat = bench_pattern() };
	unsigned int i;
	int err = -ENOMEM;

	set.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (set.epfd < 0)
		return -errno;
	set.s = calloc(w->nconns, sizeof(*set.s));
	set.rx = malloc(RX_SIZE);
	if (o->mode == BENCH_PINGPONG)
		set.stamps = calloc((size_t)w->nconns * o->inflight,
				    sizeof(*set.stamps));
	if (!set.s || !set.rx || (o->mode == BENCH_PINGPONG && !set.stamps))
		goto out;
	if (o->mode == BENCH_BULK_RECV)
		pthread_once(&chargen_once, chargen_fill);
	err = open_all(&set);
	if (!err)
		err = stream_loop(&set);
	bench_linger(w);
	for (i = 0; i < w->nconns; i++) {
		bench_tls_free_conn(set.s[i].tls);
		if (set.s[i].fd >= 0)
			close(set.s[i].fd);
	}
out:
	free(set.s);
	free(set.rx);
	free(set.stamps);
	close(set.epfd);
	return err;
}

int bench_run_pingpong(struct bench_worker *w)
{
	return run_streams(w);
}

int bench_run_bulk(struct bench_worker *w)
{
	return run_streams(w);
}

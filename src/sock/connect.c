/* SPDX-License-Identifier: MIT */
/* connect.c -- Python's create_connection and create_server */

#include "internal.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How many of the resolved addresses are tried. */
#define ADDRS_MAX 16

/*
 * How much an attempt's error says about the destination, for reporting
 * one when every attempt failed: an answer from a live host (a refusal, a
 * reset) beats silence until the deadline, silence beats a network that
 * could not be reached, and each of those beats a local failure such as a
 * family this machine lacks or a source address it cannot use.  With a
 * zero timeout "in progress" stands for silence.
 */
static int error_rank(int err)
{
	switch (err) {
	case -ECONNREFUSED:
	case -ECONNRESET:
		return 3;
	case -ETIMEDOUT:
	case -EINPROGRESS:
	case -EAGAIN:
		return 2;
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		return 1;
	}
	return 0;
}

/* The more telling of two errors; the earlier one (best) on a tie. */
static int better_error(int best, int err)
{
	return !best || error_rank(err) > error_rank(best) ? err : best;
}

/* True once a finite deadline has passed (a zero timeout has none left
 * from the start, yet every address gets its non-blocking attempt). */
static bool deadline_passed(int64_t deadline)
{
	return deadline != SOCK__NEVER && deadline != SOCK__NOW &&
	       sock__remaining_ms(deadline) == 0;
}

/* The defaults and bounds of RFC 8305: "Connection Attempt Delay" (250 ms,
 * at least 10 ms, at most 2 s) and "Resolution Delay" (50 ms). */
#define ATTEMPT_DELAY_MS 250
#define ATTEMPT_DELAY_MIN_MS 10
#define ATTEMPT_DELAY_MAX_MS 2000
#define RESOLUTION_DELAY_MS 50

static const struct sock_connect_options no_options;

/* One call of sock_connect_with(): its deadline, the report it writes
 * (the caller's, or a scratch one), the most telling error so far. */
struct attempts {
	const struct sock_connect_options *opt;
	struct sock_connect_report *rep;
	int64_t start;
	int64_t deadline;
	int best;
};

static int now_ms(const struct attempts *a)
{
	int64_t ms = (sock__now_ns() - a->start) / 1000000;

	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* A report line for an attempt to addr begun now; -1 past the last line
 * (the call then makes no more attempts). */
static int attempt_begin(struct attempts *a, const struct sock_addr *addr)
{
	struct sock_connect_attempt *at;
	int k = a->rep->n_attempts;

	if (k >= SOCK_CONNECT_ATTEMPTS)
		return -1;
	at = &a->rep->attempt[k];
	at->addr = *addr;
	at->start_ms = now_ms(a);
	at->end_ms = -1;
	at->result = -EINPROGRESS;
	a->rep->n_attempts = k + 1;
	return k;
}

static void attempt_end(struct attempts *a, int k, int result)
{
	a->rep->attempt[k].end_ms = now_ms(a);
	a->rep->attempt[k].result = result;
	if (result)
		a->best = better_error(a->best, result);
}

/* Attempt k lost the race: closed when another connected, which says
 * nothing about its address (so it is no error of the call). */
static void attempt_lost(struct attempts *a, int k)
{
	a->rep->attempt[k].end_ms = now_ms(a);
	a->rep->attempt[k].result = -ECANCELED;
}

/* A socket for ai: opened, given to the caller's setup hook, bound to the
 * source address.  Returns 0 or a code; s is closed on failure. */
static int attempt_open(struct attempts *a, struct sock *s,
			const struct sock_addrinfo *ai)
{
	const struct sock_connect_options *o = a->opt;
	struct sock_addrinfo src;
	ssize_t n;
	int err;

	if (o->source) {
		n = sock__resolve(o->source, ai->family, ai->type, AI_PASSIVE,
				  &src, 1, a->deadline);
		if (n < 0)
			return (int)n;
	}
	err = sock_open(s, ai->family, ai->type, ai->protocol);
	if (err)
		return err;
	if (o->setup) {
		err = o->setup(s, &ai->addr, o->setup_arg);
		if (err > 0 || (!err && s->fd < 0))
			err = -EINVAL; /* a hook that broke its contract */
	}
	if (!err && o->source)
		err = sock_bind_addr(s, &src.addr);
	if (err)
		sock_close(s);
	return err;
}

/* ------------------------------------------------------------------ */
/* One address after another                                           */
/* ------------------------------------------------------------------ */

/*
 * Each address in turn, each attempt waiting up to the deadline: for what
 * connects at once or not at all (datagram sockets, Unix addresses), and
 * for a zero timeout, where every attempt is a non-blocking connect that
 * fails with -EINPROGRESS if it cannot complete at once, as in Python.
 */
static int connect_in_turn(struct attempts *a, struct sock *s,
			   const struct sock_addrinfo *ai, ssize_t n)
{
	ssize_t i;
	int k, err;

	for (i = 0; i < n; i++) {
		k = attempt_begin(a, &ai[i].addr);
		if (k < 0)
			break;
		err = attempt_open(a, s, &ai[i]);
		if (!err) {
			err = sock__connect_deadline(s, &ai[i].addr,
						     a->deadline);
			if (err)
				sock_close(s);
		}
		attempt_end(a, k, err);
		if (!err)
			return 0;
		if (deadline_passed(a->deadline))
			break;
	}
	return a->best ? a->best : -ETIMEDOUT;
}

/* ------------------------------------------------------------------ */
/* Happy Eyeballs (RFC 8305)                                           */
/* ------------------------------------------------------------------ */

/*
 * The race of a stream connect: both families looked up at once, their
 * addresses tried alternately, a new attempt every delay while the
 * earlier ones stay open, the first to connect kept.
 */
struct race {
	struct attempts *a;
	struct sock__lookups lookups;
	bool looking[2];	/* lookup i not answered yet */
	int64_t resolution_end; /* IPv4 answered first: IPv6 awaited till */
	int lookup_error;	/* the more telling of the lookups' errors */
	struct sock_addrinfo queue[2][ADDRS_MAX]; /* by family, IPv6 first */
	size_t queued[2], taken[2];
	int first;	 /* the family index to try first */
	int last;	 /* the family index tried last, -1 before any */
	int64_t next_at; /* the next attempt's start, while one is open */
	int64_t delay;
	struct sock open[SOCK_CONNECT_ATTEMPTS]; /* attempts under way */
	int line[SOCK_CONNECT_ATTEMPTS];	 /* their report lines */
	int nopen;
};

static int family_index(int family)
{
	return family == AF_INET6 ? 0 : 1;
}

/* Whether addr is queued under family index f already. */
static bool race_has(const struct race *r, int f, const struct sock_addr *addr)
{
	size_t i;

	for (i = 0; i < r->queued[f]; i++)
		if (sock_addr_is_equal(&r->queue[f][i].addr, addr))
			return true;
	return false;
}

/* Queue n addresses, each under its family, in the resolver's order; an
 * address given twice (glibc's hosts file gives 127.0.0.1 again for a
 * name that is ::1 too) is tried once. */
static void race_queue(struct race *r, const struct sock_addrinfo *ai,
		       ssize_t n)
{
	ssize_t i;
	int f;

	for (i = 0; i < n; i++) {
		f = family_index(ai[i].family);
		if (r->queued[f] < ADDRS_MAX && !race_has(r, f, &ai[i].addr))
			r->queue[f][r->queued[f]++] = ai[i];
	}
}

static bool race_has_next(const struct race *r)
{
	return r->taken[0] < r->queued[0] || r->taken[1] < r->queued[1];
}

/* The next address to try: the families alternate, starting with
 * r->first (or the other when it has none); NULL when none is left. */
static const struct sock_addrinfo *race_next(struct race *r)
{
	int f = r->last < 0 ? r->first : !r->last;

	if (r->taken[f] == r->queued[f])
		f = !f;
	if (r->taken[f] == r->queued[f])
		return NULL;
	r->last = f;
	return &r->queue[f][r->taken[f]++];
}

/* How telling a lookup's failure is: "no such name" and "no address of
 * that family" least, as the other family's lookup may say more. */
static int lookup_rank(int err)
{
	return err == SOCK_ENONAME || err == SOCK_ENODATA ? 0 : 1;
}

/* Take the lookups that answered. */
static void race_take_lookups(struct race *r)
{
	struct sock_connect_report *rep = r->a->rep;
	struct sock_addrinfo ai[ADDRS_MAX];
	ssize_t n;
	int i;

	for (i = 0; i < 2; i++) {
		if (!r->looking[i])
			continue;
		n = sock__lookups_take(&r->lookups, i, ai, ADDRS_MAX);
		if (n == -EAGAIN)
			continue;
		r->looking[i] = false;
		rep->lookup[i].end_ms = now_ms(r->a);
		rep->lookup[i].result = (int)n;
		if (n > 0)
			race_queue(r, ai, n);
		else if (!r->lookup_error ||
			 lookup_rank((int)n) > lookup_rank(r->lookup_error))
			r->lookup_error = (int)n;
		/* IPv4 first: IPv6 gets the resolution delay to catch up. */
		if (i == 1 && n > 0 && r->looking[0])
			r->resolution_end =
				sock__now_ns() +
				(int64_t)RESOLUTION_DELAY_MS * 1000000;
	}
}

/* Start an attempt to ai.  Returns true when it connected at once (it is
 * then open attempt r->nopen - 1); false when it is under way or failed
 * (noted in the report). */
static bool race_start(struct race *r, const struct sock_addrinfo *ai)
{
	struct sock *s = &r->open[r->nopen];
	int k, err;

	k = attempt_begin(r->a, &ai->addr);
	if (k < 0)
		return false;
	err = attempt_open(r->a, s, ai);
	if (!err && connect(s->fd, &ai->addr.u.sa, ai->addr.len) < 0) {
		err = -errno;
		/* A non-blocking connect interrupted goes on by itself. */
		if (err == -EINPROGRESS || err == -EINTR) {
			r->line[r->nopen++] = k;
			r->next_at = sock__now_ns() + r->delay;
			return false;
		}
		sock_close(s);
	}
	if (err) {
		attempt_end(r->a, k, err);
		return false;
	}
	r->line[r->nopen++] = k;
	return true;
}

/* Open attempt i leaves the race with result (-ECANCELED: it lost):
 * ended in the report, its socket closed unless it won (moved to keep). */
static void race_remove(struct race *r, int i, int result, struct sock *keep)
{
	if (result == -ECANCELED)
		attempt_lost(r->a, r->line[i]);
	else
		attempt_end(r->a, r->line[i], result);
	if (keep)
		*keep = r->open[i];
	else
		sock_close(&r->open[i]);
	r->nopen--;
	r->open[i] = r->open[r->nopen];
	r->line[i] = r->line[r->nopen];
}

/* The earliest of the times the race waits for, for poll(). */
static int race_timeout(const struct race *r)
{
	int64_t until = r->a->deadline;

	if (r->resolution_end && r->resolution_end < until)
		until = r->resolution_end;
	/* The next attempt's time, when there can be one: with no line of
	 * the report left, waiting for it would be a busy loop. */
	if (r->nopen && race_has_next(r) &&
	    r->a->rep->n_attempts < SOCK_CONNECT_ATTEMPTS && r->next_at < until)
		until = r->next_at;
	return sock__remaining_ms(until);
}

/*
 * Wait for the open attempts and the lookups under way.  Returns the index
 * of an attempt that connected, -1 (the failed ones were removed), or -2
 * when poll() itself failed (its error is then the call's best).
 */
static int race_wait(struct race *r)
{
	struct pollfd pfd[SOCK_CONNECT_ATTEMPTS + 2];
	int i, n = 0, so_err, err;

	for (i = 0; i < r->nopen; i++)
		pfd[n++] = (struct pollfd){ .fd = r->open[i].fd,
					    .events = POLLOUT };
	for (i = 0; i < 2; i++)
		if (r->looking[i])
			pfd[n++] = (struct pollfd){ .fd = sock__lookups_fd(
							    &r->lookups, i),
						    .events = POLLIN };
	n = poll(pfd, (nfds_t)n, race_timeout(r));
	if (n < 0 && errno != EINTR) {
		r->a->best = better_error(r->a->best, -errno);
		return -2;
	}
	if (n <= 0)
		return -1; /* a time passed, or a signal: the caller looks */
	for (i = r->nopen - 1; i >= 0; i--) {
		if (!pfd[i].revents)
			continue;
		err = sock__get_int_opt(r->open[i].fd, SO_ERROR, &so_err);
		if (!err && !so_err)
			return i;
		race_remove(r, i, err ? err : -so_err, NULL);
		/* A failure lets the next attempt start at once. */
		r->next_at = sock__now_ns();
	}
	race_take_lookups(r);
	return -1;
}

/* Whether the race may start its next attempt now. */
static bool race_may_start(struct race *r, int64_t now)
{
	if (r->resolution_end && (!r->looking[0] || now >= r->resolution_end))
		r->resolution_end = 0;
	return !r->resolution_end && race_has_next(r) &&
	       (!r->nopen || now >= r->next_at) &&
	       r->a->rep->n_attempts < SOCK_CONNECT_ATTEMPTS;
}

static bool race_is_over(const struct race *r)
{
	return !r->nopen && !r->looking[0] && !r->looking[1] &&
	       (!race_has_next(r) ||
		r->a->rep->n_attempts == SOCK_CONNECT_ATTEMPTS);
}

static int race_run(struct race *r, struct sock *s)
{
	int won;

	for (;;) {
		if (deadline_passed(r->a->deadline))
			break;
		if (race_may_start(r, sock__now_ns())) {
			/* IPv6 first when its lookup answered by now. */
			if (r->last < 0 &&
			    r->taken[r->first] == r->queued[r->first])
				r->first = !r->first;
			if (race_start(r, race_next(r))) {
				race_remove(r, r->nopen - 1, 0, s);
				return 0;
			}
			continue;
		}
		if (race_is_over(r)) {
			if (r->a->best)
				return r->a->best;
			return r->lookup_error ? r->lookup_error
					       : SOCK_ERESOLVE;
		}
		won = race_wait(r);
		if (won >= 0) {
			race_remove(r, won, 0, s);
			return 0;
		}
		if (won == -2)
			return r->a->best;
	}
	while (r->nopen)
		race_remove(r, r->nopen - 1, -ETIMEDOUT, NULL);
	/* A lookup that never answered timed out too. */
	if (r->looking[0] || r->looking[1] || !r->a->best)
		r->a->best = better_error(r->a->best, -ETIMEDOUT);
	return r->a->best;
}

/* The lookups (or the addresses found already) and the race. */
static int connect_race(struct attempts *a, struct sock *s, struct race *r,
			const struct sock_addrinfo *ai, ssize_t n)
{
	int err;

	r->a = a;
	r->last = -1;
	r->delay = (int64_t)(a->opt->attempt_delay_ms ? a->opt->attempt_delay_ms
						      : ATTEMPT_DELAY_MS) *
		   1000000;
	if (n > 0) {
		race_queue(r, ai, n);
		r->first = family_index(ai[0].family);
	}
	err = race_run(r, s);
	while (r->nopen)
		race_remove(r, r->nopen - 1, -ECANCELED, NULL);
	sock__lookups_end(&r->lookups);
	return err;
}

/* Whether text needs a lookup (not a Unix, packet or numeric address). */
static bool needs_lookup(const char *text, int type)
{
	struct sock_addrinfo ai;

	return !sock__addr_is_local_text(text) &&
	       sock__resolve(text, AF_UNSPEC, type, AI_NUMERICHOST, &ai, 1,
			     SOCK__NEVER) < 0;
}

/* Note the lookups the race runs in the report. */
static void report_lookups(struct attempts *a, struct race *r)
{
	int i;

	a->rep->n_lookups = 2;
	for (i = 0; i < 2; i++) {
		r->looking[i] = true;
		a->rep->lookup[i].family = sock__lookups_family(i);
		a->rep->lookup[i].end_ms = -1;
		a->rep->lookup[i].result = -EINPROGRESS;
	}
}

int sock_connect_with(struct sock *s, int type, const char *addr,
		      int timeout_ms, const struct sock_connect_options *opt)
{
	struct sock_connect_report scratch;
	struct sock_addrinfo ai[ADDRS_MAX];
	struct attempts a = { 0 };
	bool race;
	struct race *r = NULL;
	ssize_t n = 0;
	int err;

	assert(s && addr);
	sock__clear(s);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC); /* always set, as sock_open */
	race = type == SOCK_STREAM && timeout_ms != 0;
	a.opt = opt ? opt : &no_options;
	a.rep = a.opt->report ? a.opt->report : &scratch;
	a.start = sock__now_ns();
	a.deadline = sock__deadline(timeout_ms);
	memset(a.rep, 0, sizeof(*a.rep));
	err = -EINVAL;
	if (type <= 0 || (a.opt->attempt_delay_ms &&
			  (a.opt->attempt_delay_ms < ATTEMPT_DELAY_MIN_MS ||
			   a.opt->attempt_delay_ms > ATTEMPT_DELAY_MAX_MS)))
		goto out;
	if (race) {
		err = -ENOMEM;
		r = calloc(1, sizeof(*r));
		if (!r)
			goto out;
		err = sock__lookups_start(&r->lookups, addr, type);
		if (err < 0)
			goto out;
		if (err == 1)
			report_lookups(&a, r);
	}
	if (!r || err == 0) {
		bool lookup = needs_lookup(addr, type);

		n = sock__resolve(addr, AF_UNSPEC, type, 0, ai, ADDRS_MAX,
				  a.deadline);
		if (lookup) {
			a.rep->n_lookups = 1;
			a.rep->lookup[0].family = AF_UNSPEC;
			a.rep->lookup[0].end_ms = now_ms(&a);
			a.rep->lookup[0].result = (int)n;
		}
		err = (int)n;
		if (n < 0)
			goto out;
		/* The race is for the Internet families. */
		if (ai[0].family != AF_INET && ai[0].family != AF_INET6)
			race = false;
	}
	if (race)
		err = connect_race(&a, s, r, ai, n);
	else
		err = connect_in_turn(&a, s, ai, n);
out:
	free(r);
	a.rep->total_ms = now_ms(&a);
	return err;
}

int sock_connect_from(struct sock *s, int type, const char *addr,
		      const char *source, int timeout_ms)
{
	struct sock_connect_options o = { .source = source };

	return sock_connect_with(s, type, addr, timeout_ms, &o);
}

int sock_connect(struct sock *s, int type, const char *addr, int timeout_ms)
{
	return sock_connect_with(s, type, addr, timeout_ms, NULL);
}

/*
 * A Unix socket's file outlives the socket.  Remove it only when it is a
 * socket and connecting to it is refused: no one listens there any more.
 * A live socket, another kind of file, or any doubt leaves the file for
 * bind() to report EADDRINUSE.
 */
static void remove_stale(const struct sock_addr *addr, int type)
{
	const char *path = addr->u.un.sun_path;
	struct sock probe;
	struct stat st;
	int err;

	if (addr->len <= offsetof(struct sockaddr_un, sun_path) || !path[0])
		return; /* the unnamed address or an abstract name */
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	if (sock_open(&probe, AF_UNIX, type, 0))
		return;
	err = sock__connect_deadline(&probe, addr, SOCK__NOW);
	sock_close(&probe);
	if (err == -ECONNREFUSED)
		unlink(path);
}

static int set_listen_options(struct sock *s, int flags)
{
	int err;

	if (s->family == AF_UNIX)
		return 0;
	/* As Python's create_server: a restarted server binds at once, even
	 * while its previous run's connections linger in TIME_WAIT. */
	err = sock_setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1);
	if (!err && (flags & SOCK_LISTEN_REUSEPORT))
		err = sock_setsockopt(s, SOL_SOCKET, SO_REUSEPORT, 1);
	if (!err && s->family == AF_INET6)
		err = sock_setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY,
				      !(flags & SOCK_LISTEN_DUALSTACK));
	return err;
}

/* The setup hook of sock_listen_with(). */
struct listen_setup {
	int (*fn)(struct sock *s, const struct sock_addr *addr, void *arg);
	void *arg;
};

static int listen_one(struct sock *s, const struct sock_addrinfo *ai,
		      int backlog, int flags, const struct listen_setup *setup)
{
	int err;

	err = sock_open(s, ai->family, ai->type, ai->protocol);
	if (err)
		return err;
	err = set_listen_options(s, flags);
	if (!err && setup->fn) {
		err = setup->fn(s, &ai->addr, setup->arg);
		if (err > 0 || (!err && s->fd < 0))
			err = -EINVAL; /* a hook that broke its contract */
	}
	if (err)
		goto out_close;
	if (ai->family == AF_UNIX && (flags & SOCK_LISTEN_UNLINK))
		remove_stale(&ai->addr, ai->type);
	err = sock_bind_addr(s, &ai->addr);
	if (err)
		goto out_close;
	if (ai->type == SOCK_STREAM || ai->type == SOCK_SEQPACKET) {
		err = sock_listen_bound(s, backlog);
		if (err)
			goto out_close;
	}
	return 0;

out_close:
	sock_close(s);
	return err;
}

int sock_listen_with(struct sock *s, int type, const char *addr, int backlog,
		     int flags,
		     int (*setup)(struct sock *s, const struct sock_addr *addr,
				  void *arg),
		     void *arg)
{
	const struct listen_setup hook = { setup, arg };
	struct sock_addrinfo ai[ADDRS_MAX];
	int family = AF_UNSPEC, err, first = 0;
	ssize_t n, i;

	sock__clear(s);
	if (type <= 0)
		return -EINVAL;
	/* The wildcard of both families is [::] with IPV6_V6ONLY cleared. */
	if ((flags & SOCK_LISTEN_DUALSTACK) && addr[0] == ':')
		family = AF_INET6;
	n = sock__resolve(addr, family, type, AI_PASSIVE, ai, ADDRS_MAX,
			  SOCK__NEVER);
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		err = listen_one(s, &ai[i], backlog, flags, &hook);
		if (!err)
			return 0;
		if (!first)
			first = err;
	}
	return first;
}

int sock_listen(struct sock *s, int type, const char *addr, int backlog,
		int flags)
{
	return sock_listen_with(s, type, addr, backlog, flags, NULL, NULL);
}

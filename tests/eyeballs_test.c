/* SPDX-License-Identifier: MIT */
/* eyeballs_test.c -- Happy Eyeballs in sock_connect, its report, setup hooks */

/*
 * Each test child has its own mount and network namespaces (sandbox.h):
 * its /etc/hosts names both.test (::1 and 127.0.0.1), and its resolver is
 * a DNS server the test runs on 127.0.0.1:53, which answers A queries at
 * once and AAAA queries after a delay of the test's choosing.
 *
 * A silent address is a listener whose accept queue is full: the kernel
 * drops further SYNs, so a connect to it hears nothing.  The bounds on
 * time are liveness bounds (TEST_LATE_MS) except the attempt delay's
 * lower bound, which the kernel cannot make shorter.
 */

#include "sandbox.h"
#include "internal.h"

#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>

#define DEADLINE_MS 3000

/* The one name the DNS server knows, as it is on the wire. */
static const char DUAL_NAME[] = "\4dual\4test";

/* ---- the resolver: a DNS server on 127.0.0.1:53 ---- */

struct dns {
	struct sock s;
	int aaaa_delay_ms; /* -1: AAAA queries get no answer */
	atomic_bool stop;
	pthread_t tid;
};

/* A reply to query q of len bytes: the question, and for dual.test one
 * answer (::1 or 127.0.0.1) to an AAAA or A question, else none; any
 * other name does not exist.  Returns its length, 0 for a query not
 * understood (dropped). */
static size_t dns_reply(const unsigned char *q, size_t len, unsigned char *r,
			int *qtype)
{
	static const unsigned char v6[16] = { [15] = 1 };
	static const unsigned char v4[4] = { 127, 0, 0, 1 };
	size_t at = 12, n;

	if (len < 12 + 5)
		return 0;
	while (at < len && q[at]) /* the question's name: its labels */
		at += 1 + (size_t)q[at];
	if (at + 5 > len)
		return 0;
	at += 5; /* the name's end, type and class */
	*qtype = sock_get_be16(q + at - 4);
	memcpy(r, q, at);
	r[2] = 0x80 | (q[2] & 0x01); /* a response; recursion desired kept */
	r[3] = 0x80;		     /* recursion available, no error */
	sock_put_be16(r + 6, 0);     /* answers */
	sock_put_be16(r + 8, 0);     /* authority */
	sock_put_be16(r + 10, 0);    /* additional */
	if (at != 12 + sizeof(DUAL_NAME) + 4 ||
	    memcmp(q + 12, DUAL_NAME, sizeof(DUAL_NAME)) != 0) {
		r[3] |= 3; /* NXDOMAIN */
		return at;
	}
	if (*qtype != 1 && *qtype != 28)
		return at;
	n = *qtype == 28 ? 16 : 4;
	sock_put_be16(r + 6, 1);
	sock_put_be16(r + at, 0xc00c); /* the question's name */
	sock_put_be16(r + at + 2, (uint16_t)*qtype);
	sock_put_be16(r + at + 4, 1); /* IN */
	sock_put_be32(r + at + 6, 60);
	sock_put_be16(r + at + 10, (uint16_t)n);
	memcpy(r + at + 12, n == 16 ? v6 : v4, n);
	return at + 12 + n;
}

static void *dns_run(void *arg)
{
	struct dns *d = arg;
	unsigned char q[512], r[600], held[600];
	struct sock_addr from, held_to;
	long long due = 0;
	size_t held_len = 0, rlen;
	ssize_t n;
	int qtype;

	while (!atomic_load(&d->stop)) {
		if (held_len && test_now_ms() >= due) {
			(void)!sock_sendto(&d->s, held, held_len, &held_to, 0);
			held_len = 0;
		}
		n = sock_recvfrom(&d->s, q, sizeof(q), &from, 0);
		if (n <= 0)
			continue; /* the 10 ms timeout: look again */
		rlen = dns_reply(q, (size_t)n, r, &qtype);
		if (!rlen)
			continue;
		if (qtype == 28 && d->aaaa_delay_ms < 0)
			continue;
		if (qtype == 28 && d->aaaa_delay_ms > 0) {
			memcpy(held, r, rlen);
			held_len = rlen;
			held_to = from;
			due = test_now_ms() + d->aaaa_delay_ms;
			continue;
		}
		(void)!sock_sendto(&d->s, r, rlen, &from, 0);
	}
	return NULL;
}

static void dns_start(struct dns *d, int aaaa_delay_ms)
{
	d->aaaa_delay_ms = aaaa_delay_ms;
	atomic_init(&d->stop, false);
	CHECK_OK(sock_open(&d->s, AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(sock_bind(&d->s, "127.0.0.1:53"));
	CHECK_OK(sock_settimeout(&d->s, 10));
	CHECK_INT(pthread_create(&d->tid, NULL, dns_run, d), ==, 0);
}

static void dns_stop(struct dns *d)
{
	atomic_store(&d->stop, true);
	pthread_join(d->tid, NULL);
	sock_close(&d->s);
}

/* The sandbox: both.test in /etc/hosts, the resolver on 127.0.0.1. */
static void sandbox_names(void)
{
	sandbox_enter();
	sandbox_file("/etc/hosts", "127.0.0.1 localhost\n"
				   "127.0.0.1 both.test\n"
				   "::1 both.test\n");
	sandbox_file("/etc/resolv.conf", "nameserver 127.0.0.1\n"
					 "options timeout:2 attempts:1\n");
	sandbox_file("/etc/nsswitch.conf", "hosts: files dns\n");
}

/* ---- silent and listening addresses ---- */

/* A listener on host (a literal) port port: when silent, its accept
 * queue is filled so that it answers no SYN.  The fillers go to c. */
static void listen_on(struct sock *l, const char *host, int port, bool silent,
		      struct sock c[8], int *nc)
{
	char text[64];
	int err = 0;

	snprintf(text, sizeof(text), "%s:%d", host, port);
	CHECK_OK(sock_listen(l, SOCK_STREAM, text, silent ? 1 : 8, 0));
	*nc = 0;
	if (!silent)
		return;
	while (*nc < 8) {
		err = sock_connect(&c[*nc], SOCK_STREAM, text, 300);
		if (err)
			break;
		(*nc)++;
	}
	if (*nc == 8)
		SKIP("the kernel completed 8 connections to a backlog of 1");
	CHECK_ERR(err, -ETIMEDOUT);
}

/* A port free on both loopback addresses. */
static int free_port(void)
{
	struct sock a, b;
	struct sock_addr addr;
	char text[64];
	int port, tries;

	for (tries = 0; tries < 20; tries++) {
		CHECK_OK(sock_listen(&a, SOCK_STREAM, "127.0.0.1:0", 1, 0));
		CHECK_OK(sock_getsockname(&a, &addr));
		port = sock_addr_port(&addr);
		snprintf(text, sizeof(text), "[::1]:%d", port);
		if (!sock_listen(&b, SOCK_STREAM, text, 1, 0)) {
			sock_close(&a);
			sock_close(&b);
			return port;
		}
		sock_close(&a);
	}
	CHECK(!"no port free on both 127.0.0.1 and ::1");
	return 0;
}

static const char *addr_text(const struct sock_addr *a)
{
	static char buf[4][SOCK_ADDR_STRLEN];
	static int k;

	k = (k + 1) % 4;
	CHECK_INT(sock_addr_format(a, buf[k], sizeof(buf[k])), >, 0);
	return buf[k];
}

static void print_report(const struct sock_connect_report *r)
{
	int i;

	printf("    report: %d ms, %d lookups, %d attempts\n", r->total_ms,
	       r->n_lookups, r->n_attempts);
	for (i = 0; i < r->n_lookups; i++)
		printf("      lookup family %d: end %d ms, result %d\n",
		       r->lookup[i].family, r->lookup[i].end_ms,
		       r->lookup[i].result);
	for (i = 0; i < r->n_attempts; i++)
		printf("      attempt %s: %d..%d ms, %s\n",
		       addr_text(&r->attempt[i].addr), r->attempt[i].start_ms,
		       r->attempt[i].end_ms,
		       sock_strerror(r->attempt[i].result));
}

/*
 * Connect to both.test:port with ::1 and 127.0.0.1 set up as told, the
 * resolver's AAAA answers delayed by aaaa_delay_ms; the connection must
 * reach the listening family, and early.  Returns the report.
 */
static void race(struct sock_connect_report *rep, int aaaa_delay_ms,
		 bool v6_silent, bool v4_silent, int want_family)
{
	struct sock l6, l4, c, fill6[8], fill4[8], conn;
	struct sock_connect_options o = { .report = rep };
	int port, n6, n4, i;
	struct dns dns;
	char text[64];
	long long t0, ms;

	if (!sock_has_ipv6())
		SKIP("no IPv6 on this machine");
	sandbox_names();
	dns_start(&dns, aaaa_delay_ms);
	port = free_port();
	listen_on(&l6, "[::1]", port, v6_silent, fill6, &n6);
	listen_on(&l4, "127.0.0.1", port, v4_silent, fill4, &n4);
	snprintf(text, sizeof(text), "%s:%d",
		 aaaa_delay_ms ? "dual.test" : "both.test", port);

	t0 = test_now_ms();
	CHECK_OK(sock_connect_with(&c, SOCK_STREAM, text, DEADLINE_MS, &o));
	ms = test_now_ms() - t0;
	print_report(rep);
	CHECK_INT(c.family, ==, want_family);
	/* Long before the 3 s deadline: the race, from its first attempt
	 * to the connection, under 1 s, a liveness bound (it needs 250 ms,
	 * or the 400 ms of a late answer); the lookups before it are the
	 * resolver's (a second under valgrind). */
	CHECK_INT(rep->n_attempts, >=, 1);
	CHECK_INT(rep->attempt[rep->n_attempts - 1].end_ms -
			  rep->attempt[0].start_ms,
		  <, 1000);
	CHECK_INT(ms, <, DEADLINE_MS);
	CHECK_OK(sock_accept(want_family == AF_INET6 ? &l6 : &l4, &conn, NULL));
	CHECK_OK(sock_sendall(&c, "x", 1, NULL, 0));
	sock_close(&conn);
	sock_close(&c);
	for (i = 0; i < n6; i++)
		sock_close(&fill6[i]);
	for (i = 0; i < n4; i++)
		sock_close(&fill4[i]);
	sock_close(&l6);
	sock_close(&l4);
	dns_stop(&dns);
}

/* IPv6 first and silent: IPv4 begins after the attempt delay, beside it,
 * and wins; the report shows both, the loser cancelled. */
static void silent_ipv6_gives_way_to_ipv4(void)
{
	struct sock_connect_report r;
	const struct sock_connect_attempt *a = r.attempt;

	race(&r, 0, true, false, AF_INET);
	CHECK_INT(r.n_lookups, ==, 2);
	CHECK_INT(r.lookup[0].family, ==, AF_INET6);
	CHECK_INT(r.lookup[0].result, ==, 1);
	CHECK_INT(r.lookup[1].family, ==, AF_INET);
	CHECK_INT(r.lookup[1].result, >=, 1);
	CHECK_INT(r.n_attempts, ==, 2);
	CHECK_INT(sock_addr_family(&a[0].addr), ==, AF_INET6);
	CHECK_INT(sock_addr_family(&a[1].addr), ==, AF_INET);
	CHECK_INT(a[1].start_ms - a[0].start_ms, >=, 250);
	CHECK_ERR(a[0].result, -ECANCELED);
	CHECK_INT(a[1].result, ==, 0);
	CHECK_INT(a[0].end_ms, >=, a[1].end_ms);
}

/* IPv4 tried first (the AAAA answer came 400 ms late, past the 50 ms
 * resolution delay) and silent: IPv6 begins when its answer comes, and
 * wins. */
static void silent_ipv4_gives_way_to_late_ipv6(void)
{
	struct sock_connect_report r;
	const struct sock_connect_attempt *a = r.attempt;

	race(&r, 400, false, true, AF_INET6);
	CHECK_INT(r.n_lookups, ==, 2);
	CHECK_INT(r.lookup[0].result, ==, 1);
	CHECK_INT(r.lookup[0].end_ms, >=, 400);
	CHECK_INT(r.lookup[1].result, ==, 1);
	CHECK_INT(r.n_attempts, ==, 2);
	CHECK_INT(sock_addr_family(&a[0].addr), ==, AF_INET);
	CHECK_INT(sock_addr_family(&a[1].addr), ==, AF_INET6);
	CHECK_INT(a[0].start_ms, >=, 50);
	CHECK_INT(a[1].start_ms, >=, r.lookup[0].end_ms);
	CHECK_ERR(a[0].result, -ECANCELED);
	CHECK_INT(a[1].result, ==, 0);
}

/* An AAAA answer inside the resolution delay still goes first. */
static void ipv6_answer_inside_resolution_delay_goes_first(void)
{
	struct sock_connect_report r;

	race(&r, 20, false, false, AF_INET6);
	CHECK_INT(r.n_attempts, ==, 1);
	CHECK_INT(sock_addr_family(&r.attempt[0].addr), ==, AF_INET6);
	CHECK_INT(r.attempt[0].start_ms, >=, r.lookup[0].end_ms);
}

/* Both families listen: IPv6 wins alone, no second attempt. */
static void both_listening_ipv6_wins_alone(void)
{
	struct sock_connect_report r;

	race(&r, 0, false, false, AF_INET6);
	CHECK_INT(r.n_attempts, ==, 1);
	CHECK_INT(r.attempt[0].result, ==, 0);
}

/* Both silent: every attempt runs to the deadline, and the report says
 * so; -ETIMEDOUT is the answer, at the deadline, not later. */
static void both_silent_time_out_at_the_deadline(void)
{
	struct sock l6, l4, c, fill6[8], fill4[8];
	struct sock_connect_options o = { 0 };
	struct sock_connect_report r;
	int port, n6, n4, i;
	long long t0, ms;
	char text[64];

	if (!sock_has_ipv6())
		SKIP("no IPv6 on this machine");
	sandbox_names();
	port = free_port();
	listen_on(&l6, "[::1]", port, true, fill6, &n6);
	listen_on(&l4, "127.0.0.1", port, true, fill4, &n4);
	snprintf(text, sizeof(text), "both.test:%d", port);
	o.report = &r;
	o.attempt_delay_ms = 100;
	t0 = test_now_ms();
	/* 2 s: the lookups must be over long before (they take a second
	 * under valgrind). */
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, text, 2000, &o),
		  -ETIMEDOUT);
	ms = test_now_ms() - t0;
	print_report(&r);
	CHECK_INT(ms, >=, 1950);
	CHECK_INT(ms, <, 2000 + TEST_LATE_MS);
	CHECK_INT(c.fd, ==, -1);
	CHECK_INT(r.n_attempts, ==, 2);
	CHECK_INT(r.attempt[1].start_ms - r.attempt[0].start_ms, >=, 100);
	CHECK_ERR(r.attempt[0].result, -ETIMEDOUT);
	CHECK_ERR(r.attempt[1].result, -ETIMEDOUT);
	for (i = 0; i < n6; i++)
		sock_close(&fill6[i]);
	for (i = 0; i < n4; i++)
		sock_close(&fill4[i]);
	sock_close(&l6);
	sock_close(&l4);
}

/* A refusal starts the next attempt at once, not after the delay; when
 * all are refused, the report holds each refusal. */
static void refusal_starts_the_next_attempt_at_once(void)
{
	struct sock_connect_options o = { .attempt_delay_ms = 2000 };
	struct sock_connect_report r;
	struct sock c;
	char text[64];

	if (!sock_has_ipv6())
		SKIP("no IPv6 on this machine");
	sandbox_names();
	snprintf(text, sizeof(text), "both.test:%d", free_port());
	o.report = &r;
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, text, DEADLINE_MS, &o),
		  -ECONNREFUSED);
	print_report(&r);
	CHECK_INT(r.n_attempts, ==, 2);
	CHECK_ERR(r.attempt[0].result, -ECONNREFUSED);
	CHECK_ERR(r.attempt[1].result, -ECONNREFUSED);
	CHECK_INT(r.attempt[1].start_ms, <, 2000);
	CHECK_INT(r.total_ms, <, 2000);
}

/* A literal address has no lookup, one attempt; an unknown name has the
 * resolver's answers and no attempt. */
static void report_of_a_literal_and_of_an_unknown_name(void)
{
	struct sock_connect_options o = { 0 };
	struct sock_connect_report r;
	struct sock l, c;
	struct sock_addr a;
	struct dns dns;
	char text[64];

	sandbox_names();
	dns_start(&dns, 0);
	o.report = &r;
	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 4, 0));
	CHECK_OK(sock_getsockname(&l, &a));
	snprintf(text, sizeof(text), "127.0.0.1:%d", sock_addr_port(&a));
	CHECK_OK(sock_connect_with(&c, SOCK_STREAM, text, DEADLINE_MS, &o));
	CHECK_INT(r.n_lookups, ==, 0);
	CHECK_INT(r.n_attempts, ==, 1);
	CHECK(sock_addr_is_equal(&r.attempt[0].addr, &a));
	CHECK_INT(r.attempt[0].result, ==, 0);
	sock_close(&c);
	sock_close(&l);

	/* A name no one knows: both lookups say so, no attempt is made. */
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, "nosuch.test:9", 2000, &o),
		  SOCK_ENONAME);
	print_report(&r);
	CHECK_INT(c.fd, ==, -1);
	CHECK_INT(r.n_lookups, ==, 2);
	CHECK_ERR(r.lookup[0].result, SOCK_ENONAME);
	CHECK_ERR(r.lookup[1].result, SOCK_ENONAME);
	CHECK_INT(r.n_attempts, ==, 0);
	dns_stop(&dns);
}

/* Fill the accept queue of the listener on text: connects go (into c)
 * until one does not complete within 50 ms. */
static int fill_queue(const char *text, struct sock *c, int max)
{
	int n = 0, err = 0;

	while (n < max) {
		err = sock_connect(&c[n], SOCK_STREAM, text, 50);
		if (err)
			break;
		n++;
	}
	CHECK_ERR(err, -ETIMEDOUT);
	return n;
}

static long long cpu_ms(void)
{
	struct rusage ru;

	CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/*
 * 9 IPv6 and 9 IPv4 addresses, all silent: the race opens its 16
 * attempts and then only waits for them (a poll() that returned at once
 * for an attempt it could not start spun a core until the deadline).
 */
static void attempts_all_used_wait_without_spinning(void)
{
	static struct sock l[18], fill[18][8];
	struct sock_connect_options o = { .attempt_delay_ms = 10 };
	struct sock_connect_report r;
	char hosts[2048], text[64];
	size_t used = 0;
	int nfill[18], i, port, rc;
	long long t0, c0, wall, cpu;
	struct sock c;

	if (!sock_has_ipv6())
		SKIP("no IPv6 on this machine");
	for (i = 0; i < 18; i++)
		used += (size_t)snprintf(hosts + used, sizeof(hosts) - used,
					 i < 9 ? "fd00::%d many.test\n"
					       : "127.0.0.%d many.test\n",
					 i < 9 ? i + 1 : i - 7);
	sandbox_enter();
	sandbox_file("/etc/hosts", hosts);
	rc = system("for i in 1 2 3 4 5 6 7 8 9; do"
		    " ip -6 addr add fd00::$i/128 dev lo nodad || exit 1; "
		    "done");
	if (rc != 0)
		SKIP("cannot add IPv6 addresses to lo (status %d)", rc);
	port = free_port();
	for (i = 0; i < 18; i++) {
		if (i < 9)
			snprintf(text, sizeof(text), "[fd00::%d]:%d", i + 1,
				 port);
		else
			snprintf(text, sizeof(text), "127.0.0.%d:%d", i - 7,
				 port);
		CHECK_OK(sock_listen(&l[i], SOCK_STREAM, text, 1, 0));
		nfill[i] = fill_queue(text, fill[i], 8);
	}
	snprintf(text, sizeof(text), "many.test:%d", port);
	o.report = &r;
	t0 = test_now_ms();
	c0 = cpu_ms();
	/* 3 s: the 16 attempts are open long before (the lookups take a
	 * second under valgrind). */
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, text, 3000, &o),
		  -ETIMEDOUT);
	cpu = cpu_ms() - c0;
	wall = test_now_ms() - t0;
	printf("    %d attempts; %lld ms of CPU in %lld ms\n", r.n_attempts,
	       cpu, wall);
	CHECK_INT(r.n_attempts, ==, SOCK_CONNECT_ATTEMPTS);
	CHECK_INT(wall, >=, 2950);
	/* A busy loop takes all of it. */
	CHECK_INT(cpu, <, wall / 2);
	for (i = 0; i < 18; i++) {
		while (nfill[i] > 0)
			sock_close(&fill[i][--nfill[i]]);
		sock_close(&l[i]);
	}
}

/* A hook's -ECANCELED is an error like any other: the call fails with
 * it, in turn (datagram) and in the race. */
static int cancel_hook(struct sock *s, const struct sock_addr *to, void *arg)
{
	(void)s;
	(void)to;
	(void)arg;
	return -ECANCELED;
}

static void hook_cancelling_every_attempt_fails_the_call(void)
{
	struct sock_connect_options o = { .setup = cancel_hook };
	struct sock c;

	CHECK_ERR(sock_connect_with(&c, SOCK_DGRAM, "127.0.0.1:9", 1000, &o),
		  -ECANCELED);
	CHECK_INT(c.fd, ==, -1);
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, "127.0.0.1:9", 0, &o),
		  -ECANCELED);
	CHECK_INT(c.fd, ==, -1);
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, "127.0.0.1:9", 1000, &o),
		  -ECANCELED);
	CHECK_INT(c.fd, ==, -1);
}

/* ---- the setup hooks ---- */

struct seen {
	int calls;
	int fds[SOCK_CONNECT_ATTEMPTS];
	int families[SOCK_CONNECT_ATTEMPTS];
	int fail_family; /* the hook refuses sockets of this family */
};

static int setup_hook(struct sock *s, const struct sock_addr *to, void *arg)
{
	struct seen *seen = arg;
	int rcvbuf = 0, err;

	if (seen->calls < SOCK_CONNECT_ATTEMPTS) {
		seen->fds[seen->calls] = s->fd;
		seen->families[seen->calls] = sock_addr_family(to);
	}
	seen->calls++;
	if (sock_addr_family(to) == seen->fail_family)
		return -EPERM;
	err = sock_setsockopt(s, SOL_SOCKET, SO_RCVBUF, 65536);
	if (!err)
		err = sock_getsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf);
	return err ? err : rcvbuf >= 65536 ? 0 : -EIO;
}

/* The hook sees each attempt's socket before connect; its error ends
 * that attempt only, and is in the report. */
static void connect_setup_hook_runs_before_connect(void)
{
	struct seen seen = { .fail_family = AF_INET6 };
	struct sock_connect_options o = { .setup = setup_hook,
					  .setup_arg = &seen };
	struct sock_connect_report r;
	struct sock l, c;
	struct sock_addr a;
	char text[64];
	int rcvbuf = 0;

	if (!sock_has_ipv6())
		SKIP("no IPv6 on this machine");
	sandbox_names();
	o.report = &r;
	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 4, 0));
	CHECK_OK(sock_getsockname(&l, &a));
	snprintf(text, sizeof(text), "both.test:%d", sock_addr_port(&a));
	CHECK_OK(sock_connect_with(&c, SOCK_STREAM, text, DEADLINE_MS, &o));
	print_report(&r);
	CHECK_INT(seen.calls, ==, 2);
	CHECK_INT(seen.families[0], ==, AF_INET6);
	CHECK_INT(seen.families[1], ==, AF_INET);
	CHECK_INT(r.n_attempts, ==, 2);
	CHECK_ERR(r.attempt[0].result, -EPERM);
	CHECK_INT(r.attempt[1].result, ==, 0);
	CHECK_INT(c.fd, ==, seen.fds[1]);
	CHECK_OK(sock_getsockopt(&c, SOL_SOCKET, SO_RCVBUF, &rcvbuf));
	CHECK_INT(rcvbuf, >=, 65536);
	sock_close(&c);

	/* Every attempt refused by the hook: its code is the answer. */
	seen.fail_family = AF_INET;
	snprintf(text, sizeof(text), "127.0.0.1:%d", sock_addr_port(&a));
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, text, DEADLINE_MS, &o),
		  -EPERM);
	CHECK_INT(c.fd, ==, -1);
	sock_close(&l);
}

static void listen_setup_hook_runs_before_bind(void)
{
	struct seen seen = { .fail_family = AF_INET6 };
	struct sock l = SOCK_CLOSED;
	int rcvbuf = 0;

	CHECK_OK(sock_listen_with(&l, SOCK_STREAM, "127.0.0.1:0", 4, 0,
				  setup_hook, &seen));
	CHECK_INT(seen.calls, ==, 1);
	CHECK_INT(seen.families[0], ==, AF_INET);
	CHECK_INT(l.fd, ==, seen.fds[0]);
	CHECK_OK(sock_getsockopt(&l, SOL_SOCKET, SO_RCVBUF, &rcvbuf));
	CHECK_INT(rcvbuf, >=, 65536);
	sock_close(&l);
	if (!sock_has_ipv6())
		return;
	CHECK_ERR(sock_listen_with(&l, SOCK_STREAM, "[::1]:0", 4, 0, setup_hook,
				   &seen),
		  -EPERM);
	CHECK_INT(l.fd, ==, -1);
}

/* Out-of-bounds attempt delays are refused before anything is tried. */
static void attempt_delay_out_of_bounds_is_einval(void)
{
	struct sock_connect_options o = { .attempt_delay_ms = 9 };
	struct sock c;

	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, "127.0.0.1:9", 1000, &o),
		  -EINVAL);
	o.attempt_delay_ms = 2001;
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, "127.0.0.1:9", 1000, &o),
		  -EINVAL);
	o.attempt_delay_ms = -1;
	CHECK_ERR(sock_connect_with(&c, SOCK_STREAM, "127.0.0.1:9", 1000, &o),
		  -EINVAL);
	CHECK_INT(c.fd, ==, -1);
}

static const struct test tests[] = {
	TEST(silent_ipv6_gives_way_to_ipv4),
	TEST(silent_ipv4_gives_way_to_late_ipv6),
	TEST(ipv6_answer_inside_resolution_delay_goes_first),
	TEST(both_listening_ipv6_wins_alone),
	TEST(both_silent_time_out_at_the_deadline),
	TEST(refusal_starts_the_next_attempt_at_once),
	TEST(report_of_a_literal_and_of_an_unknown_name),
	TEST(attempts_all_used_wait_without_spinning),
	TEST(hook_cancelling_every_attempt_fails_the_call),
	TEST(connect_setup_hook_runs_before_connect),
	TEST(listen_setup_hook_runs_before_bind),
	TEST(attempt_delay_out_of_bounds_is_einval),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

/* SPDX-License-Identifier: MIT */
/* server_stats_test.c -- sock_server_stats: every counter equals the load that was sent */

/*
 * A known load -- connections that echo a known number of bytes, peers
 * refused by a deny range, datagrams -- on both engines, with one worker
 * and with two, and then every counter of every listener and of the
 * whole server is what that load must give, exactly.
 */

#include "server_util.h"

#define CONNS 10       /* echo connections to the event listener */
#define CONN_BYTES 100 /* each sends and gets back this many */
#define REFUSED 3      /* connections from the denied host */
#define DGRAMS 7       /* datagrams to the UDP listener */
#define JOBS 4	       /* connections to the thread-mode listener */
#define JOB_BYTES 50

static void send_bytes(const char *addr, const char *src, size_t len)
{
	char from[64], buf[CONN_BYTES];
	struct sock c;

	memset(buf, 'x', sizeof(buf));
	snprintf(from, sizeof(from), "%s:0", src);
	CHECK_OK(sock_connect_from(&c, SOCK_STREAM, addr, from, 5000));
	CHECK_OK(sock_settimeout(&c, 5000));
	CHECK_OK(sock_sendall(&c, buf, len, NULL, 0));
	CHECK_OK(sock_recv_exact(&c, buf, len, NULL));
	CHECK_OK(sock_shutdown(&c, SHUT_WR));
	CHECK(closed_by_server(&c, 5000));
	CHECK_OK(sock_close(&c));
}

/* The counters of listener index (-1: all), as a test checks them. */
static void stats_of(struct tserver *t, int index, uint64_t st[SOCK_STAT_COUNT])
{
	CHECK_INT(sock_server_stats(t->srv, index, st, SOCK_STAT_COUNT), ==,
		  SOCK_STAT_COUNT);
}

static void expect(const uint64_t *st, int k, uint64_t want)
{
	if (st[k] != want)
		printf("    %s: %llu, want %llu\n", sock_stat_name(k),
		       (unsigned long long)st[k], (unsigned long long)want);
	CHECK_INT(st[k], ==, want);
}

/* Every counter not named is 0. */
static void expect_rest_zero(const uint64_t *st, const int *named, size_t n)
{
	size_t i;
	int k;

	for (k = 0; k < SOCK_STAT_COUNT; k++) {
		for (i = 0; i < n && named[i] != k; i++)
			;
		if (i == n)
			expect(st, k, 0);
	}
}

static void counters_equal_the_load(unsigned int workers)
{
	struct sock_server_config cfg = { .workers = workers };
	char ev[SOCK_ADDR_STRLEN], dg[SOCK_ADDR_STRLEN], th[SOCK_ADDR_STRLEN];
	uint64_t st[SOCK_STAT_COUNT], all[SOCK_STAT_COUNT];
	uint64_t busy, idle;
	struct tserver t;
	int ei, di, ti, i;
	struct sock c;
	char buf[16];

	ts_new(&t, &cfg);
	ei = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, "127.0.0.1:0",
		    0);
	di = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM, "127.0.0.1:0",
		    0);
	ti = ts_add(&t, &echo_svc[SOCK_MODE_THREAD], SOCK_STREAM, "127.0.0.1:0",
		    0);
	ts_addr(&t, ei, ev);
	ts_addr(&t, di, dg);
	ts_addr(&t, ti, th);
	CHECK_OK(sock_server_deny(t.srv, ei, "127.0.0.2"));
	/* Before run: all zero. */
	stats_of(&t, -1, all);
	expect_rest_zero(all, NULL, 0);
	ts_start(&t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 3 * workers, 3000));

	for (i = 0; i < CONNS; i++)
		send_bytes(ev, "127.0.0.1", CONN_BYTES);
	for (i = 0; i < REFUSED; i++) {
		CHECK_OK(sock_connect_from(&c, SOCK_STREAM, ev, "127.0.0.2:0",
					   5000));
		CHECK(closed_by_server(&c, 5000));
		CHECK_OK(sock_close(&c));
	}
	for (i = 0; i < DGRAMS; i++) {
		client(&c, SOCK_DGRAM, dg);
		CHECK_OK(sock_sendall(&c, "datagram", 8, NULL, 0));
		CHECK_INT(sock_recv(&c, buf, sizeof(buf), 0), ==, 8);
		CHECK_OK(sock_close(&c));
	}
	for (i = 0; i < JOBS; i++)
		send_bytes(th, "127.0.0.1", JOB_BYTES);
	/* Every connection's end was counted before its close event. */
	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, CONNS + JOBS, 5000));
	CHECK(rec_wait(SOCK_EV_LIMIT, "access", 1, 5000));

	stats_of(&t, ei, st);
	expect(st, SOCK_STAT_ACCEPTED, CONNS);
	expect(st, SOCK_STAT_CLOSED, CONNS);
	expect(st, SOCK_STAT_OPEN, 0);
	expect(st, SOCK_STAT_BYTES_IN, CONNS * CONN_BYTES);
	expect(st, SOCK_STAT_BYTES_OUT, CONNS * CONN_BYTES);
	expect(st, SOCK_STAT_ACCESS, REFUSED);
	expect_rest_zero(st,
			 (const int[]){ SOCK_STAT_ACCEPTED, SOCK_STAT_CLOSED,
					SOCK_STAT_BYTES_IN, SOCK_STAT_BYTES_OUT,
					SOCK_STAT_ACCESS },
			 5);

	stats_of(&t, di, st);
	expect(st, SOCK_STAT_DGRAMS_IN, DGRAMS);
	expect(st, SOCK_STAT_DGRAMS_OUT, DGRAMS);
	expect_rest_zero(
		st, (const int[]){ SOCK_STAT_DGRAMS_IN, SOCK_STAT_DGRAMS_OUT },
		2);

	stats_of(&t, ti, st);
	expect(st, SOCK_STAT_ACCEPTED, JOBS);
	expect(st, SOCK_STAT_CLOSED, JOBS);
	expect(st, SOCK_STAT_BYTES_IN, JOBS * JOB_BYTES);
	expect(st, SOCK_STAT_BYTES_OUT, JOBS * JOB_BYTES);
	expect_rest_zero(st,
			 (const int[]){ SOCK_STAT_ACCEPTED, SOCK_STAT_CLOSED,
					SOCK_STAT_BYTES_IN,
					SOCK_STAT_BYTES_OUT },
			 4);

	stats_of(&t, -1, all);
	expect(all, SOCK_STAT_ACCEPTED, CONNS + JOBS);
	expect(all, SOCK_STAT_CLOSED, CONNS + JOBS);
	expect(all, SOCK_STAT_OPEN, 0);
	expect(all, SOCK_STAT_BYTES_IN, CONNS * CONN_BYTES + JOBS * JOB_BYTES);
	expect(all, SOCK_STAT_BYTES_OUT, CONNS * CONN_BYTES + JOBS * JOB_BYTES);
	expect(all, SOCK_STAT_DGRAMS_IN, DGRAMS);
	expect(all, SOCK_STAT_DGRAMS_OUT, DGRAMS);
	expect(all, SOCK_STAT_ACCESS, REFUSED);

	/* An open connection is open. */
	client(&c, SOCK_STREAM, ev);
	echo_once(&c, "still here");
	stats_of(&t, ei, st);
	expect(st, SOCK_STAT_OPEN, 1);
	CHECK_OK(sock_close(&c));

	for (i = 0; i < (int)workers; i++) {
		CHECK_OK(sock_server_loop_time(t.srv, (unsigned int)i, &busy,
					       &idle));
		CHECK(busy + idle > 0);
	}
	CHECK_ERR(sock_server_loop_time(t.srv, workers, &busy, &idle), -ENOENT);
	ts_stop(&t, 3000);
	ts_free(&t);
}

static void counters_equal_the_load_one_worker(void)
{
	counters_equal_the_load(1);
}
ENGINE_TEST(counters_equal_the_load_one_worker)

static void counters_equal_the_load_two_workers(void)
{
	counters_equal_the_load(2);
}
ENGINE_TEST(counters_equal_the_load_two_workers)

/* A caller that knows fewer counters gets those; one that knows more
 * gets zeros past the library's; the names are all there, distinct. */
static void stats_calls_hold_their_contract(void)
{
	struct sock_server_config cfg = { 0 };
	uint64_t st[SOCK_STAT_COUNT + 2];
	struct tserver t;
	int i, j, idx;

	ts_new(&t, &cfg);
	idx = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, "127.0.0.1:0",
		     0);
	memset(st, 0xab, sizeof(st));
	CHECK_INT(sock_server_stats(t.srv, idx, st, 2), ==, SOCK_STAT_COUNT);
	CHECK_INT(st[0], ==, 0);
	CHECK_INT(st[1], ==, 0);
	CHECK_INT(st[2], ==, 0xababababababababULL);
	CHECK_INT(sock_server_stats(t.srv, idx, st, SOCK_STAT_COUNT + 2), ==,
		  SOCK_STAT_COUNT);
	CHECK_INT(st[SOCK_STAT_COUNT + 1], ==, 0);
	CHECK_ERR(sock_server_stats(t.srv, 99, st, SOCK_STAT_COUNT), -ENOENT);
	CHECK_ERR(sock_server_stats(t.srv, -2, st, SOCK_STAT_COUNT), -EINVAL);
	CHECK_ERR(sock_server_stats(NULL, -1, st, SOCK_STAT_COUNT), -EINVAL);
	for (i = 0; i < SOCK_STAT_COUNT; i++) {
		CHECK(sock_stat_name(i) != NULL);
		for (j = 0; j < i; j++)
			CHECK(strcmp(sock_stat_name(i), sock_stat_name(j)));
	}
	CHECK(sock_stat_name(SOCK_STAT_COUNT) == NULL);
	CHECK(sock_stat_name(-1) == NULL);
	ts_free(&t);
}

static const struct test tests[] = {
	TEST_ENGINES(counters_equal_the_load_one_worker),
	TEST_ENGINES(counters_equal_the_load_two_workers),
	TEST(stats_calls_hold_their_contract),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

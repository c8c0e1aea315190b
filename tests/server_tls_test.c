/* SPDX-License-Identifier: MIT */
/* server_tls_test.c -- TLS listeners: handlers see plaintext in every mode, on both engines; hostile handshakes cost little */

/*
 * The clients are this library's TLS sockets, Python's ssl module
 * (tests/tls/peer.py) and openssl s_client; the certificates are made at
 * run time (tests/tls/certs.sh).  tests/cli/tls_cli_test.sh serves sock
 * serve --tls-cert to socat and the others.
 */

#include "server_util.h"
#include "tls/tls_util.h"

/* ---- a TLS server ---- */

struct tls_server {
	struct tserver t;
	int index;
	char addr[64];
};

/* Serve svc over TLS (the leaf certificate) on 127.0.0.1 with cfg and a
 * handshake timeout (0: the default); not started. */
static void tls_server_new(struct tls_server *s, struct sock_server_config *cfg,
			   const struct sock_service *svc, int timeout_ms)
{
	struct sock_tls_ctx *ctx = server_ctx("leaf");

	ts_new(&s->t, cfg);
	s->index = ts_add(&s->t, svc, SOCK_STREAM, "127.0.0.1:0", 0);
	CHECK_OK(sock_server_tls(s->t.srv, s->index, ctx, timeout_ms));
	/* The server keeps its own reference. */
	sock_tls_ctx_free(ctx);
	snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%d",
		 ts_port(&s->t, s->index));
}

static void tls_server_start(struct tls_server *s,
			     struct sock_server_config *cfg,
			     const struct sock_service *svc, int timeout_ms)
{
	tls_server_new(s, cfg, svc, timeout_ms);
	ts_start(&s->t);
}

static void tls_server_stop(struct tls_server *s)
{
	ts_stop(&s->t, LONG_GRACE);
	ts_free(&s->t);
}

/* A verified TLS client of s, with a 5 s timeout on each call. */
static void tls_client(struct sock *c, const struct tls_server *s)
{
	struct sock_tls_ctx *ctx = client_ctx();

	CHECK_OK(sock_tls_connect(c, ctx, s->addr, "localhost", 5000));
	sock_tls_ctx_free(ctx);
	CHECK_OK(sock_settimeout(c, 5000));
}

/* A plain TCP connection to s. */
static void plain_client(struct sock *c, const struct tls_server *s)
{
	CHECK_OK(sock_connect(c, SOCK_STREAM, s->addr, 5000));
	CHECK_OK(sock_settimeout(c, 5000));
}

/* A limit event what with err was reported. */
static bool has_limit(const char *what, int err)
{
	struct rec_event ev;
	unsigned int i;

	for (i = 0; rec_find(SOCK_EV_LIMIT, i, &ev); i++)
		if (!strcmp(ev.what, what) && ev.err == err)
			return true;
	return false;
}

static void check_limit(const char *what, int err)
{
	long long end = test_now_ms() + TEST_WAIT_MS;

	while (!has_limit(what, err) && test_now_ms() < end)
		usleep(5000);
	if (!has_limit(what, err))
		printf("    no %s limit with %s\n", what, sock_strerror(err));
	CHECK(has_limit(what, err));
}

/* The close event of the nth connection, waited for. */
static struct rec_event close_event(unsigned int nth)
{
	struct rec_event ev;

	CHECK(rec_wait(SOCK_EV_CLOSE, NULL, nth + 1, 3000));
	CHECK(rec_find(SOCK_EV_CLOSE, nth, &ev));
	return ev;
}

/* Send len bytes of a pattern and read them back, a chunk at a time. */
static void echo_bulk(struct sock *c, size_t len)
{
	static char out[65536], in[65536];
	size_t done = 0, n, i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + i / 251);
	while (done < len) {
		n = len - done < sizeof(out) ? len - done : sizeof(out);
		CHECK_OK(sock_sendall(c, out, n, NULL, 0));
		CHECK_OK(sock_recv_exact(c, in, n, NULL));
		CHECK(memcmp(in, out, n) == 0);
		done += n;
	}
}

/* ---- handlers see plaintext, in every mode ---- */

/* Blocking handler: tells whether its socket is TLS, then echoes. */
static void blk_tls_echo(struct sock *c, const struct sock_addr *peer,
			 void *data)
{
	const char *yes = sock_is_tls(c) && sock_tls_version(c) ? "tls\n"
								: "plain\n";

	if (sock_sendall(c, yes, strlen(yes), NULL, 0) == 0)
		blk_echo(c, peer, data);
}

#define BLK_TLS_ECHO(m)                                                        \
	{                                                                      \
		.name = "echo", .mode = m, .handle = blk_tls_echo              \
	}

static const struct sock_service blk_svc[] = {
	[SOCK_MODE_INLINE] = BLK_TLS_ECHO(SOCK_MODE_INLINE),
	[SOCK_MODE_THREAD] = BLK_TLS_ECHO(SOCK_MODE_THREAD),
	[SOCK_MODE_POOL] = BLK_TLS_ECHO(SOCK_MODE_POOL),
	[SOCK_MODE_FORK] = BLK_TLS_ECHO(SOCK_MODE_FORK),
};

static void event_handlers_see_plaintext(void)
{
	struct sock_server_config cfg = { 0 };
	struct tls_server s;
	struct sock c = SOCK_CLOSED;
	struct rec_event ev;

	tls_server_start(&s, &cfg, &echo_svc[SOCK_MODE_EVENT], 0);
	tls_client(&c, &s);
	echo_once(&c, "hello over TLS\n");
	/* 4 MiB through the records and the output queue. */
	echo_bulk(&c, 4 << 20);
	CHECK_OK(sock_close(&c)); /* with close_notify */
	ev = close_event(0);
	CHECK_INT(ev.err, ==, 0);
	CHECK(ev.bytes_in > (4u << 20));
	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 1);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, NULL), ==, 0);
	tls_server_stop(&s);
}
ENGINE_TEST(event_handlers_see_plaintext)

static void blocking_handlers_get_a_tls_socket(void)
{
	static const int modes[] = { SOCK_MODE_INLINE, SOCK_MODE_THREAD,
				     SOCK_MODE_POOL, SOCK_MODE_FORK };
	struct sock_server_config cfg = { 0 };
	struct tls_server s;
	struct sock c = SOCK_CLOSED;
	char line[16];
	size_t i;

	for (i = 0; i < SOCK_ARRAY_SIZE(modes); i++) {
		printf("    %s\n", mode_name[modes[i]]);
		tls_server_start(&s, &cfg, &blk_svc[modes[i]], 0);
		tls_client(&c, &s);
		CHECK_INT(sock_recv_line(&c, line, sizeof(line)), ==, 4);
		CHECK_STR(line, "tls\n");
		echo_once(&c, "blocking and TLS\n");
		echo_bulk(&c, 1 << 20);
		CHECK_OK(sock_close(&c));
		CHECK_INT(close_event(0).err, ==, 0);
		tls_server_stop(&s);
	}
}
ENGINE_TEST(blocking_handlers_get_a_tls_socket)

/* The handler ends the connection: the client sees close_notify, a clean
 * end (0), never a cut. */
static void greet_open(struct sock_conn *c)
{
	(void)sock_conn_send(c, "greetings\n", 10);
	sock_conn_close(c);
}

static const struct sock_service greet_svc = { .name = "greet",
					       .mode = SOCK_MODE_EVENT,
					       .on_open = greet_open };

static void server_close_sends_close_notify(void)
{
	struct sock_server_config cfg = { 0 };
	struct tls_server s;
	struct sock c = SOCK_CLOSED;
	char buf[64];

	tls_server_start(&s, &cfg, &greet_svc, 0);
	tls_client(&c, &s);
	CHECK_INT(sock_recv_line(&c, buf, sizeof(buf)), ==, 10);
	CHECK_INT(sock_recv(&c, buf, sizeof(buf), 0), ==, 0);
	CHECK_OK(sock_close(&c));
	tls_server_stop(&s);
}
ENGINE_TEST(server_close_sends_close_notify)

/* A peer that cuts the stream without close_notify ends the connection
 * with SOCK_ETLSEOF, not as an orderly end. */
static void cut_stream_is_not_a_clean_end(void)
{
	struct sock_server_config cfg = { 0 };
	struct tls_server s;
	struct sock c = SOCK_CLOSED;

	tls_server_start(&s, &cfg, &echo_svc[SOCK_MODE_EVENT], 0);
	tls_client(&c, &s);
	echo_once(&c, "then a cut\n");
	close(sock_detach(&c)); /* no close_notify */
	CHECK_INT(close_event(0).err, ==, SOCK_ETLSEOF);
	tls_server_stop(&s);
}
ENGINE_TEST(cut_stream_is_not_a_clean_end)

/* chargen's way: sock_conn_send_some until the socket is full, on_drain
 * for more.  A client reads 2 MiB of records. */
static void send_some_open(struct sock_conn *c);

static void send_some_more(struct sock_conn *c)
{
	static const char slice[8192] = { [0 ... 8191] = 'x' };
	ssize_t n;

	do {
		n = sock_conn_send_some(c, slice, sizeof(slice));
	} while (n == (ssize_t)sizeof(slice));
}

static void send_some_open(struct sock_conn *c)
{
	send_some_more(c);
}

static const struct sock_service flood_svc = { .name = "flood",
					       .mode = SOCK_MODE_EVENT,
					       .on_open = send_some_open,
					       .on_drain = send_some_more };

static void send_some_paces_records(void)
{
	struct sock_server_config cfg = { 0 };
	struct tls_server s;
	struct sock c = SOCK_CLOSED;
	static char buf[65536];
	size_t got = 0;
	ssize_t n;
	int err;

	tls_server_start(&s, &cfg, &flood_svc, 0);
	tls_client(&c, &s);
	while (got < (2u << 20)) {
		n = sock_recv(&c, buf, sizeof(buf), 0);
		CHECK_INT(n, >, 0);
		CHECK(buf[0] == 'x' && buf[n - 1] == 'x');
		got += (size_t)n;
	}
	/* Closed with records unread: the kernel resets the connection
	 * (or the server's next write fails); never a TLS failure. */
	CHECK_OK(sock_close(&c));
	err = close_event(0).err;
	CHECK(err == 0 || err == -ECONNRESET || err == -EPIPE);
	tls_server_stop(&s);
}
ENGINE_TEST(send_some_paces_records)

/* ---- peers nobody here wrote ---- */

static void python_and_openssl_clients_are_served(void)
{
	struct sock_server_config cfg = { 0 };
	struct tls_server s;
	struct peer p;
	char out[4096], port[16];
	const char *sc[] = { "-servername", "localhost", NULL };
	int in;

	tls_server_start(&s, &cfg, &echo_svc[SOCK_MODE_EVENT], 0);
	/* Python's ssl: "hello from python" and its echo. */
	python_client(&p, ts_port(&s.t, s.index), NULL);
	peer_output(&p, out, sizeof(out));
	peer_end(&p);
	CHECK_STR(out, "hello from python\n");
	/* openssl s_client, verifying. */
	snprintf(port, sizeof(port), "%d", ts_port(&s.t, s.index));
	{
		char connect[64];
		char *argv[] = { "openssl", "s_client", "-connect", connect,
				 "-CAfile", (char *)cert("ca.pem"),
				 "-verify_return_error", "-verify_hostname",
				 "localhost", (char *)sc[0], (char *)sc[1],
				 "-quiet",
				 /* -quiet implies -ign_eof: end at the input's
				  * end all the same */
				 "-no_ign_eof", NULL };

		snprintf(connect, sizeof(connect), "127.0.0.1:%s", port);
		in = peer_start_input(&p, argv, "from s_client\n");
		/* s_client ends at the end of its input: give it time to
		 * get the echo first. */
		usleep(300 * 1000);
		close(in);
		peer_output(&p, out, sizeof(out));
		peer_end(&p);
	}
	CHECK(strstr(out, "from s_client\n") != NULL);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, NULL), ==, 0);
	tls_server_stop(&s);
}
ENGINE_TEST(python_and_openssl_clients_are_served)

/* ---- hostile handshakes ---- */

/* Garbage, an HTTP request, a plain-text client, a truncated
 * ClientHello: each is closed with a "tls-handshake" limit event and
 * counted, and a client in the middle of its session notices nothing. */
static void bad_handshakes_harm_no_one(void)
{
	static const uint8_t hello_start[] = { 0x16, 0x03, 0x01, 0x02, 0x00,
					       0x01, 0x00, 0x01, 0xfc, 0x03 };
	struct sock_server_config cfg = { 0 };
	struct tls_server s;
	struct sock good = SOCK_CLOSED, bad = SOCK_CLOSED;
	uint64_t st[SOCK_STAT_COUNT];
	uint8_t junk[3000];
	size_t i;

	tls_server_start(&s, &cfg, &echo_svc[SOCK_MODE_EVENT], 0);
	tls_client(&good, &s);
	echo_once(&good, "before\n");
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 17);
	plain_client(&bad, &s);
	CHECK_OK(sock_sendall(&bad, junk, sizeof(junk), NULL, 0));
	CHECK(closed_by_server(&bad, 3000));
	sock_close(&bad);
	plain_client(&bad, &s);
	CHECK_OK(sock_sendall(&bad, "GET / HTTP/1.0\r\n\r\n", 18, NULL, 0));
	CHECK(closed_by_server(&bad, 3000));
	sock_close(&bad);
	/* A truncated ClientHello, then the end of the stream. */
	plain_client(&bad, &s);
	CHECK_OK(sock_sendall(&bad, hello_start, sizeof(hello_start), NULL, 0));
	CHECK_OK(sock_shutdown(&bad, SHUT_WR));
	CHECK(closed_by_server(&bad, 3000));
	sock_close(&bad);
	echo_once(&good, "after\n");
	check_limit("tls-handshake", SOCK_ETLS);
	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 1);
	CHECK_INT(sock_server_stats(s.t.srv, s.index, st, SOCK_STAT_COUNT), ==,
		  SOCK_STAT_COUNT);
	CHECK_INT(st[SOCK_STAT_TLS_HANDSHAKE], ==, 3);
	CHECK_INT(st[SOCK_STAT_ACCEPTED], ==, 1);
	CHECK_INT(st[SOCK_STAT_OPEN], ==, 1);
	CHECK_OK(sock_close(&good));
	tls_server_stop(&s);
}
ENGINE_TEST(bad_handshakes_harm_no_one)

/* True when the server has not closed c yet (nothing to read, no end). */
static bool still_open(const struct sock *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* Garbage under an established session (bytes that are no record of it):
 * the connection ends with SOCK_ETLS as a "tls-protocol" failure, not as
 * a handshake's, and nothing of it reaches the handler. */
static void garbage_after_the_handshake_is_a_protocol_failure(void)
{
	struct sock_server_config cfg = { 0 };
	struct tls_server s;
	struct sock c = SOCK_CLOSED;
	uint64_t st[SOCK_STAT_COUNT];
	static const char junk[] = "\x17\x03\x03\x00\x20not a record of ours "
				   "at all, no!";

	tls_server_start(&s, &cfg, &echo_svc[SOCK_MODE_EVENT], 0);
	tls_client(&c, &s);
	echo_once(&c, "first a real line\n");
	CHECK_INT(send(c.fd, junk, sizeof(junk) - 1, MSG_NOSIGNAL), ==,
		  (long long)sizeof(junk) - 1);
	CHECK_INT(close_event(0).err, ==, SOCK_ETLS);
	check_limit("tls-protocol", SOCK_ETLS);
	CHECK_INT(sock_server_stats(s.t.srv, s.index, st, SOCK_STAT_COUNT), ==,
		  SOCK_STAT_COUNT);
	CHECK_INT(st[SOCK_STAT_TLS_PROTOCOL], ==, 1);
	CHECK_INT(st[SOCK_STAT_TLS_HANDSHAKE], ==, 0);
	sock_close(&c);
	tls_server_stop(&s);
}
ENGINE_TEST(garbage_after_the_handshake_is_a_protocol_failure)

/* Clients that connect and never shake hands: each is closed at the
 * handshake timeout, and meanwhile the loop and (in pool mode) the one
 * pool thread serve a real client: it is served while every silent one
 * still waits. */
static void silent_handshakes_cost_a_slot_not_a_thread(void)
{
	struct sock_server_config cfg = { .pool_threads = 1 };
	struct sock silent[4];
	struct tls_server s;
	struct sock c = SOCK_CLOSED;
	char line[16];
	size_t i;

	tls_server_start(&s, &cfg, &blk_svc[SOCK_MODE_POOL], 4000);
	for (i = 0; i < SOCK_ARRAY_SIZE(silent); i++) {
		silent[i] = (struct sock)SOCK_CLOSED;
		plain_client(&silent[i], &s);
	}
	tls_client(&c, &s);
	CHECK_INT(sock_recv_line(&c, line, sizeof(line)), ==, 4);
	echo_once(&c, "served beside the silent ones\n");
	for (i = 0; i < SOCK_ARRAY_SIZE(silent); i++)
		CHECK(still_open(&silent[i]));
	for (i = 0; i < SOCK_ARRAY_SIZE(silent); i++) {
		CHECK(closed_by_server(&silent[i], 8000));
		sock_close(&silent[i]);
	}
	check_limit("tls-handshake", -ETIMEDOUT);
	CHECK_OK(sock_close(&c));
	tls_server_stop(&s);
}
ENGINE_TEST(silent_handshakes_cost_a_slot_not_a_thread)

/* A verified TLS client of s from the local address from, its connect and
 * handshake each within timeout_ms: 0 or the error. */
static int tls_client_from(struct sock *c, const struct tls_server *s,
			   const char *from, int timeout_ms)
{
	struct sock_tls_ctx *ctx = client_ctx();
	int err;

	CHECK_OK(sock_open(c, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_bind(c, from));
	CHECK_OK(sock_settimeout(c, timeout_ms));
	err = sock_connect_to(c, s->addr);
	if (!err)
		err = sock_tls_wrap(c, ctx, "localhost");
	sock_tls_ctx_free(ctx);
	if (!err)
		CHECK_OK(sock_settimeout(c, 5000));
	return err;
}

/* A handshake holds a slot under max_conns and counts against its source:
 * a host cannot open more handshakes than max_per_source, and at the cap
 * the next connection waits for a slot, as any would. */
static void handshakes_count_against_the_caps(void)
{
	struct sock_server_config cfg = { .max_per_source = 2, .max_conns = 3 };
	struct sock silent[2], over = SOCK_CLOSED, c = SOCK_CLOSED;
	struct tls_server s;
	size_t i;

	tls_server_start(&s, &cfg, &echo_svc[SOCK_MODE_EVENT], 0);
	for (i = 0; i < SOCK_ARRAY_SIZE(silent); i++) {
		silent[i] = (struct sock)SOCK_CLOSED;
		plain_client(&silent[i], &s);
	}
	/* The third from 127.0.0.1: over the per-source cap. */
	plain_client(&over, &s);
	CHECK(closed_by_server(&over, 3000));
	sock_close(&over);
	check_limit("max-per-source", 0);
	/* From another loopback address: served. */
	CHECK_OK(tls_client_from(&c, &s, "127.0.0.2:0", 5000));
	echo_once(&c, "from 127.0.0.2\n");
	/* Three slots taken, two by handshakes: a fourth, from yet another
	 * address, is not taken in (its handshake gets no answer) until a
	 * handshake ends. */
	CHECK_ERR(tls_client_from(&over, &s, "127.0.0.3:0", 1000), -ETIMEDOUT);
	sock_close(&over);
	sock_close(&silent[0]);
	CHECK_OK(tls_client_from(&over, &s, "127.0.0.3:0", 5000));
	echo_once(&over, "from 127.0.0.3\n");
	CHECK_OK(sock_close(&over));
	sock_close(&silent[1]);
	CHECK_OK(sock_close(&c));
	tls_server_stop(&s);
}
ENGINE_TEST(handshakes_count_against_the_caps)

/* ---- idle timeouts ---- */

#define IDLE 300

/* After the handshake the idle timeout applies as to any connection: a
 * TLS client gone silent is closed, with close_notify, once it has been
 * idle that long; one whose records keep coming every IDLE / 6 is served
 * on past twice that.  Event, thread and fork modes. */
static void idle_tls_case(enum sock_mode mode)
{
	struct sock_server_config cfg = { .idle_timeout_ms = IDLE };
	const struct sock_service *svc = mode == SOCK_MODE_EVENT
						 ? &echo_svc[SOCK_MODE_EVENT]
						 : &blk_svc[mode];
	struct sock quiet = SOCK_CLOSED, busy = SOCK_CLOSED;
	struct tls_server s;
	long long start, took;
	char line[16];
	int i;

	tls_server_start(&s, &cfg, svc, 0);
	tls_client(&quiet, &s);
	if (mode != SOCK_MODE_EVENT) /* the blocking handler's "tls\n" */
		CHECK_INT(sock_recv_line(&quiet, line, sizeof(line)), ==, 4);
	echo_once(&quiet, "then silence\n");
	start = test_now_ms();
	CHECK_INT(sock_recv(&quiet, line, sizeof(line), 0), ==, 0);
	took = test_now_ms() - start;
	CHECK_INT(took, >=, IDLE - 50);
	CHECK_INT(took, <, IDLE + TEST_LATE_MS);
	CHECK_OK(sock_close(&quiet));

	tls_client(&busy, &s);
	if (mode != SOCK_MODE_EVENT)
		CHECK_INT(sock_recv_line(&busy, line, sizeof(line)), ==, 4);
	for (i = 0; i < 12; i++) {
		usleep(IDLE / 6 * 1000);
		echo_once(&busy, "still here\n");
	}
	CHECK_OK(sock_close(&busy));
	tls_server_stop(&s);
	if (mode == SOCK_MODE_EVENT)
		CHECK_INT(rec_count(SOCK_EV_LIMIT, "idle-timeout"), ==, 1);
}

static void idle_timeout_event(void)
{
	idle_tls_case(SOCK_MODE_EVENT);
}
ENGINE_TEST(idle_timeout_event)

static void idle_timeout_thread(void)
{
	idle_tls_case(SOCK_MODE_THREAD);
}
ENGINE_TEST(idle_timeout_thread)

static void idle_timeout_fork(void)
{
	idle_tls_case(SOCK_MODE_FORK);
}
ENGINE_TEST(idle_timeout_fork)

/* The total timeout ends a TLS connection with close_notify too. */
static void total_timeout_is_a_clean_end(void)
{
	struct sock_server_config cfg = { .total_timeout_ms = 2 * IDLE };
	struct sock c = SOCK_CLOSED;
	struct tls_server s;
	long long start, took;
	char line[16];
	int i;

	tls_server_start(&s, &cfg, &echo_svc[SOCK_MODE_EVENT], 0);
	start = test_now_ms();
	tls_client(&c, &s);
	for (i = 0; i < 3; i++) {
		echo_once(&c, "talking\n");
		usleep(IDLE / 6 * 1000);
	}
	CHECK_INT(sock_recv(&c, line, sizeof(line), 0), ==, 0);
	took = test_now_ms() - start;
	CHECK_INT(took, >=, 2 * IDLE - 50);
	CHECK_INT(took, <, 2 * IDLE + TEST_LATE_MS);
	CHECK_OK(sock_close(&c));
	tls_server_stop(&s);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, "total-timeout"), ==, 1);
}
ENGINE_TEST(total_timeout_is_a_clean_end)

/* A listener that requires client certificates: none, or one from a CA
 * nobody trusts, fails the handshake with SOCK_ECERT; the right one is
 * served, and a blocking handler sees who it is. */
static void subject_handle(struct sock *c, const struct sock_addr *peer,
			   void *data)
{
	char subject[256], line[300];
	int n;

	(void)peer;
	(void)data;
	if (sock_tls_peer_subject(c, subject, sizeof(subject)) < 0)
		snprintf(subject, sizeof(subject), "?");
	n = snprintf(line, sizeof(line), "%s\n", subject);
	if (sock_sendall(c, line, (size_t)n, NULL, 0) < 0)
		return;
}

static const struct sock_service subject_svc = { .name = "subject",
						 .mode = SOCK_MODE_THREAD,
						 .handle = subject_handle };

static void client_certificates_are_checked(void)
{
	struct sock_server_config cfg = { 0 };
	struct sock_tls_ctx *sctx = server_ctx("leaf"), *cctx;
	struct tls_server s;
	struct sock c = SOCK_CLOSED;
	char line[300];
	int err;

	CHECK_OK(sock_tls_ctx_load_verify(sctx, cert("ca.pem"), NULL));
	CHECK_OK(sock_tls_ctx_set_verify(sctx, SOCK_TLS_VERIFY_REQUIRE));
	ts_new(&s.t, &cfg);
	s.index = ts_add(&s.t, &subject_svc, SOCK_STREAM, "127.0.0.1:0", 0);
	CHECK_OK(sock_server_tls(s.t.srv, s.index, sctx, 0));
	sock_tls_ctx_free(sctx);
	snprintf(s.addr, sizeof(s.addr), "127.0.0.1:%d",
		 ts_port(&s.t, s.index));
	ts_start(&s.t);
	/* Without a certificate: refused (in TLS 1.3 the client may learn
	 * it only at its first read). */
	cctx = client_ctx();
	err = sock_tls_connect(&c, cctx, s.addr, "localhost", 5000);
	if (!err) {
		CHECK_OK(sock_settimeout(&c, 5000));
		CHECK_INT(sock_recv_line(&c, line, sizeof(line)), <, 0);
		sock_close(&c);
	}
	check_limit("tls-handshake", SOCK_ECERT);
	/* With the CA's client certificate: served. */
	CHECK_OK(sock_tls_ctx_use_cert(cctx, cert("client.pem"),
				       cert("client.key")));
	CHECK_OK(sock_tls_connect(&c, cctx, s.addr, "localhost", 5000));
	CHECK_OK(sock_settimeout(&c, 5000));
	CHECK_INT(sock_recv_line(&c, line, sizeof(line)), >, 0);
	CHECK_STR(line, "CN=libsock test client\n");
	sock_close(&c);
	sock_tls_ctx_free(cctx);
	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 1);
	tls_server_stop(&s);
}
ENGINE_TEST(client_certificates_are_checked)

/* Stopping with handshakes under way ends them: run returns, nothing
 * leaks (make asan, make valgrind). */
static void stop_ends_handshakes(void)
{
	struct sock_server_config cfg = { 0 };
	struct sock silent[3];
	struct tls_server s;
	size_t i;

	tls_server_start(&s, &cfg, &echo_svc[SOCK_MODE_EVENT], 0);
	for (i = 0; i < SOCK_ARRAY_SIZE(silent); i++) {
		silent[i] = (struct sock)SOCK_CLOSED;
		plain_client(&silent[i], &s);
		CHECK_OK(sock_sendall(&silent[i], "\x16\x03\x01", 3, NULL, 0));
	}
	usleep(100 * 1000);
	ts_stop(&s.t, LONG_GRACE);
	for (i = 0; i < SOCK_ARRAY_SIZE(silent); i++) {
		CHECK(closed_by_server(&silent[i], 3000));
		sock_close(&silent[i]);
	}
	ts_free(&s.t);
}
ENGINE_TEST(stop_ends_handshakes)

/* What sock_server_tls refuses. */
static void tls_settings_are_checked(void)
{
	struct sock_server_config cfg = { 0 };
	struct sock_tls_ctx *client, *bare, *ctx = server_ctx("leaf");
	struct tserver t;
	int tcp, udp;

	CHECK_OK(sock_tls_ctx_new(&client, SOCK_TLS_CLIENT));
	CHECK_OK(sock_tls_ctx_new(&bare, SOCK_TLS_SERVER));
	ts_new(&t, &cfg);
	tcp = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_STREAM, "127.0.0.1:0",
		     0);
	udp = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM, "127.0.0.1:0",
		     0);
	CHECK_ERR(sock_server_tls(t.srv, tcp, client, 0), -EINVAL);
	CHECK_ERR(sock_server_tls(t.srv, tcp, bare, 0), -EINVAL);
	CHECK_ERR(sock_server_tls(t.srv, tcp, ctx, -1), -EINVAL);
	CHECK_ERR(sock_server_tls(t.srv, 99, ctx, 0), -ENOENT);
	CHECK_ERR(sock_server_tls(t.srv, udp, ctx, 0), -EOPNOTSUPP);
	CHECK_OK(sock_server_tls(t.srv, tcp, ctx, 0));
	CHECK_OK(sock_server_tls(t.srv, tcp, ctx, 2000)); /* replaces */
	sock_tls_ctx_free(client);
	sock_tls_ctx_free(bare);
	sock_tls_ctx_free(ctx);
	ts_free(&t);
	CHECK_STR(sock_stat_name(SOCK_STAT_TLS_HANDSHAKE), "tls_handshake");
	CHECK_STR(sock_stat_name(SOCK_STAT_TLS_PROTOCOL), "tls_protocol");
}

static const struct test tests[] = {
	TEST_ENGINES(event_handlers_see_plaintext),
	TEST_ENGINES(blocking_handlers_get_a_tls_socket),
	TEST_ENGINES(server_close_sends_close_notify),
	TEST_ENGINES(cut_stream_is_not_a_clean_end),
	TEST_ENGINES(send_some_paces_records),
	TEST_ENGINES(python_and_openssl_clients_are_served),
	TEST_ENGINES(bad_handshakes_harm_no_one),
	TEST_ENGINES(garbage_after_the_handshake_is_a_protocol_failure),
	TEST_ENGINES(silent_handshakes_cost_a_slot_not_a_thread),
	TEST_ENGINES(handshakes_count_against_the_caps),
	TEST_ENGINES(idle_timeout_event),
	TEST_ENGINES(idle_timeout_thread),
	TEST_ENGINES(idle_timeout_fork),
	TEST_ENGINES(total_timeout_is_a_clean_end),
	TEST_ENGINES(client_certificates_are_checked),
	TEST_ENGINES(stop_ends_handshakes),
	TEST(tls_settings_are_checked),
};

int main(int argc, char **argv)
{
	int r;

	if (certs_make("server_tls_test"))
		return 1;
	r = test_main(argc, argv, tests, TEST_COUNT(tests));
	certs_remove("server_tls_test");
	return r;
}

/* SPDX-License-Identifier: MIT */
/* conn_test.c -- a connection's life (server/conn.c, output.c) against a fake engine */

/*
 * The core's side of a connection, driven directly: the engine is a fake
 * that records what the core asks of it, and the test plays the engine's
 * part (bytes arrive, room appears, the connection breaks).  The
 * connection's socket is one end of a Unix socket pair; the test reads
 * and writes the other end.  Every transition of the state machine in
 * engine.h is walked, and what each promises is checked: output order,
 * flow control, orderly close, on_drain and on_close exactly once.
 */

#include "server/core.h"
#include "test.h"

#include <fcntl.h>
#include <sys/socket.h>

/* ---- the fake engine ---- */

static struct {
	int starts, reading_calls, rooms, closes;
	bool wants_input; /* as last reported to the engine */
} fake;

static int fake_conn_start(struct sock_conn *c)
{
	fake.starts++;
	fake.wants_input = sock__conn_wants_input(c);
	if (sock__conn_wants_room(c))
		fake.rooms++;
	return 0;
}

static void fake_conn_reading(struct sock_conn *c)
{
	fake.reading_calls++;
	fake.wants_input = sock__conn_wants_input(c);
}

static int fake_conn_want_room(struct sock_conn *c)
{
	(void)c;
	fake.rooms++;
	return 0;
}

static void fake_conn_close(struct sock_conn *c)
{
	fake.closes++;
	close(c->fd);
	c->fd = -1;
	sock__conn_release(c);
}

static struct sock__engine fake_engine;

/* ---- the service: records what the core calls ---- */

static struct {
	int opens, drains, closes, close_err;
	size_t got;
	char data[1 << 20];
	bool echo;
	bool close_on_open;
	const char *on_open_send;
} svc_rec;

static void rec_open(struct sock_conn *c)
{
	svc_rec.opens++;
	if (svc_rec.on_open_send)
		CHECK_OK(sock_conn_send(c, svc_rec.on_open_send,
					strlen(svc_rec.on_open_send)));
	if (svc_rec.close_on_open)
		sock_conn_close(c);
}

static void rec_data(struct sock_conn *c, const void *data, size_t len)
{
	CHECK_INT(svc_rec.got + len, <=, sizeof(svc_rec.data));
	memcpy(svc_rec.data + svc_rec.got, data, len);
	svc_rec.got += len;
	if (svc_rec.echo)
		(void)sock_conn_send(c, data, len);
}

static void rec_drain(struct sock_conn *c)
{
	(void)c;
	svc_rec.drains++;
}

static void rec_close(struct sock_conn *c, int err)
{
	(void)c;
	svc_rec.closes++;
	svc_rec.close_err = err;
}

static const struct sock_service svc = {
	.name = "recorded",
	.on_open = rec_open,
	.on_data = rec_data,
	.on_drain = rec_drain,
	.on_close = rec_close,
};

/* ---- a worker with one listener, and a connection on a socket pair ---- */

#define LIMIT (16 * 1024)

struct rig {
	struct sock_server *srv;
	struct sock__worker *w;
	struct sock__listener *l;
	struct sock_conn *c;
	int peer; /* the test's end */
};

static void rig_new(struct rig *r, const struct sock_server_config *extra)
{
	struct sock_server_config cfg = { .output_limit = LIMIT };
	struct sock pair[2], lis;
	struct sock_addr peer;

	memset(&fake, 0, sizeof(fake));
	if (extra)
		cfg = *extra;
	cfg.engine = SOCK_ENGINE_EPOLL;
	CHECK_OK(sock_server_new(&r->srv, &cfg));
	r->w = &r->srv->workers[0];
	/* The loop keeps epoll for its clock and timers; connections meet
	 * the fake. */
	fake_engine = *r->w->loop->eng;
	fake_engine.conn_start = fake_conn_start;
	fake_engine.conn_reading = fake_conn_reading;
	fake_engine.conn_want_room = fake_conn_want_room;
	fake_engine.conn_close = fake_conn_close;
	r->w->loop->eng = &fake_engine;
	CHECK_OK(sock_listen(&lis, SOCK_STREAM, "127.0.0.1:0", 0, 0));
	CHECK_OK(sock__listener_attach(r->w, &svc, &lis, 0));
	r->l = r->w->lis[0];
	CHECK_OK(sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0));
	CHECK_INT(fcntl(pair[0].fd, F_SETFL, O_NONBLOCK | O_RDWR), ==, 0);
	r->peer = pair[1].fd;
	memset(&peer, 0, sizeof(peer));
	CHECK(sock__worker_conn_begin(r->w));
	sock__conn_open(r->l, pair[0].fd, &peer);
	/* The connection is the worker's newest. */
	r->c = sock__list_is_empty(&r->w->conns)
		       ? NULL
		       : sock__container_of(r->w->conns.prev, struct sock_conn,
					    all);
}

/* End of batch: pending connections are finished. */
static void rig_batch(struct rig *r)
{
	sock__conn_flush_pending(r->w);
}

static void rig_free(struct rig *r)
{
	close(r->peer);
	CHECK_INT(r->w->nconns, ==, 0);
	r->w->loop->eng = &sock__engine_epoll;
	sock_server_free(r->srv);
}

/* Fill the connection's socket until it takes no more: the peer does
 * not read.  Returns how many bytes went in. */
static size_t fill_socket(struct rig *r)
{
	static char junk[4096];
	size_t total = 0;
	ssize_t n;

	while ((n = send(r->c->fd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
	CHECK(errno == EAGAIN);
	return total;
}

/* Bytes sent on the connection since the last call. */
static size_t sent_since(struct rig *r)
{
	static uint64_t last;
	size_t n;

	if (r->c->bytes_out < last)
		last = 0;
	n = (size_t)(r->c->bytes_out - last);
	last = r->c->bytes_out;
	return n;
}

/* Read and drop n bytes at the peer. */
static void drain_peer(struct rig *r, size_t n)
{
	char buf[4096];
	ssize_t got;

	while (n) {
		got = read(r->peer, buf, n < sizeof(buf) ? n : sizeof(buf));
		CHECK_INT(got, >, 0);
		n -= (size_t)got;
	}
}

/* ---- opening ---- */

/* A new connection: on_open, then the engine starts it, reading. */
static void open_calls_on_open_then_starts_reading(void)
{
	struct rig r;

	rig_new(&r, NULL);
	CHECK(r.c != NULL);
	CHECK_INT(svc_rec.opens, ==, 1);
	CHECK_INT(fake.starts, ==, 1);
	CHECK(fake.wants_input);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_OPEN);
	CHECK(r.c->flags & SOCK__CONN_STARTED);
	sock_conn_abort(r.c, -ECONNRESET);
	rig_batch(&r);
	CHECK_INT(svc_rec.closes, ==, 1);
	CHECK_INT(svc_rec.close_err, ==, -ECONNRESET);
	CHECK_INT(fake.closes, ==, 1);
	rig_free(&r);
}

/* A time server: on_open sends and closes; the peer never sent a byte,
 * so the connection ends at once, without ever meeting the engine. */
static void closed_in_on_open_never_starts(void)
{
	struct rig r;
	char buf[8];

	svc_rec.on_open_send = "time";
	svc_rec.close_on_open = true;
	rig_new(&r, NULL);
	CHECK_INT(fake.starts, ==, 0);
	rig_batch(&r);
	CHECK_INT(svc_rec.closes, ==, 1);
	CHECK_INT(svc_rec.close_err, ==, 0);
	CHECK_INT(read(r.peer, buf, sizeof(buf)), ==, 4);
	CHECK(memcmp(buf, "time", 4) == 0);
	CHECK_INT(read(r.peer, buf, sizeof(buf)), ==, 0);
	rig_free(&r);
}

/* ---- output ---- */

/* What the socket refuses is queued, room is asked for once, and the
 * queue goes out in order when the engine reports room; on_drain
 * follows, once. */
static void refused_output_is_queued_and_sent_in_order(void)
{
	struct rig r;
	size_t filled;
	char buf[16];

	rig_new(&r, NULL);
	filled = fill_socket(&r);
	CHECK_OK(sock_conn_send(r.c, "abc", 3));
	CHECK_OK(sock_conn_send(r.c, "def", 3));
	CHECK(sock__conn_output_pending(r.c));
	CHECK_INT(sock__conn_output_len(r.c), ==, 6);
	CHECK_INT(fake.rooms, ==, 1);
	CHECK(r.c->flags & SOCK__CONN_WANT_DRAIN);
	/* Room, but none really: nothing moves, room is asked again. */
	sock__conn_writable(r.c);
	CHECK_INT(sock__conn_output_len(r.c), ==, 6);
	CHECK_INT(fake.rooms, ==, 2);
	CHECK_INT(svc_rec.drains, ==, 0);
	drain_peer(&r, filled);
	sock__conn_writable(r.c);
	CHECK(!sock__conn_output_pending(r.c));
	CHECK_INT(svc_rec.drains, ==, 1);
	CHECK_INT(read(r.peer, buf, sizeof(buf)), ==, 6);
	CHECK(memcmp(buf, "abcdef", 6) == 0);
	CHECK_INT(r.c->bytes_out, ==, 6); /* fill_socket went around it */
	sock_conn_abort(r.c, 0);
	rig_batch(&r);
	rig_free(&r);
}

/* Flow control: a queue at the output limit stops reading; once it is
 * sent, reading resumes. */
static void full_queue_stops_reading_until_sent(void)
{
	static char big[LIMIT];
	struct rig r;
	size_t filled;

	rig_new(&r, NULL);
	filled = fill_socket(&r);
	CHECK_OK(sock_conn_send(r.c, big, sizeof(big) - 1));
	CHECK(!sock_conn_is_full(r.c));
	CHECK(fake.wants_input);
	CHECK_OK(sock_conn_send(r.c, big, 1));
	CHECK(sock_conn_is_full(r.c));
	CHECK(!fake.wants_input);
	CHECK(!sock__conn_wants_input(r.c));
	drain_peer(&r, filled);
	while (sock__conn_output_pending(r.c)) {
		sock__conn_writable(r.c);
		drain_peer(&r, sent_since(&r));
	}
	CHECK(fake.wants_input);
	CHECK_INT(svc_rec.drains, ==, 1);
	sock_conn_abort(r.c, 0);
	rig_batch(&r);
	rig_free(&r);
}

/* A producer that ignores sock_conn_is_full is closed with -ENOBUFS
 * past four times the limit and one receive. */
static void producer_past_the_hard_limit_is_closed(void)
{
	static char big[LIMIT];
	struct rig r;
	int i, err = 0;

	rig_new(&r, NULL);
	fill_socket(&r);
	for (i = 0; i < 4 + SOCK__RECV_MAX / LIMIT + 1 && !err; i++)
		err = sock_conn_send(r.c, big, sizeof(big));
	CHECK_ERR(err, -ENOBUFS);
	CHECK_INT(i, ==, 4 + SOCK__RECV_MAX / LIMIT + 1);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_PENDING);
	CHECK_ERR(sock_conn_send(r.c, "x", 1), -ENOBUFS);
	rig_batch(&r);
	CHECK_INT(svc_rec.closes, ==, 1);
	CHECK_ERR(svc_rec.close_err, -ENOBUFS);
	rig_free(&r);
}

/* sock_conn_send_some sends what the socket takes and queues nothing;
 * short, it asks for room and owes on_drain. */
static void send_some_queues_nothing(void)
{
	static char big[256 * 1024];
	struct rig r;
	ssize_t n;

	rig_new(&r, NULL);
	n = sock_conn_send_some(r.c, big, sizeof(big));
	CHECK_INT(n, >, 0);
	CHECK_INT(n, <, (ssize_t)sizeof(big));
	CHECK(!sock__conn_output_pending(r.c));
	CHECK_INT(fake.rooms, ==, 1);
	CHECK_INT(sock_conn_send_some(r.c, big, sizeof(big)), ==, 0);
	CHECK_INT(fake.rooms, ==, 1);
	drain_peer(&r, (size_t)n);
	sock__conn_writable(r.c);
	CHECK_INT(svc_rec.drains, ==, 1);
	sock_conn_abort(r.c, 0);
	rig_batch(&r);
	rig_free(&r);
}

/* ---- closing ---- */

/* Close with output queued: CLOSING until it is sent, then the write
 * side is shut and input drained (LINGER) until the peer closes; then
 * PENDING, and after the batch on_close(0) and DEAD. */
static void close_with_output_flushes_then_lingers(void)
{
	struct rig r;
	size_t filled;
	char buf[16];

	rig_new(&r, NULL);
	sock__conn_received(r.c, "hi", 2);
	filled = fill_socket(&r);
	CHECK_OK(sock_conn_send(r.c, "bye", 3));
	sock_conn_close(r.c);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_CLOSING);
	CHECK_ERR(sock_conn_send(r.c, "more", 4), -EPIPE);
	/* Input is dropped while closing. */
	sock__conn_received(r.c, "ignored", 7);
	CHECK_INT(svc_rec.got, ==, 2);
	drain_peer(&r, filled);
	sock__conn_writable(r.c);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_LINGER);
	CHECK(fake.wants_input); /* draining the peer's input */
	CHECK_INT(read(r.peer, buf, sizeof(buf)), ==, 3);
	CHECK_INT(read(r.peer, buf, sizeof(buf)), ==, 0); /* write side shut */
	sock__conn_received(r.c, NULL, 0);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_PENDING);
	CHECK_INT(svc_rec.closes, ==, 0);
	rig_batch(&r);
	CHECK_INT(svc_rec.closes, ==, 1);
	CHECK_INT(svc_rec.close_err, ==, 0);
	CHECK_INT(svc_rec.drains, ==, 0); /* closing: on_drain is not owed */
	rig_free(&r);
}

/* The peer ends its side while output is queued: reading stops, and the
 * connection closes once the queue is sent, without lingering. */
static void peer_end_with_output_closes_after_the_flush(void)
{
	struct rig r;
	size_t filled;

	rig_new(&r, NULL);
	filled = fill_socket(&r);
	CHECK_OK(sock_conn_send(r.c, "last", 4));
	sock__conn_received(r.c, NULL, 0);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_CLOSING);
	CHECK(!fake.wants_input);
	drain_peer(&r, filled);
	sock__conn_writable(r.c);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_PENDING);
	rig_batch(&r);
	CHECK_INT(svc_rec.closes, ==, 1);
	CHECK_INT(svc_rec.close_err, ==, 0);
	rig_free(&r);
}

/* Failures in any phase end the connection once, with the first error
 * given; later ones do not replace it. */
static void first_error_is_the_one_reported(void)
{
	struct rig r;

	rig_new(&r, NULL);
	sock__conn_failed(r.c, -ECONNRESET);
	sock__conn_failed(r.c, -ETIMEDOUT);
	sock_conn_abort(r.c, -ESHUTDOWN);
	sock_conn_close(r.c);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_PENDING);
	/* Input and room after the failure change nothing. */
	sock__conn_received(r.c, "late", 4);
	sock__conn_writable(r.c);
	CHECK_INT(svc_rec.got, ==, 0);
	rig_batch(&r);
	CHECK_INT(svc_rec.closes, ==, 1);
	CHECK_ERR(svc_rec.close_err, -ECONNRESET);
	CHECK_INT(fake.closes, ==, 1);
	rig_free(&r);
}

/* Linger is bounded: 2 s after the write side was shut, the connection
 * ends even if the peer never closes. */
static void linger_ends_after_two_seconds(void)
{
	struct rig r;

	rig_new(&r, NULL);
	sock__conn_received(r.c, "x", 1);
	sock_conn_close(r.c);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_LINGER);
	r.w->loop->now_ms += SOCK__LINGER_MS - 1;
	sock__conn_check_timeouts(r.w);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_LINGER);
	r.w->loop->now_ms += 1;
	sock__conn_check_timeouts(r.w);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_PENDING);
	rig_batch(&r);
	CHECK_INT(svc_rec.close_err, ==, 0);
	rig_free(&r);
}

/* Idle timeout: no byte either way for the idle time ends it with
 * -ETIMEDOUT; activity moves the deadline. */
static void idle_connection_times_out(void)
{
	struct sock_server_config cfg = { .output_limit = LIMIT,
					  .idle_timeout_ms = 1000 };
	struct rig r;

	rig_new(&r, &cfg);
	r.w->loop->now_ms += 900;
	sock__conn_received(r.c, "x", 1);
	r.w->loop->now_ms += 900;
	sock__conn_check_timeouts(r.w);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_OPEN);
	r.w->loop->now_ms += 100;
	sock__conn_check_timeouts(r.w);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_PENDING);
	rig_batch(&r);
	CHECK_ERR(svc_rec.close_err, -ETIMEDOUT);
	rig_free(&r);
}

/* The stop's grace is over: every connection ends with -ESHUTDOWN, but a
 * lingering one (its reply sent) ends cleanly. */
static void abort_all_spares_lingering_connections_the_error(void)
{
	struct rig r;

	rig_new(&r, NULL);
	sock__conn_received(r.c, "x", 1);
	sock_conn_close(r.c);
	CHECK_INT(r.c->phase, ==, SOCK__CONN_LINGER);
	sock__conn_abort_all(r.w, -ESHUTDOWN);
	rig_batch(&r);
	CHECK_INT(svc_rec.close_err, ==, 0);
	rig_free(&r);
}

/* An echo handler beside the core: bytes come back in order, counted
 * both ways in the close event. */
static void echo_round_trip_counts_bytes(void)
{
	struct rig r;
	char buf[16];

	rig_new(&r, NULL);
	svc_rec.echo = true;
	sock__conn_received(r.c, "hello", 5);
	CHECK_INT(read(r.peer, buf, sizeof(buf)), ==, 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_INT(r.c->bytes_in, ==, 5);
	CHECK_INT(r.c->bytes_out, ==, 5);
	sock_conn_abort(r.c, 0);
	rig_batch(&r);
	rig_free(&r);
}

static const struct test tests[] = {
	TEST(open_calls_on_open_then_starts_reading),
	TEST(closed_in_on_open_never_starts),
	TEST(refused_output_is_queued_and_sent_in_order),
	TEST(full_queue_stops_reading_until_sent),
	TEST(producer_past_the_hard_limit_is_closed),
	TEST(send_some_queues_nothing),
	TEST(close_with_output_flushes_then_lingers),
	TEST(peer_end_with_output_closes_after_the_flush),
	TEST(first_error_is_the_one_reported),
	TEST(linger_ends_after_two_seconds),
	TEST(idle_connection_times_out),
	TEST(abort_all_spares_lingering_connections_the_error),
	TEST(echo_round_trip_counts_bytes),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

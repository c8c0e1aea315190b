/* SPDX-License-Identifier: MIT */
/* streams_fuzz.c -- fuzz target: echo, discard, daytime, time, chargen on TCP */

/*
 * One connection to one of the five services, driven in memory (the
 * fake server of fake_server.c): the input picks the service, the
 * socket's room and the output limit, then a list of the peer's doings
 * (send bytes, read some, read all, end its side, reset, let time pass).
 *
 * Invariants, each service's RFC:
 *  - echo (862): the output is exactly the input the service took, in
 *    order, unless a send failed (the queue passed four times the output
 *    limit): then a prefix of it, and the connection is closing;
 *  - discard (863): no output, and the connection never closed by it;
 *  - daytime (867): one ctime() line with CR LF, sent at once, then the
 *    close (unless the line overflows a tiny output limit's queue: then
 *    the server closes); input changes nothing;
 *  - time (868): 4 bytes, the clock's time, then the close;
 *  - chargen (864): the pattern from its first byte, with no byte lost
 *    or repeated however the peer reads; the service fills whatever room
 *    the socket has while the connection is open (on_drain resumes it),
 *    and queues nothing.
 */

#include "fake_server.h"
#include "pattern.h"
#include "services.h"

#include <errno.h>

/* How much chargen output one input may ask the peer to read. */
#define CHARGEN_READ_MAX (1u << 20)

struct run {
	struct sock_conn c;
	const struct service *svc;
	unsigned char *taken; /* the input the service took */
	size_t taken_len;
	time_t t0, t1; /* the clock around the open */
};

static void take(struct run *r, const uint8_t *p, size_t len)
{
	r->taken = realloc(r->taken, r->taken_len + len + 1);
	FUZZ_CHECK(r->taken, "out of memory");
	memcpy(r->taken + r->taken_len, p, len);
	r->taken_len += len;
}

/* What must hold after every event. */
static void check(struct run *r)
{
	struct sock_conn *c = &r->c;
	const char *name = r->svc->name;

	FUZZ_CHECK(c->queued <= 4 * c->limit, "%s queued %zu", name, c->queued);
	if (!strcmp(name, "echo")) {
		FUZZ_CHECK(c->out_len <= r->taken_len &&
				   (c->out_len == 0 ||
				    memcmp(c->out, r->taken, c->out_len) == 0),
			   "echo sent bytes it did not take");
		FUZZ_CHECK(c->out_len == r->taken_len || c->send_failed,
			   "echo lost %zu bytes", r->taken_len - c->out_len);
		FUZZ_CHECK(!c->send_failed || c->closing, "echo");
	} else if (!strcmp(name, "discard")) {
		FUZZ_CHECK(c->out_len == 0, "discard sent %zu bytes",
			   c->out_len);
		FUZZ_CHECK(!c->aborted && (!c->closing || c->eof || c->err),
			   "discard closed by itself");
	} else if (!strcmp(name, "daytime")) {
		/* A line longer than four times the output limit does not
		 * fit the queue: the send fails and the server closes. */
		FUZZ_CHECK(c->send_failed ||
				   is_daytime_line(c->out, c->out_len),
			   "daytime sent %zu bytes, not a line", c->out_len);
		FUZZ_CHECK(c->closing, "daytime did not close");
	} else if (!strcmp(name, "time")) {
		FUZZ_CHECK(c->out_len == 4 &&
				   is_rfc868_near(c->out, r->t0, r->t1, 1),
			   "time sent %zu bytes", c->out_len);
		FUZZ_CHECK(c->closing, "time did not close");
	} else {
		FUZZ_CHECK(c->queued == 0, "chargen queued %zu", c->queued);
		FUZZ_CHECK(c->closing || c->room == 0,
			   "chargen left room for %zu bytes unused", c->room);
	}
}

/* Chargen's output is checked as it goes rather than kept. */
static void chargen_sink(struct sock_conn *c, const void *data, size_t len)
{
	FUZZ_CHECK(is_rfc864(data, len, c->out_len),
		   "chargen left the pattern after byte %zu", c->out_len);
}

static void play(struct run *r, struct fuzz_in *in)
{
	struct sock_conn *c = &r->c;
	const uint8_t *p;
	size_t len, n;

	while (fuzz_left(in) && !c->dead) {
		switch (fuzz_u8(in) % 6) {
		case 0:
		case 1:
			p = fuzz_bytes(in, fuzz_u16(in) % 4096 + 1, &len);
			n = c->closing ? 0 : len;
			if (fake_input(c, p, len))
				take(r, p, n);
			break;
		case 2:
			n = (size_t)fuzz_u16(in) * (fuzz_u8(in) % 64 + 1);
			if (c->read + n <= CHARGEN_READ_MAX)
				fake_peer_read(c, n);
			break;
		case 3:
			if (c->out_len - c->read <= CHARGEN_READ_MAX)
				fake_peer_read(c, SIZE_MAX);
			break;
		case 4:
			fake_peer_eof(c);
			break;
		default:
			if (fuzz_u8(in) & 1)
				fake_peer_reset(c, -ECONNRESET);
			else
				c->loop->now_ms += fuzz_u16(in);
			break;
		}
		check(r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "echo", "discard", "daytime",
					     "time", "chargen" };
	struct fuzz_in in = { data, size };
	struct sock_loop loop = { .now_ms = 1000 };
	struct sock_service svc;
	struct sock_addr peer;
	struct run r = { 0 };
	size_t room, limit;

	r.svc = services_find(names[fuzz_u8(&in) % 5]);
	room = (size_t)fuzz_u16(&in) * (fuzz_u8(&in) % 8 + 1);
	limit = (size_t)fuzz_u16(&in) * 4 + 1;
	fake_peer(&in, &peer, 4242);
	svc = *r.svc->svc;
	svc.data = fake_shared_state(r.svc);
	fake_conn_init(&r.c, &svc, &loop, &peer, room, limit);
	if (!strcmp(r.svc->name, "chargen"))
		r.c.sink = chargen_sink;
	r.t0 = time(NULL);
	fake_open(&r.c);
	r.t1 = time(NULL);
	check(&r);
	play(&r, &in);
	if (!r.c.dead)
		fake_peer_reset(&r.c, -ECONNRESET);
	FUZZ_CHECK(r.c.dead, "the connection did not end");
	fake_conn_release(&r.c);
	free(r.taken);
	return 0;
}

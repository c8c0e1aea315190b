/* SPDX-License-Identifier: MIT */
/* datagrams_fuzz.c -- fuzz target: each UDP service's datagram handler */

/*
 * One datagram to echo, discard, daytime, time or chargen, driven in
 * memory: the input picks the service, the sender's address, the loop's
 * clock, the server's largest datagram, the room the amplification bound
 * leaves (sock_dgram_room), then the datagram itself.  (The
 * server's guard, which decides whether a datagram reaches a service at
 * all, has a target of its own.)
 *
 * Invariants: each service but discard asks for exactly one reply (the
 * server refuses it when it is too long or the sender unnamed), and
 *  - echo (862): the datagram, byte for byte, an empty one included;
 *  - discard (863): none;
 *  - daytime (867): one ctime() line with CR LF;
 *  - time (868): 4 bytes, the clock's time;
 *  - chargen (864): 0 to 512 bytes of the pattern from the start of one
 *    of its lines, never more than sock_dgram_room() allows.
 */

#include "fake_server.h"
#include "pattern.h"
#include "services.h"

#include <stddef.h>

static bool is_chargen_reply(const unsigned char *p, size_t len)
{
	unsigned int line;

	if (len > 512)
		return false;
	if (len == 0)
		return true;
	/* Line k starts with the k-th printable character. */
	line = (unsigned int)(p[0] - 0x20);
	return p[0] >= 0x20 && line < 95 && is_rfc864(p, len, line * 74ull);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "echo", "discard", "daytime",
					     "time", "chargen" };
	struct fuzz_in in = { data, size };
	const struct service *s = services_find(names[fuzz_u8(&in) % 5]);
	struct sock_loop loop;
	struct sock_service svc;
	struct sock_addr peer;
	struct sock_dgram d;
	const uint8_t *msg;
	size_t max, room, len, expect;
	time_t t0, t1;

	fake_peer(&in, &peer, fuzz_u16(&in));
	loop.now_ms = (int64_t)((uint64_t)fuzz_u32(&in) << 16 | fuzz_u16(&in));
	max = fuzz_u8(&in) & 1 ? 65536 : fuzz_u16(&in);
	room = fuzz_u8(&in) & 1 ? max : fuzz_u16(&in);
	msg = fuzz_bytes(&in, in.n, &len);
	svc = *s->svc;
	svc.data = fake_shared_state(s);
	fake_dgram_init(&d, &svc, &loop, &peer, max);
	d.room = room;
	t0 = time(NULL);
	svc.on_datagram(&d, msg, len);
	t1 = time(NULL);

	expect = strcmp(s->name, "discard") ? 1 : 0;
	FUZZ_CHECK(d.replies == expect, "%s: %u replies", s->name, d.replies);
	if (d.replies && !strcmp(s->name, "echo"))
		FUZZ_CHECK(d.reply_len[0] == len &&
				   (len == 0 ||
				    memcmp(d.reply[0], msg, len) == 0),
			   "echo changed the datagram");
	if (d.replies && !strcmp(s->name, "daytime"))
		FUZZ_CHECK(is_daytime_line(d.reply[0], d.reply_len[0]), "daytim"
									"e: "
									"not a "
									"line");
	if (d.replies && !strcmp(s->name, "time"))
		FUZZ_CHECK(d.reply_len[0] == 4 &&
				   is_rfc868_near(d.reply[0], t0, t1, 1),
			   "time: %zu bytes", d.reply_len[0]);
	if (d.replies && !strcmp(s->name, "chargen"))
		FUZZ_CHECK(is_chargen_reply(d.reply[0], d.reply_len[0]) &&
				   d.reply_len[0] <= sock_dgram_room(&d),
			   "chargen: %zu bytes off the pattern or past the "
			   "room of %zu",
			   d.reply_len[0], sock_dgram_room(&d));
	fake_dgram_release(&d);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* replies_fuzz.c -- fuzz target: what sock time and sock daytime read */

/*
 * The input is the length of a time reply (a byte), its 4 bytes, the
 * local clock (8 bytes, taken into the years 1970 to about 36800), then a
 * daytime reply.  Invariants: reply_time() takes 4 bytes and nothing
 * else; the time it gives is the one that the 4 bytes encode (seconds
 * since 1900 modulo 2^32) and lies within 2^31 seconds of the clock;
 * reply_daytime_line() leaves out a trailing LF, then a trailing CR, and
 * nothing else; neither reads a byte outside its reply.
 */

#include <sock.h>

#include "reply.h"

#include "fuzz.h"

#include <errno.h>

#define EPOCH_1900 2208988800LL

static void check_time(struct fuzz_in *in)
{
	size_t len = fuzz_u8(in) % 8, got;
	const uint8_t *p = fuzz_bytes(in, 4, &got);
	uint64_t clock = (uint64_t)fuzz_u32(in) << 32 | fuzz_u32(in);
	time_t now = (time_t)(clock % (1ULL << 40)), t = 0;
	unsigned char *reply = malloc(len ? len : 1);
	uint32_t value;
	int r;

	FUZZ_CHECK(reply, "out of memory");
	memset(reply, 0, len);
	memcpy(reply, p, got < len ? got : len);
	r = reply_time(reply, len, now, &t);
	if (len != 4) {
		FUZZ_CHECK(r == -EBADMSG, "%zu bytes read as a time", len);
		free(reply);
		return;
	}
	FUZZ_CHECK(r == 0, "4 bytes refused: %d", r);
	value = sock_get_be32(reply);
	FUZZ_CHECK((uint32_t)((int64_t)t + EPOCH_1900) == value,
		   "%u read as %lld", value, (long long)t);
	FUZZ_CHECK((int64_t)t - (int64_t)now <= 0x80000000LL &&
			   (int64_t)now - (int64_t)t <= 0x80000000LL,
		   "%u read as %lld, %lld from the clock %lld", value,
		   (long long)t, (long long)(t - now), (long long)now);
	free(reply);
}

static void check_daytime(struct fuzz_in *in)
{
	size_t len, n, want;
	const uint8_t *p = fuzz_bytes(in, in->n, &len);
	char *reply = malloc(len ? len : 1);

	FUZZ_CHECK(reply, "out of memory");
	memcpy(reply, p, len);
	n = reply_daytime_line(reply, len);
	want = len;
	if (want && reply[want - 1] == '\n')
		want--;
	if (want && reply[want - 1] == '\r')
		want--;
	FUZZ_CHECK(n == want, "line of %zu bytes from %zu, want %zu", n, len,
		   want);
	free(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	check_time(&in);
	check_daytime(&in);
	return 0;
}

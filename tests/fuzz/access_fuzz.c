/* SPDX-License-Identifier: MIT */
/* access_fuzz.c -- fuzz target: the allow/deny ranges' parser and matcher */

/*
 * The input is 16 bytes of a peer's address (as sock__host_key writes
 * it) and then a range's text, up to a NUL.  sock__access_parse() must
 * agree with a reading of the grammar done here another way -- an
 * address inet_pton(3) takes (IPv6 also in brackets), an optional "/"
 * and one to three digits up to 32 or 128, no bit set past the prefix,
 * ::ffff:a.b.c.d/96+ read as IPv4 -- and sock__access_match() with a
 * bit-by-bit comparison, an IPv6 range never holding a v4-mapped peer.
 */

#include "server/core.h"

#include "fuzz.h"

#include <arpa/inet.h>
#include <errno.h>

static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

static bool bit(const uint8_t *a, unsigned int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* The range text as this target reads it; false when it is not one. */
static bool reference(const char *text, struct sock__rule *want)
{
	char host[128];
	const char *slash = strchr(text, '/'), *p;
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	unsigned int max, bits, i;
	struct in_addr a4;
	bool v4;

	memset(want, 0, sizeof(*want));
	if (len == 0 || len >= sizeof(host))
		return false;
	memcpy(host, text, len);
	host[len] = '\0';
	v4 = inet_pton(AF_INET, host, &a4) == 1;
	if (v4) {
		memcpy(want->addr, mapped, 12);
		memcpy(want->addr + 12, &a4, 4);
	} else if (host[0] == '[' && host[len - 1] == ']' && len > 2) {
		host[len - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, want->addr) != 1)
			return false;
	} else if (inet_pton(AF_INET6, host, want->addr) != 1) {
		return false;
	}
	max = v4 ? 32 : 128;
	bits = max;
	if (slash) {
		p = slash + 1;
		if (!*p || strlen(p) > 3)
			return false;
		for (bits = 0; *p; p++) {
			if (*p < '0' || *p > '9')
				return false;
			bits = bits * 10 + (unsigned int)(*p - '0');
		}
		if (bits > max)
			return false;
	}
	want->bits = (uint8_t)(v4 ? 96 + bits : bits);
	for (i = want->bits; i < 128; i++)
		if (bit(want->addr, i))
			return false;
	want->v6 = !v4 &&
		   !(want->bits >= 96 && memcmp(want->addr, mapped, 12) == 0);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct sock__rule got, want;
	uint8_t key[16] = { 0 };
	const uint8_t *p;
	char text[256];
	size_t len, i;
	bool ok, match;
	int err;

	p = fuzz_bytes(&in, 16, &len);
	memcpy(key, p, len);
	/* Half the time a v4-mapped peer, where the families meet. */
	if (len && (key[0] & 1))
		memcpy(key, mapped, 12);
	p = fuzz_bytes(&in, sizeof(text) - 1, &len);
	memcpy(text, p, len);
	text[len] = '\0';

	err = sock__access_parse(text, &got);
	ok = reference(text, &want);
	FUZZ_CHECK(err == 0 || err == -EINVAL, "%d for '%s'", err, text);
	FUZZ_CHECK((err == 0) == ok, "'%s': parse %d, reference %s", text, err,
		   ok ? "a range" : "not one");
	if (!ok)
		return 0;
	FUZZ_CHECK(!memcmp(got.addr, want.addr, 16) && got.bits == want.bits &&
			   got.v6 == want.v6 && !got.deny,
		   "'%s': /%u v6 %d, reference /%u v6 %d", text, got.bits,
		   got.v6, want.bits, want.v6);
	match = !(want.v6 && memcmp(key, mapped, 12) == 0);
	for (i = 0; match && i < want.bits; i++)
		match = bit(key, (unsigned int)i) ==
			bit(want.addr, (unsigned int)i);
	FUZZ_CHECK(sock__access_match(&got, key) == match, "'%s': match %d",
		   text, !match);
	/* The range's own address is always in it. */
	if (!(got.v6 && memcmp(got.addr, mapped, 12) == 0))
		FUZZ_CHECK(sock__access_match(&got, got.addr),
			   "'%s' misses its own address", text);
	return 0;
}

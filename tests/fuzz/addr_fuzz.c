/* SPDX-License-Identifier: MIT */
/* addr_fuzz.c -- fuzz target: whatever sock_addr_parsen() accepts round-trips */

/*
 * Invariant: text that parses is printed by sock_addr_format() as text
 * that parses back to the same address (same family, same length, same
 * bytes of the sockaddr), and printing that gives the same text again.
 * Text that does not parse is SOCK_EBADADDR or -ENODEV and leaves the
 * address cleared.  A buffer too small gives -ENOSPC and the printed
 * text cut, NUL-terminated.
 */

#include <sock.h>

#include "fuzz.h"

#include <errno.h>

static bool is_cleared(const struct sock_addr *a)
{
	static const struct sock_addr zero;

	return memcmp(a, &zero, sizeof(zero)) == 0;
}

/* Printing into every smaller buffer cuts the text and says so. */
static void check_small_buffers(const struct sock_addr *a, const char *text,
				size_t len)
{
	char small[SOCK_ADDR_STRLEN];
	size_t size;

	FUZZ_CHECK(sock_addr_format(a, small, 0) == -ENOSPC, "size 0");
	for (size = 1; size <= len; size += 1 + size / 4) {
		memset(small, 'Z', sizeof(small));
		FUZZ_CHECK(sock_addr_format(a, small, size) == -ENOSPC,
			   "size %zu for \"%s\"", size, text);
		FUZZ_CHECK(memcmp(small, text, size - 1) == 0 &&
				   small[size - 1] == '\0' &&
				   small[size] == 'Z',
			   "size %zu for \"%s\"", size, text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[SOCK_ADDR_STRLEN], again[SOCK_ADDR_STRLEN], *copy;
	struct sock_addr a, b;
	int r, n;

	r = sock_addr_parsen(&a, (const char *)data, size);
	if (r) {
		FUZZ_CHECK(r == SOCK_EBADADDR || r == -ENODEV, "parse: %d", r);
		FUZZ_CHECK(is_cleared(&a), "address not cleared on failure");
		return 0;
	}
	FUZZ_CHECK(!memchr(data, '\0', size), "text with a NUL parsed");
	/* Without a NUL, sock_addr_parse() reads the same text the same. */
	copy = malloc(size + 1);
	FUZZ_CHECK(copy, "out of memory");
	memcpy(copy, data, size);
	copy[size] = '\0';
	FUZZ_CHECK(sock_addr_parse(&b, copy) == 0 && b.len == a.len &&
			   memcmp(&a, &b, sizeof(a)) == 0,
		   "parse and parsen differ on \"%s\"", copy);
	FUZZ_CHECK(a.len > 0 && a.len <= sizeof(a.u), "len %u",
		   (unsigned int)a.len);

	n = sock_addr_format(&a, text, sizeof(text));
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(text), "format of \"%s\": %d",
		   copy, n);
	r = sock_addr_parse(&b, text);
	FUZZ_CHECK(r == 0, "\"%s\" printed as \"%s\", which does not parse: %d",
		   copy, text, r);
	FUZZ_CHECK(sock_addr_family(&b) == sock_addr_family(&a) &&
			   b.len == a.len && memcmp(&a.u, &b.u, a.len) == 0,
		   "\"%s\" printed as \"%s\", which reads as another address",
		   copy, text);
	FUZZ_CHECK(sock_addr_is_equal(&a, &b), "\"%s\" vs \"%s\"", copy, text);
	FUZZ_CHECK(sock_addr_format(&b, again, sizeof(again)) == n &&
			   strcmp(again, text) == 0,
		   "\"%s\" printed as \"%s\", then as \"%s\"", copy, text,
		   again);
	check_small_buffers(&a, text, (size_t)n);
	free(copy);
	return 0;
}

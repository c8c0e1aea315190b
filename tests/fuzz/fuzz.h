/* SPDX-License-Identifier: MIT */
/* fuzz.h -- what the libFuzzer targets share: invariant checks, input reading */

/*
 * Each target in tests/fuzz/ defines LLVMFuzzerTestOneInput() and checks
 * an invariant of the code it drives.  A broken invariant is reported on
 * standard error and ends the process with abort(), which libFuzzer
 * records as a crash with the input that caused it.
 */

#ifndef SOCK_FUZZ_H
#define SOCK_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken invariant and crash. */
#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr,                                        \
				"%s:%d: invariant broken: %s: ", __FILE__,     \
				__LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* The fuzzer's input, consumed from the front. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool fuzz_left(const struct fuzz_in *in)
{
	return in->n > 0;
}

/* The next byte, or 0 once the input is used up. */
static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t hi = fuzz_u16(in);

	return hi << 16 | fuzz_u16(in);
}

/* Up to max bytes (fewer when the input ends): *len receives the count. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t max,
					size_t *len)
{
	const uint8_t *p = in->p;

	*len = max < in->n ? max : in->n;
	in->p += *len;
	in->n -= *len;
	return p;
}

#endif /* SOCK_FUZZ_H */

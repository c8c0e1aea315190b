/* SPDX-License-Identifier: MIT */
/* json_check.h -- a strict JSON checker for the fuzz targets (RFC 8259) */

#ifndef SOCK_FUZZ_JSON_CHECK_H
#define SOCK_FUZZ_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The tokens of a checked document, in order.  JT_OBJECT and JT_ARRAY
 * open a container and JT_END closes the innermost one; an object's keys
 * are JT_STRING tokens with key set, each followed by its value.
 */
enum jtype {
	JT_NULL,
	JT_TRUE,
	JT_FALSE,
	JT_NUMBER,
	JT_STRING,
	JT_OBJECT,
	JT_ARRAY,
	JT_END,
};

struct jtok {
	enum jtype type;
	bool key;
	const char *raw; /* the token as it is in the text */
	size_t rawlen;
	char *str; /* a string's value in UTF-8, escapes decoded, with a
		      NUL after it (it may hold NULs too) */
	size_t len;
};

struct jdoc {
	struct jtok *tok;
	size_t n, cap;
	char *text; /* the strings' values, one after another */
	size_t tlen, tcap;
};

/* Flags of json_check(). */
enum {
	/* A \u escape of a lone surrogate (allowed by RFC 8259's grammar,
	 * "unpredictable" in its section 8.2) is an error. */
	JSON_NO_LONE_SURROGATES = 1 << 0,
};

/*
 * Check that text (len bytes) is exactly one JSON value as RFC 8259's
 * grammar defines it, with white space around it allowed, every string
 * valid UTF-8 (RFC 3629: no overlong form, no surrogate, nothing above
 * U+10FFFF), and at most max_depth arrays and objects open at once.
 * Returns true, with the tokens in *doc when doc is not NULL; or false
 * with *at the offset of the byte found bad.  A doc starts zeroed and is
 * used again by each call: the targets keep theirs (static) for the
 * next input, so that checking allocates nothing once warm.
 */
bool json_check(const char *text, size_t len, int max_depth, unsigned int flags,
		struct jdoc *doc, size_t *at);

#endif /* SOCK_FUZZ_JSON_CHECK_H */

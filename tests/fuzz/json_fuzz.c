/* SPDX-License-Identifier: MIT */
/* json_fuzz.c -- fuzz target: the sock program's JSON reader (cli/json.c) */

/*
 * Invariants of json_print_indented(): it accepts exactly the texts that
 * the strict checker in json_check.c accepts (RFC 8259, valid UTF-8, at
 * most JSON_DEPTH_MAX containers open); it writes nothing for a text it
 * refuses, and says where and why; for a text it accepts, it writes the
 * same tokens, byte for byte, laid out as Python's json.dumps(indent=4)
 * lays them out (rebuilt here from the tokens), followed by a newline;
 * and that output, read again, prints unchanged.
 */

#include "json.h"
#include "json_check.h"

#include "fuzz.h"

#include <errno.h>

struct text {
	char *p;
	size_t len, cap;
};

static void add(struct text *t, const void *s, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = 2 * (t->len + n) + 64;
		t->p = realloc(t->p, t->cap);
		FUZZ_CHECK(t->p, "out of memory");
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void newline(struct text *t, int depth)
{
	int i;

	add(t, "\n", 1);
	for (i = 0; i < depth; i++)
		add(t, "    ", 4);
}

/* Python's layout of the value starting at token i; returns the index
 * after it. */
static size_t layout(struct text *t, const struct jdoc *d, size_t i, int depth)
{
	const struct jtok *k = &d->tok[i];
	char close;
	bool first = true;

	if (k->type != JT_OBJECT && k->type != JT_ARRAY) {
		add(t, k->raw, k->rawlen);
		return i + 1;
	}
	close = k->type == JT_OBJECT ? '}' : ']';
	add(t, k->raw, 1);
	i++;
	if (d->tok[i].type == JT_END) {
		add(t, &close, 1);
		return i + 1;
	}
	while (d->tok[i].type != JT_END) {
		if (!first)
			add(t, ",", 1);
		first = false;
		newline(t, depth + 1);
		if (k->type == JT_OBJECT) {
			add(t, d->tok[i].raw, d->tok[i].rawlen);
			add(t, ": ", 2);
			i++;
		}
		i = layout(t, d, i, depth + 1);
	}
	newline(t, depth);
	add(t, &close, 1);
	return i + 1;
}

/* Run the reader; returns its code, the output in *out. */
static int print(const char *text, size_t len, char **out, size_t *outlen,
		 size_t *at, const char **why)
{
	FILE *f = open_memstream(out, outlen);
	int r;

	FUZZ_CHECK(f, "open_memstream");
	r = json_print_indented(text, len, f, at, why);
	fclose(f);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *why = NULL;
	char *out = NULL, *out2 = NULL;
	size_t outlen = 0, outlen2 = 0, at = SIZE_MAX, at2;
	static struct jdoc doc; /* kept for the next input */
	struct text want = { 0 };
	bool valid;
	int r;

	valid = json_check(text, size, JSON_DEPTH_MAX, 0, &doc, &at2);
	r = print(text, size, &out, &outlen, &at, &why);
	if (!valid) {
		FUZZ_CHECK(r == -EINVAL, "invalid JSON (bad at %zu) accepted",
			   at2);
		FUZZ_CHECK(outlen == 0, "%zu bytes written for invalid JSON",
			   outlen);
		FUZZ_CHECK(at <= size && why && *why, "at %zu of %zu", at,
			   size);
		free(out);
		return 0;
	}
	FUZZ_CHECK(r == 0, "valid JSON refused at %zu: %s", at, why);
	layout(&want, &doc, 0, 0);
	add(&want, "\n", 1);
	FUZZ_CHECK(outlen == want.len && memcmp(out, want.p, outlen) == 0,
		   "layout differs: got %zu bytes, want %zu", outlen, want.len);
	r = print(out, outlen, &out2, &outlen2, &at, &why);
	FUZZ_CHECK(r == 0 && outlen2 == outlen &&
			   memcmp(out, out2, outlen) == 0,
		   "output does not print unchanged");
	free(want.p);
	free(out);
	free(out2);
	return 0;
}

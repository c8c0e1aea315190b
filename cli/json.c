/* SPDX-License-Identifier: MIT */
/* json.c -- check JSON text and print it indented, as Python's json.dumps */

#include "json.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/*
 * A recursive-descent reader over the text that writes each token as it
 * goes.  It runs twice: first with out NULL, to check the whole text, then
 * to print it, so that invalid JSON prints nothing.
 */
struct json {
	const unsigned char *p, *start, *end;
	FILE *out;
	const char *why;
};

#define INDENT 4

static bool bad(struct json *j, const char *why)
{
	j->why = why;
	return false;
}

static void emit(struct json *j, const void *s, size_t len)
{
	if (j->out)
		fwrite(s, 1, len, j->out);
}

static void emit_newline(struct json *j, int depth)
{
	int i;

	if (!j->out)
		return;
	fputc('\n', j->out);
	for (i = 0; i < depth * INDENT; i++)
		fputc(' ', j->out);
}

static void skip_space(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool is_digit(const struct json *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

/*
 * The length of the UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 if it is not one.
 */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* One escape after a backslash: \" \\ \/ \b \f \n \r \t or \uXXXX. */
static bool escape(struct json *j)
{
	int i;

	if (j->p >= j->end)
		return bad(j, "unterminated string");
	if (*j->p && strchr("\"\\/bfnrt", *j->p)) {
		j->p++;
		return true;
	}
	if (*j->p != 'u')
		return bad(j, "invalid escape in string");
	j->p++;
	for (i = 0; i < 4; i++, j->p++)
		if (j->p >= j->end || !is_hex(*j->p))
			return bad(j, "invalid \\u escape in string");
	return true;
}

static bool string(struct json *j)
{
	const unsigned char *start = j->p++;
	size_t n;

	for (;;) {
		if (j->p >= j->end)
			return bad(j, "unterminated string");
		if (*j->p == '"')
			break;
		if (*j->p < 0x20)
			return bad(j, "control character in string");
		if (*j->p == '\\') {
			j->p++;
			if (!escape(j))
				return false;
			continue;
		}
		n = utf8_length(j->p, j->end);
		if (!n)
			return bad(j, "invalid UTF-8 in string");
		j->p += n;
	}
	j->p++;
	emit(j, start, (size_t)(j->p - start));
	return true;
}

static bool digits(struct json *j)
{
	if (!is_digit(j))
		return bad(j, "expected a digit");
	while (is_digit(j))
		j->p++;
	return true;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number(struct json *j)
{
	const unsigned char *start = j->p;

	if (*j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!digits(j))
		return false;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!digits(j))
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digits(j))
			return false;
	}
	emit(j, start, (size_t)(j->p - start));
	return true;
}

static bool literal(struct json *j, const char *word)
{
	size_t len = strlen(word);

	if ((size_t)(j->end - j->p) < len || memcmp(j->p, word, len))
		return bad(j, "expected a value");
	j->p += len;
	emit(j, word, len);
	return true;
}

static bool value(struct json *j, int depth);

/*
 * An object or an array: open is '{' or '['.  Python writes an empty one
 * as "{}" or "[]", and otherwise each member on a line of its own,
 * indented one level deeper than the brackets, with "," ending every
 * line but the last and ": " after each key.
 */
static bool container(struct json *j, int depth, char open)
{
	char close = open == '{' ? '}' : ']';

	if (depth >= JSON_DEPTH_MAX)
		return bad(j, "nested too deeply");
	j->p++;
	emit(j, &open, 1);
	skip_space(j);
	if (j->p < j->end && *j->p == close)
		goto out_close;
	for (;;) {
		emit_newline(j, depth + 1);
		skip_space(j);
		if (open == '{') {
			if (j->p >= j->end || *j->p != '"')
				return bad(j, "expected a string key");
			if (!string(j))
				return false;
			skip_space(j);
			if (j->p >= j->end || *j->p != ':')
				return bad(j, "expected ':'");
			j->p++;
			emit(j, ": ", 2);
		}
		if (!value(j, depth + 1))
			return false;
		skip_space(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			emit(j, ",", 1);
			continue;
		}
		if (j->p < j->end && *j->p == close)
			break;
		return bad(j, open == '{' ? "expected ',' or '}'"
					  : "expected ',' or ']'");
	}
	emit_newline(j, depth);
out_close:
	j->p++;
	emit(j, &close, 1);
	return true;
}

static bool value(struct json *j, int depth)
{
	skip_space(j);
	if (j->p >= j->end)
		return bad(j, "expected a value");
	switch (*j->p) {
	case '{':
	case '[':
		return container(j, depth, (char)*j->p);
	case '"':
		return string(j);
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	}
	if (*j->p == '-' || is_digit(j))
		return number(j);
	return bad(j, "expected a value");
}

static bool document(struct json *j)
{
	if (!value(j, 0))
		return false;
	skip_space(j);
	if (j->p != j->end)
		return bad(j, "extra data after the value");
	return true;
}

int json_print_indented(const char *text, size_t len, FILE *out, size_t *at,
			const char **why)
{
	struct json j = {
		.p = (const unsigned char *)text,
		.start = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
	};

	if (!document(&j)) {
		*at = (size_t)(j.p - j.start);
		*why = j.why;
		return -EINVAL;
	}
	j.p = j.start;
	j.out = out;
	document(&j);
	fputc('\n', out);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

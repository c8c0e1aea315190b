/* SPDX-License-Identifier: MIT */
/* json_check.c -- a strict JSON checker for the fuzz targets (RFC 8259) */

/*
 * Written apart from cli/json.c, and differently (a loop over an explicit
 * stack of open containers, UTF-8 checked by the code point's value
 * rather than by a table of byte ranges), so that the json target can
 * hold one against the other.
 */

#include "json_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What may come next. */
enum state {
	ST_VALUE,      /* a value: at the start, after ':', after ',' in [] */
	ST_FIRST_ITEM, /* after '[': a value or ']' */
	ST_FIRST_KEY,  /* after '{': a key or '}' */
	ST_KEY,	       /* after ',' in {}: a key */
	ST_COLON,      /* after a key */
	ST_NEXT,       /* after a value: ',' or the closing bracket, or the
			  end of the text when nothing is open */
};

struct checker {
	const unsigned char *p, *end;
	unsigned int flags;
	struct jdoc *doc;
	size_t start; /* where in doc->text the string being read begins */
};

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	*cap = 2 * need + 64;
	p = realloc(p, *cap * size);
	if (!p)
		abort();
	return p;
}

static bool add_token(struct checker *c, enum jtype type, bool key,
		      const unsigned char *raw, size_t rawlen)
{
	struct jdoc *d = c->doc;
	struct jtok *t;

	if (!d)
		return true;
	d->tok = grow(d->tok, &d->cap, d->n + 1, sizeof(*d->tok));
	t = &d->tok[d->n++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->key = key;
	t->raw = (const char *)raw;
	t->rawlen = rawlen;
	if (type == JT_STRING) {
		/* An offset for now: doc->text may still move. */
		t->str = (char *)(uintptr_t)c->start;
		t->len = d->tlen - c->start;
		d->text = grow(d->text, &d->tcap, d->tlen + 1, 1);
		d->text[d->tlen++] = '\0';
	}
	return true;
}

static void put_byte(struct checker *c, unsigned char b)
{
	struct jdoc *d = c->doc;

	if (!d)
		return;
	d->text = grow(d->text, &d->tcap, d->tlen + 1, 1);
	d->text[d->tlen++] = (char)b;
}

static void put_code_point(struct checker *c, uint32_t cp)
{
	if (cp < 0x80) {
		put_byte(c, (unsigned char)cp);
	} else if (cp < 0x800) {
		put_byte(c, (unsigned char)(0xc0 | cp >> 6));
		put_byte(c, (unsigned char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		put_byte(c, (unsigned char)(0xe0 | cp >> 12));
		put_byte(c, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		put_byte(c, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		put_byte(c, (unsigned char)(0xf0 | cp >> 18));
		put_byte(c, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
		put_byte(c, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		put_byte(c, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

/* One UTF-8 character at c->p, judged by the value it encodes. */
static bool utf8_char(struct checker *c, uint32_t *out)
{
	unsigned char b = c->p[0];
	uint32_t cp, min;
	size_t n, i;

	if (b < 0x80) {
		n = 1;
		cp = b;
		min = 0;
	} else if ((b & 0xe0) == 0xc0) {
		n = 2;
		cp = b & 0x1f;
		min = 0x80;
	} else if ((b & 0xf0) == 0xe0) {
		n = 3;
		cp = b & 0x0f;
		min = 0x800;
	} else if ((b & 0xf8) == 0xf0) {
		n = 4;
		cp = b & 0x07;
		min = 0x10000;
	} else {
		return false;
	}
	if ((size_t)(c->end - c->p) < n)
		return false;
	for (i = 1; i < n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (c->p[i] & 0x3f);
	}
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return false;
	c->p += n;
	*out = cp;
	return true;
}

static int hex_digit(unsigned char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

/* Four hex digits at c->p, after "\u". */
static bool hex4(struct checker *c, uint32_t *out)
{
	uint32_t v = 0;
	int i, d;

	if (c->end - c->p < 4)
		return false;
	for (i = 0; i < 4; i++) {
		d = hex_digit(c->p[i]);
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	c->p += 4;
	*out = v;
	return true;
}

/* "\u" and its digits are read; a surrogate pair takes the next escape. */
static bool unicode_escape(struct checker *c)
{
	uint32_t cp, lo;

	if (!hex4(c, &cp))
		return false;
	if (cp >= 0xd800 && cp <= 0xdbff && c->end - c->p >= 6 &&
	    c->p[0] == '\\' && c->p[1] == 'u') {
		const unsigned char *save = c->p;

		c->p += 2;
		if (hex4(c, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
			put_code_point(c, 0x10000 + ((cp - 0xd800) << 10) +
						  (lo - 0xdc00));
			return true;
		}
		c->p = save;
	}
	if (cp >= 0xd800 && cp <= 0xdfff) {
		if (c->flags & JSON_NO_LONE_SURROGATES)
			return false;
		cp = 0xfffd;
	}
	put_code_point(c, cp);
	return true;
}

static bool string(struct checker *c, bool key)
{
	static const char simple[] = "\"\\/bfnrt";
	static const char value[] = "\"\\/\b\f\n\r\t";
	const unsigned char *start = c->p++;
	const char *e;
	uint32_t cp;

	if (c->doc)
		c->start = c->doc->tlen;
	for (;;) {
		if (c->p >= c->end)
			return false;
		if (*c->p == '"')
			break;
		if (*c->p < 0x20)
			return false;
		if (*c->p != '\\') {
			if (!utf8_char(c, &cp))
				return false;
			put_code_point(c, cp);
			continue;
		}
		if (++c->p >= c->end)
			return false;
		if (*c->p == 'u') {
			c->p++;
			if (!unicode_escape(c))
				return false;
			continue;
		}
		e = *c->p ? strchr(simple, *c->p) : NULL;
		if (!e)
			return false;
		put_byte(c, (unsigned char)value[e - simple]);
		c->p++;
	}
	c->p++;
	return add_token(c, JT_STRING, key, start, (size_t)(c->p - start));
}

static bool is_digit_at(const unsigned char *q)
{
	return *q >= '0' && *q <= '9';
}

/* A run of at least one digit from *q. */
static bool digit_run(const struct checker *c, const unsigned char **q)
{
	if (*q >= c->end || !is_digit_at(*q))
		return false;
	while (*q < c->end && is_digit_at(*q))
		(*q)++;
	return true;
}

static bool number(struct checker *c)
{
	const unsigned char *q = c->p;

	if (*q == '-')
		q++;
	if (q < c->end && *q == '0')
		q++;
	else if (q >= c->end || *q < '1' || *q > '9' || !digit_run(c, &q))
		return false;
	if (q < c->end && *q == '.') {
		q++;
		if (!digit_run(c, &q))
			return false;
	}
	if (q < c->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < c->end && (*q == '+' || *q == '-'))
			q++;
		if (!digit_run(c, &q))
			return false;
	}
	add_token(c, JT_NUMBER, false, c->p, (size_t)(q - c->p));
	c->p = q;
	return true;
}

static bool literal(struct checker *c, const char *word, enum jtype type)
{
	size_t n = strlen(word);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return false;
	add_token(c, type, false, c->p, n);
	c->p += n;
	return true;
}

/* A scalar value at c->p (containers are opened by the caller). */
static bool scalar(struct checker *c)
{
	switch (*c->p) {
	case '"':
		return string(c, false);
	case 't':
		return literal(c, "true", JT_TRUE);
	case 'f':
		return literal(c, "false", JT_FALSE);
	case 'n':
		return literal(c, "null", JT_NULL);
	}
	if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
		return number(c);
	return false;
}

static void skip_white(struct checker *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static bool run(struct checker *c, int max_depth)
{
	static char *open;
	static size_t open_cap;
	enum state st = ST_VALUE;
	bool ok = false;
	int sp = 0;
	char close;

	open = grow(open, &open_cap, (size_t)max_depth + 1, 1);
	for (;;) {
		skip_white(c);
		if (c->p == c->end) {
			ok = st == ST_NEXT && sp == 0;
			break;
		}
		close = sp && open[sp - 1] == '{' ? '}' : ']';
		if (st == ST_NEXT) {
			if (sp == 0)
				break; /* text after the value */
			if (*c->p == ',') {
				c->p++;
				st = close == '}' ? ST_KEY : ST_VALUE;
				continue;
			}
			if (*c->p != close)
				break;
		} else if (st == ST_COLON) {
			if (*c->p != ':')
				break;
			c->p++;
			st = ST_VALUE;
			continue;
		} else if (st == ST_KEY ||
			   (st == ST_FIRST_KEY && *c->p != '}')) {
			if (*c->p != '"' || !string(c, true))
				break;
			st = ST_COLON;
			continue;
		} else if (st == ST_VALUE ||
			   (st == ST_FIRST_ITEM && *c->p != ']')) {
			if (*c->p == '{' || *c->p == '[') {
				if (sp == max_depth)
					break;
				open[sp++] = (char)*c->p;
				add_token(c,
					  *c->p == '{' ? JT_OBJECT : JT_ARRAY,
					  false, c->p, 1);
				st = *c->p == '{' ? ST_FIRST_KEY
						  : ST_FIRST_ITEM;
				c->p++;
				continue;
			}
			if (!scalar(c))
				break;
			st = ST_NEXT;
			continue;
		}
		/* The closing bracket of the innermost container. */
		add_token(c, JT_END, false, c->p, 1);
		c->p++;
		sp--;
		st = ST_NEXT;
	}
	return ok;
}

bool json_check(const char *text, size_t len, int max_depth, unsigned int flags,
		struct jdoc *doc, size_t *at)
{
	struct checker c = {
		.p = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.flags = flags,
		.doc = doc,
	};
	size_t i;

	if (doc)
		doc->n = doc->tlen = 0;
	if (!run(&c, max_depth)) {
		*at = (size_t)(c.p - (const unsigned char *)text);
		return false;
	}
	for (i = 0; doc && i < doc->n; i++)
		if (doc->tok[i].type == JT_STRING)
			doc->tok[i].str =
				doc->text + (uintptr_t)doc->tok[i].str;
	return true;
}

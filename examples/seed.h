/* SPDX-License-Identifier: MIT */
/* seed.h -- what the seed programs get from Python's builtins: repr(), tuples, json */

/*
 * The seed tutorials print addresses as Python tuples, received bytes with
 * repr(), and the client list with json.  C has none of these built in;
 * these stand-ins let each example read as its seed does.
 */

#ifndef SEED_H
#define SEED_H

#include <sock.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Room for seed_tuple()'s text. */
#define SEED_TUPLE_LEN (NI_MAXHOST + 16)

/* An IP address as Python prints its (host, port) tuple:
 * "('127.0.0.1', 1469)".  Returns buf. */
static inline const char *seed_tuple(const struct sock_addr *a, char *buf,
				     size_t size)
{
	char host[NI_MAXHOST] = "?";

	if (sock_getnameinfo(a, NI_NUMERICHOST, host, sizeof(host), NULL, 0))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, size, "('%s', %d)", host, sock_addr_port(a));
	return buf;
}

/* Print bytes as Python's repr() does: b'...' with escapes. */
static inline void seed_repr(const void *data, size_t n)
{
	const unsigned char *p = data;
	char q = memchr(p, '\'', n) && !memchr(p, '"', n) ? '"' : '\'';
	size_t i;

	printf("b%c", q);
	for (i = 0; i < n; i++) {
		if (p[i] == q || p[i] == '\\')
			printf("\\%c", p[i]);
		else if (p[i] == '\t')
			printf("\\t");
		else if (p[i] == '\n')
			printf("\\n");
		else if (p[i] == '\r')
			printf("\\r");
		else if (p[i] < ' ' || p[i] > '~')
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
	putchar(q);
}

/*
 * The length of the valid UTF-8 sequence at p (n > 0 bytes left) and its
 * code point in *cp, or 0 when p does not start one.
 */
static inline size_t seed_utf8(const unsigned char *p, size_t n,
			       unsigned int *cp)
{
	static const unsigned int least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	/* the length by the lead byte's top four bits; 0: not a lead byte */
	static const unsigned char lengths[16] = { 1, 1, 1, 1, 1, 1, 1, 1,
						   0, 0, 0, 0, 2, 2, 3, 4 };
	size_t len = p[0] < 0xf5 ? lengths[p[0] >> 4] : 0, i;

	if (len == 0 || len > n)
		return 0;
	*cp = len == 1 ? p[0] : p[0] & (0x7fu >> len);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if (*cp < least[len] || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp < 0xe000))
		return 0;
	return len;
}

/*
 * Write bytes as the JSON string Python's json.dumps() writes for the text
 * they decode to as UTF-8: ASCII only, \uXXXX for the rest.  A byte that
 * is not valid UTF-8 becomes \udcXX, as Python's "surrogateescape" decodes
 * it, so any bytes have a JSON form that tells them apart.
 */
static inline void seed_json_string(FILE *f, const void *data, size_t n)
{
	static const char esc[] = "\"\\\b\f\n\r\t", name[] = "\"\\bfnrt";
	const unsigned char *p = data;
	unsigned int cp;
	const char *e;
	size_t len;

	fputc('"', f);
	for (; n > 0; p += len, n -= len) {
		len = seed_utf8(p, n, &cp);
		if (len == 0) {
			cp = 0xdc00 | p[0];
			len = 1;
		}
		e = cp > 0 && cp < 0x80 ? strchr(esc, (int)cp) : NULL;
		if (e)
			fprintf(f, "\\%c", name[e - esc]);
		else if (cp >= 0x20 && cp < 0x7f)
			fputc((int)cp, f);
		else if (cp < 0x10000)
			fprintf(f, "\\u%04x", cp);
		else
			fprintf(f, "\\u%04x\\u%04x",
				0xd800 + ((cp - 0x10000) >> 10),
				0xdc00 + ((cp - 0x10000) & 0x3ff));
	}
	fputc('"', f);
}

/*
 * Print JSON text as Python's json.dumps(json.loads(text), indent=4) does,
 * for text as json.dumps() writes it (strings and numbers are kept as they
 * are).  Returns -1 when the text ends inside a string or a bracket.
 */
static inline int seed_json_print_indented(const char *p)
{
	bool in_string = false;
	int depth = 0;
	const char *q;

	for (; *p && depth >= 0; p++) {
		if (in_string) {
			putchar(*p);
			if (*p == '\\' && p[1])
				putchar(*++p);
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
			putchar('"');
		} else if (*p == '{' || *p == '[') {
			q = p + 1 + strspn(p + 1, " \t\r\n");
			if (*q == (*p == '{' ? '}' : ']')) { /* {} and [] */
				printf("%c%c", *p, *q);
				p = q;
			} else {
				printf("%c\n%*s", *p, 4 * ++depth, "");
			}
		} else if (*p == '}' || *p == ']') {
			--depth;
			printf("\n%*s%c", 4 * depth, "", *p);
		} else if (*p == ',') {
			printf(",\n%*s", 4 * depth, "");
		} else if (*p == ':') {
			printf(": ");
		} else if (!strchr(" \t\r\n", *p)) {
			putchar(*p);
		}
	}
	putchar('\n');
	return in_string || depth != 0 ? -1 : 0;
}

#endif /* SEED_H */

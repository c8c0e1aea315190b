/* SPDX-License-Identifier: MIT */
/* proxy_header.c -- PROXY protocol headers: version 1 text, version 2 binary */

/*
 * The grammar is HAProxy's "The PROXY protocol" (versions 1 and 2).  The
 * parser keeps no state between calls: each call reads the whole prefix
 * again (at most 107 bytes of text, or the 16 fixed bytes of version 2),
 * which is cheap and lets a reader call it after every read.  Bytes are
 * judged in order and the first wrong one decides, so a prefix that is
 * already wrong fails at once and a longer read of the same bytes can
 * never turn that verdict around.
 */

#include "core.h"

#include <arpa/inet.h>
#include <string.h>

/* "PROXY UNKNOWN\r\n": no version 1 header is shorter. */
#define V1_MIN 15
/* Version 2: signature, ver_cmd, fam, and the length of what follows. */
#define V2_FIXED 16

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* What a version 1 line's fields said, before they become addresses. */
struct v1_fields {
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC for UNKNOWN */
	uint8_t addr[2][16];
	uint16_t port[2];
};

/* A TCP address as a sock_addr; addr and port are in network order. */
static int ip_addr(struct sock_addr *out, int family, const uint8_t *addr,
		   const uint8_t port[2])
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;

	if (family == AF_INET) {
		memset(&in, 0, sizeof(in));
		in.sin_family = AF_INET;
		memcpy(&in.sin_port, port, 2);
		memcpy(&in.sin_addr, addr, 4);
		return sock_addr_from_sockaddr(out, (struct sockaddr *)&in,
					       sizeof(in));
	}
	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	memcpy(&in6.sin6_port, port, 2);
	memcpy(&in6.sin6_addr, addr, 16);
	return sock_addr_from_sockaddr(out, (struct sockaddr *)&in6,
				       sizeof(in6));
}

/* ---- version 2 ---- */

/* The families the spec defines; only TCP over IP carries a client. */
static bool v2_family_known(uint8_t fam)
{
	switch (fam) {
	case 0x00: /* UNSPEC */
	case 0x11: /* TCP over IPv4 */
	case 0x12: /* UDP over IPv4 */
	case 0x21: /* TCP over IPv6 */
	case 0x22: /* UDP over IPv6 */
	case 0x31: /* stream over Unix */
	case 0x32: /* datagram over Unix */
		return true;
	}
	return false;
}

static int v2_parse(const uint8_t *buf, size_t have,
		    struct sock__proxy_header *h)
{
	size_t sig = have < sizeof(v2_sig) ? have : sizeof(v2_sig);
	size_t len, alen;
	uint8_t cmd, fam;
	int err, family;

	if (memcmp(buf, v2_sig, sig))
		return -EPROTO;
	/* Version 2 in the high nibble; command LOCAL (0) or PROXY (1). */
	if (have > 12 && (buf[12] >> 4 != 2 || (buf[12] & 0x0f) > 1))
		return -EPROTO;
	if (have > 13 && !v2_family_known(buf[13]))
		return -EPROTO;
	if (have < V2_FIXED)
		return (int)(V2_FIXED - have);

	cmd = buf[12] & 0x0f;
	fam = buf[13];
	len = (size_t)buf[14] << 8 | buf[15];
	if (len > SOCK__PROXY_V2_LEN_MAX)
		return -EMSGSIZE;
	family = 0;
	alen = 0;
	if (cmd == 1 && fam == 0x11) {
		family = AF_INET;
		alen = 4;
	} else if (cmd == 1 && fam == 0x21) {
		family = AF_INET6;
		alen = 16;
	}
	/* Two addresses and two ports; TLVs may follow, and are skipped. */
	if (len < 2 * alen + 4 && family)
		return -EPROTO;
	if (have < V2_FIXED + len)
		return (int)(V2_FIXED + len - have);

	memset(h, 0, sizeof(*h));
	h->len = V2_FIXED + len;
	h->version = 2;
	h->local = !family;
	if (!family)
		return 0;
	buf += V2_FIXED;
	err = ip_addr(&h->src, family, buf, buf + 2 * alen);
	if (!err)
		err = ip_addr(&h->dst, family, buf + alen, buf + 2 * alen + 2);
	return err;
}

/* ---- version 1 ---- */

/*
 * The protocol words, with what must follow them: TCP4 and TCP6 take a
 * space and four fields; after UNKNOWN anything may come before CR LF
 * (the spec tells receivers to ignore it).
 */
static const struct {
	const char *prefix;
	int family;
} v1_words[] = {
	{ "PROXY TCP4 ", AF_INET },
	{ "PROXY TCP6 ", AF_INET6 },
	{ "PROXY UNKNOWN", AF_UNSPEC },
};

/*
 * Match the first n bytes against the words: the length of the word that
 * matched in full (its family in f->family), 0 when n bytes are too few
 * to tell, -EPROTO when no word starts that way.
 */
static int v1_word(const uint8_t *buf, size_t n, struct v1_fields *f)
{
	bool partial = false;
	size_t i, len, m;

	for (i = 0; i < SOCK_ARRAY_SIZE(v1_words); i++) {
		len = strlen(v1_words[i].prefix);
		m = n < len ? n : len;
		if (memcmp(buf, v1_words[i].prefix, m))
			continue;
		if (m < len) {
			partial = true;
			continue;
		}
		f->family = v1_words[i].family;
		return (int)len;
	}
	return partial ? 0 : -EPROTO;
}

/*
 * The longest text of each field: an address in the family's text (up to
 * an IPv6 address ending in dotted IPv4), a port of at most 5 digits.
 */
static size_t v1_field_max(int family, unsigned int field)
{
	if (field >= 2)
		return 5;
	return family == AF_INET ? INET_ADDRSTRLEN - 1 : INET6_ADDRSTRLEN - 1;
}

/* Whether c may appear in field; wrong bytes fail before the field ends. */
static bool v1_field_char(int family, unsigned int field, uint8_t c)
{
	if (c >= '0' && c <= '9')
		return true;
	if (field >= 2)
		return false;
	if (c == '.')
		return true;
	if (family == AF_INET)
		return false;
	return c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Read field number field, the len bytes at s, into f. */
static int v1_field(struct v1_fields *f, unsigned int field, const uint8_t *s,
		    size_t len)
{
	char text[INET6_ADDRSTRLEN];
	unsigned long port = 0;
	size_t i;

	if (len == 0)
		return -EPROTO;
	if (field < 2) {
		memcpy(text, s, len);
		text[len] = '\0';
		if (inet_pton(f->family, text, f->addr[field]) != 1)
			return -EPROTO;
		return 0;
	}
	for (i = 0; i < len; i++)
		port = port * 10 + (unsigned long)(s[i] - '0');
	if (port > 65535)
		return -EPROTO;
	f->port[field - 2] = htons((uint16_t)port);
	return 0;
}

/*
 * "<src> <dst> <sport> <dport>\r\n" in bytes [at, n) of buf: the length
 * of the line when it is complete, 0 when more may come, -EPROTO at the
 * first byte that cannot belong to it.
 */
static int v1_tcp(const uint8_t *buf, size_t at, size_t n, struct v1_fields *f)
{
	unsigned int field = 0;
	size_t p, start = at;
	int err;

	for (p = at; p < n; p++) {
		if (buf[p] == ' ' || buf[p] == '\r') {
			/* Spaces end the first three fields, CR the last. */
			if ((buf[p] == '\r') != (field == 3))
				return -EPROTO;
			err = v1_field(f, field, buf + start, p - start);
			if (err)
				return err;
			if (buf[p] == '\r')
				break;
			field++;
			start = p + 1;
			continue;
		}
		if (!v1_field_char(f->family, field, buf[p]) ||
		    p - start >= v1_field_max(f->family, field))
			return -EPROTO;
	}
	if (p + 1 >= n)
		return 0;
	return buf[p + 1] == '\n' ? (int)(p + 2) : -EPROTO;
}

/* After UNKNOWN: anything up to the first LF, which must follow a CR. */
static int v1_unknown(const uint8_t *buf, size_t at, size_t n)
{
	const uint8_t *lf = memchr(buf + at, '\n', n - at);

	if (!lf)
		return 0;
	return lf[-1] == '\r' ? (int)(lf - buf + 1) : -EPROTO;
}

static int v1_parse(const uint8_t *buf, size_t have,
		    struct sock__proxy_header *h, bool *line)
{
	/* The spec's bound: no line is longer, so no byte past it is read. */
	size_t n = have < SOCK__PROXY_V1_MAX ? have : SOCK__PROXY_V1_MAX;
	struct v1_fields f = { 0 };
	int len, err;

	len = v1_word(buf, n, &f);
	if (len > 0)
		len = f.family == AF_UNSPEC ? v1_unknown(buf, (size_t)len, n)
					    : v1_tcp(buf, (size_t)len, n, &f);
	if (len < 0)
		return len;
	if (len == 0) {
		if (n == SOCK__PROXY_V1_MAX)
			return -EMSGSIZE;
		if (have < V1_MIN)
			return (int)(V1_MIN - have);
		*line = true;
		return (int)(SOCK__PROXY_V1_MAX - have);
	}

	memset(h, 0, sizeof(*h));
	h->len = (size_t)len;
	h->version = 1;
	h->local = f.family == AF_UNSPEC;
	if (h->local)
		return 0;
	err = ip_addr(&h->src, f.family, f.addr[0], (uint8_t *)&f.port[0]);
	if (!err)
		err = ip_addr(&h->dst, f.family, f.addr[1],
			      (uint8_t *)&f.port[1]);
	return err;
}

int sock__proxy_parse(const uint8_t *buf, size_t have,
		      struct sock__proxy_header *h, bool *line)
{
	*line = false;
	if (have == 0)
		return V1_MIN;
	if (buf[0] == 'P')
		return v1_parse(buf, have, h, line);
	if (buf[0] == v2_sig[0])
		return v2_parse(buf, have, h);
	return -EPROTO;
}

/* SPDX-License-Identifier: MIT */
/* proxy_fuzz.c -- fuzz target: the PROXY protocol header parser */

/*
 * The input is the first bytes of a connection.  sock__proxy_parse() is
 * called on copies of exactly the bytes it is given, so AddressSanitizer
 * sees any read past them, and must keep these invariants:
 *  - every prefix agrees with the whole: once a prefix is wrong, every
 *    longer one is wrong the same way; once one holds the header, every
 *    longer one holds the same header; a count asked for stays inside the
 *    header (a version 1 line, past 15 bytes, only bounded by 107);
 *  - a reader that takes what it is told (up to the first LF in line
 *    mode) reaches the whole input's verdict, and a header exactly;
 *  - a version 1 header ends at the first LF, a version 2 one 16 bytes
 *    past its length field;
 *  - the addresses of a complete header, written again as a version 1
 *    line and as a version 2 header, read back the same.
 */

#include "server/core.h"

#include "fuzz.h"

#include <arpa/inet.h>
#include <errno.h>

/* Prefixes up to this long are each checked: every version 1 line, and
 * the fixed part of version 2 with room to spare. */
#define PREFIX_CHECKED 160

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* Parse the first have bytes of data from a buffer of exactly that size. */
static int parse_exact(const uint8_t *data, size_t have,
		       struct sock__proxy_header *h, bool *line)
{
	uint8_t *copy = malloc(have ? have : 1);
	int r;

	FUZZ_CHECK(copy != NULL, "out of memory");
	memcpy(copy, data, have);
	r = sock__proxy_parse(have ? copy : NULL, have, h, line);
	free(copy);
	return r;
}

static bool same_addr(const struct sock_addr *a, const struct sock_addr *b)
{
	return a->len == b->len && memcmp(&a->u, &b->u, a->len) == 0;
}

static bool same_header(const struct sock__proxy_header *a,
			const struct sock__proxy_header *b)
{
	return a->len == b->len && a->version == b->version &&
	       a->local == b->local && same_addr(&a->src, &b->src) &&
	       same_addr(&a->dst, &b->dst);
}

/* What a complete header must say, checked against the bytes. */
static void check_header(const uint8_t *data, size_t size,
			 const struct sock__proxy_header *h)
{
	const uint8_t *lf;
	int fam = sock_addr_family(&h->src);

	FUZZ_CHECK(h->len >= 15 && h->len <= size, "len %zu of %zu", h->len,
		   size);
	if (h->version == 1) {
		lf = memchr(data, '\n', size);
		FUZZ_CHECK(lf && (size_t)(lf - data) + 1 == h->len,
			   "v1 len %zu, first LF at %td", h->len,
			   lf ? lf - data : -1);
		FUZZ_CHECK(h->len <= SOCK__PROXY_V1_MAX, "v1 len %zu", h->len);
	} else {
		FUZZ_CHECK(h->version == 2, "version %d", h->version);
		FUZZ_CHECK(h->len == 16 + ((size_t)data[14] << 8 | data[15]),
			   "v2 len %zu", h->len);
	}
	if (h->local) {
		FUZZ_CHECK(h->src.len == 0 && h->dst.len == 0, "local with "
							       "addresses");
		return;
	}
	FUZZ_CHECK(fam == AF_INET || fam == AF_INET6, "family %d", fam);
	FUZZ_CHECK(sock_addr_family(&h->dst) == fam, "dst family %d",
		   sock_addr_family(&h->dst));
}

/*
 * Every prefix up to PREFIX_CHECKED bytes (and the one just short of a
 * complete header) against the whole input's verdict all and header hall.
 */
static void check_prefixes(const uint8_t *data, size_t size, int all,
			   const struct sock__proxy_header *hall)
{
	struct sock__proxy_header h;
	int r, wrong = 0;
	size_t k, last = size < PREFIX_CHECKED ? size : PREFIX_CHECKED;
	bool line;

	for (k = 0; k <= last; k++) {
		r = parse_exact(data, k, &h, &line);
		FUZZ_CHECK(r >= 0 || r == -EPROTO || r == -EMSGSIZE, "%d", r);
		if (wrong || r < 0) {
			FUZZ_CHECK(r == all && (!wrong || r == wrong),
				   "prefix %zu: %d, before %d, whole %d", k, r,
				   wrong, all);
			wrong = r;
			continue;
		}
		if (r == 0) {
			FUZZ_CHECK(all == 0 && same_header(&h, hall),
				   "prefix %zu complete (len %zu), whole %d", k,
				   h.len, all);
			continue;
		}
		FUZZ_CHECK(all != 0 || k < hall->len,
			   "prefix %zu holds the header (len %zu) but asks %d",
			   k, hall->len, r);
		if (line) {
			FUZZ_CHECK(data[0] == 'P' && k >= 15 &&
					   k + (size_t)r == SOCK__PROXY_V1_MAX,
				   "line mode at %zu asks %d", k, r);
		} else {
			FUZZ_CHECK(k < 15 || data[0] != 'P',
				   "v1 prefix %zu not in line mode", k);
			FUZZ_CHECK(all != 0 || k + (size_t)r <= hall->len,
				   "prefix %zu asks %d, header is %zu", k, r,
				   hall->len);
		}
	}
	if (all == 0 && hall->len > last + 1) {
		r = parse_exact(data, hall->len - 1, &h, &line);
		FUZZ_CHECK(r == 1, "one byte short of %zu: %d", hall->len, r);
	}
}

/*
 * A reader: start with nothing, take what the parser asks for (up to
 * the first LF in line mode) until it answers or the input ends.
 */
static void check_reader(const uint8_t *data, size_t size, int all,
			 const struct sock__proxy_header *hall)
{
	struct sock__proxy_header h;
	size_t have = 0, take;
	const uint8_t *lf;
	bool line;
	int r;

	for (;;) {
		r = parse_exact(data, have, &h, &line);
		if (r <= 0 || have == size)
			break;
		take = (size_t)r < size - have ? (size_t)r : size - have;
		if (line) {
			lf = memchr(data + have, '\n', take);
			if (lf)
				take = (size_t)(lf - (data + have)) + 1;
		}
		have += take;
	}
	FUZZ_CHECK(r == all || (r > 0 && all > 0),
		   "reader at %zu: %d, whole %d", have, r, all);
	if (r == 0)
		FUZZ_CHECK(have == h.len && same_header(&h, hall),
			   "reader took %zu for a header of %zu", have, h.len);
}

static void text_of(const struct sock_addr *a, char *text, size_t size)
{
	const void *ip = a->u.sa.sa_family == AF_INET
				 ? (const void *)&a->u.in.sin_addr
				 : (const void *)&a->u.in6.sin6_addr;

	FUZZ_CHECK(inet_ntop(a->u.sa.sa_family, ip, text, (socklen_t)size),
		   "inet_ntop");
}

static void put_ip(uint8_t *out, const struct sock_addr *a, size_t alen)
{
	if (alen == 4)
		memcpy(out, &a->u.in.sin_addr, 4);
	else
		memcpy(out, &a->u.in6.sin6_addr, 16);
}

/* Parse len bytes of header written here: complete, with h's addresses. */
static void check_again(const uint8_t *buf, size_t len,
			const struct sock__proxy_header *h, int version)
{
	struct sock__proxy_header again;
	bool line;
	int r;

	r = parse_exact(buf, len, &again, &line);
	FUZZ_CHECK(r == 0, "v%d written again: %d", version, r);
	FUZZ_CHECK(again.len == len && again.version == version &&
			   !again.local && same_addr(&again.src, &h->src) &&
			   same_addr(&again.dst, &h->dst),
		   "v%d written again reads differently", version);
}

/* Write h's addresses as a version 1 line and a version 2 header. */
static void check_round_trip(const struct sock__proxy_header *h)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	bool v4 = sock_addr_family(&h->src) == AF_INET;
	size_t alen = v4 ? 4 : 16, len;
	uint16_t sport, dport;
	uint8_t buf[SOCK__PROXY_V1_MAX + 1];
	int n;

	text_of(&h->src, src, sizeof(src));
	text_of(&h->dst, dst, sizeof(dst));
	n = snprintf((char *)buf, sizeof(buf), "PROXY TCP%c %s %s %d %d\r\n",
		     v4 ? '4' : '6', src, dst, sock_addr_port(&h->src),
		     sock_addr_port(&h->dst));
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(buf), "v1 line of %d", n);
	check_again(buf, (size_t)n, h, 1);

	memcpy(buf, v2_sig, sizeof(v2_sig));
	buf[12] = 0x21;
	buf[13] = v4 ? 0x11 : 0x21;
	buf[14] = 0;
	buf[15] = (uint8_t)(2 * alen + 4);
	put_ip(buf + 16, &h->src, alen);
	put_ip(buf + 16 + alen, &h->dst, alen);
	sport = htons((uint16_t)sock_addr_port(&h->src));
	dport = htons((uint16_t)sock_addr_port(&h->dst));
	memcpy(buf + 16 + 2 * alen, &sport, 2);
	memcpy(buf + 16 + 2 * alen + 2, &dport, 2);
	len = 16 + 2 * alen + 4;
	check_again(buf, len, h, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sock__proxy_header h;
	bool line;
	int all;

	/* The most a reader ever holds: the parser's stated domain. */
	if (size > SOCK__PROXY_MAX)
		size = SOCK__PROXY_MAX;
	memset(&h, 0, sizeof(h));
	all = parse_exact(data, size, &h, &line);
	FUZZ_CHECK(all >= 0 || all == -EPROTO || all == -EMSGSIZE, "%d", all);
	if (all == 0)
		check_header(data, size, &h);
	check_prefixes(data, size, all, &h);
	check_reader(data, size, all, &h);
	if (all == 0 && !h.local)
		check_round_trip(&h);
	return 0;
}

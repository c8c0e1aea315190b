/* SPDX-License-Identifier: MIT */
/* proxy_test.c -- the PROXY protocol header parser: versions 1 and 2 */

/*
 * A PROXY header comes from the network before anything else, read a
 * few bytes at a time by a reader that must not take a byte of the
 * client's own data.  So beside what a header says, each test checks how
 * the parser answers every prefix of it: a "more" count that stays
 * inside the header, and a verdict on wrong bytes as soon as they come.
 */

#include "test.h"

#include "server/core.h"

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* The 16 fixed bytes of a version 2 header, then body (len bytes). */
static size_t v2_make(uint8_t *out, uint8_t ver_cmd, uint8_t fam,
		      const void *body, size_t len)
{
	memcpy(out, v2_sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(len >> 8);
	out[15] = (uint8_t)len;
	if (body)
		memcpy(out + 16, body, len);
	return 16 + len;
}

static const uint8_t body4[12] = {
	192, 0, 2, 1, 198, 51, 100, 7, 0xdc, 0x04, 0x01, 0xbb,
};

static const uint8_t body6[36] = {
	0x20, 0x01, 0x0d, 0xb8, [15] = 1, /* 2001:db8::1 */
	0x20, 0x01, 0x0d, 0xb8, [31] = 2, /* 2001:db8::2 */
	0x04, 0xd2, 0x00, 0x50,		  /* 1234, 80 */
};

static void check_addr(const struct sock_addr *a, const char *text)
{
	char buf[SOCK_ADDR_STRLEN];

	CHECK_OK(sock_addr_format(a, buf, sizeof(buf)));
	CHECK_STR(buf, text);
}

/*
 * Feed buf as a reader would see it, one byte more each time: every
 * prefix is "more", and the count asked for never passes the header's
 * end (a version 1 reader past 15 bytes stops at the LF itself, so there
 * the count only bounds the line); the whole is the header.
 */
static void parse_fed(const uint8_t *buf, size_t len,
		      struct sock__proxy_header *h)
{
	bool line;
	size_t k;
	int n;

	for (k = 0; k < len; k++) {
		n = sock__proxy_parse(buf, k, h, &line);
		CHECK_INT(n, >, 0);
		if (line)
			CHECK_INT(k + (size_t)n, ==, SOCK__PROXY_V1_MAX);
		else
			CHECK_INT(k + (size_t)n, <=, len);
		if (buf[0] == 'P')
			CHECK(line == (k >= 15));
	}
	CHECK_INT(sock__proxy_parse(buf, len, h, &line), ==, 0);
	CHECK_INT(h->len, ==, len);
}

static void parse_text(const char *text, struct sock__proxy_header *h)
{
	parse_fed((const uint8_t *)text, strlen(text), h);
	CHECK_INT(h->version, ==, 1);
}

/*
 * buf's first wrong byte is at pos: every shorter prefix is "more", and
 * from that byte on, whatever follows, the verdict is err.
 */
static void fails_at(const uint8_t *buf, size_t len, size_t pos, int err)
{
	struct sock__proxy_header h;
	bool line;
	size_t k;

	for (k = 0; k <= pos; k++)
		CHECK_INT(sock__proxy_parse(buf, k, &h, &line), >, 0);
	for (k = pos + 1; k <= len; k++)
		CHECK_ERR(sock__proxy_parse(buf, k, &h, &line), err);
}

/* A version 1 line whose first wrong byte is the first of bad in it. */
static void text_fails_at(const char *text, const char *bad, int err)
{
	const char *at = strstr(text, bad);

	CHECK(at != NULL);
	fails_at((const uint8_t *)text, strlen(text), (size_t)(at - text), err);
}

static void empty_read_asks_for_the_shortest_header(void)
{
	struct sock__proxy_header h;
	bool line = true;

	CHECK_INT(sock__proxy_parse(NULL, 0, &h, &line), ==, 15);
	CHECK(!line);
}

static void v1_tcp4_gives_both_addresses(void)
{
	struct sock__proxy_header h;

	parse_text("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n", &h);
	CHECK(!h.local);
	check_addr(&h.src, "192.0.2.1:56324");
	check_addr(&h.dst, "198.51.100.7:443");
	parse_text("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", &h);
	check_addr(&h.src, "0.0.0.0:0");
	check_addr(&h.dst, "255.255.255.255:65535");
}

static void v1_tcp6_gives_both_addresses(void)
{
	struct sock__proxy_header h;

	parse_text("PROXY TCP6 2001:db8::1 2001:DB8::2 1234 80\r\n", &h);
	CHECK(!h.local);
	check_addr(&h.src, "[2001:db8::1]:1234");
	check_addr(&h.dst, "[2001:db8::2]:80");
	parse_text("PROXY TCP6 ::ffff:192.0.2.1 :: 1 2\r\n", &h);
	check_addr(&h.src, "[::ffff:192.0.2.1]:1");
	check_addr(&h.dst, "[::]:2");
}

/* UNKNOWN: no client address, whatever follows the word is ignored. */
static void v1_unknown_is_local(void)
{
	static const char *const lines[] = {
		"PROXY UNKNOWN\r\n",
		"PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 65535 0\r\n",
		"PROXY UNKNOWNjunk\r\n",
	};
	struct sock__proxy_header h;
	size_t i;

	for (i = 0; i < TEST_COUNT(lines); i++) {
		parse_text(lines[i], &h);
		CHECK(h.local);
		CHECK_INT(h.src.len, ==, 0);
		CHECK_INT(h.dst.len, ==, 0);
	}
}

/* The longest line the spec allows, 107 bytes with its CR LF, is taken. */
static void v1_line_of_107_bytes_is_taken(void)
{
	char text[SOCK__PROXY_V1_MAX + 1];
	struct sock__proxy_header h;

	memset(text, 'x', SOCK__PROXY_V1_MAX);
	memcpy(text, "PROXY UNKNOWN ", 14);
	memcpy(text + SOCK__PROXY_V1_MAX - 2, "\r\n", 3);
	parse_text(text, &h);
	CHECK_INT(h.len, ==, SOCK__PROXY_V1_MAX);
}

static void v2_proxy_tcp4_gives_both_addresses(void)
{
	struct sock__proxy_header h;
	uint8_t buf[64];
	size_t len;

	len = v2_make(buf, 0x21, 0x11, body4, sizeof(body4));
	parse_fed(buf, len, &h);
	CHECK_INT(h.version, ==, 2);
	CHECK(!h.local);
	check_addr(&h.src, "192.0.2.1:56324");
	check_addr(&h.dst, "198.51.100.7:443");
}

static void v2_proxy_tcp6_gives_both_addresses(void)
{
	struct sock__proxy_header h;
	uint8_t buf[64];
	size_t len;

	len = v2_make(buf, 0x21, 0x21, body6, sizeof(body6));
	parse_fed(buf, len, &h);
	CHECK_INT(h.version, ==, 2);
	CHECK(!h.local);
	check_addr(&h.src, "[2001:db8::1]:1234");
	check_addr(&h.dst, "[2001:db8::2]:80");
}

/* LOCAL: the proxy's own check; addresses sent with it are not used. */
static void v2_local_is_local(void)
{
	struct sock__proxy_header h;
	uint8_t buf[64];
	size_t len;

	len = v2_make(buf, 0x20, 0x00, NULL, 0);
	parse_fed(buf, len, &h);
	CHECK(h.local);
	len = v2_make(buf, 0x20, 0x11, body4, sizeof(body4));
	parse_fed(buf, len, &h);
	CHECK(h.local);
	CHECK_INT(h.src.len, ==, 0);
	CHECK_INT(h.dst.len, ==, 0);
	/* No addresses are needed, so none too short either. */
	len = v2_make(buf, 0x20, 0x21, body6, 4);
	parse_fed(buf, len, &h);
	CHECK(h.local);
}

static void v2_tlvs_after_the_addresses_are_skipped(void)
{
	static const uint8_t tlvs[] = {
		0x01, 0x00, 0x02, 'h', '2',    /* ALPN */
		0x04, 0x00, 0x03, 0,   0,   0, /* NOOP */
		0xee, 0xff, 0xff,	       /* a TLV cut short: not read */
	};
	struct sock__proxy_header h;
	uint8_t body[64], buf[128];
	size_t len;

	memcpy(body, body4, sizeof(body4));
	memcpy(body + sizeof(body4), tlvs, sizeof(tlvs));
	len = v2_make(buf, 0x21, 0x11, body, sizeof(body4) + sizeof(tlvs));
	parse_fed(buf, len, &h);
	CHECK(!h.local);
	check_addr(&h.src, "192.0.2.1:56324");
	check_addr(&h.dst, "198.51.100.7:443");
}

/* Families that carry no TCP client: unspec, Unix, UDP. */
static void v2_other_families_are_local(void)
{
	static const uint8_t fams[] = { 0x00, 0x12, 0x22, 0x31, 0x32 };
	struct sock__proxy_header h;
	uint8_t body[216] = { 1, 2, 3 }, buf[256];
	size_t i, len;

	for (i = 0; i < sizeof(fams); i++) {
		len = v2_make(buf, 0x21, fams[i], body, sizeof(body));
		parse_fed(buf, len, &h);
		CHECK(h.local);
		CHECK_INT(h.src.len, ==, 0);
		len = v2_make(buf, 0x21, fams[i], NULL, 0);
		parse_fed(buf, len, &h);
		CHECK(h.local);
	}
}

/* The client's data right behind the header is not part of it. */
static void header_ends_where_the_client_data_starts(void)
{
	static const char text[] = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET /\n";
	struct sock__proxy_header h;
	uint8_t buf[64];
	size_t len;
	bool line;

	CHECK_INT(sock__proxy_parse((const uint8_t *)text, strlen(text), &h,
				    &line),
		  ==, 0);
	CHECK_INT(h.len, ==, strlen("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"));
	len = v2_make(buf, 0x21, 0x11, body4, sizeof(body4));
	memcpy(buf + len, "\r\n\r\n", 4);
	CHECK_INT(sock__proxy_parse(buf, len + 4, &h, &line), ==, 0);
	CHECK_INT(h.len, ==, len);
	check_addr(&h.dst, "198.51.100.7:443");
}

/* An HTTP client on a PROXY port is refused on its first byte. */
static void http_request_fails_at_the_first_byte(void)
{
	text_fails_at("GET / HTTP/1.1\r\n", "G", -EPROTO);
	text_fails_at("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "p", -EPROTO);
	text_fails_at(" PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", " ", -EPROTO);
	text_fails_at("PPROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "PR", -EPROTO);
}

static void v1_wrong_words_fail_at_once(void)
{
	text_fails_at("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", " TCP4", -EPROTO);
	text_fails_at("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "5 1.", -EPROTO);
	text_fails_at("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "DP4", -EPROTO);
	text_fails_at("PROXY TCP4\r\n", "\r", -EPROTO);
	text_fails_at("PROXY UNKNOW\r\n", "\r", -EPROTO);
}

static void v1_double_space_fails(void)
{
	text_fails_at("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", " 1.2", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", " 5.6", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", " 2\r", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", " \r", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", "\t", -EPROTO);
}

static void v1_line_end_must_be_cr_lf(void)
{
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "\n", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n", "X\n", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", "\r\n", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "\r", -EPROTO);
	text_fails_at("PROXY UNKNOWN\n", "\n", -EPROTO);
	text_fails_at("PROXY UNKNOWN 1.2.3.4\n", "\n", -EPROTO);
}

static void v1_bad_ports_fail(void)
{
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", " 2", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", "\r", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n", "+", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n", "-", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 000001 2\r\n", "1 2",
		      -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 5.6.7.8 0x1 2\r\n", "x", -EPROTO);
}

/* Each address in its own family's text, checked when it ends. */
static void v1_bad_addresses_fail(void)
{
	text_fails_at("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", " 5", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", " 5", -EPROTO);
	text_fails_at("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", ":", -EPROTO);
	text_fails_at("PROXY TCP4 1.2.3.4 1111.2.3.4 1 2\r\n", " 1 2", -EPROTO);
	text_fails_at("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", " ::", -EPROTO);
	text_fails_at("PROXY TCP6 ::1 fe80::1%lo 1 2\r\n", "%", -EPROTO);
	text_fails_at("PROXY TCP6 ::1 ::g 1 2\r\n", "g", -EPROTO);
}

static void v2_wrong_signature_fails_at_that_byte(void)
{
	uint8_t buf[64];
	size_t i, len;

	for (i = 0; i < 12; i++) {
		len = v2_make(buf, 0x21, 0x11, body4, sizeof(body4));
		buf[i] ^= 0x20;
		/* A first byte other than CR is not version 2 at all. */
		fails_at(buf, len, i, -EPROTO);
	}
}

static void v2_bad_version_or_command_fails(void)
{
	static const uint8_t bad[] = { 0x11, 0x31, 0x01, 0xf1, 0x22, 0x2f };
	uint8_t buf[64];
	size_t i, len;

	for (i = 0; i < sizeof(bad); i++) {
		len = v2_make(buf, bad[i], 0x11, body4, sizeof(body4));
		fails_at(buf, len, 12, -EPROTO);
	}
}

static void v2_bad_family_fails(void)
{
	static const uint8_t bad[] = {
		0x01, 0x10, 0x13, 0x23, 0x30, 0x41, 0xff
	};
	uint8_t buf[64];
	size_t i, len;

	for (i = 0; i < sizeof(bad); i++) {
		len = v2_make(buf, 0x21, bad[i], body4, sizeof(body4));
		fails_at(buf, len, 13, -EPROTO);
	}
}

/* A PROXY command whose length cannot hold its two addresses. */
static void v2_length_short_of_the_addresses_fails(void)
{
	uint8_t buf[64];
	size_t len;

	len = v2_make(buf, 0x21, 0x11, body4, sizeof(body4) - 1);
	fails_at(buf, len, 15, -EPROTO);
	len = v2_make(buf, 0x21, 0x21, body6, sizeof(body6) - 1);
	fails_at(buf, len, 15, -EPROTO);
	len = v2_make(buf, 0x21, 0x21, body4, sizeof(body4));
	fails_at(buf, len, 15, -EPROTO);
}

/* A line with no LF within 107 bytes is cut off there, not read on. */
static void v1_without_lf_in_107_bytes_is_too_long(void)
{
	static const char long6[] = "PROXY TCP6 "
				    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255."
				    "255"
				    " ffff:ffff:ffff:ffff:ffff:ffff:255.255."
				    "255.255 65535 65535\r\n";
	char text[200];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "PROXY UNKNOWN ", 14);
	fails_at((const uint8_t *)text, strlen(text), SOCK__PROXY_V1_MAX - 1,
		 -EMSGSIZE);
	/* The LF one byte too late changes nothing. */
	memcpy(text + SOCK__PROXY_V1_MAX - 1, "\r\n", 2);
	fails_at((const uint8_t *)text, strlen(text), SOCK__PROXY_V1_MAX - 1,
		 -EMSGSIZE);
	/* Long IPv6 texts that are each valid, but too long together. */
	fails_at((const uint8_t *)long6, strlen(long6), SOCK__PROXY_V1_MAX - 1,
		 -EMSGSIZE);
}

/* The length is judged when it arrives, before any of the body. */
static void v2_length_over_2048_is_too_long(void)
{
	static uint8_t buf[16 + 4096];
	struct sock__proxy_header h;
	size_t len;
	bool line;

	len = v2_make(buf, 0x21, 0x11, NULL, SOCK__PROXY_V2_LEN_MAX + 1);
	fails_at(buf, len, 15, -EMSGSIZE);
	len = v2_make(buf, 0x21, 0x11, NULL, 0xffff);
	fails_at(buf, 16, 15, -EMSGSIZE);
	memcpy(buf + 16, body4, sizeof(body4));
	len = v2_make(buf, 0x21, 0x11, NULL, SOCK__PROXY_V2_LEN_MAX);
	CHECK_INT(sock__proxy_parse(buf, 16, &h, &line), ==,
		  SOCK__PROXY_V2_LEN_MAX);
	CHECK_INT(sock__proxy_parse(buf, len, &h, &line), ==, 0);
	CHECK_INT(h.len, ==, SOCK__PROXY_MAX);
	check_addr(&h.src, "192.0.2.1:56324");
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(empty_read_asks_for_the_shortest_header),
		TEST(v1_tcp4_gives_both_addresses),
		TEST(v1_tcp6_gives_both_addresses),
		TEST(v1_unknown_is_local),
		TEST(v1_line_of_107_bytes_is_taken),
		TEST(v2_proxy_tcp4_gives_both_addresses),
		TEST(v2_proxy_tcp6_gives_both_addresses),
		TEST(v2_local_is_local),
		TEST(v2_tlvs_after_the_addresses_are_skipped),
		TEST(v2_other_families_are_local),
		TEST(header_ends_where_the_client_data_starts),
		TEST(http_request_fails_at_the_first_byte),
		TEST(v1_wrong_words_fail_at_once),
		TEST(v1_double_space_fails),
		TEST(v1_line_end_must_be_cr_lf),
		TEST(v1_bad_ports_fail),
		TEST(v1_bad_addresses_fail),
		TEST(v2_wrong_signature_fails_at_that_byte),
		TEST(v2_bad_version_or_command_fails),
		TEST(v2_bad_family_fails),
		TEST(v2_length_short_of_the_addresses_fails),
		TEST(v1_without_lf_in_107_bytes_is_too_long),
		TEST(v2_length_over_2048_is_too_long),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

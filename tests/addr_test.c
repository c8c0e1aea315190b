/* SPDX-License-Identifier: MIT */
/* addr_test.c -- the address grammar: parse, format, predicates */

#include "test.h"

#include <stddef.h>

/* Text that must parse and format back to exactly itself. */
static void parse_and_format_round_trip(void)
{
	static const char *const texts[] = {
		"127.0.0.1:80",
		"0.0.0.0:0",
		"255.255.255.255:65535",
		"[::1]:7",
		"[::]:8037",
		"[fe80::1%lo]:7",
		"[::ffff:10.0.0.1]:9",
		"/tmp/x.sock",
		"./rel.sock",
		"unix:bare.sock",
		"unix:",
		"@abstract",
		"@with\\x00nul\\x20and\\\\",
		"packet:lo:0x0800",
		"packet:lo:0x88b5:02:00:00:00:00:01",
	};
	char buf[SOCK_ADDR_STRLEN];
	struct sock_addr a;
	size_t i;

	for (i = 0; i < TEST_COUNT(texts); i++) {
		CHECK_OK(sock_addr_parse(&a, texts[i]));
		CHECK_INT(sock_addr_format(&a, buf, sizeof(buf)), ==,
			  strlen(texts[i]));
		CHECK_STR(buf, texts[i]);
	}
}

/*
 * A Unix path that reads as another form of the grammar (an abstract name,
 * an explicit Unix or packet address) must keep its "unix:" when printed,
 * even when it holds a '/' (issue 9, defect 9, found by tests/fuzz/addr).
 */
static void unix_path_that_looks_like_other_forms_round_trips(void)
{
	static const char *const texts[] = {
		"unix:@a/b", "unix:unix:/x", "unix:packet:x/y",
		"unix:@",    "unix:unix:",   "unix:packet:lo",
	};
	char buf[SOCK_ADDR_STRLEN];
	struct sock_addr a, b;
	size_t i;

	for (i = 0; i < TEST_COUNT(texts); i++) {
		CHECK_OK(sock_addr_parse(&a, texts[i]));
		CHECK_INT(sock_addr_format(&a, buf, sizeof(buf)), ==,
			  strlen(texts[i]));
		CHECK_STR(buf, texts[i]);
		CHECK_OK(sock_addr_parse(&b, buf));
		CHECK_INT(b.len, ==, a.len);
		CHECK(memcmp(&a.u, &b.u, a.len) == 0);
	}
}

static void parse_rejects_malformed_text(void)
{
	static const char *const bad[] = {
		"",
		"127.0.0.1",
		"127.0.0.1:",
		":",
		"127.0.0.1:65536",
		"127.0.0.1:-1",
		"127.0.0.1:80x",
		"127.0.0.1:+80",
		"127.0.0.1:123456",
		"1.2.3:80",
		"1.2.3.4.5:80",
		"256.1.1.1:80",
		"[::1",
		"[::1]",
		"[::1]:",
		"[::1]80",
		"::1:80",
		"[]:80",
		"[1.2.3.4]:80",
		"[::1]]:80",
		"[fe80::1%]:80",
		"[::g]:80",
		"localhost:80",
		"host name:80",
		"@",
		"@bad\\x",
		"@bad\\xzz",
		"@bad\\q",
		"packet:",
		"packet:lo:0x",
		"packet:lo:0x10000",
		"packet:lo:65536",
		"packet:lo:0x0800:0g",
		"packet:lo:0x0800:01:02:03:04:05:06:07:08:09",
	};
	struct sock_addr a;
	size_t i;

	for (i = 0; i < TEST_COUNT(bad); i++) {
		int r = sock_addr_parse(&a, bad[i]);

		if (r != SOCK_EBADADDR)
			test_fail(__FILE__, __LINE__, "\"%s\": %d (%s)", bad[i],
				  r, sock_strerror(r));
		CHECK_INT(a.len, ==, 0);
	}
}

static void parse_rejects_overlong_unix_path(void)
{
	char path[200];
	struct sock_addr a;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	CHECK_ERR(sock_addr_parse(&a, path), SOCK_EBADADDR);
	path[sizeof(a.u.un.sun_path)] = '\0'; /* 108 bytes: no room for NUL */
	CHECK_ERR(sock_addr_parse(&a, path), SOCK_EBADADDR);
	path[sizeof(a.u.un.sun_path) - 1] = '\0'; /* 107 bytes fit */
	CHECK_OK(sock_addr_parse(&a, path));
}

static void parsen_rejects_embedded_nul(void)
{
	static const char text[] = "127.0.0.1:80\0junk";
	struct sock_addr a;

	CHECK_ERR(sock_addr_parsen(&a, text, sizeof(text) - 1), SOCK_EBADADDR);
	CHECK_OK(sock_addr_parsen(&a, text, strlen(text)));
	CHECK_ERR(sock_addr_parsen(&a, "/tmp/a\0b", 8), SOCK_EBADADDR);
}

static void parse_unknown_interface_is_enodev(void)
{
	struct sock_addr a;

	CHECK_ERR(sock_addr_parse(&a, "[fe80::1%nosuchif0]:7"), -ENODEV);
	CHECK_ERR(sock_addr_parse(&a, "packet:nosuchif0"), -ENODEV);
}

static void parse_fills_fields(void)
{
	struct sock_addr a;

	CHECK_OK(sock_addr_parse(&a, ":8037"));
	CHECK_INT(sock_addr_family(&a), ==, AF_INET);
	CHECK_INT(a.u.in.sin_addr.s_addr, ==, htonl(INADDR_ANY));
	CHECK_INT(sock_addr_port(&a), ==, 8037);
	CHECK_OK(sock_addr_parse(&a, "[fe80::1%1]:7"));
	CHECK_INT(a.u.in6.sin6_scope_id, ==, 1);
	CHECK_OK(sock_addr_parse(&a, "@x"));
	CHECK_INT(a.len, ==, offsetof(struct sockaddr_un, sun_path) + 2);
	CHECK_OK(sock_addr_parse(&a, "unix:"));
	CHECK_INT(a.len, ==, sizeof(sa_family_t));
	CHECK_OK(sock_addr_parse(&a, "packet:lo:2048"));
	CHECK_INT(ntohs(a.u.ll.sll_protocol), ==, 0x0800);
	CHECK_INT(a.u.ll.sll_ifindex, ==, if_nametoindex("lo"));
}

static void format_reports_small_buffer(void)
{
	struct sock_addr a;
	char buf[8];

	CHECK_OK(sock_addr_parse(&a, "127.0.0.1:8037"));
	CHECK_ERR(sock_addr_format(&a, buf, sizeof(buf)), -ENOSPC);
	CHECK_STR(buf, "127.0.0");
	CHECK_ERR(sock_addr_format(&a, buf, 0), -ENOSPC);
	memset(&a, 0, sizeof(a));
	CHECK_INT(sock_addr_format(&a, buf, sizeof(buf)), ==, 1);
	CHECK_STR(buf, "-");
}

static void unmap_turns_mapped_ipv6_into_ipv4(void)
{
	struct sock_addr a, b;
	char buf[SOCK_ADDR_STRLEN];

	CHECK_OK(sock_addr_parse(&a, "[::ffff:127.0.0.2]:99"));
	CHECK(sock_addr_is_loopback(&a));
	CHECK_OK(sock_addr_parse(&b, "127.0.0.2:5"));
	CHECK(sock_addr_is_same_host(&a, &b));
	CHECK(!sock_addr_is_equal(&a, &b));
	CHECK(sock_addr_unmap(&a));
	CHECK_INT(sock_addr_format(&a, buf, sizeof(buf)), >, 0);
	CHECK_STR(buf, "127.0.0.2:99");
	CHECK(!sock_addr_unmap(&a));
	CHECK_OK(sock_addr_set_port(&b, 99));
	CHECK(sock_addr_is_equal(&a, &b));
}

static void predicates_classify_addresses(void)
{
	struct sock_addr a, b;

	CHECK_OK(sock_addr_parse(&a, "127.255.0.1:1"));
	CHECK(sock_addr_is_loopback(&a));
	CHECK_OK(sock_addr_parse(&a, "10.0.0.1:1"));
	CHECK(!sock_addr_is_loopback(&a));
	CHECK_OK(sock_addr_parse(&a, "[::1]:1"));
	CHECK(sock_addr_is_loopback(&a));
	CHECK_OK(sock_addr_parse(&a, "[::2]:1"));
	CHECK(!sock_addr_is_loopback(&a));
	CHECK_OK(sock_addr_parse(&a, "@name"));
	CHECK(sock_addr_is_loopback(&a));
	CHECK_OK(sock_addr_parse(&b, "@name"));
	CHECK(sock_addr_is_equal(&a, &b));
	CHECK_OK(sock_addr_parse(&b, "@name2"));
	CHECK(!sock_addr_is_equal(&a, &b));
	CHECK_ERR(sock_addr_port(&a), -EAFNOSUPPORT);
	CHECK_ERR(sock_addr_set_port(&a, 1), -EAFNOSUPPORT);
	CHECK_OK(sock_addr_parse(&a, "1.2.3.4:1"));
	CHECK_ERR(sock_addr_set_port(&a, 65536), -EINVAL);
}

static void split_gives_host_and_port(void)
{
	char host[64], port[16];

	CHECK_OK(sock_addr_split("example.org:http", host, sizeof(host), port,
				 sizeof(port)));
	CHECK_STR(host, "example.org");
	CHECK_STR(port, "http");
	CHECK_OK(sock_addr_split("[fe80::1%lo]:7", host, sizeof(host), port,
				 sizeof(port)));
	CHECK_STR(host, "fe80::1%lo");
	CHECK_STR(port, "7");
	CHECK_OK(sock_addr_split(":8037", host, sizeof(host), port,
				 sizeof(port)));
	CHECK_STR(host, "");
	CHECK_STR(port, "8037");
	CHECK_ERR(sock_addr_split("example.org", host, sizeof(host), port,
				  sizeof(port)),
		  SOCK_EBADADDR);
	CHECK_ERR(sock_addr_split("::1:7", host, sizeof(host), port,
				  sizeof(port)),
		  SOCK_EBADADDR);
	CHECK_ERR(sock_addr_split("[::1:7", host, sizeof(host), port,
				  sizeof(port)),
		  SOCK_EBADADDR);
	CHECK_ERR(sock_addr_split("/tmp/x:1", host, sizeof(host), port,
				  sizeof(port)),
		  SOCK_EBADADDR);
	CHECK_ERR(sock_addr_split("@x:1", host, sizeof(host), port,
				  sizeof(port)),
		  SOCK_EBADADDR);
	CHECK_ERR(sock_addr_split("a.very.long.host.name:1", host, 8, port,
				  sizeof(port)),
		  SOCK_EBADADDR);
}

static void strerror_names_every_code(void)
{
	CHECK_STR(sock_strerror(0), "success");
	CHECK_STR(sock_strerror(-ECONNREFUSED), "connection refused");
	CHECK_STR(sock_strerror(SOCK_EBADADDR), "invalid address");
	CHECK_STR(sock_strerror(SOCK_ENONAME), "name or service not known");
	CHECK_STR(sock_strerror(12345), "unknown error");
	CHECK_STR(sock_strerror(-2999), "unknown error");
	CHECK(sock_strerror(-EREMOTEIO) != NULL);
	CHECK(strcmp(sock_strerror(-EREMOTEIO), "unknown error") != 0);
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(parse_and_format_round_trip),
		TEST(unix_path_that_looks_like_other_forms_round_trips),
		TEST(parse_rejects_malformed_text),
		TEST(parse_rejects_overlong_unix_path),
		TEST(parsen_rejects_embedded_nul),
		TEST(parse_unknown_interface_is_enodev),
		TEST(parse_fills_fields),
		TEST(format_reports_small_buffer),
		TEST(unmap_turns_mapped_ipv6_into_ipv4),
		TEST(predicates_classify_addresses),
		TEST(split_gives_host_and_port),
		TEST(strerror_names_every_code),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

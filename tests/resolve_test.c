/* SPDX-License-Identifier: MIT */
/* resolve_test.c -- name resolution, its deadline, and network information */

#include "sandbox.h"
#include "internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/utsname.h>

static void check_resolves_to(const char *text, int type, const char *want)
{
	char buf[SOCK_ADDR_STRLEN];
	struct sock_addr a;

	CHECK_OK(sock_resolve(&a, text, type, 2000));
	CHECK_OK(sock_addr_format(&a, buf, sizeof(buf)));
	CHECK_STR(buf, want);
}

/* True for the codes that stand for a failed lookup (gaierror, herror). */
static bool is_resolver_code(long long code)
{
	return code <= SOCK_ENONAME && code >= SOCK_ERESOLVE;
}

/* Hosts known only here; a resolver that no one answers. */
static void sandbox_names(void)
{
	sandbox_enter();
	sandbox_file("/etc/hosts", "127.0.0.1 localhost\n"
				   "127.0.0.1 both.test\n"
				   "::1 both.test\n"
				   "127.0.0.5 box box.example.org\n");
	sandbox_file("/etc/resolv.conf", "nameserver 127.0.0.1\n"
					 "options timeout:1 attempts:1\n");
}

static void resolve_numeric_ipv4(void)
{
	check_resolves_to("127.0.0.1:80", SOCK_STREAM, "127.0.0.1:80");
	check_resolves_to("10.1.2.3:0", SOCK_DGRAM, "10.1.2.3:0");
	check_resolves_to("127.1:7", 0, "127.0.0.1:7");
	check_resolves_to("255.255.255.255:65535", SOCK_DGRAM,
			  "255.255.255.255:65535");
}

static void resolve_numeric_ipv6(void)
{
	check_resolves_to("[::1]:7", SOCK_STREAM, "[::1]:7");
	check_resolves_to("[2001:db8::1]:443", SOCK_STREAM,
			  "[2001:db8::1]:443");
	check_resolves_to("[::ffff:10.0.0.1]:9", SOCK_DGRAM,
			  "[::ffff:10.0.0.1]:9");
}

static void resolve_scoped_ipv6(void)
{
	struct sock_addr a;
	char text[64];
	int lo;

	lo = sock_if_nametoindex("lo");
	CHECK_INT(lo, >, 0);
	CHECK_OK(sock_resolve(&a, "[fe80::1%lo]:7", SOCK_STREAM, 0));
	CHECK_INT(a.u.in6.sin6_scope_id, ==, lo);
	check_resolves_to("[fe80::1%lo]:7", SOCK_STREAM, "[fe80::1%lo]:7");
	snprintf(text, sizeof(text), "[fe80::1%%%d]:7", lo);
	check_resolves_to(text, SOCK_STREAM, "[fe80::1%lo]:7");
	CHECK_ERR(sock_resolve(&a, "[fe80::1%nosuch0]:7", SOCK_STREAM, 0),
		  -ENODEV);
}

static void resolve_service_names(void)
{
	check_resolves_to("localhost:echo", SOCK_STREAM, "127.0.0.1:7");
	check_resolves_to("127.0.0.1:daytime", SOCK_DGRAM, "127.0.0.1:13");
	check_resolves_to("[::1]:discard", SOCK_STREAM, "[::1]:9");
	check_resolves_to("localhost:80", 0, "127.0.0.1:80");
}

static void resolve_rejects_unknown_service(void)
{
	struct sock_addr a;

	CHECK_ERR(sock_resolve(&a, "127.0.0.1:nosuchservice", SOCK_STREAM, 0),
		  SOCK_ESERVICE);
	CHECK_INT(a.len, ==, 0);
}

static void resolve_empty_host_is_wildcard(void)
{
	struct sock_addrinfo ai[4];
	char buf[SOCK_ADDR_STRLEN];

	check_resolves_to(":80", SOCK_STREAM, "0.0.0.0:80");
	check_resolves_to(":echo", SOCK_DGRAM, "0.0.0.0:7");
	CHECK_INT(sock__resolve(":8037", AF_INET6, SOCK_STREAM, AI_PASSIVE, ai,
				4, SOCK__NEVER),
		  ==, 1);
	CHECK_INT(ai[0].family, ==, AF_INET6);
	CHECK_INT(ai[0].type, ==, SOCK_STREAM);
	CHECK_OK(sock_addr_format(&ai[0].addr, buf, sizeof(buf)));
	CHECK_STR(buf, "[::]:8037");
}

static void resolve_rejects_bad_text(void)
{
	static const char *const bad[] = {
		"",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:65536",
		"127.0.0.1:+80",
		"127.0.0.1:8x",
		"[::1]",
		"[::1",
		"::1:80",
		"256.1.1.1:80",
		"1.2.3.4.5:9",
		"[::g]:80",
		"localhost",
		"[1.2.3.4]:80",
		"@",
	};
	struct sock_addr a;
	size_t i;
	int r;

	for (i = 0; i < TEST_COUNT(bad); i++) {
		r = sock_resolve(&a, bad[i], SOCK_STREAM, 1000);
		if (r != SOCK_EBADADDR)
			test_fail(__FILE__, __LINE__, "\"%s\": %d (%s)", bad[i],
				  r, sock_strerror(r));
	}
}

static void resolve_local_addresses(void)
{
	struct sock_addrinfo ai[2];

	CHECK_INT(sock__resolve("/tmp/x.sock", AF_UNSPEC, SOCK_STREAM, 0, ai, 2,
				SOCK__NEVER),
		  ==, 1);
	CHECK_INT(ai[0].family, ==, AF_UNIX);
	CHECK_INT(ai[0].type, ==, SOCK_STREAM);
	CHECK_STR(ai[0].addr.u.un.sun_path, "/tmp/x.sock");
	CHECK_INT(sock__resolve("@name", AF_UNIX, SOCK_DGRAM, 0, ai, 2,
				SOCK__NEVER),
		  ==, 1);
	CHECK_INT(ai[0].type, ==, SOCK_DGRAM);
	CHECK_ERR(sock__resolve("/tmp/x.sock", AF_INET, SOCK_STREAM, 0, ai, 2,
				SOCK__NEVER),
		  -EAFNOSUPPORT);
	CHECK_ERR(sock__resolve("127.0.0.1:1", AF_INET6, SOCK_STREAM, 0, ai, 2,
				SOCK__NEVER),
		  SOCK_ENODATA);
	CHECK_ERR(sock__resolve("127.0.0.1:1", AF_UNSPEC, SOCK_STREAM, 0, ai, 0,
				SOCK__NEVER),
		  -EINVAL);
}

/* A SEQPACKET type, unknown to getaddrinfo(), comes back as asked. */
static void resolve_keeps_other_types(void)
{
	struct sock_addrinfo ai[2];

	CHECK_INT(sock__resolve("127.0.0.1:echo", AF_UNSPEC, SOCK_SEQPACKET, 0,
				ai, 2, SOCK__NEVER),
		  ==, 1);
	CHECK_INT(ai[0].type, ==, SOCK_SEQPACKET);
	CHECK_INT(ai[0].protocol, ==, 0);
	CHECK_INT(sock_addr_port(&ai[0].addr), ==, 7);
	CHECK_INT(sock__resolve("127.0.0.1:0", AF_INET, SOCK_RAW, 0, ai, 2,
				SOCK__NEVER),
		  ==, 1);
	CHECK_INT(ai[0].type, ==, SOCK_RAW);
}

/* The deadline of a name lookup does not stop one that answers. */
static void resolve_names_with_every_timeout(void)
{
	static const int timeouts[] = { SOCK_FOREVER, 0, 1, 2000 };
	struct sock_addr a;
	size_t i;
	int r;

	for (i = 0; i < TEST_COUNT(timeouts); i++) {
		r = sock_resolve(&a, "localhost:7", SOCK_STREAM, timeouts[i]);
		if (timeouts[i] == 1 && r == -ETIMEDOUT)
			continue; /* 1 ms may truly be too short */
		CHECK_OK(r);
		CHECK_INT(sock_addr_family(&a), ==, AF_INET);
		CHECK_INT(sock_addr_port(&a), ==, 7);
	}
}

static void resolve_unknown_host_is_resolver_code(void)
{
	struct sock_addr a;
	int r;

	r = sock_resolve(&a, "no.such.host.invalid:80", SOCK_STREAM, 10000);
	if (r == -ETIMEDOUT)
		SKIP("the system's resolver gave no answer in 10 s");
	if (!is_resolver_code(r))
		test_fail(__FILE__, __LINE__, "got %d (%s)", r,
			  sock_strerror(r));
	CHECK_INT(a.len, ==, 0);
}

static void getaddrinfo_types_and_max(void)
{
	struct sock_addrinfo out[8];
	char buf[SOCK_ADDR_STRLEN];

	/* Type 0: one result per socket type, as Python lists them. */
	CHECK_INT(sock_getaddrinfo("127.0.0.1", "7", AF_UNSPEC, 0, 0, out, 8,
				   SOCK_FOREVER),
		  ==, 3);
	CHECK_INT(out[0].type, ==, SOCK_STREAM);
	CHECK_INT(out[0].protocol, ==, IPPROTO_TCP);
	CHECK_INT(out[1].type, ==, SOCK_DGRAM);
	CHECK_INT(out[1].protocol, ==, IPPROTO_UDP);
	CHECK_INT(out[2].type, ==, SOCK_RAW);
	CHECK_INT(sock_getaddrinfo("127.0.0.1", "7", AF_UNSPEC, 0, 0, out, 2,
				   SOCK_FOREVER),
		  ==, 2);
	CHECK_INT(sock_getaddrinfo("127.0.0.1", "echo", AF_INET, SOCK_DGRAM, 0,
				   out, 8, 1000),
		  ==, 1);
	CHECK_INT(out[0].family, ==, AF_INET);
	CHECK_INT(out[0].type, ==, SOCK_DGRAM);
	CHECK_INT(sock_addr_port(&out[0].addr), ==, 7);
	CHECK_ERR(sock_getaddrinfo("127.0.0.1", "7", 0, 0, 0, out, 0, 0),
		  -EINVAL);
	/* No host: the loopback address, or the wildcard for AI_PASSIVE. */
	CHECK_INT(sock_getaddrinfo(NULL, "7", AF_INET, SOCK_STREAM, 0, out, 8,
				   0),
		  ==, 1);
	CHECK_OK(sock_addr_format(&out[0].addr, buf, sizeof(buf)));
	CHECK_STR(buf, "127.0.0.1:7");
	CHECK_INT(sock_getaddrinfo(NULL, "7", AF_INET6, SOCK_STREAM, AI_PASSIVE,
				   out, 8, 0),
		  ==, 1);
	CHECK_OK(sock_addr_format(&out[0].addr, buf, sizeof(buf)));
	CHECK_STR(buf, "[::]:7");
	/* No service: port 0. */
	CHECK_INT(sock_getaddrinfo("::1", NULL, AF_INET6, SOCK_STREAM, 0, out,
				   8, 0),
		  ==, 1);
	CHECK_INT(sock_addr_port(&out[0].addr), ==, 0);
}

static void getaddrinfo_errors(void)
{
	struct sock_addrinfo out[4];

	CHECK_ERR(sock_getaddrinfo(NULL, NULL, AF_UNSPEC, 0, 0, out, 4, 0),
		  SOCK_ENONAME);
	CHECK_ERR(sock_getaddrinfo("localhost", "7", AF_UNSPEC, 0,
				   AI_NUMERICHOST, out, 4, 1000),
		  SOCK_ENONAME);
	CHECK_ERR(sock_getaddrinfo("::1", "7", AF_INET, 0, 0, out, 4, 0),
		  SOCK_ENODATA);
	CHECK_ERR(sock_getaddrinfo("127.0.0.1", "nosuchservice", AF_UNSPEC,
				   SOCK_STREAM, 0, out, 4, 0),
		  SOCK_ESERVICE);
	CHECK_ERR(sock_getaddrinfo("127.0.0.1", "7", AF_UNIX, 0, 0, out, 4, 0),
		  -EAFNOSUPPORT);
}

/* Compare sock_getaddrinfo() with getaddrinfo() itself, result by result. */
static void check_same_order(const char *host, int family, int type)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = type };
	struct sock_addrinfo out[16];
	struct addrinfo *res, *ai;
	ssize_t n, i;

	CHECK_INT(getaddrinfo(host, "7", &hints, &res), ==, 0);
	n = sock_getaddrinfo(host, "7", family, type, 0, out, 16, 2000);
	CHECK_INT(n, >=, 1);
	for (i = 0, ai = res; ai && i < n; ai = ai->ai_next, i++) {
		CHECK_INT(out[i].family, ==, ai->ai_family);
		CHECK_INT(out[i].type, ==, ai->ai_socktype);
		CHECK_INT(out[i].protocol, ==, ai->ai_protocol);
		CHECK_INT(out[i].addr.len, ==, ai->ai_addrlen);
		CHECK(memcmp(&out[i].addr.u, ai->ai_addr, ai->ai_addrlen) == 0);
	}
	CHECK(!ai && i == n);
	freeaddrinfo(res);
}

static void getaddrinfo_keeps_resolver_order(void)
{
	struct sock_addrinfo out[4];
	char buf[SOCK_ADDR_STRLEN];
	ssize_t n, i;

	check_same_order("localhost", AF_UNSPEC, 0);
	check_same_order("127.0.0.1", AF_UNSPEC, 0);
	sandbox_names();
	check_same_order("both.test", AF_UNSPEC, SOCK_STREAM);
	check_same_order("both.test", AF_UNSPEC, 0);
	/* RFC 6724 puts ::1 before 127.0.0.1 (precedence 50 over 35). */
	CHECK_INT(sock_getaddrinfo("both.test", "7", AF_UNSPEC, SOCK_STREAM, 0,
				   out, 4, 2000),
		  ==, 2);
	CHECK_OK(sock_addr_format(&out[0].addr, buf, sizeof(buf)));
	CHECK_STR(buf, "[::1]:7");
	CHECK_OK(sock_addr_format(&out[1].addr, buf, sizeof(buf)));
	CHECK_STR(buf, "127.0.0.1:7");
	/* (glibc reads "::1" in the hosts file as 127.0.0.1 for AF_INET.) */
	n = sock_getaddrinfo("both.test", "7", AF_INET, SOCK_STREAM, 0, out, 4,
			     2000);
	CHECK_INT(n, >=, 1);
	for (i = 0; i < n; i++) {
		CHECK_OK(sock_addr_format(&out[i].addr, buf, sizeof(buf)));
		CHECK_STR(buf, "127.0.0.1:7");
	}
	CHECK_INT(sock_getaddrinfo("both.test", "7", AF_UNSPEC, SOCK_STREAM, 0,
				   out, 1, SOCK_FOREVER),
		  ==, 1);
	CHECK_INT(out[0].family, ==, AF_INET6);
}

static void getnameinfo_numeric_and_names(void)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	struct sock_addr a;

	CHECK_OK(sock_addr_parse(&a, "127.0.0.1:7"));
	CHECK_OK(sock_getnameinfo(&a, NI_NUMERICHOST | NI_NUMERICSERV, host,
				  sizeof(host), serv, sizeof(serv)));
	CHECK_STR(host, "127.0.0.1");
	CHECK_STR(serv, "7");
	CHECK_OK(sock_getnameinfo(&a, NI_NUMERICHOST, NULL, 0, serv,
				  sizeof(serv)));
	CHECK_STR(serv, "echo");
	CHECK_OK(sock_getnameinfo(&a, NI_NUMERICSERV, host, sizeof(host), NULL,
				  0));
	CHECK_STR(host, "localhost");
	CHECK_OK(sock_addr_parse(&a, "[fe80::1%lo]:13"));
	CHECK_OK(sock_getnameinfo(&a, NI_NUMERICHOST | NI_DGRAM, host,
				  sizeof(host), serv, sizeof(serv)));
	CHECK_STR(host, "fe80::1%lo");
	CHECK_STR(serv, "daytime");
	CHECK_ERR(sock_getnameinfo(&a, NI_NUMERICHOST, host, 4, NULL, 0),
		  -ENOSPC);
	memset(&a, 0, sizeof(a));
	CHECK_ERR(sock_getnameinfo(&a, 0, host, sizeof(host), NULL, 0),
		  -EAFNOSUPPORT);
}

static void gethostbyname_families(void)
{
	char buf[INET6_ADDRSTRLEN + IF_NAMESIZE];

	CHECK_OK(sock_gethostbyname("localhost", AF_INET, buf, sizeof(buf)));
	CHECK_STR(buf, "127.0.0.1");
	CHECK_OK(sock_gethostbyname("localhost", AF_UNSPEC, buf, sizeof(buf)));
	CHECK_STR(buf, "127.0.0.1");
	CHECK_OK(sock_gethostbyname("127.0.0.1", AF_INET, buf, sizeof(buf)));
	CHECK_STR(buf, "127.0.0.1");
	CHECK_OK(sock_gethostbyname("::1", AF_INET6, buf, sizeof(buf)));
	CHECK_STR(buf, "::1");
	CHECK_OK(sock_gethostbyname("fe80::1%lo", AF_UNSPEC, buf, sizeof(buf)));
	CHECK_STR(buf, "fe80::1%lo");
	CHECK_ERR(sock_gethostbyname("::1", AF_INET, buf, sizeof(buf)),
		  SOCK_ENODATA);
	CHECK_ERR(sock_gethostbyname("127.0.0.1", AF_INET, buf, 5), -ENOSPC);
	CHECK_ERR(sock_gethostbyname("127.0.0.1", AF_UNIX, buf, sizeof(buf)),
		  -EAFNOSUPPORT);
}

static void check_hostent_addr(const struct sock_hostent *he, size_t i,
			       const char *want)
{
	char buf[SOCK_ADDR_STRLEN];

	CHECK_INT(i, <, he->naddrs);
	CHECK_INT(sock_addr_port(&he->addrs[i]), ==, 0);
	CHECK_OK(sock_addr_format(&he->addrs[i], buf, sizeof(buf)));
	CHECK_STR(buf, want);
}

static void gethostbyname_ex_localhost(void)
{
	struct sock_hostent he;

	CHECK_OK(sock_gethostbyname_ex("localhost", AF_INET, &he));
	CHECK_STR(he.name, "localhost");
	CHECK_INT(he.naddrs, ==, 1);
	check_hostent_addr(&he, 0, "127.0.0.1:0");
	CHECK_OK(sock_gethostbyname_ex("127.0.0.1", AF_INET, &he));
	CHECK_STR(he.name, "127.0.0.1");
	CHECK_INT(he.naliases, ==, 0);
	check_hostent_addr(&he, 0, "127.0.0.1:0");
	CHECK_OK(sock_gethostbyname_ex("::1", AF_INET6, &he));
	check_hostent_addr(&he, 0, "[::1]:0");
	CHECK_ERR(sock_gethostbyname_ex("localhost", AF_UNIX, &he),
		  -EAFNOSUPPORT);
}

/* Names from a private hosts file: both families, aliases, fqdn. */
static void hostent_from_hosts_file(void)
{
	char buf[SOCK_HOSTNAME_MAX];
	struct sock_hostent he;

	sandbox_names();
	CHECK_OK(sock_gethostbyname_ex("both.test", AF_UNSPEC, &he));
	CHECK_STR(he.name, "both.test");
	CHECK_INT(he.naddrs, ==, 2);
	check_hostent_addr(&he, 0, "127.0.0.1:0");
	check_hostent_addr(&he, 1, "[::1]:0");
	CHECK_OK(sock_gethostbyname_ex("both.test", AF_INET6, &he));
	CHECK_INT(he.naddrs, ==, 1);
	check_hostent_addr(&he, 0, "[::1]:0");
	CHECK_OK(sock_gethostbyname_ex("box", AF_INET, &he));
	CHECK_STR(he.name, "box");
	CHECK_INT(he.naliases, ==, 1);
	CHECK_STR(he.aliases[0], "box.example.org");
	CHECK_OK(sock_gethostbyaddr("127.0.0.5", &he));
	CHECK_STR(he.name, "box");
	CHECK_OK(sock_getfqdn("box", buf, sizeof(buf)));
	CHECK_STR(buf, "box.example.org");
	CHECK_OK(sock_getfqdn("127.0.0.5", buf, sizeof(buf)));
	CHECK_STR(buf, "box.example.org");
	CHECK_ERR(sock_getfqdn("box", buf, 8), -ENAMETOOLONG);
	/* Nothing known: the name itself. */
	CHECK_OK(sock_getfqdn("nothing.test", buf, sizeof(buf)));
	CHECK_STR(buf, "nothing.test");
	/* The resolver is not there: a temporary failure (TRY_AGAIN). */
	CHECK_ERR(sock_gethostbyname_ex("nothing.test", AF_UNSPEC, &he),
		  SOCK_ETRYAGAIN);
	CHECK_ERR(sock_gethostbyname("nothing.test", AF_INET, buf, sizeof(buf)),
		  SOCK_ETRYAGAIN);
	CHECK_ERR(sock_gethostbyaddr("127.0.0.99", &he), SOCK_ETRYAGAIN);
}

/* With the hosts file as the only source, an unknown name is not found
 * (HOST_NOT_FOUND, EAI_NONAME). */
static void unknown_names_are_not_found(void)
{
	char buf[SOCK_HOSTNAME_MAX];
	struct sock_hostent he;
	struct sock_addr a;

	sandbox_names();
	sandbox_file("/etc/nsswitch.conf", "hosts: files\n"
					   "services: files\n"
					   "protocols: files\n");
	CHECK_ERR(sock_gethostbyname_ex("nothing.test", AF_UNSPEC, &he),
		  SOCK_ENONAME);
	CHECK_ERR(sock_gethostbyname_ex("nothing.test", AF_INET6, &he),
		  SOCK_ENONAME);
	CHECK_ERR(sock_gethostbyname("nothing.test", AF_INET, buf, sizeof(buf)),
		  SOCK_ENONAME);
	CHECK_ERR(sock_gethostbyaddr("127.0.0.99", &he), SOCK_ENONAME);
	CHECK_ERR(sock_gethostbyaddr("1.2.3.4.5.6", &he), SOCK_ENONAME);
	CHECK_ERR(sock_resolve(&a, "nothing.test:80", SOCK_STREAM, 2000),
		  SOCK_ENONAME);
	CHECK_ERR(sock_resolve(&a, "nothing.test:80", SOCK_STREAM, 0),
		  SOCK_ENONAME);
	CHECK_OK(sock_getfqdn("nothing.test", buf, sizeof(buf)));
	CHECK_STR(buf, "nothing.test");
}

static void gethostbyaddr_loopback(void)
{
	struct sock_hostent he;

	CHECK_OK(sock_gethostbyaddr("127.0.0.1", &he));
	CHECK_STR(he.name, "localhost");
	CHECK_INT(he.naddrs, >=, 1);
	check_hostent_addr(&he, 0, "127.0.0.1:0");
	CHECK_OK(sock_gethostbyaddr("localhost", &he));
	CHECK_STR(he.name, "localhost");
	CHECK_OK(sock_gethostbyaddr("127.1", &he));
	check_hostent_addr(&he, 0, "127.0.0.1:0");
}

static void hostname_get_set_and_fqdn(void)
{
	char buf[SOCK_HOSTNAME_MAX];
	struct utsname u;

	CHECK(uname(&u) == 0);
	CHECK_OK(sock_gethostname(buf, sizeof(buf)));
	CHECK_STR(buf, u.nodename);
	CHECK_ERR(sock_gethostname(buf, strlen(u.nodename)), -ENAMETOOLONG);
	CHECK_OK(sock_getfqdn("localhost", buf, sizeof(buf)));
	CHECK_STR(buf, "localhost");
	CHECK_OK(sock_getfqdn("", buf, sizeof(buf)));
	CHECK_INT(strlen(buf), >, 0);
	if (geteuid() != 0)
		SKIP("sethostname needs root (a UTS namespace)");
	if (unshare(CLONE_NEWUTS) < 0)
		SKIP("unshare(CLONE_NEWUTS): %s", strerror(errno));
	CHECK_OK(sock_sethostname("libsock-test"));
	CHECK_OK(sock_gethostname(buf, sizeof(buf)));
	CHECK_STR(buf, "libsock-test");
}

static void services_and_protocols(void)
{
	char buf[32];

	CHECK_INT(sock_getservbyname("echo", "tcp"), ==, 7);
	CHECK_INT(sock_getservbyname("echo", NULL), ==, 7);
	CHECK_INT(sock_getservbyname("daytime", "udp"), ==, 13);
	CHECK_ERR(sock_getservbyname("nosuchservice", "tcp"), SOCK_ENONAME);
	CHECK_OK(sock_getservbyport(7, "tcp", buf, sizeof(buf)));
	CHECK_STR(buf, "echo");
	CHECK_OK(sock_getservbyport(13, NULL, buf, sizeof(buf)));
	CHECK_STR(buf, "daytime");
	CHECK_ERR(sock_getservbyport(65432, "tcp", buf, sizeof(buf)),
		  SOCK_ENONAME);
	CHECK_ERR(sock_getservbyport(70000, "tcp", buf, sizeof(buf)), -EINVAL);
	CHECK_ERR(sock_getservbyport(-1, "tcp", buf, sizeof(buf)), -EINVAL);
	CHECK_ERR(sock_getservbyport(13, "tcp", buf, 4), -ENAMETOOLONG);
	CHECK_INT(sock_getprotobyname("tcp"), ==, 6);
	CHECK_INT(sock_getprotobyname("udp"), ==, 17);
	CHECK_INT(sock_getprotobyname("icmp"), ==, 1);
	CHECK_ERR(sock_getprotobyname("nosuchprotocol"), SOCK_ENONAME);
}

static void inet_pton_ntop_round_trip(void)
{
	static const char *const v4[] = { "0.0.0.0", "127.0.0.1",
					  "255.255.255.255" };
	static const char *const v6[] = { "::", "::1", "2001:db8::ff00:42:8329",
					  "::ffff:10.0.0.1" };
	unsigned char bin[16];
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < TEST_COUNT(v4); i++) {
		CHECK_OK(sock_inet_pton(AF_INET, v4[i], bin));
		CHECK_INT(sock_inet_ntop(AF_INET, bin, buf, sizeof(buf)), ==,
			  strlen(v4[i]));
		CHECK_STR(buf, v4[i]);
	}
	for (i = 0; i < TEST_COUNT(v6); i++) {
		CHECK_OK(sock_inet_pton(AF_INET6, v6[i], bin));
		CHECK_INT(sock_inet_ntop(AF_INET6, bin, buf, sizeof(buf)), ==,
			  strlen(v6[i]));
		CHECK_STR(buf, v6[i]);
	}
	CHECK_OK(sock_inet_pton(AF_INET, "10.20.30.40", bin));
	CHECK_INT(sock_get_be32(bin), ==, 0x0a141e28);
	CHECK_ERR(sock_inet_pton(AF_INET, "1.2.3.256", bin), SOCK_EBADADDR);
	CHECK_ERR(sock_inet_pton(AF_INET, "127.1", bin), SOCK_EBADADDR);
	CHECK_ERR(sock_inet_pton(AF_INET, "", bin), SOCK_EBADADDR);
	CHECK_ERR(sock_inet_pton(AF_INET6, "::g", bin), SOCK_EBADADDR);
	CHECK_ERR(sock_inet_pton(AF_INET6, "1.2.3.4", bin), SOCK_EBADADDR);
	CHECK_ERR(sock_inet_pton(AF_UNIX, "x", bin), -EAFNOSUPPORT);
	CHECK_ERR(sock_inet_ntop(AF_INET6, bin, buf, 3), -ENOSPC);
	CHECK_ERR(sock_inet_ntop(AF_UNIX, bin, buf, sizeof(buf)),
		  -EAFNOSUPPORT);
}

static void inet_aton_ntoa(void)
{
	static const char *const bad[] = { "",		"abc",	    "1.2.3.4.5",
					   "1.2.3.4 x", " 1.2.3.4", "1.2.3.4\n",
					   "256.0.0.1", "1..2" };
	struct in_addr in;
	char buf[INET_ADDRSTRLEN];
	size_t i;

	CHECK_OK(sock_inet_aton("127.1", &in));
	CHECK_INT(ntohl(in.s_addr), ==, 0x7f000001);
	CHECK_OK(sock_inet_aton("0x7f.1", &in));
	CHECK_INT(ntohl(in.s_addr), ==, 0x7f000001);
	CHECK_OK(sock_inet_aton("10.0.258", &in));
	CHECK_INT(sock_inet_ntoa(in, buf, sizeof(buf)), ==, 8);
	CHECK_STR(buf, "10.0.1.2");
	CHECK_ERR(sock_inet_ntoa(in, buf, 8), -ENOSPC);
	for (i = 0; i < TEST_COUNT(bad); i++)
		if (sock_inet_aton(bad[i], &in) != SOCK_EBADADDR)
			test_fail(__FILE__, __LINE__, "\"%s\" accepted",
				  bad[i]);
}

static void interfaces_name_and_index(void)
{
	struct sock_ifname list[64];
	char name[IF_NAMESIZE];
	bool found = false;
	int lo, n, i;

	lo = sock_if_nametoindex("lo");
	CHECK_INT(lo, >, 0);
	CHECK_OK(sock_if_indextoname((unsigned int)lo, name, sizeof(name)));
	CHECK_STR(name, "lo");
	CHECK_ERR(sock_if_indextoname((unsigned int)lo, name, 2), -ENOSPC);
	CHECK_ERR(sock_if_nametoindex("nosuch0"), -ENODEV);
	CHECK_ERR(sock_if_indextoname(0x7ffffff0, name, sizeof(name)), -ENXIO);
	n = sock_if_nameindex(list, TEST_COUNT(list));
	CHECK_INT(n, >=, 1);
	for (i = 0; i < n && i < (int)TEST_COUNT(list); i++)
		if (list[i].index == (unsigned int)lo)
			found = strcmp(list[i].name, "lo") == 0;
	CHECK(found);
	CHECK_INT(sock_if_nameindex(list, 0), ==, n);
}

static void has_ipv6_matches_the_kernel(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool can;
	int fd;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	can = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	CHECK_INT(sock_has_ipv6(), ==, can);
	if (can)
		CHECK(sock_has_dualstack_ipv6());
}

/* sock_bind() and sock_connect_to() resolve names through the same path. */
static void bind_and_connect_to_resolve_names(void)
{
	struct sock l, c;
	struct sock_addr a;
	char text[64];

	CHECK_OK(sock_open(&l, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_bind(&l, "localhost:0"));
	CHECK_OK(sock_listen_bound(&l, 1));
	CHECK_OK(sock_getsockname(&l, &a));
	snprintf(text, sizeof(text), "localhost:%d", sock_addr_port(&a));
	CHECK_OK(sock_open(&c, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_settimeout(&c, 2000));
	CHECK_OK(sock_connect_to(&c, text));
	sock_close(&c);
	/* The socket's family limits the lookup. */
	CHECK_OK(sock_open(&c, AF_INET6, SOCK_STREAM, 0));
	CHECK_ERR(sock_connect_to(&c, "127.0.0.1:7"), SOCK_ENODATA);
	CHECK_ERR(sock_bind(&c, "/tmp/x.sock"), -EAFNOSUPPORT);
	sock_close(&c);
	sock_close(&l);
}

/* Looking up names and services from many threads at once. */
#define THREADS 8
#define ROUNDS 40

static void *resolve_worker(void *arg)
{
	struct sock_addrinfo ai[4];
	struct sock_hostent he;
	struct sock_addr a;
	char buf[64];
	long bad = 0;
	int i;

	(void)arg;
	for (i = 0; i < ROUNDS; i++) {
		bad += sock_resolve(&a, "localhost:echo", SOCK_STREAM, 5000) ||
		       sock_addr_port(&a) != 7;
		bad += sock_getaddrinfo("localhost", "daytime", AF_INET,
					SOCK_DGRAM, 0, ai, 4, 5000) != 1 ||
		       sock_addr_port(&ai[0].addr) != 13;
		bad += sock_getservbyname("discard", "udp") != 9;
		bad += sock_getservbyport(13, "tcp", buf, sizeof(buf)) ||
		       strcmp(buf, "daytime") != 0;
		bad += sock_getprotobyname("udp") != 17;
		bad += sock_gethostbyname_ex("localhost", AF_INET, &he) ||
		       strcmp(he.name, "localhost") != 0;
		bad += sock_gethostbyaddr("127.0.0.1", &he) ||
		       strcmp(he.name, "localhost") != 0;
	}
	return (void *)bad;
}

static void threads_resolve_at_once(void)
{
	int i, base = test_threads_base();
	pthread_t t[THREADS];
	void *bad;

	for (i = 0; i < THREADS; i++)
		CHECK_INT(pthread_create(&t[i], NULL, resolve_worker, NULL), ==,
			  0);
	for (i = 0; i < THREADS; i++) {
		CHECK_INT(pthread_join(t[i], &bad), ==, 0);
		CHECK_INT((long)bad, ==, 0);
	}
	test_wait_threads(base);
}

/*
 * A resolver that never answers: a UDP socket on 127.0.0.1:53 of a private
 * network namespace, named in a private resolv.conf.  The lookup is given
 * up at the deadline; the worker goes on until the resolver's own timeout
 * (1 s here) and then frees the request, which the leak checkers
 * (valgrind, ASan) see at exit.
 */
static void silent_resolver(struct sock *dns)
{
	sandbox_names();
	CHECK_OK(sock_open(dns, AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(sock_bind(dns, "127.0.0.1:53"));
}

static void check_asked(struct sock *dns)
{
	char query[512];

	CHECK_OK(sock_settimeout(dns, 3000));
	CHECK_INT(sock_recv(dns, query, sizeof(query), 0), >, 12);
}

static void lookup_gives_up_at_deadline(void)
{
	struct sock_addrinfo ai[2];
	int base = test_threads_base();
	struct sock_addr a;
	long long t0, ms;
	struct sock dns;

	silent_resolver(&dns);
	t0 = test_now_ms();
	CHECK_ERR(sock_resolve(&a, "slow.test:80", SOCK_STREAM, 300),
		  -ETIMEDOUT);
	ms = test_now_ms() - t0;
	CHECK_INT(ms, >=, 250);
	CHECK_INT(ms, <, 300 + TEST_LATE_MS);
	CHECK_INT(a.len, ==, 0);
	check_asked(&dns);
	t0 = test_now_ms();
	CHECK_ERR(sock_getaddrinfo("slow.test", "80", AF_UNSPEC, SOCK_STREAM, 0,
				   ai, 2, 300),
		  -ETIMEDOUT);
	ms = test_now_ms() - t0;
	CHECK_INT(ms, >=, 250);
	CHECK_INT(ms, <, 300 + TEST_LATE_MS);
	/* Numeric text needs no resolver, whatever the deadline. */
	CHECK_OK(sock_resolve(&a, "127.0.0.1:80", SOCK_STREAM, 1));
	test_wait_threads(base);
	sock_close(&dns);
}

/* Timeout 0 bounds the socket, not the lookup: it waits for the answer. */
static void zero_timeout_lookup_waits_for_answer(void)
{
	int r, base = test_threads_base();
	struct sock_addr a;
	long long t0, ms;
	struct sock dns;

	silent_resolver(&dns);
	t0 = test_now_ms();
	r = sock_resolve(&a, "slow.test:80", SOCK_STREAM, 0);
	ms = test_now_ms() - t0;
	if (!is_resolver_code(r))
		test_fail(__FILE__, __LINE__, "got %d (%s)", r,
			  sock_strerror(r));
	CHECK_INT(ms, >=, 500);
	check_asked(&dns);
	CHECK_INT(test_threads(), ==, base);
	sock_close(&dns);
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(resolve_numeric_ipv4),
		TEST(resolve_numeric_ipv6),
		TEST(resolve_scoped_ipv6),
		TEST(resolve_service_names),
		TEST(resolve_rejects_unknown_service),
		TEST(resolve_empty_host_is_wildcard),
		TEST(resolve_rejects_bad_text),
		TEST(resolve_local_addresses),
		TEST(resolve_keeps_other_types),
		TEST(resolve_names_with_every_timeout),
		TEST(resolve_unknown_host_is_resolver_code),
		TEST(getaddrinfo_types_and_max),
		TEST(getaddrinfo_errors),
		TEST(getaddrinfo_keeps_resolver_order),
		TEST(getnameinfo_numeric_and_names),
		TEST(gethostbyname_families),
		TEST(gethostbyname_ex_localhost),
		TEST(hostent_from_hosts_file),
		TEST(unknown_names_are_not_found),
		TEST(gethostbyaddr_loopback),
		TEST(hostname_get_set_and_fqdn),
		TEST(services_and_protocols),
		TEST(inet_pton_ntop_round_trip),
		TEST(inet_aton_ntoa),
		TEST(interfaces_name_and_index),
		TEST(has_ipv6_matches_the_kernel),
		TEST(bind_and_connect_to_resolve_names),
		TEST(threads_resolve_at_once),
		TEST(lookup_gives_up_at_deadline),
		TEST(zero_timeout_lookup_waits_for_answer),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

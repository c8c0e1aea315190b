/* SPDX-License-Identifier: MIT */
/* connect_test.c -- create_connection and create_server: sock_connect, sock_listen */

#include "sandbox.h"
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* "host:port" text for port of s's bound address, on host. */
static void port_text(const struct sock *s, const char *host, char *buf,
		      size_t size)
{
	struct sock_addr a;

	CHECK_OK(sock_getsockname(s, &a));
	CHECK_INT(sock_addr_port(&a), >, 0);
	snprintf(buf, size, "%s:%d", host, sock_addr_port(&a));
}

/* "host:port" for a port of 127.0.0.1 on which nothing listens: bound,
 * read back, released. */
static void free_port_text(const char *host, char *buf, size_t size)
{
	struct sock s;

	CHECK_OK(sock_listen(&s, SOCK_STREAM, "127.0.0.1:0", 1, 0));
	port_text(&s, host, buf, size);
	sock_close(&s);
}

/* A new temporary directory and a socket path inside it. */
static void temp_path(char *dir, size_t dirsize, char *path, size_t size)
{
	snprintf(dir, dirsize, "/tmp/libsock-connect-XXXXXX");
	CHECK(mkdtemp(dir));
	snprintf(path, size, "%s/s.sock", dir);
}

/* Accept the connection c made to l and check that one byte crosses in
 * each direction; peer (may be NULL) receives the accepted peer. */
static void check_connected(struct sock *l, struct sock *c,
			    struct sock_addr *peer)
{
	struct sock conn;
	char byte = 'x';

	CHECK_INT(c->timeout_ms, ==, SOCK_FOREVER);
	CHECK_OK(sock_settimeout(l, 2000));
	CHECK_OK(sock_accept(l, &conn, peer));
	CHECK_OK(sock_settimeout(&conn, 2000));
	CHECK_OK(sock_settimeout(c, 2000));
	CHECK_INT(sock_send(c, "a", 1, 0), ==, 1);
	CHECK_INT(sock_recv(&conn, &byte, 1, 0), ==, 1);
	CHECK_INT(byte, ==, 'a');
	CHECK_INT(sock_send(&conn, "b", 1, 0), ==, 1);
	CHECK_INT(sock_recv(c, &byte, 1, 0), ==, 1);
	CHECK_INT(byte, ==, 'b');
	sock_close(&conn);
}

/*
 * both.test is ::1 and 127.0.0.1 (tried in that order, RFC 6724);
 * mixed.test is 10.9.8.7, unreachable in the namespace, and 127.0.0.1
 * (tried first: a destination without a route goes last).  The resolver
 * is a port no one answers on.
 */
static void sandbox_names(void)
{
	sandbox_enter();
	sandbox_file("/etc/hosts", "127.0.0.1 localhost\n"
				   "127.0.0.1 both.test\n"
				   "::1 both.test\n"
				   "10.9.8.7 mixed.test\n"
				   "127.0.0.1 mixed.test\n");
	sandbox_file("/etc/resolv.conf", "nameserver 127.0.0.1\n"
					 "options timeout:1 attempts:1\n");
}

static void check_first_family(const char *host, int family)
{
	struct sock_addrinfo ai[4];

	CHECK_INT(sock_getaddrinfo(host, "7", AF_UNSPEC, SOCK_STREAM, 0, ai, 4,
				   2000),
		  ==, 2);
	CHECK_INT(ai[0].family, ==, family);
}

static void connect_ipv4(void)
{
	struct sock l, c;
	struct sock_addr peer, local;
	char text[64];

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 4, 0));
	port_text(&l, "127.0.0.1", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	CHECK_INT(c.family, ==, AF_INET);
	CHECK_INT(c.type, ==, SOCK_STREAM);
	check_connected(&l, &c, &peer);
	CHECK_OK(sock_getsockname(&c, &local));
	CHECK(sock_addr_is_equal(&peer, &local));
	sock_close(&c);
	sock_close(&l);
}

static void connect_ipv6(void)
{
	struct sock l, c;
	char text[64];

	if (!sock_has_ipv6())
		SKIP("no IPv6 on this machine");
	CHECK_OK(sock_listen(&l, SOCK_STREAM, "[::1]:0", 4, 0));
	port_text(&l, "[::1]", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	CHECK_INT(c.family, ==, AF_INET6);
	check_connected(&l, &c, NULL);
	sock_close(&c);
	sock_close(&l);
}

static void connect_unix_path(void)
{
	char dir[64], path[96];
	struct sock l, c;

	temp_path(dir, sizeof(dir), path, sizeof(path));
	CHECK_OK(sock_listen(&l, SOCK_STREAM, path, 4, 0));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, path, 2000));
	CHECK_INT(c.family, ==, AF_UNIX);
	check_connected(&l, &c, NULL);
	sock_close(&c);
	/* Timeout 0: a Unix connect completes at once or not at all. */
	CHECK_OK(sock_connect(&c, SOCK_STREAM, path, 0));
	check_connected(&l, &c, NULL);
	sock_close(&c);
	sock_close(&l);
	unlink(path);
	rmdir(dir);
}

static void connect_abstract_name(void)
{
	struct sock l, c;
	char name[64];

	snprintf(name, sizeof(name), "@libsock-connect-%d", (int)getpid());
	CHECK_OK(sock_listen(&l, SOCK_SEQPACKET, name, 4, 0));
	CHECK_OK(sock_connect(&c, SOCK_SEQPACKET, name, 2000));
	CHECK_INT(c.type, ==, SOCK_SEQPACKET);
	check_connected(&l, &c, NULL);
	sock_close(&c);
	sock_close(&l);
}

static void connect_datagram(void)
{
	struct sock_addr from, local;
	char text[64], buf[8];
	struct sock srv, c;

	CHECK_OK(sock_listen(&srv, SOCK_DGRAM, "127.0.0.1:0", 0, 0));
	port_text(&srv, "127.0.0.1", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_DGRAM, text, 2000));
	CHECK_INT(c.type, ==, SOCK_DGRAM);
	CHECK_INT(sock_send(&c, "ping", 4, 0), ==, 4);
	CHECK_OK(sock_settimeout(&srv, 2000));
	CHECK_INT(sock_recvfrom(&srv, buf, sizeof(buf), &from, 0), ==, 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_OK(sock_getsockname(&c, &local));
	CHECK(sock_addr_is_equal(&from, &local));
	CHECK_INT(sock_sendto(&srv, "pong", 4, &from, 0), ==, 4);
	CHECK_OK(sock_settimeout(&c, 2000));
	CHECK_INT(sock_recv(&c, buf, sizeof(buf), 0), ==, 4);
	CHECK(memcmp(buf, "pong", 4) == 0);
	sock_close(&c);
	sock_close(&srv);
}

static void connect_refused(void)
{
	char text[64];
	struct sock c;

	free_port_text("127.0.0.1", text, sizeof(text));
	CHECK_ERR(sock_connect(&c, SOCK_STREAM, text, 2000), -ECONNREFUSED);
	CHECK_INT(c.fd, ==, -1);
	CHECK_ERR(sock_connect(&c, SOCK_STREAM, text, SOCK_FOREVER),
		  -ECONNREFUSED);
	CHECK_ERR(sock_connect(&c, SOCK_STREAM, "/nonexistent/libsock.sock",
			       2000),
		  -ENOENT);
	CHECK_INT(c.fd, ==, -1);
}

/* Timeout 0, as Python's create_connection(timeout=0): a TCP connect
 * still under way is a failure, and the socket is closed. */
static void connect_zero_timeout_tcp(void)
{
	char text[64];
	struct sock l, c;
	int r;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 4, 0));
	port_text(&l, "127.0.0.1", text, sizeof(text));
	r = sock_connect(&c, SOCK_STREAM, text, 0);
	if (r == 0)
		SKIP("the kernel completed a TCP connect at once");
	CHECK_ERR(r, -EINPROGRESS);
	CHECK_INT(c.fd, ==, -1);
	free_port_text("127.0.0.1", text, sizeof(text));
	r = sock_connect(&c, SOCK_STREAM, text, 0);
	CHECK(r == -EINPROGRESS || r == -ECONNREFUSED);
	CHECK_INT(c.fd, ==, -1);
	sock_close(&l);
}

/*
 * A listener of backlog 1 that never accepts queues two connections;
 * then the kernel drops further SYNs and a connect hears nothing.
 */
static void connect_times_out(void)
{
	struct sock l, c[8], late;
	long long t0, ms;
	char text[64];
	int i, n, err = 0;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 1, 0));
	port_text(&l, "127.0.0.1", text, sizeof(text));
	for (n = 0; n < 8; n++) {
		err = sock_connect(&c[n], SOCK_STREAM, text, 500);
		if (err)
			break;
	}
	if (n == 8)
		SKIP("the kernel completed 8 connections to a backlog of 1");
	CHECK_ERR(err, -ETIMEDOUT);
	t0 = test_now_ms();
	CHECK_ERR(sock_connect(&late, SOCK_STREAM, text, 300), -ETIMEDOUT);
	ms = test_now_ms() - t0;
	CHECK_INT(ms, >=, 250);
	CHECK_INT(ms, <, 300 + TEST_LATE_MS);
	CHECK_INT(late.fd, ==, -1);
	for (i = 0; i < n; i++)
		sock_close(&c[i]);
	sock_close(&l);
}

static void connect_from_source(void)
{
	char text[64], host[INET_ADDRSTRLEN];
	struct sock_addr peer, local;
	struct sock l, c;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 4, 0));
	port_text(&l, "127.0.0.1", text, sizeof(text));
	CHECK_OK(sock_connect_from(&c, SOCK_STREAM, text, "127.0.0.2:0", 2000));
	check_connected(&l, &c, &peer);
	CHECK_OK(sock_inet_ntop(AF_INET, &peer.u.in.sin_addr, host,
				sizeof(host)));
	CHECK_STR(host, "127.0.0.2");
	CHECK_OK(sock_getsockname(&c, &local));
	CHECK(sock_addr_is_equal(&peer, &local));
	sock_close(&c);
	/* A NULL source is plain sock_connect(). */
	CHECK_OK(sock_connect_from(&c, SOCK_STREAM, text, NULL, 2000));
	check_connected(&l, &c, &peer);
	CHECK_INT(ntohl(peer.u.in.sin_addr.s_addr), ==, 0x7f000001);
	sock_close(&c);
	sock_close(&l);
}

static void connect_from_bad_source(void)
{
	char text[64];
	struct sock l, c;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 4, 0));
	port_text(&l, "127.0.0.1", text, sizeof(text));
	CHECK_ERR(sock_connect_from(&c, SOCK_STREAM, text, "127.0.0.2", 2000),
		  SOCK_EBADADDR);
	CHECK_INT(c.fd, ==, -1);
	CHECK_ERR(sock_connect_from(&c, SOCK_STREAM, text, "[::1]:0", 2000),
		  SOCK_ENODATA);
	CHECK_INT(c.fd, ==, -1);
	/* 192.0.2.1 (TEST-NET-1) is no address of this machine. */
	CHECK_ERR(sock_connect_from(&c, SOCK_STREAM, text, "192.0.2.1:0", 2000),
		  -EADDRNOTAVAIL);
	CHECK_INT(c.fd, ==, -1);
	sock_close(&l);
}

static void connect_rejects_bad_text(void)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", "[::1",	    "256.0.0.1:80",
		"::1:80",    "",	   "1.2.3.4:99999",
	};
	struct sock c;
	size_t i;
	int r;

	for (i = 0; i < TEST_COUNT(bad); i++) {
		r = sock_connect(&c, SOCK_STREAM, bad[i], 1000);
		if (r != SOCK_EBADADDR)
			test_fail(__FILE__, __LINE__, "\"%s\": %d (%s)", bad[i],
				  r, sock_strerror(r));
		CHECK_INT(c.fd, ==, -1);
	}
	CHECK_ERR(sock_connect(&c, 0, "127.0.0.1:7", 1000), -EINVAL);
	CHECK_ERR(sock_listen(&c, SOCK_STREAM, "nonsense", 0, 0),
		  SOCK_EBADADDR);
	CHECK_INT(c.fd, ==, -1);
	CHECK_ERR(sock_listen(&c, 0, "127.0.0.1:0", 0, 0), -EINVAL);
}

static void connect_unknown_host(void)
{
	struct sock c;
	int r;

	r = sock_connect(&c, SOCK_STREAM, "no.such.host.invalid:80", 10000);
	if (r == -ETIMEDOUT)
		SKIP("the system's resolver gave no answer in 10 s");
	if (r > SOCK_ENONAME || r < SOCK_ERESOLVE)
		test_fail(__FILE__, __LINE__, "got %d (%s)", r,
			  sock_strerror(r));
	CHECK_INT(c.fd, ==, -1);
}

static void connect_localhost_name(void)
{
	struct sock_addr peer;
	char text[64];
	struct sock l, c;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "localhost:0", 4, 0));
	CHECK_INT(l.family, ==, AF_INET);
	port_text(&l, "localhost", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	check_connected(&l, &c, &peer);
	CHECK(sock_addr_is_loopback(&peer));
	sock_close(&c);
	sock_close(&l);
}

/* Only the second address listens: the first one's refusal is passed. */
static void connect_tries_each_address(void)
{
	struct sock l, c;
	char text[64];

	sandbox_names();
	check_first_family("both.test", AF_INET6);
	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 4, 0));
	port_text(&l, "both.test", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	CHECK_INT(c.family, ==, AF_INET);
	check_connected(&l, &c, NULL);
	sock_close(&c);
	sock_close(&l);
}

/* Every attempt fails; the refusal, not an earlier local error (the IPv4
 * source cannot serve ::1) nor a later unreachable network, is told. */
static void connect_reports_most_telling_error(void)
{
	char text[64];
	struct sock c;

	sandbox_names();
	check_first_family("both.test", AF_INET6);
	check_first_family("mixed.test", AF_INET);
	CHECK_ERR(sock_connect(&c, SOCK_STREAM, "10.9.8.7:80", 2000),
		  -ENETUNREACH);
	free_port_text("both.test", text, sizeof(text));
	CHECK_ERR(sock_connect_from(&c, SOCK_STREAM, text, "127.0.0.2:0", 2000),
		  -ECONNREFUSED);
	CHECK_INT(c.fd, ==, -1);
	CHECK_ERR(sock_connect_from(&c, SOCK_STREAM, text, "[::1]:0", 2000),
		  -ECONNREFUSED);
	CHECK_ERR(sock_connect(&c, SOCK_STREAM, "mixed.test:80", 2000),
		  -ECONNREFUSED);
	CHECK_INT(c.fd, ==, -1);
}

/* The one deadline covers the lookup: a silent resolver times it out. */
static void connect_deadline_covers_lookup(void)
{
	int base = test_threads_base();
	struct sock dns, c;
	long long t0, ms;

	sandbox_names();
	CHECK_OK(sock_open(&dns, AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(sock_bind(&dns, "127.0.0.1:53"));
	t0 = test_now_ms();
	CHECK_ERR(sock_connect(&c, SOCK_STREAM, "slow.test:80", 300),
		  -ETIMEDOUT);
	ms = test_now_ms() - t0;
	CHECK_INT(ms, >=, 250);
	CHECK_INT(ms, <, 300 + TEST_LATE_MS);
	CHECK_INT(c.fd, ==, -1);
	/* The abandoned lookup ends with the resolver's 1 s timeout. */
	test_wait_threads(base);
	sock_close(&dns);
}

static void listen_wildcard(void)
{
	char text[64], buf[SOCK_ADDR_STRLEN];
	struct sock_addr a;
	struct sock l, c;
	int v;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, ":0", 0, 0));
	CHECK_INT(l.family, ==, AF_INET);
	CHECK_OK(sock_getsockname(&l, &a));
	CHECK_OK(sock_addr_set_port(&a, 0));
	CHECK_OK(sock_addr_format(&a, buf, sizeof(buf)));
	CHECK_STR(buf, "0.0.0.0:0");
	CHECK_OK(sock_getsockopt(&l, SOL_SOCKET, SO_REUSEADDR, &v));
	CHECK_INT(v, ==, 1);
	CHECK_OK(sock_getsockopt(&l, SOL_SOCKET, SO_ACCEPTCONN, &v));
	CHECK_INT(v, ==, 1);
	CHECK_OK(sock_getsockopt(&l, SOL_SOCKET, SO_REUSEPORT, &v));
	CHECK_INT(v, ==, 0);
	port_text(&l, "127.0.0.1", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	check_connected(&l, &c, NULL);
	sock_close(&c);
	sock_close(&l);
}

static void listen_ipv6_only(void)
{
	char text[64];
	struct sock l, c;
	int v;

	if (!sock_has_ipv6())
		SKIP("no IPv6 on this machine");
	CHECK_OK(sock_listen(&l, SOCK_STREAM, "[::1]:0", 0, 0));
	CHECK_INT(l.family, ==, AF_INET6);
	CHECK_OK(sock_getsockopt(&l, IPPROTO_IPV6, IPV6_V6ONLY, &v));
	CHECK_INT(v, ==, 1);
	sock_close(&l);
	/* [::] without DUALSTACK takes no IPv4 connection. */
	CHECK_OK(sock_listen(&l, SOCK_STREAM, "[::]:0", 0, 0));
	CHECK_OK(sock_getsockopt(&l, IPPROTO_IPV6, IPV6_V6ONLY, &v));
	CHECK_INT(v, ==, 1);
	port_text(&l, "127.0.0.1", text, sizeof(text));
	CHECK_ERR(sock_connect(&c, SOCK_STREAM, text, 2000), -ECONNREFUSED);
	sock_close(&l);
}

static void listen_dualstack(void)
{
	char text[64], buf[SOCK_ADDR_STRLEN];
	struct sock_addr peer, a;
	struct sock l, c;
	int v;

	if (!sock_has_dualstack_ipv6())
		SKIP("no dual-stack IPv6 on this machine");
	CHECK_OK(sock_listen(&l, SOCK_STREAM, "[::]:0", 0,
			     SOCK_LISTEN_DUALSTACK));
	CHECK_OK(sock_getsockopt(&l, IPPROTO_IPV6, IPV6_V6ONLY, &v));
	CHECK_INT(v, ==, 0);
	port_text(&l, "127.0.0.1", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	check_connected(&l, &c, &peer);
	CHECK_INT(sock_addr_family(&peer), ==, AF_INET6);
	CHECK_OK(sock_addr_set_port(&peer, 0));
	CHECK_OK(sock_addr_format(&peer, buf, sizeof(buf)));
	CHECK_STR(buf, "[::ffff:127.0.0.1]:0");
	sock_close(&c);
	sock_close(&l);
	/* The wildcard ":port" becomes [::] for both families. */
	CHECK_OK(sock_listen(&l, SOCK_STREAM, ":0", 0, SOCK_LISTEN_DUALSTACK));
	CHECK_INT(l.family, ==, AF_INET6);
	CHECK_OK(sock_getsockname(&l, &a));
	CHECK(IN6_IS_ADDR_UNSPECIFIED(&a.u.in6.sin6_addr));
	port_text(&l, "[::1]", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	check_connected(&l, &c, NULL);
	sock_close(&c);
	port_text(&l, "127.0.0.1", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	check_connected(&l, &c, NULL);
	sock_close(&c);
	sock_close(&l);
}

static void listen_reuseport(void)
{
	struct sock a, b, c;
	char text[64];
	int v;

	CHECK_OK(sock_listen(&a, SOCK_STREAM, "127.0.0.1:0", 0,
			     SOCK_LISTEN_REUSEPORT));
	port_text(&a, "127.0.0.1", text, sizeof(text));
	CHECK_OK(sock_getsockopt(&a, SOL_SOCKET, SO_REUSEPORT, &v));
	CHECK_INT(v, ==, 1);
	CHECK_ERR(sock_listen(&b, SOCK_STREAM, text, 0, 0), -EADDRINUSE);
	CHECK_INT(b.fd, ==, -1);
	CHECK_OK(sock_listen(&b, SOCK_STREAM, text, 0, SOCK_LISTEN_REUSEPORT));
	sock_close(&a);
	CHECK_OK(sock_connect(&c, SOCK_STREAM, text, 2000));
	check_connected(&b, &c, NULL);
	sock_close(&c);
	sock_close(&b);
}

static void listen_address_in_use(void)
{
	struct sock a, b;
	char text[64];

	CHECK_OK(sock_listen(&a, SOCK_STREAM, "127.0.0.1:0", 0, 0));
	port_text(&a, "127.0.0.1", text, sizeof(text));
	CHECK_ERR(sock_listen(&b, SOCK_STREAM, text, 0, 0), -EADDRINUSE);
	CHECK_INT(b.fd, ==, -1);
	sock_close(&a);
	/* SO_REUSEADDR: the port is free again at once. */
	CHECK_OK(sock_listen(&b, SOCK_STREAM, text, 0, 0));
	sock_close(&b);
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void listen_unix_unlinks_stale_file(void)
{
	char dir[64], path[96], buf[4];
	struct sock l, l2, c, probe;
	int fd;

	temp_path(dir, sizeof(dir), path, sizeof(path));
	CHECK_OK(sock_listen(&l, SOCK_STREAM, path, 0, 0));
	sock_close(&l);
	CHECK(path_exists(path));
	CHECK_ERR(sock_listen(&l, SOCK_STREAM, path, 0, 0), -EADDRINUSE);
	CHECK_INT(l.fd, ==, -1);
	CHECK_OK(sock_listen(&l, SOCK_STREAM, path, 0, SOCK_LISTEN_UNLINK));
	/* A live listener stays; it sees the probe connect and close. */
	CHECK_ERR(sock_listen(&l2, SOCK_STREAM, path, 0, SOCK_LISTEN_UNLINK),
		  -EADDRINUSE);
	CHECK_INT(l2.fd, ==, -1);
	CHECK_OK(sock_settimeout(&l, 2000));
	CHECK_OK(sock_accept(&l, &probe, NULL));
	CHECK_OK(sock_settimeout(&probe, 2000));
	CHECK_INT(sock_recv(&probe, buf, sizeof(buf), 0), ==, 0);
	sock_close(&probe);
	CHECK_OK(sock_connect(&c, SOCK_STREAM, path, 2000));
	check_connected(&l, &c, NULL);
	sock_close(&c);
	sock_close(&l);
	/* Not a socket: left alone. */
	CHECK(unlink(path) == 0);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	CHECK_ERR(sock_listen(&l, SOCK_STREAM, path, 0, SOCK_LISTEN_UNLINK),
		  -EADDRINUSE);
	CHECK(path_exists(path));
	unlink(path);
	rmdir(dir);
}

static void listen_unix_datagram_stale_file(void)
{
	char dir[64], path[96], buf[4];
	struct sock l, c;
	int v;

	temp_path(dir, sizeof(dir), path, sizeof(path));
	CHECK_OK(sock_listen(&l, SOCK_DGRAM, path, 0, 0));
	CHECK_OK(sock_getsockopt(&l, SOL_SOCKET, SO_ACCEPTCONN, &v));
	CHECK_INT(v, ==, 0);
	/* A live datagram socket answers a connect: not stale. */
	CHECK_ERR(sock_listen(&c, SOCK_DGRAM, path, 0, SOCK_LISTEN_UNLINK),
		  -EADDRINUSE);
	sock_close(&l);
	CHECK_OK(sock_listen(&l, SOCK_DGRAM, path, 0, SOCK_LISTEN_UNLINK));
	CHECK_OK(sock_connect(&c, SOCK_DGRAM, path, 2000));
	CHECK_INT(sock_send(&c, "hi", 2, 0), ==, 2);
	CHECK_OK(sock_settimeout(&l, 2000));
	CHECK_INT(sock_recv(&l, buf, sizeof(buf), 0), ==, 2);
	sock_close(&c);
	sock_close(&l);
	unlink(path);
	rmdir(dir);
}

static void listen_datagram_is_only_bound(void)
{
	struct sock_addr from;
	char text[64], buf[8];
	struct sock l, c;
	int v;

	CHECK_OK(sock_listen(&l, SOCK_DGRAM, ":0", 0, 0));
	CHECK_INT(l.type, ==, SOCK_DGRAM);
	CHECK_OK(sock_getsockopt(&l, SOL_SOCKET, SO_ACCEPTCONN, &v));
	CHECK_INT(v, ==, 0);
	port_text(&l, "127.0.0.1", text, sizeof(text));
	CHECK_OK(sock_connect(&c, SOCK_DGRAM, text, 2000));
	CHECK_INT(sock_send(&c, "abc", 3, 0), ==, 3);
	CHECK_OK(sock_settimeout(&l, 2000));
	CHECK_INT(sock_recvfrom(&l, buf, sizeof(buf), &from, 0), ==, 3);
	CHECK(sock_addr_is_loopback(&from));
	sock_close(&c);
	sock_close(&l);
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(connect_ipv4),
		TEST(connect_ipv6),
		TEST(connect_unix_path),
		TEST(connect_abstract_name),
		TEST(connect_datagram),
		TEST(connect_refused),
		TEST(connect_zero_timeout_tcp),
		TEST(connect_times_out),
		TEST(connect_from_source),
		TEST(connect_from_bad_source),
		TEST(connect_rejects_bad_text),
		TEST(connect_unknown_host),
		TEST(connect_localhost_name),
		TEST(connect_tries_each_address),
		TEST(connect_reports_most_telling_error),
		TEST(connect_deadline_covers_lookup),
		TEST(listen_wildcard),
		TEST(listen_ipv6_only),
		TEST(listen_dualstack),
		TEST(listen_reuseport),
		TEST(listen_address_in_use),
		TEST(listen_unix_unlinks_stale_file),
		TEST(listen_unix_datagram_stale_file),
		TEST(listen_datagram_is_only_bound),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

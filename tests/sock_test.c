/* SPDX-License-Identifier: MIT */
/* sock_test.c -- the socket object: lifecycle, timeouts, options, connect */

#include "test.h"

#include <sys/wait.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

/* Every descriptor the library makes is non-blocking and close-on-exec. */
static void check_fd_flags(int fd)
{
	CHECK(fd >= 0);
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static bool wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 2000) == 1;
}

/* A TCP listener on 127.0.0.1 and a port the kernel chose. */
static void listen_tcp4(struct sock *l, struct sock_addr *addr)
{
	CHECK_OK(sock_open(l, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_bind(l, "127.0.0.1:0"));
	CHECK_OK(sock_listen_bound(l, 0));
	CHECK_OK(sock_getsockname(l, addr));
	CHECK_INT(sock_addr_port(addr), >, 0);
}

/* A Unix socket path in a fresh directory, removed when the test ends. */
static char unix_dir[64];
static char unix_path[96];

static void remove_unix_path(void)
{
	unlink(unix_path);
	rmdir(unix_dir);
}

static const char *make_unix_path(void)
{
	snprintf(unix_dir, sizeof(unix_dir), "/tmp/libsock-test-XXXXXX");
	CHECK(mkdtemp(unix_dir) != NULL);
	snprintf(unix_path, sizeof(unix_path), "%s/s.sock", unix_dir);
	atexit(remove_unix_path);
	return unix_path;
}

static void open_makes_nonblocking_cloexec_socket(void)
{
	static const int kinds[][2] = {
		{ AF_INET, SOCK_STREAM },    { AF_INET, SOCK_DGRAM },
		{ AF_UNIX, SOCK_STREAM },    { AF_UNIX, SOCK_DGRAM },
		{ AF_UNIX, SOCK_SEQPACKET },
	};
	struct sock s;
	size_t i;

	for (i = 0; i < TEST_COUNT(kinds); i++) {
		CHECK_OK(sock_open(&s, kinds[i][0], kinds[i][1], 0));
		check_fd_flags(s.fd);
		CHECK_INT(s.family, ==, kinds[i][0]);
		CHECK_INT(s.type, ==, kinds[i][1]);
		CHECK_INT(s.timeout_ms, ==, SOCK_FOREVER);
		CHECK_OK(sock_close(&s));
	}
}

static void open_strips_flags_from_type(void)
{
	struct sock s;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CHECK_INT(s.type, ==, SOCK_STREAM);
	check_fd_flags(s.fd);
	CHECK_OK(sock_close(&s));
}

static void open_rejects_bogus_family(void)
{
	struct sock s;

	s.fd = 1234;
	CHECK_ERR(sock_open(&s, 4242, SOCK_STREAM, 0), -EAFNOSUPPORT);
	CHECK_INT(s.fd, ==, -1);
	CHECK_OK(sock_close(&s));
}

static void fromfd_reads_back_family_type_protocol(void)
{
	struct sock s;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	CHECK(fd >= 0);
	CHECK_OK(sock_fromfd(&s, fd));
	CHECK_INT(s.fd, !=, fd);
	check_fd_flags(s.fd);
	CHECK_INT(s.family, ==, AF_INET);
	CHECK_INT(s.type, ==, SOCK_DGRAM);
	CHECK_INT(s.protocol, ==, IPPROTO_UDP);
	CHECK_INT(s.timeout_ms, ==, SOCK_FOREVER);
	CHECK_OK(sock_close(&s));
	CHECK(fd_is_open(fd)); /* the caller keeps its descriptor */
	close(fd);
}

static void fromfd_rejects_pipe(void)
{
	struct sock s;
	int p[2], free_fd;

	CHECK(pipe(p) == 0);
	free_fd = dup(p[0]);
	CHECK(free_fd >= 0);
	close(free_fd);
	CHECK_ERR(sock_fromfd(&s, p[0]), -ENOTSOCK);
	CHECK_INT(s.fd, ==, -1);
	/* The duplicate it made was closed: the lowest free descriptor is
	 * the same as before. */
	CHECK_INT(dup(p[0]), ==, free_fd);
	close(free_fd);
	close(p[0]);
	close(p[1]);
}

/*
 * What sock.h promises: O_NONBLOCK is the socket's, so every descriptor of
 * it sees the flag (an inetd's standard output is its standard input),
 * and it stays after sock_close until the caller clears it.
 */
static void fromfd_makes_every_holder_of_the_socket_nonblocking(void)
{
	int fd, other, flags;
	struct sock s;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fd >= 0);
	other = dup(fd);
	CHECK(other >= 0);
	CHECK(!(fcntl(other, F_GETFL) & O_NONBLOCK));
	CHECK_OK(sock_fromfd(&s, fd));
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(other, F_GETFL) & O_NONBLOCK);
	CHECK_OK(sock_close(&s));
	flags = fcntl(other, F_GETFL);
	CHECK(flags & O_NONBLOCK);
	/* The remedy sock.h gives, before handing the socket back. */
	CHECK_INT(fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), ==, 0);
	CHECK(!(fcntl(other, F_GETFL) & O_NONBLOCK));
	close(other);
	close(fd);
}

/* A descriptor sock_fromfd refuses keeps its flags. */
static void fromfd_failure_leaves_flags_alone(void)
{
	struct sock s;
	int p[2];

	CHECK(pipe(p) == 0);
	CHECK_ERR(sock_fromfd(&s, p[0]), -ENOTSOCK);
	CHECK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	close(p[0]);
	close(p[1]);
}

static void fromfd_rejects_bad_descriptor(void)
{
	struct sock s;

	CHECK_ERR(sock_fromfd(&s, 9999), -EBADF);
	CHECK_INT(s.fd, ==, -1);
}

static void socketpair_connects_two_sockets(void)
{
	struct sock p[2];
	char buf[8];

	CHECK_OK(sock_socketpair(p, 0, SOCK_STREAM, 0));
	check_fd_flags(p[0].fd);
	check_fd_flags(p[1].fd);
	CHECK_INT(p[0].family, ==, AF_UNIX);
	CHECK_INT(p[1].type, ==, SOCK_STREAM);
	CHECK_INT(write(p[0].fd, "ping", 4), ==, 4);
	CHECK_INT(read(p[1].fd, buf, sizeof(buf)), ==, 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_INT(write(p[1].fd, "pong", 4), ==, 4);
	CHECK_INT(read(p[0].fd, buf, sizeof(buf)), ==, 4);
	CHECK(memcmp(buf, "pong", 4) == 0);
	CHECK_OK(sock_close(&p[0]));
	CHECK_OK(sock_close(&p[1]));
}

static void socketpair_rejects_inet(void)
{
	struct sock p[2];
	int err = sock_socketpair(p, AF_INET, SOCK_STREAM, 0);

	CHECK(err == -EOPNOTSUPP || err == -EAFNOSUPPORT);
	CHECK_INT(p[0].fd, ==, -1);
	CHECK_INT(p[1].fd, ==, -1);
}

static void dup_keeps_timeout(void)
{
	struct sock s, d;
	struct sock_addr a, b;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_DGRAM, 0));
	CHECK_OK(sock_bind(&s, "127.0.0.1:0"));
	CHECK_OK(sock_settimeout(&s, 1234));
	CHECK_OK(sock_dup(&s, &d));
	CHECK_INT(d.fd, !=, s.fd);
	check_fd_flags(d.fd);
	CHECK_INT(d.timeout_ms, ==, 1234);
	CHECK_INT(d.family, ==, AF_INET);
	CHECK_INT(d.type, ==, SOCK_DGRAM);
	/* The same socket underneath. */
	CHECK_OK(sock_getsockname(&s, &a));
	CHECK_OK(sock_getsockname(&d, &b));
	CHECK(sock_addr_is_equal(&a, &b));
	CHECK_OK(sock_close(&s));
	CHECK_OK(sock_getsockname(&d, &b));
	CHECK_OK(sock_close(&d));
}

static void dup_of_closed_socket_is_ebadf(void)
{
	struct sock s = SOCK_CLOSED, d;

	CHECK_ERR(sock_dup(&s, &d), -EBADF);
	CHECK_INT(d.fd, ==, -1);
}

static void detach_gives_up_the_descriptor(void)
{
	struct sock s;
	int fd;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM, 0));
	fd = s.fd;
	CHECK_INT(sock_detach(&s), ==, fd);
	CHECK_INT(s.fd, ==, -1);
	CHECK_INT(sock_fileno(&s), ==, -1);
	CHECK_OK(sock_close(&s));
	CHECK(fd_is_open(fd));
	close(fd);
	CHECK_INT(sock_detach(&s), ==, -1);
}

static void close_twice_is_fine(void)
{
	struct sock s;
	int fd;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM, 0));
	fd = s.fd;
	CHECK_INT(sock_fileno(&s), ==, fd);
	CHECK_INT(sock_close(&s), ==, 0);
	CHECK(!fd_is_open(fd));
	CHECK_INT(s.fd, ==, -1);
	CHECK_INT(sock_close(&s), ==, 0);
}

static void timeout_has_python_meanings(void)
{
	struct sock s;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM, 0));
	CHECK_INT(sock_gettimeout(&s), ==, SOCK_FOREVER);
	CHECK(sock_getblocking(&s));
	CHECK_OK(sock_settimeout(&s, 0));
	CHECK_INT(sock_gettimeout(&s), ==, 0);
	CHECK(!sock_getblocking(&s));
	CHECK_OK(sock_settimeout(&s, 250));
	CHECK_INT(sock_gettimeout(&s), ==, 250);
	CHECK(sock_getblocking(&s));
	CHECK_ERR(sock_settimeout(&s, -2), -EINVAL);
	CHECK_INT(sock_gettimeout(&s), ==, 250);
	sock_setblocking(&s, false);
	CHECK_INT(sock_gettimeout(&s), ==, 0);
	sock_setblocking(&s, true);
	CHECK_INT(sock_gettimeout(&s), ==, SOCK_FOREVER);
	CHECK_OK(sock_settimeout(&s, SOCK_FOREVER));
	CHECK(sock_getblocking(&s));
	/* Blocking mode is the library's: the descriptor stays non-blocking. */
	check_fd_flags(s.fd);
	CHECK_OK(sock_close(&s));
}

static void sockopt_int_round_trip(void)
{
	struct sock s;
	int v;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_getsockopt(&s, SOL_SOCKET, SO_REUSEADDR, &v));
	CHECK_INT(v, ==, 0);
	CHECK_OK(sock_setsockopt(&s, SOL_SOCKET, SO_REUSEADDR, 1));
	CHECK_OK(sock_getsockopt(&s, SOL_SOCKET, SO_REUSEADDR, &v));
	CHECK_INT(v, ==, 1);
	CHECK_OK(sock_getsockopt(&s, SOL_SOCKET, SO_TYPE, &v));
	CHECK_INT(v, ==, SOCK_STREAM);
	/* Linux doubles the buffer sizes it is given. */
	CHECK_OK(sock_setsockopt(&s, SOL_SOCKET, SO_RCVBUF, 8192));
	CHECK_OK(sock_getsockopt(&s, SOL_SOCKET, SO_RCVBUF, &v));
	CHECK_INT(v, >=, 8192);
	CHECK_ERR(sock_setsockopt(&s, SOL_SOCKET, 31337, 1), -ENOPROTOOPT);
	CHECK_ERR(sock_getsockopt(&s, SOL_SOCKET, 31337, &v), -ENOPROTOOPT);
	CHECK_OK(sock_close(&s));
	CHECK_ERR(sock_setsockopt(&s, SOL_SOCKET, SO_REUSEADDR, 1), -EBADF);
}

static void sockopt_buf_round_trip(void)
{
	struct linger in = { .l_onoff = 1, .l_linger = 7 }, out;
	socklen_t len = sizeof(out);
	struct sock s;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_setsockopt_buf(&s, SOL_SOCKET, SO_LINGER, &in,
				     sizeof(in)));
	memset(&out, 0, sizeof(out));
	CHECK_OK(sock_getsockopt_buf(&s, SOL_SOCKET, SO_LINGER, &out, &len));
	CHECK_INT(len, ==, sizeof(out));
	CHECK_INT(out.l_onoff, ==, 1);
	CHECK_INT(out.l_linger, ==, 7);
	CHECK_ERR(sock_setsockopt_buf(&s, SOL_SOCKET, SO_LINGER, &in, 1),
		  -EINVAL);
	CHECK_OK(sock_close(&s));
}

static void bind_listen_accept_reports_peer(void)
{
	struct sock l, c, conn;
	struct sock_addr la, ca, peer, got;

	listen_tcp4(&l, &la);
	CHECK_INT(sock_addr_family(&la), ==, AF_INET);
	CHECK_OK(sock_open(&c, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_connect_addr(&c, &la));
	CHECK_OK(sock_getsockname(&c, &ca));
	CHECK_OK(sock_settimeout(&l, 2000));
	CHECK_OK(sock_accept(&l, &conn, &peer));
	check_fd_flags(conn.fd);
	CHECK_INT(conn.timeout_ms, ==, SOCK_FOREVER);
	CHECK_INT(conn.family, ==, AF_INET);
	CHECK_INT(conn.type, ==, SOCK_STREAM);
	CHECK(sock_addr_is_equal(&peer, &ca));
	CHECK_OK(sock_getpeername(&conn, &got));
	CHECK(sock_addr_is_equal(&got, &ca));
	CHECK_OK(sock_getpeername(&c, &got));
	CHECK(sock_addr_is_equal(&got, &la));
	CHECK_OK(sock_close(&conn));
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&l));
}

static void accept_without_peer_argument(void)
{
	struct sock l, c, conn;
	struct sock_addr la;

	listen_tcp4(&l, &la);
	CHECK_OK(sock_open(&c, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_connect_addr(&c, &la));
	CHECK_OK(sock_accept(&l, &conn, NULL));
	CHECK(conn.fd >= 0);
	CHECK_OK(sock_close(&conn));
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&l));
}

/* Timed on the fastest of five tries: a loaded machine may pause any
 * one call, while a call that waits waits in each. */
static void accept_with_zero_timeout_is_eagain(void)
{
	long long t0, fastest = LLONG_MAX;
	struct sock l, conn;
	struct sock_addr la;
	int i;

	listen_tcp4(&l, &la);
	sock_setblocking(&l, false);
	for (i = 0; i < 5; i++) {
		t0 = test_now_ms();
		CHECK_ERR(sock_accept(&l, &conn, NULL), -EAGAIN);
		if (test_now_ms() - t0 < fastest)
			fastest = test_now_ms() - t0;
		CHECK_INT(conn.fd, ==, -1);
	}
	CHECK_INT(fastest, <, 100);
	CHECK_OK(sock_close(&l));
}

static void accept_with_timeout_times_out(void)
{
	struct sock l, conn;
	struct sock_addr la;
	long long t0, elapsed;

	listen_tcp4(&l, &la);
	CHECK_OK(sock_settimeout(&l, 200));
	t0 = test_now_ms();
	CHECK_ERR(sock_accept(&l, &conn, NULL), -ETIMEDOUT);
	elapsed = test_now_ms() - t0;
	CHECK_INT(elapsed, >=, 150);
	CHECK_INT(elapsed, <, 200 + TEST_LATE_MS);
	CHECK_INT(conn.fd, ==, -1);
	CHECK_OK(sock_close(&l));
}

/* Connect c to listener l's address text and check both ends talk. */
static void check_connected_pair(struct sock *l, struct sock *c)
{
	struct sock conn;
	char buf[8];

	CHECK_OK(sock_settimeout(l, 2000));
	CHECK_OK(sock_accept(l, &conn, NULL));
	CHECK_INT(write(c->fd, "hi", 2), ==, 2);
	CHECK(wait_readable(conn.fd));
	CHECK_INT(read(conn.fd, buf, sizeof(buf)), ==, 2);
	CHECK(memcmp(buf, "hi", 2) == 0);
	CHECK_OK(sock_close(&conn));
}

static void connect_to_ipv4_text(void)
{
	struct sock l, c;
	struct sock_addr la;
	char text[SOCK_ADDR_STRLEN];

	listen_tcp4(&l, &la);
	CHECK_INT(sock_addr_format(&la, text, sizeof(text)), >, 0);
	CHECK_OK(sock_open(&c, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_settimeout(&c, 2000));
	CHECK_OK(sock_connect_to(&c, text));
	check_connected_pair(&l, &c);
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&l));
}

static void connect_to_ipv6_loopback(void)
{
	struct sock l, c;
	struct sock_addr la, ca;
	char text[SOCK_ADDR_STRLEN];
	int err;

	if (sock_open(&l, AF_INET6, SOCK_STREAM, 0) < 0)
		SKIP("no IPv6 sockets");
	err = sock_bind(&l, "[::1]:0");
	if (err == -EADDRNOTAVAIL || err == -EAFNOSUPPORT)
		SKIP("no ::1 on this machine");
	CHECK_OK(err);
	CHECK_OK(sock_listen_bound(&l, 0));
	CHECK_OK(sock_getsockname(&l, &la));
	CHECK_INT(sock_addr_format(&la, text, sizeof(text)), >, 0);
	CHECK(strncmp(text, "[::1]:", 6) == 0);
	CHECK_OK(sock_open(&c, AF_INET6, SOCK_STREAM, 0));
	CHECK_OK(sock_connect_to(&c, text));
	CHECK_OK(sock_getpeername(&c, &ca));
	CHECK(sock_addr_is_equal(&ca, &la));
	check_connected_pair(&l, &c);
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&l));
}

static void connect_to_unix_path(void)
{
	const char *path = make_unix_path();
	struct sock l, c;
	struct sock_addr la, ca;
	char text[SOCK_ADDR_STRLEN];
	struct stat st;

	CHECK_OK(sock_open(&l, AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(sock_bind(&l, path));
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_OK(sock_listen_bound(&l, 0));
	CHECK_OK(sock_getsockname(&l, &la));
	CHECK_INT(sock_addr_format(&la, text, sizeof(text)), >, 0);
	CHECK_STR(text, path);
	CHECK_OK(sock_open(&c, AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(sock_connect_to(&c, path));
	CHECK_OK(sock_getpeername(&c, &ca));
	CHECK(sock_addr_is_equal(&ca, &la));
	check_connected_pair(&l, &c);
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&l));
	/* Binding a path that exists fails. */
	CHECK_OK(sock_open(&l, AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(sock_bind(&l, path), -EADDRINUSE);
	CHECK_OK(sock_close(&l));
}

static void connect_to_abstract_name(void)
{
	struct sock l, c;
	struct sock_addr la, ca;
	char name[64];

	snprintf(name, sizeof(name), "@libsock-sock-test-%d", (int)getpid());
	CHECK_OK(sock_open(&l, AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(sock_bind(&l, name));
	CHECK_OK(sock_listen_bound(&l, 0));
	CHECK_OK(sock_getsockname(&l, &la));
	CHECK_OK(sock_open(&c, AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(sock_connect_to(&c, name));
	CHECK_OK(sock_getpeername(&c, &ca));
	CHECK(sock_addr_is_equal(&ca, &la));
	check_connected_pair(&l, &c);
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&l));
}

static void connect_to_closed_port_is_refused(void)
{
	struct sock l, c;
	struct sock_addr la;

	/* A port just freed on loopback: nothing listens there. */
	listen_tcp4(&l, &la);
	CHECK_OK(sock_close(&l));
	CHECK_OK(sock_open(&c, AF_INET, SOCK_STREAM, 0));
	CHECK_OK(sock_settimeout(&c, 2000));
	CHECK_ERR(sock_connect_addr(&c, &la), -ECONNREFUSED);
	CHECK_OK(sock_close(&c));
}

static void connect_rejects_bad_text(void)
{
	struct sock c;

	CHECK_OK(sock_open(&c, AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(sock_connect_to(&c, "127.0.0.1"), SOCK_EBADADDR);
	CHECK_OK(sock_close(&c));
}

static void connect_with_zero_timeout_is_in_progress(void)
{
	struct sock l, c;
	struct sock_addr la;
	struct pollfd pfd;
	int err, so_err;

	listen_tcp4(&l, &la);
	CHECK_OK(sock_open(&c, AF_INET, SOCK_STREAM, 0));
	sock_setblocking(&c, false);
	err = sock_connect_addr(&c, &la);
	/* Loopback may finish the handshake before connect() returns. */
	CHECK(err == 0 || err == -EINPROGRESS);
	pfd.fd = c.fd;
	pfd.events = POLLOUT;
	CHECK_INT(poll(&pfd, 1, 2000), ==, 1);
	CHECK_OK(sock_getsockopt(&c, SOL_SOCKET, SO_ERROR, &so_err));
	CHECK_INT(so_err, ==, 0);
	CHECK_OK(sock_close(&c));
	CHECK_OK(sock_close(&l));
}

static void names_of_unconnected_socket(void)
{
	struct sock s;
	struct sock_addr a;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(sock_getpeername(&s, &a), -ENOTCONN);
	CHECK_INT(a.len, ==, 0);
	CHECK_OK(sock_getsockname(&s, &a));
	CHECK_INT(sock_addr_family(&a), ==, AF_INET);
	CHECK_INT(sock_addr_port(&a), ==, 0);
	CHECK_ERR(sock_shutdown(&s, SHUT_RDWR), -ENOTCONN);
	CHECK_OK(sock_close(&s));
}

/* Exit status of a shell, exec'd in a child, that writes to descriptor fd. */
static int shell_writes_to(int fd)
{
	char cmd[64];
	int status;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec 2>/dev/null; : >&%d", fd);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void inheritable_decides_what_exec_keeps(void)
{
	struct sock s;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM, 0));
	CHECK_INT(sock_get_inheritable(&s), ==, 0);
	CHECK_INT(shell_writes_to(s.fd), !=, 0);
	CHECK_OK(sock_set_inheritable(&s, true));
	CHECK_INT(sock_get_inheritable(&s), ==, 1);
	CHECK_INT(shell_writes_to(s.fd), ==, 0);
	CHECK_OK(sock_set_inheritable(&s, false));
	CHECK_INT(sock_get_inheritable(&s), ==, 0);
	CHECK_INT(shell_writes_to(s.fd), !=, 0);
	CHECK_OK(sock_close(&s));
	CHECK_ERR(sock_set_inheritable(&s, true), -EBADF);
	CHECK_ERR(sock_get_inheritable(&s), -EBADF);
}

static void shutdown_write_ends_peer_stream(void)
{
	struct sock p[2];
	char buf[8];

	CHECK_OK(sock_socketpair(p, AF_UNIX, SOCK_STREAM, 0));
	CHECK_INT(write(p[0].fd, "x", 1), ==, 1);
	CHECK_OK(sock_shutdown(&p[0], SHUT_WR));
	CHECK_INT(read(p[1].fd, buf, sizeof(buf)), ==, 1);
	CHECK_INT(read(p[1].fd, buf, sizeof(buf)), ==, 0);
	/* The other direction still works. */
	CHECK_INT(write(p[1].fd, "y", 1), ==, 1);
	CHECK_INT(read(p[0].fd, buf, sizeof(buf)), ==, 1);
	CHECK_ERR(sock_shutdown(&p[0], 42), -EINVAL);
	CHECK_OK(sock_close(&p[0]));
	CHECK_OK(sock_close(&p[1]));
}

/* An integer option of s. */
static int opt(const struct sock *s, int level, int name)
{
	int v;

	CHECK_OK(sock_getsockopt(s, level, name, &v));
	return v;
}

/*
 * Keep-alive by name: the values land in the socket, 0 keeps one as it
 * was, a bad value is refused before anything changes, off turns it off,
 * and a socket that is not TCP says so.
 */
static void keepalive_by_name(void)
{
	struct sock s, u;
	int idle;

	CHECK_OK(sock_open(&s, AF_INET, SOCK_STREAM, 0));
	idle = opt(&s, IPPROTO_TCP, TCP_KEEPIDLE);
	CHECK_OK(sock_set_keepalive(&s, true, 0, 5, 3));
	CHECK_INT(opt(&s, SOL_SOCKET, SO_KEEPALIVE), ==, 1);
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_KEEPIDLE), ==, idle);
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_KEEPINTVL), ==, 5);
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_KEEPCNT), ==, 3);
	CHECK_OK(sock_set_keepalive(&s, true, 30, 0, 0));
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_KEEPIDLE), ==, 30);
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_KEEPINTVL), ==, 5);
	/* Refused whole: the good values before the bad one are not set. */
	CHECK_ERR(sock_set_keepalive(&s, true, 60, 7, 128), -EINVAL);
	CHECK_ERR(sock_set_keepalive(&s, true, -1, 7, 2), -EINVAL);
	CHECK_ERR(sock_set_keepalive(&s, true, 60, 32768, 2), -EINVAL);
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_KEEPIDLE), ==, 30);
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_KEEPINTVL), ==, 5);
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_KEEPCNT), ==, 3);
	CHECK_OK(sock_set_keepalive(&s, true, 32767, 32767, 127));
	CHECK_OK(sock_set_keepalive(&s, false, -5, -5, -5));
	CHECK_INT(opt(&s, SOL_SOCKET, SO_KEEPALIVE), ==, 0);
	CHECK_OK(sock_close(&s));

	CHECK_OK(sock_open(&u, AF_INET, SOCK_DGRAM, 0));
	CHECK_ERR(sock_set_keepalive(&u, true, 1, 1, 1), -ENOPROTOOPT);
	CHECK_ERR(sock_set_user_timeout(&u, 1000), -ENOPROTOOPT);
	CHECK_ERR(sock_set_nodelay(&u, true), -ENOPROTOOPT);
	CHECK_OK(sock_close(&u));
	CHECK_OK(sock_open(&u, AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(sock_set_keepalive(&u, true, 1, 1, 1), -ENOPROTOOPT);
	CHECK_ERR(sock_set_nodelay(&u, true), -ENOPROTOOPT);
	CHECK_OK(sock_close(&u));
}

/* TCP_USER_TIMEOUT and TCP_NODELAY by name, IPv6 too. */
static void user_timeout_and_nodelay_by_name(void)
{
	struct sock s;

	CHECK_OK(sock_open(&s, AF_INET6, SOCK_STREAM, 0));
	CHECK_OK(sock_set_user_timeout(&s, 2500));
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_USER_TIMEOUT), ==, 2500);
	CHECK_ERR(sock_set_user_timeout(&s, -1), -EINVAL);
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_USER_TIMEOUT), ==, 2500);
	CHECK_OK(sock_set_user_timeout(&s, 0));
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_USER_TIMEOUT), ==, 0);
	CHECK_OK(sock_set_nodelay(&s, true));
	CHECK(opt(&s, IPPROTO_TCP, TCP_NODELAY) != 0);
	CHECK_OK(sock_set_nodelay(&s, false));
	CHECK_INT(opt(&s, IPPROTO_TCP, TCP_NODELAY), ==, 0);
	CHECK_OK(sock_close(&s));
}

static const struct test tests[] = {
	TEST(keepalive_by_name),
	TEST(user_timeout_and_nodelay_by_name),
	TEST(open_makes_nonblocking_cloexec_socket),
	TEST(open_strips_flags_from_type),
	TEST(open_rejects_bogus_family),
	TEST(fromfd_reads_back_family_type_protocol),
	TEST(fromfd_rejects_pipe),
	TEST(fromfd_rejects_bad_descriptor),
	TEST(fromfd_makes_every_holder_of_the_socket_nonblocking),
	TEST(fromfd_failure_leaves_flags_alone),
	TEST(socketpair_connects_two_sockets),
	TEST(socketpair_rejects_inet),
	TEST(dup_keeps_timeout),
	TEST(dup_of_closed_socket_is_ebadf),
	TEST(detach_gives_up_the_descriptor),
	TEST(close_twice_is_fine),
	TEST(timeout_has_python_meanings),
	TEST(sockopt_int_round_trip),
	TEST(sockopt_buf_round_trip),
	TEST(bind_listen_accept_reports_peer),
	TEST(accept_without_peer_argument),
	TEST(accept_with_zero_timeout_is_eagain),
	TEST(accept_with_timeout_times_out),
	TEST(connect_to_ipv4_text),
	TEST(connect_to_ipv6_loopback),
	TEST(connect_to_unix_path),
	TEST(connect_to_abstract_name),
	TEST(connect_to_closed_port_is_refused),
	TEST(connect_rejects_bad_text),
	TEST(connect_with_zero_timeout_is_in_progress),
	TEST(names_of_unconnected_socket),
	TEST(shutdown_write_ends_peer_stream),
	TEST(inheritable_decides_what_exec_keeps),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

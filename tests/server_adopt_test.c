/* SPDX-License-Identifier: MIT */
/* server_adopt_test.c -- activation, inetd, adopted sockets */

#include "server_util.h"

#include <dirent.h>

/* ---- socket activation ---- */

static int open_fds(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	CHECK(d != NULL);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Put the descriptor of s at fd (3, 4 ...), blocking and inheritable, as
 * a service manager passes it. */
static void pass_as(struct sock *s, int fd)
{
	int high = fcntl(s->fd, F_DUPFD, 100);

	CHECK_INT(high, >=, 100);
	CHECK_OK(sock_close(s));
	CHECK_INT(dup2(high, fd), ==, fd);
	close(high);
	CHECK_INT(fcntl(fd, F_SETFL, 0), ==, 0);
	CHECK_INT(fcntl(fd, F_SETFD, 0), ==, 0);
}

static void set_env(const char *pid, const char *fds, const char *names)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (pid)
		CHECK_INT(setenv("LISTEN_PID", pid, 1), ==, 0);
	if (fds)
		CHECK_INT(setenv("LISTEN_FDS", fds, 1), ==, 0);
	if (names)
		CHECK_INT(setenv("LISTEN_FDNAMES", names, 1), ==, 0);
}

static void set_env_for_us(const char *fds, const char *names)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	set_env(pid, fds, names);
}

static bool env_is_clear(void)
{
	return !getenv("LISTEN_PID") && !getenv("LISTEN_FDS") &&
	       !getenv("LISTEN_FDNAMES");
}

/* A TCP listener at fd 3 and a UDP socket at fd 4; their addresses. */
static void pass_two(char tcp[SOCK_ADDR_STRLEN], char udp[SOCK_ADDR_STRLEN])
{
	struct sock l, u;
	struct sock_addr a;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 0, 0));
	CHECK_OK(sock_listen(&u, SOCK_DGRAM, "127.0.0.1:0", 0, 0));
	CHECK_OK(sock_getsockname(&l, &a));
	CHECK_OK(sock_addr_format(&a, tcp, SOCK_ADDR_STRLEN));
	CHECK_OK(sock_getsockname(&u, &a));
	CHECK_OK(sock_addr_format(&a, udp, SOCK_ADDR_STRLEN));
	pass_as(&l, 3);
	pass_as(&u, 4);
}

static void listen_fds_takes_the_passed_sockets_and_serves_them(void)
{
	struct sock_server_config cfg = { 0 };
	char tcp[SOCK_ADDR_STRLEN], udp[SOCK_ADDR_STRLEN];
	struct sock_listen_fd fds[4];
	struct tserver t;
	struct sock c;
	int before, i;

	pass_two(tcp, udp);
	set_env_for_us("2", "web:dns");
	before = open_fds();
	CHECK_INT(sock_listen_fds(fds, 4), ==, 2);
	/* Adopted, not duplicated. */
	CHECK_INT(open_fds(), ==, before);
	CHECK(env_is_clear());
	CHECK_INT(fds[0].sock.fd, ==, 3);
	CHECK_INT(fds[0].sock.family, ==, AF_INET);
	CHECK_INT(fds[0].sock.type, ==, SOCK_STREAM);
	CHECK_INT(fds[0].sock.protocol, ==, IPPROTO_TCP);
	CHECK_STR(fds[0].name, "web");
	CHECK_INT(fds[1].sock.fd, ==, 4);
	CHECK_INT(fds[1].sock.type, ==, SOCK_DGRAM);
	CHECK_INT(fds[1].sock.protocol, ==, IPPROTO_UDP);
	CHECK_STR(fds[1].name, "dns");
	for (i = 3; i <= 4; i++) {
		CHECK(fcntl(i, F_GETFL) & O_NONBLOCK);
		CHECK(fcntl(i, F_GETFD) & FD_CLOEXEC);
	}
	ts_new(&t, &cfg);
	CHECK_INT(sock_server_adopt(t.srv, &echo_svc[SOCK_MODE_EVENT],
				    &fds[0].sock),
		  >=, 0);
	CHECK_INT(sock_server_adopt(t.srv, &echo_svc[SOCK_MODE_THREAD],
				    &fds[1].sock),
		  >=, 0);
	CHECK_INT(fds[0].sock.fd, ==, -1);
	ts_start(&t);
	client(&c, SOCK_STREAM, tcp);
	echo_once(&c, "activated stream");
	CHECK_OK(sock_close(&c));
	client(&c, SOCK_DGRAM, udp);
	echo_once(&c, "activated datagram");
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_LISTEN, NULL), ==, 2);
	/* The server closed what it adopted. */
	CHECK_INT(fcntl(3, F_GETFD), ==, -1);
	CHECK_INT(fcntl(4, F_GETFD), ==, -1);
}
ENGINE_TEST(listen_fds_takes_the_passed_sockets_and_serves_them)

static void listen_fds_without_names_gives_empty_names(void)
{
	char tcp[SOCK_ADDR_STRLEN], udp[SOCK_ADDR_STRLEN];
	struct sock_listen_fd fds[2];

	pass_two(tcp, udp);
	set_env_for_us("2", NULL);
	CHECK_INT(sock_listen_fds(fds, 2), ==, 2);
	CHECK_STR(fds[0].name, "");
	CHECK_STR(fds[1].name, "");
	set_env_for_us("2", ":dns");
	CHECK_INT(sock_listen_fds(fds, 2), ==, 2);
	CHECK_STR(fds[0].name, "");
	CHECK_STR(fds[1].name, "dns");
}

static void listen_fds_writes_at_most_max(void)
{
	char tcp[SOCK_ADDR_STRLEN], udp[SOCK_ADDR_STRLEN];
	struct sock_listen_fd fds[2];

	pass_two(tcp, udp);
	memset(fds, 0x55, sizeof(fds));
	set_env_for_us("2", "a:b");
	CHECK_INT(sock_listen_fds(fds, 1), ==, 2);
	CHECK_INT(fds[0].sock.fd, ==, 3);
	CHECK_STR(fds[0].name, "a");
	CHECK_INT(fds[1].sock.fd, ==, 0x55555555);
	/* The one not taken is still prepared, for the caller to close. */
	CHECK(fcntl(4, F_GETFD) & FD_CLOEXEC);
}

static void listen_fds_is_zero_when_not_activated(void)
{
	struct sock_listen_fd fds[1];
	char pid[32];

	set_env(NULL, NULL, NULL);
	CHECK_INT(sock_listen_fds(fds, 1), ==, 0);
	/* Meant for another process (our parent): left alone. */
	snprintf(pid, sizeof(pid), "%d", (int)getppid());
	set_env(pid, "1", "x");
	CHECK_INT(sock_listen_fds(fds, 1), ==, 0);
	CHECK_STR(getenv("LISTEN_FDS"), "1");
	/* LISTEN_PID alone passes nothing. */
	set_env_for_us(NULL, NULL);
	CHECK_INT(sock_listen_fds(fds, 1), ==, 0);
	CHECK(env_is_clear());
}

static void listen_fds_rejects_malformed_variables(void)
{
	static const struct {
		const char *pid, *fds, *names;
	} bad[] = {
		{ "abc", "1", NULL },
		{ "", "1", NULL },
		{ "12x", "1", NULL },
		{ "-5", "1", NULL },
		{ "0", "1", NULL },
		{ "99999999999999999999", "1", NULL },
		{ NULL, "x", NULL },
		{ NULL, "-1", NULL },
		{ NULL, "", NULL },
		{ NULL, "1 ", NULL },
		{ NULL, "99999999", NULL },
		{ NULL, "1", "a:b" },
		{ NULL, "2", "a" },
	};
	struct sock_listen_fd fds[2];
	char tcp[SOCK_ADDR_STRLEN], udp[SOCK_ADDR_STRLEN], pid[32];
	char names[300];
	size_t i;

	pass_two(tcp, udp);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (i = 0; i < TEST_COUNT(bad); i++) {
		set_env(bad[i].pid ? bad[i].pid : pid, bad[i].fds,
			bad[i].names);
		CHECK_ERR(sock_listen_fds(fds, 2), -EINVAL);
		CHECK(env_is_clear());
	}
	/* A name is at most 255 bytes. */
	memset(names, 'n', 256);
	names[256] = '\0';
	set_env_for_us("1", names);
	CHECK_ERR(sock_listen_fds(fds, 2), -EINVAL);
	names[255] = '\0';
	set_env_for_us("1", names);
	CHECK_INT(sock_listen_fds(fds, 2), ==, 1);
	CHECK_INT(strlen(fds[0].name), ==, 255);
}

static void listen_fds_rejects_what_is_not_a_socket(void)
{
	char tcp[SOCK_ADDR_STRLEN], udp[SOCK_ADDR_STRLEN];
	struct sock_listen_fd fds[2];
	int p[2];

	pass_two(tcp, udp);
	/* fd 4 becomes a pipe: fd 3 is not handed over either. */
	CHECK_INT(pipe(p), ==, 0);
	CHECK_INT(dup2(p[0], 4), ==, 4);
	set_env_for_us("2", NULL);
	CHECK_ERR(sock_listen_fds(fds, 2), -ENOTSOCK);
	CHECK_INT(fds[0].sock.fd, ==, -1);
	CHECK(env_is_clear());
	close(4);
	set_env_for_us("2", NULL);
	CHECK_ERR(sock_listen_fds(fds, 2), -EBADF);
}

/* ---- inetd: one connected socket ---- */

static void inetd_case(enum sock_mode mode, int type)
{
	struct sock_server_config cfg = { 0 };
	struct sock p[2];
	struct tserver t;

	CHECK_OK(sock_socketpair(p, AF_UNIX, type, 0));
	ts_new_in(&t, &cfg, mode == SOCK_MODE_FORK);
	t.close_in_child = p[1].fd;
	CHECK_INT(ts_adopt(&t, &echo_svc[mode], &p[0]), ==, 0);
	CHECK_INT(p[0].fd, ==, -1);
	ts_start(&t);
	CHECK_OK(sock_settimeout(&p[1], 5000));
	echo_once(&p[1], "one connection");
	echo_once(&p[1], "served");
	CHECK_INT(atomic_load(&t.done), ==, 0);
	CHECK_OK(sock_close(&p[1]));
	/* Nothing left to serve: run returns by itself. */
	CHECK_INT(ts_wait(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 1);
	CHECK_INT(rec_count(SOCK_EV_CLOSE, NULL), ==, 1);
	CHECK_INT(rec_count(SOCK_EV_LISTEN, NULL), ==, 0);
}

#define INETD(mode, MODE)                                                      \
	static void inetd_##mode(void)                                         \
	{                                                                      \
		inetd_case(SOCK_MODE_##MODE, SOCK_STREAM);                     \
	}                                                                      \
	ENGINE_TEST(inetd_##mode)

INETD(event, EVENT)
INETD(inline, INLINE)
INETD(thread, THREAD)
INETD(pool, POOL)
INETD(fork, FORK)

/* An accepted TCP connection, as inetd passes it on fd 0. */
static void inetd_serves_an_accepted_tcp_connection(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct sock l, c, s;
	struct sock_addr a;
	struct tserver t;

	CHECK_OK(sock_listen(&l, SOCK_STREAM, "127.0.0.1:0", 0, 0));
	CHECK_OK(sock_getsockname(&l, &a));
	CHECK_OK(sock_addr_format(&a, addr, sizeof(addr)));
	client(&c, SOCK_STREAM, addr);
	CHECK_OK(sock_accept(&l, &s, NULL));
	CHECK_OK(sock_close(&l));
	ts_new(&t, &cfg);
	CHECK_INT(sock_server_adopt(t.srv, &echo_svc[SOCK_MODE_THREAD], &s), ==,
		  0);
	ts_start(&t);
	echo_once(&c, "accepted elsewhere");
	CHECK_OK(sock_close(&c));
	CHECK_INT(ts_wait(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
	CHECK_INT(rec_count(SOCK_EV_CLOSE, NULL), ==, 1);
}
ENGINE_TEST(inetd_serves_an_accepted_tcp_connection)

/* A blocking handler answering with what it knows of its socket. */
static void tell_kind(struct sock *c, const struct sock_addr *peer, void *data)
{
	char reply[32];
	int n;

	(void)peer;
	(void)data;
	n = snprintf(reply, sizeof(reply), "%d %d", c->family, c->type);
	if (sock_sendall(c, reply, (size_t)n, NULL, 0)) {
	}
}

static const struct sock_service tell_svc = {
	.name = "tell",
	.mode = SOCK_MODE_INLINE,
	.handle = tell_kind,
};

/* An adopted connection reaches its handler as what it is. */
static void adopted_connection_keeps_family_and_type(void)
{
	struct sock_server_config cfg = { 0 };
	char want[32], got[32];
	struct sock p[2];
	struct tserver t;
	ssize_t n;

	CHECK_OK(sock_socketpair(p, AF_UNIX, SOCK_STREAM, 0));
	ts_new(&t, &cfg);
	CHECK_INT(sock_server_adopt(t.srv, &tell_svc, &p[0]), ==, 0);
	ts_start(&t);
	CHECK_OK(sock_settimeout(&p[1], 5000));
	n = sock_recv(&p[1], got, sizeof(got) - 1, 0);
	CHECK_INT(n, >, 0);
	got[n] = '\0';
	snprintf(want, sizeof(want), "%d %d", AF_UNIX, SOCK_STREAM);
	CHECK_STR(got, want);
	CHECK_OK(sock_close(&p[1]));
	CHECK_INT(ts_wait(&t, TEST_WAIT_MS), <, TEST_LATE_MS);
	ts_free(&t);
}
ENGINE_TEST(adopted_connection_keeps_family_and_type)

/* The setup hook of a listener made for the server: a receive buffer
 * set before bind, which the kernel must keep (TCP_DEFER_ACCEPT-like
 * options work the same way). */
static int big_rcvbuf(struct sock *s, const struct sock_addr *addr, void *arg)
{
	(void)addr;
	++*(int *)arg;
	return sock_setsockopt(s, SOL_SOCKET, SO_RCVBUF, 1 << 20);
}

/* A server's listener with options set between socket() and bind():
 * made with sock_listen_with() and given to the server to serve. */
static void adopted_listener_made_with_a_setup_hook(void)
{
	struct sock_server_config cfg = { 0 };
	char addr[SOCK_ADDR_STRLEN];
	struct sock l, c;
	struct sock_addr a;
	struct tserver t;
	int calls = 0, rcvbuf = 0, index;

	CHECK_OK(sock_listen_with(&l, SOCK_STREAM, "127.0.0.1:0", 0, 0,
				  big_rcvbuf, &calls));
	CHECK_INT(calls, ==, 1);
	CHECK_OK(sock_getsockopt(&l, SOL_SOCKET, SO_RCVBUF, &rcvbuf));
	CHECK_INT(rcvbuf, >=, 1 << 20);
	CHECK_OK(sock_getsockname(&l, &a));
	CHECK_INT(sock_addr_format(&a, addr, sizeof(addr)), >, 0);
	ts_new(&t, &cfg);
	index = sock_server_adopt(t.srv, &echo_svc[SOCK_MODE_EVENT], &l);
	CHECK_INT(index, >=, 0);
	CHECK_INT(l.fd, ==, -1);
	ts_start(&t);
	client(&c, SOCK_STREAM, addr);
	echo_once(&c, "through a listener set up by hand");
	CHECK_OK(sock_close(&c));
	ts_stop(&t, 3000);
	ts_free(&t);
}
ENGINE_TEST(adopted_listener_made_with_a_setup_hook)

static void adopt_rejects_what_it_cannot_serve(void)
{
	struct sock_service none = { .name = "none", .mode = SOCK_MODE_THREAD };
	struct sock_server_config cfg = { 0 };
	struct sock closed = SOCK_CLOSED, s;
	struct tserver t;

	ts_new(&t, &cfg);
	CHECK_ERR(sock_server_adopt(t.srv, &echo_svc[SOCK_MODE_EVENT], &closed),
		  -EINVAL);
	CHECK_OK(sock_listen(&s, SOCK_STREAM, "127.0.0.1:0", 0, 0));
	CHECK_ERR(sock_server_adopt(t.srv, &none, &s), -EINVAL);
	/* Refused: still the caller's. */
	CHECK_INT(s.fd, >=, 0);
	CHECK_OK(sock_close(&s));
	ts_free(&t);
}

static const struct test tests[] = {
	TEST_ENGINES(listen_fds_takes_the_passed_sockets_and_serves_them),
	TEST(listen_fds_without_names_gives_empty_names),
	TEST(listen_fds_writes_at_most_max),
	TEST(listen_fds_is_zero_when_not_activated),
	TEST(listen_fds_rejects_malformed_variables),
	TEST(listen_fds_rejects_what_is_not_a_socket),
	TEST_ENGINES(inetd_event),
	TEST_ENGINES(inetd_inline),
	TEST_ENGINES(inetd_thread),
	TEST_ENGINES(inetd_pool),
	TEST_ENGINES(inetd_fork),
	TEST_ENGINES(inetd_serves_an_accepted_tcp_connection),
	TEST_ENGINES(adopted_connection_keeps_family_and_type),
	TEST_ENGINES(adopted_listener_made_with_a_setup_hook),
	TEST(adopt_rejects_what_it_cannot_serve),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

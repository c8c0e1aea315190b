/* SPDX-License-Identifier: MIT */
/* tls_test.c -- TLS on struct sock, against peers nobody here wrote: openssl s_server and s_client, Python's ssl */

#include "test.h"
#include "tls/tls_util.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

static int tls_connect_port(struct sock *s, struct sock_tls_ctx *ctx,
			    const char *host, int port, const char *name)
{
	char addr[128];

	snprintf(addr, sizeof(addr), "%s:%d", host, port);
	return sock_tls_connect(s, ctx, addr, name, TEST_WAIT_MS);
}

/* ---- our own server, in a thread ---- */

struct server {
	struct sock ls;
	struct sock_tls_ctx *ctx;
	pthread_t thread;
	int port;
	int wrap_err;  /* what sock_tls_wrap returned */
	bool one_line; /* close after the first line */
	char subject[256];
};

/* Accept one connection, wrap it, echo lines until the end, close with
 * close_notify. */
static void *server_main(void *arg)
{
	struct server *sv = arg;
	struct sock c = SOCK_CLOSED;
	char line[1024];
	ssize_t n;

	if (sock_accept(&sv->ls, &c, NULL) < 0) {
		sv->wrap_err = -EBADF;
		return NULL;
	}
	CHECK_OK(sock_settimeout(&c, TEST_WAIT_MS));
	sv->wrap_err = sock_tls_wrap(&c, sv->ctx, NULL);
	if (!sv->wrap_err) {
		(void)sock_tls_peer_subject(&c, sv->subject,
					    sizeof(sv->subject));
		while ((n = sock_recv_line(&c, line, sizeof(line))) > 0)
			if (sock_sendall(&c, line, (size_t)n, NULL, 0) ||
			    sv->one_line)
				break;
	}
	sock_close(&c);
	return NULL;
}

static void server_start(struct server *sv, struct sock_tls_ctx *ctx)
{
	struct sock_addr a;

	memset(sv, 0, sizeof(*sv));
	sv->ctx = ctx;
	CHECK_OK(sock_listen(&sv->ls, SOCK_STREAM, "127.0.0.1:0", 8, 0));
	CHECK_OK(sock_settimeout(&sv->ls, TEST_WAIT_MS));
	CHECK_OK(sock_getsockname(&sv->ls, &a));
	sv->port = sock_addr_port(&a);
}

static void server_run(struct server *sv)
{
	CHECK(pthread_create(&sv->thread, NULL, server_main, sv) == 0);
}

static void server_join(struct server *sv)
{
	pthread_join(sv->thread, NULL);
	sock_close(&sv->ls);
	sock_tls_ctx_free(sv->ctx);
}

/* ---- the client side against real servers ---- */

static void client_verifies_openssl_s_server(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock s = SOCK_CLOSED;
	struct peer p;
	char line[64];

	s_server(&p, "leaf");
	CHECK_OK(tls_connect_port(&s, ctx, "localhost", p.port, NULL));
	CHECK(sock_is_tls(&s));
	CHECK(strncmp(sock_tls_version(&s), "TLSv1.", 6) == 0);
	CHECK(sock_tls_cipher(&s) != NULL);
	CHECK_OK(sock_settimeout(&s, TEST_WAIT_MS));
	CHECK_OK(sock_sendall(&s, "hello\n", 6, NULL, 0));
	CHECK_INT(sock_recv_line(&s, line, sizeof(line)), ==, 6);
	CHECK_STR(line, "olleh\n"); /* s_server -rev */
	CHECK_OK(sock_close(&s));
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

static void client_checks_ip_addresses(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock s = SOCK_CLOSED;
	struct peer p;

	s_server(&p, "leaf");
	/* The leaf names 127.0.0.1 among its IP addresses. */
	CHECK_OK(tls_connect_port(&s, ctx, "127.0.0.1", p.port, NULL));
	sock_close(&s);
	peer_end(&p);
	s_server(&p, "leaf");
	CHECK_ERR(tls_connect_port(&s, ctx, "127.0.0.1", p.port, "127.0.0.2"),
		  SOCK_ECERT);
	CHECK(s.fd < 0);
	CHECK_STR(sock_tls_reason(&s), "IP address mismatch");
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

/* Each bad certificate: SOCK_ECERT and OpenSSL's words for why. */
static void check_refused(const char *leaf, const char *name,
			  const char *reason)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock s = SOCK_CLOSED;
	struct peer p;

	s_server(&p, leaf);
	CHECK_ERR(tls_connect_port(&s, ctx, "127.0.0.1", p.port, name),
		  SOCK_ECERT);
	if (!strstr(sock_tls_reason(&s), reason))
		test_fail(__FILE__, __LINE__, "reason \"%s\", want \"%s\"",
			  sock_tls_reason(&s), reason);
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

static void expired_certificate_is_refused(void)
{
	check_refused("expired", "localhost", "certificate has expired");
}

static void other_name_is_refused(void)
{
	check_refused("other", "localhost", "hostname mismatch");
}

static void self_signed_certificate_is_refused(void)
{
	check_refused("self", "localhost", "self-signed certificate");
}

static void untrusted_ca_is_refused_by_the_system_store(void)
{
	struct sock_tls_ctx *ctx;
	struct sock s = SOCK_CLOSED;
	struct peer p;

	/* No CA given: the system's store, which knows nothing of ours. */
	CHECK_OK(sock_tls_ctx_new(&ctx, SOCK_TLS_CLIENT));
	s_server(&p, "leaf");
	CHECK_ERR(tls_connect_port(&s, ctx, "127.0.0.1", p.port, "localhost"),
		  SOCK_ECERT);
	CHECK(strstr(sock_tls_reason(&s), "local issuer") != NULL);
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

static void insecure_context_accepts_anyone(void)
{
	struct sock_tls_ctx *ctx;
	struct sock s = SOCK_CLOSED;
	struct peer p;
	char line[64];

	CHECK_OK(sock_tls_ctx_new(&ctx, SOCK_TLS_CLIENT));
	CHECK_OK(sock_tls_ctx_set_verify(ctx, SOCK_TLS_VERIFY_NONE));
	s_server(&p, "self");
	CHECK_OK(tls_connect_port(&s, ctx, "127.0.0.1", p.port, NULL));
	CHECK_OK(sock_settimeout(&s, TEST_WAIT_MS));
	CHECK_OK(sock_sendall(&s, "abc\n", 4, NULL, 0));
	CHECK_INT(sock_recv_line(&s, line, sizeof(line)), ==, 4);
	CHECK_STR(line, "cba\n");
	sock_close(&s);
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

static void verifying_wrap_needs_a_name(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock pair[2];

	CHECK_OK(sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(sock_tls_wrap(&pair[0], ctx, NULL), -EINVAL);
	CHECK(!sock_is_tls(&pair[0]));
	CHECK(strstr(sock_tls_reason(&pair[0]), "name") != NULL);
	sock_close(&pair[0]);
	sock_close(&pair[1]);
	sock_tls_ctx_free(ctx);
}

static void close_notify_is_a_clean_end(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock s = SOCK_CLOSED;
	struct peer p;
	char line[64];

	python_server(&p, "leaf", NULL, NULL);
	CHECK_OK(tls_connect_port(&s, ctx, "127.0.0.1", p.port, "localhost"));
	CHECK_OK(sock_settimeout(&s, TEST_WAIT_MS));
	CHECK_OK(sock_sendall(&s, "bye\n", 4, NULL, 0));
	CHECK_INT(sock_recv_line(&s, line, sizeof(line)), ==, 4);
	CHECK_STR(line, "BYE\n");
	CHECK_INT(sock_recv(&s, line, sizeof(line), 0), ==, 0);
	CHECK_INT(sock_recv(&s, line, sizeof(line), 0), ==, 0);
	sock_close(&s);
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

static void cut_without_close_notify_is_reported(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock s = SOCK_CLOSED;
	struct peer p;
	char line[64];

	python_server(&p, "leaf", "--end", "cut");
	CHECK_OK(tls_connect_port(&s, ctx, "127.0.0.1", p.port, "localhost"));
	CHECK_OK(sock_settimeout(&s, TEST_WAIT_MS));
	CHECK_OK(sock_sendall(&s, "bye\n", 4, NULL, 0));
	CHECK_INT(sock_recv_line(&s, line, sizeof(line)), ==, 4);
	CHECK_ERR(sock_recv(&s, line, sizeof(line), 0), SOCK_ETLSEOF);
	CHECK(strstr(sock_tls_reason(&s), "close_notify") != NULL);
	sock_close(&s);
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

static void receive_timeout_on_a_silent_server(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock s = SOCK_CLOSED;
	struct peer p;
	long long t0;
	char buf[16];

	python_server(&p, "leaf", "--silent", NULL);
	CHECK_OK(tls_connect_port(&s, ctx, "127.0.0.1", p.port, "localhost"));
	CHECK_OK(sock_settimeout(&s, 200));
	t0 = test_now_ms();
	CHECK_ERR(sock_recv(&s, buf, sizeof(buf), 0), -ETIMEDOUT);
	CHECK_INT(test_now_ms() - t0, >=, 195);
	CHECK_INT(test_now_ms() - t0, <, 200 + TEST_LATE_MS);
	CHECK_ERR(sock_recv(&s, buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN);
	sock_close(&s);
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

/* A server that accepts and never speaks: one deadline covers the
 * connect and the handshake. */
static void handshake_that_never_finishes_times_out(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock ls = SOCK_CLOSED, s = SOCK_CLOSED;
	struct sock_addr a;
	char addr[64];
	long long t0;

	CHECK_OK(sock_listen(&ls, SOCK_STREAM, "127.0.0.1:0", 8, 0));
	CHECK_OK(sock_getsockname(&ls, &a));
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", sock_addr_port(&a));
	t0 = test_now_ms();
	CHECK_ERR(sock_tls_connect(&s, ctx, addr, "localhost", 300),
		  -ETIMEDOUT);
	CHECK_INT(test_now_ms() - t0, >=, 295);
	CHECK_INT(test_now_ms() - t0, <, 300 + TEST_LATE_MS);
	CHECK(s.fd < 0);
	CHECK(strstr(sock_tls_reason(&s), "in time") != NULL);
	sock_close(&ls);
	sock_tls_ctx_free(ctx);
}

static void *garbage_server(void *arg)
{
	struct sock *ls = arg, c = SOCK_CLOSED;
	static const char reply[] = "HTTP/1.0 200 OK\r\n\r\nnot TLS at all\n";

	if (sock_accept(ls, &c, NULL) == 0) {
		if (sock_sendall(&c, reply, sizeof(reply) - 1, NULL, 0))
			fprintf(stderr, "    garbage_server: send failed\n");
		sock_close(&c);
	}
	return NULL;
}

/* sock_tls_connect to a server thread running serve on a listener of its
 * own fails with want and leaves no socket; the reason goes to reason. */
static void connect_to_fake(void *(*serve)(void *), int want, char *reason,
			    size_t size)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock ls = SOCK_CLOSED, s = SOCK_CLOSED;
	struct sock_addr a;
	pthread_t t;
	char addr[64];

	CHECK_OK(sock_listen(&ls, SOCK_STREAM, "127.0.0.1:0", 8, 0));
	CHECK_OK(sock_getsockname(&ls, &a));
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", sock_addr_port(&a));
	CHECK(pthread_create(&t, NULL, serve, &ls) == 0);
	CHECK_ERR(sock_tls_connect(&s, ctx, addr, "localhost", TEST_WAIT_MS),
		  want);
	CHECK(s.fd < 0);
	snprintf(reason, size, "%s", sock_tls_reason(&s));
	pthread_join(t, NULL);
	sock_close(&ls);
	sock_tls_ctx_free(ctx);
}

static void garbage_from_the_server_is_a_tls_error(void)
{
	char reason[256];

	connect_to_fake(garbage_server, SOCK_ETLS, reason, sizeof(reason));
	CHECK(reason[0] != '\0');
}

static void *close_notify_server(void *arg)
{
	struct sock *ls = arg, c = SOCK_CLOSED;
	/* An alert record: TLS 1.2, warning, close_notify. */
	static const char alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00 };
	char hello[512];

	if (sock_accept(ls, &c, NULL) == 0) {
		if (sock_settimeout(&c, TEST_WAIT_MS) == 0 &&
		    sock_recv(&c, hello, sizeof(hello), 0) > 0 &&
		    sock_sendall(&c, alert, sizeof(alert), NULL, 0) == 0)
			while (sock_recv(&c, hello, sizeof(hello), 0) > 0)
				;
		sock_close(&c);
	}
	return NULL;
}

/* Found by the tls fuzz target: a close_notify in answer to the
 * ClientHello made the handshake "succeed", unverified. */
static void close_notify_during_the_handshake_is_no_success(void)
{
	char reason[256];

	connect_to_fake(close_notify_server, SOCK_ETLS, reason, sizeof(reason));
	CHECK(strstr(reason, "before the handshake") != NULL);
}

static void alpn_is_agreed_with_python(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock s = SOCK_CLOSED;
	struct peer p;

	CHECK_OK(sock_tls_ctx_set_alpn(ctx, "h2,http/1.1"));
	CHECK_ERR(sock_tls_ctx_set_alpn(ctx, "h2,,x"), -EINVAL);
	python_server(&p, "leaf", "--alpn", "http/1.1");
	CHECK_OK(tls_connect_port(&s, ctx, "127.0.0.1", p.port, "localhost"));
	CHECK(sock_tls_alpn(&s) != NULL);
	CHECK_STR(sock_tls_alpn(&s), "http/1.1");
	sock_close(&s);
	sock_tls_ctx_free(ctx);
	peer_end(&p);
}

/* ---- the server side against real clients ---- */

static void server_answers_python_client(void)
{
	struct server sv;
	struct peer p;
	char out[512];

	server_start(&sv, server_ctx("leaf"));
	server_run(&sv);
	python_client(&p, sv.port, NULL);
	peer_output(&p, out, sizeof(out));
	server_join(&sv);
	peer_end(&p);
	CHECK_OK(sv.wrap_err);
	CHECK_STR(out, "hello from python\n");
}

/* Run openssl s_client against sv (started, closing after one line),
 * verifying it, send "ping\n" and put what s_client prints in out; with
 * showcerts it prints every certificate the server presented. */
static void s_client_ping(struct server *sv, bool showcerts, char *out,
			  size_t size)
{
	struct peer p;
	char port[32];
	int in;
	char *argv[] = { "openssl",
			 "s_client",
			 "-connect",
			 port,
			 "-CAfile",
			 (char *)cert("ca.pem"),
			 "-verify_return_error",
			 "-verify_hostname",
			 "localhost",
			 showcerts ? "-showcerts" : "-quiet",
			 NULL };

	/* s_client ends when the server does: its input stays open. */
	sv->one_line = true;
	server_run(sv);
	snprintf(port, sizeof(port), "127.0.0.1:%d", sv->port);
	in = peer_start_input(&p, argv, "ping\n");
	peer_output(&p, out, size);
	close(in);
	server_join(sv);
	peer_end(&p);
}

static void server_answers_openssl_s_client(void)
{
	struct server sv;
	char out[512];

	server_start(&sv, server_ctx("leaf"));
	s_client_ping(&sv, false, out, sizeof(out));
	CHECK_OK(sv.wrap_err);
	CHECK(strstr(out, "ping\n") != NULL);
}

static int count_certificates(const char *text)
{
	const char *p = text;
	int n = 0;

	while ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* A server presents the chain of its file as it is: its own trust store
 * (here holding its CA, to check client certificates) adds nothing, and
 * is not searched at every handshake. */
static void server_presents_the_chain_of_its_file(void)
{
	struct sock_tls_ctx *ctx;
	struct server sv;
	char out[16384], chain[PATH_MAX], cmd[3 * PATH_MAX];

	ctx = server_ctx("leaf");
	CHECK_OK(sock_tls_ctx_load_verify(ctx, cert("ca.pem"), NULL));
	server_start(&sv, ctx);
	s_client_ping(&sv, true, out, sizeof(out));
	CHECK_OK(sv.wrap_err);
	CHECK(strstr(out, "ping\n") != NULL);
	CHECK_INT(count_certificates(out), ==, 1);

	/* A file with the leaf and its issuer presents both. */
	snprintf(chain, sizeof(chain), "%s/leaf-chain.pem", certs);
	snprintf(cmd, sizeof(cmd), "cat '%s/leaf.pem' '%s/ca.pem' > '%s'",
		 certs, certs, chain);
	CHECK(system(cmd) == 0);
	CHECK_OK(sock_tls_ctx_new(&ctx, SOCK_TLS_SERVER));
	CHECK_OK(sock_tls_ctx_use_cert(ctx, chain, cert("leaf.key")));
	server_start(&sv, ctx);
	s_client_ping(&sv, true, out, sizeof(out));
	CHECK_OK(sv.wrap_err);
	CHECK(strstr(out, "ping\n") != NULL);
	CHECK_INT(count_certificates(out), ==, 2);
}

static void client_certificate_required_and_checked(void)
{
	struct sock_tls_ctx *ctx;
	struct server sv;
	struct peer p;
	char out[512];
	const char *with[] = { "--cert", cert("client.pem"), "--key",
			       cert("client.key") };
	const char *stranger[] = { "--cert", cert("stranger.pem"), "--key",
				   cert("stranger.key") };

	ctx = server_ctx("leaf");
	CHECK_OK(sock_tls_ctx_load_verify(ctx, cert("ca.pem"), NULL));
	CHECK_OK(sock_tls_ctx_set_verify(ctx, SOCK_TLS_VERIFY_REQUIRE));
	server_start(&sv, ctx);
	server_run(&sv);
	python_client(&p, sv.port, with);
	peer_output(&p, out, sizeof(out));
	server_join(&sv);
	peer_end(&p);
	CHECK_OK(sv.wrap_err);
	CHECK_STR(out, "hello from python\n");
	CHECK_STR(sv.subject, "CN=libsock test client");

	/* Without one, and with one from a CA nobody trusts. */
	ctx = server_ctx("leaf");
	CHECK_OK(sock_tls_ctx_load_verify(ctx, cert("ca.pem"), NULL));
	CHECK_OK(sock_tls_ctx_set_verify(ctx, SOCK_TLS_VERIFY_REQUIRE));
	server_start(&sv, ctx);
	server_run(&sv);
	python_client(&p, sv.port, NULL);
	peer_output(&p, out, sizeof(out));
	server_join(&sv);
	peer_end(&p);
	CHECK_ERR(sv.wrap_err, SOCK_ECERT);
	CHECK(strncmp(out, "error:", 6) == 0);

	ctx = server_ctx("leaf");
	CHECK_OK(sock_tls_ctx_load_verify(ctx, cert("ca.pem"), NULL));
	CHECK_OK(sock_tls_ctx_set_verify(ctx, SOCK_TLS_VERIFY_REQUIRE));
	server_start(&sv, ctx);
	server_run(&sv);
	python_client(&p, sv.port, stranger);
	peer_output(&p, out, sizeof(out));
	server_join(&sv);
	peer_end(&p);
	CHECK_ERR(sv.wrap_err, SOCK_ECERT);
}

static void plain_client_on_a_tls_port_is_refused(void)
{
	struct server sv;
	struct sock c = SOCK_CLOSED;
	char addr[64], buf[256];
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";

	server_start(&sv, server_ctx("leaf"));
	server_run(&sv);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", sv.port);
	CHECK_OK(sock_connect(&c, SOCK_STREAM, addr, TEST_WAIT_MS));
	CHECK_OK(sock_settimeout(&c, TEST_WAIT_MS));
	CHECK_OK(sock_sendall(&c, req, sizeof(req) - 1, NULL, 0));
	/* The server answers with an alert, or nothing, and closes. */
	while (sock_recv(&c, buf, sizeof(buf), 0) > 0)
		;
	sock_close(&c);
	server_join(&sv);
	CHECK_ERR(sv.wrap_err, SOCK_ETLS);
}

/* ---- the ordinary calls on a TLS socket, our client and our server ---- */

static void *bulk_server(void *arg)
{
	struct server *sv = arg;
	struct sock c = SOCK_CLOSED;
	char buf[65536];
	ssize_t n;

	if (sock_accept(&sv->ls, &c, NULL) < 0)
		return NULL;
	CHECK_OK(sock_settimeout(&c, TEST_WAIT_MS));
	sv->wrap_err = sock_tls_wrap(&c, sv->ctx, NULL);
	/* Echo everything, then close_notify at the client's end. */
	while (!sv->wrap_err && (n = sock_recv(&c, buf, sizeof(buf), 0)) > 0)
		if (sock_sendall(&c, buf, (size_t)n, NULL, 0))
			break;
	if (!sv->wrap_err && sock_shutdown(&c, SHUT_WR))
		sv->wrap_err = -EPIPE;
	sock_close(&c);
	return NULL;
}

static void ordinary_calls_work_over_tls(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock s = SOCK_CLOSED;
	struct server sv;
	size_t len = 1 << 20, got;
	char *out = malloc(len), *in = malloc(len), line[64], peek[4];
	void *all = NULL;
	size_t i;

	CHECK(out && in);
	for (i = 0; i < len; i++)
		out[i] = (char)('a' + i % 26);
	out[len - 1] = '\n';
	memset(&sv, 0, sizeof(sv));
	sv.ctx = server_ctx("leaf");
	CHECK_OK(sock_listen(&sv.ls, SOCK_STREAM, "127.0.0.1:0", 8, 0));
	{
		struct sock_addr a;

		CHECK_OK(sock_getsockname(&sv.ls, &a));
		sv.port = sock_addr_port(&a);
	}
	CHECK(pthread_create(&sv.thread, NULL, bulk_server, &sv) == 0);
	CHECK_OK(tls_connect_port(&s, ctx, "127.0.0.1", sv.port, NULL));
	CHECK_OK(sock_settimeout(&s, TEST_WAIT_MS));

	/* A line split over records, then peek, then exact. */
	CHECK_OK(sock_sendall(&s, "one ", 4, NULL, 0));
	CHECK_OK(sock_sendall(&s, "line\nrest", 9, NULL, 0));
	CHECK_INT(sock_recv_line(&s, line, sizeof(line)), ==, 9);
	CHECK_STR(line, "one line\n");
	CHECK_INT(sock_recv(&s, peek, sizeof(peek), MSG_PEEK), ==, 4);
	CHECK(memcmp(peek, "rest", 4) == 0);
	CHECK_OK(sock_recv_exact(&s, peek, 4, &got));
	CHECK(memcmp(peek, "rest", 4) == 0);

	/* A line longer than the buffer: -EMSGSIZE, nothing lost. */
	CHECK_OK(sock_sendall(&s, "0123456789abcdef\n", 17, NULL, 0));
	CHECK_ERR(sock_recv_line(&s, line, 8), -EMSGSIZE);
	CHECK_INT(sock_recv_line(&s, line, sizeof(line)), ==, 17);

	/* A megabyte both ways (the server echoes as it reads). */
	CHECK_OK(sock_sendall(&s, out, len, &got, 0));
	CHECK_INT(got, ==, len);
	CHECK_OK(sock_recv_exact(&s, in, len, &got));
	CHECK(memcmp(in, out, len) == 0);

	/* sendfile falls back to reading and sending. */
	{
		char path[] = "/tmp/tls_test.XXXXXX";
		int fd = mkstemp(path);

		CHECK(fd >= 0);
		unlink(path);
		CHECK(write(fd, "from a file\n", 12) == 12);
		CHECK_OK(sock_sendfile(&s, fd, 0, 0, &got));
		CHECK_INT(got, ==, 12);
		close(fd);
		CHECK_INT(sock_recv_line(&s, line, sizeof(line)), ==, 12);
		CHECK_STR(line, "from a file\n");
	}

	/* What cannot work on TLS says so. */
	{
		struct sock d;
		FILE *f;

		CHECK_ERR(sock_dup(&s, &d), -EOPNOTSUPP);
		CHECK_ERR(sock_makefile(&s, "r", &f), -EOPNOTSUPP);
	}

	/* close_notify our way, the rest and the server's close_notify back. */
	CHECK_OK(sock_sendall(&s, "tail", 4, NULL, 0));
	CHECK_OK(sock_shutdown(&s, SHUT_WR));
	CHECK_INT(sock_recv_all(&s, 1024, &all), ==, 4);
	CHECK(memcmp(all, "tail", 4) == 0);
	free(all);
	sock_close(&s);
	pthread_join(sv.thread, NULL);
	CHECK_OK(sv.wrap_err);
	sock_close(&sv.ls);
	sock_tls_ctx_free(sv.ctx);
	sock_tls_ctx_free(ctx);
	free(out);
	free(in);
}

/* ---- found by a review: the ends of a session ---- */

struct pair_server {
	struct sock *s;
	struct sock_tls_ctx *ctx;
	int wrap_err;
	bool close_at_once; /* close_notify and close after the handshake */
	bool garbage;	    /* then write bytes that are no TLS record */
	int drain_err;	    /* else: what the drain of the stream ended in */
	long long drained;
	int start_drain; /* a pipe: drain once a byte comes */
};

static void *pair_server_main(void *arg)
{
	struct pair_server *ps = arg;
	char buf[65536], go;
	ssize_t n;

	ps->wrap_err = sock_tls_wrap(ps->s, ps->ctx, NULL);
	if (ps->wrap_err)
		return NULL;
	if (ps->garbage) {
		CHECK(write(ps->s->fd, "\x17\x03\x03\x00\x05junk!", 10) == 10);
		return NULL;
	}
	if (ps->close_at_once) {
		sock_close(ps->s);
		return NULL;
	}
	CHECK(read(ps->start_drain, &go, 1) == 1);
	while ((n = sock_recv(ps->s, buf, sizeof(buf), 0)) > 0)
		ps->drained += n;
	ps->drain_err = (int)n;
	return NULL;
}

/* A TLS session over a socketpair: pair[0] our client, pair[1] served in
 * a thread by ps. */
static void pair_start(struct sock pair[2], struct pair_server *ps,
		       pthread_t *t, struct sock_tls_ctx *client,
		       const char *leaf)
{
	CHECK_OK(sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0));
	CHECK_OK(sock_settimeout(&pair[0], TEST_WAIT_MS));
	CHECK_OK(sock_settimeout(&pair[1], TEST_WAIT_MS));
	ps->s = &pair[1];
	ps->ctx = server_ctx(leaf);
	CHECK(pthread_create(t, NULL, pair_server_main, ps) == 0);
	CHECK_OK(sock_tls_wrap(&pair[0], client, "localhost"));
}

/* The peer sent close_notify and closed: a send fails, within its
 * timeout, instead of "sending" 0 bytes for ever. */
static void send_after_the_peers_close_notify_fails(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct pair_server ps = { .close_at_once = true };
	struct sock pair[2];
	static char big[1 << 16];
	char buf[16];
	long long t0;
	pthread_t t;
	int err;

	pair_start(pair, &ps, &t, ctx, "leaf");
	pthread_join(t, NULL);
	CHECK_OK(ps.wrap_err);
	CHECK_INT(sock_recv(&pair[0], buf, sizeof(buf), 0), ==, 0);
	CHECK_OK(sock_settimeout(&pair[0], 2000));
	t0 = test_now_ms();
	err = sock_sendall(&pair[0], big, sizeof(big), NULL, 0);
	CHECK(err == -EPIPE || err == -ECONNRESET);
	CHECK_INT(test_now_ms() - t0, <, 2000 + TEST_LATE_MS);
	sock_close(&pair[0]);
	sock_tls_ctx_free(ps.ctx);
	sock_tls_ctx_free(ctx);
}

/* A close_notify that could not go at once (the peer reads nothing) goes
 * when sock_shutdown is called again: the peer sees a clean end. */
static void close_notify_retried_after_a_timeout_goes_out(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct pair_server ps = { .drain_err = 1 };
	struct sock pair[2];
	static char data[200];
	long long sent = 0;
	int go[2], sndbuf = 0, queued = 0, err, i;
	socklen_t len = sizeof(sndbuf);
	pthread_t t;

	CHECK(pipe(go) == 0);
	ps.start_drain = go[0];
	pair_start(pair, &ps, &t, ctx, "leaf");
	/* Whole records until the send buffer is full. */
	CHECK(getsockopt(pair[0].fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) ==
	      0);
	for (i = 0; i < 100000 && queued < sndbuf; i++) {
		CHECK_INT(sock_send(&pair[0], data, sizeof(data), 0), ==,
			  sizeof(data));
		sent += sizeof(data);
		CHECK(ioctl(pair[0].fd, SIOCOUTQ, &queued) == 0);
	}
	CHECK_OK(sock_settimeout(&pair[0], 200));
	err = sock_shutdown(&pair[0], SHUT_WR);
	if (err == 0)
		SKIP("the close_notify fitted in the full buffer");
	CHECK_ERR(err, -ETIMEDOUT);
	CHECK(write(go[1], "g", 1) == 1);
	CHECK_OK(sock_settimeout(&pair[0], TEST_WAIT_MS));
	CHECK_OK(sock_shutdown(&pair[0], SHUT_WR));
	pthread_join(t, NULL);
	CHECK_INT(ps.drained, ==, sent);
	CHECK_INT(ps.drain_err, ==, 0); /* a clean end, not SOCK_ETLSEOF */
	sock_close(&pair[0]);
	sock_close(&pair[1]);
	sock_tls_ctx_free(ps.ctx);
	sock_tls_ctx_free(ctx);
	close(go[0]);
	close(go[1]);
}

/* With verification off, a later protocol error is no certificate's. */
static void insecure_protocol_error_is_not_a_certificate_error(void)
{
	struct sock_tls_ctx *ctx;
	struct pair_server ps = { .garbage = true };
	struct sock pair[2];
	char buf[64];
	pthread_t t;

	CHECK_OK(sock_tls_ctx_new(&ctx, SOCK_TLS_CLIENT));
	CHECK_OK(sock_tls_ctx_set_verify(ctx, SOCK_TLS_VERIFY_NONE));
	pair_start(pair, &ps, &t, ctx, "self");
	pthread_join(t, NULL);
	CHECK_OK(ps.wrap_err);
	CHECK_ERR(sock_recv(&pair[0], buf, sizeof(buf), 0), SOCK_ETLS);
	CHECK(strstr(sock_tls_reason(&pair[0]), "self") == NULL);
	sock_close(&pair[0]);
	sock_close(&pair[1]);
	sock_tls_ctx_free(ps.ctx);
	sock_tls_ctx_free(ctx);
}

static void wrap_wants_a_connected_stream(void)
{
	struct sock_tls_ctx *ctx = client_ctx();
	struct sock ls = SOCK_CLOSED;

	CHECK_OK(sock_listen(&ls, SOCK_STREAM, "127.0.0.1:0", 8, 0));
	CHECK_ERR(sock_tls_wrap(&ls, ctx, "localhost"), -EINVAL);
	CHECK(!sock_is_tls(&ls));
	sock_close(&ls);
	sock_tls_ctx_free(ctx);
}

static void context_errors_are_clear(void)
{
	struct sock_tls_ctx *ctx;

	CHECK_OK(sock_tls_ctx_new(&ctx, SOCK_TLS_SERVER));
	CHECK_ERR(sock_tls_ctx_use_cert(ctx, "/nonexistent.pem", NULL),
		  -ENOENT);
	CHECK(strstr(sock_tls_ctx_reason(ctx), "/nonexistent.pem") != NULL);
	/* The CA's certificate with the leaf's key: they do not match. */
	CHECK_ERR(sock_tls_ctx_use_cert(ctx, cert("ca.pem"), cert("leaf.key")),
		  SOCK_ETLS);
	CHECK(sock_tls_ctx_reason(ctx)[0] != '\0');
	CHECK_ERR(sock_tls_ctx_load_verify(ctx, cert("leaf.key"), NULL),
		  SOCK_ETLS);
	CHECK_ERR(sock_tls_ctx_set_min_version(ctx, 0x0301), -EINVAL);
	CHECK_OK(sock_tls_ctx_set_min_version(ctx, SOCK_TLS_1_3));
	CHECK_ERR(sock_tls_ctx_set_verify(ctx, 7), -EINVAL);
	sock_tls_ctx_free(ctx);
	CHECK_STR(sock_strerror(SOCK_ECERT), "certificate verification failed");
	CHECK_STR(sock_strerror(SOCK_ETLSEOF), "TLS stream cut without "
					       "close_notify");
}

static const struct test tests[] = {
	TEST(client_verifies_openssl_s_server),
	TEST(client_checks_ip_addresses),
	TEST(expired_certificate_is_refused),
	TEST(other_name_is_refused),
	TEST(self_signed_certificate_is_refused),
	TEST(untrusted_ca_is_refused_by_the_system_store),
	TEST(insecure_context_accepts_anyone),
	TEST(verifying_wrap_needs_a_name),
	TEST(close_notify_is_a_clean_end),
	TEST(cut_without_close_notify_is_reported),
	TEST(receive_timeout_on_a_silent_server),
	TEST(handshake_that_never_finishes_times_out),
	TEST(garbage_from_the_server_is_a_tls_error),
	TEST(close_notify_during_the_handshake_is_no_success),
	TEST(alpn_is_agreed_with_python),
	TEST(server_answers_python_client),
	TEST(server_answers_openssl_s_client),
	TEST(server_presents_the_chain_of_its_file),
	TEST(client_certificate_required_and_checked),
	TEST(plain_client_on_a_tls_port_is_refused),
	TEST(ordinary_calls_work_over_tls),
	TEST(send_after_the_peers_close_notify_fails),
	TEST(close_notify_retried_after_a_timeout_goes_out),
	TEST(insecure_protocol_error_is_not_a_certificate_error),
	TEST(wrap_wants_a_connected_stream),
	TEST(context_errors_are_clear),
};

int main(int argc, char **argv)
{
	int r;

	if (certs_make("tls_test"))
		return 1;
	r = test_main(argc, argv, tests, TEST_COUNT(tests));
	certs_remove("tls_test");
	return r;
}

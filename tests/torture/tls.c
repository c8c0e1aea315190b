/* SPDX-License-Identifier: MIT */
/* tls.c -- torture scenarios: a TLS client and a TLS server, each against a plain OpenSSL peer */

/*
 * The peer is OpenSSL used directly, in a thread, on plain system calls
 * that are never failed, with a certificate for localhost made in memory.
 * The work is correct when the line "ping" goes through TLS and comes back:
 * libsock's client (sock_tls_connect, verifying the peer against that
 * certificate) or its server (sock_accept, sock_tls_wrap), then
 * sock_sendall, sock_recv_line, sock_close.  The peer gives up after
 * PEER_MS without the library, so a failed run ends too.
 */

#include "torture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "../tls/selfsigned.h"

#define WORK_MS 3000
#define PEER_MS 3000

enum side { CLIENT, SERVER };

struct peer {
	int fd; /* the peer's listener (CLIENT) or libsock's (SERVER) */
	int port;
	SSL_CTX *ctx;
	bool ok; /* the line went both ways */
};

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = PEER_MS / 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Over ssl: read a line, answer it (server), or the other way round. */
static bool exchange(SSL *ssl, bool server)
{
	char line[64];
	size_t len = 0;
	int n;

	if (!server && SSL_write(ssl, "ping\n", 5) != 5)
		return false;
	while (len < sizeof(line) && (!len || line[len - 1] != '\n')) {
		n = SSL_read(ssl, line + len, (int)(sizeof(line) - len));
		if (n <= 0)
			return false;
		len += (size_t)n;
	}
	if (len != 5 || memcmp(line, "ping\n", 5))
		return false;
	if (server && SSL_write(ssl, line, 5) != 5)
		return false;
	SSL_shutdown(ssl);
	return true;
}

/* The peer of CLIENT: an OpenSSL server for one connection. */
static void *peer_server(void *arg)
{
	struct peer *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	SSL *ssl;
	int fd;

	if (poll(&pfd, 1, PEER_MS) != 1)
		return NULL;
	fd = accept4(p->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	set_timeouts(fd);
	ssl = SSL_new(p->ctx);
	if (ssl && SSL_set_fd(ssl, fd) && SSL_accept(ssl) == 1)
		p->ok = exchange(ssl, true);
	SSL_free(ssl);
	close(fd);
	return NULL;
}

/* The peer of SERVER: an OpenSSL client. */
static void *peer_client(void *arg)
{
	struct peer *p = arg;
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)p->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	SSL *ssl;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		ssl = SSL_new(p->ctx);
		if (ssl && SSL_set_fd(ssl, fd) && SSL_connect(ssl) == 1)
			p->ok = exchange(ssl, false);
		SSL_free(ssl);
	}
	close(fd);
	return NULL;
}

/* libsock's side: the line sent and received back, or received and sent
 * back; every failure reported as the library gave it. */
static void line_both_ways(struct run *r, struct sock *s, bool server)
{
	char line[64];
	ssize_t n;
	int err;

	err = sock_settimeout(s, WORK_MS);
	if (!server && !err)
		err = sock_sendall(s, "ping\n", 5, NULL, 0);
	if (err) {
		run_error(r, "sock_sendall", err);
		return;
	}
	n = sock_recv_line(s, line, sizeof(line));
	if (n < 0) {
		run_error(r, "sock_recv_line", (int)n);
		return;
	}
	if (n != 5 || strcmp(line, "ping\n")) {
		run_bad(r, "the line came back as %zd bytes", n);
		return;
	}
	if (server && (err = sock_sendall(s, line, 5, NULL, 0))) {
		run_error(r, "sock_sendall", err);
		return;
	}
	run_done(r);
}

static int listen_loopback(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0 ||
	    listen(fd, 8) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void client_work(struct run *r, struct peer *p, const char *cert)
{
	struct sock_tls_ctx *ctx = NULL;
	struct sock s = SOCK_CLOSED;
	char addr[64];
	int err;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p->port);
	err = sock_tls_ctx_new(&ctx, SOCK_TLS_CLIENT);
	if (err) {
		run_error(r, "sock_tls_ctx_new", err);
		return;
	}
	err = sock_tls_ctx_load_verify(ctx, cert, NULL);
	if (!err)
		err = sock_tls_connect(&s, ctx, addr, "localhost", WORK_MS);
	if (err) {
		run_error(r, "sock_tls_connect", err);
		if (s.fd >= 0)
			run_bad(r, "sock_tls_connect failed and left a socket");
	} else {
		line_both_ways(r, &s, false);
	}
	sock_close(&s);
	sock_tls_ctx_free(ctx);
}

static void server_work(struct run *r, struct peer *p, const char *cert,
			const char *key, struct sock *ls)
{
	struct sock_tls_ctx *ctx = NULL;
	struct sock c = SOCK_CLOSED;
	int err;

	err = sock_tls_ctx_new(&ctx, SOCK_TLS_SERVER);
	if (!err)
		err = sock_tls_ctx_use_cert(ctx, cert, key);
	if (!err)
		err = sock_settimeout(ls, WORK_MS);
	if (!err)
		err = sock_accept(ls, &c, NULL);
	if (!err)
		err = sock_settimeout(&c, WORK_MS);
	if (!err)
		err = sock_tls_wrap(&c, ctx, NULL);
	if (err)
		run_error(r, "sock_tls_wrap", err);
	else
		line_both_ways(r, &c, true);
	(void)p;
	sock_close(&c);
	sock_tls_ctx_free(ctx);
}

static void tls_run(const struct scenario *sc, struct run *r)
{
	char dir[] = "/tmp/torture_tls.XXXXXX", cert[64], key[64];
	struct peer p = { .fd = -1 };
	struct sock ls = SOCK_CLOSED;
	struct sock_addr a;
	pthread_t t;
	int err;

	if (!mkdtemp(dir) ||
	    !selfsigned_write(dir, 1, cert, key, sizeof(cert))) {
		run_bad(r, "no certificate for the peer");
		return;
	}
	p.ctx = SSL_CTX_new(sc->mode == CLIENT ? TLS_server_method()
					       : TLS_client_method());
	if (!p.ctx || (sc->mode == CLIENT &&
		       (SSL_CTX_use_certificate_file(p.ctx, cert,
						     SSL_FILETYPE_PEM) != 1 ||
			SSL_CTX_use_PrivateKey_file(p.ctx, key,
						    SSL_FILETYPE_PEM) != 1))) {
		run_bad(r, "no OpenSSL context for the peer");
		goto out;
	}
	if (sc->mode == CLIENT) {
		p.fd = listen_loopback(&p.port);
		if (p.fd < 0) {
			run_bad(r, "no listener for the peer");
			goto out;
		}
		pthread_create(&t, NULL, peer_server, &p);
		client_work(r, &p, cert);
	} else {
		err = sock_listen(&ls, SOCK_STREAM, "127.0.0.1:0", 8, 0);
		if (!err)
			err = sock_getsockname(&ls, &a);
		if (err) {
			run_error(r, "sock_listen", err);
			sock_close(&ls);
			goto out;
		}
		p.port = sock_addr_port(&a);
		pthread_create(&t, NULL, peer_client, &p);
		server_work(r, &p, cert, key, &ls);
		sock_close(&ls);
	}
	pthread_join(t, NULL);
	if (r->done && !p.ok)
		run_bad(r, "the peer did not see the line go both ways");
out:
	if (p.fd >= 0)
		close(p.fd);
	SSL_CTX_free(p.ctx);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

#define TLS(name, side)                                                        \
	{                                                                      \
		name, NULL, tls_run, 0, side, SOCK_STREAM, NULL                \
	}

const struct scenario tls_scenarios[] = {
	TLS("tls-client", CLIENT),
	TLS("tls-server", SERVER),
};
const size_t tls_scenarios_count =
	sizeof(tls_scenarios) / sizeof(tls_scenarios[0]);

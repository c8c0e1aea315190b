/* SPDX-License-Identifier: MIT */
/* tls_echo.c -- reference: a hand-written single-threaded OpenSSL epoll echo (or discard) server */

/*
 * usage: tls_echo [--discard] CERT KEY PORT
 *
 * What a C programmer writes with OpenSSL by hand: level-triggered epoll,
 * one SSL per connection on its descriptor, non-blocking.  The handshake
 * is driven by the events it asks for; then each readable event reads
 * the records there are (16 KiB at a time) and writes each back at once
 * (echo) or drops it (--discard).  A write the socket does not take whole
 * is kept and retried on EPOLLOUT, reading paused meanwhile, as in
 * epoll_echo.c.  The context is OpenSSL's defaults for a server with the
 * options libsock sets (TLS 1.2 at least, no renegotiation, the server's
 * cipher order), so both speak the same protocol and suite.
 */

#include "ref.h"

#include <stdbool.h>
#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BUF_SIZE (16 * 1024)

struct conn {
	SSL *ssl;
	bool shaken;
	/* plaintext SSL_write did not take: retried with the same bytes */
	size_t len;
	char data[BUF_SIZE];
};

static struct conn **conns; /* by descriptor */
static bool discard;
static char buf[BUF_SIZE];

static void drop(int fd)
{
	SSL_free(conns[fd]->ssl);
	free(conns[fd]);
	conns[fd] = NULL;
	close(fd);
}

static void want(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* A call on c failed with r: wait as OpenSSL asks, or drop it. */
static void failed(int ep, int fd, struct conn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		want(ep, fd, EPOLLIN);
		return;
	case SSL_ERROR_WANT_WRITE:
		want(ep, fd, EPOLLOUT);
		return;
	default:
		ERR_clear_error();
		drop(fd);
	}
}

/* Write what is kept; true when all of it went. */
static bool flush(int ep, int fd, struct conn *c)
{
	size_t n;
	int r;

	while (c->len) {
		r = SSL_write_ex(c->ssl, c->data, c->len, &n);
		if (r != 1) {
			failed(ep, fd, c, r);
			return false;
		}
		memmove(c->data, c->data + n, c->len - n);
		c->len -= n;
	}
	return true;
}

static void serve(int ep, int fd, uint32_t events)
{
	struct conn *c = conns[fd];
	size_t n;
	int r;

	if (!c->shaken) {
		r = SSL_accept(c->ssl);
		if (r != 1) {
			failed(ep, fd, c, r);
			return;
		}
		c->shaken = true;
		want(ep, fd, EPOLLIN);
	}
	if (c->len) {
		if (!(events & EPOLLOUT) || !flush(ep, fd, c))
			return;
		want(ep, fd, EPOLLIN);
	}
	for (;;) {
		r = SSL_read_ex(c->ssl, buf, sizeof(buf), &n);
		if (r != 1) {
			failed(ep, fd, c, r);
			return;
		}
		if (discard)
			continue;
		memcpy(c->data, buf, n);
		c->len = n;
		if (!flush(ep, fd, c))
			return; /* EPOLLOUT resumes it */
	}
}

static void accept_all(int ep, int lfd, int maxfd, SSL_CTX *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;
	int i, fd;

	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c = fd < maxfd ? calloc(1, sizeof(*c)) : NULL;
		if (c)
			c->ssl = SSL_new(ctx);
		if (!c || !c->ssl || !SSL_set_fd(c->ssl, fd)) {
			if (c)
				SSL_free(c->ssl);
			free(c);
			close(fd);
			continue;
		}
		ref_nodelay(fd);
		conns[fd] = c;
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			drop(fd);
	}
}

int main(int argc, char **argv)
{
	struct epoll_event ev[256] = { { .events = EPOLLIN } };
	int ep, lfd, i, n, maxfd, a;
	struct rlimit rl;
	SSL_CTX *ctx;

	discard = argc == 5 && !strcmp(argv[1], "--discard");
	a = 1 + discard;
	if (argc != 4 + discard) {
		fprintf(stderr, "usage: tls_echo [--discard] CERT KEY PORT\n");
		return 2;
	}
	ref_setup();
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, argv[a]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[a + 1], SSL_FILETYPE_PEM) !=
		    1) {
		fprintf(stderr, "tls_echo: cannot use %s and %s\n", argv[a],
			argv[a + 1]);
		return 1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	getrlimit(RLIMIT_NOFILE, &rl);
	maxfd = (int)rl.rlim_cur;
	conns = calloc((size_t)maxfd, sizeof(*conns));
	lfd = ref_listen(SOCK_STREAM, ref_port(argv[a + 2]));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || ep < 0)
		ref_die("setup");
	ev[0].data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev[0]) < 0)
		ref_die("epoll_ctl");
	for (;;) {
		n = epoll_wait(ep, ev, 256, -1);
		for (i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == lfd)
				accept_all(ep, lfd, maxfd, ctx);
			else if (conns[fd])
				serve(ep, fd, ev[i].events);
		}
	}
}

/* SPDX-License-Identifier: MIT */
/* bench_tls.c -- sock bench --tls: OpenSSL on the workers' non-blocking sockets */

/*
 * The load generator drives many connections from one epoll loop per
 * thread, so its TLS is OpenSSL used directly, without blocking: a
 * handshake, a write or a read that cannot go on says which way it waits,
 * and the worker's loop comes back when the socket is ready.  Every
 * connection makes a full handshake (no session is resumed): connrate
 * --tls measures handshakes.  The server is verified as sock connect
 * --tls does: against --cafile (or the system's store) and the target's
 * address, unless --insecure.
 */

#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

int bench_tls_init(struct bench_opts *o, const char *cafile, bool insecure)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Retried writes may come from another place in the pattern. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (!insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if ((cafile &&
		     SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) ||
		    (!cafile && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
			fprintf(stderr, "sock: --cafile %s: %s\n",
				cafile ? cafile : "(system)",
				ERR_reason_error_string(ERR_get_error()));
			SSL_CTX_free(ctx);
			return SOCK_ETLS;
		}
	}
	o->tls = ctx;
	o->tls_verify = !insecure;
	return 0;
}

void bench_tls_free(struct bench_opts *o)
{
	SSL_CTX_free(o->tls);
	o->tls = NULL;
}

/* The server's name to check: the target's host, an IP address or a
 * DNS name (then sent as SNI too). */
static bool set_name(const struct bench_opts *o, SSL *ssl)
{
	char host[SOCK_ADDR_STRLEN], port[32];
	unsigned char a[16];

	if (sock_addr_split(o->target, host, sizeof(host), port, sizeof(port)))
		return false;
	if (inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1)
		return !o->tls_verify ||
		       X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	return SSL_set_tlsext_host_name(ssl, host) &&
	       (!o->tls_verify || SSL_set1_host(ssl, host));
}

void *bench_tls_new(const struct bench_opts *o, int fd)
{
	SSL *ssl = SSL_new(o->tls);

	if (!ssl)
		return NULL;
	if (!SSL_set_fd(ssl, fd) || !set_name(o, ssl)) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

void bench_tls_free_conn(void *ssl)
{
	SSL_free(ssl);
}

void bench_tls_close(void *ssl)
{
	(void)SSL_shutdown(ssl); /* close_notify, if the socket takes it */
	ERR_clear_error();
}

/* What a failed call says: -EAGAIN with *want set, or an error code. */
static int failure(SSL *ssl, int r, uint32_t *want)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*want = EPOLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = EPOLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno ? -errno : SOCK_ETLSEOF;
	default:
		ERR_clear_error();
		return SSL_get_verify_result(ssl) != X509_V_OK ? SOCK_ECERT
							       : SOCK_ETLS;
	}
}

int bench_tls_handshake(void *ssl, uint32_t *want)
{
	int r;

	ERR_clear_error();
	errno = 0;
	r = SSL_do_handshake(ssl);
	if (r == 1)
		return 0;
	r = failure(ssl, r, want);
	return r ? r : SOCK_ETLS; /* close_notify in the handshake */
}

ssize_t bench_tls_send(void *ssl, const void *buf, size_t len)
{
	uint32_t want;
	size_t n;
	int r;

	ERR_clear_error();
	errno = 0;
	if (SSL_write_ex(ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	r = failure(ssl, 0, &want);
	return r ? r : -EPIPE;
}

ssize_t bench_tls_recv(void *ssl, void *buf, size_t len)
{
	uint32_t want;
	size_t got = 0, n;
	int r = 0;

	/* Whole records only (at most 16 KiB each, and this much room is
	 * left for each): no plaintext stays inside OpenSSL unseen by the
	 * worker's epoll. */
	while (len - got >= 16384) {
		ERR_clear_error();
		errno = 0;
		if (SSL_read_ex(ssl, (char *)buf + got, len - got, &n) != 1) {
			r = failure(ssl, 0, &want);
			break;
		}
		got += n;
	}
	if (got)
		return (ssize_t)got;
	return r;
}

/* SPDX-License-Identifier: MIT */
/* tls.c -- TLS on struct sock: OpenSSL's records under the library's deadlines and codes */

#include "tls/tls.h"

#include <assert.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* The reason of this thread's last TLS failure, for a socket it closed. */
static __thread char thread_reason[SOCK__TLS_REASON_MAX];

/* ------------------------------------------------------------------ */
/* The transport: send(2) with MSG_NOSIGNAL, so that a peer gone away
 * never raises SIGPIPE in the program (OpenSSL's socket BIO uses write). */

/* Made at the first wrap; a failure (memory) is tried again at the
 * next, rather than leaving TLS broken for the life of the process. */
static BIO_METHOD *bio_method;
static pthread_mutex_t bio_lock = PTHREAD_MUTEX_INITIALIZER;

static int bio_write(BIO *b, const char *data, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = send((int)BIO_get_fd(b, NULL), data, (size_t)len,
			 MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		BIO_set_retry_write(b);
	return (int)n;
}

static int bio_read(BIO *b, char *data, int len)
{
	ssize_t n;

	BIO_clear_retry_flags(b);
	do {
		n = recv((int)BIO_get_fd(b, NULL), data, (size_t)len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		BIO_set_retry_read(b);
	return (int)n;
}

static void make_bio_method(void)
{
	const BIO_METHOD *sock = BIO_s_socket();
	BIO_METHOD *m;

	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
				 BIO_TYPE_DESCRIPTOR,
			 "libsock socket");
	if (!m)
		return;
	/* The socket BIO's own bookkeeping (its descriptor, flags). */
	BIO_meth_set_create(m, BIO_meth_get_create(sock));
	BIO_meth_set_destroy(m, BIO_meth_get_destroy(sock));
	BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(sock));
	BIO_meth_set_write(m, bio_write);
	BIO_meth_set_read(m, bio_read);
	bio_method = m;
}

/* ------------------------------------------------------------------ */
/* Failures */

void sock__tls_reason_from_queue(char *buf, size_t size, const char *fallback)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, size, "%s", r ? r : fallback);
	ERR_clear_error();
}

/* Record why s failed, on the socket and for the thread; returns code. */
static int fail(struct sock *s, int code, const char *text)
{
	struct sock_tls *t = s->tls;

	if (text && text != t->reason)
		snprintf(t->reason, sizeof(t->reason), "%s", text);
	else if (!text)
		sock__tls_reason_from_queue(t->reason, sizeof(t->reason),
					    sock_strerror(code));
	memcpy(thread_reason, t->reason, sizeof(thread_reason));
	if (code != -ETIMEDOUT && code != -EAGAIN)
		t->failed = true;
	return code;
}

/* A failure reported as SSL_ERROR_SSL: which one, from the queue. */
static int protocol_failure(struct sock *s)
{
	struct sock_tls *t = s->tls;
	unsigned long e = ERR_peek_error();
	long verify;

	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		return fail(s, SOCK_ETLSEOF,
			    "the peer closed the stream without close_notify");
	/* The verification's verdict explains a failed handshake only: with
	 * SOCK_TLS_VERIFY_NONE a handshake succeeds whatever it is, and a
	 * later protocol error is no certificate's fault. */
	verify = t->done || t->ctx->verify == SOCK_TLS_VERIFY_NONE
			 ? X509_V_OK
			 : SSL_get_verify_result(t->ssl);
	if (verify != X509_V_OK) {
		ERR_clear_error();
		return fail(s, SOCK_ECERT,
			    X509_verify_cert_error_string(verify));
	}
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		return fail(s, SOCK_ECERT, NULL);
	return fail(s, SOCK_ETLS, NULL);
}

/* ------------------------------------------------------------------ */
/* One operation, retried within the deadline */

enum op { OP_HANDSHAKE, OP_READ, OP_WRITE };

/*
 * Run op on s's TLS state until it completes, waiting for the socket as
 * OpenSSL asks, until deadline.  Returns the bytes moved (0 for a read at
 * the peer's close_notify, and for a handshake), or a negative code.
 */
static ssize_t run(struct sock *s, enum op op, void *buf, size_t len,
		   int64_t deadline)
{
	struct sock_tls *t = s->tls;
	size_t n = 0;
	int r, e, saved, err;

	if (t->failed)
		return fail(s, SOCK_ETLS, t->reason[0] ? t->reason : NULL);
	for (;;) {
		ERR_clear_error();
		errno = 0;
		switch (op) {
		case OP_HANDSHAKE:
			r = SSL_do_handshake(t->ssl);
			break;
		case OP_READ:
			r = SSL_read_ex(t->ssl, buf, len, &n);
			break;
		default:
			r = SSL_write_ex(t->ssl, buf, len, &n);
			break;
		}
		saved = errno;
		if (r == 1)
			return (ssize_t)n;
		e = SSL_get_error(t->ssl, r);
		switch (e) {
		case SSL_ERROR_WANT_READ:
			err = sock__wait(s->fd, POLLIN, deadline);
			break;
		case SSL_ERROR_WANT_WRITE:
			err = sock__wait(s->fd, POLLOUT, deadline);
			break;
		case SSL_ERROR_ZERO_RETURN:
			/* close_notify.  Before the handshake finished it is
			 * no success: nothing was agreed or verified.  A write
			 * after it (OpenSSL 3.0 says ZERO_RETURN for a write
			 * that failed once the peer's close_notify came) is a
			 * failed write, never 0 bytes sent: a send loop would
			 * spin. */
			if (op == OP_HANDSHAKE)
				return fail(s, SOCK_ETLS,
					    "the peer closed the session "
					    "before the handshake finished");
			if (op == OP_WRITE)
				return fail(s, saved ? -saved : -EPIPE,
					    "the peer closed the session");
			t->eof = true;
			return 0;
		case SSL_ERROR_SYSCALL:
			if (saved && saved != EAGAIN)
				return fail(s, -saved, sock_strerror(-saved));
			return fail(s, SOCK_ETLSEOF,
				    "the peer closed the stream without "
				    "close_notify");
		case SSL_ERROR_SSL:
			return protocol_failure(s);
		default:
			return fail(s, SOCK_ETLS, NULL);
		}
		if (err)
			return err == -ETIMEDOUT || err == -EAGAIN
				       ? err
				       : fail(s, err, sock_strerror(err));
	}
}

/* ------------------------------------------------------------------ */
/* Wrapping */

static bool is_ip_address(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	       inet_pton(AF_INET6, name, a) == 1;
}

/* The client's checks: SNI, and the name or address to match. */
static int set_peer_name(struct sock_tls *t, const char *name)
{
	X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);

	if (!name)
		return 0;
	if (is_ip_address(name)) {
		if (t->ctx->verify != SOCK_TLS_VERIFY_NONE &&
		    !X509_VERIFY_PARAM_set1_ip_asc(param, name))
			return -EINVAL;
		return 0;
	}
	if (!SSL_set_tlsext_host_name(t->ssl, name))
		return -EINVAL;
	if (t->ctx->verify != SOCK_TLS_VERIFY_NONE) {
		X509_VERIFY_PARAM_set_hostflags(
			param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (!SSL_set1_host(t->ssl, name))
			return -EINVAL;
	}
	return 0;
}

static void tls_free(struct sock_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	sock_tls_ctx_free(t->ctx);
	free(t->buf);
	free(t);
}

/* The TLS state for s, not yet shaken hands. */
static int tls_new(struct sock *s, struct sock_tls_ctx *ctx, const char *name)
{
	struct sock_tls *t;
	BIO *bio;
	int err;

	pthread_mutex_lock(&bio_lock);
	if (!bio_method)
		make_bio_method();
	pthread_mutex_unlock(&bio_lock);
	if (!bio_method)
		return -ENOMEM;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	sock__tls_ctx_get(ctx);
	t->ctx = ctx;
	t->ssl = SSL_new(ctx->ssl_ctx);
	bio = BIO_new(bio_method);
	if (!t->ssl || !bio) {
		BIO_free(bio);
		tls_free(t);
		return -ENOMEM;
	}
	BIO_set_fd(bio, s->fd, BIO_NOCLOSE);
	SSL_set_bio(t->ssl, bio, bio);
	if (ctx->role == SOCK_TLS_CLIENT) {
		SSL_set_connect_state(t->ssl);
		err = set_peer_name(t, name);
		if (err) {
			tls_free(t);
			return err;
		}
	} else {
		SSL_set_accept_state(t->ssl);
	}
	s->tls = t;
	return 0;
}

int sock__tls_wrap_until(struct sock *s, struct sock_tls_ctx *ctx,
			 const char *name, int64_t deadline)
{
	int type = 0, err;

	thread_reason[0] = '\0';
	if (s->fd < 0 || s->tls)
		return -EINVAL;
	if (sock__get_int_opt(s->fd, SO_TYPE, &type) == 0 &&
	    type != SOCK_STREAM)
		return -EINVAL;
	{
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);

		if (getpeername(s->fd, (struct sockaddr *)&peer, &len) < 0)
			return -EINVAL; /* not connected (a listener) */
	}
	if (ctx->role == SOCK_TLS_CLIENT && !name &&
	    ctx->verify != SOCK_TLS_VERIFY_NONE) {
		snprintf(thread_reason, sizeof(thread_reason),
			 "a verifying client needs the server's name");
		return -EINVAL;
	}
	if (ctx->role == SOCK_TLS_SERVER && !ctx->has_cert) {
		snprintf(thread_reason, sizeof(thread_reason),
			 "a server context needs a certificate");
		return -EINVAL;
	}
	err = tls_new(s, ctx, name);
	if (err)
		return err;
	err = (int)run(s, OP_HANDSHAKE, NULL, 0, deadline);
	if (err < 0) {
		/* A timed-out handshake cannot be resumed by a later call:
		 * the socket's stream is spent either way. */
		s->tls->failed = true;
		if (err == -ETIMEDOUT)
			fail(s, err, "the handshake did not finish in time");
		return err;
	}
	s->tls->done = true;
	return 0;
}

int sock_tls_wrap(struct sock *s, struct sock_tls_ctx *ctx,
		  const char *server_name)
{
	assert(s && ctx);
	return sock__tls_wrap_until(s, ctx, server_name,
				    sock__deadline(s->timeout_ms));
}

int sock_tls_connect(struct sock *s, struct sock_tls_ctx *ctx, const char *addr,
		     const char *server_name, int timeout_ms)
{
	int64_t deadline = sock__deadline(timeout_ms);
	char host[256], port[64];
	int err;

	assert(s && ctx && addr);
	thread_reason[0] = '\0';
	if (ctx->role != SOCK_TLS_CLIENT)
		return -EINVAL;
	if (!server_name &&
	    sock_addr_split(addr, host, sizeof(host), port, sizeof(port)) ==
		    0 &&
	    host[0])
		server_name = host;
	err = sock_connect(s, SOCK_STREAM, addr, timeout_ms);
	if (err)
		return err;
	err = sock__tls_wrap_until(s, ctx, server_name, deadline);
	if (err) {
		(void)sock_close(s);
		return err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The server framework's handshake, one step at a time on its loop */

int sock__tls_accept_start(struct sock *s, struct sock_tls_ctx *ctx)
{
	int err;

	if (s->fd < 0 || s->tls || ctx->role != SOCK_TLS_SERVER ||
	    !ctx->has_cert)
		return -EINVAL;
	err = tls_new(s, ctx, NULL);
	/* Idle connections keep no record buffers. */
	if (!err)
		SSL_set_mode(s->tls->ssl, SSL_MODE_RELEASE_BUFFERS);
	return err;
}

int sock__tls_accept_step(struct sock *s)
{
	struct sock_tls *t = s->tls;
	ssize_t r;

	r = run(s, OP_HANDSHAKE, NULL, 0, SOCK__NOW);
	if (r == -EAGAIN)
		return SSL_want_write(t->ssl) ? POLLOUT : POLLIN;
	if (r < 0) {
		t->failed = true;
		return (int)r;
	}
	t->done = true;
	return 0;
}

SSL *sock__tls_take_ssl(struct sock *s)
{
	struct sock_tls *t = s->tls;
	SSL *ssl = t->ssl;

	t->ssl = NULL;
	tls_free(t);
	s->tls = NULL;
	return ssl;
}

/* ------------------------------------------------------------------ */
/* Sending and receiving */

/* Take up to len bytes of what was decrypted ahead (peek: leave them). */
static size_t take_buffered(struct sock_tls *t, void *buf, size_t len,
			    bool peek)
{
	size_t n = t->len - t->pos;

	if (n > len)
		n = len;
	memcpy(buf, t->buf + t->pos, n);
	if (!peek) {
		t->pos += n;
		if (t->pos == t->len)
			t->pos = t->len = 0;
	}
	return n;
}

/* Decrypt more into the buffer, which is made to hold at least want
 * bytes.  Returns the bytes added, 0 at close_notify, or a code. */
static ssize_t fill(struct sock *s, size_t want, int64_t deadline)
{
	struct sock_tls *t = s->tls;
	size_t cap;
	ssize_t n;
	char *b;

	if (t->pos > 0) {
		memmove(t->buf, t->buf + t->pos, t->len - t->pos);
		t->len -= t->pos;
		t->pos = 0;
	}
	if (want < 16384)
		want = 16384;
	if (want > SSIZE_MAX / 2)
		return -ENOMEM;
	if (t->cap < want) {
		cap = t->cap ? t->cap : 16384;
		while (cap < want)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b)
			return -ENOMEM;
		t->buf = b;
		t->cap = cap;
	}
	if (t->eof)
		return 0;
	n = run(s, OP_READ, t->buf + t->len, t->cap - t->len, deadline);
	if (n > 0)
		t->len += (size_t)n;
	return n;
}

ssize_t sock__tls_recv(struct sock *s, void *buf, size_t len, int flags,
		       int64_t deadline)
{
	struct sock_tls *t = s->tls;
	bool peek = flags & MSG_PEEK;
	ssize_t n;

	if (flags & ~(MSG_PEEK | MSG_DONTWAIT | MSG_NOSIGNAL))
		return -EOPNOTSUPP;
	if (len == 0)
		return 0;
	if (t->len > t->pos)
		return (ssize_t)take_buffered(t, buf, len, peek);
	if (t->eof)
		return 0;
	if (!peek)
		return run(s, OP_READ, buf, len, deadline);
	n = fill(s, 0, deadline);
	if (n <= 0)
		return n;
	return (ssize_t)take_buffered(t, buf, len, true);
}

ssize_t sock__tls_send(struct sock *s, const void *buf, size_t len, int flags,
		       int64_t deadline)
{
	if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE))
		return -EOPNOTSUPP;
	if (len == 0)
		return 0;
	return run(s, OP_WRITE, (void *)buf, len, deadline);
}

ssize_t sock__tls_recv_line(struct sock *s, char *buf, size_t size,
			    int64_t deadline)
{
	struct sock_tls *t = s->tls;
	size_t scanned = 0, n;
	ssize_t got;
	char *nl;

	for (;;) {
		n = t->len - t->pos;
		nl = n > scanned ? memchr(t->buf + t->pos + scanned, '\n',
					  n - scanned)
				 : NULL;
		if (nl) {
			n = (size_t)(nl - (t->buf + t->pos)) + 1;
			if (n > size - 1)
				return -EMSGSIZE;
			break;
		}
		if (n >= size - 1)
			return -EMSGSIZE;
		scanned = n;
		got = fill(s, size, deadline);
		if (got < 0)
			return got;
		if (got == 0) { /* the end: a last line without '\n' */
			if (n == 0)
				return 0;
			break;
		}
	}
	take_buffered(t, buf, n, false);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* ------------------------------------------------------------------ */
/* Ending */

/* Send close_notify once, if the session is in a state to (a fatal
 * error forbids it), within deadline. */
int sock__tls_close_notify(struct sock *s, int64_t deadline)
{
	struct sock_tls *t = s->tls;
	int r, err;

	/* OpenSSL marks close_notify sent before it went: a call that timed
	 * out leaves it queued, and only another SSL_shutdown sends it. */
	if (!t->done || t->failed || t->notified)
		return 0;
	for (;;) {
		ERR_clear_error();
		r = SSL_shutdown(t->ssl);
		if (r >= 0) {
			t->notified = true;
			return 0;
		}
		switch (SSL_get_error(t->ssl, r)) {
		case SSL_ERROR_WANT_WRITE:
			err = sock__wait(s->fd, POLLOUT, deadline);
			break;
		case SSL_ERROR_WANT_READ:
			/* Sent; OpenSSL would go on to wait for the peer's. */
			t->notified = true;
			return 0;
		default:
			t->failed = true;
			ERR_clear_error();
			return SOCK_ETLS;
		}
		if (err)
			return err;
	}
}

void sock__tls_release(struct sock *s, bool notify)
{
	if (!s->tls)
		return;
	/* Closing never waits: close_notify goes if it fits at once. */
	if (notify)
		(void)sock__tls_close_notify(s, SOCK__NOW);
	tls_free(s->tls);
	s->tls = NULL;
}

/* ------------------------------------------------------------------ */
/* Questions */

bool sock_is_tls(const struct sock *s)
{
	assert(s);
	return s->tls != NULL;
}

size_t sock_tls_pending(const struct sock *s)
{
	assert(s);
	if (!s->tls || !s->tls->done)
		return 0;
	return s->tls->len - s->tls->pos + (size_t)SSL_pending(s->tls->ssl);
}

const char *sock_tls_reason(const struct sock *s)
{
	if (s && s->tls && s->tls->reason[0])
		return s->tls->reason;
	return thread_reason;
}

const char *sock_tls_version(const struct sock *s)
{
	assert(s);
	return s->tls && s->tls->done ? SSL_get_version(s->tls->ssl) : NULL;
}

const char *sock_tls_cipher(const struct sock *s)
{
	assert(s);
	return s->tls && s->tls->done ? SSL_get_cipher_name(s->tls->ssl) : NULL;
}

const char *sock_tls_alpn(const struct sock *s)
{
	static __thread char name[256];
	const unsigned char *p;
	unsigned int len = 0;

	assert(s);
	if (!s->tls || !s->tls->done)
		return NULL;
	SSL_get0_alpn_selected(s->tls->ssl, &p, &len);
	if (len == 0)
		return NULL;
	memcpy(name, p, len);
	name[len] = '\0';
	return name;
}

int sock_tls_peer_subject(const struct sock *s, char *buf, size_t size)
{
	X509 *cert;
	BIO *mem;
	char *p;
	long n;
	int ret;

	assert(s && buf);
	if (!s->tls || !s->tls->done)
		return -EINVAL;
	cert = SSL_get0_peer_certificate(s->tls->ssl);
	if (!cert) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	mem = BIO_new(BIO_s_mem());
	if (!mem)
		return -ENOMEM;
	X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0,
			   XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_get_mem_data(mem, &p);
	if (n < 0 || (size_t)n >= size) {
		ret = -ENOSPC;
	} else {
		memcpy(buf, p, (size_t)n);
		buf[n] = '\0';
		ret = (int)n;
	}
	BIO_free(mem);
	return ret;
}

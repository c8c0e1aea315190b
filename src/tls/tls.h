/* SPDX-License-Identifier: MIT */
/* tls.h -- TLS state shared by the library's files, not installed */

#ifndef SOCK_TLS_INTERNAL_H
#define SOCK_TLS_INTERNAL_H

#include "internal.h"

#include <openssl/ssl.h>

#define SOCK__TLS_REASON_MAX 160

struct sock_tls_ctx {
	SSL_CTX *ssl_ctx;
	int refs; /* the caller's, and one per socket wrapped with it */
	enum sock_tls_role role;
	enum sock_tls_verify verify;
	bool own_store; /* sock_tls_ctx_load_verify replaced the system's */
	bool has_cert;
	unsigned char *alpn; /* a server's protocols, in wire format */
	size_t alpn_len;
	char reason[SOCK__TLS_REASON_MAX];
};

/* What struct sock's tls points to. */
struct sock_tls {
	SSL *ssl;
	struct sock_tls_ctx *ctx;
	/* Plaintext received and not yet taken, [pos, len) of buf: what a
	 * peek or a line read decrypted ahead. */
	char *buf;
	size_t pos, len, cap;
	bool done;     /* handshake finished */
	bool failed;   /* a fatal error: no close_notify may follow */
	bool notified; /* our close_notify went out */
	bool eof;      /* the peer's close_notify came */
	char reason[SOCK__TLS_REASON_MAX];
};

/* Take a reference on ctx; sock__tls_ctx_put drops one. */
void sock__tls_ctx_get(struct sock_tls_ctx *ctx);

/* OpenSSL's reason for the error at the head of this thread's queue into
 * buf, or fallback when the queue is empty; the queue is cleared. */
void sock__tls_reason_from_queue(char *buf, size_t size, const char *fallback);

/*
 * The server framework's handshake (server/tls_conn.c), driven by its loop:
 * start makes s's server-side TLS state (ctx must have a certificate);
 * each step runs the handshake as far as the socket allows without
 * waiting, and returns 0 once it is done, POLLIN or POLLOUT for what to
 * wait for next, or a negative code (sock_tls_reason(s) says why).
 */
int sock__tls_accept_start(struct sock *s, struct sock_tls_ctx *ctx);
int sock__tls_accept_step(struct sock *s);
/* Take the OpenSSL session out of s (which is then not TLS), to carry
 * records through other means; the caller frees it. */
SSL *sock__tls_take_ssl(struct sock *s);

#endif /* SOCK_TLS_INTERNAL_H */

/* SPDX-License-Identifier: MIT */
/* context.c -- TLS contexts: what to verify, what to present, which versions */

#include "tls/tls.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

/* Record OpenSSL's reason for the failure just seen (or text) in ctx. */
static int ctx_fail(struct sock_tls_ctx *ctx, int code, const char *text)
{
	sock__tls_reason_from_queue(ctx->reason, sizeof(ctx->reason), text);
	return code;
}

/* Apply ctx->verify to the OpenSSL context. */
static void apply_verify(struct sock_tls_ctx *ctx)
{
	int mode = SSL_VERIFY_NONE;

	if (ctx->verify != SOCK_TLS_VERIFY_NONE)
		mode = SSL_VERIFY_PEER;
	if (ctx->role == SOCK_TLS_SERVER &&
	    ctx->verify == SOCK_TLS_VERIFY_REQUIRE)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx->ssl_ctx, mode, NULL);
}

int sock_tls_ctx_new(struct sock_tls_ctx **out, enum sock_tls_role role)
{
	struct sock_tls_ctx *ctx;
	SSL_CTX *c;

	assert(out);
	*out = NULL;
	if (role != SOCK_TLS_CLIENT && role != SOCK_TLS_SERVER)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ERR_clear_error();
	c = SSL_CTX_new(role == SOCK_TLS_CLIENT ? TLS_client_method()
						: TLS_server_method());
	if (!c) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->ssl_ctx = c;
	ctx->refs = 1;
	ctx->role = role;
	ctx->verify = role == SOCK_TLS_CLIENT ? SOCK_TLS_VERIFY_PEER
					      : SOCK_TLS_VERIFY_NONE;
	if (!SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) ||
	    !SSL_CTX_set_default_verify_paths(c)) {
		sock_tls_ctx_free(ctx);
		return -ENOMEM;
	}
	/* Renegotiation refused both ways; partial writes, as send(2).  The
	 * chain presented is the one sock_tls_ctx_use_cert() loaded, as it
	 * is: OpenSSL would otherwise look its issuers up in the trust store
	 * at every handshake (the system's store is a directory, read whole
	 * for each look-up that finds nothing: 15% of a TLS server's
	 * CPU per handshake went there). */
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION |
				       SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE |
				    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				    SSL_MODE_NO_AUTO_CHAIN);
	apply_verify(ctx);
	*out = ctx;
	return 0;
}

void sock__tls_ctx_get(struct sock_tls_ctx *ctx)
{
	__atomic_add_fetch(&ctx->refs, 1, __ATOMIC_RELAXED);
}

/* The last reference frees it: the caller's, or the last socket's. */
void sock_tls_ctx_free(struct sock_tls_ctx *ctx)
{
	if (!ctx || __atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx->alpn);
	free(ctx);
}

/* -ENOENT for a path that does not exist, before OpenSSL's vaguer error. */
static int check_path(struct sock_tls_ctx *ctx, const char *path)
{
	if (!path || access(path, R_OK) == 0)
		return 0;
	snprintf(ctx->reason, sizeof(ctx->reason), "%s: %s", path,
		 sock_strerror(-errno));
	return -errno;
}

int sock_tls_ctx_load_verify(struct sock_tls_ctx *ctx, const char *cafile,
			     const char *capath)
{
	X509_STORE *store;
	int err;

	assert(ctx);
	if (!cafile && !capath)
		return -EINVAL;
	err = check_path(ctx, cafile);
	if (!err)
		err = check_path(ctx, capath);
	if (err)
		return err;
	/* The first call puts a store of the caller's own in place of the
	 * system's, as Python's create_default_context(cafile=...) does. */
	if (!ctx->own_store) {
		store = X509_STORE_new();
		if (!store)
			return -ENOMEM;
		SSL_CTX_set_cert_store(ctx->ssl_ctx, store);
		ctx->own_store = true;
	}
	ERR_clear_error();
	if (!SSL_CTX_load_verify_locations(ctx->ssl_ctx, cafile, capath))
		return ctx_fail(ctx, SOCK_ETLS, "no CA certificate loaded");
	/* A server names these CAs when it asks for a client certificate. */
	if (cafile && ctx->role == SOCK_TLS_SERVER) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cafile);

		if (names)
			SSL_CTX_set_client_CA_list(ctx->ssl_ctx, names);
	}
	ctx->reason[0] = '\0';
	return 0;
}

int sock_tls_ctx_set_verify(struct sock_tls_ctx *ctx, enum sock_tls_verify mode)
{
	assert(ctx);
	if (mode != SOCK_TLS_VERIFY_NONE && mode != SOCK_TLS_VERIFY_PEER &&
	    mode != SOCK_TLS_VERIFY_REQUIRE)
		return -EINVAL;
	ctx->verify = mode;
	apply_verify(ctx);
	return 0;
}

int sock_tls_ctx_use_cert(struct sock_tls_ctx *ctx, const char *chain_file,
			  const char *key_file)
{
	int err;

	assert(ctx);
	if (!chain_file)
		return -EINVAL;
	if (!key_file)
		key_file = chain_file;
	err = check_path(ctx, chain_file);
	if (!err)
		err = check_path(ctx, key_file);
	if (err)
		return err;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, chain_file) != 1)
		return ctx_fail(ctx, SOCK_ETLS, "no certificate in the file");
	if (SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, key_file,
					SSL_FILETYPE_PEM) != 1)
		return ctx_fail(ctx, SOCK_ETLS, "no private key in the file");
	if (SSL_CTX_check_private_key(ctx->ssl_ctx) != 1)
		return ctx_fail(ctx, SOCK_ETLS,
				"the key does not match the certificate");
	ctx->has_cert = true;
	ctx->reason[0] = '\0';
	return 0;
}

/* A server's choice: the first of its protocols that the client offers. */
static int select_alpn(SSL *ssl, const unsigned char **out,
		       unsigned char *outlen, const unsigned char *in,
		       unsigned int inlen, void *arg)
{
	struct sock_tls_ctx *ctx = arg;
	unsigned char *chosen;

	(void)ssl;
	if (SSL_select_next_proto(&chosen, outlen, ctx->alpn,
				  (unsigned int)ctx->alpn_len, in,
				  inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = chosen;
	return SSL_TLSEXT_ERR_OK;
}

int sock_tls_ctx_set_alpn(struct sock_tls_ctx *ctx, const char *protocols)
{
	unsigned char *wire;
	size_t len = 0, n;
	const char *p, *comma;

	assert(ctx && protocols);
	/* Wire format: each name preceded by its length in one byte. */
	wire = malloc(strlen(protocols) + 1);
	if (!wire)
		return -ENOMEM;
	for (p = protocols;; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n > 255) {
			free(wire);
			return -EINVAL;
		}
		wire[len++] = (unsigned char)n;
		memcpy(wire + len, p, n);
		len += n;
		if (!comma)
			break;
	}
	if (ctx->role == SOCK_TLS_CLIENT &&
	    SSL_CTX_set_alpn_protos(ctx->ssl_ctx, wire, (unsigned int)len)) {
		free(wire);
		return -ENOMEM;
	}
	free(ctx->alpn);
	ctx->alpn = wire;
	ctx->alpn_len = len;
	if (ctx->role == SOCK_TLS_SERVER)
		SSL_CTX_set_alpn_select_cb(ctx->ssl_ctx, select_alpn, ctx);
	return 0;
}

int sock_tls_ctx_set_min_version(struct sock_tls_ctx *ctx,
				 enum sock_tls_version version)
{
	assert(ctx);
	if (version != SOCK_TLS_1_2 && version != SOCK_TLS_1_3)
		return -EINVAL;
	if (!SSL_CTX_set_min_proto_version(ctx->ssl_ctx, (int)version))
		return -EINVAL;
	return 0;
}

const char *sock_tls_ctx_reason(const struct sock_tls_ctx *ctx)
{
	assert(ctx);
	return ctx->reason;
}

/* SPDX-License-Identifier: MIT */
/* tls.h -- libsock's TLS: Python's ssl module on struct sock */

/*
 * Included by <sock.h>; do not include directly.
 *
 * TLS (OpenSSL 3 underneath, never visible) on the same struct sock: a
 * connected stream socket is wrapped once, with a context that says how
 * to verify the peer and what to present, and from then on the ordinary
 * calls -- sock_send, sock_sendall, sock_recv, sock_recv_exact,
 * sock_recv_line, sock_recv_alloc, sock_recv_all, sock_settimeout,
 * sock_shutdown, sock_close -- carry TLS records, with the same timeouts
 * and error codes.
 *
 *	struct sock_tls_ctx *ctx;
 *	struct sock s = SOCK_CLOSED;
 *
 *	sock_tls_ctx_new(&ctx, SOCK_TLS_CLIENT);    verifies by default
 *	err = sock_tls_connect(&s, ctx, "example.org:443", NULL, 5000);
 *	if (err)
 *		fprintf(stderr, "%s (%s)\n", sock_strerror(err),
 *			sock_tls_reason(&s));
 *
 * Verification is on by default for clients, as in Python's
 * ssl.create_default_context(): the server's chain must lead to a trusted
 * certificate (the system's store, or the CA files given) and name the
 * host connected to (a DNS name against the certificate's names, an IP
 * address against its IP addresses).  Turning it off is explicit
 * (sock_tls_ctx_set_verify(ctx, SOCK_TLS_VERIFY_NONE)).  TLS 1.2 is the
 * oldest version spoken unless raised; renegotiation is refused.
 *
 * Errors: SOCK_ETLS for a failed handshake or a protocol error (the peer's
 * alert, garbage, a refused renegotiation), SOCK_ECERT when the peer's
 * certificate failed verification, and SOCK_ETLSEOF when the peer cut the
 * stream without TLS's close_notify (a truncation attack looks like that:
 * it is not reported as a clean end).  sock_tls_reason() says why, in
 * OpenSSL's words ("certificate has expired", "hostname mismatch").
 *
 * A receive that returns 0 means the peer closed its side with
 * close_notify: the data is complete.  sock_shutdown(s, SHUT_WR) and
 * sock_close() send close_notify.  As in Python, a send that failed with
 * a timeout must be repeated with the same bytes before any other send.
 *
 * A wrapped socket is used by one thread at a time (reads and writes
 * share the TLS state), as with Python's SSLSocket.  Contexts are shared
 * freely between threads once set up.
 */

/* A TLS context: verification, certificates, versions, ALPN.  Opaque. */
struct sock_tls_ctx;

/* Which side a context is for. */
enum sock_tls_role {
	SOCK_TLS_CLIENT = 0,
	SOCK_TLS_SERVER = 1,
};

/* How a context checks the peer's certificate. */
enum sock_tls_verify {
	/* No check at all (Python's CERT_NONE): the peer may be anyone. */
	SOCK_TLS_VERIFY_NONE = 0,
	/* Clients: the chain and the name (the default).  Servers: a
	 * client certificate is checked when one is sent (CERT_OPTIONAL). */
	SOCK_TLS_VERIFY_PEER = 1,
	/* Servers: a client certificate is required and checked
	 * (CERT_REQUIRED).  Clients: as SOCK_TLS_VERIFY_PEER. */
	SOCK_TLS_VERIFY_REQUIRE = 2,
};

/* Protocol versions, for sock_tls_ctx_set_min_version(). */
enum sock_tls_version {
	SOCK_TLS_1_2 = 0x0303,
	SOCK_TLS_1_3 = 0x0304,
};

/*
 * Python's ssl.create_default_context(): a new context for role.  A client
 * context verifies the server against the system's trust store (until
 * sock_tls_ctx_load_verify() names other CAs) and its host name; a server
 * context needs sock_tls_ctx_use_cert() before it can be used, and asks
 * for no client certificate.  Both speak TLS 1.2 and 1.3 and refuse
 * renegotiation.  Returns 0 and *ctx, -ENOMEM, or SOCK_ETLS.
 */
int sock_tls_ctx_new(struct sock_tls_ctx **ctx,
		     enum sock_tls_role role) SOCK_WUR;

/*
 * Release ctx (NULL does nothing).  Sockets wrapped with it keep what they
 * need: it may be freed while they are open.
 */
void sock_tls_ctx_free(struct sock_tls_ctx *ctx);

/*
 * Python's load_verify_locations(): trust the CA certificates in the PEM
 * file cafile and/or the hashed directory capath (either may be NULL, not
 * both) instead of the system's store; a second call adds to the first.
 * For a server context these check client certificates.  Returns 0,
 * -EINVAL, -ENOENT when a file does not exist, or SOCK_ETLS for a file
 * that holds no certificate (sock_tls_ctx_reason() says why).
 */
int sock_tls_ctx_load_verify(struct sock_tls_ctx *ctx, const char *cafile,
			     const char *capath) SOCK_WUR;

/*
 * Python's verify_mode (and check_hostname, which follows it): how the
 * peer is checked (enum sock_tls_verify).  Returns 0 or -EINVAL.
 */
int sock_tls_ctx_set_verify(struct sock_tls_ctx *ctx,
			    enum sock_tls_verify mode) SOCK_WUR;

/*
 * Python's load_cert_chain(): present the certificate chain in the PEM
 * file chain_file (the leaf first, then the intermediates) with the
 * private key in key_file (NULL: the key is in chain_file).  The chain is
 * sent as the file has it: unlike OpenSSL's default, nothing is added from
 * a trust store (nor looked up there at each handshake).  Needed by a
 * server context; a client context presents it when the server asks.
 * Returns 0, -EINVAL, -ENOENT, or SOCK_ETLS (no certificate, no key, or a
 * key that does not match the certificate; sock_tls_ctx_reason() says
 * which).
 */
int sock_tls_ctx_use_cert(struct sock_tls_ctx *ctx, const char *chain_file,
			  const char *key_file) SOCK_WUR;

/*
 * Python's set_alpn_protocols(): the application protocols offered (a
 * client) or accepted (a server), most preferred first, separated by
 * commas: "h2,http/1.1".  A server picks the first of its own list that
 * the client offers, and goes on without ALPN when none matches.  Returns
 * 0, -EINVAL for an empty name or one over 255 bytes, or -ENOMEM.
 */
int sock_tls_ctx_set_alpn(struct sock_tls_ctx *ctx,
			  const char *protocols) SOCK_WUR;

/*
 * Python's minimum_version: the oldest protocol version spoken,
 * SOCK_TLS_1_2 (the default) or SOCK_TLS_1_3.  Returns 0 or -EINVAL.
 */
int sock_tls_ctx_set_min_version(struct sock_tls_ctx *ctx,
				 enum sock_tls_version version) SOCK_WUR;

/*
 * Why the last failed call on ctx failed, in OpenSSL's words ("no such
 * file", "key values mismatch"), or "" when none did.
 */
const char *sock_tls_ctx_reason(const struct sock_tls_ctx *ctx);

/*
 * Python's wrap_socket(): make the connected stream socket s a TLS socket
 * and run the handshake within s's timeout.  A client context checks the
 * server against server_name (a DNS name, also sent as SNI, or an IP
 * address); NULL is allowed only when the context does not verify.  A
 * server context ignores server_name.  On failure s stays open but spent:
 * every send and receive on it fails, sock_tls_reason(s) says why, and
 * sock_close() is all that is left to do.  The handshake is one call: a
 * socket with timeout 0 cannot shake hands and gets -EAGAIN.  Returns 0,
 * SOCK_ECERT, SOCK_ETLS, SOCK_ETLSEOF, -ETIMEDOUT, -EAGAIN, -EINVAL (s not
 * a connected stream, already TLS, or no server_name for a verifying
 * client), -ENOMEM, or -errno.
 */
int sock_tls_wrap(struct sock *s, struct sock_tls_ctx *ctx,
		  const char *server_name) SOCK_WUR;

/*
 * Python's create_connection() then wrap_socket(): connect a TCP socket to
 * addr ("host:port", as sock_connect) and run the handshake, all within
 * timeout_ms; s is then in blocking mode (timeout SOCK_FOREVER), as after
 * sock_connect().  The server is checked
 * against server_name, or when that is NULL against addr's host.  On
 * failure s is closed and sock_tls_reason(s) still gives the reason.
 * Returns 0 or the codes of sock_connect() and sock_tls_wrap().
 */
int sock_tls_connect(struct sock *s, struct sock_tls_ctx *ctx, const char *addr,
		     const char *server_name, int timeout_ms) SOCK_WUR;

/* Whether s is a TLS socket (wrapped, not yet closed). */
bool sock_is_tls(const struct sock *s);

/*
 * Python's SSLSocket.pending(): how many bytes of plaintext s holds
 * already decrypted, which a receive returns without waiting.  A program
 * that polls s's descriptor must take these first: poll() sees only what
 * the kernel holds.  0 for a socket that is not TLS.
 */
size_t sock_tls_pending(const struct sock *s);

/*
 * Why the last TLS failure happened, in OpenSSL's words: on s while it is
 * a TLS socket, otherwise the calling thread's last failure (a failed
 * sock_tls_connect closes s).  "" when there was none.  Valid until the
 * next call on s, or in the thread.
 */
const char *sock_tls_reason(const struct sock *s);

/*
 * The protocol version ("TLSv1.3"), the cipher suite, and the ALPN
 * protocol agreed (NULL when none) of the TLS socket s; NULL for each when
 * s is not one.
 */
const char *sock_tls_version(const struct sock *s);
const char *sock_tls_cipher(const struct sock *s);
const char *sock_tls_alpn(const struct sock *s);

/*
 * The subject of the peer's certificate as one line ("CN=localhost"), into
 * buf of size bytes.  Returns its length, 0 when the peer sent none,
 * -EINVAL when s is not a TLS socket, or -ENOSPC when it does not fit.
 */
int sock_tls_peer_subject(const struct sock *s, char *buf, size_t size);

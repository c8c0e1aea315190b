/* SPDX-License-Identifier: MIT */
/* tls_conn.c -- TLS listeners: the handshake on the loop, then records under the handlers */

/*
 * A listener given a server context (sock_server_tls) shakes hands with
 * each connection on the loop before any handler sees it: a watch on the
 * descriptor drives OpenSSL without ever blocking, and a timer bounds the
 * whole handshake.  Until it is done the connection holds its slot under
 * max_conns and counts against its source like any other, so a slow or
 * garbage handshake costs one slot, one OpenSSL session and the CPU of
 * the records it sent, for at most the handshake timeout, and holds up
 * no one: not the loop, not a pool thread.  Then:
 *
 *  - event handlers: the session moves to the connection, with a BIO of
 *    ours under it.  The engine's bytes (either engine) are handed to
 *    OpenSSL and the plaintext to on_data; what OpenSSL writes leaves
 *    through the connection's ordinary output (sent now, the rest
 *    queued), so flow control, the output limit, the idle timeout and the
 *    lingering close all work unchanged, on ciphertext.
 *  - blocking handlers: the struct sock handed to handle() is the TLS
 *    socket the loop made (sock_send, sock_recv ... carry records).
 *
 * The PROXY protocol, when the listener takes it, comes first: a header
 * is plaintext before the TLS stream.
 */

#include "core.h"
#include "tls/tls.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A connection shaking hands. */
struct shaking {
	struct sock__list link; /* in its listener's shaking */
	struct sock__listener *l;
	struct sock s; /* the connection and its TLS state */
	struct sock_addr peer;
	struct sock_watch watch;
	struct sock_timer timer;
	int events; /* what the watch waits for */
};

/* Close fd, which no handler was given (see proxy.c). */
static void close_conn(const struct sock__listener *l, int fd)
{
	if (l->w->srv->forks)
		shutdown(fd, SHUT_RDWR);
	close(fd);
}

/* hs leaves: watch and timer stopped, unlinked, freed with its TLS state
 * (no close_notify); returns its descriptor, still open. */
static int shaking_free(struct shaking *hs)
{
	int fd = hs->s.fd;

	sock_unwatch(&hs->watch);
	sock_timer_stop(hs->l->w->loop, &hs->timer);
	sock__list_del(&hs->link);
	sock__tls_release(&hs->s, false);
	free(hs);
	return fd;
}

/* The handshake failed with err: the connection is closed, its slot and
 * source count freed, the failure reported with the peer's address. */
static void shaking_fail(struct shaking *hs, int err)
{
	struct sock__listener *l = hs->l;
	struct sock__worker *w = l->w;
	struct sock_addr peer = hs->peer;

	close_conn(l, shaking_free(hs));
	sock__report_on(l,
			err == -ENOMEM ? SOCK__REPORT_NOMEM : SOCK__REPORT_TLS,
			&peer, err);
	sock__source_del(w->srv, &peer);
	sock__worker_conn_ended(w);
}

static BIO *conn_bio_new(void);

/* The handshake is done: serve the connection. */
static void shaking_done(struct shaking *hs)
{
	struct sock__listener *l = hs->l;
	struct sock_addr peer = hs->peer;
	struct sock_tls *tls = hs->s.tls;
	BIO *bio;
	SSL *ssl;
	int fd;

	if (l->svc->mode == SOCK_MODE_EVENT) {
		/* The session goes to the connection, over our BIO. */
		bio = conn_bio_new();
		if (!bio) {
			shaking_fail(hs, -ENOMEM);
			return;
		}
		ssl = sock__tls_take_ssl(&hs->s);
		SSL_set_bio(ssl, bio, bio);
		fd = shaking_free(hs);
		sock__conn_open_tls(l, fd, &peer, ssl);
		return;
	}
	hs->s.tls = NULL; /* the handler's now */
	fd = shaking_free(hs);
	sock__stat_add(l->stat, SOCK_STAT_ACCEPTED, 1);
	sock__emit(l->w, SOCK_EV_ACCEPT, l->svc->name, &peer, 0, NULL);
	sock__job_accepted(l, fd, tls, &peer);
}

static void shaking_ready(struct sock_watch *watch, int revents, void *arg);

/* Run the handshake as far as it goes now. */
static void step(struct shaking *hs)
{
	int r = sock__tls_accept_step(&hs->s);

	if (r < 0) {
		shaking_fail(hs, r);
		return;
	}
	if (r == 0) {
		shaking_done(hs);
		return;
	}
	if (r == hs->events)
		return;
	/* OpenSSL waits the other way now: watch for that. */
	sock_unwatch(&hs->watch);
	hs->events = r;
	r = sock_watch(hs->l->w->loop, &hs->watch, hs->s.fd, r, shaking_ready,
		       hs);
	if (r)
		shaking_fail(hs, r);
}

static void shaking_ready(struct sock_watch *watch, int revents, void *arg)
{
	(void)watch;
	(void)revents;
	step(arg);
}

static void shaking_timeout(struct sock_timer *t, void *arg)
{
	(void)t;
	shaking_fail(arg, -ETIMEDOUT);
}

void sock__tls_begin(struct sock__listener *l, int fd,
		     const struct sock_addr *peer)
{
	struct sock__worker *w = l->w;
	const struct sock__access *a = l->access;
	struct shaking *hs;
	int err = -ENOMEM;

	hs = calloc(1, sizeof(*hs));
	if (!hs)
		goto fail;
	hs->l = l;
	hs->peer = *peer;
	sock__adopt(&hs->s, fd, l->sock.family, l->sock.type, l->sock.protocol);
	sock__list_init(&hs->link);
	sock_timer_init(&hs->timer, shaking_timeout, hs);
	err = sock__tls_accept_start(&hs->s, a->tls);
	if (err)
		goto fail;
	err = sock_timer_start(w->loop, &hs->timer,
			       a->tls_timeout_ms ? a->tls_timeout_ms
						 : SOCK__TLS_TIMEOUT_MS,
			       0);
	if (err)
		goto fail;
	hs->events = POLLIN; /* a server hears the ClientHello first */
	err = sock_watch(w->loop, &hs->watch, fd, POLLIN, shaking_ready, hs);
	if (err) {
		sock_timer_stop(w->loop, &hs->timer);
		goto fail;
	}
	sock__list_add_tail(&l->shaking, &hs->link);
	/* The ClientHello is often in already. */
	step(hs);
	return;

fail:
	if (hs)
		sock__tls_release(&hs->s, false);
	free(hs);
	close_conn(l, fd);
	sock__report_on(l,
			err == -ENOMEM ? SOCK__REPORT_NOMEM : SOCK__REPORT_TLS,
			peer, err);
	sock__source_del(w->srv, peer);
	sock__worker_conn_ended(w);
}

void sock__tls_drop(struct sock__listener *l)
{
	struct shaking *hs;

	while (!sock__list_is_empty(&l->shaking)) {
		hs = sock__container_of(l->shaking.next, struct shaking, link);
		sock__source_del(l->w->srv, &hs->peer);
		close_conn(l, shaking_free(hs));
		sock__worker_conn_ended(l->w);
	}
}

void sock__tls_close_inherited(struct sock__listener *l)
{
	struct sock__list *e;

	for (e = l->shaking.next; e != &l->shaking; e = e->next)
		close(sock__container_of(e, struct shaking, link)->s.fd);
}

/* ---- an event connection's records ---- */

/*
 * The BIO under a connection's session.  Writes go to the connection's
 * output at once (a socket that does not take them all has the rest
 * queued: OpenSSL never has to retry a write).  Reads take from the
 * bytes the engine just delivered to this connection, set while
 * sock__conn_tls_received runs SSL_read on them, on this thread; any other
 * read (another connection's session, reached from a handler) finds
 * nothing.
 */
static __thread struct {
	const struct sock_conn *owner;
	const uint8_t *data;
	size_t len;
} feed;

/* Made at the first connection; a failure is tried again at the next
 * (see src/tls/tls.c). */
static BIO_METHOD *conn_method;
static pthread_mutex_t conn_method_lock = PTHREAD_MUTEX_INITIALIZER;

static int conn_bio_write(BIO *b, const char *data, int len)
{
	struct sock_conn *c = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (!c || sock__conn_is_gone(c))
		return -1;
	if (len <= 0)
		return 0;
	return sock__conn_send_raw(c, data, (size_t)len) ? -1 : len;
}

static int conn_bio_read(BIO *b, char *data, int len)
{
	size_t n = feed.owner == BIO_get_data(b) ? feed.len : 0;

	BIO_clear_retry_flags(b);
	if (n == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	if (len <= 0)
		return 0;
	if (n > (size_t)len)
		n = (size_t)len;
	memcpy(data, feed.data, n);
	feed.data += n;
	feed.len -= n;
	return (int)n;
}

static long conn_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Writes are never buffered here: a flush is done at once. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int conn_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void make_conn_method(void)
{
	BIO_METHOD *m;

	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "libsock "
								     "connectio"
								     "n");
	if (!m)
		return;
	BIO_meth_set_write(m, conn_bio_write);
	BIO_meth_set_read(m, conn_bio_read);
	BIO_meth_set_ctrl(m, conn_bio_ctrl);
	BIO_meth_set_create(m, conn_bio_create);
	conn_method = m;
}

/* A BIO for a connection not yet made (writes fail until bound). */
static BIO *conn_bio_new(void)
{
	pthread_mutex_lock(&conn_method_lock);
	if (!conn_method)
		make_conn_method();
	pthread_mutex_unlock(&conn_method_lock);
	return conn_method ? BIO_new(conn_method) : NULL;
}

void sock__conn_tls_bind(struct sock_conn *c)
{
	BIO_set_data(SSL_get_rbio(c->tls), c);
}

void sock__tls_session_free(void *ssl)
{
	SSL_free(ssl);
}

void sock__conn_tls_free(struct sock_conn *c)
{
	SSL_free(c->tls);
	c->tls = NULL;
}

bool sock__conn_tls_peer_ended(const struct sock_conn *c)
{
	return SSL_get_shutdown(c->tls) & SSL_RECEIVED_SHUTDOWN;
}

/* c's session failed after its handshake (an alert, a record that fails
 * its check, a refused renegotiation, a post-handshake message cut
 * across records that a send then waits for: the peer's own doing). */
static void failed(struct sock_conn *c, int err)
{
	struct sock_addr peer;

	ERR_clear_error();
	if (sock__conn_is_gone(c))
		return; /* our write failed first, and said why */
	sock__conn_peer(c, &peer);
	sock__report_on(c->lis, SOCK__REPORT_TLS_PROTOCOL, &peer, err);
	sock__conn_close_soon(c, err);
}

void sock__conn_tls_received(struct sock_conn *c, const void *data, size_t len)
{
	const struct sock_service *svc = c->lis->svc;
	char plain[16384]; /* a record's most */
	size_t n;
	int r;

	feed.owner = c;
	feed.data = data;
	feed.len = len;
	/* Until OpenSSL has taken every byte; a handler may end c. */
	while (c->phase == SOCK__CONN_OPEN) {
		r = SSL_read_ex(c->tls, plain, sizeof(plain), &n);
		if (r == 1) {
			if (svc->on_data)
				svc->on_data(c, plain, n);
			continue;
		}
		switch (SSL_get_error(c->tls, r)) {
		case SSL_ERROR_WANT_READ:
			break;
		case SSL_ERROR_ZERO_RETURN:
			/* The peer's close_notify: its orderly end.  Ours
			 * answers it, then the connection closes. */
			c->flags |= SOCK__CONN_EOF;
			sock_conn_close(c);
			break;
		default:
			failed(c, SOCK_ETLS);
			break;
		}
		break;
	}
	feed.owner = NULL;
	feed.data = NULL;
	feed.len = 0;
}

int sock__conn_tls_send(struct sock_conn *c, const void *data, size_t len)
{
	size_t n;

	while (len > 0) {
		/* The BIO queues what the socket does not take, so a write
		 * fails only when the connection did. */
		if (SSL_write_ex(c->tls, data, len, &n) != 1) {
			if (!sock__conn_is_gone(c))
				failed(c, SOCK_ETLS);
			ERR_clear_error();
			return c->err ? c->err : SOCK_ETLS;
		}
		data = (const char *)data + n;
		len -= n;
	}
	return 0;
}

/* What one sock_conn_send_some encrypts at most. */
#define SEND_SOME_MAX (64 * 1024)

ssize_t sock__conn_tls_send_some(struct sock_conn *c, const void *data,
				 size_t len)
{
	size_t take = len < SEND_SOME_MAX ? len : SEND_SOME_MAX;
	int err;

	err = sock__conn_tls_send(c, data, take);
	if (err)
		return err;
	/* Records the socket did not take wait in the queue (on_drain is
	 * owed once it empties); otherwise, offered more than taken, the
	 * caller is told when to go on all the same. */
	if (take < len && !sock__conn_output_pending(c)) {
		c->flags |= SOCK__CONN_WANT_DRAIN;
		err = sock__conn_want_room(c);
		if (err) {
			sock__conn_close_soon(c, err);
			return err;
		}
	}
	return (ssize_t)take;
}

void sock__conn_tls_notify(struct sock_conn *c)
{
	if (SSL_get_shutdown(c->tls) & SSL_SENT_SHUTDOWN)
		return;
	/* Written through the BIO at once; OpenSSL would then wait for the
	 * peer's, which the lingering close reads and drops. */
	(void)SSL_shutdown(c->tls);
	ERR_clear_error();
}

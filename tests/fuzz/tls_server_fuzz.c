/* SPDX-License-Identifier: MIT */
/* tls_server_fuzz.c -- fuzz target: a TLS listener of the server framework, fed hostile handshakes and records cut and corrupted */

/*
 * A real server (the library's, in a thread, epoll engine, on loopback)
 * serves echo over TLS with event handlers.  The first byte picks what the
 * rest of the input is:
 *
 *  - 0: the bytes a client sends instead of a handshake, then the end of
 *    its stream.  The server must close the connection, within its
 *    handshake timeout at most, and serve on.
 *
 *  - 1: a script over a TLS connection whose client is OpenSSL on memory
 *    BIOs, so that the script decides how the records reach the socket:
 *    bytes below 0x80 make a record of the next (b + 1) bytes of the
 *    input (kept, not yet sent); 0x80-0xbf send the next 16 * (b & 0x3f)
 *    + 1 bytes of what is kept, cutting records anywhere; 0xc0-0xdf flip
 *    a bit of what is kept (the next byte says where); 0xe0-0xff send all
 *    that is kept.  At the end all is sent.  Without a flipped bit the
 *    echo must be every byte, in order; with one, what comes back must be
 *    a prefix of what was sent (OpenSSL authenticates every record: no
 *    corrupted byte may reach the handler), and the server must close the
 *    connection.
 *
 * Either way the server must not crash, leak (LeakSanitizer, at exit) or
 * stop serving: each script's handshake shows it still does.
 *
 * Every wait is a liveness bound, not a speed target: an input has 20 s
 * in all (libFuzzer's -timeout, 25 s in run.sh, stays above it) and a
 * handshake the server's default 10 s.  With 2 s, a campaign starved of
 * CPU (nice 19 beside test suites, with ASan's slow unwinder: 5 to 12
 * inputs a second) failed twice within its first 1,000 inputs: the
 * server had closed a handshake not finished in 2 s (its last limit
 * event: "tls-handshake: timed out") and the client's next send found
 * the connection gone.  A check that fails says what the server's
 * protections last did, from its events.
 */

#include <sock.h>

#include "fuzz.h"

#include "../tls/selfsigned.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* What an input may take in all, in milliseconds. */
#define INPUT_MS 20000
/* The server's handshake timeout: its default. */
#define HANDSHAKE_MS 10000

static struct sock_server *srv;
static char addr[64];
static SSL_CTX *client_ctx;
static long long deadline; /* of the input being run */

/* The server's limit events (closed handshakes, failed records ...): how
 * many, and the last one, for the failure messages. */
static atomic_uint limits;
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_limit[96] = "none";

static void on_event(const struct sock_event *ev, void *data)
{
	(void)data;
	if (ev->kind != SOCK_EV_LIMIT)
		return;
	pthread_mutex_lock(&last_lock);
	snprintf(last_limit, sizeof(last_limit), "%s: %s", ev->what,
		 sock_strerror(ev->err));
	pthread_mutex_unlock(&last_lock);
	atomic_fetch_add(&limits, 1);
}

/* "N limit events, the last: WHAT: WHY", for a failure message. */
static const char *server_said(void)
{
	static char buf[160];

	pthread_mutex_lock(&last_lock);
	snprintf(buf, sizeof(buf), "the server's limit events: %u, the last %s",
		 atomic_load(&limits), last_limit);
	pthread_mutex_unlock(&last_lock);
	return buf;
}

static void echo_data(struct sock_conn *c, const void *data, size_t len)
{
	if (sock_conn_send(c, data, len) < 0)
		return;
}

static const struct sock_service echo_svc = { .name = "echo",
					      .on_data = echo_data };

static void *run(void *arg)
{
	FUZZ_CHECK(!sock_server_run(arg), "run");
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sock_server_config cfg = { .engine = SOCK_ENGINE_EPOLL,
					  .on_event = on_event };
	char dir[] = "/tmp/tls_server_fuzz.XXXXXX", cert[64], key[64];
	struct sock_tls_ctx *ctx;
	struct sock_addr a;
	pthread_t t;
	int index;

	(void)argc;
	(void)argv;
	FUZZ_CHECK(mkdtemp(dir), "mkdtemp");
	FUZZ_CHECK(selfsigned_write(dir, 365, cert, key, sizeof(cert)), "no "
									"certif"
									"icat"
									"e");
	FUZZ_CHECK(!sock_tls_ctx_new(&ctx, SOCK_TLS_SERVER), "ctx");
	FUZZ_CHECK(!sock_tls_ctx_use_cert(ctx, cert, key), "%s",
		   sock_tls_ctx_reason(ctx));
	unlink(cert);
	unlink(key);
	rmdir(dir);
	FUZZ_CHECK(!sock_server_new(&srv, &cfg), "server");
	index = sock_server_add(srv, &echo_svc, SOCK_STREAM, "127.0.0.1:0", 0);
	FUZZ_CHECK(index >= 0, "add");
	FUZZ_CHECK(!sock_server_tls(srv, index, ctx, HANDSHAKE_MS), "tls");
	sock_tls_ctx_free(ctx);
	FUZZ_CHECK(!sock_server_addr(srv, index, &a), "addr");
	FUZZ_CHECK(sock_addr_format(&a, addr, sizeof(addr)) > 0, "format");
	FUZZ_CHECK(!pthread_create(&t, NULL, run, srv), "thread");
	pthread_detach(t);

	client_ctx = SSL_CTX_new(TLS_client_method());
	FUZZ_CHECK(client_ctx, "client ctx");
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait up to ms for fd to be readable. */
static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

static void connect_raw(struct sock *s)
{
	int err = sock_connect(s, SOCK_STREAM, addr, 5000);

	FUZZ_CHECK(!err, "connect: %s", sock_strerror(err));
	FUZZ_CHECK(!sock_set_nodelay(s, true), "nodelay");
}

/* Read until the server closes s (true), before the input's deadline;
 * what arrives is dropped. */
static bool closed_in_time(struct sock *s)
{
	char buf[4096];
	ssize_t n;

	while (now_ms() < deadline) {
		if (!readable(s->fd, 50))
			continue;
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
	}
	return false;
}

/* Mode 0: no handshake, only the input. */
static void hostile_handshake(const uint8_t *data, size_t size)
{
	struct sock s = SOCK_CLOSED;

	connect_raw(&s);
	/* The server may close before it has read all: a reset then. */
	(void)sock_sendall(&s, data, size, NULL, 0);
	(void)sock_shutdown(&s, SHUT_WR);
	FUZZ_CHECK(closed_in_time(&s), "not closed after %zu bytes; %s", size,
		   server_said());
	sock_close(&s);
}

/* ---- mode 1: a client on memory BIOs ---- */

struct client {
	struct sock s;
	SSL *ssl;
	BIO *in, *out; /* from the socket, to the socket */
	uint8_t *kept; /* records made, not yet sent */
	size_t kept_len, kept_cap;
	uint8_t *sent; /* plaintext sent */
	size_t sent_len;
	uint8_t *back; /* plaintext echoed */
	size_t back_len;
	bool flipped;
	bool closed; /* the server closed the connection */
};

/* Move what OpenSSL wrote to the kept bytes. */
static void keep_output(struct client *c)
{
	char buf[4096];
	int n;

	while ((n = BIO_read(c->out, buf, sizeof(buf))) > 0) {
		if (c->kept_len + (size_t)n > c->kept_cap) {
			c->kept_cap = 2 * (c->kept_len + (size_t)n);
			c->kept = realloc(c->kept, c->kept_cap);
			FUZZ_CHECK(c->kept, "memory");
		}
		memcpy(c->kept + c->kept_len, buf, (size_t)n);
		c->kept_len += (size_t)n;
	}
}

/* Send the first n kept bytes. */
static void send_kept(struct client *c, size_t n)
{
	int err;

	if (n > c->kept_len)
		n = c->kept_len;
	if (!n)
		return;
	/* A reset is the server's answer to a flipped bit, or to what
	 * follows it. */
	err = sock_sendall(&c->s, c->kept, n, NULL, 0);
	FUZZ_CHECK(!err || c->flipped, "send failed: %s; %s",
		   sock_strerror(err), server_said());
	memmove(c->kept, c->kept + n, c->kept_len - n);
	c->kept_len -= n;
}

/* Take what the socket has (waiting up to ms) into OpenSSL, and the
 * plaintext out of it.  Returns false once the stream ended. */
static bool pump_in(struct client *c, int ms)
{
	char buf[16384];
	ssize_t n;
	int r;

	/* Acknowledge at once: a delayed ACK would hold the server's next
	 * small record back 40 ms (Nagle), and the campaign would crawl. */
	(void)setsockopt(c->s.fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 },
			 sizeof(int));
	if (!readable(c->s.fd, ms))
		return true;
	n = recv(c->s.fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return true;
	if (n <= 0) {
		c->closed = true;
		return false;
	}
	BIO_write(c->in, buf, (int)n);
	for (;;) {
		r = SSL_read(c->ssl, buf, sizeof(buf));
		if (r <= 0)
			break;
		c->back = realloc(c->back, c->back_len + (size_t)r);
		FUZZ_CHECK(c->back, "memory");
		memcpy(c->back + c->back_len, buf, (size_t)r);
		c->back_len += (size_t)r;
	}
	ERR_clear_error();
	keep_output(c); /* post-handshake messages */
	return true;
}

static void client_open(struct client *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->s = (struct sock)SOCK_CLOSED;
	connect_raw(&c->s);
	c->ssl = SSL_new(client_ctx);
	c->in = BIO_new(BIO_s_mem());
	c->out = BIO_new(BIO_s_mem());
	FUZZ_CHECK(c->ssl && c->in && c->out, "memory");
	SSL_set_bio(c->ssl, c->in, c->out);
	SSL_set_connect_state(c->ssl);
	while ((r = SSL_do_handshake(c->ssl)) != 1) {
		FUZZ_CHECK(SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ,
			   "handshake: %d", SSL_get_error(c->ssl, r));
		keep_output(c);
		send_kept(c, c->kept_len);
		FUZZ_CHECK(now_ms() < deadline,
			   "no handshake: the server "
			   "stalls; %s",
			   server_said());
		FUZZ_CHECK(pump_in(c, 100), "closed in the handshake; %s",
			   server_said());
	}
	keep_output(c);
	send_kept(c, c->kept_len);
}

static void client_close(struct client *c)
{
	SSL_free(c->ssl); /* the BIOs with it */
	sock_close(&c->s);
	free(c->kept);
	free(c->sent);
	free(c->back);
}

static void record(struct client *c, const uint8_t *p, size_t len)
{
	FUZZ_CHECK(SSL_write(c->ssl, p, (int)len) == (int)len, "write");
	keep_output(c);
	c->sent = realloc(c->sent, c->sent_len + len);
	FUZZ_CHECK(c->sent, "memory");
	memcpy(c->sent + c->sent_len, p, len);
	c->sent_len += len;
}

/* Records one input makes at most. */
#define RECORDS_MAX 64

static void script(struct fuzz_in *in)
{
	struct client c;
	const uint8_t *p;
	size_t len, at;
	int records = 0;
	uint8_t b;

	client_open(&c);
	while (fuzz_left(in)) {
		b = fuzz_u8(in);
		if (b < 0x80) {
			p = fuzz_bytes(in, (size_t)b + 1, &len);
			if (len && ++records <= RECORDS_MAX)
				record(&c, p, len);
		} else if (b < 0xc0) {
			send_kept(&c, 16 * (size_t)(b & 0x3f) + 1);
		} else if (b < 0xe0) {
			at = fuzz_u8(in);
			if (c.kept_len) {
				c.kept[at % c.kept_len] ^=
					(uint8_t)(1 << (b & 7));
				c.flipped = true;
			}
		} else {
			send_kept(&c, c.kept_len);
		}
		if (!c.flipped)
			(void)pump_in(&c, 0);
	}
	send_kept(&c, c.kept_len);
	if (c.flipped) {
		/* The end of our stream: a record cut short by a flipped
		 * length waits no longer. */
		shutdown(c.s.fd, SHUT_WR);
		while (!c.closed && now_ms() < deadline)
			(void)pump_in(&c, 50);
		FUZZ_CHECK(c.closed, "a corrupted stream was not closed");
	} else {
		while (c.back_len < c.sent_len && !c.closed &&
		       now_ms() < deadline)
			(void)pump_in(&c, 50);
		FUZZ_CHECK(c.back_len == c.sent_len,
			   "echoed %zu of %zu bytes%s; %s", c.back_len,
			   c.sent_len, c.closed ? " (closed)" : "",
			   server_said());
	}
	FUZZ_CHECK(c.back_len <= c.sent_len &&
			   (!c.back_len || !memcmp(c.back, c.sent, c.back_len)),
		   "the echo is not what was sent");
	client_close(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	if (!size)
		return 0;
	deadline = now_ms() + INPUT_MS;
	if (fuzz_u8(&in) % 2 == 0)
		hostile_handshake(in.p, in.n);
	else
		script(&in);
	return 0;
}

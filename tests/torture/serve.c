/* SPDX-License-Identifier: MIT */
/* serve.c -- torture scenarios: a server serves one exchange and stops */

/*
 * For each engine (epoll, io_uring), each mode (event, inline, thread,
 * pool, fork) and each transport (TCP, UDP): a server with an echo
 * service on 127.0.0.1:0, one client (plain system calls, never failed)
 * that sends a line and reads it back, then a stop.  Two more per engine:
 * a stop by SIGTERM (stop_on_signals), and two workers.
 *
 * The work is correct when the client got its line back (and, over TCP,
 * the end of the stream after its own).  The library's errors are the
 * return values of sock_server_new/add/run, the handlers' calls, and the
 * server's events: SOCK_EV_ERROR and SOCK_EV_LIMIT, and SOCK_EV_CLOSE
 * with an error.  The signal mask must be the same after the run as
 * before it, every SOCK_EV_ACCEPT must have its SOCK_EV_CLOSE, and a
 * loop asked for io_uring may fall back to epoll only when something was
 * failed.
 */

#include "torture.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "../tls/selfsigned.h"

/* How long the client waits for its reply, and then for the end of the
 * stream: a listener that failed to start is retried after a second. */
#define REPLY_WAIT_MS 5000
#define EOF_WAIT_MS 3000
/* How long a SIGTERM may take to stop the server. */
#define STOP_WAIT_MS 5000

static const char line[] = "hello, torture\n";

enum variant {
	PLAIN,
	SIGNALS, /* stop_on_signals; the client stops it with SIGTERM */
	WORKERS, /* two workers */
	ACCESS,	 /* ranges, verify and periodic hooks, a backlog, two workers */
	PROXY,	 /* the PROXY protocol: the client sends a header first */
	TLS,	 /* a TLS listener: the client is OpenSSL */
};

struct serve {
	const struct scenario *sc;
	struct run *r;
	pid_t pid; /* the scenario's process, not a forked handler */
	struct sock_server *srv;
	struct sock_addr addr;
	int done_fd; /* eventfd: sock_server_run returned */
	atomic_bool returned;
	int lost_fd; /* eventfd: a handler failed, no reply will come */
	atomic_bool lost;
	pthread_mutex_t lock;
	char engine[64]; /* SOCK_EV_ENGINE's what */
	unsigned int accepts, closes;
};

/* The exchange cannot complete: the client need not wait for it. */
static void lost(struct serve *s)
{
	uint64_t one = 1;

	atomic_store(&s->lost, true);
	if (write(s->lost_fd, &one, sizeof(one)) < 0)
		return;
}

/* Record an error of a handler's call, in the scenario's process. */
static void handler_error(struct serve *s, const char *where, int code)
{
	if (getpid() != s->pid)
		return;
	run_error(s->r, where, code);
	lost(s);
}

/* ---- the echo service, in every mode ---- */

static void echo_data(struct sock_conn *c, const void *data, size_t len)
{
	int err = sock_conn_send(c, data, len);

	if (err)
		handler_error(sock_conn_service_data(c), "sock_conn_send", err);
}

static void echo_datagram(struct sock_dgram *d, const void *data, size_t len)
{
	int err = sock_dgram_reply(d, data, len);

	if (err)
		handler_error(sock_dgram_service_data(d), "sock_dgram_reply",
			      err);
}

static void echo_handle(struct sock *conn, const struct sock_addr *peer,
			void *data)
{
	char buf[256];
	ssize_t n;
	int err;

	(void)peer;
	for (;;) {
		n = sock_recv(conn, buf, sizeof(buf), 0);
		if (n <= 0) {
			if (n < 0)
				handler_error(data, "sock_recv", (int)n);
			return;
		}
		err = sock_sendall(conn, buf, (size_t)n, NULL, 0);
		if (err) {
			handler_error(data, "sock_sendall", err);
			return;
		}
	}
}

static void echo_handle_datagram(struct sock *sock, const void *msg, size_t len,
				 const struct sock_addr *peer, void *data)
{
	ssize_t n = sock_sendto(sock, msg, len, peer, 0);

	if (n < 0)
		handler_error(data, "sock_sendto", (int)n);
}

static void on_event(const struct sock_event *ev, void *data)
{
	struct serve *s = data;

	switch (ev->kind) {
	case SOCK_EV_ENGINE:
		pthread_mutex_lock(&s->lock);
		snprintf(s->engine, sizeof(s->engine), "%s", ev->what);
		pthread_mutex_unlock(&s->lock);
		break;
	case SOCK_EV_ERROR:
	case SOCK_EV_LIMIT:
		run_error(s->r, ev->what, ev->err);
		/* No handler could take the connection or datagram. */
		if (!strcmp(ev->what, "memory"))
			lost(s);
		break;
	case SOCK_EV_ACCEPT:
		pthread_mutex_lock(&s->lock);
		s->accepts++;
		pthread_mutex_unlock(&s->lock);
		break;
	case SOCK_EV_CLOSE:
		pthread_mutex_lock(&s->lock);
		s->closes++;
		pthread_mutex_unlock(&s->lock);
		if (ev->err)
			run_error(s->r, "close", ev->err);
		break;
	default:
		break;
	}
}

/* ---- the client: plain system calls ---- */

/*
 * Wait until fd is readable, the server's run returned or a handler
 * failed (the exchange cannot complete: false), or deadline passed
 * (false).
 */
static bool wait_readable(struct serve *s, int fd, long long deadline)
{
	struct pollfd p[3] = { { .fd = fd, .events = POLLIN },
			       { .fd = s->done_fd, .events = POLLIN },
			       { .fd = s->lost_fd, .events = POLLIN } };
	long long left;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0 || atomic_load(&s->returned) ||
		    atomic_load(&s->lost))
			return false;
		if (poll(p, 3, (int)left) < 0 && errno != EINTR)
			return false;
		if (p[0].revents)
			return true;
	}
}

static bool exchange_tcp(struct serve *s, int fd)
{
	long long deadline = now_ms() + REPLY_WAIT_MS;
	char buf[sizeof(line)];
	size_t got = 0;
	ssize_t n;

	static const char header[] = "PROXY TCP4 10.1.2.3 127.0.0.1 4321 7\r\n";

	if ((enum variant)(intptr_t)s->sc->arg == PROXY &&
	    send(fd, header, sizeof(header) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(header) - 1)
		return false;
	if (send(fd, line, sizeof(line) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(line) - 1)
		return false;
	while (got < sizeof(line) - 1) {
		if (!wait_readable(s, fd, deadline))
			return false;
		n = recv(fd, buf + got, sizeof(line) - 1 - got, 0);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	if (memcmp(buf, line, got) != 0) {
		run_bad(s->r, "the echo came back wrong");
		return false;
	}
	/* Our end of the stream; the server's must follow. */
	shutdown(fd, SHUT_WR);
	deadline = now_ms() + EOF_WAIT_MS;
	for (;;) {
		if (!wait_readable(s, fd, deadline))
			return false;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return true;
		if (n < 0)
			return false;
		run_bad(s->r, "bytes after the echo");
		return false;
	}
}

/* The exchange over TLS, the client OpenSSL on plain calls with socket
 * timeouts: the line, its echo, close_notify both ways, the end. */
static bool exchange_tls(struct serve *s, int fd)
{
	struct timeval tv = { .tv_sec = REPLY_WAIT_MS / 1000 };
	char buf[sizeof(line)];
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	bool ok = false;
	size_t got = 0;
	int n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx)
		ssl = SSL_new(ctx);
	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1 ||
	    SSL_write(ssl, line, sizeof(line) - 1) != (int)sizeof(line) - 1)
		goto out;
	while (got < sizeof(line) - 1) {
		n = SSL_read(ssl, buf + got, (int)(sizeof(line) - 1 - got));
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	if (memcmp(buf, line, got) != 0) {
		run_bad(s->r, "the echo came back wrong");
		goto out;
	}
	/* Our close_notify; the server's, and its end, must follow. */
	SSL_shutdown(ssl);
	n = SSL_read(ssl, buf, sizeof(buf));
	if (n > 0)
		run_bad(s->r, "bytes after the echo");
	else
		ok = SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN;
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return ok;
}

static bool exchange_udp(struct serve *s, int fd)
{
	char buf[sizeof(line)];
	ssize_t n;

	if (send(fd, line, sizeof(line) - 1, 0) != (ssize_t)sizeof(line) - 1)
		return false;
	if (!wait_readable(s, fd, now_ms() + REPLY_WAIT_MS))
		return false;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(line) - 1 || memcmp(buf, line, (size_t)n)) {
		if (n >= 0)
			run_bad(s->r, "the echo came back wrong");
		return false;
	}
	return true;
}

static bool exchange(struct serve *s)
{
	bool ok = false;
	int fd;

	fd = socket(AF_INET, s->sc->type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		run_bad(s->r, "the client's socket: %s", strerror(errno));
		return false;
	}
	if (connect(fd, &s->addr.u.sa, s->addr.len) == 0)
		ok = s->sc->type == SOCK_DGRAM ? exchange_udp(s, fd)
		     : (enum variant)(intptr_t)s->sc->arg == TLS
			     ? exchange_tls(s, fd)
			     : exchange_tcp(s, fd);
	close(fd);
	return ok;
}

/* Stop the server as the scenario says: SIGTERM, or sock_server_stop. */
static void stop(struct serve *s)
{
	struct pollfd p = { .fd = s->done_fd, .events = POLLIN };
	long long deadline = now_ms() + STOP_WAIT_MS;

	if ((enum variant)(intptr_t)s->sc->arg != SIGNALS ||
	    atomic_load(&s->returned)) {
		sock_server_stop(s->srv);
		return;
	}
	kill(getpid(), SIGTERM);
	while (!atomic_load(&s->returned) && now_ms() < deadline)
		poll(&p, 1, (int)(deadline - now_ms()));
	if (!atomic_load(&s->returned)) {
		run_bad(s->r, "SIGTERM did not stop the server");
		sock_server_stop(s->srv);
	}
}

static void *client_main(void *arg)
{
	struct serve *s = arg;
	sigset_t set;

	/* The server reads SIGINT and SIGTERM with signalfd: they must be
	 * blocked in every thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (exchange(s))
		run_done(s->r);
	stop(s);
	return NULL;
}

/* ---- the scenario ---- */

static void make_service(const struct scenario *sc, struct serve *s,
			 struct sock_service *svc)
{
	memset(svc, 0, sizeof(*svc));
	svc->name = "echo";
	svc->mode = (enum sock_mode)sc->mode;
	svc->data = s;
	svc->on_data = echo_data;
	svc->on_datagram = echo_datagram;
	svc->handle = echo_handle;
	svc->handle_datagram = echo_handle_datagram;
}

/* Whether SIGTERM stopped the run: the mask must be as it was. */
static void check_mask(struct serve *s, const sigset_t *before)
{
	sigset_t after;
	int sig[2] = { SIGINT, SIGTERM }, i;

	pthread_sigmask(SIG_SETMASK, NULL, &after);
	for (i = 0; i < 2; i++)
		if (sigismember(before, sig[i]) != sigismember(&after, sig[i]))
			run_bad(s->r, "sock_server_run left %s %s",
				strsignal(sig[i]),
				sigismember(&after, sig[i]) ? "blocked"
							    : "unblocked");
}

static void check_engine(struct serve *s)
{
	if (s->sc->engine != SOCK_ENGINE_URING || !s->engine[0])
		return;
	if (strncmp(s->engine, "io_uring", 8) != 0 && !torture_fired())
		run_bad(s->r, "engine '%s' with nothing injected", s->engine);
}

/* A SIGTERM that reached a handler (it came after the run): harmless. */
static void ignore_signal(int signo)
{
	(void)signo;
}

static void run_server(struct serve *s)
{
	pthread_t client;
	sigset_t mask;
	uint64_t one = 1;
	int err;

	if (pthread_create(&client, NULL, client_main, s) != 0) {
		run_bad(s->r, "cannot start the client");
		return;
	}
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	err = sock_server_run(s->srv);
	atomic_store(&s->returned, true);
	if (write(s->done_fd, &one, sizeof(one)) < 0)
		run_bad(s->r, "cannot wake the client");
	if (err)
		run_error(s->r, "sock_server_run", err);
	pthread_join(client, NULL);
	check_mask(s, &mask);
	check_engine(s);
	/* Every connection reported accepted is reported closed. */
	if (s->accepts != s->closes)
		run_bad(s->r, "%u connections accepted, %u closed", s->accepts,
			s->closes);
}

/* The client (127.0.0.1) is let through by every rule and the hook. */
static bool verify_yes(const struct sock_addr *peer,
		       const struct sock_service *svc, void *data)
{
	(void)peer;
	(void)svc;
	(void)data;
	return true;
}

static void every_noop(struct sock_server *srv, void *data)
{
	(void)srv;
	(void)data;
}

/* The rules, and the periodic hook's timer, which a failed allocation
 * must end cleanly too. */
static int add_access(struct sock_server *srv, int index)
{
	int err;

	err = sock_server_deny(srv, index, "127.0.0.2");
	if (!err)
		err = sock_server_allow(srv, index, "127.0.0.0/8");
	if (!err)
		err = sock_server_allow(srv, index, "::1");
	if (!err)
		err = sock_server_verify(srv, index, verify_yes, NULL);
	if (!err)
		err = sock_server_every(srv, 50, every_noop, NULL);
	if (!err)
		err = sock_server_backlog(srv, index, 16);
	return err;
}

/* A TLS listener with a certificate made now (the files removed at
 * once: the context holds what it needs). */
static int add_tls(struct sock_server *srv, int index)
{
	char dir[] = "/tmp/torture_serve.XXXXXX", cert[64], key[64];
	struct sock_tls_ctx *ctx = NULL;
	int err = -EIO;

	if (mkdtemp(dir) && selfsigned_write(dir, 1, cert, key, sizeof(cert))) {
		err = sock_tls_ctx_new(&ctx, SOCK_TLS_SERVER);
		if (!err)
			err = sock_tls_ctx_use_cert(ctx, cert, key);
		if (!err)
			err = sock_server_tls(srv, index, ctx, 2000);
		sock_tls_ctx_free(ctx);
		unlink(cert);
		unlink(key);
	}
	rmdir(dir);
	return err;
}

static void serve_run(const struct scenario *sc, struct run *r)
{
	enum variant v = (enum variant)(intptr_t)sc->arg;
	struct sock_server_config cfg = {
		.engine = (enum sock_engine)sc->engine,
		.workers = v == WORKERS || v == ACCESS ? 2 : 1,
		.grace_ms = 1000,
		.pool_threads = 2,
		.stop_on_signals = v == SIGNALS,
		.on_event = on_event,
	};
	struct sock_service svc;
	struct serve s;
	int index, err;

	memset(&s, 0, sizeof(s));
	s.sc = sc;
	s.r = r;
	s.pid = getpid();
	pthread_mutex_init(&s.lock, NULL);
	s.done_fd = eventfd(0, EFD_CLOEXEC);
	s.lost_fd = eventfd(0, EFD_CLOEXEC);
	if (s.done_fd < 0 || s.lost_fd < 0) {
		run_bad(r, "no eventfd for the client");
		goto out;
	}
	cfg.event_data = &s;
	make_service(sc, &s, &svc);
	if (v == SIGNALS)
		signal(SIGTERM, ignore_signal);
	index = sock_server_new(&s.srv, &cfg);
	if (index) {
		run_error(r, "sock_server_new", index);
		goto out;
	}
	index = sock_server_add(s.srv, &svc, sc->type, "127.0.0.1:0", 0);
	if (index < 0)
		run_error(r, "sock_server_add", index);
	else if (v == ACCESS && (err = add_access(s.srv, index)))
		run_error(r, "access rules", err);
	else if (v == PROXY &&
		 (err = sock_server_proxy(s.srv, index, "127.0.0.1", 2000)))
		run_error(r, "sock_server_proxy", err);
	else if (v == TLS && (err = add_tls(s.srv, index)))
		run_error(r, "sock_server_tls", err);
	else if (sock_server_addr(s.srv, index, &s.addr))
		run_bad(r, "sock_server_addr failed");
	else
		run_server(&s);
	sock_server_free(s.srv);
out:
	if (s.done_fd >= 0)
		close(s.done_fd);
	if (s.lost_fd >= 0)
		close(s.lost_fd);
	pthread_mutex_destroy(&s.lock);
}

#define SERVE(name, engine, mode, type, variant)                               \
	{                                                                      \
		name, engine == SOCK_ENGINE_URING ? uring_available : NULL,    \
			serve_run, engine, mode, type,                         \
			(const char *)(intptr_t)(variant)                      \
	}

#define SERVE_ENGINE(e, ename)                                                 \
	SERVE("serve-" ename "-event-tcp", e, SOCK_MODE_EVENT, SOCK_STREAM,    \
	      PLAIN),                                                          \
		SERVE("serve-" ename "-event-udp", e, SOCK_MODE_EVENT,         \
		      SOCK_DGRAM, PLAIN),                                      \
		SERVE("serve-" ename "-inline-tcp", e, SOCK_MODE_INLINE,       \
		      SOCK_STREAM, PLAIN),                                     \
		SERVE("serve-" ename "-inline-udp", e, SOCK_MODE_INLINE,       \
		      SOCK_DGRAM, PLAIN),                                      \
		SERVE("serve-" ename "-thread-tcp", e, SOCK_MODE_THREAD,       \
		      SOCK_STREAM, PLAIN),                                     \
		SERVE("serve-" ename "-thread-udp", e, SOCK_MODE_THREAD,       \
		      SOCK_DGRAM, PLAIN),                                      \
		SERVE("serve-" ename "-pool-tcp", e, SOCK_MODE_POOL,           \
		      SOCK_STREAM, PLAIN),                                     \
		SERVE("serve-" ename "-pool-udp", e, SOCK_MODE_POOL,           \
		      SOCK_DGRAM, PLAIN),                                      \
		SERVE("serve-" ename "-fork-tcp", e, SOCK_MODE_FORK,           \
		      SOCK_STREAM, PLAIN),                                     \
		SERVE("serve-" ename "-fork-udp", e, SOCK_MODE_FORK,           \
		      SOCK_DGRAM, PLAIN),                                      \
		SERVE("serve-" ename "-signal-tcp", e, SOCK_MODE_EVENT,        \
		      SOCK_STREAM, SIGNALS),                                   \
		SERVE("serve-" ename "-workers-tcp", e, SOCK_MODE_EVENT,       \
		      SOCK_STREAM, WORKERS),                                   \
		SERVE("serve-" ename "-access-tcp", e, SOCK_MODE_EVENT,        \
		      SOCK_STREAM, ACCESS),                                    \
		SERVE("serve-" ename "-proxy-tcp", e, SOCK_MODE_EVENT,         \
		      SOCK_STREAM, PROXY),                                     \
		SERVE("serve-" ename "-event-tls", e, SOCK_MODE_EVENT,         \
		      SOCK_STREAM, TLS),                                       \
		SERVE("serve-" ename "-thread-tls", e, SOCK_MODE_THREAD,       \
		      SOCK_STREAM, TLS),                                       \
		SERVE("serve-" ename "-fork-tls", e, SOCK_MODE_FORK,           \
		      SOCK_STREAM, TLS)

const struct scenario serve_scenarios[] = {
	SERVE_ENGINE(SOCK_ENGINE_EPOLL, "epoll"),
	SERVE_ENGINE(SOCK_ENGINE_URING, "io_uring"),
};
const size_t serve_scenarios_count =
	sizeof(serve_scenarios) / sizeof(serve_scenarios[0]);

/* SPDX-License-Identifier: MIT */
/* server_util.h -- shared by the server tests: engines, runners, echo */

#ifndef SOCK_SERVER_UTIL_H
#define SOCK_SERVER_UTIL_H

#include "internal.h"
#include "test.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

/* ---- engines: every server test runs once per engine ---- */

static enum sock_engine test_engine = SOCK_ENGINE_EPOLL;

/* Valgrind preloads its own library into the program it runs. */
static inline bool under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "vgpreload");
}

/*
 * Run the test on engine e.  A loop asked for io_uring that falls back to
 * epoll would only repeat the epoll run: that run is skipped, never
 * passed.
 */
static inline void use_engine(enum sock_engine e)
{
	struct sock_loop *loop;
	enum sock_engine got;

	test_engine = e;
	if (e == SOCK_ENGINE_URING && under_valgrind())
		SKIP("valgrind does not model io_uring (a waiting ring "
		     "deadlocks it)");
	CHECK_OK(sock_loop_new(&loop, e));
	got = sock_loop_engine(loop);
	sock_loop_free(loop);
	if (got != e)
		SKIP("io_uring unavailable: the loop falls back to epoll");
}

#define ENGINE_TEST(fn)                                                        \
	static void fn##_epoll(void)                                           \
	{                                                                      \
		use_engine(SOCK_ENGINE_EPOLL);                                 \
		fn();                                                          \
	}                                                                      \
	static void fn##_io_uring(void)                                        \
	{                                                                      \
		use_engine(SOCK_ENGINE_URING);                                 \
		fn();                                                          \
	}

#define TEST_ENGINES(fn) TEST(fn##_epoll), TEST(fn##_io_uring)

/*
 * The grace period of a server whose stop must not wait for it: longer
 * than any test may run (the test's alarm ends it first), so that run
 * returning at all shows the stop did not wait for the grace period,
 * however loaded the machine.
 */
#define LONG_GRACE (6 * TEST_WAIT_MS)

/* ---- events, recorded as the server reports them ---- */

struct rec_event {
	enum sock_event_kind kind;
	char service[32];
	char what[64];
	char addr[SOCK_ADDR_STRLEN];
	int err;
	uint64_t bytes_in, bytes_out;
	int64_t duration_ms;
	unsigned int count;
};

#define REC_MAX 1024

static struct {
	pthread_mutex_t lock;
	size_t n;
	struct rec_event ev[REC_MAX];
} rec = { .lock = PTHREAD_MUTEX_INITIALIZER };

static inline void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static inline void rec_fill(struct rec_event *r, const struct sock_event *ev)
{
	memset(r, 0, sizeof(*r));
	r->kind = ev->kind;
	copy_text(r->service, sizeof(r->service), ev->service);
	copy_text(r->what, sizeof(r->what), ev->what);
	if (ev->addr)
		sock_addr_format(ev->addr, r->addr, sizeof(r->addr));
	r->err = ev->err;
	r->bytes_in = ev->bytes_in;
	r->bytes_out = ev->bytes_out;
	r->duration_ms = ev->duration_ms;
	r->count = ev->count;
}

static inline void rec_add(const struct rec_event *r)
{
	pthread_mutex_lock(&rec.lock);
	if (rec.n < REC_MAX)
		rec.ev[rec.n++] = *r;
	pthread_mutex_unlock(&rec.lock);
}

static inline void rec_event(const struct sock_event *ev, void *data)
{
	struct rec_event r;

	(void)data;
	rec_fill(&r, ev);
	rec_add(&r);
}

/* A server in a child process reports its events through a pipe, one
 * record per write (smaller than PIPE_BUF, so never interleaved). */
static inline void pipe_event(const struct sock_event *ev, void *data)
{
	struct rec_event r;

	rec_fill(&r, ev);
	if (write((int)(intptr_t)data, &r, sizeof(r)) < 0)
		return;
}

/* How many events of kind (with what, unless NULL) were reported; LIMIT
 * events count their occurrences. */
static inline unsigned int rec_count(enum sock_event_kind kind,
				     const char *what)
{
	unsigned int n = 0;
	size_t i;

	pthread_mutex_lock(&rec.lock);
	for (i = 0; i < rec.n; i++)
		if (rec.ev[i].kind == kind &&
		    (!what || !strcmp(rec.ev[i].what, what)))
			n += kind == SOCK_EV_LIMIT ? rec.ev[i].count : 1;
	pthread_mutex_unlock(&rec.lock);
	return n;
}

/* The i-th event of kind, copied into out.  Returns false if none. */
static inline bool rec_find(enum sock_event_kind kind, unsigned int nth,
			    struct rec_event *out)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&rec.lock);
	for (i = 0; i < rec.n && !found; i++)
		if (rec.ev[i].kind == kind && nth-- == 0) {
			*out = rec.ev[i];
			found = true;
		}
	pthread_mutex_unlock(&rec.lock);
	return found;
}

/* The event of kind about address text addr (a peer's), into out. */
static inline bool rec_find_addr(enum sock_event_kind kind, const char *addr,
				 struct rec_event *out)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&rec.lock);
	for (i = 0; i < rec.n && !found; i++)
		if (rec.ev[i].kind == kind && !strcmp(rec.ev[i].addr, addr)) {
			*out = rec.ev[i];
			found = true;
		}
	pthread_mutex_unlock(&rec.lock);
	return found;
}

/* The local address of c as text. */
static inline void local_text(const struct sock *c, char buf[SOCK_ADDR_STRLEN])
{
	struct sock_addr a;

	CHECK_OK(sock_getsockname(c, &a));
	CHECK_OK(sock_addr_format(&a, buf, SOCK_ADDR_STRLEN));
}

/* A liveness bound: waits for what must happen last at least
 * TEST_WAIT_MS, whatever a caller expects (ms). */
static inline long long wait_end(int ms)
{
	return test_now_ms() + (ms > TEST_WAIT_MS ? ms : TEST_WAIT_MS);
}

/* Wait (up to ms, or TEST_WAIT_MS) for at least n events of kind (and
 * what). */
static inline bool rec_wait(enum sock_event_kind kind, const char *what,
			    unsigned int n, int ms)
{
	long long end = wait_end(ms);

	while (rec_count(kind, what) < n) {
		if (test_now_ms() > end)
			return false;
		usleep(5000);
	}
	return true;
}

/* ---- a server running in a thread or a child process of the test ---- */

#define TS_MAX_SOCKS 16

struct tserver {
	struct sock_server *srv;
	bool started;
	int err;
	/* in a thread */
	pthread_t thread;
	atomic_int done;
	/*
	 * In a child process, stopped by SIGTERM.  The server is made in
	 * the child (an io_uring ring belongs to the process that made
	 * it): until then its sockets wait here, made as sock_server_add
	 * would make them, and the child adopts them.
	 */
	bool child;
	struct sock_server_config cfg;
	const struct sock_service *svcs[TS_MAX_SOCKS];
	struct sock socks[TS_MAX_SOCKS];
	int nsocks;
	pid_t pid;
	int events, events_w; /* the pipe's ends */
	int close_in_child;   /* a test's descriptor the child must not hold */
	pthread_t reader;
	atomic_int reader_stop;
};

static inline void rec_reset(void)
{
	pthread_mutex_lock(&rec.lock);
	rec.n = 0;
	pthread_mutex_unlock(&rec.lock);
}

/*
 * Create the server with cfg, to run in a thread, or with child set in a
 * child process: forked handlers would otherwise inherit the test's own
 * client sockets, and a client's close would not reach the server.
 */
static inline void ts_new_in(struct tserver *t, struct sock_server_config *cfg,
			     bool child)
{
	int fds[2];

	memset(t, 0, sizeof(*t));
	t->events = -1;
	t->close_in_child = -1;
	rec_reset();
	cfg->engine = test_engine;
	if (!child) {
		if (!cfg->on_event)
			cfg->on_event = rec_event;
		CHECK_OK(sock_server_new(&t->srv, cfg));
		return;
	}
	CHECK_INT(pipe2(fds, O_CLOEXEC), ==, 0);
	t->child = true;
	t->events = fds[0];
	t->events_w = fds[1];
	cfg->on_event = pipe_event;
	cfg->event_data = (void *)(intptr_t)fds[1];
	cfg->stop_on_signals = true;
	t->cfg = *cfg;
}

static inline void ts_new(struct tserver *t, struct sock_server_config *cfg)
{
	ts_new_in(t, cfg, false);
}

/* Serve svc on sock (taken over); returns what sock_server_adopt does
 * (in a child: the next index, or 0 for a connection). */
static inline int ts_adopt(struct tserver *t, const struct sock_service *svc,
			   struct sock *sock)
{
	int listening = 0;

	if (!t->child)
		return sock_server_adopt(t->srv, svc, sock);
	CHECK_INT(t->nsocks, <, TS_MAX_SOCKS);
	if (sock->type == SOCK_STREAM)
		CHECK_OK(sock_getsockopt(sock, SOL_SOCKET, SO_ACCEPTCONN,
					 &listening));
	t->svcs[t->nsocks] = svc;
	t->socks[t->nsocks] = *sock;
	sock__clear(sock);
	if (t->socks[t->nsocks].type == SOCK_STREAM && !listening) {
		t->nsocks++;
		return 0;
	}
	return t->nsocks++;
}

/* Add svc on address text; returns the listener's index. */
static inline int ts_add(struct tserver *t, const struct sock_service *svc,
			 int type, const char *text, int flags)
{
	struct sock s;
	int index;

	if (!t->child) {
		index = sock_server_add(t->srv, svc, type, text, flags);
		CHECK_OK(index);
		return index;
	}
	CHECK_OK(sock_listen(&s, type, text, 0, flags));
	return ts_adopt(t, svc, &s);
}

static inline void ts_sockaddr(struct tserver *t, int index,
			       struct sock_addr *a)
{
	if (t->child) {
		CHECK_INT(index, <, t->nsocks);
		CHECK_OK(sock_getsockname(&t->socks[index], a));
	} else {
		CHECK_OK(sock_server_addr(t->srv, index, a));
	}
}

/* The address of listener index as text. */
static inline void ts_addr(struct tserver *t, int index,
			   char buf[SOCK_ADDR_STRLEN])
{
	struct sock_addr a;

	ts_sockaddr(t, index, &a);
	CHECK_OK(sock_addr_format(&a, buf, SOCK_ADDR_STRLEN));
}

static inline int ts_port(struct tserver *t, int index)
{
	struct sock_addr a;

	ts_sockaddr(t, index, &a);
	return sock_addr_port(&a);
}

static inline void *ts_main(void *arg)
{
	struct tserver *t = arg;

	t->err = sock_server_run(t->srv);
	atomic_store(&t->done, 1);
	return NULL;
}

static inline void *ts_read_events(void *arg)
{
	struct tserver *t = arg;
	struct pollfd p = { .fd = t->events, .events = POLLIN };
	struct rec_event r;

	for (;;) {
		if (poll(&p, 1, atomic_load(&t->reader_stop) ? 0 : 20) <= 0) {
			if (atomic_load(&t->reader_stop))
				break;
			continue;
		}
		if (read(t->events, &r, sizeof(r)) != sizeof(r))
			break;
		rec_add(&r);
	}
	return NULL;
}

/* The child: make the server, adopt the sockets, run, exit 0 if all
 * went well. */
__attribute__((noreturn)) static inline void ts_child(struct tserver *t)
{
	sigset_t term;
	int i, err;

	/* Blocked before run, so a SIGTERM sent early stops the server
	 * (signalfd reads it) rather than killing it. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	close(t->events);
	if (t->close_in_child >= 0)
		close(t->close_in_child);
	alarm(60);
	err = sock_server_new(&t->srv, &t->cfg);
	for (i = 0; i < t->nsocks && !err; i++)
		if (sock_server_adopt(t->srv, t->svcs[i], &t->socks[i]) < 0)
			err = 2;
	if (!err)
		err = sock_server_run(t->srv);
	sock_server_free(t->srv);
	close(t->events_w);
	_exit(err ? 1 : 0);
}

static inline void ts_start_child(struct tserver *t)
{
	int i;

	fflush(NULL);
	t->pid = fork();
	CHECK_INT(t->pid, >=, 0);
	if (t->pid == 0)
		ts_child(t);
	close(t->events_w);
	for (i = 0; i < t->nsocks; i++)
		CHECK_OK(sock_close(&t->socks[i]));
	CHECK_INT(pthread_create(&t->reader, NULL, ts_read_events, t), ==, 0);
}

static inline void ts_start(struct tserver *t)
{
	t->started = true;
	if (t->child) {
		ts_start_child(t);
		return;
	}
	CHECK_INT(pthread_create(&t->thread, NULL, ts_main, t), ==, 0);
}

static inline long long ts_wait_child(struct tserver *t, int ms)
{
	long long start = test_now_ms(), end = wait_end(ms);
	int status = 0;
	pid_t r;

	while ((r = waitpid(t->pid, &status, WNOHANG)) == 0 &&
	       test_now_ms() < end)
		usleep(2000);
	if (r == 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
	}
	atomic_store(&t->reader_stop, 1);
	pthread_join(t->reader, NULL);
	close(t->events);
	t->started = false;
	CHECK_INT(r, ==, t->pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), ==, 0);
	return test_now_ms() - start;
}

/* Wait (up to ms, or TEST_WAIT_MS) for run to return; returns how long
 * it took. */
static inline long long ts_wait(struct tserver *t, int ms)
{
	long long start = test_now_ms(), end = wait_end(ms);

	if (t->child)
		return ts_wait_child(t, ms);
	while (!atomic_load(&t->done) && test_now_ms() < end)
		usleep(2000);
	CHECK(atomic_load(&t->done));
	pthread_join(t->thread, NULL);
	t->started = false;
	CHECK_OK(t->err);
	return test_now_ms() - start;
}

/* Stop (from this thread, or by SIGTERM to the child); returns how long
 * run took to return. */
static inline long long ts_stop(struct tserver *t, int ms)
{
	long long start = test_now_ms();

	if (t->child)
		kill(t->pid, SIGTERM);
	else
		sock_server_stop(t->srv);
	ts_wait(t, ms);
	return test_now_ms() - start;
}

/* Free the server; check the engine it reported, skipping a run whose
 * io_uring loop fell back to epoll. */
static inline void ts_free(struct tserver *t)
{
	struct rec_event ev;

	CHECK(!t->started);
	sock_server_free(t->srv);
	t->srv = NULL;
	if (!rec_find(SOCK_EV_ENGINE, 0, &ev))
		return; /* events went elsewhere */
	if (test_engine == SOCK_ENGINE_URING && strcmp(ev.what, "io_uring"))
		SKIP("server fell back: %s", ev.what);
	CHECK_STR(ev.what, sock_engine_name(test_engine));
}

/* ---- memory ---- */

/* Resident memory of process pid, in KiB. */
static inline long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	CHECK_INT(kib, >, 0);
	return kib;
}

/*
 * The resident memory that kib KiB the program touches costs in this
 * build: kib itself, or more under a sanitizer that keeps shadow memory
 * beside the program's (ThreadSanitizer about triples it).  Measured
 * once, on a buffer this process fills, so that a bound on a server's
 * memory is stated in the program's own bytes and holds in every build.
 */
static inline long rss_budget_kib(long kib)
{
	static long cost; /* per 1024 KiB touched */
	const size_t len = 16 << 20;
	long before;
	char *p;

	if (!cost) {
		before = rss_kib(getpid());
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED);
		memset(p, 1, len);
		cost = (rss_kib(getpid()) - before) * 1024 / (long)(len >> 10);
		munmap(p, len);
		if (cost < 1024)
			cost = 1024;
	}
	return kib * cost / 1024;
}

/* ---- echo services ---- */

static inline void ev_echo_data(struct sock_conn *c, const void *data,
				size_t len)
{
	if (sock_conn_send(c, data, len) < 0)
		return; /* the connection is closing */
}

static inline void ev_echo_dgram(struct sock_dgram *d, const void *data,
				 size_t len)
{
	if (sock_dgram_reply(d, data, len) < 0)
		return;
}

static inline void blk_echo(struct sock *c, const struct sock_addr *peer,
			    void *data)
{
	char buf[4096];
	ssize_t n;

	(void)peer;
	(void)data;
	while ((n = sock_recv(c, buf, sizeof(buf), 0)) > 0)
		if (sock_sendall(c, buf, (size_t)n, NULL, 0) < 0)
			break;
}

static inline void blk_echo_dgram(struct sock *s, const void *msg, size_t len,
				  const struct sock_addr *peer, void *data)
{
	(void)data;
	if (sock_sendto(s, msg, len, peer, 0) < 0)
		return;
}

#define BLK_ECHO(m)                                                            \
	{                                                                      \
		.name = "echo", .mode = m, .handle = blk_echo,                 \
		.handle_datagram = blk_echo_dgram                              \
	}

static const struct sock_service echo_svc[] = {
	[SOCK_MODE_EVENT] = { .name = "echo",
			      .mode = SOCK_MODE_EVENT,
			      .on_data = ev_echo_data,
			      .on_datagram = ev_echo_dgram },
	[SOCK_MODE_INLINE] = BLK_ECHO(SOCK_MODE_INLINE),
	[SOCK_MODE_THREAD] = BLK_ECHO(SOCK_MODE_THREAD),
	[SOCK_MODE_POOL] = BLK_ECHO(SOCK_MODE_POOL),
	[SOCK_MODE_FORK] = BLK_ECHO(SOCK_MODE_FORK),
};

static const char *const mode_name[] = { "event", "inline", "thread", "pool",
					 "fork" };

/* ---- transports ---- */

enum transport { TR_TCP4, TR_TCP6, TR_DUAL, TR_UNIX, TR_UDP, TR_UNIXDG };

static inline int tr_type(enum transport tr)
{
	return tr >= TR_UDP ? SOCK_DGRAM : SOCK_STREAM;
}

/* A unique abstract Unix name, so nothing is left on disk. */
static inline void unix_name(char *buf, size_t size)
{
	static int seq;

	snprintf(buf, size, "@libsock-test-%d-%d", (int)getpid(), seq++);
}

/* Listen text and sock_listen flags for tr. */
static inline int tr_listen(enum transport tr, char *buf, size_t size)
{
	if ((tr == TR_TCP6 || tr == TR_DUAL) && !sock_has_ipv6())
		SKIP("no IPv6 on this machine");
	if (tr == TR_DUAL && !sock_has_dualstack_ipv6())
		SKIP("no dual-stack IPv6 sockets on this machine");
	switch (tr) {
	case TR_TCP6:
		snprintf(buf, size, "[::1]:0");
		return 0;
	case TR_DUAL:
		snprintf(buf, size, ":0");
		return SOCK_LISTEN_DUALSTACK;
	case TR_UNIX:
	case TR_UNIXDG:
		unix_name(buf, size);
		return 0;
	default:
		snprintf(buf, size, "127.0.0.1:0");
		return 0;
	}
}

/* A client of type connected to text, with a 5 s timeout on each call.
 * A Unix datagram client binds an autobound name so replies can reach
 * it. */
static inline void client(struct sock *c, int type, const char *text)
{
	if (type == SOCK_DGRAM && text[0] == '@') {
		CHECK_OK(sock_open(c, AF_UNIX, SOCK_DGRAM, 0));
		CHECK_OK(sock_bind(c, "unix:"));
		CHECK_OK(sock_connect_to(c, text));
	} else {
		CHECK_OK(sock_connect(c, type, text, 5000));
	}
	CHECK_OK(sock_settimeout(c, 5000));
}

/* Send msg and expect it back. */
static inline void echo_once(struct sock *c, const char *msg)
{
	size_t len = strlen(msg);
	char buf[512];
	ssize_t n;

	CHECK_OK(sock_sendall(c, msg, len, NULL, 0));
	if (c->type == SOCK_DGRAM) {
		n = sock_recv(c, buf, sizeof(buf), 0);
		CHECK_INT(n, ==, (long long)len);
	} else {
		CHECK_OK(sock_recv_exact(c, buf, len, NULL));
	}
	CHECK(memcmp(buf, msg, len) == 0);
}

/* Wait up to ms for c to be closed by the server: true when a receive
 * sees the end of stream or a reset. */
static inline bool closed_by_server(struct sock *c, int ms)
{
	char buf[256];
	ssize_t n;

	CHECK_OK(sock_settimeout(c, ms));
	do
		n = sock_recv(c, buf, sizeof(buf), 0);
	while (n > 0);
	return n == 0 || n == -ECONNRESET;
}

/* A shared counter that forked handlers can update too. */
struct shared {
	atomic_int now, peak, total;
	atomic_int pids[64];
};

static inline struct shared *shared_new(void)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(p != MAP_FAILED);
	memset(p, 0, sizeof(struct shared));
	return p;
}

static inline void shared_enter(struct shared *s)
{
	int now = atomic_fetch_add(&s->now, 1) + 1, peak;

	atomic_fetch_add(&s->total, 1);
	peak = atomic_load(&s->peak);
	while (now > peak &&
	       !atomic_compare_exchange_weak(&s->peak, &peak, now))
		;
}

static inline void shared_leave(struct shared *s)
{
	atomic_fetch_sub(&s->now, 1);
}

/* ---- an echo service that counts who it serves at once ---- */

/* The counter the counted_* handlers keep (one per test program, set
 * with counted_reset before the server starts). */
static inline struct shared **counted_slot(void)
{
	static struct shared *counter;

	return &counter;
}

static inline struct shared *counted_reset(void)
{
	*counted_slot() = shared_new();
	return *counted_slot();
}

static inline void counted_open(struct sock_conn *c)
{
	(void)c;
	shared_enter(*counted_slot());
}

static inline void counted_close(struct sock_conn *c, int err)
{
	(void)c;
	(void)err;
	shared_leave(*counted_slot());
}

static inline void counted_echo(struct sock *c, const struct sock_addr *peer,
				void *data)
{
	shared_enter(*counted_slot());
	blk_echo(c, peer, data);
	shared_leave(*counted_slot());
}

/* Echo in mode, counted: on_open/on_close or around the handler. */
static inline struct sock_service counted_svc(enum sock_mode mode)
{
	return (struct sock_service){ .name = "counted",
				      .mode = mode,
				      .on_open = counted_open,
				      .on_data = ev_echo_data,
				      .on_close = counted_close,
				      .handle = counted_echo };
}

#endif /* SOCK_SERVER_UTIL_H */

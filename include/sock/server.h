/* SPDX-License-Identifier: MIT */
/* server.h -- libsock's server framework: Python's socketserver for C */

/*
 * Included by <sock.h>; do not include directly.
 *
 * A struct sock_server serves any number of services, each on any number
 * of listeners: TCP, UDP, Unix stream and Unix datagram, IPv4, IPv6 or
 * dual-stack.  A service is a struct sock_service naming its handlers, in
 * one of two kinds:
 *
 *  - event handlers (SOCK_MODE_EVENT) run on an event loop: on_open,
 *    on_data, on_drain, on_close for streams and on_datagram for
 *    datagrams.  They must not block.  Output is queued per connection
 *    under a bound; when a peer stops reading, the server stops reading
 *    from it, and a producer learns to pause from sock_conn_is_full().
 *
 *  - a blocking handler, socketserver's handle(), runs in one of its
 *    modes: inline (one connection at a time, on the loop), a thread per
 *    connection, a bounded pool of threads, or a forked process per
 *    connection.  It gets an ordinary struct sock and uses the blocking
 *    calls of <sock.h>; its socket's timeout is the idle timeout.
 *
 * The loops run on an engine: epoll (the default) or io_uring, chosen at
 * run time; when io_uring is not available the server falls back to epoll
 * and reports it with a SOCK_EV_ENGINE event.
 *
 * Protection is on by default: a cap on concurrent connections (at the
 * cap, accepting pauses and resumes when a connection closes: nothing is
 * refused), a cap per source address, idle and total timeouts, descriptor
 * exhaustion handled without spinning, truncated datagrams dropped and
 * reported, and for datagram services a reflection guard: no answers to
 * privileged source ports or to the server's own ports, none to our own
 * reply coming back, a small per-source burst and rate, and replies no
 * larger than a small factor of the request (see struct
 * sock_server_config).
 *
 * The library never prints: what happens reaches the application through
 * the on_event hook of struct sock_server_config.
 */

#ifndef SOCK_SERVER_H
#define SOCK_SERVER_H

#ifndef SOCK_H
#error "include <sock.h>, not <sock/server.h>"
#endif

/* ------------------------------------------------------------------ */
/* Event loops                                                         */
/* ------------------------------------------------------------------ */

/* An event loop: timers, signals, descriptor watches.  Opaque. */
struct sock_loop;

/* How a loop waits for and performs I/O. */
enum sock_engine {
	SOCK_ENGINE_DEFAULT = 0, /* epoll, or SOCK_ENGINE from the env */
	SOCK_ENGINE_EPOLL,	 /* epoll(7), readiness-based */
	SOCK_ENGINE_URING,	 /* io_uring(7), completion-based */
};

/*
 * Create a loop on engine.  SOCK_ENGINE_DEFAULT reads the environment
 * variable SOCK_ENGINE ("epoll" or "io_uring") and otherwise uses epoll.
 * If io_uring is asked for but not built in or refused by the kernel, the
 * loop uses epoll instead: check with sock_loop_engine().  Returns 0 and
 * *out, or -ENOMEM, -EMFILE or another -errno.
 */
int sock_loop_new(struct sock_loop **out, enum sock_engine engine) SOCK_WUR;

/* Free a loop that is not running.  Watches, timers and signals still
 * registered are dropped (their callbacks are not called).  NULL is a
 * no-op. */
void sock_loop_free(struct sock_loop *loop);

/* The engine the loop actually uses. */
enum sock_engine sock_loop_engine(const struct sock_loop *loop);

/* "epoll" or "io_uring". */
const char *sock_engine_name(enum sock_engine engine);

/*
 * Run the loop, calling callbacks as things happen, until sock_loop_stop()
 * is called.  Returns 0, or -errno if waiting failed.
 */
int sock_loop_run(struct sock_loop *loop) SOCK_WUR;

/*
 * Make sock_loop_run() return as soon as the callback under way (if any)
 * returns.  Safe from any thread and from a signal handler.
 */
void sock_loop_stop(struct sock_loop *loop);

/* The loop's clock: CLOCK_MONOTONIC milliseconds, read once per wake-up. */
int64_t sock_loop_now_ms(const struct sock_loop *loop);

/*
 * A timer, in the caller's storage.  The fields are private; prepare one
 * with sock_timer_init() and keep it alive while it is started.
 */
struct sock_timer {
	int64_t when;
	int64_t period;
	size_t slot;
	void (*cb)(struct sock_timer *timer, void *arg);
	void *arg;
};

/* Prepare timer to call cb(timer, arg) when it fires. */
void sock_timer_init(struct sock_timer *timer,
		     void (*cb)(struct sock_timer *timer, void *arg),
		     void *arg);

/*
 * Start (or restart) timer on loop: it fires after_ms from now, then every
 * repeat_ms if repeat_ms > 0.  A timer may be started, stopped and
 * restarted from its own callback.  Returns 0, -EINVAL for negative
 * times, or -ENOMEM.
 */
int sock_timer_start(struct sock_loop *loop, struct sock_timer *timer,
		     int after_ms, int repeat_ms) SOCK_WUR;

/* Stop timer if it is started; a no-op otherwise. */
void sock_timer_stop(struct sock_loop *loop, struct sock_timer *timer);

/*
 * A descriptor watch, in the caller's storage; the fields are private.
 */
struct sock_watch {
	int fd;
	int events;
	void (*cb)(struct sock_watch *watch, int revents, void *arg);
	void *arg;
	struct sock_loop *loop;
	uint32_t active;
};

/*
 * Call cb(watch, revents, arg) whenever fd is ready for events (POLLIN,
 * POLLOUT or both; revents may add POLLERR or POLLHUP), until
 * sock_unwatch().  Level-triggered.  Returns 0 or -errno.
 */
int sock_watch(struct sock_loop *loop, struct sock_watch *watch, int fd,
	       int events,
	       void (*cb)(struct sock_watch *watch, int revents, void *arg),
	       void *arg) SOCK_WUR;

/* Stop watching; the callback is not called after this returns. */
void sock_unwatch(struct sock_watch *watch);

/*
 * Call cb(loop, signo, arg) from the loop each time signal signo arrives.
 * The signal is blocked in the calling thread and read with signalfd(2),
 * so block it in every other thread of the process too (create threads
 * after this call, or use pthread_sigmask).  One callback per signal per
 * loop.  Returns 0, -EEXIST, or -errno.
 */
int sock_loop_signal(struct sock_loop *loop, int signo,
		     void (*cb)(struct sock_loop *loop, int signo, void *arg),
		     void *arg) SOCK_WUR;

/* ------------------------------------------------------------------ */
/* Services                                                            */
/* ------------------------------------------------------------------ */

/* A stream connection served by event handlers.  Opaque; owned by the
 * server. */
struct sock_conn;

/* A datagram being handled by an event handler.  Opaque; valid only
 * during the on_datagram call. */
struct sock_dgram;

/* How a service's handlers run. */
enum sock_mode {
	SOCK_MODE_EVENT = 0, /* event handlers on the loop */
	SOCK_MODE_INLINE,    /* handle() on the loop, one at a time */
	SOCK_MODE_THREAD,    /* handle() in a new thread per connection */
	SOCK_MODE_POOL,	     /* handle() in a bounded pool of threads */
	SOCK_MODE_FORK,	     /* handle() in a new process per connection */
};

/* Flags of struct sock_service. */
enum sock_service_flag {
	/* Serve this service from the first loop only, so event handlers
	 * that share state (a chat room) never run in two threads at once. */
	SOCK_SERVICE_ONE_LOOP = 1 << 0,
};

/*
 * What a service does.  Usually a static const object; the server keeps
 * a pointer to it, so it must outlive the server.  Set the handlers of
 * the mode and transport in use and leave the others NULL.
 */
struct sock_service {
	/* A short name for events and logs ("echo"). */
	const char *name;
	enum sock_mode mode;
	/* SOCK_SERVICE_* flags. */
	unsigned int flags;
	/* Passed to blocking handlers; events handlers read it with
	 * sock_conn_service_data() and sock_dgram_service_data(). */
	void *data;

	/* --- event handlers, streams (SOCK_MODE_EVENT) --- */

	/* A connection was accepted.  May send, close, set data. */
	void (*on_open)(struct sock_conn *conn);
	/* len > 0 bytes arrived.  data is the server's buffer, valid
	 * until the handler returns.  May be NULL in a service that only
	 * sends (with on_open): what arrives is read and dropped, and
	 * counts as activity for the idle timeout. */
	void (*on_data)(struct sock_conn *conn, const void *data, size_t len);
	/* More output may be sent: called after sock_conn_send() had to
	 * queue, once the queue is empty, and after sock_conn_send_some()
	 * sent less than offered, once the socket takes more. */
	void (*on_drain)(struct sock_conn *conn);
	/* The connection is closing: err is 0 for an orderly end, or why
	 * (-ECONNRESET, -ETIMEDOUT for a timeout, -ENOBUFS for output
	 * overflow, -ESHUTDOWN when the server stopped it).  No sends are
	 * possible any more; free what sock_conn_data() holds. */
	void (*on_close)(struct sock_conn *conn, int err);

	/* --- event handler, datagrams (SOCK_MODE_EVENT) --- */

	/* A datagram of len bytes (0 allowed) arrived; reply with
	 * sock_dgram_reply(). */
	void (*on_datagram)(struct sock_dgram *dgram, const void *data,
			    size_t len);

	/* --- blocking handlers (the other modes) --- */

	/*
	 * Serve one connection.  conn is in blocking mode with the idle
	 * timeout as its timeout; the server closes it when handle returns
	 * (do not close it yourself; sock_detach() it to keep it).  When
	 * the server stops, or the total timeout passes, the connection is
	 * shut down, so blocked calls fail and handle should return.
	 *
	 * In thread and pool modes the server keeps a descriptor of its own
	 * on the connection until handle returns (one more descriptor per
	 * job, queued or running), so that shutting it down reaches this
	 * connection whatever handle did with conn, and never a socket that
	 * took conn's descriptor number since.  So a connection that handle
	 * detached and closed ends for the peer only when handle returns;
	 * to end it sooner, shutdown(2) it before closing.  A detached
	 * connection that handle keeps is still shut down by a stop or the
	 * total timeout while handle runs, and not after.
	 */
	void (*handle)(struct sock *conn, const struct sock_addr *peer,
		       void *data);
	/*
	 * Serve one datagram from peer; reply with sock_sendto(sock, ...,
	 * peer, 0).  sock is shared with other handlers and must not be
	 * closed.
	 */
	void (*handle_datagram)(struct sock *sock, const void *msg, size_t len,
				const struct sock_addr *peer, void *data);
};

/* ------------------------------------------------------------------ */
/* The server                                                          */
/* ------------------------------------------------------------------ */

/* No limit, for max_conns, max_per_source, dgram_rate, dgram_burst and
 * dgram_amplification of struct sock_server_config. */
#define SOCK_UNLIMITED 0xffffffffu

/* What an event reports. */
enum sock_event_kind {
	SOCK_EV_LISTEN, /* a listener is ready: addr */
	SOCK_EV_ACCEPT, /* a connection was accepted: addr is the peer */
	SOCK_EV_CLOSE,	/* a connection closed: counts, duration, err */
	SOCK_EV_LIMIT,	/* a protection acted: what says which, err why */
	SOCK_EV_ERROR,	/* a call failed: what names it, err the code */
	SOCK_EV_ENGINE, /* the engine in use; what explains a fallback */
	SOCK_EV_STOP,	/* the server is stopping: listeners closed */
};

/*
 * One event.  Pointers are valid during the on_event call only.  Fields
 * that do not apply are 0 or NULL.
 */
struct sock_event {
	enum sock_event_kind kind;
	const char *service;	      /* service name */
	const struct sock_addr *addr; /* peer, or listener for LISTEN */
	int err;		      /* 0 or a negative code */
	const char *what;	      /* which limit, call or engine */
	uint64_t bytes_in;	      /* CLOSE: bytes received */
	uint64_t bytes_out;	      /* CLOSE: bytes sent */
	int64_t duration_ms;	      /* CLOSE: how long it was open */
	unsigned int count;	      /* LIMIT: occurrences since the last
					report of it (rate-limited) */
	unsigned int worker;	      /* which loop (0 ... workers - 1) */
};

/*
 * Server settings.  Zero in any field means its default, so
 * "struct sock_server_config cfg = { 0 };" is a sound configuration.
 */
struct sock_server_config {
	enum sock_engine engine;     /* default: SOCK_ENGINE_DEFAULT */
	unsigned int workers;	     /* event loops, one thread each: 1 */
	unsigned int max_conns;	     /* concurrent connections: 10000 */
	unsigned int max_per_source; /* connections per peer host: 256 */
	int idle_timeout_ms;	     /* no byte either way: 300000 (5 min);
				      SOCK_FOREVER for none */
	int total_timeout_ms;	     /* whole connection: SOCK_FOREVER */
	int grace_ms;		     /* at stop, for connections to end:
				      2000; then they are closed */
	unsigned int output_limit;   /* queued output per connection before
				      the server stops reading: 256 KiB */
	unsigned int pool_threads;   /* SOCK_MODE_POOL threads: 16 */
	unsigned int max_datagram;   /* largest datagram taken whole: 65536 */
	/*
	 * The reflection guard, for datagrams from IP sources that are not
	 * loopback.  Rate and burst: datagrams served per source host, at
	 * most dgram_burst at once and dgram_rate per second after that
	 * (5 and 5: what a client of echo, daytime, time or chargen sends,
	 * one datagram and a wait, leaves room; a loop between two servers
	 * ends at the first refused reply, within 2 x dgram_burst + 1
	 * datagrams).  Sources that share the rate's bookkeeping share
	 * their allowance: none gets more.  With the rate on, a datagram
	 * that repeats, byte for byte, the reply sent to the same host and
	 * port less than 500 ms before is not served (a loop through an
	 * echo).  SOCK_UNLIMITED in either turns both off.
	 * dgram_amplification: the replies to one datagram carry at most
	 * this many times its size on the wire (IP and UDP headers
	 * counted: 28 bytes over IPv4, 48 over IPv6), so an empty request
	 * is answered by daytime and time; a reply over the bound is not
	 * sent (see sock_dgram_room()).  Hosts that hold a stream
	 * connection to this server are exempt: they completed a TCP
	 * handshake, so their address is not spoofed.  Default 2;
	 * SOCK_UNLIMITED for no bound.  Replies that blocking datagram
	 * handlers send themselves are outside the server's view: only the
	 * rate applies to them.
	 */
	unsigned int dgram_rate;	  /* per second per source host: 5 */
	unsigned int dgram_burst;	  /* at once per source host: 5 */
	unsigned int dgram_amplification; /* factor, reply to request: 2 */

	bool stop_on_signals;	     /* stop on SIGINT and SIGTERM */
	bool allow_privileged_peers; /* answer datagrams from ports < 1024
					and from the server's own ports */
	bool busy_poll;		     /* spin instead of sleeping: lower
				      latency for a whole core */
	/* Called for every event, from the loop's thread (with several
	 * workers, from several threads at once). */
	void (*on_event)(const struct sock_event *ev, void *data);
	void *event_data;
};

/* A server.  Opaque. */
struct sock_server;

/*
 * Create a server with the settings in config (NULL for the defaults).
 * Nothing is listened on until sock_server_add().  Returns 0 and *out,
 * -EINVAL for inconsistent settings, or -ENOMEM.
 */
int sock_server_new(struct sock_server **out,
		    const struct sock_server_config *config) SOCK_WUR;

/* Free a server that is not running, closing its listeners.  NULL is a
 * no-op. */
void sock_server_free(struct sock_server *srv);

/*
 * Serve service on address text for socket type: SOCK_STREAM (TCP or
 * Unix stream) or SOCK_DGRAM (UDP or Unix datagram).  flags are
 * sock_listen() flags (SOCK_LISTEN_DUALSTACK ...: the IPv4 peers of a
 * dual-stack listener are reported as IPv4 everywhere, in events, to
 * handlers, in sock_conn_peer() and sock_dgram_peer(), and counted per
 * source as such, never as ::ffff:a.b.c.d); with several workers
 * every worker gets its own socket on the address (SO_REUSEPORT).  The
 * socket is created at once, so errors (-EADDRINUSE ...) show here; with
 * port 0 read the port with sock_server_addr().  Returns the listener's
 * index (>= 0), or a negative code.
 */
int sock_server_add(struct sock_server *srv, const struct sock_service *svc,
		    int type, const char *addr, int flags) SOCK_WUR;

/*
 * Serve service on a socket made elsewhere: a bound datagram socket, a
 * listening stream socket (socket activation), or a connected stream
 * socket, which is served as one connection (inetd).  The server takes
 * ownership of *sock and leaves it closed.  Served by the first loop.
 * This is also the way to a listener with options set between socket()
 * and bind() (Go's ListenConfig.Control): make it with sock_listen_with()
 * and its setup hook, then adopt it.  Returns the listener's index, 0 for
 * a connection, or a negative code.
 */
int sock_server_adopt(struct sock_server *srv, const struct sock_service *svc,
		      struct sock *sock) SOCK_WUR;

/* The address of listener index (from sock_server_add).  Returns 0 or
 * -ENOENT. */
int sock_server_addr(const struct sock_server *srv, int index,
		     struct sock_addr *addr) SOCK_WUR;

/*
 * Behind a load balancer: stream listener index takes the PROXY protocol
 * (HAProxy's, version 1 text or version 2 binary, detected per
 * connection) from the proxies in range from ("10.0.0.0/8", "::1"; call
 * again to add ranges).  A connection from any other address is closed
 * at once (a "proxy-source" limit event): a header is believed only from
 * a trusted proxy.  Each connection must send its header within
 * header_timeout_ms (0: 5 s) of being taken in (accepted, or let in when
 * a slot under max_conns freed), or it is closed (a
 * "proxy-header" limit event: -ETIMEDOUT, -EPROTO for a malformed
 * header, -EMSGSIZE for an oversized one, SOCK_EEOF when it ended first);
 * while it has not, it holds a slot under max_conns.  Then the client the
 * header names is the peer everywhere: the allow and deny ranges and the
 * verify hook, max_per_source, events, handlers, sock_conn_peer().  A
 * header without a client (the proxy's own health check: version 2
 * LOCAL, version 1 UNKNOWN) leaves the proxy as the peer.  The bytes
 * after the header are the service's.  header_timeout_ms applies to the
 * listener (the last call's).  For a server that has not run.  Returns
 * 0, -EINVAL (bad range or timeout), -ENOENT (no listener index),
 * -EAFNOSUPPORT (not an IP listener), -EOPNOTSUPP (a datagram listener),
 * -EBUSY (the server ran), or -ENOMEM.
 */
int sock_server_proxy(struct sock_server *srv, int index, const char *from,
		      int header_timeout_ms) SOCK_WUR;

/* A TLS context (<sock/tls.h>). */
struct sock_tls_ctx;

/*
 * Serve stream listener index over TLS with the server context ctx (a
 * SOCK_TLS_SERVER context with its certificate; the server keeps a
 * reference, so the caller may free ctx at once).  Each connection shakes
 * hands on the loop, without blocking it, before any handler sees it,
 * and must finish within handshake_timeout_ms (0: 10 s) of being taken
 * in; meanwhile it holds a slot under max_conns and counts against its
 * source.  A handshake that fails or is late closes the connection with
 * a "tls-handshake" limit event (err: SOCK_ETLS, SOCK_ECERT for a client
 * certificate that failed the context's check, SOCK_ETLSEOF, -ETIMEDOUT)
 * and counts in SOCK_STAT_TLS_HANDSHAKE; it harms no other connection.
 * Then handlers see plaintext only: event handlers get the bytes of the
 * records in on_data, and sock_conn_send() and sock_conn_close() (which
 * sends close_notify, as the idle and total timeouts do) work as ever; a
 * blocking handler's conn is a TLS socket (sock_is_tls(),
 * sock_tls_peer_subject() ...), closed with close_notify when the handler
 * returns -- except when the total timeout cuts the handler: its socket
 * is shut under it, and its peer sees the stream cut.  A peer that ends
 * without close_notify closes an event connection with SOCK_ETLSEOF; a TLS
 * failure after the handshake (an alert, a record that fails its check,
 * a refused renegotiation) closes it with SOCK_ETLS, a "tls-protocol"
 * limit event and SOCK_STAT_TLS_PROTOCOL.
 * Byte counts (events, statistics) are of the records after the
 * handshake, not of the plaintext.
 * Behind a load balancer (sock_server_proxy) the PROXY header comes
 * first, in plaintext.  For a server that has not run; a later call
 * replaces the context.  Returns 0, -EINVAL (ctx not a server context
 * with a certificate, or a negative timeout), -ENOENT (no listener
 * index), -EOPNOTSUPP (a datagram listener), or -EBUSY (the server ran).
 */
int sock_server_tls(struct sock_server *srv, int index,
		    struct sock_tls_ctx *ctx,
		    int handshake_timeout_ms) SOCK_WUR;

/*
 * socketserver's service_actions(): call fn(srv, data) every interval_ms
 * while the server runs, on the first worker's loop thread, for
 * housekeeping beside the connections (rotating a file, expiring a
 * cache, stopping on a condition: sock_server_stop() may be called from
 * fn).  Not called once the server is stopping.  fn must not block.  One
 * per server; NULL removes it.  For a server that has not run.  Returns
 * 0, -EINVAL for interval_ms < 1 with a fn, or -EBUSY (the server ran).
 */
typedef void (*sock_every_fn)(struct sock_server *srv, void *data);
int sock_server_every(struct sock_server *srv, int interval_ms,
		      sock_every_fn fn, void *data) SOCK_WUR;

/*
 * What sock_server_stats() counts.  Connections are counted as the
 * events report them: accepted when SOCK_EV_ACCEPT is emitted, closed
 * with SOCK_EV_CLOSE; the limits as SOCK_EV_LIMIT and SOCK_EV_ERROR
 * events would report each occurrence (the events themselves are at most
 * one a second per kind).  Bytes are those of event services as they
 * flow, and those of blocking handlers' streams when they end (TCP's own
 * count); datagrams out are event services' replies.
 */
enum sock_stat {
	SOCK_STAT_ACCEPTED,	       /* connections taken in and served */
	SOCK_STAT_CLOSED,	       /* connections ended */
	SOCK_STAT_OPEN,		       /* open now: accepted - closed */
	SOCK_STAT_BYTES_IN,	       /* stream bytes received */
	SOCK_STAT_BYTES_OUT,	       /* stream bytes sent */
	SOCK_STAT_DGRAMS_IN,	       /* datagrams received (dropped too) */
	SOCK_STAT_DGRAMS_OUT,	       /* datagram replies sent */
	SOCK_STAT_AT_CAP,	       /* times accepting paused at max_conns */
	SOCK_STAT_PER_SOURCE,	       /* refused: max_per_source */
	SOCK_STAT_ACCESS,	       /* refused: an allow or deny range */
	SOCK_STAT_VERIFY,	       /* refused: the verify hook */
	SOCK_STAT_PROXY_SOURCE,	       /* refused: not a trusted proxy */
	SOCK_STAT_PROXY_HEADER,	       /* closed: a bad or late PROXY header */
	SOCK_STAT_DESCRIPTORS,	       /* accepts failed: no descriptor left */
	SOCK_STAT_IDLE_TIMEOUT,	       /* closed: idle timeout */
	SOCK_STAT_TOTAL_TIMEOUT,       /* closed: total timeout */
	SOCK_STAT_OUTPUT_OVERFLOW,     /* closed: output over its bound */
	SOCK_STAT_DGRAM_TRUNCATED,     /* dropped: larger than max_datagram */
	SOCK_STAT_DGRAM_PRIVILEGED,    /* dropped: from a port below 1024 */
	SOCK_STAT_DGRAM_OWN_PORT,      /* dropped: from one of our ports */
	SOCK_STAT_DGRAM_RATE,	       /* dropped: over the rate */
	SOCK_STAT_DGRAM_LOOP,	       /* dropped: our own reply back */
	SOCK_STAT_DGRAM_AMPLIFICATION, /* replies not sent: amplification */
	SOCK_STAT_ERRORS,	       /* failed calls: accept, memory */
	SOCK_STAT_TLS_HANDSHAKE,       /* closed: a failed or late TLS
					  handshake */
	SOCK_STAT_TLS_PROTOCOL,	       /* closed: a TLS failure after the
					  handshake (an alert, a bad record,
					  a refused renegotiation) */
	SOCK_STAT_COUNT
};

/* The name of a counter ("accepted", "dgram_rate" ...), or NULL past the
 * last. */
const char *sock_stat_name(int stat);

/*
 * Read the counters of listener index (-1: the whole server, every
 * listener and what belongs to none) into out[0 .. n-1], in enum
 * sock_stat's order (n may be smaller or larger than SOCK_STAT_COUNT: a
 * program built against an older header gets the counters it knows).
 * May be called from any thread, also while the server runs; each counter
 * is read on its own, not all at one instant.  Returns the number of
 * counters this library has (SOCK_STAT_COUNT), or -ENOENT (no listener
 * index), -EINVAL.
 */
int sock_server_stats(const struct sock_server *srv, int index, uint64_t *out,
		      size_t n) SOCK_WUR;

/*
 * How worker's event loop spent its time since it started: idle, waiting
 * in epoll_wait or io_uring for something to happen, and busy, doing
 * everything else (the handlers included), in microseconds.  From any
 * thread.  Returns 0, or -ENOENT (no such worker) or -EINVAL.
 */
int sock_server_loop_time(const struct sock_server *srv, unsigned int worker,
			  uint64_t *busy_us, uint64_t *idle_us) SOCK_WUR;

/*
 * socketserver's timeout and handle_timeout(): call fn(srv, data) when
 * the server has taken no connection and no datagram for timeout_ms (on
 * any listener, refused ones included), and again after each further
 * timeout_ms of quiet; on the first worker's loop thread, like
 * sock_server_every() (fn must not block, and may call
 * sock_server_stop(): a server that ends when nobody came).  Not called
 * once the server is stopping.  One per server; NULL removes it.  For a
 * server that has not run.  Returns 0, -EINVAL for timeout_ms < 1 with a
 * fn, or -EBUSY (the server ran).
 */
int sock_server_idle(struct sock_server *srv, int timeout_ms, sock_every_fn fn,
		     void *data) SOCK_WUR;

/*
 * StreamRequestHandler's timeout: the timeout of the connections (and,
 * for datagrams, the socket) that blocking handlers of listener index
 * get, which every call they make on it waits at most (a read that
 * times out returns -ETIMEDOUT, as socket.timeout in Python, and the
 * handler decides: answer, or return and so close); SOCK_FOREVER for no
 * bound.  Without it they get the idle timeout.  Event services are
 * unaffected (their idle timeout is the server's).  For a server that
 * has not run.  Returns 0, -EINVAL (0 or below SOCK_FOREVER), -ENOENT
 * (no listener index), or -EBUSY (the server ran).
 */
int sock_server_handler_timeout(struct sock_server *srv, int index,
				int timeout_ms) SOCK_WUR;

/*
 * socketserver's request_queue_size: how many connections the kernel
 * keeps waiting to be accepted on stream listener index (every worker's
 * socket on it), for bursts faster than the loop accepts; the listener
 * starts with the system's most (SOMAXCONN, net.core.somaxconn), and the
 * kernel caps any value at that.  For a server that has not run.
 * Returns 0, -EINVAL for backlog < 1, -ENOENT (no listener index),
 * -EOPNOTSUPP (a datagram listener), -EBUSY (the server ran), or
 * -errno.
 */
int sock_server_backlog(struct sock_server *srv, int index,
			int backlog) SOCK_WUR;

/*
 * Who may use listener index (from sock_server_add or sock_server_adopt),
 * socketserver's verify_request and xinetd's only_from / no_access.
 * Checked for each connection as it is accepted, before it takes a slot
 * under the caps or reaches a handler (a denied one is closed at once),
 * and for each datagram before the reflection guard (a denied one is
 * dropped); each refusal is a SOCK_EV_LIMIT event with what "access" or
 * "verify" and -EACCES, reported at most once a second with a count.
 *
 * sock_server_allow and sock_server_deny add a range of IP addresses:
 * "10.0.0.0/8", "192.168.1.7" (a /32), "2001:db8::/32", "[::1]" (a /128),
 * "::ffff:10.0.0.0/104" (the same as 10.0.0.0/8).  A peer in a deny range
 * is refused; otherwise, when the listener has allow ranges, a peer in
 * none of them is refused; order does not matter.  An IPv4 range matches
 * IPv4 peers and the v4-mapped peers (::ffff:a.b.c.d) of a dual-stack
 * socket; an IPv6 range never matches a v4-mapped peer ("::/0" is every
 * IPv6 peer, not everyone).  Ranges are for TCP and UDP listeners.
 *
 * sock_server_verify sets a hook asked about each peer the ranges let
 * through: false refuses it.  It runs on the loop thread of the worker
 * that took the connection or datagram -- with several workers, on
 * several threads at once, so state it shares needs a lock or atomics --
 * for every one, and must not block.  NULL removes it.  A peer whose
 * address cannot be read is refused by a listener with any range.
 *
 * All three are for a server that has not run.  Return 0, or -EINVAL (a
 * range that does not parse, or with bits set past its prefix length:
 * "10.0.0.1/8"), -ENOENT (no listener index), -EAFNOSUPPORT (a range on
 * a Unix listener), -EBUSY (the server ran), -ENOMEM.
 */
int sock_server_allow(struct sock_server *srv, int index,
		      const char *cidr) SOCK_WUR;
int sock_server_deny(struct sock_server *srv, int index,
		     const char *cidr) SOCK_WUR;
typedef bool (*sock_verify_fn)(const struct sock_addr *peer,
			       const struct sock_service *svc, void *data);
int sock_server_verify(struct sock_server *srv, int index, sock_verify_fn fn,
		       void *data) SOCK_WUR;

/*
 * Serve until sock_server_stop() (or a signal, with stop_on_signals), or
 * until there is nothing left to serve (no listener and no connection, as
 * after adopting one inetd connection).  Stopping closes the listeners,
 * gives open connections grace_ms to end, then closes the rest; run
 * returns when all are gone and every handler has returned.  A server
 * runs once.  Returns 0, or a negative code if it could not start (no
 * descriptor for the signalfd, no thread for a worker ...): then nothing
 * was served and the calling thread's signal mask is as it was.
 */
int sock_server_run(struct sock_server *srv) SOCK_WUR;

/*
 * socketserver's TCPServer(address, Handler).serve_forever() in one call:
 * a server with config (NULL: the defaults, and stop_on_signals), service
 * on address text for socket type, run until it stops (SIGINT or SIGTERM
 * with stop_on_signals), then freed.  Returns 0 or the negative code of
 * what failed: the settings, the address (-EADDRINUSE ...) or the start.
 */
int sock_serve(const struct sock_service *svc, int type, const char *addr,
	       const struct sock_server_config *config) SOCK_WUR;

/*
 * Ask a running server to stop; it begins at once.  Safe from any thread
 * and from a signal handler; calling it again is harmless, and calling it
 * before sock_server_run() makes run stop as soon as it starts.
 */
void sock_server_stop(struct sock_server *srv);

/*
 * Descriptors passed by systemd socket activation, without libsystemd:
 * when LISTEN_PID is this process, take LISTEN_FDS descriptors from 3 up,
 * named by LISTEN_FDNAMES (colon-separated; "" where absent), and unset
 * the three variables.  Each is made non-blocking and close-on-exec and
 * taken as it is, not duplicated: the caller owns it (sock_server_adopt
 * it or close it).  Writes up to max entries; returns how many were
 * passed (0 when not activated; those beyond max stay open, the
 * caller's), -EINVAL for malformed variables, -EBADF or -ENOTSOCK for a
 * passed descriptor that is not an open socket (then nothing is written).
 */
struct sock_listen_fd {
	struct sock sock;
	char name[256];
};

int sock_listen_fds(struct sock_listen_fd *out, size_t max) SOCK_WUR;

/* ------------------------------------------------------------------ */
/* Inside event handlers                                               */
/* ------------------------------------------------------------------ */

/*
 * Send len bytes on conn: what the socket takes now goes at once, the
 * rest is copied into the connection's queue.  Returns 0, or the error
 * that ends the connection: -EPIPE if it is closing, -ECONNRESET, -ENOMEM,
 * or -ENOBUFS when its queue passes four times the output limit and
 * 64 KiB (a producer that ignored sock_conn_is_full()).  The connection
 * is then closed by the server, so a handler may ignore the result.
 */
int sock_conn_send(struct sock_conn *conn, const void *data, size_t len);

/*
 * For producers (a stream generated on demand): send at most len bytes
 * now, as many as the socket takes, and queue nothing.  Returns how many
 * went (0 if the socket takes none, or while output queued by
 * sock_conn_send() waits), or the error that ends the connection.  When
 * fewer than len went, on_drain is called once the connection can take
 * more, so a producer sends until this falls short and resumes in
 * on_drain: the pace is the reader's and nothing is copied.
 */
ssize_t sock_conn_send_some(struct sock_conn *conn, const void *data,
			    size_t len);

/* True when conn's queued output reached the output limit: a producer
 * should stop and continue from on_drain. */
bool sock_conn_is_full(const struct sock_conn *conn);

/*
 * Close conn in order: no more on_data, queued output is sent, and then,
 * unless the peer already ended its side (or never sent a byte), the
 * sending side is shut down and input read and dropped until the peer
 * closes (for at most 2 s, or until the stop's grace period ends), so
 * the peer receives everything before the connection ends.  on_close
 * follows.
 */
void sock_conn_close(struct sock_conn *conn);

/* Close conn now, dropping queued output; on_close(conn, err) follows. */
void sock_conn_abort(struct sock_conn *conn, int err);

/* The peer's address.  Returns 0 or -ENOTCONN. */
int sock_conn_peer(const struct sock_conn *conn, struct sock_addr *addr);

/* The connection's own data pointer (NULL at first), and setting it. */
void *sock_conn_data(const struct sock_conn *conn);
void sock_conn_set_data(struct sock_conn *conn, void *data);

/* The service's data pointer (struct sock_service.data). */
void *sock_conn_service_data(const struct sock_conn *conn);

/* The loop serving conn, for timers and the clock. */
struct sock_loop *sock_conn_loop(const struct sock_conn *conn);

/*
 * Reply to the datagram being handled: send len bytes (0 allowed) to its
 * sender.  Replies are sent in batches after the handler returns.
 * Returns 0, -EMSGSIZE above the largest datagram or above what the
 * amplification bound leaves (sock_dgram_room(); reported as the limit
 * "datagram-amplification"), -EDESTADDRREQ for an unnamed Unix sender,
 * -ENOBUFS when too many replies wait, or -ENOMEM.  A reply that cannot
 * be sent is dropped, as UDP drops datagrams, so a handler may ignore
 * the result.
 */
int sock_dgram_reply(struct sock_dgram *dgram, const void *data, size_t len);

/*
 * The largest reply sock_dgram_reply() sends now: the largest datagram,
 * or less for a sender the amplification bound applies to (an IP source
 * that is not loopback and holds no stream connection to this server):
 * dgram_amplification times the request's size on the wire, minus what
 * the replies already sent carried and the reply's own headers.  A
 * handler whose reply may be any length (chargen) sends this much at
 * most.  0 means an empty reply at most, or none.
 */
size_t sock_dgram_room(const struct sock_dgram *dgram);

/* The sender of the datagram being handled. */
const struct sock_addr *sock_dgram_peer(const struct sock_dgram *dgram);

/* The service's data pointer. */
void *sock_dgram_service_data(const struct sock_dgram *dgram);

/* The loop serving the datagram. */
struct sock_loop *sock_dgram_loop(const struct sock_dgram *dgram);

#endif /* SOCK_SERVER_H */

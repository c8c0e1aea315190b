/* SPDX-License-Identifier: MIT */
/* internal.h -- declarations shared by the library's files, not installed */

#ifndef SOCK_INTERNAL_H
#define SOCK_INTERNAL_H

#include <sock.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SOCK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Hide a symbol from the shared library even where a header exports it. */
#define SOCK_INTERNAL __attribute__((visibility("hidden")))

/*
 * Deadlines are absolute CLOCK_MONOTONIC times in nanoseconds.  One is
 * computed per public call from the caller's timeout and shared by every
 * wait inside it.  SOCK__NEVER never passes; SOCK__NOW means "do not wait".
 */
#define SOCK__NEVER INT64_MAX
#define SOCK__NOW 0

/* Now on CLOCK_MONOTONIC, in nanoseconds. */
int64_t sock__now_ns(void);

/* The deadline for timeout_ms (SOCK_FOREVER, 0, or n ms from now). */
int64_t sock__deadline(int timeout_ms);

/* Milliseconds left until deadline, rounded up, for poll(): -1 for
 * SOCK__NEVER, 0 once passed. */
int sock__remaining_ms(int64_t deadline);

/*
 * Wait until fd is ready for events (POLLIN, POLLOUT) or deadline passes.
 * Returns 0 when ready (or when poll reports an error or hang-up, which
 * the caller's next call will report), -EAGAIN for a SOCK__NOW deadline,
 * -ETIMEDOUT once deadline passed, or -errno.  EINTR is retried.
 */
int sock__wait(int fd, short events, int64_t deadline);

/*
 * For waits poll() cannot express (a full Unix listener backlog, a full
 * Unix datagram receiver): sleep 1 ms, or return -EAGAIN for a SOCK__NOW
 * deadline and -ETIMEDOUT once deadline passed.
 */
int sock__backoff(int64_t deadline);

/*
 * TLS (src/tls/tls.c).  The I/O calls hand a socket with s->tls to these:
 * receive and send as recv(2) and send(2) do (MSG_PEEK and MSG_DONTWAIT
 * only), a line as sock_recv_line, within deadline.  close_notify is sent
 * by sock__tls_close_notify; sock__tls_release frees the state (sending
 * close_notify first when notify and it goes without waiting).
 */
ssize_t sock__tls_recv(struct sock *s, void *buf, size_t len, int flags,
		       int64_t deadline);
ssize_t sock__tls_send(struct sock *s, const void *buf, size_t len, int flags,
		       int64_t deadline);
ssize_t sock__tls_recv_line(struct sock *s, char *buf, size_t size,
			    int64_t deadline);
int sock__tls_close_notify(struct sock *s, int64_t deadline);
void sock__tls_release(struct sock *s, bool notify);
int sock__tls_wrap_until(struct sock *s, struct sock_tls_ctx *ctx,
			 const char *name, int64_t deadline);

/* Set s to the open socket fd with the given properties, blocking mode. */
void sock__adopt(struct sock *s, int fd, int family, int type, int protocol);

/* Make s the closed socket. */
void sock__clear(struct sock *s);

/* An integer SOL_SOCKET option of fd.  Returns 0 or -errno. */
int sock__get_int_opt(int fd, int name, int *value);

/*
 * accept(2) reports the errors of connections that died in the queue
 * (and network errors) as its own: they concern that connection, and the
 * next one may be good.  True for those, and for EINTR.
 */
bool sock__accept_error_is_transient(int err);

/* Connect s to addr, waiting no later than deadline. */
int sock__connect_deadline(struct sock *s, const struct sock_addr *addr,
			   int64_t deadline);

/* Map a getaddrinfo()/getnameinfo() EAI_* code (with errno for
 * EAI_SYSTEM) to this library's codes. */
int sock__gai_error(int eai, int saved_errno);

/*
 * Split "host:port" address text of len bytes into host and port, each
 * NUL-terminated in its buffer; brackets around an IPv6 host are removed.
 * Returns 0, or SOCK_EBADADDR.  Text that is not of the host:port kind
 * (a Unix or packet address) is SOCK_EBADADDR too.
 */
int sock__split_hostport(const char *text, size_t len, char *host,
			 size_t hostsize, char *port, size_t portsize);

/* Copy text into buf of size bytes; false (buf emptied) if it does not
 * fit. */
bool sock__copy_text(char *buf, size_t size, const char *text);

/* True when text is a Unix or packet address rather than host:port. */
bool sock__addr_is_local_text(const char *text);

/*
 * Resolve address text for socket type and family (AF_UNSPEC for any) with
 * AI_* flags into at most max addresses, within deadline.  Unix and packet
 * text and numeric hosts are parsed without a lookup.  Returns the count
 * (>= 1), or a negative code.
 */
ssize_t sock__resolve(const char *text, int family, int type, int flags,
		      struct sock_addrinfo *out, size_t max, int64_t deadline);

/*
 * A name looked up for both families at once, each in a worker thread
 * (RFC 8305, section 3): pending[0] is AF_INET6's lookup, pending[1]
 * AF_INET's, NULL once taken.
 */
struct lookup;

struct sock__lookups {
	struct lookup *pending[2];
	pthread_t tid[2];
	bool started[2];
	int type;
	int port; /* a numeric port, or -1 */
};

/*
 * Start the lookups of text's host for socket type.  Returns 1 when they
 * are under way, 0 when text needs no lookup or no room was left for two
 * (sock__resolve is then the way: b holds nothing), or a negative code
 * for bad text.
 */
int sock__lookups_start(struct sock__lookups *b, const char *text, int type);

/* The family of b->pending[i]. */
int sock__lookups_family(int i);

/* A descriptor readable once lookup i answered; -1 once it was taken. */
int sock__lookups_fd(const struct sock__lookups *b, int i);

/* Lookup i's addresses (count, or a negative code) once it answered;
 * -EAGAIN before. */
ssize_t sock__lookups_take(struct sock__lookups *b, int i,
			   struct sock_addrinfo *out, size_t max);

/* Give up the lookups not taken: each worker frees its own when done. */
void sock__lookups_end(struct sock__lookups *b);

/* Lookup threads still running, those abandoned at a deadline included
 * (tests wait for them before the process ends). */
int sock__resolve_threads(void);

#endif /* SOCK_INTERNAL_H */

/* SPDX-License-Identifier: MIT */
/* resolve.c -- name resolution under a deadline: getaddrinfo, getnameinfo */

#include "internal.h"

#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The longest port text kept: service names are short (NI_MAXSERV). */
#define SERV_MAX NI_MAXSERV

/* Copy text into buf of size bytes; false (buf empty) if it does not fit. */
bool sock__copy_text(char *buf, size_t size, const char *text)
{
	size_t len = strlen(text);

	if (len >= size) {
		if (size)
			buf[0] = '\0';
		return false;
	}
	memmove(buf, text, len + 1);
	return true;
}

/* True when every character of text is in set. */
static bool is_all(const char *text, const char *set)
{
	return text[strspn(text, set)] == '\0';
}

/* ------------------------------------------------------------------ */
/* getaddrinfo() within a deadline                                     */
/* ------------------------------------------------------------------ */

static ssize_t copy_results(const struct addrinfo *res,
			    struct sock_addrinfo *out, size_t max)
{
	const struct addrinfo *ai;
	size_t n = 0;

	for (ai = res; ai && n < max; ai = ai->ai_next) {
		if (sock_addr_from_sockaddr(&out[n].addr, ai->ai_addr,
					    ai->ai_addrlen))
			continue;
		out[n].family = ai->ai_family;
		out[n].type = ai->ai_socktype;
		out[n].protocol = ai->ai_protocol;
		n++;
	}
	return n ? (ssize_t)n : SOCK_ERESOLVE;
}

/* getaddrinfo() in the calling thread, as long as it takes. */
static ssize_t lookup_sync(const char *host, const char *serv,
			   const struct addrinfo *hints,
			   struct sock_addrinfo *out, size_t max)
{
	struct addrinfo *res = NULL;
	ssize_t n;
	int eai;

	eai = getaddrinfo(host, serv, hints, &res);
	if (eai)
		return sock__gai_error(eai, errno);
	n = copy_results(res, out, max);
	freeaddrinfo(res);
	return n;
}

/*
 * A lookup handed to a worker thread.  The caller may give up at its
 * deadline while getaddrinfo() goes on, so the request belongs to both:
 * each side drops its reference when done with it and the last one frees
 * it.  The eventfd is closed only then, so the worker never writes to a
 * descriptor number the program has meanwhile reused.
 */
struct lookup {
	atomic_int refs;
	atomic_bool done;
	int efd;
	int eai;
	int saved_errno;
	struct addrinfo hints;
	struct addrinfo *res;
	const char *host;
	const char *serv;
	char names[];
};

static void lookup_put(struct lookup *l)
{
	if (atomic_fetch_sub_explicit(&l->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (l->res)
		freeaddrinfo(l->res);
	close(l->efd);
	free(l);
}

static void *lookup_run(void *arg)
{
	struct lookup *l = arg;
	uint64_t one = 1;
	ssize_t n;

	l->eai = getaddrinfo(l->host, l->serv, &l->hints, &l->res);
	l->saved_errno = errno;
	atomic_store_explicit(&l->done, true, memory_order_release);
	/* Adding 1 to an eventfd fails only when its counter would overflow,
	 * which one write cannot do. */
	n = write(l->efd, &one, sizeof(one));
	(void)n;
	lookup_put(l);
	return NULL;
}

/* Lookup threads running; see sock__resolve_threads. */
static atomic_int threads;

int sock__resolve_threads(void)
{
	return atomic_load(&threads);
}

static void *lookup_thread(void *arg)
{
	lookup_run(arg);
	atomic_fetch_sub(&threads, 1);
	return NULL;
}

/* A request for host (not NULL) and serv, with its own copy of both. */
static struct lookup *lookup_new(const char *host, const char *serv,
				 const struct addrinfo *hints)
{
	size_t hlen = strlen(host) + 1, slen = serv ? strlen(serv) + 1 : 0;
	struct lookup *l;

	l = calloc(1, sizeof(*l) + hlen + slen);
	if (!l)
		return NULL;
	l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->efd < 0) {
		free(l);
		return NULL;
	}
	atomic_init(&l->refs, 2);
	atomic_init(&l->done, false);
	l->hints = *hints;
	memcpy(l->names, host, hlen);
	l->host = l->names;
	if (serv) {
		memcpy(l->names + hlen, serv, slen);
		l->serv = l->names + hlen;
	}
	return l;
}

/*
 * Start the worker with every signal blocked: signals belong to the
 * program's own threads.  Returns false when no thread could be had (a
 * thread limit): the lookup has then run here, unbounded, rather than
 * fail.
 */
static bool lookup_start(struct lookup *l, pthread_t *tid)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	atomic_fetch_add(&threads, 1);
	rc = pthread_create(tid, NULL, lookup_thread, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		atomic_fetch_sub(&threads, 1);
		lookup_run(l);
	}
	return rc == 0;
}

/*
 * getaddrinfo() has no timeout, so it runs in a worker thread while this
 * one waits for it no later than deadline.  A worker that answered in
 * time is joined, so no thread outlives the call; on timeout it is
 * detached and the request abandoned to it, to be freed when
 * getaddrinfo() returns.
 */
static ssize_t lookup_async(const char *host, const char *serv,
			    const struct addrinfo *hints,
			    struct sock_addrinfo *out, size_t max,
			    int64_t deadline)
{
	bool started, answered = false;
	struct lookup *l;
	pthread_t tid;
	ssize_t n;

	if (sock__remaining_ms(deadline) == 0)
		return -ETIMEDOUT;
	l = lookup_new(host, serv, hints);
	if (!l)
		return lookup_sync(host, serv, hints, out, max);
	started = lookup_start(l, &tid);
	for (;;) {
		answered = atomic_load_explicit(&l->done, memory_order_acquire);
		if (answered) {
			n = l->eai ? sock__gai_error(l->eai, l->saved_errno)
				   : copy_results(l->res, out, max);
			break;
		}
		n = sock__wait(l->efd, POLLIN, deadline);
		if (n)
			break;
	}
	if (started && answered)
		pthread_join(tid, NULL);
	else if (started)
		pthread_detach(tid);
	lookup_put(l);
	return n;
}

/*
 * getaddrinfo() within deadline.  A numeric host is tried first, which
 * needs no lookup; only a name waits for the resolver in a worker.  A
 * deadline of SOCK__NOW cannot be met by any lookup, so it means "no
 * bound" here: timeout 0 is about the socket, not the name.
 */
static ssize_t lookup(const char *host, const char *serv,
		      const struct addrinfo *hints, struct sock_addrinfo *out,
		      size_t max, int64_t deadline)
{
	struct addrinfo numeric = *hints;
	ssize_t n;

	numeric.ai_flags |= AI_NUMERICHOST;
	n = lookup_sync(host, serv, &numeric, out, max);
	if (n != SOCK_ENONAME || !host || (hints->ai_flags & AI_NUMERICHOST))
		return n;
	if (deadline == SOCK__NEVER || deadline == SOCK__NOW)
		return lookup_sync(host, serv, hints, out, max);
	return lookup_async(host, serv, hints, out, max, deadline);
}

/* ------------------------------------------------------------------ */
/* Address text                                                        */
/* ------------------------------------------------------------------ */

/*
 * Host text that can only be meant as a numeric address (an IPv6 address,
 * digits and dots): it is never sent to the resolver.
 */
static bool host_is_numeric_form(const char *host)
{
	return strchr(host, ':') || is_all(host, "0123456789.");
}

/* Why numeric host text did not parse: an unknown scope, or bad text. */
static int numeric_host_error(const char *host)
{
	const char *scope = strchr(host, '%');

	if (scope && strchr(host, ':') && !is_all(scope + 1, "0123456789") &&
	    !if_nametoindex(scope + 1))
		return -ENODEV;
	return SOCK_EBADADDR;
}

/* Port text: a number up to 65535 (*numeric set), or a service name. */
static int check_port(const char *text, bool *numeric)
{
	*numeric = is_all(text, "0123456789");
	if (*numeric)
		return strlen(text) <= 5 && strtoul(text, NULL, 10) <= 65535
			       ? 0
			       : SOCK_EBADADDR;
	return isalpha((unsigned char)text[0]) ? 0 : SOCK_EBADADDR;
}

static ssize_t resolve_local(const char *text, int family, int type,
			     struct sock_addrinfo *out)
{
	int err;

	err = sock_addr_parse(&out->addr, text);
	if (err)
		return err;
	if (family != AF_UNSPEC && sock_addr_family(&out->addr) != family)
		return -EAFNOSUPPORT;
	out->family = sock_addr_family(&out->addr);
	out->type = type;
	out->protocol = 0;
	return 1;
}

/*
 * getaddrinfo() knows stream, datagram and raw sockets only; other types
 * (SEQPACKET) are looked up as streams and given back with protocol 0.
 */
static bool type_is_known(int type)
{
	return type == 0 || type == SOCK_STREAM || type == SOCK_DGRAM ||
	       type == SOCK_RAW;
}

/* "host:port" text taken apart for getaddrinfo(). */
struct inet_query {
	struct addrinfo hints;
	char host[NI_MAXHOST];
	char port[SERV_MAX];
	bool numeric_port;
	int type;
};

static int query_prepare(struct inet_query *q, const char *text, int family,
			 int type, int flags)
{
	int err;

	memset(&q->hints, 0, sizeof(q->hints));
	q->hints.ai_family = family;
	q->hints.ai_flags = flags;
	q->type = type;
	err = sock__split_hostport(text, strlen(text), q->host, sizeof(q->host),
				   q->port, sizeof(q->port));
	if (!err)
		err = check_port(q->port, &q->numeric_port);
	if (err)
		return err;
	if (q->host[0] == '\0')
		strcpy(q->host, family == AF_INET6 ? "::" : "0.0.0.0");
	if (host_is_numeric_form(q->host))
		q->hints.ai_flags |= AI_NUMERICHOST;
	q->hints.ai_socktype = type_is_known(type) ? type : SOCK_STREAM;
	return 0;
}

/* The service getaddrinfo() looks up: a port number is set afterwards
 * rather than looked up (raw sockets have no services, and getaddrinfo()
 * would take 65536). */
static const char *query_service(const struct inet_query *q)
{
	return q->numeric_port ? NULL : q->port;
}

/* The n results of a lookup for q, given their port and type. */
static ssize_t query_finish(const struct inet_query *q,
			    struct sock_addrinfo *out, ssize_t n)
{
	ssize_t i;

	if (n == SOCK_ENONAME && (q->hints.ai_flags & AI_NUMERICHOST))
		return numeric_host_error(q->host);
	for (i = 0; i < n; i++) {
		if (q->numeric_port &&
		    sock_addr_set_port(&out[i].addr, atoi(q->port)) < 0)
			return SOCK_ERESOLVE;
		if (!type_is_known(q->type)) {
			out[i].type = q->type;
			out[i].protocol = 0;
		}
	}
	return n;
}

static ssize_t resolve_inet(const char *text, int family, int type, int flags,
			    struct sock_addrinfo *out, size_t max,
			    int64_t deadline)
{
	struct inet_query q;
	ssize_t n;
	int err;

	err = query_prepare(&q, text, family, type, flags);
	if (err)
		return err;
	n = lookup(q.host, query_service(&q), &q.hints, out, max, deadline);
	return query_finish(&q, out, n);
}

ssize_t sock__resolve(const char *text, int family, int type, int flags,
		      struct sock_addrinfo *out, size_t max, int64_t deadline)
{
	if (max == 0)
		return -EINVAL;
	if (sock__addr_is_local_text(text))
		return resolve_local(text, family, type, out);
	return resolve_inet(text, family, type, flags, out, max, deadline);
}

/* ------------------------------------------------------------------ */
/* Both families at once (RFC 8305, section 3)                         */
/* ------------------------------------------------------------------ */

/* The lookup threads running beyond which no pair is started. */
#define LOOKUP_PAIR_THREADS_MAX 32

/* The order of the families in struct sock__lookups. */
static const int both_families[2] = { AF_INET6, AF_INET };

int sock__lookups_start(struct sock__lookups *b, const char *text, int type)
{
	struct inet_query q;
	struct lookup *l;
	int err, i;

	memset(b, 0, sizeof(*b));
	/* Many lookups still running (a name server that drops AAAA
	 * queries leaves one behind per connect won over IPv4): no more
	 * pairs, one lookup for both families within the deadline. */
	if (sock__addr_is_local_text(text) ||
	    atomic_load(&threads) >= LOOKUP_PAIR_THREADS_MAX)
		return 0;
	err = query_prepare(&q, text, AF_UNSPEC, type, 0);
	if (err)
		return err;
	if (q.hints.ai_flags & AI_NUMERICHOST)
		return 0;
	b->type = type;
	b->port = q.numeric_port ? atoi(q.port) : -1;
	for (i = 0; i < 2; i++) {
		q.hints.ai_family = both_families[i];
		l = lookup_new(q.host, query_service(&q), &q.hints);
		if (!l) {
			/* No room for a second lookup: one lookup, as for a
			 * literal, is the answer that costs nothing more. */
			sock__lookups_end(b);
			return 0;
		}
		b->pending[i] = l;
		b->started[i] = lookup_start(l, &b->tid[i]);
	}
	return 1;
}

int sock__lookups_family(int i)
{
	return both_families[i];
}

int sock__lookups_fd(const struct sock__lookups *b, int i)
{
	const struct lookup *l = b->pending[i];

	return l ? l->efd : -1;
}

ssize_t sock__lookups_take(struct sock__lookups *b, int i,
			   struct sock_addrinfo *out, size_t max)
{
	struct lookup *l = b->pending[i];
	struct inet_query q;
	ssize_t n;

	if (!l)
		return -EINVAL;
	if (!atomic_load_explicit(&l->done, memory_order_acquire))
		return -EAGAIN;
	n = l->eai ? sock__gai_error(l->eai, l->saved_errno)
		   : copy_results(l->res, out, max);
	if (b->started[i])
		pthread_join(b->tid[i], NULL);
	lookup_put(l);
	b->pending[i] = NULL;
	/* What query_finish needs of the query: its port and type. */
	memset(&q, 0, sizeof(q));
	q.type = b->type;
	q.numeric_port = b->port >= 0;
	snprintf(q.port, sizeof(q.port), "%d", b->port);
	return query_finish(&q, out, n);
}

void sock__lookups_end(struct sock__lookups *b)
{
	struct lookup *l;
	int i;

	for (i = 0; i < 2; i++) {
		l = b->pending[i];
		if (!l)
			continue;
		if (b->started[i] &&
		    atomic_load_explicit(&l->done, memory_order_acquire))
			pthread_join(b->tid[i], NULL);
		else if (b->started[i])
			pthread_detach(b->tid[i]);
		lookup_put(l);
		b->pending[i] = NULL;
	}
}

int sock_resolve(struct sock_addr *addr, const char *text, int type,
		 int timeout_ms)
{
	struct sock_addrinfo ai;
	ssize_t n;

	memset(addr, 0, sizeof(*addr));
	n = sock__resolve(text, AF_UNSPEC, type, 0, &ai, 1,
			  sock__deadline(timeout_ms));
	if (n < 0)
		return (int)n;
	*addr = ai.addr;
	return 0;
}

ssize_t sock_getaddrinfo(const char *host, const char *service, int family,
			 int type, int flags, struct sock_addrinfo *out,
			 size_t max, int timeout_ms)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = type,
		.ai_flags = flags,
	};

	if (max == 0)
		return -EINVAL;
	return lookup(host, service, &hints, out, max,
		      sock__deadline(timeout_ms));
}

static socklen_t clamp_len(size_t size)
{
	return size < UINT32_MAX ? (socklen_t)size : UINT32_MAX;
}

int sock_getnameinfo(const struct sock_addr *addr, int flags, char *host,
		     size_t hostsize, char *serv, size_t servsize)
{
	int eai;

	eai = getnameinfo(&addr->u.sa, addr->len, host,
			  host ? clamp_len(hostsize) : 0, serv,
			  serv ? clamp_len(servsize) : 0, flags);
	return sock__gai_error(eai, errno);
}

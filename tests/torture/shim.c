/* SPDX-License-Identifier: MIT */
/* shim.c -- fault injection for the torture build: call N of a function fails */

#include "shim.h"

#include <sock.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SOCK_HAVE_URING
#include <liburing.h>
/* sqe.h points the name at the shim; here it is liburing's own. */
#undef io_uring_get_sqe
#endif

/* How a function reports failure. */
enum how {
	HOW_ERRNO,    /* -1, NULL or MAP_FAILED, and errno */
	HOW_RETURN,   /* the error number itself (pthread_create) */
	HOW_NEGATIVE, /* -errno (liburing) */
	HOW_NULL,     /* NULL, no errno (liburing) */
	HOW_EAI,      /* an EAI_* code (getaddrinfo) */
};

/* The functions, in the order of struct fn fns[]. */
enum {
	F_MALLOC,
	F_CALLOC,
	F_REALLOC,
	F_MMAP,
	F_MREMAP,
	F_SOCKET,
	F_SOCKETPAIR,
	F_ACCEPT4,
	F_BIND,
	F_LISTEN,
	F_SETSOCKOPT,
	F_EPOLL_CREATE1,
	F_EPOLL_CTL,
	F_EVENTFD,
	F_SIGNALFD,
	F_OPEN,
	F_FCNTL_DUPFD,
	F_PIDFD_OPEN,
	F_PTHREAD_CREATE,
	F_FORK,
	F_GETADDRINFO,
	F_URING_INIT,
	F_URING_PROBE,
	F_URING_BUF_RING,
	F_URING_GET_SQE,
	F_URING_SUBMIT,
	F_URING_SUBMIT_GET,
	F_URING_SUBMIT_WAIT,
	F_URING_SUBMIT_TIMEOUT,
	F_SSL_CTX_NEW,
	F_SSL_NEW,
	F_BIO_NEW,
	F_BIO_METH_NEW,
	F_COUNT,
};

struct fn {
	const char *name;
	enum how how;
	int err; /* what it fails with when the environment names none */
};

/* The usual error of each: what the kernel or library says when the
 * resource runs out, the commonest way each of them fails in service. */
static const struct fn fns[F_COUNT] = {
	[F_MALLOC] = { "malloc", HOW_ERRNO, ENOMEM },
	[F_CALLOC] = { "calloc", HOW_ERRNO, ENOMEM },
	[F_REALLOC] = { "realloc", HOW_ERRNO, ENOMEM },
	[F_MMAP] = { "mmap", HOW_ERRNO, ENOMEM },
	[F_MREMAP] = { "mremap", HOW_ERRNO, ENOMEM },
	[F_SOCKET] = { "socket", HOW_ERRNO, EMFILE },
	[F_SOCKETPAIR] = { "socketpair", HOW_ERRNO, EMFILE },
	[F_ACCEPT4] = { "accept4", HOW_ERRNO, EMFILE },
	[F_BIND] = { "bind", HOW_ERRNO, EADDRINUSE },
	[F_LISTEN] = { "listen", HOW_ERRNO, EADDRINUSE },
	[F_SETSOCKOPT] = { "setsockopt", HOW_ERRNO, ENOPROTOOPT },
	[F_EPOLL_CREATE1] = { "epoll_create1", HOW_ERRNO, EMFILE },
	[F_EPOLL_CTL] = { "epoll_ctl", HOW_ERRNO, ENOMEM },
	[F_EVENTFD] = { "eventfd", HOW_ERRNO, EMFILE },
	[F_SIGNALFD] = { "signalfd", HOW_ERRNO, EMFILE },
	[F_OPEN] = { "open", HOW_ERRNO, EMFILE },
	[F_FCNTL_DUPFD] = { "fcntl_dupfd", HOW_ERRNO, EMFILE },
	[F_PIDFD_OPEN] = { "pidfd_open", HOW_ERRNO, EMFILE },
	[F_PTHREAD_CREATE] = { "pthread_create", HOW_RETURN, EAGAIN },
	[F_FORK] = { "fork", HOW_ERRNO, EAGAIN },
	[F_GETADDRINFO] = { "getaddrinfo", HOW_EAI, EAI_MEMORY },
	[F_URING_INIT] = { "io_uring_queue_init_params", HOW_NEGATIVE, ENOMEM },
	[F_URING_PROBE] = { "io_uring_get_probe_ring", HOW_NULL, 0 },
	[F_URING_BUF_RING] = { "io_uring_register_buf_ring", HOW_NEGATIVE,
			       ENOMEM },
	/* A full submission queue that cannot be flushed either: the
	 * io_uring_submit the library tries next fails with err (EBUSY: the
	 * completion queue overflows).  Err 0: only the queue is full. */
	[F_URING_GET_SQE] = { "io_uring_get_sqe", HOW_NULL, EBUSY },
	[F_URING_SUBMIT] = { "io_uring_submit", HOW_NEGATIVE, EAGAIN },
	[F_URING_SUBMIT_GET] = { "io_uring_submit_and_get_events", HOW_NEGATIVE,
				 EAGAIN },
	[F_URING_SUBMIT_WAIT] = { "io_uring_submit_and_wait", HOW_NEGATIVE,
				  EAGAIN },
	[F_URING_SUBMIT_TIMEOUT] = { "io_uring_submit_and_wait_timeout",
				     HOW_NEGATIVE, EAGAIN },
	/* OpenSSL's constructors: NULL when its allocations fail. */
	[F_SSL_CTX_NEW] = { "SSL_CTX_new", HOW_NULL, ENOMEM },
	[F_SSL_NEW] = { "SSL_new", HOW_NULL, ENOMEM },
	[F_BIO_NEW] = { "BIO_new", HOW_NULL, ENOMEM },
	[F_BIO_METH_NEW] = { "BIO_meth_new", HOW_NULL, ENOMEM },
};

/* Error names TORTURE_FAIL may give. */
static const struct {
	const char *name;
	int value;
} err_names[] = {
	{ "0", 0 },
	{ "ENOMEM", ENOMEM },
	{ "EMFILE", EMFILE },
	{ "ENFILE", ENFILE },
	{ "ENOBUFS", ENOBUFS },
	{ "ENOSPC", ENOSPC },
	{ "EAGAIN", EAGAIN },
	{ "EBUSY", EBUSY },
	{ "EINTR", EINTR },
	{ "EPERM", EPERM },
	{ "EADDRINUSE", EADDRINUSE },
	{ "ENOPROTOOPT", ENOPROTOOPT },
	{ "EAI_MEMORY", EAI_MEMORY },
	{ "EAI_AGAIN", EAI_AGAIN },
	{ "EAI_FAIL", EAI_FAIL },
};

/* Set once by torture_start, before the scenario makes threads. */
static pid_t armed_pid;
static int target = -1;
static unsigned long target_call;
static int target_err;

static atomic_ulong calls[F_COUNT];
static atomic_bool fired;
/* The failed io_uring_get_sqe's thread: its next submit fails too. */
static _Thread_local bool sqe_stuck;

static const char *err_name(int value)
{
	size_t i;

	for (i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
		if (err_names[i].value == value)
			return err_names[i].name;
	return "?";
}

static int parse_fail(const char *spec)
{
	char name[64], errtext[32] = "";
	size_t i;
	int n;

	n = sscanf(spec, "%63[^:]:%lu:%31s", name, &target_call, errtext);
	if (n < 2 || target_call == 0)
		return -1;
	for (i = 0; i < F_COUNT; i++)
		if (!strcmp(fns[i].name, name))
			target = (int)i;
	if (target < 0)
		return -1;
	target_err = fns[target].err;
	if (n < 3)
		return 0;
	for (i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++) {
		if (!strcmp(err_names[i].name, errtext)) {
			target_err = err_names[i].value;
			return 0;
		}
	}
	return -1;
}

int torture_start(void)
{
	const char *spec = getenv("TORTURE_FAIL");

	if (spec && *spec && parse_fail(spec)) {
		fprintf(stderr, "torture: bad TORTURE_FAIL '%s'\n", spec);
		return -1;
	}
	armed_pid = getpid();
	return 0;
}

/* The sanitizer runtime's: where the failed call was made, for the log. */
void __sanitizer_print_stack_trace(void);

/* Count a call of f; true if it is the one to fail. */
static bool fail_now(int f)
{
	unsigned long n;

	if (!armed_pid || getpid() != armed_pid)
		return false;
	n = atomic_fetch_add(&calls[f], 1) + 1;
	if (f != target || n != target_call)
		return false;
	atomic_store(&fired, true);
	if (getenv("TORTURE_TRACE")) {
		fprintf(stderr, "torture: failing call %lu of %s here:\n", n,
			fns[f].name);
		__sanitizer_print_stack_trace();
	}
	return true;
}

bool torture_fired(void)
{
	return atomic_load(&fired);
}

const char *torture_target(void)
{
	return target >= 0 ? fns[target].name : NULL;
}

int torture_code(void)
{
	if (!torture_fired())
		return 0;
	switch (fns[target].how) {
	case HOW_EAI:
		return target_err == EAI_MEMORY	 ? -ENOMEM
		       : target_err == EAI_AGAIN ? SOCK_ETRYAGAIN
		       : target_err == EAI_FAIL	 ? SOCK_ENORECOVERY
						 : SOCK_ERESOLVE;
	case HOW_NULL:
		/* The library's word for a ring it cannot use. */
		return target == F_URING_PROBE ? -ENOSYS : -target_err;
	default:
		return -target_err;
	}
}

bool torture_code_ok(int code)
{
	if (!torture_fired() || code == 0)
		return false;
	if (code == torture_code())
		return true;
	/* No submission queue entry has no errno of its own: the library
	 * documents -ENOMEM for it (-ENOBUFS for a datagram reply). */
	return target == F_URING_GET_SQE && target_err &&
	       (code == -ENOMEM || code == -ENOBUFS);
}

void torture_report(FILE *out)
{
	size_t i;

	for (i = 0; i < F_COUNT; i++)
		if (atomic_load(&calls[i]))
			fprintf(out, "torture: calls %s %lu\n", fns[i].name,
				atomic_load(&calls[i]));
	if (target < 0)
		return;
	if (torture_fired())
		fprintf(out, "torture: fired %s %lu %s\n", fns[target].name,
			target_call, err_name(target_err));
	else
		fprintf(out, "torture: not fired %s %lu\n", fns[target].name,
			target_call);
}

/* ---- the wrappers: torture_F stands for F in libsock's objects ---- */

/* Fail the way f does: -1 with errno. */
#define FAIL_ERRNO(f, ret)                                                     \
	do {                                                                   \
		if (fail_now(f)) {                                             \
			errno = target_err;                                    \
			return ret;                                            \
		}                                                              \
	} while (0)

void *torture_malloc(size_t size);
void *torture_malloc(size_t size)
{
	FAIL_ERRNO(F_MALLOC, NULL);
	return malloc(size);
}

void *torture_calloc(size_t n, size_t size);
void *torture_calloc(size_t n, size_t size)
{
	FAIL_ERRNO(F_CALLOC, NULL);
	return calloc(n, size);
}

void *torture_realloc(void *p, size_t size);
void *torture_realloc(void *p, size_t size)
{
	FAIL_ERRNO(F_REALLOC, NULL);
	return realloc(p, size);
}

void *torture_mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t off);
void *torture_mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t off)
{
	FAIL_ERRNO(F_MMAP, MAP_FAILED);
	return mmap(addr, len, prot, flags, fd, off);
}

void *torture_mremap(void *old, size_t old_len, size_t new_len, int flags, ...);
void *torture_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	FAIL_ERRNO(F_MREMAP, MAP_FAILED);
	/* The library never asks for a fixed new address (the fifth
	 * argument, with MREMAP_FIXED). */
	return mremap(old, old_len, new_len, flags);
}

int torture_socket(int domain, int type, int protocol);
int torture_socket(int domain, int type, int protocol)
{
	FAIL_ERRNO(F_SOCKET, -1);
	return socket(domain, type, protocol);
}

int torture_socketpair(int domain, int type, int protocol, int fds[2]);
int torture_socketpair(int domain, int type, int protocol, int fds[2])
{
	FAIL_ERRNO(F_SOCKETPAIR, -1);
	return socketpair(domain, type, protocol, fds);
}

int torture_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int torture_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	FAIL_ERRNO(F_ACCEPT4, -1);
	return accept4(fd, addr, len, flags);
}

int torture_bind(int fd, const struct sockaddr *addr, socklen_t len);
int torture_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	FAIL_ERRNO(F_BIND, -1);
	return bind(fd, addr, len);
}

int torture_listen(int fd, int backlog);
int torture_listen(int fd, int backlog)
{
	FAIL_ERRNO(F_LISTEN, -1);
	return listen(fd, backlog);
}

int torture_setsockopt(int fd, int level, int name, const void *value,
		       socklen_t len);
int torture_setsockopt(int fd, int level, int name, const void *value,
		       socklen_t len)
{
	FAIL_ERRNO(F_SETSOCKOPT, -1);
	return setsockopt(fd, level, name, value, len);
}

int torture_epoll_create1(int flags);
int torture_epoll_create1(int flags)
{
	FAIL_ERRNO(F_EPOLL_CREATE1, -1);
	return epoll_create1(flags);
}

int torture_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int torture_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	/* Removing never fails for want of anything. */
	if (op != EPOLL_CTL_DEL)
		FAIL_ERRNO(F_EPOLL_CTL, -1);
	return epoll_ctl(epfd, op, fd, ev);
}

int torture_eventfd(unsigned int value, int flags);
int torture_eventfd(unsigned int value, int flags)
{
	FAIL_ERRNO(F_EVENTFD, -1);
	return eventfd(value, flags);
}

int torture_signalfd(int fd, const sigset_t *mask, int flags);
int torture_signalfd(int fd, const sigset_t *mask, int flags)
{
	FAIL_ERRNO(F_SIGNALFD, -1);
	return signalfd(fd, mask, flags);
}

int torture_open(const char *path, int flags, ...);
int torture_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	FAIL_ERRNO(F_OPEN, -1);
	return open(path, flags, mode);
}

/* Only the commands that make a descriptor can run out of them. */
int torture_fcntl(int fd, int cmd, ...);
int torture_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *p;
	int v;

	va_start(ap, cmd);
	switch (cmd) {
	case F_GETFD:
	case F_GETFL:
		va_end(ap);
		return fcntl(fd, cmd);
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
	case F_SETFD:
	case F_SETFL:
		v = va_arg(ap, int);
		va_end(ap);
		if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
			FAIL_ERRNO(F_FCNTL_DUPFD, -1);
		return fcntl(fd, cmd, v);
	default:
		p = va_arg(ap, void *);
		va_end(ap);
		return fcntl(fd, cmd, p);
	}
}

/* libsock makes one system call by number: pidfd_open. */
long torture_syscall(long nr, ...);
long torture_syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
#ifdef SYS_pidfd_open
	if (nr == SYS_pidfd_open)
		FAIL_ERRNO(F_PIDFD_OPEN, -1);
#endif
	return syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int torture_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			   void *(*fn)(void *), void *arg);
int torture_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			   void *(*fn)(void *), void *arg)
{
	if (fail_now(F_PTHREAD_CREATE))
		return target_err;
	return pthread_create(t, attr, fn, arg);
}

pid_t torture_fork(void);
pid_t torture_fork(void)
{
	FAIL_ERRNO(F_FORK, -1);
	return fork();
}

int torture_getaddrinfo(const char *host, const char *serv,
			const struct addrinfo *hints, struct addrinfo **res);
int torture_getaddrinfo(const char *host, const char *serv,
			const struct addrinfo *hints, struct addrinfo **res)
{
	if (fail_now(F_GETADDRINFO))
		return target_err;
	return getaddrinfo(host, serv, hints, res);
}

SSL_CTX *torture_SSL_CTX_new(const SSL_METHOD *method);
SSL_CTX *torture_SSL_CTX_new(const SSL_METHOD *method)
{
	return fail_now(F_SSL_CTX_NEW) ? NULL : SSL_CTX_new(method);
}

SSL *torture_SSL_new(SSL_CTX *ctx);
SSL *torture_SSL_new(SSL_CTX *ctx)
{
	return fail_now(F_SSL_NEW) ? NULL : SSL_new(ctx);
}

BIO *torture_BIO_new(const BIO_METHOD *type);
BIO *torture_BIO_new(const BIO_METHOD *type)
{
	return fail_now(F_BIO_NEW) ? NULL : BIO_new(type);
}

BIO_METHOD *torture_BIO_meth_new(int type, const char *name);
BIO_METHOD *torture_BIO_meth_new(int type, const char *name)
{
	return fail_now(F_BIO_METH_NEW) ? NULL : BIO_meth_new(type, name);
}

#ifdef SOCK_HAVE_URING

int torture_io_uring_queue_init_params(unsigned int entries,
				       struct io_uring *ring,
				       struct io_uring_params *p);
int torture_io_uring_queue_init_params(unsigned int entries,
				       struct io_uring *ring,
				       struct io_uring_params *p)
{
	if (fail_now(F_URING_INIT))
		return -target_err;
	return io_uring_queue_init_params(entries, ring, p);
}

struct io_uring_probe *torture_io_uring_get_probe_ring(struct io_uring *ring);
struct io_uring_probe *torture_io_uring_get_probe_ring(struct io_uring *ring)
{
	if (fail_now(F_URING_PROBE))
		return NULL;
	return io_uring_get_probe_ring(ring);
}

int torture_io_uring_register_buf_ring(struct io_uring *ring,
				       struct io_uring_buf_reg *reg,
				       unsigned int flags);
int torture_io_uring_register_buf_ring(struct io_uring *ring,
				       struct io_uring_buf_reg *reg,
				       unsigned int flags)
{
	if (fail_now(F_URING_BUF_RING))
		return -target_err;
	return io_uring_register_buf_ring(ring, reg, flags);
}

/* io_uring_get_sqe is inline in liburing.h: sqe.h, included first in
 * the library's files, makes its calls come here. */
struct io_uring_sqe *torture_io_uring_get_sqe(struct io_uring *ring);
struct io_uring_sqe *torture_io_uring_get_sqe(struct io_uring *ring)
{
	if (fail_now(F_URING_GET_SQE)) {
		sqe_stuck = target_err != 0;
		return NULL;
	}
	return io_uring_get_sqe(ring);
}

/* A submit fails when chosen, or after a chosen io_uring_get_sqe. */
static bool submit_fails(int f, int *err)
{
	bool stuck = sqe_stuck;

	sqe_stuck = false;
	if (fail_now(f) || stuck) {
		*err = -target_err;
		return true;
	}
	return false;
}

int torture_io_uring_submit(struct io_uring *ring);
int torture_io_uring_submit(struct io_uring *ring)
{
	int err;

	if (submit_fails(F_URING_SUBMIT, &err))
		return err;
	return io_uring_submit(ring);
}

int torture_io_uring_submit_and_get_events(struct io_uring *ring);
int torture_io_uring_submit_and_get_events(struct io_uring *ring)
{
	int err;

	if (submit_fails(F_URING_SUBMIT_GET, &err))
		return err;
	return io_uring_submit_and_get_events(ring);
}

int torture_io_uring_submit_and_wait(struct io_uring *ring,
				     unsigned int wait_nr);
int torture_io_uring_submit_and_wait(struct io_uring *ring,
				     unsigned int wait_nr)
{
	int err;

	if (submit_fails(F_URING_SUBMIT_WAIT, &err))
		return err;
	return io_uring_submit_and_wait(ring, wait_nr);
}

int torture_io_uring_submit_and_wait_timeout(struct io_uring *ring,
					     struct io_uring_cqe **cqe,
					     unsigned int wait_nr,
					     struct __kernel_timespec *ts,
					     sigset_t *sigmask);
int torture_io_uring_submit_and_wait_timeout(struct io_uring *ring,
					     struct io_uring_cqe **cqe,
					     unsigned int wait_nr,
					     struct __kernel_timespec *ts,
					     sigset_t *sigmask)
{
	int err;

	if (submit_fails(F_URING_SUBMIT_TIMEOUT, &err))
		return err;
	return io_uring_submit_and_wait_timeout(ring, cqe, wait_nr, ts,
						sigmask);
}

#endif /* SOCK_HAVE_URING */

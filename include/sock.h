/* SPDX-License-Identifier: MIT */
/* sock.h -- libsock: Python's socket module for C, and a server framework */

/*
 * libsock gives C the ergonomics of Python's socket module: addresses as
 * text ("host:port", "[::1]:7", "/run/x.sock", "@abstract"), timeouts that
 * belong to the socket, sends that never raise SIGPIPE, receives that can
 * allocate their buffer, and one error convention throughout.
 *
 * Conventions, valid for every function declared here unless its comment
 * says otherwise:
 *
 *  - Errors.  A function returns 0 (or a count) on success and a negative
 *    code on failure: a negative errno (-ECONNREFUSED, -ETIMEDOUT, ...) or
 *    one of the SOCK_E* codes below for failures that have no errno (bad
 *    address text, unknown host).  sock_strerror() names any code.  Nothing
 *    here sets or relies on errno, prints, or exits.
 *
 *  - Time.  A timeout is in milliseconds with Python's meanings:
 *    SOCK_FOREVER (-1) waits as long as it takes, 0 never waits (the call
 *    returns -EAGAIN instead of blocking), n > 0 bounds the WHOLE call --
 *    every retry, partial send, name lookup and resolved address included
 *    -- after which it returns -ETIMEDOUT.  EINTR is retried inside.  A
 *    timeout of 0 applies to socket operations, not to the name lookup:
 *    a host name is then looked up without a bound, as with SOCK_FOREVER.
 *
 *  - Descriptors are non-blocking and close-on-exec from birth; blocking
 *    calls wait with poll(2).  Sends use MSG_NOSIGNAL.  A zero-length
 *    datagram is data, not end of stream; a stream receive of 0 is end of
 *    stream.
 *
 *  - Ownership.  struct sock and struct sock_addr are small values in the
 *    caller's storage.  Buffers passed in are borrowed for the duration of
 *    the call.  Strings are written into caller buffers of a given size.
 *
 * The server framework (struct sock_server, struct sock_loop) is declared
 * in <sock/server.h>, included at the end of this file.
 */

#ifndef SOCK_H
#define SOCK_H

/*
 * What using libsock needs, so a program includes <sock.h> alone: the
 * error codes it returns negated (<errno.h>: -ETIMEDOUT), and the TCP
 * option names sock_setsockopt() takes (<netinet/tcp.h>: TCP_NODELAY).
 * <netinet/tcp.h> and the kernel's <linux/tcp.h> (for the whole struct
 * tcp_info) cannot both be included: a program that wants the latter
 * includes it before <sock.h>, which then leaves the former out (the
 * option names are in both).
 */
#include <errno.h>
#ifndef _LINUX_TCP_H
#include <netinet/tcp.h>
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every declaration below is part of the shared library's interface. */
#pragma GCC visibility push(default)

#define SOCK_VERSION_MAJOR 0
#define SOCK_VERSION_MINOR 2
#define SOCK_VERSION_PATCH 0
#define SOCK_VERSION_STRING "0.2.0"

/* The version of the library actually linked, e.g. "0.2.0". */
const char *sock_version(void);

#if defined(__GNUC__) || defined(__clang__)
#define SOCK_WUR __attribute__((warn_unused_result))
#else
#define SOCK_WUR
#endif

/* Wait as long as it takes (Python's timeout None). */
#define SOCK_FOREVER (-1)

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * Failures that have no errno.  They lie far below any errno value, so a
 * caller can tell them apart with a plain comparison.  The resolver codes
 * correspond to Python's socket.gaierror and socket.herror.
 */
enum sock_error {
	SOCK_EBADADDR = -3000,	  /* address text is malformed */
	SOCK_ENONAME = -3001,	  /* host or service not known */
	SOCK_ETRYAGAIN = -3002,	  /* temporary failure in name resolution */
	SOCK_ENORECOVERY = -3003, /* non-recoverable resolver failure */
	SOCK_ENODATA = -3004,	  /* host has no address of that family */
	SOCK_ESERVICE = -3005,	  /* service not available for socket type */
	SOCK_ERESOLVE = -3006,	  /* any other resolver failure */
	SOCK_EEOF = -3007,	  /* stream ended before the data expected */
	SOCK_ETRUNC = -3008,	  /* datagram larger than the buffer given */
	SOCK_ETLS = -3009,	  /* TLS handshake or protocol failure */
	SOCK_ECERT = -3010,	  /* peer's certificate failed verification */
	SOCK_ETLSEOF = -3011,	  /* stream cut without TLS close_notify */
};

/*
 * A short lower-case description of code: a negative errno, a SOCK_E*
 * code, or 0 ("success").  Never NULL, never allocates, thread-safe; an
 * unknown code gives "unknown error".
 */
const char *sock_strerror(int code);

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

/*
 * A socket address of any family, as a value.  len is the number of bytes
 * of u in use (0: no address).  Fill one with sock_addr_parse(),
 * sock_resolve(), sock_addr_from_sockaddr(), or from a call that reports
 * an address (sock_accept, sock_recvfrom, sock_getpeername ...).
 */
struct sock_addr {
	socklen_t len;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_un un;
		struct sockaddr_ll ll;
		struct sockaddr_storage storage;
	} u;
};

/*
 * Room for the text of any address sock_addr_format() writes, with its
 * terminating NUL.
 */
#define SOCK_ADDR_STRLEN 448

/*
 * The address grammar, shared by every function that takes address text:
 *
 *   1.2.3.4:80             IPv4 and a port (0-65535)
 *   :80                    the wildcard address (0.0.0.0) and a port
 *   [::1]:80               IPv6, always in brackets
 *   [fe80::1%eth0]:7       IPv6 with a scope: interface name or index
 *   /run/x.sock ./x.sock   a Unix socket path: any text containing '/'
 *   unix:x.sock            a Unix socket path written explicitly
 *   unix:                  the unnamed Unix address (binding it autobinds)
 *   @name                  a Linux abstract Unix name; \xNN stands for any
 *                          byte, \\ for a backslash
 *   packet:eth0            AF_PACKET: an interface, all protocols
 *   packet:eth0:0x0800     ... and an ethertype (hex 0x.. or decimal)
 *   packet:eth0:0x88b5:02:00:00:00:00:01
 *                          ... and a hardware address (for sendto)
 *
 * Functions that resolve (sock_resolve, sock_connect, sock_listen,
 * sock_bind, sock_connect_to) also accept a host name or "localhost" in
 * place of the numeric host, and a service name ("echo") in place of the
 * port number.
 */

/*
 * Parse numeric address text into addr; nothing is resolved and no I/O is
 * done, except looking up an interface name (scope or packet address).
 * Returns 0, SOCK_EBADADDR for text that does not follow the grammar
 * (empty, a missing or out-of-range port, an unclosed bracket, a Unix path
 * too long for sun_path, a host name), or -ENODEV for an unknown
 * interface.  addr is cleared on failure.
 */
int sock_addr_parse(struct sock_addr *addr, const char *text) SOCK_WUR;

/*
 * Like sock_addr_parse() for text of len bytes that need not be
 * NUL-terminated; text holding a NUL byte is SOCK_EBADADDR.
 */
int sock_addr_parsen(struct sock_addr *addr, const char *text,
		     size_t len) SOCK_WUR;

/*
 * Write addr as text into buf of size bytes, in the grammar above, so that
 * sock_addr_parse() reads it back to an equal address.  Returns the length
 * written (without the NUL), -ENOSPC if buf is too small (buf then holds a
 * truncated, terminated string when size > 0), or -EAFNOSUPPORT for a
 * family the grammar lacks.  An empty address (len 0) is written as "-".
 */
int sock_addr_format(const struct sock_addr *addr, char *buf, size_t size);

/*
 * Python's (host, port) pair from "host:port" or "[v6]:port" text, without
 * resolving: host (brackets removed, possibly empty for the wildcard) and
 * port (a number or a service name) are written, NUL-terminated, into
 * their buffers.  Returns 0, or SOCK_EBADADDR for text of another form (no
 * port, an unclosed bracket, an IPv6 address without brackets, a Unix or
 * packet address) or parts longer than their buffers.
 */
int sock_addr_split(const char *text, char *host, size_t hostsize, char *port,
		    size_t portsize) SOCK_WUR;

/*
 * Copy len bytes of a raw sockaddr into addr.  Returns 0, or -EINVAL when
 * len is 0 or larger than struct sockaddr_storage.
 */
int sock_addr_from_sockaddr(struct sock_addr *addr, const struct sockaddr *sa,
			    socklen_t len) SOCK_WUR;

/* The address family (AF_INET, AF_INET6, AF_UNIX, AF_PACKET), or AF_UNSPEC
 * for an empty address. */
int sock_addr_family(const struct sock_addr *addr);

/* The port of an IPv4 or IPv6 address, or -EAFNOSUPPORT for other families. */
int sock_addr_port(const struct sock_addr *addr);

/* Set the port of an IPv4 or IPv6 address.  Returns 0, -EINVAL for a port
 * outside 0-65535, or -EAFNOSUPPORT. */
int sock_addr_set_port(struct sock_addr *addr, int port) SOCK_WUR;

/* True for 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, and every Unix address:
 * addresses that cannot be reached from another machine. */
bool sock_addr_is_loopback(const struct sock_addr *addr);

/* True when a and b hold the same family, host, port (and scope), or the
 * same Unix path or name. */
bool sock_addr_is_equal(const struct sock_addr *a, const struct sock_addr *b);

/* True when a and b are IP addresses of the same host, ports ignored; an
 * IPv4-mapped IPv6 address matches its IPv4 form. */
bool sock_addr_is_same_host(const struct sock_addr *a,
			    const struct sock_addr *b);

/*
 * Rewrite an IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack
 * listener reports IPv4 peers) as the plain IPv4 address, keeping the
 * port.  Returns true if addr was rewritten.
 */
bool sock_addr_unmap(struct sock_addr *addr);

/* ------------------------------------------------------------------ */
/* Name resolution and network information                            */
/* ------------------------------------------------------------------ */

/*
 * Resolve "host:port" text (the grammar above, with names allowed) into the
 * first address the resolver gives for a socket of type (SOCK_STREAM,
 * SOCK_DGRAM, or 0 for any).  Numeric text is parsed without a lookup.
 * timeout_ms bounds the lookup (0 does not: a name is then looked up
 * without a bound, as with SOCK_FOREVER).  Returns 0, a resolver code
 * (SOCK_ENONAME ...), SOCK_EBADADDR, or -ETIMEDOUT.
 */
int sock_resolve(struct sock_addr *addr, const char *text, int type,
		 int timeout_ms) SOCK_WUR;

/* One result of sock_getaddrinfo(): Python's (family, type, proto, addr). */
struct sock_addrinfo {
	int family;
	int type;
	int protocol;
	struct sock_addr addr;
};

/*
 * Python's getaddrinfo(): look up host (a name or numeric address, NULL
 * for the wildcard or, without AI_PASSIVE in flags, the loopback address)
 * and service (a port number or name, NULL for port 0), limited to family
 * (AF_UNSPEC for any) and type (0 for any), with AI_* flags.  Writes at
 * most max results to out in the resolver's order and returns how many it
 * wrote (at least 1), or a resolver code, -ETIMEDOUT when timeout_ms
 * passes first, or -ENOMEM.
 */
ssize_t sock_getaddrinfo(const char *host, const char *service, int family,
			 int type, int flags, struct sock_addrinfo *out,
			 size_t max, int timeout_ms) SOCK_WUR;

/*
 * Python's getnameinfo(): the host and service of addr as text, with NI_*
 * flags; host or serv may be NULL when not wanted.  Returns 0 or a
 * resolver code.
 */
int sock_getnameinfo(const struct sock_addr *addr, int flags, char *host,
		     size_t hostsize, char *serv, size_t servsize) SOCK_WUR;

/* The longest host name the functions below write, with its NUL. */
#define SOCK_HOSTNAME_MAX 256
/* How many aliases and addresses a struct sock_hostent keeps. */
#define SOCK_HOSTENT_MAX 16

/*
 * Python's (hostname, aliaslist, ipaddrlist) triple.  Addresses carry port
 * 0; results beyond SOCK_HOSTENT_MAX are dropped.
 */
struct sock_hostent {
	char name[SOCK_HOSTNAME_MAX];
	size_t naliases;
	char aliases[SOCK_HOSTENT_MAX][SOCK_HOSTNAME_MAX];
	size_t naddrs;
	struct sock_addr addrs[SOCK_HOSTENT_MAX];
};

/* Python's gethostname(): this machine's host name.  Returns 0 or
 * -ENAMETOOLONG. */
int sock_gethostname(char *buf, size_t size) SOCK_WUR;

/* Python's sethostname() (needs CAP_SYS_ADMIN).  Returns 0 or -errno. */
int sock_sethostname(const char *name) SOCK_WUR;

/*
 * Python's getfqdn(): the fully qualified name of name (this host when
 * name is NULL or empty), or name itself when nothing better is known.
 * Returns 0 or -ENAMETOOLONG.
 */
int sock_getfqdn(const char *name, char *buf, size_t size) SOCK_WUR;

/*
 * Python's gethostbyname(), IPv6-capable: the first address of name as
 * text (no port), for family AF_INET (Python's behaviour), AF_INET6, or
 * AF_UNSPEC (whichever the resolver prefers).  A numeric name is returned
 * unchanged.  Returns 0 or a resolver code.
 */
int sock_gethostbyname(const char *name, int family, char *buf,
		       size_t size) SOCK_WUR;

/* Python's gethostbyname_ex(), for family AF_INET, AF_INET6 or AF_UNSPEC
 * (both merged: IPv4 addresses first).  Returns 0 or a resolver code. */
int sock_gethostbyname_ex(const char *name, int family,
			  struct sock_hostent *out) SOCK_WUR;

/* Python's gethostbyaddr(): addr is a numeric address (IPv4 or IPv6) or a
 * host name.  Returns 0 or a resolver code. */
int sock_gethostbyaddr(const char *addr, struct sock_hostent *out) SOCK_WUR;

/* Python's getservbyname(): the port of service name for proto ("tcp",
 * "udp" or NULL for either).  Returns the port or SOCK_ENONAME. */
int sock_getservbyname(const char *name, const char *proto) SOCK_WUR;

/* Python's getservbyport(): the name of port for proto ("tcp", "udp" or
 * NULL).  Returns 0, SOCK_ENONAME, -EINVAL or -ENAMETOOLONG. */
int sock_getservbyport(int port, const char *proto, char *buf,
		       size_t size) SOCK_WUR;

/* Python's getprotobyname(): the number of protocol name ("icmp", "tcp").
 * Returns the number or SOCK_ENONAME. */
int sock_getprotobyname(const char *name) SOCK_WUR;

/*
 * inet_pton()/inet_ntop() with this library's errors: pton writes the
 * binary address (struct in_addr or struct in6_addr) for AF_INET or
 * AF_INET6 text and returns 0, SOCK_EBADADDR or -EAFNOSUPPORT; ntop writes
 * the text and returns its length, -ENOSPC or -EAFNOSUPPORT.
 */
int sock_inet_pton(int family, const char *text, void *out) SOCK_WUR;
int sock_inet_ntop(int family, const void *in, char *buf, size_t size);

/* Python's inet_aton(): the old forms too ("127.1", "0x7f.1").  Returns 0
 * or SOCK_EBADADDR.  sock_inet_ntoa writes dotted quad text and returns its
 * length or -ENOSPC. */
int sock_inet_aton(const char *text, struct in_addr *out) SOCK_WUR;
int sock_inet_ntoa(struct in_addr in, char *buf, size_t size);

/* if_nametoindex(): the index of interface name, or -ENODEV. */
int sock_if_nametoindex(const char *name);

/* if_indextoname(): the name of interface index into buf (IF_NAMESIZE
 * bytes suffice).  Returns 0, -ENXIO or -ENOSPC. */
int sock_if_indextoname(unsigned int index, char *buf, size_t size) SOCK_WUR;

/* One entry of sock_if_nameindex(). */
struct sock_ifname {
	unsigned int index;
	char name[IF_NAMESIZE];
};

/* Python's if_nameindex(): writes up to max interfaces and returns how many
 * there are (which may exceed max), or -errno. */
int sock_if_nameindex(struct sock_ifname *out, size_t max) SOCK_WUR;

/* Python's has_ipv6: whether an IPv6 socket can be bound to ::1. */
bool sock_has_ipv6(void);

/* Python's has_dualstack_ipv6(): whether an IPv6 socket can also accept
 * IPv4 (IPV6_V6ONLY can be cleared). */
bool sock_has_dualstack_ipv6(void);

/*
 * Network byte order in a buffer: Python's struct "!H", "!I", "!Q".  (The
 * integer forms htons, htonl, ntohs, ntohl come from <arpa/inet.h>.)
 */
static inline uint16_t sock_get_be16(const void *p)
{
	const unsigned char *b = (const unsigned char *)p;

	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t sock_get_be32(const void *p)
{
	const unsigned char *b = (const unsigned char *)p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static inline uint64_t sock_get_be64(const void *p)
{
	const unsigned char *b = (const unsigned char *)p;

	return (uint64_t)sock_get_be32(b) << 32 | sock_get_be32(b + 4);
}

static inline void sock_put_be16(void *p, uint16_t v)
{
	unsigned char *b = (unsigned char *)p;

	b[0] = (unsigned char)(v >> 8);
	b[1] = (unsigned char)v;
}

static inline void sock_put_be32(void *p, uint32_t v)
{
	unsigned char *b = (unsigned char *)p;

	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

static inline void sock_put_be64(void *p, uint64_t v)
{
	sock_put_be32(p, (uint32_t)(v >> 32));
	sock_put_be32((unsigned char *)p + 4, (uint32_t)v);
}

/* ------------------------------------------------------------------ */
/* Sockets                                                             */
/* ------------------------------------------------------------------ */

/*
 * A socket: a descriptor and what Python's socket object knows about it.
 * Read the fields freely; change them only through the functions below.
 * fd is -1 when the socket is closed.  A new socket is in blocking mode
 * (timeout_ms SOCK_FOREVER), as in Python, though its descriptor is
 * non-blocking: the library waits with poll().
 */
struct sock {
	int fd;
	int family;
	int type;
	int protocol;
	int timeout_ms;
	struct sock_tls *tls; /* TLS state (sock_tls_wrap), or NULL */
};

/* A closed socket, for initialising storage. */
#define SOCK_CLOSED                                                            \
	{                                                                      \
		.fd = -1, .family = 0, .type = 0, .protocol = 0,               \
		.timeout_ms = SOCK_FOREVER, .tls = NULL                        \
	}

/*
 * Python's socket(family, type, proto): a new unconnected socket.  type
 * may carry no SOCK_NONBLOCK or SOCK_CLOEXEC (they are always set).
 * Returns 0 or -errno (-EAFNOSUPPORT, -EPERM for raw sockets without the
 * privilege ...).  s is closed on failure.
 */
int sock_open(struct sock *s, int family, int type, int protocol) SOCK_WUR;

/*
 * Python's fromfd(): a socket on a duplicate of descriptor fd (the caller
 * keeps fd), with its family, type and protocol read from the kernel.  The
 * duplicate is close-on-exec and non-blocking -- and O_NONBLOCK belongs to
 * the open file description, which the duplicate shares: fd and every
 * other descriptor of that socket, in this process or another (an inetd
 * passes one socket as standard input, output and error; a parent that
 * passed it may still hold it), become non-blocking too, so a plain
 * read(2), write(2) or stdio call on them can fail with EAGAIN.  A socket
 * cannot be reopened as a description of its own, and the library's
 * timeouts need the flag, so it stays set after sock_close(): pass a
 * socket no other holder uses in blocking mode, or clear O_NONBLOCK with
 * fcntl(2) before handing it back.  On failure fd's flags are untouched.
 * Returns 0, -ENOTSOCK, or -errno.
 */
int sock_fromfd(struct sock *s, int fd) SOCK_WUR;

/* Python's socketpair(): two connected sockets (AF_UNIX, or 0 for AF_UNIX;
 * type SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET).  Returns 0 or -errno. */
int sock_socketpair(struct sock pair[2], int family, int type,
		    int protocol) SOCK_WUR;

/* Python's dup(): out becomes a second socket on a duplicate descriptor,
 * with the same timeout.  Returns 0 or -errno. */
int sock_dup(const struct sock *s, struct sock *out) SOCK_WUR;

/* Python's detach(): give up ownership.  Returns the descriptor (or -1 if
 * s was closed) and leaves s closed without closing it. */
int sock_detach(struct sock *s);

/* Python's fileno(): the descriptor, or -1 if closed. */
int sock_fileno(const struct sock *s);

/*
 * Python's close(): close the descriptor and mark s closed.  Closing a
 * closed socket is a no-op returning 0.  Returns 0 or -errno from
 * close(2) (the descriptor is released either way).
 */
int sock_close(struct sock *s);

/*
 * Python's settimeout(): SOCK_FOREVER for blocking mode, 0 for
 * non-blocking mode, n > 0 to bound every later call on s by n ms.
 * Returns 0 or -EINVAL for a value below -1.
 */
int sock_settimeout(struct sock *s, int timeout_ms) SOCK_WUR;

/* Python's gettimeout(): the timeout in ms, SOCK_FOREVER for none. */
int sock_gettimeout(const struct sock *s);

/* Python's setblocking(): blocking is settimeout(SOCK_FOREVER),
 * non-blocking is settimeout(0). */
void sock_setblocking(struct sock *s, bool blocking);

/* Python's getblocking(): false only when the timeout is 0. */
bool sock_getblocking(const struct sock *s);

/*
 * Python's set_inheritable(): whether s's descriptor survives exec() (it
 * is close-on-exec from birth, so a program that hands a socket to a
 * child it execs says so here).  Returns 0 or -errno.
 */
int sock_set_inheritable(struct sock *s, bool inheritable) SOCK_WUR;

/* Python's get_inheritable(): 1 if s's descriptor survives exec(), 0 if
 * not, or -errno. */
int sock_get_inheritable(const struct sock *s);

/* Python's setsockopt() with an integer value.  Returns 0 or -errno. */
int sock_setsockopt(struct sock *s, int level, int name, int value) SOCK_WUR;

/*
 * TCP keep-alive, to learn that an idle connection's peer is gone (its
 * host lost power, a NAT or firewall forgot the flow): after idle_s
 * seconds without traffic the system sends a probe every interval_s
 * seconds, and after count unanswered ones the connection fails: the
 * next call on s returns -ETIMEDOUT.  A value of 0 keeps that setting as
 * it is (the system's defaults are 7200 s, 75 s and 9 probes); on false
 * turns keep-alive off and ignores the others.  The values are checked
 * before anything is set.  Returns 0, -EINVAL for a value out of range
 * (negative; idle_s or interval_s above 32767; count above 127),
 * -ENOPROTOOPT when s is not a TCP socket, or -errno.
 */
int sock_set_keepalive(struct sock *s, bool on, int idle_s, int interval_s,
		       int count) SOCK_WUR;

/*
 * TCP_USER_TIMEOUT: the most ms that data sent may stay unacknowledged
 * (or, with keep-alive, the peer silent) before the connection fails
 * with -ETIMEDOUT, however many retransmissions the system would try;
 * 0 is the system's behaviour (about 15 minutes of retries).  Returns 0,
 * -EINVAL for a negative value, -ENOPROTOOPT when s is not a TCP socket,
 * or -errno.
 */
int sock_set_user_timeout(struct sock *s, int timeout_ms) SOCK_WUR;

/* TCP_NODELAY: on sends small writes at once rather than holding them
 * while earlier data is unacknowledged (Nagle's algorithm).  Returns 0,
 * -ENOPROTOOPT when s is not a TCP socket, or -errno. */
int sock_set_nodelay(struct sock *s, bool on) SOCK_WUR;

/* Python's setsockopt() with a buffer value.  Returns 0 or -errno. */
int sock_setsockopt_buf(struct sock *s, int level, int name, const void *buf,
			socklen_t len) SOCK_WUR;

/* Python's getsockopt() of an integer option.  Returns 0 or -errno. */
int sock_getsockopt(const struct sock *s, int level, int name,
		    int *value) SOCK_WUR;

/* Python's getsockopt(level, name, buflen): *len is the room in buf on
 * entry and the option's length on return.  Returns 0 or -errno. */
int sock_getsockopt_buf(const struct sock *s, int level, int name, void *buf,
			socklen_t *len) SOCK_WUR;

/*
 * Python's bind(): bind s to address text (resolved for s's family and
 * type; a host name is resolved under s's timeout).  For an AF_UNIX path
 * the file must not exist.  Returns 0, -EADDRINUSE, -EACCES, an address or
 * resolver code, or -errno.
 */
int sock_bind(struct sock *s, const char *addr) SOCK_WUR;

/* bind() to an address value.  Returns 0 or -errno. */
int sock_bind_addr(struct sock *s, const struct sock_addr *addr) SOCK_WUR;

/*
 * Python's listen(backlog) on a bound socket (backlog <= 0: the system's
 * maximum, SOMAXCONN).  See sock_listen() for bind and listen in one call.
 * Returns 0 or -errno.
 */
int sock_listen_bound(struct sock *s, int backlog) SOCK_WUR;

/*
 * Python's accept(): wait (within s's timeout) for a connection on
 * listening socket s.  conn becomes the new connection, in blocking mode
 * (SOCK_FOREVER) as in Python; peer (may be NULL) receives its address.
 * Returns 0, -EAGAIN (timeout 0), -ETIMEDOUT, -EMFILE, or -errno.
 * Transient network errors that the kernel reports on accept
 * (ECONNABORTED, EPROTO, ENETDOWN ...) are retried inside.
 */
int sock_accept(struct sock *s, struct sock *conn,
		struct sock_addr *peer) SOCK_WUR;

/*
 * Python's connect() and connect_ex() in one: connect s to address text
 * (resolved for s's family and type), waiting within s's timeout.  With
 * timeout 0 a stream connect that is under way returns -EINPROGRESS.
 * Returns 0, -ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, an address or
 * resolver code, or -errno.
 */
int sock_connect_to(struct sock *s, const char *addr) SOCK_WUR;

/* sock_connect_to() with an address value. */
int sock_connect_addr(struct sock *s, const struct sock_addr *addr) SOCK_WUR;

/* Python's getsockname() and getpeername().  Return 0 or -errno
 * (-ENOTCONN for an unconnected peer). */
int sock_getsockname(const struct sock *s, struct sock_addr *addr) SOCK_WUR;
int sock_getpeername(const struct sock *s, struct sock_addr *addr) SOCK_WUR;

/* Python's shutdown(): how is SHUT_RD, SHUT_WR or SHUT_RDWR.  Returns 0 or
 * -errno. */
int sock_shutdown(struct sock *s, int how) SOCK_WUR;

/* ------------------------------------------------------------------ */
/* Creating connections and servers                                    */
/* ------------------------------------------------------------------ */

/*
 * Python's create_connection(): resolve address text ("host:port", or a
 * Unix address) for socket type (SOCK_STREAM or SOCK_DGRAM) and try the
 * addresses until one connects: for a stream, with Happy Eyeballs (see
 * sock_connect_with()), so a silent address does not hold up the others.
 * ONE deadline, timeout_ms from now, covers the lookup and every attempt.
 * On success s is connected, in blocking mode (timeout SOCK_FOREVER);
 * change it with sock_settimeout().
 * With timeout 0, as in Python, a TCP connect that cannot complete at once
 * fails with -EINPROGRESS (a Unix connect completes or fails at once).
 * On failure s is closed and the code returned is the most telling of the
 * attempts' errors: a refusal or reset from a live host before a timeout,
 * a timeout before an unreachable network, and those before a local error
 * such as a family this machine lacks.  Returns 0, -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH, -ENETUNREACH, SOCK_ENONAME, SOCK_EBADADDR, or
 * another negative code.
 */
int sock_connect(struct sock *s, int type, const char *addr,
		 int timeout_ms) SOCK_WUR;

/*
 * sock_connect() with Python's source_address: bind to source ("host:port",
 * port 0 for any, NULL for none) before connecting.
 */
int sock_connect_from(struct sock *s, int type, const char *addr,
		      const char *source, int timeout_ms) SOCK_WUR;

/* The most attempts sock_connect_with() makes (and reports). */
#define SOCK_CONNECT_ATTEMPTS 16

/* One connection attempt, in a struct sock_connect_report. */
struct sock_connect_attempt {
	struct sock_addr addr; /* the address tried */
	int start_ms;	       /* when it began, after the call began */
	int end_ms;	       /* when it ended */
	/* 0: it connected (the call's socket); -ECANCELED: closed when
	 * another won; -ETIMEDOUT: still under way at the deadline; or its
	 * error (-ECONNREFUSED, -ENETUNREACH, the setup hook's code ...). */
	int result;
};

/* One lookup, in a struct sock_connect_report. */
struct sock_connect_lookup {
	int family; /* AF_INET6 or AF_INET; AF_UNSPEC: one lookup for both */
	int end_ms; /* when it answered; -1: it had not when the call ended */
	/* Addresses found, the resolver's code, or -EINPROGRESS: no answer
	 * when the call ended (it was won first, or the deadline passed). */
	int result;
};

/*
 * What a connect did, for Python's all_errors and curl's timings in one:
 * each lookup and each attempt in the order begun, with times in
 * milliseconds after the call began.  A literal address has no lookup.
 */
struct sock_connect_report {
	int total_ms;
	int n_lookups;
	struct sock_connect_lookup lookup[2];
	int n_attempts;
	struct sock_connect_attempt attempt[SOCK_CONNECT_ATTEMPTS];
};

/* Options of sock_connect_with(); zero for each default. */
struct sock_connect_options {
	/* Python's source_address: "host:port" (port 0 for any) to bind
	 * each attempt's socket to, or NULL.  With a fixed port, an attempt
	 * beside another of its family fails to bind (-EADDRINUSE) and the
	 * race goes on with the rest. */
	const char *source;
	/* Happy Eyeballs' connection attempt delay: how long an attempt
	 * runs alone before the next begins beside it.  0: 250 ms; else
	 * 10 to 2000 ms (RFC 8305's bounds). */
	int attempt_delay_ms;
	/* Called on each attempt's new socket, before it is bound and
	 * connected (Go's Dialer.Control), for options such as
	 * SO_MARK or SO_RCVBUF: addr is where it will connect.  Return 0,
	 * or a negative code that ends that attempt with it. */
	int (*setup)(struct sock *s, const struct sock_addr *addr, void *arg);
	void *setup_arg;
	/* Filled in when not NULL, whether the call succeeds or fails. */
	struct sock_connect_report *report;
};

/*
 * sock_connect() with options (opt may be NULL).  For a stream socket and
 * a timeout other than 0 this is Happy Eyeballs (RFC 8305), which
 * sock_connect() and sock_connect_from() use too: a name is looked up for
 * IPv6 and IPv4 at once (an IPv4 answer waits 50 ms for the IPv6 one);
 * the addresses are tried with the families alternating, IPv6 first; an
 * attempt that is still under way after the attempt delay gets the next
 * one beside it, an attempt that fails starts the next at once; the first
 * to connect wins and the others are closed.  Everything stays within
 * the one deadline; a lookup still running when the race is won is left
 * to finish by itself.  Datagram, Unix and zero-timeout connects try the
 * addresses in turn.  Returns as sock_connect(), or -EINVAL for an
 * attempt delay out of bounds.
 */
int sock_connect_with(struct sock *s, int type, const char *addr,
		      int timeout_ms,
		      const struct sock_connect_options *opt) SOCK_WUR;

/* Flags of sock_listen(). */
enum sock_listen_flag {
	/* Set SO_REUSEPORT: several sockets share one port. */
	SOCK_LISTEN_REUSEPORT = 1 << 0,
	/* For an IPv6 address, accept IPv4 too (clear IPV6_V6ONLY); for the
	 * wildcard ":port", listen on [::] instead of 0.0.0.0.  Without it,
	 * IPv6 sockets are IPv6-only. */
	SOCK_LISTEN_DUALSTACK = 1 << 1,
	/* For a Unix path, remove a stale socket file before binding: one no
	 * one listens on any more (a connect to it is refused).  A live
	 * socket still gives -EADDRINUSE; a live stream listener sees that
	 * probe as a connection that closes at once. */
	SOCK_LISTEN_UNLINK = 1 << 2,
};

/*
 * Python's create_server(): resolve address text for socket type, bind a
 * new socket to the first address that binds, with SO_REUSEADDR (except
 * for Unix sockets), and for SOCK_STREAM or SOCK_SEQPACKET listen with
 * backlog (<= 0: SOMAXCONN).  A SOCK_DGRAM socket is only bound.  The host
 * may be empty (":8037") for the wildcard address.  Returns 0,
 * -EADDRINUSE, -EACCES, an address or resolver code, or -errno; s is
 * closed on failure.
 */
int sock_listen(struct sock *s, int type, const char *addr, int backlog,
		int flags) SOCK_WUR;

/*
 * sock_listen() with a setup hook, called on each new socket after
 * SO_REUSEADDR and the flags' options are set and before it is bound (for
 * options such as TCP_FASTOPEN, SO_RCVBUF or IP_FREEBIND): addr is the
 * address it will be bound to.  The hook returns 0, or a negative code
 * that ends the attempt at that address with it.
 */
int sock_listen_with(struct sock *s, int type, const char *addr, int backlog,
		     int flags,
		     int (*setup)(struct sock *s, const struct sock_addr *addr,
				  void *arg),
		     void *arg) SOCK_WUR;

/* ------------------------------------------------------------------ */
/* Sending and receiving                                               */
/* ------------------------------------------------------------------ */

/*
 * Every call below waits within s's timeout (see "Time" above) and returns
 * -EAGAIN with timeout 0 when it would block, -ETIMEDOUT when the timeout
 * passed, -EPIPE or -ECONNRESET when the peer is gone, or another -errno.
 * flags are MSG_* flags passed to the kernel (MSG_NOSIGNAL is always
 * added to sends); MSG_DONTWAIT makes one call non-blocking whatever the
 * socket's timeout.
 */

/*
 * Python's send(): send some of len bytes of buf; returns how many went
 * (at least 1 when len > 0), which may be fewer than len on a stream.
 */
ssize_t sock_send(struct sock *s, const void *buf, size_t len,
		  int flags) SOCK_WUR;

/*
 * Python's sendall(): send all len bytes of buf, however many partial sends
 * it takes, all within one timeout.  Returns 0 or a negative code; *sent
 * (sent may be NULL) receives how many bytes went out, also on failure.
 */
int sock_sendall(struct sock *s, const void *buf, size_t len, size_t *sent,
		 int flags) SOCK_WUR;

/* Python's sendto(): send one datagram of len bytes (0 allowed) to to.
 * Returns len. */
ssize_t sock_sendto(struct sock *s, const void *buf, size_t len,
		    const struct sock_addr *to, int flags) SOCK_WUR;

/* Python's sendmsg(): sendmsg(2) with the socket's timeout.  Returns the
 * bytes sent. */
ssize_t sock_sendmsg(struct sock *s, const struct msghdr *msg,
		     int flags) SOCK_WUR;

/*
 * Python's sendfile(): send count bytes (0: up to end of file) of file
 * descriptor fd, starting at offset, with sendfile(2) and the socket's one
 * timeout; a file that ends first ends the call early, with success.
 * fd's own file offset does not move.  Returns 0 or a negative code; *sent
 * (may be NULL) receives the bytes that went out, also on failure.
 */
int sock_sendfile(struct sock *s, int fd, off_t offset, size_t count,
		  size_t *sent) SOCK_WUR;

/*
 * Python's recv_into(): receive up to len bytes into buf.  Returns the
 * count: 0 is end of stream on a stream socket and an empty datagram on a
 * datagram socket.  A datagram longer than len is truncated, as by recv(2)
 * (pass MSG_TRUNC to learn its real length).
 */
ssize_t sock_recv(struct sock *s, void *buf, size_t len, int flags) SOCK_WUR;

/*
 * Python's recv(bufsize): receive up to max bytes (max >= 1) into a buffer
 * this call allocates.  On success *out is a malloc'd buffer, NUL
 * terminated after the data for convenience, that the caller frees, and
 * the count is returned; on failure *out is NULL.  -ENOMEM when max bytes
 * cannot be allocated.
 */
ssize_t sock_recv_alloc(struct sock *s, size_t max, void **out,
			int flags) SOCK_WUR;

/*
 * Receive a stream to its end, as Python's makefile().read() does: every
 * byte until the peer closes, into a buffer this call allocates, all
 * within one timeout.  On success *out is a malloc'd buffer, NUL
 * terminated after the data, that the caller frees, and the count is
 * returned (0 for an empty stream).  Returns -EMSGSIZE when the stream
 * holds more than max bytes (the max bytes read are dropped, nothing past
 * them is consumed), -EINVAL for max 0, -ENOMEM, or another negative code;
 * *out is NULL on failure.
 */
ssize_t sock_recv_all(struct sock *s, size_t max, void **out) SOCK_WUR;

/* Python's recvfrom_into(): sock_recv() that also reports the sender in
 * from (may be NULL). */
ssize_t sock_recvfrom(struct sock *s, void *buf, size_t len,
		      struct sock_addr *from, int flags) SOCK_WUR;

/* Python's recvfrom(bufsize): sock_recv_alloc() that also reports the
 * sender in from (may be NULL). */
ssize_t sock_recvfrom_alloc(struct sock *s, size_t max, void **out,
			    struct sock_addr *from, int flags) SOCK_WUR;

/* Python's recvmsg() and recvmsg_into(): recvmsg(2) with the socket's
 * timeout.  Returns the bytes received; msg->msg_flags tells of
 * truncation. */
ssize_t sock_recvmsg(struct sock *s, struct msghdr *msg, int flags) SOCK_WUR;

/*
 * Receive exactly len bytes of a stream into buf, under one timeout.
 * Returns 0 when all arrived, SOCK_EEOF when the stream ended first, or
 * another negative code; *received (may be NULL) receives how many bytes
 * arrived, also on failure.
 */
int sock_recv_exact(struct sock *s, void *buf, size_t len,
		    size_t *received) SOCK_WUR;

/*
 * Receive one line from a stream: bytes up to and including the first
 * '\n', NUL-terminated in buf of size bytes (size >= 2).  Nothing after
 * the line is consumed, so other receives can follow.  Returns the line's
 * length (without the NUL); a final line without '\n' is returned as is
 * when the stream ends; 0 means end of stream; -EMSGSIZE means size - 1
 * bytes arrived without a '\n' (they are left unread).  A stream that fails
 * mid-line returns the error and leaves the partial line unread.  The
 * line waits in the kernel until its '\n' comes, so size - 1 should not
 * exceed what the socket's receive queue holds: a longer line stalls there
 * until the timeout passes.
 */
ssize_t sock_recv_line(struct sock *s, char *buf, size_t size) SOCK_WUR;

/*
 * Python's send_fds(): send len bytes of buf (at least 1 on a stream)
 * with nfds descriptors attached (SCM_RIGHTS; at most 253).  Returns the
 * bytes sent.
 */
ssize_t sock_send_fds(struct sock *s, const void *buf, size_t len,
		      const int *fds, size_t nfds) SOCK_WUR;

/*
 * Python's recv_fds(): receive up to len bytes into buf and the
 * descriptors sent with them into fds; *nfds is the room in fds on entry
 * and the number received on return.  Received descriptors are
 * close-on-exec and belong to the caller.  Returns the bytes received, or
 * -EMSGSIZE when more descriptors arrived than fds could hold (those that
 * arrived are closed and *nfds is 0; the data is consumed).
 */
ssize_t sock_recv_fds(struct sock *s, void *buf, size_t len, int *fds,
		      size_t *nfds) SOCK_WUR;

/*
 * Python's makefile(): a stdio stream on a duplicate of s, so the stream
 * and s are closed independently.  mode is "r", "w" or "r+" (also "rb",
 * "wb", "r+b", and Python's "rw" for "r+"); reads and writes obey the
 * timeout s had when the stream was made (a timeout surfaces as a stream
 * error, with errno ETIMEDOUT).  Returns 0 and *out (close it with
 * fclose), -EINVAL for a bad mode, or -errno.
 */
int sock_makefile(const struct sock *s, const char *mode, FILE **out) SOCK_WUR;

#include <sock/server.h>
#include <sock/tls.h>

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* SOCK_H */

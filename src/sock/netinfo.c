/* SPDX-License-Identifier: MIT */
/* netinfo.c -- Python's network information: hosts, services, protocols, interfaces */

#include "internal.h"

#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/*
 * The gethostby*_r() answers live in a caller buffer: start at 1 KiB and
 * double on ERANGE, up to 1 MiB (a hosts entry with thousands of aliases).
 */
#define HOST_BUF_START 1024
#define HOST_BUF_MAX (1024 * 1024)
/*
 * The services and protocols answers: one line of /etc/services or
 * /etc/protocols with its aliases, which 4 KiB holds many times over.
 */
#define ENT_BUF 4096

/* ------------------------------------------------------------------ */
/* Host names                                                          */
/* ------------------------------------------------------------------ */

int sock_gethostname(char *buf, size_t size)
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	return sock__copy_text(buf, size, u.nodename) ? 0 : -ENAMETOOLONG;
}

int sock_sethostname(const char *name)
{
	if (sethostname(name, strlen(name)) < 0)
		return -errno;
	return 0;
}

/* The h_errno of a failed gethostby*_r() (ret: its return value). */
static int herror_code(int herr, int ret)
{
	switch (herr) {
	case HOST_NOT_FOUND:
		return SOCK_ENONAME;
	case TRY_AGAIN:
		return SOCK_ETRYAGAIN;
	case NO_RECOVERY:
		return SOCK_ENORECOVERY;
	case NO_DATA:
		return SOCK_ENODATA;
	case NETDB_INTERNAL:
		return ret > 0 ? -ret : SOCK_ERESOLVE;
	}
	return SOCK_ERESOLVE;
}

static void hostent_add_alias(struct sock_hostent *out, const char *alias)
{
	size_t i;

	for (i = 0; i < out->naliases; i++)
		if (strcmp(out->aliases[i], alias) == 0)
			return;
	if (out->naliases < SOCK_HOSTENT_MAX &&
	    sock__copy_text(out->aliases[out->naliases], SOCK_HOSTNAME_MAX,
			    alias))
		out->naliases++;
}

static void hostent_add_addr(struct sock_hostent *out, int family,
			     const void *bin)
{
	struct sock_addr a = { 0 };
	size_t i;

	if (family == AF_INET) {
		a.u.in.sin_family = AF_INET;
		memcpy(&a.u.in.sin_addr, bin, sizeof(a.u.in.sin_addr));
		a.len = sizeof(a.u.in);
	} else if (family == AF_INET6) {
		a.u.in6.sin6_family = AF_INET6;
		memcpy(&a.u.in6.sin6_addr, bin, sizeof(a.u.in6.sin6_addr));
		a.len = sizeof(a.u.in6);
	} else {
		return;
	}
	for (i = 0; i < out->naddrs; i++)
		if (sock_addr_is_equal(&out->addrs[i], &a))
			return;
	if (out->naddrs < SOCK_HOSTENT_MAX)
		out->addrs[out->naddrs++] = a;
}

/* Merge he into out: the first name found, then aliases and addresses
 * not yet there. */
static void hostent_add(struct sock_hostent *out, const struct hostent *he)
{
	size_t i;

	if (!out->name[0])
		sock__copy_text(out->name, sizeof(out->name), he->h_name);
	for (i = 0; he->h_aliases && he->h_aliases[i]; i++)
		hostent_add_alias(out, he->h_aliases[i]);
	for (i = 0; he->h_addr_list && he->h_addr_list[i]; i++)
		hostent_add_addr(out, he->h_addrtype, he->h_addr_list[i]);
}

/* One gethostby*_r() question: by name, or by a binary address. */
struct host_query {
	const char *name;
	const void *addr;
	socklen_t len;
	int family;
};

/* Ask q with the reentrant call, its buffer growing on ERANGE, and merge
 * the answer into out. */
static int host_query(const struct host_query *q, struct sock_hostent *out)
{
	size_t size = HOST_BUF_START;
	struct hostent he, *res = NULL;
	char *buf = NULL, *bigger;
	int ret, herr = 0;

	for (;;) {
		bigger = realloc(buf, size);
		if (!bigger) {
			free(buf);
			return -ENOMEM;
		}
		buf = bigger;
		if (q->name)
			ret = gethostbyname2_r(q->name, q->family, &he, buf,
					       size, &res, &herr);
		else
			ret = gethostbyaddr_r(q->addr, q->len, q->family, &he,
					      buf, size, &res, &herr);
		if (ret != ERANGE || size >= HOST_BUF_MAX)
			break;
		size *= 2;
	}
	if (res)
		hostent_add(out, res);
	free(buf);
	return res ? 0 : herror_code(herr, ret);
}

int sock_gethostbyname_ex(const char *name, int family,
			  struct sock_hostent *out)
{
	struct host_query q = { .name = name, .family = family };
	int err4, err6;

	memset(out, 0, sizeof(*out));
	if (family == AF_INET || family == AF_INET6)
		return host_query(&q, out);
	if (family != AF_UNSPEC)
		return -EAFNOSUPPORT;
	q.family = AF_INET;
	err4 = host_query(&q, out);
	q.family = AF_INET6;
	err6 = host_query(&q, out);
	return err4 && err6 ? err4 : 0;
}

int sock_gethostbyname(const char *name, int family, char *buf, size_t size)
{
	struct sock_addrinfo ai;
	ssize_t n;

	n = sock_getaddrinfo(name, NULL, family, SOCK_STREAM, 0, &ai, 1,
			     SOCK_FOREVER);
	if (n < 0)
		return (int)n;
	return sock_getnameinfo(&ai.addr, NI_NUMERICHOST, buf, size, NULL, 0);
}

int sock_gethostbyaddr(const char *addr, struct sock_hostent *out)
{
	struct host_query q = { 0 };
	struct sock_addrinfo ai;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	n = sock_getaddrinfo(addr, NULL, AF_UNSPEC, SOCK_STREAM, 0, &ai, 1,
			     SOCK_FOREVER);
	if (n < 0)
		return (int)n;
	q.family = ai.family;
	if (q.family == AF_INET) {
		q.addr = &ai.addr.u.in.sin_addr;
		q.len = sizeof(ai.addr.u.in.sin_addr);
	} else {
		q.addr = &ai.addr.u.in6.sin6_addr;
		q.len = sizeof(ai.addr.u.in6.sin6_addr);
	}
	return host_query(&q, out);
}

/* As Python: the first of the canonical name and its aliases to hold a
 * dot, else the canonical name; the name itself if nothing is known. */
int sock_getfqdn(const char *name, char *buf, size_t size)
{
	char self[SOCK_HOSTNAME_MAX];
	struct sock_hostent he;
	const char *best;
	size_t i;
	int err;

	if (!name || !name[0] || strcmp(name, "0.0.0.0") == 0 ||
	    strcmp(name, "::") == 0) {
		err = sock_gethostname(self, sizeof(self));
		if (err)
			return err;
		name = self;
	}
	if (sock_gethostbyaddr(name, &he) != 0)
		return sock__copy_text(buf, size, name) ? 0 : -ENAMETOOLONG;
	best = he.name;
	for (i = 0; !strchr(best, '.') && i < he.naliases; i++) {
		if (strchr(he.aliases[i], '.')) {
			best = he.aliases[i];
			break;
		}
	}
	return sock__copy_text(buf, size, best) ? 0 : -ENAMETOOLONG;
}

/* ------------------------------------------------------------------ */
/* Services, protocols, address text, interfaces                       */
/* ------------------------------------------------------------------ */

int sock_getservbyname(const char *name, const char *proto)
{
	struct servent se, *res = NULL;
	char buf[ENT_BUF];

	if (getservbyname_r(name, proto, &se, buf, sizeof(buf), &res) || !res)
		return SOCK_ENONAME;
	return ntohs((uint16_t)se.s_port);
}

int sock_getservbyport(int port, const char *proto, char *buf, size_t size)
{
	struct servent se, *res = NULL;
	char tmp[ENT_BUF];

	if (port < 0 || port > 65535)
		return -EINVAL;
	if (getservbyport_r(htons((uint16_t)port), proto, &se, tmp, sizeof(tmp),
			    &res) ||
	    !res)
		return SOCK_ENONAME;
	return sock__copy_text(buf, size, se.s_name) ? 0 : -ENAMETOOLONG;
}

int sock_getprotobyname(const char *name)
{
	struct protoent pe, *res = NULL;
	char buf[ENT_BUF];

	if (getprotobyname_r(name, &pe, buf, sizeof(buf), &res) || !res)
		return SOCK_ENONAME;
	return pe.p_proto;
}

int sock_inet_pton(int family, const char *text, void *out)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	return inet_pton(family, text, out) == 1 ? 0 : SOCK_EBADADDR;
}

int sock_inet_ntop(int family, const void *in, char *buf, size_t size)
{
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!inet_ntop(family, in, buf,
		       size > INT_MAX ? INT_MAX : (socklen_t)size))
		return -errno;
	return (int)strlen(buf);
}

/* inet_aton() stops at white space and ignores whatever follows it; the
 * text here must be the address and nothing else. */
int sock_inet_aton(const char *text, struct in_addr *out)
{
	if (!text[0] || text[strcspn(text, " \t\n\v\f\r")] != '\0')
		return SOCK_EBADADDR;
	return inet_aton(text, out) ? 0 : SOCK_EBADADDR;
}

int sock_inet_ntoa(struct in_addr in, char *buf, size_t size)
{
	return sock_inet_ntop(AF_INET, &in, buf, size);
}

int sock_if_nametoindex(const char *name)
{
	unsigned int index = if_nametoindex(name);

	return index && index <= INT_MAX ? (int)index : -ENODEV;
}

int sock_if_indextoname(unsigned int index, char *buf, size_t size)
{
	char name[IF_NAMESIZE];

	if (!if_indextoname(index, name))
		return -errno;
	return sock__copy_text(buf, size, name) ? 0 : -ENOSPC;
}

int sock_if_nameindex(struct sock_ifname *out, size_t max)
{
	struct if_nameindex *list, *p;
	size_t n = 0;

	list = if_nameindex();
	if (!list)
		return -errno;
	for (p = list; p->if_index; p++, n++) {
		if (n >= max)
			continue;
		out[n].index = p->if_index;
		sock__copy_text(out[n].name, sizeof(out[n].name), p->if_name);
	}
	if_freenameindex(list);
	return n > INT_MAX ? INT_MAX : (int)n;
}

bool sock_has_ipv6(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool ok;
	int fd;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

bool sock_has_dualstack_ipv6(void)
{
	int fd, off = 0;
	bool ok;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ok = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0;
	close(fd);
	return ok;
}

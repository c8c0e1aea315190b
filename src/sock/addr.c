/* SPDX-License-Identifier: MIT */
/* addr.c -- the address grammar: parse and format every address family */

#include "internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#define UNIX_PREFIX "unix:"
#define PACKET_PREFIX "packet:"
/* Longest port text: five digits, so "65536" is read and rejected. */
#define PORT_DIGITS 5
/* Longest host text: a scoped IPv6 address with an interface name. */
#define HOST_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)
#define SUN_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

static bool has_prefix(const char *text, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(text, prefix, n) == 0;
}

bool sock__addr_is_local_text(const char *text)
{
	return text[0] == '@' || strchr(text, '/') ||
	       strncmp(text, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0 ||
	       strncmp(text, PACKET_PREFIX, strlen(PACKET_PREFIX)) == 0;
}

int sock__split_hostport(const char *text, size_t len, char *host,
			 size_t hostsize, char *port, size_t portsize)
{
	const char *end = text + len, *h, *hend, *colon;

	if (!text || len == 0 || memchr(text, '\0', len) ||
	    memchr(text, '/', len))
		return SOCK_EBADADDR;
	if (text[0] == '[') {
		h = text + 1;
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend || hend == h || !memchr(h, ':', (size_t)(hend - h)))
			return SOCK_EBADADDR;
		colon = hend + 1;
		if (colon == end || *colon != ':')
			return SOCK_EBADADDR;
	} else {
		h = text;
		colon = memrchr(text, ':', len);
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return SOCK_EBADADDR; /* no port, or IPv6 unbracketed */
		hend = colon;
		if (memchr(h, '[', (size_t)(hend - h)) ||
		    memchr(h, ']', (size_t)(hend - h)))
			return SOCK_EBADADDR;
	}
	if ((size_t)(hend - h) >= hostsize || colon + 1 == end ||
	    (size_t)(end - colon - 1) >= portsize)
		return SOCK_EBADADDR;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	memcpy(port, colon + 1, (size_t)(end - colon - 1));
	port[end - colon - 1] = '\0';
	return 0;
}

int sock_addr_split(const char *text, char *host, size_t hostsize, char *port,
		    size_t portsize)
{
	if (sock__addr_is_local_text(text))
		return SOCK_EBADADDR;
	return sock__split_hostport(text, strlen(text), host, hostsize, port,
				    portsize);
}

/* A decimal number of at most digits digits, no sign, not above max. */
static int parse_decimal(const char *text, size_t digits, unsigned long max,
			 unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!text[0] || strlen(text) > digits)
		return SOCK_EBADADDR;
	for (i = 0; text[i]; i++) {
		if (!isdigit((unsigned char)text[i]))
			return SOCK_EBADADDR;
		v = v * 10 + (unsigned long)(text[i] - '0');
	}
	if (v > max)
		return SOCK_EBADADDR;
	*out = v;
	return 0;
}

/* An interface: its name, or its index in decimal. */
static int parse_ifindex(const char *name, unsigned int *index)
{
	unsigned long v;

	if (!name[0] || strlen(name) >= IF_NAMESIZE)
		return SOCK_EBADADDR;
	if (parse_decimal(name, 10, UINT32_MAX, &v) == 0 && v > 0) {
		*index = (unsigned int)v;
		return 0;
	}
	*index = if_nametoindex(name);
	return *index ? 0 : -ENODEV;
}

static int parse_ipv6(struct sock_addr *addr, char *host, in_port_t port)
{
	struct sockaddr_in6 *in6 = &addr->u.in6;
	char *pct = strchr(host, '%');
	unsigned int scope = 0;
	int err;

	if (pct) {
		*pct = '\0';
		err = parse_ifindex(pct + 1, &scope);
		if (err)
			return err;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
		return SOCK_EBADADDR;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = port;
	in6->sin6_scope_id = scope;
	addr->len = sizeof(*in6);
	return 0;
}

static int parse_inet(struct sock_addr *addr, const char *text, size_t len)
{
	char host[HOST_MAX], port[PORT_DIGITS + 1];
	unsigned long p;
	int err;

	err = sock__split_hostport(text, len, host, sizeof(host), port,
				   sizeof(port));
	if (err)
		return err;
	if (parse_decimal(port, PORT_DIGITS, 65535, &p))
		return SOCK_EBADADDR;
	if (strchr(host, ':'))
		return parse_ipv6(addr, host, htons((uint16_t)p));
	addr->u.in.sin_family = AF_INET;
	addr->u.in.sin_port = htons((uint16_t)p);
	if (host[0] == '\0')
		addr->u.in.sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &addr->u.in.sin_addr) != 1)
		return SOCK_EBADADDR;
	addr->len = sizeof(addr->u.in);
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* An abstract name after its '@': \\ and \xNN escapes, 1-107 bytes. */
static int parse_abstract(struct sock_addr *addr, const char *text, size_t len)
{
	char *out = addr->u.un.sun_path + 1;
	size_t n = 0, i = 0;
	int hi, lo;

	while (i < len) {
		if (n == SUN_PATH_MAX - 1)
			return SOCK_EBADADDR;
		if (text[i] != '\\') {
			out[n++] = text[i++];
			continue;
		}
		if (i + 1 < len && text[i + 1] == '\\') {
			out[n++] = '\\';
			i += 2;
			continue;
		}
		if (i + 3 >= len || text[i + 1] != 'x')
			return SOCK_EBADADDR;
		hi = hex_value(text[i + 2]);
		lo = hex_value(text[i + 3]);
		if (hi < 0 || lo < 0)
			return SOCK_EBADADDR;
		out[n++] = (char)(hi << 4 | lo);
		i += 4;
	}
	if (n == 0)
		return SOCK_EBADADDR;
	addr->u.un.sun_family = AF_UNIX;
	addr->u.un.sun_path[0] = '\0';
	addr->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	return 0;
}

/* A filesystem path; empty means the unnamed address. */
static int parse_path(struct sock_addr *addr, const char *path, size_t len)
{
	/* Keep room for a NUL so sun_path is always a C string. */
	if (len >= SUN_PATH_MAX)
		return SOCK_EBADADDR;
	addr->u.un.sun_family = AF_UNIX;
	memcpy(addr->u.un.sun_path, path, len);
	addr->u.un.sun_path[len] = '\0';
	addr->len = len ? (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      len + 1)
			: (socklen_t)sizeof(sa_family_t);
	return 0;
}

/* "02:00:5e:10:00:01": one to eight bytes as hex pairs joined by ':'. */
static int parse_mac(struct sockaddr_ll *ll, const char *text)
{
	size_t n = 0;
	int hi, lo;

	for (;;) {
		if (n == sizeof(ll->sll_addr))
			return SOCK_EBADADDR;
		hi = hex_value(text[0]);
		lo = hi < 0 ? -1 : hex_value(text[1]);
		if (lo < 0)
			return SOCK_EBADADDR;
		ll->sll_addr[n++] = (unsigned char)(hi << 4 | lo);
		text += 2;
		if (*text == '\0')
			break;
		if (*text++ != ':')
			return SOCK_EBADADDR;
	}
	ll->sll_halen = (unsigned char)n;
	return 0;
}

static int parse_ethertype(const char *text, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
		if (parse_decimal(text, 5, 0xffff, &v))
			return SOCK_EBADADDR;
		*out = (uint16_t)v;
		return 0;
	}
	if (!text[2] || strlen(text) > 6)
		return SOCK_EBADADDR;
	for (i = 2; text[i]; i++) {
		if (hex_value(text[i]) < 0)
			return SOCK_EBADADDR;
		v = v << 4 | (unsigned long)hex_value(text[i]);
	}
	*out = (uint16_t)v;
	return 0;
}

/* "IFNAME[:ETHERTYPE[:MAC]]" after "packet:". */
static int parse_packet(struct sock_addr *addr, const char *text, size_t len)
{
	struct sockaddr_ll *ll = &addr->u.ll;
	char buf[IF_NAMESIZE + 8 + 3 * 8];
	char *proto, *mac;
	uint16_t type = 0;
	unsigned int index;
	int err;

	if (len == 0 || len >= sizeof(buf))
		return SOCK_EBADADDR;
	memcpy(buf, text, len);
	buf[len] = '\0';
	proto = strchr(buf, ':');
	mac = NULL;
	if (proto) {
		*proto++ = '\0';
		mac = strchr(proto, ':');
		if (mac)
			*mac++ = '\0';
		err = parse_ethertype(proto, &type);
		if (err)
			return err;
	}
	err = parse_ifindex(buf, &index);
	if (err)
		return err;
	if (mac) {
		err = parse_mac(ll, mac);
		if (err)
			return err;
	}
	ll->sll_family = AF_PACKET;
	ll->sll_ifindex = (int)index;
	ll->sll_protocol = htons(type);
	addr->len = sizeof(*ll);
	return 0;
}

int sock_addr_parsen(struct sock_addr *addr, const char *text, size_t len)
{
	size_t ulen = strlen(UNIX_PREFIX), plen = strlen(PACKET_PREFIX);
	int err;

	memset(addr, 0, sizeof(*addr));
	if (len == 0 || memchr(text, '\0', len))
		return SOCK_EBADADDR;
	if (text[0] == '@')
		err = parse_abstract(addr, text + 1, len - 1);
	else if (has_prefix(text, len, UNIX_PREFIX))
		err = parse_path(addr, text + ulen, len - ulen);
	else if (has_prefix(text, len, PACKET_PREFIX))
		err = parse_packet(addr, text + plen, len - plen);
	else if (memchr(text, '/', len))
		err = parse_path(addr, text, len);
	else
		err = parse_inet(addr, text, len);
	if (err)
		memset(addr, 0, sizeof(*addr));
	return err;
}

int sock_addr_parse(struct sock_addr *addr, const char *text)
{
	return sock_addr_parsen(addr, text, strlen(text));
}

/* Append formatted text at *pos, tracking overflow without writing past
 * size. */
struct out {
	char *buf;
	size_t size;
	size_t pos;
};

static void out_add(struct out *o, const char *text, size_t n)
{
	size_t room = o->pos < o->size ? o->size - o->pos : 0;

	if (room)
		memcpy(o->buf + o->pos, text, n < room ? n : room);
	o->pos += n;
}

static void out_str(struct out *o, const char *text)
{
	out_add(o, text, strlen(text));
}

__attribute__((format(printf, 2, 3))) static void out_fmt(struct out *o,
							  const char *fmt, ...)
{
	char tmp[16];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	out_add(o, tmp, (size_t)n);
}

static int out_finish(struct out *o)
{
	if (o->size == 0)
		return -ENOSPC;
	if (o->pos >= o->size) {
		o->buf[o->size - 1] = '\0';
		return -ENOSPC;
	}
	o->buf[o->pos] = '\0';
	return (int)o->pos;
}

static void format_ifname(struct out *o, unsigned int index)
{
	char name[IF_NAMESIZE];

	if (if_indextoname(index, name))
		out_str(o, name);
	else
		out_fmt(o, "%u", index);
}

/*
 * A path may be printed without "unix:" only where the parser reads the
 * bare text as a path: it holds a '/' and does not begin as one of the
 * grammar's other forms ("@a/b" would read as an abstract name).
 */
static bool path_reads_bare(const char *path, size_t n)
{
	return memchr(path, '/', n) && path[0] != '@' &&
	       !has_prefix(path, n, UNIX_PREFIX) &&
	       !has_prefix(path, n, PACKET_PREFIX);
}

static void format_unix(struct out *o, const struct sockaddr_un *un,
			socklen_t len)
{
	size_t off = offsetof(struct sockaddr_un, sun_path), n, i;
	unsigned char c;

	if (len <= off) {
		out_str(o, UNIX_PREFIX);
		return;
	}
	n = len - off;
	if (un->sun_path[0] != '\0') {
		n = strnlen(un->sun_path, n);
		if (!path_reads_bare(un->sun_path, n))
			out_str(o, UNIX_PREFIX);
		out_add(o, un->sun_path, n);
		return;
	}
	out_str(o, "@");
	for (i = 1; i < n; i++) {
		c = (unsigned char)un->sun_path[i];
		if (c == '\\')
			out_str(o, "\\\\");
		else if (c > ' ' && c < 0x7f)
			out_add(o, (const char *)&c, 1);
		else
			out_fmt(o, "\\x%02x", c);
	}
}

static void format_packet(struct out *o, const struct sockaddr_ll *ll)
{
	unsigned int i;

	out_str(o, PACKET_PREFIX);
	format_ifname(o, (unsigned int)ll->sll_ifindex);
	out_fmt(o, ":0x%04x", ntohs(ll->sll_protocol));
	for (i = 0; i < ll->sll_halen && i < sizeof(ll->sll_addr); i++)
		out_fmt(o, ":%02x", ll->sll_addr[i]);
}

int sock_addr_format(const struct sock_addr *addr, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size };
	char host[INET6_ADDRSTRLEN];

	switch (addr->len ? addr->u.sa.sa_family : AF_UNSPEC) {
	case AF_UNSPEC:
		out_str(&o, "-");
		break;
	case AF_INET:
		inet_ntop(AF_INET, &addr->u.in.sin_addr, host, sizeof(host));
		out_str(&o, host);
		out_fmt(&o, ":%u", ntohs(addr->u.in.sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &addr->u.in6.sin6_addr, host, sizeof(host));
		out_str(&o, "[");
		out_str(&o, host);
		if (addr->u.in6.sin6_scope_id) {
			out_str(&o, "%");
			format_ifname(&o, addr->u.in6.sin6_scope_id);
		}
		out_fmt(&o, "]:%u", ntohs(addr->u.in6.sin6_port));
		break;
	case AF_UNIX:
		format_unix(&o, &addr->u.un, addr->len);
		break;
	case AF_PACKET:
		format_packet(&o, &addr->u.ll);
		break;
	default:
		if (size)
			buf[0] = '\0';
		return -EAFNOSUPPORT;
	}
	return out_finish(&o);
}

int sock_addr_from_sockaddr(struct sock_addr *addr, const struct sockaddr *sa,
			    socklen_t len)
{
	memset(addr, 0, sizeof(*addr));
	if (len == 0 || len > sizeof(addr->u.storage))
		return -EINVAL;
	memcpy(&addr->u, sa, len);
	addr->len = len;
	return 0;
}

int sock_addr_family(const struct sock_addr *addr)
{
	return addr->len ? addr->u.sa.sa_family : AF_UNSPEC;
}

int sock_addr_port(const struct sock_addr *addr)
{
	switch (sock_addr_family(addr)) {
	case AF_INET:
		return ntohs(addr->u.in.sin_port);
	case AF_INET6:
		return ntohs(addr->u.in6.sin6_port);
	}
	return -EAFNOSUPPORT;
}

int sock_addr_set_port(struct sock_addr *addr, int port)
{
	if (port < 0 || port > 65535)
		return -EINVAL;
	switch (sock_addr_family(addr)) {
	case AF_INET:
		addr->u.in.sin_port = htons((uint16_t)port);
		return 0;
	case AF_INET6:
		addr->u.in6.sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

static bool is_loopback4(const struct in_addr *a)
{
	return (ntohl(a->s_addr) >> 24) == 127;
}

bool sock_addr_is_loopback(const struct sock_addr *addr)
{
	const struct in6_addr *a6 = &addr->u.in6.sin6_addr;

	switch (sock_addr_family(addr)) {
	case AF_INET:
		return is_loopback4(&addr->u.in.sin_addr);
	case AF_INET6:
		if (IN6_IS_ADDR_V4MAPPED(a6))
			return a6->s6_addr[12] == 127;
		return IN6_IS_ADDR_LOOPBACK(a6);
	case AF_UNIX:
		return true;
	}
	return false;
}

bool sock_addr_unmap(struct sock_addr *addr)
{
	struct sockaddr_in in = { .sin_family = AF_INET };

	if (sock_addr_family(addr) != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&addr->u.in6.sin6_addr))
		return false;
	in.sin_port = addr->u.in6.sin6_port;
	memcpy(&in.sin_addr, &addr->u.in6.sin6_addr.s6_addr[12], 4);
	memset(addr, 0, sizeof(*addr));
	addr->u.in = in;
	addr->len = sizeof(in);
	return true;
}

bool sock_addr_is_same_host(const struct sock_addr *a,
			    const struct sock_addr *b)
{
	struct sock_addr x = *a, y = *b;

	sock_addr_unmap(&x);
	sock_addr_unmap(&y);
	if (sock_addr_family(&x) != sock_addr_family(&y))
		return false;
	switch (sock_addr_family(&x)) {
	case AF_INET:
		return x.u.in.sin_addr.s_addr == y.u.in.sin_addr.s_addr;
	case AF_INET6:
		return IN6_ARE_ADDR_EQUAL(&x.u.in6.sin6_addr,
					  &y.u.in6.sin6_addr);
	}
	return false;
}

bool sock_addr_is_equal(const struct sock_addr *a, const struct sock_addr *b)
{
	const struct sockaddr_ll *la = &a->u.ll, *lb = &b->u.ll;
	int family = sock_addr_family(a);

	if (family != sock_addr_family(b))
		return false;
	switch (family) {
	case AF_UNSPEC:
		return true;
	case AF_INET:
		return sock_addr_is_same_host(a, b) &&
		       a->u.in.sin_port == b->u.in.sin_port;
	case AF_INET6:
		return IN6_ARE_ADDR_EQUAL(&a->u.in6.sin6_addr,
					  &b->u.in6.sin6_addr) &&
		       a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id;
	case AF_UNIX:
		return a->len == b->len &&
		       memcmp(a->u.un.sun_path, b->u.un.sun_path,
			      a->len - offsetof(struct sockaddr_un,
						sun_path)) == 0;
	case AF_PACKET:
		return la->sll_ifindex == lb->sll_ifindex &&
		       la->sll_protocol == lb->sll_protocol &&
		       la->sll_halen == lb->sll_halen &&
		       memcmp(la->sll_addr, lb->sll_addr, la->sll_halen) == 0;
	}
	return a->len == b->len && memcmp(&a->u, &b->u, a->len) == 0;
}

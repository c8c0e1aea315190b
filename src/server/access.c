/* SPDX-License-Identifier: MIT */
/* access.c -- who may connect: allow and deny ranges per listener, and a verify hook */

/*
 * Rules hold addresses as 16 bytes, IPv4 as ::ffff:a.b.c.d (source.c's
 * host key), so one comparison serves both families: an IPv4 range
 * a.b.c.d/n is ::ffff:a.b.c.d/(96 + n), and matches IPv4 peers and
 * v4-mapped peers of a dual-stack socket alike.  An IPv6 range never
 * matches a v4-mapped peer: "::/0" means every IPv6 peer, not everyone.
 *
 * Rules are set before the server runs and only read while it runs, by
 * every worker at once: no lock.
 */

#include "core.h"
#include "tls/tls.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

static bool key_is_mapped(const uint8_t key[16])
{
	return memcmp(key, v4_mapped, 12) == 0;
}

/* The first bits bits of a and b are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int whole = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, whole))
		return false;
	if (!rest)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[whole] ^ b[whole]) & mask) == 0;
}

/* No bit set in key after its first bits. */
static bool host_bits_clear(const uint8_t key[16], unsigned int bits)
{
	unsigned int i = bits / 8;

	if (bits % 8 && (key[i++] & (uint8_t)(0xff >> (bits % 8))))
		return false;
	for (; i < 16; i++)
		if (key[i])
			return false;
	return true;
}

/* A prefix length: decimal digits, at most max, no sign or spaces. */
static int prefix_len(const char *s, unsigned int max)
{
	unsigned int v = 0;

	if (!*s || strlen(s) > 3)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned int)(*s - '0');
	}
	return v <= max ? (int)v : -1;
}

int sock__access_parse(const char *text, struct sock__rule *rule)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *slash = strchr(text, '/'), *h = host;
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	struct in_addr in4;
	int bits;

	memset(rule, 0, sizeof(*rule));
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, len);
	host[len] = '\0';
	/* "[::1]/128" as well as "::1/128". */
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']')
			return -EINVAL;
		host[len - 1] = '\0';
		h = host + 1;
	}
	if (h == host && inet_pton(AF_INET, h, &in4) == 1) {
		bits = slash ? prefix_len(slash + 1, 32) : 32;
		if (bits < 0)
			return -EINVAL;
		memcpy(rule->addr, v4_mapped, 12);
		memcpy(rule->addr + 12, &in4, 4);
		rule->bits = (uint8_t)(96 + bits);
	} else if (inet_pton(AF_INET6, h, rule->addr) == 1) {
		bits = slash ? prefix_len(slash + 1, 128) : 128;
		if (bits < 0)
			return -EINVAL;
		rule->bits = (uint8_t)bits;
		/* ::ffff:10.0.0.0/104 is 10.0.0.0/8. */
		rule->v6 = !(bits >= 96 && key_is_mapped(rule->addr));
	} else {
		return -EINVAL;
	}
	/* 10.0.0.1/8 is a typing error or a misunderstanding: say so
	 * rather than guess which of the two was meant. */
	if (!host_bits_clear(rule->addr, rule->bits))
		return -EINVAL;
	return 0;
}

bool sock__access_match(const struct sock__rule *rule, const uint8_t key[16])
{
	if (rule->v6 && key_is_mapped(key))
		return false;
	return prefix_equal(rule->addr, key, rule->bits);
}

enum sock__report_kind sock__access_check(const struct sock__access *a,
					  const struct sock_service *svc,
					  const struct sock_addr *peer)
{
	int family = sock_addr_family(peer);
	bool allowed = true;
	uint8_t key[16];
	size_t i;

	if (a->nrules && (family == AF_INET || family == AF_INET6)) {
		sock__host_key(peer, key);
		allowed = !a->nallow;
		for (i = 0; i < a->nrules; i++) {
			if (!sock__access_match(&a->rules[i], key))
				continue;
			if (a->rules[i].deny)
				return SOCK__REPORT_ACCESS;
			allowed = true;
		}
	} else if (a->nrules) {
		/* Ranges are only on IP listeners: a peer without an IP
		 * address is one whose address could not be read.  Not
		 * knowing who it is, refuse it, deny ranges alone or not:
		 * it might be in one. */
		allowed = false;
	}
	if (!allowed)
		return SOCK__REPORT_ACCESS;
	if (a->verify && !a->verify(peer, svc, a->verify_data))
		return SOCK__REPORT_VERIFY;
	return SOCK__REPORT_COUNT;
}

/* The rules of listener index, made on first use; NULL when no listener
 * has that index (-ENOENT) or memory ran out (-ENOMEM). */
static struct sock__access *access_of(struct sock_server *srv, int index,
				      int *err)
{
	struct sock__listener *l, *first = NULL;
	struct sock__access *a;
	unsigned int i;
	size_t j;

	for (a = srv->access; a; a = a->next)
		if (a->index == index)
			return a;
	for (i = 0; i < srv->nworkers && !first; i++)
		for (j = 0; j < srv->workers[i].nlis && !first; j++)
			if (srv->workers[i].lis[j]->index == index)
				first = srv->workers[i].lis[j];
	if (!first) {
		*err = -ENOENT;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	a->index = index;
	a->family = first->sock.family;
	a->type = first->sock.type;
	a->next = srv->access;
	srv->access = a;
	/* Every worker's socket on that address reads the same rules. */
	for (i = 0; i < srv->nworkers; i++) {
		for (j = 0; j < srv->workers[i].nlis; j++) {
			l = srv->workers[i].lis[j];
			if (l->index == index)
				l->access = a;
		}
	}
	return a;
}

/* Append rule to *rules (*n of them, room for *cap). */
static int push_rule(struct sock__rule **rules, size_t *n, size_t *cap,
		     const struct sock__rule *rule)
{
	struct sock__rule *grown;
	size_t room;

	if (*n == *cap) {
		room = *cap ? 2 * *cap : 8;
		grown = realloc(*rules, room * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*rules = grown;
		*cap = room;
	}
	(*rules)[(*n)++] = *rule;
	return 0;
}

/* The settings of IP listener index, for a range text of its parsed
 * into *rule, before run; NULL with *err set otherwise. */
static struct sock__access *ip_access_of(struct sock_server *srv, int index,
					 const char *text,
					 struct sock__rule *rule, int *err)
{
	struct sock__access *a;

	*err = srv->ran ? -EBUSY : sock__access_parse(text, rule);
	if (*err)
		return NULL;
	a = access_of(srv, index, err);
	if (a && a->family != AF_INET && a->family != AF_INET6) {
		*err = -EAFNOSUPPORT;
		return NULL;
	}
	return a;
}

static int add_rule(struct sock_server *srv, int index, const char *cidr,
		    bool deny)
{
	struct sock__rule rule;
	struct sock__access *a;
	int err = 0;

	if (!srv || !cidr)
		return -EINVAL;
	a = ip_access_of(srv, index, cidr, &rule, &err);
	if (!a)
		return err;
	rule.deny = deny;
	err = push_rule(&a->rules, &a->nrules, &a->cap, &rule);
	if (!err && !deny)
		a->nallow++;
	return err;
}

int sock_server_allow(struct sock_server *srv, int index, const char *cidr)
{
	return add_rule(srv, index, cidr, false);
}

int sock_server_deny(struct sock_server *srv, int index, const char *cidr)
{
	return add_rule(srv, index, cidr, true);
}

int sock_server_verify(struct sock_server *srv, int index, sock_verify_fn fn,
		       void *data)
{
	struct sock__access *a;
	int err = 0;

	if (!srv)
		return -EINVAL;
	if (srv->ran)
		return -EBUSY;
	a = access_of(srv, index, &err);
	if (!a)
		return err;
	a->verify = fn;
	a->verify_data = data;
	return 0;
}

int sock_server_proxy(struct sock_server *srv, int index, const char *from,
		      int header_timeout_ms)
{
	struct sock__rule rule;
	struct sock__access *a;
	int err = 0;

	if (!srv || !from || header_timeout_ms < 0)
		return -EINVAL;
	a = ip_access_of(srv, index, from, &rule, &err);
	if (!a)
		return err;
	if (a->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	err = push_rule(&a->proxy_from, &a->nproxy, &a->proxy_cap, &rule);
	if (!err)
		a->proxy_timeout_ms = header_timeout_ms;
	return err;
}

int sock_server_tls(struct sock_server *srv, int index,
		    struct sock_tls_ctx *ctx, int handshake_timeout_ms)
{
	struct sock__access *a;
	int err = 0;

	if (!srv || !ctx || handshake_timeout_ms < 0 ||
	    ctx->role != SOCK_TLS_SERVER || !ctx->has_cert)
		return -EINVAL;
	if (srv->ran)
		return -EBUSY;
	a = access_of(srv, index, &err);
	if (!a)
		return err;
	if (a->type != SOCK_STREAM)
		return -EOPNOTSUPP;
	sock__tls_ctx_get(ctx);
	sock_tls_ctx_free(a->tls);
	a->tls = ctx;
	a->tls_timeout_ms = handshake_timeout_ms;
	return 0;
}

void sock__access_free(struct sock_server *srv)
{
	struct sock__access *a, *next;

	for (a = srv->access; a; a = next) {
		next = a->next;
		sock_tls_ctx_free(a->tls);
		free(a->proxy_from);
		free(a->rules);
		free(a);
	}
	srv->access = NULL;
}

/* SPDX-License-Identifier: MIT */
/* clients_fuzz.c -- fuzz target: the client list's names and its JSON */

/*
 * Connections to the clients service (seed 003), driven in memory: each
 * comes from a peer address the input makes (IP, Unix path or abstract
 * name of any bytes, none) and sends a name of any bytes; the peer may
 * also read, end its side or reset.  A model of the list, written here
 * from the service's contract, predicts every reply.
 *
 * Invariants:
 *  - every reply is valid JSON by the strict checker (RFC 8259, valid
 *    UTF-8, no lone surrogate escape), with no raw DEL, C1 control, U+2028
 *    or U+2029 left in it;
 *  - it is an object of the clients, oldest first, each under its name:
 *    {"name": ..., "address": ..., "port": N}, the name being the first
 *    read's first 1024 bytes cut at LF less one CR, decoded as Python's
 *    "replace" does (each maximal ill-formed subpart one U+FFFD), the
 *    address the peer's (IPv4-mapped addresses unmapped, a Unix peer's
 *    name, "" and port 0 without one);
 *  - a name seen again replaces its entry; at most CLIENTS_MAX clients
 *    and CLIENTS_REPLY_MAX bytes of reply are kept (256 and 128 KiB, made
 *    16 and 32 KiB in the fuzz build: see fuzz.mk), the oldest forgotten
 *    first, and the reply has exactly the length the model gives it;
 *  - the reply goes out whole and the connection closes, unless the
 *    output queue overflowed (then a prefix went, and it is closing).
 */

#include "fake_server.h"
#include "json_check.h"
#include "services.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>

#define CONNS 8

/* ---- Python's "replace" decoding, by trying completions ---- */

/* The code point of the well-formed UTF-8 sequence of exactly n bytes at
 * p, judged by its value; -1 when it is not one. */
static long utf8_value(const unsigned char *p, size_t n)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	static const unsigned char lead_mask[] = { 0, 0x80, 0xe0, 0xf0, 0xf8 };
	static const unsigned char lead_bits[] = { 0, 0x00, 0xc0, 0xe0, 0xf0 };
	long cp;
	size_t i;

	if (n < 1 || n > 4 || (p[0] & lead_mask[n]) != lead_bits[n])
		return -1;
	cp = p[0] & (0x7f >> (n == 1 ? 0 : n));
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	return cp;
}

/* True when the m bytes at p begin some well-formed sequence: some way of
 * finishing them is one.  Only a second byte narrows what may follow. */
static bool begins_sequence(const unsigned char *p, size_t m)
{
	unsigned char seq[4];
	size_t n, i;
	int b;

	for (n = 2; n <= 4; n++) {
		if (m >= n)
			continue;
		memcpy(seq, p, m);
		for (b = 0x80; b <= 0xbf; b++) {
			for (i = m; i < n; i++)
				seq[i] = i == 1 ? (unsigned char)b : 0x80;
			if (utf8_value(seq, n) >= 0)
				return true;
			if (m >= 2)
				break;
		}
	}
	return false;
}

/* One decoded unit at p (avail bytes): its code point (0xfffd for an
 * ill-formed part) and the bytes it takes. */
static size_t decode_one(const unsigned char *p, size_t avail, long *cp)
{
	size_t n, m;

	for (n = 1; n <= 4 && n <= avail; n++) {
		*cp = utf8_value(p, n);
		if (*cp >= 0)
			return n;
	}
	*cp = 0xfffd;
	for (m = 1; m < 3 && m < avail && begins_sequence(p, m + 1); m++)
		;
	return m;
}

/* The JSON text's length of one code point in a string. */
static size_t escaped_len(long cp)
{
	if (cp == '"' || cp == '\\' || cp == '\b' || cp == '\f' || cp == '\n' ||
	    cp == '\r' || cp == '\t')
		return 2;
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029)
		return 6;
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

struct text {
	char *p;
	size_t len;
};

/* Decode len bytes into UTF-8 text; returns their JSON string's length,
 * quotes included. */
static size_t decode(const void *s, size_t len, struct text *out)
{
	const unsigned char *p = s;
	size_t i = 0, json = 2, n;
	long cp;

	out->p = malloc(4 * len + 1);
	FUZZ_CHECK(out->p, "out of memory");
	out->len = 0;
	while (i < len) {
		n = decode_one(p + i, len - i, &cp);
		json += escaped_len(cp);
		if (cp < 0x80) {
			out->p[out->len++] = (char)cp;
		} else if (cp < 0x800) {
			out->p[out->len++] = (char)(0xc0 | cp >> 6);
			out->p[out->len++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			out->p[out->len++] = (char)(0xe0 | cp >> 12);
			out->p[out->len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out->p[out->len++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out->p[out->len++] = (char)(0xf0 | cp >> 18);
			out->p[out->len++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			out->p[out->len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			out->p[out->len++] = (char)(0x80 | (cp & 0x3f));
		}
		i += n;
	}
	return json;
}

/* ---- the model of the list ---- */

struct client {
	struct text name, host;
	int port;
	size_t len; /* its member's length in the reply */
};

struct model {
	struct client list[CLIENTS_MAX + 1];
	size_t count, bytes;
};

static void forget(struct model *m, size_t i)
{
	m->bytes -= m->list[i].len;
	free(m->list[i].name.p);
	free(m->list[i].host.p);
	memmove(&m->list[i], &m->list[i + 1],
		(m->count - i - 1) * sizeof(m->list[0]));
	m->count--;
}

static void remember(struct model *m, const char *name, size_t len,
		     const char *host, int port)
{
	struct client c;
	char num[32];
	size_t i, k, h;

	k = decode(name, len, &c.name);
	h = decode(host, strlen(host), &c.host);
	c.port = port;
	c.len = 2 * k + h +
		(size_t)snprintf(num, sizeof(num), ",\"port\":%d}", port) +
		strlen(":{\"name\":") + strlen(",\"address\":");
	for (i = 0; i < m->count; i++) {
		if (m->list[i].name.len == c.name.len &&
		    !memcmp(m->list[i].name.p, c.name.p, c.name.len)) {
			forget(m, i);
			break;
		}
	}
	while (m->count &&
	       (m->count >= CLIENTS_MAX ||
		m->bytes + c.len + m->count + 2 > CLIENTS_REPLY_MAX))
		forget(m, 0);
	m->list[m->count++] = c;
	m->bytes += c.len;
}

/* The peer as the reply shows it: host text and port. */
static void peer_text(const struct sock_addr *peer, char *host, int *port)
{
	struct sock_addr a = *peer;
	int family;

	host[0] = '\0';
	*port = 0;
	sock_addr_unmap(&a);
	family = sock_addr_family(&a);
	if (family == AF_INET || family == AF_INET6) {
		inet_ntop(family,
			  family == AF_INET ? (const void *)&a.u.in.sin_addr
					    : (const void *)&a.u.in6.sin6_addr,
			  host, SOCK_ADDR_STRLEN);
		*port = sock_addr_port(&a);
	} else if (family == AF_UNIX && a.len > sizeof(sa_family_t)) {
		FUZZ_CHECK(sock_addr_format(&a, host, SOCK_ADDR_STRLEN) > 0,
			   "format");
	}
}

/* ---- checking a reply ---- */

static bool same(const struct jtok *t, const struct text *x)
{
	return t->type == JT_STRING && t->len == x->len &&
	       memcmp(t->str, x->p, x->len) == 0;
}

static bool is_key(const struct jtok *t, const char *word)
{
	return t->type == JT_STRING && t->key && !strcmp(t->str, word);
}

/* No DEL, C1 control or line separator is left unescaped. */
static void check_raw(const unsigned char *p, size_t len)
{
	size_t i = 0, n;
	long cp;

	while (i < len) {
		n = decode_one(p + i, len - i, &cp);
		FUZZ_CHECK(!(cp >= 0x7f && cp <= 0x9f) && cp != 0x2028 &&
				   cp != 0x2029,
			   "raw U+%04lX at %zu", cp, i);
		i += n;
	}
}

static void check_reply(const struct model *m, const unsigned char *reply,
			size_t len)
{
	static struct jdoc d; /* kept for the next reply */
	const struct jtok *t;
	char num[32];
	size_t at, i, want;

	want = m->bytes + (m->count ? m->count - 1 : 0) + 2;
	FUZZ_CHECK(len == want, "reply of %zu bytes, want %zu", len, want);
	FUZZ_CHECK(len <= CLIENTS_REPLY_MAX && m->count <= CLIENTS_MAX, "bound"
									"s");
	FUZZ_CHECK(json_check((const char *)reply, len, 4,
			      JSON_NO_LONE_SURROGATES, &d, &at),
		   "invalid JSON at %zu of %zu: \"%.*s\"", at, len,
		   (int)(len - at < 40 ? len - at : 40), reply + at);
	check_raw(reply, len);
	FUZZ_CHECK(d.n == 2 + 9 * m->count && d.tok[0].type == JT_OBJECT,
		   "%zu tokens for %zu clients", d.n, m->count);
	for (i = 0; i < m->count; i++) {
		const struct client *c = &m->list[i];

		t = &d.tok[1 + 9 * i];
		snprintf(num, sizeof(num), "%d", c->port);
		FUZZ_CHECK(t[0].key && same(&t[0], &c->name) &&
				   t[1].type == JT_OBJECT &&
				   is_key(&t[2], "name") &&
				   same(&t[3], &c->name) &&
				   is_key(&t[4], "address") &&
				   same(&t[5], &c->host) &&
				   is_key(&t[6], "port") &&
				   t[7].type == JT_NUMBER &&
				   t[7].rawlen == strlen(num) &&
				   !memcmp(t[7].raw, num, t[7].rawlen) &&
				   t[8].type == JT_END,
			   "client %zu of %zu differs", i, m->count);
	}
}

/* ---- the connections ---- */

struct run {
	struct sock_service svc;
	struct sock_loop loop;
	struct model model;
	struct sock_conn conn[CONNS];
	bool used[CONNS], named[CONNS];
	unsigned int next, opened;
};

static struct run *run_now;

/*
 * What the service sends connection i goes to a buffer kept from input
 * to input: replies near 128 KiB would otherwise take a fresh mapping
 * of memory each (the sanitizer's allocator maps large blocks anew).
 */
static unsigned char *reply_buf[CONNS];
static size_t reply_cap[CONNS];

static void keep_reply(struct sock_conn *c, const void *data, size_t len)
{
	size_t i = (size_t)(c - run_now->conn);

	if (c->out_len + len > reply_cap[i]) {
		reply_cap[i] = 2 * (c->out_len + len);
		reply_buf[i] = realloc(reply_buf[i], reply_cap[i]);
		FUZZ_CHECK(reply_buf[i], "out of memory");
	}
	memcpy(reply_buf[i] + c->out_len, data, len);
}

static void end(struct run *r, unsigned int i)
{
	if (!r->used[i])
		return;
	if (!r->conn[i].dead)
		fake_peer_reset(&r->conn[i], -ECONNRESET);
	FUZZ_CHECK(r->conn[i].dead, "connection %u did not end", i);
	fake_conn_release(&r->conn[i]);
	r->used[i] = false;
}

static unsigned int open_conn(struct run *r, struct fuzz_in *in)
{
	unsigned int i = r->next++ % CONNS;
	struct sock_addr peer;
	size_t room, limit;

	end(r, i);
	fake_peer(in, &peer, fuzz_u16(in));
	room = fuzz_u8(in) & 1 ? SIZE_MAX / 2 : fuzz_u16(in);
	limit = fuzz_u8(in) & 1 ? 256 * 1024 : (size_t)fuzz_u16(in) + 1;
	fake_conn_init(&r->conn[i], &r->svc, &r->loop, &peer, room, limit);
	r->conn[i].sink = keep_reply;
	r->used[i] = true;
	r->named[i] = false;
	r->opened++;
	fake_open(&r->conn[i]);
	return i;
}

/* The peer sends len bytes; the first read names the client. */
static void send_name(struct run *r, unsigned int i, const uint8_t *p,
		      size_t len, bool full_check)
{
	struct sock_conn *c = &r->conn[i];
	char host[SOCK_ADDR_STRLEN];
	const uint8_t *lf;
	bool first = !c->closing && !r->named[i];
	size_t n;
	int port;

	if (!fake_input(c, p, len) || !first)
		return;
	r->named[i] = true;
	n = len < CLIENTS_NAME_MAX ? len : CLIENTS_NAME_MAX;
	lf = memchr(p, '\n', n);
	if (lf)
		n = (size_t)(lf - p);
	if (n && p[n - 1] == '\r')
		n--;
	peer_text(&c->peer, host, &port);
	remember(&r->model, (const char *)p, n, host, port);
	FUZZ_CHECK(c->closing, "the service did not close");
	if (c->send_failed)
		return;
	if (full_check)
		check_reply(&r->model, reply_buf[i], c->out_len);
	else
		FUZZ_CHECK(c->out_len == r->model.bytes + r->model.count + 1,
			   "reply of %zu bytes", c->out_len);
}

/* Many clients at once, each named by a slice of the input and a number,
 * so that the bounds are reached in one step. */
static void flood(struct run *r, struct fuzz_in *in)
{
	unsigned int k = fuzz_u8(in) % (2 * CLIENTS_MAX) + 1, j, i;
	size_t len, n;
	const uint8_t *p = fuzz_bytes(in, fuzz_u16(in) % 1100, &len);
	char *name = malloc(len + 16);

	FUZZ_CHECK(name, "out of memory");
	for (j = 0; j < k; j++) {
		i = open_conn(r, in);
		memcpy(name, p, len);
		n = len + (size_t)snprintf(name + len, 16, "%u", r->opened);
		send_name(r, i, (const uint8_t *)name, n, j + 1 == k);
	}
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run r;
	struct fuzz_in in = { data, size };
	const uint8_t *p;
	unsigned int i;
	size_t len;
	void *list;

	memset(&r, 0, sizeof(r));
	run_now = &r;
	FUZZ_CHECK(clients_new(&list) == 0, "clients_new");
	r.svc = clients_service;
	r.svc.data = list;
	r.loop.now_ms = 1;
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in);

		i = (op >> 3) % CONNS;
		switch (op % 8) {
		case 0:
			open_conn(&r, &in);
			break;
		case 1:
		case 2:
			p = fuzz_bytes(&in, fuzz_u16(&in) % 4096 + 1, &len);
			if (r.used[i])
				send_name(&r, i, p, len, true);
			break;
		case 3:
			if (r.used[i])
				fake_peer_read(&r.conn[i], fuzz_u16(&in));
			break;
		case 4:
			if (r.used[i])
				fake_peer_eof(&r.conn[i]);
			break;
		case 5:
			end(&r, i);
			break;
		case 6:
			flood(&r, &in);
			break;
		default:
			if (r.used[i])
				fake_peer_read(&r.conn[i], SIZE_MAX);
			break;
		}
	}
	for (i = 0; i < CONNS; i++)
		end(&r, i);
	while (r.model.count)
		forget(&r.model, 0);
	clients_free(list);
	return 0;
}

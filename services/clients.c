/* SPDX-License-Identifier: MIT */
/* clients.c -- seed 003's client list: a name in, every client as JSON out */

#include <sock.h>

#include "services.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The seed's server reads a name with one recv(1024), records {name,
 * address, port} under it, answers with the whole list as a JSON object
 * and closes.  Its client sends the bare name and waits, so the answer
 * goes out at once, never waiting for more input.
 *
 * Each client is kept as its rendered JSON member, "name":{...}, so a
 * reply is the members joined by commas.  Bounds: CLIENTS_MAX clients and
 * CLIENTS_REPLY_MAX bytes of reply, the oldest forgotten first.
 */

struct entry {
	struct entry *prev, *next;
	size_t keylen; /* the JSON key, quotes included, starts text */
	size_t len;
	char text[];
};

struct clients {
	struct entry *oldest, *newest;
	size_t count;
	size_t bytes; /* sum of the entries' len */
};

/* ---- JSON strings ---- */

static size_t put_escape(char *out, unsigned int cp)
{
	static const char hex[] = "0123456789abcdef";

	switch (cp) {
	case '"':
	case '\\':
		out[0] = '\\';
		out[1] = (char)cp;
		return 2;
	case '\b':
		memcpy(out, "\\b", 2);
		return 2;
	case '\f':
		memcpy(out, "\\f", 2);
		return 2;
	case '\n':
		memcpy(out, "\\n", 2);
		return 2;
	case '\r':
		memcpy(out, "\\r", 2);
		return 2;
	case '\t':
		memcpy(out, "\\t", 2);
		return 2;
	}
	out[0] = '\\';
	out[1] = 'u';
	out[2] = hex[(cp >> 12) & 15];
	out[3] = hex[(cp >> 8) & 15];
	out[4] = hex[(cp >> 4) & 15];
	out[5] = hex[cp & 15];
	return 6;
}

bool clients_needs_escape(unsigned int cp)
{
	return cp < 0x20 || cp == '"' || cp == '\\' ||
	       (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029;
}

int clients_utf8_next(const unsigned char *s, size_t len, unsigned int *cp)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xbf;
	int n, i;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf)
		n = 2;
	else if (b >= 0xe0 && b <= 0xef)
		n = 3;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 4;
	else
		return -1;
	if (b == 0xe0)
		lo = 0xa0;
	else if (b == 0xed)
		hi = 0x9f;
	else if (b == 0xf0)
		lo = 0x90;
	else if (b == 0xf4)
		hi = 0x8f;
	*cp = b & (0xff >> (n + 1));
	for (i = 1; i < n; i++) {
		if ((size_t)i >= len || s[i] < lo || s[i] > hi)
			return -i;
		*cp = (*cp << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

size_t clients_json_string(char *out, const void *str, size_t len)
{
	const unsigned char *s = str;
	size_t i = 0, o = 0;
	unsigned int cp;
	int n;

	out[o++] = '"';
	while (i < len) {
		n = clients_utf8_next(s + i, len - i, &cp);
		if (n < 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += (size_t)-n;
		} else if (clients_needs_escape(cp)) {
			o += put_escape(out + o, cp);
			i += (size_t)n;
		} else {
			memcpy(out + o, s + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
		}
	}
	out[o++] = '"';
	return o;
}

/* ---- the list ---- */

int clients_new(void **out)
{
	struct clients *list = calloc(1, sizeof(*list));

	*out = NULL;
	if (!list)
		return -ENOMEM;
	*out = list;
	return 0;
}

static void entry_unlink(struct clients *list, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		list->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		list->newest = e->prev;
	list->count--;
	list->bytes -= e->len;
}

void clients_free(void *state)
{
	struct clients *list = state;

	if (!list)
		return;
	while (list->oldest) {
		struct entry *e = list->oldest;

		entry_unlink(list, e);
		free(e);
	}
	free(list);
}

/* The peer's host as text and its port (0 for a Unix peer). */
static void peer_text(struct sock_conn *conn, char *host, size_t size,
		      int *port)
{
	struct sock_addr a;
	int family;

	*port = 0;
	host[0] = '\0';
	if (sock_conn_peer(conn, &a))
		return;
	sock_addr_unmap(&a);
	family = sock_addr_family(&a);
	if (family == AF_INET || family == AF_INET6) {
		if (sock_inet_ntop(family,
				   family == AF_INET
					   ? (const void *)&a.u.in.sin_addr
					   : (const void *)&a.u.in6.sin6_addr,
				   host, size) < 0)
			host[0] = '\0';
		*port = sock_addr_port(&a);
	} else if (a.len > sizeof(sa_family_t)) {
		if (sock_addr_format(&a, host, size) < 0)
			host[0] = '\0';
	}
}

/* "name":{"name":"name","address":"host","port":N} */
static struct entry *entry_new(const char *name, size_t len, const char *host,
			       int port)
{
	size_t hlen = strlen(host), room;
	struct entry *e, *small;
	char *p;

	room = 2 * clients_json_room(len) + clients_json_room(hlen) + 64;
	e = malloc(sizeof(*e) + room);
	if (!e)
		return NULL;
	p = e->text;
	e->keylen = clients_json_string(p, name, len);
	p += e->keylen;
	memcpy(p, ":{\"name\":", 9);
	p += 9;
	memcpy(p, e->text, e->keylen);
	p += e->keylen;
	memcpy(p, ",\"address\":", 11);
	p += 11;
	p += clients_json_string(p, host, hlen);
	p += snprintf(p, 24, ",\"port\":%d}", port);
	e->len = (size_t)(p - e->text);
	small = realloc(e, sizeof(*e) + e->len);
	return small ? small : e;
}

/* Add e as the newest client, replacing one of the same name. */
static void remember(struct clients *list, struct entry *e)
{
	struct entry *old;

	for (old = list->oldest; old; old = old->next) {
		if (old->keylen == e->keylen &&
		    !memcmp(old->text, e->text, e->keylen)) {
			entry_unlink(list, old);
			free(old);
			break;
		}
	}
	while (list->count &&
	       (list->count >= CLIENTS_MAX ||
		list->bytes + e->len + list->count + 2 > CLIENTS_REPLY_MAX)) {
		old = list->oldest;
		entry_unlink(list, old);
		free(old);
	}
	e->prev = list->newest;
	e->next = NULL;
	if (list->newest)
		list->newest->next = e;
	else
		list->oldest = e;
	list->newest = e;
	list->count++;
	list->bytes += e->len;
}

/* {member,member,...} in one buffer, so it goes out in one send. */
static char *render(const struct clients *list, size_t *len)
{
	const struct entry *e;
	char *buf, *p;

	buf = malloc(list->bytes + list->count + 2);
	if (!buf)
		return NULL;
	p = buf;
	*p++ = '{';
	for (e = list->oldest; e; e = e->next) {
		if (e != list->oldest)
			*p++ = ',';
		memcpy(p, e->text, e->len);
		p += e->len;
	}
	*p++ = '}';
	*len = (size_t)(p - buf);
	return buf;
}

/*
 * Only the first read counts: its first CLIENTS_NAME_MAX bytes (the
 * seed's recv(1024)), cut at the first LF, less one trailing CR, are the
 * name.  Whatever else the client sends is dropped by the closing.
 */
static void clients_data(struct sock_conn *conn, const void *data, size_t len)
{
	struct clients *list = sock_conn_service_data(conn);
	char host[SOCK_ADDR_STRLEN], *reply;
	const char *name = data, *lf;
	struct entry *e;
	size_t n;
	int port;

	n = len < CLIENTS_NAME_MAX ? len : CLIENTS_NAME_MAX;
	lf = memchr(name, '\n', n);
	if (lf)
		n = (size_t)(lf - name);
	if (n && name[n - 1] == '\r')
		n--;
	peer_text(conn, host, sizeof(host), &port);
	e = entry_new(name, n, host, port);
	if (!e) {
		sock_conn_abort(conn, -ENOMEM);
		return;
	}
	remember(list, e);
	reply = render(list, &n);
	if (!reply) {
		sock_conn_abort(conn, -ENOMEM);
		return;
	}
	if (sock_conn_send(conn, reply, n) == 0)
		sock_conn_close(conn);
	free(reply);
}

const struct sock_service clients_service = {
	.name = "clients",
	.flags = SOCK_SERVICE_ONE_LOOP,
	.on_data = clients_data,
};

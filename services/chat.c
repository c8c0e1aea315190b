/* SPDX-License-Identifier: MIT */
/* chat.c -- a line-based chat room for nc and telnet */

#include <sock.h>

#include "services.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each line a member sends reaches every other member as "NAME: line",
 * where NAME is the sender's address; joins and leaves are announced as
 * "* NAME joined" and "* NAME left".  Lines go out with CR LF, so telnet
 * shows them right; a trailing CR is taken off lines that come in.
 *
 * Bounds: a line is at most CHAT_LINE_MAX bytes (the rest of a longer one,
 * up to its LF, is dropped and its sender told); control characters but
 * TAB become '?', so no one can drive another member's terminal; a
 * member's own memory is this struct, plus a line buffer only while a
 * line is half received; a member whose output queue is full is
 * disconnected, so a member that stops reading never slows the room.
 * The service runs on one loop (SOCK_SERVICE_ONE_LOOP): the room is
 * never touched by two threads.
 */
#define NAME_MAX_LEN 64

struct member {
	struct member *prev, *next;
	struct chat *room;
	struct sock_conn *conn;
	char *partial;	   /* CHAT_LINE_MAX + 1 bytes, or NULL */
	unsigned int plen; /* bytes in partial */
	bool cutting;	   /* dropping the rest of an over-long line */
	bool gone;	   /* disconnected, on_close still to come */
	char name[NAME_MAX_LEN];
};

struct chat {
	struct member head;
	unsigned int count;
	unsigned long joins; /* names Unix members */
};

/* "NAME: " + a line + CR LF */
#define OUT_MAX (NAME_MAX_LEN + 2 + CHAT_LINE_MAX + 2)

int chat_new(void **out)
{
	struct chat *room = calloc(1, sizeof(*room));

	*out = NULL;
	if (!room)
		return -ENOMEM;
	room->head.prev = room->head.next = &room->head;
	*out = room;
	return 0;
}

void chat_free(void *state)
{
	/* Members are freed by on_close before the server is freed. */
	free(state);
}

static void member_send(struct member *m, const char *buf, size_t len)
{
	if (m->gone)
		return;
	if (sock_conn_send(m->conn, buf, len)) {
		/* Its connection is ending already (the member left, or it
		 * broke): the server closes it, with its own reason. */
		m->gone = true;
		return;
	}
	if (sock_conn_is_full(m->conn)) {
		/* Too slow: out, rather than hold the room. */
		m->gone = true;
		sock_conn_abort(m->conn, -ENOBUFS);
	}
}

/* Send buf to every member but from (NULL: to all). */
static void broadcast(struct chat *room, const struct member *from,
		      const char *buf, size_t len)
{
	struct member *m;

	for (m = room->head.next; m != &room->head; m = m->next)
		if (m != from)
			member_send(m, buf, len);
}

/* "* NAME what" to every member but from (NULL: to all). */
static void notice(struct chat *room, const struct member *from,
		   const char *name, const char *what)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "* %s %s\r\n", name, what);

	if (n > 0 && (size_t)n < sizeof(buf))
		broadcast(room, from, buf, (size_t)n);
}

static void set_name(struct member *m, struct sock_conn *conn)
{
	struct sock_addr a;
	int family;

	if (sock_conn_peer(conn, &a) == 0) {
		sock_addr_unmap(&a);
		family = sock_addr_family(&a);
		if ((family == AF_INET || family == AF_INET6) &&
		    sock_addr_format(&a, m->name, sizeof(m->name)) > 0)
			return;
	}
	snprintf(m->name, sizeof(m->name), "local-%lu", m->room->joins);
}

static void chat_open(struct sock_conn *conn)
{
	static const char full[] = "* the room is full, try later\r\n";
	struct chat *room = sock_conn_service_data(conn);
	struct member *m;
	char buf[160];
	int n;

	if (room->count >= CHAT_MEMBERS_MAX) {
		if (sock_conn_send(conn, full, sizeof(full) - 1) == 0)
			sock_conn_close(conn);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		sock_conn_abort(conn, -ENOMEM);
		return;
	}
	m->room = room;
	m->conn = conn;
	room->joins++;
	set_name(m, conn);
	sock_conn_set_data(conn, m);
	m->prev = room->head.prev;
	m->next = &room->head;
	room->head.prev->next = m;
	room->head.prev = m;
	room->count++;
	n = snprintf(buf, sizeof(buf), "* welcome %s, %u here\r\n", m->name,
		     room->count);
	member_send(m, buf, (size_t)n);
	notice(room, m, m->name, "joined");
}

/* Pass one complete line of len bytes (CR taken off) to the others. */
static void say(struct member *m, const char *line, size_t len)
{
	char out[OUT_MAX];
	size_t n, i;

	n = strlen(m->name);
	memcpy(out, m->name, n);
	out[n++] = ':';
	out[n++] = ' ';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		out[n++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	out[n++] = '\r';
	out[n++] = '\n';
	broadcast(m->room, m, out, n);
}

static void tell_cut(struct member *m)
{
	char buf[80];
	int n = snprintf(buf, sizeof(buf),
			 "* your line was cut to %d bytes\r\n", CHAT_LINE_MAX);

	member_send(m, buf, (size_t)n);
}

/* Pass on one complete line of len bytes, its LF taken off. */
static void deliver(struct member *m, const char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		len--;
	if (len > CHAT_LINE_MAX) {
		say(m, line, CHAT_LINE_MAX);
		tell_cut(m);
		return;
	}
	say(m, line, len);
}

static void drop_partial(struct member *m)
{
	free(m->partial);
	m->partial = NULL;
	m->plen = 0;
}

/*
 * Keep n bytes of a line whose LF has not come yet.  A line that grows
 * past CHAT_LINE_MAX + 1 bytes (room for a CR) is over-long whatever
 * follows: its first CHAT_LINE_MAX bytes go out now and the rest, up to
 * the LF, is dropped.
 */
static int hold(struct member *m, const char *p, size_t n)
{
	size_t room;

	if (m->cutting)
		return 0;
	if (!m->partial) {
		m->partial = malloc(CHAT_LINE_MAX + 1);
		if (!m->partial)
			return -ENOMEM;
	}
	room = CHAT_LINE_MAX + 1 - m->plen;
	memcpy(m->partial + m->plen, p, n <= room ? n : room);
	if (n <= room) {
		m->plen += (unsigned int)n;
		return 0;
	}
	say(m, m->partial, CHAT_LINE_MAX);
	drop_partial(m);
	m->cutting = true;
	return 0;
}

/* The LF of a line that was held (or cut) arrived. */
static void end_line(struct member *m)
{
	if (m->cutting) {
		m->cutting = false;
		tell_cut(m);
		return;
	}
	deliver(m, m->partial, m->plen);
	drop_partial(m);
}

static void chat_data(struct sock_conn *conn, const void *data, size_t len)
{
	struct member *m = sock_conn_data(conn);
	const char *p = data, *lf;
	size_t n;

	if (!m || m->gone)
		return;
	while (len) {
		lf = memchr(p, '\n', len);
		n = lf ? (size_t)(lf - p) : len;
		if (lf && !m->plen && !m->cutting) {
			/* A whole line in this read: no copy kept. */
			deliver(m, p, n);
		} else if (hold(m, p, n)) {
			m->gone = true;
			sock_conn_abort(conn, -ENOMEM);
			return;
		} else if (lf) {
			end_line(m);
		}
		if (!lf)
			return;
		p += n + 1;
		len -= n + 1;
	}
}

static void chat_close(struct sock_conn *conn, int err)
{
	struct member *m = sock_conn_data(conn);
	struct chat *room;

	if (!m)
		return;
	room = m->room;
	m->prev->next = m->next;
	m->next->prev = m->prev;
	room->count--;
	notice(room, NULL, m->name,
	       err == -ENOBUFS ? "left (not reading)" : "left");
	free(m->partial);
	free(m);
	sock_conn_set_data(conn, NULL);
}

const struct sock_service chat_service = {
	.name = "chat",
	.flags = SOCK_SERVICE_ONE_LOOP,
	.on_open = chat_open,
	.on_data = chat_data,
	.on_close = chat_close,
};

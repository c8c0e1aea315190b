/* SPDX-License-Identifier: MIT */
/* fake_server.c -- the server API the services call, in memory, for fuzzing */

#include "fake_server.h"

#include <errno.h>
#include <stddef.h>

/* Connections whose close is deferred to the end of the event, newest
 * first, as src/server/conn.c keeps them. */
static struct sock_conn *pending;

static void record(struct sock_conn *c, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (c->sink) {
		c->sink(c, data, len);
		c->out_len += len;
		return;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;

		while (cap < c->out_len + len)
			cap *= 2;
		c->out = realloc(c->out, cap);
		FUZZ_CHECK(c->out, "out of memory");
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static void schedule_close(struct sock_conn *c, int err)
{
	if (c->pending || c->dead)
		return;
	if (err && !c->err)
		c->err = err;
	c->pending = c->closing = true;
	c->next_pending = pending;
	pending = c;
}

/* All output is out and c is closing: close now, or linger until the
 * peer ends its side (src/server/conn.c's close_when_drained). */
static void close_when_drained(struct sock_conn *c)
{
	if (c->linger)
		return;
	if (c->eof || c->bytes_in == 0) {
		schedule_close(c, 0);
		return;
	}
	c->linger = true;
	c->reading = true; /* input is read and dropped until the peer ends */
}

void fake_conn_init(struct sock_conn *c, const struct sock_service *svc,
		    struct sock_loop *loop, const struct sock_addr *peer,
		    size_t room, size_t limit)
{
	memset(c, 0, sizeof(*c));
	c->svc = svc;
	c->loop = loop;
	if (peer)
		c->peer = *peer;
	c->room = room;
	c->limit = limit ? limit : 1;
	c->reading = true;
}

void fake_conn_release(struct sock_conn *c)
{
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_cap = 0;
}

void fake_flush(void)
{
	struct sock_conn *c;

	/* on_close may fail other connections: they join while the list
	 * is being emptied. */
	while ((c = pending)) {
		pending = c->next_pending;
		c->next_pending = NULL;
		c->dead = c->closing = true;
		if (c->opened && c->svc->on_close)
			c->svc->on_close(c, c->err);
		c->queued = 0;
	}
}

void fake_open(struct sock_conn *c)
{
	c->opened = true;
	if (c->svc->on_open)
		c->svc->on_open(c);
	fake_flush();
}

bool fake_input(struct sock_conn *c, const void *data, size_t len)
{
	if (c->pending || c->dead || !c->reading || len == 0)
		return false;
	c->bytes_in += len;
	if (!c->closing)
		c->svc->on_data(c, data, len);
	fake_flush();
	return true;
}

bool fake_peer_eof(struct sock_conn *c)
{
	if (c->pending || c->dead || !c->reading || c->eof)
		return false;
	c->eof = true;
	if (c->linger || !c->queued) {
		schedule_close(c, 0);
	} else {
		/* Output still queued: stop reading, close once it is out. */
		c->reading = false;
		sock_conn_close(c);
	}
	fake_flush();
	return true;
}

void fake_peer_reset(struct sock_conn *c, int err)
{
	schedule_close(c, err);
	fake_flush();
}

/* The queue is empty again, or a producer's socket has room. */
static void drained(struct sock_conn *c)
{
	if (c->pending || c->dead)
		return;
	if (c->closing) {
		close_when_drained(c);
		return;
	}
	c->reading = true;
	if (c->want_drain) {
		c->want_drain = false;
		if (c->svc->on_drain)
			c->svc->on_drain(c);
	}
}

void fake_peer_read(struct sock_conn *c, size_t n)
{
	size_t in_socket = c->out_len - c->queued - c->read, moved;

	if (c->dead)
		return;
	if (n > in_socket)
		n = in_socket;
	c->read += n;
	c->room += n;
	if (c->queued) {
		moved = c->queued < c->room ? c->queued : c->room;
		c->queued -= moved;
		c->room -= moved;
		if (!c->queued)
			drained(c);
	} else if (c->room && c->want_drain) {
		drained(c);
	}
	fake_flush();
}

/* ---- the public calls, as src/server/conn.c and the epoll engine ---- */

int sock_conn_send(struct sock_conn *c, const void *data, size_t len)
{
	size_t now = 0;

	if (c->closing)
		return c->err ? c->err : -EPIPE;
	if (len == 0)
		return 0;
	if (!c->queued) {
		now = len < c->room ? len : c->room;
		record(c, data, now);
		c->room -= now;
		if (now == len)
			return 0;
	}
	if (c->queued + (len - now) > 4 * c->limit) {
		c->send_failed = true;
		schedule_close(c, -ENOBUFS);
		return -ENOBUFS;
	}
	record(c, (const char *)data + now, len - now);
	c->queued += len - now;
	c->want_drain = true;
	/* Flow control: stop reading from a peer that does not read. */
	if (sock_conn_is_full(c))
		c->reading = false;
	return 0;
}

ssize_t sock_conn_send_some(struct sock_conn *c, const void *data, size_t len)
{
	size_t n;

	if (c->closing)
		return c->err ? c->err : -EPIPE;
	if (c->queued) {
		c->want_drain = true;
		return 0;
	}
	if (len == 0)
		return 0;
	n = len < c->room ? len : c->room;
	record(c, data, n);
	c->room -= n;
	if (n < len)
		c->want_drain = true;
	return (ssize_t)n;
}

bool sock_conn_is_full(const struct sock_conn *c)
{
	return c->queued >= c->limit;
}

void sock_conn_close(struct sock_conn *c)
{
	if (c->closing || c->dead)
		return;
	c->closing = true;
	if (!c->queued)
		close_when_drained(c);
}

void sock_conn_abort(struct sock_conn *c, int err)
{
	c->aborted = true;
	schedule_close(c, err);
}

int sock_conn_peer(const struct sock_conn *c, struct sock_addr *addr)
{
	*addr = c->peer;
	return addr->len ? 0 : -ENOTCONN;
}

void *sock_conn_data(const struct sock_conn *c)
{
	return c->data;
}

void sock_conn_set_data(struct sock_conn *c, void *data)
{
	c->data = data;
}

void *sock_conn_service_data(const struct sock_conn *c)
{
	return c->svc->data;
}

struct sock_loop *sock_conn_loop(const struct sock_conn *c)
{
	return c->loop;
}

int64_t sock_loop_now_ms(const struct sock_loop *loop)
{
	return loop->now_ms;
}

/* ---- datagrams, as src/server/dgram.c ---- */

void fake_dgram_init(struct sock_dgram *d, const struct sock_service *svc,
		     struct sock_loop *loop, const struct sock_addr *peer,
		     size_t max_datagram)
{
	memset(d, 0, sizeof(*d));
	d->svc = svc;
	d->loop = loop;
	d->peer = peer;
	d->max_datagram = max_datagram;
	d->room = max_datagram;
}

void fake_dgram_release(struct sock_dgram *d)
{
	unsigned int i;

	for (i = 0; i < d->replies && i < 4; i++)
		free(d->reply[i]);
	d->replies = 0;
}

int sock_dgram_reply(struct sock_dgram *d, const void *data, size_t len)
{
	unsigned char *copy;

	if (d->replies < 4) {
		copy = malloc(len ? len : 1);
		FUZZ_CHECK(copy, "out of memory");
		memcpy(copy, data, len);
		d->reply[d->replies] = copy;
		d->reply_len[d->replies] = len;
	}
	d->replies++;
	if (len > d->max_datagram || len > d->room)
		return -EMSGSIZE;
	if (d->peer->len == 0 || (sock_addr_family(d->peer) == AF_UNIX &&
				  d->peer->len <= sizeof(sa_family_t)))
		return -EDESTADDRREQ;
	return 0;
}

size_t sock_dgram_room(const struct sock_dgram *d)
{
	return d->room < d->max_datagram ? d->room : d->max_datagram;
}

const struct sock_addr *sock_dgram_peer(const struct sock_dgram *d)
{
	return d->peer;
}

void *sock_dgram_service_data(const struct sock_dgram *d)
{
	return d->svc->data;
}

struct sock_loop *sock_dgram_loop(const struct sock_dgram *d)
{
	return d->loop;
}

/* ---- peers ---- */

void fake_peer(struct fuzz_in *in, struct sock_addr *a, uint16_t port)
{
	size_t off = offsetof(struct sockaddr_un, sun_path), n, len;
	const uint8_t *p;

	memset(a, 0, sizeof(*a));
	switch (fuzz_u8(in) % 6) {
	case 0:
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_addr.s_addr = htonl(fuzz_u32(in));
		a->u.in.sin_port = htons(port);
		a->len = sizeof(a->u.in);
		break;
	case 1:
	case 2:
		a->u.in6.sin6_family = AF_INET6;
		p = fuzz_bytes(in, 16, &n);
		memcpy(&a->u.in6.sin6_addr, p, n);
		if (a->u.in6.sin6_addr.s6_addr[0] & 1) {
			/* IPv4-mapped, as a dual-stack listener sees IPv4 */
			memset(&a->u.in6.sin6_addr, 0, 10);
			memset(&a->u.in6.sin6_addr.s6_addr[10], 0xff, 2);
		}
		if (fuzz_u8(in) & 1)
			a->u.in6.sin6_scope_id = fuzz_u8(in) & 1 ? 1
								 : fuzz_u32(in);
		a->u.in6.sin6_port = htons(port);
		a->len = sizeof(a->u.in6);
		break;
	case 3:
		a->u.un.sun_family = AF_UNIX;
		a->len = sizeof(sa_family_t);
		break;
	case 4:
		a->u.un.sun_family = AF_UNIX;
		len = fuzz_u8(in) % sizeof(a->u.un.sun_path);
		p = fuzz_bytes(in, len, &n);
		memcpy(a->u.un.sun_path, p, n);
		a->len = (socklen_t)(off + n);
		break;
	default:
		break; /* no peer address */
	}
}

/* ---- state kept across inputs ---- */

void *fake_shared_state(const struct service *s)
{
	static void *state[16];
	size_t i = (size_t)(s - services);

	FUZZ_CHECK(i < services_count && i < 16, "service");
	if (s->state_new && !state[i])
		FUZZ_CHECK(s->state_new(&state[i]) == 0, "state_new");
	return state[i];
}

/* SPDX-License-Identifier: MIT */
/* chargen.c -- the character generator service (RFC 864), TCP and UDP */

#include <sock.h>

#include "services.h"

#include <errno.h>
#include <stdlib.h>

/*
 * RFC 864's pattern repeats every 95 lines of 72 characters plus CR LF.
 * The service keeps one cycle followed by a slice's worth more, so a
 * slice starting anywhere in the cycle lies in one piece: a connection is
 * just an offset into the cycle, kept in its data pointer, and sending is
 * one copy-free call per slice however the client reads.
 */
#define PRINTABLE 95
#define LINE_CHARS 72
#define LINE_BYTES (LINE_CHARS + 2)
#define CYCLE (PRINTABLE * LINE_BYTES)
#define SLICE (256 * 1024)
/* RFC 864: "a datagram containing a random number of characters (between
 * 0 and 512)". */
#define DGRAM_MAX 512

void chargen_fill(char *buf, size_t len, uint64_t offset)
{
	uint64_t line = offset / LINE_BYTES;
	unsigned int col = (unsigned int)(offset % LINE_BYTES);
	size_t i;

	for (i = 0; i < len; i++) {
		if (col < LINE_CHARS)
			buf[i] = (char)(' ' + (line + col) % PRINTABLE);
		else
			buf[i] = col == LINE_CHARS ? '\r' : '\n';
		if (++col == LINE_BYTES) {
			col = 0;
			line++;
		}
	}
}

int chargen_new(void **out)
{
	char *buf = malloc(CYCLE + SLICE);

	*out = NULL;
	if (!buf)
		return -ENOMEM;
	chargen_fill(buf, CYCLE + SLICE, 0);
	*out = buf;
	return 0;
}

void chargen_free(void *state)
{
	free(state);
}

/*
 * Send slices for as long as the socket takes whole ones; on_drain resumes
 * when it has room again.  Nothing is queued or copied: the pace is the
 * reader's, and the loop stops at the socket buffer's size.
 */
static void produce(struct sock_conn *conn)
{
	const char *buf = sock_conn_service_data(conn);
	size_t off = (size_t)(uintptr_t)sock_conn_data(conn);
	ssize_t n;

	do {
		n = sock_conn_send_some(conn, buf + off, SLICE);
		if (n < 0)
			return; /* the connection is closing */
		off = (off + (size_t)n) % CYCLE;
	} while (n == SLICE);
	sock_conn_set_data(conn, (void *)(uintptr_t)off);
}

static void chargen_data(struct sock_conn *conn, const void *data, size_t len)
{
	/* RFC 864: "Any data received is thrown away." */
	(void)conn;
	(void)data;
	(void)len;
}

/*
 * The RFC asks for a random length; a hash of the sender and the clock
 * gives one without keeping state that several loops would share.  To a
 * sender that may be a spoofed victim the server allows less than 512
 * bytes (sock_dgram_room): the line is cut to what is allowed, still
 * "between 0 and 512" characters, rather than not sent at all.
 */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void chargen_datagram(struct sock_dgram *d, const void *data, size_t len)
{
	const char *buf = sock_dgram_service_data(d);
	const struct sock_addr *peer = sock_dgram_peer(d);
	uint64_t h;
	size_t n, line;

	(void)data;
	h = mix((uint64_t)sock_loop_now_ms(sock_dgram_loop(d)) ^
		((uint64_t)peer->len << 48) ^ ((uint64_t)len << 32) ^
		(uint64_t)(uint16_t)sock_addr_port(peer));
	n = (size_t)(h % (DGRAM_MAX + 1));
	if (n > sock_dgram_room(d))
		n = sock_dgram_room(d);
	line = (size_t)((h >> 16) % PRINTABLE);
	if (sock_dgram_reply(d, buf + line * LINE_BYTES, n))
		return; /* no room for replies now: this one is dropped */
}

const struct sock_service chargen_service = {
	.name = "chargen",
	.on_open = produce,
	.on_data = chargen_data,
	.on_drain = produce,
	.on_datagram = chargen_datagram,
};

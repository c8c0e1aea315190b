/* SPDX-License-Identifier: MIT */
/* time.c -- the time service (RFC 868), TCP and UDP */

#include <sock.h>

#include "services.h"

#include <time.h>

/* Seconds from 1900-01-01 to 1970-01-01 (RFC 868). */
#define RFC868_EPOCH_OFFSET 2208988800u

/*
 * RFC 868 counts seconds from 1900 in 32 bits and "will serve until the
 * year 2036"; keeping the low 32 bits is the protocol, not an overflow:
 * clients read the value in the era closest to their own clock.
 */
static void rfc868_encode(unsigned char out[static 4], time_t now)
{
	sock_put_be32(out, (uint32_t)now + RFC868_EPOCH_OFFSET);
}

/* "The server sends the time as a 32 bit binary number" and closes. */
static void time_open(struct sock_conn *conn)
{
	unsigned char t[4];

	rfc868_encode(t, time(NULL));
	if (sock_conn_send(conn, t, sizeof(t)))
		return; /* the connection failed and is closing */
	sock_conn_close(conn);
}

static void time_data(struct sock_conn *conn, const void *data, size_t len)
{
	/* Input is not part of the protocol; it is dropped. */
	(void)conn;
	(void)data;
	(void)len;
}

/* Any datagram, an empty one included, is a request. */
static void time_datagram(struct sock_dgram *d, const void *data, size_t len)
{
	unsigned char t[4];

	(void)data;
	(void)len;
	rfc868_encode(t, time(NULL));
	if (sock_dgram_reply(d, t, sizeof(t)))
		return; /* no room for replies now: this one is dropped */
}

const struct sock_service time_service = {
	.name = "time",
	.on_open = time_open,
	.on_data = time_data,
	.on_datagram = time_datagram,
};

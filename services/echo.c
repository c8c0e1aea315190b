/* SPDX-License-Identifier: MIT */
/* echo.c -- the echo service (RFC 862), TCP and UDP */

#include <sock.h>

#include "services.h"

/*
 * Everything received goes straight back.  An idle connection holds
 * nothing of ours; the server's flow control stops reading from a peer
 * that does not read its echo.
 */
static void echo_data(struct sock_conn *conn, const void *data, size_t len)
{
	if (sock_conn_send(conn, data, len))
		return; /* the connection failed and is closing */
}

/* RFC 862: "send back the data in an answering datagram", empty ones
 * included. */
static void echo_datagram(struct sock_dgram *d, const void *data, size_t len)
{
	if (sock_dgram_reply(d, data, len))
		return; /* no room for replies now: this one is dropped */
}

const struct sock_service echo_service = {
	.name = "echo",
	.on_data = echo_data,
	.on_datagram = echo_datagram,
};

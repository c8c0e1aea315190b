/* SPDX-License-Identifier: MIT */
/* discard.c -- the discard service (RFC 863), TCP and UDP */

#include <sock.h>

#include "services.h"

static void discard_data(struct sock_conn *conn, const void *data, size_t len)
{
	(void)conn;
	(void)data;
	(void)len;
}

static void discard_datagram(struct sock_dgram *d, const void *data, size_t len)
{
	(void)d;
	(void)data;
	(void)len;
}

const struct sock_service discard_service = {
	.name = "discard",
	.on_data = discard_data,
	.on_datagram = discard_datagram,
};

/* SPDX-License-Identifier: MIT */
/* daytime.c -- the daytime service (RFC 867), TCP and UDP */

#include <sock.h>

#include "services.h"

#include <string.h>
#include <time.h>

/*
 * RFC 867 leaves the syntax free and suggests one line of ASCII; the
 * line is ctime()'s, in local time, as inetd's built-in daytime sends,
 * with CR LF: "Tue Jan 21 12:00:00 2025\r\n".  Returns the length.
 */
static size_t daytime_line(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	if (!localtime_r(&now, &tm))
		gmtime_r(&now, &tm);
	n = strftime(buf, size, "%a %b %e %H:%M:%S %Y\r\n", &tm);
	if (n == 0) {
		/* A year too long for the buffer: no date is better than a
		 * wrong one. */
		memcpy(buf, "\r\n", 2);
		n = 2;
	}
	return n;
}

static void daytime_open(struct sock_conn *conn)
{
	char line[64];

	if (sock_conn_send(conn, line, daytime_line(line, sizeof(line))))
		return; /* the connection failed and is closing */
	sock_conn_close(conn);
}

static void daytime_data(struct sock_conn *conn, const void *data, size_t len)
{
	/* "Any data received is thrown away." */
	(void)conn;
	(void)data;
	(void)len;
}

static void daytime_datagram(struct sock_dgram *d, const void *data, size_t len)
{
	char line[64];

	(void)data;
	(void)len;
	if (sock_dgram_reply(d, line, daytime_line(line, sizeof(line))))
		return; /* no room for replies now: this one is dropped */
}

const struct sock_service daytime_service = {
	.name = "daytime",
	.on_open = daytime_open,
	.on_data = daytime_data,
	.on_datagram = daytime_datagram,
};

/* SPDX-License-Identifier: MIT */
/* server_event.c -- upper-case echo with event handlers */

/*
 * Usage: server_event [ADDRESS]   (default 127.0.0.1:9999); Ctrl-C stops it.
 * The handler runs on the event loop, so it must not block: what a peer
 * cannot take yet is queued by the server.
 */

#include <sock.h>

#include <ctype.h>

static void on_data(struct sock_conn *conn, const void *data, size_t len)
{
	const unsigned char *p = data;
	char buf[4096];
	size_t i, n;

	for (; len > 0; p += n, len -= n) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = (char)toupper(p[i]);
		if (sock_conn_send(conn, buf, n) < 0)
			return;
	}
}

static const struct sock_service service = { .name = "upper",
					     .mode = SOCK_MODE_EVENT,
					     .on_data = on_data };

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:9999";
	int err = sock_serve(&service, SOCK_STREAM, addr, NULL);

	if (err < 0)
		fprintf(stderr, "server_event: %s: %s\n", addr,
			sock_strerror(err));
	return err < 0;
}

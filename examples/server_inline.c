/* SPDX-License-Identifier: MIT */
/* server_inline.c -- socketserver's TCPServer: one connection at a time */

/*
 * Usage: server_inline [ADDRESS]   (default 127.0.0.1:9999); Ctrl-C stops it.
 * handle() runs on the server's loop: the next connection waits in the
 * backlog until it returns, as with socketserver.TCPServer.
 */

#include <sock.h>

#include <ctype.h>

static void handle(struct sock *conn, const struct sock_addr *peer, void *data)
{
	char buf[4096];
	ssize_t n, i;

	(void)peer;
	(void)data;
	while ((n = sock_recv(conn, buf, sizeof(buf), 0)) > 0) {
		for (i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (sock_sendall(conn, buf, (size_t)n, NULL, 0) < 0)
			return;
	}
}

static const struct sock_service service = { .name = "upper",
					     .mode = SOCK_MODE_INLINE,
					     .handle = handle };

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:9999";
	int err = sock_serve(&service, SOCK_STREAM, addr, NULL);

	if (err < 0)
		fprintf(stderr, "server_inline: %s: %s\n", addr,
			sock_strerror(err));
	return err < 0;
}

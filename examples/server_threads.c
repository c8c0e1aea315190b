/* SPDX-License-Identifier: MIT */
/* server_threads.c -- socketserver's ThreadingTCPServer: a thread each */

/*
 * Usage: server_threads [ADDRESS]   (default 127.0.0.1:9999); Ctrl-C stops it.
 * Every connection gets a thread of its own (ThreadingMixIn).
 */

#include <sock.h>

#include <ctype.h>
#include <unistd.h>

/* Each line comes back in capitals, prefixed with the thread serving it. */
static void handle(struct sock *conn, const struct sock_addr *peer, void *data)
{
	char line[1024], reply[1100];
	ssize_t n, i;
	int k;

	(void)peer;
	(void)data;
	while ((n = sock_recv_line(conn, line, sizeof(line))) > 0) {
		k = snprintf(reply, sizeof(reply),
			     "thread %d: ", (int)gettid());
		for (i = 0; i < n; i++)
			reply[k + i] = (char)toupper((unsigned char)line[i]);
		if (sock_sendall(conn, reply, (size_t)(k + n), NULL, 0) < 0)
			return;
	}
}

static const struct sock_service service = { .name = "upper",
					     .mode = SOCK_MODE_THREAD,
					     .handle = handle };

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:9999";
	int err = sock_serve(&service, SOCK_STREAM, addr, NULL);

	if (err < 0)
		fprintf(stderr, "server_threads: %s: %s\n", addr,
			sock_strerror(err));
	return err < 0;
}

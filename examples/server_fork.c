/* SPDX-License-Identifier: MIT */
/* server_fork.c -- socketserver's ForkingTCPServer: a process each */

/*
 * Usage: server_fork [ADDRESS]   (default 127.0.0.1:9999); Ctrl-C stops it.
 * Every connection gets a process of its own (ForkingMixIn).
 */

#include <sock.h>

#include <ctype.h>
#include <unistd.h>

/* Each line comes back in capitals, prefixed with the process serving it. */
static void handle(struct sock *conn, const struct sock_addr *peer, void *data)
{
	char line[1024], reply[1100];
	ssize_t n, i;
	int k;

	(void)peer;
	(void)data;
	while ((n = sock_recv_line(conn, line, sizeof(line))) > 0) {
		k = snprintf(reply, sizeof(reply),
			     "process %d: ", (int)getpid());
		for (i = 0; i < n; i++)
			reply[k + i] = (char)toupper((unsigned char)line[i]);
		if (sock_sendall(conn, reply, (size_t)(k + n), NULL, 0) < 0)
			return;
	}
}

static const struct sock_service service = { .name = "upper",
					     .mode = SOCK_MODE_FORK,
					     .handle = handle };

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:9999";
	int err = sock_serve(&service, SOCK_STREAM, addr, NULL);

	if (err < 0)
		fprintf(stderr, "server_fork: %s: %s\n", addr,
			sock_strerror(err));
	return err < 0;
}

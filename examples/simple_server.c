/* SPDX-License-Identifier: MIT */
/* simple_server.c -- seed 001's "A Simple Server" (server.py): an echo server */

/*
 * Usage: simple_server [HOST [PORT]]	(default this host's name, 12345)
 * Accepts one connection, thanks the client on the terminal, sends back
 * everything it receives, and exits when the client hangs up.
 */

#include <sock.h>

static int fail(const char *what, ssize_t err)
{
	fprintf(stderr, "simple_server: %s: %s\n", what,
		sock_strerror((int)err));
	return 1;
}

int main(int argc, char **argv)
{
	char name[SOCK_HOSTNAME_MAX] = "", addr[SOCK_ADDR_STRLEN];
	char host[NI_MAXHOST], data[1024];
	struct sock s = SOCK_CLOSED, conn;
	struct sock_addr peer;
	ssize_t n;

	n = argc > 1 ? 0 : sock_gethostname(name, sizeof(name));
	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : name,
		 argc > 2 ? argv[2] : "12345");
	if (!n)
		n = sock_listen(&s, SOCK_STREAM, addr, 5, 0);
	if (!n)
		n = sock_accept(&s, &conn, &peer);
	sock_close(&s);
	if (!n)
		n = sock_getnameinfo(&peer, NI_NUMERICHOST, host, sizeof(host),
				     NULL, 0);
	if (n)
		return fail(addr, n);
	/* Python's print() puts a space between its arguments */
	printf("Got connection from  %s ( %d )\n", host, sock_addr_port(&peer));
	printf("Thank you for connecting\n");
	fflush(stdout);

	while ((n = sock_recv(&conn, data, sizeof(data), 0)) > 0) {
		n = sock_sendall(&conn, data, (size_t)n, NULL, 0);
		if (n < 0)
			break;
	}
	sock_close(&conn);
	return n < 0 ? fail(host, n) : 0;
}

/* SPDX-License-Identifier: MIT */
/* ref_echo_server.c -- seed 002's echo server program (Python 1 reference) */

/*
 * Usage: ref_echo_server [HOST [PORT]]	(default all addresses, 50007)
 * Accepts one connection, sends back everything it receives, and exits
 * when the client hangs up.  (The seed's send() may send only part of
 * the data; sock_sendall() sends it all.)
 */

#include "seed.h"

static int fail(const char *what, ssize_t err)
{
	fprintf(stderr, "ref_echo_server: %s: %s\n", what,
		sock_strerror((int)err));
	return 1;
}

int main(int argc, char **argv)
{
	char addr[SOCK_ADDR_STRLEN], who[SEED_TUPLE_LEN], data[1024];
	struct sock s, conn;
	struct sock_addr peer;
	ssize_t n;

	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : "",
		 argc > 2 ? argv[2] : "50007");
	n = sock_listen(&s, SOCK_STREAM, addr, 1, 0);
	if (!n)
		n = sock_accept(&s, &conn, &peer);
	sock_close(&s);
	if (n)
		return fail(addr, n);
	printf("Connected by %s\n", seed_tuple(&peer, who, sizeof(who)));
	fflush(stdout);

	while ((n = sock_recv(&conn, data, sizeof(data), 0)) > 0) {
		n = sock_sendall(&conn, data, (size_t)n, NULL, 0);
		if (n < 0)
			break;
	}
	sock_close(&conn);
	return n < 0 ? fail(who, n) : 0;
}

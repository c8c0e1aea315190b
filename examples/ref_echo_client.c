/* SPDX-License-Identifier: MIT */
/* ref_echo_client.c -- seed 002's echo client program (Python 1 reference) */

/*
 * Usage: ref_echo_client [HOST [PORT]]	(default daring.cwi.nl 50007)
 * Sends a greeting and prints what comes back as Python's repr() of bytes
 * does.  (The seed's send() may send only part of the data;
 * sock_sendall() sends it all.)
 */

#include "seed.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	static const char hello[] = "Hello, world";
	char addr[SOCK_ADDR_STRLEN];
	void *data = NULL;
	struct sock s;
	ssize_t n;

	snprintf(addr, sizeof(addr), "%s:%s",
		 argc > 1 ? argv[1] : "daring.cwi.nl", /* the remote host */
		 argc > 2 ? argv[2] : "50007");
	n = sock_connect(&s, SOCK_STREAM, addr, SOCK_FOREVER);
	if (!n)
		n = sock_sendall(&s, hello, strlen(hello), NULL, 0);
	if (!n)
		n = sock_recv_alloc(&s, 1024, &data, 0);
	sock_close(&s);
	if (n < 0) {
		fprintf(stderr, "ref_echo_client: %s: %s\n", addr,
			sock_strerror((int)n));
		return 1;
	}
	printf("Received ");
	seed_repr(data, (size_t)n);
	putchar('\n');
	free(data);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* echo_client.c -- seed 004's echo_client.py: send a greeting, print the echo */

/*
 * Usage: echo_client [HOST [PORT]]	(default this host's name, 12345)
 * Sends a greeting and prints what comes back as Python's repr() of bytes
 * does.
 */

#include "seed.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	char host[SOCK_HOSTNAME_MAX] = "", addr[SOCK_ADDR_STRLEN];
	static const char hello[] = "Hello, world";
	void *data = NULL;
	struct sock s = SOCK_CLOSED;
	ssize_t n;

	n = argc > 1 ? 0 : sock_gethostname(host, sizeof(host));
	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : host,
		 argc > 2 ? argv[2] : "12345");
	if (!n)
		n = sock_connect(&s, SOCK_STREAM, addr, SOCK_FOREVER);
	if (!n)
		n = sock_sendall(&s, hello, strlen(hello), NULL, 0);
	if (!n)
		n = sock_recv_alloc(&s, 1024, &data, 0);
	sock_close(&s);
	if (n < 0) {
		fprintf(stderr, "echo_client: %s: %s\n", addr,
			sock_strerror((int)n));
		return 1;
	}
	printf("Received ");
	seed_repr(data, (size_t)n);
	putchar('\n');
	free(data);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* daytime_client.c -- seed 004's client.py: print the time a server sends */

/*
 * Usage: daytime_client [HOST [PORT]]	(default this host's name, 9999)
 * Receives no more than 1024 bytes, as the seed does, and prints them.
 */

#include <sock.h>

#include <stdlib.h>

int main(int argc, char **argv)
{
	char name[SOCK_HOSTNAME_MAX] = "", addr[SOCK_ADDR_STRLEN];
	struct sock s = SOCK_CLOSED;
	void *tm = NULL;
	ssize_t n;

	n = argc > 1 ? 0 : sock_gethostname(name, sizeof(name));
	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : name,
		 argc > 2 ? argv[2] : "9999");
	if (!n)
		n = sock_connect(&s, SOCK_STREAM, addr, SOCK_FOREVER);
	if (!n)
		n = sock_recv_alloc(&s, 1024, &tm, 0);
	sock_close(&s);
	if (n < 0) {
		fprintf(stderr, "daytime_client: %s: %s\n", addr,
			sock_strerror((int)n));
		return 1;
	}
	printf("The time got from the server is %s\n", (char *)tm);
	free(tm);
	return 0;
}

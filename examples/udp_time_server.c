/* SPDX-License-Identifier: MIT */
/* udp_time_server.c -- seed 000's socket-example-5.py: a datagram time server */

/*
 * Usage: udp_time_server [HOST [PORT [COUNT]]]	(default all addresses, 8037)
 * Answers every datagram with the time as 4 bytes (RFC 868); exits after
 * COUNT datagrams when COUNT is given.
 */

#include "seed.h"

#include <stdlib.h>
#include <time.h>

/* reference time */
#define TIME1970 2208988800LL

static int fail(const char *what, ssize_t err)
{
	fprintf(stderr, "udp_time_server: %s: %s\n", what,
		sock_strerror((int)err));
	return 1;
}

int main(int argc, char **argv)
{
	const char *port = argc > 2 ? argv[2] : "8037";
	long count = argc > 3 ? atol(argv[3]) : -1, served;
	char addr[SOCK_ADDR_STRLEN], who[SEED_TUPLE_LEN];
	struct sock_addr client;
	struct sock service;
	unsigned char t[4];
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : "", port);
	n = sock_open(&service, AF_INET, SOCK_DGRAM, 0);
	if (!n)
		n = sock_bind(&service, addr);
	if (n)
		return fail(addr, n);
	printf("listening on port %s\n", port);

	for (served = 0; count < 0 || served < count; served++) {
		/* a zero-length receive takes the datagram, whatever it holds */
		n = sock_recvfrom(&service, t, 0, &client, 0);
		if (n < 0)
			return fail("recvfrom", n);
		printf("connection from %s\n",
		       seed_tuple(&client, who, sizeof(who)));
		sock_put_be32(t, (uint32_t)(time(NULL) + TIME1970));
		n = sock_sendto(&service, t, sizeof(t), &client, 0);
		if (n < 0)
			fail(who, n);
	}
	sock_close(&service);
	return 0;
}

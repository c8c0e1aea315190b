/* SPDX-License-Identifier: MIT */
/* time_server.c -- seed 000's socket-example-2.py: a time protocol server */

/*
 * Usage: time_server [HOST [PORT [COUNT]]]	(default all addresses, 8037)
 * Sends each client the time as 4 bytes (RFC 868) and hangs up; exits
 * after COUNT connections when COUNT is given.
 */

#include "seed.h"

#include <stdlib.h>
#include <time.h>

/* reference time */
#define TIME1970 2208988800LL

static int fail(const char *what, int err)
{
	fprintf(stderr, "time_server: %s: %s\n", what, sock_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	const char *port = argc > 2 ? argv[2] : "8037";
	long count = argc > 3 ? atol(argv[3]) : -1, served;
	char addr[SOCK_ADDR_STRLEN], who[SEED_TUPLE_LEN];
	struct sock service, channel;
	struct sock_addr info;
	unsigned char t[4];
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : "", port);
	err = sock_listen(&service, SOCK_STREAM, addr, 1, 0);
	if (err)
		return fail(addr, err);
	printf("listening on port %s\n", port);

	for (served = 0; count < 0 || served < count; served++) {
		err = sock_accept(&service, &channel, &info);
		if (err)
			return fail("accept", err);
		printf("connection from %s\n",
		       seed_tuple(&info, who, sizeof(who)));
		sock_put_be32(t, (uint32_t)(time(NULL) + TIME1970));
		err = sock_sendall(&channel, t, sizeof(t), NULL, 0);
		if (err)
			fail(who, err);
		sock_close(&channel);
	}
	sock_close(&service);
	return 0;
}

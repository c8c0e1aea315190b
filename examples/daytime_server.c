/* SPDX-License-Identifier: MIT */
/* daytime_server.c -- seed 004's server.py: send the time as text */

/*
 * Usage: daytime_server [HOST [PORT [COUNT]]]	(default this host's name,
 * 9999).  Sends each client the local time as ctime() text ending in
 * "\r\n" and hangs up; exits after COUNT connections when COUNT is given.
 */

#include "seed.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(const char *what, int err)
{
	fprintf(stderr, "daytime_server: %s: %s\n", what, sock_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	long count = argc > 3 ? atol(argv[3]) : -1, served;
	char name[SOCK_HOSTNAME_MAX] = "", addr[SOCK_ADDR_STRLEN];
	char who[SEED_TUPLE_LEN], now[64];
	struct sock serversocket = SOCK_CLOSED, clientsocket;
	struct sock_addr peer;
	time_t t;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	err = argc > 1 ? 0 : sock_gethostname(name, sizeof(name));
	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : name,
		 argc > 2 ? argv[2] : "9999");
	if (!err) /* queue up to 5 requests */
		err = sock_listen(&serversocket, SOCK_STREAM, addr, 5, 0);
	if (err)
		return fail(addr, err);

	for (served = 0; count < 0 || served < count; served++) {
		err = sock_accept(&serversocket, &clientsocket, &peer);
		if (err)
			return fail("accept", err);
		printf("Got a connection from %s\n",
		       seed_tuple(&peer, who, sizeof(who)));
		t = time(NULL);
		snprintf(now, sizeof(now), "%.24s\r\n", ctime(&t));
		err = sock_sendall(&clientsocket, now, strlen(now), NULL, 0);
		if (err)
			fail(who, err);
		sock_close(&clientsocket);
	}
	sock_close(&serversocket);
	return 0;
}

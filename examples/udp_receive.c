/* SPDX-License-Identifier: MIT */
/* udp_receive.c -- seed 003's "Receiving data via UDP": print each datagram */

/*
 * Usage: udp_receive [HOST [PORT [COUNT]]]	(default localhost 6667)
 * Prints the sender and the bytes of each datagram, as Python prints a
 * tuple and bytes; exits after COUNT datagrams when COUNT is given.
 */

#include "seed.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	long count = argc > 3 ? atol(argv[3]) : -1, received;
	char addr[SOCK_ADDR_STRLEN], who[SEED_TUPLE_LEN];
	struct sock_addr from;
	struct sock sock;
	ssize_t n, err;
	void *msg;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : "localhost",
		 argc > 2 ? argv[2] : "6667");
	err = sock_open(&sock, AF_INET, SOCK_DGRAM, 0);
	if (!err)
		err = sock_bind(&sock, addr);

	for (received = 0; !err && (count < 0 || received < count);
	     received++) {
		/* 8192: the amount of bytes to read at maximum */
		n = sock_recvfrom_alloc(&sock, 8192, &msg, &from, 0);
		if (n < 0) {
			err = n;
			break;
		}
		printf("Got message from %s: ",
		       seed_tuple(&from, who, sizeof(who)));
		seed_repr(msg, (size_t)n);
		putchar('\n');
		free(msg);
	}
	sock_close(&sock);
	if (err) {
		fprintf(stderr, "udp_receive: %s: %s\n", addr,
			sock_strerror((int)err));
		return 1;
	}
	return 0;
}

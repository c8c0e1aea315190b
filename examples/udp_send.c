/* SPDX-License-Identifier: MIT */
/* udp_send.c -- seed 003's "Sending data via UDP": one datagram, no reply */

/* Usage: udp_send [HOST [PORT]]	(default localhost 6667) */

#include <sock.h>

#include <string.h>

int main(int argc, char **argv)
{
	static const char msg[] = "Hello you there!";
	char addr[SOCK_ADDR_STRLEN];
	struct sock s;
	ssize_t n;

	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : "localhost",
		 argc > 2 ? argv[2] : "6667");
	n = sock_open(&s, AF_INET, SOCK_DGRAM, 0);
	if (!n)
		n = sock_connect_to(&s, addr); /* sets where send() sends */
	if (!n)
		n = sock_send(&s, msg, strlen(msg), 0);
	sock_close(&s);
	if (n < 0) {
		fprintf(stderr, "udp_send: %s: %s\n", addr,
			sock_strerror((int)n));
		return 1;
	}
	return 0;
}

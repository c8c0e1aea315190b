/* SPDX-License-Identifier: MIT */
/* udp_time_client.c -- seed 000's socket-example-4.py: a datagram time client */

/*
 * Usage: udp_time_client [HOST [PORT]]	(default localhost 8037)
 * Sends an empty datagram and reads the 4-byte time (RFC 868) in reply.
 * The socket is connected, so only the server's reply is accepted and a
 * missing server shows as "connection refused" instead of a silent wait.
 */

#include <sock.h>

#include <errno.h>
#include <time.h>

/* reference time (in seconds since 1900-01-01 00:00:00) */
#define TIME1970 2208988800LL /* 1970-01-01 00:00:00 */

int main(int argc, char **argv)
{
	char addr[SOCK_ADDR_STRLEN];
	unsigned char buf[4];
	struct sock s;
	ssize_t n;
	time_t t;

	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : "localhost",
		 argc > 2 ? argv[2] : "8037");
	n = sock_open(&s, AF_INET, SOCK_DGRAM, 0);
	if (!n)
		n = sock_connect_to(&s, addr);
	if (!n)
		n = sock_send(&s, "", 0, 0); /* send empty packet */
	if (!n)
		n = sock_recv(&s, buf, sizeof(buf), 0);
	sock_close(&s);
	if (n >= 0 && n != sizeof(buf))
		n = -EPROTO; /* not a time reply */
	if (n < 0) {
		fprintf(stderr, "udp_time_client: %s: %s\n", addr,
			sock_strerror((int)n));
		return 1;
	}
	t = (time_t)(sock_get_be32(buf) - TIME1970);

	printf("server time is %s", ctime(&t));
	printf("local clock is %lld seconds off\n",
	       (long long)(time(NULL) - t));
	return 0;
}

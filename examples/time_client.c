/* SPDX-License-Identifier: MIT */
/* time_client.c -- seed 000's socket-example-1.py: a time protocol client */

/*
 * Usage: time_client [HOST [PORT]]	(default www.python.org 37)
 * Reads the server's 4-byte count of seconds since 1900 (RFC 868) and
 * prints it and how far the local clock is off.
 */

#include <sock.h>

#include <time.h>

/* reference time (in seconds since 1900-01-01 00:00:00) */
#define TIME1970 2208988800LL /* 1970-01-01 00:00:00 */

int main(int argc, char **argv)
{
	char addr[SOCK_ADDR_STRLEN];
	unsigned char buf[4];
	struct sock s;
	time_t t;
	int err;

	snprintf(addr, sizeof(addr), "%s:%s",
		 argc > 1 ? argv[1] : "www.python.org",
		 argc > 2 ? argv[2] : "37");
	err = sock_connect(&s, SOCK_STREAM, addr, SOCK_FOREVER);
	if (!err)
		err = sock_recv_exact(&s, buf, sizeof(buf), NULL);
	sock_close(&s);
	if (err) {
		fprintf(stderr, "time_client: %s: %s\n", addr,
			sock_strerror(err));
		return 1;
	}
	t = (time_t)(sock_get_be32(buf) - TIME1970);

	printf("server time is %s", ctime(&t));
	printf("local clock is %lld seconds off\n",
	       (long long)(time(NULL) - t));
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* timeclient.c -- seed 000's timeclient.py: the time protocol client */

/*
 * Usage: timeclient [HOST [PORT]]
 * Asks localhost:8037 by default, HOST:37 when only HOST is given.
 */

#include <sock.h>

#include <time.h>

/* reference time (in seconds since 1900-01-01 00:00:00) */
#define TIME1970 2208988800LL /* 1970-01-01 00:00:00 */

/* Fetch the time from a stream server into *t.  Returns 0 or a code. */
static int gettime(const char *host, const char *port, time_t *t)
{
	char addr[SOCK_ADDR_STRLEN];
	unsigned char buf[4];
	struct sock s;
	int err;

	snprintf(addr, sizeof(addr), "%s:%s", host, port);
	err = sock_connect(&s, SOCK_STREAM, addr, SOCK_FOREVER);
	if (err)
		return err;
	err = sock_recv_exact(&s, buf, sizeof(buf), NULL);
	sock_close(&s);
	*t = (time_t)(sock_get_be32(buf) - TIME1970);
	return err;
}

int main(int argc, char **argv)
{
	const char *host = "localhost", *port = "8037";
	time_t t;
	int err;

	if (argc > 1) {
		host = argv[1];
		/* without a port, the default for public servers */
		port = argc > 2 ? argv[2] : "37";
	}
	err = gettime(host, port, &t);
	if (err) {
		fprintf(stderr, "timeclient: %s port %s: %s\n", host, port,
			sock_strerror(err));
		return 1;
	}
	printf("server time is %s", ctime(&t));
	printf("local clock is %lld seconds off\n",
	       (long long)(time(NULL) - t));
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* tcp_send.c -- seed 003's "Sending data via TCP": send b'Hello' and close */

/* Usage: tcp_send [HOST [PORT]]	(default localhost 6667) */

#include <sock.h>

int main(int argc, char **argv)
{
	char addr[SOCK_ADDR_STRLEN];
	struct sock s;
	int err;

	snprintf(addr, sizeof(addr), "%s:%s", argc > 1 ? argv[1] : "localhost",
		 argc > 2 ? argv[2] : "6667");
	err = sock_connect(&s, SOCK_STREAM, addr, SOCK_FOREVER);
	if (!err)
		err = sock_sendall(&s, "Hello", 5, NULL, 0);
	sock_close(&s);
	if (err) {
		fprintf(stderr, "tcp_send: %s: %s\n", addr, sock_strerror(err));
		return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* server_udp.c -- socketserver's UDPServer: datagrams answered in capitals */

/*
 * Usage: server_udp [ADDRESS]   (default 127.0.0.1:9999); Ctrl-C stops it.
 * handle_datagram() runs on the loop, one datagram at a time.
 */

#include <sock.h>

#include <ctype.h>

static void handle(struct sock *sock, const void *msg, size_t len,
		   const struct sock_addr *peer, void *data)
{
	const unsigned char *p = msg;
	char buf[65536];
	size_t i;

	(void)data;
	for (i = 0; i < len; i++)
		buf[i] = (char)toupper(p[i]);
	if (sock_sendto(sock, buf, len, peer, 0) < 0)
		return;
}

static const struct sock_service service = { .name = "upper",
					     .mode = SOCK_MODE_INLINE,
					     .handle_datagram = handle };

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:9999";
	int err = sock_serve(&service, SOCK_DGRAM, addr, NULL);

	if (err < 0)
		fprintf(stderr, "server_udp: %s: %s\n", addr,
			sock_strerror(err));
	return err < 0;
}

/* SPDX-License-Identifier: MIT */
/* raw_frame.c -- seed 003's "Raw Sockets on Linux": send one Ethernet frame */

/*
 * Usage: raw_frame [INTERFACE]	(default eth1; needs CAP_NET_RAW)
 * Sends the seed's hand-made frame: destination and source 01:02:..:06,
 * ethertype 0x0801, 30 '[', "PAYLOAD", 30 ']', and four bytes standing in
 * for a checksum.
 */

#include <sock.h>

#include <string.h>

int main(int argc, char **argv)
{
	static const unsigned char mac[6] = { 1, 2, 3, 4, 5, 6 };
	static const unsigned char checksum[4] = { 0x1a, 0x2b, 0x3c, 0x4d };
	unsigned char frame[6 + 6 + 2 + 30 + 7 + 30 + 4];
	char addr[SOCK_ADDR_STRLEN];
	struct sock s;
	ssize_t n;

	/* dst_addr + src_addr + ethertype + payload + checksum */
	memcpy(frame, mac, 6);
	memcpy(frame + 6, mac, 6);
	sock_put_be16(frame + 12, 0x0801);
	memset(frame + 14, '[', 30);
	memcpy(frame + 44, "PAYLOAD", 7);
	memset(frame + 51, ']', 30);
	memcpy(frame + 81, checksum, 4);

	snprintf(addr, sizeof(addr), "packet:%s", argc > 1 ? argv[1] : "eth1");
	n = sock_open(&s, AF_PACKET, SOCK_RAW, 0);
	if (!n)
		n = sock_bind(&s, addr);
	if (!n)
		n = sock_send(&s, frame, sizeof(frame), 0);
	sock_close(&s);
	if (n < 0) {
		fprintf(stderr, "raw_frame: %s: %s\n", addr,
			sock_strerror((int)n));
		return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* packet_test.c -- AF_PACKET sockets, as in the seed's raw frame example */

/*
 * Each test child moves into a network namespace of its own holding a veth
 * pair, pkta <-> pktb: the names cannot collide with anything outside it,
 * and the namespace and the pair go away when the child exits, however it
 * exits.  Needs root (CAP_NET_ADMIN, CAP_NET_RAW) and ip(8); SKIPs without.
 */

#include "test.h"

#include <sched.h>

#define ETHERTYPE_SEED 0x0801  /* the seed's ethertype */
#define ETHERTYPE_PROBE 0x88b6 /* local experimental: the path probe */
#define FRAME_LEN (6 + 6 + 2 + 30 + 7 + 30 + 4)

static const unsigned char seed_mac[6] = { 1, 2, 3, 4, 5, 6 };

/* The seed's frame with ethertype type: dst_addr + src_addr + ethertype +
 * payload + checksum. */
static void seed_frame(unsigned char frame[FRAME_LEN], uint16_t type)
{
	static const unsigned char checksum[4] = { 0x1a, 0x2b, 0x3c, 0x4d };

	memcpy(frame, seed_mac, 6);
	memcpy(frame + 6, seed_mac, 6);
	sock_put_be16(frame + 12, type);
	memset(frame + 14, '[', 30);
	memcpy(frame + 44, "PAYLOAD", 7);
	memset(frame + 51, ']', 30);
	memcpy(frame + 81, checksum, 4);
}

/*
 * A link set up is not yet a link that carries frames: the kernel attaches
 * its queueing discipline later, from its link-watch work, which it batches
 * up to a second apart when many links change (tests in parallel), and a
 * frame sent before that is dropped without an error.  So frames of a probe
 * ethertype go from pkta every 20 ms until pktb sees one: 10 s at most.
 */
static void wait_for_path(void)
{
	unsigned char frame[FRAME_LEN], buf[2048];
	struct sock tx = SOCK_CLOSED, rx = SOCK_CLOSED;
	long long deadline = test_now_ms() + 10000;
	int got = 0;

	seed_frame(frame, ETHERTYPE_PROBE);
	CHECK_OK(sock_open(&rx, AF_PACKET, SOCK_RAW, htons(ETHERTYPE_PROBE)));
	CHECK_OK(sock_bind(&rx, "packet:pktb:0x88b6"));
	CHECK_OK(sock_settimeout(&rx, 20));
	CHECK_OK(sock_open(&tx, AF_PACKET, SOCK_RAW, 0));
	CHECK_OK(sock_bind(&tx, "packet:pkta"));
	while (got <= 0 && test_now_ms() < deadline) {
		CHECK_INT(sock_send(&tx, frame, sizeof(frame), 0), ==,
			  sizeof(frame));
		got = sock_recv(&rx, buf, sizeof(buf), 0);
		if (got < 0)
			CHECK_ERR(got, -ETIMEDOUT);
	}
	CHECK_INT(got, ==, sizeof(frame));
	CHECK_OK(sock_close(&tx));
	CHECK_OK(sock_close(&rx));
}

/* Enter a new network namespace holding pkta <-> pktb, both up and
 * carrying frames from pkta to pktb. */
static void enter_veth_namespace(void)
{
	int rc;

	if (geteuid() != 0)
		SKIP("needs root for a network namespace and AF_PACKET");
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("unshare(CLONE_NEWNET): %s", strerror(errno));
	rc = system("ip link add pkta type veth peer name pktb 2>&1 &&"
		    " ip link set pkta up && ip link set pktb up");
	if (rc == -1 || !WIFEXITED(rc))
		SKIP("cannot run ip(8)");
	if (WEXITSTATUS(rc) == 127)
		SKIP("ip(8) is not installed");
	if (WEXITSTATUS(rc) != 0)
		SKIP("cannot create a veth pair (status %d)", WEXITSTATUS(rc));
	wait_for_path();
}

/* A raw packet socket on interface ifname for ethertype type (0: sends
 * only), with a 5 s timeout. */
static void open_packet(struct sock *s, int type, const char *ifname,
			uint16_t ethertype)
{
	char addr[64];

	snprintf(addr, sizeof(addr), "packet:%s:0x%04x", ifname, ethertype);
	CHECK_OK(sock_open(s, AF_PACKET, type, htons(ethertype)));
	CHECK_OK(sock_bind(s, addr));
	CHECK_OK(sock_settimeout(s, 5000));
}

static void seed_frame_crosses_veth_pair(void)
{
	struct sock tx = SOCK_CLOSED, rx = SOCK_CLOSED;
	unsigned char frame[FRAME_LEN], buf[2048];

	enter_veth_namespace();
	open_packet(&rx, SOCK_RAW, "pktb", ETHERTYPE_SEED);
	open_packet(&tx, SOCK_RAW, "pkta", 0);
	seed_frame(frame, ETHERTYPE_SEED);

	CHECK_INT(sock_send(&tx, frame, sizeof(frame), 0), ==, sizeof(frame));
	CHECK_INT(sock_recv(&rx, buf, sizeof(buf), 0), ==, sizeof(frame));
	CHECK(memcmp(buf, frame, sizeof(frame)) == 0);
	CHECK_OK(sock_close(&tx));
	CHECK_OK(sock_close(&rx));
}

static void bound_ethertype_filters_frames(void)
{
	struct sock tx = SOCK_CLOSED, rx = SOCK_CLOSED;
	unsigned char frame[FRAME_LEN], buf[2048];

	enter_veth_namespace();
	open_packet(&rx, SOCK_RAW, "pktb", ETHERTYPE_SEED);
	open_packet(&tx, SOCK_RAW, "pkta", 0);

	seed_frame(frame, 0x0802);
	CHECK_INT(sock_send(&tx, frame, sizeof(frame), 0), ==, sizeof(frame));
	seed_frame(frame, ETHERTYPE_SEED);
	memcpy(frame + 44, "SECOND!", 7);
	CHECK_INT(sock_send(&tx, frame, sizeof(frame), 0), ==, sizeof(frame));

	CHECK_INT(sock_recv(&rx, buf, sizeof(buf), 0), ==, sizeof(frame));
	CHECK(memcmp(buf, frame, sizeof(frame)) == 0);
	CHECK_INT(sock_settimeout(&rx, 0), ==, 0);
	CHECK_ERR(sock_recv(&rx, buf, sizeof(buf), 0), -EAGAIN);
}

static void recvfrom_reports_packet_address(void)
{
	struct sock tx = SOCK_CLOSED, rx = SOCK_CLOSED;
	unsigned char frame[FRAME_LEN], buf[2048];
	struct sock_addr from, back;
	char text[SOCK_ADDR_STRLEN], again[SOCK_ADDR_STRLEN];

	enter_veth_namespace();
	open_packet(&rx, SOCK_RAW, "pktb", ETHERTYPE_SEED);
	open_packet(&tx, SOCK_RAW, "pkta", 0);
	seed_frame(frame, ETHERTYPE_SEED);
	CHECK_INT(sock_send(&tx, frame, sizeof(frame), 0), ==, sizeof(frame));

	CHECK_INT(sock_recvfrom(&rx, buf, sizeof(buf), &from, 0), ==,
		  sizeof(frame));
	CHECK_INT(sock_addr_family(&from), ==, AF_PACKET);
	CHECK_INT(from.u.ll.sll_ifindex, ==, sock_if_nametoindex("pktb"));
	CHECK_INT(ntohs(from.u.ll.sll_protocol), ==, ETHERTYPE_SEED);
	CHECK_INT(from.u.ll.sll_halen, ==, 6);
	CHECK(memcmp(from.u.ll.sll_addr, seed_mac, 6) == 0);

	/* The sender's address, as text, reads back to the same address. */
	CHECK_OK(sock_addr_format(&from, text, sizeof(text)));
	CHECK_STR(text, "packet:pktb:0x0801:01:02:03:04:05:06");
	CHECK_OK(sock_addr_parse(&back, text));
	CHECK(sock_addr_is_equal(&back, &from));
	CHECK_OK(sock_addr_format(&back, again, sizeof(again)));
	CHECK_STR(again, text);
}

/* A SOCK_DGRAM packet socket builds the Ethernet header from the address
 * given to sendto: its hardware address and ethertype. */
static void dgram_sendto_builds_header(void)
{
	struct sock tx = SOCK_CLOSED, rx = SOCK_CLOSED;
	static const char payload[] = "[[[PAYLOAD]]]";
	unsigned char buf[2048];
	struct sock_addr to, own;

	enter_veth_namespace();
	open_packet(&rx, SOCK_RAW, "pktb", ETHERTYPE_SEED);
	CHECK_OK(sock_open(&tx, AF_PACKET, SOCK_DGRAM, 0));
	CHECK_OK(sock_addr_parse(&to, "packet:pkta:0x0801:01:02:03:04:05:06"));
	CHECK_INT(sock_sendto(&tx, payload, sizeof(payload), &to, 0), ==,
		  sizeof(payload));

	/* The frame may be padded to Ethernet's minimum of 60 bytes. */
	CHECK_INT(sock_recv(&rx, buf, sizeof(buf), 0), >=,
		  14 + sizeof(payload));
	CHECK(memcmp(buf, seed_mac, 6) == 0);
	CHECK_INT(sock_get_be16(buf + 12), ==, ETHERTYPE_SEED);
	CHECK(memcmp(buf + 14, payload, sizeof(payload)) == 0);

	/* The source is pkta's own hardware address. */
	CHECK_OK(sock_bind(&tx, "packet:pkta"));
	CHECK_OK(sock_getsockname(&tx, &own));
	CHECK_INT(own.u.ll.sll_halen, ==, 6);
	CHECK(memcmp(buf + 6, own.u.ll.sll_addr, 6) == 0);
}

static void bind_unknown_interface_is_enodev(void)
{
	struct sock s = SOCK_CLOSED;

	enter_veth_namespace();
	CHECK_OK(sock_open(&s, AF_PACKET, SOCK_RAW, 0));
	CHECK_ERR(sock_bind(&s, "packet:pktnosuch0"), -ENODEV);
	CHECK_ERR(sock_bind(&s, "packet:pkta:0x10000"), SOCK_EBADADDR);
	CHECK_OK(sock_close(&s));
}

static const struct test tests[] = {
	TEST(seed_frame_crosses_veth_pair),
	TEST(bound_ethertype_filters_frames),
	TEST(recvfrom_reports_packet_address),
	TEST(dgram_sendto_builds_header),
	TEST(bind_unknown_interface_is_enodev),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

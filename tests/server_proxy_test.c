/* SPDX-License-Identifier: MIT */
/* server_proxy_test.c -- the PROXY protocol on a listener: trusted proxies, headers, the peer they name */

/*
 * The "proxy" here is the test itself, connecting from loopback addresses
 * (all of 127/8 is ours) and writing headers by hand; tests/cli/
 * proxy_test.sh puts HAProxy in front of sock serve.  The service tells
 * each client who it thinks the client is (its peer, as text, and a
 * newline), then echoes: so a test sees both the address the header
 * named and that the bytes after the header reached the service whole.
 * The addresses in headers are only text: nothing is ever sent to them.
 */

#include "server_util.h"

#include <arpa/inet.h>

/* ---- the service: who am I, then echo ---- */

static void who_open(struct sock_conn *c)
{
	char text[SOCK_ADDR_STRLEN + 1];
	struct sock_addr peer;
	int n = -1;

	if (sock_conn_peer(c, &peer) == 0)
		n = sock_addr_format(&peer, text, sizeof(text) - 1);
	if (n < 0)
		n = snprintf(text, sizeof(text), "?");
	text[n++] = '\n';
	(void)sock_conn_send(c, text, (size_t)n);
}

static void who_handle(struct sock *c, const struct sock_addr *peer, void *data)
{
	char text[SOCK_ADDR_STRLEN + 1];
	int n;

	n = sock_addr_format(peer, text, sizeof(text) - 1);
	if (n < 0)
		n = snprintf(text, sizeof(text), "?");
	text[n++] = '\n';
	if (sock_sendall(c, text, (size_t)n, NULL, 0) == 0)
		blk_echo(c, peer, data);
}

static const struct sock_service who_svc[] = {
	[SOCK_MODE_EVENT] = { .name = "who",
			      .mode = SOCK_MODE_EVENT,
			      .on_open = who_open,
			      .on_data = ev_echo_data },
	[SOCK_MODE_THREAD] = { .name = "who",
			       .mode = SOCK_MODE_THREAD,
			       .handle = who_handle },
	[SOCK_MODE_FORK] = { .name = "who",
			     .mode = SOCK_MODE_FORK,
			     .handle = who_handle },
};

/* ---- headers ---- */

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

/* A version 2 header: cmd (0 LOCAL, 1 PROXY), fam, then the addresses
 * (IPv4 or IPv6 text) and ports when fam is 0x11 or 0x21, then tlv_len
 * bytes of TLVs.  Returns its length. */
static size_t v2_header(uint8_t *out, int cmd, int fam, const char *src,
			const char *dst, int sport, int dport, size_t tlv_len)
{
	size_t alen = fam == 0x11 ? 12 : fam == 0x21 ? 36 : 0;
	size_t n = 16;

	memcpy(out, v2_sig, 12);
	out[12] = (uint8_t)(0x20 | cmd);
	out[13] = (uint8_t)fam;
	sock_put_be16(out + 14, (uint16_t)(alen + tlv_len));
	if (fam == 0x11) {
		CHECK(inet_pton(AF_INET, src, out + 16) == 1);
		CHECK(inet_pton(AF_INET, dst, out + 20) == 1);
		sock_put_be16(out + 24, (uint16_t)sport);
		sock_put_be16(out + 26, (uint16_t)dport);
	} else if (fam == 0x21) {
		CHECK(inet_pton(AF_INET6, src, out + 16) == 1);
		CHECK(inet_pton(AF_INET6, dst, out + 32) == 1);
		sock_put_be16(out + 48, (uint16_t)sport);
		sock_put_be16(out + 50, (uint16_t)dport);
	}
	n += alen;
	/* One TLV of type 0xe0 (custom) filling tlv_len. */
	if (tlv_len >= 3) {
		out[n] = 0xe0;
		sock_put_be16(out + n + 1, (uint16_t)(tlv_len - 3));
		memset(out + n + 3, 'x', tlv_len - 3);
	}
	return n + tlv_len;
}

/* ---- a server behind a proxy ---- */

struct behind {
	struct tserver t;
	char addr[SOCK_ADDR_STRLEN];
	int index;
};

/* Start a server of svc on 127.0.0.1 that believes headers from from,
 * with header timeout ms; deny (may be NULL) a range of clients. */
static void behind_start(struct behind *b, struct sock_server_config *cfg,
			 const struct sock_service *svc, const char *from,
			 int timeout_ms, const char *deny)
{
	ts_new(&b->t, cfg);
	b->index = ts_add(&b->t, svc, SOCK_STREAM, "127.0.0.1:0", 0);
	ts_addr(&b->t, b->index, b->addr);
	CHECK_OK(sock_server_proxy(b->t.srv, b->index, from, timeout_ms));
	if (deny)
		CHECK_OK(sock_server_deny(b->t.srv, b->index, deny));
	ts_start(&b->t);
	CHECK(rec_wait(SOCK_EV_LISTEN, NULL, 1, 3000));
}

static void behind_stop(struct behind *b)
{
	ts_stop(&b->t, 3000);
	ts_free(&b->t);
}

/* A connection from loopback host src to the server. */
static void connect_from(struct sock *c, const char *src, const char *addr)
{
	char from[64];

	snprintf(from, sizeof(from), "%s:0", src);
	CHECK_OK(sock_connect_from(c, SOCK_STREAM, addr, from, 5000));
	CHECK_OK(sock_settimeout(c, 5000));
}

/* Read the service's first line: who it thinks the client is. */
static void read_who(struct sock *c, char *who, size_t size)
{
	ssize_t n = sock_recv_line(c, who, size);

	CHECK_INT(n, >, 1);
	CHECK_INT(who[n - 1], ==, '\n');
	who[n - 1] = '\0';
}

/* Send header (len bytes, in pieces of step bytes) and then "hello",
 * and expect to be told want, then the echo. */
static void through(const char *addr, const void *header, size_t len,
		    size_t step, const char *want)
{
	const uint8_t *h = header;
	char who[128], buf[8];
	struct sock c;
	size_t at;

	connect_from(&c, "127.0.0.1", addr);
	for (at = 0; at < len; at += step) {
		CHECK_OK(sock_sendall(&c, h + at,
				      step < len - at ? step : len - at, NULL,
				      0));
		if (step < len)
			usleep(2000);
	}
	CHECK_OK(sock_sendall(&c, "hello", 5, NULL, 0));
	read_who(&c, who, sizeof(who));
	CHECK_STR(who, want);
	CHECK_OK(sock_recv_exact(&c, buf, 5, NULL));
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_OK(sock_close(&c));
}

/* Each kind of header, whole and byte by byte: the peer is the client
 * it names (or the proxy, for a header without one), and the bytes
 * after it are the service's. */
static void headers_name_the_client(enum sock_mode mode)
{
	static const char v1_4[] = "PROXY TCP4 10.11.12.13 127.0.0.1 4242 80"
				   "\r\n";
	static const char v1_6[] = "PROXY TCP6 2001:db8::7 ::1 4243 80\r\n";
	static const char v1_mapped[] = "PROXY TCP6 ::ffff:10.1.2.3 ::1 4244 "
					"80\r\n";
	static const char v1_unknown[] = "PROXY UNKNOWN ff ee\r\n";
	struct sock_server_config cfg = { 0 };
	uint8_t v2[256];
	struct behind b;
	size_t n, step;

	behind_start(&b, &cfg, &who_svc[mode], "127.0.0.1", 0, NULL);
	for (step = 1; step <= 512; step += 511) {
		through(b.addr, v1_4, strlen(v1_4), step, "10.11.12.13:4242");
		through(b.addr, v1_6, strlen(v1_6), step, "[2001:db8::7]:4243");
		through(b.addr, v1_mapped, strlen(v1_mapped), step,
			"10.1.2.3:4244");
		n = v2_header(v2, 1, 0x11, "10.20.30.40", "127.0.0.1", 5000, 80,
			      0);
		through(b.addr, v2, n, step, "10.20.30.40:5000");
		n = v2_header(v2, 1, 0x21, "2001:db8::9", "::1", 5001, 80, 40);
		through(b.addr, v2, n, step, "[2001:db8::9]:5001");
	}
	/* No client in the header: the proxy is the peer. */
	{
		char who[128], want[64];
		struct sock c;
		struct sock_addr self;

		connect_from(&c, "127.0.0.1", b.addr);
		CHECK_OK(sock_getsockname(&c, &self));
		CHECK_INT(sock_addr_format(&self, want, sizeof(want)), >, 0);
		n = v2_header(v2, 0, 0x11, "10.9.9.9", "127.0.0.1", 1, 2, 0);
		CHECK_OK(sock_sendall(&c, v2, n, NULL, 0));
		read_who(&c, who, sizeof(who));
		CHECK_STR(who, want);
		sock_close(&c);
		connect_from(&c, "127.0.0.1", b.addr);
		CHECK_OK(sock_getsockname(&c, &self));
		CHECK_INT(sock_addr_format(&self, want, sizeof(want)), >, 0);
		CHECK_OK(sock_sendall(&c, v1_unknown, strlen(v1_unknown), NULL,
				      0));
		read_who(&c, who, sizeof(who));
		CHECK_STR(who, want);
		sock_close(&c);
	}
	behind_stop(&b);
	CHECK_INT(rec_count(SOCK_EV_LIMIT, NULL), ==, 0);
}

static void headers_name_the_client_event(void)
{
	headers_name_the_client(SOCK_MODE_EVENT);
}
ENGINE_TEST(headers_name_the_client_event)

static void headers_name_the_client_thread(void)
{
	headers_name_the_client(SOCK_MODE_THREAD);
}
ENGINE_TEST(headers_name_the_client_thread)

/* The event of a refusal: a limit named what, with err. */
static void check_limit(const char *what, int err)
{
	struct rec_event ev;
	unsigned int i;
	bool found = false;

	CHECK(rec_wait(SOCK_EV_LIMIT, what, 1, 3000));
	for (i = 0; !found && rec_find(SOCK_EV_LIMIT, i, &ev); i++)
		found = !strcmp(ev.what, what) && ev.err == err;
	if (!found)
		printf("    no %s limit with %s\n", what, sock_strerror(err));
	CHECK(found);
}

/* Send bytes as a header and expect the server to close the connection
 * without serving it, and to say why. */
static void refused(const char *addr, const void *bytes, size_t len,
		    const char *what, int err)
{
	struct sock c;

	rec_reset();
	connect_from(&c, "127.0.0.1", addr);
	if (len)
		CHECK_OK(sock_sendall(&c, bytes, len, NULL, 0));
	CHECK(closed_by_server(&c, 5000));
	CHECK_OK(sock_close(&c));
	check_limit(what, err);
	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 0);
}

/* Malformed, oversized, truncated and slow headers are closed, each for
 * its reason, and none reaches the service. */
static void bad_headers_are_refused(void)
{
	struct sock_server_config cfg = { 0 };
	uint8_t v2[2200];
	struct behind b;
	struct sock c;
	size_t n;

	behind_start(&b, &cfg, &who_svc[SOCK_MODE_EVENT], "127.0.0.0/8", 300,
		     NULL);
	refused(b.addr, "GET / HTTP/1.1\r\n", 16, "proxy-header", -EPROTO);
	refused(b.addr, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", 31, "proxy-header",
		-EPROTO);
	refused(b.addr, "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", 36,
		"proxy-header", -EPROTO);
	refused(b.addr, "PROXY TCP4 ::1 ::1 1 2\r\n", 24, "proxy-header",
		-EPROTO);
	memset(v2, 'A', 200);
	memcpy(v2, "PROXY UNKNOWN ", 14);
	refused(b.addr, v2, 200, "proxy-header", -EMSGSIZE);
	n = v2_header(v2, 1, 0x11, "10.0.0.1", "10.0.0.2", 1, 2, 2100);
	refused(b.addr, v2, n, "proxy-header", -EMSGSIZE);
	n = v2_header(v2, 1, 0x11, "10.0.0.1", "10.0.0.2", 1, 2, 0);
	v2[12] = 0x31; /* version 3 */
	refused(b.addr, v2, n, "proxy-header", -EPROTO);
	n = v2_header(v2, 1, 0x11, "10.0.0.1", "10.0.0.2", 1, 2, 0);
	sock_put_be16(v2 + 14, 4); /* too short for the addresses */
	refused(b.addr, v2, 20, "proxy-header", -EPROTO);
	/* Truncated, then silent: the header timeout. */
	refused(b.addr, "PROXY TCP4 1.2.3", 16, "proxy-header", -ETIMEDOUT);
	refused(b.addr, v2, 10, "proxy-header", -ETIMEDOUT);
	refused(b.addr, NULL, 0, "proxy-header", -ETIMEDOUT);
	/* Truncated, then closed. */
	rec_reset();
	connect_from(&c, "127.0.0.1", b.addr);
	CHECK_OK(sock_sendall(&c, "PROXY TCP", 9, NULL, 0));
	CHECK_OK(sock_close(&c));
	check_limit("proxy-header", SOCK_EEOF);
	behind_stop(&b);
}
ENGINE_TEST(bad_headers_are_refused)

/* A connection from outside the trusted ranges is closed at once, its
 * header never read, whatever it would have said. */
static void untrusted_sources_are_refused(void)
{
	static const char v1[] = "PROXY TCP4 10.0.0.1 127.0.0.1 1 2\r\n";
	struct sock_server_config cfg = { 0 };
	struct behind b;
	struct sock c;

	behind_start(&b, &cfg, &who_svc[SOCK_MODE_EVENT], "127.0.0.2", 0, NULL);
	connect_from(&c, "127.0.0.3", b.addr);
	CHECK_OK(sock_sendall(&c, v1, strlen(v1), NULL, 0));
	CHECK(closed_by_server(&c, 5000));
	sock_close(&c);
	check_limit("proxy-source", -EACCES);
	/* The trusted one is served. */
	connect_from(&c, "127.0.0.2", b.addr);
	CHECK_OK(sock_sendall(&c, v1, strlen(v1), NULL, 0));
	{
		char who[128];

		read_who(&c, who, sizeof(who));
		CHECK_STR(who, "10.0.0.1:1");
	}
	sock_close(&c);
	CHECK_INT(rec_count(SOCK_EV_ACCEPT, NULL), ==, 1);
	behind_stop(&b);
}
ENGINE_TEST(untrusted_sources_are_refused)

/* The deny ranges and the per-source cap see the client from the
 * header, not the proxy. */
static void access_and_caps_apply_to_the_client(void)
{
	static const char denied[] = "PROXY TCP4 10.66.0.1 127.0.0.1 1 2\r\n";
	static const char a1[] = "PROXY TCP4 10.77.0.1 127.0.0.1 1 2\r\n";
	static const char a2[] = "PROXY TCP4 10.77.0.1 127.0.0.1 3 2\r\n";
	static const char b1[] = "PROXY TCP4 10.88.0.1 127.0.0.1 1 2\r\n";
	struct sock_server_config cfg = { .max_per_source = 1 };
	struct sock c, d, e;
	struct behind b;
	char who[128];

	behind_start(&b, &cfg, &who_svc[SOCK_MODE_EVENT], "127.0.0.1", 0,
		     "10.66.0.0/16");
	refused(b.addr, denied, strlen(denied), "access", -EACCES);
	/* One connection per client: the second of 10.77.0.1 is refused,
	 * 10.88.0.1's is served beside the first. */
	connect_from(&c, "127.0.0.1", b.addr);
	CHECK_OK(sock_sendall(&c, a1, strlen(a1), NULL, 0));
	read_who(&c, who, sizeof(who));
	CHECK_STR(who, "10.77.0.1:1");
	rec_reset();
	connect_from(&d, "127.0.0.1", b.addr);
	CHECK_OK(sock_sendall(&d, a2, strlen(a2), NULL, 0));
	CHECK(closed_by_server(&d, 5000));
	check_limit("max-per-source", 0);
	connect_from(&e, "127.0.0.1", b.addr);
	CHECK_OK(sock_sendall(&e, b1, strlen(b1), NULL, 0));
	read_who(&e, who, sizeof(who));
	CHECK_STR(who, "10.88.0.1:1");
	sock_close(&c);
	sock_close(&d);
	sock_close(&e);
	behind_stop(&b);
}
ENGINE_TEST(access_and_caps_apply_to_the_client)

/*
 * Connections that never send their header hold slots under the cap,
 * not the loop: with max_conns 4, three silent ones wait for their
 * timeout while a fourth is served at once; at the stop, silent ones are
 * closed (no leak: make asan, make valgrind).
 */
static void silent_headers_cost_a_slot_not_the_loop(void)
{
	static const char v1[] = "PROXY TCP4 10.0.0.5 127.0.0.1 7 8\r\n";
	struct sock_server_config cfg = { .max_conns = 4 };
	struct sock silent[3], c;
	long long t0;
	struct behind b;
	char who[128];
	int i;

	behind_start(&b, &cfg, &who_svc[SOCK_MODE_EVENT], "127.0.0.1", 30000,
		     NULL);
	for (i = 0; i < 3; i++)
		connect_from(&silent[i], "127.0.0.1", b.addr);
	t0 = test_now_ms();
	connect_from(&c, "127.0.0.1", b.addr);
	CHECK_OK(sock_sendall(&c, v1, strlen(v1), NULL, 0));
	read_who(&c, who, sizeof(who));
	CHECK_STR(who, "10.0.0.5:7");
	CHECK_INT(test_now_ms() - t0, <, TEST_LATE_MS);
	sock_close(&c);
	behind_stop(&b);
	for (i = 0; i < 3; i++) {
		CHECK(closed_by_server(&silent[i], 5000));
		sock_close(&silent[i]);
	}
}
ENGINE_TEST(silent_headers_cost_a_slot_not_the_loop)

/*
 * Forked handlers inherit the descriptors of connections still reading
 * their header: a failed header must still end its connection at once
 * for the peer (shut down, not only closed), while another client's
 * forked handler runs on.
 */
static void failed_header_ends_beside_a_forked_handler(void)
{
	static const char v1[] = "PROXY TCP4 10.0.0.9 127.0.0.1 9 9\r\n";
	struct sock_server_config cfg = { 0 };
	struct sock partial, served;
	struct behind b;
	long long t0;
	char who[128];

	behind_start(&b, &cfg, &who_svc[SOCK_MODE_FORK], "127.0.0.1", 300,
		     NULL);
	connect_from(&partial, "127.0.0.1", b.addr);
	CHECK_OK(sock_sendall(&partial, "PROXY TCP4 10.", 14, NULL, 0));
	connect_from(&served, "127.0.0.1", b.addr);
	CHECK_OK(sock_sendall(&served, v1, strlen(v1), NULL, 0));
	read_who(&served, who, sizeof(who));
	CHECK_STR(who, "10.0.0.9:9");
	/* The forked handler of served now holds a copy of partial's
	 * descriptor; partial's timeout must reach its peer anyway. */
	t0 = test_now_ms();
	CHECK(closed_by_server(&partial, 5000));
	CHECK_INT(test_now_ms() - t0, <, TEST_LATE_MS);
	check_limit("proxy-header", -ETIMEDOUT);
	echo_once(&served, "the child still serves");
	sock_close(&partial);
	sock_close(&served);
	behind_stop(&b);
}
ENGINE_TEST(failed_header_ends_beside_a_forked_handler)

/* What sock_server_proxy refuses. */
static void proxy_settings_are_checked(void)
{
	struct sock_server_config cfg = { 0 };
	struct tserver t;
	int tcp, udp, local;
	char name[64];

	ts_new(&t, &cfg);
	tcp = ts_add(&t, &who_svc[SOCK_MODE_EVENT], SOCK_STREAM, "127.0.0.1:0",
		     0);
	udp = ts_add(&t, &echo_svc[SOCK_MODE_EVENT], SOCK_DGRAM, "127.0.0.1:0",
		     0);
	unix_name(name, sizeof(name));
	local = ts_add(&t, &who_svc[SOCK_MODE_EVENT], SOCK_STREAM, name, 0);
	CHECK_ERR(sock_server_proxy(t.srv, tcp, "10.0.0.1/8", 0), -EINVAL);
	CHECK_ERR(sock_server_proxy(t.srv, tcp, "nonsense", 0), -EINVAL);
	CHECK_ERR(sock_server_proxy(t.srv, tcp, "10.0.0.0/8", -1), -EINVAL);
	CHECK_ERR(sock_server_proxy(t.srv, 99, "10.0.0.0/8", 0), -ENOENT);
	CHECK_ERR(sock_server_proxy(t.srv, udp, "10.0.0.0/8", 0), -EOPNOTSUPP);
	CHECK_ERR(sock_server_proxy(t.srv, local, "10.0.0.0/8", 0),
		  -EAFNOSUPPORT);
	CHECK_OK(sock_server_proxy(t.srv, tcp, "10.0.0.0/8", 0));
	CHECK_OK(sock_server_proxy(t.srv, tcp, "::1", 1000));
	ts_free(&t);
}

static const struct test tests[] = {
	TEST_ENGINES(headers_name_the_client_event),
	TEST_ENGINES(headers_name_the_client_thread),
	TEST_ENGINES(bad_headers_are_refused),
	TEST_ENGINES(untrusted_sources_are_refused),
	TEST_ENGINES(access_and_caps_apply_to_the_client),
	TEST_ENGINES(silent_headers_cost_a_slot_not_the_loop),
	TEST_ENGINES(failed_header_ends_beside_a_forked_handler),
	TEST(proxy_settings_are_checked),
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

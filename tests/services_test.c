/* SPDX-License-Identifier: MIT */
/* services_test.c -- the services: JSON strings, the chargen pattern, bounds */

#include "test.h"

#include "server/core.h"
#include "services.h"

#include <fcntl.h>
#include <pthread.h>

/* ---- JSON strings ---- */

static void check_json(const char *in, size_t len, const char *want)
{
	char out[clients_json_room(64)];
	size_t n;

	CHECK(len <= 64);
	n = clients_json_string(out, in, len);
	CHECK(n <= clients_json_room(len));
	out[n] = '\0';
	CHECK_STR(out, want);
}

#define JSON(in, want) check_json(in, sizeof(in) - 1, want)

static void json_escapes_quotes_backslashes_and_controls(void)
{
	JSON("", "\"\"");
	JSON("name", "\"name\"");
	JSON("a\"b\\c/", "\"a\\\"b\\\\c/\"");
	JSON("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	JSON("\x00\x01\x1f\x7f", "\"\\u0000\\u0001\\u001f\\u007f\"");
	/* C1 controls and the JavaScript line separators too. */
	JSON("\xc2\x85\xc2\x9f\xe2\x80\xa8\xe2\x80\xa9", "\"\\u0085\\u009f\\u20"
							 "28\\u2029\"");
}

static void json_keeps_valid_utf8(void)
{
	JSON("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	JSON("\xc2\xa0\xe2\x82\xac\xef\xbf\xbf", "\"\xc2\xa0\xe2\x82\xac\xef"
						 "\xbf\xbf\"");
	JSON("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", "\"\xf0\x9f\x98\x80\xf4\x8f"
						 "\xbf\xbf\"");
}

/* One U+FFFD per maximal ill-formed subpart, as Python's "replace". */
static void json_replaces_invalid_utf8_as_python_does(void)
{
#define R "\xef\xbf\xbd"
	JSON("\xff", "\"" R "\"");
	JSON("\x80x", "\"" R "x\"");
	JSON("\xe2\x82", "\"" R "\"");
	JSON("\xe2\x82"
	     "A",
	     "\"" R "A\"");
	JSON("\xed\xa0\x80", "\"" R R R "\"");
	JSON("\xc0\xaf", "\"" R R "\"");
	JSON("\xe0\x80\x80", "\"" R R R "\"");
	JSON("\xf4\x90\x80\x80", "\"" R R R R "\"");
	JSON("\xf0\x9f\x98", "\"" R "\"");
	JSON("\xf1\x80\x80\xc2\x85", "\"" R "\\u0085\"");
#undef R
}

/* The worst input stays within clients_json_room. */
static void json_room_bounds_every_input(void)
{
	char in[64], out[clients_json_room(64)];
	unsigned int b;

	for (b = 0; b < 256; b++) {
		memset(in, (int)b, sizeof(in));
		CHECK(clients_json_string(out, in, sizeof(in)) <= sizeof(out));
	}
}

/* ---- chargen ---- */

static char rfc864_byte(uint64_t pos)
{
	uint64_t line = pos / 74, col = pos % 74;

	if (col == 72)
		return '\r';
	if (col == 73)
		return '\n';
	return (char)(0x20 + (line + col) % 95);
}

static void chargen_fill_follows_rfc864(void)
{
	static const uint64_t starts[] = { 0, 1, 73, 74, 7029, 7030, 123457 };
	char buf[20000];
	size_t i, k;

	chargen_fill(buf, 74, 0);
	CHECK(!memcmp(buf,
		      " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOP"
		      "QRSTUVWXYZ[\\]^_`abcdefg\r\n",
		      74));
	chargen_fill(buf, 74, 94 * 74);
	CHECK_INT(buf[0], ==, '~');
	CHECK_INT(buf[1], ==, ' ');
	for (k = 0; k < TEST_COUNT(starts); k++) {
		chargen_fill(buf, sizeof(buf), starts[k]);
		for (i = 0; i < sizeof(buf); i++)
			CHECK_INT(buf[i], ==, rfc864_byte(starts[k] + i));
	}
}

/* ---- services on a real server ---- */

struct running {
	struct sock_server *srv;
	struct sock_service svc;
	void *state;
	pthread_t thread;
	char addr[SOCK_ADDR_STRLEN];
};

static void *run_thread(void *arg)
{
	struct running *r = arg;

	CHECK_OK(sock_server_run(r->srv));
	return NULL;
}

static void start_config(struct running *r, const struct service *def,
			 const struct sock_server_config *cfg)
{
	struct sock_addr a;
	int index;

	memset(r, 0, sizeof(*r));
	r->svc = *def->svc;
	if (def->state_new) {
		CHECK_OK(def->state_new(&r->state));
		r->svc.data = r->state;
	}
	CHECK_OK(sock_server_new(&r->srv, cfg));
	index = sock_server_add(r->srv, &r->svc, SOCK_STREAM, "127.0.0.1:0", 0);
	CHECK_OK(index);
	CHECK_OK(sock_server_addr(r->srv, index, &a));
	CHECK_OK(sock_addr_format(&a, r->addr, sizeof(r->addr)));
	CHECK_INT(pthread_create(&r->thread, NULL, run_thread, r), ==, 0);
}

static void start(struct running *r, const struct service *def)
{
	start_config(r, def, NULL);
}

static void stop(struct running *r, const struct service *def)
{
	sock_server_stop(r->srv);
	pthread_join(r->thread, NULL);
	sock_server_free(r->srv);
	if (def->state_free)
		def->state_free(r->state);
}

/* Send name, read the reply to its end. */
static size_t ask(const char *addr, const void *name, size_t len, char *buf,
		  size_t size)
{
	struct sock s;
	size_t got = 0;
	ssize_t n;

	CHECK_OK(sock_connect(&s, SOCK_STREAM, addr, 5000));
	CHECK_OK(sock_settimeout(&s, 5000));
	CHECK_OK(sock_sendall(&s, name, len, NULL, 0));
	while ((n = sock_recv(&s, buf + got, size - 1 - got, 0)) > 0)
		got += (size_t)n;
	CHECK_OK(n);
	buf[got] = '\0';
	sock_close(&s);
	return got;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		hay++;
		n++;
	}
	return n;
}

static void clients_forget_the_oldest_past_the_cap(void)
{
	const struct service *def = services_find("clients");
	static char reply[256 * 1024];
	struct running r;
	char name[32];
	int i;

	start(&r, def);
	for (i = 0; i < CLIENTS_MAX + 10; i++) {
		snprintf(name, sizeof(name), "n%d\r\nignored", i);
		ask(r.addr, name, strlen(name), reply, sizeof(reply));
	}
	CHECK(strstr(reply, "\"n9\":") == NULL);
	CHECK(strstr(reply, "\"n10\":") != NULL);
	snprintf(name, sizeof(name), "\"n%d\":", CLIENTS_MAX + 9);
	CHECK(strstr(reply, name) != NULL);
	CHECK(strstr(reply, "ignored") == NULL);
	/* A name given again is one member, not two. */
	ask(r.addr, "n10", 3, reply, sizeof(reply));
	CHECK_INT(count(reply, "\"n10\":"), ==, 1);
	CHECK_INT(count(reply, "\"name\":"), ==, CLIENTS_MAX);
	stop(&r, def);
}

/* Names of control bytes grow six-fold in JSON: the reply stays bounded. */
static void clients_reply_stays_bounded(void)
{
	const struct service *def = services_find("clients");
	static char reply[1024 * 1024];
	char name[CLIENTS_NAME_MAX + 100];
	struct running r;
	size_t n = 0;
	int i;

	start(&r, def);
	for (i = 0; i < 40; i++) {
		memset(name, 1, sizeof(name));
		name[0] = (char)('0' + i / 10);
		name[1] = (char)('0' + i % 10);
		n = ask(r.addr, name, sizeof(name), reply, sizeof(reply));
		CHECK_INT(n, >, 0);
		CHECK_INT(n, <=, CLIENTS_REPLY_MAX);
	}
	/* The newest is there, cut to CLIENTS_NAME_MAX bytes. */
	CHECK(strstr(reply, "\"39\\u0001") != NULL);
	CHECK(strstr(reply, "\"00\\u0001") == NULL);
	stop(&r, def);
}

/* Read from s until want has arrived (or 5 s pass); true when it did. */
static bool read_until(struct sock *s, const char *want, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	CHECK_OK(sock_settimeout(s, 5000));
	while (got < size - 1) {
		n = sock_recv(s, buf + got, size - 1 - got, 0);
		if (n <= 0)
			return false;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, want))
			return true;
	}
	return false;
}

static void chat_cuts_long_lines_and_passes_the_rest(void)
{
	const struct service *def = services_find("chat");
	static char buf[64 * 1024], line[3000 + 16], want[CHAT_LINE_MAX + 8];
	struct sock a, b;
	struct running r;
	const char *p;

	start(&r, def);
	CHECK_OK(sock_connect(&a, SOCK_STREAM, r.addr, 5000));
	CHECK(read_until(&a, "welcome", buf, sizeof(buf)));
	CHECK_OK(sock_connect(&b, SOCK_STREAM, r.addr, 5000));
	CHECK(read_until(&b, "welcome", buf, sizeof(buf)));
	CHECK(read_until(&a, "joined\r\n", buf, sizeof(buf)));
	memset(line, 'x', 3000);
	memcpy(line + 3000, "\nhi\x1b[2J\r\n", 10);
	CHECK_OK(sock_sendall(&a, line, 3010, NULL, 0));
	CHECK(read_until(&b, "hi?[2J\r\n", buf, sizeof(buf)));
	memset(want, 'x', CHAT_LINE_MAX);
	memcpy(want + CHAT_LINE_MAX, "\r\n", 3);
	/* Exactly CHAT_LINE_MAX of the x's, after "ADDR: ". */
	p = strstr(buf, want);
	CHECK(p != NULL && p > buf && p[-1] == ' ');
	CHECK(read_until(&a, "your line was cut", buf, sizeof(buf)));
	sock_close(&b);
	CHECK(read_until(&a, "left\r\n", buf, sizeof(buf)));
	sock_close(&a);
	stop(&r, def);
}

/* ---- chat, driven through the core with the engine's part played here ---- */

static int noop_start(struct sock_conn *c)
{
	(void)c;
	return 0;
}

static void noop_reading(struct sock_conn *c)
{
	(void)c;
}

static int noop_room(struct sock_conn *c)
{
	(void)c;
	return 0;
}

static void plain_close(struct sock_conn *c)
{
	close(c->fd);
	c->fd = -1;
	sock__conn_release(c);
}

static struct sock__engine quiet_engine;

/* A member of a chat room whose engine is the test: returns the
 * connection, and the test's end of its socket pair in *peer. */
static struct sock_conn *join(struct sock__listener *l, int *peer)
{
	struct sock pair[2];
	struct sock_addr addr;

	CHECK_OK(sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0));
	CHECK_INT(fcntl(pair[0].fd, F_SETFL, O_NONBLOCK | O_RDWR), ==, 0);
	*peer = pair[1].fd;
	memset(&addr, 0, sizeof(addr));
	CHECK(sock__worker_conn_begin(l->w));
	sock__conn_open(l, pair[0].fd, &addr);
	return sock__container_of(l->w->conns.prev, struct sock_conn, all);
}

/* Everything the test's end of a member has received so far. */
static size_t drain(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size - 1 &&
	       (n = recv(fd, buf + got, size - 1 - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

/*
 * A member that ends its side while output to it still waits is leaving,
 * not too slow: the room is told it left, not that it was dropped for
 * not reading (which a send failing on its closing connection made it
 * say).
 */
static void chat_member_leaving_with_output_queued_just_left(void)
{
	const struct service *def = services_find("chat");
	static char junk[4096], buf[8192];
	struct sock_server_config cfg = { .engine = SOCK_ENGINE_EPOLL };
	struct sock_service svc = *def->svc;
	struct sock_server *srv;
	struct sock_conn *a, *b;
	struct sock__worker *w;
	struct sock lis;
	void *state = NULL;
	int pa, pb;

	if (def->state_new)
		CHECK_OK(def->state_new(&state));
	svc.data = state;
	CHECK_OK(sock_server_new(&srv, &cfg));
	w = &srv->workers[0];
	quiet_engine = *w->loop->eng;
	quiet_engine.conn_start = noop_start;
	quiet_engine.conn_reading = noop_reading;
	quiet_engine.conn_want_room = noop_room;
	quiet_engine.conn_close = plain_close;
	w->loop->eng = &quiet_engine;
	CHECK_OK(sock_listen(&lis, SOCK_STREAM, "127.0.0.1:0", 0, 0));
	CHECK_OK(sock__listener_attach(w, &svc, &lis, 0));
	a = join(w->lis[0], &pa);
	b = join(w->lis[0], &pb);
	/* b does not read: its socket fills, then a line to it waits. */
	while (send(b->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	sock__conn_received(a, "hello\n", 6);
	CHECK(sock__conn_output_pending(b));
	/* b leaves, its output still queued; then a speaks again. */
	sock__conn_received(b, NULL, 0);
	sock__conn_received(a, "again\n", 6);
	sock__conn_flush_pending(w);
	drain(pa, buf, sizeof(buf));
	CHECK(strstr(buf, "left (not reading)") == NULL);
	/* b goes once its output is out: the room hears it left. */
	drain(pb, buf, sizeof(buf));
	drain(pb, buf, sizeof(buf));
	sock__conn_writable(b);
	while (sock__conn_output_pending(b)) {
		drain(pb, buf, sizeof(buf));
		sock__conn_writable(b);
	}
	sock__conn_flush_pending(w);
	drain(pa, buf, sizeof(buf));
	CHECK(strstr(buf, " left\r\n") != NULL);
	CHECK(strstr(buf, "left (not reading)") == NULL);
	sock_conn_abort(a, 0);
	sock__conn_flush_pending(w);
	close(pa);
	close(pb);
	w->loop->eng = &sock__engine_epoll;
	sock_server_free(srv);
	if (def->state_free)
		def->state_free(state);
}

/*
 * sock serve fits its connection cap at one descriptor per connection
 * (cli/serve.c): true of event handlers only.  A thread or pool handler
 * holds two while it runs, and the fit would have to change with it.
 */
static void every_service_is_event_driven(void)
{
	size_t i;

	for (i = 0; i < services_count; i++)
		if (services[i].svc->mode != SOCK_MODE_EVENT)
			test_fail(__FILE__, __LINE__,
				  "%s is not event-driven: change fit_fd_limit "
				  "in cli/serve.c",
				  services[i].name);
}

/* The room holds CHAT_MEMBERS_MAX members: one more is told so and let
 * go, and once a member leaves the next is let in. */
static void chat_turns_away_members_past_the_cap(void)
{
	const struct service *def = services_find("chat");
	/* Every member comes from 127.0.0.1: no per-source cap here. */
	struct sock_server_config cfg = { .max_per_source = SOCK_UNLIMITED };
	static const char full[] = "* the room is full, try later\r\n";
	static struct sock m[CHAT_MEMBERS_MAX];
	static char buf[64 * 1024];
	struct sock extra;
	struct running r;
	char want[64];
	int i;

	start_config(&r, def, &cfg);
	for (i = 0; i < CHAT_MEMBERS_MAX; i++) {
		CHECK_OK(sock_connect(&m[i], SOCK_STREAM, r.addr, 5000));
		snprintf(want, sizeof(want), ", %d here\r\n", i + 1);
		CHECK(read_until(&m[i], want, buf, sizeof(buf)));
	}
	CHECK_OK(sock_connect(&extra, SOCK_STREAM, r.addr, 5000));
	CHECK(read_until(&extra, full, buf, sizeof(buf)));
	CHECK_STR(buf, full);
	CHECK_INT(sock_recv(&extra, buf, sizeof(buf), 0), ==, 0);
	sock_close(&extra);
	sock_close(&m[0]);
	CHECK(read_until(&m[1], " left\r\n", buf, sizeof(buf)));
	CHECK_OK(sock_connect(&extra, SOCK_STREAM, r.addr, 5000));
	snprintf(want, sizeof(want), ", %d here\r\n", CHAT_MEMBERS_MAX);
	CHECK(read_until(&extra, want, buf, sizeof(buf)));
	sock_close(&extra);
	for (i = 1; i < CHAT_MEMBERS_MAX; i++)
		sock_close(&m[i]);
	stop(&r, def);
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(json_escapes_quotes_backslashes_and_controls),
		TEST(json_keeps_valid_utf8),
		TEST(json_replaces_invalid_utf8_as_python_does),
		TEST(json_room_bounds_every_input),
		TEST(chargen_fill_follows_rfc864),
		TEST(clients_forget_the_oldest_past_the_cap),
		TEST(clients_reply_stays_bounded),
		TEST(chat_cuts_long_lines_and_passes_the_rest),
		TEST(chat_member_leaving_with_output_queued_just_left),
		TEST(every_service_is_event_driven),
		TEST(chat_turns_away_members_past_the_cap),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

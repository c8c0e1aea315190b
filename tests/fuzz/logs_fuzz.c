/* SPDX-License-Identifier: MIT */
/* logs_fuzz.c -- fuzz target: sock serve's log lines, text and JSON */

/*
 * The one part of a log line a peer chooses is its address: a Unix
 * client binds to any path it likes, newlines, quotes and bytes that are
 * not UTF-8 included.  The input is a byte of flags (bit 0 JSON, bit 1
 * quiet, bits 2-4 the event, bit 6 a service name, bit 7 serve_log_text
 * alone), the event's numbers, then the peer: an IP address, a Unix path
 * or an abstract name from the bytes that follow.
 * serve_on_event() must write exactly one line (or none, when quiet hides
 * the event): in text, printable UTF-8 and one newline at its end; in
 * JSON, one object that a strict checker accepts, with the event's name,
 * its numbers as given, and the peer as printable text that is the
 * address itself whenever the address was printable already.
 * serve_log_text() is driven alone too, into buffers of every size.
 */

#include "internal.h"
#include "serve.h"

#include "fuzz.h"
#include "json_check.h"

#include <netinet/in.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

static int log_fd = -1;

/* What the framework names as a limit's or error's cause. */
static const char *const whats[] = {
	"max-conns", "max-per-source", "reflection", "rate", "accept", "-",
};

/* The characters no log line may hold raw (besides its newline):
 * controls, and the invisible ones that change how a line reads. */
static bool misleading(unsigned int cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
	       (cp >= 0xfff9 && cp <= 0xfffb);
}

/* True when s (len bytes) is UTF-8 without a misleading character: what
 * a line of the log may hold besides its newline. */
static bool printable(const unsigned char *s, size_t len)
{
	unsigned int cp;
	size_t i = 0;
	int n;

	while (i < len) {
		n = clients_utf8_next(s + i, len - i, &cp);
		if (n < 0 || misleading(cp))
			return false;
		i += (size_t)n;
	}
	return true;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* s as serve_log_text wrote it, escapes undone, into out; false when s
 * holds a space or a backslash that begins no \xNN (the escaping would
 * then not be one to one). */
static bool unescape(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s; s++) {
		if (*s == ' ' || o + 1 >= size)
			return false;
		if (*s != '\\') {
			out[o++] = *s;
			continue;
		}
		if (s[1] != 'x' || hex(s[2]) < 0 || hex(s[3]) < 0)
			return false;
		out[o++] = (char)(hex(s[2]) * 16 + hex(s[3]));
		s += 3;
	}
	out[o] = '\0';
	return true;
}

/* The peer's address from the input. */
static void make_peer(struct fuzz_in *in, struct sock_addr *a)
{
	size_t off = offsetof(struct sockaddr_un, sun_path), len;
	const uint8_t *p;

	memset(a, 0, sizeof(*a));
	switch (fuzz_u8(in) % 4) {
	case 0:
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_port = fuzz_u16(in);
		a->u.in.sin_addr.s_addr = fuzz_u32(in);
		a->len = sizeof(a->u.in);
		break;
	case 1:
		a->u.in6.sin6_family = AF_INET6;
		p = fuzz_bytes(in, 16, &len);
		memcpy(&a->u.in6.sin6_addr, p, len);
		a->len = sizeof(a->u.in6);
		break;
	default: /* a path, or an abstract name from its NUL */
		a->u.un.sun_family = AF_UNIX;
		p = fuzz_bytes(in, sizeof(a->u.un.sun_path), &len);
		memcpy(a->u.un.sun_path, p, len);
		a->len = (socklen_t)(off + len);
		break;
	}
}

/* What serve_on_event wrote since the last call, NUL after it. */
static size_t take_output(char *buf, size_t size)
{
	off_t end = lseek(log_fd, 0, SEEK_CUR);
	ssize_t n;

	FUZZ_CHECK(end >= 0 && (size_t)end < size, "%lld bytes written",
		   (long long)end);
	n = pread(log_fd, buf, (size_t)end, 0);
	FUZZ_CHECK(n == end, "read back %zd of %lld", n, (long long)end);
	buf[n] = '\0';
	FUZZ_CHECK(ftruncate(log_fd, 0) == 0 && lseek(log_fd, 0, SEEK_SET) == 0,
		   "reset");
	return (size_t)n;
}

/* The value of key in the checked object, or NULL. */
static const struct jtok *member(const struct jdoc *doc, const char *key)
{
	size_t i;

	for (i = 1; i + 1 < doc->n; i += 2)
		if (doc->tok[i].key && !strcmp(doc->tok[i].str, key))
			return &doc->tok[i + 1];
	return NULL;
}

static void check_number(const struct jdoc *doc, const char *key,
			 unsigned long long want)
{
	const struct jtok *t = member(doc, key);

	FUZZ_CHECK(t && t->type == JT_NUMBER, "no number %s", key);
	FUZZ_CHECK(strtoull(t->raw, NULL, 10) == want, "%s %.*s, not %llu", key,
		   (int)t->rawlen, t->raw, want);
}

static void check_json(const char *line, size_t n, const struct sock_event *ev,
		       const char *event, const char *addr)
{
	static struct jdoc doc;
	char raw[SOCK_ADDR_STRLEN];
	const struct jtok *t;
	size_t at;

	FUZZ_CHECK(json_check(line, n, 1, JSON_NO_LONE_SURROGATES, &doc, &at),
		   "not JSON at byte %zu: %s", at, line);
	FUZZ_CHECK(doc.n >= 1 && doc.tok[0].type == JT_OBJECT, "not an object");
	FUZZ_CHECK(!member(&doc, "cut"), "a member was cut: %s", line);
	t = member(&doc, "time");
	FUZZ_CHECK(t && t->type == JT_STRING && t->len == 24, "time: %s", line);
	t = member(&doc, "event");
	FUZZ_CHECK(t && t->type == JT_STRING && !strcmp(t->str, event),
		   "event: %s", line);
	if (ev->kind != SOCK_EV_ACCEPT && ev->kind != SOCK_EV_CLOSE &&
	    ev->kind != SOCK_EV_LIMIT && ev->kind != SOCK_EV_ERROR)
		return;
	t = member(&doc, "peer");
	FUZZ_CHECK(t && t->type == JT_STRING, "no peer: %s", line);
	FUZZ_CHECK(strlen(t->str) == t->len &&
			   printable((const unsigned char *)t->str, t->len),
		   "peer not printable: %s", line);
	FUZZ_CHECK(unescape(t->str, raw, sizeof(raw)) && !strcmp(raw, addr),
		   "peer %s does not map back to %s", t->str, addr);
	if (ev->kind == SOCK_EV_CLOSE) {
		check_number(&doc, "in", ev->bytes_in);
		check_number(&doc, "out", ev->bytes_out);
		check_number(&doc, "ms", (unsigned long long)ev->duration_ms);
	}
	if (ev->err && ev->kind != SOCK_EV_ACCEPT)
		check_number(&doc, "errno", (unsigned long long)-ev->err);
	else
		FUZZ_CHECK(!member(&doc, "error"), "an error without one");
}

static void check_text(const char *line, size_t n, const char *event)
{
	FUZZ_CHECK(printable((const unsigned char *)line, n - 1),
		   "not printable: %s", line);
	FUZZ_CHECK(!strncmp(line, event, strlen(event)) &&
			   (line[strlen(event)] == ' ' ||
			    line[strlen(event)] == '\n'),
		   "does not begin with %s: %s", event, line);
}

/* serve_log_text alone, on any bytes, into a buffer of any size: its
 * output is printable, has no space, and maps back to its input exactly
 * (to a prefix of it when the buffer was short). */
static void clean_alone(struct fuzz_in *in)
{
	char src[SOCK_ADDR_STRLEN], out[SERVE_LOG_TEXT_MAX],
		raw[SOCK_ADDR_STRLEN];
	size_t len, size = 5 + fuzz_u8(in) % (sizeof(out) - 4), got;
	const uint8_t *p = fuzz_bytes(in, sizeof(src) - 1, &len);

	memcpy(src, p, len);
	src[len] = '\0';
	len = strlen(src);
	serve_log_text(src, out, size);
	got = strnlen(out, size);
	FUZZ_CHECK(got < size, "no NUL within %zu bytes", size);
	FUZZ_CHECK(printable((const unsigned char *)out, got),
		   "not printable: %s", out);
	FUZZ_CHECK(unescape(out, raw, sizeof(raw)), "not one to one: %s", out);
	FUZZ_CHECK(!strncmp(raw, src, strlen(raw)),
		   "%s maps back to %s, not a prefix of %s", out, raw, src);
	if (size == sizeof(out))
		FUZZ_CHECK(!strcmp(raw, src), "cut %zu bytes to %zu", len,
			   strlen(raw));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		[SOCK_EV_LISTEN] = "listen", [SOCK_EV_ACCEPT] = "accept",
		[SOCK_EV_CLOSE] = "close",   [SOCK_EV_LIMIT] = "limit",
		[SOCK_EV_ERROR] = "error",   [SOCK_EV_ENGINE] = "engine",
		[SOCK_EV_STOP] = "stop",
	};
	struct fuzz_in in = { data, size };
	struct serve sv = { 0 };
	struct sock_event ev = { 0 };
	struct sock_addr peer;
	char addr[SOCK_ADDR_STRLEN], out[16384];
	uint8_t flags = fuzz_u8(&in);
	size_t n;

	if (log_fd < 0) {
		log_fd = memfd_create("log", MFD_CLOEXEC);
		FUZZ_CHECK(log_fd >= 0, "memfd_create");
	}
	if (flags & 0x80) {
		clean_alone(&in);
		return 0;
	}
	sv.log_fd = log_fd;
	sv.json = flags & 1;
	sv.quiet = flags & 2;
	ev.kind = (enum sock_event_kind)(((flags >> 2) & 7) %
					 SOCK_ARRAY_SIZE(names));
	ev.service = flags & 0x40 ? "echo" : NULL;
	ev.what = whats[fuzz_u8(&in) % SOCK_ARRAY_SIZE(whats)];
	ev.err = -(int)(fuzz_u8(&in) % 140);
	ev.count = fuzz_u16(&in);
	ev.bytes_in = fuzz_u32(&in);
	ev.bytes_out = (uint64_t)fuzz_u32(&in) << 24;
	ev.duration_ms = fuzz_u32(&in);
	make_peer(&in, &peer);
	ev.addr = &peer;
	if (ev.kind == SOCK_EV_LISTEN)
		ev.service = "echo";
	serve_on_event(&ev, &sv);
	n = take_output(out, sizeof(out));
	if (sv.quiet &&
	    (ev.kind == SOCK_EV_ACCEPT || ev.kind == SOCK_EV_CLOSE)) {
		FUZZ_CHECK(n == 0, "quiet, yet: %s", out);
		return 0;
	}
	FUZZ_CHECK(n > 0 && out[n - 1] == '\n' && !memchr(out, '\n', n - 1),
		   "not one line: %s", out);
	serve_addr_text(&peer, addr, sizeof(addr));
	if (sv.json)
		check_json(out, n - 1, &ev, names[ev.kind], addr);
	else
		check_text(out, n, names[ev.kind]);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* split_fuzz.c -- fuzz target: sock_addr_split() takes host and port apart */

/*
 * The input is two bytes of buffer sizes, then the address text (up to
 * its first NUL).  Invariants: on success host and port fit their
 * buffers, NUL-terminated, port is not empty, and putting them together
 * again ("host:port", or "[host]:port" when the text was bracketed) gives
 * the text back exactly; a bracketed host holds a ':', an unbracketed one
 * holds no ':' nor bracket, and neither holds a '/'.  Unix and packet
 * text is refused.  On failure the code is SOCK_EBADADDR.  And the split
 * agrees with the parser: numeric text that sock_addr_parse() reads as an
 * IP address splits into a host and port that name the same address.
 */

#include <sock.h>

#include "internal.h"

#include "fuzz.h"

static void check_split(const char *text, const char *host, const char *port)
{
	size_t len = strlen(text), hl = strlen(host), pl = strlen(port);
	bool bracket = text[0] == '[';

	FUZZ_CHECK(pl > 0, "empty port from \"%s\"", text);
	FUZZ_CHECK(!strchr(host, '/') && !strchr(port, '/'), "\"%s\"", text);
	FUZZ_CHECK(len == hl + pl + 1 + (bracket ? 2 : 0), "\"%s\" -> %s %s",
		   text, host, port);
	if (bracket) {
		FUZZ_CHECK(strchr(host, ':') &&
				   memcmp(text + 1, host, hl) == 0 &&
				   text[hl + 1] == ']' && text[hl + 2] == ':',
			   "\"%s\" -> %s %s", text, host, port);
	} else {
		FUZZ_CHECK(!strpbrk(host, ":[]") &&
				   memcmp(text, host, hl) == 0 &&
				   text[hl] == ':',
			   "\"%s\" -> %s %s", text, host, port);
	}
	FUZZ_CHECK(strcmp(text + len - pl, port) == 0, "\"%s\" -> %s %s", text,
		   host, port);
}

/* Numeric text the parser reads as an IP address splits the same way. */
static void check_against_parser(const char *text)
{
	char host[256], port[64], again[320];
	struct sock_addr a, b;
	int family;

	if (sock_addr_parse(&a, text))
		return;
	family = sock_addr_family(&a);
	if (family != AF_INET && family != AF_INET6)
		return;
	FUZZ_CHECK(sock_addr_split(text, host, sizeof(host), port,
				   sizeof(port)) == 0,
		   "\"%s\" parses but does not split", text);
	FUZZ_CHECK(atoi(port) == sock_addr_port(&a), "\"%s\": port %s", text,
		   port);
	snprintf(again, sizeof(again), strchr(host, ':') ? "[%s]:%s" : "%s:%s",
		 host, port);
	FUZZ_CHECK(sock_addr_parse(&b, again) == 0 &&
			   sock_addr_is_equal(&a, &b),
		   "\"%s\" split into \"%s\" and \"%s\"", text, host, port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	size_t hostsize = fuzz_u8(&in), portsize = fuzz_u8(&in) % 64;
	char *text, *host, *port;
	const uint8_t *p;
	size_t len;
	int r;

	p = fuzz_bytes(&in, in.n, &len);
	text = malloc(len + 1);
	FUZZ_CHECK(text, "out of memory");
	memcpy(text, p, len);
	text[len] = '\0';
	/* Buffers of their exact size, so that a write past them is seen. */
	host = malloc(hostsize ? hostsize : 1);
	port = malloc(portsize ? portsize : 1);
	FUZZ_CHECK(host && port, "out of memory");
	r = hostsize && portsize
		    ? sock_addr_split(text, host, hostsize, port, portsize)
		    : SOCK_EBADADDR;
	if (r == 0) {
		FUZZ_CHECK(memchr(host, '\0', hostsize) &&
				   memchr(port, '\0', portsize),
			   "unterminated");
		FUZZ_CHECK(!sock__addr_is_local_text(text),
			   "local text \"%s\" split", text);
		check_split(text, host, port);
	} else {
		FUZZ_CHECK(r == SOCK_EBADADDR, "split: %d", r);
	}
	check_against_parser(text);
	free(host);
	free(port);
	free(text);
	return 0;
}

#!/usr/bin/env python3
# manpages.py -- a section 3 man page per exported function, from the comments of the headers
#
# Usage: scripts/manpages.py [DIR]            write DIR/<function>.3 (default
#                                             docs/man/man3), remove stale pages
#        scripts/manpages.py --check DIR      fail (exit 1, saying why) when DIR
#                                             is not what this script writes
#        scripts/manpages.py --examples DIR   write each page's example as
#                                             DIR/<function>.c, for a compiler
#
# The pages are made from include/sock.h, include/sock/server.h and
# include/sock/tls.h, which
# document each function in the comment right above its declaration (one
# comment may cover two or three declarations), and abi/libsock.map, which
# names the functions exported: one page for each of those, no other.
# NAME is the comment's first sentence, shortened; SYNOPSIS the prototype
# as declared (without SOCK_WUR), with the typedefs and short structs it
# uses; DESCRIPTION the comment; RETURN VALUE its sentences about what the
# call returns; ERRORS each code those sentences name, with the reason they
# give or else sock_strerror()'s text for it (src/sock/error.c); EXAMPLES
# a short program for the functions most used (EXAMPLES below); SEE ALSO
# the functions the comment names, those sharing it, and libsock(3).
#
# The output depends on nothing but those files (the date is that of the
# release, from docs/man/libsock.3): two runs write the same bytes.
#
# --check regenerates into a temporary directory and compares, then checks
# the pages in DIR on their own: every exported function has one, no page
# is for a name that is not exported, and every function a page names in
# bold or in SEE ALSO exists (exported, or declared in the headers).

import os
import re
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADERS = ["include/sock.h", "include/sock/server.h", "include/sock/tls.h"]
MAP = "abi/libsock.map"
ERRORS_C = "src/sock/error.c"
OVERVIEW = "docs/man/libsock.3"
MAKEFILE = "Makefile"

# NAME lines where the comment's first sentence, shortened, reads badly:
# it is shared and opens with a sibling, it only names the Python function
# mirrored, or it is a list that does not shorten.
SUMMARY = {
    "sock_inet_aton": "text to an IPv4 address, old forms too",
    "sock_inet_ntoa": "an IPv4 address as dotted quad text",
    "sock_inet_pton": "IPv4 or IPv6 address text to binary",
    "sock_inet_ntop": "a binary IPv4 or IPv6 address as text",
    "sock_getsockname": "the address a socket is bound to",
    "sock_getpeername": "the address a socket is connected to",
    "sock_sethostname": "set this machine's host name",
    "sock_conn_data": "the connection's own data pointer",
    "sock_conn_set_data": "set the connection's own data pointer",
    "sock_addr_split": "split host:port text into host and port",
    "sock_server_allow": "let a range of IP addresses use a listener",
    "sock_server_deny": "refuse a range of IP addresses on a listener",
    "sock_server_verify": "a hook that accepts or refuses each peer",
    "sock_server_proxy": "take the PROXY protocol from trusted proxies",
    "sock_server_tls": "serve a stream listener over TLS",
    "sock_server_backlog": "set a stream listener's backlog",
    "sock_listen_fds": "descriptors passed by systemd socket activation",
    "sock_recv_alloc": "receive into a buffer the call allocates",
    "sock_recvfrom_alloc": "receive a datagram and its sender into a new buffer",
    "sock_serve": "serve one service until a signal, in one call",
    "sock_set_user_timeout": "bound how long sent data may go unacknowledged",
    "sock_set_nodelay": "turn Nagle's algorithm off or on",
    "sock_set_keepalive": "turn TCP keep-alive on or off, with its timings",
    "sock_makefile": "a stdio stream on a socket",
    "sock_if_nameindex": "the network interfaces, their names and indexes",
    "sock_recvmsg": "recvmsg(2) with the socket's timeout",
    "sock_getsockopt": "get an integer socket option",
    "sock_getsockopt_buf": "get a socket option into a buffer",
    "sock_setsockopt": "set an integer socket option",
    "sock_setsockopt_buf": "set a socket option from a buffer",
    "sock_setblocking": "switch a socket between blocking and non-blocking",
    "sock_settimeout": "set the timeout of every later call on a socket",
    "sock_gethostbyaddr": "the names and addresses of a host, from an address",
    "sock_gethostbyname_ex": "the names and addresses of a host",
    "sock_gethostbyname": "the first address of a host name, as text",
    "sock_listen_bound": "listen on a bound socket",
    "sock_listen": "a new socket bound to address text, listening",
    "sock_connect": "connect to address text, one timeout for everything",
    "sock_shutdown": "shut down one or both directions of a connection",
    "sock_dup": "a second socket on a duplicate descriptor",
    "sock_detach": "give up a socket's descriptor without closing it",
    "sock_set_inheritable": "set whether a socket's descriptor survives exec()",
    "sock_conn_send_some": "send what the socket takes now, queue nothing",
    "sock_addr_is_equal": "true when two addresses are the same",
    "sock_fromfd": "a socket on a duplicate of a descriptor",
    "sock_addr_parsen": "parse address text that need not be NUL-terminated",
    "sock_recv_fds": "receive bytes and the descriptors sent with them",
    "sock_resolve": "resolve address text into one address",
}

# Header text that reads as a pointer into the header itself, and what it
# says in a page of its own.
REWRITES = [
    ("the grammar above", "the address grammar below"),
    ('(see "Time" above)', "(see libsock(3))"),
    ("Every call below", "Every send and receive call"),
]

# The comment ahead of the send and receive calls speaks for every one of
# them ("Every call below waits within s's timeout ... returns -EAGAIN"),
# except this, which makes a stdio stream and waits for nothing.
SECTION_NOTE_EXCEPT = {"sock_makefile"}

# ---------------------------------------------------------------------
# Examples: short programs that use only <sock.h>; --examples writes them
# out so that tests/cli/man_test.sh can compile each one.
# ---------------------------------------------------------------------

EX_DAYTIME = r"""#include <sock.h>

int main(void)
{
	struct sock s;
	char line[256];
	ssize_t n;
	int err;

	err = sock_connect(&s, SOCK_STREAM, "localhost:13", 2000);
	if (err) {
		fprintf(stderr, "connect: %s\n", sock_strerror(err));
		return 1;
	}
	if (sock_settimeout(&s, 2000) == 0) {
		n = sock_recv_line(&s, line, sizeof(line));
		if (n > 0)
			fputs(line, stdout);
	}
	sock_close(&s);
	return 0;
}
"""

EXAMPLES = {
    "sock_connect": ("Print the first line a daytime server sends:", EX_DAYTIME),
    "sock_connect_with": (
        "Connect with Happy Eyeballs and show what each attempt did:",
        r"""#include <sock.h>

int main(int argc, char **argv)
{
	struct sock_connect_report report;
	struct sock_connect_options opt = { .report = &report };
	char text[SOCK_ADDR_STRLEN];
	struct sock s;
	int err, i;

	if (argc != 2)
		return 2;
	err = sock_connect_with(&s, SOCK_STREAM, argv[1], 5000, &opt);
	for (i = 0; i < report.n_attempts; i++) {
		struct sock_connect_attempt *a = &report.attempt[i];

		if (sock_addr_format(&a->addr, text, sizeof(text)) < 0)
			continue;
		printf("%s at %d ms: %s\n", text, a->start_ms,
		       a->result ? sock_strerror(a->result) : "connected");
	}
	if (err) {
		fprintf(stderr, "%s: %s\n", argv[1], sock_strerror(err));
		return 1;
	}
	sock_close(&s);
	return 0;
}
""",
    ),
    "sock_listen": (
        "Greet one client on a port the kernel chooses:",
        r"""#include <sock.h>

int main(void)
{
	struct sock srv, conn;
	struct sock_addr a;
	int err;

	err = sock_listen(&srv, SOCK_STREAM, "127.0.0.1:0", 0, 0);
	if (!err)
		err = sock_getsockname(&srv, &a);
	if (err) {
		fprintf(stderr, "listen: %s\n", sock_strerror(err));
		return 1;
	}
	printf("listening on port %d\n", sock_addr_port(&a));
	err = sock_accept(&srv, &conn, NULL);
	if (!err) {
		err = sock_sendall(&conn, "hello\n", 6, NULL, 0);
		sock_close(&conn);
	}
	sock_close(&srv);
	return err ? 1 : 0;
}
""",
    ),
    "sock_accept": (
        "An echo server, one client at a time, each with a 10 second "
        "idle timeout:",
        r"""#include <sock.h>

int main(void)
{
	struct sock srv, conn;
	struct sock_addr peer;
	char buf[4096], who[SOCK_ADDR_STRLEN];
	ssize_t n;
	int err;

	err = sock_listen(&srv, SOCK_STREAM, "127.0.0.1:7007", 0, 0);
	while (!err) {
		err = sock_accept(&srv, &conn, &peer);
		if (err)
			break;
		if (sock_addr_format(&peer, who, sizeof(who)) > 0)
			printf("client %s\n", who);
		if (sock_settimeout(&conn, 10000) == 0)
			while ((n = sock_recv(&conn, buf, sizeof(buf), 0)) > 0)
				if (sock_sendall(&conn, buf, n, NULL, 0))
					break;
		sock_close(&conn);
	}
	fprintf(stderr, "echo: %s\n", sock_strerror(err));
	sock_close(&srv);
	return 1;
}
""",
    ),
    "sock_recv_line": (
        "Print a line-based server's lines until it closes:",
        r"""#include <sock.h>

int main(void)
{
	struct sock s;
	char line[1024];
	ssize_t n;
	int err;

	err = sock_connect(&s, SOCK_STREAM, "localhost:7777", 5000);
	if (err) {
		fprintf(stderr, "connect: %s\n", sock_strerror(err));
		return 1;
	}
	while ((n = sock_recv_line(&s, line, sizeof(line))) > 0)
		fputs(line, stdout);
	if (n < 0)
		fprintf(stderr, "recv: %s\n", sock_strerror((int)n));
	sock_close(&s);
	return n < 0;
}
""",
    ),
    "sock_sendall": (
        "Send an HTTP/1.0 request whole and read the response to its end:",
        r"""#include <sock.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	const char *req = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
	struct sock s;
	void *resp;
	ssize_t n;
	int err;

	err = sock_connect(&s, SOCK_STREAM, "localhost:80", 5000);
	if (!err)
		err = sock_settimeout(&s, 5000);
	if (!err)
		err = sock_sendall(&s, req, strlen(req), NULL, 0);
	if (err) {
		fprintf(stderr, "http: %s\n", sock_strerror(err));
		sock_close(&s);
		return 1;
	}
	n = sock_recv_all(&s, 1 << 20, &resp);
	if (n >= 0) {
		fwrite(resp, 1, n, stdout);
		free(resp);
	}
	sock_close(&s);
	return n < 0;
}
""",
    ),
    "sock_settimeout": (
        "Wait at most 3 seconds for a reply, and tell a timeout from other "
        "errors:",
        r"""#include <sock.h>

int main(void)
{
	struct sock s;
	char buf[512];
	ssize_t n;
	int err;

	err = sock_connect(&s, SOCK_DGRAM, "127.0.0.1:7", 3000);
	if (!err)
		err = sock_settimeout(&s, 3000);
	if (!err)
		err = sock_sendall(&s, "ping", 4, NULL, 0);
	if (err) {
		fprintf(stderr, "echo: %s\n", sock_strerror(err));
		sock_close(&s);
		return 1;
	}
	n = sock_recv(&s, buf, sizeof(buf), 0);
	if (n == -ETIMEDOUT)
		puts("no answer in 3 s");
	else if (n < 0)
		fprintf(stderr, "echo: %s\n", sock_strerror((int)n));
	else
		printf("%zd bytes back\n", n);
	sock_close(&s);
	return n < 0;
}
""",
    ),
    "sock_addr_parse": (
        "Parse address text and show its parts:",
        r"""#include <sock.h>

int main(int argc, char **argv)
{
	struct sock_addr a;
	int err;

	if (argc != 2)
		return 2;
	err = sock_addr_parse(&a, argv[1]);
	if (err) {
		fprintf(stderr, "%s: %s\n", argv[1], sock_strerror(err));
		return 1;
	}
	switch (sock_addr_family(&a)) {
	case AF_INET:
	case AF_INET6:
		printf("IP, port %d%s\n", sock_addr_port(&a),
		       sock_addr_is_loopback(&a) ? ", loopback" : "");
		break;
	case AF_UNIX:
		puts("Unix");
		break;
	default:
		puts("other");
	}
	return 0;
}
""",
    ),
    "sock_addr_format": (
        "Write an address read from the kernel as text:",
        r"""#include <sock.h>

int main(void)
{
	char text[SOCK_ADDR_STRLEN];
	struct sock s;
	struct sock_addr a;
	int err;

	err = sock_listen(&s, SOCK_STREAM, "[::1]:0", 0, 0);
	if (!err)
		err = sock_getsockname(&s, &a);
	if (!err && sock_addr_format(&a, text, sizeof(text)) > 0)
		printf("bound to %s\n", text); /* [::1]:<port> */
	sock_close(&s);
	return err != 0;
}
""",
    ),
    "sock_serve": (
        "An echo service on event handlers, until SIGINT or SIGTERM:",
        r"""#include <sock.h>

static void echo(struct sock_conn *c, const void *data, size_t len)
{
	(void)sock_conn_send(c, data, len);
}

static const struct sock_service echo_service = {
	.name = "echo",
	.on_data = echo,
};

int main(void)
{
	int err;

	err = sock_serve(&echo_service, SOCK_STREAM, ":7007", NULL);
	if (err) {
		fprintf(stderr, "echo: %s\n", sock_strerror(err));
		return 1;
	}
	return 0;
}
""",
    ),
    "sock_server_new": (
        "A server with two workers and a 30 second idle timeout, which "
        "reports each connection closed:",
        r"""#include <sock.h>

static void log_event(const struct sock_event *ev, void *data)
{
	char peer[SOCK_ADDR_STRLEN];

	(void)data;
	if (ev->kind != SOCK_EV_CLOSE || !ev->addr ||
	    sock_addr_format(ev->addr, peer, sizeof(peer)) < 0)
		return;
	printf("%s: %s closed after %lld ms\n", ev->service, peer,
	       (long long)ev->duration_ms);
}

static void echo(struct sock_conn *c, const void *data, size_t len)
{
	(void)sock_conn_send(c, data, len);
}

static const struct sock_service echo_service = {
	.name = "echo",
	.on_data = echo,
};

int main(void)
{
	struct sock_server_config cfg = {
		.workers = 2,
		.idle_timeout_ms = 30000,
		.stop_on_signals = true,
		.on_event = log_event,
	};
	struct sock_server *srv;
	int err;

	err = sock_server_new(&srv, &cfg);
	if (err)
		return 1;
	err = sock_server_add(srv, &echo_service, SOCK_STREAM, ":7007", 0);
	if (err >= 0)
		err = sock_server_run(srv);
	if (err)
		fprintf(stderr, "echo: %s\n", sock_strerror(err));
	sock_server_free(srv);
	return err != 0;
}
""",
    ),
    "sock_server_add": (
        "One service on TCP and UDP: on a port the kernel chooses for the "
        "first, and the same port for the second:",
        r"""#include <sock.h>

static void echo(struct sock_conn *c, const void *data, size_t len)
{
	(void)sock_conn_send(c, data, len);
}

static void echo_dgram(struct sock_dgram *d, const void *data, size_t n)
{
	(void)sock_dgram_reply(d, data, n);
}

static const struct sock_service svc = {
	.name = "echo",
	.on_data = echo,
	.on_datagram = echo_dgram,
};

int main(void)
{
	struct sock_server_config cfg = { .stop_on_signals = true };
	struct sock_server *srv;
	struct sock_addr a;
	char addr[32];
	int i, err;

	err = sock_server_new(&srv, &cfg);
	if (err)
		return 1;
	i = sock_server_add(srv, &svc, SOCK_STREAM, "127.0.0.1:0", 0);
	err = i < 0 ? i : sock_server_addr(srv, i, &a);
	if (!err) {
		snprintf(addr, sizeof(addr), "127.0.0.1:%d",
			 sock_addr_port(&a));
		i = sock_server_add(srv, &svc, SOCK_DGRAM, addr, 0);
		err = i < 0 ? i : 0;
	}
	if (!err) {
		printf("echo on %s, TCP and UDP\n", addr);
		err = sock_server_run(srv);
	}
	if (err)
		fprintf(stderr, "echo: %s\n", sock_strerror(err));
	sock_server_free(srv);
	return err != 0;
}
""",
    ),
    "sock_server_run": (
        "Run a server from another thread and stop it from main():",
        r"""#include <sock.h>
#include <pthread.h>
#include <unistd.h>

static void greet(struct sock_conn *c)
{
	(void)sock_conn_send(c, "hello\n", 6);
	sock_conn_close(c);
}

static const struct sock_service hello = {
	.name = "hello",
	.on_open = greet,
};

static void *run(void *srv)
{
	int err = sock_server_run(srv);

	if (err)
		fprintf(stderr, "hello: %s\n", sock_strerror(err));
	return NULL;
}

int main(void)
{
	struct sock_server *srv;
	pthread_t t;

	if (sock_server_new(&srv, NULL))
		return 1;
	if (sock_server_add(srv, &hello, SOCK_STREAM, ":7008", 0) < 0 ||
	    pthread_create(&t, NULL, run, srv)) {
		sock_server_free(srv);
		return 1;
	}
	sleep(60);
	sock_server_stop(srv);
	pthread_join(t, NULL);
	sock_server_free(srv);
	return 0;
}
""",
    ),
    "sock_server_proxy": (
        "An echo service behind HAProxy on 10.0.0.0/8, which sends the "
        "PROXY header (send-proxy or send-proxy-v2):",
        r"""#include <sock.h>

static void echo(struct sock_conn *c, const void *data, size_t len)
{
	(void)sock_conn_send(c, data, len);
}

static const struct sock_service echo_service = {
	.name = "echo",
	.on_data = echo,
};

int main(void)
{
	struct sock_server_config cfg = { .stop_on_signals = true };
	struct sock_server *srv;
	int idx, err;

	err = sock_server_new(&srv, &cfg);
	if (err)
		return 1;
	idx = sock_server_add(srv, &echo_service, SOCK_STREAM, ":7007", 0);
	err = idx < 0 ? idx : sock_server_proxy(srv, idx, "10.0.0.0/8", 0);
	if (!err)
		err = sock_server_run(srv);
	if (err)
		fprintf(stderr, "echo: %s\n", sock_strerror(err));
	sock_server_free(srv);
	return err != 0;
}
""",
    ),
    "sock_server_tls": (
        "An echo service over TLS on port 7443 (the handlers see "
        "plaintext):",
        r"""#include <sock.h>

static void echo(struct sock_conn *c, const void *data, size_t len)
{
	(void)sock_conn_send(c, data, len);
}

static const struct sock_service echo_service = {
	.name = "echo",
	.on_data = echo,
};

int main(void)
{
	struct sock_server_config cfg = { .stop_on_signals = true };
	struct sock_server *srv = NULL;
	struct sock_tls_ctx *ctx;
	int idx, err;

	err = sock_tls_ctx_new(&ctx, SOCK_TLS_SERVER);
	if (!err)
		err = sock_tls_ctx_use_cert(ctx, "cert.pem", "key.pem");
	if (!err)
		err = sock_server_new(&srv, &cfg);
	if (!err) {
		idx = sock_server_add(srv, &echo_service, SOCK_STREAM,
				      ":7443", 0);
		err = idx < 0 ? idx : sock_server_tls(srv, idx, ctx, 0);
	}
	sock_tls_ctx_free(ctx); /* the server keeps its own reference */
	if (!err)
		err = sock_server_run(srv);
	if (err)
		fprintf(stderr, "echo: %s\n", sock_strerror(err));
	sock_server_free(srv);
	return err != 0;
}
""",
    ),
    "sock_server_allow": (
        "Serve the local network and this host, except one subnet:",
        r"""#include <sock.h>

static void echo(struct sock_conn *c, const void *data, size_t len)
{
	(void)sock_conn_send(c, data, len);
}

static const struct sock_service echo_service = {
	.name = "echo",
	.on_data = echo,
};

int main(void)
{
	struct sock_server_config cfg = { .stop_on_signals = true };
	struct sock_server *srv;
	int idx, err;

	err = sock_server_new(&srv, &cfg);
	if (err)
		return 1;
	idx = sock_server_add(srv, &echo_service, SOCK_STREAM, ":7007", 0);
	err = idx < 0 ? idx : sock_server_allow(srv, idx, "192.168.0.0/16");
	if (!err)
		err = sock_server_allow(srv, idx, "127.0.0.1");
	if (!err)
		err = sock_server_deny(srv, idx, "192.168.66.0/24");
	if (!err)
		err = sock_server_run(srv);
	if (err)
		fprintf(stderr, "echo: %s\n", sock_strerror(err));
	sock_server_free(srv);
	return err != 0;
}
""",
    ),
}

# ---------------------------------------------------------------------
# Reading the headers
# ---------------------------------------------------------------------


class Comment:
    def __init__(self, text, line):
        self.text = text  # without /* */ and the leading " * "
        self.line = line
        self.section = None
        self.decls = []
        self.preamble = False  # followed by another comment: its section's


class Decl:
    def __init__(self, kind, name, text, comment, section):
        self.kind = kind  # function, inline, typedef, struct, enum, opaque
        self.name = name
        self.text = text  # as written, from its first character to ';'
        self.comment = comment
        self.section = section


def comment_text(raw):
    """The lines of a /* */ comment without its markers, indentation kept."""
    body = raw[2:-2]
    out = []
    for line in body.split("\n"):
        line = re.sub(r"^\s*\* ?", "", line) if out else line.lstrip(" ")
        out.append(line.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def classify(text):
    """(kind, name) of a top-level statement, or None for one of no interest."""
    flat = re.sub(r"\s+", " ", text).strip()
    m = re.match(r"typedef .*?\(\s*\*\s*(\w+)\s*\)", flat)
    if m:
        return "typedef", m.group(1)
    if flat.startswith("typedef "):
        return "typedef", re.search(r"(\w+)\s*;$", flat).group(1)
    m = re.match(r"(struct|enum) (\w+) \{", flat)
    if m:
        return m.group(1), m.group(2)
    m = re.match(r"struct (\w+);$", flat)
    if m:
        return "opaque", m.group(1)
    head = flat.split("(", 1)[0]
    m = re.search(r"(\w+)\s*$", head)
    if "(" in flat and m:
        return ("inline" if flat.startswith("static") else "function"), m.group(1)
    return None


def scan(path):
    """The documented declarations of a header, in order."""
    text = open(path, encoding="utf-8").read()
    decls = []
    comments = []
    last = None  # the comment the next declaration belongs to
    banner = 0  # 1: in a section banner, before its title; 2: after it
    section = None
    start = None  # where the statement under way began
    depth = 0
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.index("*/", i) + 2
            if start is None:
                body = comment_text(text[i:j])
                if re.fullmatch(r"-+", body.strip()):
                    banner = (banner + 1) % 3
                elif banner == 1:
                    section = body.strip()
                    banner = 2
                else:
                    cm = Comment(body, line)
                    cm.section = section
                    if last is not None and not last.decls:
                        last.preamble = True
                    comments.append(cm)
                    last = cm
            line += text.count("\n", i, j)
            i = j
            continue
        if c == "#" and start is None:
            j = i
            while True:
                j = text.find("\n", j)
                if j < 0 or text[j - 1] != "\\":
                    break
                j += 1
            j = n if j < 0 else j
            line += text.count("\n", i, j)
            i = j
            last = None
            continue
        if c == "\n":
            line += 1
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            j = i + 1
            while text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if start is None:
            start = i
        if c in "({":
            if c == "{" and text[start:i].strip() == 'extern "C"':
                start = None  # C++ linkage: not a block of its own
            else:
                depth += 1
        elif c in ")}":
            depth -= 1
        end = depth == 0 and (c == ";" or (c == "}" and
                                           text[start:i].startswith("static")))
        if end:
            stmt = text[start:i + 1]
            start = None
            kind = classify(stmt)
            if kind:
                d = Decl(kind[0], kind[1], stmt, last, section)
                decls.append(d)
                if last is not None:
                    last.decls.append(d)
        i += 1
    return decls, comments


def read_map(path):
    """The global names of every version node of the linker map."""
    names = []
    glob = False
    text = re.sub(r"/\*.*?\*/", "", open(path, encoding="utf-8").read(),
                  flags=re.S)
    for tok in re.findall(r"[\w.*]+:|[\w.*]+\s*;|[{}]", text):
        if tok == "}":
            glob = False
        elif tok.endswith(":"):
            glob = tok == "global:"
        elif glob and tok.endswith(";") and tok != "*;":
            names.append(tok.rstrip(" ;\t\n"))
    return sorted(set(names))


def read_meanings(path):
    """sock_strerror()'s text for each code, by name: EPIPE, SOCK_EEOF."""
    text = open(path, encoding="utf-8").read()
    means = dict(re.findall(r'\[(E[A-Z0-9]+)\] = "([^"]+)"', text))
    means.update(re.findall(r'case (SOCK_E[A-Z]+):\s*return "([^"]+)"', text))
    return means


def release(root):
    version = re.search(r"^VERSION := (\S+)", open(
        os.path.join(root, MAKEFILE), encoding="utf-8").read(), re.M).group(1)
    th = open(os.path.join(root, OVERVIEW), encoding="utf-8").readline()
    date = re.match(r'\.TH \S+ 3 (\S+) ', th).group(1)
    return version, date

# ---------------------------------------------------------------------
# Text to troff
# ---------------------------------------------------------------------


CODE = r"(?:-E[A-Z0-9]+\b|SOCK_E[A-Z]+\b)"
# Constants, in bold in the text: error codes, and the names of <sock.h>
# and the system headers (SOCK_FOREVER, AF_INET, MSG_TRUNC, TCP_NODELAY).
CONST = (r"(?<![\w-])-?E[A-Z0-9]{3,}\b|\b(?:SOCK|AF|PF|MSG|SOL|SO|TCP|IPV6|IP"
         r"|IPPROTO|SHUT|AI|NI|POLL|SCM|EAI|SIG|CLOCK|LISTEN|O)_[A-Z0-9_]*"
         r"(?:\b|\*)"
         r"|\bSIG[A-Z]+\b|\bO_NONBLOCK\b")


class Api:
    def __init__(self, root):
        self.decls = []
        self.comments = []
        for h in HEADERS:
            d, c = scan(os.path.join(root, h))
            self.decls += d
            self.comments += c
        self.exported = read_map(os.path.join(root, MAP))
        self.meanings = read_meanings(os.path.join(root, ERRORS_C))
        self.version, self.date = release(root)
        self.funcs = {d.name: d for d in self.decls
                      if d.kind in ("function", "inline")}
        self.types = {d.name for d in self.decls
                      if d.kind in ("typedef", "struct", "enum", "opaque")}
        self.preambles = {}
        for c in self.comments:
            if c.preamble and c.section:
                self.preambles.setdefault(c.section, []).append(c)


def rewrite(text):
    for old, new in REWRITES:
        text = text.replace(old, new)
    return text


def escape(text):
    """Plain text for troff: backslashes, minus signs, dashes."""
    text = text.replace("\\", "\\e")
    text = text.replace(" -- ", " \\(em ")
    text = re.sub(r"(?<![\w\-])-(?=[\w ])", r"\\-", text)
    return text


def markup(api, text, names=None):
    """A sentence for troff: escaped, the library's functions, the manual
    pages it names (poll(2)) and constants in bold; names, when given,
    collects the functions and pages as (name, section)."""
    out = []
    pos = 0
    pat = re.compile(r"\b(sock_[a-z0-9_]+)(\(\))?|\b([a-z_][a-z0-9_]*)\(([1-8])\)"
                     r"|(" + CONST + r")")
    for m in pat.finditer(text):
        out.append(escape(text[pos:m.start()]))
        pos = m.end()
        if m.group(5):
            if m.group(5).lstrip("-") in api.meanings or "_" in m.group(5):
                out.append("\\fB%s\\fR" % escape(m.group(5)))
            else:
                out.append(escape(m.group(5)))
        elif m.group(1):
            name = m.group(1)
            before = text[max(0, m.start() - 7):m.start()]
            if name in api.types or re.search(r"(struct|enum) $", before):
                out.append(escape(m.group(0)))
                continue
            out.append("\\fB%s\\fR%s" % (name, m.group(2) or ""))
            if names is not None:
                names.append((name, 3))
        else:
            out.append("\\fB%s\\fR(%s)" % (m.group(3), m.group(4)))
            if names is not None:
                names.append((m.group(3), int(m.group(4))))
    out.append(escape(text[pos:]))
    line = "".join(out)
    return "\\&" + line if line[:1] in (".", "'") else line


def paragraphs(text):
    """A comment as paragraphs: ("text", [sentences]) or ("pre", [lines])."""
    out = []
    base = min(len(ln) - len(ln.lstrip()) for ln in text.split("\n")
               if ln.strip())
    for block in re.split(r"\n\s*\n", text):
        lines = block.split("\n")
        prose, pre = [], []
        for ln in lines:
            ind = len(ln) - len(ln.lstrip())
            if ind >= base + 2 and not pre and not (
                    prose and prose[-1].rstrip().endswith((",", "("))):
                pre.append(ln[base:])
                continue
            if pre and ind >= base + 2:
                pre.append(ln[base:])
                continue
            if pre:
                out.append(("text", sentences(prose)))
                out.append(("pre", pre))
                prose, pre = [], []
            prose.append(ln.strip())
        if prose:
            out.append(("text", sentences(prose)))
        if pre:
            out.append(("pre", pre))
    return out


def sentences(lines):
    """Sentences of prose lines: the headers put two spaces after a
    sentence, or end it at the end of a line."""
    joined = ""
    for ln in lines:
        if not joined:
            joined = ln
        elif re.search(r'[.?!][)"]?$', joined) and \
                not re.search(r"\b(e\.g|i\.e|etc)\.$", joined):
            joined += "  " + ln
        else:
            joined += " " + ln
    parts = re.split(r'(?<=[.?!])  +|(?<=[.?!][)"])  +', joined)
    return [rewrite(p.strip()) for p in parts if p.strip()]


def is_return(sentence):
    """Whether a sentence tells what the call returns: "Returns 0 or
    -errno", "... and returns its length", "On failure s is closed" -- but
    not what a hook, a handler or a later call returns, or when."""
    if re.search(r"\b(hook|handler|this|run|out|make \S+) returns?\b|"
                 r"\bnext call\b", sentence, re.I):
        return False
    sentence = sentence.replace("on return", "")  # an out parameter's value
    return re.search(r"\b(returns?|returned|returning)\b|^on (failure|success)\b",
                     sentence, re.I) is not None


def only_return(sentence):
    """A sentence that says nothing but what the call returns."""
    return re.match(r"Returns?\b", sentence) is not None


def error_sentence(sentence):
    """A sentence that tells of an error outside a return sentence: "text
    holding a NUL byte is SOCK_EBADADDR", "a TCP connect that cannot
    complete at once fails with -EINPROGRESS" (a connection that fails
    later is not this call's error)."""
    return re.search(r"\b(is|fails with) " + CODE, sentence) and \
        not re.search(r"connection fails", sentence)


def split_top(text, seps):
    """text up to the first of seps outside parentheses and quotes."""
    depth = 0
    quote = False
    for i, c in enumerate(text):
        if c == '"':
            quote = not quote
        elif quote:
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return text[:i]
            depth -= 1
        elif depth == 0 and any(text.startswith(s, i) for s in seps):
            return text[:i]
    return text


def reasons(sentence):
    """(code, reason or None) for each code a sentence names."""
    out = []
    for m in re.finditer(CODE, sentence):
        rest = sentence[m.end():]
        why = split_top(rest, [", ", "; ", ": "]).strip()
        why = re.sub(r"\.$", "", why).strip()
        if why.startswith("(") and why.endswith(")"):
            why = why[1:-1].strip()
        why = re.sub(r"^(for|when|if|means|as) ", "", why)
        why = re.sub(r"\s*\.\.\.$", "", why)
        shared = re.match(r"or (" + CODE + r")", why)
        if shared:
            why = None
            for code, w in reasons(rest):
                if code == shared.group(1):
                    why = w
                    break
        if why and (why.startswith(("...", "or ", "and ", "(")) or
                    re.fullmatch(r"[\W\d]*", why)):
            why = None
        out.append((m.group(0), why or None))
    return out


def summary(fn, comment):
    """NAME's line: the comment's first sentence without its parentheses,
    its "Python's f():" and what follows its first colon, cut to its first
    clauses when long."""
    if fn in SUMMARY:
        return SUMMARY[fn]
    first = sentences(paragraphs_first(comment.text))[0]
    s = first
    while True:  # parentheticals out, innermost first
        t = re.sub(r" ?\([^()]+\)", "", s)
        if t == s:
            break
        s = t
    m = re.match(r"^(?:(?:Python|socketserver)'s [^:]+?|[\w/()]+): (.+)$", s)
    if m:
        s = m.group(1)
    s = split_top(s, [": ", "; "]).strip().rstrip(".")
    for cut, most in ((", ", 60), (", ", 72), (" for ", 72)):
        if len(s) > most and cut in s[20:most]:  # long: its first clauses
            s = s[:s.rindex(cut, 20, most)]
    first = s.split(" ", 1)[0]
    if not re.search(r"[A-Z_']", first[1:]):
        s = s[0].lower() + s[1:]
    return s


def paragraphs_first(text):
    """The lines of a comment's first paragraph."""
    return re.split(r"\n\s*\n", text)[0].split("\n")


def names_in_see_also(page):
    m = re.search(r"^\.SH SEE ALSO\n(.*?)(?=^\.SH |\Z)", page, re.S | re.M)
    return re.findall(r"^\.BR? (\S+) \((\d)\)", m.group(1), re.M) if m else []


def bold_names(page):
    names = re.findall(r"\\fB([a-z_][a-z0-9_]*)\\f[RP]", page)
    names += re.findall(r"^\.BR? ([a-z_][a-z0-9_]*)\b", page, re.M)
    return names

# ---------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------


def expand(text):
    return "\n".join(ln.expandtabs(8) for ln in text.split("\n"))


def synopsis_decl(d):
    """A prototype for .nf text: tabs expanded, SOCK_WUR out, the function
    in bold and its parameters' names in italics."""
    text = expand(re.sub(r"\s*SOCK_WUR\s*;$", ";", d.text))
    open_ = text.index("(")
    close = match_paren(text, open_)
    name_at = text.rindex(d.name, 0, open_)
    spans = [(name_at, name_at + len(d.name), "B")]
    depth, start = 0, open_ + 1
    for i in range(open_ + 1, close + 1):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif (c == "," and depth == 0) or i == close:
            p = text[start:i]
            m = re.search(r"\(\s*\*\s*(\w+)\s*\)", p) or \
                re.search(r"(\w+)\s*(\[[^\]]*\])?\s*$", p)
            if m and m.group(1) != "void":
                spans.append((start + m.start(1), start + m.end(1), "I"))
            start = i + 1
    out, pos = [], 0
    for a, b, font in sorted(spans):
        out.append(escape_code(text[pos:a]))
        out.append("\\f%s%s\\fP" % (font, text[a:b]))
        pos = b
    out.append(escape_code(text[pos:]))
    return "".join(out)


def match_paren(text, i):
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced parentheses")


def escape_code(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + ln if ln[:1] in (".", "'") else ln
                     for ln in text.split("\n"))


def strip_comments(text):
    """A struct or enum without its whole-line comments (trailing ones on
    a line of code stay)."""
    text = re.sub(r"\n[ \t]*/\*.*?\*/[ \t]*(?=\n)", "", text, flags=re.S)
    return text


def quoted_types(api, group):
    """Typedefs the prototypes use, and short structs and enums used by few
    functions, to show above them."""
    used = " ".join(re.sub(r"\s+", " ", d.text) for d in group)
    out = []
    for d in api.decls:
        if d.kind not in ("typedef", "struct", "enum"):
            continue
        pat = r"\b%s\b" % d.name
        pat = (r"\b(struct|enum) " if d.kind != "typedef" else "") + pat
        if not re.search(pat, used):
            continue
        if d.kind == "typedef":
            out.append(d)
            continue
        users = [f for f in api.funcs.values() if f.kind == "function" and
                 re.search(pat, f.text)]
        if len(users) <= 3 and strip_comments(d.text).count("\n") <= 12:
            out.append(d)
    return out


def section(name):
    return ".SH %s" % name


def rtype(d):
    return d.text.split(d.name, 1)[0].strip()


def page(api, fn):
    d = api.funcs[fn]
    cm = d.comment
    group = [x for x in cm.decls if x.kind == "function"]
    mentioned = []
    L = ['.TH %s 3 %s "libsock %s" "Library Functions Manual"' % (
        fn, api.date, api.version)]
    L += [section("NAME"), "%s \\- %s" % (fn, escape(summary(fn, cm)))]
    types = quoted_types(api, group)
    L += synopsis(d, types)

    # The comment: what comes before its first word on returning describes,
    # the rest tells what the call returns.
    desc, returns, errors = split_comment(cm.text)
    notes = []
    if fn not in SECTION_NOTE_EXCEPT:
        notes = [c for c in api.preambles.get(cm.section, [])
                 if not c.text.startswith("The address grammar")]
    L.append(section("DESCRIPTION"))
    L += render(api, desc, mentioned)
    for t in types:
        L += fields(api, t)
    for c in notes:
        L += [".PP"] + render(api, paragraphs(c.text))
    grammar = [c for c in api.comments if c.preamble and
               c.text.startswith("The address grammar")]
    if "grammar" in cm.text and grammar:
        L += [".SS Address text"] + render(api, paragraphs(grammar[0].text))

    L.append(section("RETURN VALUE"))
    if returns:
        L += [markup(api, x, mentioned) for x in returns]
    elif rtype(d) == "void":
        L.append("\\fB%s\\fR() returns nothing." % fn)
    else:
        said = fallback_return(fn, cm, group)
        L.append(markup(api, said))
        returns = [said]

    general = list(returns)
    for c in notes:
        general += [x for kind, body in paragraphs(c.text) if kind == "text"
                    for x in body if is_return(x)]
    L += error_list(api, d, general, errors)

    if fn in EXAMPLES:
        intro, code = EXAMPLES[fn]
        L += [section("EXAMPLES"), markup(api, intro), ".PP", ".nf"]
        L += [escape_example(ln) for ln in code.rstrip("\n").split("\n")]
        L.append(".fi")

    L += see_also(api, fn, group, mentioned)
    return "\n".join(L) + "\n"


def synopsis(d, types):
    L = [section("SYNOPSIS"), ".nf", ".B #include <sock.h>"]
    for t in types:
        if t.kind == "typedef" and not re.search(r"\b%s\b" % t.name, d.text):
            continue
        L += [".PP", escape_code(expand(strip_comments(t.text)))]
    L += [".PP", synopsis_decl(d), ".fi", ".PP", "Link with",
          '.IR "cc ... $(pkg\\-config \\-\\-cflags \\-\\-libs libsock)" .']
    return L


def split_comment(text):
    """The comment's paragraphs for DESCRIPTION; its sentences on what the
    call returns, from the first of them to the end of that paragraph (what
    follows a "Returns ..." is about returning, like "The connection is
    then closed"); and its other sentences that tell of an error code."""
    desc, returns, errors = [], [], []
    for kind, body in paragraphs(text):
        if kind == "pre":
            desc.append((kind, body))
            continue
        keep = []
        for i, x in enumerate(body):
            if not returns and is_return(x):
                returns += body[i:]
                if not only_return(x) or i == 0:
                    keep.append(x)
                break
            if returns and is_return(x):
                returns.append(x)
            keep.append(x)
        errors += [x for x in body if error_sentence(x) and x not in returns]
        if keep:
            desc.append((kind, keep))
    return desc, returns, errors


def render(api, paras, mentioned=None):
    L = []
    for kind, body in paras:
        if L:
            L.append(".PP")
        if kind == "pre":
            L += [".RS", ".nf"] + [escape_code(ln) for ln in body]
            L += [".fi", ".RE"]
        else:
            L += [markup(api, x, mentioned) for x in body]
    return L


def fields(api, t):
    """The documented members of a struct or enum shown in SYNOPSIS, as a
    list: each with the comment above it or beside it."""
    if t.kind not in ("struct", "enum"):
        return []
    body = t.text[t.text.index("{") + 1:t.text.rindex("}")]
    end = ";" if t.kind == "struct" else ","
    items, pending = [], None
    i, depth, start = 0, 0, 0
    while i < len(body):
        if body.startswith("/*", i):
            j = body.index("*/", i) + 2
            text = comment_text(body[i:j])
            line = body[:i].rsplit("\n", 1)[-1]
            if body[start:i].strip():  # inside a member: not one's own
                pass
            elif line.strip() and items and items[-1][1] is None:
                items[-1] = (items[-1][0], text)  # beside its member
            else:
                pending = text
            i = start = j
            continue
        c = body[i]
        depth += (c == "(") - (c == ")")
        if depth == 0 and (c == end or i == len(body) - 1):
            decl = body[start:i + (c != end)].strip()
            if decl:
                name = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl) or \
                    re.match(r"(\w+)\s*(=|$)", decl) or \
                    re.search(r"(\w+)\s*(\[[^\]]*\]\s*)*$", decl)
                items.append((name.group(1), pending))
                pending = None
            start = i + 1
        i += 1
    items = [(n, c) for n, c in items if c]
    if not items:
        return []
    L = [".SS %s %s" % (t.kind, t.name)]
    for name, text in items:
        L += [".TP", ".B %s" % name if t.kind == "enum" else ".I %s" % name]
        L += [markup(api, x) for kind, body in paragraphs(text)
              for x in (body if kind == "text" else [" ".join(body)])]
    return L


def error_list(api, d, returns, errors):
    """ERRORS: the codes the return sentences name, with their reasons;
    a code that another sentence tells of has that sentence for reason."""
    codes = []
    for x in returns:
        for code, why in reasons(x):
            if code not in [c for c, _ in codes]:
                codes.append((code, why))
    for x in errors:
        for code, why in reasons(x):
            if not [c for c, w in codes if c == code and w]:
                clause = [c for c in re.split(r"; ", x) if code in c][0]
                codes = [(c, w) for c, w in codes if c != code]
                codes.append((code, clause.rstrip(".")))
    said = " ".join(returns)
    tail = []
    if re.search(r"resolver code", said):
        tail.append("A name lookup that fails returns a resolver code "
                    "(\\fBSOCK_ENONAME\\fR and others: see "
                    "\\fBlibsock\\fR(3)).")
    if re.search(r"-errno\b|negative code", said):
        tail.append("%s return%s a negative code, which \\fBsock_strerror\\fR() "
                    "names." % (("Other failures", "") if codes or tail else
                                ("A failure", "s")))
    if not codes and not tail:
        return []
    L = [section("ERRORS")]
    for code, why in codes:
        if not why:
            key = code.lstrip("-")
            if key not in api.meanings:
                raise SystemExit("manpages: no meaning for %s in %s" %
                                 (code, ERRORS_C))
            why = api.meanings[key]
            why = why[0].upper() + why[1:]
        elif not first_is_param(d, why) and "_" not in why.split(" ")[0]:
            why = why[0].upper() + why[1:]
        L += [".TP", ".B %s" % escape(code), markup(api, why + ".")]
    if tail:
        L += [".PP"] + tail
    return L


def see_also(api, fn, group, mentioned):
    """The functions the page names that have pages, those sharing its
    comment, the system's pages it names, and libsock(3)."""
    see = {(3, "libsock")}
    for name, sec in mentioned:
        if not name.startswith("sock_"):
            see.add((sec, name))
        elif name in api.exported and name != fn:
            see.add((3, name))
    for other in group:
        if other.name != fn and other.name in api.exported:
            see.add((3, other.name))
    see = sorted(see)
    return [section("SEE ALSO")] + [
        ".BR %s (%d)%s" % (name, sec, "," if i < len(see) - 1 else "")
        for i, (sec, name) in enumerate(see)]


def first_is_param(d, text):
    word = re.match(r"\*?(\w+)", text)
    return word and re.search(r"\b%s\s*[,)\[]" % re.escape(word.group(1)), d.text)


def escape_example(line):
    """A line of an example: indented by 4 columns a tab (the program is
    written in tabs of 8, but aligns nothing past its last leading tab),
    so that it fits beside the page's margin."""
    tabs = len(line) - len(line.lstrip("\t"))
    line = "    " * tabs + line[tabs:]
    line = line.replace("\\", "\\e")
    return "\\&" + line if line[:1] in (".", "'") else line


def fallback_return(fn, cm, group):
    """What a comment without a sentence on returning says: "Like
    sock_addr_parse() for ..." returns as that does; a first sentence that
    is a noun phrase ("The descriptor, or -1 if closed") is what the
    function returns."""
    first = sentences(paragraphs_first(cm.text))[0]
    s = re.sub(r"^(?:Python's \S+|[\w/]+\(\)): ", "", first)
    like = re.match(r"(?:Like )?(sock_\w+)\(\)", s)
    if like:
        return "%s() returns as %s() does." % (fn, like.group(1))
    if len(group) > 1:  # the comment speaks of several
        if re.match(r"(the|a|true) ", SUMMARY.get(fn, "")):
            return "%s() returns %s." % (fn, SUMMARY[fn])
    elif s != first or re.match(
            r"(The|the|A|a|True|False|true|false|whether|\"|\d)\b", s):
        if s[:1].isupper() and not re.match(r"[A-Z]{2}|[A-Z]\w*_", s):
            s = s[0].lower() + s[1:]
        return "%s() returns %s" % (fn, s)
    return "%s() returns the value described above." % fn

# ---------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------


def generate(root):
    """{file name: text} for every exported function, and the problems."""
    api = Api(root)
    pages, problems = {}, []
    for fn in api.exported:
        d = api.funcs.get(fn)
        if d is None or d.kind != "function":
            problems.append("%s is exported but not declared in the headers" % fn)
            continue
        if d.comment is None:
            problems.append("%s has no comment above its declaration" % fn)
            continue
        pages[fn + ".3"] = page(api, fn)
    for fn in EXAMPLES:
        if fn not in api.exported:
            problems.append("an example for %s, which is not exported" % fn)
    return api, pages, problems


def write(root, out):
    api, pages, problems = generate(root)
    for p in problems:
        print("manpages: " + p, file=sys.stderr)
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(out)):
        if name.endswith(".3") and name not in pages:
            os.remove(os.path.join(out, name))
    for name, text in sorted(pages.items()):
        path = os.path.join(out, name)
        try:
            if open(path, encoding="utf-8").read() == text:
                continue
        except FileNotFoundError:
            pass
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return 1 if problems else 0


def check(root, where):
    api, pages, problems = generate(root)
    names = sorted(os.listdir(where)) if os.path.isdir(where) else []
    have = {n: open(os.path.join(where, n), encoding="utf-8").read()
            for n in names if n.endswith(".3")}
    for fn in api.exported:
        if fn + ".3" not in have:
            problems.append("no page for exported %s" % fn)
    declared = set(api.funcs)
    for name, text in sorted(have.items()):
        fn = name[:-2]
        if fn not in api.exported:
            problems.append("%s: a page for %s, which is not exported" %
                            (name, fn))
        for bold in sorted(set(bold_names(text))):
            if bold.startswith("sock_") and bold not in declared:
                problems.append("%s: names %s, which does not exist" %
                                (name, bold))
        for ref, sec in names_in_see_also(text):
            if sec == "3" and (ref.startswith("sock_") or ref == "libsock") \
                    and ref not in api.exported and \
                    not os.path.exists(os.path.join(root, "docs/man",
                                                    ref + ".3")):
                problems.append("%s: SEE ALSO %s(3), which has no page" %
                                (name, ref))
    with tempfile.TemporaryDirectory() as tmp:
        for n, text in pages.items():
            with open(os.path.join(tmp, n), "w", encoding="utf-8") as f:
                f.write(text)
        for n in sorted(set(pages) | set(have)):
            if n not in have:
                problems.append("%s: not written (run make man)" % n)
            elif n not in pages:
                problems.append("%s: not what manpages.py writes "
                                "(run make man)" % n)
            elif pages[n] != have[n]:
                problems.append("%s: differs from what the headers give "
                                "(run make man)" % n)
    for p in problems:
        print("manpages: " + p)
    if problems:
        return 1
    print("manpages: %d pages, %d exported functions: ok" %
          (len(have), len(api.exported)))
    return 0


def examples(root, out):
    api = Api(root)
    os.makedirs(out, exist_ok=True)
    for fn, (intro, code) in sorted(EXAMPLES.items()):
        with open(os.path.join(out, fn + ".c"), "w", encoding="utf-8") as f:
            f.write(code)
    return 0 if all(fn in api.exported for fn in EXAMPLES) else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        return check(ROOT, argv[2])
    if len(argv) == 3 and argv[1] == "--examples":
        return examples(ROOT, argv[2])
    if len(argv) <= 2 and not (len(argv) == 2 and argv[1].startswith("-")):
        return write(ROOT, argv[1] if len(argv) == 2 else
                     os.path.join(ROOT, "docs/man/man3"))
    print("usage: manpages.py [DIR] | --check DIR | --examples DIR",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

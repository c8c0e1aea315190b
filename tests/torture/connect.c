/* SPDX-License-Identifier: MIT */
/* connect.c -- torture scenarios: sock_connect to a literal, a name, a closed port, a silent peer */

/*
 * The peers are plain system calls, never failed.  The work is correct
 * when sock_connect gives what the peer calls for: a connection that
 * carries a byte (a literal address, and "localhost", which goes through
 * the resolver's thread), -ECONNREFUSED (a closed port), -ETIMEDOUT (a
 * listener whose accept queue is full, so that SYNs go unanswered).
 */

#include "torture.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* sock_connect's timeout, where the peer answers. */
#define CONNECT_MS 3000
/* ... and against the silent peer. */
#define SILENT_MS 300
/* Connections tried to fill the silent peer's accept queue. */
#define FILL_MAX 16

enum kind { LITERAL, NAME, REFUSED, SILENT };

/* A listening (or, with backlog < 0, only bound) socket on 127.0.0.1:0;
 * its port goes to *port. */
static int peer_socket(int backlog, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0 ||
	    (backlog >= 0 && listen(fd, backlog) < 0)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* Connect without waiting; true once the handshake completed (the
 * listener's queue took it) within ms. */
static bool raw_connect(int port, int ms, int *out)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct pollfd p;
	int fd;

	*out = fd =
		socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return true;
	if (errno != EINPROGRESS)
		return false;
	p.fd = fd;
	p.events = POLLOUT;
	return poll(&p, 1, ms) == 1;
}

/* The connection made carries a byte to the peer. */
static void check_connected(struct run *r, struct sock *s, int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	char c = 0;
	int fd, err;

	if (poll(&p, 1, CONNECT_MS) != 1) {
		run_bad(r, "connected, but the peer has no connection");
		return;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		run_bad(r, "the peer cannot accept: %s", strerror(errno));
		return;
	}
	err = sock_sendall(s, "x", 1, NULL, 0);
	if (err)
		run_error(r, "sock_sendall", err);
	else if (recv(fd, &c, 1, 0) == 1 && c == 'x')
		run_done(r);
	else
		run_bad(r, "the byte sent did not arrive");
	close(fd);
}

static void connect_run(const struct scenario *sc, struct run *r)
{
	enum kind k = (enum kind)sc->mode;
	int lfd, port, fill[FILL_MAX], nfill = 0, err, i;
	char text[64];
	struct sock s;
	bool queued = true;

	lfd = peer_socket(k == REFUSED ? -1 : k == SILENT ? 1 : 8, &port);
	if (lfd < 0) {
		run_bad(r, "no peer socket");
		return;
	}
	if (k == REFUSED)
		close(lfd);
	/* Fill the queue: the connection it refuses to complete shows it
	 * is full. */
	while (k == SILENT && queued && nfill < FILL_MAX)
		queued = raw_connect(port, 200, &fill[nfill++]);
	snprintf(text, sizeof(text), "%s:%d",
		 k == NAME ? "localhost" : "127.0.0.1", port);
	err = sock_connect(&s, SOCK_STREAM, text,
			   k == SILENT ? SILENT_MS : CONNECT_MS);
	if (!err && (k == LITERAL || k == NAME))
		check_connected(r, &s, lfd);
	else if (!err)
		run_bad(r, "connected to %s",
			k == REFUSED ? "a closed port" : "a silent peer");
	else if ((k == REFUSED && err == -ECONNREFUSED) ||
		 (k == SILENT && err == -ETIMEDOUT && !queued))
		run_done(r);
	else
		run_error(r, "sock_connect", err);
	if (!err && s.fd < 0)
		run_bad(r, "sock_connect returned 0 without a socket");
	if (err && s.fd >= 0)
		run_bad(r, "sock_connect failed and left a socket");
	sock_close(&s);
	for (i = 0; i < nfill; i++)
		if (fill[i] >= 0)
			close(fill[i]);
	if (k != REFUSED)
		close(lfd);
}

#define CONNECT(name, kind)                                                    \
	{                                                                      \
		name, NULL, connect_run, 0, kind, SOCK_STREAM, NULL            \
	}

const struct scenario connect_scenarios[] = {
	CONNECT("connect-literal", LITERAL),
	CONNECT("connect-name", NAME),
	CONNECT("connect-refused", REFUSED),
	CONNECT("connect-silent", SILENT),
};
const size_t connect_scenarios_count =
	sizeof(connect_scenarios) / sizeof(connect_scenarios[0]);

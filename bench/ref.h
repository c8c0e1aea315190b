/* SPDX-License-Identifier: MIT */
/* ref.h -- what the hand-written reference servers share: arguments, listening */

/*
 * The reference servers are deliberately plain C on the system calls, as
 * someone would write them by hand; only the boilerplate lives here.
 * Each serves 127.0.0.1:PORT until killed.
 */

#ifndef BENCH_REF_H
#define BENCH_REF_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static inline void ref_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(1);
}

static inline int ref_port(const char *text)
{
	char *end;
	long port = strtol(text, &end, 10);

	if (*end || port < 1 || port > 65535) {
		fprintf(stderr, "bad port '%s'\n", text);
		exit(2);
	}
	return (int)port;
}

/*
 * Every server: as many descriptors as allowed (for the 10,000 held
 * connections), and no death by SIGPIPE when a client closes while its
 * echo is being written.
 */
static inline void ref_setup(void)
{
	struct rlimit rl;

	signal(SIGPIPE, SIG_IGN);

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* A non-blocking socket of type bound to 127.0.0.1:port, listening if a
 * stream. */
static inline int ref_listen(int type, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, one = 1;

	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		ref_die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		ref_die("bind");
	if (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)
		ref_die("listen");
	return fd;
}

static inline void ref_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

#endif /* BENCH_REF_H */

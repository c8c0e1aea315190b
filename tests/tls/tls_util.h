/* SPDX-License-Identifier: MIT */
/* tls_util.h -- what the TLS tests share: certificates made at run time, and peers nobody here wrote (openssl, Python's ssl) */

#ifndef SOCK_TESTS_TLS_UTIL_H
#define SOCK_TESTS_TLS_UTIL_H

#include "../test.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>

/* The certificates of tests/tls/certs.sh, made once per run. */
static char certs[256];

static inline const char *cert(const char *name)
{
	static char path[16][512];
	static int next;
	char *p = path[next++ % 16];

	snprintf(p, sizeof(path[0]), "%s/%.200s", certs, name);
	return p;
}

static inline const char *src_dir(void)
{
	const char *s = getenv("SOCK_SRC");

	return s ? s : ".";
}

/* ---- peers in other processes ---- */

struct peer {
	pid_t pid;
	int out; /* the peer's standard output */
	int port;
};

/*
 * Start argv with its output on a pipe and read it until a line names the
 * port it listens on ("PORT n" from peer.py, "ACCEPT host:n" from
 * s_server); with want_port false, return at once.  openssl's chatter on
 * standard error (the session, the certificates) is dropped.
 */
static inline void peer_start(struct peer *p, char *const argv[],
			      bool want_port)
{
	char buf[4096], *at;
	size_t len = 0;
	long long end = test_now_ms() + TEST_WAIT_MS;
	int fds[2];
	ssize_t n;

	CHECK(pipe2(fds, O_CLOEXEC) == 0);
	p->pid = fork();
	CHECK(p->pid >= 0);
	if (p->pid == 0) {
		dup2(fds[1], 1);
		if (strcmp(argv[0], "openssl") == 0) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
	p->port = 0;
	while (want_port && test_now_ms() < end) {
		struct pollfd pfd = { .fd = p->out, .events = POLLIN };

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(p->out, buf + len, sizeof(buf) - 1 - len);
		CHECK(n > 0);
		len += (size_t)n;
		buf[len] = '\0';
		if ((at = strstr(buf, "PORT ")))
			p->port = atoi(at + 5);
		else if ((at = strstr(buf, "ACCEPT ")) && strchr(at, '\n'))
			p->port = atoi(strrchr(at, ':') + 1);
		if (p->port > 0)
			return;
	}
	CHECK(!want_port);
}

/* Everything the peer printed until it exits (bounded), into buf. */
/* Start argv as peer_start() does, its standard input a pipe that holds
 * input; returns the pipe's write end, which the caller closes to end
 * that input.  The write end is close-on-exec: a peer holding it would
 * never see the end of its input. */
static inline int peer_start_input(struct peer *p, char *const argv[],
				   const char *input)
{
	size_t len = strlen(input);
	int in[2], saved;

	CHECK(pipe2(in, O_CLOEXEC) == 0);
	CHECK(write(in[1], input, len) == (ssize_t)len);
	saved = dup(0);
	dup2(in[0], 0);
	peer_start(p, argv, false);
	dup2(saved, 0);
	close(saved);
	close(in[0]);
	return in[1];
}

static inline void peer_output(struct peer *p, char *buf, size_t size)
{
	long long end = test_now_ms() + TEST_WAIT_MS;
	size_t len = 0;
	ssize_t n;

	while (len < size - 1 && test_now_ms() < end) {
		struct pollfd pfd = { .fd = p->out, .events = POLLIN };

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(p->out, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
}

static inline void peer_end(struct peer *p)
{
	kill(p->pid, SIGTERM);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(p->out);
}

static inline void python_server(struct peer *p, const char *leaf,
				 const char *extra1, const char *extra2)
{
	char script[PATH_MAX], c[512], k[512];
	char *argv[] = { "python3", script,	    "server",	    c,
			 k,	    (char *)extra1, (char *)extra2, NULL };

	snprintf(script, sizeof(script), "%s/tests/tls/peer.py", src_dir());
	snprintf(c, sizeof(c), "%s/%.100s.pem", certs, leaf);
	snprintf(k, sizeof(k), "%s/%.100s.key", certs, leaf);
	peer_start(p, argv, true);
}

static inline void s_server(struct peer *p, const char *leaf)
{
	char c[512], k[512];
	char *argv[] = { "openssl", "s_server", "-accept", "127.0.0.1:0",
			 "-cert",   c,		"-key",	   k,
			 "-rev",    "-naccept", "1",	   NULL };

	snprintf(c, sizeof(c), "%s/%.100s.pem", certs, leaf);
	snprintf(k, sizeof(k), "%s/%.100s.key", certs, leaf);
	peer_start(p, argv, true);
}

static inline struct sock_tls_ctx *client_ctx(void)
{
	struct sock_tls_ctx *ctx;

	CHECK_OK(sock_tls_ctx_new(&ctx, SOCK_TLS_CLIENT));
	CHECK_OK(sock_tls_ctx_load_verify(ctx, cert("ca.pem"), NULL));
	return ctx;
}

static inline struct sock_tls_ctx *server_ctx(const char *leaf)
{
	struct sock_tls_ctx *ctx;
	char c[512], k[512];

	snprintf(c, sizeof(c), "%s/%.100s.pem", certs, leaf);
	snprintf(k, sizeof(k), "%s/%.100s.key", certs, leaf);
	CHECK_OK(sock_tls_ctx_new(&ctx, SOCK_TLS_SERVER));
	CHECK_OK(sock_tls_ctx_use_cert(ctx, c, k));
	return ctx;
}

static inline void python_client(struct peer *p, int port, const char *extra[4])
{
	char script[PATH_MAX], portbuf[16];
	char *argv[10] = { "python3", script, "client", portbuf,
			   (char *)cert("ca.pem") };
	int i;

	snprintf(script, sizeof(script), "%s/tests/tls/peer.py", src_dir());
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	for (i = 0; extra && i < 4 && extra[i]; i++)
		argv[5 + i] = (char *)extra[i];
	peer_start(p, argv, false);
}

/* Make the certificates of tests/tls/certs.sh in a new directory for
 * program prog; on failure say so, print its RESULT line and return -1. */
static inline int certs_make(const char *prog)
{
	char cmd[PATH_MAX * 2 + 64];

	snprintf(certs, sizeof(certs), "%s/%s.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", prog);
	if (!mkdtemp(certs)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/tls/certs.sh' '%s'", src_dir(),
		 certs);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s: %s failed (openssl missing?)\n", prog,
			cmd);
		printf("RESULT %s 0 1 0\n", prog);
		return -1;
	}
	return 0;
}

static inline void certs_remove(const char *prog)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certs);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n", prog, certs);
}

#endif /* SOCK_TESTS_TLS_UTIL_H */

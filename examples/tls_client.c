/* SPDX-License-Identifier: MIT */
/* tls_client.c -- a verified TLS client: send one line, print the answer */

/*
 * Usage: tls_client HOST:PORT LINE [CAFILE]
 * Connects with TLS, verifying the server's certificate against the
 * system's trust store (or the CA certificates in CAFILE) and HOST, sends
 * LINE and a newline, prints the line that comes back, and closes with
 * close_notify.  Exits 1 with the reason when anything fails.
 */

#include <sock.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct sock_tls_ctx *ctx;
	struct sock s = SOCK_CLOSED;
	char line[1024];
	ssize_t n;
	int err;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: tls_client HOST:PORT LINE [CAFILE]\n");
		return 2;
	}
	err = sock_tls_ctx_new(&ctx, SOCK_TLS_CLIENT);
	if (!err && argc == 4)
		err = sock_tls_ctx_load_verify(ctx, argv[3], NULL);
	if (err) {
		fprintf(stderr, "tls_client: %s\n", sock_strerror(err));
		return 1;
	}
	/* One deadline for the lookup, the connect and the handshake. */
	err = sock_tls_connect(&s, ctx, argv[1], NULL, 5000);
	sock_tls_ctx_free(ctx);
	if (err) {
		fprintf(stderr, "tls_client: %s: %s (%s)\n", argv[1],
			sock_strerror(err), sock_tls_reason(&s));
		return 1;
	}
	err = sock_settimeout(&s, 5000);
	if (!err)
		err = sock_sendall(&s, argv[2], strlen(argv[2]), NULL, 0);
	if (!err)
		err = sock_sendall(&s, "\n", 1, NULL, 0);
	n = err ? err : sock_recv_line(&s, line, sizeof(line));
	sock_close(&s);
	if (n <= 0) {
		fprintf(stderr, "tls_client: %s: %s\n", argv[1],
			n ? sock_strerror((int)n) : "closed without an answer");
		return 1;
	}
	fputs(line, stdout);
	return 0;
}

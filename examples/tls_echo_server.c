/* SPDX-License-Identifier: MIT */
/* tls_echo_server.c -- a TLS echo server, a thread per client */

/*
 * Usage: tls_echo_server ADDR CERT KEY [COUNT]
 * Listens on ADDR (say 127.0.0.1:7443), takes COUNT clients (default: no
 * end), each in a thread of its own: shakes hands (within 10 s: a client
 * that never finishes costs one thread for that long, no more), then
 * sends back every line it receives until the client ends its side, and
 * ends with close_notify.  Prints one line per client.
 */

#include <sock.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct sock_tls_ctx *ctx;

static void *serve(void *arg)
{
	struct sock *c = arg;
	char line[4096];
	ssize_t n = sock_settimeout(c, 10000);

	if (!n)
		n = sock_tls_wrap(c, ctx, NULL);
	while (!n && (n = sock_recv_line(c, line, sizeof(line))) > 0)
		n = sock_sendall(c, line, (size_t)n, NULL, 0);
	if (n < 0)
		printf("client failed: %s (%s)\n", sock_strerror((int)n),
		       sock_tls_reason(c));
	else
		printf("client done\n");
	fflush(stdout);
	sock_close(c);
	free(c);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sock ls, *c;
	long count = argc > 4 ? atol(argv[4]) : -1;
	pthread_t t;
	int err;

	if (argc < 4) {
		fprintf(stderr, "usage: tls_echo_server ADDR CERT KEY "
				"[COUNT]\n");
		return 2;
	}
	err = sock_tls_ctx_new(&ctx, SOCK_TLS_SERVER);
	if (!err)
		err = sock_tls_ctx_use_cert(ctx, argv[2], argv[3]);
	if (err) {
		fprintf(stderr, "tls_echo_server: %s: %s\n", sock_strerror(err),
			ctx ? sock_tls_ctx_reason(ctx) : "");
		return 1;
	}
	err = sock_listen(&ls, SOCK_STREAM, argv[1], 64, 0);
	if (err) {
		fprintf(stderr, "tls_echo_server: %s: %s\n", argv[1],
			sock_strerror(err));
		return 1;
	}
	for (; count != 0; count--) {
		c = malloc(sizeof(*c));
		if (!c || sock_accept(&ls, c, NULL) < 0) {
			free(c);
			break;
		}
		/* The last client is served before the program ends. */
		if (pthread_create(&t, NULL, serve, c) != 0) {
			sock_close(c);
			free(c);
			continue;
		}
		if (count == 1)
			pthread_join(t, NULL);
		else
			pthread_detach(t);
	}
	sock_close(&ls);
	sock_tls_ctx_free(ctx);
	return 0;
}

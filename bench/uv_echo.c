/* SPDX-License-Identifier: MIT */
/* uv_echo.c -- reference: a libuv echo server, written the way libuv's guide shows */

/*
 * usage: uv_echo PORT
 *
 * Each read gets a buffer from alloc_cb and is written back with
 * uv_write; the buffer is freed when the write completes.  This is the
 * usual shape of a libuv echo server (a malloc and a free per message, a
 * write request per message).
 */

#include "ref.h"

#include <uv.h>

struct write_req {
	uv_write_t req;
	uv_buf_t buf;
};

static uv_loop_t *loop;

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(suggested);
	buf->len = buf->base ? suggested : 0;
}

static void on_close(uv_handle_t *h)
{
	free(h);
}

static void on_write(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;

	(void)status;
	free(w->buf.base);
	free(w);
}

static void on_read(uv_stream_t *client, ssize_t n, const uv_buf_t *buf)
{
	struct write_req *w;

	if (n > 0) {
		w = malloc(sizeof(*w));
		if (w) {
			w->buf = uv_buf_init(buf->base, (unsigned int)n);
			if (!uv_write(&w->req, client, &w->buf, 1, on_write))
				return;
			free(w);
		}
	}
	free(buf->base);
	/* End of stream, an error, or a write that could not start. */
	if (n != 0)
		uv_close((uv_handle_t *)client, on_close);
}

static void on_connection(uv_stream_t *server, int status)
{
	uv_tcp_t *client;

	if (status < 0)
		return;
	client = malloc(sizeof(*client));
	if (!client)
		return;
	uv_tcp_init(loop, client);
	if (uv_accept(server, (uv_stream_t *)client)) {
		uv_close((uv_handle_t *)client, on_close);
		return;
	}
	uv_tcp_nodelay(client, 1);
	uv_read_start((uv_stream_t *)client, on_alloc, on_read);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	uv_tcp_t server;

	if (argc != 2) {
		fprintf(stderr, "usage: uv_echo PORT\n");
		return 2;
	}
	ref_setup();
	loop = uv_default_loop();
	uv_ip4_addr("127.0.0.1", ref_port(argv[1]), &addr);
	uv_tcp_init(loop, &server);
	if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) ||
	    uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection)) {
		fprintf(stderr, "uv_echo: cannot listen\n");
		return 1;
	}
	return uv_run(loop, UV_RUN_DEFAULT);
}

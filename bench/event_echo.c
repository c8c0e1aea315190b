/* SPDX-License-Identifier: MIT */
/* event_echo.c -- reference: a libevent echo server with bufferevents, as people write them */

/*
 * usage: event_echo PORT
 *
 * An evconnlistener hands each connection to a socket bufferevent whose
 * read callback moves its input buffer to its output buffer: the echo
 * server of libevent's own documentation.
 */

#include "ref.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev),
			    bufferevent_get_input(bev));
}

static void on_event(struct bufferevent *bev, short events, void *arg)
{
	(void)arg;
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int len, void *arg)
{
	struct event_base *base = evconnlistener_get_base(l);
	struct bufferevent *bev;

	(void)sa, (void)len, (void)arg;
	ref_nodelay(fd);
	bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct evconnlistener *l;
	struct event_base *base;

	if (argc != 2) {
		fprintf(stderr, "usage: event_echo PORT\n");
		return 2;
	}
	ref_setup();
	a.sin_port = htons((uint16_t)ref_port(argv[1]));
	base = event_base_new();
	if (!base)
		return 1;
	l = evconnlistener_new_bind(base, on_accept, NULL,
				    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
				    -1, (struct sockaddr *)&a, sizeof(a));
	if (!l) {
		fprintf(stderr, "event_echo: cannot listen\n");
		return 1;
	}
	return event_base_dispatch(base);
}

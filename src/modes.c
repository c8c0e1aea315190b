/* SPDX-License-Identifier: MIT */
/* modes.c -- blocking handlers (interim: inline mode only) */

#include "core.h"

#include <unistd.h>

void sock__job_accepted(struct sock__listener *l, int fd,
			const struct sock_addr *peer)
{
	struct sock conn;

	sock__adopt(&conn, fd, l->sock.family, l->sock.type, l->sock.protocol);
	conn.timeout_ms = l->w->srv->cfg.idle_timeout_ms;
	if (l->svc->mode == SOCK_MODE_INLINE)
		l->svc->handle(&conn, peer, l->svc->data);
	sock_close(&conn);
	sock__job_ended(l->w, peer);
}

void sock__job_datagram(struct sock__listener *l, const void *data, size_t len,
			const struct sock_addr *peer)
{
	if (l->svc->mode == SOCK_MODE_INLINE)
		l->svc->handle_datagram(&l->sock, data, len, peer,
					l->svc->data);
}

void sock__jobs_shutdown(struct sock__worker *w)
{
	(void)w;
}

bool sock__jobs_idle(struct sock__worker *w)
{
	(void)w;
	return true;
}

void sock__jobs_release(struct sock__worker *w)
{
	(void)w;
}

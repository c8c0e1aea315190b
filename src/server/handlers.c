/* SPDX-License-Identifier: MIT */
/* handlers.c -- where blocking handlers run: threads, a pool, forked children */

/* The kernel's struct tcp_info, whole (glibc's stops short of the byte
 * counts): before <sock.h>, which then leaves out <netinet/tcp.h>. */
#include <linux/tcp.h>

#include "jobs.h"

#include <sys/stat.h>
#include <unistd.h>

/* Whether the peer's FIN has arrived, in a TCP state numbered as in the
 * kernel's include/net/tcp_states.h: tcpi_bytes_received counts the FIN's
 * sequence number as a byte. */
static bool fin_received(uint8_t state)
{
	switch (state) {
	case 6:	 /* TIME_WAIT */
	case 7:	 /* CLOSE */
	case 8:	 /* CLOSE_WAIT */
	case 9:	 /* LAST_ACK */
	case 11: /* CLOSING */
		return true;
	default:
		return false;
	}
}

/* Bytes moved on a TCP connection (fd), from the kernel's counters. */
static void tcp_counts(struct job *job, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if ((job->conn.family != AF_INET && job->conn.family != AF_INET6) ||
	    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_dsack_dups))
		return;
	job->bytes_in = ti.tcpi_bytes_received;
	if (job->bytes_in && fin_received(ti.tcpi_state))
		job->bytes_in--;
	job->bytes_out = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans +
			 ti.tcpi_notsent_bytes;
}

static bool same_socket(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Close the connection unless the handler detached it.  As socketserver
 * does, shut the sending side first so the peer sees the end of stream
 * even if another process still holds the descriptor.  Then drop the
 * job's own duplicate: if the handler detached the connection, its
 * descriptor keeps it open; if it closed it, this ends it.
 */
void sock__handler_close_conn(struct job *job)
{
	int fd = job->conn.fd;

	/* Closed by the handler without sock_detach: the number may be
	 * another socket's by now; the duplicate is still this one. */
	if (fd >= 0 && job->cut_fd >= 0 && !same_socket(fd, job->cut_fd)) {
		job->conn.fd = -1;
		fd = job->cut_fd;
	}
	if (fd >= 0) {
		/* close_notify before the write side ends, if it goes now */
		if (job->conn.tls && job->conn.fd == fd)
			(void)sock__tls_close_notify(&job->conn, SOCK__NOW);
		tcp_counts(job, fd);
		shutdown(fd, SHUT_WR);
	}
	sock_close(&job->conn);
	if (job->cut_fd >= 0)
		close(job->cut_fd);
	job->cut_fd = -1;
}

void sock__handler_serve(struct job *job)
{
	const struct sock_service *svc = job->svc;

	if (job->stream)
		svc->handle(&job->conn, &job->peer, svc->data);
	else
		svc->handle_datagram(&job->conn, job->data, job->len,
				     &job->peer, svc->data);
}

void sock__jobs_wake(struct sock__jobs *js)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, the loop is woken anyway. */
	if (write(js->wake_fd, &one, sizeof(one)) < 0)
		return;
}

/* The handler returned: close, hand the job back to the loop.  Called
 * with the lock held, so no shutdown can meet a descriptor being closed
 * (and its number reused). */
static void job_done_locked(struct job *job)
{
	struct sock__jobs *js = job->js;

	if (job->stream)
		sock__handler_close_conn(job);
	else
		sock_close(&job->conn);
	sock__list_del(&job->link);
	sock__list_add_tail(&js->done, &job->link);
	pthread_cond_broadcast(&js->ended);
	sock__jobs_wake(js);
}

void *sock__handler_thread_main(void *arg)
{
	struct job *job = arg;
	struct sock__jobs *js = job->js;

	sock__handler_serve(job);
	pthread_mutex_lock(&js->lock);
	job_done_locked(job);
	pthread_mutex_unlock(&js->lock);
	return NULL;
}

void *sock__handler_pool_main(void *arg)
{
	struct sock__jobs *js = arg;
	struct job *job;

	pthread_mutex_lock(&js->lock);
	for (;;) {
		while (!js->quit && sock__list_is_empty(&js->queue))
			pthread_cond_wait(&js->queued, &js->lock);
		if (sock__list_is_empty(&js->queue))
			break;
		job = sock__container_of(js->queue.next, struct job, link);
		sock__list_del(&job->link);
		sock__list_add_tail(&js->active, &job->link);
		pthread_mutex_unlock(&js->lock);
		sock__handler_serve(job);
		pthread_mutex_lock(&js->lock);
		job_done_locked(job);
	}
	pthread_mutex_unlock(&js->lock);
	return NULL;
}

/*
 * Close what a forked handler inherited and does not need: every worker's
 * listeners (so no port is held by a child: a connect during the stop's
 * grace period must be refused) and this worker's event connections.
 * The other workers' connection lists may have been mid-change in their
 * threads when the process forked, so they are not walked; the server
 * shuts such connections down before closing them instead (conn.c).
 */
static void close_inherited(struct sock__worker *w, const struct job *job)
{
	const struct sock_server *srv = w->srv;
	struct sock__listener *l;
	struct sock__list *e;
	struct sock_conn *c;
	unsigned int k;
	size_t i;

	for (k = 0; k < srv->nworkers; k++) {
		for (i = 0; i < srv->workers[k].nlis; i++) {
			l = srv->workers[k].lis[i];
			if (!l->closed && l->sock.fd != job->conn.fd)
				close(l->sock.fd);
		}
	}
	for (e = w->conns.next; e != &w->conns; e = e->next) {
		c = sock__container_of(e, struct sock_conn, all);
		if (c->fd >= 0)
			close(c->fd);
	}
	/* This worker's connections not yet served: held at the cap, or
	 * reading their PROXY header. */
	for (i = 0; i < w->nlis; i++) {
		l = w->lis[i];
		for (k = 0; k < l->nheld; k++)
			close(l->held_fds[k]);
		sock__proxy_close_inherited(l);
		sock__tls_close_inherited(l);
	}
}

/*
 * The child of a forked handler.  It never returns into the server's
 * code and ends with _exit(), so no atexit handler or stdio buffer of the
 * parent runs twice.  The loop thread blocks the signals it reads with
 * signalfd; the child starts with none blocked, so SIGTERM ends it.
 */
void sock__handler_child_main(struct sock__worker *w, struct job *job)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_inherited(w, job);
	sock__handler_serve(job);
	if (job->stream)
		sock__handler_close_conn(job);
	_exit(0);
}

/* SPDX-License-Identifier: MIT */
/* pump.c -- copy input to a socket and the socket to output, both at once */

#include <sock.h>

#include "cli.h"
#include "pump.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <unistd.h>

/*
 * Bytes held in each direction: bounded, whatever the peer or the input
 * sends, and a whole UDP datagram (at most 65,507 bytes) fits.
 */
#define PUMP_BUF 65536

/*
 * The output descriptor stays in blocking mode (its open file may be
 * shared with the shell, which would see O_NONBLOCK too).  A write of at
 * most PIPE_BUF bytes into a pipe that poll() found writable does not
 * block, so a slow reader cannot stall the socket side for long.
 */
#define OUT_CHUNK PIPE_BUF

/*
 * One read of the input makes one datagram: at most this many bytes, as
 * netcat reads, well under the largest UDP payload (65,507 bytes).
 */
#define DGRAM_CHUNK 16384

/* The bytes waiting to go one way, and whether more may come. */
struct flow {
	const char *data;
	size_t len;
	bool open;
};

struct state {
	struct pump *p;
	bool stream;
	bool input_done;  /* input ended and all of it went out */
	struct flow up;	  /* input to socket */
	struct flow down; /* socket to output */
	int timeout_ms;	  /* the timeout of the current wait ... */
	bool draining;	  /* ... and whether it is drain_ms */
	char up_buf[PUMP_BUF];
	char down_buf[PUMP_BUF];
};

static int failed(struct state *st, enum pump_side side, int err)
{
	st->p->failed = side;
	return err;
}

static int read_input(struct state *st)
{
	size_t size = st->stream ? sizeof(st->up_buf) : DGRAM_CHUNK;
	ssize_t n = read(st->p->in_fd, st->up_buf, size);

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return failed(st, PUMP_INPUT, -errno);
	}
	if (n == 0)
		st->up.open = false;
	st->up.data = st->up_buf;
	st->up.len = (size_t)n;
	return 0;
}

static int send_up(struct state *st)
{
	ssize_t n;

	n = sock_send(st->p->sock, st->up.data, st->up.len, MSG_DONTWAIT);
	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		return failed(st, PUMP_SEND, (int)n);
	/* A datagram goes whole or not at all. */
	if (!st->stream)
		n = (ssize_t)st->up.len;
	st->up.data += n;
	st->up.len -= (size_t)n;
	return 0;
}

static int recv_down(struct state *st)
{
	ssize_t n;

	n = sock_recv(st->p->sock, st->down_buf, sizeof(st->down_buf),
		      MSG_DONTWAIT);
	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		return failed(st, PUMP_RECV, (int)n);
	/* An empty datagram is data, with no bytes to write. */
	if (n == 0 && st->stream)
		st->down.open = false;
	st->down.data = st->down_buf;
	st->down.len = (size_t)n;
	return 0;
}

static int write_output(struct state *st)
{
	size_t len = st->down.len < OUT_CHUNK ? st->down.len : OUT_CHUNK;
	ssize_t n = write(st->p->out_fd, st->down.data, len);

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return failed(st, PUMP_OUTPUT, -errno);
	}
	st->down.data += n;
	st->down.len -= (size_t)n;
	return 0;
}

/*
 * Nothing became ready within the timeout.  A datagram session whose
 * input ended is then over (there is no end of stream to wait for); any
 * other silence is a timeout.
 */
static int timed_out(struct state *st)
{
	if (st->draining && !st->stream)
		return 1;
	st->p->timeout_ms = st->timeout_ms;
	return failed(st, PUMP_IDLE, -ETIMEDOUT);
}

/* Move what the descriptors that poll() reported ready allow. */
static int move(struct state *st, const struct pollfd *in,
		const struct pollfd *sock, const struct pollfd *out)
{
	const short gone = POLLERR | POLLHUP | POLLNVAL;
	bool can_recv = st->down.open && !st->down.len;
	int err = 0;

	if (in && (in->revents & POLLNVAL))
		st->up.open = false;
	else if (in && in->revents)
		err = read_input(st);
	if (!err && sock && st->up.len && (sock->revents & (POLLOUT | gone)))
		err = send_up(st);
	if (!err && sock && can_recv && (sock->revents & (POLLIN | gone)))
		err = recv_down(st);
	if (!err && out && out->revents)
		err = write_output(st);
	return err;
}

/* Wait for whatever can move next, and move it.  Returns 0 to go on, 1
 * when a datagram session is over, or a negative code. */
static int step(struct state *st)
{
	struct pollfd fds[3], *in = NULL, *sock = NULL, *out = NULL;
	struct pump *p = st->p;
	short events = 0;
	bool pending;
	int n = 0, r;

	if (st->up.open && !st->up.len) {
		in = &fds[n++];
		*in = (struct pollfd){ .fd = p->in_fd, .events = POLLIN };
	}
	if (st->up.len)
		events |= POLLOUT;
	if (st->down.open && !st->down.len)
		events |= POLLIN;
	if (events) {
		sock = &fds[n++];
		*sock = (struct pollfd){ .fd = p->sock->fd, .events = events };
	}
	if (st->down.len) {
		out = &fds[n++];
		*out = (struct pollfd){ .fd = p->out_fd, .events = POLLOUT };
	}
	st->timeout_ms = p->idle_ms;
	st->draining = st->input_done && p->drain_ms >= 0 &&
		       (p->idle_ms < 0 || p->drain_ms <= p->idle_ms);
	if (st->draining)
		st->timeout_ms = p->drain_ms;
	/* TLS plaintext already decrypted is not in the kernel's queue:
	 * poll() would not report it, so it is taken without waiting. */
	pending = (events & POLLIN) && sock_tls_pending(p->sock) > 0;
	r = poll(fds, (nfds_t)n, pending ? 0 : st->timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : failed(st, PUMP_NONE, -errno);
	if (pending)
		sock->revents |= POLLIN;
	else if (r == 0)
		return timed_out(st);
	return move(st, in, sock, out);
}

/* The input ended and went out: a stream says so to the peer. */
static int end_input(struct state *st)
{
	int err = 0;

	st->input_done = true;
	if (st->stream)
		err = sock_shutdown(st->p->sock, SHUT_WR);
	if (err == -ENOTCONN)
		err = 0; /* the peer is gone already: its reset tells more */
	return err ? failed(st, PUMP_SEND, err) : 0;
}

int pump_run(struct pump *p)
{
	struct state st = { .p = p, .stream = p->sock->type == SOCK_STREAM };
	int err;

	st.up.open = p->in_fd >= 0;
	if (p->msg)
		st.up = (struct flow){ .data = p->msg, .len = p->msg_len };
	st.down.open = true;
	p->failed = PUMP_NONE;
	for (;;) {
		if (!st.input_done && !st.up.open && !st.up.len) {
			err = end_input(&st);
			if (err)
				return err;
		}
		if (!st.down.open && !st.down.len &&
		    (st.input_done || p->stop_at_peer_end))
			return 0;
		err = step(&st);
		if (err)
			return err < 0 ? err : 0;
	}
}

int pump_fail(const struct pump *p, const char *peer, int err)
{
	const char *why = sock_strerror(err);

	switch (p->failed) {
	case PUMP_INPUT:
		return cli_fail("cannot read standard input: %s", why);
	case PUMP_OUTPUT:
		return cli_fail("cannot write standard output: %s", why);
	case PUMP_SEND:
		return cli_fail("cannot send to %s: %s", peer, why);
	case PUMP_RECV:
		return cli_fail("cannot receive from %s: %s", peer, why);
	case PUMP_IDLE:
		return cli_fail("%s: nothing for %g s: %s", peer,
				p->timeout_ms / 1000.0, why);
	case PUMP_NONE:
		break;
	}
	return cli_fail("%s: %s", peer, why);
}

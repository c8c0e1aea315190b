/* SPDX-License-Identifier: MIT */
/* pump.h -- copy between standard input/output and a connected socket */

#ifndef SOCK_CLI_PUMP_H
#define SOCK_CLI_PUMP_H

#include <sock.h>

/* Where a pump failed, for its message. */
enum pump_side {
	PUMP_NONE,
	PUMP_INPUT,  /* reading the input descriptor */
	PUMP_OUTPUT, /* writing the output descriptor */
	PUMP_SEND,   /* sending to the socket */
	PUMP_RECV,   /* receiving from the socket */
	PUMP_IDLE,   /* nothing moved for the timeout */
};

/*
 * One session between a connected socket and two descriptors.  Fill the
 * fields, then call pump_run().
 *
 * Input comes from msg (msg_len bytes) when msg is not NULL, else from
 * in_fd (-1: no input at all).  On a stream socket the end of the input
 * shuts down the socket's sending side; the session then lasts until the
 * peer ends its stream too (or, with stop_at_peer_end, as soon as it does,
 * input or not).  On a datagram socket each read of the input is one
 * datagram (of at most 16 KiB) and each datagram received is written out
 * whole; there is no end of stream, so the session ends drain_ms after the
 * input ended with nothing received in between.
 */
struct pump {
	struct sock *sock;
	const void *msg;
	size_t msg_len;
	int in_fd;
	int out_fd;
	/* Nothing moved for this long: fail with PUMP_IDLE (SOCK_FOREVER:
	 * never). */
	int idle_ms;
	/* Once the input ended, how long the peer may stay silent
	 * (SOCK_FOREVER: as long as it likes). */
	int drain_ms;
	bool stop_at_peer_end;

	/* Results. */
	enum pump_side failed; /* PUMP_NONE on success */
	int timeout_ms;	       /* the timeout that passed, for PUMP_IDLE */
};

/*
 * Run the session until it ends.  Returns 0, or a negative code with
 * p->failed telling where: -ETIMEDOUT for PUMP_IDLE, and for a stream
 * also when the peer stayed silent drain_ms after the input ended.
 */
int pump_run(struct pump *p);

/*
 * Print the one line that tells why p failed with err, naming peer (the
 * address text), on standard error.  Returns CLI_FAILURE.
 */
int pump_fail(const struct pump *p, const char *peer, int err);

#endif /* SOCK_CLI_PUMP_H */

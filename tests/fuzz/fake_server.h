/* SPDX-License-Identifier: MIT */
/* fake_server.h -- the server API the services call, in memory, for fuzzing */

/*
 * The service targets link the services with this file in place of the
 * library's server (src/server/, src/engine/): no socket is opened.  It
 * implements the handful of public calls the services make
 * (sock_conn_send, sock_conn_send_some, sock_conn_close, sock_conn_abort,
 * sock_conn_is_full, sock_conn_peer, the data pointers, sock_dgram_reply,
 * sock_dgram_peer, sock_loop_now_ms ...) as src/server/conn.c and the
 * epoll engine do, and records every byte a service hands over, so that
 * a target can check what the peer would receive.
 *
 * A connection's socket takes up to `room` bytes; what it does not take
 * is queued, and the connection is full once `limit` bytes are queued.
 * The target plays the peer: it delivers input, reads output (which makes
 * room and drains the queue, then calls on_drain), ends its side or
 * resets the connection.  Closes are deferred to the end of each event,
 * as the server does, and on_close follows.
 */

#ifndef SOCK_FUZZ_FAKE_SERVER_H
#define SOCK_FUZZ_FAKE_SERVER_H

#include <sock.h>
#include <sock/server.h>

#include <stdbool.h>

#include "fuzz.h"
#include "services.h"

struct sock_loop {
	int64_t now_ms;
};

struct sock_conn {
	const struct sock_service *svc;
	struct sock_loop *loop;
	struct sock_addr peer;
	void *data;

	/* Every byte the service handed over (sent or queued), in order. */
	unsigned char *out;
	size_t out_len, out_cap;
	/* When set, output is passed to it (at offset out_len) and not
	 * kept: for a target that checks a long stream as it goes. */
	void (*sink)(struct sock_conn *c, const void *data, size_t len);

	size_t room;   /* bytes the socket takes now */
	size_t queued; /* bytes waiting in the output queue */
	size_t limit;  /* the output limit */
	size_t read;   /* bytes the peer has read */
	uint64_t bytes_in;

	bool opened, closing, linger, eof, pending, dead, want_drain;
	bool reading;	  /* false while the output limit holds input back */
	bool send_failed; /* a send returned an error */
	bool aborted;	  /* the service called sock_conn_abort() */
	int err;	  /* why it closes; passed to on_close */
	struct sock_conn *next_pending;
};

struct sock_dgram {
	const struct sock_service *svc;
	struct sock_loop *loop;
	const struct sock_addr *peer;
	size_t max_datagram;
	/* What sock_dgram_room() says: the largest datagram, or less, as
	 * the server's amplification bound allows a sender that may be
	 * spoofed.  fake_dgram_init() sets it to max_datagram. */
	size_t room;
	/* The replies the service asked for, each kept whole, whether the
	 * server sent it or refused it (too long, an unnamed sender). */
	unsigned int replies;
	unsigned char *reply[4];
	size_t reply_len[4];
};

/* A connection for svc from peer, not yet open. */
void fake_conn_init(struct sock_conn *c, const struct sock_service *svc,
		    struct sock_loop *loop, const struct sock_addr *peer,
		    size_t room, size_t limit);

/* Free what the fake holds for c (its record of output). */
void fake_conn_release(struct sock_conn *c);

/* The server's events, each followed by the deferred closes. */
void fake_open(struct sock_conn *c);
/* Input and end of stream are taken only while the server reads from c
 * (not while its output is over the limit): false when not taken. */
bool fake_input(struct sock_conn *c, const void *data, size_t len);
bool fake_peer_eof(struct sock_conn *c);
void fake_peer_reset(struct sock_conn *c, int err);
/* The peer reads up to n bytes: the socket makes room, the queue drains
 * into it, and on_drain follows when a producer waits for room. */
void fake_peer_read(struct sock_conn *c, size_t n);

/* Run the deferred closes: on_close for each, in the server's order. */
void fake_flush(void);

/*
 * The state of service s (NULL for a stateless one), made once and kept
 * for every input: the chargen pattern costs more to make than a run.
 * Only for state that handlers do not change.
 */
void *fake_shared_state(const struct service *s);

/*
 * A peer address made from the input: IPv4, IPv6 (with a scope or not),
 * IPv4-mapped IPv6, an unnamed or a named Unix address (a path or an
 * abstract name, any bytes), or none (len 0).  IP addresses get port.
 */
void fake_peer(struct fuzz_in *in, struct sock_addr *a, uint16_t port);

/* A datagram from peer for svc's on_datagram; replies are recorded. */
void fake_dgram_init(struct sock_dgram *d, const struct sock_service *svc,
		     struct sock_loop *loop, const struct sock_addr *peer,
		     size_t max_datagram);
void fake_dgram_release(struct sock_dgram *d);

#endif /* SOCK_FUZZ_FAKE_SERVER_H */

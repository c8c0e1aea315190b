/* SPDX-License-Identifier: MIT */
/* client.h -- what the services' clients share (cli/client.c) */

#ifndef SOCK_CLI_CLIENT_H
#define SOCK_CLI_CLIENT_H

#include <sock.h>

#include "cli.h"

/* How long a TCP exchange may take, connection included, without -w. */
#define TCP_WAIT_MS 10000
/* UDP: each try waits this long for the reply (-w changes it) ... */
#define UDP_WAIT_MS 2000
/* ... and this many tries are made. */
#define UDP_TRIES 3

/* A server's reply, read until it closed; data is malloc'd. */
struct reply {
	char *data;
	size_t len;
};

/*
 * Parse a client's command line into o and its address operand into addr
 * (CLI_ADDR_MAX bytes), port appended when it has none; more operands are
 * a usage error unless more_operands.  Without -w, o->wait_ms becomes
 * UDP_WAIT_MS with --udp and TCP_WAIT_MS otherwise.  Returns -1 to go on,
 * or the status to exit with.
 */
int client_setup(const struct cli_command *cmd, int argc, char **argv, int port,
		 bool more_operands, struct cli_options *o, char *addr);

/* Connect s to addr over UDP (o->udp) or TCP within o->wait_ms, and with
 * --tls shake hands (verifying the server, as o says) within as long
 * again, reporting a failure.  Returns -1 to go on, or the status to exit
 * with. */
int client_open(struct sock *s, const struct cli_options *o, const char *addr);

/* The help lines of the TLS options of the clients. */
#define CLIENT_TLS_HELP                                                        \
	"  --tls         over TLS, verifying the server's certificate and "    \
	"name\n"                                                               \
	"  --cafile FILE trust the CA certificates in FILE instead of the "    \
	"system's\n"                                                           \
	"  --servername NAME  the name to verify instead of HOST\n"            \
	"  --insecure    verify nothing\n"

/*
 * Send req (req_len bytes, none when 0), then read into r until the server
 * closes, all before deadline (cli_deadline()).  Returns 0, -EMSGSIZE when
 * more than max bytes came, -ETIMEDOUT (r holds what came), or another
 * negative code.  r->data is the caller's to free in every case.
 */
int client_exchange(struct sock *s, const void *req, size_t req_len, size_t max,
		    int64_t deadline, struct reply *r);

/*
 * Send req as one datagram and wait wait_ms for a reply into buf, up to
 * UDP_TRIES times.  Returns the reply's full length (it may exceed size:
 * then only size bytes are in buf), -ETIMEDOUT after the last try, or
 * another negative code (-ECONNREFUSED: no one listens there).
 */
ssize_t client_udp_ask(struct sock *s, const void *req, size_t req_len,
		       void *buf, size_t size, int wait_ms);

/* Report client_udp_ask()'s failure err for addr.  Returns CLI_FAILURE. */
int client_udp_fail(const char *addr, ssize_t err, int wait_ms);

#endif /* SOCK_CLI_CLIENT_H */

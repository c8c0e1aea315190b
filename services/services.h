/* SPDX-License-Identifier: MIT */
/* services.h -- the seeds' services as event handlers for a sock_server */

/*
 * Each service is a struct sock_service with event handlers, for TCP (or
 * Unix stream), UDP (or Unix datagram), or both.  Services that keep
 * state (the chargen pattern, the client list, the chat room) make it
 * with state_new; the caller copies the sock_service, sets its data to
 * the state, and frees the state with state_free once the server is
 * freed.
 */

#ifndef SOCK_SERVICES_H
#define SOCK_SERVICES_H

#include <sock.h>

/* Transports of a service (struct service.transports). */
enum {
	SERVICE_STREAM = 1 << 0, /* TCP or Unix stream */
	SERVICE_DGRAM = 1 << 1,	 /* UDP or Unix datagram */
};

/* One entry of the service table. */
struct service {
	const char *name;
	int std_port; /* the RFC's port, or 0 */
	int port;     /* the default port: std_port + 8000 */
	unsigned int transports;
	const char *summary;
	const struct sock_service *svc;
	/* NULL for stateless services. */
	int (*state_new)(void **out);
	void (*state_free)(void *state);
};

/* Every service, in the order they are listed and started. */
extern const struct service services[];
extern const size_t services_count;

/* The service called name, or NULL. */
const struct service *services_find(const char *name);

/* The services' handlers, one file each. */
extern const struct sock_service echo_service;
extern const struct sock_service discard_service;
extern const struct sock_service daytime_service;
extern const struct sock_service chargen_service;
extern const struct sock_service time_service;
extern const struct sock_service clients_service;
extern const struct sock_service chat_service;

/* chargen.c: the precomputed pattern every connection sends from. */
int chargen_new(void **out);
void chargen_free(void *state);

/*
 * RFC 864's pattern: line i is the 72 characters starting at position
 * i mod 95 of the printable characters 0x20..0x7e, then CR LF.  Fill buf
 * with len bytes of it starting at byte offset of the endless stream.
 */
void chargen_fill(char *buf, size_t len, uint64_t offset);

/* clients.c: the list of clients, bounded. */
int clients_new(void **out);
void clients_free(void *state);

/*
 * The most clients remembered, the longest name kept and the longest
 * reply (bytes; the oldest clients are forgotten first).  The counts may
 * be set smaller at build time: the fuzz targets do (tests/fuzz/fuzz.mk),
 * so that a run reaches them in a few steps.
 */
#ifndef CLIENTS_MAX
#define CLIENTS_MAX 256
#endif
#define CLIENTS_NAME_MAX 1024
#ifndef CLIENTS_REPLY_MAX
#define CLIENTS_REPLY_MAX (128 * 1024)
#endif

/*
 * Append s (len bytes, any bytes) to out as a JSON string with its
 * quotes: UTF-8 kept, every control character (C0, DEL, C1) and the
 * separators U+2028 and U+2029 escaped, each maximal invalid sequence
 * replaced by U+FFFD as Python's "replace" does.  out must have room for
 * clients_json_room(len) bytes.  Returns the bytes written.
 */
size_t clients_json_string(char *out, const void *s, size_t len);
#define clients_json_room(len) (6 * (size_t)(len) + 2)

/*
 * The length of the well-formed UTF-8 sequence at s (Unicode's table
 * 3-7), or, for an ill-formed one, minus the length of its maximal
 * subpart (at least 1): the bytes one U+FFFD replaces.  *cp receives the
 * code point of a well-formed sequence.  len is at least 1.
 */
int clients_utf8_next(const unsigned char *s, size_t len, unsigned int *cp);
/* True for the code points a JSON string of ours escapes: controls (C0,
 * DEL, C1), '"', '\\', U+2028 and U+2029. */
bool clients_needs_escape(unsigned int cp);

/* chat.c: the room. */
int chat_new(void **out);
void chat_free(void *state);

/* The longest chat line passed on; longer ones are cut to this. */
#define CHAT_LINE_MAX 1024
/* The most members of the room; later ones are turned away.  (Smaller
 * in the fuzz targets' build, as CLIENTS_MAX.) */
#ifndef CHAT_MEMBERS_MAX
#define CHAT_MEMBERS_MAX 256
#endif

#endif /* SOCK_SERVICES_H */

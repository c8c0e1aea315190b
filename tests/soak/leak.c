/* SPDX-License-Identifier: MIT */
/* leak.c -- a leak on purpose, preloaded into sock serve: proof that the soak sees one */

/*
 * soak.py --leak BYTES builds this into a shared object and preloads it
 * into the servers: each close() of a connected stream socket then loses
 * BYTES bytes of heap on average (whole 1 KiB chunks, so that a leak of a
 * few bytes per connection costs what it would: malloc rounds a small
 * block up to 32 bytes).  Both engines close connections with close(2),
 * so the same leak reaches both.  Test-only: never part of the library.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* 1016 bytes asked, 1024 taken with malloc's header. */
#define CHUNK_ASKED 1016
#define CHUNK_COST 1024

static unsigned long debt;

static bool is_connection(int fd)
{
	int type = 0, listening = 1;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    type != SOCK_STREAM)
		return false;
	len = sizeof(listening);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) ==
		       0 &&
	       !listening;
}

static unsigned long leak_bytes(void)
{
	static unsigned long bytes = ~0ul;
	const char *e;

	if (bytes == ~0ul) {
		e = getenv("SOAK_LEAK_BYTES");
		bytes = e ? strtoul(e, NULL, 10) : 0;
	}
	return bytes;
}

/* The chunks lost, chained: visible outside this file, so that the
 * compiler cannot prove them unused and drop the malloc. */
void *soak_lost;

/* Lose one chunk, written so that its pages are resident. */
static void lose_chunk(void)
{
	void **p = malloc(CHUNK_ASKED);

	if (!p)
		return;
	memset(p, 0xa5, CHUNK_ASKED);
	*p = soak_lost;
	soak_lost = p;
}

int close(int fd)
{
	static int (*real_close)(int);
	unsigned long bytes = leak_bytes(), owed, n;

	if (!real_close)
		real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (bytes && is_connection(fd)) {
		/* Whoever carries the sum past a chunk's cost pays for it. */
		owed = __atomic_add_fetch(&debt, bytes, __ATOMIC_RELAXED);
		for (n = owed / CHUNK_COST - (owed - bytes) / CHUNK_COST; n;
		     n--)
			lose_chunk();
	}
	return real_close(fd);
}

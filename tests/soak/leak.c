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

int close(int fd)
{
	static int (*real_close)(int);
	unsigned long owed;
	char *p;

	if (!real_close)
		real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	if (leak_bytes() && is_connection(fd)) {
		owed = __atomic_add_fetch(&debt, leak_bytes(), __ATOMIC_RELAXED);
		while (owed >= CHUNK_COST &&
		       __atomic_compare_exchange_n(&debt, &owed,
						   owed - CHUNK_COST, false,
						   __ATOMIC_RELAXED,
						   __ATOMIC_RELAXED)) {
			p = malloc(CHUNK_ASKED);
			if (p)
				memset(p, 0xa5, CHUNK_ASKED);
			owed -= CHUNK_COST;
		}
	}
	return real_close(fd);
}

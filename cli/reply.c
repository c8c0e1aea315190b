/* SPDX-License-Identifier: MIT */
/* reply.c -- what sock time and sock daytime read in a reply, without I/O */

#include <sock.h>

#include "reply.h"

#include <errno.h>

/* Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01 (Unix's). */
#define RFC868_EPOCH_OFFSET 2208988800LL

/*
 * RFC 868 counts seconds from 1900 in 32 bits, which wrap on 2036-02-07.
 * Read the value in the era that puts it nearest the local clock, so the
 * client keeps working across the wrap (as NTP does with its eras).
 */
int reply_time(const void *data, size_t len, time_t now, time_t *t)
{
	int64_t local = (int64_t)now + RFC868_EPOCH_OFFSET;
	int64_t v;

	if (len != 4)
		return -EBADMSG;
	v = (local & ~(int64_t)0xffffffff) | sock_get_be32(data);
	if (v - local > 0x80000000LL)
		v -= 0x100000000LL;
	else if (local - v > 0x80000000LL)
		v += 0x100000000LL;
	*t = (time_t)(v - RFC868_EPOCH_OFFSET);
	return 0;
}

size_t reply_daytime_line(const char *data, size_t len)
{
	if (len && data[len - 1] == '\n')
		len--;
	if (len && data[len - 1] == '\r')
		len--;
	return len;
}

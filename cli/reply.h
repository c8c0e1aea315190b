/* SPDX-License-Identifier: MIT */
/* reply.h -- what sock time and sock daytime read in a reply, without I/O */

#ifndef SOCK_CLI_REPLY_H
#define SOCK_CLI_REPLY_H

#include <stddef.h>
#include <time.h>

/*
 * An RFC 868 reply: len bytes, which must be 4 (big-endian seconds since
 * 1900, modulo 2^32), read in the era that puts it nearest now, the local
 * clock.  Returns 0 and the time in *t, or -EBADMSG when len is not 4 (no
 * byte of data is read then).
 */
int reply_time(const void *data, size_t len, time_t now, time_t *t);

/*
 * The line of a daytime reply of len bytes (RFC 867 asks for one line):
 * its length once one trailing LF and then one trailing CR are left out.
 */
size_t reply_daytime_line(const char *data, size_t len);

#endif /* SOCK_CLI_REPLY_H */

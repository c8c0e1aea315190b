/* SPDX-License-Identifier: MIT */
/* activation.h -- reading the socket-activation variables, without I/O */

#ifndef SOCK_ACTIVATION_H
#define SOCK_ACTIVATION_H

#include <stdbool.h>

/*
 * What LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (their texts, NULL when
 * unset) tell process self, read from the texts alone: no descriptor is
 * looked at.  *mine is set when they are meant for self (LISTEN_PID set
 * and not naming another process), so that the caller takes them and
 * unsets them.  Returns how many descriptors were passed, 0 when none (or
 * when not mine), or -EINVAL for malformed variables: a LISTEN_PID or
 * LISTEN_FDS that is not a plain decimal number in range, a LISTEN_PID of
 * 0, or names that are not exactly LISTEN_FDS names of at most 255 bytes.
 */
long sock__activation_count(const char *pid, const char *fds, const char *names,
			    long self, bool *mine);

/* Copy the index-th name of names (NULL: none), checked by
 * sock__activation_count(), into out; "" without names. */
void sock__activation_name(const char *names, long index, char out[256]);

#endif /* SOCK_ACTIVATION_H */

/* SPDX-License-Identifier: MIT */
/* activation_fuzz.c -- fuzz target: the socket-activation variables */

/*
 * The input is a byte of flags (which of LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES are set; whether LISTEN_PID names this process), four
 * bytes of the process's id, then the variables' texts separated by NUL
 * bytes.  sock__activation_count() must say what the protocol says (a
 * plain decimal LISTEN_PID naming this process, a plain decimal
 * LISTEN_FDS of at most 65536, exactly that many names of at most 255
 * bytes), judged here by a reading of its own; and each name
 * sock__activation_name() gives is the text between the colons, within
 * its 256 bytes.
 */

#include "internal.h"
#include "server/activation.h"

#include "fuzz.h"

#include <errno.h>
#include <limits.h>

/* A non-empty run of decimal digits whose value is at most max. */
static bool decimal(const char *s, long max, long *out)
{
	long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* The names as the protocol reads them: n pieces between colons, each at
 * most 255 bytes. */
static bool names_fit(const char *names, long n)
{
	long count = 1;
	size_t piece = 0;

	for (; *names; names++) {
		if (*names == ':') {
			count++;
			piece = 0;
		} else if (++piece > 255) {
			return false;
		}
	}
	return count == n;
}

static long expected(const char *pid, const char *fds, const char *names,
		     long self, bool *mine)
{
	long p, n;

	*mine = false;
	if (!pid)
		return 0;
	if (decimal(pid, INT_MAX, &p) && p > 0 && p != self)
		return 0;
	*mine = true;
	if (!decimal(pid, INT_MAX, &p) || p == 0)
		return -EINVAL;
	if (!fds)
		return 0;
	if (!decimal(fds, 65536, &n))
		return -EINVAL;
	if (names && !names_fit(names, n))
		return -EINVAL;
	return n;
}

static void check_names(const char *names, long n)
{
	const char *p = names;
	char *out = malloc(256);
	long i;
	size_t len;

	FUZZ_CHECK(out, "out of memory");
	for (i = 0; i < n; i++) {
		sock__activation_name(names, i, out);
		if (!names) {
			FUZZ_CHECK(out[0] == '\0', "name %ld without names", i);
			continue;
		}
		len = strcspn(p, ":");
		FUZZ_CHECK(strlen(out) == len && memcmp(out, p, len) == 0,
			   "name %ld", i);
		p += len + (p[len] == ':');
	}
	free(out);
}

/* The next NUL-terminated piece of the input, copied. */
static char *piece(struct fuzz_in *in)
{
	const uint8_t *nul = memchr(in->p, '\0', in->n);
	size_t len = nul ? (size_t)(nul - in->p) : in->n;
	char *s = malloc(len + 1);

	FUZZ_CHECK(s, "out of memory");
	memcpy(s, in->p, len);
	s[len] = '\0';
	in->p += len + (nul != NULL);
	in->n -= len + (nul != NULL);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	long self = (long)(fuzz_u32(&in) % INT_MAX) + 1, n, want;
	char *pid = piece(&in), *fds = piece(&in), *names = piece(&in);
	char own[16];
	bool mine, want_mine;

	if (flags & 8) {
		snprintf(own, sizeof(own), "%ld", self);
		free(pid);
		pid = strdup(own);
	}
	n = sock__activation_count(flags & 1 ? pid : NULL,
				   flags & 2 ? fds : NULL,
				   flags & 4 ? names : NULL, self, &mine);
	want = expected(flags & 1 ? pid : NULL, flags & 2 ? fds : NULL,
			flags & 4 ? names : NULL, self, &want_mine);
	FUZZ_CHECK(n == want && mine == want_mine,
		   "pid \"%s\" fds \"%s\" names \"%s\" (flags %u, self %ld): "
		   "%ld (mine %d), want %ld (mine %d)",
		   pid, fds, names, flags, self, n, mine, want, want_mine);
	if (n > 0)
		check_names(flags & 4 ? names : NULL, n);
	free(pid);
	free(fds);
	free(names);
	return 0;
}

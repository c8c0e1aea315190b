/* SPDX-License-Identifier: MIT */
/* wait.c -- monotonic deadlines and waiting for a descriptor with poll */

#include "internal.h"

#include <time.h>

int64_t sock__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sock__deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return SOCK__NEVER;
	if (timeout_ms == 0)
		return SOCK__NOW;
	return sock__now_ns() + (int64_t)timeout_ms * 1000000;
}

int sock__remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline == SOCK__NEVER)
		return -1;
	left = deadline - sock__now_ns();
	if (left <= 0)
		return 0;
	/* Round up: waking a fraction of a millisecond early would make the
	 * caller try once more for nothing and poll again. */
	left = (left + 999999) / 1000000;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

int sock__wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n, ms;

	if (deadline == SOCK__NOW)
		return -EAGAIN;
	for (;;) {
		ms = sock__remaining_ms(deadline);
		if (ms == 0 && deadline != SOCK__NEVER)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0)
			continue; /* rounding: check the clock once more */
		if (errno != EINTR)
			return -errno;
	}
}

int sock__backoff(int64_t deadline)
{
	struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };

	if (deadline == SOCK__NOW)
		return -EAGAIN;
	if (sock__remaining_ms(deadline) == 0)
		return -ETIMEDOUT;
	nanosleep(&ms, NULL);
	return 0;
}

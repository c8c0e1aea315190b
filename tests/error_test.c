/* SPDX-License-Identifier: MIT */
/* error_test.c -- error codes: sock_strerror names any int, never NULL */

#include "test.h"

#include <limits.h>

/*
 * Any int is a valid argument, the extremes included: INT_MIN has no
 * negation in int, so a name lookup that negates the code before checking
 * its range overflows (UBSan, in make asan, stops the program there).
 */
static void strerror_takes_the_extremes_of_int(void)
{
	CHECK_STR(sock_strerror(INT_MIN), "unknown error");
	CHECK_STR(sock_strerror(INT_MIN + 1), "unknown error");
	CHECK_STR(sock_strerror(INT_MAX), "unknown error");
	CHECK_STR(sock_strerror(-4096), "unknown error");
	CHECK_STR(sock_strerror(-1), "operation not permitted");
}

/* Every code from INT_MIN up to the resolver codes and past the errnos
 * gets a name, at every magnitude. */
static void strerror_never_returns_null(void)
{
	long long code;
	const char *s;

	for (code = INT_MIN; code <= INT_MAX; code += 65521) {
		s = sock_strerror((int)code);
		CHECK(s != NULL && s[0] != '\0');
	}
	for (code = -5000; code <= 5000; code++) {
		s = sock_strerror((int)code);
		CHECK(s != NULL && s[0] != '\0');
	}
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		TEST(strerror_takes_the_extremes_of_int),
		TEST(strerror_never_returns_null),
	};

	return test_main(argc, argv, tests, TEST_COUNT(tests));
}

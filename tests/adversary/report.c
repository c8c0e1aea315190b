/* SPDX-License-Identifier: MIT */
/* report.c -- the adversary's output: one line per figure and per check */

#include "adversary.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lines read by tests/cli/adversary_test.sh:
 *   PASS adversary_test.ENGINE.SCENARIO.WHAT
 *   FAIL adversary_test.ENGINE.SCENARIO.WHAT: what was seen
 *   SKIP adversary_test.ENGINE.SCENARIO.WHAT: why
 *   FIGURE ENGINE SCENARIO.WHAT: value
 */
#define PREFIX "adversary_test"

static const char *engine = "-";
static int passed, failed, skipped;

void report_start(const char *name)
{
	engine = name;
}

__attribute__((format(printf, 4, 0))) static void
line(const char *kind, const char *scen, const char *what, const char *fmt,
     va_list ap)
{
	char text[512];

	vsnprintf(text, sizeof(text), fmt, ap);
	printf("%s %s.%s.%s.%s%s%s\n", kind, PREFIX, engine, scen, what,
	       *text ? ": " : "", text);
	fflush(stdout);
}

void figure(const char *scen, const char *what, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	printf("FIGURE %s %s.%s: %s\n", engine, scen, what, text);
	fflush(stdout);
}

void check(const char *scen, const char *what, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (ok) {
		passed++;
		printf("PASS %s.%s.%s.%s\n", PREFIX, engine, scen, what);
		fflush(stdout);
	} else {
		failed++;
		line("FAIL", scen, what, fmt, ap);
	}
	va_end(ap);
}

void skip(const char *scen, const char *what, const char *fmt, ...)
{
	va_list ap;

	skipped++;
	va_start(ap, fmt);
	line("SKIP", scen, what, fmt, ap);
	va_end(ap);
}

int report_end(double seconds)
{
	printf("adversary %s: %d passed, %d failed, %d skipped in %.1f s\n",
	       engine, passed, failed, skipped, seconds);
	fflush(stdout);
	return failed ? 1 : 0;
}

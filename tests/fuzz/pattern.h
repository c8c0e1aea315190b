/* SPDX-License-Identifier: MIT */
/* pattern.h -- what the fuzz targets expect of the services' output */

#ifndef SOCK_FUZZ_PATTERN_H
#define SOCK_FUZZ_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/*
 * RFC 864's pattern, byte pos of the endless stream: line k holds the 72
 * printable characters (0x20 to 0x7e, 95 of them) starting at the k-th
 * (mod 95), then CR LF.
 */
static inline char rfc864_byte(uint64_t pos)
{
	uint64_t line = pos / 74, col = pos % 74;

	if (col == 72)
		return '\r';
	if (col == 73)
		return '\n';
	return (char)(0x20 + (line + col) % 95);
}

/* True when len bytes at p are the pattern from byte pos on.  The pattern
 * repeats every 95 lines: one cycle, made once, is compared piece by
 * piece. */
static inline bool is_rfc864(const unsigned char *p, size_t len, uint64_t pos)
{
	static unsigned char cycle[95 * 74];
	static bool made;
	size_t i, off, n;

	if (!made) {
		for (i = 0; i < sizeof(cycle); i++)
			cycle[i] = (unsigned char)rfc864_byte(i);
		made = true;
	}
	while (len) {
		off = (size_t)(pos % sizeof(cycle));
		n = sizeof(cycle) - off < len ? sizeof(cycle) - off : len;
		if (memcmp(p, cycle + off, n) != 0)
			return false;
		p += n;
		pos += n;
		len -= n;
	}
	return true;
}

/* True when the text is ctime()'s form with CR LF, as RFC 867 servers
 * send it: "Tue Jan 21 12:00:00 2025\r\n", a year of 4 or more digits. */
static inline bool is_daytime_line(const unsigned char *p, size_t len)
{
	static const char form[] = "Aaa Aaa _9 99:99:99 9999";
	size_t i, n = sizeof(form) - 1;

	if (len < n + 2 || p[len - 2] != '\r' || p[len - 1] != '\n')
		return false;
	for (i = 0; i < len - 2; i++) {
		char f = i < n ? form[i] : '9';
		unsigned char c = p[i];

		if ((f == 'A' && (c < 'A' || c > 'Z')) ||
		    (f == 'a' && (c < 'a' || c > 'z')) ||
		    (f == '9' && (c < '0' || c > '9')) ||
		    (f == '_' && c != ' ' && (c < '1' || c > '3')) ||
		    (f == ' ' && c != ' ') || (f == ':' && c != ':'))
			return false;
	}
	return true;
}

/* True when 4 bytes of RFC 868 time are within slack seconds of the clock
 * read before (t0) and after (t1) they were made. */
static inline bool is_rfc868_near(const unsigned char *p, time_t t0, time_t t1,
				  int slack)
{
	uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		     (uint32_t)p[2] << 8 | p[3];
	uint32_t lo = (uint32_t)(t0 - slack + 2208988800LL);
	uint32_t hi = (uint32_t)(t1 + slack + 2208988800LL);

	return v - lo <= hi - lo;
}

#endif /* SOCK_FUZZ_PATTERN_H */

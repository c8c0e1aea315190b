/* SPDX-License-Identifier: MIT */
/* json.h -- check JSON text and print it indented */

#ifndef SOCK_CLI_JSON_H
#define SOCK_CLI_JSON_H

#include <stddef.h>
#include <stdio.h>

/* How deep arrays and objects may nest. */
#define JSON_DEPTH_MAX 512

/*
 * Check that text (len bytes, UTF-8) is one JSON value (RFC 8259), then
 * write it to out indented as Python's json.dumps(value, indent=4) lays it
 * out, followed by a newline.  Strings and numbers are copied as they
 * came, escapes included; only the white space between tokens changes.
 * Nothing is written unless the whole text is valid.  Returns 0, or
 * -EINVAL with *at the offset of the first bad byte and *why a short
 * description ("expected ':'"); -EIO when writing out failed.
 */
int json_print_indented(const char *text, size_t len, FILE *out, size_t *at,
			const char **why);

#endif /* SOCK_CLI_JSON_H */

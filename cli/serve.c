/* SPDX-License-Identifier: MIT */
/* serve.c -- sock serve: run the services (filled in by the services issue) */

#include <sock.h>

#include "cli.h"

#include <stdio.h>
#include <string.h>

int cmd_serve(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		printf("usage: sock serve [SERVICE[=ADDR] ...]\n");
		return CLI_OK;
	}
	fprintf(stderr, "sock serve: not implemented yet\n");
	return CLI_FAILURE;
}

/* SPDX-License-Identifier: MIT */
/* cli.h -- what the sock program's commands share */

#ifndef SOCK_CLI_H
#define SOCK_CLI_H

/* Exit statuses of every command. */
enum {
	CLI_OK = 0,	 /* success */
	CLI_FAILURE = 1, /* runtime failure: refused, timed out ... */
	CLI_USAGE = 2,	 /* bad command line */
};

int cmd_serve(int argc, char **argv);

#endif /* SOCK_CLI_H */

/* SPDX-License-Identifier: MIT */
/* main.c -- the sock program: global options and the command table */

#include <sock.h>

#include "cli.h"

#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "serve", cmd_serve, "run the services (echo, time, chat ...)" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: sock [--help] [--version] COMMAND [ARGS...]\n\n"
		     "commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'sock COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("sock %s (libsock %s)\n", SOCK_VERSION_STRING,
		       sock_version());
		return CLI_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sock: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CLI_USAGE;
}

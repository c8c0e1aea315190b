/* SPDX-License-Identifier: MIT */
/* main.c -- the sock program: global options and the command table */

#include <sock.h>

#include "bench.h"
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "serve", cmd_serve, "run the services (echo, time, chat ...)" },
	{ "time", cmd_time, "ask a time server (RFC 868) for the time" },
	{ "daytime", cmd_daytime,
	  "ask a daytime server (RFC 867) for the date" },
	{ "echo", cmd_echo, "send a message to an echo server (RFC 862)" },
	{ "clients", cmd_clients, "join a client list and print it" },
	{ "chat", cmd_chat, "join a chat room" },
	{ "connect", cmd_connect, "connect standard input and output to ADDR" },
	{ "listen", cmd_listen, "accept one peer on ADDR, then as connect" },
	{ "bench", cmd_bench, "load a server and measure it" },
	{ "stats", cmd_stats, "print the counters of a sock serve --stats" },
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

/*
 * What a command printed may still sit in stdio's buffer: a write that
 * fails now (a full disk, a closed pipe) fails the command too.
 */
static int finish(int ret)
{
	if (fflush(stdout) && ret == CLI_OK)
		return cli_fail("cannot write standard output: %s",
				sock_strerror(-errno));
	return ret;
}

int main(int argc, char **argv)
{
	size_t i;

	/*
	 * Sockets never raise SIGPIPE (libsock sends with MSG_NOSIGNAL);
	 * standard output closed under us is then an error like any other,
	 * reported on one line, not a silent death.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return finish(CLI_OK);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("sock %s (libsock %s)\n", SOCK_VERSION_STRING,
		       sock_version());
		return finish(CLI_OK);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return finish(commands[i].run(argc - 1, argv + 1));
	/* One line and a hint, as the commands say it: the whole usage
	 * would bury the line that matters. */
	fprintf(stderr, "sock: unknown %s '%s' (see 'sock --help')\n",
		argv[1][0] == '-' ? "option" : "command", argv[1]);
	return CLI_USAGE;
}

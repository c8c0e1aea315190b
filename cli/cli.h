/* SPDX-License-Identifier: MIT */
/* cli.h -- what the sock program's commands share */

#ifndef SOCK_CLI_H
#define SOCK_CLI_H

#include <sock.h>

#include <stdint.h>

/* Exit statuses of every command. */
enum {
	CLI_OK = 0,	 /* success */
	CLI_FAILURE = 1, /* runtime failure: refused, timed out ... */
	CLI_USAGE = 2,	 /* bad command line */
};

/* The commands, in cli/serve.c, cli/client.c and cli/pipe.c. */
int cmd_serve(int argc, char **argv);
int cmd_time(int argc, char **argv);
int cmd_daytime(int argc, char **argv);
int cmd_echo(int argc, char **argv);
int cmd_clients(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_stats(int argc, char **argv);

/*
 * The options a command accepts and its help.  opts lists its short
 * options as getopt() does, among "u" (--udp too), "4", "6", "v", "w:"
 * and "n:", and the letters of the TLS options, which are long only:
 * "T" --tls, "A:" --cafile, "N:" --servername, "K" --insecure, "C:"
 * --tls-cert, "Y:" --tls-key; --help and -h are always accepted.  With options_first,
 * parsing stops at the first operand, so that message words that start
 * with '-' stay words.
 */
struct cli_command {
	const char *name;
	const char *opts;
	bool options_first;
	const char *help; /* the whole --help text, usage line first */
};

/* What the options said. */
struct cli_options {
	bool udp;	  /* -u, --udp */
	int family;	  /* AF_INET for -4, AF_INET6 for -6, else AF_UNSPEC */
	bool verbose;	  /* -v */
	int wait_ms;	  /* -w SECONDS, or -1 when absent */
	const char *name; /* -n NAME, or NULL */
	int count;	  /* -c COUNT, or 0 when absent */
	bool tls;	  /* --tls */
	bool insecure;	  /* --insecure: no verification */
	const char *cafile;	/* --cafile FILE */
	const char *servername; /* --servername NAME */
	const char *cert;	/* --tls-cert FILE */
	const char *key;	/* --tls-key FILE */
	int first;		/* index in argv of the first operand */
};

/*
 * Parse argv (argv[0] is the command's name) for cmd into o.  Returns -1
 * to go on, or the status to exit with: CLI_OK after printing --help,
 * CLI_USAGE after reporting a bad option.
 */
int cli_parse(const struct cli_command *cmd, int argc, char **argv,
	      struct cli_options *o);

/*
 * With --tls: make the connected stream s a TLS socket within timeout_ms,
 * verifying the server against --cafile (or the system's trust store) and
 * --servername (or addr's host), unless --insecure.  Returns -1 to go on,
 * or CLI_FAILURE after one line saying why (the verification's reason).
 */
int cli_tls_client(struct sock *s, const struct cli_options *o,
		   const char *addr, int timeout_ms);

/*
 * A server context from --tls-cert and --tls-key (and --cafile: client
 * certificates are then required and checked).  Returns -1 and *ctx, or
 * CLI_FAILURE after one line saying why.
 */
int cli_tls_server_ctx(const struct cli_options *o, struct sock_tls_ctx **ctx);

/* The longest address text a command builds from its argument. */
#define CLI_ADDR_MAX 512

/*
 * Print "sock: " and the formatted message as one line on standard error.
 * Returns CLI_FAILURE, so that a command can end with return cli_fail(...).
 */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Report a usage error of command cmd on one line of standard error:
 * "sock CMD: message (see 'sock CMD --help')".  Returns CLI_USAGE.
 */
int cli_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Report that connecting (or listening, with verb "listen on") to addr
 * failed with err.  Address text that does not parse is a usage error:
 * returns CLI_USAGE for SOCK_EBADADDR and CLI_FAILURE otherwise.
 */
int cli_addr_fail(const char *verb, const char *addr, int err);

/*
 * Parse -w's SECONDS (a decimal number above 0, at most a day) into
 * milliseconds.  Returns 0, or -EINVAL.
 */
int cli_seconds(const char *text, int *ms);

/* True when addr is Unix socket address text (a path, unix:..., @name). */
bool cli_addr_is_unix(const char *addr);

/*
 * Write addr into buf with port appended when addr has none: "host" and
 * "[v6]" become "host:port" and "[v6]:port", and a bare IPv6 address
 * "::1" becomes "[::1]:port".  Unix addresses are left alone.  Returns 0,
 * or -ENAMETOOLONG.
 */
int cli_addr_with_port(const char *addr, int port, char *buf, size_t size);

/*
 * Connect s to addr for type (SOCK_STREAM or SOCK_DGRAM) within
 * timeout_ms, as sock_connect() does, and also: with family AF_INET or
 * AF_INET6, only to addresses of that family; a Unix datagram socket is
 * first bound to an autobound abstract name, so that replies can reach it.
 * On success s is in blocking mode.  Returns 0 or sock_connect()'s codes.
 */
int cli_connect(struct sock *s, int type, const char *addr, int family,
		int timeout_ms);

/*
 * Resolve host:port text for family (AF_INET or AF_INET6) and type, with
 * AI_* flags, into the first address found.  Returns 0, SOCK_EBADADDR
 * for text that is not host:port, or a resolver code.
 */
int cli_resolve_family(struct sock_addr *addr, const char *text, int family,
		       int type, int flags, int timeout_ms);

/* A deadline timeout_ms from now (SOCK_FOREVER: none), on the monotonic
 * clock, in milliseconds. */
int64_t cli_deadline(int timeout_ms);

/* The milliseconds left until deadline, at least 1 (a passed deadline then
 * gives -ETIMEDOUT, not a non-blocking call), or SOCK_FOREVER for none. */
int cli_remaining(int64_t deadline);

#endif /* SOCK_CLI_H */

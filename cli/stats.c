/* SPDX-License-Identifier: MIT */
/* stats.c -- statistics: sock serve --stats ADDR answers with the counters, sock stats reads them */

#include "cli.h"
#include "json.h"
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long sock stats waits for the counters. */
#define STATS_WAIT_MS 5000

/* The most a stats reply may be, for sock stats. */
#define STATS_REPLY_MAX (1 << 20)

/* "name":N for each of n counters, comma-separated. */
static void put_counters(FILE *f, const uint64_t *st, int n)
{
	int k;

	for (k = 0; k < n; k++)
		fprintf(f, "%s\"%s\":%llu", k ? "," : "", sock_stat_name(k),
			(unsigned long long)st[k]);
}

/* A JSON string of text, which is an address or a service's name: only
 * quotes, backslashes and controls need escaping. */
static void put_string(FILE *f, const char *text)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/*
 * The counters as one JSON object: {"total": {...}, "loops": [{"busy_us",
 * "idle_us"} per worker], "listeners": [{"service", "transport",
 * "address", counters} per listener of the command line]}.  Returns a
 * malloc'd text and its length in *len, or NULL.
 */
static char *stats_json(struct serve *sv, size_t *len)
{
	uint64_t st[SOCK_STAT_COUNT], busy, idle;
	char *text = NULL;
	unsigned int w;
	int n;
	size_t i;
	FILE *f;

	f = open_memstream(&text, len);
	if (!f)
		return NULL;
	n = sock_server_stats(sv->srv, -1, st, SOCK_STAT_COUNT);
	fputs("{\"total\":{", f);
	if (n > 0)
		put_counters(f, st, SOCK_STAT_COUNT);
	fputs("},\"loops\":[", f);
	for (w = 0; sock_server_loop_time(sv->srv, w, &busy, &idle) == 0; w++)
		fprintf(f, "%s{\"busy_us\":%llu,\"idle_us\":%llu}",
			w ? "," : "", (unsigned long long)busy,
			(unsigned long long)idle);
	fputs("],\"listeners\":[", f);
	for (i = 0; i < sv->nlis; i++) {
		fputs(i ? ",{\"service\":" : "{\"service\":", f);
		put_string(f, sv->lis[i].def->name);
		fputs(",\"transport\":", f);
		put_string(f, sv->lis[i].transport);
		fputs(",\"address\":", f);
		put_string(f, sv->lis[i].addr);
		if (sock_server_stats(sv->srv, sv->lis[i].index, st,
				      SOCK_STAT_COUNT) > 0) {
			fputc(',', f);
			put_counters(f, st, SOCK_STAT_COUNT);
		}
		fputc('}', f);
	}
	fputs("]}\n", f);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static void stats_open(struct sock_conn *c)
{
	struct serve *sv = sock_conn_service_data(c);
	size_t len = 0;
	char *text;

	text = stats_json(sv, &len);
	if (text)
		(void)sock_conn_send(c, text, len);
	free(text);
	sock_conn_close(c);
}

int serve_stats_listen(struct serve *sv)
{
	int index;

	sv->stats_svc.name = "stats";
	sv->stats_svc.mode = SOCK_MODE_EVENT;
	sv->stats_svc.data = sv;
	sv->stats_svc.on_open = stats_open;
	index = sock_server_add(
		sv->srv, &sv->stats_svc, SOCK_STREAM, sv->stats_addr,
		cli_addr_is_unix(sv->stats_addr) ? SOCK_LISTEN_UNLINK : 0);
	if (index < 0)
		fprintf(stderr, "sock: --stats %s: %s\n", sv->stats_addr,
			sock_strerror(index));
	return index < 0 ? index : 0;
}

/* ---- sock stats ---- */

static const struct cli_command stats_command = {
	.name = "stats",
	.opts = "",
	.help = "usage: sock stats ADDR\n"
		"\n"
		"Print the counters of a sock serve started with --stats ADDR "
		"(a Unix socket\n"
		"path, or host:port), as JSON: the whole server's, each "
		"event loop's busy\n"
		"and idle time, and each listener's.  Gives up after 5 "
		"seconds.\n",
};

int cmd_stats(int argc, char **argv)
{
	struct cli_options o;
	const char *why = NULL;
	void *reply = NULL;
	const char *addr;
	struct sock s;
	size_t at = 0;
	ssize_t n;
	int ret;

	ret = cli_parse(&stats_command, argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (o.first >= argc)
		return cli_usage("stats", "missing address");
	if (o.first + 1 < argc)
		return cli_usage("stats", "unexpected operand '%s'",
				 argv[o.first + 1]);
	addr = argv[o.first];
	o.wait_ms = STATS_WAIT_MS;
	ret = cli_connect(&s, SOCK_STREAM, addr, AF_UNSPEC, o.wait_ms);
	if (ret)
		return cli_addr_fail("connect to", addr, ret);
	n = sock_settimeout(&s, o.wait_ms);
	if (!n)
		n = sock_recv_all(&s, STATS_REPLY_MAX, &reply);
	sock_close(&s);
	if (n < 0)
		return cli_fail("cannot read the counters from %s: %s", addr,
				sock_strerror((int)n));
	ret = json_print_indented(reply, (size_t)n, stdout, &at, &why);
	free(reply);
	if (ret == -EINVAL)
		return cli_fail("%s did not answer with counters (byte %zu: "
				"%s)",
				addr, at, why);
	if (ret)
		return cli_fail("cannot write standard output: %s",
				sock_strerror(ret));
	return CLI_OK;
}

/* SPDX-License-Identifier: MIT */
/* stats.c -- statistics: sock serve --stats ADDR answers with the counters, sock stats reads them */

#include "cli.h"
#include "json.h"
#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The rows a table shows: the total, then each listener. */
#define ROWS_MAX 64
/* The loops whose busy share a table shows. */
#define LOOPS_MAX 64

/* One row of counters, as read from a reply. */
struct row {
	char name[96];
	uint64_t st[SOCK_STAT_COUNT];
};

/* What a reply said, for the table. */
struct reading {
	struct row rows[ROWS_MAX];
	int nrows;
	uint64_t busy[LOOPS_MAX], idle[LOOPS_MAX];
	int nloops;
	int64_t at_ms;
};

/* The reply's scanner: sock serve's own JSON, already checked by
 * json_print_indented, read token by token. */
struct scan {
	const char *p, *end;
};

static void skip_space(struct scan *sc)
{
	while (sc->p < sc->end &&
	       (*sc->p == ' ' || *sc->p == '\n' || *sc->p == '\t' ||
		*sc->p == '\r' || *sc->p == ',' || *sc->p == ':'))
		sc->p++;
}

/* A string token into buf (escapes kept as written: names and addresses
 * only). */
static void scan_string(struct scan *sc, char *buf, size_t size)
{
	size_t n = 0;

	sc->p++; /* the opening quote */
	while (sc->p < sc->end && *sc->p != '"') {
		if (*sc->p == '\\' && sc->p + 1 < sc->end)
			sc->p++;
		if (n + 1 < size)
			buf[n++] = *sc->p;
		sc->p++;
	}
	sc->p++;
	buf[n] = '\0';
}

static uint64_t scan_number(struct scan *sc)
{
	uint64_t v = 0;

	while (sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9')
		v = v * 10 + (uint64_t)(*sc->p++ - '0');
	return v;
}

/* The counter named key, or -1. */
static int stat_of(const char *key)
{
	int k;

	for (k = 0; k < SOCK_STAT_COUNT; k++)
		if (!strcmp(key, sock_stat_name(k)))
			return k;
	return -1;
}

/* One object of counters ("total", a listener, a loop) into r, and its
 * strings into the row's name; *busy and *idle for a loop's. */
static void scan_object(struct scan *sc, struct row *r, uint64_t *busy,
			uint64_t *idle)
{
	char key[64], text[64];
	uint64_t v;
	int k;

	sc->p++; /* { */
	for (;;) {
		skip_space(sc);
		if (sc->p >= sc->end || *sc->p == '}')
			break;
		scan_string(sc, key, sizeof(key));
		skip_space(sc);
		if (sc->p < sc->end && *sc->p == '"') {
			scan_string(sc, text, sizeof(text));
			if (r && !strcmp(key, "service"))
				snprintf(r->name, sizeof(r->name), "%s", text);
			else if (r && (!strcmp(key, "transport") ||
				       !strcmp(key, "address")))
				snprintf(r->name + strlen(r->name),
					 sizeof(r->name) - strlen(r->name),
					 " %s", text);
			continue;
		}
		v = scan_number(sc);
		k = stat_of(key);
		if (r && k >= 0)
			r->st[k] = v;
		else if (!strcmp(key, "busy_us"))
			*busy = v;
		else if (!strcmp(key, "idle_us"))
			*idle = v;
	}
	sc->p++; /* } */
}

static void scan_reading(const char *text, size_t len, struct reading *rd)
{
	struct scan sc = { text, text + len };
	uint64_t unused_busy, unused_idle;
	char key[32];

	memset(rd, 0, sizeof(*rd));
	sc.p++; /* { */
	for (;;) {
		skip_space(&sc);
		if (sc.p >= sc.end || *sc.p != '"')
			break;
		scan_string(&sc, key, sizeof(key));
		skip_space(&sc);
		if (!strcmp(key, "total") && rd->nrows < ROWS_MAX) {
			snprintf(rd->rows[rd->nrows].name,
				 sizeof(rd->rows[0].name), "total");
			scan_object(&sc, &rd->rows[rd->nrows++], &unused_busy,
				    &unused_idle);
			continue;
		}
		sc.p++; /* [ */
		for (;;) {
			skip_space(&sc);
			if (sc.p >= sc.end || *sc.p != '{')
				break;
			if (!strcmp(key, "loops") && rd->nloops < LOOPS_MAX) {
				scan_object(&sc, NULL, &rd->busy[rd->nloops],
					    &rd->idle[rd->nloops]);
				rd->nloops++;
			} else if (!strcmp(key, "listeners") &&
				   rd->nrows < ROWS_MAX) {
				scan_object(&sc, &rd->rows[rd->nrows++],
					    &unused_busy, &unused_idle);
			} else {
				scan_object(&sc, NULL, &unused_busy,
					    &unused_idle);
			}
		}
		sc.p++; /* ] */
	}
}

/* The counters a table sums into a column: refusals, drops, timeouts. */
static uint64_t sum_of(const uint64_t *st, const int *ks, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v += st[ks[i]];
	return v;
}

static const int refused_ks[] = {
	SOCK_STAT_PER_SOURCE,	SOCK_STAT_ACCESS,	SOCK_STAT_VERIFY,
	SOCK_STAT_PROXY_SOURCE, SOCK_STAT_PROXY_HEADER, SOCK_STAT_DESCRIPTORS
};
static const int dropped_ks[] = {
	SOCK_STAT_DGRAM_TRUNCATED, SOCK_STAT_DGRAM_PRIVILEGED,
	SOCK_STAT_DGRAM_OWN_PORT,  SOCK_STAT_DGRAM_RATE,
	SOCK_STAT_DGRAM_LOOP,	   SOCK_STAT_DGRAM_AMPLIFICATION
};
static const int timeout_ks[] = { SOCK_STAT_IDLE_TIMEOUT,
				  SOCK_STAT_TOTAL_TIMEOUT,
				  SOCK_STAT_OUTPUT_OVERFLOW };

/* A total, and beside it its rate per second since the last reading
 * (none at the first). */
static void cell(uint64_t now, const uint64_t *before, double secs)
{
	if (before && secs > 0 && now >= *before)
		printf(" %12llu %9.0f/s", (unsigned long long)now,
		       (double)(now - *before) / secs);
	else
		printf(" %12llu %11s", (unsigned long long)now, "");
}

static void print_table(const struct reading *rd, const struct reading *last)
{
	double secs = last ? (double)(rd->at_ms - last->at_ms) / 1000 : 0;
	uint64_t b, i;
	const uint64_t *p;
	int r, k;

	printf("%-34s %6s %24s %24s %24s %24s %24s %12s %12s %12s\n",
	       "listener", "open", "accepted", "bytes in", "bytes out",
	       "dgrams in", "dgrams out", "refused", "dropped", "timed out");
	for (r = 0; r < rd->nrows; r++) {
		p = rd->rows[r].st;
		printf("%-34.34s %6llu", rd->rows[r].name,
		       (unsigned long long)p[SOCK_STAT_OPEN]);
		for (k = 0; k < 5; k++) {
			static const int cols[] = { SOCK_STAT_ACCEPTED,
						    SOCK_STAT_BYTES_IN,
						    SOCK_STAT_BYTES_OUT,
						    SOCK_STAT_DGRAMS_IN,
						    SOCK_STAT_DGRAMS_OUT };
			bool same =
				last && r < last->nrows &&
				!strcmp(last->rows[r].name, rd->rows[r].name);

			cell(p[cols[k]],
			     same ? &last->rows[r].st[cols[k]] : NULL, secs);
		}
		printf(" %12llu %12llu %12llu\n",
		       (unsigned long long)sum_of(p, refused_ks, 6),
		       (unsigned long long)sum_of(p, dropped_ks, 6),
		       (unsigned long long)sum_of(p, timeout_ks, 3));
	}
	/* Each loop's busy share: since the last reading, or since it
	 * started. */
	for (k = 0; k < rd->nloops; k++) {
		b = rd->busy[k];
		i = rd->idle[k];
		if (last && k < last->nloops) {
			b -= last->busy[k] <= b ? last->busy[k] : b;
			i -= last->idle[k] <= i ? last->idle[k] : i;
		}
		printf("loop %d: %.1f%% busy\n", k,
		       b + i ? 100.0 * (double)b / (double)(b + i) : 0.0);
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The reply of the stats listener at addr, checked as JSON.  Returns 0
 * (*reply malloc'd, *len its length) or a status (said on standard
 * error). */
static int fetch(const char *addr, char **reply, size_t *len)
{
	const char *why = NULL;
	void *text = NULL;
	FILE *null;
	size_t at = 0;
	struct sock s;
	ssize_t n;
	int err;

	err = cli_connect(&s, SOCK_STREAM, addr, AF_UNSPEC, STATS_WAIT_MS);
	if (err)
		return cli_addr_fail("connect to", addr, err);
	n = sock_settimeout(&s, STATS_WAIT_MS);
	if (!n)
		n = sock_recv_all(&s, STATS_REPLY_MAX, &text);
	sock_close(&s);
	if (n < 0)
		return cli_fail("cannot read the counters from %s: %s", addr,
				sock_strerror((int)n));
	null = fopen("/dev/null", "w");
	err = null ? json_print_indented(text, (size_t)n, null, &at, &why)
		   : -EINVAL;
	if (null)
		fclose(null);
	if (err) {
		free(text);
		return cli_fail("%s did not answer with counters (byte %zu: "
				"%s)",
				addr, at, why ? why : "?");
	}
	*reply = text;
	*len = (size_t)n;
	return 0;
}

static const struct cli_command stats_command = {
	.name = "stats",
	.opts = "w:c:",
	.help = "usage: sock stats [-w SECONDS [-c COUNT]] ADDR\n"
		"\n"
		"Print the counters of a sock serve started with --stats ADDR "
		"(a Unix socket\n"
		"path, or host:port), as JSON: the whole server's, each "
		"event loop's busy\n"
		"and idle time, and each listener's.  Each read gives up "
		"after 5 seconds.\n"
		"\n"
		"  -w SECONDS    a table instead, read again every SECONDS "
		"(on a terminal,\n"
		"                in place), with rates per second beside "
		"the totals\n"
		"  -c COUNT      with -w: stop after COUNT tables\n",
};

int cmd_stats(int argc, char **argv)
{
	struct reading *rd, *last;
	struct cli_options o;
	const char *addr, *why;
	char *reply = NULL;
	bool tty = isatty(STDOUT_FILENO);
	size_t len = 0, at;
	int ret, k;

	ret = cli_parse(&stats_command, argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (o.first >= argc)
		return cli_usage("stats", "missing address");
	if (o.first + 1 < argc)
		return cli_usage("stats", "unexpected operand '%s'",
				 argv[o.first + 1]);
	if (o.count && o.wait_ms < 0)
		return cli_usage("stats", "-c is for -w");
	addr = argv[o.first];
	if (o.wait_ms < 0) {
		ret = fetch(addr, &reply, &len);
		if (ret)
			return ret;
		ret = json_print_indented(reply, len, stdout, &at, &why);
		free(reply);
		return ret ? cli_fail("cannot write standard output: %s",
				      sock_strerror(ret))
			   : CLI_OK;
	}
	rd = calloc(2, sizeof(*rd));
	if (!rd)
		return cli_fail("%s", sock_strerror(-ENOMEM));
	for (k = 0; !o.count || k < o.count; k++) {
		if (k)
			usleep((useconds_t)o.wait_ms * 1000);
		ret = fetch(addr, &reply, &len);
		if (ret)
			break;
		last = k ? &rd[(k - 1) % 2] : NULL;
		scan_reading(reply, len, &rd[k % 2]);
		rd[k % 2].at_ms = mono_ms();
		free(reply);
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (k)
			putchar('\n');
		print_table(&rd[k % 2], last);
		if (fflush(stdout)) {
			ret = cli_fail("cannot write standard output: %s",
				       sock_strerror(-errno));
			break;
		}
	}
	free(rd);
	return ret;
}

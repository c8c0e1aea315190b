/* SPDX-License-Identifier: MIT */
/* bench.c -- sock bench: a load generator for any server (command line, workers) */

#include "bench.h"
#include "bench_report.h"
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_CONNS 1000000u
#define MAX_INFLIGHT 4096u
#define MAX_SIZE (BENCH_PATTERN_WINDOW / 2)

static const char usage_text[] =
	"usage: sock bench MODE [OPTIONS] TARGET\n"
	"\n"
	"Load a server at TARGET (HOST:PORT, [V6]:PORT or a Unix path) and "
	"report\n"
	"its throughput and latency, like wrk or redis-benchmark.  Only "
	"loopback\n"
	"targets (127.0.0.0/8, ::1, Unix) are accepted unless --allow-remote "
	"is given.\n"
	"\n"
	"modes:\n"
	"  pingpong   N connections each send SIZE-byte messages, keeping "
	"-p in flight,\n"
	"             to an echo server; every echoed byte is compared with "
	"what was\n"
	"             sent.  Reports messages/s, MB/s and the latency "
	"(send to last\n"
	"             byte back) at p50, p99 and p99.9.\n"
	"  connrate   connect, read to the end, close, with -p connections in "
	"flight\n"
	"             (a time, daytime or chargen-less server).  Reports "
	"connections/s\n"
	"             and the latency of each; --expect-time checks each "
	"answer is a\n"
	"             4-byte RFC 868 time within 5 s of the local clock.\n"
	"  udp        -p requests of SIZE bytes in flight on each of N "
	"sockets to a\n"
	"             UDP echo server; each carries an id, answers are "
	"checked, and a\n"
	"             request unanswered after --timeout is counted lost and "
	"replaced.\n"
	"  bulk-send  N streams send as fast as they can to a discard server "
	"(GB/s).\n"
	"  bulk-recv  N streams receive from a chargen server (GB/s); "
	"--check verifies\n"
	"             the RFC 864 pattern byte for byte.\n"
	"  hold       open N idle connections and hold them for the "
	"duration (for\n"
	"             memory measurements; the descriptor limit is raised as "
	"needed).\n"
	"\n"
	"options:\n"
	"  -c, --connections N  connections, or UDP sockets (default: "
	"pingpong 50,\n"
	"                       hold 1000, others 1)\n"
	"  -s, --size BYTES     message size, k and m suffixes allowed "
	"(default 64;\n"
	"                       udp at least 8)\n"
	"  -p, --inflight N     messages in flight per connection (pingpong, "
	"default 1),\n"
	"                       per socket (udp, default 32), connections in "
	"flight\n"
	"                       (connrate 50, hold 256)\n"
	"  -t, --threads N      worker threads, each with its own epoll loop "
	"(default 1)\n"
	"  -d, --duration SECS  length of the measured window (default 5; "
	"fractions ok)\n"
	"  -w, --warmup SECS    run this long first without counting "
	"(default 1, hold 0)\n"
	"      --timeout MS     udp: when a request counts as lost (default "
	"200);\n"
	"                       tcp: connect and stall limit (default 5000)\n"
	"      --expect-time    connrate: check RFC 868 answers\n"
	"      --check          bulk-recv: check the chargen pattern\n"
	"      --sources N      spread IPv4 connections over the source "
	"addresses\n"
	"                       127.0.0.1 ... 127.0.0.N (servers that cap "
	"connections\n"
	"                       per source host, many connections)\n"
	"      --server-pid PID also report that process's CPU time per "
	"operation in the\n"
	"                       measured window (its children included) and, "
	"for hold,\n"
	"                       its memory per connection (VmRSS after "
	"minus before)\n"
	"      --tls            pingpong, connrate, bulk-*: over TLS, the "
	"server verified\n"
	"                       (connrate counts full handshakes: connect, "
	"handshake,\n"
	"                       close_notify, close)\n"
	"      --cafile FILE    --tls: trust the CAs in FILE instead of the "
	"system's\n"
	"      --insecure       --tls: do not verify the server\n"
	"      --json           print one JSON object instead of the summary\n"
	"      --allow-remote   accept a target that is not on this machine\n"
	"  -h, --help           show this help\n"
	"\n"
	"A progress line is shown on standard error when it is a terminal.  "
	"Exit\n"
	"status: 0, 1 when a connection failed or an answer was wrong, 2 for "
	"a bad\n"
	"command line.\n"
	"\n"
	"examples:\n"
	"  sock bench pingpong -c 50 -s 64 -d 5 127.0.0.1:8007\n"
	"  sock bench connrate -p 50 --expect-time 127.0.0.1:8037\n"
	"  sock bench udp -p 32 127.0.0.1:8007 --json\n"
	"  sock bench bulk-recv --check 127.0.0.1:8019\n"
	"  sock bench connrate --tls --cafile ca.pem 127.0.0.1:8443\n"
	"  sock bench hold -c 10000 -d 10 --server-pid 1234 127.0.0.1:8007\n";

static const struct {
	const char *name;
	enum bench_mode mode;
} modes[] = {
	{ "pingpong", BENCH_PINGPONG },
	{ "connrate", BENCH_CONNRATE },
	{ "udp", BENCH_UDP },
	{ "bulk-send", BENCH_BULK_SEND },
	{ "bulk-recv", BENCH_BULK_RECV },
	{ "hold", BENCH_HOLD },
};

static volatile sig_atomic_t interrupted;

const char *bench_mode_name(enum bench_mode mode)
{
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (modes[i].mode == mode)
			return modes[i].name;
	return "?";
}

int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void bench_error(struct bench_worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->stats.error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->stats.error, sizeof(w->stats.error), fmt, ap);
	va_end(ap);
}

void bench_count(struct bench_worker *w, int64_t now, uint64_t bytes,
		 int64_t lat_ns)
{
	(void)now;
	if (!w->measuring)
		return;
	__atomic_store_n(&w->stats.ops, w->stats.ops + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&w->stats.bytes, w->stats.bytes + bytes,
			 __ATOMIC_RELAXED);
	if (lat_ns >= 0)
		bench_hist_add(&w->stats.hist, (uint64_t)lat_ns);
}

bool bench_tick(struct bench_worker *w, int64_t now)
{
	if (!w->measuring && now >= w->measure_ns) {
		__atomic_store_n(&w->stats.ops, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&w->stats.bytes, 0, __ATOMIC_RELAXED);
		w->stats.lost = w->stats.late = 0;
		bench_hist_reset(&w->stats.hist);
		w->measuring = true;
	}
	return now >= w->end_ns || bench_stopped(w);
}

void bench_linger(const struct bench_worker *w)
{
	struct timespec ms = { .tv_nsec = 1000000 };
	int i;

	/* Bounded: the supervisor sets stop right after its last sample. */
	for (i = 0; i < 5000 && !bench_stopped(w); i++)
		nanosleep(&ms, NULL);
}

int bench_connect(const struct bench_opts *opts, unsigned int conn, int type)
{
	const struct sock_addr *a = &opts->addr;
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd, one = 1, err;

	fd = socket(a->u.sa.sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (type == SOCK_STREAM && a->u.sa.sa_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (opts->sources > 1 && a->u.sa.sa_family == AF_INET) {
		/* Let connect() pick the port, so each source address gets
		 * the whole ephemeral range. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		src.sin_addr.s_addr = htonl(0x7f000001u + conn % opts->sources);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	if (connect(fd, &a->u.sa, a->len) < 0 && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* A xorshift stream: the bytes need to be hard to echo by accident, not
 * to be secret. */
static unsigned char pattern[BENCH_PATTERN_PERIOD + BENCH_PATTERN_WINDOW];
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

static void pattern_fill(void)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	size_t i;

	for (i = 0; i < BENCH_PATTERN_PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pattern[i] = (unsigned char)(x >> 24);
	}
	for (; i < sizeof(pattern); i++)
		pattern[i] = pattern[i - BENCH_PATTERN_PERIOD];
}

const unsigned char *bench_pattern(void)
{
	pthread_once(&pattern_once, pattern_fill);
	return pattern;
}

/* ---- the command line ---- */

static int parse_uint(const char *text, const char *what, unsigned int min,
		      unsigned int max, unsigned int *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (end != text && (*end == 'k' || *end == 'K'))
		v <<= 10, end++;
	else if (end != text && (*end == 'm' || *end == 'M'))
		v <<= 20, end++;
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (errno || end == text || *end || text[0] == '-' || v < min ||
	    v > max) {
		fprintf(stderr, "sock bench: %s must be %u to %u, not '%s'\n",
			what, min, max, text);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

static int parse_secs(const char *text, const char *what, double max,
		      int64_t *out_ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= 0) || v > max) {
		fprintf(stderr,
			"sock bench: %s must be 0 to %g seconds, not '%s'\n",
			what, max, text);
		return -EINVAL;
	}
	*out_ns = (int64_t)(v * 1e9);
	return 0;
}

enum {
	OPT_TIMEOUT = 256,
	OPT_EXPECT_TIME,
	OPT_CHECK,
	OPT_SOURCES,
	OPT_SERVER_PID,
	OPT_JSON,
	OPT_ALLOW_REMOTE,
	OPT_TLS,
	OPT_CAFILE,
	OPT_INSECURE,
};

static const struct option long_opts[] = {
	{ "connections", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, 's' },
	{ "inflight", required_argument, NULL, 'p' },
	{ "threads", required_argument, NULL, 't' },
	{ "duration", required_argument, NULL, 'd' },
	{ "warmup", required_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "expect-time", no_argument, NULL, OPT_EXPECT_TIME },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "sources", required_argument, NULL, OPT_SOURCES },
	{ "server-pid", required_argument, NULL, OPT_SERVER_PID },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "cafile", required_argument, NULL, OPT_CAFILE },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void set_defaults(struct bench_opts *o, enum bench_mode mode)
{
	memset(o, 0, sizeof(*o));
	o->mode = mode;
	o->conns = o->mode == BENCH_PINGPONG ? 50 : 1;
	o->size = 64;
	o->inflight = 1;
	o->threads = 1;
	o->sources = 1;
	o->warmup_ns = 1000000000;
	o->duration_ns = 5000000000;
	o->timeout_ns = -1;
}

/* Options that depend on the mode, once the command line is read. */
static int finish_opts(struct bench_opts *o, bool conns_set, bool warmup_set,
		       bool inflight_set)
{
	if (o->mode == BENCH_HOLD) {
		if (!conns_set)
			o->conns = 1000;
		if (!warmup_set)
			o->warmup_ns = 0;
	}
	if (!inflight_set)
		o->inflight = o->mode == BENCH_UDP	  ? 32
			      : o->mode == BENCH_CONNRATE ? 50
			      : o->mode == BENCH_HOLD	  ? 256
							  : 1;
	if (o->timeout_ns < 0)
		o->timeout_ns = o->mode == BENCH_UDP ? 200000000 : 5000000000;
	if (o->mode == BENCH_UDP && o->size < 8) {
		fprintf(stderr, "sock bench: udp requests carry an 8-byte id: "
				"--size must be at least 8\n");
		return -EINVAL;
	}
	if (o->mode == BENCH_UDP && o->size > 65507) {
		fprintf(stderr, "sock bench: udp --size must be at most "
				"65507\n");
		return -EINVAL;
	}
	if (o->mode == BENCH_PINGPONG &&
	    (uint64_t)o->size * o->inflight > MAX_SIZE) {
		fprintf(stderr,
			"sock bench: --size times --inflight must be at "
			"most %u\n",
			MAX_SIZE);
		return -EINVAL;
	}
	if (o->threads > o->conns && o->mode != BENCH_CONNRATE)
		o->threads = o->conns;
	if (o->mode == BENCH_CONNRATE && o->threads > o->inflight)
		o->threads = o->inflight;
	return 0;
}

static int parse_mode(const char *name, enum bench_mode *out)
{
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(name, modes[i].name)) {
			*out = modes[i].mode;
			return 0;
		}
	}
	fprintf(stderr,
		"sock bench: unknown mode '%s' (see sock bench "
		"--help)\n",
		name);
	return -EINVAL;
}

static int parse_target(struct bench_opts *o, bool allow_remote)
{
	char text[SOCK_ADDR_STRLEN];
	int type = o->mode == BENCH_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int err;

	err = sock_resolve(&o->addr, o->target, type, 5000);
	if (err) {
		fprintf(stderr, "sock bench: cannot resolve %s: %s\n",
			o->target, sock_strerror(err));
		return err;
	}
	if (!allow_remote && !sock_addr_is_loopback(&o->addr)) {
		sock_addr_format(&o->addr, text, sizeof(text));
		fprintf(stderr,
			"sock bench: %s (%s) is not on this machine; pass "
			"--allow-remote to load it anyway\n",
			o->target, text);
		return -EPERM;
	}
	return 0;
}

/* Returns 0, or CLI_USAGE after printing why; 1 after --help. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
	bool conns_set = false, warmup_set = false, inflight_set = false;
	bool allow_remote = false, tls = false, insecure = false;
	const char *cafile = NULL;
	enum bench_mode mode;
	unsigned int v;
	int c, err = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : 1;
	}
	if (parse_mode(argv[1], &mode))
		return CLI_USAGE;
	set_defaults(o, mode);
	optind = 2;
	while (!err && (c = getopt_long(argc, argv, "c:s:p:t:d:w:h", long_opts,
					NULL)) != -1) {
		switch (c) {
		case 'c':
			err = parse_uint(optarg, "--connections", 1, MAX_CONNS,
					 &o->conns);
			conns_set = true;
			break;
		case 's':
			err = parse_uint(optarg, "--size", 1, MAX_SIZE,
					 &o->size);
			break;
		case 'p':
			err = parse_uint(optarg, "--inflight", 1, MAX_INFLIGHT,
					 &o->inflight);
			inflight_set = true;
			break;
		case 't':
			err = parse_uint(optarg, "--threads", 1, MAX_THREADS,
					 &o->threads);
			break;
		case 'd':
			err = parse_secs(optarg, "--duration", 86400,
					 &o->duration_ns);
			break;
		case 'w':
			err = parse_secs(optarg, "--warmup", 3600,
					 &o->warmup_ns);
			warmup_set = true;
			break;
		case OPT_TIMEOUT:
			err = parse_uint(optarg, "--timeout", 1, 3600000, &v);
			o->timeout_ns = (int64_t)v * 1000000;
			break;
		case OPT_EXPECT_TIME:
			o->expect_time = true;
			break;
		case OPT_CHECK:
			o->verify = true;
			break;
		case OPT_SOURCES:
			err = parse_uint(optarg, "--sources", 1, 254,
					 &o->sources);
			break;
		case OPT_SERVER_PID:
			err = parse_uint(optarg, "--server-pid", 1, 1u << 30,
					 &v);
			o->server_pid = (int)v;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_ALLOW_REMOTE:
			allow_remote = true;
			break;
		case OPT_TLS:
			tls = true;
			break;
		case OPT_CAFILE:
			cafile = optarg;
			break;
		case OPT_INSECURE:
			insecure = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		default:
			return CLI_USAGE;
		}
	}
	if (err)
		return CLI_USAGE;
	if (optind != argc - 1) {
		fprintf(stderr, "sock bench: %s one TARGET (HOST:PORT)\n",
			optind < argc ? "only" : "missing");
		return CLI_USAGE;
	}
	o->target = argv[optind];
	if (o->mode == BENCH_PINGPONG || o->mode == BENCH_UDP)
		o->verify = true;
	if (finish_opts(o, conns_set, warmup_set, inflight_set))
		return CLI_USAGE;
	if (parse_target(o, allow_remote))
		return CLI_USAGE;
	if ((cafile || insecure) && !tls) {
		fprintf(stderr, "sock bench: %s needs --tls\n",
			cafile ? "--cafile" : "--insecure");
		return CLI_USAGE;
	}
	if (tls && (o->mode == BENCH_UDP || o->mode == BENCH_HOLD)) {
		fprintf(stderr, "sock bench: --tls is for pingpong, connrate "
				"and bulk-*\n");
		return CLI_USAGE;
	}
	if (tls && cafile && insecure) {
		fprintf(stderr, "sock bench: --insecure verifies nothing: no "
				"--cafile with it\n");
		return CLI_USAGE;
	}
	if (tls && bench_tls_init(o, cafile, insecure))
		return CLI_FAILURE;
	return 0;
}

/* ---- running ---- */

static void on_sigint(int signo)
{
	(void)signo;
	interrupted = 1;
}

/* Enough descriptors for every connection, as far as the hard limit
 * allows; the workers report what still fails. */
static void raise_fd_limit(unsigned int conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void *worker_main(void *arg)
{
	struct bench_worker *w = arg;

	switch (w->opts->mode) {
	case BENCH_PINGPONG:
		w->result = bench_run_pingpong(w);
		break;
	case BENCH_CONNRATE:
		w->result = bench_run_connrate(w);
		break;
	case BENCH_UDP:
		w->result = bench_run_udp(w);
		break;
	case BENCH_BULK_SEND:
	case BENCH_BULK_RECV:
		w->result = bench_run_bulk(w);
		break;
	case BENCH_HOLD:
		w->result = bench_run_hold(w);
		break;
	}
	return NULL;
}

static void split_work(const struct bench_opts *o, struct bench_worker *w,
		       int64_t start)
{
	unsigned int i,
		total = o->mode == BENCH_CONNRATE ? o->inflight : o->conns;
	unsigned int first = 0, share;

	for (i = 0; i < o->threads; i++) {
		share = total / o->threads + (i < total % o->threads);
		memset(&w[i], 0, sizeof(w[i]));
		w[i].opts = o;
		w[i].index = i;
		w[i].first_conn = first;
		w[i].nconns = share;
		w[i].start_ns = start;
		w[i].measure_ns = start + o->warmup_ns;
		w[i].end_ns = start + o->warmup_ns + o->duration_ns;
		bench_hist_reset(&w[i].stats.hist);
		first += share;
	}
}

static void sleep_until(int64_t when)
{
	struct timespec ts = { .tv_sec = when / 1000000000,
			       .tv_nsec = when % 1000000000 };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/*
 * Watch the workers until the window ends: stop them on Ctrl-C, show
 * progress, and sample the server as the window opens and closes.
 */
static void supervise(const struct bench_opts *o, struct bench_worker *w,
		      struct bench_server *srv, bool progress)
{
	int64_t now, next_show = 0, step = 100000000;
	bool opened = false;
	unsigned int i;

	for (;;) {
		now = bench_now_ns();
		if (!opened && now >= w[0].measure_ns) {
			bench_server_sample(srv, &srv->cpu_before);
			opened = true;
		}
		if (o->mode == BENCH_HOLD)
			bench_server_hold_sample(o, w, srv);
		if (now >= w[0].end_ns || interrupted)
			break;
		if (progress && now >= next_show) {
			bench_show_progress(o, w, now);
			next_show = now + 250000000;
		}
		sleep_until(now + step < w[0].end_ns ? now + step
						     : w[0].end_ns);
	}
	bench_server_sample(srv, &srv->cpu_after);
	srv->window_ns =
		(interrupted ? bench_now_ns() : w[0].end_ns) - w[0].measure_ns;
	for (i = 0; i < o->threads; i++)
		__atomic_store_n(&w[i].stop, 1, __ATOMIC_RELAXED);
	if (progress)
		fputs("\r\033[K", stderr);
}

static int run(const struct bench_opts *o)
{
	struct bench_worker *w;
	struct bench_server srv;
	pthread_t tid[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_sigint };
	unsigned int i, started;
	int status;

	w = calloc(o->threads, sizeof(*w));
	if (!w) {
		fprintf(stderr, "sock bench: out of memory\n");
		return CLI_FAILURE;
	}
	bench_pattern();
	raise_fd_limit(o->conns + o->inflight);
	bench_server_init(&srv, o->server_pid);
	bench_server_sample(&srv, &srv.cpu_before);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	split_work(o, w, bench_now_ns());
	for (started = 0; started < o->threads; started++)
		if (pthread_create(&tid[started], NULL, worker_main,
				   &w[started]))
			break;
	if (started < o->threads) {
		fprintf(stderr, "sock bench: cannot start threads\n");
		interrupted = 1;
	}
	supervise(o, w, &srv, isatty(2) && started == o->threads);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	status = bench_report(o, w, &srv);
	free(w);
	return started < o->threads ? CLI_FAILURE : status;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts opts;
	int err;

	err = parse_args(argc, argv, &opts);
	if (err)
		return err == 1 ? CLI_OK : err;
	err = run(&opts);
	bench_tls_free(&opts);
	return err;
}

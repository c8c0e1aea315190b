/* SPDX-License-Identifier: MIT */
/* main.c -- the adversary's command line and its list of scenarios */

#include "adversary.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/*
 * usage: adversary --sock PATH --engine epoll|io_uring --tmp DIR
 *                  [--netns SERVER_NS_PATH,CLIENT_NS_PATH] [--sanitized]
 *                  [SCENARIO...]
 * SCENARIO words pick the scenarios whose names contain them.
 */

static const struct {
	const char *name;
	void (*run)(const struct adv *a);
} scenarios[] = {
	{ "nonread", scenario_nonread },
	{ "idle_cap", scenario_idle_cap },
	{ "fitted_cap", scenario_fitted_cap },
	{ "workers_cap", scenario_workers_cap },
	{ "hostile", scenario_hostile },
	{ "udp_loopback", scenario_udp_loopback },
	{ "udp_netns", scenario_udp_netns },
};

static bool picked(const char *name, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return argc == 0;
}

/* The engine the server really runs: io_uring falls back to epoll where
 * the kernel refuses it, and that run would only repeat epoll's. */
static bool engine_runs(const struct adv *a)
{
	static const char *const args[] = { "--tcp-only", "echo=0", NULL };
	struct server s;
	bool same;

	if (server_start(a, &s, "engine", args, 1, 0, NULL))
		return false;
	same = !strcmp(s.engine, a->engine);
	server_stop(&s, "engine");
	if (!same)
		skip("all", "engine", "the server runs on %s",
		     *s.engine ? s.engine : "an engine it did not log");
	return same;
}

static int usage(void)
{
	fprintf(stderr, "usage: adversary --sock PATH --engine ENGINE --tmp "
			"DIR [--netns SRV,CLI] [--sanitized] [SCENARIO...]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct adv a = { 0 };
	static char netns[2][256];
	int64_t t0 = now_us();
	struct rlimit rl;
	char *comma;
	size_t i;
	int n;

	for (n = 1; n + 1 < argc && !strncmp(argv[n], "--", 2); n += 2) {
		if (!strcmp(argv[n], "--sanitized")) {
			a.sanitized = true;
			n--;
		} else if (!strcmp(argv[n], "--sock")) {
			a.sock = argv[n + 1];
		} else if (!strcmp(argv[n], "--engine")) {
			a.engine = argv[n + 1];
		} else if (!strcmp(argv[n], "--tmp")) {
			a.tmp = argv[n + 1];
		} else if (!strcmp(argv[n], "--netns") &&
			   (comma = strchr(argv[n + 1], ','))) {
			snprintf(netns[0], sizeof(netns[0]), "%.*s",
				 (int)(comma - argv[n + 1]), argv[n + 1]);
			snprintf(netns[1], sizeof(netns[1]), "%s", comma + 1);
			a.netns_srv = netns[0];
			a.netns_cli = netns[1];
		} else {
			return usage();
		}
	}
	if (!a.sock || !a.engine || !a.tmp)
		return usage();
	a.uring = !strcmp(a.engine, "io_uring");
	signal(SIGPIPE, SIG_IGN);
	/* The floods hold hundreds of connections. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	report_start(a.engine);
	if (engine_runs(&a))
		for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			if (picked(scenarios[i].name, argc - n, argv + n))
				scenarios[i].run(&a);
	return report_end((double)(now_us() - t0) / 1e6);
}

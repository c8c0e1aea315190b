/* SPDX-License-Identifier: MIT */
/* crowd.c -- caps: idle floods up to the cap, with workers, and at the descriptor limit */

#include "adversary.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * A crowd of connections to an echo port, each asked one byte when poked:
 * one that echoes it is served, one that has not yet is waiting in the
 * server's backlog, one that ends without it was refused.  "Served at
 * once" is the number served and still open.
 */
enum member { WAITING, SERVED, REFUSED, CLOSED };

struct crowd {
	int *fd;
	enum member *st;
	bool *poked;
	int64_t *at; /* when it was served */
	int n;
};

/* After the last answer, how long more answers are waited for: the time
 * a server over its cap would take to show it. */
#define QUIET_MS 300

/* Room for n members, the first count connected now; 0 on success. */
static int crowd_open(struct crowd *c, int port, int n, int count)
{
	int i, opened = 0;

	c->fd = calloc((size_t)n, sizeof(*c->fd));
	c->st = calloc((size_t)n, sizeof(*c->st));
	c->poked = calloc((size_t)n, sizeof(*c->poked));
	c->at = calloc((size_t)n, sizeof(*c->at));
	c->n = c->fd && c->st && c->poked && c->at ? n : 0;
	for (i = 0; i < c->n; i++) {
		c->fd[i] = i < count ? tcp_connect(NULL, port, 0) : -1;
		if (c->fd[i] >= 0)
			opened++;
		else
			c->st[i] = i < count ? REFUSED : CLOSED;
	}
	return opened;
}

/* Connect member i now. */
static int crowd_join(struct crowd *c, int i, int port)
{
	c->fd[i] = tcp_connect(NULL, port, 0);
	c->st[i] = c->fd[i] >= 0 ? WAITING : REFUSED;
	return c->fd[i] >= 0;
}

static void crowd_close(struct crowd *c, int i)
{
	if (c->fd[i] >= 0)
		close(c->fd[i]);
	c->fd[i] = -1;
	c->st[i] = CLOSED;
}

static void crowd_free(struct crowd *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	free(c->fd);
	free(c->st);
	free(c->poked);
	free(c->at);
	memset(c, 0, sizeof(*c));
}

static int crowd_count(const struct crowd *c, enum member st)
{
	int i, n = 0;

	for (i = 0; i < c->n; i++)
		n += c->st[i] == st;
	return n;
}

static void crowd_poke(struct crowd *c)
{
	int i;

	for (i = 0; i < c->n; i++) {
		if (c->st[i] != WAITING || c->poked[i])
			continue;
		c->poked[i] = true;
		if (send(c->fd[i], "x", 1, MSG_NOSIGNAL) != 1)
			c->st[i] = REFUSED;
	}
}

/* Take in the answers of one poll round. */
static int crowd_read(struct crowd *c, struct pollfd *p, int *who, int np)
{
	int i, k, news = 0;
	ssize_t r;
	char b;

	for (k = 0; k < np; k++) {
		if (!p[k].revents)
			continue;
		i = who[k];
		r = recv(c->fd[i], &b, 1, MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN)
			continue;
		c->st[i] = r == 1 && b == 'x' ? SERVED : REFUSED;
		c->at[i] = now_us();
		news++;
	}
	return news;
}

/*
 * Take answers until at least want members are served and none has come
 * for QUIET_MS, or LIVENESS_MS + QUIET_MS passed.  Returns the ms it took
 * to reach want, or -1 when it was not reached.
 */
static double crowd_collect(struct crowd *c, int want)
{
	int64_t t0 = now_us(), last = t0, reached = -1, now;
	struct pollfd *p = calloc((size_t)c->n, sizeof(*p));
	int *who = calloc((size_t)c->n, sizeof(*who));
	int i, np;

	while (p && who) {
		for (i = 0, np = 0; i < c->n; i++)
			if (c->st[i] == WAITING && c->poked[i]) {
				p[np] = (struct pollfd){ c->fd[i], POLLIN, 0 };
				who[np++] = i;
			}
		if (np && poll(p, (nfds_t)np, 10) > 0 &&
		    crowd_read(c, p, who, np))
			last = now_us();
		else if (!np)
			sleep_ms(10);
		now = now_us();
		if (reached < 0 && crowd_count(c, SERVED) >= want)
			reached = last;
		if (reached >= 0 && now - last >= QUIET_MS * 1000)
			break;
		if (now - t0 >= (int64_t)(LIVENESS_MS + QUIET_MS) * 1000)
			break;
	}
	free(p);
	free(who);
	return reached < 0 ? -1 : (double)(reached - t0) / 1000.0;
}

/* Close up to n served members; how many were closed. */
static int crowd_close_served(struct crowd *c, int n)
{
	int i, done = 0;

	for (i = 0; i < c->n && done < n; i++)
		if (c->st[i] == SERVED) {
			crowd_close(c, i);
			done++;
		}
	return done;
}

/*
 * cap + extra idle attackers, then a working client behind them: the cap
 * holds (served at once <= cap, the rest wait, nothing is refused), and
 * when extra + 1 attackers leave, the waiting ones and the working client
 * are served, the working client within the liveness bound.
 */
static void cap_flood(const struct server *s, const char *scen,
		      unsigned int cap, int extra)
{
	int port = server_port(s, "echo", false), base = server_fds(s);
	int n = (int)cap + extra + 1, opened, served, refused, fds;
	struct crowd c;
	int64_t t0;
	double ms;

	opened = crowd_open(&c, port, n, n - 1);
	/* The attackers idle while the server takes what it may. */
	sleep_ms(200);
	opened += crowd_join(&c, n - 1, port);
	crowd_poke(&c);
	crowd_collect(&c, (int)cap);
	served = crowd_count(&c, SERVED);
	refused = crowd_count(&c, REFUSED);
	figure(scen, "served_at_once",
	       "%d of %d idle attackers (cap %u); %d waiting, the working "
	       "client among them; %d refused",
	       served, n - 1, cap, crowd_count(&c, WAITING), refused);
	check(scen, "cap_holds", served <= (int)cap,
	      "%d served at once, cap %u", served, cap);
	check(scen, "serves_up_to_cap", served >= (int)cap,
	      "%d served at once, cap %u", served, cap);
	check(scen, "nothing_refused", opened == n && refused == 0,
	      "%d of %d connected, %d refused", opened, n, refused);
	check(scen, "working_client_waits", c.st[n - 1] == WAITING,
	      "the working client, behind %d attackers, was %s", n - 1,
	      c.st[n - 1] == SERVED ? "served" : "refused");

	crowd_close_served(&c, extra + 1);
	t0 = now_us();
	crowd_collect(&c, (int)cap);
	served = crowd_count(&c, SERVED);
	ms = c.st[n - 1] == SERVED ? (double)(c.at[n - 1] - t0) / 1000.0 : -1;
	figure(scen, "working_client_wait_after_slots_free", "%.1f ms", ms);
	check(scen, "working_client_served_when_slots_free",
	      c.st[n - 1] == SERVED && ms >= 0 && ms <= LIVENESS_MS,
	      "%d waiting, %d served at once, %.1f ms",
	      crowd_count(&c, WAITING), served, ms);
	check(scen, "cap_holds_after_slots_free", served <= (int)cap,
	      "%d served at once, cap %u", served, cap);

	crowd_free(&c);
	fds = server_wait_fds(s, base, 5000);
	check(scen, "connections_released", fds <= base,
	      "the server holds %d descriptors, %d before", fds, base);
}

void scenario_idle_cap(const struct adv *a)
{
	static const char *const args[] = { "--quiet",	   "--tcp-only",
					    "--max-conns", "32",
					    "echo=0",	   NULL };
	struct server s;

	if (server_start(a, &s, "idle_cap", args, 1, 0, NULL))
		return;
	cap_flood(&s, "idle_cap", 32, 16);
	server_stop(&s, "idle_cap");
}

/* Without --max-conns the cap is fitted to the descriptor limit
 * (cli/serve.c): at the cap, the server must still have descriptors for
 * what it does besides, and refuse nothing. */
void scenario_fitted_cap(const struct adv *a)
{
	static const char *const args[] = { "--quiet", "--tcp-only", "echo=0",
					    NULL };
	const long nofile = 256;
	struct server s;

	if (server_start(a, &s, "fitted_cap", args, 1, nofile, NULL))
		return;
	figure("fitted_cap", "cap",
	       "%u connections at a descriptor limit of %ld", s.cap, nofile);
	check("fitted_cap", "cap_logged", s.cap > 0 && s.cap < nofile,
	      "no \"limit descriptors\" line with a cap below %ld", nofile);
	if (s.cap > 0 && s.cap < nofile)
		cap_flood(&s, "fitted_cap", s.cap, 16);
	server_stop(&s, "fitted_cap");
}

/*
 * Issue 9, defect 3: with workers, max_conns was exceeded (4 workers, cap
 * 2, 16 clients: 5 served at once).  Sixteen clients; whenever the served
 * ones leave, the next are served, never more than the cap at once.
 */
void scenario_workers_cap(const struct adv *a)
{
	static const char *const args[] = { "--quiet",	   "--tcp-only",
					    "--workers",   "4",
					    "--max-conns", "2",
					    "echo=0",	   NULL };
	const char *scen = "workers_cap";
	int served, most, rounds = 0, slow = 0, opened, total = 0;
	const int n = 16, cap = 2;
	struct server s;
	struct crowd c;
	double ms, worst = 0;

	if (server_start(a, &s, scen, args, 1, 0, NULL))
		return;
	opened = crowd_open(&c, server_port(&s, "echo", false), n, n);
	crowd_poke(&c);
	crowd_collect(&c, cap);
	most = crowd_count(&c, SERVED);
	check(scen, "nothing_refused",
	      opened == n && crowd_count(&c, REFUSED) == 0,
	      "%d of %d connected, %d refused", opened, n,
	      crowd_count(&c, REFUSED));
	/* Round after round the served leave and the next come in. */
	while (crowd_count(&c, WAITING) > 0 && rounds++ < n) {
		total += crowd_close_served(&c, n);
		ms = crowd_collect(&c, 1);
		served = crowd_count(&c, SERVED);
		most = served > most ? served : most;
		if (ms < 0 || ms > LIVENESS_MS)
			slow++;
		worst = ms > worst ? ms : worst;
		if (ms < 0)
			break;
	}
	total += crowd_count(&c, SERVED);
	figure(scen, "served_at_once",
	       "at most %d (cap %d, 4 workers, %d clients, %d rounds)", most,
	       cap, n, rounds);
	figure(scen, "wait_after_slots_free", "at most %.1f ms", worst);
	check(scen, "cap_holds", most <= cap, "%d served at once, cap %d", most,
	      cap);
	check(scen, "waiting_served_when_slots_free",
	      total == n && !slow && crowd_count(&c, REFUSED) == 0,
	      "%d of %d served, %d rounds waited longer than %d ms", total, n,
	      slow, LIVENESS_MS);
	crowd_free(&c);
	server_stop(&s, scen);
}

/* SPDX-License-Identifier: MIT */
/* torture.h -- what the torture scenarios share: the run record and its verdict */

/*
 * A scenario does one small piece of work with libsock on loopback (serve
 * one exchange and stop, run one client command, connect once), bounded
 * in time, with at most one of the library's calls failed (shim.h).  It
 * records in a struct run whether the work gave its correct result and
 * every error the library reported on the way: return values, server
 * events, a command's message.  torture.c then gives the verdict:
 *
 *  - every error reported is the one injected, as the library reports it
 *    (no error at all when nothing was injected);
 *  - work that did not give its correct result reported an error (a clean
 *    error), and work that did is a clean recovery;
 *  - the descriptors open at the end are those open at the start;
 *
 * and AddressSanitizer and LeakSanitizer, at the process's exit, that
 * nothing was touched wrongly or leaked.
 */

#ifndef SOCK_TORTURE_H
#define SOCK_TORTURE_H

#include <sock.h>

#include "shim.h"

#include <pthread.h>
#include <stdbool.h>

/* A run's record; the functions below may be called from any thread. */
struct run {
	pthread_mutex_t lock;
	bool done;     /* the work gave its correct result */
	char bad[256]; /* the first defect seen by the scenario itself */
	unsigned int nerr;
	struct {
		char where[48];
		int code;
	} err[16];
};

/* One scenario. */
struct scenario {
	const char *name;
	/* Whether it can run here (io_uring in the kernel); NULL: always. */
	bool (*available)(const struct scenario *sc);
	void (*run)(const struct scenario *sc, struct run *r);
	/* Parameters, as the scenario reads them. */
	int engine;
	int mode;
	int type;
	const char *arg;
};

/* The library reported code at where (a call, an event). */
void run_error(struct run *r, const char *where, int code);

/* Something the scenario checks went wrong, whatever was injected. */
__attribute__((format(printf, 2, 3))) void run_bad(struct run *r,
						   const char *fmt, ...);

/* The work gave its correct result. */
void run_done(struct run *r);

/* Milliseconds on the monotonic clock. */
long long now_ms(void);

/* Whether this kernel runs the io_uring engine. */
bool uring_available(const struct scenario *sc);

/* The scenario tables of serve.c, clients.c and connect.c. */
extern const struct scenario serve_scenarios[];
extern const size_t serve_scenarios_count;
extern const struct scenario client_scenarios[];
extern const size_t client_scenarios_count;
extern const struct scenario connect_scenarios[];
extern const size_t connect_scenarios_count;
extern const struct scenario tls_scenarios[];
extern const size_t tls_scenarios_count;

#endif /* SOCK_TORTURE_H */

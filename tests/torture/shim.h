/* SPDX-License-Identifier: MIT */
/* shim.h -- fault injection for the torture build: call N of a function fails */

/*
 * The torture build renames, in libsock's own objects only (the library,
 * the services and the sock program's), every call to a fallible function
 * F into a call to torture_F (objcopy --redefine-syms, see torture.mk).
 * torture_F counts the call and, when it is the one chosen, fails it the
 * way F really fails: malloc returns NULL with errno ENOMEM, socket -1
 * with EMFILE, pthread_create returns EAGAIN, io_uring_submit -EAGAIN.
 * The scenarios' own calls, the sanitizer runtime and the C library's
 * internal calls are never counted or failed.
 *
 * The environment chooses:
 *
 *	TORTURE_FAIL=F:N[:ERR]	fail call N (from 1) of F, with ERR (a name
 *				such as ENOSPC or EAI_AGAIN) instead of F's
 *				usual error
 *
 * Calls are counted in the process that called torture_start() only: a
 * forked handler's calls are its own business.
 */

#ifndef SOCK_TORTURE_SHIM_H
#define SOCK_TORTURE_SHIM_H

#include <stdbool.h>
#include <stdio.h>

/* Read TORTURE_FAIL and start counting in this process.  Returns 0, or -1
 * (with a message on stderr) when the variable is malformed. */
int torture_start(void);

/* Whether the chosen call was made, and so failed. */
bool torture_fired(void);

/* The name of the function chosen, or NULL. */
const char *torture_target(void);

/*
 * Whether code (a libsock return value or an event's err) is what the
 * library may report for the failure injected: the failed call's error
 * as libsock reports it (-ENOMEM for malloc, the SOCK_E* code of an
 * EAI_* for getaddrinfo ...), or a code the library documents for that
 * condition where the failure has no errno of its own (a full io_uring
 * submission queue).  False when nothing was injected.
 */
bool torture_code_ok(int code);

/* The code the library should report for the failure injected (0 if
 * none): what a scenario prints. */
int torture_code(void);

/* Print "torture: calls F N" for every function called, and what was
 * injected, to out. */
void torture_report(FILE *out);

#endif /* SOCK_TORTURE_SHIM_H */

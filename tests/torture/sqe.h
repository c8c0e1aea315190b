/* SPDX-License-Identifier: MIT */
/* sqe.h -- included first in the torture build's objects: io_uring_get_sqe goes to the shim */

/*
 * io_uring_get_sqe is an inline function of liburing.h, so no linker
 * trick reaches its calls.  The header is read here, before the library's
 * files include it (its guard then skips it), and from then on a call
 * names the shim's torture_io_uring_get_sqe (shim.c).
 */

#ifndef SOCK_TORTURE_SQE_H
#define SOCK_TORTURE_SQE_H

#ifdef SOCK_HAVE_URING
#include <liburing.h>

struct io_uring_sqe *torture_io_uring_get_sqe(struct io_uring *ring);
#define io_uring_get_sqe(ring) torture_io_uring_get_sqe(ring)
#endif

#endif /* SOCK_TORTURE_SQE_H */

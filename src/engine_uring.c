/* SPDX-License-Identifier: MIT */
/* engine_uring.c -- the io_uring engine (interim: not yet available) */

#include "core.h"

static int ur_init(struct sock_loop *loop)
{
	(void)loop;
	return -ENOSYS;
}

const struct sock__engine sock__engine_uring = {
	.kind = SOCK_ENGINE_URING,
	.init = ur_init,
};

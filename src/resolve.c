/* SPDX-License-Identifier: MIT */
/* resolve.c -- name resolution under a deadline, and network information */

#include "internal.h"

/* Interim: numeric text only, until the resolver lands. */
ssize_t sock__resolve(const char *text, int family, int type, int flags,
		      struct sock_addrinfo *out, size_t max, int64_t deadline)
{
	int err;

	(void)flags;
	(void)deadline;
	if (max == 0)
		return -EINVAL;
	err = sock_addr_parse(&out->addr, text);
	if (err)
		return err;
	if (family != AF_UNSPEC && sock_addr_family(&out->addr) != family)
		return -EAFNOSUPPORT;
	out->family = sock_addr_family(&out->addr);
	out->type = type;
	out->protocol = 0;
	return 1;
}

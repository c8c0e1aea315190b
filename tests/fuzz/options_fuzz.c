/* SPDX-License-Identifier: MIT */
/* options_fuzz.c -- fuzz target: the TCP options set by name */

/*
 * The input is a list of calls: a byte choosing sock_set_keepalive,
 * sock_set_user_timeout or sock_set_nodelay (and on or off), then its
 * values as four-byte integers, any sign.  Each call on one TCP socket
 * must either succeed and leave exactly those values in the socket (a 0
 * keeps the one before), or fail with -EINVAL and leave every option as
 * it was: no half-set keep-alive.
 */

#include "internal.h"

#include "fuzz.h"

struct opts {
	int keepalive, idle, intvl, cnt, user_timeout, nodelay;
};

static struct sock s = { .fd = -1 };

static int get(int level, int name)
{
	int v;

	FUZZ_CHECK(sock_getsockopt(&s, level, name, &v) == 0, "getsockopt %d",
		   name);
	return v;
}

static void read_opts(struct opts *o)
{
	o->keepalive = get(SOL_SOCKET, SO_KEEPALIVE) != 0;
	o->idle = get(IPPROTO_TCP, TCP_KEEPIDLE);
	o->intvl = get(IPPROTO_TCP, TCP_KEEPINTVL);
	o->cnt = get(IPPROTO_TCP, TCP_KEEPCNT);
	o->user_timeout = get(IPPROTO_TCP, TCP_USER_TIMEOUT);
	o->nodelay = get(IPPROTO_TCP, TCP_NODELAY) != 0;
}

static void same(const struct opts *a, const struct opts *b)
{
	FUZZ_CHECK(!memcmp(a, b, sizeof(*a)),
		   "options changed by a refused call: keepalive %d/%d idle "
		   "%d/%d intvl %d/%d cnt %d/%d user %d/%d nodelay %d/%d",
		   a->keepalive, b->keepalive, a->idle, b->idle, a->intvl,
		   b->intvl, a->cnt, b->cnt, a->user_timeout, b->user_timeout,
		   a->nodelay, b->nodelay);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct opts before, after, want;
	int calls = 0, err, a, b, c;
	uint8_t op;

	if (s.fd < 0)
		FUZZ_CHECK(sock_open(&s, AF_INET, SOCK_STREAM, 0) == 0, "socke"
									"t");
	read_opts(&before);
	while (fuzz_left(&in) && calls++ < 4) {
		op = fuzz_u8(&in);
		a = (int)fuzz_u32(&in);
		b = (int)fuzz_u32(&in);
		c = (int)fuzz_u32(&in);
		/* Small values often, where the bounds are. */
		if (op & 0x10) {
			a %= 40000;
			b %= 40000;
			c %= 200;
		}
		want = before;
		switch (op % 4) {
		case 0:
		case 1:
			err = sock_set_keepalive(&s, op % 4 == 0, a, b, c);
			if (op % 4 == 1) {
				want.keepalive = 0;
				break;
			}
			want.keepalive = 1;
			want.idle = a ? a : before.idle;
			want.intvl = b ? b : before.intvl;
			want.cnt = c ? c : before.cnt;
			FUZZ_CHECK((err == -EINVAL) == (a < 0 || a > 32767 ||
							b < 0 || b > 32767 ||
							c < 0 || c > 127),
				   "keepalive %d %d %d: %d", a, b, c, err);
			break;
		case 2:
			err = sock_set_user_timeout(&s, a);
			want.user_timeout = a;
			FUZZ_CHECK((err == -EINVAL) == (a < 0),
				   "user timeout %d: %d", a, err);
			break;
		default:
			err = sock_set_nodelay(&s, a & 1);
			want.nodelay = a & 1;
			break;
		}
		FUZZ_CHECK(err == 0 || err == -EINVAL, "op %u: %d", op % 4,
			   err);
		read_opts(&after);
		if (err)
			same(&before, &after);
		else
			same(&want, &after);
		before = after;
	}
	return 0;
}

/* SPDX-License-Identifier: MIT */
/* tls_fuzz.c -- fuzz target: TLS on struct sock, fed hostile bytes and record layouts */

/*
 * The first byte picks what the rest is:
 *
 *  - 0, 1: the bytes a peer sends before the handshake, to a server (0)
 *    or a client (1) being wrapped on one end of a socketpair.  The peer
 *    then closes.  The wrap must end, within its timeout, in one of the
 *    TLS codes (SOCK_ETLS, SOCK_ETLSEOF, SOCK_ECERT) or a socket error,
 *    never in success, and leave a socket sock_close() releases whole
 *    (LeakSanitizer checks).
 *
 *  - 2: a script over one TLS connection between this library's client
 *    and server (shaken hands once, kept across inputs): bytes below 0x80
 *    send the next (b + 1) bytes of the input as one record (the first
 *    RECORDS_MAX of them; the rest are skipped); bytes from
 *    0x80 receive on the other side with sock_recv, a peek, sock_recv_line
 *    or sock_recv_exact (bits 5-6), of a size the next byte gives.  A
 *    model of the stream says what each must return: the bytes in order,
 *    none lost, duplicated or invented; a peek takes nothing; a line is
 *    returned through its '\n', or -EMSGSIZE when the buffer cannot hold
 *    it, and the bytes stay.  A receive that would wait is not made.  At
 *    the end the rest is drained and compared, so the next input starts
 *    on an empty stream.
 */

#include <sock.h>

#include "fuzz.h"

#include "../tls/selfsigned.h"

#include <pthread.h>
#include <unistd.h>

static struct sock_tls_ctx *server_ctx, *client_ctx;
static struct sock tx = SOCK_CLOSED, rx = SOCK_CLOSED; /* mode 2 */

static void *accept_side(void *arg)
{
	intptr_t err = sock_tls_wrap(arg, server_ctx, NULL);

	return (void *)err;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/tls_fuzz.XXXXXX", cert[64], key[64];
	struct sock pair[2];
	pthread_t t;
	void *ret;

	(void)argc;
	(void)argv;
	FUZZ_CHECK(mkdtemp(dir), "mkdtemp");
	FUZZ_CHECK(selfsigned_write(dir, 365, cert, key, sizeof(cert)), "no "
									"certif"
									"icat"
									"e");
	FUZZ_CHECK(!sock_tls_ctx_new(&server_ctx, SOCK_TLS_SERVER), "ctx");
	FUZZ_CHECK(!sock_tls_ctx_use_cert(server_ctx, cert, key), "%s",
		   sock_tls_ctx_reason(server_ctx));
	FUZZ_CHECK(!sock_tls_ctx_new(&client_ctx, SOCK_TLS_CLIENT), "ctx");
	FUZZ_CHECK(!sock_tls_ctx_set_verify(client_ctx, SOCK_TLS_VERIFY_NONE),
		   "verify");
	unlink(cert);
	unlink(key);
	rmdir(dir);

	/* The connection of mode 2, shaken hands once. */
	FUZZ_CHECK(!sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0), "pair");
	tx = pair[0];
	rx = pair[1];
	FUZZ_CHECK(!sock_settimeout(&tx, 5000) && !sock_settimeout(&rx, 5000),
		   "timeout");
	FUZZ_CHECK(!pthread_create(&t, NULL, accept_side, &rx), "thread");
	FUZZ_CHECK(!sock_tls_wrap(&tx, client_ctx, NULL), "client: %s",
		   sock_tls_reason(&tx));
	pthread_join(t, &ret);
	FUZZ_CHECK(ret == NULL, "server: %s", sock_tls_reason(&rx));
	return 0;
}

/* Modes 0 and 1: a handshake that hears only the input. */
static void hostile_peer(bool server, const uint8_t *data, size_t size)
{
	struct sock pair[2];
	int err;

	FUZZ_CHECK(!sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0), "pair");
	FUZZ_CHECK(!sock_sendall(&pair[1], data, size, NULL, 0), "send");
	FUZZ_CHECK(!sock_shutdown(&pair[1], SHUT_WR), "shutdown");
	FUZZ_CHECK(!sock_settimeout(&pair[0], 2000), "timeout");
	err = sock_tls_wrap(&pair[0], server ? server_ctx : client_ctx, NULL);
	FUZZ_CHECK(err == SOCK_ETLS || err == SOCK_ETLSEOF ||
			   err == SOCK_ECERT || err == -ECONNRESET ||
			   err == -EPIPE,
		   "wrap: %d (%s)", err, sock_strerror(err));
	FUZZ_CHECK(sock_tls_reason(&pair[0])[0] != '\0', "no reason");
	/* Spent: every receive fails the same way. */
	{
		char b[8];

		FUZZ_CHECK(sock_recv(&pair[0], b, sizeof(b), 0) < 0, "receive "
								     "after a "
								     "failed "
								     "handshak"
								     "e");
	}
	sock_close(&pair[0]);
	sock_close(&pair[1]);
}

/* Records one input sends at most: each is a buffer of its own in the
 * socketpair (a kilobyte of the receiver's 200 KiB, however small the
 * record), and nothing is read until the script says so. */
#define RECORDS_MAX 64

/* The stream's model: bytes sent and not yet received. */
static uint8_t model[RECORDS_MAX * 128];
static size_t model_len;

static void model_take(size_t n)
{
	memmove(model, model + n, model_len - n);
	model_len -= n;
}

static void receive(int op, size_t size)
{
	uint8_t buf[512];
	const uint8_t *nl;
	ssize_t n;

	if (!model_len)
		return; /* it would wait */
	switch (op) {
	case 0:
	case 1:
		n = sock_recv(&rx, buf, size, op ? MSG_PEEK : 0);
		FUZZ_CHECK(n > 0 && (size_t)n <= size && (size_t)n <= model_len,
			   "recv %zu of %zu: %zd", size, model_len, n);
		FUZZ_CHECK(!memcmp(buf, model, (size_t)n), "bytes differ");
		if (!op)
			model_take((size_t)n);
		break;
	case 2:
		nl = memchr(model, '\n', model_len);
		if (!nl && model_len < size - 1)
			return; /* it would wait */
		n = sock_recv_line(&rx, (char *)buf, size);
		if (!nl || (size_t)(nl - model) + 1 > size - 1) {
			FUZZ_CHECK(n == -EMSGSIZE, "line of %zu: %zd", size, n);
			break;
		}
		FUZZ_CHECK(n == nl - model + 1, "line %zd, want %td", n,
			   nl - model + 1);
		FUZZ_CHECK(!memcmp(buf, model, (size_t)n) && buf[n] == '\0',
			   "line bytes differ");
		model_take((size_t)n);
		break;
	default:
		if (size > model_len)
			return;
		FUZZ_CHECK(!sock_recv_exact(&rx, buf, size, NULL), "exact");
		FUZZ_CHECK(!memcmp(buf, model, size), "exact bytes differ");
		model_take(size);
		break;
	}
}

static void script(struct fuzz_in *in)
{
	const uint8_t *p;
	uint8_t b, buf[512];
	size_t len;
	int records = 0, err;

	model_len = 0;
	while (fuzz_left(in)) {
		b = fuzz_u8(in);
		if (b < 0x80) {
			p = fuzz_bytes(in, (size_t)b + 1, &len);
			if (!len || ++records > RECORDS_MAX)
				continue;
			err = sock_sendall(&tx, p, len, NULL, 0);
			FUZZ_CHECK(!err, "send: %s (%s)", sock_strerror(err),
				   sock_tls_reason(&tx));
			memcpy(model + model_len, p, len);
			model_len += len;
		} else {
			/* Sizes 2..257: a line needs room for one byte and
			 * its NUL. */
			receive((b >> 5) & 3, (size_t)fuzz_u8(in) % 255 + 2);
		}
	}
	/* Drain, so that the next input starts on an empty stream. */
	while (model_len) {
		len = model_len < sizeof(buf) ? model_len : sizeof(buf);
		FUZZ_CHECK(!sock_recv_exact(&rx, buf, len, NULL), "drain");
		FUZZ_CHECK(!memcmp(buf, model, len), "drained bytes differ");
		model_take(len);
	}
	FUZZ_CHECK(sock_tls_pending(&rx) == 0, "pending after the drain");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t mode;

	if (!size)
		return 0;
	mode = fuzz_u8(&in) % 3;
	if (mode < 2)
		hostile_peer(mode == 0, in.p, in.n);
	else
		script(&in);
	return 0;
}

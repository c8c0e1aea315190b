/* SPDX-License-Identifier: MIT */
/* uring_echo.c -- reference: a hand-written io_uring echo server */

/*
 * usage: uring_echo PORT
 *
 * One multishot accept; per connection one multishot receive that picks
 * its buffers from a provided buffer ring (mapped here by hand: liburing
 * 2.3 has no io_uring_setup_buf_ring); each received buffer is sent back
 * from where it lies and returned to the ring when its send completes.
 * Sends of one connection go one at a time, in order, so the echo keeps
 * its byte order; what arrives meanwhile waits in a per-connection list
 * of buffer ids.  A connection is its descriptor plus 12 bytes.
 */

#include "ref.h"

#include <liburing.h>
#include <sys/mman.h>

#define ENTRIES 4096
#define NBUFS 4096 /* a power of two */
#define BUF_SIZE (16 * 1024)
#define BGID 1

enum { OP_ACCEPT, OP_RECV, OP_SEND };

/* user_data: operation in the low bits, descriptor above them */
#define UD(op, fd) ((uint64_t)(fd) << 2 | (op))

struct conn {
	int16_t head, tail; /* buffers waiting to be sent, -1: none */
	uint16_t off;	    /* bytes of head already sent */
	uint8_t sending, receiving;
	uint8_t closing;
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static uint16_t buf_len[NBUFS];
static int16_t buf_next[NBUFS];
static struct conn *conns;
static int lfd;
/* Connections whose receive stopped for want of buffers. */
static int *starved;
static int nstarved;

static struct io_uring_sqe *sqe(void)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&ring);

	if (!s) {
		io_uring_submit(&ring);
		s = io_uring_get_sqe(&ring);
	}
	return s;
}

static void arm_accept(void)
{
	struct io_uring_sqe *s = sqe();

	io_uring_prep_multishot_accept(s, lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(s, UD(OP_ACCEPT, lfd));
}

static void arm_recv(int fd)
{
	struct io_uring_sqe *s = sqe();

	io_uring_prep_recv_multishot(s, fd, NULL, 0, 0);
	s->flags |= IOSQE_BUFFER_SELECT;
	s->buf_group = BGID;
	io_uring_sqe_set_data64(s, UD(OP_RECV, fd));
	conns[fd].receiving = 1;
}

static void send_head(int fd)
{
	struct conn *c = &conns[fd];
	struct io_uring_sqe *s = sqe();
	int bid = c->head;

	io_uring_prep_send(s, fd, bufs + (size_t)bid * BUF_SIZE + c->off,
			   buf_len[bid] - c->off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(s, UD(OP_SEND, fd));
	c->sending = 1;
}

static void give_back(int bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE,
			      (unsigned short)bid, NBUFS - 1, 0);
	io_uring_buf_ring_advance(br, 1);
}

/* Close once nothing is in flight on fd; until then, end it by shutdown
 * so the receive completes. */
static void finish(int fd)
{
	struct conn *c = &conns[fd];

	if (!c->closing) {
		c->closing = 1;
		shutdown(fd, SHUT_RDWR);
	}
	if (c->sending || c->receiving)
		return;
	while (c->head >= 0) {
		int bid = c->head;

		c->head = buf_next[bid];
		give_back(bid);
	}
	close(fd);
}

static void on_accept(struct io_uring_cqe *cqe)
{
	int fd = cqe->res;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_accept();
	if (fd < 0)
		return;
	ref_nodelay(fd);
	conns[fd] = (struct conn){ .head = -1, .tail = -1 };
	arm_recv(fd);
}

static void on_recv(int fd, struct io_uring_cqe *cqe)
{
	struct conn *c = &conns[fd];
	int bid;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		c->receiving = 0;
	if (cqe->res <= 0) {
		if (cqe->res == -ENOBUFS && !c->closing)
			starved[nstarved++] = fd;
		else
			finish(fd);
		return;
	}
	bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
	buf_len[bid] = (uint16_t)cqe->res;
	buf_next[bid] = -1;
	if (c->closing) {
		give_back(bid);
		return;
	}
	if (c->tail >= 0)
		buf_next[c->tail] = (int16_t)bid;
	else
		c->head = (int16_t)bid;
	c->tail = (int16_t)bid;
	if (!c->sending)
		send_head(fd);
}

static void on_send(int fd, struct io_uring_cqe *cqe)
{
	struct conn *c = &conns[fd];
	int bid = c->head;

	c->sending = 0;
	if (cqe->res < 0 || c->closing) {
		finish(fd);
		return;
	}
	c->off = (uint16_t)(c->off + cqe->res);
	if (c->off < buf_len[bid]) {
		send_head(fd);
		return;
	}
	c->off = 0;
	c->head = buf_next[bid];
	if (c->head < 0)
		c->tail = -1;
	give_back(bid);
	while (nstarved) /* a buffer is free again */
		arm_recv(starved[--nstarved]);
	if (c->head >= 0)
		send_head(fd);
}

static void setup_buffers(void)
{
	struct io_uring_buf_reg reg = { .ring_entries = NBUFS, .bgid = BGID };
	int i;

	br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf),
		  PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = mmap(NULL, (size_t)NBUFS * BUF_SIZE, PROT_READ | PROT_WRITE,
		    MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (br == MAP_FAILED || bufs == MAP_FAILED)
		ref_die("mmap");
	reg.ring_addr = (unsigned long)br;
	errno = -io_uring_register_buf_ring(&ring, &reg, 0);
	if (errno)
		ref_die("io_uring_register_buf_ring");
	io_uring_buf_ring_init(br);
	for (i = 0; i < NBUFS; i++)
		io_uring_buf_ring_add(br, bufs + (size_t)i * BUF_SIZE, BUF_SIZE,
				      (unsigned short)i, NBUFS - 1, i);
	io_uring_buf_ring_advance(br, NBUFS);
}

int main(int argc, char **argv)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN };
	struct io_uring_cqe *cqe;
	struct rlimit rl;
	unsigned int head, n;

	if (argc != 2) {
		fprintf(stderr, "usage: uring_echo PORT\n");
		return 2;
	}
	ref_setup();
	getrlimit(RLIMIT_NOFILE, &rl);
	conns = calloc(rl.rlim_cur, sizeof(*conns));
	starved = calloc(rl.rlim_cur, sizeof(*starved));
	if (!conns || !starved)
		ref_die("calloc");
	lfd = ref_listen(SOCK_STREAM, ref_port(argv[1]));
	p.cq_entries = ENTRIES * 4;
	p.flags |= IORING_SETUP_CQSIZE;
	errno = -io_uring_queue_init_params(ENTRIES, &ring, &p);
	if (errno)
		ref_die("io_uring_queue_init");
	setup_buffers();
	arm_accept();
	for (;;) {
		io_uring_submit_and_wait(&ring, 1);
		n = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			int fd = (int)(ud >> 2);

			switch (ud & 3) {
			case OP_ACCEPT:
				on_accept(cqe);
				break;
			case OP_RECV:
				on_recv(fd, cqe);
				break;
			case OP_SEND:
				on_send(fd, cqe);
				break;
			}
			n++;
		}
		io_uring_cq_advance(&ring, n);
	}
}

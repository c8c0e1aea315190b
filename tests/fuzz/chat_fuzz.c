/* SPDX-License-Identifier: MIT */
/* chat_fuzz.c -- fuzz target: the chat room's lines, members and notices */

/*
 * Connections to the chat service (up to CHAT_MEMBERS_MAX + 16), driven
 * in memory: the input opens members (from any peer address, with any
 * socket room and output limit), has them send bytes (any bytes, lines of
 * any length, in pieces of any size), read, end their side or reset.  A model written here from
 * the service's contract (services/chat.c's header comment and
 * services.h) says what each member must receive.
 *
 * Invariants, for every member R and every other member S:
 *  - R's first line is "* welcome NAME, N here", N the members counted
 *    with R (at most CHAT_MEMBERS_MAX: 256, made 16 in the fuzz build, see
 *    fuzz.mk); one past them gets "* the room is full, try later" and
 *    nothing else;
 *  - every line R gets is one of: "S: TEXT", "* S joined", "* S left",
 *    "* S left (not reading)" (exactly when S was dropped for not
 *    reading), "* your line was cut to 1024 bytes";
 *  - the "S: TEXT" lines R gets are S's lines since R joined, in order,
 *    none lost, none invented: each line S sent, its LF and one trailing
 *    CR taken off, cut to its first 1024 bytes (a line still growing
 *    past 1025 bytes goes out cut at once), every control character but
 *    TAB made '?'; R never gets its own lines;
 *  - R is told "joined" once for each S that joined after it, before any
 *    of S's lines, and "left" once for each S that left while R was
 *    there, after all of S's lines;
 *  - S is told of each of its cut lines once;
 *  - a member whose output queue fills is dropped at once (the room never
 *    waits for it); what it got until then is a prefix of the above, and a
 *    member that stays to the end got all of it.
 */

#include "fake_server.h"
#include "services.h"

#include <errno.h>

/* Room for the members, those turned away, and those who come back. */
#define CONNS (CHAT_MEMBERS_MAX + 16)
#define NAME_SLOTS 1024
#define SAW_JOINED 1
#define SAW_LEFT 2
#define CUT_NOTICE "* your line was cut to 1024 bytes"
#define FULL_NOTICE "* the room is full, try later"

/* A line a sender said: its text is in R->text, at off. */
struct line {
	size_t off, len;
};

struct person {
	struct sock_conn c; /* first: a conn is its person */
	unsigned int index;
	bool admitted, refused, welcomed;
	char name[64];
	size_t name_len;
	unsigned int count_at_open; /* members with it, as the model counts */
	unsigned long admit_ev, close_ev; /* when (0: not yet) */
	int close_err;

	/* As a sender: the line being received, the lines it said. */
	char *partial;
	size_t plen;
	bool cutting;
	struct line *lines;
	size_t nlines, lcap;
	unsigned int cuts_expected;

	/* As a receiver: a line not yet complete, the cut notices it got. */
	char *carry;
	size_t clen, ccap;
	unsigned int cuts_seen;
};

struct run {
	struct sock_service svc;
	struct sock_loop loop;
	struct person p[CONNS];
	unsigned int n;	     /* connections opened */
	unsigned long ev;    /* events: joins and leaves, in order */
	unsigned long joins; /* members admitted */
	/* Per receiver R and sender S: the next of S's lines R must get,
	 * and which notices about S it got. */
	uint32_t next[CONNS][CONNS];
	uint8_t saw[CONNS][CONNS];
	/* Members by name: index + 1, open addressing. */
	uint16_t names[NAME_SLOTS];
	/* The lines' texts, one after another. */
	char *text;
	size_t tlen, tcap;
};

static struct run *R;

/* memcmp() == 0, without the interceptors' cost on this hot path. */
static bool same_bytes(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static struct person *person_of(struct sock_conn *c)
{
	return (struct person *)c;
}

/* ---- the model of what senders say ---- */

static void emit(struct person *s, const char *text, size_t len)
{
	struct line *l;
	size_t i;

	if (s->nlines == s->lcap) {
		s->lcap = s->lcap ? 2 * s->lcap : 16;
		s->lines = realloc(s->lines, s->lcap * sizeof(*s->lines));
		FUZZ_CHECK(s->lines, "out of memory");
	}
	if (R->tlen + len > R->tcap) {
		R->tcap = 2 * (R->tlen + len);
		R->text = realloc(R->text, R->tcap);
		FUZZ_CHECK(R->text, "out of memory");
	}
	l = &s->lines[s->nlines++];
	l->off = R->tlen;
	l->len = len;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		R->text[R->tlen++] =
			(c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
}

/* The bytes s's peer sent and the service took, byte by byte. */
static void model_input(struct person *s, const uint8_t *p, size_t len)
{
	size_t i, n;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			n = s->plen;
			if (s->cutting) {
				s->cutting = false;
				s->cuts_expected++;
			} else {
				if (n && s->partial[n - 1] == '\r')
					n--;
				emit(s, s->partial, n > 1024 ? 1024 : n);
				if (n > 1024)
					s->cuts_expected++;
			}
			s->plen = 0;
			continue;
		}
		if (s->cutting)
			continue;
		if (!s->partial) {
			s->partial = malloc(1026);
			FUZZ_CHECK(s->partial, "out of memory");
		}
		s->partial[s->plen++] = (char)p[i];
		if (s->plen > 1025) {
			/* Over-long whatever follows: out now, cut. */
			emit(s, s->partial, 1024);
			s->cutting = true;
			s->plen = 0;
		}
	}
}

/* ---- the service, wrapped to note joins and leaves ---- */

static void expected_name(struct person *x, unsigned long joins)
{
	struct sock_addr a = x->c.peer;
	int family;

	sock_addr_unmap(&a);
	family = sock_addr_family(&a);
	if ((family == AF_INET || family == AF_INET6) &&
	    sock_addr_format(&a, x->name, sizeof(x->name)) > 0)
		return;
	snprintf(x->name, sizeof(x->name), "local-%lu", joins);
}

static unsigned int members(void)
{
	unsigned int i, k = 0;

	for (i = 0; i < R->n; i++)
		k += R->p[i].admitted && !R->p[i].close_ev;
	return k;
}

static void add_name(struct person *x);

static struct person *by_name(const char *name, size_t len);

static void wrap_open(struct sock_conn *c)
{
	struct person *x = person_of(c);
	unsigned int i, k = members();

	/* What the room must do, noted before it runs: its notices and
	 * welcome are checked as they are sent. */
	x->count_at_open = k + 1;
	x->admitted = k < CHAT_MEMBERS_MAX;
	x->refused = !x->admitted;
	if (x->admitted) {
		R->joins++;
		x->admit_ev = ++R->ev;
		expected_name(x, R->joins);
		x->name_len = strlen(x->name);
		FUZZ_CHECK(!by_name(x->name, x->name_len),
			   "two members named %s", x->name);
		add_name(x);
		for (i = 0; i < R->n; i++) {
			R->next[x->index][i] = (uint32_t)R->p[i].nlines;
			R->saw[x->index][i] = 0;
			R->next[i][x->index] = 0;
			R->saw[i][x->index] = 0;
		}
	}
	chat_service.on_open(c);
	FUZZ_CHECK(x->admitted == (sock_conn_data(c) != NULL),
		   "%u members: a new one %s", k,
		   x->admitted ? "refused" : "admitted");
}

static void wrap_close(struct sock_conn *c, int err)
{
	struct person *x = person_of(c);

	if (x->admitted) {
		x->close_ev = ++R->ev;
		x->close_err = err;
	}
	chat_service.on_close(c, err);
}

/* ---- checking what receivers got ---- */

static unsigned int name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return h % NAME_SLOTS;
}

static void add_name(struct person *x)
{
	unsigned int i = name_hash(x->name, x->name_len);

	while (R->names[i])
		i = (i + 1) % NAME_SLOTS;
	R->names[i] = (uint16_t)(x->index + 1);
}

static struct person *by_name(const char *name, size_t len)
{
	unsigned int i = name_hash(name, len);
	struct person *x;

	for (; R->names[i]; i = (i + 1) % NAME_SLOTS) {
		x = &R->p[R->names[i] - 1];
		if (x->name_len == len && same_bytes(x->name, name, len))
			return x;
	}
	return NULL;
}

static bool has_suffix(const char *s, size_t len, const char *suffix,
		       size_t *rest)
{
	size_t n = strlen(suffix);

	if (len < n || !same_bytes(s + len - n, suffix, n))
		return false;
	*rest = len - n;
	return true;
}

#define BAD(r, l, len, why)                                                    \
	FUZZ_CHECK(0, "%s got \"%.*s\": %s", (r)->name, (int)(len), (l), (why))

static void check_notice(struct person *r, const char *l, size_t len)
{
	uint8_t *saw;
	struct person *x;
	size_t n;
	bool joined = false, slow = false;

	if (len == strlen(CUT_NOTICE) && same_bytes(l, CUT_NOTICE, len)) {
		if (++r->cuts_seen > r->cuts_expected)
			BAD(r, l, len, "no line of its was cut");
		return;
	}
	if (has_suffix(l, len, " joined", &n))
		joined = true;
	else if (has_suffix(l, len, " left (not reading)", &n))
		slow = true;
	else if (!has_suffix(l, len, " left", &n))
		BAD(r, l, len, "not a notice");
	x = by_name(l + 2, n - 2);
	if (!x || x == r)
		BAD(r, l, len, "no such member");
	saw = &R->saw[r->index][x->index];
	if (joined) {
		if (x->admit_ev < r->admit_ev || (*saw & SAW_JOINED))
			BAD(r, l, len, "joined before, or told twice");
		*saw |= SAW_JOINED;
		return;
	}
	if (!x->close_ev || x->close_ev < r->admit_ev || (*saw & SAW_LEFT))
		BAD(r, l, len, "not gone, or gone before, or told twice");
	if (x->admit_ev > r->admit_ev && !(*saw & SAW_JOINED))
		BAD(r, l, len, "left before it joined");
	if (slow != (x->close_err == -ENOBUFS))
		BAD(r, l, len, "the wrong reason");
	*saw |= SAW_LEFT;
}

static void check_said(struct person *r, const char *l, size_t len)
{
	const char *colon = NULL;
	struct person *x = NULL;
	const struct line *want;
	uint32_t *next;
	size_t i;
	uint8_t saw;

	/* Names hold no space: the first ": " that ends one is it. */
	for (i = 0; i + 1 < len && !x; i++) {
		if (l[i] != ':' || l[i + 1] != ' ')
			continue;
		x = by_name(l, i);
		colon = l + i;
	}
	if (!x || x == r)
		BAD(r, l, len, "from no member, or from itself");
	saw = R->saw[r->index][x->index];
	if ((x->admit_ev > r->admit_ev && !(saw & SAW_JOINED)) ||
	    (saw & SAW_LEFT))
		BAD(r, l, len, "before the join or after the leave");
	next = &R->next[r->index][x->index];
	if (*next >= x->nlines)
		BAD(r, l, len, "a line the sender did not say");
	want = &x->lines[*next];
	if ((size_t)(l + len - colon - 2) != want->len ||
	    !same_bytes(colon + 2, R->text + want->off, want->len))
		FUZZ_CHECK(0, "%s got \"%.*s\" from %s, want line %u: \"%.*s\"",
			   r->name, (int)len, l, x->name, *next, (int)want->len,
			   R->text + want->off);
	(*next)++;
}

static void check_line(struct person *r, const char *l, size_t len)
{
	char welcome[128];
	int n;

	if (r->refused) {
		if (r->welcomed || len != strlen(FULL_NOTICE) ||
		    memcmp(l, FULL_NOTICE, len))
			BAD(r, l, len, "a refused connection");
		r->welcomed = true;
		return;
	}
	if (!r->welcomed) {
		n = snprintf(welcome, sizeof(welcome), "* welcome %s, %u here",
			     r->name, r->count_at_open);
		if ((size_t)n != len || memcmp(l, welcome, len))
			FUZZ_CHECK(0, "first line \"%.*s\", want \"%s\"",
				   (int)len, l, welcome);
		FUZZ_CHECK(r->count_at_open <= CHAT_MEMBERS_MAX, "count");
		r->welcomed = true;
		return;
	}
	if (len >= 2 && l[0] == '*' && l[1] == ' ')
		check_notice(r, l, len);
	else
		check_said(r, l, len);
}

/* What the service sends r, checked line by line as it is sent. */
static void sink(struct sock_conn *c, const void *data, size_t len)
{
	struct person *r = person_of(c);
	const char *p, *end, *q;

	if (r->clen || len < 2 ||
	    memcmp((const char *)data + len - 2, "\r\n", 2)) {
		if (r->clen + len > r->ccap) {
			r->ccap = 2 * (r->clen + len);
			r->carry = realloc(r->carry, r->ccap);
			FUZZ_CHECK(r->carry, "out of memory");
		}
		memcpy(r->carry + r->clen, data, len);
		r->clen += len;
		p = r->carry;
		end = r->carry + r->clen;
	} else {
		p = data;
		end = p + len;
	}
	for (q = p; q < end; q++) {
		if (*q != '\r' && *q != '\n')
			continue;
		if (*q == '\r' && q + 1 == end)
			break; /* the LF is still to come */
		FUZZ_CHECK(*q == '\r' && q + 1 < end && q[1] == '\n',
			   "a bare CR or LF in a line to %s", r->name);
		check_line(r, p, (size_t)(q - p));
		p = q + 2;
		q++;
	}
	if (r->clen) {
		r->clen = (size_t)(end - p);
		memmove(r->carry, p, r->clen);
	}
}

static void ignore(struct sock_conn *c, const void *data, size_t len)
{
	(void)c;
	(void)data;
	(void)len;
}

/* A member there at the end got everything meant for it. */
static void check_complete(struct person *r)
{
	struct person *x;
	unsigned int i;
	uint8_t saw;

	if (!r->admitted || r->c.closing)
		return;
	FUZZ_CHECK(r->welcomed && r->clen == 0, "%s: output unfinished",
		   r->name);
	FUZZ_CHECK(r->cuts_seen == r->cuts_expected,
		   "%s: told of %u cut lines of %u", r->name, r->cuts_seen,
		   r->cuts_expected);
	for (i = 0; i < R->n; i++) {
		x = &R->p[i];
		if (x == r || !x->admitted)
			continue;
		saw = R->saw[r->index][i];
		FUZZ_CHECK(x->admit_ev < r->admit_ev || (saw & SAW_JOINED),
			   "%s: not told %s joined", r->name, x->name);
		FUZZ_CHECK(!x->close_ev || x->close_ev < r->admit_ev ||
				   (saw & SAW_LEFT),
			   "%s: not told %s left", r->name, x->name);
		FUZZ_CHECK(R->next[r->index][i] == x->nlines,
			   "%s: got %u of %s's %zu lines", r->name,
			   R->next[r->index][i], x->name, x->nlines);
	}
}

/* ---- playing the peers ---- */

static void open_one(struct fuzz_in *in, bool quick)
{
	struct person *x;
	struct sock_addr peer;
	size_t room = 1 << 20, limit = 256 * 1024;

	if (R->n == CONNS)
		return;
	x = &R->p[R->n];
	x->index = R->n++;
	if (quick) {
		memset(&peer, 0, sizeof(peer));
		peer.u.in.sin_family = AF_INET;
		peer.u.in.sin_addr.s_addr = htonl(0x0a000000u + x->index);
		peer.u.in.sin_port = htons((uint16_t)(x->index + 1));
		peer.len = sizeof(peer.u.in);
	} else {
		fake_peer(in, &peer, (uint16_t)(x->index + 1));
		if (fuzz_u8(in) & 1) {
			room = fuzz_u16(in);
			limit = (size_t)fuzz_u16(in) + 1;
		}
	}
	fake_conn_init(&x->c, &R->svc, &R->loop, &peer, room, limit);
	x->c.sink = sink;
	fake_open(&x->c);
}

/* The peer of s sends len bytes: the model reads them first, so that the
 * lines they carry are known when the room passes them on. */
static void say(struct person *s, const uint8_t *p, size_t len)
{
	struct sock_conn *c = &s->c;
	bool reaches = !c->pending && !c->dead && c->reading && !c->closing;

	if (s->admitted && reaches)
		model_input(s, p, len);
	fake_input(c, p, len);
}

/* A line of k copies of one byte, for long lines from short inputs. */
static void say_long(struct person *s, struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in), *buf;
	size_t k = fuzz_u16(in) % 4096;
	bool lf = fuzz_u8(in) & 1;

	buf = malloc(k + 1);
	FUZZ_CHECK(buf, "out of memory");
	memset(buf, b, k);
	buf[k] = '\n';
	say(s, buf, k + lf);
	free(buf);
}

static void play(struct fuzz_in *in)
{
	struct person *x;
	const uint8_t *p;
	unsigned int k;
	size_t len;

	while (fuzz_left(in)) {
		uint8_t op = fuzz_u8(in);

		x = R->n ? &R->p[fuzz_u16(in) % R->n] : NULL;
		switch (op % 8) {
		case 0:
			open_one(in, false);
			break;
		case 1:
			for (k = fuzz_u8(in) % 8 + 1; k; k--)
				open_one(in, true);
			break;
		case 2:
		case 3:
			p = fuzz_bytes(in, fuzz_u16(in) % 2048 + 1, &len);
			if (x)
				say(x, p, len);
			break;
		case 4:
			if (x)
				say_long(x, in);
			break;
		case 5:
			if (x)
				fake_peer_read(&x->c,
					       fuzz_u8(in) & 1
						       ? SIZE_MAX
						       : (size_t)fuzz_u16(in));
			break;
		case 6:
			if (x)
				fake_peer_eof(&x->c);
			break;
		default:
			if (x)
				fake_peer_reset(&x->c, -ECONNRESET);
			break;
		}
	}
}

/* A person as new, its buffers kept (the run allocates little once warm). */
static void reset(struct person *x)
{
	struct line *lines = x->lines;
	char *partial = x->partial, *carry = x->carry;
	size_t lcap = x->lcap, ccap = x->ccap;

	memset(x, 0, sizeof(*x));
	x->lines = lines;
	x->lcap = lcap;
	x->partial = partial;
	x->carry = carry;
	x->ccap = ccap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int i;
	void *room;

	if (!R) {
		R = calloc(1, sizeof(*R));
		FUZZ_CHECK(R, "out of memory");
	}
	for (i = 0; i < CONNS; i++)
		reset(&R->p[i]);
	memset(R->names, 0, sizeof(R->names));
	R->tlen = 0;
	R->n = 0;
	R->ev = R->joins = 0;
	FUZZ_CHECK(chat_new(&room) == 0, "chat_new");
	R->svc = chat_service;
	R->svc.data = room;
	R->svc.on_open = wrap_open;
	R->svc.on_close = wrap_close;
	R->loop.now_ms = 1;
	play(&in);
	for (i = 0; i < R->n; i++) {
		check_complete(&R->p[i]);
		/* Checked: the leave notices of the end are not. */
		R->p[i].c.sink = ignore;
	}
	for (i = 0; i < R->n; i++) {
		struct person *x = &R->p[i];

		if (!x->c.dead)
			fake_peer_reset(&x->c, -ECONNRESET);
		FUZZ_CHECK(x->c.dead, "connection %u did not end", i);
	}
	FUZZ_CHECK(members() == 0, "members left after every close");
	chat_free(room);
	for (i = 0; i < R->n; i++)
		fake_conn_release(&R->p[i].c);
	return 0;
}

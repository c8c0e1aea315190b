/* SPDX-License-Identifier: MIT */
/* client_list.c -- seed 003's client_list.py: a threaded JSON client list */

/*
 * Usage: client_list [-c] [-n NAME] [HOST [PORT [COUNT]]]
 *
 * The server (default 127.0.0.1 5000, a thread per connection) reads a
 * name from each client, files {"name", "address", "port"} under it in the
 * list it keeps, sends the whole list as JSON, written as Python's
 * json.dumps() writes it, and hangs up; it exits after COUNT connections
 * when COUNT is given.  The client (-c) sends NAME (default "name") and
 * prints the list as json.dumps(..., indent=4) does.  Unlike the seed's
 * client, it reads until the server hangs up, so a list longer than 1024
 * bytes arrives whole.
 */

#include <sock.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLY_MAX (16 << 20) /* the longest list the client accepts */

struct entry {
	char *key; /* the name as a JSON string, quotes included */
	char host[NI_MAXHOST];
	int port;
};

struct client_list {
	pthread_mutex_t lock;
	struct entry *v;
	size_t n;
};

/* One connection, handed to its thread. */
struct client {
	struct client_list *list;
	struct sock conn;
	struct sock_addr address;
};

/*
 * The length of the valid UTF-8 sequence at p (n > 0 bytes left) and its
 * code point in *cp, or 0 when p does not start one.
 */
static size_t utf8_decode(const unsigned char *p, size_t n, unsigned int *cp)
{
	static const unsigned int least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	/* the length by the lead byte's top four bits; 0: not a lead byte */
	static const unsigned char lengths[16] = { 1, 1, 1, 1, 1, 1, 1, 1,
						   0, 0, 0, 0, 2, 2, 3, 4 };
	size_t len = p[0] < 0xf5 ? lengths[p[0] >> 4] : 0, i;

	if (len == 0 || len > n)
		return 0;
	*cp = len == 1 ? p[0] : p[0] & (0x7fu >> len);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if (*cp < least[len] || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp < 0xe000))
		return 0;
	return len;
}

/*
 * Write bytes as the JSON string Python's json.dumps() writes for the text
 * they decode to as UTF-8: ASCII only, \uXXXX for the rest.  A byte that
 * is not valid UTF-8 becomes \udcXX, as Python's "surrogateescape" decodes
 * it, so any bytes have a JSON form that tells them apart.
 */
static void json_string(FILE *f, const unsigned char *p, size_t n)
{
	static const char esc[] = "\"\\\b\f\n\r\t", name[] = "\"\\bfnrt";
	unsigned int cp;
	const char *e;
	size_t len;

	fputc('"', f);
	for (; n > 0; p += len, n -= len) {
		len = utf8_decode(p, n, &cp);
		if (len == 0) {
			cp = 0xdc00 | p[0];
			len = 1;
		}
		e = cp > 0 && cp < 0x80 ? strchr(esc, (int)cp) : NULL;
		if (e)
			fprintf(f, "\\%c", name[e - esc]);
		else if (cp >= 0x20 && cp < 0x7f)
			fputc((int)cp, f);
		else if (cp < 0x10000)
			fprintf(f, "\\u%04x", cp);
		else
			fprintf(f, "\\u%04x\\u%04x",
				0xd800 + ((cp - 0x10000) >> 10),
				0xdc00 + ((cp - 0x10000) & 0x3ff));
	}
	fputc('"', f);
}

/* client_list[name] = entry: replace the entry in place or append it. */
static int list_set(struct client_list *list, char *key, const char *host,
		    int port)
{
	struct entry *v;
	size_t i;

	for (i = 0; i < list->n && strcmp(list->v[i].key, key) != 0; i++)
		;
	if (i == list->n) {
		v = realloc(list->v, (list->n + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		list->v = v;
		list->n++;
	} else {
		free(list->v[i].key);
	}
	list->v[i].key = key;
	snprintf(list->v[i].host, sizeof(list->v[i].host), "%s", host);
	list->v[i].port = port;
	return 0;
}

/* json.dumps(client_list) into *out (malloc'd).  Returns 0 or -ENOMEM. */
static int list_dump(const struct client_list *list, char **out, size_t *len)
{
	const struct entry *e;
	FILE *f;
	size_t i;

	*out = NULL;
	f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	fputc('{', f);
	for (i = 0; i < list->n; i++) {
		e = &list->v[i];
		fprintf(f,
			"%s%s: {\"name\": %s, \"address\": \"%s\", "
			"\"port\": %d}",
			i ? ", " : "", e->key, e->key, e->host, e->port);
	}
	fputc('}', f);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The JSON string of name (n bytes), malloc'd, or NULL. */
static char *json_key(const void *name, size_t n)
{
	char *key = NULL;
	size_t len;
	FILE *f;

	f = open_memstream(&key, &len);
	if (!f)
		return NULL;
	json_string(f, name, n);
	if (fclose(f)) {
		free(key);
		return NULL;
	}
	return key;
}

/* Add the client's name to the list, then send it the list. */
static int handle_client(struct client *c)
{
	char host[NI_MAXHOST], *key, *json;
	void *name;
	size_t len;
	ssize_t n;
	int err;

	err = sock_getnameinfo(&c->address, NI_NUMERICHOST, host, sizeof(host),
			       NULL, 0);
	if (err)
		return err;
	n = sock_recv_alloc(&c->conn, 1024, &name, 0);
	if (n < 0)
		return (int)n;
	key = json_key(name, (size_t)n);
	free(name);
	if (!key)
		return -ENOMEM;

	pthread_mutex_lock(&c->list->lock);
	err = list_set(c->list, key, host, sock_addr_port(&c->address));
	if (err)
		free(key);
	else
		err = list_dump(c->list, &json, &len);
	pthread_mutex_unlock(&c->list->lock);
	if (err)
		return err;

	err = sock_sendall(&c->conn, json, len, NULL, 0);
	free(json);
	if (!err)
		err = sock_shutdown(&c->conn, SHUT_RDWR);
	return err;
}

static void *client_thread(void *arg)
{
	struct client *c = arg;
	int err = handle_client(c);

	if (err)
		fprintf(stderr, "client_list: a client: %s\n",
			sock_strerror(err));
	sock_close(&c->conn);
	free(c);
	return NULL;
}

static int server(const char *addr, long count)
{
	static struct client_list list = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct client *c = NULL;
	struct sock s;
	pthread_t t;
	long served;
	int err;

	printf("Starting server...\n");
	fflush(stdout);
	err = sock_listen(&s, SOCK_STREAM, addr, 5, 0); /* with SO_REUSEADDR */
	for (served = 0; !err && (count < 0 || served < count); served++) {
		c = malloc(sizeof(*c));
		err = c ? sock_accept(&s, &c->conn, &c->address) : -ENOMEM;
		if (err)
			break;
		c->list = &list;
		err = -pthread_create(&t, NULL, client_thread, c);
		if (err) {
			sock_close(&c->conn);
			break;
		}
		pthread_detach(t);
		c = NULL;
	}
	free(c);
	sock_close(&s);
	if (err) {
		fprintf(stderr, "client_list: %s: %s\n", addr,
			sock_strerror(err));
		return 1;
	}
	pthread_exit(NULL); /* the process ends with the last client's thread */
}

/* Everything the server sends, until it hangs up, NUL-terminated. */
static ssize_t recv_all(struct sock *s, char **out)
{
	size_t len = 0, room = 4096;
	char *buf = malloc(room + 1), *more;
	ssize_t n = buf ? 1 : -ENOMEM;

	while (n > 0) {
		if (len == room) {
			room *= 2;
			if (room > REPLY_MAX) {
				n = -EMSGSIZE;
				break;
			}
			more = realloc(buf, room + 1);
			if (!more) {
				n = -ENOMEM;
				break;
			}
			buf = more;
		}
		n = sock_recv(s, buf + len, room - len, 0);
		if (n > 0)
			len += (size_t)n;
	}
	if (n < 0) {
		free(buf);
		return n;
	}
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

/*
 * Print JSON text as Python's json.dumps(json.loads(text), indent=4) does,
 * for text as json.dumps() writes it (strings and numbers are kept as they
 * are).  Returns -1 when the text ends inside a string or a bracket.
 */
static int print_indented(const char *p)
{
	bool in_string = false;
	int depth = 0;
	const char *q;

	for (; *p && depth >= 0; p++) {
		if (in_string) {
			putchar(*p);
			if (*p == '\\' && p[1])
				putchar(*++p);
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
			putchar('"');
		} else if (*p == '{' || *p == '[') {
			q = p + 1 + strspn(p + 1, " \t\r\n");
			if (*q == (*p == '{' ? '}' : ']')) { /* {} and [] */
				printf("%c%c", *p, *q);
				p = q;
			} else {
				printf("%c\n%*s", *p, 4 * ++depth, "");
			}
		} else if (*p == '}' || *p == ']') {
			--depth;
			printf("\n%*s%c", 4 * depth, "", *p);
		} else if (*p == ',') {
			printf(",\n%*s", 4 * depth, "");
		} else if (*p == ':') {
			printf(": ");
		} else if (!strchr(" \t\r\n", *p)) {
			putchar(*p);
		}
	}
	putchar('\n');
	return in_string || depth != 0 ? -1 : 0;
}

static int client(const char *name, const char *addr)
{
	char *data = NULL;
	struct sock s;
	ssize_t n;

	n = sock_connect(&s, SOCK_STREAM, addr, SOCK_FOREVER);
	if (!n)
		n = sock_sendall(&s, name, strlen(name), NULL, 0);
	if (!n) /* the name is complete, even an empty one */
		n = sock_shutdown(&s, SHUT_WR);
	if (!n)
		n = recv_all(&s, &data);
	sock_close(&s);
	if (n < 0) {
		fprintf(stderr, "client_list: %s: %s\n", addr,
			sock_strerror((int)n));
		return 1;
	}
	n = print_indented(data);
	free(data);
	if (n)
		fprintf(stderr, "client_list: %s sent malformed JSON\n", addr);
	return n ? 1 : 0;
}

int main(int argc, char **argv)
{
	char addr[SOCK_ADDR_STRLEN];
	const char *name = "name";
	bool is_client = false;
	int opt;

	while ((opt = getopt(argc, argv, "cn:")) != -1) {
		if (opt == 'c')
			is_client = true;
		else if (opt == 'n')
			name = optarg;
		else
			return 2;
	}
	argc -= optind;
	argv += optind;
	snprintf(addr, sizeof(addr), "%s:%s", argc > 0 ? argv[0] : "127.0.0.1",
		 argc > 1 ? argv[1] : "5000");
	if (is_client)
		return client(name, addr);
	return server(addr, argc > 2 ? atol(argv[2]) : -1);
}

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

#include "seed.h"

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
	seed_json_string(f, name, n);
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

static int client(const char *name, const char *addr)
{
	void *data = NULL;
	struct sock s;
	ssize_t n;

	n = sock_connect(&s, SOCK_STREAM, addr, SOCK_FOREVER);
	if (!n)
		n = sock_sendall(&s, name, strlen(name), NULL, 0);
	if (!n) /* the name is complete, even an empty one */
		n = sock_shutdown(&s, SHUT_WR);
	if (!n)
		n = sock_recv_all(&s, REPLY_MAX, &data);
	sock_close(&s);
	if (n < 0) {
		fprintf(stderr, "client_list: %s: %s\n", addr,
			sock_strerror((int)n));
		return 1;
	}
	n = seed_json_print_indented(data);
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

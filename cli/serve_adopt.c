/* SPDX-License-Identifier: MIT */
/* serve_adopt.c -- sock serve on sockets made elsewhere: systemd socket activation, inetd */

#include <sock.h>

#include "cli.h"
#include "serve.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- systemd socket activation ---- */

/* "echo", "sock-echo.socket", "sock@echo.socket": the service named. */
static const struct service *service_by_fdname(const char *name)
{
	char base[256];
	const char *p;
	size_t n;

	snprintf(base, sizeof(base), "%s", name);
	n = strlen(base);
	if (n > 7 && !strcmp(base + n - 7, ".socket"))
		base[n - 7] = '\0';
	p = strrchr(base, '@');
	if (!p)
		p = strrchr(base, '-');
	return services_find(p ? p + 1 : base);
}

static const struct service *service_by_port(int port)
{
	size_t i;

	for (i = 0; i < services_count; i++)
		if (port > 0 &&
		    (services[i].std_port == port || services[i].port == port))
			return &services[i];
	return NULL;
}

/*
 * Which service an activated socket is for: the one its name names, else
 * the only SERVICE of the command line, else the one whose standard or
 * default port the socket is bound to.
 */
static const struct service *match_fd(const struct serve *sv,
				      const struct sock_listen_fd *fd)
{
	const struct service *def = service_by_fdname(fd->name);
	struct sock_addr a;
	size_t i;

	if (def)
		return def;
	if (sv->nnamed == 1)
		for (i = 0; i < services_count; i++)
			if (sv->named[i])
				return &services[i];
	if (sock_getsockname(&fd->sock, &a))
		return NULL;
	return service_by_port(sock_addr_port(&a));
}

bool serve_fd_is_local(const struct sock *s)
{
	struct sock_addr a;

	if (sock_getpeername(s, &a) && sock_getsockname(s, &a))
		return false;
	return sock_addr_is_loopback(&a);
}

/* A stream socket that is not listening: one connection, accepted
 * already by whoever passed it. */
static bool is_connection(const struct sock *s)
{
	int listening = 0;

	if (s->type != SOCK_STREAM)
		return false;
	return sock_getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &listening) ||
	       !listening;
}

/*
 * --allow and --deny decide at accept; a connection passed in was
 * accepted by the super-server, before sock had a say.  Serving it
 * anyway would let the ranges be bypassed, so the two are refused
 * together (nothing is served).  Returns 0 or the exit status.
 */
static int ranges_for_connection(const struct serve *sv, const char *what)
{
	if (!sv->nranges)
		return 0;
	fprintf(stderr,
		"sock: --allow and --deny apply to listeners, and %s is a "
		"connection accepted already: let what accepted it decide "
		"who may connect (systemd IPAddressAllow=, IPAddressDeny=; "
		"xinetd only_from, no_access)\n",
		what);
	return CLI_USAGE;
}

/* Serve what systemd passed.  Returns 0 or the exit status. */
int serve_adopt_activated(struct serve *sv, struct sock_listen_fd *fds, int n)
{
	const struct service *def;
	int i, index, type, rc;
	bool conn;
	char what[64];

	for (i = 0; i < n; i++) {
		def = match_fd(sv, &fds[i]);
		type = fds[i].sock.type;
		if (!def) {
			fprintf(stderr,
				"sock: socket %d ('%s') from systemd: no "
				"service goes with it (name it with "
				"FileDescriptorName=)\n",
				3 + i, fds[i].name);
			return CLI_FAILURE;
		}
		if (!(def->transports &
		      (type == SOCK_DGRAM ? SERVICE_DGRAM : SERVICE_STREAM))) {
			fprintf(stderr, "sock: %s does not serve %s sockets\n",
				def->name,
				type == SOCK_DGRAM ? "datagram" : "stream");
			return CLI_FAILURE;
		}
		conn = is_connection(&fds[i].sock);
		snprintf(what, sizeof(what), "socket %d from systemd", 3 + i);
		rc = conn ? ranges_for_connection(sv, what) : 0;
		if (rc)
			return rc;
		/* TLS is a listener's: a connection accepted already
		 * (Accept=yes) would be served in plaintext. */
		if (sv->tls && conn) {
			fprintf(stderr,
				"sock: --tls-cert is for listeners, and %s is "
				"a connection accepted already (Accept=yes): "
				"pass the listening socket (Accept=no)\n",
				what);
			return CLI_USAGE;
		}
		/* ... and a stream's: a datagram socket is not served. */
		if (sv->tls && type == SOCK_DGRAM) {
			struct sock_addr a;
			char text[SOCK_ADDR_STRLEN];

			if (sock_getsockname(&fds[i].sock, &a))
				memset(&a, 0, sizeof(a));
			serve_addr_text(&a, text, sizeof(text));
			serve_log_not_tls(sv, def->name, text);
			sock_close(&fds[i].sock);
			continue;
		}
		index = sock_server_adopt(sv->srv, serve_svc(sv, def),
					  &fds[i].sock);
		if (index < 0) {
			fprintf(stderr, "sock: cannot serve socket %d: %s\n",
				3 + i, sock_strerror(index));
			return CLI_FAILURE;
		}
		/* A connection has no listener (adopt returned 0 for it,
		 * which is also the first listener's number). */
		if (!conn && serve_note_listener(sv, def, type, index))
			return CLI_FAILURE;
	}
	return 0;
}

/* ---- inetd ---- */

bool serve_same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * inetd passes the socket as standard input, output and error.  The
 * server serves its own duplicate, so the originals must go (or the peer
 * never sees the close); and log lines must not go to the client.
 */
int serve_adopt_stdin(struct serve *sv, const struct service *def)
{
	struct sock s;
	int err, null, type;
	bool listening;

	err = sock_fromfd(&s, STDIN_FILENO);
	if (err) {
		fprintf(stderr, "sock: --inetd: standard input: %s\n",
			sock_strerror(err));
		return CLI_FAILURE;
	}
	type = s.type;
	if (!(def->transports &
	      (type == SOCK_DGRAM ? SERVICE_DGRAM : SERVICE_STREAM))) {
		fprintf(stderr, "sock: --inetd: %s does not serve %s sockets\n",
			def->name, type == SOCK_DGRAM ? "datagram" : "stream");
		sock_close(&s);
		return CLI_FAILURE;
	}
	/* A datagram or listening socket is a listener; a connected
	 * stream is one connection. */
	listening = !is_connection(&s);
	err = listening ? 0 : ranges_for_connection(sv, "standard input");
	if (err) {
		sock_close(&s);
		return err;
	}
	if (serve_same_file(STDIN_FILENO, STDERR_FILENO))
		sv->silent = true;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		if (serve_same_file(STDIN_FILENO, STDOUT_FILENO))
			dup2(null, STDOUT_FILENO);
		if (sv->silent)
			dup2(null, STDERR_FILENO);
		dup2(null, STDIN_FILENO);
		close(null);
	}
	err = sock_server_adopt(sv->srv, serve_svc(sv, def), &s);
	if (err < 0) {
		fprintf(stderr, "sock: --inetd: %s\n", sock_strerror(err));
		return CLI_FAILURE;
	}
	if (listening && serve_note_listener(sv, def, type, err))
		return CLI_FAILURE;
	return 0;
}

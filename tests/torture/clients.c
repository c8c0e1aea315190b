/* SPDX-License-Identifier: MIT */
/* clients.c -- torture scenarios: the sock program's clients, run in-process */

/*
 * Each scenario runs one client command of the sock program (cmd_time,
 * cmd_daytime, cmd_echo, cmd_clients) in this process, as main() would,
 * with its standard output and error captured, against the real service
 * served by a child process.  The child is forked before anything is
 * counted, so nothing it does is failed.
 *
 * The work is correct when the command exits 0 and printed what the
 * service says; a clean error is an exit status of 1 with a message that
 * names the failure injected (sock_strerror of it).
 */

#include "torture.h"

#include "cli.h"
#include "services.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long the peer may take to start, and to stop. */
#define PEER_WAIT_MS 10000
/* What a command may print, at most, for the verdict. */
#define CAPTURE_MAX 4096

struct client_case {
	const char *service;
	bool udp;
	int (*cmd)(int argc, char **argv);
	const char *args[4]; /* before and after the address: see below */
	const char *expect;  /* in standard output */
};

/* ---- the peer: the service, in a child process ---- */

static void peer_main(const struct client_case *cc, int fd)
{
	struct sock_server_config cfg = { .stop_on_signals = true };
	const struct service *svc = services_find(cc->service);
	struct sock_service copy = *svc->svc;
	struct sock_server *srv;
	struct sock_addr addr;
	char text[SOCK_ADDR_STRLEN] = "";
	void *state = NULL;
	int index;

	if (svc->state_new && svc->state_new(&state))
		_exit(1);
	copy.data = state;
	if (sock_server_new(&srv, &cfg))
		_exit(1);
	index = sock_server_add(srv, &copy, cc->udp ? SOCK_DGRAM : SOCK_STREAM,
				"127.0.0.1:0", 0);
	if (index < 0 || sock_server_addr(srv, index, &addr) ||
	    sock_addr_format(&addr, text, sizeof(text)) < 0)
		_exit(1);
	if (write(fd, text, strlen(text) + 1) < 0)
		_exit(1);
	close(fd);
	index = sock_server_run(srv);
	sock_server_free(srv);
	if (svc->state_free)
		svc->state_free(state);
	_exit(index ? 1 : 0);
}

/* Start the peer and read its address into text.  Returns its pid, or
 * -1. */
static pid_t peer_start(const struct client_case *cc, char *text, size_t size)
{
	struct pollfd p;
	ssize_t n;
	pid_t pid;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		peer_main(cc, fds[1]);
	}
	close(fds[1]);
	p.fd = fds[0];
	p.events = POLLIN;
	n = -1;
	if (pid > 0 && poll(&p, 1, PEER_WAIT_MS) == 1)
		n = read(fds[0], text, size - 1);
	close(fds[0]);
	if (n <= 1) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return -1;
	}
	text[n] = '\0';
	return pid;
}

static void peer_stop(pid_t pid)
{
	long long deadline = now_ms() + PEER_WAIT_MS;

	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return;
		}
		usleep(10000);
	}
}

/* ---- the command, with its output captured ---- */

struct capture {
	int fd[2];    /* memfds for standard output and error */
	int saved[2]; /* the real ones */
	char text[2][CAPTURE_MAX];
};

static int capture_begin(struct capture *c)
{
	int i;

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 2; i++) {
		c->fd[i] = memfd_create(i ? "stderr" : "stdout", MFD_CLOEXEC);
		c->saved[i] = fcntl(1 + i, F_DUPFD_CLOEXEC, 3);
	}
	if (c->fd[0] < 0 || c->fd[1] < 0 || c->saved[0] < 0 ||
	    c->saved[1] < 0) {
		for (i = 0; i < 2; i++) {
			if (c->fd[i] >= 0)
				close(c->fd[i]);
			if (c->saved[i] >= 0)
				close(c->saved[i]);
		}
		return -1;
	}
	dup2(c->fd[0], 1);
	dup2(c->fd[1], 2);
	return 0;
}

static void capture_end(struct capture *c)
{
	ssize_t n;
	int i;

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 2; i++) {
		dup2(c->saved[i], 1 + i);
		close(c->saved[i]);
		n = pread(c->fd[i], c->text[i], CAPTURE_MAX - 1, 0);
		c->text[i][n > 0 ? n : 0] = '\0';
		close(c->fd[i]);
	}
}

static void client_run(const struct scenario *sc, struct run *r)
{
	const struct client_case *cc = (const void *)sc->arg;
	char addr[SOCK_ADDR_STRLEN + 8], *argv[8];
	struct capture cap;
	const char *code;
	int argc = 0, i, ret;
	pid_t peer;

	peer = peer_start(cc, addr, sizeof(addr));
	if (peer < 0) {
		run_bad(r, "the peer did not start");
		return;
	}
	argv[argc++] = (char *)cc->service;
	for (i = 0; i < 4 && cc->args[i]; i++)
		argv[argc++] = strcmp(cc->args[i], "ADDR") ? (char *)cc->args[i]
							   : addr;
	argv[argc] = NULL;
	if (capture_begin(&cap)) {
		run_bad(r, "cannot capture the output");
		peer_stop(peer);
		return;
	}
	ret = cc->cmd(argc, argv);
	capture_end(&cap);
	peer_stop(peer);
	printf("torture: exit %d\ntorture: stdout %s\ntorture: stderr %s\n",
	       ret, cap.text[0], cap.text[1]);
	code = sock_strerror(torture_code());
	if (ret == CLI_OK && strstr(cap.text[0], cc->expect))
		run_done(r);
	else if (ret == CLI_OK)
		run_bad(r, "exit 0 without '%s' in the output", cc->expect);
	else if (ret != CLI_FAILURE)
		run_bad(r, "exit %d", ret);
	else if (torture_fired() && strstr(cap.text[1], code))
		run_error(r, argv[0], torture_code());
	else
		run_bad(r, "exit 1 with a message that does not name the "
			   "failure injected");
}

static const struct client_case time_tcp = {
	"time", false, cmd_time, { "-w", "5", "ADDR" }, "server time is "
};
static const struct client_case time_udp = {
	"time", true, cmd_time, { "-u", "ADDR" }, "server time is "
};
static const struct client_case daytime_tcp = {
	"daytime", false, cmd_daytime, { "-w", "5", "ADDR" }, ":"
};
static const struct client_case daytime_udp = {
	"daytime", true, cmd_daytime, { "-u", "ADDR" }, ":"
};
static const struct client_case echo_tcp = {
	"echo", false, cmd_echo, { "-w", "5", "ADDR", "hello" }, "hello\n"
};
static const struct client_case echo_udp = {
	"echo", true, cmd_echo, { "-u", "ADDR", "hello" }, "hello\n"
};
static const struct client_case clients_tcp = {
	"clients", false, cmd_clients, { "-n", "alice", "ADDR" }, "\"alice\""
};

#define CLIENT(name, cc)                                                       \
	{                                                                      \
		name, NULL, client_run, 0, 0, 0, (const char *)&cc             \
	}

const struct scenario client_scenarios[] = {
	CLIENT("client-time-tcp", time_tcp),
	CLIENT("client-time-udp", time_udp),
	CLIENT("client-daytime-tcp", daytime_tcp),
	CLIENT("client-daytime-udp", daytime_udp),
	CLIENT("client-echo-tcp", echo_tcp),
	CLIENT("client-echo-udp", echo_udp),
	CLIENT("client-clients-tcp", clients_tcp),
};
const size_t client_scenarios_count =
	sizeof(client_scenarios) / sizeof(client_scenarios[0]);

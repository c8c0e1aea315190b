/* SPDX-License-Identifier: MIT */
/* sandbox.h -- a private view of the system for one test child: namespaces, /etc files */

#ifndef SOCK_TEST_SANDBOX_H
#define SOCK_TEST_SANDBOX_H

#include "test.h"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>

/*
 * Give this test child its own mount namespace, so files of /etc can be
 * replaced by bind mounts, and its own network namespace, whose loopback
 * is brought up, so nothing it does reaches the host's network or ports.
 * Skips without root or namespaces.
 */
static inline void sandbox_enter(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (geteuid() != 0)
		SKIP("needs root for mount and network namespaces");
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0)
		SKIP("unshare(CLONE_NEWNS | CLONE_NEWNET): %s",
		     strerror(errno));
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		SKIP("making mounts private: %s", strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0);
	ifr.ifr_flags |= IFF_UP;
	CHECK(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
	close(fd);
}

/* Replace path (in this child only) by a file holding text. */
static inline void sandbox_file(const char *path, const char *text)
{
	char tmp[] = "/tmp/libsock-etc-XXXXXX";
	size_t len = strlen(text);
	int fd;

	fd = mkstemp(tmp);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, text, len), ==, len);
	close(fd);
	if (mount(tmp, path, "none", MS_BIND, NULL) < 0) {
		unlink(tmp);
		SKIP("bind-mounting over %s: %s", path, strerror(errno));
	}
	unlink(tmp);
}

#endif /* SOCK_TEST_SANDBOX_H */

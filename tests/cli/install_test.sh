#!/usr/bin/env bash
# install_test.sh -- make install into a temporary prefix, then build and
# run a program against the installed library, shared and static, as a
# user of libsock would with pkg-config.

. "$(dirname "$0")/lib.sh"

need make cc pkg-config nm readelf

P=$TMP_DIR/usr
VERSION=$(sed -n 's/^VERSION := //p' "$SOCK_SRC/Makefile")
ABI=$(sed -n 's/^ABI := //p' "$SOCK_SRC/Makefile")
LIB=$P/lib/libsock.so.$VERSION

# A make of our own: not the jobserver of a make that may have started us.
run_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		timeout 600 make -C "$SOCK_SRC" BUILD="$SOCK_BUILD" \
		CFLAGS="${SOCK_CFLAGS:--O2 -g}" LDFLAGS="${SOCK_LDFLAGS:-}" \
		PREFIX="$P" DESTDIR= "$@"
}

missing_man=
for m in docs/man/sock.1 docs/man/libsock.3; do
	[ -f "$SOCK_SRC/$m" ] || missing_man+=" $m"
done

if run_make install >"$TMP_DIR/install.log" 2>&1; then
	pass make_install
elif [ -n "$missing_man" ] && tail -n 3 "$TMP_DIR/install.log" |
	grep -q 'docs/man/'; then
	# The man pages are installed last: the rest is in place.
	skip make_install "make install stops at the missing$missing_man"
else
	fail make_install "$(tail -n 5 "$TMP_DIR/install.log" | tr '\n' '|')"
fi

if [ -n "$missing_man" ]; then
	skip man_pages "not written yet:$missing_man"
elif [ -f "$P/share/man/man1/sock.1" ] &&
	[ -f "$P/share/man/man3/libsock.3" ]; then
	pass man_pages
else
	fail man_pages "not installed under $P/share/man"
fi

# A page per function (make man), found where man looks: man sock_connect.
page=$P/share/man/man3/sock_connect.3
found=$(have man && man -M "$P/share/man" -w sock_connect 2>&1)
if [ ! -f "$page" ]; then
	fail function_pages "no $page"
elif have man && [ "$found" != "$page" ]; then
	fail function_pages "man -M $P/share/man -w sock_connect: $found"
else
	pass function_pages
fi

missing=
for f in bin/sock lib/libsock.a "lib/libsock.so.$VERSION" include/sock.h \
	lib/pkgconfig/libsock.pc; do
	[ -f "$P/$f" ] || missing+=" $f"
done
for h in "$SOCK_SRC"/include/sock/*.h; do
	[ -f "$h" ] || continue
	[ -f "$P/include/sock/${h##*/}" ] || missing+=" include/sock/${h##*/}"
done
for l in "libsock.so.$ABI" libsock.so; do
	[ "$(readlink "$P/lib/$l")" = "libsock.so.$VERSION" ] ||
		missing+=" lib/$l->libsock.so.$VERSION"
done
if [ -z "$missing" ]; then
	pass files
else
	fail files "missing:$missing"
	finish
fi

if "$P/bin/sock" --version | grep -qF "libsock $VERSION"; then
	pass sock_version
else
	fail sock_version "$("$P/bin/sock" --version 2>&1)"
fi

soname=$(readelf -d "$LIB" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check_eq soname "libsock.so.$ABI" "$soname"

# Exported: sock_* functions and data, never the sock__* internals, each
# bound to a version node of abi/libsock.map (the nodes themselves are
# absolute symbols).
nm -D --defined-only "$LIB" | awk '$2 != "A" { print $NF }' >"$TMP_DIR/versioned"
sed 's/@.*//' "$TMP_DIR/versioned" >"$TMP_DIR/exports"
bad=$(grep -v '^sock_' "$TMP_DIR/exports" | head -n 5 | tr '\n' ' ')
internal=$(grep '^sock__' "$TMP_DIR/exports" | head -n 5 | tr '\n' ' ')
if [ -n "$bad$internal" ]; then
	fail exports "not sock_*: [$bad] internal: [$internal]"
elif ! grep -qx sock_connect "$TMP_DIR/exports"; then
	fail exports "sock_connect is not exported"
elif grep -qv '@@\?LIBSOCK_' "$TMP_DIR/versioned"; then
	fail exports "not versioned: $(grep -v '@@\?LIBSOCK_' "$TMP_DIR/versioned" | head -n 5 | tr '\n' ' ')"
else
	pass exports
fi

export PKG_CONFIG_PATH=$P/lib/pkgconfig
check_eq pc_prefix "$P" "$(pkg-config --variable=prefix libsock)"
check_eq pc_version "$VERSION" "$(pkg-config --modversion libsock)"
# The checks below build with the installed files wherever the .pc says
# they are.
PC=(pkg-config --define-variable=libdir="$P/lib"
	--define-variable=includedir="$P/include")

# <sock.h> alone: the error codes (ECONNREFUSED) and TCP option names
# (TCP_NODELAY) come with it.
# It runs a server too (in a child, stopped by SIGTERM), so that a static
# link needs what the server's engines need (liburing: pkg-config --static
# must say so).
cat >"$TMP_DIR/prog.c" <<'EOF'
#define _GNU_SOURCE
#include <sock.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void echo(struct sock_conn *c, const void *data, size_t len)
{
	(void)sock_conn_send(c, data, len);
}

static const struct sock_service echo_service = { .name = "echo",
						  .on_data = echo };

/* An echo server on the io_uring engine (the server falls back to epoll
 * where the kernel has none) answers "ping".  Returns 0 or a status. */
static int serve_once(void)
{
	struct sock_server_config cfg = { .stop_on_signals = true,
					  .engine = SOCK_ENGINE_URING };
	struct sock_server *srv;
	struct sock_addr a;
	struct sock c = SOCK_CLOSED;
	char addr[64], buf[4];
	int idx, status;
	pid_t pid;

	if (sock_server_new(&srv, &cfg))
		return 10;
	idx = sock_server_add(srv, &echo_service, SOCK_STREAM, "127.0.0.1:0",
			      0);
	if (idx < 0 || sock_server_addr(srv, idx, &a))
		return 11;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", sock_addr_port(&a));
	pid = fork();
	if (pid == 0)
		_exit(sock_server_run(srv) ? 1 : 0);
	if (pid < 0 || sock_connect(&c, SOCK_STREAM, addr, 5000) ||
	    sock_settimeout(&c, 5000) ||
	    sock_sendall(&c, "ping", 4, NULL, 0) ||
	    sock_recv_exact(&c, buf, 4, NULL) || memcmp(buf, "ping", 4))
		status = 12;
	else
		status = 0;
	sock_close(&c);
	if (pid > 0) {
		kill(pid, SIGTERM);
		if (waitpid(pid, &idx, 0) != pid || idx != 0)
			status = status ? status : 13;
	}
	sock_server_free(srv);
	return status;
}

int main(void)
{
	struct sock pair[2], srv, cli;
	char buf[64], text[SOCK_ADDR_STRLEN], addr[64];
	struct sock_addr a;
	ssize_t n;
	int err;

	if (sock_socketpair(pair, AF_UNIX, SOCK_STREAM, 0))
		return 1;
	if (sock_sendall(&pair[0], "ping", 4, NULL, 0))
		return 2;
	n = sock_recv(&pair[1], buf, sizeof(buf) - 1, 0);
	if (n != 4)
		return 3;
	buf[n] = '\0';
	if (sock_addr_parse(&a, "[::1]:7") ||
	    sock_addr_format(&a, text, sizeof(text)) < 0)
		return 4;
	if (sock_listen(&srv, SOCK_STREAM, "127.0.0.1:0", 0, 0) ||
	    sock_getsockname(&srv, &a))
		return 5;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", sock_addr_port(&a));
	if (sock_connect(&cli, SOCK_STREAM, addr, 5000))
		return 6;
	if (sock_setsockopt(&cli, IPPROTO_TCP, TCP_NODELAY, 1) ||
	    sock_set_keepalive(&cli, true, 60, 10, 5) != 0 ||
	    sock_set_nodelay(&pair[0], true) != -ENOPROTOOPT)
		return 7;
	err = serve_once();
	if (err)
		return err;
	printf("%s %s %s %s echo\n", sock_version(), buf, text,
	       sock_strerror(-ECONNREFUSED));
	sock_close(&cli);
	sock_close(&srv);
	sock_close(&pair[0]);
	sock_close(&pair[1]);
	return 0;
}
EOF
WANT="$VERSION ping [::1]:7 connection refused echo"

# A library built with sanitizers (make asan) needs their runtimes in the
# program too.
read -ra san <<<"$(grep -o -- '-fsanitize=[^ ]*' <<<"${SOCK_CFLAGS:-} ${SOCK_LDFLAGS:-}" | sort -u | tr '\n' ' ')"

# Shared: the program needs libsock.so.$ABI and finds it in the prefix.
read -ra flags <<<"$("${PC[@]}" --cflags --libs libsock)"
if ! cc "${san[@]}" -std=c11 -Wall -Wextra -Werror -o "$TMP_DIR/prog" \
	"$TMP_DIR/prog.c" "${flags[@]}" >"$TMP_DIR/cc.log" 2>&1; then
	fail shared_build "$(head -n 5 "$TMP_DIR/cc.log" | tr '\n' '|')"
elif ! readelf -d "$TMP_DIR/prog" | grep -q "NEEDED.*\[libsock\.so\.$ABI\]"; then
	fail shared_build "prog does not need libsock.so.$ABI"
else
	pass shared_build
	out=$(LD_LIBRARY_PATH=$P/lib timeout 10 "$TMP_DIR/prog" 2>&1)
	check_eq shared_run "$WANT" "$out"
	if LD_LIBRARY_PATH=$P/lib ldd "$TMP_DIR/prog" |
		grep -qF "libsock.so.$ABI => $P/lib/libsock.so.$ABI"; then
		pass shared_from_prefix
	else
		fail shared_from_prefix "$(LD_LIBRARY_PATH=$P/lib ldd \
			"$TMP_DIR/prog" | grep libsock)"
	fi
fi

# Static: everything in the program, nothing loaded at run time.  Needs the
# static C library (and those of libsock's own dependencies).
read -ra flags <<<"$("${PC[@]}" --static --cflags --libs libsock)"
deps=()
for f in "${flags[@]}"; do
	[ "$f" = -lsock ] || deps+=("$f")
done
echo 'int main(void) { return 0; }' >"$TMP_DIR/empty.c"
if [ ${#san[@]} -gt 0 ]; then
	skip static "a sanitized library: the sanitizer runtimes cannot be linked statically"
elif ! cc -static -o "$TMP_DIR/empty" "$TMP_DIR/empty.c" "${deps[@]}" \
	>/dev/null 2>&1; then
	skip static "cannot link statically here (no libc.a or ${deps[*]})"
elif ! cc -static -std=c11 -Wall -Wextra -Werror -o "$TMP_DIR/prog_static" \
	"$TMP_DIR/prog.c" "${flags[@]}" >"$TMP_DIR/cc.log" 2>&1; then
	fail static_build "$(head -n 5 "$TMP_DIR/cc.log" | tr '\n' '|')"
elif readelf -d "$TMP_DIR/prog_static" | grep -q NEEDED; then
	fail static_build "the program still needs shared libraries"
else
	pass static_build
	out=$(timeout 10 "$TMP_DIR/prog_static" 2>&1)
	check_eq static_run "$WANT" "$out"
fi

# The installed header stands alone, in C++ too.
if have c++; then
	echo '#include <sock.h>
int main() { return sock_version() == nullptr; }' >"$TMP_DIR/prog.cc"
	read -ra flags <<<"$("${PC[@]}" --cflags --libs libsock)"
	if c++ "${san[@]}" -Wall -Wextra -Werror -o "$TMP_DIR/prog_cc" "$TMP_DIR/prog.cc" \
		"${flags[@]}" >"$TMP_DIR/cc.log" 2>&1; then
		pass cplusplus
	else
		fail cplusplus "$(head -n 5 "$TMP_DIR/cc.log" | tr '\n' '|')"
	fi
else
	skip cplusplus "no C++ compiler"
fi

# Uninstall leaves no file behind.
run_make uninstall >"$TMP_DIR/uninstall.log" 2>&1
left=$(find "$P" -type f -o -type l | sed "s|^$P/||" | head -n 5 | tr '\n' ' ')
if [ -z "$left" ]; then
	pass uninstall
else
	fail uninstall "left behind: $left"
fi

finish

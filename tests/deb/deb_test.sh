#!/usr/bin/env bash
# deb_test.sh -- the Debian packages as a user gets them: lintian, install,
# a program built against them with pkg-config, sock serve from them,
# removal
#
# Usage: tests/deb/deb_test.sh DIR   (make deb-test: DIR holds the .deb
# files make deb built).  Needs root (it installs the packages into the
# system, and removes them at the end); it refuses to run when a libsock
# package is installed already, so that it never removes one it did not
# install.  Prints the RESULT line of tests/cli/lib.sh.

. "$(dirname "$0")/../cli/lib.sh"
. "$SOCK_SRC/tests/cli/serve_lib.sh"

dir=${1:?usage: deb_test.sh DIR}
VERSION=$(sed -n 's/^VERSION := //p' "$SOCK_SRC/Makefile")
ABI=$(sed -n 's/^ABI := //p' "$SOCK_SRC/Makefile")
LIBPKG=libsock$ABI
PKGS=("$LIBPKG" libsock-dev sock)
DEBS=()
for p in "${PKGS[@]}"; do
	DEBS+=("$dir/${p}_${VERSION}_$(dpkg --print-architecture).deb")
done

need dpkg lintian pkg-config cc man
if [ "$(id -u)" != 0 ]; then
	skip all "installing packages needs root"
	finish
fi
for d in "${DEBS[@]}"; do
	[ -f "$d" ] || { fail built "no $d (make deb)"; finish; }
done
pass built
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for p in "${PKGS[@]}"; do
	if installed "$p"; then
		skip all "$p is installed already: not touching it"
		finish
	fi
done

# ---- lintian: no error (warnings are shown) ----
lintian --pedantic "${DEBS[@]}" >"$TMP_DIR/lintian" 2>&1
grep -v 'running with root privileges' "$TMP_DIR/lintian" | sed 's/^/    /'
if grep -q '^E: ' "$TMP_DIR/lintian"; then
	fail lintian "$(grep -c '^E: ' "$TMP_DIR/lintian") errors"
else
	pass lintian
fi

# ---- what each package holds ----
contents() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|'; }
holds() { # NAME DEB PATTERN...: the package has a file matching each
	local name=$1 deb=$2 p missing=

	shift 2
	contents "$deb" >"$TMP_DIR/contents"
	for p in "$@"; do
		grep -qx "$p" "$TMP_DIR/contents" || missing+=" $p"
	done
	if [ -z "$missing" ]; then pass "$name"; else fail "$name" "missing:$missing"; fi
}
ML=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
holds library_package_files "${DEBS[0]}" "$ML/libsock.so.$VERSION" "$ML/libsock.so.$ABI"
holds libsock_dev_files "${DEBS[1]}" /usr/include/sock.h /usr/include/sock/server.h \
	"$ML/libsock.a" "$ML/libsock.so" "$ML/pkgconfig/libsock.pc" \
	/usr/share/man/man3/sock_connect.3.gz /usr/share/man/man3/libsock.3.gz
holds sock_files "${DEBS[2]}" /usr/bin/sock /usr/share/man/man1/sock.1.gz \
	/usr/share/doc/sock/examples/sock-echo.socket
if contents "${DEBS[0]}" | grep -q '^/usr/include\|^/usr/bin'; then
	fail library_package_is_the_library_only "$(contents "${DEBS[0]}" | grep '^/usr/include\|^/usr/bin')"
else
	pass library_package_is_the_library_only
fi

# ---- installed ----
cleanup_pkgs() { dpkg --purge "${PKGS[@]}" >/dev/null 2>&1; }
trap 'cleanup_pkgs; lib_cleanup' EXIT
if dpkg -i "${DEBS[@]}" >"$TMP_DIR/install" 2>&1; then
	pass dpkg_install
else
	fail dpkg_install "$(tail -n 5 "$TMP_DIR/install" | tr '\n' '|')"
	finish
fi
check_eq pkg_config_version "$VERSION" "$(pkg-config --modversion libsock 2>&1)"
check_eq man_sock_connect /usr/share/man/man3/sock_connect.3.gz "$(man -w sock_connect 2>&1)"
check_eq man_sock /usr/share/man/man1/sock.1.gz "$(man -w 1 sock 2>&1)"

# A program outside the tree, built the way a user builds one, talking to
# the packaged sock serve's echo service.
cat >"$TMP_DIR/prog.c" <<'EOF'
#include <sock.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct sock s = SOCK_CLOSED;
	char buf[5];
	int err;

	if (argc != 2)
		return 2;
	err = sock_connect(&s, SOCK_STREAM, argv[1], 5000);
	if (!err)
		err = sock_sendall(&s, "ping\n", 5, NULL, 0);
	if (!err)
		err = sock_recv_exact(&s, buf, sizeof(buf), NULL);
	sock_close(&s);
	if (err) {
		fprintf(stderr, "prog: %s: %s\n", argv[1], sock_strerror(err));
		return 1;
	}
	printf("libsock %s: %.4s\n", sock_version(), buf);
	return memcmp(buf, "ping\n", 5) != 0;
}
EOF
# shellcheck disable=SC2046
if (cd "$TMP_DIR" && cc -Wall -Werror -o prog prog.c $(pkg-config --cflags --libs libsock)) \
	>"$TMP_DIR/cc" 2>&1; then
	pass build_with_pkg_config
else
	fail build_with_pkg_config "$(head -n 5 "$TMP_DIR/cc" | tr '\n' '|')"
fi
# (/lib is /usr/lib on a merged-/usr system: compare where both lead.)
lib=$(ldd "$TMP_DIR/prog" 2>/dev/null | awk -v so="libsock.so.$ABI" '$1 == so { print $3 }')
check_eq links_the_packaged_library "$(readlink -f "$ML/libsock.so.$ABI")" \
	"$(readlink -f "${lib:-none}")"

SOCK=/usr/bin/sock
if serve_start "$TMP_DIR/serve.log" 2 echo=127.0.0.1:0 daytime=127.0.0.1:0; then
	pass packaged_sock_serves
	port=$(port_of "$TMP_DIR/serve.log" echo tcp)
	check_eq program_talks_to_sock_serve "libsock $VERSION: ping" \
		"$("$TMP_DIR/prog" "127.0.0.1:$port" 2>&1)"
	port=$(port_of "$TMP_DIR/serve.log" daytime tcp)
	if out=$(timeout 10 /usr/bin/sock daytime "127.0.0.1:$port" 2>&1) &&
		[ "$(date -u +%Y)" = "$(grep -o '20[0-9][0-9]' <<<"$out" | head -n 1)" ]; then
		pass packaged_sock_client
	else
		fail packaged_sock_client "sock daytime said [$out]"
	fi
	serve_stop
	check_eq sock_serve_stops_cleanly 0 $?
else
	fail packaged_sock_serves "$(tail -n 5 "$TMP_DIR/serve.log" | tr '\n' '|')"
fi

# ---- removed: nothing left behind ----
if dpkg --purge "${PKGS[@]}" >"$TMP_DIR/purge" 2>&1 && [ ! -e /usr/bin/sock ] &&
	[ ! -e /usr/include/sock.h ] && [ ! -e "$ML/libsock.so.$ABI" ]; then
	pass purge
else
	fail purge "$(tail -n 3 "$TMP_DIR/purge" | tr '\n' '|')"
fi
finish

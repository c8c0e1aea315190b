#!/usr/bin/env bash
# deps.sh -- installs what building and testing need on a fresh Debian machine
#
# Packages already present are left alone; apt-get runs only when something
# is missing and we are root.  Without root it lists what is missing and
# goes on: the build then leaves out the io_uring engine and the tests that
# need an absent peer report themselves as skipped.
set -u
want=(
	gcc make pkg-config		# build
	liburing-dev			# io_uring engine
	libssl-dev openssl		# TLS; openssl makes the tests' certificates
	python3				# seed peers in tests/peers
	python3-cryptography		# hand-made TLS records (tests/tls/records.py)
	iproute2			# network namespaces (AF_PACKET test)
	rdate netcat-openbsd socat xinetd	# real peers for end-to-end tests
	valgrind clang-format		# make valgrind, make check-format
	clang				# make tsan (ThreadSanitizer)
	abigail-tools			# the ABI check (scripts/abi.sh)
	haproxy				# PROXY protocol peer (tests/cli/proxy_test.sh)
	groff-base man-db		# the man pages check (tests/cli/man_test.sh)
)
[ "${SOCK_DEPS_BENCH:-0}" = 1 ] && want+=(libuv1-dev libevent-dev iperf3 gnuplot-nox hyperfine)
[ "${SOCK_DEPS_DEB:-0}" = 1 ] && want+=(dpkg-dev debhelper fakeroot lintian)	# make deb, make deb-test
[ "${SOCK_DEPS_FUZZ:-0}" = 1 ] && want+=(clang libclang-rt-dev)	# make fuzz: libFuzzer

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	echo "deps: missing (install them for a full build and test): ${missing[*]}" >&2
	exit 0
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null ||
	{ echo "deps: apt-get failed for: ${missing[*]}" >&2; exit 1; }

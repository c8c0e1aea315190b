# lib.sh -- helpers shared by tests/cli/*_test.sh: results, ports, processes
#
# Source it first thing:  . "$(dirname "$0")/lib.sh"
#
# Results.  pass NAME; fail NAME WHY; skip NAME WHY print one line each and
# count; finish prints "RESULT <script> <passed> <failed> <skipped>" (the
# line tests/run.sh adds up) and exits, non-zero when something failed.
# check_eq NAME WANT GOT passes when the two texts are equal and otherwise
# fails showing both.
#
# Tools.  have CMD... is true when every command exists; need CMD... skips
# the whole script (one skip, then finish) when one is missing.
#
# Ports.  free_port [udp] prints a port the kernel just handed out on
# 127.0.0.1 (TCP unless udp is given); wait_port PORT [udp] waits, at most
# LIB_WAIT seconds (default 10), until something listens on PORT (a TCP
# listener, or any UDP socket bound to it) and fails otherwise.
#
# Processes.  start_bg CMD... runs CMD in the background under timeout(1)
# (at most LIB_BG_LIMIT seconds, default 600: a net against a process that
# outlives its script, not a bound on how long a script may take, which
# grows on a loaded machine and under sanitizers), records its PID and
# leaves it in BG_PID; redirect its output on the call (start_bg prog
# >out 2>&1).
# wait_bg PID [SECONDS] waits for it, at most SECONDS (default LIB_WAIT),
# kills it if it is still running then, and returns its exit status (124
# when it had to be killed).  On exit every recorded process still running
# is killed -- only those, by PID -- and $TMP_DIR, a fresh temporary
# directory, is removed.
#
# The environment: SOCK_BUILD (absolute build directory) and SOCK_SRC (the
# repository root) as tests/run.sh sets them; both default from this file's
# place when a script is run by hand.

LIB_NAME=$(basename "$0" .sh)
LIB_PASSED=0 LIB_FAILED=0 LIB_SKIPPED=0
LIB_WAIT=${LIB_WAIT:-10}
LIB_BG_LIMIT=${LIB_BG_LIMIT:-600}
LIB_PIDS=()
BG_PID=

SOCK_SRC=${SOCK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SOCK_BUILD=${SOCK_BUILD:-$SOCK_SRC/build}
export SOCK_SRC SOCK_BUILD

TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$LIB_NAME.XXXXXX") || exit 1

pass() {
	echo "PASS $LIB_NAME.$1"
	LIB_PASSED=$((LIB_PASSED + 1))
}

fail() {
	echo "FAIL $LIB_NAME.$1: $2"
	LIB_FAILED=$((LIB_FAILED + 1))
}

skip() {
	echo "SKIP $LIB_NAME.$1: $2"
	LIB_SKIPPED=$((LIB_SKIPPED + 1))
}

finish() {
	echo "RESULT $LIB_NAME $LIB_PASSED $LIB_FAILED $LIB_SKIPPED"
	[ "$LIB_FAILED" = 0 ]
	exit
}

check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected [$2], got [$3]"
	fi
}

have() {
	local cmd

	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || return 1
	done
}

need() {
	local cmd

	for cmd in "$@"; do
		if ! have "$cmd"; then
			skip all "$cmd is not installed"
			finish
		fi
	done
}

# A port nobody uses, for a peer the test starts on it.  It is taken
# below the kernel's ephemeral range (ip_local_port_range), which port 0
# binds and outgoing connections draw from: a port from that range, free
# a moment ago, can be any connection's source port by the time the peer
# binds it (a test running beside this one connects all the time).
# Below it, only another test's explicit bind can collide, and choosing
# at random makes that rare; the bind here proves the port free now.
free_port() {
	local type=SOCK_STREAM port low

	[ "${1:-}" = udp ] && type=SOCK_DGRAM
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${low:-0}" -gt 12000 ] || low=32768
	if have python3; then
		python3 -c "import random, socket
for _ in range(200):
    port = random.randint(10000, $low - 1)
    s = socket.socket(socket.AF_INET, socket.$type)
    try:
        s.bind(('127.0.0.1', port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break"
		return
	fi
	for _ in $(seq 100); do
		port=$((10000 + RANDOM % (low - 10000)))
		port_is_bound "$port" tcp || port_is_bound "$port" udp ||
			{ echo "$port"; return 0; }
	done
	return 1
}

# True when /proc/net shows a TCP listener on port, or a UDP socket bound to
# it (proto: tcp or udp).
port_is_bound() {
	local hex state=0A

	hex=$(printf '%04X' "$1")
	[ "$2" = udp ] && state=
	cat /proc/net/"$2" /proc/net/"$2"6 2>/dev/null |
		awk -v p=":$hex" -v st="$state" '
		substr($2, length($2) - 4) == p &&
		(st == "" || $4 == st) { found = 1 }
		END { exit !found }'
}

wait_port() {
	local proto=tcp

	[ "${2:-}" = udp ] && proto=udp
	for _ in $(seq $((LIB_WAIT * 20))); do
		port_is_bound "$1" "$proto" && return 0
		sleep 0.05
	done
	echo "    nothing listens on $proto port $1 after ${LIB_WAIT}s" >&2
	return 1
}

# show FILE: its text on one line (600 bytes at most), for a failure
# message.
show() {
	tr '\n' '|' <"$1" | head -c 600
}

# wait_file FILE REGEX: wait (LIB_WAIT seconds at most) until FILE has a
# line matching REGEX (grep -E).
wait_file() {
	for _ in $(seq $((LIB_WAIT * 20))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_link NS DEV...: wait until each link DEV of namespace NS carries
# frames.  A link set up gets its queueing discipline later, from the
# kernel's link-watch work (batched up to a second apart when many links
# change), and until then what it sends is dropped without an error: `ip
# link` says "qdisc noop" (or no state UP) until then.
wait_link() {
	local ns=$1 dev out

	shift
	for dev in "$@"; do
		for _ in $(seq $((LIB_WAIT * 20))); do
			out=$(ip -n "$ns" link show dev "$dev" 2>/dev/null)
			case "$out" in
			*"qdisc noop"*) ;;
			*"state UP"*) continue 2 ;;
			esac
			sleep 0.05
		done
		echo "    link $dev in $ns not up after ${LIB_WAIT}s: $out" >&2
		return 1
	done
}

start_bg() {
	timeout --kill-after=2 "$LIB_BG_LIMIT" "$@" &
	BG_PID=$!
	LIB_PIDS+=("$BG_PID")
}

wait_bg() {
	local pid=$1 limit=${2:-$LIB_WAIT}

	for _ in $(seq $((limit * 20))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}

lib_cleanup() {
	local pid

	for pid in "${LIB_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${LIB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP_DIR"
}

trap lib_cleanup EXIT
trap 'exit 130' INT TERM

#!/usr/bin/env bash
# counters.sh -- what sock serve's statistics cost per echoed message, in instructions
#
# usage: bench/counters.sh BUILD [ENGINE...]   (make bench runs it)
#
# Throughput on this machine swings by a factor of two between runs, far
# more than the 1% the counters may cost, so the cost is counted instead:
# callgrind counts the user-space instructions sock serve executes while
# sock bench pingpong (50 connections, 64 B) loads it for 1 s and for 4 s;
# the difference over the difference in messages is the instructions per
# message, free of start-up and shut-down.  Run for BUILD/sock and for
# BUILD/bench/nostats/sock (-DSOCK_NO_STATS, make bench-build).  The
# kernel's share of a message (the two system calls) is not counted here:
# the bench's "server CPU per message" is the whole.
set -u
build=${1:?usage: counters.sh BUILD [ENGINE...]}
shift
engines=("$@")
[ ${#engines[@]} = 0 ] && engines=(epoll io_uring)
command -v valgrind >/dev/null || { echo "counters: valgrind is not installed"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# SOCK ENGINE SECONDS: "messages instructions"
measure() {
	local sock=$1 engine=$2 d=$3 p pid out
	p=$(port)
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$sock" serve \
		--engine "$engine" --quiet --tcp-only --max-conns 20000 \
		--idle-timeout 0 "echo=127.0.0.1:$p" 2>/dev/null &
	pid=$!
	for _ in $(seq 300); do
		ss -ltn | grep -q "127.0.0.1:$p " && break
		sleep 0.1
	done
	out=$(timeout 60 "$build/sock" bench pingpong -c 50 -s 64 -d "$d" -w 0 \
		--json "127.0.0.1:$p" 2>/dev/null)
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	echo "$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["ops"])' "$out") \
$(awk '/^summary:/ { print $2 }' "$tmp/cg")"
}

echo
echo "## What the statistics cost (bench/counters.sh)"
echo
echo "User-space instructions sock serve executes per echoed message (callgrind, 50 connections x 64 B, the difference of a 4 s and a 1 s load):"
echo
echo "| engine | build | instructions per message | messages counted |"
echo "|---|---|---:|---:|"
for engine in "${engines[@]}"; do
	for sock in "$build/sock" "$build/bench/nostats/sock"; do
		[ -x "$sock" ] || { echo "| $engine | no $sock | n/a | |"; continue; }
		read -r m1 i1 <<<"$(measure "$sock" "$engine" 1)"
		read -r m4 i4 <<<"$(measure "$sock" "$engine" 4)"
		python3 -c "import sys
m1, i1, m4, i4 = map(int, sys.argv[1:5])
print('| %s | %s | %.1f | %d |'
      % (sys.argv[5], sys.argv[6], (i4 - i1) / (m4 - m1), m4 - m1))" \
			"$m1" "$i1" "$m4" "$i4" "$engine" \
			"$([ "$sock" = "$build/sock" ] && echo "with statistics" || echo "without (-DSOCK_NO_STATS)")"
	done
done

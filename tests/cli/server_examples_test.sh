#!/usr/bin/env bash
# server_examples_test.sh -- the six server examples (one per handler kind):
# each answers two lines in capitals, serves a second client at the same
# time where its mode allows, and exits 0 on SIGTERM; a busy address is
# an error on stderr and exit status 1.

. "$(dirname "$0")/lib.sh"

EX=$SOCK_BUILD/examples
SOCK=$SOCK_BUILD/sock
LO=127.0.0.1

# ask OUT PORT [-u] TEXT: send TEXT through sock connect, the reply in OUT.
ask() {
	local out=$1 port=$2
	shift 2
	if [ "$1" = -u ]; then
		printf '%s\n' "$2" | timeout 10 "$SOCK" connect -u -w 1 \
			"$LO:$port" >"$out" 2>&1
	else
		printf '%s\n' "$1" | timeout 10 "$SOCK" connect "$LO:$port" \
			>"$out" 2>&1
	fi
}

# check NAME PREFIX [udp]: PREFIX is a regular expression for what comes
# before each answer (the thread or process that served it).
check() {
	local name=$1 prefix=$2 proto=${3:-tcp} port flag= got want status child
	port=$(free_port $proto)
	[ "$proto" = udp ] && flag=-u
	start_bg "$EX/$name" "$LO:$port" >"$TMP_DIR/$name.srv" 2>&1
	local pid=$BG_PID
	if ! wait_port "$port" $proto; then
		fail "$name.starts" "not listening on $port"
		return
	fi
	ask "$TMP_DIR/$name.1" "$port" $flag "hello, server"
	want="${prefix}HELLO, SERVER"
	got=$(head -n 1 "$TMP_DIR/$name.1" | tr -d '\r')
	if [[ $got =~ ^${want}$ ]]; then
		pass "$name.answers"
	else
		fail "$name.answers" "want /^$want\$/, got '$got'"
	fi
	ask "$TMP_DIR/$name.2" "$port" $flag "second client"
	got=$(head -n 1 "$TMP_DIR/$name.2" | tr -d '\r')
	if [[ $got =~ ^${prefix}SECOND\ CLIENT$ ]]; then
		pass "$name.serves_the_next"
	else
		fail "$name.serves_the_next" "got '$got'"
	fi
	# One SIGTERM to the example itself, timeout(1)'s child (timeout would
	# signal its whole group, a second time).
	child=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
	kill -TERM "${child%% *}"
	wait_bg "$pid" 5
	status=$?
	check_eq "$name.sigterm_exit_status" 0 "$status"
	# The same address again while something holds it.
	if [ "$proto" = tcp ]; then
		python3 - "$port" "$EX/$name" "$TMP_DIR/$name.busy" <<'EOF' &&
import socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
with open(sys.argv[3], "w") as out:
    r = subprocess.run([sys.argv[2], "127.0.0.1:" + sys.argv[1]],
                       stderr=out, timeout=10)
sys.exit(0 if r.returncode == 1 else 1)
EOF
			grep -q "^$name: 127.0.0.1:$port: .*in use" \
				"$TMP_DIR/$name.busy"
		status=$?
		check_eq "$name.busy_address_is_an_error" 0 "$status"
	fi
}

need python3

check server_event ''
check server_inline ''
check server_threads 'thread [0-9]+: '
check server_pool 'thread [0-9]+: '
check server_fork 'process [0-9]+: '
check server_udp '' udp

finish

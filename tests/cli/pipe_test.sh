#!/usr/bin/env bash
# pipe_test.sh -- sock connect and sock listen, the netcat, against nc,
# socat, python3 peers and each other: 1 MiB of random bytes each way with
# checksums, half-closed connections, UDP, Unix paths, abstract names and
# Unix datagrams, and the errors (refused, timeouts, bad addresses).
#
# Peers listen on 127.0.0.1 or ::1 on ports the kernel just handed out, or
# on Unix names under $TMP_DIR.

. "$(dirname "$0")/lib.sh"

SOCK=$SOCK_BUILD/sock
LO=127.0.0.1

if [ ! -x "$SOCK" ]; then
	fail built "$SOCK is missing: build with make"
	finish
fi
need python3

A=$TMP_DIR/a B=$TMP_DIR/b
head -c 1048576 /dev/urandom >"$A"
head -c 1048576 /dev/urandom >"$B"
OUT=$TMP_DIR/out ERR=$TMP_DIR/err
: >"$TMP_DIR/empty"
echo "reply from sock" >"$TMP_DIR/reply"

# sk ARGS...: run sock for at most 30 s; stdout in $OUT, stderr in $ERR,
# status in RC, elapsed milliseconds in MS.
sk() {
	local t0=${EPOCHREALTIME/./} # microseconds, without a process

	timeout 30 "$SOCK" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	MS=$(((${EPOCHREALTIME/./} - t0) / 1000))
}

# bg_in FILE CMD...: start_bg CMD reading FILE (start_bg alone gives its
# command /dev/null: bash gives a background job no other input).
bg_in() {
	local file=$1

	shift
	start_bg sh -c 'f=$1; shift; exec "$@" <"$f"' sh "$file" "$@"
}

# listening PORT [udp]: wait_port, with a failure on record when the peer
# never came up.
listening() {
	wait_port "$@" && return 0
	fail "peer.line${BASH_LINENO[0]}" "nothing listens on port $1"
	return 1
}

# same NAME WANT_FILE GOT_FILE: the bytes are the same.
same() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "$(wc -c <"$3") bytes differ from $(wc -c <"$2"): $(head -c 100 "$3" | tr -c '[:print:]' .)"
	fi
}

# sk_ok NAME: the last sk succeeded with nothing on stderr.
sk_ok() {
	if [ "$RC" = 0 ] && [ ! -s "$ERR" ]; then
		pass "$1"
	else
		fail "$1" "status $RC: $(show "$ERR")"
	fi
}

# fails NAME STATUS REGEX: the last sk exited with STATUS and printed
# exactly one line on stderr, matching REGEX.
fails() {
	if [ "$RC" != "$2" ]; then
		fail "$1" "status $RC, not $2: $(show "$ERR")"
	elif [ "$(wc -l <"$ERR")" != 1 ]; then
		fail "$1" "not one line on stderr: $(show "$ERR")"
	elif ! grep -Eq -- "$3" "$ERR"; then
		fail "$1" "stderr [$(show "$ERR")] does not match [$3]"
	else
		pass "$1"
	fi
}

# bg_ok NAME PID: a background peer ended by itself with status 0.
bg_ok() {
	local rc

	wait_bg "$2" 20
	rc=$?
	[ "$rc" = 0 ] && pass "$1" || fail "$1" "status $rc"
}

# ---- sock with sock: both directions at once -------------------------------

port=$(free_port)
bg_in "$B" "$SOCK" listen $LO:"$port" >"$TMP_DIR/l.out" 2>"$TMP_DIR/l.err"
listener=$BG_PID
if listening "$port"; then
	sk connect $LO:"$port" <"$A"
	sk_ok tcp.sock.connect
	same tcp.sock.connect-received "$B" "$OUT"
	bg_ok tcp.sock.listen "$listener"
	same tcp.sock.listen-received "$A" "$TMP_DIR/l.out"
fi

# Port 0 without -v: the port the system chose is still told.
start_bg "$SOCK" listen $LO:0 >/dev/null 2>"$TMP_DIR/l0.err"
if wait_file "$TMP_DIR/l0.err" '^sock: listening on 127\.0\.0\.1:[1-9][0-9]*$'; then
	pass port_zero_is_named
else
	fail port_zero_is_named "$(cat "$TMP_DIR/l0.err")"
fi
kill "$BG_PID" 2>/dev/null

# Port 0 and -v: the listener tells where it listens, then who came.
start_bg "$SOCK" listen -v $LO:0 >"$TMP_DIR/l.out" 2>"$TMP_DIR/l.err"
listener=$BG_PID
if wait_file "$TMP_DIR/l.err" '^sock: listening on 127\.0\.0\.1:[0-9]+$'; then
	port=$(sed -n 's/^sock: listening on 127\.0\.0\.1://p' "$TMP_DIR/l.err")
	sk connect -v $LO:"$port" <<<"hi"
	[ "$RC" = 0 ] && grep -q "^sock: connected to 127.0.0.1:$port$" "$ERR" &&
		pass verbose.connect || fail verbose.connect "$(show "$ERR")"
	grep -Eq "^sock: attempt 127\.0\.0\.1:$port: [0-9]+ to [0-9]+ ms, connected$" "$ERR" &&
		pass verbose.connect.attempt ||
		fail verbose.connect.attempt "$(show "$ERR")"
	bg_ok verbose.listen "$listener"
	grep -Eq '^sock: connection from 127\.0\.0\.1:[0-9]+$' "$TMP_DIR/l.err" &&
		[ "$(cat "$TMP_DIR/l.out")" = hi ] && pass verbose.listen.peer ||
		fail verbose.listen.peer "$(show "$TMP_DIR/l.err")"
else
	fail verbose.listen "no address told: $(show "$TMP_DIR/l.err")"
fi

# -v tells each lookup and attempt, also when all failed: a name's two
# lookups (localhost may have no IPv6 address: that lookup then fails),
# and a refused attempt.
port=$(free_port)
sk connect -v -w 5 localhost:"$port" </dev/null
if [ "$RC" = 1 ] && grep -Eq '^sock: lookup IPv6: ' "$ERR" &&
	grep -Eq '^sock: lookup IPv4: [0-9]+ address(es)?, at [0-9]+ ms$' "$ERR" &&
	grep -Eq "^sock: attempt 127\.0\.0\.1:$port: [0-9]+ to [0-9]+ ms, connection refused$" "$ERR" &&
	grep -q "^sock: cannot connect to localhost:$port: connection refused$" "$ERR"; then
	pass verbose.connect.report
else
	fail verbose.connect.report "status $RC $(show "$ERR")"
fi

# ---- nc ---------------------------------------------------------------------

if have nc; then
	# nc sends B and receives A; -N: it shuts down after its input.
	port=$(free_port)
	bg_in "$B" nc -N -l $LO "$port" >"$TMP_DIR/nc.out" 2>/dev/null
	peer=$BG_PID
	if listening "$port"; then
		sk connect $LO:"$port" <"$A"
		sk_ok tcp.nc.connect
		same tcp.nc.connect-received "$B" "$OUT"
		bg_ok tcp.nc.exit "$peer"
		same tcp.nc.nc-received "$A" "$TMP_DIR/nc.out"
	fi

	port=$(free_port)
	bg_in "$B" "$SOCK" listen $LO:"$port" >"$TMP_DIR/l.out" 2>&1
	listener=$BG_PID
	if listening "$port"; then
		timeout 30 nc -N $LO "$port" <"$A" >"$TMP_DIR/nc.out"
		bg_ok tcp.nc.listen "$listener"
		same tcp.nc.listen-received "$A" "$TMP_DIR/l.out"
		same tcp.nc.nc-got-listener "$B" "$TMP_DIR/nc.out"
	fi

	# UDP: nc answers the first sender.
	port=$(free_port udp)
	bg_in "$TMP_DIR/empty" nc -u -l $LO "$port" >"$TMP_DIR/nc.out" 2>&1
	peer=$BG_PID
	if listening "$port" udp; then
		sk connect -u -w 0.5 $LO:"$port" <<<"hello over udp"
		sk_ok udp.nc.connect
		wait_file "$TMP_DIR/nc.out" "^hello over udp$" &&
			pass udp.nc.received || fail udp.nc.received \
			"$(show "$TMP_DIR/nc.out")"
		((MS >= 400 && MS < 5000)) && pass udp.nc.linger ||
			fail udp.nc.linger "$MS ms for -w 0.5"
		kill "$peer" 2>/dev/null
	fi

	port=$(free_port udp)
	bg_in "$TMP_DIR/reply" "$SOCK" listen -u -w 2 $LO:"$port" \
		>"$TMP_DIR/l.out" 2>"$TMP_DIR/l.err"
	listener=$BG_PID
	if listening "$port" udp; then
		echo ping | timeout 10 nc -u -w 1 $LO "$port" >"$TMP_DIR/nc.out"
		bg_ok udp.nc.listen "$listener"
		[ "$(cat "$TMP_DIR/l.out")" = ping ] && pass udp.nc.listen-received ||
			fail udp.nc.listen-received "$(show "$TMP_DIR/l.out")"
		[ "$(cat "$TMP_DIR/nc.out")" = "reply from sock" ] &&
			pass udp.nc.nc-received ||
			fail udp.nc.nc-received "$(show "$TMP_DIR/nc.out")"
	fi

	# Unix stream sockets by path.
	path=$TMP_DIR/nc.sock
	start_bg nc -U -l "$path" >"$TMP_DIR/nc.out" 2>&1
	peer=$BG_PID
	for _ in $(seq 100); do
		[ -S "$path" ] && break
		sleep 0.05
	done
	sk connect "$path" <"$A"
	sk_ok unix.nc.connect
	bg_ok unix.nc.exit "$peer"
	same unix.nc.received "$A" "$TMP_DIR/nc.out"

	path=$TMP_DIR/sock.sock
	bg_in "$B" "$SOCK" listen "$path" >"$TMP_DIR/l.out" 2>&1
	listener=$BG_PID
	for _ in $(seq 100); do
		[ -S "$path" ] && break
		sleep 0.05
	done
	timeout 30 nc -N -U "$path" <"$A" >"$TMP_DIR/nc.out"
	bg_ok unix.nc.listen "$listener"
	same unix.nc.listen-received "$A" "$TMP_DIR/l.out"
	same unix.nc.nc-got-listener "$B" "$TMP_DIR/nc.out"
	[ ! -e "$path" ] && pass unix.listen.removes-file ||
		fail unix.listen.removes-file "$path is still there"

	# Unix datagrams: nc -uU binds itself a name, so it can be answered.
	path=$TMP_DIR/dgram.sock
	bg_in "$TMP_DIR/reply" "$SOCK" listen -u -w 2 "$path" \
		>"$TMP_DIR/l.out" 2>"$TMP_DIR/l.err"
	listener=$BG_PID
	for _ in $(seq 100); do
		[ -S "$path" ] && break
		sleep 0.05
	done
	(cd "$TMP_DIR" && echo ping | timeout 10 nc -uU -w 1 "$path" \
		>"$TMP_DIR/nc.out" 2>&1)
	bg_ok unixdgram.nc.listen "$listener"
	[ "$(cat "$TMP_DIR/l.out")" = ping ] &&
		pass unixdgram.nc.listen-received ||
		fail unixdgram.nc.listen-received "$(show "$TMP_DIR/l.out")"
	[ "$(cat "$TMP_DIR/nc.out")" = "reply from sock" ] &&
		pass unixdgram.nc.nc-received ||
		fail unixdgram.nc.nc-received "$(show "$TMP_DIR/nc.out")"
	[ ! -e "$path" ] && pass unixdgram.listen.removes-file ||
		fail unixdgram.listen.removes-file "$path is still there"
else
	skip nc "nc is not installed"
fi

# ---- socat ------------------------------------------------------------------

if have socat; then
	port=$(free_port)
	start_bg socat -u TCP-LISTEN:"$port",bind=$LO,reuseaddr \
		CREATE:"$TMP_DIR/socat.out"
	peer=$BG_PID
	if listening "$port"; then
		sk connect $LO:"$port" <"$A"
		sk_ok tcp.socat.connect
		bg_ok tcp.socat.exit "$peer"
		same tcp.socat.received "$A" "$TMP_DIR/socat.out"
	fi

	port=$(free_port)
	start_bg socat -u OPEN:"$B" TCP-LISTEN:"$port",bind=$LO,reuseaddr
	if listening "$port"; then
		sk connect $LO:"$port" </dev/null
		sk_ok tcp.socat.connect-receives
		same tcp.socat.connect-received "$B" "$OUT"
	fi

	port=$(free_port)
	start_bg "$SOCK" listen $LO:"$port" >"$TMP_DIR/l.out" 2>&1
	listener=$BG_PID
	if listening "$port"; then
		timeout 30 socat -u OPEN:"$A" TCP:$LO:"$port"
		bg_ok tcp.socat.listen "$listener"
		same tcp.socat.listen-received "$A" "$TMP_DIR/l.out"
	fi

	# Abstract names, both ways.
	name=sock-test-$$-$RANDOM
	start_bg socat -u ABSTRACT-LISTEN:"$name" CREATE:"$TMP_DIR/socat.out"
	peer=$BG_PID
	for _ in $(seq 100); do
		grep -q "@$name\$" /proc/net/unix && break
		sleep 0.05
	done
	sk connect "@$name" <"$A"
	sk_ok abstract.socat.connect
	bg_ok abstract.socat.exit "$peer"
	same abstract.socat.received "$A" "$TMP_DIR/socat.out"

	bg_in "$B" "$SOCK" listen "@$name" >"$TMP_DIR/l.out" 2>&1
	listener=$BG_PID
	for _ in $(seq 100); do
		grep -q "@$name\$" /proc/net/unix && break
		sleep 0.05
	done
	timeout 30 socat ABSTRACT-CONNECT:"$name" \
		SYSTEM:"cat '$A'; cat >'$TMP_DIR/socat.out'"
	bg_ok abstract.socat.listen "$listener"
	same abstract.socat.listen-received "$A" "$TMP_DIR/l.out"
	same abstract.socat.socat-received "$B" "$TMP_DIR/socat.out"

	# Unix path: socat listens, sock connects and gets an answer.
	path=$TMP_DIR/socat.sock
	start_bg socat UNIX-LISTEN:"$path" SYSTEM:'sha256sum'
	for _ in $(seq 100); do
		[ -S "$path" ] && break
		sleep 0.05
	done
	sk connect "$path" <"$A"
	sk_ok unix.socat.connect
	[ "$(cut -d' ' -f1 "$OUT")" = "$(sha256sum <"$A" | cut -d' ' -f1)" ] &&
		pass unix.socat.checksum || fail unix.socat.checksum "$(show "$OUT")"
else
	skip socat "socat is not installed"
fi

# ---- half-closed connections, with python3 peers ----------------------------

# A server that reads to the end, then answers with the checksum: sock
# must shut down its sending side at the end of its input, and keep
# reading after.
cat >"$TMP_DIR/sum_server.py" <<'EOF'
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(1)
c, a = s.accept()
h = hashlib.sha256()
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
c.sendall((h.hexdigest() + '\n').encode())
c.close()
EOF
port=$(free_port)
start_bg python3 "$TMP_DIR/sum_server.py" "$port"
if listening "$port"; then
	sk connect $LO:"$port" <"$A"
	sk_ok halfclose.connect
	[ "$(cat "$OUT")" = "$(sha256sum <"$A" | cut -d' ' -f1)" ] &&
		pass halfclose.connect.checksum ||
		fail halfclose.connect.checksum "$(show "$OUT")"
fi

# A server that says hello and shuts down its side at once, then reads
# everything: sock keeps sending after the peer's end of stream.
cat >"$TMP_DIR/early_server.py" <<'EOF'
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(1)
c, a = s.accept()
c.sendall(b'hello\n')
c.shutdown(socket.SHUT_WR)
h = hashlib.sha256()
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
print(h.hexdigest(), flush=True)
EOF
port=$(free_port)
start_bg python3 "$TMP_DIR/early_server.py" "$port" >"$TMP_DIR/py.out"
peer=$BG_PID
if listening "$port"; then
	sk connect $LO:"$port" <"$A"
	sk_ok halfclose.peer-first
	[ "$(cat "$OUT")" = hello ] && pass halfclose.peer-first.output ||
		fail halfclose.peer-first.output "$(show "$OUT")"
	bg_ok halfclose.peer-first.exit "$peer"
	[ "$(cat "$TMP_DIR/py.out")" = "$(sha256sum <"$A" | cut -d' ' -f1)" ] &&
		pass halfclose.peer-first.checksum ||
		fail halfclose.peer-first.checksum "$(show "$TMP_DIR/py.out")"
fi

# The listener's side: a client sends A, shuts down, reads to the end.
cat >"$TMP_DIR/sum_client.py" <<'EOF'
import hashlib, socket, sys
c = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
c.sendall(open(sys.argv[2], 'rb').read())
c.shutdown(socket.SHUT_WR)
h = hashlib.sha256()
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
print(h.hexdigest())
EOF
port=$(free_port)
bg_in "$B" "$SOCK" listen $LO:"$port" >"$TMP_DIR/l.out" 2>&1
listener=$BG_PID
if listening "$port"; then
	got=$(timeout 30 python3 "$TMP_DIR/sum_client.py" "$port" "$A")
	bg_ok halfclose.listen "$listener"
	same halfclose.listen-received "$A" "$TMP_DIR/l.out"
	[ "$got" = "$(sha256sum <"$B" | cut -d' ' -f1)" ] &&
		pass halfclose.listen.checksum ||
		fail halfclose.listen.checksum "$got"
fi

# ---- Unix datagrams, sock with sock; an unnamed sender ------------------------

path=$TMP_DIR/d2.sock
bg_in "$TMP_DIR/reply" "$SOCK" listen -u -w 1 "$path" >"$TMP_DIR/l.out" 2>&1
listener=$BG_PID
for _ in $(seq 100); do
	[ -S "$path" ] && break
	sleep 0.05
done
sk connect -u -w 1 "$path" <<<"datagram"
sk_ok unixdgram.sock.connect
[ "$(cat "$OUT")" = "reply from sock" ] && pass unixdgram.sock.reply ||
	fail unixdgram.sock.reply "$(show "$OUT")"
bg_ok unixdgram.sock.listen "$listener"
[ "$(cat "$TMP_DIR/l.out")" = datagram ] && pass unixdgram.sock.received ||
	fail unixdgram.sock.received "$(show "$TMP_DIR/l.out")"

path=$TMP_DIR/d3.sock
# The sender is started first, and the listener only once it runs and
# waits for the socket: python3 may take seconds to start on a loaded
# machine, longer than the listener's -w.
start_bg python3 -c 'import os, socket, sys, time
open(sys.argv[2], "w").close()
end = time.monotonic() + 30
while not os.path.exists(sys.argv[1]) and time.monotonic() < end:
    time.sleep(0.01)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"one\n", sys.argv[1])
s.sendto(b"two\n", sys.argv[1])' "$path" "$TMP_DIR/sender.ready"
sender=$BG_PID
for _ in $(seq 600); do
	[ -e "$TMP_DIR/sender.ready" ] && break
	sleep 0.05
done
bg_in "$TMP_DIR/reply" "$SOCK" listen -u -w 2 "$path" >"$TMP_DIR/l.out" 2>&1
listener=$BG_PID
bg_ok unixdgram.unnamed.sender "$sender"
bg_ok unixdgram.unnamed.listen "$listener"
[ "$(cat "$TMP_DIR/l.out")" = "$(printf 'one\ntwo')" ] &&
	pass unixdgram.unnamed.received ||
	fail unixdgram.unnamed.received "$(show "$TMP_DIR/l.out")"

# UDP, sock with sock, 0-byte datagrams aside: lines each way.
port=$(free_port udp)
bg_in "$TMP_DIR/reply" "$SOCK" listen -u -w 1 $LO:"$port" >"$TMP_DIR/l.out" 2>&1
listener=$BG_PID
if listening "$port" udp; then
	sk connect -u -w 1 $LO:"$port" <<<"to the listener"
	sk_ok udp.sock.connect
	[ "$(cat "$OUT")" = "reply from sock" ] && pass udp.sock.reply ||
		fail udp.sock.reply "$(show "$OUT")"
	bg_ok udp.sock.listen "$listener"
	[ "$(cat "$TMP_DIR/l.out")" = "to the listener" ] &&
		pass udp.sock.received ||
		fail udp.sock.received "$(show "$TMP_DIR/l.out")"
fi

# ---- IPv6 -------------------------------------------------------------------

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
	2>/dev/null; then
	port=$(free_port)
	bg_in "$B" "$SOCK" listen -6 "$port" >"$TMP_DIR/l.out" 2>"$TMP_DIR/l.err"
	listener=$BG_PID
	for _ in $(seq 100); do
		grep -q ":$(printf '%04X' "$port") .* 0A " /proc/net/tcp6 && break
		sleep 0.05
	done
	sk connect -6 "[::1]:$port" <"$A"
	sk_ok ipv6.connect
	same ipv6.connect-received "$B" "$OUT"
	bg_ok ipv6.listen "$listener"
	same ipv6.listen-received "$A" "$TMP_DIR/l.out"
	sk connect -4 "[::1]:$port" </dev/null
	fails ipv6.wrong-family 1 "^sock: cannot connect to \[::1\]:$port: "
else
	skip ipv6 "no IPv6 loopback"
fi

# ---- errors -------------------------------------------------------------------

port=$(free_port)
sk connect $LO:"$port" </dev/null
fails error.refused 1 "^sock: cannot connect to 127\.0\.0\.1:$port: connection refused$"
sk connect -u $LO:"$port" <<<"x"
fails error.udp-refused 1 "^sock: cannot (send to|receive from) 127\.0\.0\.1:$port: connection refused$"
sk connect "$TMP_DIR/nobody.sock" </dev/null
fails error.unix-missing 1 "^sock: cannot connect to .*/nobody\.sock: no such file or directory$"
sk connect $LO </dev/null
fails error.no-port 2 "^sock: cannot connect to 127\.0\.0\.1: invalid address$"
sk listen '[::1' </dev/null
fails error.bad-listen-address 2 "^sock: cannot listen on \[::1: invalid address$"
sk connect -w 3 no-such-host.invalid:80 </dev/null
fails error.unknown-host 1 "^sock: cannot connect to no-such-host\.invalid:80: "
# (A given port: with port 0 a first line would name the port chosen.)
port=$(free_port)
sk listen -w 0.5 $LO:$port </dev/null
fails error.nobody-comes 1 "^sock: no connection to 127\.0\.0\.1:$port within 0\.5 s$"
((MS >= 400 && MS < 5000)) && pass error.nobody-comes.duration ||
	fail error.nobody-comes.duration "$MS ms for -w 0.5"
port=$(free_port udp)
sk listen -u -w 0.5 $LO:$port </dev/null
fails error.no-datagram 1 "^sock: no datagram to 127\.0\.0\.1:$port within 0\.5 s$"

# A port in use.
port=$(free_port)
start_bg python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(0)
conns = []
for i in range(8):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", int(sys.argv[1])))
    conns.append(c)
time.sleep(60)' "$port"
if listening "$port"; then
	sk listen $LO:"$port" </dev/null
	fails error.in-use 1 "^sock: cannot listen on 127\.0\.0\.1:$port: address already in use$"
	# That listener never accepts and its queue is full: the kernel drops
	# our SYNs, and -w bounds the wait.
	sleep 0.2
	sk connect -w 0.5 $LO:"$port" </dev/null
	fails error.connect-timeout 1 "^sock: cannot connect to 127\.0\.0\.1:$port: timed out$"
	((MS >= 400 && MS < 5000)) && pass error.connect-timeout.duration ||
		fail error.connect-timeout.duration "$MS ms for -w 0.5"
fi

# A peer that accepts and stays silent, and an input that stays open: -w
# is the idle limit.
port=$(free_port)
start_bg python3 -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
c, a = s.accept()
time.sleep(60)' "$port"
if listening "$port"; then
	sk connect -w 0.5 $LO:"$port" < <(exec sleep 10 >/dev/null 2>&1)
	fails error.idle 1 "^sock: 127\.0\.0\.1:$port: nothing for 0\.5 s: timed out$"
	((MS >= 400 && MS < 5000)) && pass error.idle.duration ||
		fail error.idle.duration "$MS ms for -w 0.5"
fi

# Standard output closed early: one line, status 1, no SIGPIPE death.
if have socat; then
	port=$(free_port)
	start_bg socat -u OPEN:"$A" TCP-LISTEN:"$port",bind=$LO,reuseaddr \
		2>/dev/null
	if listening "$port"; then
		timeout 30 "$SOCK" connect $LO:"$port" </dev/null 2>"$ERR" |
			head -c 10 >/dev/null
		RC=${PIPESTATUS[0]}
		fails error.stdout-closed 1 "^sock: cannot write standard output: broken pipe$"
	fi
fi

finish

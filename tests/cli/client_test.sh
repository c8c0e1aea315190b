#!/usr/bin/env bash
# client_test.sh -- sock time, daytime, echo, clients and chat against
# servers no one here wrote: xinetd's built-in services, socat, nc, the
# seed's client-list server, and small python3 servers that misbehave.
#
# Every server listens on 127.0.0.1 on a port the kernel just handed out.
# xinetd needs root; without it (or without a peer) those checks skip.

. "$(dirname "$0")/lib.sh"

SOCK=$SOCK_BUILD/sock
PEERS=$SOCK_SRC/tests/peers
LO=127.0.0.1
TIME1970=2208988800

if [ ! -x "$SOCK" ]; then
	fail built "$SOCK is missing: build with make"
	finish
fi
have python3 ||
	skip python3 "not installed: the checks against python3 servers are left out"

# sk ARGS...: run sock for at most 30 s; stdout in $OUT, stderr in $ERR,
# status in RC, elapsed milliseconds in MS, the clock's seconds before and
# after in T0 and T1 (what a server told of its clock falls between).
OUT=$TMP_DIR/out ERR=$TMP_DIR/err
sk() {
	local t0=${EPOCHREALTIME/./} t1 # microseconds, without a process

	timeout 30 "$SOCK" "$@" >"$OUT" 2>"$ERR"
	RC=$?
	t1=${EPOCHREALTIME/./}
	MS=$(((t1 - t0) / 1000))
	T0=$((t0 / 1000000)) T1=$((t1 / 1000000))
}

# listening PORT [udp]: wait_port, with a failure on record when the peer
# never came up.
listening() {
	wait_port "$@" && return 0
	fail "peer.line${BASH_LINENO[0]}" "nothing listens on port $1"
	return 1
}

# expect NAME [CMD...]: the last sk succeeded, printed nothing on stderr,
# and CMD (when given) is true.
expect() {
	local name=$1

	shift
	if [ "$RC" != 0 ] || [ -s "$ERR" ]; then
		fail "$name" "status $RC: $(show "$ERR")"
	elif [ $# -gt 0 ] && ! "$@"; then
		fail "$name" "unexpected output: $(show "$OUT")"
	else
		pass "$name"
	fi
}

# same TEXT: standard output was TEXT (trailing newlines aside).
same() {
	[ "$(cat "$OUT")" = "$1" ]
}

# same_file FILE: standard output was FILE's bytes.
same_file() {
	cmp -s "$OUT" "$1"
}

# fails NAME STATUS REGEX: the last sk exited with STATUS and printed
# exactly one line on stderr, matching REGEX.
fails() {
	if [ "$RC" != "$2" ]; then
		fail "$1" "status $RC, not $2: $(show "$ERR") $(show "$OUT")"
	elif [ "$(wc -l <"$ERR")" != 1 ]; then
		fail "$1" "not one line on stderr: $(show "$ERR")"
	elif ! grep -Eq -- "$3" "$ERR"; then
		fail "$1" "stderr [$(show "$ERR")] does not match [$3]"
	else
		pass "$1"
	fi
}

# True when $OUT holds sock time's two lines for a server whose clock is
# ours: the time taken while the last sk ran, 0 seconds off give or take
# 1 and however long sk took (a loaded machine may pause it between the
# server's reading of the clock and its own).
time_ok() {
	local t slack=$((T1 - T0 + 1))

	[ "$(wc -l <"$OUT")" = 2 ] || return 1
	[[ $(sed -n 1p "$OUT") =~ ^server\ time\ is\ (.+)$ ]] || return 1
	t=$(date -d "${BASH_REMATCH[1]}" +%s) || return 1
	((t >= T0 - 1 && t <= T1 + 1)) || return 1
	[[ $(sed -n 2p "$OUT") =~ ^local\ clock\ is\ (-?[0-9]+)\ seconds\ off$ ]] ||
		return 1
	((BASH_REMATCH[1] >= -slack && BASH_REMATCH[1] <= slack))
}

# True when $OUT is one line holding a date of our clock taken since SINCE
# (default: the last sk's start) and before the last sk ended.
daytime_ok() {
	local t since=${1:-$T0}

	[ "$(wc -l <"$OUT")" = 1 ] || return 1
	t=$(date -d "$(cat "$OUT")" +%s 2>/dev/null) || return 1
	((t >= since - 1 && t <= T1 + 1))
}

# A python3 server for the misbehaving cases, in $TMP_DIR/srv.py:
#   srv.py tcp PORT HEX COUNT     send the bytes to each of COUNT clients,
#                                 then close
#   srv.py reply PORT HEX COUNT   read the client's first data, then as tcp
#   srv.py stall PORT HEX COUNT   send the bytes, keep the connection open
#   srv.py udp PORT HEX COUNT     answer COUNT datagrams with the bytes
#   srv.py mute PORT - -          a UDP socket that never answers
# HEX may be @FILE, the bytes of FILE, or now, the time protocol's value
# of the moment the server starts.
cat >"$TMP_DIR/srv.py" <<'EOF'
import socket, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
data = sys.argv[3]
if data == 'now':
    data = (int(time.time()) + 2208988800).to_bytes(4, 'big')
elif data.startswith('@'):
    data = open(data[1:], 'rb').read()
else:
    data = bytes.fromhex(data) if data != '-' else b''
count = int(sys.argv[4]) if sys.argv[4] != '-' else 0
if mode in ('udp', 'mute'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', port))
    if mode == 'mute':
        time.sleep(60)
    for i in range(count):
        m, a = s.recvfrom(65536)
        s.sendto(data, a)
    sys.exit(0)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port))
s.listen(8)
held = []
for i in range(count):
    c, a = s.accept()
    if mode == 'reply':
        c.recv(1024)
    c.sendall(data)
    if mode == 'stall':
        held.append(c)
    else:
        c.close()
time.sleep(60 if mode == 'stall' else 0)
EOF

# serve_py MODE HEX COUNT [udp]: start srv.py on a fresh port, in PORT.
# Without python3 it fails at once (the one skip below tells why).
serve_py() {
	local proto=${4:-}

	have python3 || return 1
	PORT=$(free_port $proto)
	start_bg python3 "$TMP_DIR/srv.py" "$1" "$PORT" "$2" "$3" \
		</dev/null >/dev/null 2>&1
	listening "$PORT" $proto
}

hex_of() { # the bytes of a string, as hex
	printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'
}

# ---- usage ---------------------------------------------------------------

sk --help
lists_all() {
	local cmd

	for cmd in serve time daytime echo clients chat connect listen; do
		grep -q "^  $cmd " "$OUT" || return 1
	done
}
expect usage.help lists_all
sk --version
[[ $RC = 0 && $(cat "$OUT") =~ ^sock\ [0-9]+\.[0-9]+\.[0-9]+ ]] &&
	pass usage.version || fail usage.version "$RC $(show "$OUT")"
for cmd in time daytime echo clients chat connect listen; do
	sk "$cmd" --help
	if [ "$RC" = 0 ] && grep -q "^usage: sock $cmd " "$OUT"; then
		pass "usage.$cmd.help"
	else
		fail "usage.$cmd.help" "status $RC: $(show "$OUT")"
	fi
	sk "$cmd"
	fails "usage.$cmd.no-address" 2 "^sock $cmd: missing address"
	sk "$cmd" --bogus $LO:1
	fails "usage.$cmd.bad-option" 2 "unknown option '--bogus'"
done
sk
[ "$RC" = 2 ] && pass usage.no-command || fail usage.no-command "status $RC"
sk frobnicate
[ "$RC" = 2 ] && grep -q "unknown command 'frobnicate'" "$ERR" &&
	pass usage.unknown-command || fail usage.unknown-command "$RC $(show "$ERR")"
# One line with its hint, not the whole usage; an option is not a
# command; sock serve says its usage errors the same way.
fails usage.unknown-command-one-line 2 "^sock: unknown command 'frobnicate' \(see 'sock --help'\)$"
sk --bogus
fails usage.unknown-option 2 "^sock: unknown option '--bogus' \(see 'sock --help'\)$"
sk serve --bogus
fails usage.serve-unknown-option 2 "^sock serve: unknown option '--bogus' \(see 'sock serve --help'\)$"
sk serve --workers
fails usage.serve-missing-value 2 "^sock serve: option '--workers' needs a value"
sk serve --workers 0
fails usage.serve-bad-value 2 "^sock serve: "
# Addresses that cannot work say why in their own terms.
sk connect $LO:abc
fails usage.unknown-service 2 "unknown service name 'abc'"
sk connect unix:
fails usage.empty-unix 2 "a Unix address needs a path or @name"
sk connect packet:lo
fails usage.packet-connect 2 "packet: address names an interface for raw frames"
sk time -w 0 $LO
fails usage.wait-zero 2 "^sock time: -w wants seconds above 0"
sk time -w abc $LO
fails usage.wait-text 2 "^sock time: -w wants seconds above 0"
sk time -w
fails usage.wait-missing 2 "^sock time: option '-w' needs a value"
sk time $LO:1 $LO:2
fails usage.extra-operand 2 "unexpected operand '127.0.0.1:2'"
sk clients -n '' $LO:1
fails usage.empty-name 2 "name must not be empty"
sk daytime -u $LO:1 --udp extra
fails usage.options-anywhere 2 "unexpected operand 'extra'"

# ---- address and connection errors ----------------------------------------

port=$(free_port)
sk time $LO:$port
fails error.refused 1 "^sock: cannot connect to 127\.0\.0\.1:$port: connection refused$"
sk echo $LO:$port hello
fails error.echo-refused 1 "^sock: cannot connect to 127\.0\.0\.1:$port: connection refused$"
sk daytime -u $LO:$port
fails error.udp-refused 1 "^sock: no reply from 127\.0\.0\.1:$port: connection refused$"
sk time -w 3 no-such-host.invalid
fails error.unknown-host 1 "^sock: cannot connect to no-such-host\.invalid:37: "
sk time '[::1'
fails error.bad-address 2 "^sock: cannot connect to \[::1: invalid address$"
sk time $LO:99999
fails error.bad-port 2 "^sock: cannot connect to 127\.0\.0\.1:99999: invalid address$"
sk clients $LO:$port
fails error.clients-refused 1 "connection refused$"
sk chat $LO:$port </dev/null
fails error.chat-refused 1 "connection refused$"

# ---- time against python3 servers ------------------------------------------

# A value in the next era: 2037-01-01 00:00:00 UTC wraps to a small number.
t2037=2114380800
v=$(((t2037 + TIME1970) % 4294967296))
if serve_py tcp "$(printf '%08x' $v)" 1; then
	sk time $LO:$PORT
	want=$(python3 -c "import time; print(time.ctime($t2037))")
	line2=$(sed -n 2p "$OUT")
	if [ "$RC" != 0 ]; then
		fail time.next-era "status $RC: $(show "$ERR")"
	elif [ "$(sed -n 1p "$OUT")" != "server time is $want" ]; then
		fail time.next-era "want $want: $(show "$OUT")"
	elif [[ ! $line2 =~ ^local\ clock\ is\ (-?[0-9]+)\ seconds\ off$ ]] ||
		((BASH_REMATCH[1] < T0 - t2037 - 1 ||
			BASH_REMATCH[1] > T1 - t2037 + 1)); then
		fail time.next-era "want $((T0 - t2037))..$((T1 - t2037)) s off: $line2"
	else
		pass time.next-era
	fi
fi

# The last second of the first era, and a date in the seed (1999).
for v in 4294967295 3148468956; do
	serve_py udp "$(printf '%08x' $v)" 1 udp || continue
	sk time -u $LO:$PORT
	want=$(python3 -c "import time; print(time.ctime($v - $TIME1970))")
	first_line() { [ "$(sed -n 1p "$OUT")" = "$1" ]; }
	expect "time.era-one.$v" first_line "server time is $want"
done

if serve_py tcp abcd 1; then
	sk time $LO:$PORT
	fails time.short 1 "^sock: 127\.0\.0\.1:$PORT closed after 2 of 4 bytes$"
fi
if serve_py tcp "$(hex_of 'HTTP/1.0 400 Bad Request')" 1; then
	sk time $LO:$PORT
	fails time.garbage 1 "^sock: 127\.0\.0\.1:$PORT sent more than 4 bytes: not a time server$"
fi
if serve_py tcp "" 1; then
	sk time $LO:$PORT
	fails time.nothing 1 "^sock: 127\.0\.0\.1:$PORT closed after 0 of 4 bytes$"
fi
if serve_py udp 010203 1 udp; then
	sk time -u $LO:$PORT
	fails time.udp-short 1 "^sock: 127\.0\.0\.1:$PORT replied with 3 bytes, not 4"
fi
# Four bytes, then a server that never closes: the time is told.
if serve_py stall now 1; then
	sk time -w 1 $LO:$PORT
	expect time.no-close time_ok
fi
# A server that accepts and says nothing: -w bounds the whole exchange.
if serve_py stall "" 1; then
	sk time -w 0.5 $LO:$PORT
	fails time.silent 1 "^sock: 127\.0\.0\.1:$PORT: timed out after 0 of 4 bytes$"
	((MS >= 400 && MS < 5000)) && pass time.silent.duration ||
		fail time.silent.duration "$MS ms for -w 0.5"
fi
# Standard output that cannot be written fails the command.
if [ -w /dev/full ] && serve_py tcp now 1; then
	timeout 30 "$SOCK" time $LO:$PORT >/dev/full 2>"$ERR"
	RC=$?
	fails time.stdout-full 1 "^sock: cannot write standard output: no space left$"
fi
if serve_py stall abcd 1; then
	sk time -w 0.5 $LO:$PORT
	fails time.short-silent 1 "^sock: 127\.0\.0\.1:$PORT: timed out after 2 of 4 bytes$"
fi
if serve_py mute - - udp; then
	sk time -u -w 0.3 $LO:$PORT
	fails time.udp-silent 1 "^sock: no reply from 127\.0\.0\.1:$PORT after 3 tries of 0\.3 s$"
	((MS >= 800 && MS < 5000)) && pass time.udp-silent.duration ||
		fail time.udp-silent.duration "$MS ms for 3 tries of 0.3 s"
fi

# ---- daytime, echo: nc and socat servers ----------------------------------

if have nc; then
	port=$(free_port)
	line_t=$(date +%s)
	date -u -d "@$line_t" '+%d %b %Y %H:%M:%S UTC' >"$TMP_DIR/line"
	# (start_bg's command reads /dev/null: bash gives a background job
	# no other standard input.)
	start_bg sh -c 'exec nc -N -l "$0" "$1" <"$2"' $LO "$port" \
		"$TMP_DIR/line" >/dev/null 2>&1
	if listening "$port"; then
		sk daytime $LO:$port
		expect daytime.nc daytime_ok "$line_t"
	fi
else
	skip daytime.nc "nc is not installed"
fi

if have socat; then
	port=$(free_port)
	start_bg socat TCP-LISTEN:"$port",bind=$LO,reuseaddr,fork PIPE \
		>/dev/null 2>&1
	if listening "$port"; then
		sk echo $LO:$port hello   there  world
		expect echo.socat.words same "hello there world"
		printf 'a\0b\r\nno newline' >"$TMP_DIR/in"
		sk echo $LO:$port <"$TMP_DIR/in"
		expect echo.socat.stdin same_file "$TMP_DIR/in"
		sk echo $LO:$port -- -n x
		expect echo.socat.dash-words same "-- -n x"
		head -c 1048576 /dev/urandom >"$TMP_DIR/mib"
		sk echo $LO:$port <"$TMP_DIR/mib"
		expect echo.socat.1mib same_file "$TMP_DIR/mib"
	fi
	port=$(free_port udp)
	start_bg socat UDP-RECVFROM:"$port",bind=$LO,fork PIPE >/dev/null 2>&1
	if listening "$port" udp; then
		sk echo -u $LO:$port hello udp
		expect echo.socat.udp same "hello udp"
		printf 'x\0y' >"$TMP_DIR/in"
		sk echo --udp $LO:$port <"$TMP_DIR/in"
		expect echo.socat.udp-stdin same_file "$TMP_DIR/in"
		head -c 70000 /dev/zero >"$TMP_DIR/in"
		sk echo -u $LO:$port <"$TMP_DIR/in"
		fails echo.udp-too-big 1 "more than 65507 bytes"
	fi
else
	skip echo.socat "socat is not installed"
fi

# An echo server that stops reading and closes early: the loss is reported.
if serve_py tcp "$(hex_of 'bye')" 1; then
	head -c 16777216 /dev/zero >"$TMP_DIR/in"
	sk echo $LO:$PORT <"$TMP_DIR/in"
	fails echo.early-close 1 "^sock: cannot (send to|receive from) 127\.0\.0\.1:$PORT: (connection reset by peer|broken pipe)$"
fi
# An echo server that never closes: -w bounds the wait once input ended.
if serve_py stall "$(hex_of 'partial')" 1; then
	sk echo -w 0.5 $LO:$PORT hi
	fails echo.no-close 1 "^sock: 127\.0\.0\.1:$PORT: nothing for 0\.5 s: timed out$"
	[ "$(cat "$OUT")" = partial ] && pass echo.no-close.output ||
		fail echo.no-close.output "$(show "$OUT")"
fi

# ---- xinetd's built-in services ---------------------------------------------

xinetd_conf() { # name type port: one INTERNAL service
	cat <<EOF
service $1
{
	type = INTERNAL UNLISTED
	id = $1-$2
	socket_type = $2
	protocol = $([ "$2" = stream ] && echo tcp || echo udp)
	wait = $([ "$2" = stream ] && echo no || echo yes)
	user = root
	port = $3
	bind = $LO
	flags = REUSE
}
EOF
}

if [ "$(id -u)" != 0 ]; then
	skip xinetd "xinetd's services need root"
elif ! have xinetd; then
	skip xinetd "xinetd is not installed"
else
	declare -A XP
	{
		echo "defaults"
		echo "{"
		echo "	cps = 1000 1"
		echo "	instances = UNLIMITED"
		echo "}"
		for s in time daytime echo; do
			XP[$s.stream]=$(free_port)
			XP[$s.dgram]=$(free_port udp)
			xinetd_conf $s stream "${XP[$s.stream]}"
			xinetd_conf $s dgram "${XP[$s.dgram]}"
		done
	} >"$TMP_DIR/xinetd.conf"
	start_bg xinetd -dontfork -f "$TMP_DIR/xinetd.conf" \
		-pidfile "$TMP_DIR/xinetd.pid" -filelog "$TMP_DIR/xinetd.log" \
		>/dev/null 2>&1
	up=1
	for s in time daytime echo; do
		wait_port "${XP[$s.stream]}" || up=
		wait_port "${XP[$s.dgram]}" udp || up=
	done
	if [ -z "$up" ]; then
		fail xinetd "did not start: $(show "$TMP_DIR/xinetd.log")"
	else
		sk time $LO:${XP[time.stream]}
		expect time.xinetd time_ok
		sk time --udp $LO:${XP[time.dgram]}
		expect time.xinetd-udp time_ok
		sk time localhost:${XP[time.stream]}
		expect time.xinetd-name time_ok
		sk daytime $LO:${XP[daytime.stream]}
		expect daytime.xinetd daytime_ok
		sk daytime -u $LO:${XP[daytime.dgram]}
		expect daytime.xinetd-udp daytime_ok
		sk echo $LO:${XP[echo.stream]} one  two
		expect echo.xinetd same "one two"
		head -c 1048576 /dev/urandom >"$TMP_DIR/mib"
		sk echo $LO:${XP[echo.stream]} <"$TMP_DIR/mib"
		expect echo.xinetd-1mib same_file "$TMP_DIR/mib"
		sk echo -u $LO:${XP[echo.dgram]} one  two
		expect echo.xinetd-udp same "one two"
		printf 'line 1\nline 2\n' >"$TMP_DIR/in"
		sk echo -u $LO:${XP[echo.dgram]} <"$TMP_DIR/in"
		expect echo.xinetd-udp-stdin same_file "$TMP_DIR/in"
	fi
fi

# ---- clients ------------------------------------------------------------------

# The seed's server: our client and the seed's client see the same list.
port=$(free_port)
have python3 &&
	start_bg python3 "$PEERS/client_list.py" $LO "$port" 40 >/dev/null 2>&1
if ! have python3; then
	:
elif listening "$port"; then
	sk clients $LO:$port
	seed_list() {
		[ "$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(sorted(d), d["name"]["address"])' "$OUT" 2>&1)" = "['name'] 127.0.0.1" ]
	}
	expect clients.seed seed_list
	# Names that make the list pass 1024 bytes, the seed client's limit.
	for i in $(seq 1 30); do
		timeout 10 python3 "$PEERS/client_list.py" -c \
			-n "client-$i-$(printf '%040d' "$i")" $LO "$port" \
			>/dev/null 2>&1
	done
	sk clients -n 'quote " backslash \ tab	end' $LO:$port
	# Python's own indented dump of what we printed must be what we
	# printed: the layout is json.dumps(indent=4)'s.
	python3 -c 'import json, sys
sys.stdout.write(json.dumps(json.load(open(sys.argv[1])), indent=4) + "\n")' \
		"$OUT" >"$TMP_DIR/py" 2>&1
	long_list() {
		[ "$(wc -c <"$OUT")" -gt 1024 ] &&
			[ "$(grep -c '"name": "' "$OUT")" = 32 ] &&
			same_file "$TMP_DIR/py"
	}
	expect clients.over-1024 long_list
else
	fail clients.seed "the seed's server did not start"
fi

# Replies that are not JSON, from a server that reads the name first.
while IFS='|' read -r name text regex; do
	serve_py reply "$(hex_of "$text")" 1 || continue
	sk clients $LO:$PORT
	fails "clients.invalid.$name" 1 "^sock: invalid JSON from 127\.0\.0\.1:$PORT at byte $regex"
	[ -s "$OUT" ] && fail "clients.invalid.$name.output" "$(show "$OUT")"
done <<'EOF'
truncated|{"a": {"name": "a", "addr|[0-9]+: unterminated string$
extra|{"a": 1} x|9: extra data after the value$
colon|{"a" 1}|5: expected ':'$
comma|[1 2]|3: expected ',' or '\]'$
escape|["\q"]|3: invalid escape in string$
number|[01]|2: expected ',' or '\]'$
literal|[tru]|1: expected a value$
html|<html>|0: expected a value$
EOF
if serve_py reply "7b2261223a2022ff227d" 1; then
	sk clients $LO:$PORT
	fails clients.invalid.utf8 1 "at byte 7: invalid UTF-8 in string$"
fi
if serve_py reply "5b2201225d" 1; then
	sk clients $LO:$PORT
	fails clients.invalid.control 1 "at byte 2: control character in string$"
fi
if serve_py reply "" 1; then
	sk clients $LO:$PORT
	fails clients.empty 1 "^sock: 127\.0\.0\.1:$PORT closed without sending the list$"
fi

# The layout of every kind of value, as Python lays it out.
doc='{"e": {}, "a": [], "n": [1, -2.5, 0.25, 1e+300, true, false, null, "s\"\\\u00e9"], "o": {"k": [[], {}, [1]]}}'
if serve_py reply "$(hex_of "$doc")" 1; then
	sk clients $LO:$PORT
	python3 -c 'import json, sys
print(json.dumps(json.loads(sys.argv[1]), indent=4))' "$doc" >"$TMP_DIR/py"
	expect clients.layout same_file "$TMP_DIR/py"
fi
# Non-ASCII text is kept as it came, not re-escaped.
if serve_py reply "$(hex_of '{"caf\u00e9": "café"}')" 1; then
	sk clients $LO:$PORT
	expect clients.utf8 same "$(printf '{\n    "caf\\u00e9": "café"\n}')"
fi
# A list that does not end: the time allowed runs out.
if serve_py stall "$(hex_of '{"a": ')" 1; then
	sk clients -w 0.5 $LO:$PORT
	fails clients.unended 1 "^sock: 127\.0\.0\.1:$PORT: the list did not end within 0\.5 s$"
fi
# A 2 MiB list, in many pieces.
have python3 && python3 -c 'import json
print(json.dumps({"n%06d" % i: {"name": "n%06d" % i, "address": "127.0.0.1",
      "port": i} for i in range(30000)}), end="")' >"$TMP_DIR/big.json"
if serve_py reply "@$TMP_DIR/big.json" 1; then
	sk clients $LO:$PORT
	python3 -c 'import json, sys
print(json.dumps(json.load(open(sys.argv[1])), indent=4))' \
		"$TMP_DIR/big.json" >"$TMP_DIR/py"
	expect clients.big same_file "$TMP_DIR/py"
fi

# A list past the bound: refused, not held.
{ printf '["'; head -c $((65 << 20)) /dev/zero | tr '\0' a; printf '"]'; } \
	>"$TMP_DIR/huge.json"
if serve_py reply "@$TMP_DIR/huge.json" 1; then
	sk clients $LO:$PORT
	fails clients.too-big 1 "^sock: 127\.0\.0\.1:$PORT sent a list longer than 64 MiB$"
fi
rm -f "$TMP_DIR/huge.json"

# ---- chat -------------------------------------------------------------------

if have socat; then
	# A one-person room: a welcome, each line answered, a goodbye after
	# the client's last line.
	port=$(free_port)
	start_bg socat TCP-LISTEN:"$port",bind=$LO,reuseaddr \
		SYSTEM:'echo welcome; while read -r l; do echo "you said: $l"; done; echo bye' \
		>/dev/null 2>&1
	if listening "$port"; then
		sk chat $LO:$port < <(printf 'hello\nsecond line\n')
		expect chat.socat same "$(printf 'welcome\nyou said: hello\nyou said: second line\nbye')"
	fi
	# A room that closes while standard input stays open: chat ends.
	port=$(free_port)
	start_bg socat TCP-LISTEN:"$port",bind=$LO,reuseaddr \
		SYSTEM:'echo closing' >/dev/null 2>&1
	if listening "$port"; then
		sk chat $LO:$port < <(exec sleep 20 >/dev/null 2>&1)
		expect chat.server-closes same closing
		((MS < 5000)) && pass chat.server-closes.duration ||
			fail chat.server-closes.duration "$MS ms"
	fi
else
	skip chat.socat "socat is not installed"
fi

# A room of several people, in python3: each line goes to the others,
# prefixed with its sender's name (its first line).
cat >"$TMP_DIR/room.py" <<'EOF'
import selectors, socket, sys
sel = selectors.DefaultSelector()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(8)
sel.register(s, selectors.EVENT_READ)
names, bufs, joined = {}, {}, 0
while joined < 2 or names:
    for key, _ in sel.select():
        if key.fileobj is s:
            c, _ = s.accept()
            sel.register(c, selectors.EVENT_READ)
            names[c], bufs[c] = None, b''
            joined += 1
            print('join', flush=True)
            continue
        c = key.fileobj
        data = c.recv(4096)
        if not data:
            sel.unregister(c)
            c.close()
            del names[c]
            continue
        bufs[c] += data
        while b'\n' in bufs[c]:
            line, bufs[c] = bufs[c].split(b'\n', 1)
            if names[c] is None:
                names[c] = line
                continue
            for o in names:
                if o is not c:
                    o.sendall(names[c] + b': ' + line + b'\n')
EOF
port=$(free_port)
have python3 &&
	start_bg python3 "$TMP_DIR/room.py" "$port" >"$TMP_DIR/room.log" 2>&1
if have python3 && listening "$port"; then
	# B listens for 3 s; A joins once B is in, speaks and leaves.
	start_bg sh -c '{ echo bob; sleep 3; } | exec "$0" chat "$1"' \
		"$SOCK" $LO:"$port" >"$TMP_DIR/bob" 2>&1
	bob=$BG_PID
	for _ in $(seq 100); do
		[ "$(grep -c join "$TMP_DIR/room.log")" = 1 ] && break
		sleep 0.05
	done
	sk chat $LO:$port < <(printf 'alice\nhi bob\nbye bob\n')
	expect chat.room.alice
	wait_bg "$bob" 10
	rc=$?
	[ "$rc" = 0 ] && check_eq chat.room.bob \
		"$(printf 'alice: hi bob\nalice: bye bob')" "$(cat "$TMP_DIR/bob")" ||
		fail chat.room.bob "status $rc: $(show "$TMP_DIR/bob")"
fi

finish

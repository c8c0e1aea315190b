#!/usr/bin/env bash
# serve_log_test.sh -- sock serve's log, text and JSON, against peers that choose their own address
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need python3

# A Unix client that binds to a path holding a newline, a line of its own
# that looks like the server's, a quote, an escape sequence, a byte that
# is not UTF-8, the text of an escape (a backslash, x0a) and a
# right-to-left override, then talks to echo on the Unix socket at $1.
HOSTILE='
import os, socket, sys
base = os.path.join(os.environ["TMP_DIR"], "c")
name = (base.encode() + b"\nclose echo 6.6.6.6:66 in=0 out=0 ms=0\"\x1b[2J\xff"
        + b"\\x0a\xe2\x80\xae")
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.bind(name)
s.connect(sys.argv[1])
s.sendall(b"hostile")
got = b""
while len(got) < 7:
    b = s.recv(64)
    if not b:
        break
    got += b
s.close()
os.unlink(name)
sys.exit(0 if got == b"hostile" else 1)
'
export TMP_DIR

# ---- text ----

LOG=$TMP_DIR/text.log
USOCK=$TMP_DIR/echo.sock
serve_start "$LOG" 1 echo="$USOCK" --tcp-only ||
	{ fail start_text "sock serve did not start"; finish; }
if python3 -c "$HOSTILE" "$USOCK"; then
	pass text_hostile_peer_served
else
	fail text_hostile_peer_served "no echo"
fi
serve_stop
# The accept line names the path with its newline and controls escaped:
# the peer cannot add a line of its own or reach the terminal.
if grep -q '6\.6\.6\.6' "$LOG" && ! grep -q '^close echo 6\.6\.6\.6' "$LOG" &&
	! grep -q ' close echo 6\.6\.6\.6' <(grep -v ' accept ' "$LOG") &&
	grep -qF 'c\x0aclose\x20echo\x206.6.6.6:66\x20in=0\x20out=0\x20ms=0"\x1b[2J\xff\x5cx0a\xe2\x80\xae' "$LOG" &&
	! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$LOG"; then
	pass text_peer_cannot_forge_a_line
else
	fail text_peer_cannot_forge_a_line "$(cat -v "$LOG")"
fi

# ---- JSON ----

LOG=$TMP_DIR/json.log
USOCK=$TMP_DIR/echo2.sock
# Two listeners for echo (TCP and UDP), one Unix, and a cap of one
# connection so that a second client meets the limit.
start_bg "$SOCK" serve --log-format json --max-conns 1 echo=0 \
	echo="$USOCK" 2>"$LOG"
SERVE_BG=$BG_PID
SERVE_LOGS+=("$LOG")
for _ in $(seq $((LIB_WAIT * 20))); do
	[ "$(grep -c '"event":"listen"' "$LOG")" -ge 3 ] && break
	kill -0 "$SERVE_BG" 2>/dev/null || break
	sleep 0.05
done
serve_child
TCP_PORT=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["event"] == "listen" and o.get("transport") == "tcp":
        print(o["addr"].rsplit(":", 1)[1])' "$LOG" 2>/dev/null)
if [ -z "$TCP_PORT" ]; then
	fail start_json "$(cat "$LOG")"
	serve_finish
fi
python3 -c "$HOSTILE" "$USOCK" || fail json_hostile_peer_served "no echo"
# 100000 bytes through TCP echo while a second connection is turned
# away by the cap (it is held while the first one is open).
python3 - "$TCP_PORT" 2>"$TMP_DIR/load.err" <<'EOF' || fail json_load "$(cat "$TMP_DIR/load.err")"
import socket, sys, time
port = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", port), timeout=10)
a.sendall(b"x")
assert a.recv(1) == b"x"
b = socket.create_connection(("127.0.0.1", port), timeout=10)
time.sleep(0.3)
b.close()
data = b"y" * 99999
a.sendall(data)
got = 0
while got < len(data):
    n = len(a.recv(65536))
    assert n
    got += n
a.close()
EOF
# The server writes its close line after the client has gone.
for _ in $(seq $((LIB_WAIT * 20))); do
	[ "$(grep -c '"event":"close"' "$LOG")" -ge 2 ] && break
	sleep 0.05
done
serve_stop
check_eq json_sigterm_exit_status 0 $?

python3 - "$LOG" "$TCP_PORT" 2>"$TMP_DIR/json.err" <<'EOF'
import json, re, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "the log does not end with a newline"
events = []
for raw in lines[:-1]:
    text = raw.decode("utf-8")  # strict: the log is UTF-8
    o = json.loads(text)
    assert isinstance(o, dict), text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), text
    assert all(ord(c) >= 0x20 for v in o.values() if isinstance(v, str)
               for c in v), "a control character in " + text
    events.append(o)
kinds = [o["event"] for o in events]
assert kinds[0] == "engine" and "stop" in kinds, kinds
listens = [o for o in events if o["event"] == "listen"]
assert sorted(o["transport"] for o in listens) == ["tcp", "udp", "unix"], listens
assert all(o["service"] == "echo" for o in listens), listens
# The hostile peer: one accept naming it escaped, and nothing forged.
accepts = [o for o in events if o["event"] == "accept"]
assert any(o["peer"].endswith(r'\x0aclose\x20echo\x206.6.6.6:66\x20in=0\x20out=0'
                              r'\x20ms=0"\x1b[2J\xff\x5cx0a\xe2\x80\xae')
           for o in accepts), accepts
# The first TCP client: 1 + 99999 bytes each way, in its close event
# (the second, taken once the first had gone, sent nothing).
tcp = [o for o in events if o["event"] == "close" and o["peer"].startswith("127.0.0.1:")]
tcp = [o for o in tcp if o["in"] or o["out"]]
assert len(tcp) == 1, tcp
assert tcp[0]["in"] == 100000 and tcp[0]["out"] == 100000, tcp
assert isinstance(tcp[0]["ms"], int) and tcp[0]["ms"] >= 300, tcp
assert "error" not in tcp[0], tcp
# The second client met the cap.
limits = [o for o in events if o["event"] == "limit"]
assert any(o["what"] == "max-connections" and o["count"] >= 1
           for o in limits), limits
EOF
if [ $? = 0 ]; then
	pass json_one_object_per_event
else
	fail json_one_object_per_event "$(tail -n 3 "$TMP_DIR/json.err"; head -c 3000 "$LOG")"
fi

# ---- a log that cannot be written ----

# Standard error on a full disk (/dev/full: every write fails with
# ENOSPC), then a pipe whose reader has gone (EPIPE): the server serves
# as before and stops cleanly.
for where in full pipe; do
	for fmt in text json; do
		port=$(free_port)
		if [ $where = full ]; then
			start_bg "$SOCK" serve --log-format $fmt --tcp-only \
				echo="$port" 2>/dev/full
		else
			start_bg "$SOCK" serve --log-format $fmt --tcp-only \
				echo="$port" 2> >(head -c 1 >/dev/null)
		fi
		SERVE_BG=$BG_PID
		wait_port "$port"
		serve_child
		if python3 - "$port" <<'EOF'
import socket, sys
for i in range(20):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    want = b"still served %d" % i
    s.sendall(want)
    got = b""
    while len(got) < len(want):
        b = s.recv(64)
        assert b, "closed"
        got += b
    assert got == want, got
    s.close()
EOF
		then
			serve_stop
			check_eq "log_on_${where}_${fmt}_costs_nothing" 0 $?
		else
			fail "log_on_${where}_${fmt}_costs_nothing" "echo failed"
			serve_stop
		fi
	done
done

# ---- the option ----

"$SOCK" serve --log-format xml echo=0 2>"$TMP_DIR/bad.err"
rc=$?
if [ $rc = 2 ] && grep -q "log-format is text or json, not 'xml'" "$TMP_DIR/bad.err"; then
	pass bad_log_format_is_a_usage_error
else
	fail bad_log_format_is_a_usage_error "exit $rc: $(cat "$TMP_DIR/bad.err")"
fi

serve_finish

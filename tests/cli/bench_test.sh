#!/usr/bin/env bash
# bench_test.sh -- sock bench runs each workload and its output is well formed; make bench's driver works
#
# Short smoke runs (about a second each) against `sock serve` and small
# Python peers on free loopback ports; no speed is asserted.  The text and
# JSON outputs are parsed with python3.  Last, bench/run.py runs in its
# quick mode (one workload, one run) and its markdown table is checked.

. "$(dirname "$0")/lib.sh"

need python3
SOCK=$SOCK_BUILD/sock

if "$SOCK" bench --help >/dev/null 2>&1; then
	BENCH=("$SOCK" bench)
elif [ -n "${SOCK_BENCH_CMD:-}" ]; then
	read -r -a BENCH <<<"$SOCK_BENCH_CMD"
else
	skip all "sock has no bench command yet (cli/main.c's table)"
	finish
fi
SHORT=(-d 0.5 -w 0.2)

# The server's own PID (start_bg runs it under timeout(1)).
child_of() {
	local pid

	for _ in $(seq 40); do
		pid=$(ps -o pid= --ppid "$1" | head -n 1 | tr -d ' ')
		[ -n "$pid" ] && { echo "$pid"; return 0; }
		sleep 0.05
	done
	return 1
}

# json_check NAME FILE PYTHON-EXPRESSION: the expression, over the parsed
# object d, must be true.
json_check() {
	local why

	if why=$(python3 - "$2" "$3" 2>&1 <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
lines = [l for l in text.splitlines() if l.strip()]
assert len(lines) == 1, "expected one line of JSON, got %d" % len(lines)
d = json.loads(lines[0])
ok = eval("(" + sys.argv[2] + ")", {"d": d})
assert ok, "false: %s in %s" % (sys.argv[2], lines[0][:600])
EOF
	); then
		pass "$1"
	else
		fail "$1" "$(echo "$why" | tail -n 1)"
	fi
}

# ---- the command line ----

out=$("${BENCH[@]}" --help 2>&1)
rc=$?
missing=
for word in pingpong connrate udp bulk-send bulk-recv hold --json \
	--duration --warmup --allow-remote --server-pid --expect-time --tls \
	--cafile --insecure; do
	case "$out" in *"$word"*) ;; *) missing="$missing $word" ;; esac
done
if [ "$rc" = 0 ] && [ -z "$missing" ]; then
	pass help_documents_every_mode_and_option
else
	fail help_documents_every_mode_and_option "rc $rc, missing:$missing"
fi

"${BENCH[@]}" >/dev/null 2>&1
check_eq no_mode_is_a_usage_error 2 $?
"${BENCH[@]}" pingpong >/dev/null 2>&1
check_eq missing_target_is_a_usage_error 2 $?
"${BENCH[@]}" fly 127.0.0.1:7 >/dev/null 2>&1
check_eq unknown_mode_is_a_usage_error 2 $?
"${BENCH[@]}" udp -s 4 127.0.0.1:7 >/dev/null 2>&1
check_eq udp_size_below_the_id_is_a_usage_error 2 $?
# Refused before any packet is sent: the address is not loopback.
err=$("${BENCH[@]}" pingpong -d 0.1 192.0.2.1:7 2>&1 >/dev/null)
rc=$?
case "$rc:$err" in
2:*allow-remote*) pass remote_target_needs_allow_remote ;;
*) fail remote_target_needs_allow_remote "rc $rc: $err" ;;
esac

# ---- --tls: against sock serve --tls-cert ----

if have openssl && "$SOCK_SRC/tests/tls/certs.sh" "$TMP_DIR/certs" >/dev/null 2>&1; then
	C=$TMP_DIR/certs
	P_TLS=$(free_port) P_TLS_SINK=$(free_port) P_TLS_GEN=$(free_port)
	start_bg "$SOCK" serve --quiet --tls-cert "$C/leaf.pem" --tls-key "$C/leaf.key" \
		echo=127.0.0.1:"$P_TLS" discard=127.0.0.1:"$P_TLS_SINK" \
		chargen=127.0.0.1:"$P_TLS_GEN" >"$TMP_DIR/serve-tls.log" 2>&1
	TLS_BG=$BG_PID
	if wait_port "$P_TLS" && wait_port "$P_TLS_GEN"; then
		TLS=(--tls --cafile "$C/ca.pem")
		"${BENCH[@]}" pingpong -c 4 -p 2 -s 3000 "${SHORT[@]}" "${TLS[@]}" --json \
			127.0.0.1:"$P_TLS" >"$TMP_DIR/tls-pp.json"
		json_check tls_pingpong_verifies_every_byte "$TMP_DIR/tls-pp.json" \
			'd["ops"] > 0 and d["errors"] == 0 and d["mismatches"] == 0
			 and d["bytes"] == d["ops"] * 3000'
		"${BENCH[@]}" connrate -p 4 "${SHORT[@]}" "${TLS[@]}" --json \
			127.0.0.1:"$P_TLS" >"$TMP_DIR/tls-cr.json"
		json_check tls_connrate_counts_handshakes "$TMP_DIR/tls-cr.json" \
			'd["ops"] > 0 and d["errors"] == 0 and d["bytes"] == 0'
		"${BENCH[@]}" bulk-send "${SHORT[@]}" "${TLS[@]}" --json \
			127.0.0.1:"$P_TLS_SINK" >"$TMP_DIR/tls-bs.json"
		json_check tls_bulk_send "$TMP_DIR/tls-bs.json" \
			'd["bytes"] > 0 and d["errors"] == 0'
		"${BENCH[@]}" bulk-recv --check "${SHORT[@]}" "${TLS[@]}" --json \
			127.0.0.1:"$P_TLS_GEN" >"$TMP_DIR/tls-br.json"
		json_check tls_bulk_recv_checks_the_pattern "$TMP_DIR/tls-br.json" \
			'd["bytes"] > 0 and d["errors"] == 0 and d["mismatches"] == 0'
		# Not the CA that signed it: every handshake fails, status 1.
		"${BENCH[@]}" connrate -p 2 "${SHORT[@]}" --tls --json \
			127.0.0.1:"$P_TLS" >"$TMP_DIR/tls-bad.json" 2>/dev/null
		rc=$?
		if [ "$rc" = 1 ]; then
			json_check tls_unverified_server_fails "$TMP_DIR/tls-bad.json" \
				'd["ops"] == 0 and d["errors"] > 0
				 and "certificate verification failed" in d["error"]'
		else
			fail tls_unverified_server_fails "exit status $rc, not 1"
		fi
	else
		fail tls_smoke_runs "sock serve --tls-cert did not start: $(tail -n 2 "$TMP_DIR/serve-tls.log")"
	fi
	kill -TERM "$(child_of "$TLS_BG")" 2>/dev/null
	wait_bg "$TLS_BG" 10
else
	fail tls_smoke_runs "no certificates (openssl missing?)"
fi
"${BENCH[@]}" udp --tls 127.0.0.1:9 >/dev/null 2>&1
check_eq tls_is_not_for_udp 2 $?
"${BENCH[@]}" pingpong --cafile x 127.0.0.1:9 >/dev/null 2>&1
check_eq cafile_needs_tls 2 $?

# ---- smoke runs against sock serve ----

P_ECHO=$(free_port) P_TIME=$(free_port) P_DISCARD=$(free_port)
P_CHARGEN=$(free_port) P_DAYTIME=$(free_port) P_UDP=$(free_port udp)
start_bg "$SOCK" serve --quiet echo=127.0.0.1:"$P_ECHO" \
	time=127.0.0.1:"$P_TIME" discard=127.0.0.1:"$P_DISCARD" \
	chargen=127.0.0.1:"$P_CHARGEN" daytime=127.0.0.1:"$P_DAYTIME" \
	>"$TMP_DIR/serve.log" 2>&1
SERVE_BG=$BG_PID
SERVE_UDP_BG=
start_bg "$SOCK" serve --quiet --udp-only echo=127.0.0.1:"$P_UDP" \
	>"$TMP_DIR/serve-udp.log" 2>&1
SERVE_UDP_BG=$BG_PID
if ! wait_port "$P_ECHO" || ! wait_port "$P_CHARGEN" ||
	! wait_port "$P_UDP" udp; then
	skip smoke_runs "sock serve did not start: $(tail -n 2 "$TMP_DIR"/serve*.log)"
else
	SERVE_PID=$(child_of "$SERVE_BG")

	"${BENCH[@]}" pingpong -c 4 -s 100 "${SHORT[@]}" \
		127.0.0.1:"$P_ECHO" >"$TMP_DIR/pp.txt" 2>"$TMP_DIR/pp.err"
	rc=$?
	if [ "$rc" = 0 ] &&
		grep -Eq '^  messages   [1-9][0-9]* \([0-9]+/s\)' "$TMP_DIR/pp.txt" &&
		grep -Eq '^  latency    p50 .* p99 .* p99\.9 .* max ' "$TMP_DIR/pp.txt" &&
		grep -q '^  errors     0 failed, 0 wrong answers$' "$TMP_DIR/pp.txt" &&
		[ ! -s "$TMP_DIR/pp.err" ]; then
		pass pingpong_text_summary
	else
		fail pingpong_text_summary "rc $rc: $(cat "$TMP_DIR"/pp.txt "$TMP_DIR"/pp.err)"
	fi

	"${BENCH[@]}" pingpong -c 3 -p 4 -s 3000 -t 2 "${SHORT[@]}" --json \
		--server-pid "$SERVE_PID" 127.0.0.1:"$P_ECHO" >"$TMP_DIR/pp.json"
	json_check pingpong_json_counts_verified_messages "$TMP_DIR/pp.json" \
		'd["mode"] == "pingpong" and d["ops"] > 0 and d["errors"] == 0
		 and d["mismatches"] == 0 and d["bytes"] == d["ops"] * 3000
		 and d["threads"] == 2 and d["inflight"] == 4
		 and 0 < d["latency_us"]["p50"] <= d["latency_us"]["p99"]
		 <= d["latency_us"]["max"]
		 and d["latency_us"]["samples"] == d["ops"]
		 and d["server"]["pid"] > 0 and d["server"]["cpu_s"] >= 0
		 and "cpu_us_per_op" in d["server"]'

	"${BENCH[@]}" connrate -p 4 --expect-time "${SHORT[@]}" --json \
		127.0.0.1:"$P_TIME" >"$TMP_DIR/cr.json"
	json_check connrate_checks_rfc868_times "$TMP_DIR/cr.json" \
		'd["mode"] == "connrate" and d["ops"] > 0 and d["mismatches"] == 0
		 and d["bytes"] == 4 * d["ops"] and d["errors"] == 0'

	"${BENCH[@]}" connrate -p 2 --expect-time "${SHORT[@]}" --json \
		127.0.0.1:"$P_DAYTIME" >"$TMP_DIR/cr-bad.json" 2>/dev/null
	rc=$?
	if [ "$rc" = 1 ]; then
		json_check connrate_rejects_a_daytime_answer "$TMP_DIR/cr-bad.json" \
			'd["mismatches"] > 0 and "RFC 868" in d["error"]'
	else
		fail connrate_rejects_a_daytime_answer "exit status $rc, not 1"
	fi

	"${BENCH[@]}" udp -p 8 -s 64 "${SHORT[@]}" --json \
		127.0.0.1:"$P_UDP" >"$TMP_DIR/udp.json"
	json_check udp_counts_answers_and_losses "$TMP_DIR/udp.json" \
		'd["mode"] == "udp" and d["ops"] > 0 and d["mismatches"] == 0
		 and d["lost"] >= 0 and d["late"] >= 0 and d["bytes"] == 64 * d["ops"]'

	"${BENCH[@]}" bulk-send "${SHORT[@]}" --json \
		127.0.0.1:"$P_DISCARD" >"$TMP_DIR/bs.json"
	json_check bulk_send_reports_throughput "$TMP_DIR/bs.json" \
		'd["mode"] == "bulk-send" and d["bytes"] > 0 and d["gb_per_s"] > 0'

	"${BENCH[@]}" bulk-recv --check "${SHORT[@]}" --json \
		127.0.0.1:"$P_CHARGEN" >"$TMP_DIR/br.json"
	json_check bulk_recv_checks_the_chargen_pattern "$TMP_DIR/br.json" \
		'd["bytes"] > 0 and d["mismatches"] == 0 and d["errors"] == 0'

	"${BENCH[@]}" hold -c 40 -d 0.6 --json --server-pid "$SERVE_PID" \
		127.0.0.1:"$P_ECHO" >"$TMP_DIR/hold.json"
	json_check hold_keeps_connections_and_reads_memory "$TMP_DIR/hold.json" \
		'd["mode"] == "hold" and d["established"] == 40
		 and d["server"]["held"] == 40 and "bytes_per_conn" in d["server"]'
fi

# ---- verification can fail: a peer that corrupts one byte ----

P_BAD=$(free_port)
start_bg python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
c, _ = s.accept()
seen = 0
while True:
    data = bytearray(c.recv(65536))
    if not data:
        break
    if seen <= 1000 < seen + len(data):
        data[1000 - seen] ^= 0x55
    seen += len(data)
    c.sendall(data)
' "$P_BAD" >/dev/null 2>&1
if wait_port "$P_BAD"; then
	"${BENCH[@]}" pingpong -c 1 -s 64 -d 1 -w 0 --json \
		127.0.0.1:"$P_BAD" >"$TMP_DIR/bad.json" 2>/dev/null
	rc=$?
	if [ "$rc" = 1 ]; then
		json_check pingpong_catches_a_corrupted_byte "$TMP_DIR/bad.json" \
			'd["mismatches"] == 1 and "byte 1000 " in d["error"]'
	else
		fail pingpong_catches_a_corrupted_byte "exit status $rc, not 1"
	fi
else
	fail pingpong_catches_a_corrupted_byte "the python peer did not start"
fi

# ---- make bench's driver, quick mode ----

export SOCK_BENCH_CMD="${BENCH[*]}"
if BENCH_QUICK=1 timeout 120 python3 "$SOCK_SRC/bench/run.py" \
	--build "$SOCK_BUILD" --out "$TMP_DIR/perf.md" \
	>"$TMP_DIR/run.log" 2>&1; then
	pass driver_quick_mode_runs
else
	fail driver_quick_mode_runs "$(tail -n 3 "$TMP_DIR/run.log")"
fi
if [ -f "$TMP_DIR/perf.md" ] && why=$(python3 - "$TMP_DIR/perf.md" \
	"$SOCK_BUILD" 2>&1 <<'EOF'
import os, sys
text = open(sys.argv[1]).read()
assert text.startswith("# libsock performance"), "no title"
for part in ("## Machine", "## Targets", "## Results", "## Commands"):
    assert part in text, "no " + part
tables, cur = [], None
for line in text.splitlines():
    if line.startswith("|"):
        if cur is None:
            cur = []
            tables.append(cur)
        cur.append(line)
    else:
        cur = None
assert len(tables) >= 2, "expected the targets and a results table"
for t in tables:
    assert len(t) >= 3, "a table without rows: %r" % t
    n = t[0].count("|")
    assert set(t[1].replace("|", "")) == {"-"}, "bad separator: " + t[1]
    for row in t:
        assert row.endswith("|") and row.count("|") == n, "ragged: " + row
results = [t for t in tables if "server" in t[0]]
assert results, "no results table"
rows = {r.split("|")[1].strip(): r for r in results[0][2:]}
assert "hand-written epoll" in rows, "no reference row"
assert any(k.startswith("sock serve (epoll)") for k in rows), "no libsock row"
if os.path.exists(os.path.join(sys.argv[2], "bench", "epoll_echo")):
    assert "n/a" not in rows["hand-written epoll"], rows["hand-written epoll"]
EOF
); then
	pass driver_writes_a_well_formed_markdown_table
else
	fail driver_writes_a_well_formed_markdown_table "$(echo "$why" | tail -n 1)"
fi

finish

#!/usr/bin/env bash
# serve_stats_test.sh -- sock serve --stats ADDR and sock stats: the counters of a known load, both engines, two workers
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need python3

# One run: 5 echo connections of 64 bytes from 127.0.0.1, 2 from the
# denied 127.0.0.2, 3 datagrams; then sock stats must say exactly that.
run_case() {
	local engine=$1 log=$TMP_DIR/serve-$1.log stats=$TMP_DIR/stats-$1.sock
	local port

	if [ "$engine" = io_uring ] && ! "$SOCK" serve --help 2>&1 | grep -q io_uring; then
		skip "stats_$engine" "no io_uring engine in this build"
		return
	fi
	serve_start "$log" 3 --engine "$engine" --workers 2 --deny 127.0.0.2 \
		--stats "$stats" echo=127.0.0.1:0 ||
		{ fail "start_$engine" "sock serve did not start"; return; }
	port=$(port_of "$log" echo tcp)
	python3 - "$port" >"$TMP_DIR/load.out" 2>&1 <<'EOF'
import socket, sys
port = int(sys.argv[1])
for src, n in (("127.0.0.1", 5), ("127.0.0.2", 2)):
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        try:
            s.sendall(b"x" * 64)
            got = b""
            while len(got) < 64:
                b = s.recv(64)
                if not b:
                    break
                got += b
            s.shutdown(socket.SHUT_WR)
            s.recv(1)
        except OSError:
            if src == "127.0.0.1":
                raise  # only the denied host's connections end early
        s.close()
for _ in range(3):
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    d.settimeout(5)
    d.sendto(b"datagram", ("127.0.0.1", port))
    d.recv(64)
    d.close()
EOF
	[ -s "$TMP_DIR/load.out" ] && fail "load_$engine" "$(show "$TMP_DIR/load.out")"
	# The counts are read once the last close was logged.
	for _ in $(seq 100); do
		[ "$(grep -c ' close echo ' "$log")" -ge 5 ] && break
		sleep 0.05
	done
	"$SOCK" stats "$stats" >"$TMP_DIR/stats.json" 2>"$TMP_DIR/stats.err"
	python3 - "$TMP_DIR/stats.json" >"$TMP_DIR/check.out" 2>&1 <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
bad = []
def want(where, c, **kw):
    for k, v in kw.items():
        if c.get(k) != v:
            bad.append("%s %s=%r, want %r" % (where, k, c.get(k), v))
tcp = [l for l in s["listeners"] if l["transport"] == "tcp"]
udp = [l for l in s["listeners"] if l["transport"] == "udp"]
if len(tcp) != 1 or len(udp) != 1:
    bad.append("listeners: %r" % s["listeners"])
else:
    want("tcp", tcp[0], accepted=5, closed=5, open=0, bytes_in=320,
         bytes_out=320, access=2, dgrams_in=0)
    want("udp", udp[0], dgrams_in=3, dgrams_out=3, accepted=0)
# The total holds this very connection to the stats listener too.
want("total", s["total"], accepted=6, closed=5, open=1, access=2,
     dgrams_in=3, dgrams_out=3, errors=0)
if len(s["loops"]) != 2 or not all(l["busy_us"] + l["idle_us"] > 0
                                   for l in s["loops"]):
    bad.append("loops: %r" % s["loops"])
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
	if [ $? = 0 ]; then
		pass "stats_$engine"
	else
		fail "stats_$engine" "$(show "$TMP_DIR/check.out") $(show "$TMP_DIR/stats.err")"
	fi
	# The table: two readings, each with the total and both listeners
	# (the echo listener's row: 0 open, 5 accepted), and the loops.
	timeout 30 "$SOCK" stats -w 0.2 -c 2 "$stats" >"$TMP_DIR/table.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(grep -c '^listener ' "$TMP_DIR/table.out")" = 2 ] &&
		[ "$(grep -Ec '^echo tcp 127\.0\.0\.1:[0-9]+ +0 +5 ' "$TMP_DIR/table.out")" = 2 ] &&
		[ "$(grep -c '^echo udp ' "$TMP_DIR/table.out")" = 2 ] &&
		[ "$(grep -Ec '^loop [01]: [0-9.]+% busy$' "$TMP_DIR/table.out")" = 4 ] &&
		grep -Eq '^total .*/s' "$TMP_DIR/table.out"; then
		pass "stats_table_$engine"
	else
		fail "stats_table_$engine" "exit $rc: $(show "$TMP_DIR/table.out")"
	fi
	serve_stop
}

run_case epoll
run_case io_uring

# Not a stats address: a clear error, status 1.
"$SOCK" stats "$TMP_DIR/nothing.sock" >/dev/null 2>"$TMP_DIR/none.err"
rc=$?
if [ $rc = 1 ] && grep -q "^sock: cannot connect to $TMP_DIR/nothing.sock: " "$TMP_DIR/none.err"; then
	pass stats_of_nothing
else
	fail stats_of_nothing "exit $rc: $(show "$TMP_DIR/none.err")"
fi
"$SOCK" stats >/dev/null 2>"$TMP_DIR/usage.err"
check_eq stats_without_address 2 $?
"$SOCK" stats -c 2 "$TMP_DIR/nothing.sock" >/dev/null 2>"$TMP_DIR/usage.err"
check_eq stats_count_without_w 2 $?

serve_finish

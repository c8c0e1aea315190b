#!/usr/bin/env bash
# serve_access_test.sh -- sock serve --allow and --deny, over TCP and UDP, from several loopback hosts
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need python3

LOG=$TMP_DIR/serve.log
USOCK=$TMP_DIR/echo.sock
# 127.0.0.2 denied inside the allowed 127.0.0.0/30; 127.0.0.4 outside it.
# The Unix listener is not an IP one: the ranges leave it alone.
serve_start "$LOG" 3 --deny 127.0.0.2 --allow 127.0.0.0/30 --allow ::1 \
	echo=0 echo="$USOCK" ||
	{ fail start "sock serve did not start"; serve_finish; }
TCP=$(port_of "$LOG" echo tcp)
UDP=$(port_of "$LOG" echo udp)

python3 - "$TCP" "$UDP" "$USOCK" 2>"$TMP_DIR/peers.err" <<'EOF'
import socket, sys
tcp, udp, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
want = {"127.0.0.1": True, "127.0.0.2": False, "127.0.0.3": True,
        "127.0.0.4": False}
bad = []
for src, ok in want.items():
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("127.0.0.1", tcp))
    try:
        s.sendall(b"ping")
        got = s.recv(16)
    except ConnectionResetError:
        got = b""
    if (got == b"ping") != ok:
        bad.append("tcp from %s: %r" % (src, got))
    s.close()
# Datagrams: the denied ones first, then an allowed one from the same
# socket of each host: once that is answered, the others were read.
for src, ok in want.items():
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    d.settimeout(2)
    d.bind((src, 0))
    d.sendto(b"dgram", ("127.0.0.1", udp))
    try:
        got = d.recv(16)
    except socket.timeout:
        got = b""
    if (got == b"dgram") != ok:
        bad.append("udp from %s: %r" % (src, got))
    d.close()
u = socket.socket(socket.AF_UNIX)
u.settimeout(5)
u.connect(path)
u.sendall(b"unix")
if u.recv(16) != b"unix":
    bad.append("unix client not served")
u.close()
if bad:
    print("    " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
EOF
if [ $? = 0 ]; then
	pass ranges_decide_tcp_and_udp
else
	fail ranges_decide_tcp_and_udp "$(cat "$TMP_DIR/peers.err")"
fi

serve_stop
check_eq sigterm_exit_status 0 $?
if grep -Eq ' limit echo access 127\.0\.0\.2:[0-9]+: permission denied' "$LOG" &&
	grep -Eq ' limit echo access (127\.0\.0\.4:[0-9]+|-): permission denied' "$LOG" &&
	! grep -Eq ' accept echo 127\.0\.0\.[24]:' "$LOG"; then
	pass refusals_logged_never_accepted
else
	fail refusals_logged_never_accepted "$(cat "$LOG")"
fi

# A range that is not one: one line naming it, exit status 1, nothing
# served.
for bad in 10.0.0.1/8 10.0.0.0/33 example.org; do
	"$SOCK" serve --allow "$bad" echo=0 2>"$TMP_DIR/bad.err"
	rc=$?
	if [ $rc = 1 ] && [ "$(wc -l <"$TMP_DIR/bad.err")" = 1 ] &&
		grep -qF -- "--allow '$bad' is not an address range" "$TMP_DIR/bad.err"; then
		pass "bad_range_${bad//[^a-z0-9]/_}"
	else
		fail "bad_range_${bad//[^a-z0-9]/_}" "exit $rc: $(cat "$TMP_DIR/bad.err")"
	fi
done

serve_finish

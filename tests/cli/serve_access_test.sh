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

# ---- dual stack ----

# echo on [::]: IPv6-only unless --dual-stack; with it, IPv4 peers are
# served over TCP and UDP and logged as IPv4, and an IPv4 deny range
# holds them.
if python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	for mode in v6only dual; do
		LOG6=$TMP_DIR/serve6_$mode.log
		opt=()
		[ $mode = dual ] && opt=(--dual-stack --deny 127.0.0.2)
		serve_start "$LOG6" 2 "${opt[@]}" 'echo=[::]:0' ||
			{ fail "start_$mode" "$(cat "$LOG6")"; continue; }
		TCP6=$(port_of "$LOG6" echo tcp)
		UDP6=$(port_of "$LOG6" echo udp)
		python3 - "$TCP6" "$UDP6" "$mode" 2>"$TMP_DIR/dual.err" <<'EOF'
import socket, sys
tcp, udp, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def tcp_from(src):
    s = socket.socket()
    s.settimeout(5)
    s.bind((src, 0))
    try:
        s.connect(("127.0.0.1", tcp))
        s.sendall(b"v4")
        return s.recv(16)
    except (ConnectionRefusedError, ConnectionResetError):
        return None
    finally:
        s.close()
def udp_from(src):
    d = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    d.settimeout(2)
    d.bind((src, 0))
    d.sendto(b"v4", ("127.0.0.1", udp))
    try:
        return d.recv(16)
    except (socket.timeout, ConnectionRefusedError):
        return None
    finally:
        d.close()
got = (tcp_from("127.0.0.1"), udp_from("127.0.0.1"))
if mode == "v6only":
    assert got == (None, None), got
else:
    assert got == (b"v4", b"v4"), got
    assert tcp_from("127.0.0.2") in (None, b""), "127.0.0.2 served"
    assert udp_from("127.0.0.2") is None, "127.0.0.2 answered"
EOF
		if [ $? = 0 ]; then
			pass "ipv4_peers_$mode"
		else
			fail "ipv4_peers_$mode" "$(cat "$TMP_DIR/dual.err")"
		fi
		serve_stop
		if [ $mode = dual ]; then
			if grep -Eq ' accept echo 127\.0\.0\.1:[0-9]+$' "$LOG6" &&
				grep -Eq ' limit echo access 127\.0\.0\.2:' "$LOG6" &&
				! grep -q 'ffff' "$LOG6"; then
				pass dual_stack_peers_logged_as_ipv4
			else
				fail dual_stack_peers_logged_as_ipv4 "$(cat "$LOG6")"
			fi
		fi
	done
else
	skip dual_stack "no IPv6 loopback here"
fi

# ---- connections accepted by someone else ----

# inetd (nowait) and systemd (Accept=yes) pass a connection already
# accepted: the ranges cannot decide about it, and serving it anyway
# would let a denied peer through.  Refused together: exit 2, one line,
# the client served nothing.
python3 - "$SOCK" 2>"$TMP_DIR/passed.err" <<'EOF'
import os, socket, subprocess, sys
sock = sys.argv[1]
bad = []
for how in ("inetd", "systemd"):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    cli = socket.create_connection(srv.getsockname(), timeout=10)
    conn, _ = srv.accept()
    srv.close()
    cli.sendall(b"denied peer\n")
    if how == "inetd":
        p = subprocess.Popen([sock, "serve", "--inetd", "echo", "--deny",
                              "127.0.0.0/8"], stdin=conn,
                             stderr=subprocess.PIPE)
    else:
        os.dup2(conn.fileno(), 3)
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="echo")
        p = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ exec "$0" serve '
                              '--deny 127.0.0.0/8', sock], pass_fds=(3,),
                             env=env, stderr=subprocess.PIPE)
        os.close(3)
    conn.close()
    try:
        err = p.communicate(timeout=10)[1].decode()
    except subprocess.TimeoutExpired:
        p.kill()
        bad.append("%s: still running" % how)
        continue
    try:
        got = cli.recv(64)
    except ConnectionResetError:  # closed with our bytes unread
        got = b""
    cli.close()
    if p.returncode != 2 or got or err.count("\n") != 1 or \
            "apply to listeners" not in err:
        bad.append("%s: exit %d, client got %r, stderr %r"
                   % (how, p.returncode, got, err))
if bad:
    print("    " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
EOF
if [ $? = 0 ]; then
	pass passed_connections_refused_with_ranges
else
	fail passed_connections_refused_with_ranges "$(cat "$TMP_DIR/passed.err")"
fi

# Ranges with no TCP or UDP listener to hold them protect nothing.
"$SOCK" serve --allow 10.0.0.0/8 echo=@sock-access-test-$$ 2>"$TMP_DIR/none.err"
rc=$?
if [ $rc = 2 ] && grep -q "there is none" "$TMP_DIR/none.err"; then
	pass ranges_without_ip_listener_refused
else
	fail ranges_without_ip_listener_refused "exit $rc: $(cat "$TMP_DIR/none.err")"
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

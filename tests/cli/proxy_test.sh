#!/usr/bin/env bash
# proxy_test.sh -- sock serve --proxy-protocol behind a real HAProxy (send-proxy, send-proxy-v2), and refusals
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

# HAProxy listens on two loopback ports, one forwarding with a version 1
# header and one with version 2, both to sock serve's echo and clients
# services, which believe headers from 127.0.0.1 only.  Clients connect
# to HAProxy from other loopback hosts (127.0.0.5, 127.0.0.6): sock
# serve must log those as the peers, not HAProxy's 127.0.0.1, and the
# client list must name them.

need python3
if ! have haproxy; then
	skip all "haproxy is not installed (scripts/deps.sh installs it)"
	finish
fi

LOG=$TMP_DIR/serve.log
serve_start "$LOG" 2 --tcp-only --proxy-protocol --proxy-from 127.0.0.1 \
	--proxy-timeout 2 echo=0 clients=0 ||
	{ fail start "sock serve did not start"; serve_finish; }
ECHO=$(port_of "$LOG" echo tcp)
CLIENTS=$(port_of "$LOG" clients tcp)

# HAProxy, in the foreground (-db), its PID ours.
V1_ECHO=$(free_port)
V2_ECHO=$(free_port)
V1_CLIENTS=$(free_port)
V2_CLIENTS=$(free_port)
cat >"$TMP_DIR/haproxy.cfg" <<EOF
global
	maxconn 64
defaults
	mode tcp
	timeout connect 5s
	timeout client 10s
	timeout server 10s
listen v1_echo
	bind 127.0.0.1:$V1_ECHO
	server s 127.0.0.1:$ECHO send-proxy
listen v2_echo
	bind 127.0.0.1:$V2_ECHO
	server s 127.0.0.1:$ECHO send-proxy-v2
listen v1_clients
	bind 127.0.0.1:$V1_CLIENTS
	server s 127.0.0.1:$CLIENTS send-proxy
listen v2_clients
	bind 127.0.0.1:$V2_CLIENTS
	server s 127.0.0.1:$CLIENTS send-proxy-v2
EOF
start_bg haproxy -db -f "$TMP_DIR/haproxy.cfg"
HAPROXY=$BG_PID
for p in $V1_ECHO $V2_ECHO $V1_CLIENTS $V2_CLIENTS; do
	wait_port "$p" || { fail haproxy_start "$(show "$TMP_DIR/haproxy.cfg")"; serve_finish; }
done

# Echo through each, from its own loopback host and source port; the
# log must name that host and port.
python3 - "$V1_ECHO" "$V2_ECHO" >"$TMP_DIR/echo.out" 2>&1 <<'EOF'
import socket, sys
for port, src in zip(sys.argv[1:], ("127.0.0.5", "127.0.0.6")):
    s = socket.socket()
    s.settimeout(10)
    s.bind((src, 0))
    s.connect(("127.0.0.1", int(port)))
    s.sendall(b"through the proxy\n")
    got = b""
    while len(got) < 18:
        b = s.recv(64)
        if not b:
            break
        got += b
    print(src, s.getsockname()[1], got == b"through the proxy\n")
    s.close()
EOF
while read -r src port ok; do
	if [ "$ok" = True ] &&
		wait_file "$LOG" " accept echo ${src//./\\.}:$port$"; then
		pass "echo_through_haproxy_$src"
	else
		fail "echo_through_haproxy_$src" "$(show "$TMP_DIR/echo.out") $(show "$LOG")"
	fi
done <"$TMP_DIR/echo.out"
[ "$(wc -l <"$TMP_DIR/echo.out")" = 2 ] ||
	fail echo_through_haproxy "$(show "$TMP_DIR/echo.out")"

# The client list, through each version, names the clients' hosts.
python3 - "$V1_CLIENTS" "$V2_CLIENTS" >"$TMP_DIR/clients.out" 2>&1 <<'EOF'
import json, socket, sys
for port, src in zip(sys.argv[1:], ("127.0.0.7", "127.0.0.8")):
    s = socket.socket()
    s.settimeout(10)
    s.bind((src, 0))
    s.connect(("127.0.0.1", int(port)))
    s.sendall(b"proxied-" + src.encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    print(src, json.dumps(json.loads(data)))
    s.close()
EOF
for src in 127.0.0.7 127.0.0.8; do
	if grep -q "^$src .*\"$src" "$TMP_DIR/clients.out"; then
		pass "client_list_names_$src"
	else
		fail "client_list_names_$src" "$(show "$TMP_DIR/clients.out")"
	fi
done
if grep -Eq ' accept (echo|clients) 127\.0\.0\.1:' "$LOG"; then
	fail proxy_never_the_peer "$(grep -E ' accept ' "$LOG")"
else
	pass proxy_never_the_peer
fi

# Straight to sock serve, not through HAProxy: from 127.0.0.2 (not a
# trusted proxy) refused; from 127.0.0.1 without a header, refused at
# the timeout; garbage refused at once.
python3 - "$ECHO" >"$TMP_DIR/direct.out" 2>&1 <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
def closed(src, data, wait):
    s = socket.socket()
    s.settimeout(wait)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    t = time.monotonic()
    try:
        if data:
            s.sendall(data)
        got = s.recv(64)
    except ConnectionResetError:
        got = b""
    except socket.timeout:
        got = None
    s.close()
    return got == b"", time.monotonic() - t
print("untrusted", *closed("127.0.0.2", b"PROXY TCP4 1.2.3.4 127.0.0.1 1 2\r\n", 10))
print("silent", *closed("127.0.0.1", b"", 10))
# A second refusal of one kind within a second is counted, not logged
# on its own: the garbage one comes after the timeout's by more.
time.sleep(1.2)
print("garbage", *closed("127.0.0.1", b"GET / HTTP/1.0\r\n\r\n", 10))
EOF
if grep -q '^untrusted True' "$TMP_DIR/direct.out" &&
	wait_file "$LOG" ' limit echo proxy-source 127\.0\.0\.2:[0-9]+: permission denied'; then
	pass untrusted_source_refused
else
	fail untrusted_source_refused "$(show "$TMP_DIR/direct.out") $(show "$LOG")"
fi
if grep -q '^silent True' "$TMP_DIR/direct.out" &&
	wait_file "$LOG" ' limit echo proxy-header 127\.0\.0\.1:[0-9]+: .*timed out'; then
	pass silent_header_timed_out
else
	fail silent_header_timed_out "$(show "$TMP_DIR/direct.out") $(show "$LOG")"
fi
if grep -q '^garbage True' "$TMP_DIR/direct.out" &&
	wait_file "$LOG" ' limit echo proxy-header 127\.0\.0\.1:[0-9]+: protocol error'; then
	pass garbage_header_refused
else
	fail garbage_header_refused "$(show "$TMP_DIR/direct.out") $(show "$LOG")"
fi

kill "$HAPROXY" 2>/dev/null
wait "$HAPROXY" 2>/dev/null

# The clients a local proxy names are not this host: the per-source cap
# (256 by default, dropped for a loopback-only server without a proxy)
# holds for each of them.  260 connections naming one client: 256 served.
serve_stop
check_eq sigterm_exit_status 0 $?
LOG2=$TMP_DIR/serve2.log
serve_start "$LOG2" 1 --tcp-only --proxy-protocol --proxy-from 127.0.0.1 \
	echo=127.0.0.1:0 || { fail start2 "sock serve did not start"; serve_finish; }
ECHO2=$(port_of "$LOG2" echo tcp)
python3 - "$ECHO2" >"$TMP_DIR/cap.out" 2>&1 <<'EOF'
import socket, sys
port = int(sys.argv[1])
socks, served = [], 0
for i in range(260):
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(b"PROXY TCP4 10.9.9.9 127.0.0.1 %d 7\r\nx" % (1000 + i))
    try:
        served += s.recv(1) == b"x"
    except (ConnectionResetError, socket.timeout):
        pass
    socks.append(s)
print(served)
EOF
if [ "$(cat "$TMP_DIR/cap.out")" = 256 ] &&
	wait_file "$LOG2" ' limit echo max-per-source 10\.9\.9\.9:'; then
	pass per_source_cap_holds_behind_a_local_proxy
else
	fail per_source_cap_holds_behind_a_local_proxy "served $(show "$TMP_DIR/cap.out")"
fi
serve_stop

# Usage: --proxy-protocol needs --proxy-from, and a TCP listener.
"$SOCK" serve --proxy-protocol echo=0 2>"$TMP_DIR/u1.err"
rc=$?
if [ $rc = 2 ] && grep -q -- "--proxy-protocol needs --proxy-from" "$TMP_DIR/u1.err"; then
	pass proxy_needs_from
else
	fail proxy_needs_from "exit $rc: $(cat "$TMP_DIR/u1.err")"
fi
"$SOCK" serve --proxy-protocol --proxy-from 127.0.0.1 --udp-only echo=0 \
	2>"$TMP_DIR/u2.err"
rc=$?
if [ $rc = 2 ] && grep -q "there is none" "$TMP_DIR/u2.err"; then
	pass proxy_needs_tcp_listener
else
	fail proxy_needs_tcp_listener "exit $rc: $(cat "$TMP_DIR/u2.err")"
fi
"$SOCK" serve --proxy-timeout 3 echo=0 2>"$TMP_DIR/u4.err"
rc=$?
if [ $rc = 2 ] && grep -q -- "--proxy-timeout is for --proxy-protocol" "$TMP_DIR/u4.err"; then
	pass proxy_timeout_needs_proxy
else
	fail proxy_timeout_needs_proxy "exit $rc: $(cat "$TMP_DIR/u4.err")"
fi
"$SOCK" serve --proxy-protocol --proxy-from 10.0.0.1/8 echo=0 \
	2>"$TMP_DIR/u3.err"
rc=$?
if [ $rc = 1 ] && grep -qF -- "--proxy-from '10.0.0.1/8' is not an address range" "$TMP_DIR/u3.err"; then
	pass proxy_from_bad_range
else
	fail proxy_from_bad_range "exit $rc: $(cat "$TMP_DIR/u3.err")"
fi

serve_finish

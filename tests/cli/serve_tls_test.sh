#!/usr/bin/env bash
# serve_tls_test.sh -- sock serve --tls-cert on both engines: every TCP
# service over TLS to this project's clients and to peers nobody here
# wrote (socat's OPENSSL, Python's ssl, openssl s_client); UDP listeners
# not opened, and the log saying so; plain and garbage clients refused
# with a log line; the options checked.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need openssl socat python3
C=$TMP_DIR/certs
"$SOCK_SRC/tests/tls/certs.sh" "$C" || { fail certificates "certs.sh failed"; finish; }
LIB_WAIT=10
TLS=(--tls-cert "$C/leaf.pem" --tls-key "$C/leaf.key")

for engine in epoll io_uring; do
	log=$TMP_DIR/serve-$engine.log
	serve_start "$log" 7 --engine "$engine" "${TLS[@]}" --tls-timeout 2 \
		echo=127.0.0.1:0 discard=127.0.0.1:0 daytime=127.0.0.1:0 \
		chargen=127.0.0.1:0 time=127.0.0.1:0 clients=127.0.0.1:0 \
		chat=127.0.0.1:0 || { fail "${engine}_start" "no start"; continue; }
	if grep -q "engine $engine" "$log"; then
		pass "${engine}_engine"
	else
		fail "${engine}_engine" "$(grep engine "$log")"
	fi
	echo_port=$(port_of "$log" echo tls)
	# The UDP halves: not opened, and said.
	skips=$(grep -c ' skip [a-z]* udp 127.0.0.1:0: TLS serves TCP only' "$log")
	if [ "$skips" = 5 ] && ! grep -q ' listen [a-z]* udp ' "$log" &&
		[ "$(grep -c ' listen [a-z]* tls ' "$log")" = 7 ]; then
		pass "${engine}_udp_not_opened"
	else
		fail "${engine}_udp_not_opened" "$(cat "$log")"
	fi
	out=$(timeout 20 "$SOCK" echo --tls --cafile "$C/ca.pem" \
		"localhost:$echo_port" over tls 2>&1)
	check_eq "${engine}_sock_echo" "over tls" "$out"
	out=$(timeout 20 "$SOCK" daytime --tls --cafile "$C/ca.pem" \
		"localhost:$(port_of "$log" daytime tls)" 2>&1)
	if grep -Eq '^[A-Z][a-z]{2} [A-Z][a-z]{2} +[0-9]+ [0-9:]{8} [0-9]{4}$' <<<"$out"; then
		pass "${engine}_sock_daytime"
	else
		fail "${engine}_sock_daytime" "$out"
	fi
	out=$(timeout 20 "$SOCK" clients --tls --cafile "$C/ca.pem" -n tls-user \
		"localhost:$(port_of "$log" clients tls)" 2>&1)
	if grep -q '"tls-user"' <<<"$out"; then
		pass "${engine}_sock_clients"
	else
		fail "${engine}_sock_clients" "$out"
	fi
	# (Input kept open: its end would send close_notify, which ends
	# chargen's stream, as a FIN ends it over TCP.)
	n=$(timeout 20 "$SOCK" connect -w 10 --tls --cafile "$C/ca.pem" \
		"localhost:$(port_of "$log" chargen tls)" < <(sleep 10) 2>/dev/null |
		head -c 300000 | wc -c)
	check_eq "${engine}_chargen" 300000 "$n"
	# time: RFC 868's four bytes, in one record.
	n=$(timeout 20 "$SOCK" connect -w 10 --tls --cafile "$C/ca.pem" \
		"localhost:$(port_of "$log" time tls)" </dev/null 2>/dev/null | wc -c)
	check_eq "${engine}_time" 4 "$n"
	# Peers nobody here wrote.
	out=$(echo "from socat" | timeout 20 socat -t 5 - \
		"OPENSSL:127.0.0.1:$echo_port,cafile=$C/ca.pem,commonname=localhost" 2>&1)
	check_eq "${engine}_socat_client" "from socat" "$out"
	out=$(timeout 20 python3 "$SOCK_SRC/tests/tls/peer.py" client "$echo_port" \
		"$C/ca.pem" 2>&1)
	check_eq "${engine}_python_client" "hello from python" "$out"
	out=$( (echo "from s_client"; sleep 1) | timeout 20 openssl s_client \
		-connect "127.0.0.1:$echo_port" -CAfile "$C/ca.pem" \
		-verify_return_error -verify_hostname localhost -quiet 2>/dev/null)
	check_eq "${engine}_s_client" "from s_client" "$out"
	# A client that does not trust the server's CA refuses it.
	out=$(echo x | timeout 20 "$SOCK" connect -w 10 --tls "localhost:$echo_port" 2>&1)
	rc=$?
	if [ $rc = 1 ] && grep -q "unable to get local issuer certificate" <<<"$out"; then
		pass "${engine}_unverified_server_refused"
	else
		fail "${engine}_unverified_server_refused" "status $rc: $out"
	fi
	# A client that never speaks: closed at --tls-timeout (2 s).  First
	# of the refusals: the log says one of a kind a second.
	start=$(date +%s%N)
	timeout 20 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; cat <&3' _ "$echo_port" >/dev/null 2>&1
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ "$ms" -ge 1500 ] && [ "$ms" -lt 7000 ] &&
		wait_file "$log" "tls-handshake 127.0.0.1:[0-9]*: timed out"; then
		pass "${engine}_silent_client_timed_out"
	else
		fail "${engine}_silent_client_timed_out" "after $ms ms: $(grep limit "$log")"
	fi
	# A plain client, and garbage: closed, logged; the server serves on.
	printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 "$SOCK" connect -w 5 \
		"127.0.0.1:$echo_port" >/dev/null 2>&1
	head -c 4000 /dev/urandom | timeout 20 "$SOCK" connect -w 5 \
		"127.0.0.1:$echo_port" >/dev/null 2>&1
	wait_file "$log" "limit echo tls-handshake 127.0.0.1:"
	if grep -q "limit echo tls-handshake 127.0.0.1:[0-9]*: TLS handshake or protocol failure" "$log"; then
		pass "${engine}_plain_client_refused"
	else
		fail "${engine}_plain_client_refused" "$(grep limit "$log")"
	fi
	out=$(timeout 20 "$SOCK" echo --tls --cafile "$C/ca.pem" \
		"localhost:$echo_port" still serving 2>&1)
	check_eq "${engine}_serves_on" "still serving" "$out"
	serve_stop
	check_eq "${engine}_stops_cleanly" 0 $?
done

# A session left waiting in the middle of a post-handshake message (half a
# KeyUpdate, records made by hand) while the chat relays another member's
# lines to it: every line still reaches the others (the session's reads
# never take another connection's bytes), and only the waiting one fails.
for engine in epoll io_uring; do
	log=$TMP_DIR/chat-$engine.log
	serve_start "$log" 1 --engine "$engine" "${TLS[@]}" chat=127.0.0.1:0 ||
		{ fail "${engine}_chat_start" "no start"; continue; }
	if python3 -c 'import cryptography' 2>/dev/null; then
		out=$(timeout 30 python3 "$SOCK_SRC/tests/tls/records.py" \
			"$(port_of "$log" chat tls)" "$C/ca.pem" 2>&1)
		check_eq "${engine}_half_a_keyupdate_harms_no_other_member" ok "$out"
	else
		fail "${engine}_half_a_keyupdate_harms_no_other_member" \
			"python3-cryptography is not installed (make deps)"
	fi
	serve_stop
done

# systemd: a connection accepted already (Accept=yes) cannot be served
# over TLS -- it would be plaintext: refused, exit 2, the client served
# nothing; a datagram socket is not served, and the log says so.
out=$(python3 - "$SOCK" "$C/leaf.pem" "$C/leaf.key" 2>&1 <<'EOF2'
import os, socket, subprocess, sys
sock, cert, key = sys.argv[1:4]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
cli = socket.create_connection(srv.getsockname(), timeout=10)
conn, _ = srv.accept()
srv.close()
cli.sendall(b"plaintext?\n")
os.dup2(conn.fileno(), 3)
env = dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="echo")
p = subprocess.Popen(["sh", "-c", 'LISTEN_PID=$$ exec "$0" serve --tls-cert "$1" '
                      '--tls-key "$2"', sock, cert, key], pass_fds=(3,), env=env,
                     stderr=subprocess.PIPE)
os.close(3)
conn.close()
try:
    err = p.communicate(timeout=10)[1].decode()
except subprocess.TimeoutExpired:
    p.kill()
    sys.exit("still running")
try:
    got = cli.recv(64)
except ConnectionResetError:
    got = b""
if p.returncode != 2 or got or "Accept=yes" not in err:
    sys.exit("status %d, client got %r, said %r" % (p.returncode, got, err))
print("ok")
EOF2
)
check_eq activated_connection_refused ok "$out"
rm -f "$TMP_DIR/ports"
start_bg python3 "$CHECK_PY" launch "$TMP_DIR/ports" echo:echo tcp,udp \
	"$SOCK" serve "${TLS[@]}" 2>"$TMP_DIR/act.log"
SERVE_LOGS+=("$TMP_DIR/act.log")
SERVE_BG=$BG_PID
wait_file "$TMP_DIR/act.log" " listen echo tls "
serve_child
read -r -a PORTS <"$TMP_DIR/ports"
out=$(timeout 20 "$SOCK" echo --tls --cafile "$C/ca.pem" "127.0.0.1:${PORTS[0]}" activated 2>&1)
if [ "$out" = activated ] &&
	grep -q " skip echo udp 127.0.0.1:${PORTS[1]}: TLS serves TCP only" "$TMP_DIR/act.log" &&
	! grep -q " listen echo udp" "$TMP_DIR/act.log"; then
	pass activated_udp_not_served
else
	fail activated_udp_not_served "echo said [$out]; $(cat "$TMP_DIR/act.log")"
fi
serve_stop

# The JSON log says it too.
log=$TMP_DIR/serve-json.log
SERVE_LOGS+=("$log")
start_bg "$SOCK" serve --log-format json "${TLS[@]}" echo=127.0.0.1:0 2>"$log"
SERVE_BG=$BG_PID
serve_child
wait_file "$log" '"event":"listen"'
if grep -q '"event":"skip","service":"echo","transport":"udp","addr":"127.0.0.1:0","why":"TLS serves TCP only"' "$log" &&
	grep -q '"event":"listen","service":"echo","transport":"tls"' "$log"; then
	pass json_log
else
	fail json_log "$(cat "$log")"
fi
serve_stop

# ---- the options ----
usage() { # NAME WANT ARGS...
	local name=$1 want=$2 rc

	shift 2
	out=$(timeout 10 "$SOCK" serve "$@" </dev/null 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -qF -- "$want" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "status $rc: $out"
	fi
}
usage key_needs_cert "--tls-key is for --tls-cert" --tls-key x echo=127.0.0.1:0
usage timeout_needs_cert "--tls-timeout is for --tls-cert" --tls-timeout 3 echo=127.0.0.1:0
usage timeout_is_seconds "--tls-timeout wants seconds from 1" "${TLS[@]}" --tls-timeout 0 \
	echo=127.0.0.1:0
usage not_for_inetd "--tls-cert is for listeners, not --inetd" "${TLS[@]}" --inetd echo
out=$(timeout 10 "$SOCK" serve --tls-cert "$TMP_DIR/none.pem" echo=127.0.0.1:0 </dev/null 2>&1)
rc=$?
if [ $rc = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "none.pem: no such file or directory$" <<<"$out"; then
	pass missing_certificate
else
	fail missing_certificate "status $rc: $out"
fi
out=$(timeout 10 "$SOCK" serve --tls-cert "$C/leaf.pem" --tls-key "$C/client.key" \
	echo=127.0.0.1:0 </dev/null 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "key values mismatch" <<<"$out"; then
	pass key_must_match
else
	fail key_must_match "status $rc: $out"
fi
serve_finish

#!/usr/bin/env bash
# tls_cli_test.sh -- sock connect --tls and sock listen --tls against peers
# nobody here wrote (openssl s_server and s_client, socat's OPENSSL
# addresses, Python's ssl) and each other, with certificates made now by
# tests/tls/certs.sh; every verification failure ends in one line naming
# its reason and exit status 1.

. "$(dirname "$0")/lib.sh"

need openssl socat python3
SOCK=$SOCK_BUILD/sock
C=$TMP_DIR/certs
"$SOCK_SRC/tests/tls/certs.sh" "$C" || { fail certificates "certs.sh failed"; finish; }
LIB_WAIT=10

# ---- sock connect --tls against openssl s_server -rev ----
s_server() { # LEAF PORT
	start_bg openssl s_server -accept "127.0.0.1:$2" -cert "$C/$1.pem" \
		-key "$C/$1.key" -rev -naccept 1 >/dev/null 2>&1
	wait_port "$2"
}

port=$(free_port)
s_server leaf "$port"
out=$(echo hello | timeout 20 "$SOCK" connect -w 10 --tls --cafile "$C/ca.pem" \
	"localhost:$port" 2>&1)
check_eq connect_verifies_s_server "olleh" "$out"

# Each bad certificate: exit 1 and one line with OpenSSL's reason.
refused() { # NAME LEAF REASON [ARGS...]
	local name=$1 leaf=$2 reason=$3 rc

	shift 3
	port=$(free_port)
	s_server "$leaf" "$port"
	out=$(echo x | timeout 20 "$SOCK" connect -w 10 --tls "$@" "localhost:$port" 2>&1)
	rc=$?
	if [ $rc = 1 ] && [ "$(wc -l <<<"$out")" = 1 ] && grep -qF "$reason" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "status $rc, said [$out], want [$reason]"
	fi
}
refused connect_refuses_expired expired "certificate has expired" --cafile "$C/ca.pem"
refused connect_refuses_other_name other "hostname mismatch" --cafile "$C/ca.pem"
refused connect_refuses_self_signed self "self-signed certificate" --cafile "$C/ca.pem"
refused connect_refuses_unknown_ca leaf "unable to get local issuer certificate"
refused connect_servername_is_checked leaf "hostname mismatch" --cafile "$C/ca.pem" \
	--servername other.example

port=$(free_port)
s_server self "$port"
out=$(echo abc | timeout 20 "$SOCK" connect -w 10 --tls --insecure "127.0.0.1:$port" 2>&1)
check_eq connect_insecure_accepts_self_signed "cba" "$out"

# sock listen --tls ARGS with standard input from the text IN, in the
# background (a command started with & reads /dev/null unless told);
# the input comes DELAY seconds late (default 0), so that its end (and
# close_notify) follows what the peer sends.
listen_bg() { # IN PORT [DELAY]
	printf '%s\n' "$1" >"$TMP_DIR/in"
	start_bg bash -c '(sleep "$1"; cat "$0") | exec "${@:2}"' "$TMP_DIR/in" \
		"${3:-0}" "$SOCK" listen -w 10 --tls \
		--tls-cert "$C/leaf.pem" --tls-key "$C/leaf.key" "127.0.0.1:$2" \
		>"$TMP_DIR/listen.out" 2>&1
	L=$BG_PID
	wait_port "$2"
}

# ---- sock listen --tls and sock connect --tls ----
port=$(free_port)
listen_bg "from the listener" "$port"
out=$(echo "from the connector" | timeout 20 "$SOCK" connect -w 10 --tls \
	--cafile "$C/ca.pem" "localhost:$port" 2>&1)
wait_bg "$L" 10
check_eq listen_and_connect_both_ways "from the listener|from the connector" \
	"$out|$(cat "$TMP_DIR/listen.out")"

# ---- socat: an OPENSSL-LISTEN server, an OPENSSL client ----
port=$(free_port)
start_bg socat "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,cert=$C/leaf.pem,key=$C/leaf.key,verify=0" \
	EXEC:"tr a-z A-Z" 2>"$TMP_DIR/socat.err"
wait_port "$port"
out=$(echo "to socat" | timeout 20 "$SOCK" connect -w 10 --tls --cafile "$C/ca.pem" \
	"localhost:$port" 2>&1)
check_eq connect_to_socat_openssl_listen "TO SOCAT" "$out"

port=$(free_port)
listen_bg "hello socat" "$port"
out=$(echo "from socat" | timeout 20 socat -t 5 - \
	"OPENSSL:127.0.0.1:$port,cafile=$C/ca.pem,commonname=localhost" 2>&1)
wait_bg "$L" 10
check_eq socat_openssl_client_to_listen "hello socat|from socat" \
	"$out|$(cat "$TMP_DIR/listen.out")"

# ---- Python's ssl and openssl s_client as clients of sock listen --tls ----
port=$(free_port)
listen_bg "HELLO FROM PYTHON" "$port"
out=$(timeout 20 python3 "$SOCK_SRC/tests/tls/peer.py" client "$port" "$C/ca.pem" 2>&1)
wait_bg "$L" 10
check_eq python_client_to_listen "HELLO FROM PYTHON|hello from python" \
	"$out|$(cat "$TMP_DIR/listen.out")"

port=$(free_port)
listen_bg "to s_client" "$port" 1
out=$( (echo "from s_client"; sleep 3) | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
	-CAfile "$C/ca.pem" -verify_return_error -verify_hostname localhost -quiet 2>/dev/null)
wait_bg "$L" 10
check_eq s_client_to_listen "to s_client|from s_client" "$out|$(cat "$TMP_DIR/listen.out")"

# A plain client on the TLS listener: the listener says why and exits 1.
port=$(free_port)
start_bg "$SOCK" listen -w 10 --tls --tls-cert "$C/leaf.pem" --tls-key "$C/leaf.key" \
	"127.0.0.1:$port" </dev/null >"$TMP_DIR/listen.out" 2>&1
L=$BG_PID
wait_port "$port"
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 "$SOCK" connect -w 5 "127.0.0.1:$port" >/dev/null 2>&1
wait_bg "$L" 10
rc=$?
if [ $rc = 1 ] && grep -q "TLS with the peer of 127.0.0.1:$port: TLS handshake or protocol failure" \
	"$TMP_DIR/listen.out"; then
	pass listen_refuses_plain_client
else
	fail listen_refuses_plain_client "status $rc: $(cat "$TMP_DIR/listen.out")"
fi

# ---- sock echo, daytime and clients --tls, to socat's OPENSSL-LISTEN ----
socat_tls() { # PORT COMMAND: a TLS server running COMMAND per connection
	start_bg socat "OPENSSL-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork,cert=$C/leaf.pem,key=$C/leaf.key,verify=0" \
		EXEC:"$2" 2>>"$TMP_DIR/socat.err"
	wait_port "$1"
}
port=$(free_port)
socat_tls "$port" cat
out=$(timeout 20 "$SOCK" echo --tls --cafile "$C/ca.pem" "localhost:$port" hello over tls 2>&1)
check_eq echo_over_tls "hello over tls" "$out"
out=$(timeout 20 "$SOCK" echo --tls "localhost:$port" hello 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "unable to get local issuer certificate" <<<"$out"; then
	pass echo_tls_verifies
else
	fail echo_tls_verifies "status $rc: $out"
fi

# (socat's EXEC: takes no colons: the answers are scripts.)
printf '#!/bin/sh\necho "Wed Dec  2 12:00:00 2026"\n' >"$TMP_DIR/daytime.sh"
chmod +x "$TMP_DIR/daytime.sh"
port=$(free_port)
socat_tls "$port" "$TMP_DIR/daytime.sh"
out=$(timeout 20 "$SOCK" daytime --tls --cafile "$C/ca.pem" "localhost:$port" 2>&1)
check_eq daytime_over_tls "Wed Dec  2 12:00:00 2026" "$out"

# The client list: whatever name comes first (sock clients sends it
# without a newline and waits), in a one-member list.
cat >"$TMP_DIR/list.sh" <<'EOF'
#!/bin/sh
name=$(dd bs=256 count=1 2>/dev/null)
printf '{"%s": {"address": "127.0.0.1", "port": 5}}' "$name"
EOF
chmod +x "$TMP_DIR/list.sh"
port=$(free_port)
socat_tls "$port" "$TMP_DIR/list.sh"
out=$(timeout 20 "$SOCK" clients --tls --cafile "$C/ca.pem" -n tls-client "localhost:$port" 2>&1)
if grep -q '"tls-client": {' <<<"$out" && grep -q '"port": 5' <<<"$out"; then
	pass clients_over_tls
else
	fail clients_over_tls "$out"
fi

# ---- the examples: a verified client, a threaded echo server ----
port=$(free_port)
start_bg "$SOCK_BUILD/examples/tls_echo_server" "127.0.0.1:$port" "$C/leaf.pem" \
	"$C/leaf.key" 2 >"$TMP_DIR/server.out" 2>&1
S=$BG_PID
wait_port "$port"
out=$(timeout 20 "$SOCK_BUILD/examples/tls_client" "localhost:$port" "example line" \
	"$C/ca.pem" 2>&1)
check_eq example_client_and_server "example line" "$out"
out=$(timeout 20 python3 "$SOCK_SRC/tests/tls/peer.py" client "$port" "$C/ca.pem" 2>&1)
check_eq example_server_and_python "hello from python" "$out"
wait_bg "$S" 10
check_eq example_server_served_two "client done|client done" \
	"$(tr '\n' '|' <"$TMP_DIR/server.out" | sed 's/|$//')"
port=$(free_port)
s_server other "$port"
out=$(timeout 20 "$SOCK_BUILD/examples/tls_client" "localhost:$port" x "$C/ca.pem" 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "hostname mismatch" <<<"$out"; then
	pass example_client_verifies
else
	fail example_client_verifies "status $rc: $out"
fi

# ---- the options ----
usage() { # NAME WANT ARGS...
	local name=$1 want=$2 rc

	shift 2
	out=$(timeout 10 "$SOCK" "$@" </dev/null 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -qF -- "$want" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "status $rc: $out"
	fi
}
usage cafile_needs_tls "--cafile needs --tls" connect --cafile x 127.0.0.1:1
usage tls_is_not_udp "--tls is for TCP" connect -u --tls 127.0.0.1:1
usage insecure_with_cafile "--insecure verifies nothing" connect --tls --insecure \
	--cafile x 127.0.0.1:1
usage listen_key_needs_cert "--tls-key needs --tls-cert" listen --tls --tls-key x 127.0.0.1:0
out=$(timeout 10 "$SOCK" listen --tls --tls-cert "$TMP_DIR/none.pem" 127.0.0.1:0 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "none.pem: no such file or directory$" <<<"$out"; then
	pass listen_missing_certificate
else
	fail listen_missing_certificate "status $rc: $out"
fi
finish

#!/usr/bin/env bash
# serve_test.sh -- sock serve's services against real clients: rdate, nc, socat, python3, the seeds
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need python3
LOG=$TMP_DIR/serve.log
serve_start "$LOG" 12 echo=0 discard=0 daytime=0 chargen=0 time=0 \
	clients=0 chat=0 || { fail start "sock serve did not start"; finish; }
tcp() { port_of "$LOG" "$1" tcp; }
udp() { port_of "$LOG" "$1" udp; }
PEERS=$SOCK_SRC/tests/peers

# ---- time (RFC 868) ----

# rdate -p prints the server's time; it must be within 5 s of ours.
rdate_check() {
	local name=$1 out t now

	shift
	if ! have rdate; then
		skip "$name" "rdate is not installed"
		return
	fi
	out=$(timeout 10 rdate -p "$@" 127.0.0.1 2>&1)
	t=$(date -d "${out#*]}" +%s 2>/dev/null)
	now=$(date +%s)
	if [ -n "$t" ] && [ $((t - now)) -le 5 ] && [ $((now - t)) -le 5 ]; then
		pass "$name"
	else
		fail "$name" "rdate said [$out]"
	fi
}
rdate_check time_rdate_tcp -o "$(tcp time)"
rdate_check time_rdate_udp -u -o "$(udp time)"
check time_udp_answers_empty_datagram time_udp_empty "$(udp time)"

out=$(timeout 10 python3 "$PEERS/timeclient.py" 127.0.0.1 "$(tcp time)" 2>&1)
off=$(echo "$out" | sed -n 's/^local clock is \(-\?[0-9]*\) seconds off$/\1/p')
if [ -n "$off" ] && [ "${off#-}" -le 2 ]; then
	pass time_seed_client
else
	fail time_seed_client "timeclient.py said [$out]"
fi

# ---- echo (RFC 862) ----

head -c 1048576 /dev/urandom >"$TMP_DIR/random"
want=$(cksum <"$TMP_DIR/random")
if have nc; then
	timeout 20 nc -N 127.0.0.1 "$(tcp echo)" <"$TMP_DIR/random" \
		>"$TMP_DIR/nc.out"
	check_eq echo_nc_1mib_half_closed "$want" "$(cksum <"$TMP_DIR/nc.out")"
else
	skip echo_nc_1mib_half_closed "nc is not installed"
fi
if have socat; then
	timeout 20 socat -t 10 - TCP:127.0.0.1:"$(tcp echo)" \
		<"$TMP_DIR/random" >"$TMP_DIR/socat.out"
	check_eq echo_socat_1mib_half_closed "$want" \
		"$(cksum <"$TMP_DIR/socat.out")"
	out=$(printf 'one datagram' |
		timeout 10 socat -t 2 - UDP:127.0.0.1:"$(udp echo)")
	check_eq echo_socat_udp "one datagram" "$out"
else
	skip echo_socat_1mib_half_closed "socat is not installed"
	skip echo_socat_udp "socat is not installed"
fi
check echo_udp_1mib_and_empty_datagram echo_udp "$(udp echo)"
out=$(timeout 10 python3 "$PEERS/echo_client.py" 127.0.0.1 "$(tcp echo)")
check_eq echo_seed_client "Received b'Hello, world'" "$out"

# ---- discard (RFC 863) ----

if have nc; then
	timeout 20 nc -N 127.0.0.1 "$(tcp discard)" <"$TMP_DIR/random" \
		>"$TMP_DIR/discard.out"
	for _ in $(seq 100); do
		grep -q 'close discard .* in=1048576 out=0 ' "$LOG" && break
		sleep 0.05
	done
	if grep -q 'close discard .* in=1048576 out=0 ' "$LOG" &&
		[ ! -s "$TMP_DIR/discard.out" ]; then
		pass discard_nc_1mib
	else
		fail discard_nc_1mib "$(grep 'close discard' "$LOG")"
	fi
else
	skip discard_nc_1mib "nc is not installed"
fi
check discard_udp_no_reply no_reply_udp "$(udp discard)"

# ---- chargen (RFC 864) ----

if have nc; then
	timeout 10 nc -d 127.0.0.1 "$(tcp chargen)" 2>/dev/null |
		head -c 1000000 >"$TMP_DIR/chargen"
	check chargen_nc_pattern chargen_file "$TMP_DIR/chargen"
else
	skip chargen_nc_pattern "nc is not installed"
fi
check chargen_tcp_4mib_pattern_at_the_reader_pace chargen_tcp "$(tcp chargen)"
check chargen_udp_lines_from_a_line_start chargen_udp "$(udp chargen)"

# ---- daytime (RFC 867) ----

check daytime_tcp_line daytime "$(tcp daytime)" tcp
check daytime_udp_line daytime "$(udp daytime)" udp
if have nc; then
	out=$(timeout 10 nc -d 127.0.0.1 "$(tcp daytime)" | od -c | tail -n 2)
	case $out in
	*'\r  \n'*) pass daytime_nc_crlf ;;
	*) fail daytime_nc_crlf "no CR LF at the end: $out" ;;
	esac
else
	skip daytime_nc_crlf "nc is not installed"
fi
out=$(timeout 10 python3 "$PEERS/daytime_client.py" 127.0.0.1 "$(tcp daytime)")
case $out in
"The time got from the server is "*" $(date +%Y)"*) pass daytime_seed_client ;;
*) fail daytime_seed_client "daytime_client.py said [$out]" ;;
esac

# ---- chat ----

check chat_three_members chat_three "$(tcp chat)"
check chat_drops_a_member_that_does_not_read chat_slow_member "$(tcp chat)"
if have nc; then
	start_bg python3 "$CHECK_PY" chat_wait "$(tcp chat)" "hello from nc" \
		"$TMP_DIR/ready" 2>"$TMP_DIR/wait.err"
	waiter=$BG_PID
	for _ in $(seq 100); do
		[ -e "$TMP_DIR/ready" ] && break
		sleep 0.05
	done
	printf 'hello from nc\r\n' | timeout 10 nc -q 1 127.0.0.1 "$(tcp chat)" \
		>"$TMP_DIR/nc.chat"
	if wait_bg "$waiter" 10 && grep -q '^\* welcome' "$TMP_DIR/nc.chat"; then
		pass chat_nc_member
	else
		fail chat_nc_member "$(cat "$TMP_DIR/wait.err" "$TMP_DIR/nc.chat")"
	fi
else
	skip chat_nc_member "nc is not installed"
fi

# ---- ports ----

# Port 0: each service's UDP listener takes the port its TCP one got.
same_ports=true
for svc in echo discard daytime chargen time; do
	[ "$(tcp $svc)" = "$(udp $svc)" ] && [ -n "$(tcp $svc)" ] ||
		{ same_ports=false; echo "    $svc: tcp $(tcp $svc), udp $(udp $svc)"; }
done
$same_ports && pass port_zero_shared_by_tcp_and_udp ||
	fail port_zero_shared_by_tcp_and_udp "$(grep ' listen ' "$LOG")"

# ---- the log ----

if grep -Eq '^[0-9-]{10}T[0-9:.]{12} accept echo 127\.0\.0\.1:[0-9]+$' "$LOG" &&
	grep -Eq ' close echo 127\.0\.0\.1:[0-9]+ in=1048576 out=1048576 ms=[0-9]+$' "$LOG"; then
	pass log_lines_accept_and_close
else
	fail log_lines_accept_and_close "$(head -n 20 "$LOG")"
fi

serve_stop
check_eq sigterm_exit_status 0 $?
serve_finish

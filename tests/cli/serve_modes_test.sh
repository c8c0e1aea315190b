#!/usr/bin/env bash
# serve_modes_test.sh -- sock serve's ways to run: exit codes, signals, options, inetd, xinetd, socket activation
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need python3

# ---- exit codes ----

"$SOCK" serve no-such-service 2>"$TMP_DIR/err"
check_eq usage_unknown_service_exits_2 2 $?
"$SOCK" serve --tcp-only --udp-only 2>/dev/null
check_eq usage_tcp_and_udp_only_exits_2 2 $?
"$SOCK" serve --workers 0 2>/dev/null
check_eq usage_bad_workers_exits_2 2 $?
"$SOCK" serve echo=notaport 2>/dev/null
check_eq usage_bad_address_exits_2 2 $?
"$SOCK" serve --udp-only chat 2>/dev/null
check_eq usage_service_without_transport_exits_2 2 $?
"$SOCK" serve --udp-rate 0 2>/dev/null
check_eq usage_zero_udp_rate_exits_2 2 $?
"$SOCK" serve --udp-burst many 2>"$TMP_DIR/err"
rc=$?
check_eq usage_bad_udp_burst_exits_2 "2 1 sock serve: --udp-burst wants a count from 1 or 'unlimited', not 'many' (see 'sock serve --help')" \
	"$rc $(wc -l <"$TMP_DIR/err") $(head -n 1 "$TMP_DIR/err")"
"$SOCK" serve --udp-amplification -1 2>/dev/null
check_eq usage_bad_udp_amplification_exits_2 2 $?
"$SOCK" serve --help >"$TMP_DIR/help"
rc=$?
if [ $rc = 0 ] && grep -q '^  chargen   8019' "$TMP_DIR/help"; then
	pass help_lists_services
else
	fail help_lists_services "exit $rc: $(head -n 3 "$TMP_DIR/help")"
fi
if grep -q '^  --udp-rate N ' "$TMP_DIR/help" &&
	grep -q '^  --udp-burst N ' "$TMP_DIR/help" &&
	grep -q '^  --udp-amplification F$' "$TMP_DIR/help"; then
	pass help_lists_udp_guard_options
else
	fail help_lists_udp_guard_options "$(grep -- --udp "$TMP_DIR/help")"
fi
guard=$TMP_DIR/guard.log
if serve_start "$guard" 1 --udp-only --udp-rate unlimited --udp-burst 3 \
	--udp-amplification 4 echo=0; then
	serve_stop
	check_eq udp_guard_options_accepted 0 $?
else
	fail udp_guard_options_accepted "$(cat "$guard")"
fi

# A port in use: one line naming the address and the cause, exit 1.
busy=$TMP_DIR/busy.log
serve_start "$busy" 1 --tcp-only echo=0 || fail busy_start "no server"
port=$(port_of "$busy" echo tcp)
timeout 10 "$SOCK" serve --tcp-only echo="$port" 2>"$TMP_DIR/err"
rc=$?
msg=$(grep '^sock:' "$TMP_DIR/err")
if [ $rc = 1 ] && [ "$msg" = "sock: cannot listen on 127.0.0.1:$port (echo tcp): address already in use" ]; then
	pass port_in_use_exits_1
else
	fail port_in_use_exits_1 "exit $rc: $(cat "$TMP_DIR/err")"
fi

# ---- signals: stop, grace of at most 2 s, exit 0 ----

# The connection is held far longer than the bound below: the stop must
# end it at the grace period's end, not wait for it.
python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(60)' "$port" &
holder=$!
for _ in $(seq 200); do
	grep -q ' accept echo ' "$busy" && break
	sleep 0.05
done
t0=$(date +%s%N)
serve_stop
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
if [ $rc = 0 ] && [ $ms -lt 12000 ] && grep -q ' stop$' "$busy"; then
	pass sigterm_with_open_connection_exits_0_within_grace
else
	fail sigterm_with_open_connection_exits_0_within_grace "exit $rc after $ms ms"
fi
if grep -Eq ' close echo 127\.0\.0\.1:[0-9]+ in=0 out=0 ms=[0-9]+: closed at stop$' "$busy"; then
	pass grace_over_closes_with_a_reason
else
	fail grace_over_closes_with_a_reason "$(grep close "$busy")"
fi

log=$TMP_DIR/int.log
serve_start "$log" 2 time=0 || fail int_start "no server"
kill -INT "$SERVE_PID"
wait_bg "$SERVE_BG" 5
check_eq sigint_exits_0 0 $?
SERVE_BG= SERVE_PID=

# ---- transports, workers, engines, addresses ----

log=$TMP_DIR/tcp.log
serve_start "$log" 5 --tcp-only echo=0 time=0 chat=0 clients=0 discard=0 &&
	sleep 0.2
check_eq tcp_only_listens_on_tcp "5 0" \
	"$(grep -c ' listen .* tcp ' "$log") $(grep -c ' listen .* udp ' "$log")"
serve_stop

log=$TMP_DIR/udp.log
serve_start "$log" 5 --udp-only && sleep 0.2
check_eq udp_only_listens_on_udp "0 5" \
	"$(grep -c ' listen .* tcp ' "$log") $(grep -c ' listen .* udp ' "$log")"
serve_stop

log=$TMP_DIR/workers.log
if serve_start "$log" 3 --workers 2 echo=0 chat=0; then
	check workers_2_echo concurrent "$(port_of "$log" echo tcp)" 50
	check workers_2_chat_one_room chat_three "$(port_of "$log" chat tcp)"
fi
serve_stop

log=$TMP_DIR/uring.log
if serve_start "$log" 2 --engine io_uring echo=0; then
	check engine_io_uring_or_fallback_echo concurrent \
		"$(port_of "$log" echo tcp)" 20
	if grep -Eq ' engine (io_uring|epoll \(io_uring unavailable\))$' "$log"; then
		pass engine_logged
	else
		fail engine_logged "$(grep engine "$log")"
	fi
fi
serve_stop

log=$TMP_DIR/unix.log
if serve_start "$log" 2 echo="$TMP_DIR/echo.sock" \
	time="unix:$TMP_DIR/time.sock"; then
	if have socat; then
		out=$(printf 'over unix' | timeout 10 socat -t 5 - \
			UNIX-CONNECT:"$TMP_DIR/echo.sock")
		check_eq unix_stream_echo "over unix" "$out"
	else
		skip unix_stream_echo "socat is not installed"
	fi
	grep -q " listen time unix $TMP_DIR/time.sock\$" "$log" &&
		pass unix_listen_logged || fail unix_listen_logged "$(cat "$log")"
fi
serve_stop

log=$TMP_DIR/dgram.log
if serve_start "$log" 1 --udp-only echo="$TMP_DIR/echo.dgram"; then
	if have socat; then
		out=$(printf 'unix datagram' | timeout 10 socat -t 2 - \
			UNIX-SENDTO:"$TMP_DIR/echo.dgram",bind="$TMP_DIR/client.dgram")
		check_eq unix_datagram_echo "unix datagram" "$out"
	else
		skip unix_datagram_echo "socat is not installed"
	fi
fi
serve_stop

# --idle-timeout: an idle connection is closed, and the log says why.
log=$TMP_DIR/idle.log
if serve_start "$log" 1 --tcp-only --idle-timeout 1 echo=0; then
	out=$(timeout 10 python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=8)
t = time.time()
print(s.recv(10) == b"" and 0.5 < time.time() - t < 5)' \
		"$(port_of "$log" echo tcp)" 2>&1)
	if [ "$out" = True ] && grep -q ' limit echo idle-timeout 127\.0\.0\.1:' "$log" &&
		grep -q ' close echo .*: timed out$' "$log"; then
		pass idle_timeout_closes_idle_connections
	else
		fail idle_timeout_closes_idle_connections "$out $(cat "$log")"
	fi
fi
serve_stop

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	log=$TMP_DIR/v6.log
	if serve_start "$log" 1 --tcp-only 'echo=[::1]:0'; then
		port=$(port_of "$log" echo tcp)
		out=$(timeout 10 python3 -c 'import socket, sys
s = socket.create_connection(("::1", int(sys.argv[1])), timeout=5)
s.sendall(b"six"); s.shutdown(socket.SHUT_WR); print(s.recv(10).decode())' "$port")
		check_eq ipv6_echo six "$out"
	fi
	serve_stop
else
	skip ipv6_echo "no IPv6 loopback"
fi

# A low descriptor limit (100): said in the log, and the connection cap
# fits it (64, with 36 kept for the server's own use), whether the cap was
# the default or asked for above what the descriptors allow.
# NAME LOG-LINE SERVE-ARGS...
low_nofile() {
	local name=$1 line=$2 log=$TMP_DIR/$1.log

	shift 2
	SERVE_LOGS+=("$log")
	start_bg bash -c 'ulimit -n 100 && ulimit -Hn 100 && exec "$0" serve "$@"' \
		"$SOCK" --tcp-only "$@" echo=0 2>"$log"
	SERVE_BG=$BG_PID
	for _ in $(seq 100); do
		grep -q ' listen ' "$log" && break
		sleep 0.05
	done
	serve_child
	if grep -q " limit descriptors 100: $line " "$log"; then
		pass "${name}_logged"
	else
		fail "${name}_logged" "$(cat "$log")"
	fi
	check "${name}_cap_pauses_accepting" at_cap "$(port_of "$log" echo tcp)" 64 80
	serve_stop
	check_eq "${name}_exit_0" 0 $?
}
low_nofile low_descriptor_limit "at most 64 connections"
low_nofile asked_cap_lowered "--max-conns 500 lowered to 64" --max-conns 500

# --backlog: the kernel's queue of connections waiting to be accepted,
# which ss shows as a listener's Send-Q, on every worker's socket.
if have ss; then
	log=$TMP_DIR/backlog.log
	serve_start "$log" 1 --backlog 7 --workers 2 --tcp-only echo=0 ||
		fail backlog_start "$(cat "$log")"
	port=$(port_of "$log" echo tcp)
	queues=$(ss -Hltn "sport = :$port" | awk '{print $3}' | sort -u | tr '\n' ' ')
	n=$(ss -Hltn "sport = :$port" | wc -l)
	if [ "$queues" = "7 " ] && [ "$n" = 2 ]; then
		pass backlog_set_on_every_socket
	else
		fail backlog_set_on_every_socket "$n sockets, queues [$queues]"
	fi
	serve_stop
else
	skip backlog_set_on_every_socket "no ss (iproute2)"
fi

# ---- inetd ----

check inetd_socketpair_echo inetd_pair "$SOCK" echo
check inetd_socketpair_daytime inetd_pair "$SOCK" daytime
check inetd_udp_socket_until_sigterm inetd_udp "$SOCK"
if have socat; then
	out=$(printf 'socat exec' | timeout 10 socat -t 5 - \
		EXEC:"$SOCK serve --inetd echo" 2>/dev/null)
	check_eq inetd_socat_exec_echo "socat exec" "$out"
else
	skip inetd_socat_exec_echo "socat is not installed"
fi
"$SOCK" serve --inetd echo </dev/null 2>/dev/null
check_eq inetd_not_a_socket_exits_1 1 $?

if ! have xinetd; then
	skip xinetd_runs_inetd_echo "xinetd is not installed"
elif [ "$(id -u)" != 0 ]; then
	skip xinetd_runs_inetd_echo "xinetd needs root"
else
	port=$(free_port)
	cat >"$TMP_DIR/xinetd.conf" <<CONF
defaults
{
	log_type = FILE $TMP_DIR/xinetd.log
}
service sock-echo-test
{
	type = UNLISTED
	socket_type = stream
	protocol = tcp
	wait = no
	user = root
	bind = 127.0.0.1
	port = $port
	server = $SOCK
	server_args = serve --inetd echo
	flags = REUSE
}
CONF
	start_bg xinetd -f "$TMP_DIR/xinetd.conf" -dontfork \
		-pidfile "$TMP_DIR/xinetd.pid" 2>"$TMP_DIR/xinetd.err"
	xpid=$BG_PID
	if wait_port "$port"; then
		out=$(timeout 10 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"via xinetd"); s.shutdown(socket.SHUT_WR)
d = b""
while True:
    b = s.recv(100)
    if not b: break
    d += b
print(d.decode())' "$port" 2>&1)
		check_eq xinetd_runs_inetd_echo "via xinetd" "$out"
	else
		fail xinetd_runs_inetd_echo "$(cat "$TMP_DIR/xinetd.err")"
	fi
	kill "$xpid" 2>/dev/null
	wait_bg "$xpid" 5 >/dev/null
fi

# ---- systemd socket activation ----

# activate NAMES KINDS ARGS...: sock serve ARGS... given sockets the way
# systemd gives them; their ports land in $TMP_DIR/ports.
activate() {
	local names=$1 kinds=$2

	shift 2
	rm -f "$TMP_DIR/ports"
	start_bg python3 "$CHECK_PY" launch "$TMP_DIR/ports" "$names" "$kinds" \
		"$SOCK" serve "$@" 2>"$TMP_DIR/act.log"
	SERVE_LOGS+=("$TMP_DIR/act.log")
	SERVE_BG=$BG_PID
	for _ in $(seq 100); do
		[ -e "$TMP_DIR/ports" ] &&
			[ "$(grep -c ' listen ' "$TMP_DIR/act.log")" -ge \
				"$(tr ',' '\n' <<<"$kinds" | grep -c .)" ] && break
		sleep 0.05
	done
	serve_child
	read -r -a PORTS <"$TMP_DIR/ports"
}

activate echo:echo tcp,udp
check activation_named_tcp concurrent "${PORTS[0]}" 5
check activation_named_udp echo_udp "${PORTS[1]}" 65536
grep -q " listen echo udp 127.0.0.1:${PORTS[1]}\$" "$TMP_DIR/act.log" &&
	pass activation_listen_logged ||
	fail activation_listen_logged "$(cat "$TMP_DIR/act.log")"
serve_stop
check_eq activation_exit_0 0 $?

activate sock-chat.socket tcp
check activation_unit_name chat_three "${PORTS[0]}"
serve_stop

activate - udp time
check activation_unnamed_one_service time_udp_empty "${PORTS[0]}"
serve_stop

activate unknown:unknown tcp,tcp
sleep 0.5
if wait_bg "$SERVE_BG" 5; then
	fail activation_unmatched_socket_fails "exit 0"
else
	grep -q "no service goes with it" "$TMP_DIR/act.log" &&
		pass activation_unmatched_socket_fails ||
		fail activation_unmatched_socket_fails "$(cat "$TMP_DIR/act.log")"
fi
SERVE_BG= SERVE_PID=

if have systemd-socket-activate; then
	port=$(free_port)
	start_bg systemd-socket-activate -l 127.0.0.1:"$port" --fdname=daytime \
		"$SOCK" serve 2>"$TMP_DIR/ssa.log"
	SERVE_BG=$BG_PID
	serve_child
	wait_port "$port" && check systemd_socket_activate_daytime daytime "$port" tcp
	serve_stop
else
	skip systemd_socket_activate_daytime "systemd-socket-activate is not installed"
fi

serve_finish

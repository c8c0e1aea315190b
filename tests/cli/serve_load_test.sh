#!/usr/bin/env bash
# serve_load_test.sh -- sock serve under load: concurrency, idle connections, garbage, loop guard
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need python3
LOG=$TMP_DIR/serve.log
serve_start "$LOG" 12 --quiet echo=0 discard=0 daytime=0 chargen=0 time=0 \
	clients=0 chat=0 || { fail start "sock serve did not start"; finish; }
tcp() { port_of "$LOG" "$1" tcp; }
udp() { port_of "$LOG" "$1" udp; }

check two_hundred_concurrent_echo_clients concurrent "$(tcp echo)" 200
check five_hundred_idle_connections_held_while_others_served \
	idle "$(tcp echo)" "$(tcp clients)" "$SERVE_PID" 500

# Garbage at every port, TCP and UDP; then every service still answers.
tcp_ports=$(for s in echo discard daytime chargen time clients chat; do
	tcp $s; done | paste -sd,)
udp_ports=$(for s in echo discard daytime chargen time; do
	udp $s; done | paste -sd,)
check garbage_at_every_port garbage "$tcp_ports" "$udp_ports"
if kill -0 "$SERVE_PID" 2>/dev/null; then
	pass server_alive_after_garbage
else
	fail server_alive_after_garbage "sock serve is gone"
fi
check echo_after_garbage concurrent "$(tcp echo)" 5
check time_after_garbage time_udp_empty "$(udp time)"
check clients_after_garbage clients_names "$(tcp clients)"
check chat_after_garbage chat_three "$(tcp chat)"

# 10,000 idle connections on a fresh server, which keeps only a few hundred
# bytes of its own for each and still answers others.
serve_stop
LOG=$TMP_DIR/idle.log
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt 10200 ]; then
	skip ten_thousand_idle_connections "descriptor limit $(ulimit -Hn)"
elif serve_start "$LOG" 3 --quiet echo=0 clients=0; then
	check ten_thousand_idle_connections idle "$(tcp echo)" "$(tcp clients)" \
		"$SERVE_PID" 10000 400
else
	fail ten_thousand_idle_connections "sock serve did not start"
fi

# The loop guard: no reply to a privileged source port (needs root).
check udp_no_reply_to_privileged_port privileged_port "$(udp echo)"
if [ "$(id -u)" = 0 ]; then
	if grep -q ' limit echo privileged-source-port 127.0.0.1:999: ' "$LOG"; then
		pass privileged_port_logged
	else
		fail privileged_port_logged "no limit line in the log"
	fi
fi

# --quiet: no line per connection, but limits are still told.
if grep -Eq ' (accept|close) ' "$LOG"; then
	fail quiet_has_no_connection_lines "$(grep -E ' (accept|close) ' "$LOG" | head -n 3)"
else
	pass quiet_has_no_connection_lines
fi

serve_stop
check_eq sigterm_exit_status 0 $?
serve_finish

# serve_lib.sh -- helpers of the serve_*_test.sh scripts, sourced after lib.sh
#
# serve_start LOG N ARGS...  starts "sock serve ARGS..." in the background
#   (standard error to LOG) and waits until it logged N "listen" lines; the
#   server's own PID is left in SERVE_PID (BG_PID is timeout(1)'s).  Give
#   every service port 0 (echo=0): the kernel picks free ports, read them
#   back with port_of.
# port_of LOG SERVICE TRANSPORT  prints the port SERVICE listens on (tcp,
#   udp) as logged.
# serve_child  sets SERVE_PID for a server started otherwise (SERVE_BG).
# serve_stop  sends SIGTERM to the server (not to timeout(1), which would
#   follow it with SIGKILL 2 s later) and waits; returns the exit status.
# serve_finish  fails when a server's log (SERVE_LOGS) holds a sanitizer
#   report (make asan), then finishes.
# check PY-CHECK NAME ARGS...  runs serve_check.py's check and passes,
#   fails or skips NAME by its exit status (0, 1, 77).

SOCK=$SOCK_BUILD/sock
CHECK_PY=$SOCK_SRC/tests/cli/serve_check.py
SERVE_PID=
SERVE_BG=
SERVE_LOGS=()

serve_start() {
	local log=$1 n=$2 child

	shift 2
	SERVE_LOGS+=("$log")
	start_bg "$SOCK" serve "$@" 2>"$log"
	SERVE_BG=$BG_PID
	for _ in $(seq $((LIB_WAIT * 20))); do
		[ "$(grep -c ' listen ' "$log")" -ge "$n" ] && break
		kill -0 "$SERVE_BG" 2>/dev/null || break
		sleep 0.05
	done
	serve_child
	if [ "$(grep -c ' listen ' "$log")" -lt "$n" ]; then
		echo "    sock serve $* did not start:" >&2
		sed 's/^/    | /' "$log" >&2
		return 1
	fi
}

# SERVE_PID from SERVE_BG: timeout(1)'s child.
serve_child() {
	local child

	child=$(cat /proc/"$SERVE_BG"/task/*/children 2>/dev/null)
	SERVE_PID=${child%% *}
}

port_of() {
	awk -v s="$2" -v t="$3" '$2 == "listen" && $3 == s && $4 == t {
		n = split($5, a, ":"); print a[n]; exit }' "$1"
}

serve_stop() {
	[ -n "$SERVE_BG" ] || return 0
	kill -TERM "${SERVE_PID:-$SERVE_BG}" 2>/dev/null
	wait_bg "$SERVE_BG" 30
	local rc=$?
	SERVE_BG= SERVE_PID=
	return $rc
}

check() {
	local name=$1 rc

	shift
	python3 "$CHECK_PY" "$@" 2>"$TMP_DIR/check.err"
	rc=$?
	case $rc in
	0) pass "$name" ;;
	77) skip "$name" "$(tr -s ' \n' ' ' <"$TMP_DIR/check.err")" ;;
	*) fail "$name" "$(tail -n 3 "$TMP_DIR/check.err" | tr -s ' \n' ' ')" ;;
	esac
	[ -s "$TMP_DIR/check.err" ] && [ $rc = 0 ] && cat "$TMP_DIR/check.err"
	return 0
}

serve_finish() {
	local log

	serve_stop
	for log in "${SERVE_LOGS[@]}"; do
		if grep -Eq 'Sanitizer|runtime error:' "$log"; then
			fail sanitizer "$(grep -E -m 3 'Sanitizer|runtime error:' "$log")"
			sed 's/^/    | /' "$log" | head -n 40
		fi
	done
	finish
}

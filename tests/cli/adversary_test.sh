#!/usr/bin/env bash
# adversary_test.sh -- attacks on sock serve from outside, on both engines (tests/adversary/)
#
# build/tests/adversary starts sock serve, attacks it (non-reading and idle
# floods, the cap with workers, half-open connections, garbage, a reset
# storm, UDP from many sources) and prints one FIGURE line per measurement
# and one PASS/FAIL/SKIP line per check; this script runs it once per
# engine and adds the checks up.
#
# Non-loopback UDP sources need two network namespaces joined by a veth
# pair, 10.78.0.1 (the server) and 10.78.0.2, .10-.249 (its peers): made
# here when root, deleted on exit; otherwise that scenario is a reported
# skip.  ADVERSARY_SCENARIOS (words) runs only the scenarios named so.
. "$(dirname "$0")/lib.sh"

ADV=$SOCK_BUILD/tests/adversary
if [ ! -x "$ADV" ] || [ ! -x "$SOCK_BUILD/sock" ]; then
	fail build "$ADV or $SOCK_BUILD/sock is missing (make tests)"
	finish
fi

NS_S= NS_C=

netns_up() {
	local i

	[ "$(id -u)" = 0 ] && have ip || return 1
	NS_S=sockadv-$$-s NS_C=sockadv-$$-c
	ip netns add "$NS_S" 2>/dev/null || { NS_S=; return 1; }
	ip netns add "$NS_C" 2>/dev/null || { NS_C=; return 1; }
	ip -n "$NS_S" link add adv0 type veth peer name adv1 netns "$NS_C" ||
		return 1
	{
		echo "addr add 10.78.0.2/24 dev adv1"
		for i in $(seq 10 249); do
			echo "addr add 10.78.0.$i/24 dev adv1"
		done
		echo "link set adv1 up"
		echo "link set lo up"
	} | ip -n "$NS_C" -batch - || return 1
	ip -n "$NS_S" addr add 10.78.0.1/24 dev adv0 &&
		ip -n "$NS_S" link set adv0 up &&
		ip -n "$NS_S" link set lo up &&
		wait_link "$NS_S" adv0 && wait_link "$NS_C" adv1
}

netns_down() {
	[ -n "$NS_S" ] && ip netns del "$NS_S" 2>/dev/null
	[ -n "$NS_C" ] && ip netns del "$NS_C" 2>/dev/null
	NS_S= NS_C=
}

trap 'netns_down; lib_cleanup' EXIT

args=(--sock "$SOCK_BUILD/sock" --tmp "$TMP_DIR")
case "${SOCK_CFLAGS:-} ${SOCK_LDFLAGS:-}" in
*-fsanitize=*) args+=(--sanitized) ;;
esac
if netns_up; then
	args+=(--netns "/run/netns/$NS_S,/run/netns/$NS_C")
else
	netns_down
fi

start=$(date +%s)
for engine in epoll io_uring; do
	out=$TMP_DIR/$engine.out
	# shellcheck disable=SC2086 # the scenario words are words
	LIB_BG_LIMIT=240 start_bg "$ADV" "${args[@]}" --engine "$engine" \
		${ADVERSARY_SCENARIOS:-} >"$out" 2>&1
	wait_bg "$BG_PID" 250
	rc=$?
	cat "$out"
	LIB_PASSED=$((LIB_PASSED + $(grep -c '^PASS ' "$out")))
	LIB_FAILED=$((LIB_FAILED + $(grep -c '^FAIL ' "$out")))
	LIB_SKIPPED=$((LIB_SKIPPED + $(grep -c '^SKIP ' "$out")))
	if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
		fail "$engine" "the adversary ended with status $rc"
	fi
done
echo "adversary_test: both engines in $(($(date +%s) - start)) s"
finish

#!/usr/bin/env bash
# run.sh -- runs every unit test program and end-to-end script, adds up results
#
# Usage: tests/run.sh BUILD_DIR [FILTER]
# Every program prints "RESULT name passed failed skipped"; a program that
# ends without that line counts as one failure.  With VALGRIND=1 the unit
# tests run under valgrind and any leak or memory error fails the test.
# The last line is "N passed, N failed, N skipped"; the exit status is 1
# when anything failed.
set -u
build=${1:-build}
filter=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0

wrap=()
if [ "${VALGRIND:-0}" = 1 ]; then
	wrap=(valgrind --quiet --suppressions="$here/valgrind.supp"
	      --leak-check=full --show-leak-kinds=definite,indirect,possible
	      --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99)
	export SOCK_TEST_TIMEOUT=${SOCK_TEST_TIMEOUT:-120}
	export SOCK_WRAP="${wrap[*]}"
fi
export SOCK_BUILD=$(cd "$build" && pwd)
export SOCK_SRC=$(cd "$here/.." && pwd)

add() { # add "RESULT name p f s" lines from a log; a missing line is a failure
	local log=$1 what=$2 line
	line=$(grep '^RESULT ' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $what (ended without a RESULT line)"
		failed=$((failed + 1))
		return
	fi
	set -- $line
	passed=$((passed + $3)) failed=$((failed + $4)) skipped=$((skipped + $5))
}

run() { # run one program, showing its output, and add its result
	local what=$1 log
	shift
	log=$(mktemp)
	timeout --kill-after=10 900 "$@" 2>&1 | tee "$log" | grep -v '^RESULT '
	add "$log" "$what"
	rm -f "$log"
}

for t in "$build"/tests/*_test; do
	[ -x "$t" ] || continue
	case "$(basename "$t")" in *"$filter"*) ;; *) continue ;; esac
	run "$(basename "$t")" "${wrap[@]}" "$t"
done
for t in "$here"/cli/*_test.sh; do
	[ -f "$t" ] || continue
	case "$(basename "$t")" in *"$filter"*) ;; *) continue ;; esac
	run "$(basename "$t")" bash "$t"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]

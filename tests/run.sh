#!/usr/bin/env bash
# run.sh -- runs every unit test program and end-to-end script, adds up results
#
# Usage: tests/run.sh BUILD_DIR [FILTER...]
# Every program prints "RESULT name passed failed skipped"; a program that
# ends without that line counts as one failure.  A program or script runs
# when its name contains one of the FILTERs (all of them without one).
# With VALGRIND=1 the unit tests run under valgrind and any leak or memory
# error fails the test.  With TSAN=1 (a build with -fsanitize=thread) every
# process writes its ThreadSanitizer reports to a file of its own: each
# report, in whatever process, fails the program that started it.
# The last line is "N passed, N failed, N skipped"; the exit status is 1
# when anything failed.
set -u
build=${1:-build}
shift
filters=("$@")
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
tsan_dir=
if [ "${TSAN:-0}" = 1 ]; then
	tsan_dir=$(mktemp -d)
	# A report ends the process that found it (exit status 66) and goes
	# to tsan_dir/report.PID, so reports from forked handlers and
	# background servers, whose status no one checks, are seen too.
	export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 \
log_path=$tsan_dir/report suppressions=$here/tsan.supp ${TSAN_OPTIONS:-}"
	export SOCK_TEST_TIMEOUT=${SOCK_TEST_TIMEOUT:-60}
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

tsan_reports() { # show the ThreadSanitizer reports since the last call
	local what=$1 r
	[ -n "$tsan_dir" ] || return 0
	for r in "$tsan_dir"/report.*; do
		[ -f "$r" ] || continue
		echo "FAIL $what: ThreadSanitizer, process ${r##*.}:"
		sed 's/^/    /' "$r"
		failed=$((failed + 1))
		rm -f "$r"
	done
}

times=$(mktemp)
trap 'rm -f "$times"; [ -z "$tsan_dir" ] || rm -rf "$tsan_dir"' EXIT

run() { # run one program, showing its output, and add its result
	local what=$1 log t0
	shift
	log=$(mktemp)
	t0=$SECONDS
	timeout --kill-after=10 900 "$@" 2>&1 | tee "$log" | grep -v '^RESULT '
	echo "$((SECONDS - t0)) $what" >>"$times"
	add "$log" "$what"
	rm -f "$log"
	tsan_reports "$what"
}

wanted() { # is program or script $1 one the filters name?
	local f

	[ ${#filters[@]} = 0 ] && return 0
	for f in "${filters[@]}"; do
		case "$1" in *"$f"*) return 0 ;; esac
	done
	return 1
}

for t in "$build"/tests/*_test; do
	[ -x "$t" ] || continue
	wanted "$(basename "$t")" || continue
	run "$(basename "$t")" "${wrap[@]}" "$t"
done
for t in "$here"/cli/*_test.sh; do
	[ -f "$t" ] || continue
	wanted "$(basename "$t")" || continue
	run "$(basename "$t")" bash "$t"
done

# Where the time went: the slowest programs, in seconds.
echo "slowest: $(sort -rn "$times" | head -n 8 |
	awk '{ printf "%s%s %ss", (NR > 1 ? ", " : ""), $2, $1 }') of $SECONDS s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]

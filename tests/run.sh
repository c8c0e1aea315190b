#!/usr/bin/env bash
# run.sh -- runs every unit test program and end-to-end script, adds up results
#
# Usage: tests/run.sh BUILD_DIR [FILTER...]
# Every program prints "RESULT name passed failed skipped"; a program that
# ends without that line counts as one failure.  A program or script runs
# when its name contains one of the FILTERs (all of them without one), or
# is the name a FILTER gives after "=" (=tls_test: that program alone, not
# serve_tls_test.sh).
# With VALGRIND=1 the unit tests run under valgrind and any leak or memory
# error fails the test.  With TSAN=1 (a build with -fsanitize=thread) every
# process writes its ThreadSanitizer reports to a file of its own: each
# report, in whatever process, fails the program that started it.
# TEST_JOBS=N runs N programs at once (each one's output shown when it ends).
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

tsan_reports() { # show the ThreadSanitizer reports a program's processes wrote
	local what=$1 dir=$2 r
	[ -n "$tsan_dir" ] || return 0
	for r in "$dir"/report.*; do
		[ -f "$r" ] || continue
		echo "FAIL $what: ThreadSanitizer, process ${r##*.}:"
		sed 's/^/    /' "$r"
		failed=$((failed + 1))
		rm -f "$r"
	done
}

# TEST_JOBS=N runs N programs at once (default 1), each program's output
# shown whole when it ends; one runs at a time otherwise, its output as
# it comes.
jobs=${TEST_JOBS:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -z "$tsan_dir" ] || rm -rf "$tsan_dir"' EXIT
declare -A running=()

# The tests start python3 some hundreds of times (the seeds' programs,
# peers, servers that misbehave).  Where python3 is a version manager's
# shim (pyenv's is a shell script that runs more scripts to pick an
# interpreter), each start costs half a second on this machine instead
# of 70 ms, and a third of the run went there.  So the interpreter the
# shim picks is looked up once, and the tests find it first on PATH.
if py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) &&
	[ -x "$py" ] && [ "$py" != "$(command -v python3)" ]; then
	mkdir -p "$work/bin"
	ln -s "$py" "$work/bin/python3"
	export PATH="$work/bin:$PATH"
fi

finish_one() { # a program's run ended: show it, add its result
	local id=$1 what
	what=$(cat "$work/$id.name")
	[ "$jobs" = 1 ] || grep -v '^RESULT ' "$work/$id.log"
	add "$work/$id.log" "$what"
	tsan_reports "$what" "$work/$id.tsan"
	rm -rf "$work/$id".*
}

n=0
run() { # run one program (in the background with TEST_JOBS > 1)
	local what=$1 id pid
	shift
	n=$((n + 1)) id=$n
	echo "$what" >"$work/$id.name"
	mkdir -p "$work/$id.tsan"
	(
		t0=$SECONDS
		[ -z "$tsan_dir" ] ||
			export TSAN_OPTIONS="${TSAN_OPTIONS/log_path=$tsan_dir/log_path=$work/$id.tsan}"
		if [ "$jobs" = 1 ]; then
			timeout --kill-after=10 900 "$@" 2>&1 |
				tee "$work/$id.log" | grep -v '^RESULT '
		else
			timeout --kill-after=10 900 "$@" >"$work/$id.log" 2>&1 \
				</dev/null
		fi
		echo "$((SECONDS - t0)) $what" >>"$work/times"
	) &
	pid=$!
	running[$pid]=$id
	while [ "${#running[@]}" -ge "$jobs" ]; do
		reap
	done
}

reap() { # wait for one program to end, and finish it
	local done=
	wait -n -p done "${!running[@]}"
	[ -n "$done" ] || return 0
	finish_one "${running[$done]}"
	unset "running[$done]"
}

wanted() { # is program or script $1 one the filters name?
	local f

	[ ${#filters[@]} = 0 ] && return 0
	for f in "${filters[@]}"; do
		case "$f" in
		=*) [ "$1" = "${f#=}" ] && return 0 ;;
		*) case "$1" in *"$f"*) return 0 ;; esac ;;
		esac
	done
	return 1
}

# The scripts first: they are the longest, and with TEST_JOBS > 1 the
# short programs then fill in beside them rather than leave one long
# script running alone at the end.
for t in "$here"/cli/*_test.sh; do
	[ -f "$t" ] || continue
	wanted "$(basename "$t")" || continue
	run "$(basename "$t")" bash "$t"
done
for t in "$build"/tests/*_test; do
	[ -x "$t" ] || continue
	wanted "$(basename "$t")" || continue
	run "$(basename "$t")" "${wrap[@]}" "$t"
done
while [ "${#running[@]}" -gt 0 ]; do
	reap
done

# Where the time went: the slowest programs, in seconds.
echo "slowest: $(sort -rn "$work/times" | head -n 8 |
	awk '{ printf "%s%s %ss", (NR > 1 ? ", " : ""), $2, $1 }') of $SECONDS s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]

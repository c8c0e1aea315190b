#!/usr/bin/env bash
# walk.sh -- walk every injection point of the torture scenarios: count the calls, then fail each in turn
#
# usage: walk.sh TORTURE_BINARY
#
# For each scenario the binary lists: a run with nothing failed, which
# must be correct and counts C_f calls of each function f; then for each f
# and each N in 1..C_f, a run with call N of f
# failed (TORTURE_FAIL=f:N), and for a few functions once more with their
# other usual error.  Each run must end clean (its verdict, no sanitizer
# report, no crash, no hang).  Prints the points walked per scenario and
# per function, and every failure with the command that repeats it; exits
# 1 if any run failed.
#
#   TORTURE_STRIDE=S   walk every S-th point of the whole list (default 1:
#                      all of them), the first being the TORTURE_OFFSET-th
#                      (default 0): CI walks a share, in a bounded time
#   TORTURE_ONLY=RE    only the scenarios whose names match RE (grep -E)
#   TORTURE_JOBS=J     runs at once (default 2)
#   TORTURE_TIMEOUT=T  seconds a run may take (default 90; the scenario's
#                      own alarm rings at 60)
set -u

bin=$(realpath "$1")
stride=${TORTURE_STRIDE:-1}
offset=${TORTURE_OFFSET:-0}
only=${TORTURE_ONLY:-}
jobs=${TORTURE_JOBS:-2}
limit=${TORTURE_TIMEOUT:-90}
out=$(dirname "$bin")/torture-runs
export ASAN_OPTIONS=detect_leaks=1:exitcode=86
export LSAN_OPTIONS=exitcode=87
export UBSAN_OPTIONS=print_stacktrace=1:exitcode=88

# Other errors walked too, where a function's failures take more than
# one path: the watch limit (epoll_ctl), a kernel short of memory
# (accept4), a name server that does not answer (getaddrinfo), and a full
# io_uring submission queue that does empty (io_uring_get_sqe).
variants() {
	case $1 in
	epoll_ctl) echo ENOSPC ;;
	accept4) echo ENOMEM ;;
	getaddrinfo) echo EAI_AGAIN ;;
	io_uring_get_sqe) echo 0 ;;
	esac
}

# One run: scenario, function, N, error ("" for the usual).  Prints
# "scenario function[:error] N fired|unfired MS VERDICT" or "... N FAIL
# why (MS ms)", and keeps the output of a failed run in $out, with a
# second run that says where the failed call was made.
run_one() {
	local sc=$1 fn=$2 n=$3 err=$4 spec log status t0 result
	spec=$fn:$n${err:+:$err}
	log=$out/$sc.$fn${err:+.$err}.$n.log
	t0=$EPOCHREALTIME
	TORTURE_FAIL=$spec timeout -k 5 "$limit" "$bin" "$sc" >"$log" 2>&1
	status=$?
	result=$(awk -v status="$status" -v limit="$limit" \
		-v ms="$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))" '
		/ERROR: LeakSanitizer/ { leak = 1 }
		/ERROR: AddressSanitizer/ && !asan { asan = $0 }
		/runtime error:/ && !ub { ub = $0 }
		/^torture: verdict FAIL/ && !bad { bad = $0 }
		/^torture: verdict/ { verdict = $3 }
		/^torture: fired/ { fired = 1 }
		END {
			if (leak) why = "leak"
			else if (asan) why = "AddressSanitizer:" substr(asan, index(asan, "Sanitizer:") + 10)
			else if (ub) why = "UndefinedBehaviorSanitizer:" substr(ub, index(ub, "runtime error:") + 14)
			else if (status == 124 || status == 137) why = "hang: killed after " limit " s"
			else if (status == 142) why = "hang: the scenario alarm rang"
			else if (status > 128) why = "crash: signal " status - 128
			else if (bad) why = substr(bad, 24)
			else if (status != 0 || !verdict) why = "exit status " status " without a verdict"
			if (why != "") print "FAIL " why " (" ms " ms)"
			else print (fired ? "fired " : "unfired ") ms " " verdict
		}' "$log")
	echo "$sc $fn${err:+:$err} $n $result"
	case $result in
	FAIL*)
		echo "torture: the same again, traced" >>"$log"
		TORTURE_TRACE=1 TORTURE_FAIL=$spec timeout -k 5 "$limit" \
			"$bin" "$sc" >>"$log" 2>&1
		;;
	*) rm -f "$log" ;;
	esac
}

rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
all=$out/points
plan=$out/plan
results=$out/results
: >"$all"
: >"$results"
bad=0
skipped=0

# Count: one clean run per scenario, which also checks it passes.
for sc in $("$bin" list | grep -v '^skip '); do
	[ -n "$only" ] && ! grep -qE -- "$only" <<<"$sc" && continue
	log=$out/$sc.count.log
	if ! timeout -k 5 "$limit" "$bin" "$sc" >"$log" 2>&1 ||
		! grep -q '^torture: verdict correct' "$log"; then
		echo "$sc count - FAIL the run with nothing failed is not correct" >>"$results"
		bad=$((bad + 1))
		continue
	fi
	while read -r _ _ fn calls; do
		for err in "" $(variants "$fn"); do
			for ((n = 1; n <= calls; n++)); do
				echo "$sc $fn $n${err:+ $err}" >>"$all"
			done
		done
	done < <(grep '^torture: calls ' "$log")
	rm -f "$log"
done
while read -r sk sc why; do
	[ -n "$only" ] && ! grep -qE -- "$only" <<<"$sc" && continue
	echo "torture: skipped $sc: $why"
	skipped=$((skipped + 1))
done < <("$bin" list | grep '^skip ')

# Every point, or with a stride every stride-th of them, from offset.
awk -v s="$stride" -v o="$offset" '(NR - 1) % s == o % s' "$all" >"$plan"

# Walk, $jobs runs at a time.
running=0
while read -r sc fn n err; do
	run_one "$sc" "$fn" "$n" "${err:-}" >>"$results" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done <"$plan"
wait

# Report: per scenario, per function, then the failures.
echo "torture: injection points walked (fired: the call was made and failed)"
awk '$2 != "count" {
	split($2, f, ":"); sc[$1]++; fn[f[1]]++
	if ($4 == "fired") { scf[$1]++; fnf[f[1]]++ }
	if ($4 == "FAIL") { scx[$1]++; fnx[f[1]]++ }
}
END {
	for (s in sc)
		printf "  %-28s %5d walked %5d fired %3d failed\n", s, sc[s], scf[s], scx[s] | "sort"
	close("sort")
	print "torture: per function"
	for (s in fn)
		printf "  %-34s %5d walked %5d fired %3d failed\n", s, fn[s], fnf[s], fnx[s] | "sort"
	close("sort")
}' "$results"
awk '$4 == "fired" { n[$6]++ }
END {
	printf "torture: ends of the runs that failed a call: %d clean errors, %d recoveries\n", n["clean-error:"], n["recovered"]
}' "$results"
walked=$(awk '$2 != "count"' "$results" | wc -l)
fired=$(awk '$4 == "fired"' "$results" | wc -l)
failed=$(awk '$4 == "FAIL"' "$results" | wc -l)
if [ "$failed" -gt 0 ]; then
	echo "torture: failures (logs in $out; repeat with TORTURE_FAIL=F:N $bin SCENARIO):"
	grep ' FAIL ' "$results" | sort | sed 's/^/  /'
fi
echo "torture: $walked of $(wc -l <"$all") injection points walked in $(($(date +%s) - start)) s (stride $stride, offset $offset): $fired fired, $failed failed, $skipped scenarios skipped"
[ "$failed" -eq 0 ]

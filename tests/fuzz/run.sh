#!/bin/sh
# run.sh -- run fuzz targets for a bounded time each and report their figures
#
# usage: [FUZZ_RUNS=N] tests/fuzz/run.sh DIR SECONDS TARGET...
#
# Runs DIR/TARGET (built by make fuzz-build) for SECONDS seconds (or
# until it has run FUZZ_RUNS inputs, when that is set and comes first) on the
# corpus it grew in DIR/corpus/TARGET and its seeds in
# tests/fuzz/corpus/TARGET (libFuzzer first runs every seed: a crashing
# input kept there is a regression test), with TARGET's dictionary
# tests/fuzz/TARGET.dict when there is one.  Prints one line per target:
# executions, coverage (libFuzzer's cov and ft), corpus size.  Exits 1 if
# any target crashed, leaked, timed out or broke its invariant; the input
# that did it is kept in DIR/crashes/TARGET/ and the log's end is shown.
set -u

dir=$1
seconds=$2
shift 2
here=$(dirname "$0")
status=0

# Inputs long enough for what a target reads: chat lines of 1024 bytes
# and more, client names, JSON documents.
max_len() {
	case $1 in
	chat | clients | streams) echo 16384 ;;
	json | activation) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

# The sanitizer's allocator keeps 64 MiB of freed memory poisoned (a run
# frees far less, so a use after free in it is still caught) and keeps
# its pages: with the defaults (256 MiB, pages given back every few
# seconds) the targets that allocate much spend their time in page faults.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64:allocator_release_to_os_interval_ms=-1}"

for t in "$@"; do
	corpus=$dir/corpus/$t
	crashes=$dir/crashes/$t
	log=$dir/$t.log
	seeds=$here/corpus/$t
	mkdir -p "$corpus" "$crashes"
	set -- -max_total_time="$seconds" -max_len="$(max_len "$t")" \
		-timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/"
	[ -f "$here/$t.dict" ] && set -- "$@" -dict="$here/$t.dict"
	# tls_server's server thread allocates and frees on its own time, so
	# an input's mallocs and frees rarely balance, and libFuzzer would
	# scan the whole heap for leaks after most inputs (about 375 inputs
	# a second instead of 570 here).  LeakSanitizer still checks at exit,
	# and a leak found there fails the run (tried: a malloc left in
	# sock__tls_begin failed it after 3,191 inputs, 3,190 leaks).
	[ "$t" = tls_server ] && set -- "$@" -detect_leaks=0
	[ -n "${FUZZ_RUNS:-}" ] && set -- "$@" -runs="$FUZZ_RUNS"
	[ -d "$seeds" ] || seeds=
	start=$(date +%s)
	"$dir/$t" "$@" "$corpus" $seeds >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	files=$(find "$corpus" -type f | wc -l)
	bytes=$(du -sb "$corpus" | cut -f1)
	if [ "$rc" -ne 0 ]; then
		echo "fuzz $t: FAILED (status $rc) after ${runs:-?} runs; input in $crashes/"
		tail -n 40 "$log" | sed 's/^/    /'
		status=1
		continue
	fi
	echo "fuzz $t: ok, ${runs:-?} runs in $took s, ${cov:-cov: ?}, corpus $files files ($bytes bytes)"
done
exit $status

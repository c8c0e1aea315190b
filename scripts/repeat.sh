#!/bin/sh
# repeat.sh -- run a make target N times in a row, as issue 10 asks of
# make test, make asan and make tsan; stop at the first failure
#
# usage: scripts/repeat.sh N TARGET [LOGDIR]
#
# Each run's output goes to LOGDIR/TARGET-I.log (default build/repeat);
# one line per run is printed: its status, its time and the suite's
# "N passed, N failed, N skipped" line.  Exits 1 at the first run that
# fails, 0 when all N passed.  Run it on a clean clone: a checkout being
# edited meanwhile would test more than one version.
set -u

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	echo "usage: $0 N TARGET [LOGDIR]" >&2
	exit 2
fi
n=$1
target=$2
logs=${3:-build/repeat}
case $n in
'' | *[!0-9]*)
	echo "$0: N must be a number" >&2
	exit 2
	;;
esac
mkdir -p "$logs" || exit 2
echo "repeat: make $target, $n runs, on $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
i=1
while [ "$i" -le "$n" ]; do
	log=$logs/$target-$i.log
	start=$(date +%s)
	make "$target" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	tally=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -n 1)
	echo "run $i: status $rc, $took s: ${tally:-no tally}"
	if [ "$rc" -ne 0 ]; then
		echo "repeat: run $i of make $target failed; its log is $log"
		exit 1
	fi
	i=$((i + 1))
done
echo "repeat: $n of $n runs of make $target passed"

#!/usr/bin/env bash
# chart.sh -- the soak's chart: each server's RSS and descriptors over time, from soak.csv
#
# usage: tests/soak/chart.sh CSV PNG [SUMMARY_JSON]
#
# One panel per server for RSS, one for the descriptors of all of them;
# load phases shaded.  With SUMMARY_JSON (soak.py's summary.json) a
# server's panel shows RSS less its baseline, with the margin, which is
# what the soak checks; without it, RSS itself.  Needs gnuplot:
# installed here with apt-get (package gnuplot-nox) when missing and we
# are root; otherwise it says so and exits 1.
set -eu
csv=$1 png=$2 summary=${3:-}

if ! command -v gnuplot >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "chart: installing gnuplot-nox" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox \
			>/dev/null || { apt-get update -qq >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				gnuplot-nox >/dev/null; }
	fi
	command -v gnuplot >/dev/null || {
		echo "chart: gnuplot is missing: apt-get install gnuplot-nox" >&2
		exit 1
	}
fi

# The engines, from the columns named ENGINE_rss_kb.
engines=$(head -n 1 "$csv" | tr ',' '\n' | sed -n 's/_rss_kb$//p')
col() { head -n 1 "$csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }

# baseline and baseline + margin of an engine, in KiB, from the summary.
limits() {
	[ -n "$summary" ] || return 0
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
e = s["engines"].get(sys.argv[2], {})
b = (e.get("baseline") or {}).get("rss_kb")
if b:
    print(b, b + s["rss_margin_kb"])' "$summary" "$1"
}

n=$(echo "$engines" | wc -w)
height=$((260 * (n + 1)))
{
	cat <<EOF
set terminal pngcairo size 1000,$height font 'sans,10' noenhanced
set output '$png'
set datafile separator ','
set multiplot layout $((n + 1)),1 title 'sock serve under the soak: RSS and open descriptors, sampled each second (load phases shaded)'
set grid
set key outside right top
set xlabel 'seconds'
set style fill transparent solid 0.35 noborder
EOF
	for e in $engines; do
		rss=$(col "${e}_rss_kb")
		set -- $(limits "$e")
		echo "set autoscale y"
		echo "stats '$csv' using $rss name 'R' nooutput"
		if [ $# = 2 ]; then
			# RSS less the baseline, in KiB: the check itself.
			echo "base = $1"
			echo "margin = $2 - $1"
			echo "set ylabel 'VmRSS - baseline, KiB'"
			echo "set title '$e: baseline ' . sprintf('%d', base) . ' KiB (after warm-up, quiet); warm-up runs below the chart'"
			echo "top = (R_max - base) * 1.15 > 2 * margin ? (R_max - base) * 1.15 : 2 * margin"
			echo "set yrange [-2 * margin : top]"
			echo "plot '$csv' using 1:(\$3 * (top + 2 * margin) - 2 * margin) with fillsteps lc rgb '#f2d9a6' title 'load', '' using 1:(\$$rss - base) with lines lw 2 lc rgb '#1f77b4' title 'VmRSS - baseline', 0 with lines dt 2 lc rgb 'black' title 'baseline', margin with lines dt 3 lw 2 lc rgb 'red' title 'baseline + margin'"
		else
			echo "set ylabel 'VmRSS, KiB'"
			echo "set title '$e'"
			echo "set yrange [0 : R_max * 1.25]"
			echo "plot '$csv' using 1:(\$3 * R_max * 1.25) with fillsteps lc rgb '#f2d9a6' title 'load', '' using 1:$rss with lines lw 2 lc rgb '#1f77b4' title 'VmRSS'"
		fi
	done
	echo "set title 'open descriptors'"
	echo "set ylabel 'descriptors'"
	echo "set autoscale y"
	echo "set yrange [0:*]"
	plot="plot"
	colors=("#1f77b4" "#d62728" "#2ca02c")
	i=0
	for e in $engines; do
		fds=$(col "${e}_fds")
		plot="$plot '$csv' using 1:$fds with lines lw 2 lc rgb '${colors[$i]}' title '$e',"
		i=$((i + 1))
	done
	echo "${plot%,}"
	echo "unset multiplot"
} | gnuplot
echo "chart: $png"

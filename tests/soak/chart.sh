#!/usr/bin/env bash
# chart.sh -- the soak's chart: each server's RSS and descriptors over time, from soak.csv
#
# usage: tests/soak/chart.sh CSV PNG [SUMMARY_JSON]
#
# One panel per server for RSS, one for the descriptors of all of them;
# load phases shaded; with SUMMARY_JSON (soak.py's summary.json), each
# server's baseline and baseline + margin drawn as lines.  Needs gnuplot:
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

# baseline and baseline + margin of an engine, in MiB, from the summary.
limits() {
	[ -n "$summary" ] || return 0
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
e = s["engines"].get(sys.argv[2], {})
b = (e.get("baseline") or {}).get("rss_kb")
if b:
    print(b / 1024, (b + s["rss_margin_kb"]) / 1024)' "$summary" "$1"
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
set key bottom right opaque
set xlabel 'seconds'
set style fill transparent solid 0.12 noborder
EOF
	for e in $engines; do
		rss=$(col "${e}_rss_kb")
		set -- $(limits "$e")
		echo "set ylabel 'RSS, MiB'"
		echo "set title '$e'"
		echo "set autoscale y"
		echo "stats '$csv' using $rss name 'R' nooutput"
		echo "set yrange [0:R_max / 1024 * 1.25]"
		plot="plot '$csv' using 1:(\$3 * R_max / 1024 * 1.25) with fillsteps lc rgb 'gray' title 'load', '' using 1:(\$$rss / 1024) with lines lw 2 lc rgb '#1f77b4' title 'VmRSS'"
		if [ $# = 2 ]; then
			plot="$plot, $1 with lines dt 2 lc rgb 'black' title 'baseline', $2 with lines dt 3 lc rgb 'red' title 'baseline + margin'"
		fi
		echo "$plot"
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

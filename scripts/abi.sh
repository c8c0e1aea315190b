#!/usr/bin/env bash
# abi.sh -- libsock.so's interface against the tree's promise: its map, its header, its baseline
#
# Usage: scripts/abi.sh check LIB [MAP [BASELINE [HEADERS]]]
#        scripts/abi.sh baseline LIB [BASELINE [HEADERS]]
#
# check fails (exit 1, saying why) when
#   - LIB exports a symbol that MAP (abi/libsock.map) does not name, or MAP
#     names one LIB does not export: nothing leaks, nothing is promised in
#     vain;
#   - the functions HEADERS (include/) declare are not exactly those LIB
#     exports: an export no user can call by its declaration, or a
#     declaration the linker will not find (left out of the map);
#   - abidiff finds a change from BASELINE (abi/libsock.abi) other than
#     additions: a function removed, a public type's size or layout
#     changed, a parameter's type changed -- unless LIB's soname
#     carries another ABI number than BASELINE's: raising it (Makefile:
#     ABI) in the same commit is how an incompatible change is made.
# A compatible change (functions added) passes, with a note that the
# baseline is behind.  baseline writes BASELINE from LIB (abidw), for a
# release or after the soname was raised.  Needs abidw and abidiff
# (Debian: abigail-tools) and nm, readelf (binutils).
set -u
cmd=${1:-}
lib=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)

die() {
	echo "abi: $*" >&2
	exit 1
}

[ -n "$lib" ] && [ -f "$lib" ] || die "usage: abi.sh check|baseline LIB ..."
command -v abidw >/dev/null && command -v abidiff >/dev/null ||
	die "abidw and abidiff are missing (apt-get install abigail-tools)"

soname_of_lib() {
	readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'
}

soname_of_abi() {
	sed -n "1s/.* soname='\([^']*\)'.*/\1/p" "$1"
}

case $cmd in
baseline)
	out=${3:-$here/abi/libsock.abi}
	headers=${4:-$here/include}
	abidw --headers-dir "$headers" --drop-private-types --no-corpus-path \
		--no-comp-dir-path --short-locs --out-file "$out" "$lib" ||
		die "abidw failed on $lib"
	echo "abi: baseline $out written from $lib ($(soname_of_lib "$lib"))"
	exit 0
	;;
check) ;;
*) die "usage: abi.sh check|baseline LIB ..." ;;
esac

map=${3:-$here/abi/libsock.map}
base=${4:-$here/abi/libsock.abi}
headers=${5:-$here/include}
[ -f "$map" ] || die "no map $map"
[ -f "$base" ] || die "no baseline $base (scripts/abi.sh baseline LIB)"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
status=0

# What LIB exports (the version nodes themselves are absolute symbols:
# left out), and what MAP names after each "global:", up to a "local:" or
# the node's end.
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$work/exported"
awk '/^[[:space:]]*global:/ { on = 1; next }
     /^[[:space:]]*local:/ || /}/ { on = 0; next }
     on && /;/ { gsub(/[[:space:];]/, ""); if ($0 != "") print }' "$map" |
	sort -u >"$work/mapped"
[ -s "$work/exported" ] || die "$lib exports nothing"
if ! cmp -s "$work/exported" "$work/mapped"; then
	echo "abi: $lib's exports and $map differ:" >&2
	comm -23 "$work/exported" "$work/mapped" | sed 's/^/    exported, not in the map: /' >&2
	comm -13 "$work/exported" "$work/mapped" | sed 's/^/    in the map, not exported: /' >&2
	status=1
fi

# The functions the headers declare (a line that begins with a type and
# ends its name with "(", static inline ones left out) are exactly the
# exported ones: none a user cannot call by its declaration, none declared
# that the linker would not find.
grep -rhoE '^[a-z][a-z0-9_ *]*[ *]sock_[a-z0-9_]+\(' "$headers" |
	grep -v '^static' | grep -oE 'sock_[a-z0-9_]+\($' | tr -d '(' |
	sort -u >"$work/declared"
if ! cmp -s "$work/declared" "$work/exported"; then
	echo "abi: the functions $headers declares and those $lib exports differ:" >&2
	comm -23 "$work/declared" "$work/exported" | sed 's/^/    declared, not exported: /' >&2
	comm -13 "$work/declared" "$work/exported" | sed 's/^/    exported, not declared: /' >&2
	status=1
fi

# The baseline.  abidiff's status is a bit mask: 1 error, 2 usage, 4 a
# change, 8 a change it knows breaks programs (a symbol removed).  A
# public type that changed size or layout under a function is only "a
# change" to it: for libsock, whose structs programs allocate, that
# breaks them too.  So anything but additions counts as breaking: a
# summary line with a function or variable (or symbol) removed or
# changed.
# Opaque types' insides are not the ABI (abi/libsock.suppr says which).
suppr=$(dirname "$base")/libsock.suppr
set --
[ -f "$suppr" ] && set -- --suppressions "$suppr"
abidiff --drop-private-types --hd2 "$headers" "$@" "$base" "$lib" >"$work/report" 2>&1
rc=$?
was=$(soname_of_abi "$base")
now=$(soname_of_lib "$lib")
if [ $((rc & 4)) != 0 ] &&
	grep -E 'changes summary:' "$work/report" |
	grep -Eq '(^|[^0-9])[1-9][0-9]* (Removed|Changed)'; then
	rc=$((rc | 8))
fi
if [ $((rc & 3)) != 0 ]; then
	cat "$work/report" >&2
	die "abidiff could not compare $base with $lib (status $rc)"
elif [ $((rc & 8)) != 0 ]; then
	if [ "$was" = "$now" ]; then
		echo "abi: $lib breaks the ABI of $base and its soname is still $now:" >&2
		sed 's/^/    /' "$work/report" >&2
		echo "abi: keep the interface, or raise ABI in the Makefile (the soname) in the same commit" >&2
		status=1
	else
		echo "abi: incompatible with $base ($was), as its soname says ($now); write the new baseline: make abi-baseline"
	fi
elif [ $((rc & 4)) != 0 ]; then
	echo "abi: compatible with $base ($was); what was added:"
	sed 's/^/    /' "$work/report"
	echo "abi: the baseline is behind the library: make abi-baseline at the release"
fi
[ $status = 0 ] &&
	echo "abi: ok: $(wc -l <"$work/exported") symbols, each in $(basename "$map") and declared; $now checked against $(basename "$base") ($was)"
exit $status

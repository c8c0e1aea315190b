#!/usr/bin/env bash
# man_test.sh -- a man page per exported function: docs/man/man3 is what the headers give, and reads
#
# scripts/manpages.py --check compares docs/man/man3 with the pages the
# headers give now (make man writes them) and fails when an exported
# function has no page, a page is for a name not exported, or a page names
# a function that does not exist; each of those is provoked below on a
# copy.  Then every page goes through groff with all warnings on, and
# through lexgrog (whatis reads NAME), and each page's example compiles.
. "$(dirname "$0")/lib.sh"

need python3

GEN=$SOCK_SRC/scripts/manpages.py
PAGES=$SOCK_SRC/docs/man/man3

# NAME WANT-TEXT: --check on $TMP_DIR/copy fails and says WANT-TEXT.
check_fails() {
	local rc=0

	"$GEN" --check "$TMP_DIR/copy" >"$TMP_DIR/check.out" 2>&1 || rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$2" "$TMP_DIR/check.out"; then
		pass "$1"
	else
		fail "$1" "status $rc (want 1), no '$2' in: $(show "$TMP_DIR/check.out")"
	fi
}

fresh_copy() {
	rm -rf "$TMP_DIR/copy"
	cp -r "$PAGES" "$TMP_DIR/copy"
}

if "$GEN" --check "$PAGES" >"$TMP_DIR/check.out" 2>&1; then
	pass committed_pages_match_the_headers
	echo "    $(tail -n 1 "$TMP_DIR/check.out")"
else
	fail committed_pages_match_the_headers "$(show "$TMP_DIR/check.out")"
fi

"$GEN" "$TMP_DIR/one" >/dev/null 2>&1
"$GEN" "$TMP_DIR/two" >/dev/null 2>&1
if [ -n "$(ls "$TMP_DIR/one")" ] && diff -r "$TMP_DIR/one" "$TMP_DIR/two" >/dev/null; then
	pass two_runs_write_the_same_bytes
else
	fail two_runs_write_the_same_bytes "$(diff -r "$TMP_DIR/one" "$TMP_DIR/two" | head -c 300)"
fi

# ---- the check, against a copy of the pages spoiled each way ----

if [ -f "$PAGES/sock_connect.3" ]; then
	fresh_copy
	rm "$TMP_DIR/copy/sock_connect.3"
	check_fails missing_page_fails_the_check "no page for exported sock_connect"

	fresh_copy
	sed 's/sock_connect/sock_connect_nowhere/g' "$PAGES/sock_connect.3" \
		>"$TMP_DIR/copy/sock_connect_nowhere.3"
	check_fails page_for_unexported_name_fails_the_check \
		"a page for sock_connect_nowhere, which is not exported"

	fresh_copy
	sed -i 's/^\.BR libsock (3),$/.BR sock_gone (3),\n&/' "$TMP_DIR/copy/sock_connect.3"
	echo 'See \fBsock_vanished\fR().' >>"$TMP_DIR/copy/sock_connect.3"
	check_fails page_naming_a_missing_function_fails_the_check \
		"names sock_vanished, which does not exist"
	check_fails see_also_without_a_page_fails_the_check \
		"SEE ALSO sock_gone(3), which has no page"
else
	fail missing_page_fails_the_check "no $PAGES/sock_connect.3 to start from"
fi

# ---- the pages as man reads them ----

# One groff for every page: its warnings name the file.
if have groff; then
	groff -man -Tutf8 -ww -z "$PAGES"/*.3 >"$TMP_DIR/groff.out" 2>&1
	if [ ! -s "$TMP_DIR/groff.out" ]; then
		pass pages_render_without_troff_warnings
	else
		fail pages_render_without_troff_warnings "$(show "$TMP_DIR/groff.out")"
	fi
else
	skip pages_render_without_troff_warnings "groff is not installed"
fi

if have lexgrog; then
	lexgrog "$PAGES"/*.3 >"$TMP_DIR/whatis.out" 2>&1
	bad=
	for p in "$PAGES"/*.3; do
		name=$(basename "$p" .3)
		grep -qF -- "$p: \"$name - " "$TMP_DIR/whatis.out" || bad+=" $name"
	done
	if [ -z "$bad" ]; then
		pass whatis_reads_every_name_line
	else
		fail whatis_reads_every_name_line "unreadable NAME:$bad"
	fi
else
	skip whatis_reads_every_name_line "lexgrog (man-db) is not installed"
fi

if have cc; then
	if "$GEN" --examples "$TMP_DIR/ex" >"$TMP_DIR/ex.out" 2>&1 &&
		[ -n "$(ls "$TMP_DIR"/ex/*.c 2>/dev/null)" ]; then
		if cc -fsyntax-only -Wall -Wextra -Werror -I"$SOCK_SRC/include" \
			"$TMP_DIR"/ex/*.c >"$TMP_DIR/cc.out" 2>&1; then
			pass examples_compile
		else
			fail examples_compile "$(show "$TMP_DIR/cc.out")"
		fi
	else
		fail examples_compile "no examples written: $(show "$TMP_DIR/ex.out")"
	fi
else
	skip examples_compile "no C compiler"
fi

finish

#!/usr/bin/env bash
# serve_uring_test.sh -- serve_test.sh and serve_clients_test.sh again, on the io_uring engine
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need python3
here=$SOCK_SRC/tests/cli

# Only where io_uring really runs: otherwise the server falls back to epoll
# and this would test epoll twice.
LOG=$TMP_DIR/probe.log
SOCK_ENGINE=io_uring serve_start "$LOG" 1 --tcp-only echo=0 ||
	{ fail start "sock serve did not start"; serve_finish; }
engine=$(sed -n 's/^.* engine //p' "$LOG")
serve_stop
if [ "$engine" != io_uring ]; then
	skip all "the server runs on: $engine"
	finish
fi

for script in serve_test serve_clients_test; do
	SOCK_ENGINE=io_uring bash "$here/$script.sh" >"$TMP_DIR/out" 2>&1
	sed -e '/^RESULT /d' -e "s/ $script\\./ $LIB_NAME.$script./" "$TMP_DIR/out"
	set -- $(grep '^RESULT ' "$TMP_DIR/out" | tail -n 1)
	if [ $# = 5 ]; then
		LIB_PASSED=$((LIB_PASSED + $3))
		LIB_FAILED=$((LIB_FAILED + $4))
		LIB_SKIPPED=$((LIB_SKIPPED + $5))
	else
		fail "$script" "ended without a RESULT line"
	fi
done
finish

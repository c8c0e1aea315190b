#!/usr/bin/env bash
# serve_clients_test.sh -- sock serve's client list (seed 003): the seed's client, JSON escaping, bounds
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_lib.sh"

need python3
LOG=$TMP_DIR/serve.log
serve_start "$LOG" 1 clients=0 || { fail start "sock serve did not start"; finish; }
PORT=$(port_of "$LOG" clients tcp)

# The seed's own client reads the reply with one recv(1024): it works while
# the list is short, which it is on a fresh server.
out=$(timeout 10 python3 "$SOCK_SRC/tests/peers/client_list.py" -c \
	-n seed-client 127.0.0.1 "$PORT" 2>&1)
got=$(printf '%s' "$out" | python3 -c 'import json, sys
e = json.load(sys.stdin)["seed-client"]
print(e["name"], e["address"], type(e["port"]).__name__)' 2>&1)
check_eq seed_client_reads_the_list "seed-client 127.0.0.1 int" "$got"

if have nc; then
	out=$(printf 'from-nc\r\n' | timeout 10 nc -q 1 127.0.0.1 "$PORT")
	got=$(printf '%s' "$out" | python3 -c 'import json, sys
print(sorted(json.load(sys.stdin)))' 2>&1)
	check_eq nc_name_cut_at_crlf "['from-nc', 'seed-client']" "$got"
else
	skip nc_name_cut_at_crlf "nc is not installed"
fi

check names_with_quotes_controls_and_bad_utf8 clients_names "$PORT"
check list_over_1024_bytes clients_long_list "$PORT"
check ten_mib_name_only_first_read_counts clients_huge_name "$PORT"
check two_hundred_concurrent_clients concurrent_clients "$PORT" 200

# Only the first read counts: a client that sends its name and keeps the
# connection open gets its answer at once, without closing.
out=$(timeout 10 python3 -c 'import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"waits")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print("waits" in json.loads(data))' "$PORT" 2>&1)
check_eq answers_without_waiting_for_eof True "$out"

serve_stop
check_eq sigterm_exit_status 0 $?
serve_finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Applications over ilpd's app socket, end to end, no module and no root
# needed: two ilpd processes on 127.0.0.1 (userspace datapath, distinct
# ports), direct peers of each other; on each an app (ilp_app_tool chat)
# that libilp connects over the UNIX transport.  A packet with metadata
# goes from h1's app to h2's, the echo comes back, a second bind of the
# same service is EADDRINUSE, "ilpctl daemon status" counts it all, and a
# second ilpd on the same run dir does not take the app socket over.
#
# usage: app_e2e_test.sh ILPD ILPCTL ILP_APP_TOOL
set -u
ilpd=$1 ilpctl=$2 tool=$3
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"
fail() {
	for f in "$dir"/*.log "$dir"/*.out; do echo "== $f"; cat "$f"; done
	echo "FAIL: $*"
	exit 1
}
# Waits up to 5 s for FILE to have a line matching REGEX.
wait_for() {
	for _ in $(seq 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

port1=$((20000 + RANDOM % 20000))
port2=$((port1 + 1))
for n in h1 h2; do
	mkdir -m 755 "$dir/$n" "$dir/$n/run" "$dir/$n/state" "$dir/$n/plugins"
	printf 'key0 = %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/$n.keys"
done
# Each side's transmit SA, derived from the other's master key as its
# "sa alloc" would.
"$tool" derive "$dir/h2.keys" 1 >"$dir/h1-to-h2.key" || fail "derive"
"$tool" derive "$dir/h1.keys" 2 >"$dir/h2-to-h1.key" || fail "derive"

start() { # NAME PORT PEER_PORT SPI
	"$ilpd" --config /dev/null --datapath user --port "$2" --master-keys "$dir/$1.keys" \
		--peer "127.0.0.1:$3 spi $4 version 0 keyfile $dir/$1-to-$5.key direct" \
		--plugin-dir "$dir/$1/plugins" --run-dir "$dir/$1/run" --state-dir "$dir/$1/state" \
		2>"$dir/$1.log" &
	pids+=($!)
	wait_for "$dir/$1.log" "started" || fail "$1 did not start"
}
start h1 "$port1" "$port2" 1 h2
start h2 "$port2" "$port1" 2 h1
[ "$(stat -c %a "$dir/h1/run/app.sock")" = 666 ] || fail "app.sock is not mode 0666"

# An app: chat with its stdin a FIFO the test writes to.
app() { # NAME NODE ARGS...
	local name=$1 node=$2
	shift 2
	mkfifo "$dir/$name.in"
	ILP_TRANSPORT=unix ILP_APP_SOCKET="$dir/$node/run/app.sock" \
		"$tool" chat "$@" <"$dir/$name.in" >"$dir/$name.out" 2>&1 &
	pids+=($!)
	exec {fd}>"$dir/$name.in"
	eval "${name}_fd=$fd"
}
app server h2 --bind 4242 --echo
wait_for "$dir/server.out" "^bound 4242/0$" || fail "server not bound"
app client h1 --connect "4242/77@127.0.0.1:$port2"
wait_for "$dir/client.out" "^bound 4242/77$" || fail "client not bound"
grep -qx "transport unix" "$dir/client.out" || fail "not the UNIX transport"

echo "send hello" >&"$client_fd"
wait_for "$dir/server.out" "^recv from 4242/77@127.0.0.1:$port1 md 0x0100=hello payload hello$" ||
	fail "h2's app did not get the packet with its sender and metadata"
wait_for "$dir/client.out" "^recv from 4242/77@127.0.0.1:$port2 md 0x0100=hello payload echo:hello$" ||
	fail "h1's app did not get the echo"

# The service is taken on h2: a second app gets EADDRINUSE.
out=$(ILP_TRANSPORT=unix ILP_APP_SOCKET="$dir/h2/run/app.sock" "$tool" chat --bind 4242 </dev/null)
echo "$out" | grep -q "^error 98 binding to 4242 (every connection): Address already in use" ||
	fail "second bind: $out"

status=$("$ilpctl" -S "$dir/h2/run/ilpd.sock" -j daemon status) || fail "daemon status"
python3 -c '
import json, sys
a = json.loads(sys.argv[1])["apps"]
assert a["socket"].endswith("/h2/run/app.sock"), a
assert a["delivered"] == 1 and a["sent"] == 1 and a["dropped"] == 0, a
assert a["send_errors"] == 0, a
assert a["clients"] == 1 and a["bindings"] == 1, a
' "$status" || fail "h2's daemon status: $status"
"$ilpctl" -S "$dir/h1/run/ilpd.sock" daemon status >"$dir/status.out" || fail "text status"

# A second ilpd on h1's run dir leaves the live app socket alone.
out=$("$ilpd" --config /dev/null --datapath user --port "$((port2 + 1))" \
	--master-keys "$dir/h1.keys" --plugin-dir "$dir/h1/plugins" --run-dir "$dir/h1/run" \
	--state-dir "$dir/h1/state" 2>&1) && fail "a second ilpd started: $out"
echo "$out" | grep -q "another ilpd is running" || fail "second ilpd: $out"
[ -S "$dir/h1/run/app.sock" ] || fail "the second ilpd removed h1's app socket"
echo "send again" >&"$client_fd"
wait_for "$dir/client.out" "payload echo:again$" || fail "h1's app cut off by the second ilpd"

# SIGTERM removes the app socket with the control socket.
kill -TERM "${pids[1]}"
wait "${pids[1]}"
[ ! -e "$dir/h2/run/app.sock" ] || fail "the app socket was left behind"
echo PASS

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The echo examples without the module: two ilpd processes on 127.0.0.1
# (userspace datapath, distinct ports, direct peers of each other),
# echo_server on h2 and both clients on h1, each reaching its ilpd through
# the app socket ($ILP_APP_SOCKET; no AF_ILP here).  Service 8, the
# relay's ID, as in examples/README.md.  Every ping must come back.
#
# usage: echo_native_test.sh ILPD ILP_APP_TOOL ECHO_SERVER ECHO_CLIENT ECHO_CLIENT_C
set -u
ilpd=$1 tool=$2 server=$3 client=$4 client_c=$5
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
wait_for() { # FILE REGEX: up to 5 s
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
# Each side's transmit SA, derived from the other's master key.
"$tool" derive "$dir/h2.keys" 1 >"$dir/h1-to-h2.key" || fail "derive"
"$tool" derive "$dir/h1.keys" 2 >"$dir/h2-to-h1.key" || fail "derive"
start() { # NAME PORT PEER_PORT SPI PEER
	"$ilpd" --config /dev/null --datapath user --port "$2" --master-keys "$dir/$1.keys" \
		--peer "127.0.0.1:$3 spi $4 version 0 keyfile $dir/$1-to-$5.key direct" \
		--plugin-dir "$dir/$1/plugins" --run-dir "$dir/$1/run" --state-dir "$dir/$1/state" \
		2>"$dir/$1.log" &
	pids+=($!)
	wait_for "$dir/$1.log" "started" || fail "$1 did not start"
}
start h1 "$port1" "$port2" 1 h2
start h2 "$port2" "$port1" 2 h1

ILP_APP_SOCKET="$dir/h2/run/app.sock" "$server" 8 --count 6 >"$dir/server.out" 2>&1 &
pids+=($!)
wait_for "$dir/server.out" "^listening on service 8$" || fail "echo_server did not bind"
for c in "$client" "$client_c"; do
	name=$(basename "$c")
	ILP_APP_SOCKET="$dir/h1/run/app.sock" "$c" 8 "127.0.0.1:$port2" --count 3 \
		--metadata 0x100=hello >"$dir/$name.out" 2>&1 || fail "$name failed"
	grep -q "^echoed 3/3$" "$dir/$name.out" || fail "$name: not every echo came back"
done
[ "$(grep -c "^from 8/[0-9]*@127.0.0.1:$port1: 6 bytes" "$dir/server.out")" = 6 ] ||
	fail "the server did not see six pings from h1"
echo PASS

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ilp_send_loopback.sh ILP_SEND KEYS_DIR: the selftest helper ilp_send
# against itself over loopback UDP, no module needed: what each --mode
# sends is what a receiver drops, and for the reason docs/protocol.md
# gives.  The VM selftests then point it at ilp.ko.  Prints TAP; exits 1
# if any check fails.
set -u
send=$1
keys=$2
dir=$(mktemp -d /tmp/ilp-send-test.XXXXXX)
listener=
trap '[ -n "$listener" ] && kill "$listener" 2>/dev/null; rm -rf "$dir"' EXIT

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for f in "$@"; do
		[ -s "$f" ] && sed "s/^/# $(basename "$f"): /" "$f"
	done
	return 0
}

# expect NAME RC REGEX CMD...: CMD exits RC and its output matches REGEX.
expect() {
	local name=$1 want_rc=$2 re=$3 rc
	shift 3
	"$@" >"$dir/out" 2>&1
	rc=$?
	if [ "$rc" = "$want_rc" ] && grep -qE -- "$re" "$dir/out"; then
		ok "$name"
	else
		echo "# exit $rc, expected $want_rc; output should match /$re/" >"$dir/why"
		not_ok "$name" "$dir/why" "$dir/out"
	fi
}

echo "TAP version 13"

# SA keys as the receiver derives them from its master key: a sender
# holding them is what "ilpctl sa alloc" + "ilpctl peer add" set up.
"$send" --derive-key --master-keys "$keys/one-key0.keys" --spi 5 --version 0 >"$dir/sa0.key"
"$send" --derive-key --master-keys "$keys/both.keys" --spi 0x80000001 --version 1 >"$dir/sa1.key"
if grep -qxE '[0-9a-f]{32}' "$dir/sa0.key" && grep -qxE '[0-9a-f]{64}' "$dir/sa1.key"; then
	ok "derive-key prints 16- and 32-byte keys"
else
	not_ok "derive-key prints 16- and 32-byte keys" "$dir/sa0.key" "$dir/sa1.key"
fi

# One listener for every packet below, in the order sent (loopback keeps
# it).  Only key0: SPIs whose top bit is set find no master key.
modes="garbage truncated tamper-icv tamper-aad bad-version no-key-slot bad-next-header
       ilp-past-end bad-ilp-version"
want="ok service 7 conn 4660 len 100
ok service 7 conn 4660 len 100
ok service 1 conn 1 len 0
drop psp_
drop psp_truncated
drop psp_auth_failed
drop psp_auth_failed
drop psp_version
drop psp_no_master_key
drop psp_next_header
drop ilp_hdr_past_end
drop ilp_version
drop psp_no_master_key"
count=$(wc -l <<<"$want")
"$send" --listen 0 --master-keys "$keys/one-key0.keys" --count "$count" --timeout-ms 10000 \
	>"$dir/received" 2>"$dir/listener.err" &
listener=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/^ilp_send: listening on port \([0-9]*\)$/\1/p' "$dir/listener.err")
	[ -n "$port" ] && break
	sleep 0.05
done
if [ -z "$port" ]; then
	not_ok "listener starts" "$dir/listener.err"
	echo "1..$n"
	exit 1
fi
ok "listener starts"

sa0=(--spi 5 --version 0 --keyfile "$dir/sa0.key")
expect "sends valid packets" 0 "^sent 2$" \
	"$send" --to "127.0.0.1:$port" "${sa0[@]}" --count 2 --size 100 --service 7 --conn 0x1234
expect "sends an empty payload" 0 "^sent 1$" "$send" --to "127.0.0.1:$port" "${sa0[@]}" --size 0
for m in $modes; do
	expect "sends --mode $m" 0 "^sent 1$" "$send" --to "127.0.0.1:$port" "${sa0[@]}" --mode "$m"
done
expect "sends under a key the receiver lacks" 0 "^sent 1$" \
	"$send" --to "127.0.0.1:$port" --spi 0x80000001 --version 1 --keyfile "$dir/sa1.key"

wait "$listener"
rc=$?
listener=
if [ "$rc" = 0 ]; then
	ok "listener exits 0 once every packet arrived"
else
	not_ok "listener exits 0 once every packet arrived (exit $rc)" "$dir/listener.err"
fi
i=0
while IFS= read -r line; do
	i=$((i + 1))
	got=$(sed -n "${i}p" "$dir/received")
	if [[ $got == "$line"* ]]; then
		ok "packet $i: $got"
	else
		not_ok "packet $i: got '$got', expected '$line...'" "$dir/received"
	fi
done <<<"$want"

# start_listener OUT ARGS...: a listener in the background ($listener), its
# stdout in OUT; sets $port, or fails.
start_listener() {
	local out=$1
	shift
	# Emptied here, not only by the redirection below: that one runs in
	# the child, which may not have run yet when the loop below first
	# reads the file, and would find the previous listener's port.
	: >"$dir/listener.err"
	"$send" --listen 0 --master-keys "$keys/one-key0.keys" "$@" >"$out" 2>"$dir/listener.err" &
	listener=$!
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/^ilp_send: listening on port \([0-9]*\)$/\1/p' "$dir/listener.err")
		[ -n "$port" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_listener NAME: the listener exits 0.
wait_listener() {
	local rc
	wait "$listener"
	rc=$?
	listener=
	if [ "$rc" = 0 ]; then
		ok "$1"
	else
		not_ok "$1 (exit $rc)" "$dir/listener.err"
	fi
}

# Connection IDs cycle through --conn-range, in order.
if start_listener "$dir/range" --count 5 --timeout-ms 10000; then
	expect "sends over a range of connections" 0 "^sent 5$" \
		"$send" --to "127.0.0.1:$port" "${sa0[@]}" --count 5 --conn 10 --conn-range 2 --size 8
	wait_listener "listener gets the range"
	printf 'ok service 1 conn %s len 8\n' 10 11 10 11 10 >"$dir/range.want"
	if cmp -s "$dir/range" "$dir/range.want"; then
		ok "connections 10 11 10 11 10"
	else
		not_ok "connections 10 11 10 11 10" "$dir/range"
	fi
else
	not_ok "listener starts for --conn-range" "$dir/listener.err"
fi

# --src-port: the source port of every packet, run after run.
if command -v python3 >/dev/null; then
	python3 - "$send" "${sa0[@]}" >"$dir/srcport" 2>&1 <<'PY'
import socket, subprocess, sys
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
r.settimeout(5)
port = r.getsockname()[1]
ports = set()
for _ in range(2):
    subprocess.run([sys.argv[1], "--to", "127.0.0.1:%d" % port] + sys.argv[2:] +
                   ["--count", "2", "--src-port", "40123", "--quiet"], check=True)
    for _ in range(2):
        ports.add(r.recvfrom(2048)[1][1])
print("source ports", *sorted(ports))
PY
	if grep -qx "source ports 40123" "$dir/srcport"; then
		ok "--src-port sends from that port, run after run"
	else
		not_ok "--src-port sends from that port, run after run" "$dir/srcport"
	fi
fi
expect "--src-port 0" 2 "--src-port takes a UDP port, 1 to 65535" \
	"$send" --to 127.0.0.1 "${sa0[@]}" --src-port 0
expect "--src-port with --listen" 2 "--src-port goes with --to" \
	"$send" --listen 0 --master-keys "$keys/one-key0.keys" --src-port 5

# --quiet: nothing on stdout, on either side.
if start_listener "$dir/quiet" --count 2 --quiet --timeout-ms 10000; then
	if "$send" --to "127.0.0.1:$port" "${sa0[@]}" --count 2 --quiet >"$dir/out" 2>&1 &&
		[ ! -s "$dir/out" ]; then
		ok "--quiet sends without a word"
	else
		not_ok "--quiet sends without a word" "$dir/out"
	fi
	wait_listener "quiet listener gets both"
	if [ ! -s "$dir/quiet" ]; then
		ok "quiet listener prints nothing"
	else
		not_ok "quiet listener prints nothing" "$dir/quiet"
	fi
else
	not_ok "listener starts for --quiet" "$dir/listener.err"
fi

# Many packets at a steady rate, counted only.
if start_listener "$dir/counted" --count 50 --listen-count-only --timeout-ms 10000; then
	start=$(date +%s%N)
	expect "sends every 2 ms" 0 "^sent 50$" \
		"$send" --to "127.0.0.1:$port" "${sa0[@]}" --count 50 --conn-range 7 --interval-us 2000
	elapsed_ms=$((($(date +%s%N) - start) / 1000000))
	wait_listener "count-only listener gets every packet"
	if grep -qx "received 50 ok 50" "$dir/counted" && [ "$(wc -l <"$dir/counted")" = 1 ]; then
		ok "count-only prints one line: $(cat "$dir/counted")"
	else
		not_ok "count-only prints one line" "$dir/counted"
	fi
	# 49 intervals of 2 ms.
	if [ "$elapsed_ms" -ge 98 ]; then
		ok "--interval-us paces the packets ($elapsed_ms ms)"
	else
		not_ok "--interval-us paces the packets ($elapsed_ms ms, expected at least 98)"
	fi
else
	not_ok "listener starts for --listen-count-only" "$dir/listener.err"
fi

expect "count-only listener times out with a count" 1 "^received 0 ok 0$" \
	"$send" --listen 0 --master-keys "$keys/one-key0.keys" --listen-count-only --timeout-ms 200
expect "--conn-range 0" 2 "--conn-range must be at least 1" \
	"$send" --to 127.0.0.1 "${sa0[@]}" --conn-range 0
expect "--listen-count-only without --listen" 2 "--listen-count-only goes with --listen" \
	"$send" --to 127.0.0.1 "${sa0[@]}" --listen-count-only
expect "listener times out" 1 "timed out after 200 ms with 0 of 1" \
	"$send" --listen 0 --master-keys "$keys/one-key0.keys" --timeout-ms 200
expect "no arguments" 2 "give one of --to, --listen and --derive-key" "$send"
expect "unknown mode" 2 "unknown --mode 'fuzzy'" \
	"$send" --to 127.0.0.1 "${sa0[@]}" --mode fuzzy
expect "--to needs an SA" 2 "--to needs --spi, --version and --keyfile" \
	"$send" --to 127.0.0.1 --spi 5
expect "bad endpoint" 2 "--to: bad endpoint '127.0.0.1:0'" \
	"$send" --to 127.0.0.1:0 "${sa0[@]}"
expect "key of the wrong size for the version" 1 "sa0.key: a 16-byte key for PSP version 1 \\(the key is 16 bytes for version 0" \
	"$send" --to 127.0.0.1 --spi 5 --version 1 --keyfile "$dir/sa0.key"
expect "payload too big for UDP" 2 "does not fit in a UDP datagram" \
	"$send" --to 127.0.0.1 "${sa0[@]}" --size 70000

echo "1..$n"
[ "$failed" = 0 ]

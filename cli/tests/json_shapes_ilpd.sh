#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every ilpctl object command against ilpd's userspace datapath prints the
# JSON shape json_shapes.json gives it, the shape the VM selftest
# (selftests/ilp/ilpctl_json.sh) checks against ilp.ko: one list, so that
# neither plane can drift.  Also: without the module ilpctl picks ilpd by
# itself (ILPD_SOCKET) and says so in "ilpctl version".
#
# usage: json_shapes_ilpd.sh ILPD ILPCTL SHAPES JQ_FILTER
set -u
ilpd=$1 ilpctl=$2 shapes=$3 filter=$4

command -v jq >/dev/null || {
	echo "SKIP: needs jq"
	exit 77
}
dir=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "== ilpd's log"
	cat "$dir/ilpd.log"
	echo "FAIL: $*"
	exit 1
}
hexkey() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

mkdir "$dir/run" "$dir/state" "$dir/plugins"
printf 'key0 = %s\n' "$(hexkey)" >"$dir/set.keys"
printf 'key1 = %s\n' "$(hexkey)" >"$dir/rotate.keys"
# A port of its own: another test's ilpd may be running.
port=$((20000 + $$ % 20000))
"$ilpd" --config /dev/null --datapath user --role sn --port "$port" --run-dir "$dir/run" \
	--state-dir "$dir/state" --plugin-dir "$dir/plugins" 2>"$dir/ilpd.log" &
pid=$!
sock=$dir/run/ilpd.sock
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	sleep 0.05
done
[ -S "$sock" ] || fail "ilpd did not start"

checked=0
# shape NAME ARGS...: "ilpctl -j ARGS" prints NAME's shape (nothing for a
# command whose shape is null); its output is left in $out.
shape() {
	local name=$1
	shift
	out=$("$ilpctl" -S "$sock" -j "$@") || fail "ilpctl $*"
	local want
	want=$(jq -c --arg cmd "$name" '.[$cmd]' "$shapes")
	if [ "$want" = null ]; then
		[ -z "$out" ] || fail "ilpctl -j $* printed '$out', expected nothing"
	else
		local bad
		bad=$(jq -r --slurpfile shapes "$shapes" --arg cmd "$name" -f "$filter" <<<"$out") ||
			fail "ilpctl -j $*: not JSON: $out"
		[ -z "$bad" ] || fail "ilpctl -j $*: $bad (got $out)"
	fi
	echo "ok $name: $*"
	checked=$((checked + 1))
}

shape "version" version
[ "$(jq -r .plane.name <<<"$out")" = ilpd ] || fail "-S did not pick ilpd: $out"
shape "key set" key set 0 "$dir/set.keys" active
shape "key rotate" key rotate "$dir/rotate.keys"
shape "key show" key show
[ "$(jq -c '[.active_slot, .present_slots, .aead_driver]' <<<"$out")" = '[1,[0,1],"openssl"]' ] ||
	fail "key show after the rotation: $out"
shape "key set" key set 0 generate
shape "key rotate" key rotate
shape "key show" key show
[ "$(jq -c '[.active_slot, .generated_slots]' <<<"$out")" = '[0,[0]]' ] ||
	fail "key show after generate and rotate: $out"
shape "key set" key set 1 "$dir/rotate.keys" active next-spi 7
shape "key show" key show
[ "$(jq -c .next_spi <<<"$out")" = "[1,$(((1 << 31) | 7))]" ] || fail "next-spi 7: $out"
shape "sa alloc" sa alloc peer 192.0.2.2 version 1
jq -r .key <<<"$out" >"$dir/sa.key"
spi=$(jq -r .spi <<<"$out")
shape "sa alloc" -p sa alloc peer 2001:db8::2
shape "sa show" sa show
shape "sa alloc" sa alloc peer 192.0.2.9
gone=$(jq -r .spi <<<"$out")
shape "sa del" sa del "$gone"
"$ilpctl" -S "$sock" -j sa show | jq -e --argjson spi "$gone" 'any(.[]; .spi == $spi) | not' >/dev/null ||
	fail "sa del $gone: still in sa show"
"$ilpctl" -S "$sock" sa del "$gone" 2>"$dir/err" && fail "a second sa del $gone succeeded"
grep -q "no such SA" "$dir/err" || fail "a second sa del $gone: $(cat "$dir/err")"
shape "peer add" peer add 192.0.2.2 spi "$spi" version 1 keyfile "$dir/sa.key"
shape "peer add" peer add [2001:db8::2]:1001
shape "peer set" peer set 192.0.2.2 direct on
shape "peer show" peer show
shape "instance set" instance set sn 192.0.2.2
shape "instance show" instance show
shape "cache add" cache add 192.0.2.3 service 8 conn 1 forward 192.0.2.2 forward [2001:db8::2]:1001
shape "cache show" cache show
shape "cache set" cache set capacity 100
shape "cache del" cache del 192.0.2.3 service 8 conn 1
shape "cache add" cache add 192.0.2.3 service 8 conn 2 drop
shape "cache flush" cache flush
shape "stats" stats
[ "$(jq .cache.capacity <<<"$out")" = 100 ] || fail "cache set capacity 100 did not hold: $out"
shape "stats reset" stats reset
shape "peer del" peer del [2001:db8::2]:1001
[ "$(jq length <<<"$("$ilpctl" -S "$sock" -j peer show)")" = 1 ] || fail "peer del"

# The plane ilpctl picks by itself, without the module: the local ilpd.
if [ ! -d /sys/module/ilp ]; then
	v=$(ILPD_SOCKET=$sock "$ilpctl" version) || fail "ilpctl version without -S"
	grep -qx "plane ilpd (socket $sock)" <<<"$v" || fail "ilpctl version: $v"
	ILPD_SOCKET=$sock "$ilpctl" sa show | grep -q "^spi 0x$(printf %08x "$spi") version 1 peer 192.0.2.2$" ||
		fail "sa show without -S"
	echo "ok without -S: the ilpd plane"
fi
echo "PASS: $checked commands"

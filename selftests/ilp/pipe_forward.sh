#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The pipe-terminus forwarding: h1 -- sn1 -- h2.  h1 seals packets with
# libilp for sn1; sn1's kernel authenticates them, misses, asks the test
# listener, executes its decision (forward to h2, re-sealed with h2's
# transmit SA) and installs it, so later packets hit the cache without the
# listener.  h2 is a userspace receiver holding its own master keys.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 xxd
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
setup_pipe

ctl() { "$ILPCTL" -n "$sn1" "$@"; }
stat() { ctl -j stats | json "$1"; }
no_listener_is() { test "$(stat 'd["drops"]["no_listener"]')" = "$1"; }

# sn1: instance, master key, a receive SA for h1.
new_master_key "$tmp/sn1.keys"
ctl instance add
ctl key set 0 "$tmp/sn1.keys" active
sa=$(ctl -j sa alloc peer 10.0.1.1 version 0)
spi=$(json 'd["spi"]' <<<"$sa")
json 'd["key"]' <<<"$sa" >"$tmp/h1.key"

# h2: its own master keys; it "allocates" SPI 1 (v0) and 2 (v1) for sn1.
new_master_key "$tmp/h2.keys"
"$HELPERS/ilp_send" --derive-key --master-keys "$tmp/h2.keys" --spi 1 --version 0 >"$tmp/to-h2.key"
"$HELPERS/ilp_send" --derive-key --master-keys "$tmp/h2.keys" --spi 2 --version 1 >"$tmp/to-h2-b.key"
check "sn1 knows h2 as a peer with a transmit SA" \
	ctl peer add 10.0.2.1 spi 1 version 0 keyfile "$tmp/to-h2.key"

send() { ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --spi "$spi" --version 0 --keyfile "$tmp/h1.key" --quiet "$@"; }
# (the source port differs per run: the cache keys flows by address only)
# receive PORT COUNT OUTFILE: h2 listens in the background ($! is its
# PID); returns once it is bound, so that no packet finds the port closed.
receive() {
	ip netns exec "$h2" "$HELPERS/ilp_send" --listen "$1" --master-keys "$tmp/h2.keys" \
		--count "$2" --timeout-ms 60000 >"$3" 2>&1 &
	busywait 5000 grep -q listening "$3"
}

# 1. Miss, upcall, execute, install; then hits without the listener.
receive 1000 11 "$tmp/h2.out"
rx_pid=$!
ip netns exec "$sn1" "$HELPERS/ilp_listener" --forward 10.0.2.1 --install --count 1 >"$tmp/l1.out" 2>&1 &
l_pid=$!
check "the listener registers" busywait 5000 grep -q listening "$tmp/l1.out"
check "h1 sends the first packet of connection 42" send --conn 42 --count 1
wait $l_pid
check_match "the listener got the miss with its flow" "upcall service 1 conn 42 prev 10.0.1.1:" cat "$tmp/l1.out"
check_eq "one miss counted" 1 "$(stat 'd["cache"]["missed"]')"
check_eq "one cache entry installed" 1 "$(stat 'd["cache"]["entries"]')"
check "h1 sends 10 more with the listener gone" send --conn 42 --count 10
check "h2 receives all 11, decrypted with its own keys" wait $rx_pid
check_eq "... all of them authentic" 11 "$(grep -c '^ok service 1 conn 42' "$tmp/h2.out")"
check_eq "10 cache hits" 10 "$(stat 'd["cache"]["hit"]')"
check_eq "still one miss" 1 "$(stat 'd["cache"]["missed"]')"
check_eq "11 packets sent to h2" 11 "$(stat 'd["tx"]["packets"]')"
check_eq "the entry counted its 10 packets" 10 "$(ctl -j cache show | json 'd[0]["packets"]')"

# The listener exited: the kernel forgot it, so a new connection is a
# no_listener drop, not an upcall lost on a dead socket.
nl0=$(stat 'd["drops"]["no_listener"]')
lost0=$(stat 'd["cache"]["lost"]')
send --conn 4242 --count 1
check "a closed listener is forgotten: misses become no_listener drops" \
	busywait 5000 no_listener_is $((nl0 + 1))
check_eq "... and none is counted lost" "$lost0" "$(stat 'd["cache"]["lost"]')"

# 2. Fan-out: one decision, two next hops, a correct copy to each.
check "a second peer on h2 (port 1001, PSP v1)" \
	ctl peer add 10.0.2.1:1001 spi 2 version 1 keyfile "$tmp/to-h2-b.key"
receive 1000 1 "$tmp/fa.out"
a_pid=$!
receive 1001 1 "$tmp/fb.out"
b_pid=$!
ip netns exec "$sn1" "$HELPERS/ilp_listener" --forward 10.0.2.1:1000 --forward 10.0.2.1:1001 \
	--install --count 1 >"$tmp/l2.out" 2>&1 &
l_pid=$!
busywait 5000 grep -q listening "$tmp/l2.out"
send --conn 43 --count 1
check "copy 1 arrives at h2:1000" wait $a_pid
check "copy 2 arrives at h2:1001" wait $b_pid
wait $l_pid
check_match "... both authentic" "^ok service 1 conn 43" cat "$tmp/fa.out" "$tmp/fb.out"

# 3. Eviction: capacity 8, 100 connections.
check "cache flush" ctl cache flush
check "capacity 8" ctl cache set-capacity 8
evicted0=$(stat 'd["cache"]["evicted"]')
receive 1000 100 "$tmp/ev.out"
rx_pid=$!
ip netns exec "$sn1" "$HELPERS/ilp_listener" --forward 10.0.2.1 --install --count 100 --quiet >"$tmp/l3.out" 2>&1 &
l_pid=$!
busywait 5000 grep -q listening "$tmp/l3.out"
send --conn 1000 --conn-range 100 --count 100
check "all 100 connections reach h2 (misses decided again)" wait $rx_pid
wait $l_pid
check_eq "the cache holds at most 8" 8 "$(stat 'd["cache"]["entries"]')"
check_eq "92 entries evicted" 92 "$(($(stat 'd["cache"]["evicted"]') - evicted0))"

# 4. Unload while entries exist.
check "unload with peers, SAs and cache entries in place" ilp_unload
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unloading the module while misses flow to a registered listener: the
# upcalls stop before the "ilp" family and the listener's release notifier
# go (an upcall after that would reach a family that no longer exists, or
# a socket that merely took the listener's port ID), and the namespaces'
# teardown is batched.  Eight idle instances, made first, are torn down
# before sn1's, so the unload lasts while sn1 still receives.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 xxd
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
dmesg0=$(dmesg | wc -l)
for _ in 1 2 3 4 5 6 7 8; do
	setup_ns idle && ilp_node "$idle" "$tmp" || exit $ksft_fail
done
setup_pipe
ilp_node "$sn1" "$tmp"
peer=()
"$ILPCTL" sa alloc -h 2>&1 | grep -q 'alloc peer' && peer=(peer 10.0.1.1)
sa=$("$ILPCTL" -n "$sn1" -j sa alloc "${peer[@]}" version 0)
json 'd["key"]' <<<"$sa" >"$tmp/h1.key"

: >"$tmp/watch.out"
ip netns exec "$sn1" python3 "$(dirname "$0")/upcall_watch.py" "$(ilp_cmd LISTEN)" \
	"$(ilp_cmd UPCALL)" "$(scaled_time 60)" >"$tmp/watch.out" 2>&1 &
w_pid=$!
busywait 10000 grep -q listening "$tmp/watch.out"
# New connections, each a miss and an upcall, a steady 2000 a second.
ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2 --spi "$(json 'd["spi"]' <<<"$sa")" \
	--version 0 --keyfile "$tmp/h1.key" --conn 1000 --conn-range 1000000 --count 1000000 \
	--interval-us 500 --quiet 2>/dev/null &
s_pid=$!
defer kill $s_pid
missed_over() { test "$("$ILPCTL" -n "$sn1" -j stats | json 'd["cache"]["missed"]')" -gt "$1"; }
check "misses go up to the listener" busywait 10000 missed_over 100
check "unload the module while they flow" ilp_unload
wait $w_pid
check_match "the listener saw upcalls, and none once the family was gone" \
	"^upcalls before [1-9][0-9]* after 0$" cat "$tmp/watch.out"
kill $s_pid 2>/dev/null
dmesg | tail -n +"$((dmesg0 + 1))" | grep -E "WARNING|BUG|Oops|KASAN" >"$tmp/dmesg"
check_eq "kernel log clean" "" "$(cat "$tmp/dmesg")"
finish

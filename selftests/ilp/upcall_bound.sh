#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Each CPU's bound on upcalls: with a per-CPU rate and burst set, a flood
# of new connections sends at most burst + rate * time misses up per CPU;
# the rest are counted as lost and throttled.  With the bound off (rate 0)
# nothing is throttled.  Bad settings are refused.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 xxd
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
setup_pipe

ctl() { "$ILPCTL" -n "$sn1" "$@"; }
stat() { ctl -j stats | json "$1"; }

new_master_key "$tmp/sn1.keys"
ctl instance add
ctl key set 0 "$tmp/sn1.keys" active
sa=$(ctl -j sa alloc peer 10.0.1.1 version 0)
spi=$(json 'd["spi"]' <<<"$sa")
json 'd["key"]' <<<"$sa" >"$tmp/h1.key"
send() { ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --spi "$spi" --version 0 --keyfile "$tmp/h1.key" --quiet "$@"; }

check_eq "the default bound is 20000/s, burst 2000" "20000 2000" \
	"$(stat 'd["cache"]["upcall_rate"], d["cache"]["upcall_burst"]' | tr -d '(),')"
check "set a bound of 100 upcalls/s, burst 50, per CPU" \
	ctl cache set upcall-rate 100 upcall-burst 50
check_eq "... and read it back" "100 50" \
	"$(stat 'd["cache"]["upcall_rate"], d["cache"]["upcall_burst"]' | tr -d '(),')"
check_fail "a burst of 0 is refused" ctl cache set upcall-burst 0
check_fail "an unknown keyword is refused" ctl cache set upcall-speed 5

ip netns exec "$sn1" "$HELPERS/ilp_listener" --drop --rcvbuf 4194304 --quiet \
	>"$tmp/listener.out" 2>&1 &
l_pid=$!
defer kill $l_pid
busywait 5000 grep -q listening "$tmp/listener.out"

now_us start
check "h1 floods 3000 new connections" send --conn 1000 --conn-range 3000 --count 3000
now_us end
secs=$(( (end - start + 999999) / 1000000 ))
# Let the last packets clear the receive path before reading counters.
decided_at_least() { test "$(stat 'd["cache"]["missed"] + d["cache"]["lost"]')" -ge "$1"; }
busywait 5000 decided_at_least 3000
missed=$(stat 'd["cache"]["missed"]')
lost=$(stat 'd["cache"]["lost"]')
throttled=$(stat 'd["cache"]["throttled"]')
cpus=$(nproc)
bound=$((cpus * (50 + 100 * (secs + 1))))
check_eq "every new connection was a miss, taken or lost" 3000 "$((missed + lost))"
check "at most $bound went up ($missed, over ${secs}s on $cpus CPUs)" test "$missed" -le "$bound"
check "the rest were throttled ($throttled)" test "$throttled" -ge "$((3000 - bound))"
check "throttled misses count as lost too" test "$throttled" -le "$lost"

check "turn the per-CPU bound off" ctl cache set upcall-rate 0
t0=$throttled
m0=$missed
check "h1 sends 200 more new connections" send --conn 10000 --conn-range 200 --count 200 --interval-us 2000
missed_at_least() { test "$(stat 'd["cache"]["missed"]')" -ge "$1"; }
busywait 5000 missed_at_least $((m0 + 200))
check_eq "all 200 went up" "$((m0 + 200))" "$(stat 'd["cache"]["missed"]')"
check_eq "none throttled" "$t0" "$(stat 'd["cache"]["throttled"]')"
finish

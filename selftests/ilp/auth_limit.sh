#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Forgeries cost a bounded number of AES-GCM passes: h1 floods sn1 with
# packets under a valid SA (its own, from its own address) whose ICV is
# wrong.  At most ILP_AUTH_FAIL_BURST + ILP_AUTH_FAIL_RATE per second of
# them are decrypted (psp_auth_failed); the rest are dropped before
# (psp_auth_limited).  Once the flood stops, h1's good packets pass.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd xxd jq
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
check "create h1 and sn1" setup_ns h1 sn1
check "link h1 -- sn1" link_ns "$h1" 10.0.1.1/24 "$sn1" 10.0.1.2/24

ctl() { "$ILPCTL" -n "$sn1" "$@"; }
stat() { ctl -j stats | json "$1"; }
drop() { ctl -j stats | jq -r ".drops.$1 // 0"; }
rx_is() { test "$(stat 'd["rx"]["packets"]')" = "$1"; }
burst=$(awk '$2 == "ILP_AUTH_FAIL_BURST" { print $3 }' "$ILP_TOP/include/uapi/linux/ilp.h")
rate=$(awk '$2 == "ILP_AUTH_FAIL_RATE" { print $3 }' "$ILP_TOP/include/uapi/linux/ilp.h")

new_master_key "$tmp/sn1.keys"
check "instance and key on sn1" eval 'ctl instance add && ctl key set 0 "$tmp/sn1.keys" active'
peer=()
"$ILPCTL" sa alloc -h 2>&1 | grep -q 'alloc peer' && peer=(peer 10.0.1.1)
sa=$(ctl -j sa alloc "${peer[@]}" version 0)
spi=$(json 'd["spi"]' <<<"$sa")
json 'd["key"]' <<<"$sa" >"$tmp/h1.key"
send() { ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --spi "$spi" --version 0 \
	--keyfile "$tmp/h1.key" --quiet "$@"; }

flood=$(scaled 4000)
now_us start
check "h1 sends $flood packets with a bad ICV" send --mode tamper-icv --count "$flood"
now_us end
secs=$(((end - start + 999999) / 1000000))
all_dropped() { test $(($(drop psp_auth_failed) + $(drop psp_auth_limited))) -ge "$flood"; }
check "... all dropped" busywait 5000 all_dropped
failed=$(drop psp_auth_failed)
limited=$(drop psp_auth_limited)
bound=$((burst + rate * (secs + 1) + $(nproc)))
check "at most $bound decrypted ($failed in ${secs}s)" test "$failed" -le "$bound"
check "the other $((flood - failed)) were not decrypted: psp_auth_limited" \
	test "$limited" = $((flood - failed))
check_eq "none counted as received" 0 "$(stat 'd["rx"]["packets"]')"

# The bucket refills at RATE a second: a second after the flood, h1's
# good packets authenticate again (10 < BURST).
nap 1.1
check "after the flood, h1 sends 10 good packets" send --count 10
check "... all 10 authenticate" busywait 5000 rx_is 10

dmesg | grep -E "WARNING|BUG|Oops" && tap_result 1 "kernel log clean" || tap_result 0 "kernel log clean"
finish

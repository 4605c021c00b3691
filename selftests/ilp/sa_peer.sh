#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A receive SA authenticates one previous hop: the peer it was allocated
# for.  h1 holds two addresses toward sn1: 10.0.1.1 (the victim, whose
# flows sn1 has decisions for) and 10.0.1.3 (the attacker, who holds a
# valid SA of its own).  The attacker's packets sent from the victim's
# address must be dropped and counted as sa_peer_mismatch, without hitting
# the victim's cache entry; sent from its own address they still pass.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd xxd jq
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
check "create h1 and sn1" setup_ns h1 sn1
check "link h1 -- sn1" link_ns "$h1" 10.0.1.1/24 "$sn1" 10.0.1.2/24
check "h1's second address" ip -n "$h1" addr add 10.0.1.3/24 dev sn1

ctl() { "$ILPCTL" -n "$sn1" "$@"; }
stat() { ctl -j stats | json "$1"; }
drop() { stat "d[\"drops\"][\"$1\"]"; }
# Packets of sn1's cache entry for the flow from $1 (service 7, conn 7).
hits() { ctl -j cache show | jq -r ".[] | select(.prev == \"$1\") | .packets"; }
hits_are() { test "$(hits "$1")" = "$2"; }
drop_is() { test "$(drop "$1")" = "$2"; }
# Which of h1's addresses its packets to sn1 leave from.
from() { ip -n "$h1" route replace 10.0.1.2/32 dev sn1 src "$1"; }

new_master_key "$tmp/sn1.keys"
check "instance and key on sn1" eval 'ctl instance add && ctl key set 0 "$tmp/sn1.keys" active'
# "peer ADDR" is what binds the SA; an ilpctl without it allocates unbound.
alloc() { # ADDR: the SA for ADDR, its SPI in $spi and key in $tmp/$1.key
	local sa peer=()
	"$ILPCTL" sa alloc -h 2>&1 | grep -q 'alloc peer' && peer=(peer "$1")
	sa=$(ctl -j sa alloc "${peer[@]}" version 0) || return 1
	spi=$(json 'd["spi"]' <<<"$sa")
	json 'd["key"]' <<<"$sa" >"$tmp/$1.key"
}
check "an SA for the attacker, 10.0.1.3" alloc 10.0.1.3
check_match "sa show names its peer" '"peer": ?"10.0.1.3"' ctl -j sa show
check_match "an SA without a peer is refused" "peer" ctl sa alloc version 0
for a in 10.0.1.1 10.0.1.3; do
	check "sn1 decides the flow from $a: drop" ctl cache add "$a" service 7 conn 7 drop
done

send() { ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --spi "$spi" --version 0 \
	--keyfile "$tmp/10.0.1.3.key" --service 7 --conn 7 --quiet "$@"; }
check "the attacker sends 5 packets from the victim's address" eval 'from 10.0.1.1 && send --count 5'
check "... dropped as sa_peer_mismatch" busywait 5000 drop_is sa_peer_mismatch 5
check_eq "... not one hit the victim's decision" 0 "$(hits 10.0.1.1)"
check_eq "... nor counted as received" 0 "$(stat 'd["rx"]["packets"]')"
check "from its own address, 3 packets" eval 'from 10.0.1.3 && send --count 3'
check "... hit its own decision" busywait 5000 hits_are 10.0.1.3 3
check_eq "... and the victim's still has none" 0 "$(hits 10.0.1.1)"
check_eq "... and nothing more was a mismatch" 5 "$(drop sa_peer_mismatch)"

dmesg | grep -E "WARNING|BUG|Oops" && tap_result 1 "kernel log clean" || tap_result 0 "kernel log clean"
finish

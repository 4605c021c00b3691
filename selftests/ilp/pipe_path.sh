#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the path does to forwarded packets, h1 -- sn1 -- h2 and
# h1 -- sn1 -- r -- h3 (r a plain router whose link to h3 has an MTU of
# 1280):
# - DSCP and ECN: a packet that reaches sn1 CE-marked, DSCP EF, leaves
#   for h2 with the same DS field (RFC 6040: the CE mark survives);
# - path MTU: sn1 sends with DF, so r answers a packet too big for its
#   link with "fragmentation needed"; sn1's kernel takes the ICMP error
#   as its peer's (no ICMP input error) and the route to h3 learns the
#   MTU; later forwarded packets over it are dropped at sn1 and counted
#   (drops "mtu"), and an AF_ILP send on sn1 to h3 gets EMSGSIZE.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 xxd tc
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
setup_pipe
setup_ns r h3
link_ns "$sn1" 10.0.3.2/24 "$r" 10.0.3.1/24
link_ns "$r" 10.0.4.2/24 "$h3" 10.0.4.1/24
ip -n "$r" link set h3 mtu 1280
ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
ip -n "$sn1" route add 10.0.4.0/24 via 10.0.3.1
ip -n "$h3" route add 10.0.3.0/24 via 10.0.4.2

inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
stat() { "$ILPCTL" -n "$sn1" -j stats | json "$1"; }
icmp_in_errors() { inns "$sn1" awk '/^Icmp:/ { if (n++) print $4 }' /proc/net/snmp; }

check "h1 and sn1 exchange SAs" ilp_pair "$h1" 10.0.1.1 "$sn1" 10.0.1.2 "$tmp"
# h2 and h3 only receive (tc counts what reaches h2; r stops what is too
# long for h3): sn1 has transmit SAs for them, keys of their own.
head -c 16 /dev/urandom | xxd -p >"$tmp/to-h2.key"
head -c 16 /dev/urandom | xxd -p >"$tmp/to-h3.key"
check "sn1 has h2 as a peer" "$ILPCTL" -n "$sn1" peer add 10.0.2.1 spi 1 version 0 keyfile "$tmp/to-h2.key"
check "sn1 has h3 as a peer" "$ILPCTL" -n "$sn1" peer add 10.0.4.1 spi 1 version 0 keyfile "$tmp/to-h3.key"
spi=$("$ILPCTL" -n "$h1" -j peer show | jq -r '.[] | select(.address == "10.0.1.2") | .tx.spi')
# send ARGS...: h1 seals for sn1 with libilp (service 1).
send() {
	inns "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --spi "$spi" --version 0 \
		--keyfile "$tmp/$h1-to-$sn1.key" --quiet "$@"
}
# decide CONN PEER: sn1's listener forwards connection CONN to PEER and
# installs the decision; h1's first packet of CONN gets it decided.
decide() {
	inns "$sn1" "$HELPERS/ilp_listener" --forward "$2" --install --count 1 \
		>"$tmp/l$1.out" 2>&1 &
	local pid=$!
	busywait 5000 grep -q listening "$tmp/l$1.out"
	send --conn "$1" --count 1 "${@:3}"
	wait $pid
}

# 1. DSCP EF and CE from h1 reach h2 in the outer header of sn1's copy,
#    counted by a u32 filter on h2 (a kernel without clsact or u32, as the
#    debug kernel's trimmed configuration, skips the count).
counting=1
inns "$h2" tc qdisc add dev sn1 clsact 2>/dev/null &&
	inns "$h2" tc filter add dev sn1 ingress protocol ip u32 \
		match ip protocol 17 0xff match ip tos 0xbb 0xff action pass 2>/dev/null ||
	counting=0
ce_at_h2() { inns "$h2" tc -s filter show dev sn1 ingress | awk '/Sent/ { print $4; exit }'; }
check "a decision for connection 1: forward to h2" decide 1 10.0.2.1
check "h1 sends 20 packets marked DSCP EF + CE" send --conn 1 --count 20 --tos 0xbb
hits_at_least() { test "$(stat 'd["cache"]["hit"]')" -ge "$1"; }
busywait 5000 hits_at_least 20
if [ $counting = 1 ]; then
	# sn1 counts a hit before its copy is on the wire: on a slow
	# kernel the last ones may still be on their way to h2.
	ce_at_h2_is() { test "$(ce_at_h2)" = "$1"; }
	busywait 5000 ce_at_h2_is 20
	check_eq "h2 saw all 20 forwarded packets with DSCP EF + CE" 20 "$(ce_at_h2)"
else
	tap_skip "h2 saw all 20 forwarded packets with DSCP EF + CE" "no clsact/u32 in this kernel"
fi

# 2. Path MTU: 1300-byte payloads fit sn1's links, not r's link to h3.
in_err0=$(icmp_in_errors)
check "a decision for connection 2: forward to h3" decide 2 10.0.4.1 --size 1300
route_mtu_is() { ip -n "$sn1" route get 10.0.4.1 | grep -q "mtu $1"; }
check "sn1's route to h3 learned r's MTU from its ICMP error" busywait 5000 route_mtu_is 1280
check_eq "... which sn1 took as its own (no ICMP input error)" "$in_err0" "$(icmp_in_errors)"
mtu0=$(stat 'd["drops"]["mtu"]')
[ "$mtu0" != null ] || mtu0=0 # a module without the reason
check "h1 sends 5 more 1300-byte packets of connection 2" send --conn 2 --count 5 --size 1300
mtu_drops_are() { test "$(stat 'd["drops"]["mtu"]')" = "$1"; }
check "sn1 drops them, counted as too long for the route" busywait 5000 mtu_drops_are $((mtu0 + 5))
check "smaller packets of connection 2 still go" send --conn 2 --count 1 --size 1000

check "sn1 may send to h3 directly" "$ILPCTL" -n "$sn1" peer set 10.0.4.1 direct on
check_match "an AF_ILP send on sn1 longer than the path MTU gets EMSGSIZE" "error send: EMSGSIZE" \
	inns "$sn1" "$HELPERS/ilp_sockop" send 5000 1 10.0.4.1 1 size 1300
check_match "... a short one goes" "^sent 1 " \
	inns "$sn1" "$HELPERS/ilp_sockop" send 5000 1 10.0.4.1 1 size 100

dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

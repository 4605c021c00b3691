#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Withdrawing what a peer was given.  "sa del SPI" (ILP_CMD_SA_DEL): h1's
# packets under the SA pass before it, and after it the same packets are
# dropped as an unknown SPI's (psp_unknown_spi), never decrypted; the SPI
# is not handed out again; a second del is ENOENT with the kernel's
# message, and one without CAP_NET_ADMIN is refused.  "peer del"
# (ILP_CMD_PEER_DEL): the decision-cache entries from the peer's address
# and those forwarding to it go, fan-outs whole, and the others stay.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd xxd jq setpriv
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
check "create h1 and sn1" setup_ns h1 sn1
check "link h1 -- sn1" link_ns "$h1" 10.0.1.1/24 "$sn1" 10.0.1.2/24

ctl() { "$ILPCTL" -n "$sn1" "$@"; }
stat() { ctl -j stats | json "$1"; }
drop() { stat "d[\"drops\"][\"$1\"]"; }
drop_is() { test "$(drop "$1")" = "$2"; }
# Packets of sn1's cache entry for h1's flow (service 7, conn 7).
hits() { ctl -j cache show | jq -r '.[] | select(.prev == "10.0.1.1" and .conn == 7) | .packets'; }
hits_are() { test "$(hits)" = "$1"; }
listed() { ctl -j sa show | jq -e --argjson spi "$1" 'any(.[]; .spi == $spi)' >/dev/null; }

new_master_key "$tmp/sn1.keys"
check "instance and key on sn1" eval 'ctl instance add && ctl key set 0 "$tmp/sn1.keys" active'
alloc() { # ADDR: a new SA for ADDR, its SPI in $spi and key in $tmp/$spi.key
	local sa
	sa=$(ctl -j sa alloc peer "$1" version 0) || return 1
	spi=$(json 'd["spi"]' <<<"$sa")
	json 'd["key"]' <<<"$sa" >"$tmp/$spi.key"
}
check "an SA for h1" alloc 10.0.1.1
h1_spi=$spi
check "sn1 decides h1's flow: drop" ctl cache add 10.0.1.1 service 7 conn 7 drop
send() { ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --spi "$h1_spi" \
	--version 0 --keyfile "$tmp/$h1_spi.key" --service 7 --conn 7 --quiet "$@"; }

check "h1 sends 3 packets under its SA" send --count 3
check "... they hit sn1's decision" busywait 5000 hits_are 3
check_eq "... and were received" 3 "$(stat 'd["rx"]["packets"]')"
unknown=$(drop psp_unknown_spi)
next=$(ctl -j key show | jq '.next_spi[0]')

check "sa del withdraws h1's SA" ctl sa del "$h1_spi"
check_fail "... sa show no longer lists it" listed "$h1_spi"
check "the same 4 packets again" send --count 4
check "... are dropped as an unknown SPI's" busywait 5000 drop_is psp_unknown_spi $((unknown + 4))
check_eq "... none hit the decision" 3 "$(hits)"
check_eq "... none was received" 3 "$(stat 'd["rx"]["packets"]')"
check_eq "... nor failed authentication" 0 "$(drop psp_auth_failed)"
check_eq "the key's next SPI did not move back" "$next" "$(ctl -j key show | jq '.next_spi[0]')"
check "a new SA for h1" alloc 10.0.1.1
check "... has an SPI after the withdrawn one" test "$spi" -gt "$h1_spi"

check_match "a second sa del is ENOENT, with the kernel's message" \
	"No such file or directory.*no such SA" ctl sa del "$h1_spi"
check_match "an SPI never allocated is ENOENT too" "no such SA" ctl sa del 0x7fffff00
check_match "sa del takes an SPI" "SPI" ctl sa del 0

keep=$spi
as_nobody() { ip netns exec "$sn1" setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
check_match "without CAP_NET_ADMIN sa del is refused with EPERM" \
	"Operation not permitted" as_nobody "$ILPCTL" sa del "$keep"
check "... and the SA is still there" listed "$keep"

raw() { ip netns exec "$sn1" "$HELPERS/ilp_genl_raw" "$@"; }
sa_del=$(ilp_cmd SA_DEL) sa_nest=$(ilp_attr SA)
check_match "a raw SA_DEL without an SPI is refused with a message" \
	"^error EINVAL: .*ILP_SA_A_SPI is required" raw -n "$sa_nest" "$sa_del"
check_match "a raw SA_DEL with a peer besides the SPI is refused" \
	"^error EINVAL: an SA is withdrawn by its SPI alone" \
	raw -n "$sa_nest" "$sa_del" "$(uapi_enum ilp_sa_attr ILP_SA_A_SPI)=$keep" \
	"$(uapi_enum ilp_sa_attr ILP_SA_A_PEER_ADDR)=ip:10.0.1.1"
check_match "a raw SA_ALLOC that names its SPI is refused" \
	"^error EINVAL: the kernel picks the SPI" \
	raw -n "$sa_nest" "$(ilp_cmd SA_ALLOC)" "$(uapi_enum ilp_sa_attr ILP_SA_A_SPI)=99" \
	"$(uapi_enum ilp_sa_attr ILP_SA_A_PEER_ADDR)=ip:10.0.1.1"
check "a raw SA_DEL of the SPI alone withdraws it" \
	raw -n "$sa_nest" "$sa_del" "$(uapi_enum ilp_sa_attr ILP_SA_A_SPI)=$keep"
check_fail "... gone from sa show" listed "$keep"

# peer del: sn1's peers h1 (10.0.1.1) and 10.0.2.2, and decisions naming
# them every way; conn N is entry N.
check "sn1's peers" eval 'ctl peer add 10.0.1.1 && ctl peer add 10.0.2.2'
check "decisions naming h1 and others" eval '
	ctl cache flush &&
	ctl cache add 10.0.1.1 service 1 conn 1 forward 10.0.2.2 &&
	ctl cache add 10.0.3.3 service 1 conn 2 forward 10.0.1.1 &&
	ctl cache add 10.0.3.3 service 1 conn 3 forward 10.0.2.2 forward 10.0.1.1 &&
	ctl cache add 10.0.3.3 service 1 conn 4 forward 10.0.1.1:1001 &&
	ctl cache add 10.0.3.3 service 1 conn 5 forward 10.0.2.2 &&
	ctl cache add 10.0.2.2 service 1 conn 6 drop'
conns() { ctl -j cache show | jq -c '[.[].conn] | sort'; }
check_eq "cache show before: all six" "[1,2,3,4,5,6]" "$(conns)"
check "peer del h1" ctl peer del 10.0.1.1
check_eq "cache show after: from h1, to h1 and the fan-out through h1 are gone" \
	"[4,5,6]" "$(conns)"
check_eq "... the entries gauge agrees" 3 "$(stat 'd["cache"]["entries"]')"
check_eq "... and none counted as evicted" 0 "$(stat 'd["cache"]["evicted"]')"
check_match "peer del of a peer that is gone is ENOENT" "no such peer" ctl peer del 10.0.1.1
check_eq "... and leaves the cache alone" "[4,5,6]" "$(conns)"
check "peer del 10.0.2.2" ctl peer del 10.0.2.2
check_eq "... takes the rest but the entry to 10.0.1.1:1001" "[4]" "$(conns)"

dmesg | grep -E "WARNING|BUG|Oops" && tap_result 1 "kernel log clean" || tap_result 0 "kernel log clean"
finish

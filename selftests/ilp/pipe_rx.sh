#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The receive side of a pipe-terminus: h1 sends packets sealed by libilp's
# userspace PSP to sn1's kernel instance, with an SA sn1 allocated.  Good
# packets authenticate and are counted; every kind of bad packet is
# dropped and counted under its own reason; nothing reaches the kernel log.
# Until the decision cache and upcalls exist, an authenticated packet with
# no daemon registered is a "no_listener" drop.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 xxd
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
check "create h1 and sn1" setup_ns h1 sn1
check "link h1 -- sn1" link_ns "$h1" 10.0.1.1/24 "$sn1" 10.0.1.2/24

ctl() { "$ILPCTL" -n "$sn1" "$@"; }
drop() { ctl -j stats | json "d[\"drops\"][\"$1\"]"; }
rx() { ctl -j stats | json 'd["rx"]["packets"]'; }
# Read anew on each call, so that busywait can poll them.
rx_is() { test "$(rx)" = "$1"; }
drop_is() { test "$(drop "$1")" = "$2"; }

new_master_key "$tmp/sn1.keys"
check "instance add" ctl instance add
check_match "sa alloc before any key: refused with a reason" "no master key installed" ctl sa alloc peer 10.0.1.1
check_match "deleting an unknown peer: refused with a reason" "no such peer" ctl peer del 10.9.9.9
check_match "deleting an unknown cache entry: refused with a reason" "no cache entry for that flow" \
	ctl cache del 10.9.9.9 service 1 conn 1
check_match "a second instance is refused with a reason" "already has an ILP instance" ctl instance add
check "key set 0" ctl key set 0 "$tmp/sn1.keys" active
check_match "key show names the active slot, never a key" '"active_slot": ?0' ctl -j key show
sa=$(ctl -j sa alloc peer 10.0.1.1 version 0)
spi=$(json 'd["spi"]' <<<"$sa")
json 'd["key"]' <<<"$sa" >"$tmp/sa.key"
check_eq "the first SPI is 1 under key 0" 1 "$spi"
check_eq "the kernel's KDF gives the key libilp derives" "$(cat "$tmp/sa.key")" \
	"$("$HELPERS/ilp_send" --derive-key --master-keys "$tmp/sn1.keys" --spi "$spi" --version 0)"
check_eq "sa show lists it" "$spi" "$(ctl -j sa show | json 'd[0]["spi"]')"

send() { ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --spi "$spi" --version 0 --keyfile "$tmp/sa.key" "$@"; }
check "h1 sends 10 valid packets" send --count 10
check "sn1 authenticates all 10" busywait 5000 rx_is 10
check_eq "... and, with no daemon, drops them as no_listener" 10 "$(drop no_listener)"
check_eq "... and none failed authentication" 0 "$(drop psp_auth_failed)"

bad() { # MODE REASON
	local before
	before=$(drop "$2")
	send --count 3 --mode "$1" >/dev/null
	busywait 5000 drop_is "$2" $((before + 3))
}
check "garbage is dropped as psp_truncated or worse" bad truncated psp_truncated
check "a tampered ICV is dropped as psp_auth_failed" bad tamper-icv psp_auth_failed
check "a tampered header byte is dropped as psp_auth_failed" bad tamper-aad psp_auth_failed
check "a reserved PSP version is dropped as psp_version" bad bad-version psp_version
check "an empty key slot is dropped as psp_no_master_key" bad no-key-slot psp_no_master_key
check "a foreign Next Header is dropped as psp_next_header" bad bad-next-header psp_next_header
check "an ILP header past the end is dropped as ilp_hdr_past_end" bad ilp-past-end ilp_hdr_past_end
check "an unknown ILP version is dropped as ilp_version" bad bad-ilp-version ilp_version
check_eq "bad packets never counted as received" 10 "$(rx)"

# Rotation: the old SA keeps working; after a second rotation it stops.
new_master_key "$tmp/k2"
check "rotate the master key" ctl key rotate "$tmp/k2"
check "the old SA still authenticates after one rotation" send --count 1
check "... counted" busywait 5000 rx_is 11
check "rotate again" ctl key rotate "$tmp/k2"
before=$(drop psp_unknown_spi)
send --count 1 >/dev/null
check "... and now its key is gone: psp_unknown_spi" busywait 5000 drop_is psp_unknown_spi $((before + 1))

# Peers and transmit SAs.
head -c 16 /dev/urandom | xxd -p -c 64 >"$tmp/tx.key"
check "peer add with a transmit SA" ctl peer add 10.0.1.1 spi 0x1234 version 0 keyfile "$tmp/tx.key"
check_match "peer show lists it without the key" '"spi": ?4660' ctl -j peer show
check_match "a duplicate peer is refused" "peer already exists" ctl peer add 10.0.1.1
check "replace its transmit SA" ctl peer set 10.0.1.1 spi 0x1235 version 0 keyfile "$tmp/tx.key"
check_match "... shown" '"spi": ?4661' ctl -j peer show
check_match "a key of the wrong length is refused with a reason" "16 bytes for version 0" \
	ctl peer set 10.0.1.1 spi 0x1236 version 1 keyfile "$tmp/tx.key"
check "peer del" ctl peer del 10.0.1.1
check_match "... gone" '^\[\]$' ctl -j peer show

# Permissions and strict attributes.
# Enter sn1 as root, then drop privileges: the kernel must refuse.
as_nobody() { ip netns exec "$sn1" setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
check_match "unprivileged: instance del refused by the kernel" "^ilpctl: .*Operation not permitted" \
	as_nobody "$ILPCTL" instance del
check_match "unprivileged: sa alloc refused by the kernel" "^ilpctl: .*Operation not permitted" \
	as_nobody "$ILPCTL" sa alloc peer 10.0.1.1
check_match "unprivileged: peer add refused by the kernel" "^ilpctl: .*Operation not permitted" \
	as_nobody "$ILPCTL" peer add 10.0.1.9
check "unprivileged: stats allowed" as_nobody "$ILPCTL" stats
check "unprivileged: the instance is still there" ctl instance show

check "instance del" ctl instance del
check_match "... then sa alloc says there is no instance" "no ILP instance" ctl sa alloc peer 10.0.1.1
check "instance add again, then unload the module with it in place" ctl instance add
check "unload with an instance, keys and SAs present" ilp_unload

dmesg | grep -E "WARNING|BUG|Oops" && tap_result 1 "kernel log clean" || tap_result 0 "kernel log clean"
finish

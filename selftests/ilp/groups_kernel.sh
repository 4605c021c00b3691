#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Groups and multicast across two edomains on the kernel datapath
# (docs/multipoint.md), in the topology of edomains.sh: ilp.ko on sn1 and
# sn3, the userspace datapath on sn2 (a mix), AF_ILP sockets on the
# hosts; a's core and the lookup service on sn1, b's core on sn3.
# - an owner's grants: a join with another host's grant is refused and
#   changes nothing; h2, h3 and h4 join, h1 registers as a sender;
# - h1's packets to the group reach h4 (at h1's SN), h2 (another SN of
#   edomain a) and h3 (edomain b) each exactly once, and after the first
#   packet sn1's and sn3's ilp.ko forward them from their caches, one
#   entry with a next hop per copy;
# - h2's packets, a member but no sender, are dropped and counted on sn2
#   and reach nobody;
# - after h3 leaves, h2 and h4 get every packet and h3 none;
# - anycast (service 11) on the same group: h1's packets reach h4 only,
#   the member at its SN, and once h4 leaves, h2 only.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd openssl jq python3
require_ilpd
tool=$ILP_BUILD_DIR/daemon/tests/ilp_app_tool
[ -x "$tool" ] || skip "ilp_app_tool is not built ($tool)"
[ -f "$SERVICES/multicast/multicast.so" ] || skip "multicast is not built"
[ -f "$SERVICES/anycast/anycast.so" ] || skip "anycast is not built"
ilp_load

datapath_of() { [ "$1" = sn2 ] && echo user || echo kernel; } # NODE
source "$(dirname "$0")/edomains.sh"
for n in sn1 sn2 sn3; do
	cp "$SERVICES/multicast/multicast.so" "$SERVICES/anycast/anycast.so" "$tmp/$n/plugins/"
done

check "ilpd on sn1: edomain a, its gateway to b, its core, the lookup service" \
	start_sn sn1 a --gateway b --pipe "10.1.0.3 edomain b" --core "sqlite $tmp/core-a.db" \
	--lookup "sqlite $tmp/lookup.db"
check "ilpd on sn2: userspace datapath, a's core and the lookup service at sn1" \
	start_sn sn2 a --pipe "10.1.0.1 edomain a" --core "ilp 10.1.0.1" --lookup "ilp 10.1.0.1"
check "ilpd on sn3: edomain b, its core, the lookup service at sn1" \
	start_sn sn3 b --gateway a --core "sqlite $tmp/core-b.db" --lookup "ilp 10.1.0.1"
check "ilpd on h1, h2, h3, h4" eval '
	start_ilpd h1 --role host --first-hop "10.1.1.2 edomain a" --trust "a $c/ca-a.pem" &&
	start_ilpd h2 --role host --first-hop "10.1.2.2 edomain a" --trust "a $c/ca-a.pem" &&
	start_ilpd h3 --role host --first-hop "10.1.3.2 edomain b" --trust "b $c/ca-b.pem" &&
	start_ilpd h4 --role host --first-hop "10.1.4.2 edomain a" --trust "a $c/ca-a.pem"'
check "sn1 has its pipes with sn2 and sn3, and h1 and h4" \
	busywait 15000 up sn1 10.1.0.2:1000 10.1.0.3:1000 10.1.1.1:1000 10.1.4.1:1000
check "sn2 has h2, sn3 has h3" busywait 15000 eval 'up sn2 10.1.2.1:1000 && up sn3 10.1.3.1:1000'

grant() { # ROLE HOST FILE
	"$ILPCTL" group grant news "$1" "$2" until +3600 key "$tmp/owner.pem" >"$tmp/$3"
}
check "the owner's key, and its grants for h1 (a sender), h2, h3 and h4 (members)" eval '
	openssl genpkey -algorithm ed25519 -out "$tmp/owner.pem" 2>/dev/null &&
	grant sender 10.1.1.1 h1.grant && grant member 10.1.2.1 h2.grant &&
	grant member 10.1.3.1 h3.grant && grant member 10.1.4.1 h4.grant'
G=$(cut -d" " -f3 "$tmp/h1.grant")
CONN=$(python3 -c 'import hashlib, sys
print(int.from_bytes(hashlib.sha256(sys.argv[1].encode()).digest()[:8], "big"))' "$G")
refused() { ! ctl h2 group join "$G" grant "$tmp/h3.grant" 2>"$tmp/refused.err" &&
	grep -q "not 10.1.2.1" "$tmp/refused.err"; }
check "h2's join with h3's grant is refused, with the SN's reason" refused
check "... and sn2 holds nothing" jq_holds sn2 '.groups == [] and .counts.refused_grant == 1' group show
check "h2, h3 and h4 join; h1 registers as a sender" eval '
	ctl h2 group join "$G" grant "$tmp/h2.grant" >/dev/null &&
	ctl h3 group join "$G" grant "$tmp/h3.grant" >/dev/null &&
	ctl h4 group join "$G" grant "$tmp/h4.grant" >/dev/null &&
	ctl h1 group register "$G" grant "$tmp/h1.grant" >/dev/null'
check "sn1 knows h4 here, sn2 in a and edomain b have members" busywait 15000 jq_holds sn1 \
	'.groups[0] | (.members | length) == 1 and .member_sns == ["10.1.0.2:1000"] and
	 .member_edomains == ["b"]' group show

# Members' and the sender's apps on AF_ILP sockets, on the group's
# connection, with its TLV.
check "members' apps on h2, h3 and h4, the sender's on h1" eval '
	app mh2 h2 --bind 10/$CONN --tlv 0x0101=$G &&
	app mh3 h3 --bind 10/$CONN --tlv 0x0101=$G &&
	app mh4 h4 --bind 10/$CONN --tlv 0x0101=$G &&
	app sender h1 --bind 10/$CONN --connect 10/$CONN@10.1.1.2 --tlv 0x0101=$G'
# each_once BATCH N MEMBERS...: each member got BATCH0 .. BATCH(N-1) once.
each_once() {
	local b=$1 n=$2 m i
	shift 2
	for m in "$@"; do
		for ((i = 0; i < n; i++)); do
			[ "$(grep -c " payload $b$i$" "$tmp/m$m.out")" = 1 ] || return 1
		done
	done
}
count() { grep -c " payload $2" "$tmp/m$1.out"; } # MEMBER PREFIX
mc_status() { ctl "$1" service control 10 local status; }
n=$(($(scaled 20) < 10 ? 10 : $(scaled 20)))
hit_sn1=$(kstat sn1 .cache.hit) hit_sn3=$(kstat sn3 .cache.hit)
for ((i = 0; i < n; i++)); do
	echo "send m$i" >&"$sender_fd"
	sleep 0.05
done
check "$n packets from h1 reach h2, h3 and h4, each once" busywait 10000 each_once m "$n" h2 h3 h4
sleep 0.5
check "... and no more" eval '[ "$(count h2 m)$(count h3 m)$(count h4 m)" = "$n$n$n" ]'
check "sn1's ilp.ko forwarded them from its cache ($(($(kstat sn1 .cache.hit) - hit_sn1)) hits)" \
	test $(($(kstat sn1 .cache.hit) - hit_sn1)) -ge $((n - 2))
check "sn3's ilp.ko too ($(($(kstat sn3 .cache.hit) - hit_sn3)) hits)" \
	test $(($(kstat sn3 .cache.hit) - hit_sn3)) -ge $((n - 2))
check "multicast on sn1 decided the flow once: $(mc_status sn1)" eval \
	'mc_status sn1 | grep -q " cached 1 "'

# h2 is a member, not a sender.
for i in 0 1 2; do echo "send rogue$i" >&"$mh2_fd"; done
check "h2's packets are dropped and counted on sn2" busywait 5000 \
	eval 'mc_status sn2 | grep -q "not_sender 3"'
sleep 0.5
check "... and reach nobody" eval '[ "$(count h3 rogue)$(count h4 rogue)" = 00 ]'

check "h3 leaves" eval 'ctl h3 group leave "$G" >/dev/null'
check "sn1 sees no member in b" busywait 15000 jq_holds sn1 \
	'.groups[0].member_edomains == []' group show
for ((i = 0; i < n; i++)); do
	echo "send after$i" >&"$sender_fd"
	sleep 0.05
done
check "after h3's leave, h2 and h4 get every packet" busywait 10000 each_once after "$n" h2 h4
sleep 0.5
check "... and h3 none" test "$(count h3 after)" = 0

# Anycast on the same group, h2 and h4 its members now.
check "anycast apps on h2 and h4, and h1's" eval '
	app ah2 h2 --bind 11/$CONN && app ah4 h4 --bind 11/$CONN &&
	app asender h1 --bind 11/$CONN --connect 11/$CONN@10.1.1.2 --tlv 0x0101=$G'
acount() { grep -c " payload $2" "$tmp/a$1.out"; } # MEMBER PREFIX
got() { [ "$(acount "$1" "$2")" = "$3" ]; }         # MEMBER PREFIX COUNT
for ((i = 0; i < 10; i++)); do
	echo "send any$i" >&"$asender_fd"
	sleep 0.05
done
check "anycast: 10 packets from h1 reach h4, the member at its SN" \
	busywait 10000 got h4 any 10
sleep 0.5
check "... and h2 none of them" test "$(acount h2 any)" = 0
check "h4 leaves" eval 'ctl h4 group leave "$G" >/dev/null'
check "sn1 has no member any more" busywait 10000 jq_holds sn1 '.groups[0].members == []' group show
for ((i = 0; i < 10; i++)); do
	echo "send next$i" >&"$asender_fd"
	sleep 0.05
done
check "the next 10 reach h2, the member at another SN of a" \
	busywait 10000 got h2 next 10
check "... and h4 none" test "$(acount h4 next)" = 0

if [ $tap_failed != 0 ]; then
	for n in sn1 sn2 sn3; do
		echo "--- $n"
		ctl "$n" group show
		mc_status "$n"
	done
	tails "$tmp"
fi
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

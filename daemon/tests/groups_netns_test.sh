#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Groups across two edomains (docs/multipoint.md), natively on the
# userspace datapath, in the topology of edomains_lib.sh: a's core on sn2,
# b's on sn3, the lookup service on sn1.  An owner (an Ed25519 key made
# with openssl) grants h3 membership and h1 a sender's registration;
# checks: a join with another host's grant, with none for a closed group,
# or with an expired grant is refused with the SN's reason and changes
# nothing; h3's membership reaches b's core and the lookup service, where
# sn1 (with h1's registration) sees edomain b has members; once the owner
# posts the group open, h2 joins without a grant and sn1 sees sn2 among
# a's SNs with members; kill -9 and restart of sn3's ilpd: h3 tells it
# again, unasked, and b is a member edomain again; leaves take the
# edomains off the lookup service.
#
# Then multicast (service 10) on that state: h4, a second host on sn1,
# joins too, so that the members are at the sender's SN, at another SN of
# its edomain and in the other edomain; 20 packets from h1 reach each of
# h2, h3 and h4 exactly once, from decisions cached on every SN after the
# first; an unregistered sender's packets are dropped and counted and
# reach nobody; after h3 leaves, h2 and h4 still get every packet and h3
# none.  Anycast (service 11) on the same group: each packet reaches one
# member, the nearest, the same while it stays, and another once it
# leaves.
#
# usage: groups_netns_test.sh ILPD ILPCTL ILP_APP_TOOL MULTICAST_SO ANYCAST_SO MAKE_CERTS
# Exit status 77 (skipped) without root, "ip netns" or openssl.
set -u
ilpd=$1 ilpctl=$2 tool=$3 multicast=$4 anycast=$5 certs=$6

tag=ilpg$$
. "$(dirname "$0")/edomains_lib.sh"
for n in sn1 sn2 sn3; do cp "$multicast" "$anycast" "$dir/$n/plugins/"; done

sn sn1 a --gateway b --pipe "10.1.0.3 edomain b" --core "ilp 10.1.0.2" \
	--lookup "sqlite $dir/lookup.db"
sn sn2 a --pipe "10.1.0.1 edomain a" --core "sqlite $dir/core-a.db" --lookup "ilp 10.1.0.1"
start_sn3() { sn sn3 b --gateway a --core "sqlite $dir/core-b.db" --lookup "ilp 10.1.0.1"; }
start_sn3
sn3_pid=${pids[-1]}
start h1 --role host --first-hop "10.1.1.2 edomain a" --trust "a $c/ca-a.pem"
start h2 --role host --first-hop "10.1.2.2 edomain a" --trust "a $c/ca-a.pem"
start h3 --role host --first-hop "10.1.3.2 edomain b" --trust "b $c/ca-b.pem"
start h4 --role host --first-hop "10.1.4.2 edomain a" --trust "a $c/ca-a.pem"

up() { echo "len([x for x in j if x['peer'] == '$1' and x['state'] == 'up']) == 1"; }
check sn1 "assoc show" "$(up 10.1.0.2:1000) and $(up 10.1.0.3:1000) and $(up 10.1.1.1:1000) and
	$(up 10.1.4.1:1000)" "sn1 has its pipes with sn2 and sn3, and h1 and h4"
check sn2 "assoc show" "$(up 10.1.2.1:1000)" "sn2 has h2"
check sn3 "assoc show" "$(up 10.1.3.1:1000)" "sn3 has h3"

openssl genpkey -algorithm ed25519 -out "$dir/owner.pem" 2>/dev/null || fail "the owner's key"
grant() { # ROLE HOST WHEN FILE
	"$ilpctl" group grant news "$1" "$2" until "$3" key "$dir/owner.pem" >"$dir/$4" ||
		fail "a grant for $2"
}
grant member 10.1.3.1 +3600 h3.grant
grant sender 10.1.1.1 +3600 h1.grant
grant member 10.1.1.1 1000 h1-old.grant
grant member 10.1.4.1 +3600 h4.grant
G=$(cut -d' ' -f3 "$dir/h3.grant")
[[ $G =~ ^[0-9a-f]{64}:news$ ]] || fail "the group's name: $G"
ok "the owner grants h3 membership and h1 a sender's registration of $G"

# refused NODE EXPECT ARGS...: ilpctl on NODE fails with EXPECT in its error.
refused() {
	local n=$1 want=$2 out
	shift 2
	out=$(ctl "$n" "$@" 2>&1) && fail "$n: ilpctl $* was taken: $out"
	[[ $out == *"$want"* ]] || fail "$n: ilpctl $*: '$want' not in: $out"
	ok "$n: ilpctl $* refused: $out"
}
refused h2 "not 10.1.2.1" group join "$G" grant "$dir/h3.grant"
refused h2 "not posted" group join "$G"
refused h1 "expired" group join "$G" grant "$dir/h1-old.grant"
refused h1 "not a sender" group register "$G" grant "$dir/h3.grant"
check sn2 "group show" "j['groups'] == [] and j['counts']['refused_grant'] == 1" \
	"sn2 holds nothing for the refused joins, and counted them"

run ctl h3 group join "$G" grant "$dir/h3.grant" || fail "h3's join"
check sn3 "group show" "[m['host'] for m in j['groups'][0]['members']] == ['10.1.3.1:1000']" \
	"sn3 has h3 as a member"
check sn1 "lookup show" "[g['members'] for g in j['groups'] if g['group'] == '$G'] == [['b']]" \
	"b's membership is at the lookup service"
run ctl h1 group register "$G" grant "$dir/h1.grant" || fail "h1's registration"
check sn1 "group show" "j['groups'][0]['senders'][0]['host'] == '10.1.1.1:1000' and
	j['groups'][0]['member_edomains'] == ['b'] and j['groups'][0]['member_sns'] == []" \
	"sn1 has h1 as a sender, and knows edomain b has members"

run ctl sn1 lookup statement news open.member yes key "$dir/owner.pem" >/dev/null ||
	fail "the owner's open statement"
check sn2 "lookup show" "[s for g in j['groups'] for s in g['statements'] if s['id'] == 'open.member']" \
	"sn2 sees the owner's statement that $G is open to members"
run ctl h2 group join "$G" || fail "h2's join of the open group"
check sn1 "group show" "j['groups'][0]['member_sns'] == ['10.1.0.2:1000']" \
	"sn1 knows, from a's core, that sn2 has members"
check sn1 "lookup show" "sorted([g['members'] for g in j['groups'] if g['group'] == '$G'][0]) == ['a', 'b']" \
	"edomains a and b are members at the lookup service"
check h2 "group show" "j['member'] == ['$G']" "h2 holds its membership"

kill -KILL "$sn3_pid"
wait "$sn3_pid" 2>/dev/null
start_sn3
sn3_pid=${pids[-1]}
check sn3 "group show" "[m['host'] for g in j['groups'] for m in g['members']] == ['10.1.3.1:1000']" \
	"sn3's ilpd, killed and started again, has h3's membership back from h3"
check h3 "group show" "j['rebuilt'] >= 1" "h3 told it again, unasked"
check sn1 "group show" "j['groups'][0]['member_edomains'] == ['b']" "b is a member edomain still"

# Multicast: members at the sender's SN (h4), at another SN of a (h2) and
# in b (h3).
# h4's join is an app's (ilp::group::Group through ilpd's app socket),
# held by h4's ilpd as ilpctl's are.
appjoin() { # NODE ARGS...: ilp_app_tool group ARGS on NODE's app socket
	local n=$1
	shift
	ip netns exec "$tag-$n" env ILP_APP_SOCKET="$dir/$n/run/app.sock" "$tool" group "$@"
}
[ "$(appjoin h4 join "$G" "$dir/h4.grant")" = ok ] || fail "h4's app could not join"
out=$(appjoin h4 join "$G" "$dir/h3.grant") && fail "h4's app joined with h3's grant: $out"
[[ $out == *"error 1 "*"not 10.1.4.1"* ]] || fail "h4's app with h3's grant: $out"
ok "an app on h4 joins with its grant (and is refused with h3's: $out)"
check h4 "group show" "j['member'] == ['$G']" "h4's ilpd holds its app's membership"
check sn1 "group show" "len(j['groups'][0]['members']) == 1 and j['groups'][0]['member_sns'] == ['10.1.0.2:1000'] and
	j['groups'][0]['member_edomains'] == ['b']" "sn1 has h4 as a member, and knows of sn2's and b's"
CONN=$(python3 -c 'import hashlib, sys; print(int.from_bytes(hashlib.sha256(sys.argv[1].encode()).digest()[:8], "big"))' "$G")
for n in h2 h3 h4; do
	# With the group's TLV: h2's sends as an unregistered sender, below.
	app m$n $n "$tag-$n" --bind "10/$CONN" --tlv "0x0101=$G"
	wait_for "$dir/m$n.out" "^bound 10/$CONN$" || fail "the member app on $n not bound"
done
app sender h1 "$tag-h1" --bind "10/$CONN" --connect "10/$CONN@10.1.1.2" --tlv "0x0101=$G"
wait_for "$dir/sender.out" "^bound 10/$CONN$" || fail "the sender app on h1 not bound"
mc_status() { ctl "$1" service control 10 local status; }
# count NAME TEXT: how many packets NAME's app received with payload TEXT.
count() { grep -c " payload $2$" "$dir/$1.out"; }
# each_once BATCH N MEMBERS...: every member got BATCH0..BATCH(N-1) once.
each_once() {
	local b=$1 n=$2 m i
	shift 2
	for m in "$@"; do
		for ((i = 0; i < n; i++)); do
			[ "$(count "m$m" "$b$i")" = 1 ] || return 1
		done
	done
}
hits() { status "$1" "d['cache']['hit']"; }
hits0_sn1=$(hits sn1) hits0_sn3=$(hits sn3)
for i in $(seq 0 19); do echo "send m$i" >&"$sender_fd"; sleep 0.05; done
eventually each_once m 20 h2 h3 h4 ||
	fail "multicast: not every member got each packet once: $(for n in h2 h3 h4; do echo "$n: $(grep -c payload "$dir/m$n.out")"; done)"
ok "20 packets from h1 reached h2, h3 and h4, each exactly once"
sleep 0.5
for n in h2 h3 h4; do
	[ "$(grep -c ' payload m' "$dir/m$n.out")" = 20 ] || fail "$n got more than 20: $(cat "$dir/m$n.out")"
done
ok "... and no more"
[ $(($(hits sn1) - hits0_sn1)) -ge 15 ] && [ $(($(hits sn3) - hits0_sn3)) -ge 15 ] ||
	fail "sn1 and sn3 did not forward them from their caches: $(hits sn1), $(hits sn3)"
ok "sn1 and sn3 forwarded them from their caches ($(($(hits sn1) - hits0_sn1)), $(($(hits sn3) - hits0_sn3)) hits): $(mc_status sn1)"

# An unregistered sender: h2 is a member, not a sender; its app sends on
# the group's connection, with its TLV.
for i in 0 1 2; do echo "send rogue$i" >&"$mh2_fd"; done
eventually eval '[[ "$(mc_status sn2)" == *"not_sender 3"* ]]' ||
	fail "sn2 did not refuse h2's packets: $(mc_status sn2)"
sleep 0.5
for n in h2 h3 h4; do
	[ "$(grep -c ' payload rogue' "$dir/m$n.out")" = 0 ] || fail "$n got the rogue's packets"
done
ok "an unregistered sender's packets are dropped and counted on sn2, and reach nobody: $(mc_status sn2)"

run ctl h3 group leave "$G" || fail "h3's leave"
check sn1 "group show" "j['groups'][0]['member_edomains'] == []" \
	"h3 left: sn1 sees no member in b"
for i in $(seq 0 9); do echo "send after$i" >&"$sender_fd"; sleep 0.05; done
eventually each_once after 10 h2 h4 || fail "after h3's leave, h2 and h4 missed packets"
sleep 0.5
[ "$(grep -c ' payload after' "$dir/mh3.out")" = 0 ] || fail "h3 got packets after it left"
ok "after h3's leave, h2 and h4 get every packet and h3 none"
check sn1 "lookup show" "[g['members'] for g in j['groups'] if g['group'] == '$G'] == [['a']]" \
	"the lookup service has a only"
refused h3 "not a member" group leave "$G"
# Anycast (service 11) on the same group, now h2 and h4 as members: each
# packet reaches one member, the nearest (h4, at h1's SN), the same while
# it stays; once h4 leaves, the next reach h2.
for n in h2 h4; do
	app a$n $n "$tag-$n" --bind "11/$CONN"
	wait_for "$dir/a$n.out" "^bound 11/$CONN$" || fail "the anycast app on $n not bound"
done
app asender h1 "$tag-h1" --bind "11/$CONN" --connect "11/$CONN@10.1.1.2" --tlv "0x0101=$G"
wait_for "$dir/asender.out" "^bound 11/$CONN$" || fail "the anycast sender on h1 not bound"
acount() { grep -c " payload $2" "$dir/a$1.out"; } # MEMBER PREFIX
for i in $(seq 0 9); do echo "send any$i" >&"$asender_fd"; sleep 0.05; done
eventually eval '[ "$(acount h4 any)" = 10 ]' || fail "anycast: h4 got $(acount h4 any) of 10"
sleep 0.5
[ "$(acount h2 any)" = 0 ] || fail "anycast: h2 got $(acount h2 any) as well"
ok "anycast: 10 packets from h1 reached h4 only, the member at its SN: $(ctl sn1 service control 11 local status)"
run ctl h4 group leave "$G" || fail "h4's leave"
check sn1 "group show" "j['groups'][0]['members'] == []" "h4 left"
for i in $(seq 0 9); do echo "send next$i" >&"$asender_fd"; sleep 0.05; done
eventually eval '[ "$(acount h2 next)" = 10 ]' || fail "anycast: h2 got $(acount h2 next) of 10 after h4 left"
[ "$(acount h4 next)" = 0 ] || fail "anycast: h4 got packets after it left"
ok "anycast: once h4 left, the next 10 reached h2, the member at another SN of a, and h4 none"

run ctl h2 group leave "$G" || fail "h2's leave"
check sn1 "group show" "j['groups'][0]['member_sns'] == []" "h2 left: sn1 sees no member in a"
echo PASS

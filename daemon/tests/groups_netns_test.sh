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
# usage: groups_netns_test.sh ILPD ILPCTL MAKE_CERTS
# Exit status 77 (skipped) without root, "ip netns" or openssl.
set -u
ilpd=$1 ilpctl=$2 certs=$3
tool=/bin/false # no apps here

tag=ilpg$$
. "$(dirname "$0")/edomains_lib.sh"

sn sn1 a --gateway b --pipe "10.1.0.3 edomain b" --core "ilp 10.1.0.2" \
	--lookup "sqlite $dir/lookup.db"
sn sn2 a --pipe "10.1.0.1 edomain a" --core "sqlite $dir/core-a.db" --lookup "ilp 10.1.0.1"
start_sn3() { sn sn3 b --gateway a --core "sqlite $dir/core-b.db" --lookup "ilp 10.1.0.1"; }
start_sn3
sn3_pid=${pids[-1]}
start h1 --role host --first-hop "10.1.1.2 edomain a" --trust "a $c/ca-a.pem"
start h2 --role host --first-hop "10.1.2.2 edomain a" --trust "a $c/ca-a.pem"
start h3 --role host --first-hop "10.1.3.2 edomain b" --trust "b $c/ca-b.pem"

up() { echo "len([x for x in j if x['peer'] == '$1' and x['state'] == 'up']) == 1"; }
check sn1 "assoc show" "$(up 10.1.0.2:1000) and $(up 10.1.0.3:1000) and $(up 10.1.1.1:1000)" \
	"sn1 has its pipes with sn2 and sn3, and h1"
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

run ctl h3 group leave "$G" || fail "h3's leave"
check sn1 "group show" "j['groups'][0]['member_edomains'] == []" \
	"h3 left: sn1 sees no member in b"
check sn1 "lookup show" "[g['members'] for g in j['groups'] if g['group'] == '$G'] == [['a']]" \
	"the lookup service has a only"
refused h3 "not a member" group leave "$G"
run ctl h2 group leave "$G" || fail "h2's leave"
check sn1 "group show" "j['groups'][0]['member_sns'] == []" "h2 left: sn1 sees no member in a"
echo PASS

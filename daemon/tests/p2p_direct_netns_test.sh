#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Direct connectivity between hosts (the paper's section 3.2), chosen by
# p2p, natively on the userspace datapath, in network namespaces:
#
#	h1 10.2.1.1 --\
#	h2 10.2.1.3 ---[lan]--- 10.2.1.2 sn1 10.2.2.2 --- 10.2.2.1 h4
#	h3 10.2.1.4 --/
#
# h1, h2 and h4 allow direct pipes (direct = yes, with certificates); h3
# does not.  No neighbour line anywhere.  Checks: h1's first packets to
# h2 go through sn1, whose p2p asks h1 to set up a direct pipe with h2;
# h1 finds h2 on its subnet and dials it (h2, asked the same at its first
# answer, dials h1 too: the two channels merge); then the flow goes straight,
# both ways, and sn1 sees none of it.  h1 -> h3 stays with sn1 (h3 does
# not allow it: p2p asks nobody); h1 -> h4 too (h1 refuses: h4 is not on
# its subnet).
#
# usage: p2p_direct_netns_test.sh ILPD ILPCTL ILP_APP_TOOL P2P_SO MAKE_CERTS
# Exit status 77 (skipped) without root, "ip netns" or openssl.
set -u
ilpd=$1 ilpctl=$2 tool=$3 p2p=$4 certs=$5

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1 ||
	! command -v openssl >/dev/null; then
	echo "SKIP: needs root, ip netns and openssl"
	exit 77
fi
. "$certs"

dir=$(mktemp -d)
tag=ilpd$$
nodes="h1 h2 h3 h4 sn1"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in $nodes lan; do ip netns del "$tag-$n" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"

. "$(dirname "$0")/netns_lib.sh"
ok() { echo "ok: $*"; }

for n in $nodes lan; do
	ip netns add "$tag-$n" || fail "ip netns add $n"
	ip -n "$tag-$n" link set lo up
done
ip -n "$tag-lan" link add br0 type bridge && ip -n "$tag-lan" link set br0 up || fail "bridge"
on_lan() { # NODE ADDR
	ip link add eth0 netns "$tag-$1" type veth peer name "$1" netns "$tag-lan" || fail "veth $1"
	ip -n "$tag-lan" link set "$1" master br0 up
	ip -n "$tag-$1" addr add "$2/24" dev eth0
	ip -n "$tag-$1" link set eth0 up
}
on_lan sn1 10.2.1.2
on_lan h1 10.2.1.1
on_lan h2 10.2.1.3
on_lan h3 10.2.1.4
ip link add eth0 netns "$tag-h4" type veth peer name eth1 netns "$tag-sn1" || fail "veth h4"
ip -n "$tag-h4" addr add 10.2.2.1/24 dev eth0 && ip -n "$tag-h4" link set eth0 up
ip -n "$tag-sn1" addr add 10.2.2.2/24 dev eth1 && ip -n "$tag-sn1" link set eth1 up

c=$dir/certs
mkdir "$c"
make_ca "$c" a || fail "make the CA"
make_cert "$c" a sn1 "IP:10.2.1.2,IP:10.2.2.2,URI:ilp:edomain:a" || fail "sn1's certificate"
make_cert "$c" a h1 "IP:10.2.1.1" && make_cert "$c" a h2 "IP:10.2.1.3" &&
	make_cert "$c" a h4 "IP:10.2.2.1" || fail "the hosts' certificates"
ok "certificates made with openssl"

for n in $nodes; do
	mkdir -m 755 "$dir/$n" "$dir/$n/run" "$dir/$n/state" "$dir/$n/plugins"
done
cp "$p2p" "$dir/sn1/plugins/"

start() { # NODE ARGS...
	local n=$1
	shift
	pretty ilpd "$n" "$@"
	ip netns exec "$tag-$n" "$ilpd" --config /dev/null --datapath user --log-level debug \
		--plugin-dir "$dir/$n/plugins" --run-dir "$dir/$n/run" --state-dir "$dir/$n/state" \
		--trust "a $c/ca-a.pem" "$@" 2>>"$dir/$n.log" &
	pids+=($!)
	wait_for "$dir/$n.log" "started" || fail "ilpd on $n did not start"
}
ctl() { # NODE ARGS...
	local n=$1
	shift
	"$ilpctl" -S "$dir/$n/run/ilpd.sock" "$@"
}
# holds NODE EXPR: a Python expression on NODE's "-j assoc show", a.
holds() {
	st=$(ctl "$1" -j assoc show) && python3 -c 'import json, sys
a = json.loads(sys.argv[1])
sys.exit(not eval(sys.argv[2]))' "$st" "$2"
}
check() { # NODE EXPR WHAT
	local st=
	eventually holds "$1" "$2" || fail "$3: on $1, $2; got: $st"
	ok "$3"
}
up() { echo "len([x for x in a if x['peer'] == '$1' and x['state'] == 'up']) == 1"; }
tx_packets() { # NODE PEER: what NODE sealed for PEER
	ctl "$1" -j assoc show | python3 -c 'import json, sys
print(sum(x["tx_packets"] for x in json.load(sys.stdin) if x["peer"] == sys.argv[1]))' "$2"
}
status() { ctl sn1 service control 9 local status 2>&1; }

direct() { echo --direct yes --certificate "$c/$1.pem" --private-key "$c/$1.key"; }
start sn1 --role sn --edomain a --certificate "$c/sn1.pem" --private-key "$c/sn1.key" \
	--core "sqlite $dir/core.db" --edomain-address 10.2.1.2
start h1 --role host --first-hop "10.2.1.2 edomain a" $(direct h1)
start h2 --role host --first-hop "10.2.1.2 edomain a" $(direct h2)
start h3 --role host --first-hop "10.2.1.2 edomain a"
start h4 --role host --first-hop "10.2.2.2 edomain a" $(direct h4)
check sn1 "$(up 10.2.1.1:1000) and $(up 10.2.1.3:1000) and $(up 10.2.1.4:1000) and $(up 10.2.2.1:1000)" \
	"sn1 has its four hosts"
check h1 "[x for x in a if x['kind'] == 'direct'] == []" "no direct pipe to begin with"

for n in h2 h3 h4; do
	app "${n}srv" "$n" "$tag-$n" --bind 9 --echo
	wait_for "$dir/${n}srv.out" "^bound 9/0$" || fail "$n's echo server not bound"
done
app a12 h1 "$tag-h1" --bind 9/12 --connect 9/12@10.2.1.3
app a13 h1 "$tag-h1" --bind 9/13 --connect 9/13@10.2.1.4
app a14 h1 "$tag-h1" --bind 9/14 --connect 9/14@10.2.2.1
for a in a12 a13 a14; do wait_for "$dir/$a.out" "^bound 9/" || fail "$a not bound"; done
ping() { # APP TEXT [TRIES]
	local fd_var=${1}_fd
	for _ in $(seq "${3:-1}"); do
		echo "send $2" >&"${!fd_var}"
		EVENTUALLY_TRIES=40 wait_for "$dir/$1.out" "payload echo:$2$" && return 0
	done
	fail "the echo of $2 did not come back to $1"
}

ping a12 first 10
ok "h1 reaches h2 through sn1"
check h1 "[x['state'] for x in a if x['kind'] == 'direct' and x['peer'] == '10.2.1.3:1000'] == ['up']" \
	"sn1's p2p has h1 set up a direct pipe with h2, which h1 dials by itself"
check h2 "[x['kind'] for x in a if x['peer'] == '10.2.1.1:1000'] == ['direct']" "... on both sides"
# Asked of both: each host's first packet to the other reached sn1.
[[ "$(status)" == *"direct_asked 2"* ]] || fail "p2p did not count its asks: $(status)"
h1_sn=$(tx_packets h1 10.2.1.2:1000) h2_sn=$(tx_packets h2 10.2.1.2:1000)
h1_h2=$(tx_packets h1 10.2.1.3:1000) h2_h1=$(tx_packets h2 10.2.1.1:1000)
for i in $(seq 10); do ping a12 "d$i"; done
[ "$(tx_packets h1 10.2.1.2:1000)" = "$h1_sn" ] || fail "h1 still sent to sn1"
[ "$(tx_packets h2 10.2.1.2:1000)" = "$h2_sn" ] || fail "h2 still sent to sn1"
[ $(($(tx_packets h1 10.2.1.3:1000) - h1_h2)) -ge 10 ] || fail "h1 sealed too few for h2"
[ $(($(tx_packets h2 10.2.1.1:1000) - h2_h1)) -ge 10 ] || fail "h2 sealed too few for h1"
ok "h1's flow to h2 and its echoes go straight, none through sn1"

ping a13 first 10
for i in $(seq 3); do ping a13 "s$i"; done
check h1 "[x for x in a if x['peer'] == '10.2.1.4:1000'] == []" \
	"h1 -> h3 stays with sn1: h3 allows no direct pipe"
ping a14 first 10
wait_for "$dir/h1.log" "a direct pipe with 10.2.2.1:1000 asked by .*not on a subnet of this host" ||
	fail "h1 did not refuse h4"
wait_for "$dir/h4.log" "a direct pipe with 10.2.1.1:1000 asked by .*not on a subnet of this host" ||
	fail "h4 did not refuse h1"
check h1 "[x for x in a if x['peer'] == '10.2.2.1:1000'] == []" \
	"h1 -> h4 stays with sn1: h1 finds h4 on none of its subnets"
[[ "$(status)" == *"direct_asked 4"* ]] || fail "p2p's asks: $(status)"
ok "p2p asked h1 and h2, h1 and h4, not for h3: $(status)"
echo "PASS"

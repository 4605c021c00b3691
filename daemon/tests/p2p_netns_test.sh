#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# p2p delivery across two edomains, natively on the userspace datapath, in
# network namespaces (docs/edomains.md):
#
#	h1 10.1.1.1 --- 10.1.1.2 sn1 \             / sn3 10.1.3.2 --- 10.1.3.1 h3
#	                   10.1.0.1   [backbone]   10.1.0.3
#	h2 10.1.2.1 --- 10.1.2.2 sn2 /
#	                   10.1.0.2
#
# Edomain a has sn1 (its gateway to b) and sn2, which holds a's core (an
# SQLite file) and serves it to sn1 over the control channel; edomain b
# has sn3 (its gateway to a), which holds its own core.  sn1 plays the
# lookup service too: sn2 and sn3 register their hosts there over the
# control channel.  Pipes: sn2 with sn1, sn1 with sn3.  Every SN runs p2p (service 9).  Checks: h1 reaches h3
# (sn1, sn3) and back, h1 reaches h2 (sn1, sn2), h2 reaches h3 through
# a's gateway (sn2, sn1, sn3); after the first packets every SN forwards
# from its cache and p2p sees no more of them; a host nobody has is
# refused and counted; with p2p's direct-pipe, a pipe sn2 <-> sn3 opened
# on demand carries h2's flow to h3 both ways and goes once idle; with
# sn1's cache at 4 entries, 50 concurrent flows h1 -> h3 lose nothing
# (evicted flows decided again); kill -9 of sn2, a's core, under traffic:
# h1's flow to h3 never stops, sn1 keeps its map and decides new flows to
# b, and when sn2's ilpd is back the map is there and sn1 catches up.
#
# usage: p2p_netns_test.sh ILPD ILPCTL ILP_APP_TOOL P2P_SO MAKE_CERTS
# Exit status 77 (skipped) without root, "ip netns" or openssl.
set -u
ilpd=$1 ilpctl=$2 tool=$3 p2p=$4 certs=$5

tag=ilpp$$
. "$(dirname "$0")/edomains_lib.sh"
for n in sn1 sn2 sn3; do cp "$p2p" "$dir/$n/plugins/"; done
p2p_packets() { status "$1" "[s['packets'] for s in d['services'] if s['name'] == 'p2p'][0]"; }
hits() { status "$1" "d['cache']['hit']"; }

sn sn1 a --gateway b --pipe "10.1.0.3 edomain b" --core "ilp 10.1.0.2" \
	--lookup "sqlite $dir/lookup.db"
start_sn2() {
	sn sn2 a --pipe "10.1.0.1 edomain a" --direct-pipe-idle 3s --core "sqlite $dir/core-a.db" \
		--lookup "ilp 10.1.0.1" "$@"
}
start_sn2
sn2_pid=${pids[-1]}
sn sn3 b --gateway a --direct-pipe-idle 3s --core "sqlite $dir/core-b.db" --lookup "ilp 10.1.0.1"
start h1 --role host --first-hop "10.1.1.2 edomain a" --trust "a $c/ca-a.pem"
start h2 --role host --first-hop "10.1.2.2 edomain a" --trust "a $c/ca-a.pem"
start h3 --role host --first-hop "10.1.3.2 edomain b" --trust "b $c/ca-b.pem"

up() { echo "len([x for x in j if x['peer'] == '$1' and x['state'] == 'up']) == 1"; }
check sn1 "assoc show" "$(up 10.1.0.2:1000) and $(up 10.1.0.3:1000) and $(up 10.1.1.1:1000)" \
	"sn1 has its pipes with sn2 and sn3, and h1"
check sn2 "assoc show" "$(up 10.1.2.1:1000)" "sn2 has h2"
check sn3 "assoc show" "$(up 10.1.3.1:1000)" "sn3 has h3"
check sn2 "edomain show" "[g['sn'] for g in j['gateways'] if g['edomain'] == 'b'] == ['10.1.0.1:1000']" \
	"sn2 learns from a's core that sn1 is its gateway to b"
check sn1 "edomain show" "j['core']['synced'] and j['core']['kind'] == 'remote'" \
	"sn1 follows a's core at sn2 over the control channel"
check sn1 "lookup show" "sorted(e['edomain'] for e in j['edomains']) == ['a', 'b']" \
	"the lookup service on sn1 has the hosts of both edomains, from sn2 and sn3"
# A group's owner signs a statement (ilpctl, with its Ed25519 key); sn2
# carries it to the lookup service on sn1, which checks the signature;
# sn3 sees it there, checked again.
openssl genpkey -algorithm ed25519 -out "$dir/owner.pem" 2>/dev/null || fail "an Ed25519 key"
run ctl sn2 lookup statement news open "anyone may join" key "$dir/owner.pem" ||
	fail "the statement was not posted"
check sn3 "lookup show" "[(g['label'], g['statements']) for g in j['groups']] == [('news', [{'id': 'open', 'text': 'anyone may join'}])]" \
	"an owner's signed statement, posted through sn2, is at the lookup service for sn3"
out=$(ctl sn2 lookup statement news open x key "$dir/sn2/state" 2>&1) && fail "a key that is no key was taken"
[[ $out == *"not an Ed25519 private key"* ]] || fail "a key that is no key: $out"
ok "a key file that is not an Ed25519 key is refused: $out"

app h3srv h3 "$tag-h3" --bind 9 --echo
app h2srv h2 "$tag-h2" --bind 9 --echo
wait_for "$dir/h3srv.out" "^bound 9/0$" || fail "h3's echo server not bound"
wait_for "$dir/h2srv.out" "^bound 9/0$" || fail "h2's echo server not bound"
app a13 h1 "$tag-h1" --bind 9/13 --connect 9/13@10.1.3.1
app a12 h1 "$tag-h1" --bind 9/12 --connect 9/12@10.1.2.1
app a23 h2 "$tag-h2" --bind 9/23 --connect 9/23@10.1.3.1
for a in a13 a12 a23; do wait_for "$dir/$a.out" "^bound 9/" || fail "$a not bound"; done

# ping APP TEXT: sends TEXT, and its echo comes back (a store's copy may
# lag the first time: the first packets are sent again until one passes).
ping() {
	local fd_var=${1}_fd tries=${3:-1}
	for _ in $(seq "$tries"); do
		echo "send $2" >&"${!fd_var}"
		EVENTUALLY_TRIES=40 wait_for "$dir/$1.out" "payload echo:$2$" && return 0
	done
	fail "the echo of $2 did not come back to $1"
}
ping a13 first 10
ok "h1 reaches h3 in edomain b (sn1, sn3), and h3's echo comes back"
ping a12 first 10
ok "h1 reaches h2 in its own edomain (sn1, sn2), and back"
ping a23 first 10
ok "h2 reaches h3 through a's gateway (sn2, sn1, sn3), and back"
for n in sn1 sn2 sn3; do
	eval "before_$n=$(p2p_packets $n) hits_$n=$(hits $n)"
done
for i in $(seq 20); do
	ping a13 "x$i"
	ping a12 "y$i"
	ping a23 "z$i"
done
for n in sn1 sn2 sn3; do
	b=before_$n h=hits_$n
	now=$(p2p_packets $n) hits_now=$(hits $n)
	[ "$now" = "${!b}" ] || fail "$n: p2p saw $((now - ${!b})) packets of decided flows"
	# sn1 is on every path: 6 packets a round; sn2 on a12's and a23's
	# (4), sn3 on a13's and a23's (4).
	want=$([ $n = sn1 ] && echo 120 || echo 80)
	[ $((hits_now - ${!h})) -ge "$want" ] || fail "$n: $((hits_now - ${!h})) cache hits, not $want"
	ok "$n forwarded $((hits_now - ${!h})) packets from its cache, and p2p saw none of them"
done

# A host that no edomain has: refused, counted, nothing installed.
app nobody h1 "$tag-h1" --bind 9/99 --connect 9/99@10.1.9.9
wait_for "$dir/nobody.out" "^bound 9/99$" || fail "nobody's app not bound"
echo "send lost" >&"$nobody_fd"
eventually eval '[[ "$(ctl sn1 service control 9 local status 2>&1)" == *"unknown 1"* ]]' ||
	fail "p2p on sn1 did not count the unknown host: $(ctl sn1 service control 9 local status 2>&1)"
ok "a packet for a host nobody has is dropped and counted: $(ctl sn1 service control 9 local status 2>&1)"

# On-demand direct pipes: p2p on sn2 and sn3 asks for a pipe with the
# destination's SN at a flow's first packet; the flow moves onto it once
# it is up, both ways, and the pipe goes once idle.
for n in sn2 sn3; do
	run ctl $n service config p2p direct-pipe=always >/dev/null || fail "p2p direct-pipe on $n"
done
ctl sn2 service config p2p pipe-wait-ms=0 >/dev/null 2>&1 && fail "p2p took pipe-wait-ms=0"
run ctl sn2 service config p2p pipe-wait-ms=15000 >/dev/null || fail "p2p pipe-wait-ms on sn2"
ctl sn2 service config p2p | grep -qx "pipe-wait-ms=15000" ||
	fail "p2p's pipe-wait-ms on sn2: $(ctl sn2 service config p2p 2>&1)"
ok "p2p refuses a pipe-wait-ms of 0 and takes 15000"
app a24 h2 "$tag-h2" --bind 9/24 --connect 9/24@10.1.3.1
wait_for "$dir/a24.out" "^bound 9/24$" || fail "a24 not bound"
ping a24 first 10
# The flow goes on while the pipe comes up: idle for direct-pipe-idle, a
# pipe is closed again.
k=0
pipe_up() {
	ping a24 "u$((++k))"
	holds sn2 "edomain show" "[p['sn'] for p in j['direct_pipes']] == ['10.1.0.3:1000']"
}
EVENTUALLY_TRIES=100 eventually pipe_up || fail "no pipe sn2 -> sn3 came up"
ok "a pipe sn2 -> sn3 opened on demand comes up"
eventually eval '[[ "$(ctl sn2 service control 9 local status 2>&1)" == *"moved 1"* ]]' ||
	fail "h2's flow not moved onto the pipe: $(ctl sn2 service control 9 local status 2>&1)"
# tx_packets NODE PEER: what NODE sealed for PEER.
tx_packets() { ctl "$1" -j assoc show | python3 -c 'import json, sys
print(sum(x["tx_packets"] for x in json.load(sys.stdin) if x["peer"] == sys.argv[1]))' "$2"; }
for i in 1 2 3; do ping a24 "w$i"; done # the reply's move on sn3 may lag
direct_before=$(tx_packets sn2 10.1.0.3:1000) back_before=$(tx_packets sn3 10.1.0.2:1000)
sn1_before=$(hits sn1)
for i in $(seq 10); do ping a24 "d$i"; done
direct_now=$(tx_packets sn2 10.1.0.3:1000) back_now=$(tx_packets sn3 10.1.0.2:1000)
[ $((direct_now - direct_before)) -ge 10 ] || fail "sn2 sealed $((direct_now - direct_before)) packets for sn3, not 10"
[ $((back_now - back_before)) -ge 10 ] || fail "sn3 sealed $((back_now - back_before)) packets for sn2, not 10"
[ "$(hits sn1)" = "$sn1_before" ] || fail "sn1 still forwarded $(($(hits sn1) - sn1_before)) packets"
ok "h2's flow and its replies go over the pipe sn2 <-> sn3, sn1 sees none of them"
check sn2 "assoc show" "[x for x in j if x['peer'] == '10.1.0.3:1000'] == []" \
	"idle for 3 s, the pipe is closed on sn2"
check sn3 "assoc show" "[x for x in j if x['peer'] == '10.1.0.2:1000'] == []" "... and on sn3"
ping a24 after 10
ok "the flow is decided again after the pipe went, and its packets arrive"

# sn1's cache at 4 entries: 50 flows h1 -> h3, each entry evicted before
# its flow's next packet; every packet is decided again and arrives.
run ctl sn1 cache set capacity 4 >/dev/null || fail "cache set capacity"
evicted_before=$(ctl sn1 -j stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["cache"]["evicted"])')
ip netns exec "$tag-h1" env ILP_TRANSPORT=unix ILP_APP_SOCKET="$dir/h1/run/app.sock" \
	"$tool" flows 9/1000@10.1.3.1 50 4 5000 >"$dir/flows.out" 2>&1 ||
	fail "flows through a cache of 4: $(cat "$dir/flows.out")"
evicted=$(ctl sn1 -j stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["cache"]["evicted"])')
[ $((evicted - evicted_before)) -ge 100 ] || fail "sn1 evicted only $((evicted - evicted_before)) entries"
ok "$(cat "$dir/flows.out"): with sn1's cache at 4 entries ($((evicted - evicted_before)) evictions), nothing lost"
run ctl sn1 cache set capacity 65536 >/dev/null || fail "cache set capacity"

# kill -9 of a's core (sn2's ilpd) while h1's flow to h3 (sn1, sn3) runs.
ping a13 before-kill 10
kill -9 "$sn2_pid"
for i in $(seq 10); do ping a13 "k$i"; done
ok "sn2 (a's core) killed: h1's flow to h3 goes on"
check sn1 "edomain show" "not j['core']['synced'] and j['core']['last_error'] and [g['sn'] for g in j['gateways'] if g['edomain'] == 'b'] == ['10.1.0.1:1000']" \
	"sn1 has lost a's core, and keeps its map"
app a13b h1 "$tag-h1" --bind 9/14 --connect 9/14@10.1.3.1
wait_for "$dir/a13b.out" "^bound 9/14$" || fail "a13b not bound"
ping a13b first 10
ok "a new flow h1 -> h3 is decided meanwhile (the map and the lookup service are at hand)"
start_sn2
check sn2 "edomain show" "[g['sn'] for g in j['gateways'] if g['edomain'] == 'b'] == ['10.1.0.1:1000']" \
	"sn2's ilpd is back with a's core, and the map is there"
check sn1 "edomain show" "j['core']['synced'] and j['core']['reconnects'] >= 1" \
	"sn1 catches up with a's core"
ping a12 back 10
ok "h1 reaches h2 again"
echo "PASS"

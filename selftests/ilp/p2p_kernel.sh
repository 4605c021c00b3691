#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2p delivery across two edomains on the kernel datapath (docs/edomains.md):
#
#	h1 10.1.1.1 --- 10.1.1.2 sn1 \             / sn3 10.1.3.2 --- 10.1.3.1 h3
#	                   10.1.0.1   [backbone]   10.1.0.3
#	h2 10.1.2.1 --- 10.1.2.2 sn2 /
#	                   10.1.0.2
#
# Edomain a has sn1 (its gateway to b), which holds a's core and plays
# the lookup service, and sn2, which reaches both over the control
# channel; edomain b has sn3, with its own core, registering its hosts at
# sn1's lookup service.  ilpd on the kernel datapath everywhere but on
# sn2, which runs the userspace datapath (a mix, as deployments will
# have), p2p (service 9) on the SNs, AF_ILP sockets on the hosts:
# - h1 reaches h3 (sn1, sn3) and back, h1 reaches h2 (sn1, sn2), h2
#   reaches h3 through a's gateway (sn2, sn1, sn3);
# - after the first packets, each SN's datapath forwards from its decision
#   cache: hits on every SN, and p2p in ilpd sees none of those packets;
# - with p2p's direct-pipe on sn2 and sn3, a pipe sn2 <-> sn3 opened on
#   demand carries h2's flow to h3 both ways, sn1 sees none of it, and the
#   pipe goes once idle;
# - sn1's cache at 4 entries: concurrent flows h1 -> h3 lose nothing
#   (evicted flows are decided again);
# - kill -9 of sn1's ilpd (a's core, the lookup service and the gateway)
#   under traffic: sn1's ilp.ko goes on forwarding h1's flow to h3; sn2
#   loses the core and keeps its map; ilpd on sn1 started again, the map
#   is back and sn2 catches up.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd openssl jq
require_ilpd
tool=$ILP_BUILD_DIR/daemon/tests/ilp_app_tool
[ -x "$tool" ] || skip "ilp_app_tool is not built ($tool)"
[ -f "$SERVICES/p2p/p2p.so" ] || skip "p2p is not built"
ilp_load

datapath_of() { [ "$1" = sn2 ] && echo user || echo kernel; } # NODE
source "$(dirname "$0")/edomains.sh"
for n in sn1 sn2 sn3; do
	cp "$SERVICES/p2p/p2p.so" "$tmp/$n/plugins/"
done
# How long a pipe opened on demand may go unused: 3 s, stretched on the
# debug kernel, where a few ilpctl calls between two echoes take that long.
pipe_idle=$(scaled_time 3000)ms
start_sn1() {
	start_sn sn1 a --gateway b --pipe "10.1.0.3 edomain b" --core "sqlite $tmp/core-a.db" \
		--lookup "sqlite $tmp/lookup.db"
}
p2p_packets() { ctl "$1" -j daemon status | jq '.services[] | select(.name == "p2p") | .packets'; }
tx_packets() { # NODE PEER: what NODE sealed for PEER (ADDR:PORT)
	ctl "$1" -j assoc show | jq --arg p "$2" '[.[] | select(.peer == $p) | .tx_packets] | add // 0'
}

check "ilpd on sn1: edomain a, its gateway to b, its core, the lookup service" start_sn1
sn1_pid=${pids[-1]}
check "ilpd on sn2: userspace datapath, edomain a, a pipe with sn1, the core and lookup service there" \
	start_sn sn2 a --pipe "10.1.0.1 edomain a" --direct-pipe-idle "$pipe_idle" --core "ilp 10.1.0.1" \
	--lookup "ilp 10.1.0.1"
check "ilpd on sn3: edomain b, its core, the lookup service at sn1" \
	start_sn sn3 b --gateway a --direct-pipe-idle "$pipe_idle" --core "sqlite $tmp/core-b.db" \
	--lookup "ilp 10.1.0.1"
check "ilpd on h1, h2, h3" eval '
	start_ilpd h1 --role host --first-hop "10.1.1.2 edomain a" --trust "a $c/ca-a.pem" &&
	start_ilpd h2 --role host --first-hop "10.1.2.2 edomain a" --trust "a $c/ca-a.pem" &&
	start_ilpd h3 --role host --first-hop "10.1.3.2 edomain b" --trust "b $c/ca-b.pem"'

check "sn1 has its pipes with sn2 and sn3, and h1" \
	busywait 15000 up sn1 10.1.0.2:1000 10.1.0.3:1000 10.1.1.1:1000
check "sn2 has h2, sn3 has h3" busywait 15000 eval 'up sn2 10.1.2.1:1000 && up sn3 10.1.3.1:1000'
check "sn2 learns from a's core that sn1 is its gateway to b" busywait 15000 jq_holds sn2 \
	'[.gateways[] | select(.edomain == "b") | .sn] == ["10.1.0.1:1000"]' edomain show
check "the lookup service on sn1 has hosts of both edomains" busywait 15000 jq_holds sn1 \
	'[.edomains[].edomain] | sort == ["a", "b"]' lookup show

check "echo servers on h3 and h2 (AF_ILP, service 9)" eval \
	'app h3srv h3 --bind 9 --echo && app h2srv h2 --bind 9 --echo'
check "clients on h1 (to h3 and h2) and h2 (to h3)" eval '
	app a13 h1 --bind 9/13 --connect 9/13@10.1.3.1 &&
	app a12 h1 --bind 9/12 --connect 9/12@10.1.2.1 &&
	app a23 h2 --bind 9/23 --connect 9/23@10.1.3.1'
# ping APP TEXT [TRIES]: TEXT's echo comes back (a store's copy may lag
# the first time: the first packet is sent again until one passes).
ping() {
	local fd_var=${1}_fd i
	for ((i = 0; i < ${3:-1}; i++)); do
		echo "send $2" >&"${!fd_var}"
		busywait 2000 grep -q "payload echo:$2$" "$tmp/$1.out" && return 0
	done
	return 1
}
check "h1 reaches h3 in edomain b (sn1, sn3), and the echo comes back" ping a13 first 10
check "h1 reaches h2 in its own edomain (sn1, sn2), and back" ping a12 first 10
check "h2 reaches h3 through a's gateway (sn2, sn1, sn3), and back" ping a23 first 10

# Decided flows: each SN's datapath forwards them from its cache.
rounds=$(($(scaled 50) / 5 + 2))
for n in sn1 sn2 sn3; do
	eval "p2p_$n=$(p2p_packets $n) hit_$n=$(kstat $n .cache.hit)"
done
round() {
	local i
	for ((i = 0; i < rounds; i++)); do
		ping a13 "x$i" && ping a12 "y$i" && ping a23 "z$i" || return 1
	done
}
check "$rounds rounds on the three paths, every echo back" round
for n in sn1 sn2 sn3; do
	p=p2p_$n h=hit_$n
	# sn1 is on every path: 6 packets a round; sn2 and sn3 on two (4).
	want=$((rounds * $([ $n = sn1 ] && echo 6 || echo 4)))
	check_eq "$n: p2p saw none of the decided flows' packets" "${!p}" "$(p2p_packets $n)"
	hits=$(($(kstat $n .cache.hit) - ${!h}))
	check "$n's $(datapath_of $n) datapath forwarded them from its cache ($hits hits, $want packets)" \
		test "$hits" -ge "$want"
done

# A host that no edomain has: refused and counted by p2p on sn1.
check "a client on h1 to 10.1.9.9" app nobody h1 --bind 9/99 --connect 9/99@10.1.9.9
echo "send lost" >&"$nobody_fd"
check "... is refused and counted on sn1" busywait 5000 \
	eval 'ctl sn1 service control 9 local status | grep -q "unknown 1"'

# An on-demand direct pipe sn2 <-> sn3 takes h2's flow to h3, and goes
# once idle.
# p2p's wait for a pipe (10 s) is stretched as the other limits are: the
# debug kernel is several times slower at bringing one up.
pipe_wait=pipe-wait-ms=$(scaled_time 10000)
check "p2p's direct-pipe=always on sn2 and sn3" eval \
	'ctl sn2 service config p2p direct-pipe=always $pipe_wait &&
	 ctl sn3 service config p2p direct-pipe=always $pipe_wait'
check "a client on h2 to h3, connection 24" app a24 h2 --bind 9/24 --connect 9/24@10.1.3.1
check "its first packet's echo comes back" ping a24 first 10
# The flow goes on while the pipe comes up: idle for direct-pipe-idle, a
# pipe is closed again.
k=0
pipe_up() {
	ping a24 "u$((++k))" &&
		jq_holds sn2 '[.direct_pipes[].sn] == ["10.1.0.3:1000"]' edomain show
}
check "a pipe sn2 -> sn3 opened on demand comes up" busywait 15000 pipe_up
check "p2p on sn2 moves the flow onto it" busywait 10000 \
	eval 'ctl sn2 service control 9 local status | grep -q "moved 1"'
check "three more echoes (sn3's move may lag)" eval 'ping a24 w1 && ping a24 w2 && ping a24 w3'
direct0=$(tx_packets sn2 10.1.0.3:1000) back0=$(tx_packets sn3 10.1.0.2:1000)
sn1_hits=$(kstat sn1 .cache.hit)
tens() { local i; for ((i = 0; i < 10; i++)); do ping a24 "d$i" || return 1; done; }
check "ten echoes on the flow" tens
check "sn2's userspace datapath sealed them for sn3" test $(($(tx_packets sn2 10.1.0.3:1000) - direct0)) -ge 10
check "... and sn3's the echoes for sn2" test $(($(tx_packets sn3 10.1.0.2:1000) - back0)) -ge 10
check_eq "... and sn1 forwarded none of them" "$sn1_hits" "$(kstat sn1 .cache.hit)"
check "idle for $pipe_idle, the pipe is closed on sn2" busywait 15000 jq_holds sn2 \
	'[.[] | select(.peer == "10.1.0.3:1000")] == []' assoc show
check "... and on sn3" busywait 10000 jq_holds sn3 \
	'[.[] | select(.peer == "10.1.0.2:1000")] == []' assoc show
check "the flow is decided again after the pipe went, and its packets arrive" ping a24 after 10

# sn1's cache at 4 entries: concurrent flows h1 -> h3, each entry evicted
# before its flow's next packet, every packet decided again.
flows=$(($(scaled 50) < 8 ? 8 : $(scaled 50)))
check "sn1's cache set to 4 entries" "$ILPCTL" -n "$sn1" cache set capacity 4
evicted0=$(kstat sn1 .cache.evicted)
check_match "$flows flows h1 -> h3, 3 rounds: every echo back" "^flows $flows sent $((flows * 3)) echoed $((flows * 3))$" \
	ip netns exec "$h1" env ILP_TRANSPORT=kernel "$tool" flows 9/1000@10.1.3.1 "$flows" 3 \
	"$(scaled_time 5000)"
evicted=$(($(kstat sn1 .cache.evicted) - evicted0))
check "... through sn1's cache of 4 ($evicted evictions)" test "$evicted" -ge "$flows"
"$ILPCTL" -n "$sn1" cache set capacity 65536

# kill -9 of sn1's ilpd under traffic: its ilp.ko forwards what its cache
# knows without it.
check "h1's flow to h3 is decided again" ping a13 again 10
kill -KILL "$sn1_pid"
wait "$sn1_pid" 2>/dev/null
kills() { local i; for ((i = 0; i < 5; i++)); do ping a13 "k$i" || return 1; done; }
check "with sn1's ilpd dead, h1's flow to h3 goes on through sn1's ilp.ko" kills
check "sn2 loses a's core, and keeps its map" busywait 15000 jq_holds sn2 \
	'(.core.synced | not) and [.gateways[] | select(.edomain == "b") | .sn] == ["10.1.0.1:1000"]' \
	edomain show
check "ilpd on sn1 starts again, with a's core and the lookup service" start_sn1
check "sn2 catches up with a's core" busywait 20000 jq_holds sn2 \
	'.core.synced and .core.reconnects >= 1' edomain show
check "the map is back on sn1" busywait 10000 jq_holds sn1 \
	'[.gateways[] | select(.edomain == "b") | .sn] == ["10.1.0.1:1000"]' edomain show
check "h2 reaches h3 through sn1 again" ping a23 again 10

if [ $tap_failed != 0 ]; then
	for n in sn1 sn2 sn3; do
		echo "--- $n"
		ctl "$n" assoc show
		ctl "$n" edomain show
		ctl "$n" service control 9 local status
		"$ILPCTL" -n "${!n}" -j stats
	done
	tails "$tmp"
fi
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

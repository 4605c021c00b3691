#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The whole stack without the module, natively: h1 -- sn1 -- h2 in network
# namespaces joined by veth pairs, ilpd on the userspace datapath in each,
# IP forwarding off on sn1 so that only ILP can get a packet across.  sn1
# runs the relay service (ID 8, next-hop h2); the apps on h1 and h2 are
# ilp::Socket over the UNIX transport (ilp_app_tool chat).
#
#	h1 10.0.1.1 --- 10.0.1.2 sn1 10.0.2.2 --- 10.0.2.1 h2
#	                           10.0.3.2
#	                              |
#	                        h3 10.0.3.1
#
# Checks: h1's packet reaches h2's app with its metadata and the echo comes
# back; on sn1 the first packet of each direction is a miss and the second
# a cache hit; after kill -9 and a restart of sn1's ilpd on the same state
# dir, the relay's learned table is restored, so that a packet h2 sends
# first, to a connection only the table knows, reaches h1; and traffic
# flows again both ways.  Last, h3, a peer of sn1 that learned h1's
# connection ID, sends on it: the relay drops and counts it (a connection's
# origin is its first packet's previous hop), h2 never sees it, and h1's
# connection goes on.
#
# usage: netns_relay_test.sh ILPD ILPCTL ILP_APP_TOOL RELAY_SO
# Exit status 77 (skipped) without root or without "ip netns".
set -u
ilpd=$1 ilpctl=$2 tool=$3 relay=$4

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
	echo "SKIP: needs root and ip netns"
	exit 77
fi

dir=$(mktemp -d)
tag=ilpt$$
h1=$tag-h1 sn1=$tag-sn1 h2=$tag-h2 h3=$tag-h3
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "$h1" "$sn1" "$h2" "$h3"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"

. "$(dirname "$0")/netns_lib.sh"

# The topology.
for ns in "$h1" "$sn1" "$h2" "$h3"; do
	run ip netns add "$ns" || fail "ip netns add $ns"
	ip -n "$ns" link set lo up
done
run ip link add h1-eth0 netns "$h1" type veth peer name sn1-eth0 netns "$sn1" || fail "veth"
run ip link add h2-eth0 netns "$h2" type veth peer name sn1-eth1 netns "$sn1" || fail "veth"
run ip link add h3-eth0 netns "$h3" type veth peer name sn1-eth2 netns "$sn1" || fail "veth"
ip -n "$h1" addr add 10.0.1.1/24 dev h1-eth0
ip -n "$sn1" addr add 10.0.1.2/24 dev sn1-eth0
ip -n "$sn1" addr add 10.0.2.2/24 dev sn1-eth1
ip -n "$h2" addr add 10.0.2.1/24 dev h2-eth0
ip -n "$sn1" addr add 10.0.3.2/24 dev sn1-eth2
ip -n "$h3" addr add 10.0.3.1/24 dev h3-eth0
for l in "$h1 h1-eth0" "$sn1 sn1-eth0" "$sn1 sn1-eth1" "$h2 h2-eth0" "$sn1 sn1-eth2" "$h3 h3-eth0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
run ip netns exec "$sn1" sysctl -qw net.ipv4.ip_forward=0
ip netns exec "$h1" ping -c1 -W2 10.0.2.1 >/dev/null 2>&1 && fail "h1 reaches h2 over IP"

# Keys: a master key per node; each transmit SA derived from the
# receiver's master key, as its "sa alloc" would give it.
for n in h1 sn1 h2 h3; do
	mkdir -m 755 "$dir/$n" "$dir/$n/run" "$dir/$n/state" "$dir/$n/plugins"
	printf 'key0 = %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/$n.keys"
done
cp "$relay" "$dir/sn1/plugins/"
sa() { # FROM TO SPI
	"$tool" derive "$dir/$2.keys" "$3" >"$dir/$1-to-$2.key" || fail "derive $1 -> $2"
	echo "spi $3 version 0 keyfile $dir/$1-to-$2.key"
}
h1_peer="10.0.1.2 $(sa h1 sn1 1)"
sn1_peer_h1="10.0.1.1 $(sa sn1 h1 2)"
sn1_peer_h2="10.0.2.1 $(sa sn1 h2 3)"
h2_peer="10.0.2.2 $(sa h2 sn1 4)"
sn1_peer_h3="10.0.3.1 $(sa sn1 h3 5)"
h3_peer="10.0.3.2 $(sa h3 sn1 6)"

start() { # NODE NS ARGS...
	local n=$1 ns=$2 skip=0
	shift 2
	[ -f "$dir/$n.log" ] && skip=$(wc -l <"$dir/$n.log")
	pretty ilpd "$n" "$@"
	ip netns exec "$ns" "$ilpd" --config /dev/null --datapath user --log-level debug \
		--master-keys "$dir/$n.keys" --plugin-dir "$dir/$n/plugins" \
		--run-dir "$dir/$n/run" --state-dir "$dir/$n/state" "$@" 2>>"$dir/$n.log" &
	pids+=($!)
	eval "${n}_pid=$!"
	# A restarted node appends to its log: look past the first run's
	# "started".
	wait_for "$dir/$n.log" "started" "$skip" || fail "ilpd on $n did not start"
}
start h1 "$h1" --role host --peer "$h1_peer" --sn 10.0.1.2
start sn1 "$sn1" --role sn --peer "$sn1_peer_h1" --peer "$sn1_peer_h2" --peer "$sn1_peer_h3" \
	--service-config "relay next-hop=10.0.2.1"
start h2 "$h2" --role host --peer "$h2_peer" --sn 10.0.2.2
start h3 "$h3" --role host --peer "$h3_peer" --sn 10.0.3.2

# The apps, their stdin a FIFO the test writes commands to.
app server h2 "$h2" --bind 8 --echo
wait_for "$dir/server.out" "^bound 8/0$" || fail "h2's app not bound"
app client h1 "$h1" --bind 8/77 --connect 8/77@10.0.2.1
wait_for "$dir/client.out" "^bound 8/77$" || fail "h1's app not bound"
grep -qx "transport unix" "$dir/client.out" || fail "h1's app is not on the UNIX transport"

sn_status() { "$ilpctl" -S "$dir/sn1/run/ilpd.sock" -j daemon status; }
sn_holds() { # EXPR; leaves the status in sn_check's st, for its message
	st=$(sn_status) && python3 -c 'import json, sys
d = json.loads(sys.argv[1])
sys.exit(not eval(sys.argv[2]))' "$st" "$1"
}
# Asserts a Python expression on sn1's status, d, within 5 s: counters
# are bumped after the work they count (an upcall's "missed" once the
# handler has returned), so they may trail the packets the test saw.
sn_check() {
	local st=
	eventually sn_holds "$1" || fail "sn1's status: $1, got: $st"
}

# Through sn1 by h1's default SN; the echo comes back through it.
ping() { # N: the Nth exchange
	echo "send ping$1" >&"$client_fd"
	wait_for "$dir/server.out" \
		"^recv from 8/77@10.0.1.1:1000 via 10.0.2.2:1000 md 0x0100=ping$1 payload ping$1$" ||
		fail "ping$1 did not reach h2's app with its sender and metadata"
	wait_for "$dir/client.out" \
		"^recv from 8/77@10.0.2.1:1000 via 10.0.1.2:1000 md 0x0100=ping$1 payload echo:ping$1$" ||
		fail "the echo of ping$1 did not reach h1's app"
}
ping 1
# Each direction's first packet went up to the relay, which installed it.
sn_check 'd["upcalls"] == 2 and d["cache"]["missed"] == 2 and d["cache"]["hit"] == 0'
sn_check 'd["cache"]["entries"] == 2 and d["services"][0]["packets"] == 2'
ping 2
sn_check 'd["upcalls"] == 2 and d["cache"]["hit"] == 2'

# The relay checkpoints its table within a second of learning.
for _ in $(seq 60); do
	[ -s "$dir/sn1/state/services/relay.state" ] && break
	sleep 0.05
done
[ -s "$dir/sn1/state/services/relay.state" ] || fail "no relay checkpoint"

run kill -9 "$sn1_pid"
wait "$sn1_pid" 2>/dev/null
start sn1 "$sn1" --role sn --peer "$sn1_peer_h1" --peer "$sn1_peer_h2" --peer "$sn1_peer_h3" \
	--service-config "relay next-hop=10.0.2.1"
wait_for "$dir/sn1.log" "relay: 1 connections restored" || fail "relay's table not restored"
sn_check 'd["upcalls"] == 0 and d["cache"]["entries"] == 0'

# h2 speaks first: the packet to connection 77 comes from sn1's next hop,
# so only the restored table says it goes to h1.
echo "send pushed" >&"$server_fd"
wait_for "$dir/client.out" \
	"^recv from 8/77@10.0.2.1:1000 via 10.0.1.2:1000 md 0x0100=pushed payload pushed$" ||
	fail "h2's packet after the restart did not reach h1"
sn_check 'd["upcalls"] == 1'
ping 3
ping 4
sn_check 'd["upcalls"] == 2 and d["cache"]["hit"] >= 2'

# h3 learned connection 77 and sends on it through sn1, as h1 does: a miss
# (the cache keys flows by previous hop) that the relay refuses.
app thief h3 "$h3" --bind 8/77 --connect 8/77@10.0.2.1
wait_for "$dir/thief.out" "^bound 8/77$" || fail "h3's app not bound"
echo "send steal" >&"$thief_fd"
wait_for "$dir/sn1.log" "relay: dropped a packet of connection 77 from another peer than its origin" ||
	fail "the relay did not refuse h3's packet on h1's connection"
sn_check 'd["upcalls"] == 3 and d["services"][0]["packets"] == 3'
list=$("$ilpctl" -S "$dir/sn1/run/ilpd.sock" -j service list)
python3 -c 'import json, sys; s = json.loads(sys.argv[1])[0]
sys.exit(not (s["name"] == "relay" and s["dropped"] == 1))' "$list" ||
	fail "the refused packet is not counted as dropped: $list"
ping 5
grep -q "payload steal" "$dir/server.out" && fail "h3's packet on h1's connection reached h2"
echo PASS

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Wire compatibility of the two datapaths: h1 -- sn1 -- h2 with the module
# on sn1 (ilpd on the kernel datapath, running the relay) and ilpd on the
# userspace datapath on h1 and h2, whose apps use ilp::Socket over ilpd's
# app socket.  Every hop is sealed by one implementation and opened by the
# other:
# - h1's app reaches h2's app through the relay, with its metadata, and
#   h2's echo comes back: both ways, both directions of each hop;
# - sn1's first packet each way is an upcall, the next ones cache hits,
#   and sn1 counts no authentication failure;
# - the apps see sn1 at its ILP port, not at the flow-hashed source port
#   its kernel sent from;
# - h2 speaks first on a connection the relay learned: the way back works
#   without h1 sending again.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3
require_ilpd
tool=$ILP_BUILD_DIR/daemon/tests/ilp_app_tool
[ -x "$tool" ] || skip "ilp_app_tool is not built ($tool)"
ilp_load

tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"
setup_pipe
for n in h1 sn1 h2; do
	ilpd_dirs "$tmp/$n"
done
cp "$SERVICES/relay/relay.so" "$tmp/sn1/plugins/"
new_master_key "$tmp/h1.keys"
new_master_key "$tmp/h2.keys"

# sn1 is the module's: its receive SAs come from "sa alloc"; its transmit
# SAs to h1 and h2 are derived from their master keys, as their "sa
# alloc" would (the userspace datapath keeps no SA state to allocate).
check "sn1: an instance with a master key" ilp_node "$sn1" "$tmp"
sa_from_sn1() { # FILE PEER: a receive SA of sn1 for PEER, its key in FILE; prints the SPI
	local sa
	sa=$("$ILPCTL" -n "$sn1" -j sa alloc peer "$2" version 0) || return 1
	json 'd["key"]' <<<"$sa" >"$1"
	json 'd["spi"]' <<<"$sa"
}
spi_h1=$(sa_from_sn1 "$tmp/h1-to-sn1.key" 10.0.1.1)
spi_h2=$(sa_from_sn1 "$tmp/h2-to-sn1.key" 10.0.2.1)
derive() { "$tool" derive "$1" "$2" >"$3"; } # MASTER_KEYS SPI OUT
check "sn1's transmit SA to h1, from h1's master key" derive "$tmp/h1.keys" 2 "$tmp/sn1-to-h1.key"
check "sn1's transmit SA to h2, from h2's master key" derive "$tmp/h2.keys" 3 "$tmp/sn1-to-h2.key"
check "sn1 knows h1" "$ILPCTL" -n "$sn1" peer add 10.0.1.1 spi 2 version 0 keyfile "$tmp/sn1-to-h1.key"
check "sn1 knows h2" "$ILPCTL" -n "$sn1" peer add 10.0.2.1 spi 3 version 0 keyfile "$tmp/sn1-to-h2.key"

pids=()
defer 'kill ${pids[*]} 2>/dev/null'
start_ilpd() { # NODE NS ARGS...: ilpd in NS, its files under $tmp/NODE
	local n=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$ILPD" --config /dev/null --log-level debug \
		--plugin-dir "$tmp/$n/plugins" --run-dir "$tmp/$n/run" --state-dir "$tmp/$n/state" \
		"$@" 2>"$tmp/$n.log" &
	pids+=($!)
	busywait 10000 grep -q "started" "$tmp/$n.log"
}
check "ilpd on sn1, kernel datapath, relay to h2" start_ilpd sn1 "$sn1" --role sn \
	--datapath kernel --service-config "relay next-hop=10.0.2.1"
check "ilpd on h1, userspace datapath" start_ilpd h1 "$h1" --role host --datapath user \
	--master-keys "$tmp/h1.keys" --sn 10.0.1.2 \
	--peer "10.0.1.2 spi $spi_h1 version 0 keyfile $tmp/h1-to-sn1.key"
check "ilpd on h2, userspace datapath" start_ilpd h2 "$h2" --role host --datapath user \
	--master-keys "$tmp/h2.keys" --sn 10.0.2.2 \
	--peer "10.0.2.2 spi $spi_h2 version 0 keyfile $tmp/h2-to-sn1.key"
check_match "h1's ilpd runs the userspace datapath" "datapath user" cat "$tmp/h1.log"
check_match "sn1's runs the kernel's" "datapath kernel" cat "$tmp/sn1.log"

# The apps: ilp_app_tool chat, commands on a FIFO, over the app socket.
app() { # NAME NODE NS ARGS...
	local name=$1 node=$2 ns=$3 fd
	shift 3
	mkfifo "$tmp/$name.in"
	ip netns exec "$ns" env ILP_TRANSPORT=unix ILP_APP_SOCKET="$tmp/$node/run/app.sock" \
		"$tool" chat "$@" <"$tmp/$name.in" >"$tmp/$name.out" 2>&1 &
	pids+=($!)
	exec {fd}>"$tmp/$name.in"
	eval "${name}_fd=$fd"
}
app server h2 "$h2" --bind 8 --echo
check "h2's app binds service 8" busywait 5000 grep -q "^bound 8/0$" "$tmp/server.out"
app client h1 "$h1" --bind 8/77 --connect 8/77@10.0.2.1
check "h1's app binds 8/77" busywait 5000 grep -q "^bound 8/77$" "$tmp/client.out"
check_match "... over the app socket" "^transport unix$" cat "$tmp/client.out"

sn1_stat() { "$ILPCTL" -n "$sn1" -j stats | json "$1"; }
ping() { # N: h1's app sends pingN; h2's echoes it
	echo "send ping$1" >&"$client_fd"
	check "ping$1 reaches h2's app from h1, via sn1's ILP port, with its metadata" \
		busywait 5000 grep -q \
		"^recv from 8/77@10.0.1.1:1000 via 10.0.2.2:1000 md 0x0100=ping$1 payload ping$1$" \
		"$tmp/server.out"
	check "its echo reaches h1's app the same way" \
		busywait 5000 grep -q \
		"^recv from 8/77@10.0.2.1:1000 via 10.0.1.2:1000 md 0x0100=ping$1 payload echo:ping$1$" \
		"$tmp/client.out"
}
missed0=$(sn1_stat 'd["cache"]["missed"]')
hit0=$(sn1_stat 'd["cache"]["hit"]')
ping 1
check_eq "one upcall each way at sn1" 2 $(($(sn1_stat 'd["cache"]["missed"]') - missed0))
ping 2
ping 3
check_eq "then cache hits only" 4 $(($(sn1_stat 'd["cache"]["hit"]') - hit0))
check_eq "sn1 dropped nothing: every packet authenticated and parsed" 0 \
	"$(sn1_stat 'sum(d["drops"].values())')"

echo "send pushed" >&"$server_fd"
check "h2 speaks first on connection 77: h1's app gets it" \
	busywait 5000 grep -q "^recv from 8/77@10.0.2.1:1000 .* payload pushed$" \
	"$tmp/client.out"

if [ $tap_failed != 0 ]; then
	tails "$tmp" 20
	"$ILPCTL" -n "$sn1" -j stats
fi
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

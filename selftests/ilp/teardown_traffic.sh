#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tearing an instance down while packets flow through it, many times:
# - "instance del" on sn1 while h1 and h2 send through it both ways (sn1
#   receives, decrypts and re-seals each packet in softirq) and a local
#   AF_ILP socket on sn1 sends to h2 (process context);
# - the exit of a namespace whose instance reflects h1's packets back.
# Senders and receivers must finish with what they hold before the
# sockets close; the kernel log stays clean (on the debug kernel KASAN and
# lockdep watch too).  TEARDOWN_ROUNDS sets the rounds of each (default 3,
# 1 on the debug kernel).
source "$(dirname "$0")/lib.sh"
require_root
require_cmd xxd
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
setup_pipe
rounds=${TEARDOWN_ROUNDS:-$((${ILP_LOAD_DIVISOR:-1} > 1 ? 1 : 3))}
send="$HELPERS/ilp_send"
derive() { "$send" --derive-key --master-keys "$1" --spi "$2" --version 0; }
new_master_key "$tmp/h1.keys"
new_master_key "$tmp/h2.keys"
derive "$tmp/h1.keys" 1 >"$tmp/to-h1.key"
derive "$tmp/h2.keys" 1 >"$tmp/to-h2.key"
dmesg_lines() { dmesg | wc -l; }
dmesg0=$(dmesg_lines)

# sa_for NS PEER NAME: a receive SA in NS for PEER; its SPI in $tmp/NAME.spi,
# its key in $tmp/NAME.key.  ("peer" binds the SA where ilpctl takes it.)
sa_for() {
	local sa peer=()
	"$ILPCTL" sa alloc -h 2>&1 | grep -q 'alloc peer' && peer=(peer "$2")
	sa=$("$ILPCTL" -n "$1" -j sa alloc "${peer[@]}" version 0) || return 1
	json 'd["spi"]' <<<"$sa" >"$tmp/$3.spi"
	json 'd["key"]' <<<"$sa" >"$tmp/$3.key"
}

# An instance on sn1 that relays h1 <-> h2 (one cached flow each way) and
# may send to h2 directly.
sn1_up() {
	local ctl=("$ILPCTL" -n "$sn1")
	ilp_node "$sn1" "$tmp" &&
		sa_for "$sn1" 10.0.1.1 h1 && sa_for "$sn1" 10.0.2.1 h2 &&
		"${ctl[@]}" peer add 10.0.1.1 spi 1 version 0 keyfile "$tmp/to-h1.key" &&
		"${ctl[@]}" peer add 10.0.2.1 spi 1 version 0 keyfile "$tmp/to-h2.key" &&
		"${ctl[@]}" peer set 10.0.2.1 direct on &&
		"${ctl[@]}" cache add 10.0.1.1 service 1 conn 7 forward 10.0.2.1 &&
		"${ctl[@]}" cache add 10.0.2.1 service 1 conn 8 forward 10.0.1.1
}
# blast NS TO NAME CONN: seal packets for sn1 as fast as they go, in the
# background (pids in $pids).
blast() {
	ip netns exec "$1" "$send" --to "$2" --spi "$(cat "$tmp/$3.spi")" --version 0 \
		--keyfile "$tmp/$3.key" --conn "$4" --count 1000000 --quiet 2>/dev/null &
	pids+=($!)
}
tx_packets() { "$ILPCTL" -n "$1" -j stats | json 'd["tx"]["packets"]'; }
# relayed_over NS N: NS has sent more than N packets (a function, so that
# busywait reads the counter anew each time).
relayed_over() { test "$(tx_packets "$1")" -gt "$2"; }

# 1. Instance delete under traffic.
t0=$SECONDS
ok=1
for ((r = 1; r <= rounds; r++)); do
	pids=()
	sn1_up || { ok=0; echo "# round $r: sn1 set-up failed"; break; }
	blast "$h1" 10.0.1.2 h1 7
	blast "$h2" 10.0.2.2 h2 8
	ip netns exec "$sn1" "$HELPERS/ilp_sockop" send 9000 1 10.0.2.1 1000000 persist 1 \
		>/dev/null 2>&1 &
	pids+=($!)
	tx0=$(tx_packets "$sn1")
	# Tear down only once sn1 relays, so that the delete meets packets.
	busywait 5000 relayed_over "$sn1" $((tx0 + 50)) ||
		{ ok=0; echo "# round $r: no traffic through sn1"; }
	"$ILPCTL" -n "$sn1" instance del || { ok=0; echo "# round $r: instance del failed"; }
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
done
tap_result $((1 - ok)) "$rounds instance deletes on sn1 under traffic both ways and local sends"
echo "# $((SECONDS - t0)) s"
t0=$SECONDS

# 2. Namespace exit under traffic: x reflects h1's packets to h1.
ok=1
for ((r = 1; r <= rounds; r++)); do
	pids=()
	setup_ns x && link_ns "$h1" 10.0.9.1/24 "$x" 10.0.9.2/24 && ilp_node "$x" "$tmp" &&
		sa_for "$x" 10.0.9.1 x1 &&
		"$ILPCTL" -n "$x" peer add 10.0.9.1 spi 1 version 0 keyfile "$tmp/to-h1.key" &&
		"$ILPCTL" -n "$x" cache add 10.0.9.1 service 1 conn 7 forward 10.0.9.1 ||
		{ ok=0; echo "# round $r: set-up of x failed"; break; }
	blast "$h1" 10.0.9.2 x1 7
	blast "$h1" 10.0.9.2 x1 7
	busywait 5000 relayed_over "$x" 50 ||
		{ ok=0; echo "# round $r: no traffic through x"; }
	ip netns del "$x"
	# The namespace's devices go with it, after its instance was unpublished.
	busywait 10000 eval '! ip -n "$h1" link show x >/dev/null 2>&1' ||
		{ ok=0; echo "# round $r: x did not go away"; }
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
done
tap_result $((1 - ok)) "$rounds namespace exits under traffic both ways"
echo "# $((SECONDS - t0)) s"

dmesg | tail -n +"$((dmesg0 + 1))" | grep -E "WARNING|BUG|Oops|KASAN|general protection" >"$tmp/dmesg"
check_eq "kernel log clean" "" "$(cat "$tmp/dmesg")"
check "the module unloads after" ilp_unload
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The pipe-terminus under pressure, h1 -- sn1 -- h2:
# - an upcall flood (100k new connections; 10k on the debug kernel)
#   against a slow listener: lost misses are counted, memory stays bounded, and a cached connection
#   keeps forwarding throughout;
# - master-key rotation and transmit-SA replacement under steady traffic
#   lose no packet;
# - unloading the module while traffic flows is clean.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 xxd
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
setup_pipe

ctl() { "$ILPCTL" -n "$sn1" "$@"; }
stat() { ctl -j stats | json "$1"; }
derive() { "$HELPERS/ilp_send" --derive-key --master-keys "$tmp/h2.keys" --spi "$1" --version 0; }

new_master_key "$tmp/sn1.keys"
new_master_key "$tmp/h2.keys"
ctl instance add
ctl key set 0 "$tmp/sn1.keys" active
sa=$(ctl -j sa alloc peer 10.0.1.1 version 0)
spi=$(json 'd["spi"]' <<<"$sa")
json 'd["key"]' <<<"$sa" >"$tmp/h1.key"
derive 1 >"$tmp/to-h2.key"
ctl peer add 10.0.2.1 spi 1 version 0 keyfile "$tmp/to-h2.key"
check "a cached decision for connection 7" \
	ctl cache add 10.0.1.1 service 1 conn 7 forward 10.0.2.1

send() { ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --version 0 --quiet "$@"; }
receive() { # COUNT OUTFILE: in the background, once it listens ($rx_pid)
	ip netns exec "$h2" "$HELPERS/ilp_send" --listen 1000 --master-keys "$tmp/h2.keys" \
		--count "$1" --timeout-ms "$(scaled_time 30000)" --listen-count-only >"$2" 2>&1 &
	rx_pid=$!
	# A packet sent before the socket is bound would be refused, not lost
	# by ILP: start the senders only once it listens.
	busywait 5000 grep -q listening "$2"
}
mem_avail() { awk '/MemAvailable/ { print $2 }' /proc/meminfo; }

# 1. Upcall flood.
ip netns exec "$sn1" "$HELPERS/ilp_listener" --drop --delay-ms 20 --rcvbuf 65536 --quiet \
	>"$tmp/listener.out" 2>&1 &
l_pid=$!
busywait 5000 grep -q listening "$tmp/listener.out"
mem0=$(mem_avail)
receive 200 "$tmp/steady.out"
flood=$(scaled 100000)
send --spi "$spi" --keyfile "$tmp/h1.key" --conn 100000 --conn-range "$flood" --count "$flood" &
flood_pid=$!
send --spi "$spi" --keyfile "$tmp/h1.key" --conn 7 --count 200 --interval-us 20000
wait $flood_pid
check "the cached connection got all its 200 packets through the flood" wait $rx_pid
check_match "... every one authentic at h2" "received 200 ok 200" cat "$tmp/steady.out"
kill $l_pid; wait $l_pid 2>/dev/null
lost=$(stat 'd["cache"]["lost"]')
missed=$(stat 'd["cache"]["missed"]')
check "misses the slow listener could not take are counted as lost ($lost)" test "$lost" -gt 0
check_eq "every new connection was a miss, taken or lost" "$flood" "$((lost + missed))"
check "memory stayed bounded (< 64 MiB used by the flood)" test $((mem0 - $(mem_avail))) -lt 65536

# 2. Rotation and SA replacement under steady traffic.
hits0=$(stat 'd["cache"]["hit"]')
receive 300 "$tmp/rot.out"
send --spi "$spi" --keyfile "$tmp/h1.key" --conn 7 --count 150 --interval-us 10000 &
s_pid=$!
new_master_key "$tmp/sn1-next.keys"
nap 0.5
check "rotate sn1's master key under traffic" ctl key rotate "$tmp/sn1-next.keys"
derive 2 >"$tmp/to-h2-next.key"
check "replace sn1's transmit SA to h2 under traffic" \
	ctl peer set 10.0.2.1 spi 2 version 0 keyfile "$tmp/to-h2-next.key"
wait $s_pid
# h1 re-keys: a new SA under the new master key.
sa=$(ctl -j sa alloc peer 10.0.1.1 version 0)
json 'd["key"]' <<<"$sa" >"$tmp/h1-next.key"
check "h1 sends 150 more on its new SA" \
	send --spi "$(json 'd["spi"]' <<<"$sa")" --keyfile "$tmp/h1-next.key" --conn 7 --count 150 --interval-us 2000
check "h2 got all 300: nothing lost across rotation and re-keying" wait $rx_pid
check_match "... all authentic" "received 300 ok 300" cat "$tmp/rot.out"
grep -q "received 300 ok 300" "$tmp/rot.out" || {
	echo "# where packets went missing:"
	ctl -j stats
	for ns in "$h1" "$sn1" "$h2"; do
		echo "# $ns: $(ip netns exec "$ns" nstat -az UdpInDatagrams UdpRcvbufErrors UdpInErrors \
			UdpSndbufErrors UdpNoPorts | awk 'NR > 1 { printf "%s=%s ", $1, $2 }')"
	done
	echo "# softnet (drops in column 2, per CPU): $(awk '{ printf "%s ", $2 }' /proc/net/softnet_stat)"
}
check_eq "all 300 were cache hits" 300 "$(($(stat 'd["cache"]["hit"]') - hits0))"

# 3. Unload while traffic flows and entries exist.
send --spi "$(json 'd["spi"]' <<<"$sa")" --keyfile "$tmp/h1-next.key" --conn 7 --count 2000 \
	--interval-us 500 &
s_pid=$!
nap 0.5
check "unload the module while traffic flows" ilp_unload
wait $s_pid
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

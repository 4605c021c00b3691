#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AF_ILP sockets end to end, h1 -- sn1 -- h2: each host associated with
# sn1 (its default SN), sn1 relaying by the destination host the sending
# kernel names (the test listener with --to-dst-host).
# - a round trip both ways, with metadata out and back, the sender seen
#   as its host and the SN it came through;
# - many sockets on distinct connections, each getting only its own;
# - direct host to host on one subnet, no SN;
# - a full receive buffer drops and counts instead of growing; a sender
#   blocked on its send buffer wakes when the queue drains;
# - every misuse returns the errno ilp(7) documents; an unprivileged user
#   sends and receives but cannot change peers or keys or bind a
#   reserved service.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 xxd tc
ilp_load

tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"
setup_pipe
op="$HELPERS/ilp_sockop"
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
stat() { "$ILPCTL" -n "$1" -j stats | json "$2"; }
# delivered_since D0 N: h2 delivered N packets to sockets since it counted D0.
delivered_since() { test $(($(stat "$h2" 'd["sockets"]["delivered"]') - $1)) -eq "$2"; }

check "h1 and sn1 exchange SAs" ilp_pair "$h1" 10.0.1.1 "$sn1" 10.0.1.2 "$tmp"
check "h2 and sn1 exchange SAs" ilp_pair "$h2" 10.0.2.1 "$sn1" 10.0.2.2 "$tmp"
check "h1's default SN is sn1" "$ILPCTL" -n "$h1" instance set sn 10.0.1.2
check "h2's default SN is sn1" "$ILPCTL" -n "$h2" instance set sn 10.0.2.2
check_match "instance show names it" "instance port 1000 sn 10.0.1.2:1000" \
	"$ILPCTL" -n "$h1" instance show
ip netns exec "$sn1" "$HELPERS/ilp_listener" --to-dst-host --install --quiet >"$tmp/l.out" 2>&1 &
l_pid=$!
defer kill $l_pid
busywait 5000 grep -q listening "$tmp/l.out"

# 1. Round trips through sn1, both ways, with metadata.
ip netns exec "$h2" "$op" reflect 5000 1 >"$tmp/r2.out" 2>&1 &
busywait 5000 grep -q bound "$tmp/r2.out"
check_match "h1 -> h2 -> h1 through sn1: the reply, from h2 via sn1, with h2's metadata types" \
	"^reply ping\|1,2,256 from 5000/myconn host 10.0.2.1:1000 sn 10.0.1.2:1000 md 1,2$" \
	inns "$h1" "$op" roundtrip 5000 10.0.2.1 md 256=hello
ip netns exec "$h1" "$op" reflect 6000 1 >"$tmp/r1.out" 2>&1 &
busywait 5000 grep -q bound "$tmp/r1.out"
check_match "h2 -> h1 -> h2 as well" \
	"^reply ping\|1,2,300,301 from 6000/myconn host 10.0.1.1:1000 sn 10.0.2.2:1000 md 1,2$" \
	inns "$h2" "$op" roundtrip 6000 10.0.1.1 md 300=a md 301=bc
check "sn1's listener installed the four decisions" \
	test "$(stat "$sn1" 'd["cache"]["entries"]')" -ge 4

# 2. Many sockets on distinct connections of one service.
rx=()
for c in 11 12 13 14 15 16 17 18; do
	ip netns exec "$h2" "$op" recv 7000 "$c" "$c" "$(scaled_time 20000)" >"$tmp/conn$c.out" 2>&1 &
	rx+=($!)
done
for c in 11 12 13 14 15 16 17 18; do
	busywait 5000 grep -q bound "$tmp/conn$c.out"
done
for c in 11 12 13 14 15 16 17 18; do
	ip netns exec "$h1" "$op" send 7000 "$c" 10.0.2.1 "$c" >/dev/null &
	rx+=($!)
done
wait "${rx[@]}"
ok=1
for c in 11 12 13 14 15 16 17 18; do
	grep -q "^received $c bytes .* conn $c$" "$tmp/conn$c.out" || { ok=0; cat "$tmp/conn$c.out"; }
done
tap_result $((1 - ok)) "8 sockets on connections 11..18 each got exactly its own packets"

# 3. Direct, host to host: h1 and h3 on h1's subnet.
setup_ns h3
link_ns "$h1" 10.0.3.1/24 "$h3" 10.0.3.2/24
check "h1 and h3 exchange SAs" ilp_pair "$h1" 10.0.3.1 "$h3" 10.0.3.2 "$tmp"
check "h1 may reach h3 directly" "$ILPCTL" -n "$h1" peer set 10.0.3.2 direct on
check "h3 may reach h1 directly" "$ILPCTL" -n "$h3" peer set 10.0.3.1 direct on
check_match "peer show says so" "peer 10.0.3.2:1000 tx spi .* direct" "$ILPCTL" -n "$h1" peer show
relayed=$(stat "$sn1" 'd["tx"]["packets"]')
ip netns exec "$h3" "$op" reflect 8000 1 >"$tmp/r3.out" 2>&1 &
r3=$!
busywait 5000 grep -q bound "$tmp/r3.out"
check_match "h1 <-> h3 directly: the reply names h3 and no SN, without DST_HOST" \
	"^reply ping\|1 from 8000/myconn host 10.0.3.2:1000 sn none md 1$" \
	inns "$h1" "$op" roundtrip 8000 10.0.3.2
check_eq "... and sn1 saw none of it" "$relayed" "$(stat "$sn1" 'd["tx"]["packets"]')"
wait $r3

# 4. Receive buffer full: a socket that does not read drops, counted.
drops0=$(stat "$h2" 'd["drops"]["rcvbuf"]')
# (The socket sleeps until the sender is done, however slow the kernel.)
ip netns exec "$h2" "$op" recv 7100 1 1000 $(scaled_time 3000) rcvbuf 4096 \
	nodrain $(scaled_time 2500) >"$tmp/full.out" 2>&1 &
rx=$!
busywait 5000 grep -q bound "$tmp/full.out"
check "h1 sends 200 x 1000 bytes to a socket that is not reading" \
	inns "$h1" "$op" send 7100 1 10.0.2.1 200 size 1000
wait $rx
got=$(sed -n 's/^received \([0-9]*\) .*/\1/p' "$tmp/full.out")
check "the socket got only what its buffer held ($got of 200)" test "$got" -lt 50
check "the rest were dropped and counted as rcvbuf" \
	test "$(($(stat "$h2" 'd["drops"]["rcvbuf"]') - drops0))" -ge "$((200 - got))"

# A blocked sender wakes: hold h1's packets in a slow queue so that its
# socket's send buffer fills, then let them drain.
tc -n "$h1" qdisc add dev "${sn1%-*}" root handle 1: htb default 1
tc -n "$h1" class add dev "${sn1%-*}" parent 1: classid 1:1 htb rate 2mbit
ip netns exec "$h2" "$op" recv 7200 1 100 60000 >"$tmp/slow.out" 2>&1 &
rx=$!
busywait 5000 grep -q bound "$tmp/slow.out"
check_match "a sender with a 16 KiB send buffer blocks on a slow link, and wakes to finish" \
	"^sent 100 blocked [1-9]" inns "$h1" "$op" send 7200 1 10.0.2.1 100 size 1200 sndbuf 16384
wait $rx
check_match "... and all 100 arrive" "^received 100 " cat "$tmp/slow.out"
tc -n "$h1" qdisc del dev "${sn1%-*}" root

# 5. Misuse, each with its errno (ilp(7), ERRORS).
misuse() { # DESC EXPECTED CASE [NS]
	check_match "$1" "^errno $2$" inns "${4:-$h1}" "$op" misuse "$3" 10.0.2.1
}
misuse "bind with a short address: EINVAL" EINVAL bind-short
misuse "bind with another family: EAFNOSUPPORT" EAFNOSUPPORT bind-family
misuse "bind to service 0: EINVAL" EINVAL bind-service0
misuse "bind twice: EINVAL" EINVAL bind-twice
misuse "bind a taken (service, connection): EADDRINUSE" EADDRINUSE bind-inuse
misuse "(service, any) and (service, C) coexist" 0 bind-any-and-exact
misuse "send without a destination: EDESTADDRREQ" EDESTADDRREQ send-nodest
misuse "a destination host of no known family: EAFNOSUPPORT" EAFNOSUPPORT send-host-family
misuse "connect with another family: EAFNOSUPPORT" EAFNOSUPPORT connect-family
misuse "metadata not in whole 4-byte TLVs: EINVAL" EINVAL md-unaligned
misuse "metadata of ILP's own TLV types: EINVAL" EINVAL md-own-type
misuse "sticky metadata of ILP's own types: EINVAL" EINVAL md-sockopt-own-type
misuse "metadata over ILP_METADATA_MAX: EMSGSIZE" EMSGSIZE md-too-long
misuse "metadata and payload past the path MTU: EMSGSIZE" EMSGSIZE send-too-big
misuse "send after shutdown(SHUT_WR): EPIPE" EPIPE send-after-shutdown
misuse "recv with nothing queued, non-blocking: EAGAIN" EAGAIN recv-empty-nonblock
misuse "MSG_OOB: EOPNOTSUPP" EOPNOTSUPP recv-oob
misuse "getpeername unconnected: ENOTCONN" ENOTCONN getpeername-unconnected
misuse "an option at a foreign level: ENOPROTOOPT" ENOPROTOOPT sockopt-level
check_match "recv after shutdown(SHUT_RD) returns 0" "^returned 0$" \
	inns "$h1" "$op" misuse recv-after-shutdown
check_match "a socket that sends first is bound to a fresh connection" "^bound 5000 conn$" \
	inns "$h1" "$op" misuse autobind
setup_ns lone
misuse "no ILP instance in the namespace: ENETDOWN" ENETDOWN send "$lone"
ilp_node "$lone" "$tmp"
misuse "an instance but no SN and no direct peer: ENETUNREACH" ENETUNREACH send "$lone"
"$ILPCTL" -n "$lone" peer add 10.0.9.9
"$ILPCTL" -n "$lone" instance set sn 10.0.9.9
misuse "a default SN without a transmit SA: ENOKEY" ENOKEY send "$lone"

# 6. Unprivileged: sockets yes, configuration no.
ip netns exec "$h2" "$op" reflect 5000 1 >"$tmp/r4.out" 2>&1 &
r4=$!
busywait 5000 grep -q bound "$tmp/r4.out"
check_match "nobody on h1 sends and receives through sn1" "^reply ping" \
	inns "$h1" setpriv --reuid=nobody --regid=nogroup --clear-groups "$op" roundtrip 5000 10.0.2.1
wait $r4
check_match "nobody cannot bind a reserved service (80): EACCES" "^errno EACCES$" \
	inns "$h1" setpriv --reuid=nobody --regid=nogroup --clear-groups "$op" misuse bind-reserved
check_fail "nobody cannot add a peer" \
	inns "$h1" setpriv --reuid=nobody --regid=nogroup --clear-groups "$ILPCTL" peer add 10.0.1.9
check_fail "nobody cannot set a master key" \
	inns "$h1" setpriv --reuid=nobody --regid=nogroup --clear-groups "$ILPCTL" key rotate "$tmp/$h1.keys"
check_fail "nobody cannot change the default SN" \
	inns "$h1" setpriv --reuid=nobody --regid=nogroup --clear-groups "$ILPCTL" instance set sn none

check "sockets counted what they sent and got" \
	test "$(stat "$h1" 'd["sockets"]["sent"]')" -ge 10 -a "$(stat "$h2" 'd["sockets"]["delivered"]')" -ge 10

# 7. Close with packets queued, then unload once every socket is closed.
ip netns exec "$h2" "$op" recv 7300 1 1 100 nodrain 60000 >"$tmp/q.out" 2>&1 &
q=$!
busywait 5000 grep -q bound "$tmp/q.out"
d0=$(stat "$h2" 'd["sockets"]["delivered"]')
inns "$h1" "$op" send 7300 1 10.0.2.1 20 >/dev/null
check "20 packets wait in a socket that does not read" \
	busywait 5000 delivered_since "$d0" 20
kill $q; wait $q 2>/dev/null
kill $l_pid; wait $l_pid 2>/dev/null
check "unload the module once every socket is closed" ilp_unload
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Who receives what on an SN (ilp(7), "Who receives what"), h1 -- sn1 -- h2:
# - an unprivileged user on sn1 who binds the service h1 talks to h2 on
#   gets none of that relayed traffic: it goes to sn1's listener, which
#   relays it, and h2 gets every packet;
# - the same user does get what is sent to sn1 itself;
# - a socket sends only on its own binding: not on another connection,
#   not for another service.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd setpriv xxd
ilp_load

tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"
setup_pipe
op="$HELPERS/ilp_sockop"
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
as_nobody() { local ns=$1; shift; ip netns exec "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

check "h1 and sn1 exchange SAs" ilp_pair "$h1" 10.0.1.1 "$sn1" 10.0.1.2 "$tmp"
check "h2 and sn1 exchange SAs" ilp_pair "$h2" 10.0.2.1 "$sn1" 10.0.2.2 "$tmp"
"$ILPCTL" -n "$h1" instance set sn 10.0.1.2
"$ILPCTL" -n "$h2" instance set sn 10.0.2.2
# sn1's daemon: relays by the destination host, without caching, so that
# every packet is a miss and meets the bound socket first.
inns "$sn1" "$HELPERS/ilp_listener" --to-dst-host --quiet >"$tmp/l.out" 2>&1 &
l_pid=$!
defer kill $l_pid
busywait 5000 grep -q listening "$tmp/l.out"

# 1. Relayed traffic is not for local sockets.
as_nobody "$sn1" "$op" recv 5000 0 1000 "$(scaled_time 4000)" >"$tmp/thief.out" 2>&1 &
thief=$!
inns "$h2" "$op" recv 5000 31 20 "$(scaled_time 8000)" >"$tmp/h2.out" 2>&1 &
rx=$!
busywait 5000 grep -q bound "$tmp/thief.out"
busywait 5000 grep -q bound "$tmp/h2.out"
check "h1 sends 20 packets of service 5000 to h2 through sn1" \
	inns "$h1" "$op" send 5000 31 10.0.2.1 20
wait $rx
check_match "h2 got all 20" "^received 20 " cat "$tmp/h2.out"
wait $thief
check_match "nobody's socket on sn1, bound to service 5000, got none of them" \
	"^received 0 " cat "$tmp/thief.out"

# 2. What is sent to sn1 itself still reaches its sockets, unprivileged too.
"$ILPCTL" -n "$h1" peer set 10.0.1.2 direct on
as_nobody "$sn1" "$op" recv 5000 0 5 "$(scaled_time 8000)" >"$tmp/own.out" 2>&1 &
rx=$!
busywait 5000 grep -q bound "$tmp/own.out"
check "h1 sends 5 packets to sn1 as their destination" inns "$h1" "$op" send 5000 32 10.0.1.2 5
wait $rx
check_match "nobody's socket on sn1 got those 5" "^received 5 " cat "$tmp/own.out"

# 3. Senders speak only for their own binding.
check_match "send on a connection the socket is not bound to: EINVAL" "^errno EINVAL$" \
	inns "$h1" "$op" misuse send-other-conn 10.0.2.1
check_match "send for a service the socket is not bound to: EINVAL" "^errno EINVAL$" \
	inns "$h1" "$op" misuse send-other-service 10.0.2.1
finish

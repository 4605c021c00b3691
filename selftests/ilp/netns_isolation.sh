#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sockets and counters belong to one network namespace.  Also checks the
# lib.sh topology helpers: h1 -- sn1 -- h2 joined by veth, IP between the
# hosts through sn1.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 ping
ilp_load

check "create h1, sn1, h2" setup_ns h1 sn1 h2
check "link h1 -- sn1" link_ns "$h1" 10.0.1.1/24 "$sn1" 10.0.1.2/24
check "link sn1 -- h2" link_ns "$sn1" 10.0.2.2/24 "$h2" 10.0.2.1/24
ip netns exec "$sn1" sysctl -qw net.ipv4.ip_forward=1
ip -n "$h1" route add default via 10.0.1.2
ip -n "$h2" route add default via 10.0.2.2
check "h1 reaches h2 through sn1" busywait 10000 ip netns exec "$h1" ping -c1 -W1 10.0.2.1

check "hold 2 sockets in h1" hold_start h1 2 -n "$h1"
check "hold 1 socket in h2" hold_start h2 1 -n "$h2"
check_eq "h1 lists its 2 sockets" 2 "$("$ILPCTL" -n "$h1" -j socket show | json 'len(d)')"
check_eq "h2 lists its 1 socket" 1 "$("$ILPCTL" -n "$h2" -j socket show | json 'len(d)')"
check_eq "sn1 lists none" 0 "$("$ILPCTL" -n "$sn1" -j socket show | json 'len(d)')"
check_eq "h1 counted 2 created" 2 "$("$ILPCTL" -n "$h1" -j stats | json 'd["sockets"]["created"]')"
check "reset h1's counters" "$ILPCTL" -n "$h1" stats reset
check_eq "... zeroes h1" 0 "$("$ILPCTL" -n "$h1" -j stats | json 'd["sockets"]["created"]')"
check_eq "... and leaves h2 alone" 1 "$("$ILPCTL" -n "$h2" -j stats | json 'd["sockets"]["created"]')"
hold_stop h1
hold_stop h2
check "deleting a namespace with ILP state is clean" ip netns del "$h2"

finish

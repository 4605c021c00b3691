#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Dumps of the receive SAs, the peers and the decision cache span several
# netlink messages; a change between two of them marks the dump
# NLM_F_DUMP_INTR (so that a reader retries), and a dump with no change is
# complete and unmarked.  A nest attribute that is not a nest is refused
# with an extack message.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3 xxd
ilp_load

tmp=$(mktemp -d)
defer rm -rf "$tmp"
setup_pipe

raw() { ip netns exec "$sn1" "$HELPERS/ilp_genl_raw" "$@"; }
ctl() { "$ILPCTL" -n "$sn1" "$@"; }
stat() { ctl -j stats | json "$1"; }
sa_get=$(ilp_cmd SA_GET)
peer_get=$(ilp_cmd PEER_GET)
cache_get=$(ilp_cmd CACHE_GET)

new_master_key "$tmp/sn1.keys"
ctl instance add
ctl key set 0 "$tmp/sn1.keys" active

# The kernel fills the next part of a dump as soon as the reader has
# taken the previous one, so the change between parts (after the first
# read) needs three or more parts of about 8 KiB to land in the middle.

# 1. Receive SAs.
seq 600 | sed 's/.*/sa alloc peer 10.0.1.1/' >"$tmp/sas.batch"
check "allocate 600 SAs in one batch" ctl -b "$tmp/sas.batch"
check_match "a quiet SA dump is whole and unmarked" "^ok 600 messages$" raw -d "$sa_get"
check_match "an SA allocated mid-dump marks it interrupted" "^ok [0-9]+ messages, interrupted$" \
	raw -d -b "$ILPCTL sa alloc peer 10.0.1.1 >/dev/null" "$sa_get"

# 2. Peers.
for i in $(seq 500); do echo "peer add 10.9.$((i / 250)).$((i % 250 + 1))"; done >"$tmp/peers.batch"
check "add 500 peers in one batch" ctl -b "$tmp/peers.batch"
check_match "a quiet peer dump is whole and unmarked" "^ok 500 messages$" raw -d "$peer_get"
check_match "a peer removed mid-dump marks it interrupted" "^ok [0-9]+ messages, interrupted$" \
	raw -d -b "$ILPCTL peer del 10.9.0.2" "$peer_get"
printf 'peer add 10.8.0.1\npeer add 10.9.0.3\npeer add 10.8.0.2\n' >"$tmp/dup.batch"
check_match "a batch error names the line" "dup.batch:2: .*exists" ctl -b "$tmp/dup.batch"
check "... after running the lines before it" ctl peer del 10.8.0.1
check_fail "... and none after it" ctl peer del 10.8.0.2

# 3. The cache: 600 entries, installed by the listener for new connections.
sa=$(ctl -j sa alloc peer 10.0.1.1 version 0)
json 'd["key"]' <<<"$sa" >"$tmp/h1.key"
ip netns exec "$sn1" "$HELPERS/ilp_listener" --drop --install --rcvbuf 4194304 --quiet \
	>"$tmp/listener.out" 2>&1 &
l_pid=$!
busywait 5000 grep -q listening "$tmp/listener.out"
ip netns exec "$h1" "$HELPERS/ilp_send" --to 10.0.1.2:1000 --spi "$(json 'd["spi"]' <<<"$sa")" \
	--version 0 --keyfile "$tmp/h1.key" --quiet --conn 1 --conn-range 600 --count 600 \
	--interval-us 200
entries_600() { test "$(stat 'd["cache"]["entries"]')" -eq 600; }
check "the listener installed 600 entries" busywait 20000 entries_600
kill $l_pid; wait $l_pid 2>/dev/null
check_match "a quiet cache dump is whole and unmarked" "^ok 600 messages$" raw -d "$cache_get"
check_match "a flush mid-dump marks it interrupted" "^ok [0-9]+ messages, interrupted$" \
	raw -d -b "$ILPCTL cache flush" "$cache_get"

# 4. Malformed nests.
for a in CACHE PEER SA KEY INSTANCE PACKET ACTIONS; do
	check_match "ILP_A_$a as a bare u32, not a nest, is refused with a reason" \
		"^error (EINVAL|ERANGE): .+" raw "$(ilp_cmd CACHE_ADD)" "$(ilp_attr "$a")=7"
done
finish

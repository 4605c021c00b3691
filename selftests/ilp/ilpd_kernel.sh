#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ilpd on the kernel datapath: h1 -- sn1 -- h2, with ilpd on sn1 answering
# the module's upcalls (not a test listener) with the relay service:
# - ilpd adopts sn1's instance and says so in "daemon status";
# - h1's packets reach h2 through the relay, h2's come back to h1 (the
#   relay sends them to h1's peer port, not the flow-hashed source port
#   they arrived from);
# - a connection's first packet each way is an upcall, the next ones are
#   cache hits;
# - the revalidator removes a decision idle past its service's timeout;
# - ilpd killed with SIGKILL and started again restores the relay's
#   checkpoint: a reply on a connection it learned before the crash still
#   finds its way back, with the cache flushed in between; a connection
#   it never saw is still dropped;
# - SIGTERM stops it cleanly, and the kernel log stays clean.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3
require_ilpd
ilp_load

tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"
setup_pipe
ilpd_dirs "$tmp"
cp "$SERVICES/relay/relay.so" "$SERVICES/null/null.so" "$tmp/plugins/"
# examples/service's module (IDs 4200 to 4203), built with the test modules.
cp "$ILP_BUILD_DIR/daemon/tests/modules/upper.so" "$tmp/plugins/"

check "h1 and sn1 exchange SAs" ilp_pair "$h1" 10.0.1.1 "$sn1" 10.0.1.2 "$tmp"
check "h2 and sn1 exchange SAs" ilp_pair "$h2" 10.0.2.1 "$sn1" 10.0.2.2 "$tmp"
check "h1's default SN is sn1" "$ILPCTL" -n "$h1" instance set sn 10.0.1.2
check "h2's default SN is sn1" "$ILPCTL" -n "$h2" instance set sn 10.0.2.2

sock=$tmp/run/ilpd.sock
ilpd_pid=
start_ilpd() { # LOG
	ip netns exec "$sn1" "$ILPD" --config /dev/null --role sn --datapath kernel \
		--log-level debug --plugin-dir "$tmp/plugins" --run-dir "$tmp/run" \
		--state-dir "$tmp/state" --service-config "relay next-hop=10.0.2.1" 2>"$1" &
	ilpd_pid=$!
	busywait 10000 test -S "$sock"
}
defer 'kill $ilpd_pid 2>/dev/null'
dctl() { ip netns exec "$sn1" "$ILPCTL" -S "$sock" "$@"; }
sn1_stat() { "$ILPCTL" -n "$sn1" -j stats | json "$1"; }
# entries OP N: sn1's cache holds OP N entries (read anew on each call, so
# that busywait can poll it).
entries() { test "$(sn1_stat 'd["cache"]["entries"]')" "$1" "$2"; }
status() { dctl -j daemon status | json "$1"; }
recv_on() { # NS CONN COUNT OUT [MS]: receive service 8 packets in the background
	ip netns exec "$1" "$HELPERS/ilp_sockop" recv 8 "$2" "$3" "$(scaled_time "${5:-10000}")" \
		>"$4" 2>&1 &
	rx=$!
	busywait 5000 grep -q bound "$4"
}
send_from() { ip netns exec "$1" "$HELPERS/ilp_sockop" send 8 "$2" "$3" "$4"; } # NS CONN HOST COUNT

check "ilpd starts on sn1's instance" start_ilpd "$tmp/ilpd.log"
check_match "it runs the kernel datapath" '^kernel$' status 'd["datapath"]'
check_match "with the relay loaded" '^service relay id 8' dctl service list

# 1. h1 -> h2: the first packet is an upcall, the next two are hits.
missed0=$(sn1_stat 'd["cache"]["missed"]')
hit0=$(sn1_stat 'd["cache"]["hit"]')
recv_on "$h2" 42 3 "$tmp/h2.out"
check "h1 sends a first packet on connection 42" send_from "$h1" 42 10.0.2.1 1
check "the relay installed a decision for it" \
	busywait 5000 entries -ge 1
check "h1 sends two more" send_from "$h1" 42 10.0.2.1 2
wait $rx
check_match "h2 got all 3 through the relay" "^received 3 bytes [0-9]+ conn 42$" cat "$tmp/h2.out"
check_eq "one upcall for them" 1 $(($(sn1_stat 'd["cache"]["missed"]') - missed0))
check_eq "two cache hits" 2 $(($(sn1_stat 'd["cache"]["hit"]') - hit0))
check_eq "ilpd handled that one upcall" 1 "$(status 'd["upcalls"]')"

# 2. h2 -> h1 on the same connection: back to where it came from.
recv_on "$h1" 42 2 "$tmp/h1.out"
check "h2 answers on connection 42" send_from "$h2" 42 10.0.1.1 1
check "the relay installed the way back" \
	busywait 5000 entries -ge 2
check "h2 sends once more" send_from "$h2" 42 10.0.1.1 1
wait $rx
check_match "h1 got both back through the relay" "^received 2 bytes [0-9]+ conn 42$" \
	cat "$tmp/h1.out"
check_match "the relay saw one packet each way, the cache took the rest" '^2$' \
	status '[s["packets"] for s in d["services"] if s["name"] == "relay"][0]'

# 2b. A rewritten decision: upper returns each packet to its sender in
#     upper case.  ilpd hands the kernel the rewritten packet (EXECUTE's
#     ILP_PKT_A_DATA) and never installs it, so each packet goes up.
check_match "a rewritten decision's copy, executed by the kernel, reaches h1" \
	"^reply PING from 4200/" ip netns exec "$h1" "$HELPERS/ilp_sockop" roundtrip 4200 10.0.2.1
check_match "... again, each packet going up: never cached" \
	"^reply PING from 4200/" ip netns exec "$h1" "$HELPERS/ilp_sockop" roundtrip 4200 10.0.2.1
check_match "upper handled both" '^2$' \
	status '[s["packets"] for s in d["services"] if s["name"] == "upper"][0]'

# 3. The revalidator: an entry idle past its service's timeout goes, one
#    in use stays.
# Connection 42 used again first: on a slow (debug) kernel the checks
# above can take longer than its entry's 30 s, and a new decision for it
# must still get the 30 s, not the second set next.
recv_on "$h2" 42 1 "$tmp/h2w.out"
check "h1 uses connection 42 again" send_from "$h1" 42 10.0.2.1 1
wait $rx
# (A second, stretched on a slow kernel: the entry must still be there
# when the check after the next packet reads the counters.)
check "relay decisions from now on idle out after a second" \
	dctl service config relay idle-timeout-ms=$(scaled_time 1000)
entries=$(sn1_stat 'd["cache"]["entries"]')
recv_on "$h2" 50 1 "$tmp/h2b.out"
check "h1 opens connection 50" send_from "$h1" 50 10.0.2.1 1
wait $rx
check_eq "its decision is cached" $((entries + 1)) "$(sn1_stat 'd["cache"]["entries"]')"
check "the revalidator removes it once idle" \
	busywait 8000 entries -eq "$entries"
[ $tap_failed = 0 ] || { date; "$ILPCTL" -n "$sn1" cache show; }
check_match "... and leaves connection 42's (30 s timeout)" "conn\\(42\\)" "$ILPCTL" -n "$sn1" cache show

# 4. A crash: the checkpoint brings the learned connection back.
check "the relay checkpointed what it learned" \
	busywait 5000 test -s "$tmp/state/services/relay.state"
kill -KILL $ilpd_pid
wait $ilpd_pid 2>/dev/null
check "flush sn1's cache: every packet goes up again" "$ILPCTL" -n "$sn1" cache flush
rm -f "$sock"
check "ilpd starts again" start_ilpd "$tmp/ilpd2.log"
recv_on "$h1" 42 1 "$tmp/h1b.out"
check "h2 sends on connection 42 before h1 says anything" send_from "$h2" 42 10.0.1.1 1
wait $rx
check_match "h1 gets it: the relay restored its table" "^received 1 bytes [0-9]+ conn 42$" \
	cat "$tmp/h1b.out"
recv_on "$h1" 43 1 "$tmp/h1c.out" 2000
check "h2 sends on connection 43, never seen" send_from "$h2" 43 10.0.1.1 1
wait $rx
check_match "... which the relay drops" "^received 0 " cat "$tmp/h1c.out"

# 5. A clean stop.
kill -TERM $ilpd_pid
wait $ilpd_pid
check_eq "ilpd exits 0 on SIGTERM" 0 $?
check_match "... and says why" "received SIGTERM, shutting down" cat "$tmp/ilpd2.log"
check "... leaving sn1's instance in place" "$ILPCTL" -n "$sn1" instance show
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
if [ $tap_failed != 0 ]; then
	for f in "$tmp"/ilpd*.log; do
		echo "--- the end of $(basename "$f")"
		tail -n 30 "$f"
	done
fi
finish

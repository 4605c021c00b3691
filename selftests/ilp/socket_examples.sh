#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The programs of examples/ (libilp's socket API, C++ and C) on the real
# module, h1 -- sn1 -- h2 and h1 -- h3 direct:
# - echo_server on h2, echo_client on h1 through h1's default SN and
#   through an SN it names, with metadata; the server sees the client's
#   host, the SN and the TLVs;
# - the C client likewise;
# - the other way round, h2's client to a server on h1;
# - direct, host to host on one subnet with no SN;
# - an unprivileged user runs the client;
# - a client with nobody answering fails with a clear message.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3
EXAMPLES=${ILP_EXAMPLES:-$ILP_BUILD_DIR/examples}
[ -x "$EXAMPLES/echo_server" ] ||
	skip "the examples are not built ($EXAMPLES; cmake --build build)"
ilp_load

tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"
setup_pipe
server="$EXAMPLES/echo_server"
client="$EXAMPLES/echo_client"
client_c="$EXAMPLES/echo_client_c"
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

check "h1 and sn1 exchange SAs" ilp_pair "$h1" 10.0.1.1 "$sn1" 10.0.1.2 "$tmp"
check "h2 and sn1 exchange SAs" ilp_pair "$h2" 10.0.2.1 "$sn1" 10.0.2.2 "$tmp"
check "h1's default SN is sn1" "$ILPCTL" -n "$h1" instance set sn 10.0.1.2
check "h2's default SN is sn1" "$ILPCTL" -n "$h2" instance set sn 10.0.2.2
ip netns exec "$sn1" "$HELPERS/ilp_listener" --to-dst-host --install --quiet \
	>"$tmp/l.out" 2>&1 &
l_pid=$!
defer kill $l_pid
busywait 5000 grep -q listening "$tmp/l.out"

# start_server NS SERVICE COUNT OUT: echo_server in NS until it has
# answered COUNT packets, its output in OUT; waits until it is bound.
start_server() {
	ip netns exec "$1" "$server" "$2" --count "$3" >"$4" 2>&1 &
	srv=$!
	defer kill $srv
	busywait 5000 grep -q "^listening on service $2$" "$4"
}

# 1. C++ client through h1's default SN, with metadata, then through the
#    SN it names; the server answers 3 + 2 packets.
start_server "$h2" 4242 5 "$tmp/s1.out"
check_match "echo_client h1 -> h2 via the default SN, metadata out: 3/3 echoed" \
	"^echoed 3/3$" inns "$h1" "$client" 4242 10.0.2.1 --count 3 --metadata 0x100=hello
check_match "echo_client naming the SN (--sn 10.0.1.2): 2/2 echoed" \
	"^echoed 2/2$" inns "$h1" "$client" 4242 10.0.2.1 --sn 10.0.1.2 --count 2
wait $srv
check_eq "echo_server answered 5 and exited" 0 $?
check_match "the server saw h1 via sn1 with SRC_HOST, DST_HOST and the client's TLV" \
	"^from 4242/[0-9]*@10.0.1.1:1000 via 10.0.2.2:1000: 6 bytes, 3 TLVs$" cat "$tmp/s1.out"
check_eq "... five times" 5 "$(grep -c '^from 4242/.*@10.0.1.1:1000 via 10.0.2.2:1000' "$tmp/s1.out")"

# 2. The C client, and the other direction (a server on h1).
start_server "$h2" 4243 3 "$tmp/s2.out"
check_match "echo_client_c h1 -> h2: 3/3 echoed" \
	"^echoed 3/3$" inns "$h1" "$client_c" 4243 10.0.2.1 --count 3 --metadata 0x101=c
wait $srv
start_server "$h1" 4244 3 "$tmp/s3.out"
check_match "echo_client h2 -> h1 (the other way): 3/3 echoed" \
	"^echoed 3/3$" inns "$h2" "$client" 4244 10.0.1.1 --count 3
wait $srv
check_match "the server on h1 saw h2 via sn1" \
	"^from 4244/[0-9]*@10.0.2.1:1000 via 10.0.1.2:1000" cat "$tmp/s3.out"

# 3. Direct, host to host on one subnet: no SN in the path.
setup_ns h3
link_ns "$h1" 10.0.3.1/24 "$h3" 10.0.3.2/24
check "h1 and h3 exchange SAs" ilp_pair "$h1" 10.0.3.1 "$h3" 10.0.3.2 "$tmp"
check "h1 may reach h3 directly" "$ILPCTL" -n "$h1" peer set 10.0.3.2 direct on
check "h3 may reach h1 directly" "$ILPCTL" -n "$h3" peer set 10.0.3.1 direct on
relayed=$("$ILPCTL" -n "$sn1" -j stats | json 'd["tx"]["packets"]')
start_server "$h3" 4245 6 "$tmp/s4.out"
check_match "echo_client h1 -> h3 directly: 3/3 echoed" \
	"^echoed 3/3$" inns "$h1" "$client" 4245 10.0.3.2 --count 3
check_match "echo_client_c h1 -> h3 directly: 3/3 echoed" \
	"^echoed 3/3$" inns "$h1" "$client_c" 4245 10.0.3.2 --count 3
wait $srv
check_match "the server on h3 saw h1 with no SN and no DST_HOST (1 TLV)" \
	"^from 4245/[0-9]*@10.0.3.1:1000: 6 bytes, 1 TLVs$" cat "$tmp/s4.out"
check_eq "sn1 relayed none of it" "$relayed" \
	"$("$ILPCTL" -n "$sn1" -j stats | json 'd["tx"]["packets"]')"

# 4. An unprivileged user runs the clients.
start_server "$h2" 4246 4 "$tmp/s5.out"
check_match "nobody runs echo_client h1 -> h2: 2/2 echoed" "^echoed 2/2$" \
	inns "$h1" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$client" 4246 10.0.2.1 --count 2
check_match "nobody runs echo_client_c h1 -> h2: 2/2 echoed" "^echoed 2/2$" \
	inns "$h1" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$client_c" 4246 10.0.2.1 --count 2
wait $srv

# 5. Nobody answering: the client gives up with a message and fails.
check_fail "echo_client with no server on h2 fails" \
	eval 'inns "$h1" "$client" 4247 10.0.2.1 --count 1 >"$tmp/none.out"'
check_match "... saying no echo came: echoed 0/1" "^echoed 0/1$" cat "$tmp/none.out"

kill $l_pid; wait $l_pid 2>/dev/null
check "unload the module" ilp_unload
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the control surface refuses rather than silently accepts:
# - a second upcall listener while the first lives (EBUSY, with a message);
#   the first may repeat its request, and once it closes another may listen;
# - a previous-hop port in a cache flow, which the cache does not key by;
# - a cache capacity over ILP_CACHE_MAX_CAPACITY (the largest is accepted).
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3
ilp_load
raw="$HELPERS/ilp_genl_raw"

tmp=$(mktemp -d)
defer rm -rf "$tmp"
setup_ns a
ilp_node "$a" "$tmp"
inns() { ip netns exec "$a" "$@"; }

# 1. One listener at a time.
: >"$tmp/l.out"
# Not through inns: killing a backgrounded function would leave python.
ip netns exec "$a" python3 "$(dirname "$0")/upcall_watch.py" "$(ilp_cmd LISTEN)" \
	"$(ilp_cmd UPCALL)" 600 >"$tmp/l.out" 2>&1 &
l_pid=$!
defer kill $l_pid
busywait 10000 grep -q listening "$tmp/l.out"
check_match "a second listener is refused with EBUSY and a message" \
	"^error EBUSY: another socket is this namespace's upcall listener" \
	inns "$raw" "$(ilp_cmd LISTEN)"
check_match "... also when libilp asks, as ilpd does" "busy|another socket is" \
	inns "$HELPERS/ilp_listener" --count 1 --quiet
kill $l_pid
wait $l_pid 2>/dev/null
check_match "once the first has closed, another may listen" "^ok$" inns "$raw" "$(ilp_cmd LISTEN)"

# 2. Flows are keyed by address: a port is refused, not ignored.
cache=$(ilp_attr CACHE)
addr=$(uapi_enum ilp_cache_attr ILP_CACHE_A_PREV_ADDR)
port=$(uapi_enum ilp_cache_attr ILP_CACHE_A_PREV_PORT)
svc=$(uapi_enum ilp_cache_attr ILP_CACHE_A_SERVICE)
conn=$(uapi_enum ilp_cache_attr ILP_CACHE_A_CONN)
capa=$(uapi_enum ilp_cache_attr ILP_CACHE_A_CAPACITY)
check_match "CACHE_DEL with a previous-hop port is refused with a message" \
	"^error EINVAL: flows are keyed by the previous hop's address only" \
	inns "$raw" -n "$cache" "$(ilp_cmd CACHE_DEL)" "$addr=ip:10.0.0.1" "$port=u16:1000" \
	"$svc=1" "$conn=u64:7"
check_match "CACHE_ADD likewise" "^error EINVAL: flows are keyed by the previous hop's address only" \
	inns "$raw" -n "$cache" "$(ilp_cmd CACHE_ADD)" "$addr=ip:10.0.0.1" "$port=u16:1000" \
	"$svc=1" "$conn=u64:7"
check_match "without the port, the same CACHE_DEL reaches the cache" \
	"^error ENOENT: no cache entry for that flow" \
	inns "$raw" -n "$cache" "$(ilp_cmd CACHE_DEL)" "$addr=ip:10.0.0.1" "$svc=1" "$conn=u64:7"
check "ilpctl cache add with a hop's port still works (the port is not sent)" \
	"$ILPCTL" -n "$a" cache add 10.0.0.1:1000 service 1 conn 7 drop

# 3. The cache capacity has a maximum.
max=$((1 << $(sed -n 's/.*define ILP_CACHE_MAX_CAPACITY.*(1U << \([0-9]*\)).*/\1/p' \
	"$ILP_TOP/include/uapi/linux/ilp.h")))
check_eq "ILP_CACHE_MAX_CAPACITY is 1048576" 1048576 "$max"
check_match "a capacity over it is refused with a message" "^error ERANGE: the capacity is at most" \
	inns "$raw" -n "$cache" "$(ilp_cmd CACHE_SET)" "$capa=$((max + 1))"
check "the maximum itself is accepted" "$ILPCTL" -n "$a" cache set capacity "$max"
check_eq "... and reported" "$max" "$("$ILPCTL" -n "$a" -j stats | json 'd["cache"]["capacity"]')"
finish

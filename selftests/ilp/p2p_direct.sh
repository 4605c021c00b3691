#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Direct connectivity between hosts (the paper's section 3.2), chosen by
# p2p, on the kernel datapath: h1 and h2 share a subnet with their SN,
#
#	h1 10.2.1.1 --\
#	               [lan]--- 10.2.1.2 sn1
#	h2 10.2.1.3 --/
#
# both allow direct pipes (direct = yes, with certificates), no neighbour
# line.  h1's first packet to h2 goes through sn1, whose p2p asks h1 (and,
# at h2's answer, h2) to set up a direct pipe with the other; then ilp.ko
# on each host sends to the other straight, AF_ILP sockets unchanged, and
# sn1's ilp.ko sees none of the flow.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd openssl jq
require_ilpd
tool=$ILP_BUILD_DIR/daemon/tests/ilp_app_tool
[ -x "$tool" ] || skip "ilp_app_tool is not built ($tool)"
[ -f "$SERVICES/p2p/p2p.so" ] || skip "p2p is not built"
ilp_load

tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"

setup_ns h1 h2 sn1 lan || exit $ksft_fail
ip -n "$lan" link add br0 type bridge && ip -n "$lan" link set br0 up || exit $ksft_fail
for e in "sn1 10.2.1.2" "h1 10.2.1.1" "h2 10.2.1.3"; do
	set -- $e
	ip link add lan netns "${!1}" type veth peer name "$1" netns "$lan" &&
		ip -n "$lan" link set "$1" master br0 up &&
		link_ns_up "${!1}" lan "$2/24" || exit $ksft_fail
done

# shellcheck source=../../tests/make_certs.sh
. "$ILP_TOP/tests/make_certs.sh"
c=$tmp/certs
mkdir "$c"
check "openssl makes edomain a's CA and the certificates" eval '
	make_ca "$c" a && make_cert "$c" a sn1 "IP:10.2.1.2,URI:ilp:edomain:a" &&
	make_cert "$c" a h1 "IP:10.2.1.1" && make_cert "$c" a h2 "IP:10.2.1.3"'
for n in h1 h2 sn1; do
	ilpd_dirs "$tmp/$n"
done
cp "$SERVICES/p2p/p2p.so" "$tmp/sn1/plugins/"

pids=()
defer 'kill ${pids[*]} 2>/dev/null; wait'
start_ilpd() { # NODE ARGS...
	local n=$1
	shift
	ip netns exec "${!n}" "$ILPD" --config /dev/null --log-level debug --datapath kernel \
		--plugin-dir "$tmp/$n/plugins" --run-dir "$tmp/$n/run" --state-dir "$tmp/$n/state" \
		--trust "a $c/ca-a.pem" --certificate "$c/$n.pem" --private-key "$c/$n.key" \
		"$@" 2>>"$tmp/$n.log" &
	pids+=($!)
	busywait 10000 grep -q "started" "$tmp/$n.log"
}
ctl() { # NODE ARGS...
	local n=$1
	shift
	"$ILPCTL" -S "$tmp/$n/run/ilpd.sock" "$@"
}
kind_is() { # NODE PEER KIND: NODE's association with PEER is up, of KIND
	ctl "$1" -j assoc show | jq -e --arg p "$2" --arg k "$3" \
		'any(.[]; .peer == $p and .state == "up" and .kind == $k)' >/dev/null
}
sealed() { # NODE ADDR: what NODE's ilp.ko sealed for the peer at ADDR
	"$ILPCTL" -n "${!1}" -j peer show |
		jq --arg a "$2" '[.[] | select(.address == $a) | .tx_packets] | add // 0'
}

check "ilpd on sn1, with p2p" start_ilpd sn1 --role sn --edomain a \
	--core "sqlite $tmp/core.db" --edomain-address 10.2.1.2
check "ilpd on h1 and h2: direct pipes allowed" eval '
	start_ilpd h1 --role host --first-hop "10.2.1.2 edomain a" --direct yes &&
	start_ilpd h2 --role host --first-hop "10.2.1.2 edomain a" --direct yes'
check "both associate with sn1" busywait 15000 eval \
	'kind_is h1 10.2.1.2:1000 first-hop && kind_is h2 10.2.1.2:1000 first-hop'

mkfifo "$tmp/srv.in" "$tmp/cli.in"
ip netns exec "$h2" env ILP_TRANSPORT=kernel "$tool" chat --bind 9 --echo <"$tmp/srv.in" \
	>"$tmp/srv.out" 2>&1 &
pids+=($!)
exec {srv_fd}>"$tmp/srv.in"
ip netns exec "$h1" env ILP_TRANSPORT=kernel "$tool" chat --bind 9/12 --connect 9/12@10.2.1.3 \
	<"$tmp/cli.in" >"$tmp/cli.out" 2>&1 &
pids+=($!)
exec {cli_fd}>"$tmp/cli.in"
check "an echo server on h2 and a client on h1 (AF_ILP)" busywait 5000 eval \
	'grep -q "^bound" "$tmp/srv.out" && grep -q "^bound" "$tmp/cli.out"'
ping() { # TEXT [TRIES]
	local i
	for ((i = 0; i < ${2:-1}; i++)); do
		echo "send $1" >&"$cli_fd"
		busywait 2000 grep -q "payload echo:$1$" "$tmp/cli.out" && return 0
	done
	return 1
}
check "h1 reaches h2 through sn1" ping first 10
check "sn1's p2p has them set up a direct pipe, which h1 and h2 hold" busywait 15000 eval \
	'kind_is h1 10.2.1.3:1000 direct && kind_is h2 10.2.1.1:1000 direct'
check_match "p2p counted its asks" "direct_asked [12]" ctl sn1 service control 9 local status
check "the direct peers are in ilp.ko" busywait 5000 eval \
	'"$ILPCTL" -n "$h1" -j peer show | jq -e "any(.[]; .address == \"10.2.1.3\" and .direct)"'
hits=$("$ILPCTL" -n "$sn1" -j stats | jq .cache.hit)
to_h2=$(sealed h1 10.2.1.3) to_h1=$(sealed h2 10.2.1.1)
tens() { local i; for ((i = 0; i < 10; i++)); do ping "d$i" || return 1; done; }
check "ten echoes more" tens
check "h1's ilp.ko sealed them for h2 straight" test $(($(sealed h1 10.2.1.3) - to_h2)) -ge 10
check "... and h2's the echoes for h1" test $(($(sealed h2 10.2.1.1) - to_h1)) -ge 10
check_eq "sn1's ilp.ko forwarded none of them" "$hits" "$("$ILPCTL" -n "$sn1" -j stats | jq .cache.hit)"

if [ $tap_failed != 0 ]; then
	for n in h1 h2 sn1; do
		echo "--- $n"
		ctl "$n" assoc show
		"$ILPCTL" -n "${!n}" peer show
	done
	tails "$tmp"
fi
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

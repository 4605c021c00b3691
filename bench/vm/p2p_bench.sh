#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The p2p benchmark, run as root INSIDE the selftest VM (bench/vm/run-p2p.sh
# boots it): what an application on AF_ILP sockets sees of p2p across two
# edomains, against the single-SN relay, both on the kernel datapath, in
# one run:
#
#   relay   h1 -- sn -- h2: relay (service 8) on sn, next-hop h2
#   p2p     h1 -- sn1 == sn3 -- h3: sn1 edomain a's gateway to b, sn3
#           b's; p2p (service 9) on both, a's core and the lookup service
#           on sn1, b's core on sn3, which reaches the lookup service over
#           the control channel
#
# ilp_rtt on the first host against an echo server (ilp_rtt echo) on the
# last: the round trip of a new connection's first packet
# (misses at every SN on the way, the service deciding from the stores'
# local copies: p2p has twice relay's SNs and its decisions, so twice its
# upcalls), that of a decided connection (cache hits), and the rate of a
# decided connection with 32 packets in flight.  It prints a table and
#	p2p / relay, time to first packet: X.XXx
#	p2p / relay, steady round trip: X.XXx
#	p2p / relay, steady rate: X.XXx
#
# usage: p2p_bench.sh [-f FIRSTS] [-p PINGS] [-b BURST]
#   -f  new connections, one at a time (default 50)
#   -p  round trips on a decided connection (default 200)
#   -b  packets of the rate's burst (default 5000)
#
# Not a test: the numbers are those of an emulated CPU (bench/README.md).
# shellcheck disable=SC2154 # the namespaces are set with printf -v
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/../../selftests/ilp/lib.sh
source "$top/selftests/ilp/lib.sh"

firsts=50
pings=200
burst=5000
while getopts "f:p:b:h" opt; do
	case $opt in
	f) firsts=$OPTARG ;;
	p) pings=$OPTARG ;;
	b) burst=$OPTARG ;;
	*) sed -n '/^# usage/,/^$/p' "$0" >&2; exit 2 ;;
	esac
done

require_root
require_ilpd
rtt=$ILP_BUILD_DIR/bench/ilp_rtt
[ -x "$rtt" ] || { echo "ilp_rtt is not built" >&2; exit 2; }
ilp_load || exit 1

tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"
pids=()
defer 'kill ${pids[*]} 2>/dev/null; wait'

setup_ns rh1 rsn rh2 h1 sn1 sn3 h3 || exit 1
link_ns "$rh1" 10.0.1.1/24 "$rsn" 10.0.1.2/24 && link_ns "$rsn" 10.0.2.2/24 "$rh2" 10.0.2.1/24 &&
	link_ns "$h1" 10.1.1.1/24 "$sn1" 10.1.1.2/24 && link_ns "$sn1" 10.1.0.1/24 "$sn3" 10.1.0.3/24 &&
	link_ns "$sn3" 10.1.3.2/24 "$h3" 10.1.3.1/24 || exit 1

# shellcheck source=../../tests/make_certs.sh
. "$top/tests/make_certs.sh"
c=$tmp/certs
mkdir "$c"
{ make_ca "$c" a && make_ca "$c" b &&
	make_cert "$c" a rsn "IP:10.0.1.2,IP:10.0.2.2,URI:ilp:edomain:a" &&
	make_cert "$c" a sn1 "IP:10.1.0.1,IP:10.1.1.2,URI:ilp:edomain:a" &&
	make_cert "$c" b sn3 "IP:10.1.0.3,IP:10.1.3.2,URI:ilp:edomain:b"; } >/dev/null 2>&1 ||
	{ echo "certificates: openssl failed" >&2; exit 1; }

start() { # NODE ARGS...: ilpd on the kernel datapath in NODE's namespace
	local n=$1
	shift
	ilpd_dirs "$tmp/$n"
	cp "$SERVICES/relay/relay.so" "$SERVICES/p2p/p2p.so" "$tmp/$n/plugins/"
	ip netns exec "${!n}" "$ILPD" --config /dev/null --datapath kernel \
		--plugin-dir "$tmp/$n/plugins" --run-dir "$tmp/$n/run" --state-dir "$tmp/$n/state" \
		--trust "a $c/ca-a.pem" --trust "b $c/ca-b.pem" "$@" 2>>"$tmp/$n.log" &
	pids+=($!)
	busywait 20000 grep -q "started" "$tmp/$n.log" || { echo "ilpd on $n did not start" >&2; exit 1; }
}
sn() { # NODE EDOMAIN ARGS...
	local n=$1 e=$2
	shift 2
	start "$n" --role sn --edomain "$e" --certificate "$c/$n.pem" --private-key "$c/$n.key" "$@"
}
sn rsn a --service-config "relay next-hop=10.0.2.1"
start rh1 --role host --first-hop "10.0.1.2 edomain a"
start rh2 --role host --first-hop "10.0.2.2 edomain a"
sn sn1 a --gateway b --pipe "10.1.0.3 edomain b" --core "sqlite $tmp/core-a.db" \
	--lookup "sqlite $tmp/lookup.db" --edomain-address 10.1.0.1
sn sn3 b --gateway a --core "sqlite $tmp/core-b.db" --lookup "ilp 10.1.0.1" \
	--edomain-address 10.1.0.3
start h1 --role host --first-hop "10.1.1.2 edomain a"
start h3 --role host --first-hop "10.1.3.2 edomain b"

# Each echo server: ilp_rtt echo, on its host's AF_ILP socket.
for e in "rh2 8" "h3 9"; do
	set -- $e
	ip netns exec "${!1}" env ILP_TRANSPORT=kernel "$rtt" echo "$2" >"$tmp/$1.out" 2>&1 &
	pids+=($!)
done
lookup_ready() { "$ILPCTL" -S "$tmp/sn3/run/ilpd.sock" lookup show 2>/dev/null | grep -q "^edomain a:"; }
ready() { # NS DEST: one echo comes back
	ip netns exec "$1" env ILP_TRANSPORT=kernel "$rtt" "$2" 0 1 1 2>/dev/null |
		grep -q "^steady_rtt_us .* lost 0$"
}
fault() { # WHY: the logs' ends, for a run that cannot measure
	for f in "$tmp"/*.log "$tmp"/*.out; do
		echo "--- the end of $(basename "$f")"
		tail -n 15 "$f"
	done
	echo "--- ilp_rtt once on the relay path, and sn's counters"
	ip netns exec "$rh1" env ILP_TRANSPORT=kernel "$rtt" 8/2@10.0.2.1 1 1 1 2>&1
	"$ILPCTL" -n "$rsn" -j stats
	"$ILPCTL" -S "$tmp/rsn/run/ilpd.sock" service control 8 local status
	echo "$1" >&2
	exit 1
}
busywait 30000 lookup_ready || fault "sn3 does not see a's hosts"
busywait 30000 ready "$rh1" 8/1@10.0.2.1 || fault "the relay path does not echo"
busywait 30000 ready "$h1" 9/1@10.1.3.1 || fault "the p2p path does not echo"

measure() { # NAME NS DEST
	echo "--- $1: ilp_rtt $3 $firsts $pings $burst"
	ip netns exec "$2" env ILP_TRANSPORT=kernel "$rtt" "$3" "$firsts" "$pings" "$burst" |
		tee "$tmp/$1.res"
}
measure relay "$rh1" 8/1000@10.0.2.1 || exit 1
measure p2p "$h1" 9/1000@10.1.3.1 || exit 1

field() { awk -v k="$2" '$1 == k { print $2 }' "$tmp/$1.res"; } # NAME KEY
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
printf '\n%-8s %16s %16s %12s\n' path "first RTT (us)" "steady RTT (us)" "rate (pps)"
for p in relay p2p; do
	printf '%-8s %16s %16s %12s\n' $p "$(field $p first_rtt_us)" "$(field $p steady_rtt_us)" \
		"$(field $p rate_pps)"
done
echo
echo "p2p / relay, time to first packet: $(ratio "$(field p2p first_rtt_us)" "$(field relay first_rtt_us)")"
echo "p2p / relay, steady round trip: $(ratio "$(field p2p steady_rtt_us)" "$(field relay steady_rtt_us)")"
echo "p2p / relay, steady rate: $(ratio "$(field p2p rate_pps)" "$(field relay rate_pps)")"

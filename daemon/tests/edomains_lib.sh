# SPDX-License-Identifier: GPL-2.0-or-later
#
# Two edomains in network namespaces, on the userspace datapath, for the
# tests of what crosses them (p2p_netns_test.sh, groups_netns_test.sh):
#
#	h1 10.1.1.1 --- 10.1.1.2 sn1 \             / sn3 10.1.3.2 --- 10.1.3.1 h3
#	                   10.1.0.1   [backbone]   10.1.0.3
#	h2 10.1.2.1 --- 10.1.2.2 sn2 /
#	                   10.1.0.2
#	h4 10.1.4.1 --- 10.1.4.2 sn1 (a second host there, for the tests
#	                              that need one)
#
# sn1 and sn2 are of edomain a, sn3 of b; each SN has a certificate of
# its edomain's CA (made with openssl, make_certs.sh) and trusts both.
# Sourced with ilpd, ilpctl, tool, certs and tag set (a short prefix for
# the namespaces' names); sets dir, pids and c (the certificates), and
# gives start, ctl, holds, check, status and sn (below).  Skips (77)
# without root, ip netns or openssl.
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1 ||
	! command -v openssl >/dev/null; then
	echo "SKIP: needs root, ip netns and openssl"
	exit 77
fi
. "$certs"

dir=$(mktemp -d)
nodes="h1 h2 h3 h4 sn1 sn2 sn3"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in $nodes bb; do ip netns del "$tag-$n" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"

EVENTUALLY_TRIES=300 # 15 s: handshakes and the stores' reconciling
. "$(dirname "$0")/netns_lib.sh"
ok() { echo "ok: $*"; }

for n in $nodes bb; do
	ip netns add "$tag-$n" || fail "ip netns add $n"
	ip -n "$tag-$n" link set lo up
done
# The SNs' backbone: a bridge in a namespace of its own.
ip -n "$tag-bb" link add br0 type bridge && ip -n "$tag-bb" link set br0 up || fail "bridge"
link() { # NS1 DEV1 ADDR1 NS2 DEV2 [ADDR2]
	ip link add "$2" netns "$tag-$1" type veth peer name "$5" netns "$tag-$4" || fail "veth $2"
	ip -n "$tag-$1" addr add "$3" dev "$2"
	[ -n "${6:-}" ] && ip -n "$tag-$4" addr add "$6" dev "$5"
	ip -n "$tag-$1" link set "$2" up
	ip -n "$tag-$4" link set "$5" up
}
link h1 eth0 10.1.1.1/24 sn1 eth1 10.1.1.2/24
link h2 eth0 10.1.2.1/24 sn2 eth1 10.1.2.2/24
link h3 eth0 10.1.3.1/24 sn3 eth1 10.1.3.2/24
link h4 eth0 10.1.4.1/24 sn1 eth2 10.1.4.2/24
for i in 1 2 3; do
	link sn$i eth0 10.1.0.$i/24 bb bb-sn$i
	ip -n "$tag-bb" link set bb-sn$i master br0
done

c=$dir/certs
mkdir "$c"
make_ca "$c" a && make_ca "$c" b || fail "make the CAs"
make_cert "$c" a sn1 "IP:10.1.0.1,IP:10.1.1.2,IP:10.1.4.2,URI:ilp:edomain:a" || fail "sn1's certificate"
make_cert "$c" a sn2 "IP:10.1.0.2,IP:10.1.2.2,URI:ilp:edomain:a" || fail "sn2's certificate"
make_cert "$c" b sn3 "IP:10.1.0.3,IP:10.1.3.2,URI:ilp:edomain:b" || fail "sn3's certificate"
ok "certificates of edomains a and b made with openssl"

for n in $nodes; do
	mkdir -m 755 "$dir/$n" "$dir/$n/run" "$dir/$n/state" "$dir/$n/plugins"
done

start() { # NODE ARGS...
	local n=$1
	shift
	pretty ilpd "$n" "$@"
	ip netns exec "$tag-$n" "$ilpd" --config /dev/null --datapath user --log-level debug \
		--plugin-dir "$dir/$n/plugins" --run-dir "$dir/$n/run" --state-dir "$dir/$n/state" \
		"$@" 2>>"$dir/$n.log" &
	pids+=($!)
	wait_for "$dir/$n.log" "started" || fail "ilpd on $n did not start"
}
ctl() { # NODE ARGS...
	local n=$1
	shift
	"$ilpctl" -S "$dir/$n/run/ilpd.sock" "$@"
}
# holds NODE COMMAND EXPR: a Python expression on NODE's "-j COMMAND", j.
holds() {
	local n=$1 cmd=$2
	st=$(ctl "$n" -j $cmd) && python3 -c 'import json, sys
j = json.loads(sys.argv[1])
sys.exit(not eval("(" + sys.argv[2] + ")"))' "$st" "$3"
}
check() { # NODE COMMAND EXPR WHAT
	local st=
	eventually holds "$1" "$2" "$3" || fail "$4: on $1, $3; got: $st"
	ok "$4"
}
# A value of NODE's "-j daemon status", by a Python expression on it, d.
status() {
	ctl "$1" -j daemon status | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2"
}

sn() { # NODE EDOMAIN ARGS...: an SN with its certificate
	local n=$1 e=$2
	shift 2
	start "$n" --role sn --edomain "$e" --certificate "$c/$n.pem" --private-key "$c/$n.key" \
		--trust "a $c/ca-a.pem" --trust "b $c/ca-b.pem" --edomain-address "10.1.0.${n#sn}" "$@"
}

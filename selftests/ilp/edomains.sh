# SPDX-License-Identifier: GPL-2.0
#
# Two edomains in network namespaces, for the tests of what crosses them
# (p2p_kernel.sh, groups_kernel.sh), sourced after lib.sh, ilp_load and a
# datapath_of NODE function (kernel or user, per node):
#
#	h1 10.1.1.1 --- 10.1.1.2 sn1 \             / sn3 10.1.3.2 --- 10.1.3.1 h3
#	                   10.1.0.1   [backbone]   10.1.0.3
#	h2 10.1.2.1 --- 10.1.2.2 sn2 /
#	                   10.1.0.2
#	h4 10.1.4.1 --- 10.1.4.2 sn1 (a second host there)
#
# sn1 and sn2 are of edomain a, sn3 of b, each with a certificate of its
# edomain's CA (openssl, make_certs.sh) trusting both.  Sets tmp, c, pids
# and gives start_ilpd, start_sn, ctl, up, jq_holds, kstat and app.
tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"

setup_ns h1 h2 h3 h4 sn1 sn2 sn3 bb || exit $ksft_fail
link_ns "$h1" 10.1.1.1/24 "$sn1" 10.1.1.2/24 &&
	link_ns "$h2" 10.1.2.1/24 "$sn2" 10.1.2.2/24 &&
	link_ns "$h3" 10.1.3.1/24 "$sn3" 10.1.3.2/24 &&
	link_ns "$h4" 10.1.4.1/24 "$sn1" 10.1.4.2/24 || exit $ksft_fail
# The SNs' backbone: a bridge in a namespace of its own.
ip -n "$bb" link add br0 type bridge && ip -n "$bb" link set br0 up || exit $ksft_fail
for i in 1 2 3; do
	ns=sn$i
	ip link add bb netns "${!ns}" type veth peer name "$ns" netns "$bb" &&
		ip -n "$bb" link set "$ns" master br0 up &&
		link_ns_up "${!ns}" bb "10.1.0.$i/24" || exit $ksft_fail
done

# shellcheck source=../../tests/make_certs.sh
. "$ILP_TOP/tests/make_certs.sh"
c=$tmp/certs
mkdir "$c"
check "openssl makes edomain a's and b's CAs and the SNs' certificates" eval '
	make_ca "$c" a && make_ca "$c" b &&
	make_cert "$c" a sn1 "IP:10.1.0.1,IP:10.1.1.2,IP:10.1.4.2,URI:ilp:edomain:a" &&
	make_cert "$c" a sn2 "IP:10.1.0.2,IP:10.1.2.2,URI:ilp:edomain:a" &&
	make_cert "$c" b sn3 "IP:10.1.0.3,IP:10.1.3.2,URI:ilp:edomain:b"'
for n in h1 h2 h3 h4 sn1 sn2 sn3; do
	ilpd_dirs "$tmp/$n"
done

pids=()
defer 'kill ${pids[*]} 2>/dev/null; wait'
start_ilpd() { # NODE ARGS...: ilpd on NODE's datapath in NODE's namespace
	local n=$1
	shift
	ip netns exec "${!n}" "$ILPD" --config /dev/null --log-level debug \
		--datapath "$(datapath_of "$n")" \
		--plugin-dir "$tmp/$n/plugins" --run-dir "$tmp/$n/run" --state-dir "$tmp/$n/state" \
		--control-keepalive 1s --control-dead-peer 3s --reconnect-max 1s \
		"$@" 2>>"$tmp/$n.log" &
	pids+=($!)
	busywait 10000 grep -q "started" "$tmp/$n.log"
}
start_sn() { # NODE EDOMAIN ARGS...: an SN with its certificate
	local n=$1 e=$2
	shift 2
	start_ilpd "$n" --role sn --edomain "$e" --certificate "$c/$n.pem" \
		--private-key "$c/$n.key" --trust "a $c/ca-a.pem" --trust "b $c/ca-b.pem" \
		--edomain-address "10.1.0.${n#sn}" "$@"
}
ctl() { # NODE ARGS...: NODE's ilpd over its control socket
	local n=$1
	shift
	"$ILPCTL" -S "$tmp/$n/run/ilpd.sock" "$@"
}
# up NODE PEER...: NODE's associations with each PEER (ADDR:PORT) are up.
up() {
	local n=$1 j
	shift
	j=$(ctl "$n" -j assoc show) || return 1
	for p; do
		jq -e --arg p "$p" 'any(.[]; .peer == $p and .state == "up")' <<<"$j" >/dev/null ||
			return 1
	done
}
# jq_holds NODE FILTER ARGS...: jq's FILTER holds on NODE's "-j ARGS".
jq_holds() {
	local n=$1 f=$2
	shift 2
	ctl "$n" -j "$@" | jq -e "$f" >/dev/null
}
# kstat NODE FILTER: NODE's datapath counters, ilp.ko's or (sn2) ilpd's.
kstat() {
	if [ "$(datapath_of "$1")" = user ]; then
		ctl "$1" -j stats | jq "$2"
	else
		"$ILPCTL" -n "${!1}" -j stats | jq "$2"
	fi
}

# Apps on AF_ILP sockets (ilp_app_tool chat).
app() { # NAME NODE ARGS...: a chat in NODE, fed from $NAME_fd
	local name=$1 n=$2
	shift 2
	mkfifo "$tmp/$name.in"
	ip netns exec "${!n}" env ILP_TRANSPORT=kernel "$tool" chat "$@" \
		<"$tmp/$name.in" >"$tmp/$name.out" 2>&1 &
	pids+=($!)
	exec {fd}>"$tmp/$name.in"
	eval "${name}_fd=$fd"
	busywait 5000 grep -q "^bound " "$tmp/$name.out"
}

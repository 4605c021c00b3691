#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Association and pipes, natively on the userspace datapath, in network
# namespaces: nobody types a key.  Certificates are made here with the
# openssl CLI (tests/make_certs.sh).
#
#	h1 10.0.1.1 --- 10.0.1.2 sn1 10.0.2.2 --- 10.0.2.1 h2
#	                         10.0.3.2
#	                            |
#	                     sn2 10.0.3.1
#
# h1 and h2 name sn1 as their first hop; sn2 keeps a pipe with sn1; sn1
# relays service 8 to h2.  Checks: before sn1 runs, h1's app cannot send
# (no SN); once the associations are up, h1's app reaches h2's and back;
# the master key rotates every 2 s on sn1 and 150 packets sent across
# rotations all come back; kill -9 of sn1 and a restart: h1 and h2
# re-associate by themselves and traffic resumes; h1 asks sn1's relay
# for its status out of band (ilpctl, and an app through libilp); a malformed frame closes its channel only;
# an SN with an expired
# certificate, one signed by another edomain's CA, and one whose
# certificate names another address are each refused by h1 with a line
# saying why, as is a TLS 1.2-only client by sn1; ilpctl assoc del
# withdraws h1's association on both sides; sn1 and sn2 share an SQLite
# core, where sn1 keeps a record per host of its own (sn2 resolves h1 and
# h2 there, the same two after sn1's kill -9, h1's gone once its
# association is withdrawn); restarted with a domain only,
# h1 finds sn1 in the SVCB records a dnsmasq started here serves.
#
# usage: assoc_netns_test.sh ILPD ILPCTL ILP_APP_TOOL RELAY_SO MAKE_CERTS SERVICE_ASK
# Exit status 77 (skipped) without root, "ip netns" or openssl.
set -u
ilpd=$1 ilpctl=$2 tool=$3 relay=$4 certs=$5 ask=$6

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1 ||
	! command -v openssl >/dev/null; then
	echo "SKIP: needs root, ip netns and openssl"
	exit 77
fi
. "$certs"

dir=$(mktemp -d)
tag=ilpa$$
h1=$tag-h1 sn1=$tag-sn1 h2=$tag-h2 sn2=$tag-sn2
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for ns in "$h1" "$sn1" "$h2" "$sn2"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"

EVENTUALLY_TRIES=200 # 10 s: handshakes and redials take their time
. "$(dirname "$0")/netns_lib.sh"
ok() { echo "ok: $*"; }

for ns in "$h1" "$sn1" "$h2" "$sn2"; do
	ip netns add "$ns" || fail "ip netns add $ns"
	ip -n "$ns" link set lo up
done
ip link add h1-eth0 netns "$h1" type veth peer name sn1-eth0 netns "$sn1" || fail "veth"
ip link add h2-eth0 netns "$h2" type veth peer name sn1-eth1 netns "$sn1" || fail "veth"
ip link add sn2-eth0 netns "$sn2" type veth peer name sn1-eth2 netns "$sn1" || fail "veth"
# h1 and h2 are neighbours too, on a link of their own, for a direct pipe.
ip link add h1-eth1 netns "$h1" type veth peer name h2-eth1 netns "$h2" || fail "veth"
ip -n "$h1" addr add 10.0.1.1/24 dev h1-eth0
ip -n "$sn1" addr add 10.0.1.2/24 dev sn1-eth0
ip -n "$sn1" addr add 10.0.2.2/24 dev sn1-eth1
ip -n "$h2" addr add 10.0.2.1/24 dev h2-eth0
ip -n "$sn1" addr add 10.0.3.2/24 dev sn1-eth2
ip -n "$sn2" addr add 10.0.3.1/24 dev sn2-eth0
ip -n "$h1" addr add 10.0.5.1/24 dev h1-eth1
ip -n "$h2" addr add 10.0.5.2/24 dev h2-eth1
for l in "$h1 h1-eth0" "$sn1 sn1-eth0" "$sn1 sn1-eth1" "$h2 h2-eth0" "$sn1 sn1-eth2" "$sn2 sn2-eth0" \
	"$h1 h1-eth1" "$h2 h2-eth1"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip netns exec "$sn1" sysctl -qw net.ipv4.ip_forward=0

# Edomain a's CA signs sn1 and sn2; edomain b's CA exists to be wrong.
c=$dir/certs
mkdir "$c"
make_ca "$c" a && make_ca "$c" b || fail "make the CAs"
sn1_san="IP:10.0.1.2,IP:10.0.2.2,IP:10.0.3.2,URI:ilp:edomain:a"
make_cert "$c" a sn1 "$sn1_san" || fail "sn1's certificate"
make_cert "$c" a sn2 "IP:10.0.3.1,URI:ilp:edomain:a" || fail "sn2's certificate"
make_cert "$c" a expired "$sn1_san" 20200101000000Z 20200201000000Z || fail "expired certificate"
make_cert "$c" b otherca "$sn1_san" || fail "other CA's certificate"
make_cert "$c" a elsewhere "IP:10.9.9.9,URI:ilp:edomain:a" || fail "misnamed certificate"
# Hosts' certificates, for their direct pipe: their addresses only.
make_cert "$c" a h1 "IP:10.0.1.1,IP:10.0.5.1" || fail "h1's certificate"
make_cert "$c" a h2 "IP:10.0.2.1,IP:10.0.5.2" || fail "h2's certificate"
ok "certificates made with openssl"

for n in h1 sn1 h2 sn2 bad; do
	mkdir -m 755 "$dir/$n" "$dir/$n/run" "$dir/$n/state" "$dir/$n/plugins"
done
cp "$relay" "$dir/sn1/plugins/"

start() { # NODE NS ARGS...
	local n=$1 ns=$2 skip=0
	shift 2
	[ -f "$dir/$n.log" ] && skip=$(wc -l <"$dir/$n.log")
	pretty ilpd "$n" "$@"
	ip netns exec "$ns" "$ilpd" --config /dev/null --datapath user --log-level debug \
		--plugin-dir "$dir/$n/plugins" --run-dir "$dir/$n/run" --state-dir "$dir/$n/state" \
		--trust "a $c/ca-a.pem" "$@" 2>>"$dir/$n.log" &
	pids+=($!)
	eval "${n}_pid=$!"
	wait_for "$dir/$n.log" "started" "$skip" || fail "ilpd on $n did not start"
}
ctl() { # NODE ARGS...
	local n=$1
	shift
	"$ilpctl" -S "$dir/$n/run/ilpd.sock" "$@"
}
# holds NODE EXPR: a Python expression on NODE's "assoc show -j", a.
holds() {
	st=$(ctl "$1" -j assoc show) && python3 -c 'import json, sys
a = json.loads(sys.argv[1])
sys.exit(not eval(sys.argv[2]))' "$st" "$2"
}
check() { # NODE EXPR WHAT
	local st=
	eventually holds "$1" "$2" || fail "$3: on $1, $2; got: $st"
	ok "$3"
}
up_with() { # the association with PEER is up
	echo "len([x for x in a if x['peer'] == '$1' and x['state'] == 'up']) == 1"
}

direct() { # NODE: a host that allows direct pipes, with its certificate
	echo --direct yes --certificate "$c/$1.pem" --private-key "$c/$1.key"
}
start h1 "$h1" --role host --first-hop "10.0.1.2 edomain a" $(direct h1) \
	--neighbour "10.0.5.2 edomain a"
start h2 "$h2" --role host --first-hop "10.0.2.2 edomain a" $(direct h2)

app server h2 "$h2" --bind 8 --echo
wait_for "$dir/server.out" "^bound 8/0$" || fail "h2's app not bound"
app client h1 "$h1" --bind 8/77 --connect 8/77@10.0.2.1
wait_for "$dir/client.out" "^bound 8/77$" || fail "h1's app not bound"

# No association yet: no SN to send through.
echo "send early" >&"$client_fd"
wait_for "$dir/client.out" "^error" || fail "h1's app sent with no association"
ok "before the association, h1's app has no SN to send through"

# sn1 and sn2 share edomain a's core, an SQLite file.
core="sqlite $dir/core.db" lookup="sqlite $dir/lookup.db"
start sn1 "$sn1" --role sn --edomain a --certificate "$c/sn1.pem" --private-key "$c/sn1.key" \
	--rekey-interval 2s --service-config "relay next-hop=10.0.2.1" --core "$core" --lookup "$lookup"
start sn2 "$sn2" --role sn --edomain a --certificate "$c/sn2.pem" --private-key "$c/sn2.key" \
	--pipe "10.0.3.2 edomain a" --core "$core" --lookup "$lookup"
check h1 "$(up_with 10.0.1.2:1000)" "h1 associates with sn1 by itself"
check h2 "$(up_with 10.0.2.2:1000)" "h2 associates with sn1 by itself"
check sn1 "$(up_with 10.0.1.1:1000) and $(up_with 10.0.2.1:1000)" "sn1 has both hosts"
check sn2 "$(up_with 10.0.3.2:1000) and a[0]['kind'] == 'pipe'" "sn2 keeps a pipe with sn1"
check sn1 "[x['kind'] for x in a if x['peer'] == '10.0.3.1:1000'] == ['pipe']" "... and sn1 with sn2"
ctl h1 instance show | grep -q "sn 10.0.1.2:1000" || fail "h1's default SN is not sn1"
ok "h1's default SN is set with no admin step"
# The edomain's core knows where its hosts are: sn2 finds h1 at sn1.
resolves() { # NODE HOST ANSWER: "edomain resolve HOST" on NODE prints ANSWER
	[ "$(ctl "$1" edomain resolve "$2" 2>&1)" = "$3" ]
}
eventually resolves sn2 10.0.1.1 "10.0.1.1:1000 at 10.0.1.2:1000" ||
	fail "sn2 does not find h1 in the core: $(ctl sn2 edomain resolve 10.0.1.1 2>&1)"
eventually resolves sn2 10.0.2.1:1000 "10.0.2.1:1000 at 10.0.1.2:1000" ||
	fail "sn2 does not find h2 in the core: $(ctl sn2 edomain resolve 10.0.2.1:1000 2>&1)"
ok "sn1 publishes its hosts in the edomain's core, and sn2 resolves them there"
resolves sn2 10.0.2.1:1001 "ilpctl: 10.0.2.1:1001: no host record in the edomain's core" ||
	fail "a host on another port: $(ctl sn2 edomain resolve 10.0.2.1:1001 2>&1)"
ok "... by address and port when a port is given"
eventually eval '[ "$(ctl sn2 lookup show | grep "^edomain a:")" = "edomain a: 2 hosts" ]' ||
	fail "the lookup service's records: $(ctl sn2 lookup show 2>&1)"
ok "sn1 registers its hosts at the lookup service with their edomain: $(ctl sn2 lookup show | grep "^edomain a:")"
# Never a key: not in ilpctl's output nor in any log.
ctl h1 -j assoc show | grep -qi '"key' && fail "assoc show prints a key"
ctl sn1 -j peer show | grep -qi '"key"' && fail "peer show prints a key"

ping() { # TEXT
	echo "send $1" >&"$client_fd"
	wait_for "$dir/client.out" "payload echo:$1$" || fail "the echo of $1 did not come back"
}
ping first
ok "h1's app reaches h2's through sn1, and back"

# The direct pipe between the neighbours: no SN on the way.
check h1 "[x['state'] for x in a if x['kind'] == 'direct' and x['peer'] == '10.0.5.2:1000'] == ['up']" \
	"h1 and h2 set up a direct pipe by themselves"
check h2 "[x['kind'] for x in a if x['peer'] == '10.0.5.1:1000'] == ['direct']" "... on both sides"
app direct h1 "$h1" --bind 8/78 --connect 8/78@10.0.5.2
wait_for "$dir/direct.out" "^bound 8/78$" || fail "h1's second app not bound"
echo "send neighbourly" >&"$direct_fd"
# (No "via": the packet's previous hop is its sender.)
wait_for "$dir/server.out" "^recv from 8/78@10.0.5.1:1000 md .*payload neighbourly$" ||
	fail "h2's app did not get h1's packet straight from h1"
wait_for "$dir/direct.out" "^recv from 8/78@10.0.5.2:1000 md .*payload echo:neighbourly$" ||
	fail "the echo did not come straight back"
ok "h1's app reaches h2's over the direct pipe, and back, with no SN"

# Steady traffic across rotations: 150 packets in 3 s, each echoed.
rekeys_before=$(ctl sn1 -j assoc show | python3 -c 'import json,sys; print(sum(x["rekeys"] for x in json.load(sys.stdin)))')
for i in $(seq 150); do
	echo "send steady$i" >&"$client_fd"
	sleep 0.02
done
eventually test "$(grep -c 'payload echo:steady' "$dir/client.out")" = 150 ||
	fail "$(grep -c 'payload echo:steady' "$dir/client.out") of 150 echoes across rotations"
ok "150 packets across master-key rotations: 150 echoes"
check sn1 "sum(x['rekeys'] for x in a) > $rekeys_before + 2" "... and sn1 rekeyed its peers meanwhile"
wait_for "$dir/sn1.log" "master key rotated; 3 new SAs offered" || fail "no rotation logged"
# The data both ways, counted by the datapath per SA and peer, retired
# SAs included: at least the 150 packets and their echoes.
counted() { # PEER
	echo "[x['tx_packets'] >= 150 and x['rx_packets'] >= 150 and x['rx_bytes'] >= 150 * 16 for x in a if x['peer'] == '$1'] == [True]"
}
check h1 "$(counted 10.0.1.2:1000)" "h1's association counts the data both ways, across rotations"
check sn1 "$(counted 10.0.1.1:1000)" "... and so does sn1's"
data=$(ctl h1 assoc show | grep -A4 "^peer 10.0.1.2:1000 " | grep "^    data rx [1-9][0-9]* packets") ||
	fail "assoc show's text has no data counts"
ok "... shown as: ${data#"    "}"

# kill -9 and a restart: the hosts come back by themselves.
run kill -9 "$sn1_pid"
wait "$sn1_pid" 2>/dev/null
start sn1 "$sn1" --role sn --edomain a --certificate "$c/sn1.pem" --private-key "$c/sn1.key" \
	--rekey-interval 2s --service-config "relay next-hop=10.0.2.1" --core "$core" --lookup "$lookup"
check h1 "$(up_with 10.0.1.2:1000) and a[0]['channels'] == 2" "h1 re-associates after kill -9"
check h2 "$(up_with 10.0.2.2:1000) and a[0]['channels'] == 2" "h2 re-associates after kill -9"
ping after-restart
ok "traffic resumes"
eventually eval '[ "$(ctl sn1 edomain show | grep "^hosts:")" = "hosts: 2 in the edomain, 2 on this SN" ]' ||
	fail "sn1's host records after its restart: $(ctl sn1 edomain show)"
ok "... and sn1 keeps its two host records in the core, no more"

# Out-of-band service control: h1 asks its SN's relay over the channel.
got=$(ctl h1 service control 8 status) || fail "service control 8 status"
[[ $got == "connections 1 "* ]] || fail "the relay's answer: '$got'"
ok "h1 asks sn1's relay out of band: $got"
ctl h1 service control 8 bogus 2>"$dir/control.err" && fail "a bogus request was answered"
grep -q "Invalid argument" "$dir/control.err" || fail "the refusal: $(cat "$dir/control.err")"
ctl h1 service control 9 status 2>"$dir/control.err" && fail "service 9 answered"
grep -q "No such file" "$dir/control.err" || fail "no module: $(cat "$dir/control.err")"
ok "... a bad request and a service no module serves are refused with their errno"
# The same from an app, through h1's app socket and libilp
# (ilp::control_service(), the service_ask example), unprivileged.
ask() { # ARGS...
	ip netns exec "$h1" setpriv --reuid=65534 --regid=65534 --clear-groups \
		env ILP_APP_SOCKET="$dir/h1/run/app.sock" "$ask" "$@"
}
got=$(ask 8 status) || fail "service_ask 8 status: $got"
[[ $got == $'status 0\nconnections 1 '* ]] || fail "the relay's answer to the app: '$got'"
got=$(ask 8 status --sn 10.0.1.2) || fail "service_ask 8 status --sn 10.0.1.2: $got"
ask 8 bogus >"$dir/ask.err" 2>&1
[ $? = 3 ] && grep -q "status -22" "$dir/ask.err" || fail "the relay's refusal: $(cat "$dir/ask.err")"
ask 8 status --sn 10.0.9.9 2>"$dir/ask.err" && fail "an SN h1 has no association with answered"
grep -q "Transport endpoint is not connected" "$dir/ask.err" || fail "no association: $(cat "$dir/ask.err")"
ok "an app on h1 asks sn1's relay out of band (and is told when it cannot)"

# A malformed frame closes that channel only: an anonymous TLS client
# sends a frame of an unknown type; sn1 refuses it, and h2 goes on.
skip=$(wc -l <"$dir/sn1.log")
printf '\001\143\000\000' | ip netns exec "$h1" timeout 5 \
	openssl s_client -quiet -connect 10.0.1.2:1001 >/dev/null 2>&1
wait_for "$dir/sn1.log" "unknown" "$skip" || fail "sn1 did not refuse the frame of type 99"
check h2 "$(up_with 10.0.2.2:1000) and a[0]['channels'] == 2" "h2's association is untouched"
ping after-bad-frame
ok "sn1 refuses a malformed frame: $(tail -n +$((skip + 1)) "$dir/sn1.log" | grep -m1 unknown)"

# Bad SNs, each refused by h1 with its reason.
bad_port=1101
bad_sn() { # CERT REASON WHAT
	local skip
	skip=$(wc -l <"$dir/h1.log")
	start bad "$sn1" --role sn --edomain a --certificate "$c/$1.pem" --private-key "$c/$1.key" \
		--port $((bad_port + 100)) --control-port $bad_port
	ctl h1 assoc add "10.0.1.2:$bad_port" edomain a || fail "assoc add"
	wait_for "$dir/h1.log" "$2" "$skip" || fail "h1 did not refuse $3 with '$2'"
	holds h1 "all(x['state'] != 'up' for x in a if x['control'] == '10.0.1.2:$bad_port')" ||
		fail "an association with $3 came up"
	ok "h1 refuses $3: $(tail -n +$((skip + 1)) "$dir/h1.log" | grep -m1 -- "$2")"
	ctl h1 assoc del "10.0.1.2:$bad_port" || fail "assoc del"
	kill "$bad_pid"
	wait "$bad_pid" 2>/dev/null
	bad_port=$((bad_port + 1))
}
bad_sn expired "certificate has expired" "an SN whose certificate has expired"
bad_sn otherca "did not verify: unable to get local issuer" "an SN whose certificate another edomain's CA signed"
bad_sn elsewhere "is not in the certificate" "an SN whose certificate names another address"

skip=$(wc -l <"$dir/sn1.log")
ip netns exec "$h1" openssl s_client -tls1_2 -connect 10.0.1.2:1001 </dev/null >/dev/null 2>&1
wait_for "$dir/sn1.log" "TLS 1.3" "$skip" || fail "sn1 did not say why it refused a TLS 1.2 client"
ok "sn1 refuses a TLS 1.2-only client: $(tail -n +$((skip + 1)) "$dir/sn1.log" | grep -m1 "TLS 1.3")"

# A second first-hop SN (another IESP's; here another ilpd beside sn1):
# each association on its own, the default SN the first one's.
start bad "$sn1" --role sn --edomain a --certificate "$c/sn1.pem" --private-key "$c/sn1.key" \
	--port 1300 --control-port 1300
ctl h1 assoc add 10.0.1.2:1300 edomain a || fail "assoc add of a second SN"
check h1 "$(up_with 10.0.1.2:1300) and $(up_with 10.0.1.2:1000)" "h1 keeps two first-hop SNs"
ctl h1 instance show | grep -q "sn 10.0.1.2:1000" || fail "the default SN moved"
run kill -9 "$bad_pid"
wait "$bad_pid" 2>/dev/null
check h1 "$(up_with 10.0.1.2:1000) and all(x['state'] != 'up' for x in a if x['peer'] == '10.0.1.2:1300')" \
	"... and losing the second leaves the first up"
ping with-one-sn-gone
ctl h1 assoc del 10.0.1.2:1300 || fail "assoc del of the second SN"

# Withdrawn on both sides.
run ctl h1 assoc del 10.0.1.2 || fail "assoc del"
ctl h1 -j peer show | grep -q 10.0.1.2 && fail "h1 still has sn1 as a peer"
check sn1 "all(x['peer'] != '10.0.1.1:1000' for x in a)" "assoc del withdraws h1 from sn1 too"
ctl sn1 -j peer show | grep -q '10.0.1.1' && fail "sn1 still has h1 as a peer"
ok "... and its SAs"
eventually resolves sn2 10.0.1.1 "ilpctl: 10.0.1.1: no host record in the edomain's core" ||
	fail "h1's record outlived its association: $(ctl sn2 edomain resolve 10.0.1.1 2>&1)"
resolves sn2 10.0.2.1 "10.0.2.1:1000 at 10.0.1.2:1000" || fail "h2's record went too"
ok "... and its record in the core, h2's staying"

# First hops from DNS (docs/control.md, "Discovering first-hop SNs"): h1
# restarted with a domain only, whose SVCB records dnsmasq serves from
# sn1's namespace: an alias, a malformed record, sn1 at priority 1, and at
# priority 2 an SN by its ipv4hint that is not there.  Until dnsmasq runs
# the lookup fails, and is tried again.
command -v dnsmasq >/dev/null || fail "no dnsmasq (scripts/install-deps installs dnsmasq-base)"
svcb() { # PRIORITY TARGET [KEY=VALUE...]: RDATA in hex, for dnsmasq's --dns-rr
	python3 - "$@" <<'END'
import ipaddress, sys
rd = int(sys.argv[1]).to_bytes(2, "big")
rd += b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[2].split(".") if l) + b"\0"
for kv in sys.argv[3:]:
    k, v = kv.split("=")
    if k == "4":
        v = ipaddress.IPv4Address(v).packed
    else:  # a port, or mandatory's list of keys
        v = b"".join(int(x).to_bytes(2, "big") for x in v.split(","))
    rd += int(k).to_bytes(2, "big") + len(v).to_bytes(2, "big") + v
print(rd.hex())
END
}
run kill "$h1_pid"
wait "$h1_pid" 2>/dev/null
skip=$(wc -l <"$dir/h1.log")
start h1 "$h1" --role host --first-hop-domain "example.test edomain a" --dns-server 10.0.1.2:5353 \
	--reconnect-max 2s
wait_for "$dir/h1.log" "first-hop-domain example.test: .*10.0.1.2:5353.*; again in" "$skip" ||
	fail "h1 did not say its lookup failed"
ok "no DNS server yet: $(tail -n +$((skip + 1)) "$dir/h1.log" | grep -m1 "first-hop-domain")"
pool=_ilp.pool.example.test
run ip netns exec "$sn1" dnsmasq --keep-in-foreground --pid-file= --port 5353 \
	--listen-address 10.0.1.2 --bind-interfaces --no-resolv --no-hosts --local=/example.test/ \
	--log-queries --log-facility=- --host-record=sn1.example.test,10.0.1.2 \
	--dns-rr=_ilp.example.test,64,"$(svcb 0 $pool)" \
	--dns-rr=$pool,64,"$(svcb 2 . 3=1199 4=10.0.1.2)" \
	--dns-rr=$pool,64,"$(svcb 1 sn1.example.test 0=65380 3=1001 65380=1000)" \
	--dns-rr=$pool,64,"$(svcb 1 sn9.example.test 3=1001 3=1001)" 2>>"$dir/dnsmasq.log" &
pids+=($!)
check h1 "$(up_with 10.0.1.2:1000) and a[0]['control'] == '10.0.1.2:1001' and a[1]['control'] == '10.0.1.2:1199'" \
	"h1 finds sn1 in DNS and associates with it, then the SN of priority 2"
ctl h1 instance show | grep -q "sn 10.0.1.2:1000" || fail "h1's default SN is not sn1"
ok "... sn1 is its default SN"
wait_for "$dir/h1.log" "SVCB record at $pool skipped: duplicate SvcParam port" "$skip" ||
	fail "h1 did not skip the malformed record"
ok "$(grep -m1 "skipped: duplicate" "$dir/h1.log")"
echo "PASS"

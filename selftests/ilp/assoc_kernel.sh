#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Association on the kernel datapath: h1 -- sn1 -- h2, ilpd on the kernel
# datapath in each namespace, certificates made here with the openssl CLI
# (tests/make_certs.sh); nobody types a key:
# - h1 and h2 associate with sn1 by themselves, and the SPIs their ilpd
#   exchanged are in ilp.ko: the peer's transmit SA is the association's
#   spi_out, its spi_in a receive SA bound to the peer, on every node; h1's
#   instance has sn1 as its default SN with no admin step;
# - AF_ILP sockets on h1 and h2 talk through sn1's relay, both ways; an
#   app on h1 asks sn1's relay out of band (libilp, h1's ilpd, the channel);
# - kill -9 of sn1's ilpd: ilp.ko keeps forwarding what its cache knows,
#   only a new connection (an upcall) is lost; ilpd started again (now
#   rotating its master key every 2 s), h1 and h2 re-associate by
#   themselves and traffic resumes;
# - a steady stream each way across several rotations arrives whole, the
#   active slot changes, and the receive SAs the new ones supersede are
#   withdrawn after the grace;
# - a transmit SA near the end of its IVs (test_iv_left): h2's ilpd hears
#   it from ilp.ko and asks sn1 for a new SA; a stream across several
#   such SAs arrives whole, none dropped as tx_iv_spent;
# - a mixed pair: h1's ilpd on the userspace datapath, sn1 still on the
#   kernel's: the association comes up, and h1's app and h2's AF_ILP
#   socket talk both ways through sn1.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd openssl jq
require_ilpd
tool=$ILP_BUILD_DIR/daemon/tests/ilp_app_tool
[ -x "$tool" ] || skip "ilp_app_tool is not built ($tool)"
ilp_load

tmp=$(mktemp -d)
chmod 755 "$tmp"
defer rm -rf "$tmp"
setup_pipe
for n in h1 sn1 h2; do
	ilpd_dirs "$tmp/$n"
done
cp "$SERVICES/relay/relay.so" "$tmp/sn1/plugins/"

# Edomain a's CA signs sn1's certificate, which names both its addresses.
# shellcheck source=../../tests/make_certs.sh
. "$ILP_TOP/tests/make_certs.sh"
c=$tmp/certs
mkdir "$c"
check "openssl makes edomain a's CA and sn1's certificate" eval \
	'make_ca "$c" a && make_cert "$c" a sn1 "IP:10.0.1.2,IP:10.0.2.2,URI:ilp:edomain:a"'

# Short timers: the grace before a superseded SA goes is the dead-peer
# timeout (at most half the rotation interval), and the hosts redial
# within a second of sn1 coming back.  sn1 rotates every 2 s (stretched
# on the debug kernel, where one ilpctl takes seconds).
rotation=$(scaled_time 2000)
pids=()
defer 'kill ${pids[*]} 2>/dev/null'
start_ilpd() { # NODE NS ARGS...: ilpd in NS, its files under $tmp/NODE
	local n=$1 ns=$2 skip=0
	shift 2
	[ -f "$tmp/$n.log" ] && skip=$(wc -l <"$tmp/$n.log")
	ip netns exec "$ns" "$ILPD" --config /dev/null --log-level debug \
		--plugin-dir "$tmp/$n/plugins" --run-dir "$tmp/$n/run" --state-dir "$tmp/$n/state" \
		--trust "a $c/ca-a.pem" --control-keepalive 1s --control-dead-peer 3s \
		--reconnect-max 1s "$@" 2>>"$tmp/$n.log" &
	pids+=($!)
	eval "${n}_pid=$!"
	busywait 10000 eval 'tail -n +$((skip + 1)) "$tmp/$n.log" | grep -q "started"'
}
start_sn1() { # ARGS...
	start_ilpd sn1 "$sn1" --role sn --datapath kernel --edomain a \
		--certificate "$c/sn1.pem" --private-key "$c/sn1.key" \
		--service-config "relay next-hop=10.0.2.1" "$@"
}
check "ilpd on sn1: kernel datapath, relay to h2" start_sn1
check "ilpd on h1: kernel datapath, first hop sn1" start_ilpd h1 "$h1" --role host \
	--datapath kernel --first-hop "10.0.1.2 edomain a"
check "ilpd on h2: kernel datapath, first hop sn1" start_ilpd h2 "$h2" --role host \
	--datapath kernel --first-hop "10.0.2.2 edomain a"

ctl() { # NODE ARGS...: NODE's ilpd over its control socket
	local n=$1
	shift
	"$ILPCTL" -S "$tmp/$n/run/ilpd.sock" "$@"
}
# assoc NODE PEER FIELD...: the FIELDs of NODE's association with PEER
# (ADDR:PORT), on one line.
assoc() {
	local n=$1 p=$2
	shift 2
	ctl "$n" -j assoc show |
		jq -r --arg p "$p" --arg f "$*" \
			'.[] | select(.peer == $p) | [.[($f | split(" "))[]]] | map(tostring) | join(" ")'
}
# assoc_is NODE PEER FIELDS VALUES: e.g. assoc_is h1 10.0.1.2:1000 "state channels" "up 1"
assoc_is() { [ "$(assoc "$1" "$2" "$3")" = "$4" ]; }
# keyed NODE NS PEER_ADDR: what NODE's ilpd says it exchanged with the
# peer is what NS's ilp.ko holds: the peer's transmit SA is spi_out, and
# spi_in is a receive SA bound to the peer.  While sn1 rotates, a rekey
# may come between the reads: the association read before the datapath's
# tables or the one after will do.  Four processes: each costs seconds
# on the debug kernel.
keyed() {
	local n=$1 ns=$2 p=$3 a k b
	a=$(ctl "$n" -j assoc show) &&
		k=$(printf 'peer show\nsa show\n' | "$ILPCTL" -n "$ns" -j -b -) &&
		b=$(ctl "$n" -j assoc show) || return 1
	printf '%s\n%s\n%s\n' "$a" "$k" "$b" | jq -se --arg p "$p" '
		. as [$a, $peers, $sas, $b]
		| ([$peers[] | select(.address == $p) | .tx.spi] | first) as $tx
		| [$sas[] | select(.peer == $p) | .spi] as $rx
		| any(($a + $b)[] | select(.peer == $p + ":1000");
		      .state == "up" and .spi_out == $tx and (.spi_in as $i | any($rx[]; . == $i)))' \
		>/dev/null
}
sa_count_is() { [ "$("$ILPCTL" -n "$1" -j sa show | jq length)" = "$2" ]; } # NS N
sa_count_at_most() { [ "$("$ILPCTL" -n "$1" -j sa show | jq length)" -le "$2" ]; } # NS N
active_slot_is_not() { [ "$("$ILPCTL" -n "$sn1" -j key show | jq .active_slot)" != "$1" ]; }
dump() { # NODE NS: what NODE's ilpd and NS's ilp.ko say, for a failure's log
	ctl "$1" assoc show
	"$ILPCTL" -n "$2" peer show
	"$ILPCTL" -n "$2" sa show
}

# 1. The associations come up by themselves, keyed into ilp.ko.
check "h1 associates with sn1 by itself" busywait 10000 assoc_is h1 10.0.1.2:1000 state up
check "h2 associates with sn1 by itself" busywait 10000 assoc_is h2 10.0.2.2:1000 state up
check "sn1 has both hosts up" busywait 5000 eval \
	'assoc_is sn1 10.0.1.1:1000 state up && assoc_is sn1 10.0.2.1:1000 state up'
check "h1's ilp.ko holds the SAs it exchanged with sn1" keyed h1 "$h1" 10.0.1.2
check "h2's ilp.ko holds the SAs it exchanged with sn1" keyed h2 "$h2" 10.0.2.2
check "sn1's ilp.ko holds the SAs it exchanged with h1" keyed sn1 "$sn1" 10.0.1.1
check "sn1's ilp.ko holds the SAs it exchanged with h2" keyed sn1 "$sn1" 10.0.2.1
check_match "h1's instance has sn1 as its default SN, with no admin step" \
	'^\{"address":"10\.0\.1\.2","port":1000\}$' \
	eval '"$ILPCTL" -n "$h1" -j instance show | jq -c .sn'
check_fail "no key in ilpctl's output" \
	eval 'ctl sn1 -j assoc show | grep -q "\"key\"" || "$ILPCTL" -n "$sn1" -j peer show | grep -q "\"key\""'
[ $tap_failed = 0 ] || { dump h1 "$h1"; dump sn1 "$sn1"; }

# 2. AF_ILP sockets, h1 -> h2 and back through sn1's relay: h1's first
#    packet on connection 42 teaches the relay the way back.
recv_on() { # NS CONN COUNT OUT [MS]: receive service 8 packets in the background
	ip netns exec "$1" "$HELPERS/ilp_sockop" recv 8 "$2" "$3" "$(scaled_time "${5:-10000}")" \
		>"$4" 2>&1 &
	eval "rx_$(basename "$4" .out)=$!"
	busywait 5000 grep -q bound "$4"
}
send_from() { ip netns exec "$1" "$HELPERS/ilp_sockop" send 8 "$2" "$3" "${@:4}"; } # NS CONN HOST COUNT [OPTS]
recv_on "$h2" 42 1 "$tmp/h2a.out"
check "h1 sends on connection 42 to h2" send_from "$h1" 42 10.0.2.1 1
wait $rx_h2a
check_match "h2 gets it through sn1" "^received 1 bytes [0-9]+ conn 42$" cat "$tmp/h2a.out"
recv_on "$h1" 42 1 "$tmp/h1a.out"
check "h2 answers on connection 42" send_from "$h2" 42 10.0.1.1 1
wait $rx_h1a
check_match "h1 gets the answer" "^received 1 bytes [0-9]+ conn 42$" cat "$tmp/h1a.out"
# What each ilp.ko counted: h1's packet and h2's answer, once per hop,
# the same bytes where sealed and where opened; and h1's ilpd shows them.
sealed() { # NS ADDR: "packets bytes" sealed for the peer at ADDR
	"$ILPCTL" -n "$1" -j peer show |
		jq -r --arg a "$2" '.[] | select(.address == $a) | "\(.tx_packets) \(.tx_bytes)"'
}
opened() { # NS ADDR: "packets bytes" opened under the SAs bound to ADDR
	"$ILPCTL" -n "$1" -j sa show |
		jq -r --arg a "$2" '[.[] | select(.peer == $a)] | "\(map(.packets) | add) \(map(.bytes) | add)"'
}
up=$(sealed "$h1" 10.0.1.2)
check_match "h1's ilp.ko sealed one packet for sn1" "^1 [0-9]+$" echo "$up"
check_eq "... which sn1's ilp.ko opened, the same bytes" "$up" "$(opened "$sn1" 10.0.1.1)"
check_eq "... and sealed for h2, which h2's opened" "$(sealed "$sn1" 10.0.2.1)" "$(opened "$h2" 10.0.2.2)"
down=$(opened "$h1" 10.0.1.2)
check_match "h1's ilp.ko opened the answer" "^1 [0-9]+$" echo "$down"
check_eq "h1's ilpd shows both in assoc show" "${up% *} ${up#* } ${down% *} ${down#* }" \
	"$(assoc h1 10.0.1.2:1000 "tx_packets tx_bytes rx_packets rx_bytes")"
# Out-of-band service control from an unprivileged app on a kernel node:
# ilpd's app socket serves it there (and only it: apps have AF_ILP).
ask() { # ARGS...: service_ask on h1, as nobody
	ip netns exec "$h1" setpriv --reuid=65534 --regid=65534 --clear-groups \
		env ILP_APP_SOCKET="$tmp/h1/run/app.sock" "$ILP_BUILD_DIR/examples/service_ask" "$@"
}
check_match "an app on h1 asks sn1's relay out of band, through h1's ilpd" \
	'^connections [0-9]+ takeovers' eval 'ask 8 status | tail -n 1'
check_match "... and an app socket there refuses a socket (apps have AF_ILP)" \
	"Operation not supported" eval 'ip netns exec "$h1" env ILP_TRANSPORT=unix \
	ILP_APP_SOCKET="$tmp/h1/run/app.sock" "$tool" chat --bind 8/99 </dev/null 2>&1'

# 3. kill -9 of sn1's ilpd.  On the kernel datapath the instance, its
#    master keys, peers, SAs and decision cache live in ilp.ko, not in
#    ilpd: with ilpd gone, packets on a connection the cache knows keep
#    being forwarded under the SAs in place (nobody rotates meanwhile);
#    what is lost is what needs ilpd: a new connection's first packet (an
#    upcall with no listener is dropped), the channels, which the hosts
#    redial, and what the relay learned since its last checkpoint.
kill -KILL "$sn1_pid"
wait "$sn1_pid" 2>/dev/null
recv_on "$h2" 42 5 "$tmp/h2k.out"
check "with sn1's ilpd dead, h1 sends on connection 42" send_from "$h1" 42 10.0.2.1 5
wait $rx_h2k
check_match "... which ilp.ko on sn1 still forwards to h2" "^received 5 bytes [0-9]+ conn 42$" \
	cat "$tmp/h2k.out"
recv_on "$h2" 43 1 "$tmp/h2n.out" 1000
check "h1 opens connection 43 meanwhile" send_from "$h1" 43 10.0.2.1 1
wait $rx_h2n
check_match "... which is lost: its first packet is an upcall nobody answers" \
	"^received 0 " cat "$tmp/h2n.out"
check "ilpd on sn1 starts again, adopting the instance, rotating every $((rotation / 1000)) s" \
	start_sn1 --rekey-interval "${rotation}ms"
check "h1 re-associates by itself" busywait 10000 \
	assoc_is h1 10.0.1.2:1000 "state channels" "up 2"
check "h2 re-associates by itself" busywait 10000 \
	assoc_is h2 10.0.2.2:1000 "state channels" "up 2"
check "h1's ilp.ko holds the new association's SAs" busywait 5000 keyed h1 "$h1" 10.0.1.2
check "sn1's ilp.ko holds its new SAs with h1" busywait 5000 keyed sn1 "$sn1" 10.0.1.1
check "h1 withdraws the receive SA of the broken association after the grace" \
	busywait 8000 sa_count_is "$h1" 1
recv_on "$h2" 43 3 "$tmp/h2r.out"
check "h1 sends on connection 43 again" send_from "$h1" 43 10.0.2.1 3
wait $rx_h2r
check_match "traffic resumes: h2 gets all 3" "^received 3 bytes [0-9]+ conn 43$" cat "$tmp/h2r.out"
recv_on "$h1" 43 1 "$tmp/h1r.out"
check "h2 answers on connection 43" send_from "$h2" 43 10.0.1.1 1
wait $rx_h1r
check_match "... and h1 gets the answer" "^received 1 bytes [0-9]+ conn 43$" cat "$tmp/h1r.out"
[ $tap_failed = 0 ] || { dump h1 "$h1"; dump sn1 "$sn1"; }

# 4. A steady stream each way (h1 -> h2 on connection 42, h2 -> h1 on
#    43, which the restarted relay learned), over 2.5 rotation intervals:
#    two or three rotations on sn1, each replacing h1's and h2's transmit
#    SAs to it mid-stream.
n=$(scaled 200)
gap=$((rotation * 5 / 2 / n))
slot0=$("$ILPCTL" -n "$sn1" -j key show | jq .active_slot)
rx0=$("$ILPCTL" -n "$sn1" -j sa show | jq -r '.[].spi')
rekeys0=$(ctl sn1 -j assoc show | jq '[.[].rekeys] | add')
unknown0=$("$ILPCTL" -n "$sn1" -j stats | jq .drops.psp_unknown_spi)
recv_on "$h2" 42 "$n" "$tmp/h2s.out" 20000
recv_on "$h1" 43 "$n" "$tmp/h1s.out" 20000
send_from "$h1" 42 10.0.2.1 "$n" gap "$gap" >"$tmp/h1s.sent" 2>&1 &
tx1=$!
check "h2 sends $n packets on connection 43, one each $gap ms" \
	send_from "$h2" 43 10.0.1.1 "$n" gap "$gap"
check "h1 sends $n packets on connection 42 meanwhile" wait $tx1
wait $rx_h2s $rx_h1s
check_match "h2 received all $n across the rotations" "^received $n bytes [0-9]+ conn 42$" \
	cat "$tmp/h2s.out"
check_match "h1 received all $n" "^received $n bytes [0-9]+ conn 43$" cat "$tmp/h1s.out"
rekeys=$(ctl sn1 -j assoc show | jq '[.[].rekeys] | add')
check "sn1 rekeyed both hosts at least twice meanwhile ($rekeys0 rekeys before, $rekeys after)" \
	test "$rekeys" -ge $((rekeys0 + 4))
check "sn1's active master-key slot changed" busywait 3000 active_slot_is_not "$slot0"
check_match "sn1's ilpd logged its rotations" "master key rotated; 2 new SAs offered" \
	cat "$tmp/sn1.log"
check_eq "sn1 dropped no packet for an unknown SPI" "$unknown0" \
	"$("$ILPCTL" -n "$sn1" -j stats | jq .drops.psp_unknown_spi)"
check "the receive SAs sn1 had before the stream are withdrawn" eval \
	'! "$ILPCTL" -n "$sn1" -j sa show | jq -r ".[].spi" | grep -qxF "$rx0"'
# (While sn1 rotates, a host may have its current SA and the one it
# superseded, in its grace period: without withdrawals the table would
# grow by one per host and rotation.)
check "... and sn1's SA table holds at most two per host" busywait 10000 sa_count_at_most "$sn1" 4
check "h1's transmit SA is one sn1 gave in this rotation" busywait 5000 keyed h1 "$h1" 10.0.1.2
[ $tap_failed = 0 ] || { dump sn1 "$sn1"; "$ILPCTL" -n "$sn1" -j stats; }

# 4b. A transmit SA near the end of its IVs asks for its own replacement.
#    With the module's test_iv_left, each SA installed from now on has
#    $left IVs per CPU; h2's ilp.ko tells h2's ilpd (the "events" group)
#    at the first packet, ilpd sends sn1 a REKEY on the channel, sn1 offers
#    a new SA, and h2 moves to it before the IVs run out: a stream of
#    several SAs' worth of packets arrives whole, none dropped as
#    tx_iv_spent.  (sn1 also rotates meanwhile; the log lines and the
#    drop counter are what tell the two apart.)
left=40
n=$(scaled 300)
gap=$(scaled_time 10)
echo "$left" >/sys/module/ilp/parameters/test_iv_left
defer 'echo 0 >/sys/module/ilp/parameters/test_iv_left'
spent0=$("$ILPCTL" -n "$h2" -j stats | jq .drops.tx_iv_spent)
asked0=$(grep -c "nears the end of its IVs: asking for a new one" "$tmp/h2.log")
check "a rotation on sn1 gives h2 a transmit SA with $left IVs per CPU" ctl sn1 key rotate
check "... which h2's ilp.ko holds" busywait 5000 keyed h2 "$h2" 10.0.2.2
recv_on "$h1" 43 "$n" "$tmp/h1iv.out" 30000
check "h2 sends $n packets on connection 43, one each $gap ms" \
	send_from "$h2" 43 10.0.1.1 "$n" gap "$gap"
wait $rx_h1iv
echo 0 >/sys/module/ilp/parameters/test_iv_left
check_match "h1 received all $n" "^received $n bytes [0-9]+ conn 43$" cat "$tmp/h1iv.out"
check_eq "h2 dropped none as tx_iv_spent" "$spent0" \
	"$("$ILPCTL" -n "$h2" -j stats | jq .drops.tx_iv_spent)"
asked=$(grep -c "nears the end of its IVs: asking for a new one" "$tmp/h2.log")
check "h2's ilpd asked sn1 for a new SA each time ($asked0 before, $asked after)" \
	test "$asked" -ge $((asked0 + 2))
[ $tap_failed = 0 ] || { dump h2 "$h2"; "$ILPCTL" -n "$h2" -j stats; }

# 5. A mixed pair: h1's ilpd moves to the userspace datapath (the module
#    stays loaded; --datapath user does not use it), sn1 stays on the
#    kernel's.  h1's instance goes first: the userspace datapath takes
#    its UDP port.  The new receiver numbers its SPIs from 1 again, under
#    a new key: sn1's ilp.ko takes them as new SAs.
kill -TERM "$h1_pid"
wait "$h1_pid" 2>/dev/null
check "h1's kernel instance removed" "$ILPCTL" -n "$h1" instance del
check "ilpd on h1: userspace datapath, first hop sn1" start_ilpd h1 "$h1" --role host \
	--datapath user --first-hop "10.0.1.2 edomain a"
check_match "... which runs the userspace datapath" "datapath user" cat "$tmp/h1.log"
check "h1 associates with sn1" busywait 10000 \
	assoc_is h1 10.0.1.2:1000 "state channels" "up 1"
check "sn1 has h1 up again" busywait 5000 assoc_is sn1 10.0.1.1:1000 state up
check "sn1's ilp.ko holds the SAs it exchanged with h1's ilpd" busywait 5000 \
	keyed sn1 "$sn1" 10.0.1.1
check_match "h1's ilpd has sn1 as its default SN" "sn 10\.0\.1\.2:1000" ctl h1 instance show
mkfifo "$tmp/app.in"
ip netns exec "$h1" env ILP_TRANSPORT=unix ILP_APP_SOCKET="$tmp/h1/run/app.sock" \
	"$tool" chat --bind 8/77 --connect 8/77@10.0.2.1 <"$tmp/app.in" >"$tmp/app.out" 2>&1 &
pids+=($!)
exec {app_fd}>"$tmp/app.in"
check "h1's app binds 8/77 over the app socket" busywait 5000 grep -q "^bound 8/77$" "$tmp/app.out"
recv_on "$h2" 77 1 "$tmp/h2m.out"
echo "send mixed" >&"$app_fd"
wait $rx_h2m
check_match "h1's app reaches h2's AF_ILP socket through sn1" "^received 1 bytes [0-9]+ conn 77$" \
	cat "$tmp/h2m.out"
check "h2's AF_ILP socket answers on connection 77" send_from "$h2" 77 10.0.1.1 1
check "... and h1's app gets it" busywait 5000 \
	grep -q "^recv from 8/77@10.0.2.1:1000 .*payload msg 0$" "$tmp/app.out"
exec {app_fd}>&-

if [ $tap_failed != 0 ]; then
	tails "$tmp"
fi
dmesg | grep -qE "WARNING|BUG|Oops"
tap_result $((1 - $?)) "kernel log clean"
finish

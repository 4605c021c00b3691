#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The forwarding benchmark, run as root INSIDE the selftest VM (bench/vm/run.sh
# boots it): h1 -- sn1 -- h2 in network namespaces joined by veth; h1 sends
# as fast as one thread can (ilp_blast), sn1 forwards, and the packets that
# arrive on h2's veth are counted over a window of the run.  The cases:
#
#   plain     IP forwarding of UDP h1 -> h2 (sn1 ip_forward=1): the limit
#   wg        WireGuard relay: h1 =wg= sn1 =wg= h2, sn1 routing between its
#             two wg interfaces; h1 sends to h2's inner address
#   ilp-hit   ILP, sn1's decision cache hit: open, look up, re-seal for h2
#   ilp-miss  ILP, every packet a miss: upcall to the test listener
#             (ilp_listener --forward, no --install), which has the kernel
#             forward each one
#   ilp-miss-paced, ilp-hit-paced
#             the same at offered rates the path can take (ilp_blast
#             --rate, searched): what it sustains, where the flood cases
#             give the goodput of an overloaded forwarder (h1 sends several
#             times what sn1 can take; WireGuard's sender is held back by
#             its socket buffer instead).  For the miss path the two differ
#             by more than an order of magnitude; for the hit path they agree (within
#             1% in calm runs), hence not a default case.
#
# It prints a table (packets/s at h2, the sender's rate, the ratio to plain
# forwarding) and "ILP cache-hit / WireGuard relay: X.XXx".
#
# usage: forward_bench.sh [-d SECONDS] [-w SECONDS] [-p SECONDS] [-s BYTES]
#                         [-c CASES] [-P]
#   -d  measuring window per case (default 10)
#   -w  warm-up before the window (default 1)
#   -p  window of each probe of the paced cases (default 3)
#   -s  UDP payload of plain and WireGuard packets, ILP payload after the
#       ILP header for ILP (default 200)
#   -c  the cases, comma-separated (default
#       plain,wg,ilp-hit,ilp-miss,ilp-miss-paced; ilp-hit-paced on request)
#   -P  do not pin: by default, with 2 vCPUs or more, the sender runs on
#       vCPU 0 and sn1's receive processing is steered (RPS) to vCPU 1, with
#       the miss listener, so that one vCPU generates and one forwards.
#
# Not a test: the numbers depend on the host, and under QEMU's software
# emulation they are those of an emulated CPU (bench/README.md).
# shellcheck disable=SC2154 # h1, sn1, h2 and *_pid are set with printf -v
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=SCRIPTDIR/../../selftests/ilp/lib.sh
source "$top/selftests/ilp/lib.sh"

duration=10
warmup=1
size=200
probe_window=3
cases=plain,wg,ilp-hit,ilp-miss,ilp-miss-paced
pin=1
while getopts "d:w:p:s:c:Ph" opt; do
	case $opt in
	d) duration=$OPTARG ;;
	w) warmup=$OPTARG ;;
	p) probe_window=$OPTARG ;;
	s) size=$OPTARG ;;
	c) cases=$OPTARG ;;
	P) pin=0 ;;
	h) sed -n '/^# usage/,/^#$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) exit 2 ;;
	esac
done

BLAST=${ILP_BLAST:-$ILP_BUILD_DIR/bench/ilp_blast}
die() { echo "forward_bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (inside the VM: bench/vm/run.sh)"
for f in "$BLAST" "$ILPCTL" "$HELPERS/ilp_send" "$HELPERS/ilp_listener"; do
	[ -x "$f" ] || die "$f not built (cmake --build build)"
done
want() { [[ ,$cases, == *,$1,* ]]; }
for c in ${cases//,/ }; do
	case $c in
	plain | wg | ilp-hit | ilp-miss | ilp-hit-paced | ilp-miss-paced) ;;
	*) die "unknown case '$c' (plain, wg, ilp-hit, ilp-miss, ilp-hit-paced, ilp-miss-paced)" ;;
	esac
done
if want wg; then
	command -v wg >/dev/null || die "wg not installed (apt-get install wireguard-tools)"
	modprobe wireguard || die "cannot load wireguard"
fi
if want ilp-hit || want ilp-hit-paced || want ilp-miss || want ilp-miss-paced; then
	# What udev loads at boot on a machine with AES-NI, and this VM has no
	# udev: without it the module's gcm(aes) is plain C.  (The kernel's
	# AES-NI AEADs are asynchronous in 6.12, and the module asks for a
	# synchronous one: it gets gcm_base(ctr(aes-aesni),ghash-generic).)
	modprobe -q aesni_intel
	modprobe -q ghash_clmulni_intel
	# shellcheck disable=SC2119 # no module parameters
	ilp_load || die "cannot load ilp.ko"
fi

tmp=$(mktemp -d)
defer rm -rf "$tmp"

# ---------------------------------------------------------------------
# h1 -- sn1 -- h2.  In h1 the veth is "sn1", in sn1 "h1" and "h2", in h2
# "sn1" (lib.sh's link_ns names them after the peer's role).
setup_ns h1 sn1 h2 || die "cannot create namespaces"
link_ns "$h1" 10.0.1.1/24 "$sn1" 10.0.1.2/24 || die "cannot link h1 and sn1"
link_ns "$sn1" 10.0.2.2/24 "$h2" 10.0.2.1/24 || die "cannot link sn1 and h2"
ip -n "$h1" route add 10.0.2.0/24 via 10.0.1.2
ip netns exec "$sn1" sysctl -qw net.ipv4.ip_forward=1
# Permanent neighbours: ARP must not run during a flood.  Its replies would
# queue behind the flood on a full backlog and be dropped, the entry would
# fail, and forwarded packets with it.
mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }
neigh() { # NETNS IFACE ADDR PEER-NETNS PEER-IFACE
	ip -n "$1" neigh replace "$3" lladdr "$(mac "$4" "$5")" dev "$2" nud permanent
}
neigh "$h1" sn1 10.0.1.2 "$sn1" h1 || die "cannot set h1's neighbour"
neigh "$sn1" h1 10.0.1.1 "$h1" sn1 || die "cannot set sn1's neighbours"
neigh "$sn1" h2 10.0.2.1 "$h2" sn1 || die "cannot set sn1's neighbours"
neigh "$h2" sn1 10.0.2.2 "$sn1" h2 || die "cannot set h2's neighbour"
# h2 has no route back to 10.0.1.0/24: the port unreachables it would send
# for the plain case's packets go nowhere (they are rate-limited anyway).

# ethtool_set NETNS IFACE CMD VALUE: a legacy ethtool ioctl (ETHTOOL_S*),
# without needing ethtool(8).
ethtool_set() {
	ip netns exec "$1" python3 - "$2" "$3" "$4" <<-'PY'
	import ctypes, fcntl, socket, struct, sys
	val = (ctypes.c_uint32 * 2)(int(sys.argv[2], 0), int(sys.argv[3]))
	ifr = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(val)).ljust(40, b"\0")
	with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
	    fcntl.ioctl(s.fileno(), 0x8946, ifr)  # SIOCETHTOOL
	PY
}
# h2's veth receives in NAPI mode, on its own ring, as a NIC would: else
# what sn1 sends to h2 is queued (netif_rx) on the very backlog that h1's
# flood keeps full, and is dropped there.  veth takes that path for
# forwarded packets only with GRO on the receiver and TSO off on the
# sender (veth_skb_is_eligible_for_gro()).
ethtool_set "$sn1" h2 0x1f 0 || die "cannot turn TSO off on sn1's veth to h2"  # ETHTOOL_STSO
ethtool_set "$h2" sn1 0x2c 1 || die "cannot turn GRO on on h2's veth"          # ETHTOOL_SGRO

# A process parked in each namespace, so that /proc/PID/net/dev gives that
# namespace's interface counters without a fork per reading.
park() { # VAR NETNS
	ip netns exec "$2" sleep infinity &
	printf -v "$1" '%s' $!
	disown $!
}
park h1_pid "$h1"
park sn1_pid "$sn1"
park h2_pid "$h2"

ncpu=$(nproc)
sender_cpu=
fwd_cpu=
sender_pin=()
fwd_pin=()
if [ $pin = 1 ] && [ "$ncpu" -ge 2 ]; then
	sender_cpu=0
	fwd_cpu=1
	sender_pin=(taskset -c "$sender_cpu")
	fwd_pin=(taskset -c "$fwd_cpu")
	# RPS on sn1's ingress: whatever vCPU h1 sends from, sn1's receive
	# (and forwarding, and h2's receive after it) runs on vCPU 1.
	ip netns exec "$sn1" sh -c "echo 2 >/sys/class/net/h1/queues/rx-0/rps_cpus" ||
		die "cannot set RPS on sn1"
fi

# ---------------------------------------------------------------------
# Counters, read without forking, so that a reading is next to its time.

# dev_stats PID IFACE: sets dev_rx, dev_tx and dev_tx_drop (packets) of
# IFACE in PID's network namespace, and dev_t to the time of the reading
# (microseconds).
dev_stats() {
	local name rest f
	while IFS=: read -r name rest; do
		name=${name//[[:space:]]/}
		[ "$name" = "$2" ] || continue
		dev_t=${EPOCHREALTIME/./}
		read -r -a f <<<"$rest"
		dev_rx=${f[1]} dev_tx=${f[9]} dev_tx_drop=${f[11]}
		return 0
	done <"/proc/$1/net/dev"
	dev_rx=0 dev_tx=0 dev_tx_drop=0 dev_t=${EPOCHREALTIME/./}
	return 1
}

# cpu_sample ARRAY: "user nice system idle iowait irq softirq steal" of each
# cpuN line of /proc/stat.
cpu_sample() {
	local -n out=$1
	local line
	out=()
	while read -r line; do
		[[ $line == cpu[0-9]* ]] && out+=("$line")
	done </proc/stat
}

# softnet_drops: packets dropped because a CPU's backlog was full.
softnet_drops() {
	local f sum=0
	while read -r -a f; do
		sum=$((sum + 16#${f[1]}))
	done </proc/net/softnet_stat
	softnet=$sum
}

# cpu_report BEFORE AFTER: one line per vCPU, how its time went.
cpu_report() {
	local -n a=$1 b=$2
	local i x y tot us sy si id report=
	for i in "${!a[@]}"; do
		read -r -a x <<<"${a[$i]}"
		read -r -a y <<<"${b[$i]}"
		# user+nice, system, irq+softirq, idle+iowait
		us=$((y[1] + y[2] - x[1] - x[2]))
		sy=$((y[3] - x[3]))
		si=$((y[6] + y[7] - x[6] - x[7]))
		id=$((y[4] + y[5] - x[4] - x[5]))
		tot=$((us + sy + si + id + y[8] - x[8]))
		[ $tot -gt 0 ] || tot=1
		report+=$(printf '  %s usr %3d%% sys %3d%% sirq %3d%% idle %3d%%' "${x[0]}" \
			$((100 * us / tot)) $((100 * sy / tot)) $((100 * si / tot)) $((100 * id / tot)))
	done
	echo "$report"
}

# rate COUNT_DELTA MICROSECONDS
rate() { echo $(($1 * 1000000 / $2)); }

declare -A h2_rate sent_rate wire_rate cpu_line
order=()

# measure NAME DESC COMMAND...: runs COMMAND (the sender, in h1) for warm-up
# + window + a margin, and counts what reaches h2's veth during the window.
measure() {
	local name=$1 desc=$2 t0 t1 u0 u1 rx0 tx0 rx1 tx1 fw0 fw1 fd0 fd1 sn0 sn1d us
	# shellcheck disable=SC2034 # c0 and c1 are read through namerefs
	local -a c0 c1
	shift 2
	[[ $name == *@* ]] || order+=("$name")
	local total
	total=$(awk -v w="$warmup" -v d="$duration" 'BEGIN { print w + d + 0.5 }')
	ip netns exec "$h1" "${sender_pin[@]}" "$BLAST" --seconds "$total" \
		--size "$size" "$@" >"$tmp/$name.sender" 2>&1 &
	local s_pid=$!
	sleep "$warmup"
	cpu_sample c0
	softnet_drops; sn0=$softnet
	dev_stats "$h2_pid" sn1; rx0=$dev_rx t0=$dev_t
	dev_stats "$h1_pid" sn1; tx0=$dev_tx u0=$dev_t
	dev_stats "$sn1_pid" h2; fw0=$dev_tx fd0=$dev_tx_drop
	sleep "$duration"
	dev_stats "$h2_pid" sn1; rx1=$dev_rx t1=$dev_t
	dev_stats "$h1_pid" sn1; tx1=$dev_tx u1=$dev_t
	dev_stats "$sn1_pid" h2; fw1=$dev_tx fd1=$dev_tx_drop
	cpu_sample c1
	softnet_drops; sn1d=$softnet
	wait "$s_pid"
	local rc=$?
	us=$((t1 - t0))
	h2_rate[$name]=$(rate $((rx1 - rx0)) $us)
	wire_rate[$name]=$(rate $((tx1 - tx0)) $((u1 - u0)))
	local sent
	sent=$(sed -n 's/^sent [0-9]* packets in [0-9.]* s (\([0-9]*\) packets\/s)$/\1/p' "$tmp/$name.sender")
	if [ $rc != 0 ] || [ -z "$sent" ]; then
		echo "forward_bench: the sender of $name failed:" >&2
		cat "$tmp/$name.sender" >&2
		sent=0
	fi
	sent_rate[$name]=$sent
	cpu_line[$name]=$(cpu_report c0 c1)
	echo "== $name: $desc"
	sed 's/^/   sender: /' "$tmp/$name.sender"
	echo "   window $((us / 1000)) ms: h1 put $((tx1 - tx0)) on the wire" \
		"(backlog drops $((sn1d - sn0))), sn1 sent $((fw1 - fw0)) to h2" \
		"(dropped $((fd1 - fd0)) on the way), h2 received $((rx1 - rx0))"
	echo "   vCPUs:${cpu_line[$name]}"
}

# paced NAME DESC START COMMAND...: the rate the path sustains, not its
# goodput under a flood: measures with COMMAND --rate R, R from START
# doubling until less than 95% of R arrives, then halving the interval
# between the last rate that passed and the first that failed down to an
# eighth; each probe's window is probe_window.  Records as NAME the most
# that arrived, with the rate offered for it as the sender's.
paced() {
	local name=$1 desc=$2 r=$3 lo=0 hi=0 best=0 at=0 d i
	local save_d=$duration save_w=$warmup
	shift 3
	duration=$probe_window warmup=0.5
	for ((i = 0; i < 10; i++)); do
		measure "$name@$r" "$desc, paced at $r packets/s" "$@" --rate "$r"
		[ -n "$probe_hook" ] && $probe_hook
		d=${h2_rate[$name@$r]}
		if [ "$d" -gt "$best" ]; then best=$d at=$r; fi
		if [ $((d * 100)) -ge $((r * 95)) ]; then lo=$r; else hi=$r; fi
		if [ "$hi" = 0 ]; then
			r=$((r * 2))
		elif [ $((hi - lo)) -le $((hi / 8)) ]; then
			break
		else
			r=$(((lo + hi) / 2))
		fi
	done
	duration=$save_d warmup=$save_w
	order+=("$name")
	h2_rate[$name]=$best
	sent_rate[$name]=${sent_rate[$name@$at]:-0}
	wire_rate[$name]=${wire_rate[$name@$at]:-0}
	echo "== $name: $desc: at most $best packets/s arrived (offered $at/s)"
}
probe_hook=

ctl() { "$ILPCTL" -n "$sn1" "$@"; }
ilp_probe_counters() { echo "   sn1 ilp: $(ilp_counters)"; ctl stats reset; }
ilp_counters() {
	ctl -j stats | json '"hit %d missed %d lost %d tx %d drops %s" % (d["cache"]["hit"], d["cache"]["missed"], d["cache"]["lost"], d["tx"]["packets"], {k: v for k, v in d["drops"].items() if v} or "none")'
}

echo "forward_bench: kernel $(uname -r), $ncpu vCPUs, window ${duration}s after ${warmup}s warm-up," \
	"payload ${size} B"
echo "forward_bench: vCPU crypto features:" \
	"$(grep -m1 '^flags' /proc/cpuinfo | grep -owE 'aes|pclmulqdq|avx|avx2|vaes|vpclmulqdq|avx512f|avx512vl|sha_ni' | tr '\n' ' ')"
if [ -n "$sender_cpu" ]; then
	echo "forward_bench: sender pinned to vCPU $sender_cpu, sn1's receive steered to vCPU $fwd_cpu (RPS)"
else
	echo "forward_bench: no pinning"
fi
echo

# ---------------------------------------------------------------------
# a. Plain IP forwarding.
if want plain; then
	measure plain "plain IP forwarding, UDP h1 -> h2:9" --to 10.0.2.1:9
fi

# ---------------------------------------------------------------------
# b. WireGuard relay: h1 wg0 (10.10.1.1) = sn1 wg-h1 (10.10.1.2),
#    sn1 wg-h2 (10.10.2.2) = h2 wg0 (10.10.2.1).
if want wg; then
	for k in h1 sn1a sn1b h2; do
		(umask 077; wg genkey >"$tmp/$k.wgkey")
		wg pubkey <"$tmp/$k.wgkey" >"$tmp/$k.wgpub"
	done
	wgdev() { # NETNS DEV ADDR KEY PORT PEER-PUB ALLOWED [ENDPOINT]
		ip -n "$1" link add "$2" type wireguard || return 1
		ip netns exec "$1" wg set "$2" private-key "$tmp/$4.wgkey" listen-port "$5" \
			peer "$(cat "$tmp/$6.wgpub")" allowed-ips "$7" ${8:+endpoint "$8"} || return 1
		ip -n "$1" addr add "$3" dev "$2" && ip -n "$1" link set "$2" up
	}
	wgdev "$h1" wg0 10.10.1.1/24 h1 51820 sn1a 10.10.0.0/16 10.0.1.2:51820 ||
		die "cannot set up h1's wg0"
	wgdev "$sn1" wg-h1 10.10.1.2/24 sn1a 51820 h1 10.10.1.0/24 || die "cannot set up sn1's wg-h1"
	wgdev "$sn1" wg-h2 10.10.2.2/24 sn1b 51821 h2 10.10.2.0/24 10.0.2.1:51820 ||
		die "cannot set up sn1's wg-h2"
	wgdev "$h2" wg0 10.10.2.1/24 h2 51820 sn1b 10.10.0.0/16 || die "cannot set up h2's wg0"
	ip -n "$h1" route add 10.10.0.0/16 dev wg0
	echo "forward_bench: WireGuard's crypto modules:" \
		"$(grep -oE '^(chacha_x86_64|poly1305_x86_64|libchacha20poly1305|chacha20poly1305)' /proc/modules | tr '\n' ' ')"
	ip -n "$h2" route add 10.10.0.0/16 dev wg0
	# Both handshakes done before the clock starts.
	busywait 20000 ip netns exec "$h1" ping -c 1 -W 2 -q 10.10.2.1 >/dev/null ||
		die "no ping through the WireGuard relay"
	ip netns exec "$h2" cat /sys/class/net/wg0/statistics/rx_packets >"$tmp/wg.rx0"
	measure wg "WireGuard relay, UDP h1 -> 10.10.2.1:9 over h1=sn1=h2" --to 10.10.2.1:9
	echo "   h2's wg0 decrypted $(($(ip netns exec "$h2" cat /sys/class/net/wg0/statistics/rx_packets) - $(cat "$tmp/wg.rx0")))" \
		"in the whole run"
	ip -n "$h1" link del wg0
	ip -n "$sn1" link del wg-h1
	ip -n "$sn1" link del wg-h2
	ip -n "$h2" link del wg0
fi

# ---------------------------------------------------------------------
# c, d. ILP: sn1 has an instance, a master key, a receive SA for h1, and h2
# as a peer with a transmit SA (h2 holds its own master keys; it runs no
# ILP: its veth counts the packets, its UDP port 1000 has no socket).
if want ilp-hit || want ilp-hit-paced || want ilp-miss || want ilp-miss-paced; then
	newkey() { printf 'key0 = %s\n' "$(head -c 32 /dev/urandom | xxd -p -c 64)" >"$1"; }
	newkey "$tmp/sn1.keys"
	newkey "$tmp/h2.keys"
	ctl instance add || die "cannot add sn1's ILP instance"
	ctl key set 0 "$tmp/sn1.keys" active || die "cannot set sn1's master key"
	sa=$(ctl -j sa alloc peer 10.0.1.1 version 0) || die "cannot allocate an SA"
	spi=$(json 'd["spi"]' <<<"$sa")
	json 'd["key"]' <<<"$sa" >"$tmp/h1.key"
	"$HELPERS/ilp_send" --derive-key --master-keys "$tmp/h2.keys" --spi 1 --version 0 \
		>"$tmp/to-h2.key" || die "cannot derive h2's key"
	ctl peer add 10.0.2.1 spi 1 version 0 keyfile "$tmp/to-h2.key" || die "cannot add peer h2"
	ilp_to=(--to 10.0.1.2:1000 --spi "$spi" --version 0 --keyfile "$tmp/h1.key")
	# The AES-GCM driver the module's SAs use, as it reports it.
	echo "forward_bench: AES-GCM for ILP: $(ctl -j key show | jq -r '.aead_driver // "unknown"')"
fi

if want ilp-hit || want ilp-hit-paced; then
	ctl cache add 10.0.1.1 service 1 conn 7 forward 10.0.2.1 || die "cannot add the cache entry"
	ctl stats reset
	if want ilp-hit; then
		measure ilp-hit "ILP cache hit, conn 7 h1 -> sn1 -> h2:1000" "${ilp_to[@]}" --conn 7
		echo "   sn1 ilp (whole run): $(ilp_counters)"
	fi
	if want ilp-hit-paced; then
		ctl stats reset
		probe_hook=ilp_probe_counters
		paced ilp-hit-paced "ILP cache hit" 5000 "${ilp_to[@]}" --conn 7
		probe_hook=
	fi
	ctl cache flush
fi

if want ilp-miss || want ilp-miss-paced; then
	ctl cache flush
	# A 4 MiB receive buffer, as a daemon would ask for: the paced case
	# measures what the listener can handle, not how long it may stall
	# (the default, rmem_default, holds a few hundred upcalls at most).
	# A fresh listener for each case and each probe: a slow one leaves a
	# full buffer, which would carry over into what comes next.
	listener_start() { # OUT
		ip netns exec "$sn1" "${fwd_pin[@]}" "$HELPERS/ilp_listener" \
			--forward 10.0.2.1 --rcvbuf 4194304 --quiet >"$1" 2>&1 &
		l_pid=$!
		busywait 10000 grep -q listening "$1" || die "the listener did not start"
	}
	listener_stop() { # OUT
		kill -TERM "$l_pid"
		wait "$l_pid"
		echo "   listener: $(grep -v listening "$1" | tr '\n' ' ')"
	}
	if want ilp-miss; then
		listener_start "$tmp/listener.out"
		ctl stats reset
		measure ilp-miss "ILP miss, 4096 connections, upcall to ilp_listener --forward" \
			"${ilp_to[@]}" --conn 100000 --conn-range 4096
		echo "   sn1 ilp (whole run): $(ilp_counters)"
		listener_stop "$tmp/listener.out"
	fi
	if want ilp-miss-paced; then
		listener_start "$tmp/listener-paced.out"
		ctl stats reset
		miss_probe_hook() {
			ilp_probe_counters
			listener_stop "$tmp/listener-paced.out"
			listener_start "$tmp/listener-paced.out"
		}
		probe_hook=miss_probe_hook
		paced ilp-miss-paced "ILP miss" 1000 "${ilp_to[@]}" --conn 100000 --conn-range 4096
		probe_hook=
		kill -TERM "$l_pid"
		wait "$l_pid"
	fi
fi

# ---------------------------------------------------------------------
echo
printf '%-34s %12s %12s %12s %9s\n' "case" "h2 pkt/s" "sent pkt/s" "h1 wire/s" "vs plain"
for name in "${order[@]}"; do
	vs=n/a
	if [ -n "${h2_rate[plain]:-}" ] && [ "${h2_rate[plain]}" -gt 0 ]; then
		vs=$(awk -v a="${h2_rate[$name]}" -v b="${h2_rate[plain]}" 'BEGIN { printf "%.2fx", a / b }')
	fi
	case $name in
	plain) label="plain IP forwarding" ;;
	wg) label="WireGuard relay" ;;
	ilp-hit) label="ILP cache hit" ;;
	ilp-hit-paced) label="ILP cache hit, paced" ;;
	ilp-miss) label="ILP miss (upcall, listener)" ;;
	ilp-miss-paced) label="ILP miss, paced" ;;
	esac
	printf '%-34s %12s %12s %12s %9s\n' "$label" "${h2_rate[$name]}" "${sent_rate[$name]}" \
		"${wire_rate[$name]}" "$vs"
done
if [ -n "${h2_rate[wg]:-}" ] && [ "${h2_rate[wg]}" -gt 0 ]; then
	for name in ilp-hit ilp-hit-paced; do
		[ -n "${h2_rate[$name]:-}" ] || continue
		awk -v a="${h2_rate[$name]}" -v b="${h2_rate[wg]}" -v p="${name#ilp-hit}" \
			'BEGIN { printf "ILP cache-hit%s / WireGuard relay: %.2fx\n", p ? " (paced)" : "", a / b }'
	done
fi
echo "(h2 pkt/s: arrivals on h2's veth in the window; sent pkt/s: ilp_blast's rate over its"
echo " run, the offered rate of the best probe for paced cases; h1 wire/s: what h1's veth"
echo " delivered into sn1's backlog in the window, after h1's WireGuard for wg)"

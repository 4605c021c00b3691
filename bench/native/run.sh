#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The native benchmark: a real ilpd on its userspace datapath (sn1), on
# this machine, no VM.  One generator replays pre-sealed ILP packets with
# 200-byte payloads (ilp_blast); ilpd runs with one receive thread, pinned
# to one core; the generator and the sink share the other.  Everything is
# on loopback, each role on an address of its own (bench/README.md says
# why).  The cases:
#
#   udp-fwd      baseline: udp_forward, ilpd's socket and batching without
#                ILP, forwards plain UDP datagrams of the sealed packets'
#                size to the sink
#   ilp-hit      the cache-hit path: the relay service (next-hop = the sink)
#                decides the flow's first packet and installs the decision;
#                every later packet is a hit, opened, looked up, re-sealed
#                for the sink
#   udp-echo     baseline: udp_forward returns each datagram to its sender
#   ilp-svc      the service path: the null service (install=no) returns
#                every packet to its sender, each one a miss that goes
#                through the service's queue and worker
#   cache        the decision cache's hit alone (dcache_bench), CPU per
#                lookup from 1 and 2 threads, with and without a writer:
#                ilpd's cache (RCU, no lock) against the one with a
#                reader-writer lock that it replaced (dcache_rwlock_bench)
#
# It prints, per case, what each core and ilpd's threads did during the
# window, then a table (packets/s that arrived, the sender's rate, the
# ratio to the case's baseline, the paper's figure) and what bounds ours.
#
# usage: run.sh [-b BUILD] [-d SECONDS] [-w SECONDS] [-s BYTES] [-c CASES]
#               [-g CPU] [-f CPU] [-P] [--smoke]
#   -b  the build directory (default $ILP_BUILD_DIR, else build/)
#   -d  measuring window per case (default 5)
#   -w  warm-up before the window (default 1)
#   -s  ILP payload after the ILP header (default 200)
#   -c  the cases, comma-separated (default udp-fwd,ilp-hit,udp-echo,ilp-svc,cache)
#   -g  the CPU of the generator and sink (default 0)
#   -f  the CPU of ilpd and of the baseline forwarder (default 1)
#   -P  do not pin
#   --smoke  a few hundred packets per case, paced, unpinned, and a check
#       that at least 99% of them arrived (exit 1 otherwise): for CTest, so
#       that this script keeps working; no figure it prints means anything
#
# Not a test: the numbers depend on the machine and its load.
set -eu
umask 022

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${ILP_BUILD_DIR:-$top/build}
duration=5
warmup=1
size=200
cases=udp-fwd,ilp-hit,udp-echo,ilp-svc,cache
gen_cpu=0
fwd_cpu=1
pin=1
smoke=0
args=()
for a in "$@"; do
	if [ "$a" = --smoke ]; then smoke=1; else args+=("$a"); fi
done
set -- ${args[@]+"${args[@]}"}
while getopts "b:d:w:s:c:g:f:Ph" opt; do
	case $opt in
	b) build=$OPTARG ;;
	d) duration=$OPTARG ;;
	w) warmup=$OPTARG ;;
	s) size=$OPTARG ;;
	c) cases=$OPTARG ;;
	g) gen_cpu=$OPTARG ;;
	f) fwd_cpu=$OPTARG ;;
	P) pin=0 ;;
	h) sed -n '/^# usage/,/^#$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) exit 2 ;;
	esac
done

die() { echo "run.sh: $*" >&2; exit 1; }

ilpd=$build/daemon/ilpd
ilpctl=$build/cli/ilpctl
blast=$build/bench/ilp_blast
forward=$build/bench/udp_forward
dcache_rcu=$build/bench/dcache_bench
dcache_rwlock=$build/bench/dcache_rwlock_bench
ilp_send=$build/selftests/ilp/ilp_send
null_so=$build/services/null/null.so
relay_so=$build/services/relay/relay.so
for f in "$ilpd" "$ilpctl" "$blast" "$forward" "$ilp_send" "$dcache_rcu" "$dcache_rwlock"; do
	[ -x "$f" ] || die "$f not built (cmake --build $build --target bench)"
done
for f in "$null_so" "$relay_so"; do
	[ -f "$f" ] || die "$f not built (cmake --build $build --target bench)"
done
for c in ${cases//,/ }; do
	case $c in
	udp-fwd | ilp-hit | udp-echo | ilp-svc | cache) ;;
	*) die "unknown case '$c' (udp-fwd, ilp-hit, udp-echo, ilp-svc, cache)" ;;
	esac
done
want() { [[ ,$cases, == *,$1,* ]]; }

# Paced and short in smoke mode: what is checked is that packets arrive.
blast_timing=(--seconds "$duration" --warmup "$warmup")
if [ $smoke = 1 ]; then
	pin=0
	blast_timing=(--seconds 0.3 --warmup 0 --rate 1000 --linger 1)
fi
if [ $pin = 1 ]; then
	command -v taskset >/dev/null || die "taskset (util-linux) is needed, or -P"
	cpus=$(nproc)
	[ "$cpus" -ge 2 ] || die "$cpus CPU: pinning needs 2 (or -P)"
	[ "$gen_cpu" != "$fwd_cpu" ] || die "-g and -f name the same CPU"
fi
# Runs a program on a CPU, as the process itself: only ever called as
# "on_cpu CPU PROGRAM... &", so that $! is the program's PID (exec) and not
# that of a subshell, which a kill would leave the program behind.
on_cpu() {
	local cpu=$1
	shift
	if [ $pin = 1 ]; then exec taskset -c "$cpu" "$@"; else exec "$@"; fi
}

dir=$(mktemp -d)
fpid=
cleanup() {
	if [ -n "$fpid" ]; then
		kill "$fpid" 2>/dev/null || true
		wait "$fpid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"
mkdir -m 755 "$dir/plugins" "$dir/run" "$dir/state"
cp "$null_so" "$relay_so" "$dir/plugins/"

# The forwarder (ilpd, udp_forward) at 127.0.0.1, bound to every address
# as ilpd binds; the generator at 127.0.0.2 and the sink at 127.0.0.3:
# distinct addresses, as the relay tells its next hop by address.
read -r port gport sport < <(python3 -c '
import socket
held = []
for _ in range(3):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 0))
    held.append(s)
print(*(s.getsockname()[1] for s in held))
')
gen=127.0.0.2 sink=127.0.0.3

# Keys: ilpd's master key, the SA the generator seals with (derived from
# it, as "ilpctl sa alloc" on ilpd's node would give it), and transmit SAs
# for the generator and the sink, which never open what they get.
hex32() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
printf 'key0 = %s\n' "$(hex32 32)" >"$dir/sn1.keys"
"$ilp_send" --derive-key --master-keys "$dir/sn1.keys" --spi 1 --version 0 >"$dir/in.key"
hex32 16 >"$dir/gen.key"
hex32 16 >"$dir/sink.key"
sealed=$((16 + 16 + size + 16)) # PSP header, ILP header, payload, ICV

start_ilpd() {
	on_cpu "$fwd_cpu" "$ilpd" --config /dev/null --role sn --datapath user \
		--handler-threads 1 --log-level info --port "$port" \
		--master-keys "$dir/sn1.keys" --plugin-dir "$dir/plugins" \
		--run-dir "$dir/run" --state-dir "$dir/state" \
		--peer "$gen:$gport spi 0x2 version 0 keyfile $dir/gen.key" \
		--peer "$sink:$sport spi 0x3 version 0 keyfile $dir/sink.key" \
		--service-config "relay next-hop=$sink:$sport" \
		--service-config "null install=no" 2>"$dir/ilpd.log" &
	fpid=$!
	for _ in $(seq 200); do
		grep -q "started: role" "$dir/ilpd.log" && return 0
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$dir/ilpd.log" >&2
	die "ilpd did not start"
}
start_forward() {
	on_cpu "$fwd_cpu" "$forward" --port "$port" "$@" 2>"$dir/forward.log" &
	fpid=$!
	# Bound once the port is taken (ss is not everywhere; /proc is).
	local hexport
	hexport=$(printf '%04X' "$port")
	for _ in $(seq 200); do
		grep -q ":$hexport " /proc/net/udp6 && return 0
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$dir/forward.log" >&2
	die "udp_forward did not start"
}
stop_forwarder() {
	kill -TERM "$fpid" 2>/dev/null || true
	wait "$fpid" 2>/dev/null || true
	fpid=
}

# Snapshots for the window: jiffies of both CPUs (user, system, irq and
# softirq, idle), of each thread of the forwarder (user, system), and of
# the forwarder CPU's ksoftirqd, which takes over the softirq work of the
# loopback deliveries the forwarder's sends cause when there is too much
# of it to do on the way out of the send.
ksoftirqd=$(pgrep -x "ksoftirqd/$fwd_cpu" || true)
task_times() { # TID-or-PID STAT-FILE: "ID utime stime", past the last ')'
	sed 's/^.*) //' "$2" 2>/dev/null | awk -v id="$1" '{ print id, $12, $13 }' || true
}
snapshot() {
	local out=$1 t
	# First, as the counters below are read at once after it; ilpd's is
	# timed on its own.
	date +%s.%N >"$out.time"
	awk -v g="cpu$gen_cpu" -v f="cpu$fwd_cpu" \
		'$1 == g || $1 == f { print $1, $2 + $3, $4, $7 + $8, $5 + $6 + $9 }' \
		/proc/stat >"$out.cpu"
	: >"$out.threads"
	for t in /proc/"$fpid"/task/*; do
		task_times "${t##*/}" "$t/stat" >>"$out.threads"
	done
	if [ -n "$ksoftirqd" ]; then
		task_times ksoftirqd "/proc/$ksoftirqd/stat" >>"$out.threads"
	fi
	# Datagrams dropped at full socket receive buffers, machine-wide
	# (IPv4 and IPv6 counters): where a flood goes that a reader does not
	# keep up with.
	{
		awk '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) col[i] = $i; h = 1 }
			else for (i = 2; i <= NF; i++) if (col[i] == "RcvbufErrors") n += $i }
			END { print n + 0 }' /proc/net/snmp
		awk '$1 == "Udp6RcvbufErrors" { print $2 }' /proc/net/snmp6 2>/dev/null
	} | awk '{ n += $1 } END { print n }' >"$out.rcvbuf"
}

hz=$(getconf CLK_TCK)
ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
pct() { awk -v x="${1:-0}" 'BEGIN { printf "%.0f%%", 100 * x }'; }
declare -A arrived offered cost core_rate share others busy_f detail rcvbuf
rmem_max=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo "?")
window() { awk -v a="$(cat "$1.a.time")" -v b="$(cat "$1.b.time")" 'BEGIN { print b - a }'; }

# What the CPUs and the forwarder's threads did in the window; sets
# busy_f (the forwarder CPU's busy fraction), share (what the forwarder's
# threads and ksoftirqd took of it), others (the rest: other processes),
# cost (microseconds of CPU per packet that arrived), core_rate (1 s of
# CPU over cost) and detail (cost in user and kernel time).  Tick-based
# accounting (the common kernel configuration) charges the softirq work
# done on the way out of a send to the sending thread, so it is counted
# once: in the thread, or in ksoftirqd.
analyze() {
	local name=$1 who=$2 secs out
	secs=$(window "$dir/$name")
	out=$(awk -v hz="$hz" -v s="$secs" -v f="cpu$fwd_cpu" -v who="$who" \
		-v got="${arrived[$name]:-0}" '
		FILENAME ~ /a\.cpu$/ { u[$1] = $2; sy[$1] = $3; si[$1] = $4; id[$1] = $5; next }
		FILENAME ~ /b\.cpu$/ {
			du = $2 - u[$1]; ds = $3 - sy[$1]; dq = $4 - si[$1]; di = $5 - id[$1]
			tot = du + ds + dq + di
			if (tot <= 0) next
			if ($1 == f) fbusy = 1 - di / tot
			printf "   %s (%s): busy %.0f%% (user %.0f%%, system %.0f%%, irq+softirq %.0f%%)\n",
				$1, ($1 == f ? who : "generator and sink"), 100 * (tot - di) / tot,
				100 * du / tot, 100 * ds / tot, 100 * dq / tot
			next
		}
		FILENAME ~ /a\.threads$/ { tu[$1] = $2; ts[$1] = $3; next }
		($1 in tu) {
			du = ($2 - tu[$1]) / hz / s; ds = ($3 - ts[$1]) / hz / s
			user += du; sys += ds
			if (du + ds > 0.01)
				printf "   %s: %.0f%% of a CPU (user %.0f%%, system %.0f%%)\n",
					($1 == "ksoftirqd" ? "ksoftirqd/" substr(f, 4) : who " thread " $1),
					100 * (du + ds), 100 * du, 100 * ds
		}
		END {
			mine = user + sys
			other = fbusy - mine; if (other < 0) other = 0
			us = got > 0 ? 1e6 * mine / got : 0
			printf "STATS %.3f %.3f %.3f %.2f %.0f user_%.2f_us,_kernel_%.2f_us\n",
				fbusy, mine, other, us, (us > 0 ? 1e6 / us : 0),
				(got > 0 ? 1e6 * user / got : 0), (got > 0 ? 1e6 * sys / got : 0)
		}' "$dir/$name.a.cpu" "$dir/$name.b.cpu" "$dir/$name.a.threads" "$dir/$name.b.threads")
	grep -v '^STATS ' <<<"$out"
	read -r _ "busy_f[$name]" "share[$name]" "others[$name]" "cost[$name]" \
		"core_rate[$name]" "detail[$name]" < <(grep '^STATS ' <<<"$out")
	printf '   %s: %.0f%% of CPU %s (threads and ksoftirqd), other processes %.0f%%;' \
		"$who" "$(awk -v x="${share[$name]}" 'BEGIN { print 100 * x }')" "$fwd_cpu" \
		"$(awk -v x="${others[$name]}" 'BEGIN { print 100 * x }')"
	printf ' %s us of CPU per packet (%s), %s packets/s per CPU-second\n' \
		"${cost[$name]}" "${detail[$name]//_/ }" "${core_rate[$name]}"
	rcvbuf[$name]=$(($(cat "$dir/$name.b.rcvbuf") - $(cat "$dir/$name.a.rcvbuf")))
	echo "   dropped at full UDP receive buffers (machine-wide): ${rcvbuf[$name]}"
}

# Where the packets of the whole run went, for ilpd's cases: sent, taken
# from ilpd's socket (its cache's hits and misses, from ilpctl once the
# generator is done), arrived; sets lost_in and lost_out (fractions of
# what was sent lost before ilpd and after it).
declare -A lost_in lost_out
report_losses() {
	local name=$1 json sent got took_n
	read -r _ _ sent _ got < <(grep '^total sent' "$dir/$name.out") || return 0
	json=$("$ilpctl" -S "$dir/run/ilpd.sock" -j daemon status 2>/dev/null) || return 0
	took_n=$(python3 -c '
import json, sys
c = json.loads(sys.argv[1]).get("cache") or {}
print(c.get("hit", 0) + c.get("missed", 0))' "$json") || return 0
	[ "$sent" -gt 0 ] || return 0
	lost_in[$name]=$(awk -v s="$sent" -v t="$took_n" 'BEGIN { printf "%.3f", (s - t) / s }')
	lost_out[$name]=$(awk -v s="$sent" -v t="$took_n" -v g="$got" 'BEGIN { printf "%.3f", (t - g) / s }')
	echo "   whole run: $sent sent, $took_n taken by ilpd from its socket ($(pct "${lost_in[$name]}")" \
		"of those sent lost before), $got arrived ($(pct "${lost_out[$name]}") lost after ilpd" \
		"took them, at a service's queue or on the way)"
}

# What ilpd's service did (from ilpctl); sets svc_packets and svc_full.
declare -A svc_packets svc_full
report_service() {
	local name=$1 svc=$2 json line
	json=$("$ilpctl" -S "$dir/run/ilpd.sock" -j service list 2>/dev/null) || return 0
	line=$(python3 -c '
import json, sys
for s in json.loads(sys.argv[1]):
    if s["name"] == sys.argv[2]:
        print(s["packets"], s["queue_full"], s["installed"])
' "$json" "$svc") || return 0
	read -r "svc_packets[$name]" "svc_full[$name]" installed <<<"$line"
	echo "   service $svc: ${svc_packets[$name]} packets handled," \
		"${svc_full[$name]} dropped at its full queue, $installed installed (whole run)"
}

# run_case NAME DESCRIPTION FORWARDER SERVICE BLAST-ARGS...
run_case() {
	local name=$1 desc=$2 fwd=$3 svc=$4
	shift 4
	case $fwd in
	ilpd) start_ilpd ;;
	forward) start_forward --to "$sink:$sport" ;;
	echo) start_forward --echo ;;
	esac
	on_cpu "$gen_cpu" "$blast" --to "127.0.0.1:$port" --from "$gen" --src-port "$gport" \
		"${blast_timing[@]}" "$@" >"$dir/$name.out" 2>&1 &
	local bpid=$!
	if [ $smoke = 0 ]; then
		# The window, a little inside the generator's.
		sleep "$(awk -v w="$warmup" 'BEGIN { print w + 0.1 }')"
		snapshot "$dir/$name.a"
		sleep "$(awk -v d="$duration" 'BEGIN { print d - 0.2 }')"
		snapshot "$dir/$name.b"
	fi
	if ! wait $bpid; then
		cat "$dir/$name.out" >&2
		die "$name: ilp_blast failed"
	fi
	local who=ilpd
	[ "$fwd" = ilpd ] || who=udp_forward
	offered[$name]=$(sed -n 's/^sent [0-9]* packets in [0-9.]* s (\([0-9]*\) packets\/s)$/\1/p' "$dir/$name.out")
	arrived[$name]=$(sed -n 's/^received [0-9]* packets in [0-9.]* s (\([0-9]*\) packets\/s)$/\1/p' "$dir/$name.out")
	echo "== $name: $desc"
	sed 's/^/   /' "$dir/$name.out"
	[ $smoke = 1 ] || analyze "$name" "$who"
	[ $smoke = 1 ] || [ "$fwd" != ilpd ] || report_losses "$name"
	[ -z "$svc" ] || report_service "$name" "$svc"
	stop_forwarder
	local sent got
	sent=$(sed -n 's/^sent \([0-9]*\) packets.*/\1/p' "$dir/$name.out")
	got=$(sed -n 's/^received \([0-9]*\) packets.*/\1/p' "$dir/$name.out")
	if [ $smoke = 1 ] && [ $((got * 100)) -lt $((sent * 99)) ]; then
		[ "$fwd" != ilpd ] || cat "$dir/ilpd.log" >&2
		die "$name: $got of $sent packets arrived"
	fi
}

ilp_args=(--spi 1 --version 0 --keyfile "$dir/in.key" --size "$size" --conn 1)
echo "ILP native benchmark: userspace datapath, $size-byte payloads ($sealed-byte" \
	"datagrams), loopback; $(nproc) CPUs: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
if [ $pin = 1 ]; then
	echo "ilpd and the baseline forwarder on CPU $fwd_cpu, generator and sink on CPU $gen_cpu"
fi
want udp-fwd && run_case udp-fwd "userspace UDP forwarder (baseline of the hit path)" \
	forward "" --size "$sealed" --sink "$sink:$sport"
want ilp-hit && run_case ilp-hit "ILP cache hit: relay decides the first packets" \
	ilpd relay "${ilp_args[@]}" --service 8 --sink "$sink:$sport"
want udp-echo && run_case udp-echo "userspace UDP echo (baseline of the service path)" \
	echo "" --size "$sealed" --replies
want ilp-svc && run_case ilp-svc "ILP service path: null returns every packet (install=no)" \
	ilpd null "${ilp_args[@]}" --service 7 --replies

# The cache's hit alone, both implementations, one after the other for
# each setting: 1 s each (0.05 s in smoke mode), unpinned (the threads are
# the point), the writer installing or removing an entry no lookup hits
# every 20 us.  Sets cache_ns[rcu|rwlock,THREADS,WRITER].
declare -A cache_ns
cache_secs=1
[ $smoke = 0 ] || cache_secs=0.05
if want cache; then
	echo "== cache: the decision cache's hit alone (dcache_bench), ilpd's against the" \
		"reader-writer lock it replaced"
	for threads in 1 2; do
		for writer in 0 20; do
			for impl in rcu rwlock; do
				bin=$dcache_rcu
				[ $impl = rcu ] || bin=$dcache_rwlock
				line=$("$bin" --threads $threads --writer-us $writer \
					--seconds $cache_secs) || die "cache: $bin failed"
				echo "   $impl: $line"
				cache_ns[$impl,$threads,$writer]=$(sed -n 's/.* ns_per_hit=\([0-9.]*\).*/\1/p' <<<"$line")
			done
		done
	done
fi

[ $smoke = 0 ] || { echo "smoke: every case delivered its packets"; exit 0; }

echo
echo "pkt/s: what arrived; CPU: the forwarder's share of its CPU in the window;"
echo "per CPU-s: packets/s per second of CPU the forwarder used (arrived / CPU)"
printf '%-34s %8s %8s %5s %9s %15s %15s   %s\n' case "pkt/s" "sent/s" CPU "per CPU-s" \
	"vs base, pkt/s" "vs base, CPU-s" "paper (AMD EPYC 7B12)"
row() {
	local name=$1 desc=$2 base=$3 paper=$4 vs=1.00x vs_cpu=1.00x
	want "$name" || return 0
	if [ -n "$base" ]; then
		vs=$(ratio "${arrived[$name]}" "${arrived[$base]:-}")
		vs_cpu=$(ratio "${core_rate[$name]}" "${core_rate[$base]:-}")
	fi
	printf '%-34s %8s %8s %5s %9s %15s %15s   %s\n' "$desc" "${arrived[$name]}" \
		"${offered[$name]}" "$(pct "${share[$name]}")" "${core_rate[$name]}" "$vs" "$vs_cpu" \
		"$paper"
}
row udp-fwd "UDP forward (baseline)" "" ""
row ilp-hit "ILP cache hit, 1 CPU" udp-fwd "377k (no service, 1 core)"
row udp-echo "UDP echo (baseline)" "" ""
row ilp-svc "ILP service path (null), 1 CPU" udp-echo "120k (null service, 2 cores)"
want ilp-hit && echo "ILP cache hit / paper: $(ratio "${arrived[ilp-hit]}" 377000)," \
	"per CPU-second $(ratio "${core_rate[ilp-hit]}" 377000)"
want ilp-svc && echo "ILP service path / paper: $(ratio "${arrived[ilp-svc]}" 120000)," \
	"per CPU-second $(ratio "${core_rate[ilp-svc]}" 60000) of the paper's per core (120k on 2 cores)"

if want cache; then
	echo
	echo "The cache hit alone: ns of CPU per lookup that hit, per lookup thread (each"
	echo "on flows of its own); the writer installs or removes other entries every 20 us"
	printf '%-16s %-16s %14s %16s %12s\n' "lookup threads" writer "lock-free (RCU)" \
		"rwlock (before)" "rwlock / RCU"
	for threads in 1 2; do
		for writer in 0 20; do
			printf '%-16s %-16s %14s %16s %12s\n' "$threads" \
				"$([ $writer = 0 ] && echo none || echo "every $writer us")" \
				"${cache_ns[rcu,$threads,$writer]}" "${cache_ns[rwlock,$threads,$writer]}" \
				"$(ratio "${cache_ns[rwlock,$threads,$writer]}" "${cache_ns[rcu,$threads,$writer]}")"
		done
	done
fi

# Where the excess went, for the bound line: "(N dropped at full UDP
# receive buffers...; over the run X lost before ilpd, Y after: ...)".
losses() {
	local name=$1
	printf ' (%s dropped at full UDP receive buffers in the window' "${rcvbuf[$name]}"
	if [ -n "${lost_in[$name]:-}" ]; then
		printf '; over the run %s of what was sent was lost before ilpd read it, %s after' \
			"$(pct "${lost_in[$name]}")" "$(pct "${lost_out[$name]}")"
		if awk -v i="${lost_in[$name]}" -v o="${lost_out[$name]}" 'BEGIN { exit !(i > o) }'; then
			printf ': mostly at ilpd'"'"'s socket, whose buffer (at most net.core.rmem_max,'
			printf ' %s bytes here) fills whenever ilpd is off its CPU for a few' "$rmem_max"
			printf ' milliseconds (other processes took %s of it)' "$(pct "${others[$name]}")"
		else
			printf ': mostly on the way to the sink, on the generator'"'"'s CPU'
		fi
	fi
	printf ')'
}

# What bounds each ILP figure, from the window's measurements: whether the
# generator could offer more than got through (if not, ilpd kept up and
# the generator's CPU, which also carries the kernel's delivery into
# ilpd's socket and the sink, is the limit), whether ilpd's CPU was
# saturated, and what a packet cost ilpd, against the baseline.
echo
for name in ilp-hit ilp-svc; do
	want "$name" || continue
	base=udp-fwd
	[ $name = ilp-hit ] || base=udp-echo
	printf 'bound, %s: ' "$name"
	gen_bound=$(awk -v a="${offered[$name]}" -v b="${arrived[$name]}" \
		'BEGIN { print (b > 0 && a / b < 1.2) ? 1 : 0 }')
	# 90%: a thread that sleeps in poll() between batches leaves gaps.
	f_sat=$(awk -v b="${busy_f[$name]}" 'BEGIN { print (b >= 0.9) ? 1 : 0 }')
	svc_over=0
	if [ $name = ilp-svc ] && [ "${svc_full[$name]:-0}" != 0 ]; then svc_over=1; fi
	if [ $svc_over = 1 ]; then
		printf "null's worker. Its queue overflowed: %s misses dropped there against %s" \
			"${svc_full[$name]}" "${svc_packets[$name]}"
		printf ' handled (whole run). The worker answers each packet with a sendto() of its'
		printf ' own and shares CPU %s (%s busy, %s to ilpd) with the receive thread, which' \
			"$fwd_cpu" "$(pct "${busy_f[$name]}")" "$(pct "${share[$name]}")"
		printf ' spends part of it opening packets that the full queue then drops.'
	elif [ "$gen_bound" = 1 ]; then
		printf 'the generator. ilpd kept up with what it was offered (%s of %s packets/s' \
			"${arrived[$name]}" "${offered[$name]}"
		printf ' arrived), on %s of CPU %s; CPU %s, which sends, delivers into ilpd'"'"'s' \
			"$(pct "${share[$name]}")" "$fwd_cpu" "$gen_cpu"
		printf ' socket and receives at the sink, was the busier. So the pkt/s figure is a'
		printf ' floor, and per CPU-second (%s) the better estimate of ilpd on a whole CPU.' \
			"${core_rate[$name]}"
	elif [ "$f_sat" = 1 ]; then
		printf "ilpd's CPU. CPU %s was %s busy; ilpd (its threads and ksoftirqd) got %s of it" \
			"$fwd_cpu" "$(pct "${busy_f[$name]}")" "$(pct "${share[$name]}")"
		awk -v o="${others[$name]}" 'BEGIN { if (o >= 0.05) printf ", other processes %.0f%%", 100 * o }'
		printf '; the generator offered %s what arrived' \
			"$(ratio "${offered[$name]}" "${arrived[$name]}")"
		losses "$name"
		printf '.'
	else
		printf 'neither CPU alone: CPU %s was %s idle, yet the generator offered %s what arrived' \
			"$fwd_cpu" "$(pct "$(awk -v b="${busy_f[$name]}" 'BEGIN { print 1 - b }')")" \
			"$(ratio "${offered[$name]}" "${arrived[$name]}")"
		losses "$name"
		printf '.'
	fi
	printf ' Each packet that arrived cost ilpd %s us of CPU (%s): user time is its own' \
		"${cost[$name]}" "${detail[$name]//_/ }"
	printf ' code (PSP open and seal, parsing, lookup%s), kernel time its system calls and the' \
		"$([ $name = ilp-svc ] && echo ', the queue and the service')"
	printf ' loopback delivery they cause.'
	if want $base && [ -n "${cost[$base]:-}" ]; then
		printf ' udp_forward moved the same datagrams for %s us (%s), so ILP adds %s us a packet.' \
			"${cost[$base]}" "${detail[$base]//_/ }" \
			"$(awk -v a="${cost[$name]}" -v b="${cost[$base]}" 'BEGIN { printf "%.2f", a - b }')"
	fi
	[ $svc_over = 0 ] || printf ' The dropped misses'"'"' work counts in this cost too.'
	echo
done

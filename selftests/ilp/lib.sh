#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the ilp.ko selftests: TAP output for a test's own checks,
# network namespaces joined by veth (cleaned up on exit), polling instead
# of sleeps, and loading the module.  Source it first thing:
#
#	source "$(dirname "$0")/lib.sh"
#
# A test prints its checks as TAP ("ok N desc" / "not ok N desc"); the
# suite runner nests that output under "# " and reports the test's exit
# status: 0 pass, 1 fail, 4 skip (ksft_*).

set -u

ksft_pass=0
ksft_fail=1
ksft_skip=4

ILP_TOP=${ILP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ILP_BUILD_DIR=${ILP_BUILD_DIR:-$ILP_TOP/build}
ILPCTL=${ILPCTL:-$ILP_BUILD_DIR/cli/ilpctl}
ILPD=${ILPD:-$ILP_BUILD_DIR/daemon/ilpd}
HELPERS=${ILP_SELFTEST_OUTPUT:-$ILP_BUILD_DIR/selftests/ilp}

tap_n=0
tap_failed=0
ns_list=()
cleanup_hooks=()

# ---------------------------------------------------------------------
# Output and checks

# Prints a command before running it, so a failure log shows what ran.
pretty() { echo "[+] $*"; }
n() { pretty "$@"; "$@"; }

tap_result() { # STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n $2"
	else
		echo "not ok $tap_n $2"
		tap_failed=1
	fi
}

# A check that cannot run on this kernel: TAP's "ok N DESC # SKIP WHY".
tap_skip() { # DESCRIPTION WHY
	tap_n=$((tap_n + 1))
	echo "ok $tap_n $1 # SKIP $2"
}

# The checks run CMD in this shell (not a subshell), so that a CMD which
# sets variables or starts helpers keeps them.

# check DESC CMD...: CMD must succeed.
check() {
	local desc=$1 rc
	shift
	"$@" >"$check_out" 2>&1
	rc=$?
	[ $rc = 0 ] || { echo "[+] $*"; cat "$check_out"; echo "(exit status $rc)"; }
	tap_result $rc "$desc"
}

# check_fail DESC CMD...: CMD must fail.
check_fail() {
	local desc=$1 rc
	shift
	"$@" >"$check_out" 2>&1
	rc=$?
	[ $rc != 0 ] || { echo "[+] $*"; cat "$check_out"; echo "(succeeded, expected failure)"; }
	[ $rc != 0 ]
	tap_result $? "$desc"
}

# check_eq DESC EXPECTED ACTUAL: the two strings must be equal.
check_eq() {
	[ "$2" = "$3" ] || printf 'expected: %s\nactual:   %s\n' "$2" "$3"
	[ "$2" = "$3" ]
	tap_result $? "$1"
}

# check_match DESC REGEX CMD...: CMD's output (stdout and stderr) must match
# the extended regular expression; the exit status does not matter.
check_match() {
	local desc=$1 re=$2
	shift 2
	local st=0
	"$@" >"$check_out" 2>&1
	grep -qE -- "$re" "$check_out" ||
		{ st=1; echo "[+] $*"; cat "$check_out"; echo "(does not match /$re/)"; }
	tap_result $st "$desc"
}

skip() { echo "# SKIP $*"; exit $ksft_skip; }

require_root() { [ "$(id -u)" = 0 ] || skip "must be run as root"; }

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$c is not installed"
	done
}

# Ends the test: prints the plan and exits with the ksft status.
finish() {
	echo "1..$tap_n"
	[ $tap_failed = 0 ] && exit $ksft_pass
	exit $ksft_fail
}

# A sleep without a fork: a read that times out on a pipe nobody writes.
# Under a debug kernel each fork+exec costs most of a second, and a poll
# loop that runs "sleep" and "date" pays that on every turn.
exec {ilp_nap_fd}<> <(:)
nap() { read -rt "$1" -u "$ilp_nap_fd" _ || true; }

# now_us VAR: microseconds since the epoch into VAR, without a fork (a
# "$(...)" would fork a subshell).
now_us() { printf -v "$1" '%s' "${EPOCHREALTIME/[.,]/}"; }

# busywait TIMEOUT_MS CMD...: poll CMD until it succeeds or time runs out.
# The limit stretches by ILP_TIMEOUT_FACTOR (see scaled_time).
busywait() {
	local timeout_us=$(($1 * ${ILP_TIMEOUT_FACTOR:-1} * 1000)) start now
	shift
	now_us start
	until "$@"; do
		now_us now
		((now - start >= timeout_us)) && return 1
		nap 0.05
	done
}

# ---------------------------------------------------------------------
# Cleanup

defer() { cleanup_hooks+=("$*"); }

cleanup() {
	local i ns
	for ((i = ${#cleanup_hooks[@]} - 1; i >= 0; i--)); do
		eval "${cleanup_hooks[$i]}" >/dev/null 2>&1
	done
	for ns in "${ns_list[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT

check_out=$(mktemp)
defer rm -f "$check_out"

# ---------------------------------------------------------------------
# Network namespaces

# setup_ns VAR...: for each VAR create a namespace named after its role
# with a unique suffix, bring lo up, and store the name in $VAR.
setup_ns() {
	local var name
	for var in "$@"; do
		printf -v name '%s-%04x%04x' "$var" $RANDOM $RANDOM
		ip netns add "$name" || return 1
		ns_list+=("$name")
		ip -n "$name" link set lo up || return 1
		printf -v "$var" '%s' "$name"
	done
}

# link_ns NS1 ADDR1/PLEN NS2 ADDR2/PLEN: join two namespaces with a veth
# pair and address both ends (IPv4 or IPv6).  The interfaces are named
# after the peer namespace's role, e.g. "sn1" inside h1.  Few commands,
# each batched per namespace: an exec is dear on the debug kernel.
link_ns() {
	local ns1=$1 a1=$2 ns2=$3 a2=$4
	local if1=${ns2%-*} if2=${ns1%-*}
	ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2" || return 1
	link_ns_up "$ns1" "$if1" "$a1" && link_ns_up "$ns2" "$if2" "$a2"
}

link_ns_up() { # NS IF ADDR: IPv6 without duplicate detection, so usable at once
	local nodad=
	[[ $3 == *:* ]] && nodad=nodad
	ip -n "$1" -b - <<-EOF
		addr add $3 dev $2 $nodad
		link set $2 up
	EOF
}

# setup_pipe: the pipe-terminus topology h1 -- sn1 -- h2, with h1 on
# 10.0.1.0/24 and h2 on 10.0.2.0/24 (sn1 at .2 on both).
setup_pipe() {
	setup_ns h1 sn1 h2 &&
		link_ns "$h1" 10.0.1.1/24 "$sn1" 10.0.1.2/24 &&
		link_ns "$sn1" 10.0.2.2/24 "$h2" 10.0.2.1/24
}

# new_master_key FILE: a fresh random PSP master key in slot 0, in the
# format ilpctl and ilp_send read.
new_master_key() {
	printf 'key0 = %s\n' "$(head -c 32 /dev/urandom | xxd -p -c 64)" >"$1"
}

# ---------------------------------------------------------------------
# The module

ilp_loaded() { [ -d /sys/module/ilp ]; }

# ilp_load [PARAM=VALUE...]: load ilp.ko (as installed by the VM runner).
ilp_load() {
	ilp_loaded && return 0
	modprobe ilp "$@"
}

# ilp_unload: unload, waiting for sockets being released to let go.
ilp_unload() {
	ilp_loaded || return 0
	busywait 5000 modprobe -r ilp 2>/dev/null
	ilp_loaded || return 0
	# Say what still holds it, for the log.
	echo "# ilp.ko refcnt $(cat /sys/module/ilp/refcnt)"
	grep -i '^ilp' /proc/net/protocols | sed 's/^/# /'
	ps -eo pid,comm,args | awk -v self=$$ '$1 != self && $2 != "awk" && /ilp/ { print "# " $0 }'
	return 1
}

ilp_family() { cat /sys/module/ilp/parameters/family; }

# ---------------------------------------------------------------------
# Sockets held open by a helper process

declare -A hold_fd hold_dir hold_pid

# hold_start NAME COUNT [-n NETNS] [-u USER]: open COUNT AF_ILP sockets in
# a helper process (in NETNS, as USER, if given) and keep them open until
# hold_stop NAME.  Their inodes are in "$(hold_inodes NAME)".
hold_start() {
	local name=$1 count=$2 dir fd wrap=()
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		-n) wrap+=(ip netns exec "$2") ;;
		-u) wrap+=(setpriv --reuid="$2" --regid="$(id -g "$2")" --clear-groups) ;;
		esac
		shift 2
	done
	dir=$(mktemp -d)
	chmod 755 "$dir"
	mkfifo -m 644 "$dir/in"
	# The helper must not inherit other helpers' fifo ends, or closing
	# theirs would never reach them.
	(
		for f in "${hold_fd[@]}"; do eval "exec $f>&-"; done
		exec "${wrap[@]}" "$HELPERS/ilp_sock" hold "$count" <"$dir/in" >"$dir/out" 2>&1
	) &
	hold_pid[$name]=$!
	exec {fd}>"$dir/in"
	hold_fd[$name]=$fd
	hold_dir[$name]=$dir
	defer hold_stop "$name"
	busywait 10000 grep -qx ready "$dir/out"
}

hold_inodes() { grep -vx ready "${hold_dir[$1]}/out"; }

# hold_stop NAME: close the sockets and wait for the helper to exit.
hold_stop() {
	local name=$1
	[ -n "${hold_fd[$name]:-}" ] || return 0
	eval "exec ${hold_fd[$name]}>&-"
	wait "${hold_pid[$name]}" 2>/dev/null
	rm -rf "${hold_dir[$name]}"
	unset "hold_fd[$name]" "hold_dir[$name]" "hold_pid[$name]"
}

# json EXPR: evaluate a Python expression over the JSON document on stdin,
# bound to "d"; e.g. ilpctl -j stats | json 'd["sockets"]["open"]'.
#
# The tests read counters this way hundreds of times, and a Python start
# costs a good part of a second under emulation (several on the debug
# kernel): what jq can say as well, a path such as d["cache"]["hit"], a
# sum of paths or len(d), goes to jq, which starts in a few milliseconds.
json_path='d(\[("[^"]*"|[0-9]+)\])+'
json() {
	if [[ $1 =~ ^$json_path( \+ $json_path)*$ ]]; then
		jq -r "${1//d[/.[}"
	elif [ "$1" = "len(d)" ]; then
		jq length
	else
		python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
	fi
}

# uapi_enum ENUM NAME: the value of NAME in "enum ENUM" of the uapi header,
# so that raw netlink tests name commands and attributes, not numbers.
# awk rather than Python: a Python start takes seconds on the debug kernel.
uapi_enum() {
	awk -v enum="$1" -v want="$2" '
	{	# Drop comments, which may span lines, and join the lines.
		line = $0
		while (line != "") {
			if (in_comment) {
				i = index(line, "*/")
				if (!i)
					break
				line = substr(line, i + 2)
				in_comment = 0
			} else if ((i = index(line, "/*"))) {
				text = text substr(line, 1, i - 1)
				line = substr(line, i + 2)
				in_comment = 1
			} else {
				text = text line
				line = ""
			}
		}
		text = text " "
	}
	END {
		if (!match(text, "enum[ \t]+" enum "[ \t]*[{][^}]*")) {
			print "no enum " enum > "/dev/stderr"
			exit 1
		}
		body = substr(text, RSTART, RLENGTH)
		sub(/^[^{]*[{]/, "", body)
		n = split(body, items, ",")
		value = -1
		for (k = 1; k <= n; k++) {
			item = items[k]
			gsub(/[ \t]/, "", item)
			if (item == "")
				continue
			if ((eq = index(item, "="))) {
				init = substr(item, eq + 1)
				if (init !~ /^[0-9]+$/) {
					print "enum " enum ": cannot read " item > "/dev/stderr"
					exit 1
				}
				value = init + 0
				item = substr(item, 1, eq - 1)
			} else {
				value++
			}
			if (item == want) {
				print value
				exit 0
			}
		}
		print "no " want " in enum " enum > "/dev/stderr"
		exit 1
	}' "$ILP_TOP/include/uapi/linux/ilp.h"
}
ilp_cmd() { uapi_enum ilp_cmd "ILP_CMD_$1"; }
ilp_attr() { uapi_enum ilp_attr "ILP_A_$1"; }

# require_ilpd: ilpd and its services built; $SERVICES is where they are.
SERVICES=$ILP_BUILD_DIR/services
require_ilpd() {
	[ -x "$ILPD" ] || skip "ilpd is not built ($ILPD)"
	[ -f "$SERVICES/relay/relay.so" ] || skip "the services are not built ($SERVICES)"
}

# ilpd_dirs DIR: the plugin, run and state directories of one ilpd under
# DIR, root's and closed to others, as ilpd insists for plugins.
ilpd_dirs() {
	mkdir -p -m 755 "$1" && mkdir -m 755 "$1/plugins" "$1/run" "$1/state"
}

# scaled N: N divided by ILP_LOAD_DIVISOR (set on the debug kernel, where
# everything is several times slower), for the size of floods.
scaled() { echo $(($1 / ${ILP_LOAD_DIVISOR:-1})); }
# scaled_time MS: a time limit stretched by ILP_TIMEOUT_FACTOR (the debug
# kernel is several times slower).
scaled_time() { echo $(($1 * ${ILP_TIMEOUT_FACTOR:-1})); }

# tails DIR [LINES]: the end (30 lines) of each log and app output in DIR,
# for a test that failed.
tails() {
	local f
	for f in "$1"/*.log "$1"/*.out; do
		[ -e "$f" ] || continue
		echo "--- the end of $(basename "$f")"
		tail -n "${2:-30}" "$f"
	done
}

# ilp_node NS DIR: an ILP instance with a fresh master key in namespace NS
# (the key file goes in DIR); nothing if NS has one already.
ilp_node() {
	"$ILPCTL" -n "$1" instance show 2>/dev/null | grep -q '^instance' && return 0
	new_master_key "$2/$1.keys" &&
		"$ILPCTL" -n "$1" instance add &&
		"$ILPCTL" -n "$1" key set 0 "$2/$1.keys" active
}

# ilp_pair NS_A ADDR_A NS_B ADDR_B DIR: make A and B peers of each other,
# each with the transmit SA the other allocated for it, as ilpd's key
# exchange will.  Creates the instances as needed.
ilp_pair() {
	local a=$1 aaddr=$2 b=$3 baddr=$4 dir=$5 sa
	ilp_node "$a" "$dir" && ilp_node "$b" "$dir" || return 1
	sa=$("$ILPCTL" -n "$b" -j sa alloc peer "$aaddr" version 0) || return 1
	json 'd["key"]' <<<"$sa" >"$dir/$a-to-$b.key"
	"$ILPCTL" -n "$a" peer add "$baddr" spi "$(json 'd["spi"]' <<<"$sa")" version 0 \
		keyfile "$dir/$a-to-$b.key" || return 1
	sa=$("$ILPCTL" -n "$a" -j sa alloc peer "$baddr" version 0) || return 1
	json 'd["key"]' <<<"$sa" >"$dir/$b-to-$a.key"
	"$ILPCTL" -n "$b" peer add "$aaddr" spi "$(json 'd["spi"]' <<<"$sa")" version 0 \
		keyfile "$dir/$b-to-$a.key"
}

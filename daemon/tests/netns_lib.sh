# SPDX-License-Identifier: GPL-2.0-or-later
#
# What the network-namespace tests of ilpd share (netns_relay_test.sh,
# assoc_netns_test.sh), sourced after they set:
#   dir    their temporary directory (logs and app outputs in it)
#   tool   ilp_app_tool
#   pids   an array, to which each process started is added
# and optionally EVENTUALLY_TRIES (50 ms each; 100 by default).

pretty() { echo "+ $*"; }
run() {
	pretty "$@"
	"$@"
}
# Prints every log and app output, then why, and fails the test.
fail() {
	for f in "$dir"/*.log "$dir"/*.out; do
		echo "== $f"
		cat "$f"
	done
	echo "FAIL: $*"
	exit 1
}
# eventually CMD...: CMD succeeds within EVENTUALLY_TRIES tries.
eventually() {
	for _ in $(seq "${EVENTUALLY_TRIES:-100}"); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
# has_line FILE REGEX [SKIP]: FILE, past its first SKIP lines, has a line
# matching REGEX.
has_line() { tail -n +$((${3:-0} + 1)) "$1" 2>/dev/null | grep -q -- "$2"; }
wait_for() { eventually has_line "$@"; }

# app NAME NODE NS ARGS...: ilp_app_tool chat in NS on NODE's app socket,
# its stdin a FIFO the test writes to through the descriptor in NAME_fd.
app() {
	local name=$1 node=$2 ns=$3
	shift 3
	mkfifo "$dir/$name.in"
	pretty app "$name" on "$node": chat "$@"
	ip netns exec "$ns" env ILP_TRANSPORT=unix ILP_APP_SOCKET="$dir/$node/run/app.sock" \
		"$tool" chat "$@" <"$dir/$name.in" >"$dir/$name.out" 2>&1 &
	pids+=($!)
	exec {fd}>"$dir/$name.in"
	eval "${name}_fd=$fd"
}

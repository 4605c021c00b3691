#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A service module built out of tree, as its author would: ILP installed
# into a staging prefix (cmake --install), then examples/service built by
# its own CMakeLists.txt against the installed headers, found through
# pkg-config (ilp-service.pc) and nothing else of the source tree.  The
# installed ilpd (userspace datapath, 127.0.0.1, no root) loads it beside
# a version 1 module and one that throws; an app on a second ilpd sends
# through it.  Checks: the module's rewrite (upper case) comes back; a
# version 1 module answers; exceptions thrown in a module are counted, and
# ilpd goes on serving; a packet of a service no module serves is counted
# in "ilpctl daemon status" (text and JSON).
#
# usage: out_of_tree_test.sh BUILD_DIR EXAMPLE_DIR ILP_APP_TOOL TEST_MODULES_DIR
set -u
build=$1 example=$2 tool=$3 modules=$4
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
chmod 755 "$dir"
fail() {
	for f in "$dir"/*.log "$dir"/*.out; do
		echo "== $f"
		cat "$f"
	done
	echo "FAIL: $*"
	exit 1
}
# Waits up to 5 s for FILE to have a line matching REGEX.
wait_for() {
	for _ in $(seq 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

stage=$dir/stage
cmake --install "$build" --prefix "$stage" >"$dir/install.log" 2>&1 || fail "cmake --install"
pc=$(find "$stage" -name ilp-service.pc | head -1)
[ -n "$pc" ] || fail "no ilp-service.pc installed"
[ -f "$stage/include/ilp/service.h" ] && [ -f "$stage/include/ilp/service.hpp" ] ||
	fail "service.h or service.hpp not installed"

# Out of tree: a copy of the example alone, configured with only the
# staging prefix's pkg-config directory to find ILP by.
cp -r "$example" "$dir/src"
rm -f "$dir/src/out_of_tree_test.sh"
export PKG_CONFIG_PATH=$(dirname "$pc")
# The .pc file finds its prefix from where it is: the staged headers.
inc=$(pkg-config --cflags-only-I ilp-service) || fail "pkg-config finds no ilp-service"
inc=${inc#-I}
inc=${inc%% *}
[ "$(realpath "$inc")" = "$(realpath "$stage/include")" ] ||
	fail "pkg-config --cflags ilp-service: $(pkg-config --cflags ilp-service)"
cmake -S "$dir/src" -B "$dir/obj" >"$dir/configure.log" 2>&1 || fail "configuring the example"
cmake --build "$dir/obj" >"$dir/build.log" 2>&1 || fail "building the example"
grep -q -- "$inc" "$dir/obj/CMakeFiles/upper.dir/flags.make" ||
	fail "the example was not built against the installed header"

ilpd=$stage/sbin/ilpd
ilpctl=$stage/bin/ilpctl
[ -x "$ilpd" ] && [ -x "$ilpctl" ] || fail "ilpd or ilpctl not installed"
export LD_LIBRARY_PATH=$(dirname "$(find "$stage" -name 'libilp.so*' | head -1)")

port1=$((20000 + RANDOM % 20000))
port2=$((port1 + 1))
for n in h1 sn; do
	mkdir -m 755 "$dir/$n" "$dir/$n/run" "$dir/$n/state" "$dir/$n/plugins"
	printf 'key0 = %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/$n.keys"
done
install -m 644 "$dir/obj/upper.so" "$modules/legacy_v1.so" "$modules/throws.so" "$dir/sn/plugins/"
"$tool" derive "$dir/sn.keys" 1 >"$dir/h1-to-sn.key" || fail "derive"
"$tool" derive "$dir/h1.keys" 2 >"$dir/sn-to-h1.key" || fail "derive"

start() { # NAME PORT PEER_PORT SPI PEER ARGS...
	local n=$1 port=$2 peer_port=$3 spi=$4 peer=$5
	shift 5
	"$ilpd" --config /dev/null --datapath user --port "$port" --master-keys "$dir/$n.keys" \
		--peer "127.0.0.1:$peer_port spi $spi version 0 keyfile $dir/$n-to-$peer.key direct" \
		--plugin-dir "$dir/$n/plugins" --run-dir "$dir/$n/run" --state-dir "$dir/$n/state" \
		"$@" 2>"$dir/$n.log" &
	pids+=($!)
	wait_for "$dir/$n.log" "started" || fail "$n did not start"
}
start h1 "$port1" "$port2" 1 sn
start sn "$port2" "$port1" 2 h1 --role sn --service-config "upper prefix=>"
sn_pid=${pids[-1]}
for m in "upper: service 4200 to 4203 (ABI version 2)" "legacy: service 150 (ABI version 1)" \
	"throws: service 400 (ABI version 2)"; do
	wait_for "$dir/sn.log" "$m" || fail "sn did not load: $m"
done

# Apps on h1, each on one connection of a service, sending to sn.
app() { # NAME SERVICE/CONN
	mkfifo "$dir/$1.in"
	ILP_TRANSPORT=unix ILP_APP_SOCKET="$dir/h1/run/app.sock" \
		"$tool" chat --connect "$2@127.0.0.1:$port2" <"$dir/$1.in" >"$dir/$1.out" 2>&1 &
	pids+=($!)
	exec {fd}>"$dir/$1.in"
	eval "${1}_fd=$fd"
	wait_for "$dir/$1.out" "^bound ${2}$" || fail "app $1 not bound to $2"
}
app upper 4202/77
app legacy 150/78
app throws 400/79
app nobody 4300/80

echo "send hello" >&"$upper_fd"
wait_for "$dir/upper.out" "payload >HELLO$" || fail "the out-of-tree module's rewrite did not come back"
echo "send old" >&"$legacy_fd"
wait_for "$dir/legacy.out" "payload old$" || fail "the version 1 module did not answer"

# Exceptions out of handle() (std::runtime_error, std::bad_alloc, an
# int) and out of a timer: caught in the module, and ilpd answers next.
for p in throw throw-alloc throw-int timer; do echo "send $p" >&"$throws_fd"; done
sleep 0.1
echo "send after" >&"$throws_fd"
wait_for "$dir/throws.out" "payload after$" || fail "the module that threw no longer answers"
kill -0 "$sn_pid" 2>/dev/null || fail "ilpd died"

echo "send lost" >&"$nobody_fd"
sn() { "$ilpctl" -S "$dir/sn/run/ilpd.sock" "$@"; }
for _ in $(seq 100); do
	st=$(sn -j daemon status) || fail "daemon status"
	python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1])["no_service"] != 1)' "$st" &&
		break
	sleep 0.05
done
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["no_service"] == 1, d
s = {x["name"]: x for x in d["services"]}
assert s["throws"]["errors"] == 3, s
assert s["upper"]["packets"] == 1 and s["upper"]["errors"] == 0, s
assert s["legacy"]["packets"] == 1, s
' "$st" || fail "sn's daemon status: $st"
sn daemon status | grep -q "^    upcalls [0-9]* no_service 1$" || fail "text status: $(sn daemon status)"
grep -q "handle() threw (1 so far): boom" "$dir/sn.log" || fail "the helper did not log the exception"
grep -q "a timer threw (1 so far): timer boom" "$dir/sn.log" || fail "the timer's exception not logged"
echo PASS

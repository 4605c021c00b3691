#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ilpd end to end on the userspace datapath, no module needed: it starts
# with the services of its plugin directory, answers ilpctl on its control
# socket (daemon status, service list and config), refuses a bad service
# setting, and shuts down cleanly on SIGTERM, removing its socket.
#
# usage: sigterm_test.sh ILPD ILPCTL NULL_SO RELAY_SO
set -u
ilpd=$1 ilpctl=$2
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
chmod 755 "$dir"
mkdir -m 755 "$dir/plugins" "$dir/run" "$dir/state"
cp "$3" "$4" "$dir/plugins/"
printf 'key0 = %s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/keys"
fail() { cat "$dir/log"; echo "FAIL: $*"; exit 1; }

# A free UDP port: the datapath refuses one in use.
port=$((20000 + RANDOM % 20000))
"$ilpd" --config /dev/null --datapath user --log-level debug --port "$port" \
	--master-keys "$dir/keys" --plugin-dir "$dir/plugins" --run-dir "$dir/run" \
	--state-dir "$dir/state" --service-config "relay next-hop=10.0.2.1" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do
	grep -q "started" "$dir/log" && break
	sleep 0.05
done
grep -q "started: role host, datapath user" "$dir/log" || fail "no start line"

ctl() { "$ilpctl" -S "$dir/run/ilpd.sock" "$@"; }
status=$(ctl -j daemon status) || fail "daemon status: $status"
python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["datapath"] == "user", d
names = sorted(s["name"] for s in d["services"])
assert names == ["null", "relay"], names
' "$status" || fail "daemon status: $status"
text=$(ctl daemon status) || fail "daemon status: $text"
grep -q "^    cache hit 0 missed 0 lost 0 entries 0$" <<<"$text" || fail "no cache line: $text"
grep -q "^    apps clients 0 bindings 0 " <<<"$text" || fail "no apps line: $text"
ctl service list | grep -q "^service relay id 8" || fail "service list: $(ctl service list)"
ctl service config relay | grep -qx "next-hop=10.0.2.1:1000\|next-hop=10.0.2.1" ||
	fail "relay's configuration from the flag: $(ctl service config relay)"
ctl service config relay next-hop=10.0.3.1 >/dev/null || fail "setting next-hop"
ctl service config relay | grep -q "next-hop=10.0.3.1" || fail "next-hop not changed"
out=$(ctl service config relay next-hop=nowhere 2>&1) && fail "a bad next-hop was accepted"
echo "$out" | grep -q "relay" || fail "the refusal does not say why: $out"
ctl service unload null || fail "unload null"
ctl service list | grep -q "^service null" && fail "null still listed"

kill -TERM $pid
wait $pid
rc=$?
cat "$dir/log"
[ $rc = 0 ] || { echo "FAIL: exit status $rc after SIGTERM"; exit 1; }
grep -q "received SIGTERM, shutting down" "$dir/log" || { echo "FAIL: no shutdown line"; exit 1; }
[ ! -e "$dir/run/ilpd.sock" ] || { echo "FAIL: the control socket was left behind"; exit 1; }
echo PASS

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The edomain core in ilpd (docs/edomains.md), on loopback with the
# userspace datapath: three SNs of edomain a share a real etcd this test
# starts; sn1 is a's gateway to b, and sn2 learns it from the core, not
# from its config.  With etcd killed (kill -9) sn2 keeps its map; when
# etcd is back it catches up (sn3's gateway to c, published meanwhile
# once etcd answers).  A gateway that stops withdraws itself.  Malformed
# records (a gateway one, a host one naming another host) are refused and
# logged, and ilpd goes on.  Then the embedded
# SQLite core: durable across a kill -9 of its ilpd.  Bad 'core' and
# 'gateway' lines are refused with the line named.
#
# usage: edomain_core_test.sh ILPD ILPCTL
set -u
ilpd=$1 ilpctl=$2
command -v etcd >/dev/null || { echo "FAIL: no etcd (scripts/install-deps installs etcd-server)"; exit 1; }
dir=$(mktemp -d)
pids=()
etcd_pid=
cleanup() {
	kill "${pids[@]}" $etcd_pid 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	for f in "$dir"/*.log; do echo "== $f"; tail -n 30 "$f"; done
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }
eventually() { # CMD...: true within 20 s
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
client=127.0.0.1:$(free_port)
peer=127.0.0.1:$(free_port)
start_etcd() {
	etcd --name core --data-dir "$dir/etcd" --listen-client-urls "http://$client" \
		--advertise-client-urls "http://$client" --listen-peer-urls "http://$peer" \
		--initial-advertise-peer-urls "http://$peer" --initial-cluster "core=http://$peer" \
		--logger zap --log-outputs "$dir/etcd.out" 2>>"$dir/etcd.err" &
	etcd_pid=$!
	eventually curl -sf "http://$client/health" -o /dev/null || fail "etcd did not start"
}
start_etcd
ok "etcd up at $client"

start() { # NODE ARGS...
	local n=$1 skip=0
	shift
	mkdir -p "$dir/$n/run" "$dir/$n/state" "$dir/$n/plugins"
	[ -f "$dir/$n.log" ] && skip=$(wc -l <"$dir/$n.log")
	"$ilpd" --config /dev/null --datapath user --log-level debug --role sn --edomain a \
		--control-listen no --port "$(free_port)" --plugin-dir "$dir/$n/plugins" \
		--run-dir "$dir/$n/run" --state-dir "$dir/$n/state" "$@" 2>>"$dir/$n.log" &
	pids+=($!)
	eval "${n}_pid=$!"
	eventually eval 'tail -n +$((skip + 1)) "$dir/$n.log" 2>/dev/null | grep -q started' ||
		fail "ilpd $n did not start"
}
ctl() { local n=$1; shift; "$ilpctl" -S "$dir/$n/run/ilpd.sock" "$@"; }
# holds NODE EXPR: a Python expression on NODE's "edomain show -j", e.
holds() {
	local st
	st=$(ctl "$1" -j edomain show) && python3 -c 'import json, sys
e = json.loads(sys.argv[1])
sys.exit(not eval(sys.argv[2]))' "$st" "$2"
}
check() { # NODE EXPR WHAT
	eventually holds "$1" "$2" || fail "$3: on $1, $2; got: $(ctl "$1" -j edomain show)"
	ok "$3"
}
gw() { # EDOMAIN: the gateway e lists for it
	echo "[g['sn'] for g in e['gateways'] if g['edomain'] == '$1']"
}

core="etcd $client"
start sn1 --core "$core" --gateway b --edomain-address 127.0.0.1
start sn2 --core "$core"
sn1_port=$(ctl sn1 -j instance show | python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])')
check sn2 "$(gw b) == ['127.0.0.1:$sn1_port'] and e['core']['synced']" \
	"sn2 learns from the core that sn1 is a's gateway to b"
check sn1 "[g['self'] for g in e['gateways']] == [True]" "... and sn1 that it is"
text=$(ctl sn2 edomain show)
grep -q "^edomain a, core etcd $client: synced at revision [0-9]" <<<"$text" &&
	grep -q "^gateway to b: 127.0.0.1:$sn1_port$" <<<"$text" || fail "edomain show's text: $text"
ok "edomain show: $(head -n 1 <<<"$text")"

# The core out of reach: sn2 keeps what it knew.
{
	kill -9 $etcd_pid
	wait $etcd_pid
} 2>/dev/null
check sn2 "not e['core']['synced'] and $(gw b) == ['127.0.0.1:$sn1_port']" \
	"with etcd killed, sn2 keeps its map"
start sn3 --core "$core" --gateway c --edomain-address 127.0.0.1
eventually grep -q "cannot publish this SN.s records" "$dir/sn3.log" || fail "sn3 did not say it cannot publish"
ok "sn3 cannot publish while etcd is down, and says so"
start_etcd
sn3_port=$(ctl sn3 -j instance show | python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])')
check sn2 "e['core']['synced'] and $(gw c) == ['127.0.0.1:$sn3_port'] and e['core']['reconnects'] >= 1" \
	"etcd back: sn2 catches up with sn3's gateway to c"

# A gateway that stops withdraws itself.
kill -TERM "$sn1_pid"
wait "$sn1_pid" 2>/dev/null
check sn2 "$(gw b) == []" "sn1 stopped: no gateway to b any more"

# A malformed record: refused, logged, counted; ilpd goes on.
python3 - "$client" <<'END' || fail "writing a bad record"
import base64, json, sys, urllib.request
b = lambda s: base64.b64encode(s.encode()).decode()
body = json.dumps({"key": b("/ilp/gateway/d/x"), "value": b("not json")}).encode()
urllib.request.urlopen(urllib.request.Request("http://%s/v3/kv/put" % sys.argv[1], body))
END
check sn2 "e['refused'] == 1 and $(gw d) == [] and $(gw c) != []" "a malformed record is refused"
grep -q "core record 'gateway/d/x' refused" "$dir/sn2.log" || fail "no log line for the bad record"
ok "... and logged: $(grep -m1 "core record" "$dir/sn2.log")"
# A host record whose host is not the one its key names.
python3 - "$client" <<'END' || fail "writing a bad host record"
import base64, json, sys, urllib.request
b = lambda s: base64.b64encode(s.encode()).decode()
v = json.dumps({"sn": "127.0.0.1:1000", "host": "10.0.0.8:1000"})
body = json.dumps({"key": b("/ilp/host/10.0.0.9:1000/127.0.0.1:1000"), "value": b(v)}).encode()
urllib.request.urlopen(urllib.request.Request("http://%s/v3/kv/put" % sys.argv[1], body))
END
check sn2 "e['refused'] == 2 and e['hosts'] == 0" "a host record naming another host is refused"
ctl sn2 edomain resolve 10.0.0.9 2>/dev/null && fail "the bad host record resolves"
grep -q "core record 'host/10.0.0.9:1000/127.0.0.1:1000' refused: the host is not the one the key names" \
	"$dir/sn2.log" || fail "no log line for the bad host record"
ok "... and not resolved, and logged"

# The embedded core: SQLite in the state directory, durable across a
# kill -9 (no withdrawal then: the record stays).
start sn4 --core sqlite --gateway e --edomain-address 127.0.0.1
check sn4 "$(gw e) != [] and e['core']['kind'] == 'sqlite'" "an SQLite core: sn4 publishes its gateway to e"
{
	kill -9 "$sn4_pid"
	wait "$sn4_pid"
} 2>/dev/null
start sn4 --core sqlite
check sn4 "$(gw e) != []" "... which is still there after a kill -9 and a restart"
[ -f "$dir/sn4/state/core.db" ] || fail "no core.db in the state directory"

# Bad lines, each refused with where it is.
refused() { # WHAT EXPECT ARGS...
	local what=$1 expect=$2
	shift 2
	out=$("$ilpd" --config /dev/null --datapath user --role sn --edomain a --control-listen no \
		--run-dir "$dir/bad" --state-dir "$dir/bad" "$@" 2>&1) && fail "$what was accepted"
	grep -q -- "$expect" <<<"$out" || fail "$what: '$out'"
	ok "$what is refused: $out"
}
refused "a core that is no store" "--core: 'core redis x': 'redis' is no store" --core "redis x"
refused "an etcd member with no port" "is not HOST:PORT" --core "etcd localhost"
refused "a remote core with no address" "ilp takes the address of the SN" --core "ilp"
refused "a remote core at no address" "'core ilp sn9.example'" --core "ilp sn9.example"
refused "a gateway without a core" "--gateway: 'gateway' needs a 'core'" --gateway b
refused "a gateway to its own edomain" "names this SN's own edomain" --core sqlite --gateway a
printf 'role = sn\nedomain = a\ncontrol-listen = no\n\ncore = etcd\n' >"$dir/bad.conf"
out=$("$ilpd" --config "$dir/bad.conf" --datapath user --run-dir "$dir/bad" --state-dir "$dir/bad" 2>&1) &&
	fail "a core line with no member was accepted"
grep -q "bad.conf:5" <<<"$out" || fail "the error does not name the line: $out"
ok "a bad core line in a file is named by its line: $out"
echo "PASS"

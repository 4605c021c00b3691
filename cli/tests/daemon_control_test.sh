#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daemon_control_test.sh ILPCTL ECHO_SERVER: ilpctl's service and daemon
# commands end to end, over a real control socket, against ECHO_SERVER
# (daemon/tests/control_echo_server.cpp), which answers from fixed state
# as ilpd would: services relay (id 8) and echo (id 9).  Checks the text
# output, and the -j output with python3's json.  Prints TAP; exits 1 if
# any check fails.
set -u
# Absolute: one check runs ilpctl from another directory.
ilpctl=$(realpath "$1")
server=$(realpath "$2")
dir=$(mktemp -d /tmp/ilp-control-test.XXXXXX)
sock=$dir/ilpd.sock
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid"
	rm -rf "$dir"
}
trap cleanup EXIT

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	for f in "$dir/stdout" "$dir/stderr"; do
		[ -s "$f" ] && sed "s/^/# $(basename "$f"): /" "$f"
	done
	return 0
}

# t NAME RC STDOUT STDERR-REGEX CMD...: runs CMD; checks its exit status,
# that its stdout is exactly STDOUT (unless "*") and that its stderr
# matches STDERR-REGEX (an extended regex; "" for an empty stderr).
t() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4
	shift 4
	"$@" >"$dir/stdout" 2>"$dir/stderr"
	local rc=$?
	if [ "$rc" != "$want_rc" ]; then
		not_ok "$name: exit status $rc, expected $want_rc"
	elif [ "$want_out" != "*" ] && [ "$(cat "$dir/stdout")" != "$want_out" ]; then
		not_ok "$name: stdout is not as expected"
		printf '%s\n' "$want_out" | sed 's/^/# expected: /'
	elif [ -z "$want_err" ] && [ -s "$dir/stderr" ]; then
		not_ok "$name: unexpected stderr"
	elif [ -n "$want_err" ] && ! grep -qE -- "$want_err" "$dir/stderr"; then
		not_ok "$name: stderr does not match /$want_err/"
	else
		ok "$name"
	fi
}

# json NAME PYTHON-EXPR: the last command's stdout is one JSON document
# for which PYTHON-EXPR (over j) is true.
json() {
	if python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if ('"$2"') else 1)' \
		"$dir/stdout"; then
		ok "$1"
	else
		not_ok "$1"
	fi
}

"$server" "$sock" 2>"$dir/server.log" &
server_pid=$!
for _ in $(seq 100); do
	[ -S "$sock" ] && break
	sleep 0.05
done
if [ ! -S "$sock" ]; then
	echo "Bail out! $server did not create $sock"
	cat "$dir/server.log"
	exit 1
fi

if [ "$(stat -c %a "$sock")" = 600 ]; then ok "socket mode 0600"; else not_ok "socket mode $(stat -c %a "$sock")"; fi

t "daemon status" 0 "ilpd up 1h2m3s, datapath user, roles sn
    upcalls 42 no_service 3
    service relay id 8 packets 12 errors 0
    service echo id 9 packets 3 errors 1" "" \
	"$ilpctl" -S "$sock" daemon status
t "daemon status -j" 0 "*" "" "$ilpctl" -S "$sock" -j daemon status
json "daemon status -j parses" \
	'j["uptime_s"] == 3723 and j["datapath"] == "user" and j["roles"] == ["sn"] and
	 j["upcalls"] == 42 and j["no_service"] == 3 and [s["name"] for s in j["services"]] == ["relay", "echo"] and
	 j["services"][1] == {"name": "echo", "id": 9, "packets": 3, "errors": 1}'

list="service relay id 8: relays to a configured next hop
    path /usr/lib/ilp/services/relay.so
    packets 12 errors 0 queue-full 0 dropped 0 installed 4
    config next-hop=10.0.2.1:1000
service echo id 9: answers each packet with itself
    path /usr/lib/ilp/services/echo.so
    packets 3 errors 1 queue-full 2 dropped 5 installed 0 stalled"
t "service list" 0 "$list" "" "$ilpctl" -S "$sock" service list
t "service list, socket from ILPD_SOCKET" 0 "$list" "" env ILPD_SOCKET="$sock" "$ilpctl" service list
t "-S beats ILPD_SOCKET" 0 "$list" "" env ILPD_SOCKET=/nonexistent/x.sock "$ilpctl" --socket "$sock" service list
t "service list -j -p" 0 "*" "" "$ilpctl" -S "$sock" -j -p service list
json "service list -j parses" \
	'len(j) == 2 and j[0]["name"] == "relay" and j[0]["id"] == 8 and
	 j[0]["config"] == {"next-hop": "10.0.2.1:1000"} and j[1]["queue_full"] == 2 and
	 j[1]["stalled"] is True and all(k in j[0] for k in
	   ("description", "path", "packets", "errors", "queue_full", "dropped", "installed"))'
if [ "$(wc -l <"$dir/stdout")" -gt 1 ]; then ok "-p indents"; else not_ok "-p indents"; fi

t "service config reads" 0 "next-hop=10.0.2.1:1000" "" "$ilpctl" -S "$sock" service config relay
t "service config sets" 0 "mtu=1400
next-hop=10.0.2.2:1000" "" "$ilpctl" -S "$sock" service config relay next-hop=10.0.2.2:1000 mtu=1400
t "service config -j" 0 "*" "" "$ilpctl" -S "$sock" -j service config relay mode=
json "service config -j parses" \
	'j == {"mtu": "1400", "next-hop": "10.0.2.2:1000", "mode": ""}'
t "service config of no such service" 1 "" "^ilpctl: no service 'nope'$" \
	"$ilpctl" -S "$sock" service config nope a=b
t "service config KEY without =" 2 "" "expected KEY=VALUE, not 'mtu'. usage: ilpctl service config NAME" \
	"$ilpctl" -S "$sock" service config relay mtu
t "service config KEY twice" 2 "" "'mtu' given twice" \
	"$ilpctl" -S "$sock" service config relay mtu=1 mtu=2

t "service load" 0 "service counter id 10
    path $dir/counter.so
    packets 0 errors 0 queue-full 0 dropped 0 installed 0" "" \
	"$ilpctl" -S "$sock" service load "$dir/counter.so"
# A relative path is the caller's: ilpd gets it absolute.
t "service load, relative path" 1 "" "^ilpctl: cannot load $dir/bogus.so: No such file" \
	bash -c 'cd "$1" && "$2" -S "$3" service load bogus.so' _ "$dir" "$ilpctl" "$sock"
t "service unload" 0 "" "" "$ilpctl" -S "$sock" service unload counter
t "service unload -j prints nothing" 0 "" "" "$ilpctl" -S "$sock" -j service unload echo
t "service unload, no such service" 1 "" "^ilpctl: no service 'echo'$" \
	"$ilpctl" -S "$sock" service unload echo
t "service list after unloads" 0 "*" "" "$ilpctl" -S "$sock" -j service list
json "only relay is left" '[s["name"] for s in j] == ["relay"]'

# A batch: one JSON document per line, on as many connections.
printf 'service list\ndaemon status\n' >"$dir/batch"
t "batch" 0 "*" "" "$ilpctl" -S "$sock" -j -b "$dir/batch"
if python3 -c 'import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if len(docs) == 2 and docs[0][0]["name"] == "relay" and docs[1]["upcalls"] == 42 else 1)' \
	"$dir/stdout"; then
	ok "batch prints one document a line"
else
	not_ok "batch prints one document a line"
fi

kill -TERM "$server_pid"
wait "$server_pid"
server_pid=
if [ ! -e "$sock" ]; then ok "socket removed at exit"; else not_ok "socket left at exit"; fi
t "no daemon" 1 "" "^ilpctl: is ilpd running\? \(socket $sock\)$" "$ilpctl" -S "$sock" daemon status

echo "1..$n"
[ $failed -eq 0 ]

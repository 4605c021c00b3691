#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ilpd starts, reports its datapath, and exits 0 on SIGTERM.
ilpd=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$ilpd" --config /dev/null --datapath user --log-level debug 2>"$log" &
pid=$!
for _ in $(seq 100); do
	grep -q "started" "$log" && break
	sleep 0.05
done
grep -q "started: role host, datapath user" "$log" || { cat "$log"; echo "FAIL: no start line"; exit 1; }
kill -TERM $pid
wait $pid
rc=$?
cat "$log"
[ $rc = 0 ] || { echo "FAIL: exit status $rc after SIGTERM"; exit 1; }
grep -q "received SIGTERM, shutting down" "$log" || { echo "FAIL: no shutdown line"; exit 1; }
echo PASS

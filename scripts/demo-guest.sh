#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Runs inside the demo VM: every command is printed before it runs.
set -e
show() { printf '\n$ %s\n' "$*"; "$@"; }

show uname -r
show modprobe ilp
show grep -w ilp /proc/modules
show cat /sys/module/ilp/parameters/family
show ilpctl version
show ilpctl -j -p version
# Two applications' sockets, held open while we look.
python3 - <<'PY' &
import socket, sys, time
af = int(open("/sys/module/ilp/parameters/family").read())
socks = [socket.socket(af, socket.SOCK_DGRAM, 0) for _ in range(2)]
print("(a process opened two AF_ILP sockets)", flush=True)
time.sleep(3)
PY
sleep 1
show ilpctl socket show
show ilpctl stats
wait
show ilpctl stats
show modprobe -r ilp
echo
echo "demo: done"

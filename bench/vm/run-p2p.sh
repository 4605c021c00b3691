#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM benchmark of p2p, from the host: boots Debian's 6.12 kernel in
# QEMU with selftests/run-vm.sh and runs bench/vm/p2p_bench.sh inside it
# (arguments go to it: -f FIRSTS, -p PINGS, -b BURST).  CPUS (default 2)
# and TIME_LIMIT (default 600 s) set the VM's vCPUs and time limit.
#
# Not a test, and not run by scripts/check (bench/README.md).
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/selftests/run-vm.sh" -q -c "${CPUS:-2}" -T "${TIME_LIMIT:-600}" -- \
	bash "$top/bench/vm/p2p_bench.sh" "$@"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM forwarding benchmark, from the host: boots Debian's 6.12 kernel in
# QEMU with selftests/run-vm.sh (which builds the module and userspace,
# ilp_blast included) and runs bench/vm/forward_bench.sh inside it.
#
#   bench/vm/run.sh                  # 2 vCPUs, 10 s per case
#   bench/vm/run.sh -d 5 -c plain,ilp-hit
#
# Arguments go to forward_bench.sh (-d SECONDS, -w SECONDS, -s BYTES,
# -c CASES, -P; see its header).  CPUS (default 2) and TIME_LIMIT (default
# 600 s) in the environment set the VM's vCPUs and time limit; ILP_BUILD_DIR
# the build tree, as for run-vm.sh.  Needs wireguard-tools on this machine
# for the WireGuard case (the guest runs this machine's /usr).
#
# Not a test, and not run by scripts/check: the figures depend on the host
# and, under software emulation, on QEMU's TCG (bench/README.md).
top=$(cd "$(dirname "$0")/../.." && pwd)
exec "$top/selftests/run-vm.sh" -q -c "${CPUS:-2}" -T "${TIME_LIMIT:-600}" -- \
	bash "$top/bench/vm/forward_bench.sh" "$@"

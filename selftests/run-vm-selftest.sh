#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks that run-vm.sh fails when it must: a kernel crash, a command that
# fails, a run past its time limit; with -d also that the debug kernel's
# checkers catch the bugs Kbuild can plant in ilp.ko (a leaked allocation,
# two locks taken against their order) and that the report is shown.  A
# runner that always passed would make every selftest meaningless.
#
# usage: selftests/run-vm-selftest.sh [-d]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
failed=0
n=0

expect_fail() { # DESC REGEX ARGS...
	local desc=$1 re=$2 out rc
	shift 2
	n=$((n + 1))
	out=$("$top/selftests/run-vm.sh" -q "$@" 2>&1)
	rc=$?
	if [ $rc = 1 ] && grep -qE -- "$re" <<<"$out"; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc (exit $rc)"
		sed 's/^/# /' <<<"$out" | tail -n 20
		failed=1
	fi
}

echo "TAP version 13"
expect_fail "a kernel panic fails the run" "did not finish|kernel reported a problem" \
	-T 120 -- bash -c 'echo c > /proc/sysrq-trigger'
expect_fail "a failing guest command fails the run" "the command exited with 3" \
	-T 120 -- bash -c 'exit 3'
expect_fail "a run past its time limit fails" "timed out after 8s" \
	-T 8 -- sleep 600
if [ "${1:-}" = -d ]; then
	# instance add allocates the planted leak; cache flush takes the
	# planted lock order.
	use='modprobe ilp && ilpctl instance add && ilpctl cache flush && ilpctl instance del'
	ILP_INJECT=leak expect_fail "kmemleak reports a leaked allocation, with its backtrace" \
		"unreferenced object 0x[0-9a-f]+ \(size 96\)" \
		-d -T 600 -- bash -c "$use"
	ILP_INJECT=lock-order expect_fail "lockdep reports locks taken against their order" \
		"possible circular locking dependency detected" \
		-d -T 600 -- bash -c "$use"
fi
echo "1..$n"
exit $failed

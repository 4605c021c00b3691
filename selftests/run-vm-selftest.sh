#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks that run-vm.sh fails when it must: a kernel crash, a command that
# fails, a run past its time limit.  A runner that always passed would make
# every selftest meaningless.
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
echo "1..$n"
exit $failed

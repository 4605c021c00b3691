#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks that run-vm.sh fails when it must: a kernel crash, a command that
# fails, a run past its time limit, a kernel that crashes while booting on
# both boots it gets; with -d also that the debug kernel's checkers catch
# the bugs Kbuild can plant in ilp.ko (a leaked allocation, two locks
# taken against their order) and that the report is shown.  A runner that
# always passed would make every selftest meaningless.
#
# usage: selftests/run-vm-selftest.sh [-d]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
failed=0
n=0
out=
rc=0

# expect_fail DESC REGEX ARGS...: run-vm.sh ARGS must fail, saying REGEX.
expect_fail() {
	local desc=$1 re=$2
	shift 2
	out=$("$top/selftests/run-vm.sh" -q "$@" 2>&1)
	rc=$?
	expect_said "$desc" "$re"
}

# expect_said DESC REGEX: the last run failed and its output matches.
expect_said() {
	n=$((n + 1))
	if [ $rc = 1 ] && grep -qE -- "$2" <<<"$out"; then
		echo "ok $n $1"
	else
		echo "not ok $n $1 (exit $rc)"
		sed 's/^/# /' <<<"$out" | tail -n 40
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
# No init to run: the kernel panics before guest-init starts.
expect_fail "a kernel that crashes while booting is booted once more" \
	"crashed while booting, before ilp.ko could be loaded; booting once more" \
	-T 120 -a rdinit=/nonexistent -- true
[ "$(grep -c '^run-vm: booting ' <<<"$out")" = 2 ] || rc="two boots expected"
expect_said "... and a second crash fails the run" "FAIL: the guest did not finish"
if [ "${1:-}" = -d ]; then
	# One boot plants both (a debug boot is slow): instance add allocates
	# the leak, cache flush takes the locks against their order.
	use='modprobe ilp && ilpctl instance add && ilpctl cache flush && ilpctl instance del'
	ILP_INJECT=leak,lock-order expect_fail \
		"kmemleak reports a leaked allocation, with its backtrace" \
		"unreferenced object 0x[0-9a-f]+ \(size 96\)" \
		-d -T 600 -- bash -c "$use"
	expect_said "... whose backtrace names ilp_instance_new, scanned before the unload" \
		"^ +ilp_instance_new\+0x[0-9a-f]+/0x[0-9a-f]+ \[ilp\]$"
	expect_said "lockdep reports locks taken against their order" \
		"possible circular locking dependency detected"
fi
echo "1..$n"
exit $failed

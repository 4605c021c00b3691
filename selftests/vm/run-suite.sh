#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run one kselftest-style suite and print TAP 13, the way the kernel's
# run_kselftest.sh does: each test's own output nested under "# ", then
# "ok N selftests: SUITE: TEST" (with "# SKIP" for exit code 4) or "not ok".
# Unlike the kernel's runner this exits non-zero when any test failed.
#
# usage: run-suite.sh SUITE_DIR OUTPUT_DIR [TEST...]
#
# ILP_TIMEOUT_FACTOR multiplies the suite's time limit per test (a debug
# kernel under emulation runs several times slower).  ILP_TAP_TIMES=1 puts
# the seconds since the test started before each of its lines, to show
# where a slow test spends its time.

suite_dir=$1
output=$2
shift 2
suite=$(basename "$suite_dir")

if [ $# -gt 0 ]; then
	tests=("$@")
else
	mapfile -t tests < <(make -s -C "$suite_dir" list)
fi

timeout=45
if [ -f "$suite_dir/settings" ]; then
	t=$(sed -n 's/^timeout=//p' "$suite_dir/settings")
	[ -n "$t" ] && timeout=$t
fi
timeout=$((timeout * ${ILP_TIMEOUT_FACTOR:-1}))

export PATH=$output:$suite_dir:$PATH
export ILP_SELFTEST_OUTPUT=$output

nest() { # START: indent a test's output as TAP 13 nests it
	if [ "${ILP_TAP_TIMES:-0}" = 1 ]; then
		while IFS= read -r line; do
			printf '# [%4d s] %s\n' $((SECONDS - $1)) "$line"
		done
	else
		sed -u 's/^/# /'
	fi
}

echo "TAP version 13"
echo "1..${#tests[@]}"
n=0
failed=0
for t in "${tests[@]}"; do
	n=$((n + 1))
	echo "# selftests: $suite: $t"
	if [ -x "$output/$t" ]; then
		prog=$output/$t
	else
		prog=$suite_dir/$t
	fi
	start=$SECONDS
	(cd "$suite_dir" && timeout --foreground -k 5 "$timeout" "$prog" 2>&1) | nest $start
	rc=${PIPESTATUS[0]}
	echo "# $t: $((SECONDS - start)) s"
	case $rc in
	0) echo "ok $n selftests: $suite: $t" ;;
	4) echo "ok $n selftests: $suite: $t # SKIP" ;;
	124 | 137) echo "not ok $n selftests: $suite: $t # TIMEOUT ${timeout} seconds"; failed=1 ;;
	*) echo "not ok $n selftests: $suite: $t # exit=$rc"; failed=1 ;;
	esac
done
exit $failed

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# expect-run.sh RC REGEX COMMAND...: run COMMAND and check that it exits
# with RC and that its output (stdout and stderr) matches the extended
# regular expression REGEX.  Used by CTest for the command-line tools.
want_rc=$1
want_re=$2
shift 2
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" != "$want_rc" ]; then
	echo "FAIL: exit status $rc, expected $want_rc" >&2
	exit 1
fi
if ! grep -qE -- "$want_re" <<<"$out"; then
	echo "FAIL: output does not match /$want_re/" >&2
	exit 1
fi
echo "PASS"

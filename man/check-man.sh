#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-man.sh PAGE...: lint man pages with groff, every warning enabled.
# Fails if groff prints anything at all (or fails) for any PAGE.  Exits 77,
# which CTest counts as skipped, when groff is not installed (Debian:
# groff-base, which scripts/install-deps installs).
if ! command -v groff >/dev/null; then
	echo "check-man: groff not found (Debian package groff-base); skipped" >&2
	exit 77
fi
if [ $# -eq 0 ]; then
	echo "usage: check-man.sh PAGE..." >&2
	exit 2
fi

status=0
for page in "$@"; do
	if [ ! -r "$page" ]; then
		echo "FAIL: $page: cannot read it" >&2
		status=1
		continue
	fi
	# -z: no output, only the diagnostics; -ww: every warning.
	out=$(LC_ALL=C.UTF-8 groff -man -ww -z "$page" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		printf '%s\n' "$out" >&2
		echo "FAIL: $page: groff -man -ww -z exited $rc and printed $(wc -l <<<"$out") line(s)" >&2
		status=1
	else
		echo "PASS: $page"
	fi
done
exit $status

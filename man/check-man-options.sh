#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-man-options.sh ILPD PAGE: keep ilpd(8) in step with ilpd's options.
# Takes every long option from "ILPD --help" (each configuration key is one)
# and fails, naming it, for an option whose .TP entry under OPTIONS is
# missing (its tag line, the one after .TP, has \-\-NAME), and for an entry
# of an option --help does not list.
set -u
if [ $# -ne 2 ]; then
	echo "usage: check-man-options.sh ILPD PAGE" >&2
	exit 2
fi
help=$("$1" --help) || { echo "FAIL: $1 --help failed" >&2; exit 1; }
page=$2

# "  -c [ --config ] arg" and "  --role arg (=host)": the long names.
opts=$(sed -n 's/^  \(-[a-zA-Z] \[ \)\{0,1\}--\([a-z][a-z-]*\).*/\2/p' <<<"$help" | sort -u)
# The tag lines of OPTIONS' entries: "\-\-NAME" in each, roff-escaped.
tags=$(awk '/^\.SH / { in_opts = ($2 == "OPTIONS") } in_opts && prev == ".TP" { print } { prev = $0 }' \
	"$page" | grep -o '\\-\\-[a-z][a-z\\-]*' | sed 's/\\-/-/g; s/^--//' | sort -u)
[ -n "$opts" ] || { echo "FAIL: no options in $1 --help" >&2; exit 1; }
status=0
for o in $opts; do
	grep -qx -- "$o" <<<"$tags" || { echo "FAIL: --$o has no entry under OPTIONS in $page" >&2; status=1; }
done
for t in $tags; do
	grep -qx -- "$t" <<<"$opts" || { echo "FAIL: $page documents --$t, which ilpd --help does not list" >&2; status=1; }
done
[ $status = 0 ] && echo "PASS: $(wc -w <<<"$opts") options of ilpd, each in $page"
exit $status

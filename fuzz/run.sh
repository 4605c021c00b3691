#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build the libFuzzer targets with clang (ASan, UBSan) and fuzz each for
# half of SECONDS_TOTAL, starting from a copy of the committed corpus.
#
#   fuzz/run.sh [SECONDS_TOTAL]   build and fuzz (default 60 s in all); exits
#                                 non-zero if a target finds a crash, a leak
#                                 or a time-out
#   fuzz/run.sh --build           build only
#   fuzz/run.sh --seeds           build, then regenerate fuzz/corpus/*/seed-*
#
# Builds in $ILP_BUILD_DIR/fuzz (build/fuzz by default).  The committed
# corpus is never written to: each run works in a fresh copy under the
# build directory, and what it finds lands in artifacts/ there.  Longer
# runs and adding a crash to the corpus: fuzz/README.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ILP_BUILD_DIR:-$top/build}/fuzz
targets=(psp_ilp_parse psp_open)

usage() {
	sed -n '4,11s/^# \{0,1\}//p' "$0"
}

mode=fuzz
total=60
case ${1:-} in
'') ;;
--build) mode=build ;;
--seeds) mode=seeds ;;
-h | --help)
	usage
	exit 0
	;;
*)
	if ! [[ $1 =~ ^[0-9]+$ ]] || (($1 < 2)); then
		usage >&2
		exit 2
	fi
	total=$1
	;;
esac

# CC and CXX matter only when the build directory is first configured;
# fuzz/CMakeLists.txt refuses anything but clang.
echo "building the fuzz targets in $build"
CC=clang CXX=clang++ cmake -S "$top/fuzz" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

case $mode in
build) exit 0 ;;
seeds)
	"$build/make_seeds" "$top/fuzz/corpus"
	echo "seeds written to fuzz/corpus/; review them with: git status fuzz/corpus"
	exit 0
	;;
esac

half=$((total / 2))
failed=()
for t in "${targets[@]}"; do
	work=$build/corpus/$t
	artifacts=$build/artifacts/$t
	log=$build/logs/$t.log
	rm -rf "$work" "$artifacts"
	mkdir -p "$work" "$artifacts" "$build/logs"
	cp "$top/fuzz/corpus/$t"/* "$work/"
	echo "--- $t: $half s, from $(find "$work" -type f | wc -l) inputs (log: $log)"
	# -timeout: an input that takes 10 s is a hang (libFuzzer's default
	# is 20 minutes).  The log is kept whole; only the summary is shown.
	if "$build/${t}_fuzz" -max_total_time="$half" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$work" >"$log" 2>&1; then
		grep -E '^(INFO: Seed:|stat::|Done )' "$log"
	else
		rc=$?
		# From the first report on (sanitizer, CHECK, time-out), else
		# the end of the log.
		first=$(grep -n -m1 -E 'ERROR|CHECK failed|runtime error|ALARM' "$log" | cut -d: -f1 || true)
		echo "$t: FAILED (exit status $rc):"
		tail -n "+${first:-1}" "$log" | tail -n 150
		echo "$t: reproducer(s) in $artifacts/:"
		ls -l "$artifacts"
		failed+=("$t")
	fi
done

if ((${#failed[@]})); then
	echo "fuzzing found a problem in: ${failed[*]} (see fuzz/README.md to reproduce)" >&2
	exit 1
fi
echo "fuzzing: no crash, leak or time-out in $total s"

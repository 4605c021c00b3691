#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pcap_test.sh ILPCTL FIXTURE: "ilpctl pcap encrypt" and "decrypt" end to
# end on captures that FIXTURE (pcap_fixture) writes and inspects.  Prints
# TAP; exits 1 if any check fails.
#
# The original capture holds 13 packets (the table in pcap_fixture.cpp):
# 8 ILP packets over UDP to port 1000, numbers 1 2 5 6 9 10 12 13, and 5
# that must pass untouched: UDP to port 53 (3 and 7), TCP to port 1000
# (4), ARP (8) and an IPv4 fragment (11).
set -u
ilpctl=$1
fixture=$2
dir=$(mktemp -d /tmp/ilp-pcap-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
ilp="1 2 5 6 9 10 12 13"

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
# not_ok NAME [dump]: with "dump", shows the output of the command run.
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	if [ "${2-}" = dump ]; then
		for f in "$dir/stdout" "$dir/stderr"; do
			[ -s "$f" ] && sed "s/^/# $(basename "$f"): /" "$f"
		done
	fi
	return 0
}

# check NAME CMD...: a check that CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# t NAME RC STDOUT STDERR-REGEX CMD...: runs CMD; checks its exit status,
# that its stdout is exactly STDOUT (unless "*") and that its stderr
# matches STDERR-REGEX (an extended regex; "" for an empty stderr).
t() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4
	shift 4
	"$@" >"$dir/stdout" 2>"$dir/stderr"
	local rc=$?
	if [ "$rc" != "$want_rc" ]; then
		not_ok "$name: exit status $rc, expected $want_rc" dump
	elif [ "$want_out" != "*" ] && [ "$(cat "$dir/stdout")" != "$want_out" ]; then
		not_ok "$name: stdout is not '$want_out'" dump
	elif [ -z "$want_err" ] && [ -s "$dir/stderr" ]; then
		not_ok "$name: unexpected stderr" dump
	elif [ -n "$want_err" ] && ! grep -qE -- "$want_err" "$dir/stderr"; then
		not_ok "$name: stderr does not match /$want_err/" dump
	else
		ok "$name"
	fi
}

not() { ! "$@"; }

# same_text FILE TEXT: FILE holds exactly TEXT (and a final newline).
same_text() { [ "$(cat "$1")" = "$2" ]; }

# The expected stderr: one line per ILP packet, "packet N: REASON".
each_ilp() {
	for i in $ilp; do echo "packet $i: $1"; done
}

keys=$dir/master.keys
cat >"$keys" <<EOF
# test keys: never use these
key0 = 7d3c1a2b9e8f00112233445566778899aabbccddeeff0123456789abcdef0123
key1 = 0F1E2D3C4B5A69788796A5B4C3D2E1F00102030405060708090A0B0C0D0E0F10
EOF
cat >"$dir/wrong.keys" <<EOF
key0 = 7d3c1a2b9e8f00112233445566778899aabbccddeeff0123456789abcdef0124
key1 = 1F1E2D3C4B5A69788796A5B4C3D2E1F00102030405060708090A0B0C0D0E0F10
EOF
grep key1 "$keys" >"$dir/key1-only.keys"
printf '# line 1\n\nkey0 = 1234\n' >"$dir/bad.keys"

orig=$dir/orig.pcap
t "fixture writes the original capture" 0 "" "" "$fixture" make "$orig"
cp "$orig" "$dir/orig.copy"

# Round trips: version 0 under an SPI of master key 0, version 1 under
# one of master key 1.
for v in 0 1; do
	if [ $v = 0 ]; then spi=0x12345678; else spi=0x80000abc; fi
	enc=$dir/enc$v.pcap
	dec=$dir/dec$v.pcap
	t "v$v: encrypt" 0 "encrypted 8, passed through 5" "" \
		"$ilpctl" pcap encrypt --master-keys "$keys" --spi $spi --version $v "$orig" "$enc"
	check "v$v: encrypted capture differs" not cmp -s "$orig" "$enc"
	t "v$v: ILP packets are PSP v$v, SPI $spi, Next Header 253; the rest unchanged" 0 "*" "" \
		"$fixture" check-sealed "$orig" "$enc" $v $spi
	cat "$dir/stdout"
	t "v$v: decrypt" 0 "decrypted 8, failed 0, passed through 5" "" \
		"$ilpctl" pcap decrypt --master-keys "$keys" "$enc" "$dec"
	t "v$v: every record decrypted as the original" 0 "*" "" "$fixture" compare "$orig" "$dec"
	cat "$dir/stdout"
	check "v$v: decrypted file identical to the original" cmp "$orig" "$dec"
done

# The wrong keys: every ILP packet fails and is left out, the rest passes.
t "wrong master keys: exit 0 with the summary" 0 "decrypted 0, failed 8, passed through 5" \
	"packet 1: psp_auth_failed" \
	"$ilpctl" pcap decrypt --master-keys "$dir/wrong.keys" "$dir/enc0.pcap" "$dir/wrong.pcap"
check "wrong master keys: each ILP packet reported as psp_auth_failed" \
	same_text "$dir/stderr" "$(each_ilp psp_auth_failed)"
# shellcheck disable=SC2086 # $ilp is a list of numbers
t "wrong master keys: only the non-ILP packets written" 0 "*" "" \
	"$fixture" compare "$orig" "$dir/wrong.pcap" $ilp

# A file without the key the SPIs select.
t "master key absent: exit 0 with the summary" 0 "decrypted 0, failed 8, passed through 5" \
	"packet 13: psp_no_master_key" \
	"$ilpctl" pcap decrypt --master-keys "$dir/key1-only.keys" "$dir/enc0.pcap" "$dir/nokey.pcap"
check "master key absent: each ILP packet reported as psp_no_master_key" \
	same_text "$dir/stderr" "$(each_ilp psp_no_master_key)"

# One packet damaged in the middle: reported, left out, the rest decrypted.
t "fixture corrupts the ICV of packet 6" 0 "" "" \
	"$fixture" corrupt "$dir/enc1.pcap" "$dir/corrupt.pcap" 6
t "corrupted packet: reported, the others decrypted" 0 "decrypted 7, failed 1, passed through 5" \
	'^packet 6: psp_auth_failed$' \
	"$ilpctl" pcap decrypt --master-keys "$keys" "$dir/corrupt.pcap" "$dir/dec-corrupt.pcap"
check "corrupted packet: the only one reported" same_text "$dir/stderr" "packet 6: psp_auth_failed"
t "corrupted packet: all but packet 6 as the original" 0 "*" "" \
	"$fixture" compare "$orig" "$dir/dec-corrupt.pcap" 6

# Another port: the two DNS packets are the ones sealed, and come back.
t "--port 53: encrypt" 0 "encrypted 2, passed through 11" "" \
	"$ilpctl" pcap encrypt --master-keys "$keys" --spi 4660 --port 53 "$orig" "$dir/enc53.pcap"
t "--port=53 -j: decrypt" 0 '{"decrypted":2,"failed":0,"passed_through":11}' "" \
	"$ilpctl" -j pcap decrypt --port=53 --master-keys="$keys" "$dir/enc53.pcap" "$dir/dec53.pcap"
check "--port 53: round trip identical" cmp "$orig" "$dir/dec53.pcap"

# A master-keys file with a bad line: named with its line, nothing written.
t "bad master-keys line: exit 1, FILE:LINE" 1 "" \
	"^ilpctl: $dir/bad.keys:3: key0 must be 64 hex digits" \
	"$ilpctl" pcap decrypt --master-keys "$dir/bad.keys" "$orig" "$dir/never.pcap"
check "bad master-keys line: no output written" not test -e "$dir/never.pcap"
t "encrypt: SPI under an absent master key: exit 1" 1 "" \
	"SPI 0x00000001 is under master key 0 \(its top bit\), which .*key1-only.keys does not set" \
	"$ilpctl" pcap encrypt --master-keys "$dir/key1-only.keys" --spi 1 "$orig" "$dir/never.pcap"
t "missing master-keys file: exit 1" 1 "" "absent.keys: No such file or directory" \
	"$ilpctl" pcap decrypt --master-keys "$dir/absent.keys" "$orig" "$dir/never.pcap"

# Command lines that do not parse: exit 2, and the usage.
t "no arguments: exit 2" 2 "" "wrong number of arguments; usage: ilpctl pcap decrypt" \
	"$ilpctl" pcap decrypt
t "no OUT: exit 2" 2 "" "expected IN and OUT, got 1 file name; usage: ilpctl pcap decrypt" \
	"$ilpctl" pcap decrypt --master-keys "$keys" "$orig"
t "no --master-keys: exit 2" 2 "" "--master-keys FILE is required" \
	"$ilpctl" pcap decrypt "$orig" "$dir/x.pcap"
t "--master-keys without a value: exit 2" 2 "" "--master-keys needs a value" \
	"$ilpctl" pcap decrypt "$orig" "$dir/x.pcap" --master-keys
t "encrypt without --spi: exit 2" 2 "" "--spi is required; usage: ilpctl pcap encrypt" \
	"$ilpctl" pcap encrypt --master-keys "$keys" "$orig" "$dir/x.pcap"
t "encrypt with SPI 0x80000000: exit 2" 2 "" "--spi takes a 32-bit SPI" \
	"$ilpctl" pcap encrypt --master-keys "$keys" --spi 0x80000000 "$orig" "$dir/x.pcap"
t "encrypt with --version 2: exit 2" 2 "" "--version takes 0 \(AES-GCM-128\) or 1" \
	"$ilpctl" pcap encrypt --master-keys "$keys" --spi 1 --version 2 "$orig" "$dir/x.pcap"
t "decrypt does not take --spi: exit 2" 2 "" "unknown option '--spi'" \
	"$ilpctl" pcap decrypt --master-keys "$keys" --spi 1 "$orig" "$dir/x.pcap"
t "--port 0: exit 2" 2 "" "--port takes a UDP port" \
	"$ilpctl" pcap decrypt --master-keys "$keys" --port 0 "$orig" "$dir/x.pcap"
t "IN and OUT the same file: exit 2" 2 "" "IN and OUT are the same file" \
	"$ilpctl" pcap decrypt --master-keys "$keys" "$orig" "$dir/../$(basename "$dir")/orig.pcap"
check "IN and OUT the same file: IN left alone" cmp "$orig" "$dir/orig.copy"

# Inputs that cannot be used: exit 1 and a clear message.
t "unreadable input: exit 1" 1 "" "^ilpctl: cannot read $dir/absent.pcap: No such file or directory" \
	"$ilpctl" pcap decrypt --master-keys "$keys" "$dir/absent.pcap" "$dir/x.pcap"
t "input not a capture: exit 1" 1 "" "^ilpctl: cannot read $keys: " \
	"$ilpctl" pcap decrypt --master-keys "$keys" "$keys" "$dir/x.pcap"
t "fixture writes a DLT_RAW capture" 0 "" "" "$fixture" make-raw "$dir/raw.pcap"
t "not Ethernet: exit 1" 1 "" "^ilpctl: $dir/raw.pcap: link type RAW, not Ethernet \(EN10MB\)" \
	"$ilpctl" pcap encrypt --master-keys "$keys" --spi 1 "$dir/raw.pcap" "$dir/x.pcap"
t "output not writable: exit 1" 1 "" "^ilpctl: cannot write $dir/no/such/dir.pcap: " \
	"$ilpctl" pcap decrypt --master-keys "$keys" "$orig" "$dir/no/such/dir.pcap"

echo "1..$n"
if [ $failed != 0 ]; then
	echo "FAIL: $failed of $n checks"
	exit 1
fi
echo "PASS: $n checks"

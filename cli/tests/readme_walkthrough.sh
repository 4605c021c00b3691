#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# README.md's "Try it without the module", run as written: its shell
# blocks between the walkthrough markers, in order, against a staged
# install (DESTDIR=... cmake --install) of BUILD_DIR, with nothing on
# $PATH but what was installed (and the system's ip, grep...).  ilpd has
# no peer, SA or key when it starts: everything comes through ilpctl at
# run time, so this is also the test that a peer added to a running ilpd
# carries traffic.  It runs in a mount namespace of its own, with /run and
# /var/lib on tmpfs, so that the walkthrough's namespaces and directories
# are its own.
#
# Checks: the client prints "echoed 3/3"; on sn the relay handled the
# first packet of each direction (2 cache entries) and the rest were
# cache hits.
#
# usage: readme_walkthrough.sh README BUILD_DIR
# Exit status 77 (skipped) without root, ip netns or unshare.
set -u
readme=$1 build=$2

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v unshare >/dev/null ||
	! ip netns list >/dev/null 2>&1; then
	echo "SKIP: needs root, ip netns and unshare"
	exit 77
fi
fail() {
	echo "FAIL: $*"
	exit 1
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
DESTDIR=$stage cmake --install "$build" >"$stage/install.log" 2>&1 ||
	fail "cmake --install: $(cat "$stage/install.log")"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
root=$stage$prefix
services=$(dirname "$(find "$root" -name relay.so -path '*/ilp/services/*' | head -1)")
examples=$(dirname "$(find "$root" -name echo_server -path '*/ilp/examples/*' | head -1)")
[ -x "$root/sbin/ilpd" ] && [ -x "$root/bin/ilpctl" ] && [ -f "$services/relay.so" ] &&
	[ -x "$examples/echo_client" ] || fail "the install lacks ilpd, ilpctl, relay.so or the examples"

# The staged ilpd looks for its modules where the real install would put
# them: a wrapper points it at the staged ones.
mkdir "$stage/wrap"
printf '#!/bin/sh\nexec %s/sbin/ilpd --plugin-dir %s "$@"\n' "$root" "$services" >"$stage/wrap/ilpd"
chmod 755 "$stage/wrap/ilpd"

# The commands, as README.md has them.
awk '/<!-- walkthrough: begin -->/ { on = 1 } /<!-- walkthrough: end -->/ { on = 0 }
	on && /^```sh$/ { code = 1; next } code && /^```$/ { code = 0; print ""; next }
	code { print }' "$readme" >"$stage/walkthrough.sh"
[ "$(grep -c ilpctl "$stage/walkthrough.sh")" -gt 5 ] || fail "no walkthrough found in $readme"
grep -q "ilp_app_tool\|derive" "$stage/walkthrough.sh" && fail "the walkthrough uses a test helper"

export PATH=$stage/wrap:$root/bin:$root/sbin:$examples:/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=$(dirname "$(find "$root" -name 'libilp.so*' | head -1)")
out=$stage/out
unshare -m --propagation private bash -c '
	mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib || exit 1
	# Whatever the walkthrough leaves running if it fails half-way.
	trap "for n in h1 sn h2; do ip netns pids \$n 2>/dev/null | xargs -r kill -9; done" EXIT
	set -e -x
	. "$1"
' walkthrough "$stage/walkthrough.sh" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc = 0 ] || fail "the walkthrough failed (exit status $rc)"
grep -qx "echoed 3/3" "$out" || fail "the echo client did not get its 3 echoes"
# cache show: one entry per direction, each hit since its miss.
[ "$(grep -c '^prev(10\.0\.[12]\.1),service(8),.*actions:forward' "$out")" = 2 ] ||
	fail "sn's cache does not have the relay's two entries"
hits=$(sed -n 's/^    hit \([0-9]*\) .*/\1/p' "$out")
[ "${hits:-0}" -ge 4 ] || fail "sn's cache hits: '${hits:-}', expected 4 or more"
echo PASS

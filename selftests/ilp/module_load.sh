#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ilp.ko loads, publishes its address family, refuses a taken or invalid
# family with a clear message, and unloads.
source "$(dirname "$0")/lib.sh"
require_root
ilp_unload

check "modprobe ilp" modprobe ilp
check_eq "AF_ILP is family 19 by default" 19 "$(ilp_family)"
check_match "the kernel log names the family" "ilp: ILP [0-9.]+ loaded, AF_ILP is address family 19" dmesg
check_match "the socket protocol is registered" "^ILP " cat /proc/net/protocols
check "modprobe -r ilp" ilp_unload

check_fail "family=2 (AF_INET, taken) is refused" modprobe ilp family=2
check_match "... and the log says the family is taken" "ilp: address family 2 is already taken" dmesg
check_match "... after a warning that 2 is not a retired number" "ilp: family=2 belongs to an existing protocol" dmesg
check_fail "... and nothing stays loaded" ilp_loaded
check_fail "family=46 (past AF_MAX) is refused" modprobe ilp family=46
check_match "... and the log says why" "ilp: family=46 is not a valid address family number" dmesg
check_fail "family=0 is refused" modprobe ilp family=0

check "family=23 (the retired AF_IRDA) loads" modprobe ilp family=23
check_eq "... and is published in sysfs" 23 "$(ilp_family)"
check_match "... and reported by ilpctl version" "AF_ILP = 23" "$ILPCTL" version
check_match "... and socket() works on it" "^ok inode=" "$HELPERS/ilp_sock" create dgram
check "... and it unloads" ilp_unload

loops_ok=0
for _ in 1 2 3 4 5; do
	modprobe ilp && "$HELPERS/ilp_sock" create dgram >/dev/null && ilp_unload || loops_ok=1
done
tap_result $loops_ok "load, use and unload five times"

finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An open AF_ILP socket holds a reference on the module: it cannot be
# unloaded under the socket, and unloads once the socket is closed.
source "$(dirname "$0")/lib.sh"
require_root
ilp_unload
ilp_load

check_eq "no references with no socket" 0 "$(cat /sys/module/ilp/refcnt)"
check "open three sockets" hold_start three 3
# Each socket pins the module through its proto_ops and its struct proto.
check_eq "each open socket holds references" 6 "$(cat /sys/module/ilp/refcnt)"
check_fail "rmmod is refused while sockets are open" rmmod ilp
check "... and the module stays loaded" ilp_loaded
check "the sockets still work after the refused rmmod" "$ILPCTL" socket show
hold_stop three
check_eq "closing the sockets drops the references" 0 "$(cat /sys/module/ilp/refcnt)"
check "the module unloads once they are closed" ilp_unload

finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# socket(AF_ILP, ...): loads the module through its net-pf alias, accepts
# SOCK_DGRAM with protocol 0 only, and every socket is listed and counted.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3
ilp_unload
sock="$HELPERS/ilp_sock"

check_match "socket(AF_ILP, SOCK_DGRAM, 0) succeeds" "^ok inode=[0-9]+$" "$sock" create dgram
check "... and loaded the module on demand (MODULE_ALIAS_NETPROTO)" ilp_loaded

check "ilpctl stats reset" "$ILPCTL" stats reset
check_match "SOCK_STREAM is refused with ESOCKTNOSUPPORT" "^error ESOCKTNOSUPPORT$" "$sock" create stream
check_match "SOCK_RAW is refused with ESOCKTNOSUPPORT" "^error ESOCKTNOSUPPORT$" "$sock" create raw
check_match "SOCK_SEQPACKET is refused with ESOCKTNOSUPPORT" "^error ESOCKTNOSUPPORT$" "$sock" create seqpacket
check_match "protocol 6 is refused with EPROTONOSUPPORT" "^error EPROTONOSUPPORT$" "$sock" create dgram 6
for _ in 1 2 3 4 5; do "$sock" create dgram >/dev/null; done
stats=$("$ILPCTL" -j stats)
check_eq "five sockets counted as created" 5 "$(json 'd["sockets"]["created"]' <<<"$stats")"
check_eq "four refusals counted" 4 "$(json 'd["sockets"]["refused"]' <<<"$stats")"
check_eq "none open now" 0 "$(json 'd["sockets"]["open"]' <<<"$stats")"

check "hold two sockets open" hold_start two 2
check_eq "the open gauge counts them" 2 "$("$ILPCTL" -j stats | json 'd["sockets"]["open"]')"
listed=$("$ILPCTL" -j socket show | json '"\n".join(str(s["inode"]) for s in sorted(d, key=lambda s: s["inode"]))')
held=$(hold_inodes two | sort -n)
check_eq "ilpctl socket show lists exactly their inodes" "$held" "$listed"
check_eq "... as dgram sockets owned by root" "dgram 0,dgram 0" \
	"$("$ILPCTL" -j socket show | json '",".join(s["type"] + " " + str(s["uid"]) for s in d)')"
check_match "the text listing shows the columns" "^Inode +Uid +Type +Recv-Q +Send-Q" "$ILPCTL" socket show
hold_stop two
check_eq "closed sockets leave the list" "[]" "$("$ILPCTL" -j socket show)"

finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Anyone may read the counters, the version and the sockets; changing
# state, and reading peers and SAs (who talks to whom), needs CAP_NET_ADMIN
# over the network namespace (GENL_UNS_ADMIN_PERM): an unprivileged user is
# refused in the initial namespace, and allowed in a namespace its own user
# namespace owns.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd setpriv unshare python3
ilp_load

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

check "unprivileged: ilpctl version" as_nobody "$ILPCTL" version
check "unprivileged: ilpctl stats" as_nobody "$ILPCTL" stats
check "unprivileged: ilpctl socket show" as_nobody "$ILPCTL" socket show
check_match "unprivileged: ilpctl stats reset is refused with EPERM" \
	"ilpctl: kernel refused the request: Operation not permitted" as_nobody "$ILPCTL" stats reset
check_match "unprivileged: a raw STATS_RESET request is refused too" "^error EPERM" \
	as_nobody "$HELPERS/ilp_genl_raw" 3
check_match "unprivileged: ilpctl peer show is refused with EPERM" \
	"Operation not permitted" as_nobody "$ILPCTL" peer show
check_match "unprivileged: ilpctl sa show is refused with EPERM" \
	"Operation not permitted" as_nobody "$ILPCTL" sa show
check_match "unprivileged: a raw PEER_GET dump is refused too" "^error EPERM" \
	as_nobody "$HELPERS/ilp_genl_raw" -d "$(ilp_cmd PEER_GET)"
check_match "unprivileged: a raw SA_GET dump is refused too" "^error EPERM" \
	as_nobody "$HELPERS/ilp_genl_raw" -d "$(ilp_cmd SA_GET)"
check "root may dump peers" "$HELPERS/ilp_genl_raw" -d "$(ilp_cmd PEER_GET)"

"$ILPCTL" stats reset
for _ in 1 2 3; do as_nobody "$HELPERS/ilp_sock" create dgram >/dev/null; done
check_eq "unprivileged users may open sockets" 3 "$("$ILPCTL" -j stats | json 'd["sockets"]["created"]')"
as_nobody "$ILPCTL" stats reset 2>/dev/null
check_eq "the refused reset left the counters alone" 3 "$("$ILPCTL" -j stats | json 'd["sockets"]["created"]')"
check "root may reset" "$ILPCTL" stats reset
check_eq "... and the counter reads 0" 0 "$("$ILPCTL" -j stats | json 'd["sockets"]["created"]')"

check "hold a socket as nobody" hold_start nobody 1 -u nobody
uid=$(id -u nobody)
check_eq "its owner is shown as nobody" "$uid" "$("$ILPCTL" -j socket show | json 'd[0]["uid"]')"
hold_stop nobody

if as_nobody unshare -Ur true 2>/dev/null; then
	check_match "root of a user namespace over the initial netns is refused" \
		"Operation not permitted" as_nobody unshare -Ur "$ILPCTL" stats reset
	check "... but may reset its own network namespace" as_nobody unshare -Urn "$ILPCTL" stats reset
	check "... and read its own namespace's peers and SAs" \
		as_nobody unshare -Urn sh -c '"$0" peer show && "$0" sa show' "$ILPCTL"
else
	tap_result 0 "# SKIP unprivileged user namespaces are disabled"
fi

finish

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The "ilp" generic netlink family answers ilpctl version, in text and JSON,
# with the version the module was built with.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd python3
ilp_load
version=$(cat "$ILP_TOP/VERSION")

check_match "ilpctl version names ilpctl's version" "^ilpctl $version$" "$ILPCTL" version
check_match "... and the module's, family and wire version" \
	"^ilp.ko $version \\(netlink family v1, AF_ILP = 19, ILP wire version 0\\)$" "$ILPCTL" version
j=$("$ILPCTL" -j version)
check_eq "JSON: module version" "$version" "$(json 'd["module"]["version"]' <<<"$j")"
check_eq "JSON: family matches sysfs" "$(ilp_family)" "$(json 'd["module"]["family"]' <<<"$j")"
check_eq "JSON: netlink family version" 1 "$(json 'd["module"]["genl_version"]' <<<"$j")"
check_eq "modinfo agrees on the version" "$version" "$(modinfo -F version ilp)"

finish

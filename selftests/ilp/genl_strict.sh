#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Requests are validated strictly: attributes a command does not take,
# unknown attribute types and unknown commands are refused with an extack
# message, never ignored.
source "$(dirname "$0")/lib.sh"
require_root
ilp_load
raw="$HELPERS/ilp_genl_raw"

check_match "VERSION_GET without attributes is answered" "^ok$" "$raw" 1
check_match "an unknown attribute type is refused with a message" \
	"^error EINVAL: Unknown attribute type$" "$raw" 2 99=1
check_match "a reply-only attribute in a request is refused with a message" \
	"^error EINVAL: Unsupported attribute$" "$raw" 2 3=19
check_match "an unknown command is refused" "^error EOPNOTSUPP" "$raw" 99
check_match "a non-zero reserved header field is refused" "^error EINVAL" "$raw" -r 1 1
check_match "a dump of a do-only command is refused" "^error EOPNOTSUPP" "$raw" -d 1

finish

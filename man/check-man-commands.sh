#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-man-commands.sh ILPCTL PAGE: keep ilpctl(8) in step with the
# command table.  Takes every command from "ILPCTL --help" and fails,
# naming it, for
#   - a command the page does not document: under .SH COMMANDS, each
#     command has a .TP entry whose tag starts with "OBJECT VERB"
#     (\fBOBJECT VERB\fR ...), or "OBJECT" for a command without a verb;
#   - an entry for a command that --help does not list (a command removed
#     or renamed);
#   - an entry whose "Needs CAP_NET_ADMIN" disagrees with the asterisk
#     --help puts before the commands that change state.
set -u
if [ $# -ne 2 ]; then
	echo "usage: check-man-commands.sh ILPCTL PAGE" >&2
	exit 2
fi
ilpctl=$1
page=$2

help=$("$ilpctl" --help) || { echo "FAIL: $ilpctl --help failed" >&2; exit 1; }

# "OBJECT[ VERB]<TAB>0|1" (1: needs CAP_NET_ADMIN) for each command of
# --help.  A command line is "  * SYNOPSIS  HELP" or "    SYNOPSIS  HELP"
# (the help may be on the next line, indented); the verb is the second
# word of the synopsis when it is a lowercase word, not an argument.
help_cmds=$(awk '
	/^commands/ { in_list = 1; next }
	in_list && /^$/ { exit }
	in_list && /^  [* ] [a-z]/ {
		admin = substr($0, 3, 1) == "*"
		syn = substr($0, 5)
		sub(/  .*/, "", syn)
		n = split(syn, w, " ")
		cmd = w[1]
		if (n > 1 && w[2] ~ /^[a-z][a-z-]*$/)
			cmd = cmd " " w[2]
		print cmd "\t" admin
	}' <<<"$help")
if [ -z "$help_cmds" ]; then
	echo "FAIL: found no commands in the output of $ilpctl --help" >&2
	exit 1
fi

# "TAG<TAB>0|1" for each top-level .TP entry under .SH COMMANDS: the tag
# line with font escapes, \-, \& and quotes taken out, and whether the
# entry says "Needs CAP_NET_ADMIN".  Entries nested in .RS/.RE (the
# keywords of a command) are part of the entry around them.
man_cmds=$(awk '
	function norm(s) {
		gsub(/\\f(\[[^]]*\]|\([A-Za-z][A-Za-z]|[A-Za-z])/, "", s)
		gsub(/\\-/, "-", s)
		gsub(/\\&/, "", s)
		gsub(/"/, "", s)
		sub(/^\.[A-Z]+[ \t]+/, "", s)
		gsub(/[ \t]+/, " ", s)
		sub(/^ /, "", s)
		return s
	}
	function flush() {
		if (tag != "")
			print tag "\t" admin
		tag = ""
		admin = 0
	}
	/^\.SH/ {
		flush()
		in_cmds = $0 ~ /^\.SH +"?COMMANDS"?[ \t]*$/
		depth = 0
		next
	}
	!in_cmds { next }
	/^\.SS/ { flush(); depth = 0; next }
	/^\.RS/ { depth++; next }
	/^\.RE/ { if (depth > 0) depth--; next }
	/^\.TP/ && depth == 0 { flush(); want_tag = 1; next }
	want_tag { tag = norm($0); want_tag = 0; next }
	/Needs CAP_NET_ADMIN/ { admin = 1 }
	END { flush() }' "$page")

status=0
objects=$(cut -f1 <<<"$help_cmds" | cut -d' ' -f1 | sort -u)

# Every command of --help has its entry, marked as --help marks it.
while IFS=$'\t' read -r cmd admin; do
	entry=$(awk -F'\t' -v cmd="$cmd" '
		index($1, cmd) == 1 &&
		    (length($1) == length(cmd) || substr($1, length(cmd) + 1, 1) == " ") {
			print $2; exit
		}' <<<"$man_cmds")
	if [ -z "$entry" ]; then
		echo "FAIL: $page does not document 'ilpctl $cmd' (no .TP entry under COMMANDS)" >&2
		status=1
	elif [ "$entry" != "$admin" ]; then
		if [ "$admin" = 1 ]; then
			echo "FAIL: $page: 'ilpctl $cmd' needs CAP_NET_ADMIN, but its entry does not say so" >&2
		else
			echo "FAIL: $page: 'ilpctl $cmd' needs no privilege, but its entry says Needs CAP_NET_ADMIN" >&2
		fi
		status=1
	fi
done <<<"$help_cmds"

# Every entry that looks like a command ("OBJECT VERB ...", OBJECT one of
# ilpctl's) is a command --help lists.
while IFS=$'\t' read -r tag _; do
	read -r object verb _ <<<"$tag"
	grep -qxF "$object" <<<"$objects" || continue
	[[ -n "${verb:-}" && "$verb" =~ ^[a-z][a-z-]*$ ]] || continue
	if cut -f1 <<<"$help_cmds" | grep -qxF "$object"; then
		continue # a command without a verb: its arguments follow
	fi
	if ! cut -f1 <<<"$help_cmds" | grep -qxF "$object $verb"; then
		echo "FAIL: $page documents 'ilpctl $object $verb', which $ilpctl --help does not list" >&2
		status=1
	fi
done <<<"$man_cmds"

if [ $status -eq 0 ]; then
	echo "PASS: $page documents all $(wc -l <<<"$help_cmds") commands of ilpctl --help"
fi
exit $status

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Certificates for the control channel's tests, made with the openssl CLI
# the way an admin would (docs/control.md): a CA per edomain, and node
# certificates that bind ILP addresses (SAN iPAddress) and an edomain
# (SAN URI ilp:edomain:NAME).  Sourced by the tests:
#
#	. tests/make_certs.sh
#	make_ca DIR a                          -> DIR/ca-a.pem, DIR/ca-a.key
#	make_cert DIR a sn1 "IP:10.0.1.2,URI:ilp:edomain:a" [START END]
#	                                       -> DIR/sn1.pem, DIR/sn1.key
#
# START and END (YYYYMMDDHHMMSSZ) make a certificate valid then only, e.g.
# an expired one; by default it is valid for 30 days from an hour ago.

make_ca() { # DIR EDOMAIN
	local dir=$1 ed=$2
	mkdir -p "$dir/ca-$ed.db/new"
	: >"$dir/ca-$ed.db/index"
	echo 01 >"$dir/ca-$ed.db/serial"
	cat >"$dir/ca-$ed.cnf" <<CNF
[ca]
default_ca = ilp
[ilp]
database = $dir/ca-$ed.db/index
new_certs_dir = $dir/ca-$ed.db/new
serial = $dir/ca-$ed.db/serial
certificate = $dir/ca-$ed.pem
private_key = $dir/ca-$ed.key
default_md = sha256
default_days = 30
policy = any
unique_subject = no
[any]
commonName = supplied
organizationName = optional
CNF
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca-$ed.key" 2>/dev/null &&
		openssl req -x509 -new -key "$dir/ca-$ed.key" -days 30 \
			-subj "/O=ILP edomain $ed/CN=ILP CA $ed" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" \
			-out "$dir/ca-$ed.pem" 2>/dev/null
}

make_cert() { # DIR CA_EDOMAIN NAME SAN [START END]
	local dir=$1 ed=$2 name=$3 san=$4 start=${5:-} end=${6:-}
	local dates=()
	if [ -n "$start" ]; then
		dates=(-startdate "$start" -enddate "$end")
	else
		dates=(-startdate "$(date -u -d '1 hour ago' +%Y%m%d%H%M%SZ)")
	fi
	printf 'subjectAltName = %s\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth, clientAuth\n' \
		"$san" >"$dir/$name.ext"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$name.key" 2>/dev/null &&
		openssl req -new -key "$dir/$name.key" -subj "/O=ILP edomain $ed/CN=$name" \
			-out "$dir/$name.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$dir/ca-$ed.cnf" -in "$dir/$name.csr" \
			-extfile "$dir/$name.ext" "${dates[@]}" -out "$dir/$name.pem" 2>/dev/null
}

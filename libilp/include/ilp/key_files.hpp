// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The key files of ilpctl (and of the selftest helper ilp_send).  Keys come
// from files, never from the command line, where ps(1) and shell history
// would show them.
//
// The master-keys file ("ilpctl pcap", "ilpctl key"): a node's two PSP
// master keys, from which the key of every SA it receives on derives.  The
// format (docs/ilpctl-pcap.md):
//
//   # a comment; blank lines are ignored
//   key0 = <64 hex digits>
//   key1 = <64 hex digits>
//
// At least one of the two, each at most once.
#pragma once

#include <string>
#include <string_view>

#include <ilp/psp_kdf.hpp>

namespace ilp
{

struct MasterKeyFile {
	ilp::psp::MasterKeys keys;        // slots the file does not set are zero
	bool present[2] = {false, false}; // which slots the file sets
};

// Reads and parses the file at @path.  Throws ilp::Error naming the file,
// and the line for a line that does not parse ("FILE:3: ...").  Messages
// never quote key material.
MasterKeyFile read_master_keys(const std::string &path);

// Parses @text, the contents of the file @name (used in messages only).
MasterKeyFile parse_master_keys(std::string_view text, const std::string &name);

// The key file of a transmit SA ("ilpctl peer", ilp_send --keyfile): the
// SA key as "ilpctl sa alloc" prints it, one line of 32 hex digits (a
// 16-byte key, PSP version 0) or 64 (32 bytes, version 1).  Comments and
// blank lines as in a master-keys file.  Errors as read_master_keys().
ilp::psp::SaKey read_sa_key(const std::string &path);
ilp::psp::SaKey parse_sa_key(std::string_view text, const std::string &name);

} // namespace ilp

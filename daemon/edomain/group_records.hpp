// SPDX-License-Identifier: GPL-2.0-or-later
//
// The lookup service's group records (docs/edomains.md, "Groups at the
// lookup service"): a group is named by its owner's Ed25519 public key
// and a label, "KEYHEX:LABEL"; under "group/NAME/" the lookup service
// keeps which edomains have members and the owner's signed statements:
//
//	group/NAME/member/EDOMAIN	{"edomain": EDOMAIN}
//	group/NAME/statement/ID		{"text": TEXT, "sig": SIGHEX}
//
// A statement's signature is the owner's, by the key the name holds, over
// ilp::group::statement_message(NAME, ID, TEXT): the lookup service checks it before
// it takes the record, and every reader checks it again, so that neither
// a store nor an SN on the way can make an owner say what it did not.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include <ilp/group.hpp>

namespace ilpd::groups
{

using ilp::group::Name;
using ilp::group::parse_name;

inline constexpr const char *kPrefix = "group/";
inline constexpr std::size_t kMaxId = 64; // [a-z0-9._-]
inline constexpr std::size_t kMaxText = 512;

struct Member {
	Name group;
	std::string edomain;
};
struct Statement {
	Name group;
	std::string id, text;
	ilp::group::Signature sig{};
};
using Record = std::variant<Member, Statement>;

// A record under "group/" with its value, checked (a statement's
// signature included), or nullopt and @why.
std::optional<Record> parse(const std::string &key, const std::string &value,
			    std::string *why = nullptr);

// The key and value of @s (its signature as given).
std::string statement_key(const Statement &s);
std::string statement_value(const Statement &s);
std::string member_key(const Name &group, const std::string &edomain);
std::string member_value(const std::string &edomain);

} // namespace ilpd::groups

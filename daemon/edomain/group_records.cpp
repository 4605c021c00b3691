// SPDX-License-Identifier: GPL-2.0-or-later
//
// Group records: keys and values, parsed strictly; the names and the
// owners' signatures are libilp's (ilp/group.hpp).
#include <nlohmann/json.hpp>

#include "edomain/group_records.hpp"

namespace ilpd::groups
{

namespace
{

using json = nlohmann::json;
using ilp::group::hex;
using ilp::group::is_word;
using ilp::group::unhex;

template <class T>
std::optional<T> refuse(std::string *why, const std::string &what)
{
	if (why)
		*why = what;
	return std::nullopt;
}

} // namespace

std::string statement_key(const Statement &s)
{
	return kPrefix + s.group.text() + "/statement/" + s.id;
}

std::string statement_value(const Statement &s)
{
	return json{{"text", s.text}, {"sig", hex(s.sig.data(), s.sig.size())}}.dump();
}

std::string member_key(const Name &group, const std::string &edomain)
{
	return kPrefix + group.text() + "/member/" + edomain;
}

std::string member_value(const std::string &edomain)
{
	return json{{"edomain", edomain}}.dump();
}

std::optional<Record> parse(const std::string &key, const std::string &value, std::string *why)
{
	const std::string prefix = kPrefix;
	if (key.compare(0, prefix.size(), prefix) != 0)
		return refuse<Record>(why, "not under group/");
	auto rest = key.substr(prefix.size());
	auto slash = rest.find('/');
	if (slash == std::string::npos)
		return refuse<Record>(why, "no record kind after the group's name");
	auto name = parse_name(rest.substr(0, slash), why);
	if (!name)
		return std::nullopt;
	rest = rest.substr(slash + 1);
	auto v = json::parse(value, nullptr, false);
	if (!v.is_object())
		return refuse<Record>(why, "a value that is not a JSON object");
	if (rest.rfind("member/", 0) == 0) {
		Member m{*name, rest.substr(7)};
		if (!is_word(m.edomain) || v.size() != 1 || !v.contains("edomain") ||
		    v["edomain"] != m.edomain)
			return refuse<Record>(why, "a member record is member/EDOMAIN with "
						   "{\"edomain\": EDOMAIN}");
		return m;
	}
	if (rest.rfind("statement/", 0) == 0) {
		Statement s{*name, rest.substr(10), {}, {}};
		if (!is_word(s.id, kMaxId))
			return refuse<Record>(why, "a statement's ID is 1 to 64 of [a-z0-9._-]");
		if (v.size() != 2 || !v.contains("text") || !v["text"].is_string() ||
		    !v.contains("sig") || !v["sig"].is_string())
			return refuse<Record>(why,
					      "a statement is {\"text\": TEXT, \"sig\": SIGHEX}");
		s.text = v["text"].get<std::string>();
		if (s.text.size() > kMaxText)
			return refuse<Record>(why, "a statement's text is at most 512 bytes");
		if (!unhex(v["sig"].get<std::string>(), s.sig.data(), s.sig.size()))
			return refuse<Record>(why, "a statement's sig is 128 lowercase hex digits");
		if (!ilp::group::verify(
			s.group.key, ilp::group::statement_message(s.group, s.id, s.text), s.sig))
			return refuse<Record>(why, "a statement its group's owner did not sign");
		return s;
	}
	return refuse<Record>(why, "a group record that is neither member/ nor statement/");
}

} // namespace ilpd::groups

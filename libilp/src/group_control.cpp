// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The group requests' one-line text (ilp/group_control.hpp).
#include <array>
#include <utility>

#include <ilp/error.hpp>
#include <ilp/group_control.hpp>
#include <ilp/service_control.hpp>

namespace ilp::group
{

namespace
{
constexpr std::array<std::pair<Request::Op, const char *>, 5> kOps = {{
    {Request::Op::Join, "join"},
    {Request::Op::Leave, "leave"},
    {Request::Op::Register, "register"},
    {Request::Op::Unregister, "unregister"},
    {Request::Op::Show, "show"},
}};
constexpr std::size_t kMaxLine = 1000; // a control request's most
} // namespace

Role role_of(Request::Op op)
{
	return op == Request::Op::Join || op == Request::Op::Leave ? Role::Member : Role::Sender;
}

std::string Request::text() const
{
	std::string line;
	for (const auto &[o, word] : kOps)
		if (o == op)
			line = word;
	if (op == Op::Show)
		return line;
	line += " " + group.text();
	if (grant)
		line += " " + grant->text();
	return line;
}

std::optional<Request> parse_request(const std::string &line, std::string *why)
{
	auto fail = [&](const std::string &what) -> std::optional<Request> {
		if (why)
			*why = what;
		return std::nullopt;
	};
	if (line.size() > kMaxLine)
		return fail("a group request is one line of at most 1000 bytes");
	auto sp = line.find(' ');
	auto word = line.substr(0, sp);
	Request r;
	bool known = false;
	for (const auto &[o, w] : kOps)
		if (word == w) {
			r.op = o;
			known = true;
		}
	if (!known)
		return fail("not a group request: '" + word +
			    "' (join, leave, register, unregister or show)");
	if (r.op == Request::Op::Show)
		return sp == std::string::npos ? std::optional(r) : fail("show takes nothing more");
	if (sp == std::string::npos)
		return fail(word + " needs a group, KEYHEX:LABEL");
	auto rest = line.substr(sp + 1);
	auto sp2 = rest.find(' ');
	std::string bad;
	auto name = parse_name(rest.substr(0, sp2), &bad);
	if (!name)
		return fail(bad);
	r.group = *name;
	if (sp2 == std::string::npos)
		return r;
	if (r.op == Request::Op::Leave || r.op == Request::Op::Unregister)
		return fail(word + " takes a group only");
	auto grant = parse_grant(rest.substr(sp2 + 1), &bad);
	if (!grant)
		return fail(bad);
	if (grant->group.text() != r.group.text())
		return fail("the grant is for group " + grant->group.text() + ", not " +
			    r.group.text());
	r.grant = std::move(*grant);
	return r;
}

Group::Group(Name name) : name_(std::move(name)), conn_(connection_of(name_)) {}

void Group::ask(Request::Op op, const std::optional<Grant> &grant)
{
	Request r{op, name_, grant};
	auto line = r.text();
	auto a = control_service(
	    kGroupService, {reinterpret_cast<const std::uint8_t *>(line.data()), line.size()});
	if (a.status != 0)
		throw Error(-a.status,
			    "the SN refused: " + std::string(a.body.begin(), a.body.end()));
}

void Group::join(const std::optional<Grant> &grant)
{
	ask(Request::Op::Join, grant);
}

void Group::leave()
{
	ask(Request::Op::Leave, std::nullopt);
}

void Group::register_sender(const std::optional<Grant> &grant)
{
	ask(Request::Op::Register, grant);
}

void Group::unregister_sender()
{
	ask(Request::Op::Unregister, std::nullopt);
}

} // namespace ilp::group

// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl group show|join|leave|register|unregister|grant: groups
// (docs/multipoint.md).  On a host, join and register go through its
// ilpd to its first-hop SN, which checks the owner's grant (or that the
// owner posted the group open); show lists what the host holds.  On an
// SN, show lists its hosts' groups and, for each, the SNs of its edomain
// and the other edomains with members.  grant is the owner's: it signs a
// grant with the owner's key, which never leaves this command.
//
//   $ ilpctl group grant news member 10.1.3.1 until +3600 key owner.pem > h3.grant
//   $ ilpctl group join 3b6a...e1:news grant h3.grant
//   group 3b6a...e1:news: joined
//
//   $ ilpctl group show            (on an SN)
//   group 3b6a...e1:news
//       members 10.1.3.1:1000 (until 1800003600)
//       senders none
//       members at SNs 10.1.0.2:1000; in edomains b
#include <cerrno>
#include <charconv>
#include <ctime>
#include <fstream>
#include <string>

#include <ilp/error.hpp>
#include <ilp/group.hpp>
#include <ilp/group_control.hpp>

#include "args.hpp"
#include "daemon.hpp"
#include "ilpctl.hpp"

namespace ilpctl
{

namespace
{

using ilp::group::Request;

// A grant's text from @file: its first line.
std::string read_grant(const std::string &cmd, const std::string &file)
{
	std::ifstream in(file);
	std::string line;
	if (!in || !std::getline(in, line))
		throw ilp::Error(ENOENT, file + ": cannot read a grant from it");
	std::string why;
	if (!ilp::group::parse_grant(line, &why))
		usage_error("group", cmd, file + ": " + why);
	return line;
}

int request(Context &ctx, Args args, Request::Op op, const std::string &cmd)
{
	std::string why;
	if (!ilp::group::parse_name(args[0], &why))
		usage_error("group", cmd, why);
	std::string line = std::string(cmd) + " " + args[0];
	if (args.size() > 1) {
		if (args.size() != 3 || args[1] != "grant")
			usage_error("group", cmd, "expected 'grant FILE' after the group");
		line += " " + read_grant(cmd, args[2]);
	}
	auto j = connect_daemon(ctx).call("group.request", {{"line", line}});
	if (ctx.json) {
		ctx.emit(j);
		return 0;
	}
	const char *done = op == Request::Op::Join       ? "joined"
			   : op == Request::Op::Leave    ? "left"
			   : op == Request::Op::Register ? "registered as a sender"
							 : "unregistered";
	ctx.out << "group " << args[0] << ": " << done << '\n';
	return 0;
}

void print_hosts(Context &ctx, const char *what, const nlohmann::json &hosts)
{
	ctx.out << "    " << what;
	if (hosts.empty())
		ctx.out << " none";
	for (const auto &h : hosts) {
		ctx.out << ' ' << h.value("host", "?");
		if (h.contains("expires"))
			ctx.out << " (until " << h["expires"].get<std::uint64_t>() << ')';
	}
	ctx.out << '\n';
}

} // namespace

int cmd_group_show(Context &ctx, Args)
{
	auto j = connect_daemon(ctx).call("group.show", nlohmann::json::object());
	expect(j, nlohmann::json::value_t::object, "an object");
	if (ctx.json) {
		ctx.emit(j);
		return 0;
	}
	if (!j.contains("groups")) {
		// A host: what it holds at its SN.
		for (const char *role : {"member", "sender"})
			for (const auto &g : j.value(role, nlohmann::json::array()))
				ctx.out << "group " << g.get<std::string>() << ": " << role << '\n';
		ctx.out << "asked again after the SN forgot: " << j.value("rebuilt", 0)
			<< ", refused then: " << j.value("dropped", 0) << '\n';
		return 0;
	}
	for (const auto &g : j["groups"]) {
		ctx.out << "group " << g.value("group", "?") << '\n';
		print_hosts(ctx, "members", g.value("members", nlohmann::json::array()));
		print_hosts(ctx, "senders", g.value("senders", nlohmann::json::array()));
		if (g.contains("member_sns")) {
			ctx.out << "    members at SNs";
			if (g["member_sns"].empty())
				ctx.out << " none";
			for (const auto &sn : g["member_sns"])
				ctx.out << ' ' << sn.get<std::string>();
			ctx.out << "; in edomains";
			if (g["member_edomains"].empty())
				ctx.out << " none";
			for (const auto &e : g["member_edomains"])
				ctx.out << ' ' << e.get<std::string>();
			ctx.out << '\n';
		}
	}
	if (j["groups"].empty())
		ctx.out << "no groups\n";
	auto counts = j.value("counts", nlohmann::json::object());
	if (!counts.empty()) {
		ctx.out << "requests:";
		for (const auto &[k, v] : counts.items())
			ctx.out << ' ' << k << ' ' << v.get<std::uint64_t>();
		ctx.out << '\n';
	}
	return 0;
}

int cmd_group_join(Context &ctx, Args args)
{
	return request(ctx, args, Request::Op::Join, "join");
}

int cmd_group_leave(Context &ctx, Args args)
{
	return request(ctx, args, Request::Op::Leave, "leave");
}

int cmd_group_register(Context &ctx, Args args)
{
	return request(ctx, args, Request::Op::Register, "register");
}

int cmd_group_unregister(Context &ctx, Args args)
{
	return request(ctx, args, Request::Op::Unregister, "unregister");
}

// LABEL ROLE HOST until WHEN key FILE: WHEN is Unix time, or +SECONDS.
int cmd_group_grant(Context &ctx, Args args)
{
	auto role = ilp::group::parse_role(args[1]);
	if (!role)
		usage_error("group", "grant",
			    "the role is member or sender, not '" + args[1] + "'");
	if (args[3] != "until")
		usage_error("group", "grant", "expected 'until WHEN', not '" + args[3] + "'");
	if (args[5] != "key")
		usage_error("group", "grant", "expected 'key FILE', not '" + args[5] + "'");
	std::string when = args[4];
	bool relative = !when.empty() && when[0] == '+';
	std::uint64_t t = 0;
	const char *b = when.data() + relative, *e = when.data() + when.size();
	auto [end, ec] = std::from_chars(b, e, t);
	if (b == e || ec != std::errc() || end != e)
		usage_error("group", "grant",
			    "WHEN is Unix time in seconds or +SECONDS, not '" + when + "'");
	if (relative)
		t += static_cast<std::uint64_t>(std::time(nullptr));
	auto owner = ilp::group::Owner::load(args[6]);
	auto g = ilp::group::make_grant(owner, args[0], *role, args[2], t);
	if (ctx.json) {
		ctx.emit({{"group", g.group.text()},
			  {"role", args[1]},
			  {"host", g.host},
			  {"expires", g.expires},
			  {"grant", g.text()}});
		return 0;
	}
	ctx.out << g.text() << '\n';
	return 0;
}

} // namespace ilpctl

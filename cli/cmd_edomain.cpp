// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl edomain show|resolve, lookup show: ilpd's edomain core, the
// gateway map and the host records it learned there, and the lookup
// service's records (docs/edomains.md), asked of it over its control
// socket.
//
//   edomain a, core etcd 127.0.0.1:2379: synced at revision 12
//   gateway to b: 10.0.3.2:1000 (this SN)
//   gateway to c: 10.0.3.1:1000, 1 more
//   direct pipe with 10.0.4.1:1000 of edomain c (opened on demand)
//   hosts: 3 in the edomain, 1 on this SN
//
//   $ ilpctl edomain resolve 10.0.1.1
//   10.0.1.1:1000 at 10.0.0.1:1000
#include <cerrno>
#include <string>

#include <ilp/error.hpp>
#include <ilp/group.hpp>

#include "args.hpp"
#include "daemon.hpp"
#include "ilpctl.hpp"

namespace ilpctl
{

int cmd_edomain_show(Context &ctx, Args)
{
	auto j = connect_daemon(ctx).call("edomain.show");
	expect(j, nlohmann::json::value_t::object, "an object");
	if (ctx.json) {
		ctx.emit(j);
		return 0;
	}
	const auto &core = j.at("core");
	ctx.out << "edomain " << j.value("edomain", "?") << ", core " << core.value("store", "?")
		<< ": " << (core.value("synced", false) ? "synced" : "out of reach, last synced")
		<< " at revision " << core.value("revision", 0) << '\n';
	if (core.contains("last_error") && core["last_error"].is_string() &&
	    !core.value("synced", false))
		ctx.out << "    " << core["last_error"].get<std::string>() << '\n';
	for (const auto &g : j.at("gateways")) {
		ctx.out << "gateway to " << g.value("edomain", "?") << ": " << g.value("sn", "?");
		if (g.value("self", false))
			ctx.out << " (this SN)";
		if (auto more = g.value("others", 0))
			ctx.out << ", " << more << " more";
		ctx.out << '\n';
	}
	if (j.contains("direct_pipes") && j["direct_pipes"].is_array())
		for (const auto &p : j["direct_pipes"])
			ctx.out << "direct pipe with " << p.value("sn", "?") << " of edomain "
				<< p.value("edomain", "?") << " (opened on demand)\n";
	ctx.out << "hosts: " << j.value("hosts", 0) << " in the edomain, "
		<< j.value("hosts_here", 0) << " on this SN\n";
	if (j.contains("routes") && j["routes"].is_object()) {
		const auto &r = j["routes"];
		ctx.out << "routes: " << r.value("host", 0) << " to hosts here, "
			<< r.value("sn", 0) << " to SNs of the edomain, " << r.value("gateway", 0)
			<< " to gateways, " << r.value("pipe", 0)
			<< " over pipes; refused: " << r.value("unknown", 0) << " unknown, "
			<< r.value("out_of_reach", 0) << " core out of reach, "
			<< r.value("unreachable", 0) << " unreachable\n";
	}
	if (j.contains("publish_error") && j["publish_error"].is_string())
		ctx.out << "cannot publish this SN's records: "
			<< j["publish_error"].get<std::string>() << '\n';
	return 0;
}

int cmd_lookup_show(Context &ctx, Args)
{
	auto j = connect_daemon(ctx).call("lookup.show");
	expect(j, nlohmann::json::value_t::object, "an object");
	if (ctx.json) {
		ctx.emit(j);
		return 0;
	}
	ctx.out << "lookup service " << j.value("store", "?") << ": "
		<< (j.value("synced", false) ? "synced" : "out of reach, last synced")
		<< " at revision " << j.value("revision", 0) << '\n';
	if (j.contains("last_error") && j["last_error"].is_string() && !j.value("synced", false))
		ctx.out << "    " << j["last_error"].get<std::string>() << '\n';
	for (const auto &e : j.at("edomains"))
		ctx.out << "edomain " << e.value("edomain", "?") << ": " << e.value("hosts", 0)
			<< " hosts\n";
	for (const auto &g : j.value("groups", nlohmann::json::array())) {
		ctx.out << "group " << g.value("group", "?") << ": members in";
		for (const auto &m : g.at("members"))
			ctx.out << ' ' << m.get<std::string>();
		if (g.at("members").empty())
			ctx.out << " no edomain";
		ctx.out << '\n';
		for (const auto &s : g.at("statements"))
			ctx.out << "    statement " << s.value("id", "?") << ": "
				<< s.value("text", "") << '\n';
	}
	ctx.out << "registered by this SN: " << j.value("registered_here", 0) << " hosts\n";
	if (j.contains("register_error") && j["register_error"].is_string())
		ctx.out << "cannot register: " << j["register_error"].get<std::string>() << '\n';
	return 0;
}

// The owner's key stays here: ilpctl signs, ilpd carries the statement.
int cmd_lookup_statement(Context &ctx, Args args)
{
	if (args[3] != "key")
		usage_error("lookup", "statement", "expected 'key FILE', not '" + args[3] + "'");
	auto owner = ilp::group::Owner::load(args[4]);
	ilp::group::Name group{owner.public_key(), args[0]};
	std::string why;
	if (!ilp::group::parse_name(group.text(), &why))
		usage_error("lookup", "statement", why);
	auto sig = owner.sign(ilp::group::statement_message(group, args[1], args[2]));
	auto j = connect_daemon(ctx).call("lookup.statement",
					  {{"group", group.text()},
					   {"id", args[1]},
					   {"text", args[2]},
					   {"sig", ilp::group::hex(sig.data(), sig.size())}});
	if (ctx.json) {
		ctx.emit(j);
		return 0;
	}
	ctx.out << "group " << group.text() << ": statement " << args[1] << " posted\n";
	return 0;
}

int cmd_edomain_resolve(Context &ctx, Args args)
{
	auto j = connect_daemon(ctx).call("edomain.resolve", {{"host", args[0]}});
	expect(j, nlohmann::json::value_t::array, "an array");
	if (ctx.json) {
		ctx.emit(j);
		return 0;
	}
	if (j.empty())
		throw ilp::Error(ENOENT, args[0] + ": no host record in the edomain's core");
	for (const auto &r : j)
		ctx.out << r.value("host", "?") << " at " << r.value("sn", "?") << '\n';
	return 0;
}

} // namespace ilpctl

// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl service list|load|unload|config: the service modules ilpd has
// loaded, asked of ilpd over its control socket.  "list" shows each as
//
//   service relay id 8: relays to a configured next hop
//       path /usr/lib/x86_64-linux-gnu/ilp/services/relay.so
//       packets 12 errors 0 queue-full 0 dropped 0 installed 4
//       config next-hop=10.0.2.1:1000
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "args.hpp"
#include "daemon.hpp"
#include "ilpctl.hpp"

namespace ilpctl
{

namespace
{

void print_service(std::ostream &out, const nlohmann::json &s)
{
	out << "service " << field(s, "name") << " id " << field(s, "id");
	if (auto d = field(s, "description"); d != "-" && !d.empty())
		out << ": " << d;
	out << '\n';
	if (auto p = field(s, "path"); p != "-")
		out << "    path " << p << '\n';
	out << "    packets " << field(s, "packets") << " errors " << field(s, "errors")
	    << " queue-full " << field(s, "queue_full") << " dropped " << field(s, "dropped")
	    << " installed " << field(s, "installed");
	// A flag in the manner of "peer ... direct"; a count if ilpd gives one.
	if (auto st = s.find("stalled"); st != s.end()) {
		if (st->is_boolean() && st->get<bool>())
			out << " stalled";
		else if (st->is_number() && *st != 0)
			out << " stalled " << st->dump();
	}
	out << '\n';
	auto config = s.find("config");
	if (config != s.end() && config->is_object() && !config->empty()) {
		out << "    config";
		for (const auto &[k, v] : config->items())
			out << ' ' << k << '=' << (v.is_string() ? v.get<std::string>() : v.dump());
		out << '\n';
	}
}

} // namespace

int cmd_service_list(Context &ctx, Args)
{
	auto services = connect_daemon(ctx).call("service.list");
	expect(services, nlohmann::json::value_t::array, "a service list");
	if (ctx.json) {
		ctx.emit(services);
		return 0;
	}
	for (const auto &s : services)
		print_service(ctx.out, s);
	return 0;
}

int cmd_service_load(Context &ctx, Args args)
{
	// ilpd opens the module, from its own working directory: a relative
	// path would name another file there than here.
	std::string path = args[0];
	if (!path.starts_with('/')) {
		std::error_code ec;
		auto abs = std::filesystem::absolute(path, ec);
		if (!ec)
			path = abs.lexically_normal().string();
	}
	auto s = connect_daemon(ctx).call("service.load", {{"path", path}});
	if (ctx.json) {
		ctx.emit(s);
		return 0;
	}
	print_service(ctx.out, expect(s, nlohmann::json::value_t::object, "a service"));
	return 0;
}

int cmd_service_unload(Context &ctx, Args args)
{
	connect_daemon(ctx).call("service.unload", {{"name", args[0]}});
	return 0;
}

int cmd_service_config(Context &ctx, Args args)
{
	auto set = nlohmann::json::object();
	for (const auto &kv : args.subspan(1)) {
		auto eq = kv.find('=');
		if (eq == 0 || eq == kv.npos)
			usage_error("service", "config", "expected KEY=VALUE, not '" + kv + "'");
		std::string key = kv.substr(0, eq);
		if (set.contains(key))
			usage_error("service", "config", "'" + key + "' given twice");
		set[key] = kv.substr(eq + 1);
	}
	auto config = connect_daemon(ctx).call("service.config", {{"name", args[0]}, {"set", set}});
	expect(config, nlohmann::json::value_t::object, "a configuration");
	if (ctx.json) {
		ctx.emit(config);
		return 0;
	}
	// One KEY=VALUE a line: what "service config NAME" takes back.
	for (const auto &[k, v] : config.items())
		ctx.out << k << '=' << (v.is_string() ? v.get<std::string>() : v.dump()) << '\n';
	return 0;
}

} // namespace ilpctl

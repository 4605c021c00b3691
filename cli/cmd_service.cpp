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

namespace ilpctl
{

// service control SERVICE [sn ADDR | local] [REQUEST]: out of band, to
// the module serving SERVICE on the default SN (or the SN named), or on
// this node with "local" (docs/control.md, "Service control").
int cmd_service_control(Context &ctx, Args args)
{
	auto parsed = ilp::parse_uint<std::uint32_t>(args[0]);
	if (!parsed || *parsed == 0 || *parsed == 0xffffffffu)
		usage_error("service", "control", "bad service ID '" + args[0] + "'");
	std::uint32_t service = *parsed;
	nlohmann::json req{{"service", service}};
	std::size_t i = 1;
	if (i + 1 < args.size() && args[i] == "sn") {
		req["sn"] = args[i + 1];
		i += 2;
	} else if (i < args.size() && args[i] == "local") {
		req["local"] = true;
		i++;
	}
	if (i < args.size())
		req["request"] = args[i++];
	if (i < args.size())
		throw ilp::Error(EINVAL, "service control: unexpected '" + args[i] +
					     "' (SERVICE [sn ADDR | local] [REQUEST])");
	auto r = connect_daemon(ctx).call("service.control", req);
	expect(r, nlohmann::json::value_t::object, "an answer");
	if (ctx.json) {
		ctx.emit(r);
	} else if (auto text = r.find("reply"); text != r.end() && text->is_string()) {
		ctx.out << text->get<std::string>() << '\n';
	} else {
		ctx.out << field(r, "reply_hex") << '\n';
	}
	int status = r.value("status", 0);
	if (status < 0)
		throw ilp::Error(-status, "service " + std::to_string(service) + " refused: " +
					      std::generic_category().message(-status));
	return 0;
}

} // namespace ilpctl

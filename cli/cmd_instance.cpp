// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl instance add|del|show|set: the network namespace's ILP instance,
// the UDP sockets on which it sends and receives PSP, and the default SN
// of the host's sockets.
#include <iostream>

#include "args.hpp"
#include "ilpctl.hpp"
#include "plane.hpp"

namespace ilpctl
{

int cmd_instance_add(Context &ctx, Args args)
{
	auto kw = keyword_args("instance", "add", args, {"port"});
	std::optional<std::uint16_t> port;
	if (auto it = kw.find("port"); it != kw.end()) {
		port = parse_uint<std::uint16_t>(it->second);
		if (!port || *port == 0)
			usage_error("instance", "add",
				    "port takes a UDP port, 1 to 65535, not '" + it->second + "'");
	}
	auto ctl = open_plane(ctx);
	ctl->instance_add(port);
	return 0;
}

int cmd_instance_del(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	ctl->instance_del();
	return 0;
}

int cmd_instance_show(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	auto inst = ctl->instance();
	if (ctx.json) {
		nlohmann::json j = nullptr;
		if (inst) {
			j = {{"port", inst->port}, {"sn", nullptr}};
			if (inst->default_sn)
				j["sn"] = {{"address", inst->default_sn->addr_string()},
					   {"port", inst->default_sn->port}};
		}
		ctx.emit(j);
		return 0;
	}
	if (inst) {
		ctx.out << "instance port " << inst->port;
		if (inst->default_sn)
			ctx.out << " sn " << inst->default_sn->to_string();
		ctx.out << '\n';
	} else
		ctx.out << "no instance\n";
	return 0;
}

int cmd_instance_set(Context &ctx, Args args)
{
	if (args[0] != "sn")
		usage_error("instance", "set", "unknown argument '" + args[0] + "'");
	std::optional<ilp::Endpoint> sn;
	if (args[1] != "none") {
		try {
			sn = ilp::Endpoint::parse(args[1]);
		} catch (const ilp::Error &e) {
			usage_error("instance", "set", e.what());
		}
	}
	auto ctl = open_plane(ctx);
	ctl->instance_set_sn(sn);
	return 0;
}

} // namespace ilpctl

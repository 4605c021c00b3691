// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl instance add|del|show: the network namespace's ILP instance, the
// UDP sockets on which it sends and receives PSP.
#include <iostream>

#include <ilp/control.hpp>

#include "args.hpp"
#include "ilpctl.hpp"

namespace ilpctl
{

int cmd_instance_add(Context &, Args args)
{
	auto kw = keyword_args("instance", "add", args, {"port"});
	std::optional<std::uint16_t> port;
	if (auto it = kw.find("port"); it != kw.end()) {
		port = parse_uint<std::uint16_t>(it->second);
		if (!port || *port == 0)
			usage_error("instance", "add",
				    "port takes a UDP port, 1 to 65535, not '" + it->second + "'");
	}
	ilp::Control ctl;
	ctl.instance_add(port);
	return 0;
}

int cmd_instance_del(Context &, Args)
{
	ilp::Control ctl;
	ctl.instance_del();
	return 0;
}

int cmd_instance_show(Context &ctx, Args)
{
	ilp::Control ctl;
	auto inst = ctl.instance();
	if (ctx.json) {
		ctx.emit(inst ? nlohmann::json{{"port", inst->port}} : nlohmann::json(nullptr));
		return 0;
	}
	if (inst)
		ctx.out << "instance port " << inst->port << '\n';
	else
		ctx.out << "no instance\n";
	return 0;
}

} // namespace ilpctl

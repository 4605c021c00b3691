// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl version: ilpctl's own version and that of the datapath the object
// commands talk to (plane.hpp), which it names:
//
//   ilpctl 0.5.0
//   ilp.ko 0.5.0 (netlink family v1, AF_ILP = 19, ILP wire version 0)
//   plane kernel (netlink family ilp)
//
//   ilpctl 0.5.0
//   ilpd 0.5.0 (user datapath)
//   plane ilpd (socket /run/ilp/ilpd.sock)
#include <iostream>

#include <ilp/version.hpp>

#include "ilpctl.hpp"
#include "plane.hpp"

namespace ilpctl
{

int cmd_version(Context &ctx, Args)
{
	auto p = open_plane(ctx)->describe();
	if (ctx.json) {
		nlohmann::json module = nullptr, ilpd = nullptr;
		if (p.module)
			module = {{"version", p.module->version},
				  {"genl_version", p.module->genl_version},
				  {"family", p.module->family},
				  {"wire_version", p.module->wire_version}};
		if (p.ilpd_version)
			ilpd = {{"version", *p.ilpd_version},
				{"datapath", p.datapath.value_or("")}};
		ctx.emit({{"ilpctl", ilp::version},
			  {"plane", {{"name", p.name}, {"where", p.where}}},
			  {"module", module},
			  {"ilpd", ilpd}});
		return 0;
	}
	ctx.out << "ilpctl " << ilp::version << '\n';
	if (p.module)
		ctx.out << "ilp.ko " << p.module->version << " (netlink family v"
			<< p.module->genl_version << ", AF_ILP = " << p.module->family
			<< ", ILP wire version " << static_cast<unsigned>(p.module->wire_version)
			<< ")\n";
	if (p.ilpd_version)
		ctx.out << "ilpd " << *p.ilpd_version << " (" << p.datapath.value_or("-")
			<< " datapath)\n";
	ctx.out << "plane " << p.name << " (" << p.where << ")\n";
	return 0;
}

} // namespace ilpctl

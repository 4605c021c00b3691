// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl version: ilpctl's own version and the module's, asked over netlink.
#include <iostream>

#include <ilp/control.hpp>
#include <ilp/version.hpp>

#include "ilpctl.hpp"

namespace ilpctl
{

int cmd_version(Context &ctx, Args)
{
	ilp::Control ctl;
	auto m = ctl.version();
	if (ctx.json) {
		ctx.emit({{"ilpctl", ilp::version},
			  {"module",
			   {{"version", m.version},
			    {"genl_version", m.genl_version},
			    {"family", m.family},
			    {"wire_version", m.wire_version}}}});
		return 0;
	}
	ctx.out << "ilpctl " << ilp::version << '\n'
		<< "ilp.ko " << m.version << " (netlink family v" << m.genl_version
		<< ", AF_ILP = " << m.family << ", ILP wire version "
		<< static_cast<unsigned>(m.wire_version) << ")\n";
	return 0;
}

} // namespace ilpctl

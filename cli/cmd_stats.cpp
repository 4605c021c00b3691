// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl stats show|reset: the counters of the current network namespace.
#include <iostream>

#include <ilp/control.hpp>

#include "ilpctl.hpp"

namespace ilpctl
{

int cmd_stats_show(Context &ctx, Args)
{
	ilp::Control ctl;
	auto st = ctl.stats();
	if (ctx.json) {
		ctx.emit({{"sockets",
			   {{"open", st.sockets_open},
			    {"created", st.sockets_created},
			    {"refused", st.sockets_refused}}}});
		return 0;
	}
	ctx.out << "sockets:\n"
		<< "    open " << st.sockets_open << "  created " << st.sockets_created
		<< "  refused " << st.sockets_refused << '\n';
	return 0;
}

int cmd_stats_reset(Context &, Args)
{
	ilp::Control ctl;
	ctl.reset_stats();
	return 0;
}

} // namespace ilpctl

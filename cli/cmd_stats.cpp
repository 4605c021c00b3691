// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl stats show|reset: the counters of the current network namespace.
#include <iostream>
#include <string>

#include "ilpctl.hpp"
#include "plane.hpp"

namespace ilpctl
{

int cmd_stats_show(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	auto st = ctl->stats();
	if (ctx.json) {
		// Every reason, zero or not, so that scripts need no defaults.
		auto drops = nlohmann::json::object();
		for (unsigned r = 0; r < st.drops.size(); r++)
			drops[ilp::drop_reason_name(r)] = st.drops[r];
		ctx.emit({{"sockets",
			   {{"open", st.sockets_open},
			    {"created", st.sockets_created},
			    {"refused", st.sockets_refused},
			    {"delivered", st.delivered},
			    {"sent", st.sent}}},
			  {"rx", {{"packets", st.rx_packets}, {"bytes", st.rx_bytes}}},
			  {"tx", {{"packets", st.tx_packets}}},
			  {"cache",
			   {{"hit", st.cache_hit},
			    {"missed", st.cache_missed},
			    {"lost", st.cache_lost},
			    {"evicted", st.cache_evicted},
			    {"entries", st.cache_entries},
			    {"capacity", st.cache_capacity},
			    {"throttled", st.cache_throttled},
			    {"upcall_rate", st.upcall_rate},
			    {"upcall_burst", st.upcall_burst}}},
			  {"drops", drops}});
		return 0;
	}
	ctx.out << "sockets:\n"
		<< "    open " << st.sockets_open << "  created " << st.sockets_created
		<< "  refused " << st.sockets_refused << "  delivered " << st.delivered << "  sent "
		<< st.sent << '\n'
		<< "rx:\n"
		<< "    packets " << st.rx_packets << "  bytes " << st.rx_bytes << '\n'
		<< "tx:\n"
		<< "    packets " << st.tx_packets << '\n'
		<< "cache:\n"
		<< "    hit " << st.cache_hit << "  missed " << st.cache_missed << "  lost "
		<< st.cache_lost << "  evicted " << st.cache_evicted << "  entries "
		<< st.cache_entries << '/' << st.cache_capacity << '\n'
		<< "    throttled " << st.cache_throttled << "  upcall bound per CPU "
		<< (st.upcall_rate ? std::to_string(st.upcall_rate) + "/s burst " +
					 std::to_string(st.upcall_burst)
				   : std::string("none"))
		<< '\n'
		<< "drops:\n";
	// Only the reasons that happened, one per line, as "ip -s" would.
	bool any = false;
	for (unsigned r = 0; r < st.drops.size(); r++) {
		if (!st.drops[r])
			continue;
		ctx.out << "    " << ilp::drop_reason_name(r) << ' ' << st.drops[r] << '\n';
		any = true;
	}
	if (!any)
		ctx.out << "    none\n";
	return 0;
}

int cmd_stats_reset(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	ctl->reset_stats();
	return 0;
}

} // namespace ilpctl

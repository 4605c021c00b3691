// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl daemon status: how ilpd is doing, asked of it over its control
// socket:
//
//   ilpd up 1h2m3s, datapath user, roles sn
//       upcalls 42 no_service 0
//       cache hit 120 missed 42 lost 0 entries 40
//       apps clients 2 bindings 2 delivered 80 dropped 0 sent 80
//       service relay id 8 packets 12 errors 0
//
// (the apps line only on the userspace datapath, which serves them)
#include <cstdint>
#include <iostream>
#include <string>

#include "daemon.hpp"
#include "ilpctl.hpp"

namespace ilpctl
{

namespace
{

// 3723 s as "1h2m3s", as Go and systemd write durations: from the largest
// unit present down to seconds.
std::string duration_string(std::uint64_t s)
{
	const std::uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
	std::string out;
	if (d)
		out += std::to_string(d) + "d";
	if (d || h)
		out += std::to_string(h) + "h";
	if (d || h || m)
		out += std::to_string(m) + "m";
	return out + std::to_string(s % 60) + "s";
}

} // namespace

int cmd_daemon_status(Context &ctx, Args)
{
	auto st = connect_daemon(ctx).call("daemon.status");
	expect(st, nlohmann::json::value_t::object, "a status");
	if (ctx.json) {
		ctx.emit(st);
		return 0;
	}
	std::string uptime = "-";
	if (auto u = st.find("uptime_s"); u != st.end() && u->is_number_unsigned())
		uptime = duration_string(u->get<std::uint64_t>());
	std::string roles = field(st, "roles");
	if (auto r = st.find("roles"); r != st.end() && r->is_array()) {
		roles.clear();
		for (const auto &role : *r)
			roles += (roles.empty() ? "" : ",") +
				 (role.is_string() ? role.get<std::string>() : role.dump());
	}
	ctx.out << "ilpd up " << uptime << ", datapath " << field(st, "datapath") << ", roles "
		<< (roles.empty() ? "none" : roles) << '\n'
		<< "    upcalls " << field(st, "upcalls") << " no_service "
		<< field(st, "no_service") << '\n';
	if (auto c = st.find("cache"); c != st.end() && c->is_object())
		ctx.out << "    cache hit " << field(*c, "hit") << " missed " << field(*c, "missed")
			<< " lost " << field(*c, "lost") << " entries " << field(*c, "entries")
			<< '\n';
	if (auto a = st.find("apps"); a != st.end() && a->is_object())
		ctx.out << "    apps clients " << field(*a, "clients") << " bindings "
			<< field(*a, "bindings") << " delivered " << field(*a, "delivered")
			<< " dropped " << field(*a, "dropped") << " sent " << field(*a, "sent")
			<< '\n';
	if (auto s = st.find("services"); s != st.end() && s->is_array())
		for (const auto &svc : *s)
			ctx.out << "    service " << field(svc, "name") << " id "
				<< field(svc, "id") << " packets " << field(svc, "packets")
				<< " errors " << field(svc, "errors") << '\n';
	return 0;
}

} // namespace ilpctl

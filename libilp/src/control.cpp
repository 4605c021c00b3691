// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/control.hpp"

#include <cerrno>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

namespace ilp
{

ModuleNotLoaded::ModuleNotLoaded()
    : Error(ENOENT, "the kernel has no '" ILP_GENL_NAME
		    "' netlink family: is ilp.ko loaded? (modprobe ilp)")
{
}

Control::Control()
{
	auto f = sock_.resolve(ILP_GENL_NAME);
	if (!f)
		throw ModuleNotLoaded();
	family_ = *f;
}

nl::Request Control::request(std::uint8_t cmd, std::uint16_t flags)
{
	return nl::Request(family_.id, flags, cmd, ILP_GENL_VERSION);
}

ModuleInfo Control::version()
{
	auto req = request(ILP_CMD_VERSION_GET, NLM_F_ACK);
	ModuleInfo info{};
	info.genl_version = family_.version;
	sock_.transact(req, [&](const nlmsghdr *nlh) {
		auto a = nl::Attrs::of_message(nlh, ILP_A_MAX);
		info.version = a.str(ILP_A_VERSION).value_or("unknown");
		info.family = a.u32(ILP_A_FAMILY).value_or(0);
		info.wire_version = a.u8(ILP_A_WIRE_VERSION).value_or(0);
	});
	return info;
}

Stats Control::stats()
{
	auto req = request(ILP_CMD_STATS_GET, NLM_F_ACK);
	Stats st;
	sock_.transact(req, [&](const nlmsghdr *nlh) {
		auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		auto a = nl::Attrs::of_nest(top.get(ILP_A_STATS), ILP_STATS_A_MAX);
		st.sockets_open = a.u32(ILP_STATS_A_SOCKETS_OPEN).value_or(0);
		st.sockets_created = a.u64(ILP_STATS_A_SOCKETS_CREATED).value_or(0);
		st.sockets_refused = a.u64(ILP_STATS_A_SOCKETS_REFUSED).value_or(0);
	});
	return st;
}

void Control::reset_stats()
{
	auto req = request(ILP_CMD_STATS_RESET, NLM_F_ACK);
	sock_.transact(req, [](const nlmsghdr *) {});
}

std::vector<SocketInfo> Control::sockets()
{
	auto req = request(ILP_CMD_SOCK_GET, NLM_F_DUMP);
	std::vector<SocketInfo> out;
	sock_.transact(req, [&](const nlmsghdr *nlh) {
		auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		auto a = nl::Attrs::of_nest(top.get(ILP_A_SOCK), ILP_SOCK_A_MAX);
		SocketInfo s;
		s.inode = a.u64(ILP_SOCK_A_INODE).value_or(0);
		s.uid = a.u32(ILP_SOCK_A_UID).value_or(0);
		s.type = a.u16(ILP_SOCK_A_TYPE).value_or(0);
		s.rmem = a.u32(ILP_SOCK_A_RMEM).value_or(0);
		s.wmem = a.u32(ILP_SOCK_A_WMEM).value_or(0);
		out.push_back(s);
	});
	return out;
}

} // namespace ilp

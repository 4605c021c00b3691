// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl socket show: the AF_ILP sockets of the current network namespace,
// in the manner of ss(8).  The inode matches /proc/PID/fd/N -> socket:[N].
#include <iomanip>
#include <iostream>

#include <sys/socket.h>

#include <ilp/control.hpp>

#include "ilpctl.hpp"

namespace ilpctl
{

namespace
{

const char *type_name(unsigned type)
{
	return type == SOCK_DGRAM ? "dgram" : "unknown";
}

} // namespace

int cmd_socket_show(Context &ctx, Args)
{
	ilp::Control ctl;
	auto socks = ctl.sockets();
	if (ctx.json) {
		auto arr = nlohmann::json::array();
		for (const auto &s : socks)
			arr.push_back({{"inode", s.inode},
				       {"uid", s.uid},
				       {"type", type_name(s.type)},
				       {"rmem", s.rmem},
				       {"wmem", s.wmem}});
		ctx.emit(arr);
		return 0;
	}
	ctx.out << std::left << std::setw(12) << "Inode" << std::setw(8) << "Uid" << std::setw(8)
		<< "Type" << std::setw(10) << "Recv-Q"
		<< "Send-Q" << '\n';
	for (const auto &s : socks)
		ctx.out << std::left << std::setw(12) << s.inode << std::setw(8) << s.uid
			<< std::setw(8) << type_name(s.type) << std::setw(10) << s.rmem << s.wmem
			<< '\n';
	return 0;
}

} // namespace ilpctl

// SPDX-License-Identifier: GPL-2.0-or-later
//
// Where a packet for a host goes next from this SN: what a module's
// route_host() gets (edomain/router.hpp decides it).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ilp/endpoint.hpp>

namespace ilpd
{

struct HostRoute {
	// As enum ilp_route_via.
	enum class Via { Host = 1, Sn, Gateway, Pipe };
	Via via = Via::Host;
	ilp::Endpoint next_hop;
	std::optional<ilp::Endpoint> sn; // the destination host's SN, when known
	std::string edomain;             // the destination's edomain
};

// 0 and @out, or a negative errno (as route_host()'s).
using RouteHost = std::function<int(const ilp::Endpoint &host, HostRoute &out)>;

// Asks for a pipe with the SN @sn of edomain @edomain: 0 (up now) or a
// negative errno (as open_pipe()'s).
using OpenPipe = std::function<int(const ilp::Endpoint &sn, const std::string &edomain)>;

// Asks the host @from to set up a direct pipe with the host @to: a
// negative errno (as open_direct()'s).
using OpenDirect = std::function<int(const ilp::Endpoint &from, const ilp::Endpoint &to)>;

// The next hops of the copies of a packet for @group that came from
// @from: 0 and @hops, or a negative errno (as group_hops()'s).
using GroupHops = std::function<int(const std::string &group, const ilp::Endpoint &from,
				    std::vector<ilp::Endpoint> &hops)>;

} // namespace ilpd

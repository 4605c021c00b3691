// SPDX-License-Identifier: GPL-2.0-or-later
//
// Where the copies of a packet for a group go from this SN
// (docs/multipoint.md, "Fan-out"): the answer to a module's group_hops().
// Each SN sends a copy once per next hop, so that every member gets each
// packet once, as long as the SNs agree on the memberships and the
// gateway map (they read the same core and lookup service):
//
//  - from a registered sender, a host of this SN: to this SN's other
//    members, to the SNs of this edomain with members, and to each other
//    edomain with members through its gateway (this SN's own pipe when it
//    is the gateway);
//  - from an SN of this edomain: to this SN's members, and to the
//    edomains with members this SN is the gateway to (the sender's SN
//    sent it here for them, or for this SN's members, or both), unless
//    that SN is a gateway itself: what a gateway passes on may have come
//    from another edomain, and sent out again it would reach edomains
//    twice, or go round;
//  - from an SN of another edomain: to this SN's members and to the
//    other SNs of this edomain with members.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ilp/endpoint.hpp>

#include "association/manager.hpp"

namespace ilpd::multipoint
{

struct FanoutView {
	std::string edomain;                      // this SN's
	std::optional<ilp::Endpoint> self;        // this SN in its edomain
	std::vector<ilp::Endpoint> members;       // the group's members here
	std::vector<ilp::Endpoint> senders;       // its registered senders here
	std::vector<ilp::Endpoint> member_sns;    // other SNs of the edomain with members
	std::vector<std::string> member_edomains; // other edomains with members
	// This edomain's gateway to an edomain, by the core's map.
	std::function<std::optional<ilp::Endpoint>(const std::string &)> gateway_to;
	// Whether an SN of this edomain is a gateway to any other.
	std::function<bool(const ilp::Endpoint &)> is_gateway;
	const AssociationManager::PeersUp *peers = nullptr;
};

// 0 and @hops; -EPERM for a host that is not a registered sender, or a
// previous hop that is neither a host of this SN nor an SN it holds a
// pipe with.
int fan_out(const FanoutView &v, const ilp::Endpoint &from, std::vector<ilp::Endpoint> &hops);

} // namespace ilpd::multipoint

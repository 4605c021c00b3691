// SPDX-License-Identifier: GPL-2.0-or-later
//
// fan_out(): the next hops of a group's packet, by where it came from.
#include <algorithm>
#include <cerrno>

#include "multipoint/fanout.hpp"

namespace ilpd::multipoint
{

namespace
{

// The cache and the peers know a node by its address: a packet's previous
// hop may come from another port than the one it listens on.
bool any_of_node(const std::vector<ilp::Endpoint> &list, const ilp::Endpoint &e)
{
	return std::ranges::any_of(list, [&](const auto &x) { return x.same_address(e); });
}

} // namespace

int fan_out(const FanoutView &v, const ilp::Endpoint &from, std::vector<ilp::Endpoint> &hops)
{
	hops.clear();
	enum class From { Host, OwnSn, OtherSn } kind;
	const AssociationManager::PeersUp::Sn *from_sn = nullptr;
	if (v.peers)
		for (const auto &sn : v.peers->sns)
			if (sn.endpoint.same_address(from))
				from_sn = &sn;
	if (v.peers && any_of_node(v.peers->hosts, from))
		kind = From::Host;
	else if (from_sn)
		kind = from_sn->edomain == v.edomain ? From::OwnSn : From::OtherSn;
	else
		return -EPERM;
	if (kind == From::Host && !any_of_node(v.senders, from))
		return -EPERM;

	auto add = [&](const ilp::Endpoint &e) {
		if (!e.same_address(from) && !(v.self && e.same_address(*v.self)) &&
		    !any_of_node(hops, e))
			hops.push_back(e);
	};
	for (const auto &m : v.members)
		add(m);
	if (kind != From::OwnSn)
		for (const auto &sn : v.member_sns)
			add(sn);
	if (kind == From::OtherSn)
		return 0;
	// From a gateway of this edomain: perhaps from another edomain, so
	// never out again (docs/multipoint.md, "Fan-out").
	if (kind == From::OwnSn && (!v.is_gateway || v.is_gateway(from)))
		return 0;
	for (const auto &e : v.member_edomains) {
		auto gw = v.gateway_to ? v.gateway_to(e) : std::nullopt;
		const bool self_is_gw = !gw || (v.self && gw->same_address(*v.self));
		if (!self_is_gw) {
			// Another SN of this edomain carries it there: from a
			// sender here only (an SN of this edomain sent it to
			// that gateway itself).
			if (kind == From::Host)
				add(*gw);
			continue;
		}
		// This SN is the gateway: its own long-lived pipe to that
		// edomain (one opened on demand only when it has no other).
		const AssociationManager::PeersUp::Sn *pick = nullptr;
		if (v.peers)
			for (const auto &sn : v.peers->sns)
				if (sn.edomain == e &&
				    (!pick || (pick->on_demand && !sn.on_demand)))
					pick = &sn;
		if (pick)
			add(pick->endpoint);
	}
	return 0;
}

} // namespace ilpd::multipoint

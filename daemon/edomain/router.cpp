// SPDX-License-Identifier: GPL-2.0-or-later
#include <cerrno>
#include <mutex>

#include "edomain/router.hpp"

namespace ilpd
{

void Router::attach(const EdomainCore &core, Peers peers)
{
	std::unique_lock lock(mu_);
	core_ = &core;
	peers_ = std::move(peers);
}

void Router::detach()
{
	std::unique_lock lock(mu_);
	core_ = nullptr;
	peers_ = {};
}

int Router::route(const ilp::Endpoint &host, HostRoute &out) const
{
	std::shared_lock lock(mu_);
	if (!core_)
		return -EOPNOTSUPP;
	int rc = decide(host, out);
	auto outcome = rc == 0         ? static_cast<std::size_t>(out.via) - 1
		       : rc == -ENOENT ? kUnknown
		       : rc == -EAGAIN ? kOutOfReach
				       : kUnreachable;
	counts_[outcome]++;
	return rc;
}

int Router::decide(const ilp::Endpoint &host, HostRoute &out) const
{
	auto peers = peers_ ? peers_() : nullptr;
	const auto &self = core_->self();
	out = {};
	out.edomain = core_->edomain();
	// 1. Associated with this SN.
	if (peers)
		for (const auto &h : peers->hosts)
			if (h == host) {
				out.via = HostRoute::Via::Host;
				out.next_hop = h;
				out.sn = self;
				return 0;
			}
	// 2. At another SN of this edomain.
	for (const auto &at : core_->resolve(host, true))
		if (!self || at.sn != *self) {
			out.via = HostRoute::Via::Sn;
			out.next_hop = at.sn;
			out.sn = at.sn;
			return 0;
		}
	// 3. In another edomain.
	auto elsewhere = core_->find_elsewhere(host);
	if (elsewhere.empty()) {
		auto reach = core_->reach();
		return reach.core && reach.lookup ? -ENOENT : -EAGAIN;
	}
	for (const auto &e : elsewhere) {
		out.edomain = e.edomain;
		out.sn = e.sn;
		// A pipe of this SN's own with the host's SN (one opened on
		// demand, or this SN is the gateway and holds it): straight
		// there.
		if (peers)
			for (const auto &sn : peers->sns)
				if (sn.endpoint == e.sn) {
					out.via = HostRoute::Via::Pipe;
					out.next_hop = sn.endpoint;
					return 0;
				}
		auto gw = core_->gateway_to(e.edomain);
		if (gw && (!self || *gw != *self)) {
			out.via = HostRoute::Via::Gateway;
			out.next_hop = *gw;
			return 0;
		}
		// This SN is the gateway (or the map names none): its own pipe
		// to that edomain, to the host's SN if it holds one.
		const AssociationManager::PeersUp::Sn *pick = nullptr;
		if (peers)
			for (const auto &sn : peers->sns)
				if (sn.edomain == e.edomain && (!pick || sn.endpoint == e.sn))
					pick = &sn;
		if (pick) {
			out.via = HostRoute::Via::Pipe;
			out.next_hop = pick->endpoint;
			return 0;
		}
	}
	return -EHOSTUNREACH;
}

nlohmann::json Router::stats() const
{
	nlohmann::json j;
	for (std::size_t i = 0; i < kOutcomes; i++)
		j[kOutcomeNames[i]] = counts_[i].load();
	return j;
}

} // namespace ilpd

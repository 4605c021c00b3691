// SPDX-License-Identifier: GPL-2.0-or-later
//
// Where a packet for a host goes next from this SN (docs/edomains.md,
// "Routing"): the answer to a service module's route_host().  In order:
//
//  1. a host associated with this SN: to the host;
//  2. a host of this edomain at another SN (the core's host records): to
//     that SN;
//  3. a host of another edomain (the lookup service's records): over a
//     pipe of this SN's own with the host's SN when it holds one (opened
//     on demand, the modules' open_pipe()), else to this edomain's
//     gateway to it (the core's gateway map), or, when this SN is that
//     gateway or the map has none, over this SN's own pipe to an SN of
//     that edomain.
//
// Nothing here waits on a store or on the association thread: the core's
// and the lookup service's records are mirrors, the peers a copy the
// association manager makes at each change.  A host found nowhere while
// the core or the lookup service is out of reach is not known to be
// nowhere: that answer is its own (EAGAIN), and counted.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include <nlohmann/json.hpp>

#include <ilp/endpoint.hpp>

#include "association/manager.hpp"
#include "edomain/edomain_core.hpp"
#include "environment/host_route.hpp"

namespace ilpd
{

class Router
{
public:
	using Peers = std::function<std::shared_ptr<const AssociationManager::PeersUp>()>;

	// Routes through @core (which must outlive the router, or be
	// detached first) and the peers @peers returns.  Until then every
	// route() is EOPNOTSUPP.  Any thread.
	void attach(const EdomainCore &core, Peers peers);
	void detach();

	// 0 and @out, or a negative errno: ENOENT (found nowhere),
	// EAGAIN (not found while the core or the lookup service is out of
	// reach), EHOSTUNREACH (in another edomain that no gateway or pipe
	// reaches now), EOPNOTSUPP (no core).  Any thread.
	int route(const ilp::Endpoint &host, HostRoute &out) const;

	// "edomain show"'s "routes": the answers given, by kind.
	nlohmann::json stats() const;

private:
	int decide(const ilp::Endpoint &host, HostRoute &out) const;

	mutable std::shared_mutex mu_; // attach/detach against route()
	const EdomainCore *core_ = nullptr;
	Peers peers_;

	// The answers given: a route by HostRoute::Via (1 to 4, at 0 to
	// 3), then the refusals.
	static constexpr std::size_t kUnknown = 4, kOutOfReach = 5, kUnreachable = 6, kOutcomes = 7;
	static constexpr const char *kOutcomeNames[kOutcomes] = {
	    "host", "sn", "gateway", "pipe", "unknown", "out_of_reach", "unreachable"};
	mutable std::array<std::atomic<std::uint64_t>, kOutcomes> counts_{};
};

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
//
// The Datapath: what ilpd needs of whatever moves its node's packets.  Two
// implementations that the rest of the daemon cannot tell apart:
// KernelDatapath (ilp.ko's instance, through netlink) and UserDatapath
// (UDP sockets, PSP and a decision cache in this process).  They speak
// the same wire format, so nodes of either kind interoperate.
//
// Packets the decision cache has no entry for (misses) are handed to the
// MissHandler given to start(), in batches, on the datapath's own
// threads; the handler answers each with execute() (possibly installing
// the decision) whenever it is ready.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <ilp/control.hpp>
#include <ilp/endpoint.hpp>

namespace ilpd
{

// A miss: the decrypted ILP header and payload, with the previous hop.
using Miss = ilp::Upcall;
using Flow = ilp::Flow;
using Actions = ilp::Actions;
using CacheEntry = ilp::CacheEntry;

// The counters both datapaths keep, as "ilpctl stats" names them.
struct DatapathStats {
	std::uint64_t hit = 0;
	std::uint64_t missed = 0;
	std::uint64_t lost = 0;    // misses dropped before reaching the handler
	std::uint64_t evicted = 0; // entries pushed out by the capacity limit
	std::uint32_t entries = 0;
	std::uint32_t capacity = 0;
	std::uint64_t rx_packets = 0;
	std::uint64_t tx_packets = 0;
	std::uint64_t delivered = 0; // to local sockets
	std::uint64_t dropped = 0;   // for any reason
};

using MissHandler = std::function<void(std::vector<Miss> &batch)>;

class Datapath
{
public:
	virtual ~Datapath() = default;

	// "kernel" or "user".
	virtual std::string kind() const = 0;

	// Starts receiving; misses go to @handler until stop().
	virtual void start(MissHandler handler) = 0;
	// Stops the threads start() made; no handler call after it returns.
	virtual void stop() = 0;

	// Acts on @miss as @actions say, and with @install puts @actions in
	// the cache for the miss's flow.
	virtual void execute(const Miss &miss, const Actions &actions, bool install) = 0;

	// The decision cache.  install() replaces any entry of the flow;
	// remove() returns false when there was none.
	virtual void install(const Flow &flow, const Actions &actions) = 0;
	virtual bool remove(const Flow &flow) = 0;
	virtual std::optional<CacheEntry> entry(const Flow &flow) = 0;
	virtual std::vector<CacheEntry> entries() = 0;

	// Sends a packet that starts here (a service's own): an ILP header
	// for @service and @conn with @metadata (whole TLVs), then @payload,
	// sealed for @to, which must be a peer with a transmit SA.
	virtual void send(const ilp::Endpoint &to, std::uint32_t service, std::uint64_t conn,
			  std::span<const std::uint8_t> metadata,
			  std::span<const std::uint8_t> payload) = 0;

	virtual DatapathStats stats() = 0;
};

} // namespace ilpd

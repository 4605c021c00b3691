// SPDX-License-Identifier: GPL-2.0-or-later
//
// The userspace datapath's decision cache, with the semantics of ilp.ko's
// (docs/decision-cache.md): keyed by (previous hop's address, service,
// connection), the previous hop's port ignored; forward/deliver/drop
// actions; per-entry packet and byte counts and last use; a capacity
// limit enforced by second-chance (CLOCK) eviction, so entries hit since
// the hand last passed stay; hit/missed/evicted counters.  No idle expiry
// here: the daemon's revalidator removes idle entries, as with the kernel.
//
// Thread-safe: lookups from any number of receive threads take no lock:
// they read the table under RCU (liburcu), as the kernel's do, and write
// only the atomics of the entry they hit and counters of their own thread.
// Changes are serialised among themselves by a lock lookups never take; an
// entry a change replaced, removed or evicted is freed a grace period
// later, once no lookup can still be reading it.  An entry's actions are
// an immutable object shared with the lookups that returned it, so what a
// lookup returned stays valid and unchanged for as long as it is held.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "datapath/datapath.hpp"

namespace ilpd
{

class DecisionCache
{
public:
	using Clock = std::chrono::steady_clock;

	// Throws std::invalid_argument for a @capacity of 0.
	explicit DecisionCache(std::uint32_t capacity = 65536);
	~DecisionCache();
	DecisionCache(const DecisionCache &) = delete;
	DecisionCache &operator=(const DecisionCache &) = delete;

	// The actions for a packet of @flow of @bytes bytes, or nullptr:
	// counts a hit (the entry's packets, bytes and last use too) or a
	// miss.  A hit shares the entry's decision rather than copying it
	// (a copy of a forward list allocates, per packet); the caller may
	// act on it after the entry is replaced or removed, as a packet
	// already looked up in ilp.ko's RCU-protected cache is.
	std::shared_ptr<const Actions> lookup(const Flow &flow, std::size_t bytes,
					      Clock::time_point now = Clock::now());

	// Adds or replaces @flow's entry (a replaced one's counters start
	// again at 0, as the kernel's do); in a full cache, evicts one first
	// (counted).  Throws std::invalid_argument for more than
	// ILP_MAX_FORWARD next hops, and for a drop that also forwards or
	// delivers: what ilp.ko refuses.  @now is unused: an entry's last
	// use is its last hit.
	void install(const Flow &flow, const Actions &actions,
		     Clock::time_point now = Clock::now());
	bool remove(const Flow &flow);
	// Removes the entries from @peer (previous hop: its address, as
	// flows are keyed) and those with @peer (address and port) among
	// their next hops, whole, as ilp_dc_del_peer(): what is decided for
	// a peer that is gone is decided again at the flow's next miss.
	// Not counted as evictions.  Returns how many went.
	std::size_t remove_peer(const ilp::Endpoint &peer);
	// Empties the cache; not counted as evictions.  Returns once every
	// entry it held is freed, the ones removed before too: the cache then
	// holds no reference to any decision (it waits for a grace period).
	void flush();

	// Entries as last installed: CacheEntry::flow has the port given to
	// install() (the kernel reports 0), though the port is no part of
	// the key.  entries() lists them in the order eviction meets them.
	std::optional<CacheEntry> entry(const Flow &flow,
					Clock::time_point now = Clock::now()) const;
	std::vector<CacheEntry> entries(Clock::time_point now = Clock::now()) const;

	// Shrinking evicts down to the new capacity at once.  0 is invalid.
	void set_capacity(std::uint32_t capacity);
	std::uint32_t capacity() const;
	std::uint32_t size() const;

	std::uint64_t hits() const noexcept;
	std::uint64_t misses() const noexcept;
	std::uint64_t evictions() const noexcept;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
//
// The userspace decision cache as it was before its lookups went lock-free:
// the same class and semantics as daemon/datapath/decision_cache.cpp, but
// an unordered_map behind a writer-first reader-writer lock, which every
// lookup takes shared (one cache line that every receive thread writes).
// Kept only as the baseline of the native benchmark (dcache_bench_rwlock,
// bench/native/run.sh's "cache" case); ilpd does not link it.
#include "datapath/decision_cache.hpp"
#include "writer_first_mutex.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex> // std::shared_lock
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

#include <linux/ilp.h>

namespace ilpd
{

namespace
{

// What an entry is found by: struct ilp_flow_key.  The previous hop is its
// address only: a sender's UDP source port is a flow hash (for ECMP), not
// its identity, so packets of one flow may come from many ports.
struct Key {
	std::array<std::uint8_t, 16> addr{}; // IPv4: the first 4, the rest 0
	std::uint32_t service = 0;
	std::uint16_t family = 0;
	std::uint64_t conn = 0;

	bool operator==(const Key &other) const noexcept = default;
};

Key key_of(const Flow &flow) noexcept
{
	Key k;
	auto bytes = flow.prev.addr_bytes();
	std::copy(bytes.begin(), bytes.end(), k.addr.begin());
	k.family = flow.prev.family;
	k.service = flow.service;
	k.conn = flow.conn;
	return k;
}

// splitmix64's finaliser: a bijection that spreads every input bit.
std::uint64_t mix(std::uint64_t x) noexcept
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

// Seeded per cache, as the kernel's rhashtable is: connection IDs are
// chosen by the far end, and a fixed hash would let a peer pick IDs that
// all land in one bucket and turn every lookup into a list walk.  (Not a
// keyed PRF like SipHash; the senders are peers that authenticated.)
struct KeyHash {
	std::uint64_t seed = 0;

	std::size_t operator()(const Key &k) const noexcept
	{
		std::uint64_t lo, hi;
		std::memcpy(&lo, k.addr.data(), sizeof(lo));
		std::memcpy(&hi, k.addr.data() + sizeof(lo), sizeof(hi));
		std::uint64_t h = mix(seed ^ lo);
		h = mix(h ^ hi);
		h = mix(h ^ ((std::uint64_t(k.service) << 16) | k.family));
		return static_cast<std::size_t>(mix(h ^ k.conn));
	}
};

using Clock = DecisionCache::Clock;

// "Never hit": a time no caller can pass, unlike the epoch, which a test's
// clock may well start at.
constexpr Clock::rep never = std::numeric_limits<Clock::rep>::min();

struct Entry;
using Node = std::pair<const Key, Entry>;

struct Entry {
	Entry(const Flow &f, std::shared_ptr<const Actions> a) : flow(f), actions(std::move(a)) {}

	// As last installed, port included: the port is no part of the key,
	// but it is what the installer said, and entries() shows it back.
	Flow flow;
	// Never null.  Immutable once installed, and shared with the lookups
	// that returned it, so that a hit costs a reference count rather than
	// a copy of the forward list (an allocation per packet).  The
	// pointer is changed only under the exclusive lock; the object is
	// never changed, so a receive thread may go on using it after the
	// lock is dropped, while a service thread replaces the entry.
	std::shared_ptr<const Actions> actions;
	// Written by lookups under the shared lock, so atomics; relaxed, as
	// nothing else is ordered by them (the kernel's are per-CPU u64_stats).
	std::atomic<std::uint64_t> packets{0};
	std::atomic<std::uint64_t> bytes{0};
	std::atomic<Clock::rep> used{never}; // time_since_epoch of the last hit
	std::atomic<bool> referenced{false}; // hit since the hand last passed
	// Its place on the clock, to unlink it in O(1).
	std::list<Node *>::iterator pos;
};

// Hit and miss counters, one pair per slot, each slot on cache lines of
// its own.  Every lookup bumps one of them, from every receive thread: a
// single atomic would be one cache line that every lookup on every core
// writes, and bouncing it between cores would cost more than the lookup
// (the kernel keeps these per CPU for the same reason).  A thread always
// counts in the same slot; readers add the slots up.  128 bytes, not 64:
// x86's adjacent-line prefetcher pulls lines in pairs.
constexpr std::size_t n_slots = 16;

struct alignas(128) Slot {
	std::atomic<std::uint64_t> hits{0};
	std::atomic<std::uint64_t> misses{0};
};

// This thread's slot: threads are dealt slots round robin as they first
// count, so up to n_slots receive threads share none.  More share some,
// which is still correct (the counters are atomic), only slower.
std::size_t slot_of_this_thread() noexcept
{
	static std::atomic<std::size_t> next{0};
	thread_local const std::size_t slot =
	    next.fetch_add(1, std::memory_order_relaxed) % n_slots;
	return slot;
}

} // namespace

struct DecisionCache::Impl {
	explicit Impl(std::uint32_t cap) : map(0, KeyHash{seed()}), capacity(cap) {}

	static std::uint64_t seed()
	{
		std::random_device rd;
		return (std::uint64_t(rd()) << 32) ^ rd();
	}

	// Evicts one entry by second chance (CLOCK), as ilp_dc_evict_one():
	// the hand is the front of @clock; an entry hit since the hand last
	// passed loses its referenced bit and goes to the back, spared once;
	// the first one not hit goes.  After a whole turn every bit is clear,
	// so 2 * size steps always find one; the last step evicts regardless,
	// as the kernel's does.  Takes the lock held exclusively, so no
	// lookup sets a bit meanwhile; the cache must not be empty.
	void evict_one() noexcept
	{
		for (std::size_t tries = 2 * clock.size(); tries--;) {
			Node *n = clock.front();
			if (n->second.referenced.load(std::memory_order_relaxed) && tries) {
				n->second.referenced.store(false, std::memory_order_relaxed);
				clock.splice(clock.end(), clock, clock.begin());
				continue;
			}
			clock.pop_front();
			// A copy: erasing destroys the node the key is in.
			const Key k = n->first;
			map.erase(k);
			evicted.fetch_add(1, std::memory_order_relaxed);
			return;
		}
	}

	CacheEntry entry_of(const Entry &e, Clock::time_point now) const
	{
		CacheEntry out{e.flow, *e.actions, e.packets.load(std::memory_order_relaxed),
			       e.bytes.load(std::memory_order_relaxed), std::nullopt};
		auto used = e.used.load(std::memory_order_relaxed);
		if (used != never) {
			auto idle = now - Clock::time_point(Clock::duration(used));
			// A @now before the last hit (callers' clocks need not
			// agree): it was just used.
			out.used_ms =
			    idle <= Clock::duration::zero()
				? 0
				: std::chrono::duration_cast<std::chrono::milliseconds>(idle)
				      .count();
		}
		return out;
	}

	// Writer first: an install must not wait behind the lookups.
	mutable WriterFirstMutex mu;
	// Guarded by mu.  Nodes of an unordered_map do not move on rehash,
	// so @clock may point into them and their atomics stay put.
	std::unordered_map<Key, Entry, KeyHash> map;
	// Every entry, in the order the hand meets them: oldest first, then
	// spared ones in the order they were spared (the kernel's dc->clock).
	std::list<Node *> clock;
	std::uint32_t capacity;

	std::array<Slot, n_slots> slots;
	// Bumped with mu held exclusively, read without it.
	std::atomic<std::uint64_t> evicted{0};
};

DecisionCache::DecisionCache(std::uint32_t capacity)
{
	if (!capacity)
		throw std::invalid_argument("a decision cache holds at least one entry");
	impl_ = std::make_unique<Impl>(capacity);
}

DecisionCache::~DecisionCache() = default;

std::shared_ptr<const Actions> DecisionCache::lookup(const Flow &flow, std::size_t bytes,
						     Clock::time_point now)
{
	const Key k = key_of(flow);
	Slot &slot = impl_->slots[slot_of_this_thread()];
	std::shared_lock lock(impl_->mu);
	auto it = impl_->map.find(k);
	if (it == impl_->map.end()) {
		slot.misses.fetch_add(1, std::memory_order_relaxed);
		return nullptr;
	}
	Entry &e = it->second;
	e.packets.fetch_add(1, std::memory_order_relaxed);
	e.bytes.fetch_add(bytes, std::memory_order_relaxed);
	// As ilp_dc_hit(): write the shared fields only when they change, so
	// that a hot entry's bit is not rewritten by every packet.
	const auto t = now.time_since_epoch().count();
	if (e.used.load(std::memory_order_relaxed) != t)
		e.used.store(t, std::memory_order_relaxed);
	if (!e.referenced.load(std::memory_order_relaxed))
		e.referenced.store(true, std::memory_order_relaxed);
	slot.hits.fetch_add(1, std::memory_order_relaxed);
	// A reference, taken under the lock (which is what keeps the pointer
	// from changing meanwhile): one atomic increment on the control
	// block, where a copy allocated the next hops' vector for every
	// packet.  Why not let the caller act under the shared lock instead,
	// with no count at all: it seals and sends (syscalls) while acting,
	// and a writer would wait behind a whole batch.
	return e.actions;
}

// @now is unused: installing is not a use; an entry's last use is its last hit
// (the kernel's entry starts with none too).
void DecisionCache::install(const Flow &flow, const Actions &actions, Clock::time_point)
{
	// What ilp.ko refuses (ilp_nl_actions()), refused here too.
	if (actions.forward.size() > ILP_MAX_FORWARD)
		throw std::invalid_argument(std::to_string(actions.forward.size()) +
					    " next hops (at most " +
					    std::to_string(ILP_MAX_FORWARD) + ")");
	if (actions.drop && (!actions.forward.empty() || actions.deliver))
		throw std::invalid_argument("a decision either drops or forwards and delivers");

	// Everything that can throw happens before the cache changes: the
	// copy, the map's node and the clock's node (kept in @spare until
	// the evictions are done), so a failed install leaves it as it was.
	const Key k = key_of(flow);
	auto copy = std::make_shared<const Actions>(actions);
	std::list<Node *> spare(1);
	// A replaced decision is released after the lock is (declared
	// before it, destroyed after it), so that a writer frees nothing
	// while lookups wait; lookups still holding it keep it alive anyway.
	std::shared_ptr<const Actions> replaced;
	std::unique_lock lock(impl_->mu);
	auto &d = *impl_;
	if (auto it = d.map.find(k); it != d.map.end()) {
		// The kernel replaces the entry by a new one, counters at 0,
		// in the old one's place on the clock.
		Entry &e = it->second;
		e.flow = flow;
		replaced = std::exchange(e.actions, std::move(copy));
		e.packets.store(0, std::memory_order_relaxed);
		e.bytes.store(0, std::memory_order_relaxed);
		e.used.store(never, std::memory_order_relaxed);
		e.referenced.store(false, std::memory_order_relaxed);
		return;
	}
	auto it = d.map.try_emplace(k, flow, std::move(copy)).first;
	// Evict before the new entry joins the clock, as the kernel does:
	// the hand must never pick the entry being installed.
	while (d.clock.size() >= d.capacity && !d.clock.empty())
		d.evict_one();
	spare.front() = &*it;
	d.clock.splice(d.clock.end(), spare);
	it->second.pos = std::prev(d.clock.end());
}

bool DecisionCache::remove(const Flow &flow)
{
	const Key k = key_of(flow);
	std::unique_lock lock(impl_->mu);
	auto it = impl_->map.find(k);
	if (it == impl_->map.end())
		return false;
	impl_->clock.erase(it->second.pos);
	impl_->map.erase(it);
	return true;
}

void DecisionCache::flush()
{
	std::unique_lock lock(impl_->mu);
	impl_->clock.clear();
	impl_->map.clear();
}

std::optional<CacheEntry> DecisionCache::entry(const Flow &flow, Clock::time_point now) const
{
	const Key k = key_of(flow);
	std::shared_lock lock(impl_->mu);
	auto it = impl_->map.find(k);
	if (it == impl_->map.end())
		return std::nullopt;
	return impl_->entry_of(it->second, now);
}

std::vector<CacheEntry> DecisionCache::entries(Clock::time_point now) const
{
	// A shared lock: lookups go on while the revalidator reads.
	std::shared_lock lock(impl_->mu);
	std::vector<CacheEntry> out;
	out.reserve(impl_->clock.size());
	for (const Node *n : impl_->clock)
		out.push_back(impl_->entry_of(n->second, now));
	return out;
}

void DecisionCache::set_capacity(std::uint32_t capacity)
{
	if (!capacity)
		throw std::invalid_argument("a decision cache holds at least one entry");
	std::unique_lock lock(impl_->mu);
	impl_->capacity = capacity;
	while (impl_->clock.size() > capacity)
		impl_->evict_one();
}

std::uint32_t DecisionCache::capacity() const
{
	std::shared_lock lock(impl_->mu);
	return impl_->capacity;
}

std::uint32_t DecisionCache::size() const
{
	std::shared_lock lock(impl_->mu);
	return static_cast<std::uint32_t>(impl_->map.size());
}

std::uint64_t DecisionCache::hits() const noexcept
{
	std::uint64_t n = 0;
	for (const auto &s : impl_->slots)
		n += s.hits.load(std::memory_order_relaxed);
	return n;
}

std::uint64_t DecisionCache::misses() const noexcept
{
	std::uint64_t n = 0;
	for (const auto &s : impl_->slots)
		n += s.misses.load(std::memory_order_relaxed);
	return n;
}

std::uint64_t DecisionCache::evictions() const noexcept
{
	return impl_->evicted.load(std::memory_order_relaxed);
}

} // namespace ilpd

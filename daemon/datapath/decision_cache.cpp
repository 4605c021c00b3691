// SPDX-License-Identifier: GPL-2.0-or-later
//
// The userspace decision cache: ilp.ko's (kmod/dcache.c) in a process, and
// built the same way: the table is read under RCU (liburcu's, its
// lock-free hash table), so a lookup takes no lock and writes no line that
// other receive threads write, unless they hit the same entry; changes are
// serialised by a mutex that only writers take, and an entry a change took
// out of the table is freed a grace period later.  The behaviour seen from
// outside (keys, counters, which entry capacity eviction picks) is the
// kernel's, so that a node cannot tell which datapath its peer runs.
#include "datapath/decision_cache.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include <linux/ilp.h>

// The inline read side (a thread-local counter), not calls into the
// library per lookup.  "bulletproof" flavour: threads need not register.
#define _LGPL_SOURCE 1
#include <urcu/urcu-bp.h>
// After the flavour, as the header asks.
#include <urcu/rculfhash.h>

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

// What the hash table links: standard layout, so that a cds_lfht_node or an
// rcu_head the library hands back converts to it (the node is its first
// member, the head at a fixed offset), and from it to its entry.
struct Link {
	cds_lfht_node node;
	rcu_head rcu;
	Entry *owner;
};

// One cached decision.  Published once complete and never changed after,
// except its counters: replacing an entry publishes a new one in its
// place, so a lookup sees either the old or the new, whole.  Freed a grace
// period after it left the table: a lookup that found it may still be
// reading it (the kernel's kfree_rcu()).
struct Entry {
	Entry(const Key &k, const Flow &f, std::shared_ptr<const Actions> a)
	    : key(k), flow(f), actions(std::move(a))
	{
		cds_lfht_node_init(&link.node);
		link.owner = this;
	}

	const Key key;
	// As last installed, port included: the port is no part of the key,
	// but it is what the installer said, and entries() shows it back.
	const Flow flow;
	// Never null, never changed, and shared with the lookups that
	// returned it, so that a hit costs a reference count rather than a
	// copy of the forward list (an allocation per packet); a receive
	// thread may go on using it after the entry is gone.
	const std::shared_ptr<const Actions> actions;
	// Written by lookups concurrently, so atomics; relaxed, as nothing
	// else is ordered by them (the kernel's are per-CPU u64_stats).
	std::atomic<std::uint64_t> packets{0};
	std::atomic<std::uint64_t> bytes{0};
	std::atomic<Clock::rep> used{never}; // time_since_epoch of the last hit
	std::atomic<bool> referenced{false}; // hit since the hand last passed
	// Its place on the clock, to unlink it in O(1); the writers' alone.
	std::list<Entry *>::iterator pos;
	Link link;
};

Entry *entry_of_node(cds_lfht_node *n) noexcept
{
	return reinterpret_cast<Link *>(n)->owner;
}

int key_matches(cds_lfht_node *n, const void *key) noexcept
{
	return entry_of_node(n)->key == *static_cast<const Key *>(key);
}

// call_rcu's callback: no lookup can hold the entry any more.
void free_entry(rcu_head *head) noexcept
{
	auto *link = reinterpret_cast<Link *>(reinterpret_cast<char *>(head) - offsetof(Link, rcu));
	delete link->owner;
}

// A read-side critical section: while it lasts, no entry this thread found
// is freed.  urcu-bp registers a thread at its first one, by itself: the
// cache is called from threads it did not make (receive threads, service
// threads, the control thread) and must not ask each to register.  Cheap
// with the membarrier() system call, which the grace periods use instead of
// barriers on this side: a per-thread counter written, no shared line.
struct ReadSide {
	ReadSide() noexcept { urcu_bp_read_lock(); }
	~ReadSide() { urcu_bp_read_unlock(); }
	ReadSide(const ReadSide &) = delete;
	ReadSide &operator=(const ReadSide &) = delete;
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
	explicit Impl(std::uint32_t cap) : hash(KeyHash{seed()}), capacity(cap)
	{
		// Resized by liburcu's worker as entries come and go; lookups
		// go on during a resize.
		ht = cds_lfht_new_flavor(initial_buckets, initial_buckets, 0,
					 CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
					 &urcu_bp_flavor, nullptr);
		if (!ht)
			throw std::bad_alloc();
	}

	// The owner destroys the cache once no thread uses it, so nothing
	// reads the entries any more; the grace period is for liburcu's
	// resize worker, which may still walk the table.
	~Impl()
	{
		{
			ReadSide rs;
			for (Entry *e : clock)
				cds_lfht_del(ht, &e->link.node);
		}
		urcu_bp_synchronize_rcu();
		for (Entry *e : clock)
			delete e;
		clock.clear();
		// Entries removed earlier, still waiting for their grace period.
		urcu_bp_barrier();
		cds_lfht_destroy(ht, nullptr);
	}

	Impl(const Impl &) = delete;
	Impl &operator=(const Impl &) = delete;

	static std::uint64_t seed()
	{
		std::random_device rd;
		return (std::uint64_t(rd()) << 32) ^ rd();
	}

	// Takes @e out of the table (the caller has taken it off the clock)
	// and frees it once no lookup can hold it.  With mu held, in a read
	// side (what cds_lfht_del() asks).
	void unlink(Entry *e) noexcept
	{
		cds_lfht_del(ht, &e->link.node);
		count.fetch_sub(1, std::memory_order_relaxed);
		urcu_bp_call_rcu(&e->link.rcu, free_entry);
	}

	// Evicts one entry by second chance (CLOCK), as ilp_dc_evict_one():
	// the hand is the front of @clock; an entry hit since the hand last
	// passed loses its referenced bit and goes to the back, spared once;
	// the first one not hit goes.  After a whole turn every bit is clear,
	// so 2 * size steps always find one; the last step evicts regardless,
	// as the kernel's does.  A lookup may set a bit meanwhile, as in the
	// kernel: it only spares an entry that was just hit.  With mu held,
	// in a read side; the cache must not be empty.
	void evict_one() noexcept
	{
		for (std::size_t tries = 2 * clock.size(); tries--;) {
			Entry *e = clock.front();
			if (e->referenced.load(std::memory_order_relaxed) && tries) {
				e->referenced.store(false, std::memory_order_relaxed);
				clock.splice(clock.end(), clock, clock.begin());
				continue;
			}
			clock.pop_front();
			unlink(e);
			evicted.fetch_add(1, std::memory_order_relaxed);
			return;
		}
	}

	// @k's entry, or nullptr.  In a read side: the entry stays valid
	// until it ends.
	Entry *find(const Key &k) const noexcept
	{
		cds_lfht_iter it;
		cds_lfht_lookup(ht, hash(k), key_matches, &k, &it);
		cds_lfht_node *n = cds_lfht_iter_get_node(&it);
		return n ? entry_of_node(n) : nullptr;
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

	static constexpr unsigned long initial_buckets = 64;

	const KeyHash hash;
	cds_lfht *ht = nullptr;
	// Taken by changes and by entries(), never by lookups.
	std::mutex mu;
	// Guarded by mu.  Every entry, in the order the hand meets them:
	// oldest first, then spared ones in the order they were spared (the
	// kernel's dc->clock).  Holding mu keeps every entry on it alive:
	// only a change, under mu, retires one.
	std::list<Entry *> clock;
	// Written under mu, read without it.
	std::atomic<std::uint32_t> capacity;
	std::atomic<std::uint32_t> count{0};
	std::atomic<std::uint64_t> evicted{0};

	std::array<Slot, n_slots> slots;
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
	ReadSide rs;
	Entry *e = impl_->find(k);
	if (!e) {
		slot.misses.fetch_add(1, std::memory_order_relaxed);
		return nullptr;
	}
	e->packets.fetch_add(1, std::memory_order_relaxed);
	e->bytes.fetch_add(bytes, std::memory_order_relaxed);
	// As ilp_dc_hit(): write the shared fields only when they change, so
	// that a hot entry's bit is not rewritten by every packet.
	const auto t = now.time_since_epoch().count();
	if (e->used.load(std::memory_order_relaxed) != t)
		e->used.store(t, std::memory_order_relaxed);
	if (!e->referenced.load(std::memory_order_relaxed))
		e->referenced.store(true, std::memory_order_relaxed);
	slot.hits.fetch_add(1, std::memory_order_relaxed);
	// A reference, taken in the read side (which is what keeps the entry
	// and so its pointer alive meanwhile): one atomic increment on the
	// control block, where a copy allocated the next hops' vector for
	// every packet.  Why not let the caller act in the read side instead,
	// with no count at all: it seals and sends (syscalls) while acting,
	// and a grace period would wait behind a whole batch.
	return e->actions;
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
	// entry and the clock's node (kept in @spare until the evictions are
	// done), so a failed install leaves it as it was.
	auto &d = *impl_;
	const Key k = key_of(flow);
	const unsigned long h = d.hash(k);
	auto fresh = std::make_unique<Entry>(k, flow, std::make_shared<const Actions>(actions));
	std::list<Entry *> spare(1, fresh.get());
	std::lock_guard lock(d.mu);
	ReadSide rs;
	cds_lfht_iter it;
	cds_lfht_lookup(d.ht, h, key_matches, &k, &it);
	if (cds_lfht_node *n = cds_lfht_iter_get_node(&it)) {
		// The kernel replaces the entry by a new one, counters at 0,
		// in the old one's place on the clock.  Lookups find the old
		// or the new one, never neither.  Cannot fail: the same key,
		// and only writers, under mu, take entries out.
		Entry *old = entry_of_node(n);
		cds_lfht_replace(d.ht, &it, h, key_matches, &k, &fresh->link.node);
		Entry *e = fresh.release();
		e->pos = old->pos;
		*e->pos = e;
		urcu_bp_call_rcu(&old->link.rcu, free_entry);
		return;
	}
	// Evict before the new entry joins the clock, as the kernel does:
	// the hand must never pick the entry being installed.
	while (d.clock.size() >= d.capacity.load(std::memory_order_relaxed) && !d.clock.empty())
		d.evict_one();
	d.clock.splice(d.clock.end(), spare);
	fresh->pos = std::prev(d.clock.end());
	cds_lfht_add(d.ht, h, &fresh.release()->link.node);
	d.count.fetch_add(1, std::memory_order_relaxed);
}

bool DecisionCache::remove(const Flow &flow)
{
	const Key k = key_of(flow);
	std::lock_guard lock(impl_->mu);
	ReadSide rs;
	Entry *e = impl_->find(k);
	if (!e)
		return false;
	impl_->clock.erase(e->pos);
	impl_->unlink(e);
	return true;
}

std::size_t DecisionCache::remove_peer(const ilp::Endpoint &peer)
{
	Flow from;
	from.prev = peer;
	const Key prev = key_of(from);
	auto names_peer = [&](const Entry &e) {
		if (e.key.family == prev.family && e.key.addr == prev.addr)
			return true;
		const auto &fwd = e.actions->forward;
		return std::find(fwd.begin(), fwd.end(), peer) != fwd.end();
	};
	std::size_t n = 0;
	std::lock_guard lock(impl_->mu);
	ReadSide rs;
	for (auto it = impl_->clock.begin(); it != impl_->clock.end();) {
		Entry *e = *it;
		if (!names_peer(*e)) {
			++it;
			continue;
		}
		it = impl_->clock.erase(it);
		impl_->unlink(e);
		n++;
	}
	return n;
}

void DecisionCache::flush()
{
	{
		std::lock_guard lock(impl_->mu);
		ReadSide rs;
		for (Entry *e : impl_->clock)
			impl_->unlink(e);
		impl_->clock.clear();
	}
	// Once the flush is done, the cache holds no decision at all, not
	// even one waiting for its grace period (what a caller dropping a
	// service's decisions expects).  Not in a read side: it waits for one.
	urcu_bp_barrier();
}

std::optional<CacheEntry> DecisionCache::entry(const Flow &flow, Clock::time_point now) const
{
	const Key k = key_of(flow);
	ReadSide rs;
	const Entry *e = impl_->find(k);
	if (!e)
		return std::nullopt;
	return impl_->entry_of(*e, now);
}

std::vector<CacheEntry> DecisionCache::entries(Clock::time_point now) const
{
	// The writers' lock, for the clock's order; lookups go on meanwhile.
	std::lock_guard lock(impl_->mu);
	std::vector<CacheEntry> out;
	out.reserve(impl_->clock.size());
	for (const Entry *e : impl_->clock)
		out.push_back(impl_->entry_of(*e, now));
	return out;
}

void DecisionCache::set_capacity(std::uint32_t capacity)
{
	if (!capacity)
		throw std::invalid_argument("a decision cache holds at least one entry");
	std::lock_guard lock(impl_->mu);
	ReadSide rs;
	impl_->capacity.store(capacity, std::memory_order_relaxed);
	while (impl_->clock.size() > capacity)
		impl_->evict_one();
}

std::uint32_t DecisionCache::capacity() const
{
	return impl_->capacity.load(std::memory_order_relaxed);
}

std::uint32_t DecisionCache::size() const
{
	return impl_->count.load(std::memory_order_relaxed);
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

// SPDX-License-Identifier: GPL-2.0-or-later
//
// The userspace decision cache: the semantics of ilp.ko's
// (docs/decision-cache.md), which a peer must not be able to tell apart.
// Time is passed in, so that last-use ages are exact.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <cppunit/extensions/HelperMacros.h>

#include "datapath/decision_cache.hpp"

using namespace ilpd;
using namespace std::chrono_literals;
using ilp::Endpoint;
using Clock = DecisionCache::Clock;

namespace
{

// Not the epoch: an implementation must not take a time of 0 for "never".
const Clock::time_point t0 = Clock::time_point{} + 1h;

Flow flow(const char *prev, std::uint32_t service, std::uint64_t conn)
{
	return Flow{Endpoint::parse(prev), service, conn};
}

// Flows that differ in their connection only.
Flow conn(std::uint64_t c)
{
	return flow("192.0.2.1", 7, c);
}

Actions forward_to(const char *hop)
{
	Actions a;
	a.forward.push_back(Endpoint::parse(hop));
	return a;
}

Actions deliver()
{
	Actions a;
	a.deliver = true;
	return a;
}

Actions hops(std::size_t n)
{
	Actions a;
	for (std::size_t i = 0; i < n; i++)
		a.forward.push_back(Endpoint::parse("198.51.100.1:" + std::to_string(1000 + i)));
	return a;
}

// The connections of the cache's entries, in the order entries() gives.
std::vector<std::uint64_t> conns(const DecisionCache &c)
{
	std::vector<std::uint64_t> out;
	for (const auto &e : c.entries(t0))
		out.push_back(e.flow.conn);
	return out;
}

using Conns = std::vector<std::uint64_t>;

// A small PRNG of each thread's own: std::rand() is not thread-safe.
struct Lcg {
	std::uint64_t s;
	std::uint32_t operator()()
	{
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		return static_cast<std::uint32_t>(s >> 33);
	}
};

} // namespace

class DecisionCacheTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(DecisionCacheTest);
	CPPUNIT_TEST(lookup__counts_hits_and_misses);
	CPPUNIT_TEST(lookup__shares_the_decision_and_it_outlives_the_entry);
	CPPUNIT_TEST(key__prev_port_ignored);
	CPPUNIT_TEST(key__address_service_conn_and_family_distinguish);
	CPPUNIT_TEST(key__ipv4_uses_its_4_bytes_only);
	CPPUNIT_TEST(install__replace_resets_counters);
	CPPUNIT_TEST(install__replace_keeps_place_on_the_clock);
	CPPUNIT_TEST(install__more_than_16_hops_throws);
	CPPUNIT_TEST(install__drop_with_forward_or_deliver_throws);
	CPPUNIT_TEST(capacity__never_exceeded_and_evictions_counted);
	CPPUNIT_TEST(evict__second_chance_spares_a_hot_entry);
	CPPUNIT_TEST(evict__clock_order);
	CPPUNIT_TEST(set_capacity__shrink_evicts_at_once);
	CPPUNIT_TEST(set_capacity__zero_throws);
	CPPUNIT_TEST(used_ms__none_until_hit_then_since_last);
	CPPUNIT_TEST(remove__absent_returns_false);
	CPPUNIT_TEST(flush__empties_without_counting);
	CPPUNIT_TEST(concurrent__hits_and_misses_add_up);
	CPPUNIT_TEST(concurrent__entry_counters_add_up);
	CPPUNIT_TEST(concurrent__lookups_never_see_a_freed_entry);
	CPPUNIT_TEST(concurrent__held_decisions_outlive_replace_and_flush);
	CPPUNIT_TEST_SUITE_END();

public:
	void lookup__counts_hits_and_misses()
	{
		DecisionCache c;
		const Flow f = flow("192.0.2.1:1000", 7, 42);
		CPPUNIT_ASSERT(!c.lookup(f, 100, t0));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), c.hits());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.misses());

		c.install(f, forward_to("198.51.100.1:2000"), t0);
		auto a = c.lookup(f, 100, t0);
		CPPUNIT_ASSERT(a && *a == forward_to("198.51.100.1:2000"));
		CPPUNIT_ASSERT(c.lookup(f, 50, t0));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), c.hits());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.misses());

		auto e = c.entry(f, t0);
		CPPUNIT_ASSERT(e);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), e->packets);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(150), e->bytes);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), c.size());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(65536), c.capacity());
	}

	void lookup__shares_the_decision_and_it_outlives_the_entry()
	{
		// Hits hand out the entry's decision itself, not a copy, and
		// what a lookup returned is a snapshot: replacing or removing
		// the entry changes neither it nor its lifetime.
		DecisionCache c;
		const Flow f = conn(1);
		c.install(f, forward_to("198.51.100.1:2000"), t0);
		auto a = c.lookup(f, 1, t0);
		auto b = c.lookup(f, 1, t0);
		CPPUNIT_ASSERT(a && b);
		CPPUNIT_ASSERT_EQUAL(a.get(), b.get());

		c.install(f, forward_to("198.51.100.2:2000"), t0);
		CPPUNIT_ASSERT(*a == forward_to("198.51.100.1:2000"));
		auto after = c.lookup(f, 1, t0);
		CPPUNIT_ASSERT(after && *after == forward_to("198.51.100.2:2000"));
		CPPUNIT_ASSERT(after.get() != a.get());

		CPPUNIT_ASSERT(c.remove(f));
		c.flush();
		CPPUNIT_ASSERT(*after == forward_to("198.51.100.2:2000"));
		CPPUNIT_ASSERT(*b == forward_to("198.51.100.1:2000"));
		// The cache keeps no reference to what it no longer holds.
		CPPUNIT_ASSERT_EQUAL(2L, a.use_count());
		CPPUNIT_ASSERT_EQUAL(1L, after.use_count());

		// entry() reports the decision by value, as before.
		c.install(f, deliver(), t0);
		auto e = c.entry(f, t0);
		CPPUNIT_ASSERT(e && e->actions == deliver());
	}

	void key__prev_port_ignored()
	{
		DecisionCache c;
		c.install(flow("192.0.2.1:1000", 7, 42), deliver(), t0);
		// The sender's port is a flow hash: any port is the same flow.
		CPPUNIT_ASSERT(c.lookup(flow("192.0.2.1:2000", 7, 42), 1, t0));
		CPPUNIT_ASSERT(c.entry(flow("192.0.2.1:9", 7, 42), t0));

		// Installing from another port replaces, and the entry shows
		// the port it was last installed with.
		c.install(flow("192.0.2.1:3000", 7, 42), forward_to("198.51.100.1"), t0);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), c.size());
		auto e = c.entry(flow("192.0.2.1:9", 7, 42), t0);
		CPPUNIT_ASSERT(e);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(3000), e->flow.prev.port);
		CPPUNIT_ASSERT(e->actions == forward_to("198.51.100.1"));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(3000), c.entries(t0).at(0).flow.prev.port);

		CPPUNIT_ASSERT(c.remove(flow("192.0.2.1:4000", 7, 42)));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), c.size());
	}

	void key__address_service_conn_and_family_distinguish()
	{
		DecisionCache c;
		c.install(flow("192.0.2.1", 7, 42), deliver(), t0);
		c.install(flow("[2001:db8::1]", 7, 42), forward_to("198.51.100.1"), t0);
		CPPUNIT_ASSERT(!c.lookup(flow("192.0.2.2", 7, 42), 1, t0));     // address
		CPPUNIT_ASSERT(!c.lookup(flow("192.0.2.1", 8, 42), 1, t0));     // service
		CPPUNIT_ASSERT(!c.lookup(flow("192.0.2.1", 7, 43), 1, t0));     // connection
		CPPUNIT_ASSERT(!c.lookup(flow("[2001:db8::2]", 7, 42), 1, t0)); // v6 address
		// The same 4 bytes in an IPv6 address are another hop.
		CPPUNIT_ASSERT(!c.lookup(flow("[::ffff:192.0.2.1]", 7, 42), 1, t0));
		CPPUNIT_ASSERT(!c.lookup(flow("[::c000:201]", 7, 42), 1, t0));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), c.hits());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(6), c.misses());

		auto v4 = c.lookup(flow("192.0.2.1", 7, 42), 1, t0);
		auto v6 = c.lookup(flow("[2001:db8::1]", 7, 42), 1, t0);
		CPPUNIT_ASSERT(v4 && *v4 == deliver());
		CPPUNIT_ASSERT(v6 && *v6 == forward_to("198.51.100.1"));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), c.hits());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), c.size());
	}

	void key__ipv4_uses_its_4_bytes_only()
	{
		// Endpoint compares an IPv4 address by its 4 bytes; so must
		// the key, whatever the other 12 hold.
		DecisionCache c;
		c.install(flow("192.0.2.1", 7, 42), deliver(), t0);
		Flow dirty = flow("192.0.2.1", 7, 42);
		dirty.prev.addr.s6_addr[12] = 0xff;
		CPPUNIT_ASSERT(c.lookup(dirty, 1, t0));
	}

	void install__replace_resets_counters()
	{
		DecisionCache c;
		const Flow f = conn(1);
		c.install(f, deliver(), t0);
		for (int i = 0; i < 3; i++)
			CPPUNIT_ASSERT(c.lookup(f, 10, t0));
		auto before = c.entry(f, t0);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), before->packets);
		CPPUNIT_ASSERT(before->used_ms);

		// As the kernel: the entry is replaced, counters start again.
		c.install(f, forward_to("198.51.100.1"), t0);
		auto after = c.entry(f, t0);
		CPPUNIT_ASSERT(after);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), after->packets);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), after->bytes);
		CPPUNIT_ASSERT(!after->used_ms);
		CPPUNIT_ASSERT(after->actions == forward_to("198.51.100.1"));
		auto a = c.lookup(f, 10, t0);
		CPPUNIT_ASSERT(a && *a == forward_to("198.51.100.1"));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), c.size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), c.evictions());
		// The cache's own counters are not the entry's: they stay.
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), c.hits());
	}

	void install__replace_keeps_place_on_the_clock()
	{
		// The kernel's replacement takes the old entry's place on the
		// clock, unreferenced: replacing is neither a hit nor a new
		// insertion.
		DecisionCache c(3);
		c.install(conn(1), deliver(), t0);
		c.install(conn(2), deliver(), t0);
		c.install(conn(3), deliver(), t0);
		CPPUNIT_ASSERT(c.lookup(conn(1), 1, t0));
		c.install(conn(1), forward_to("198.51.100.1"), t0); // clears the bit
		CPPUNIT_ASSERT(conns(c) == (Conns{1, 2, 3}));
		c.install(conn(4), deliver(), t0);
		CPPUNIT_ASSERT(conns(c) == (Conns{2, 3, 4}));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.evictions());
	}

	void install__more_than_16_hops_throws()
	{
		DecisionCache c;
		c.install(conn(1), hops(ILP_MAX_FORWARD), t0);
		CPPUNIT_ASSERT_THROW(c.install(conn(1), hops(ILP_MAX_FORWARD + 1), t0),
				     std::invalid_argument);
		CPPUNIT_ASSERT_THROW(c.install(conn(2), hops(ILP_MAX_FORWARD + 1), t0),
				     std::invalid_argument);
		// Refused installs change nothing.
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), c.size());
		auto e = c.entry(conn(1), t0);
		CPPUNIT_ASSERT(e && e->actions == hops(ILP_MAX_FORWARD));
	}

	void install__drop_with_forward_or_deliver_throws()
	{
		// ilp.ko refuses these (ilp_nl_actions()), and so does libilp.
		DecisionCache c;
		Actions a = forward_to("198.51.100.1");
		a.drop = true;
		CPPUNIT_ASSERT_THROW(c.install(conn(1), a, t0), std::invalid_argument);
		Actions b = deliver();
		b.drop = true;
		CPPUNIT_ASSERT_THROW(c.install(conn(1), b, t0), std::invalid_argument);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), c.size());

		// A plain drop, and no action at all (also a drop), are fine.
		Actions drop;
		drop.drop = true;
		c.install(conn(1), drop, t0);
		c.install(conn(2), Actions{}, t0);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), c.size());
	}

	void capacity__never_exceeded_and_evictions_counted()
	{
		DecisionCache c(8);
		for (std::uint64_t i = 0; i < 100; i++) {
			c.install(conn(i), deliver(), t0);
			CPPUNIT_ASSERT(c.size() <= 8);
		}
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(8), c.size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(100 - 8), c.evictions());
		CPPUNIT_ASSERT_EQUAL(std::size_t(8), c.entries(t0).size());
		// Nothing was hit: the hand takes the oldest, the newest stay.
		CPPUNIT_ASSERT(conns(c) == (Conns{92, 93, 94, 95, 96, 97, 98, 99}));
		CPPUNIT_ASSERT(!c.lookup(conn(91), 1, t0));
		CPPUNIT_ASSERT(c.lookup(conn(92), 1, t0));
	}

	void evict__second_chance_spares_a_hot_entry()
	{
		DecisionCache c(8);
		const Flow hot = flow("203.0.113.9", 1, 1);
		c.install(hot, deliver(), t0);
		for (std::uint64_t i = 0; i < 100; i++) {
			// Hit between every two inserts: first in, but never
			// evicted (first in, first out would take it after 8).
			CPPUNIT_ASSERT(c.lookup(hot, 1, t0));
			c.install(conn(i), deliver(), t0);
			CPPUNIT_ASSERT(c.size() <= 8);
		}
		auto e = c.entry(hot, t0);
		CPPUNIT_ASSERT(e);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(100), e->packets);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(101 - 8), c.evictions());
	}

	void evict__clock_order()
	{
		// Exactly the kernel's hand: a referenced entry loses its bit
		// and goes behind the others; the first unreferenced one goes.
		DecisionCache c(3);
		c.install(conn(1), deliver(), t0);
		c.install(conn(2), deliver(), t0);
		c.install(conn(3), deliver(), t0);
		CPPUNIT_ASSERT(c.lookup(conn(1), 1, t0));

		c.install(conn(4), deliver(), t0); // 1 spared, 2 goes
		CPPUNIT_ASSERT(conns(c) == (Conns{3, 1, 4}));
		c.install(conn(5), deliver(), t0); // 3 goes
		CPPUNIT_ASSERT(conns(c) == (Conns{1, 4, 5}));
		c.install(conn(6), deliver(), t0); // 1 had its one chance
		CPPUNIT_ASSERT(conns(c) == (Conns{4, 5, 6}));

		// Every entry referenced: a whole turn clears every bit, then
		// the oldest goes.
		for (std::uint64_t i : {4, 5, 6})
			CPPUNIT_ASSERT(c.lookup(conn(i), 1, t0));
		c.install(conn(7), deliver(), t0);
		CPPUNIT_ASSERT(conns(c) == (Conns{5, 6, 7}));
		c.install(conn(8), deliver(), t0); // 5's bit was cleared
		CPPUNIT_ASSERT(conns(c) == (Conns{6, 7, 8}));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), c.evictions());
	}

	void set_capacity__shrink_evicts_at_once()
	{
		DecisionCache c(8);
		for (std::uint64_t i = 0; i < 8; i++)
			c.install(conn(i), deliver(), t0);
		CPPUNIT_ASSERT(c.lookup(conn(0), 1, t0));
		CPPUNIT_ASSERT(c.lookup(conn(1), 1, t0));

		c.set_capacity(3);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), c.capacity());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), c.size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), c.evictions());
		// The same second chance: the two hit ones stay.
		CPPUNIT_ASSERT(conns(c) == (Conns{7, 0, 1}));

		// Growing evicts nothing, and the room is there at once.
		c.set_capacity(10);
		for (std::uint64_t i = 100; i < 107; i++)
			c.install(conn(i), deliver(), t0);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(10), c.size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), c.evictions());
		c.set_capacity(10); // no change: nothing to do
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), c.evictions());
	}

	void set_capacity__zero_throws()
	{
		DecisionCache c(8);
		c.install(conn(1), deliver(), t0);
		CPPUNIT_ASSERT_THROW(c.set_capacity(0), std::invalid_argument);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(8), c.capacity());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), c.size());
		CPPUNIT_ASSERT_THROW(DecisionCache(0), std::invalid_argument);
	}

	void used_ms__none_until_hit_then_since_last()
	{
		DecisionCache c;
		const Flow f = conn(1);
		c.install(f, deliver(), t0);
		auto e = c.entry(f, t0 + 5s);
		CPPUNIT_ASSERT(e && !e->used_ms);
		CPPUNIT_ASSERT(!c.entries(t0 + 5s).at(0).used_ms);

		CPPUNIT_ASSERT(c.lookup(f, 1, t0 + 1s));
		e = c.entry(f, t0 + 1s + 250ms);
		CPPUNIT_ASSERT(e && e->used_ms);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(250), *e->used_ms);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(250), *c.entries(t0 + 1s + 250ms).at(0).used_ms);

		// The last hit counts; milliseconds are whole, as the kernel's.
		CPPUNIT_ASSERT(c.lookup(f, 1, t0 + 2s));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), *c.entry(f, t0 + 2s)->used_ms);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), *c.entry(f, t0 + 2s + 1999us)->used_ms);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(60000), *c.entry(f, t0 + 62s)->used_ms);
		// A clock behind the last hit: just used, not a huge age.
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), *c.entry(f, t0)->used_ms);

		// A hit at the clock's epoch is a hit too.
		const Flow g = conn(2);
		c.install(g, deliver(), Clock::time_point{});
		CPPUNIT_ASSERT(c.lookup(g, 1, Clock::time_point{}));
		e = c.entry(g, Clock::time_point{} + 3ms);
		CPPUNIT_ASSERT(e && e->used_ms);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), *e->used_ms);
	}

	void remove__absent_returns_false()
	{
		DecisionCache c(3);
		CPPUNIT_ASSERT(!c.remove(conn(1)));
		c.install(conn(1), deliver(), t0);
		c.install(conn(2), deliver(), t0);
		c.install(conn(3), deliver(), t0);
		CPPUNIT_ASSERT(c.remove(conn(2)));
		CPPUNIT_ASSERT(!c.remove(conn(2)));
		CPPUNIT_ASSERT(!c.lookup(conn(2), 1, t0));
		CPPUNIT_ASSERT(!c.entry(conn(2), t0));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), c.size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), c.evictions());

		// The clock lost it too: two inserts evict one, the oldest.
		c.install(conn(4), deliver(), t0);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), c.evictions());
		c.install(conn(5), deliver(), t0);
		CPPUNIT_ASSERT(conns(c) == (Conns{3, 4, 5}));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.evictions());
	}

	void flush__empties_without_counting()
	{
		DecisionCache c(4);
		for (std::uint64_t i = 0; i < 4; i++)
			c.install(conn(i), deliver(), t0);
		CPPUNIT_ASSERT(c.lookup(conn(0), 1, t0));
		c.flush();
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), c.size());
		CPPUNIT_ASSERT(c.entries(t0).empty());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), c.evictions());
		CPPUNIT_ASSERT(!c.lookup(conn(0), 1, t0));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.hits());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), c.misses());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(4), c.capacity());

		// Usable again, capacity and all.
		for (std::uint64_t i = 10; i < 16; i++)
			c.install(conn(i), deliver(), t0);
		CPPUNIT_ASSERT(conns(c) == (Conns{12, 13, 14, 15}));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), c.evictions());
	}

	// The actions the concurrent tests install for connection @c: the
	// hop count and the ports tell whose they are, so a reader that got
	// a torn or foreign entry notices.
	static Actions actions_of(std::uint64_t c)
	{
		Actions a;
		for (std::uint64_t i = 0; i <= c % 4; i++)
			a.forward.push_back(
			    Endpoint::parse("198.51.100.1:" + std::to_string(1000 + c)));
		return a;
	}

	void concurrent__hits_and_misses_add_up()
	{
		// Readers look up while a writer installs, removes, evicts (a
		// capacity under the flows in play, and shrinking) and dumps.
		// Every lookup must be counted once, as what it returned.
		// Readers go on until the writer has done enough to have
		// evicted: on two busy cores four readers could otherwise
		// finish before the writer was scheduled at all.
		constexpr int readers = 4;
		constexpr std::uint64_t lookups = 200000, flows = 64;
		constexpr std::uint64_t min_writes = 5000;
		DecisionCache c(48);
		std::atomic<bool> done{false};
		std::atomic<std::uint64_t> hits{0}, misses{0}, wrong{0}, writes{0};
		std::latch start(readers + 1);

		std::thread writer([&] {
			Lcg rng{99};
			start.arrive_and_wait();
			while (!done.load()) {
				std::uint64_t i = rng() % flows;
				switch (rng() % 16) {
				case 0:
					c.set_capacity(16);
					c.set_capacity(48);
					break;
				case 1:
					(void)c.entries();
					break;
				case 2:
				case 3:
				case 4:
				case 5:
				case 6:
					c.remove(conn(i));
					break;
				default:
					c.install(conn(i), actions_of(i));
				}
				writes++;
			}
		});
		std::vector<std::thread> threads;
		for (int t = 0; t < readers; t++)
			threads.emplace_back([&, t] {
				Lcg rng{std::uint64_t(t) + 1};
				std::uint64_t h = 0, m = 0, bad = 0;
				start.arrive_and_wait();
				for (std::uint64_t n = 0; n < lookups || writes.load() < min_writes;
				     n++) {
					std::uint64_t i = rng() % flows;
					auto a = c.lookup(conn(i), 100);
					if (!a) {
						m++;
						continue;
					}
					h++;
					if (*a != actions_of(i))
						bad++;
				}
				hits += h;
				misses += m;
				wrong += bad;
			});
		for (auto &th : threads)
			th.join();
		done = true;
		writer.join();

		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), wrong.load());
		CPPUNIT_ASSERT(hits + misses >= readers * lookups);
		CPPUNIT_ASSERT_EQUAL(hits + misses, c.hits() + c.misses());
		CPPUNIT_ASSERT_EQUAL(hits.load(), c.hits());
		CPPUNIT_ASSERT_EQUAL(misses.load(), c.misses());
		// It did race: both outcomes happened, and the writer ran.
		CPPUNIT_ASSERT(hits > 0 && misses > 0 && writes > 0);
		CPPUNIT_ASSERT(c.evictions() > 0);
		CPPUNIT_ASSERT(c.size() <= 48);
	}

	void concurrent__entry_counters_add_up()
	{
		// Readers all hit one entry (one contended set of counters)
		// while a writer changes the others; no packet or byte may be
		// lost.  The capacity leaves the hot entry in place.
		constexpr int readers = 4;
		constexpr std::uint64_t lookups = 200000;
		DecisionCache c(1024);
		const Flow hot = flow("203.0.113.9", 1, 1);
		c.install(hot, deliver());
		std::atomic<bool> done{false};
		std::atomic<std::uint64_t> bytes{0}, hot_hits{0}, failed{0};
		std::latch start(readers + 1);

		std::thread writer([&] {
			Lcg rng{7};
			start.arrive_and_wait();
			while (!done.load()) {
				std::uint64_t i = rng() % 64;
				if (rng() % 2)
					c.install(conn(i), actions_of(i));
				else
					c.remove(conn(i));
			}
		});
		std::vector<std::thread> threads;
		for (int t = 0; t < readers; t++)
			threads.emplace_back([&, t] {
				Lcg rng{std::uint64_t(t) + 11};
				std::uint64_t b = 0, n_hot = 0, fail = 0;
				start.arrive_and_wait();
				for (std::uint64_t n = 0; n < lookups; n++) {
					std::size_t len = rng() % 1500 + 1;
					if (!c.lookup(hot, len))
						fail++;
					n_hot++;
					b += len;
					(void)c.lookup(conn(rng() % 64), 1);
				}
				bytes += b;
				hot_hits += n_hot;
				failed += fail;
			});
		for (auto &th : threads)
			th.join();
		done = true;
		writer.join();

		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), failed.load());
		auto e = c.entry(hot);
		CPPUNIT_ASSERT(e);
		CPPUNIT_ASSERT_EQUAL(hot_hits.load(), e->packets);
		CPPUNIT_ASSERT_EQUAL(bytes.load(), e->bytes);
		CPPUNIT_ASSERT_EQUAL(2 * readers * lookups, c.hits() + c.misses());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), c.evictions());
	}

	void concurrent__lookups_never_see_a_freed_entry()
	{
		// Lookups take no lock: an entry replaced, removed, evicted or
		// flushed while a reader is on it must stay readable until the
		// reader is done (RCU's grace period).  Readers read everything
		// an entry has, its flow and counters through entry() too, on
		// a few flows that the writer churns as fast as it can, with a
		// capacity under them so that installs evict.  A freed entry
		// would be garbage here (and an error under ASan).
		constexpr int readers = 3;
		constexpr std::uint64_t flows = 8, min_writes = 10000, min_reads = 100000;
		DecisionCache c(5);
		std::atomic<bool> done{false};
		std::atomic<std::uint64_t> wrong{0}, writes{0}, replaced{0}, reads{0}, hits{0};
		std::latch start(readers + 1);

		std::thread writer([&] {
			Lcg rng{5};
			start.arrive_and_wait();
			while (!done.load() || writes.load() < min_writes) {
				std::uint64_t i = rng() % flows;
				// A flush waits for a grace period (ms): rare.
				switch (rng() % 128) {
				case 0:
					c.flush();
					break;
				case 1:
				case 2:
				case 3:
				case 4:
					c.set_capacity(2);
					c.set_capacity(5);
					break;
				default:
					if (rng() % 5 == 0) {
						c.remove(conn(i));
						break;
					}
					if (c.entry(conn(i)))
						replaced++;
					c.install(conn(i), actions_of(i));
				}
				writes++;
			}
		});
		std::vector<std::thread> threads;
		for (int t = 0; t < readers; t++)
			threads.emplace_back([&, t] {
				Lcg rng{std::uint64_t(t) + 21};
				std::uint64_t bad = 0, n = 0;
				start.arrive_and_wait();
				for (; n < min_reads || writes.load() < min_writes; n++) {
					std::uint64_t i = rng() % flows;
					if (auto a = c.lookup(conn(i), 64)) {
						hits.fetch_add(1, std::memory_order_relaxed);
						if (*a != actions_of(i))
							bad++;
					}
					if (auto e = c.entry(conn(i))) {
						// (Its packets and bytes are two counters,
						// not read at one instant.)
						if (e->flow.conn != i ||
						    e->actions != actions_of(i) || e->bytes % 64)
							bad++;
					}
				}
				wrong += bad;
				reads += n;
			});
		for (auto &th : threads)
			th.join();
		done = true;
		writer.join();

		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), wrong.load());
		// It did race: entries were replaced under the readers, and
		// the readers found some.
		CPPUNIT_ASSERT(replaced > 0);
		CPPUNIT_ASSERT(hits > 0);
		CPPUNIT_ASSERT(reads >= readers * min_reads);
		CPPUNIT_ASSERT(c.evictions() > 0);
		CPPUNIT_ASSERT_EQUAL(hits.load(), c.hits());
		CPPUNIT_ASSERT(c.size() <= 5);
		CPPUNIT_ASSERT_EQUAL(std::size_t(c.size()), c.entries().size());
	}

	void concurrent__held_decisions_outlive_replace_and_flush()
	{
		// What a lookup returned is the caller's for as long as it
		// holds it, while another thread replaces and flushes; once
		// the readers let go and the cache is flushed, only the
		// readers' references were keeping the old decisions: the
		// cache holds none.
		DecisionCache c(16);
		c.install(conn(1), actions_of(1));
		std::atomic<bool> done{false};
		std::atomic<std::uint64_t> wrong{0}, held{0};
		std::latch start(3);
		std::weak_ptr<const Actions> first;
		{
			auto a = c.lookup(conn(1), 1);
			CPPUNIT_ASSERT(a);
			first = a;
		}
		std::thread writer([&] {
			start.arrive_and_wait();
			// On until the readers have held some decisions too: on
			// a loaded machine they may not run before 3000 rounds
			// are over.
			for (int n = 0; n < 3000 || held.load() < 256; n++) {
				c.install(conn(1), actions_of(1));
				if (n % 100 == 0)
					c.flush();
			}
			done = true;
		});
		std::vector<std::thread> threads;
		for (int t = 0; t < 2; t++)
			threads.emplace_back([&] {
				std::vector<std::shared_ptr<const Actions>> kept;
				start.arrive_and_wait();
				while (!done.load()) {
					if (auto a = c.lookup(conn(1), 1)) {
						kept.push_back(std::move(a));
						held++;
					}
					if (kept.size() == 64) {
						for (const auto &k : kept)
							if (*k != actions_of(1))
								wrong++;
						kept.clear();
					}
				}
				for (const auto &k : kept)
					if (*k != actions_of(1))
						wrong++;
			});
		for (auto &th : threads)
			th.join();
		writer.join();
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), wrong.load());
		CPPUNIT_ASSERT(held > 0);
		c.flush();
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), c.size());
		// Replaced at once, freed a grace period later; flush() waited.
		CPPUNIT_ASSERT(first.expired());
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(DecisionCacheTest);

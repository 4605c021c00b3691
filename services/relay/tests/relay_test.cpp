// SPDX-License-Identifier: GPL-2.0-or-later
//
// The relay service, loaded as ilpd loads it, with a fake datapath: it
// forwards to the next hop, learns where connections come from, returns
// replies there, installs with its idle timeout, drops without a next
// hop, refuses a bad one, and keeps what it learned across a restart.
#include <chrono>
#include <filesystem>

#include <cppunit/extensions/HelperMacros.h>

#include "environment/service_host.hpp"
#include "fake_datapath.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace ilpd;

namespace
{

const std::string next_hop = "203.0.113.9:1000";
const std::string alice = "192.0.2.1:1111";
const std::string bob = "[2001:db8::2]:2222";

} // namespace

class RelayServiceTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(RelayServiceTest);
	CPPUNIT_TEST(loads_as_service_8);
	CPPUNIT_TEST(forwards_to_next_hop_and_returns_replies);
	CPPUNIT_TEST(reply_of_unknown_connection_dropped);
	CPPUNIT_TEST(takeover_by_third_peer_refused);
	CPPUNIT_TEST(installs_with_configured_idle_timeout);
	CPPUNIT_TEST(drops_without_next_hop);
	CPPUNIT_TEST(bad_next_hop_rejected);
	CPPUNIT_TEST(learned_table_restored_from_checkpoint);
	CPPUNIT_TEST(learned_table_saved_at_shutdown);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_, state_;
	FakeDatapath dp_;

	std::unique_ptr<ServiceHost> host(const std::map<std::string, std::string> &config = {
					      {"next-hop", next_hop}})
	{
		// A copy in a directory of ours: the loader checks modes.
		auto f = dir_.path() / "relay.so";
		fs::copy_file(RELAY_MODULE, f, fs::copy_options::overwrite_existing);
		fs::permissions(f, fs::perms(0644));
		return std::make_unique<ServiceHost>(ModuleLoader().load(f), dp_, state_.path(),
						     HostOptions{}, config);
	}

	FakeDatapath::Executed packet(ServiceHost &h, const std::string &from, std::uint64_t conn)
	{
		auto n = dp_.executed().size();
		CPPUNIT_ASSERT(h.submit(make_miss(from, 8, conn, "data")));
		CPPUNIT_ASSERT(dp_.wait_executed(n + 1));
		return dp_.executed().at(n);
	}

	// Where the decision for a packet from @from on @conn sends it ("drop").
	std::string route(ServiceHost &h, const std::string &from, std::uint64_t conn)
	{
		auto e = packet(h, from, conn);
		if (e.actions.drop)
			return "drop";
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), e.actions.forward.size());
		return e.actions.forward[0].to_string();
	}

	fs::path state_file() const { return state_.path() / "services" / "relay.state"; }

public:
	void loads_as_service_8()
	{
		auto h = host();
		CPPUNIT_ASSERT_EQUAL(8u, h->id());
		CPPUNIT_ASSERT_EQUAL(std::string("relay"), h->name());
	}

	void forwards_to_next_hop_and_returns_replies()
	{
		auto h = host();
		auto e = packet(*h, alice, 5);
		CPPUNIT_ASSERT_EQUAL(next_hop, e.actions.forward.at(0).to_string());
		CPPUNIT_ASSERT(e.install);
		CPPUNIT_ASSERT_EQUAL(next_hop, route(*h, bob, 6));

		// Replies from the next hop: each to its connection's origin,
		// its port included.
		e = packet(*h, next_hop, 5);
		CPPUNIT_ASSERT_EQUAL(alice, e.actions.forward.at(0).to_string());
		CPPUNIT_ASSERT(e.install);
		CPPUNIT_ASSERT_EQUAL(bob, route(*h, next_hop, 6));
		// From another port of the next hop's address: still the next hop.
		CPPUNIT_ASSERT_EQUAL(alice, route(*h, "203.0.113.9:5555", 5));

		CPPUNIT_ASSERT_EQUAL(0ul, h->status().counters.errors);
	}

	void takeover_by_third_peer_refused()
	{
		auto h = host();
		CPPUNIT_ASSERT_EQUAL(next_hop, route(*h, alice, 5));
		// Mallory learned connection 5: her packets on it are dropped,
		// not installed (each is seen and counted), and the way back
		// stays alice's.
		for (int i = 0; i < 3; i++) {
			auto e = packet(*h, "198.51.100.66:1000", 5);
			CPPUNIT_ASSERT(e.actions.drop);
			CPPUNIT_ASSERT(!e.install);
		}
		CPPUNIT_ASSERT_EQUAL(3ul, h->status().counters.dropped);
		CPPUNIT_ASSERT_EQUAL(alice, route(*h, next_hop, 5));
		// Alice herself, from another port of her address: still hers.
		CPPUNIT_ASSERT_EQUAL(next_hop, route(*h, "192.0.2.1:2222", 5));
		CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:2222"), route(*h, next_hop, 5));
		// Mallory's own connections relay as anyone's.
		CPPUNIT_ASSERT_EQUAL(next_hop, route(*h, "198.51.100.66:1000", 6));
		CPPUNIT_ASSERT_EQUAL(0ul, h->status().counters.errors);
	}

	void reply_of_unknown_connection_dropped()
	{
		auto h = host();
		auto e = packet(*h, next_hop, 99);
		CPPUNIT_ASSERT(e.actions.drop);
		CPPUNIT_ASSERT(!e.install); // the connection may yet be learned
	}

	void installs_with_configured_idle_timeout()
	{
		auto h = host();
		packet(*h, alice, 5);
		Flow out{ilp::Endpoint::parse(alice), 8, 5};
		CPPUNIT_ASSERT(h->own_idle_timeout(out) == 30000ms); // the relay's default

		CPPUNIT_ASSERT(!h->configure("idle-timeout-ms", "1234"));
		packet(*h, alice, 6);
		packet(*h, next_hop, 6);
		CPPUNIT_ASSERT(h->own_idle_timeout({out.prev, 8, 6}) == 1234ms);
		CPPUNIT_ASSERT(h->own_idle_timeout({ilp::Endpoint::parse(next_hop), 8, 6}) ==
			       1234ms);

		CPPUNIT_ASSERT(h->configure("idle-timeout-ms", "0"));
		CPPUNIT_ASSERT(h->configure("idle-timeout-ms", "soon"));
		CPPUNIT_ASSERT(h->configure("idle-timeout-ms", "99999999999"));
		h.reset();
		h = host({{"next-hop", next_hop}, {"idle-timeout-ms", "777"}});
		packet(*h, alice, 7);
		CPPUNIT_ASSERT(h->own_idle_timeout({out.prev, 8, 7}) == 777ms);
	}

	void drops_without_next_hop()
	{
		auto h = host({});
		auto e = packet(*h, alice, 5);
		CPPUNIT_ASSERT(e.actions.drop);
		CPPUNIT_ASSERT(!e.install);
		CPPUNIT_ASSERT_EQUAL(1ul, h->status().counters.dropped);
		// Configured later: relays from then on.
		CPPUNIT_ASSERT(!h->configure("next-hop", next_hop));
		CPPUNIT_ASSERT_EQUAL(next_hop, route(*h, alice, 5));
		CPPUNIT_ASSERT(!h->configure("next-hop", std::nullopt));
		CPPUNIT_ASSERT_EQUAL(std::string("drop"), route(*h, alice, 5));
	}

	void bad_next_hop_rejected()
	{
		auto h = host();
		for (auto bad :
		     {"not-an-address", "192.0.2.1:99999", "192.0.2.1:0", "[2001:db8::1", ""}) {
			auto no = h->configure("next-hop", std::string(bad));
			CPPUNIT_ASSERT_MESSAGE(bad, no.has_value());
			CPPUNIT_ASSERT(no->find("Invalid argument") != std::string::npos);
		}
		CPPUNIT_ASSERT_EQUAL(next_hop, h->status().config.at("next-hop"));
		CPPUNIT_ASSERT_EQUAL(next_hop, route(*h, alice, 5));
		CPPUNIT_ASSERT(h->configure("nexthop", next_hop)); // a typo
		// IPv6 next hops are fine.
		CPPUNIT_ASSERT(!h->configure("next-hop", "[2001:db8::9]:1000"));
		CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::9]:1000"), route(*h, alice, 6));

		h.reset();
		CPPUNIT_ASSERT_THROW(host({{"next-hop", "nowhere"}}), LoadError);
	}

	void learned_table_restored_from_checkpoint()
	{
		{
			auto h = host();
			packet(*h, alice, 5);
			// Not written on the packet path, but within a second.
			CPPUNIT_ASSERT(!fs::exists(state_file()));
			packet(*h, bob, 6);
			CPPUNIT_ASSERT(eventually([&] { return fs::exists(state_file()); }, 3s));
			auto written = fs::last_write_time(state_file());
			// Known connections teach nothing new: no more writes.
			packet(*h, alice, 5);
			std::this_thread::sleep_for(1500ms);
			CPPUNIT_ASSERT(written == fs::last_write_time(state_file()));
		}
		auto h = host();
		CPPUNIT_ASSERT_EQUAL(alice, route(*h, next_hop, 5));
		CPPUNIT_ASSERT_EQUAL(bob, route(*h, next_hop, 6));
		CPPUNIT_ASSERT_EQUAL(std::string("drop"), route(*h, next_hop, 7));
	}

	void learned_table_saved_at_shutdown()
	{
		{
			auto h = host();
			packet(*h, alice, 5);
		} // before the checkpoint timer: fini() saves it
		CPPUNIT_ASSERT(fs::exists(state_file()));
		auto h = host();
		CPPUNIT_ASSERT_EQUAL(alice, route(*h, next_hop, 5));

		// A damaged checkpoint loses the table, not the service.
		h.reset();
		fs::resize_file(state_file(), 13);
		h = host();
		CPPUNIT_ASSERT_EQUAL(std::string("drop"), route(*h, next_hop, 5));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(RelayServiceTest);

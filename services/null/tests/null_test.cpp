// SPDX-License-Identifier: GPL-2.0-or-later
//
// The null service, loaded as ilpd loads it, with a fake datapath: each
// packet goes back to its sender, installed only when configured so.
#include <filesystem>

#include <cppunit/extensions/HelperMacros.h>

#include "environment/service_host.hpp"
#include "fake_datapath.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ilpd;

class NullServiceTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(NullServiceTest);
	CPPUNIT_TEST(loads_as_service_7);
	CPPUNIT_TEST(returns_each_packet_to_its_sender);
	CPPUNIT_TEST(install_configured);
	CPPUNIT_TEST(bad_configuration_rejected);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_, state_;
	FakeDatapath dp_;

	std::unique_ptr<ServiceHost> host(const std::map<std::string, std::string> &config = {})
	{
		// A copy in a directory of ours: the loader checks modes.
		auto f = dir_.path() / "null.so";
		fs::copy_file(NULL_MODULE, f, fs::copy_options::overwrite_existing);
		fs::permissions(f, fs::perms(0644));
		return std::make_unique<ServiceHost>(ModuleLoader().load(f), dp_, state_.path(),
						     HostOptions{}, config);
	}

	FakeDatapath::Executed round_trip(ServiceHost &h, const std::string &from,
					  std::uint64_t conn)
	{
		auto n = dp_.executed().size();
		CPPUNIT_ASSERT(h.submit(make_miss(from, 7, conn, "payload")));
		CPPUNIT_ASSERT(dp_.wait_executed(n + 1));
		return dp_.executed().at(n);
	}

public:
	void loads_as_service_7()
	{
		auto h = host();
		CPPUNIT_ASSERT_EQUAL(7u, h->id());
		CPPUNIT_ASSERT_EQUAL(std::string("null"), h->name());
	}

	void returns_each_packet_to_its_sender()
	{
		auto h = host();
		for (auto from : {"192.0.2.1:1000", "198.51.100.7:4242", "[2001:db8::1]:1234"}) {
			auto e = round_trip(*h, from, 42);
			CPPUNIT_ASSERT_EQUAL(std::size_t(1), e.actions.forward.size());
			// Back to the very sender: its port too.
			CPPUNIT_ASSERT_EQUAL(std::string(from), e.actions.forward[0].to_string());
			CPPUNIT_ASSERT(!e.actions.deliver && !e.actions.drop);
			CPPUNIT_ASSERT(!e.install); // by default, every packet is a miss
		}
		CPPUNIT_ASSERT_EQUAL(0ul, h->status().counters.errors);
	}

	void install_configured()
	{
		auto h = host({{"install", "yes"}});
		CPPUNIT_ASSERT(round_trip(*h, "192.0.2.1:1000", 1).install);
		CPPUNIT_ASSERT(!h->configure("install", "no"));
		CPPUNIT_ASSERT(!round_trip(*h, "192.0.2.1:1000", 2).install);
		CPPUNIT_ASSERT(!h->configure("install", "yes"));
		auto e = round_trip(*h, "192.0.2.1:1000", 3);
		CPPUNIT_ASSERT(e.install);
		CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:1000"),
				     e.actions.forward.at(0).to_string());
		CPPUNIT_ASSERT_EQUAL(2ul, h->status().counters.installed);
	}

	void bad_configuration_rejected()
	{
		auto h = host();
		CPPUNIT_ASSERT(h->configure("install", "maybe"));
		CPPUNIT_ASSERT(h->configure("instal", "yes"));
		CPPUNIT_ASSERT(!round_trip(*h, "192.0.2.1:1000", 1).install);
		// And at load: init() refuses.
		h.reset();
		CPPUNIT_ASSERT_THROW(host({{"install", "maybe"}}), LoadError);
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(NullServiceTest);

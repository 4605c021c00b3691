// SPDX-License-Identifier: GPL-2.0-or-later
//
// The previous-hop port table: a miss from a flow-hashed source port must
// reach services as the port its peer receives on, and only when that is
// unambiguous.
#include <vector>

#include <cppunit/extensions/HelperMacros.h>

#include "datapath/peer_ports.hpp"

using namespace ilpd;
using ilp::Endpoint;

namespace
{

Endpoint peer(const char *ep)
{
	return Endpoint::parse(ep);
}

} // namespace

class PeerPortsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PeerPortsTest);
	CPPUNIT_TEST(a_peer_gives_its_port);
	CPPUNIT_TEST(unknown_addresses_keep_their_port);
	CPPUNIT_TEST(ambiguous_addresses_keep_their_port);
	CPPUNIT_TEST(families_do_not_mix);
	CPPUNIT_TEST(assign_replaces);
	CPPUNIT_TEST_SUITE_END();

public:
	void a_peer_gives_its_port()
	{
		PeerPorts t;
		t.assign(std::vector<Endpoint>{peer("10.0.1.1:1000"), peer("10.0.2.1:4000")});
		auto prev = Endpoint::parse("10.0.2.1:51234");
		t.resolve(prev);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t{4000}, prev.port);
		CPPUNIT_ASSERT(prev == Endpoint::parse("10.0.2.1:4000"));
	}

	void unknown_addresses_keep_their_port()
	{
		PeerPorts t;
		t.assign(std::vector<Endpoint>{peer("10.0.1.1")});
		auto prev = Endpoint::parse("10.0.1.9:51234");
		CPPUNIT_ASSERT(!t.knows(prev));
		t.resolve(prev);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t{51234}, prev.port);
	}

	void ambiguous_addresses_keep_their_port()
	{
		// Two instances behind one address: the source port is the
		// best guess left.
		PeerPorts t;
		t.assign(std::vector<Endpoint>{peer("10.0.1.1:1000"), peer("10.0.1.1:1001"),
					       peer("10.0.1.1:1000")});
		auto prev = Endpoint::parse("10.0.1.1:1001");
		CPPUNIT_ASSERT(t.knows(prev));
		CPPUNIT_ASSERT(!t.port_of(prev));
		t.resolve(prev);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t{1001}, prev.port);
	}

	void families_do_not_mix()
	{
		// 32.1.13.184 is 2001:db8::1's first four bytes: compared
		// without its family, it would be taken for it.
		PeerPorts t;
		t.assign(std::vector<Endpoint>{peer("[2001:db8::1]:2000")});
		auto v4 = Endpoint::parse("32.1.13.184:5000"); // 2001:0db8 as IPv4
		CPPUNIT_ASSERT(!t.knows(v4));
		auto v6 = Endpoint::parse("[2001:db8::1]:5000");
		t.resolve(v6);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t{2000}, v6.port);
	}

	void assign_replaces()
	{
		PeerPorts t;
		t.assign(std::vector<Endpoint>{peer("10.0.1.1:1000")});
		t.assign(std::vector<Endpoint>{peer("10.0.1.2:1000")});
		CPPUNIT_ASSERT(!t.knows(Endpoint::parse("10.0.1.1")));
		CPPUNIT_ASSERT(t.knows(Endpoint::parse("10.0.1.2")));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(PeerPortsTest);

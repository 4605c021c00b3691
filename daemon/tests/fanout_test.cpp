// SPDX-License-Identifier: GPL-2.0-or-later
//
// Where a group's packet goes from an SN (multipoint/fanout.hpp), by where
// it came from: a sender of this SN, an SN of its edomain or of another;
// one copy per next hop, never back to where it came from, the gateway's
// own long-lived pipe preferred to one opened on demand.
#include <cerrno>

#include <cppunit/extensions/HelperMacros.h>

#include "multipoint/fanout.hpp"

using namespace ilpd;
using namespace ilpd::multipoint;

namespace
{
ilp::Endpoint ep(const char *s)
{
	return ilp::Endpoint::parse(s);
}
std::vector<std::string> texts(const std::vector<ilp::Endpoint> &v)
{
	std::vector<std::string> out;
	for (const auto &e : v)
		out.push_back(e.to_string());
	return out;
}
} // namespace

class FanoutTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(FanoutTest);
	CPPUNIT_TEST(from_a_sender);
	CPPUNIT_TEST(refused);
	CPPUNIT_TEST(from_an_sn_of_the_edomain);
	CPPUNIT_TEST(from_another_edomain);
	CPPUNIT_TEST_SUITE_END();

	AssociationManager::PeersUp peers;
	FanoutView v;

public:
	void setUp() override
	{
		// sn1 of edomain a: hosts h1 (a sender and a member) and h4;
		// pipes with sn2 (a), sn3 (b, long-lived) and sn5 (b, on
		// demand); the gateway to b itself, sn2 the gateway to c.
		peers.hosts = {ep("10.1.1.1:1000"), ep("10.1.4.1:1000")};
		peers.sns = {{ep("10.1.5.1:1000"), "b", true},
			     {ep("10.1.0.2:1000"), "a", false},
			     {ep("10.1.0.3:1000"), "b", false}};
		v.edomain = "a";
		v.self = ep("10.1.0.1:1000");
		v.members = {ep("10.1.4.1:1000"), ep("10.1.1.1:1000")};
		v.senders = {ep("10.1.1.1:1000")};
		v.member_sns = {ep("10.1.0.2:1000")};
		v.member_edomains = {"b", "c"};
		v.gateway_to = [](const std::string &e) -> std::optional<ilp::Endpoint> {
			if (e == "b")
				return ep("10.1.0.1:1000");
			if (e == "c")
				return ep("10.1.0.2:1000");
			return std::nullopt;
		};
		v.is_gateway = [](const ilp::Endpoint &sn) {
			return sn.addr_string() == "10.1.0.1" || sn.addr_string() == "10.1.0.2";
		};
		v.peers = &peers;
	}

	void from_a_sender()
	{
		std::vector<ilp::Endpoint> hops;
		// From another port than its own: the same host.
		CPPUNIT_ASSERT_EQUAL(0, fan_out(v, ep("10.1.1.1:40000"), hops));
		// Not back to h1; sn2 once (members, and the gateway to c);
		// b over the long-lived pipe.
		CPPUNIT_ASSERT(
		    (texts(hops) ==
		     std::vector<std::string>{"10.1.4.1:1000", "10.1.0.2:1000", "10.1.0.3:1000"}));
		// With only the pipe opened on demand to b, that one.
		peers.sns.pop_back();
		CPPUNIT_ASSERT_EQUAL(0, fan_out(v, ep("10.1.1.1:1000"), hops));
		CPPUNIT_ASSERT_EQUAL(std::string("10.1.5.1:1000"), hops.back().to_string());
		// No pipe to b at all: no copy for it, the others still.
		peers.sns.erase(peers.sns.begin());
		CPPUNIT_ASSERT_EQUAL(0, fan_out(v, ep("10.1.1.1:1000"), hops));
		CPPUNIT_ASSERT(
		    (texts(hops) == std::vector<std::string>{"10.1.4.1:1000", "10.1.0.2:1000"}));
	}

	void refused()
	{
		std::vector<ilp::Endpoint> hops;
		// h4 is a member, not a sender.
		CPPUNIT_ASSERT_EQUAL(-EPERM, fan_out(v, ep("10.1.4.1:1000"), hops));
		// Neither a host nor an SN of this one.
		CPPUNIT_ASSERT_EQUAL(-EPERM, fan_out(v, ep("10.9.9.9:1000"), hops));
		v.peers = nullptr;
		CPPUNIT_ASSERT_EQUAL(-EPERM, fan_out(v, ep("10.1.1.1:1000"), hops));
	}

	void from_an_sn_of_the_edomain()
	{
		std::vector<ilp::Endpoint> hops;
		// sn4, no gateway: the members here, and b, which this SN is
		// the gateway to; not c (sn2's), not back to sn4.
		peers.sns.push_back({ep("10.1.0.4:1000"), "a", false});
		CPPUNIT_ASSERT_EQUAL(0, fan_out(v, ep("10.1.0.4:1000"), hops));
		CPPUNIT_ASSERT(
		    (texts(hops) ==
		     std::vector<std::string>{"10.1.4.1:1000", "10.1.1.1:1000", "10.1.0.3:1000"}));
		// sn2, the gateway to c: what it passes on may have come from
		// another edomain, so it goes to the members here only.
		CPPUNIT_ASSERT_EQUAL(0, fan_out(v, ep("10.1.0.2:1000"), hops));
		CPPUNIT_ASSERT(
		    (texts(hops) == std::vector<std::string>{"10.1.4.1:1000", "10.1.1.1:1000"}));
		// Not known whether it is one (no core map): the same.
		v.is_gateway = nullptr;
		CPPUNIT_ASSERT_EQUAL(0, fan_out(v, ep("10.1.0.4:1000"), hops));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), hops.size());
	}

	void from_another_edomain()
	{
		std::vector<ilp::Endpoint> hops;
		CPPUNIT_ASSERT_EQUAL(0, fan_out(v, ep("10.1.0.3:1000"), hops));
		CPPUNIT_ASSERT(
		    (texts(hops) ==
		     std::vector<std::string>{"10.1.4.1:1000", "10.1.1.1:1000", "10.1.0.2:1000"}));
		// Nobody to reach: no copy.
		v.members.clear();
		v.member_sns.clear();
		CPPUNIT_ASSERT_EQUAL(0, fan_out(v, ep("10.1.0.3:1000"), hops));
		CPPUNIT_ASSERT(hops.empty());
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(FanoutTest);

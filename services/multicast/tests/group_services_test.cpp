// SPDX-License-Identifier: GPL-2.0-or-later
//
// The multicast and anycast modules, loaded as ilpd loads them, with a
// fake datapath and ilpd's group_hops() answering from a list the test
// sets (the fan-out itself is ilpd's, tested in daemon/tests/fanout_test
// and the netns test): a decision with a next hop per copy, installed; 16
// next hops at most in a decision, the rest sent by the module, nothing
// installed; anycast's one next hop; every drop counted by reason.
#include <cerrno>
#include <filesystem>
#include <future>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/group.hpp>
#include <ilp_wire.h>

#include "environment/service_host.hpp"
#include "fake_datapath.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ilpd;

namespace
{

const std::string group = std::string(64, 'a') + ":news";
const std::string sender = "10.1.1.1:1000";

std::uint64_t conn_of(const std::string &g)
{
	return ilp::group::connection_of(*ilp::group::parse_name(g));
}

// A miss from @prev on @conn naming @g in TLV 0x0101 (none when empty),
// with an application TLV 0x0100 "x" and @payload.
Miss group_miss(const std::string &prev, std::uint32_t service, std::uint64_t conn,
		const std::string &g, const std::string &payload)
{
	std::vector<std::uint8_t> tlv(512);
	std::size_t off = 0;
	if (!g.empty())
		ilpw_tlv_put(tlv.data(), tlv.size(), &off, 0x0101, g.data(),
			     static_cast<std::uint16_t>(g.size()));
	ilpw_tlv_put(tlv.data(), tlv.size(), &off, 0x0100, "x", 1);
	Miss m;
	m.prev = ilp::Endpoint::parse(prev);
	m.service = service;
	m.conn = conn;
	m.data.resize(ILPW_HDR_LEN + off + payload.size());
	std::size_t hdr_len = 0;
	if (ilpw_hdr_build(m.data.data(), m.data.size(), 0, service, conn, tlv.data(), off,
			   &hdr_len) != ILPW_OK)
		throw std::runtime_error("ilpw_hdr_build failed");
	std::copy(payload.begin(), payload.end(), m.data.begin() + static_cast<long>(hdr_len));
	m.data.resize(hdr_len + payload.size());
	return m;
}

} // namespace

class GroupServicesTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(GroupServicesTest);
	CPPUNIT_TEST(multicast_one_decision_per_copy);
	CPPUNIT_TEST(multicast_beyond_sixteen);
	CPPUNIT_TEST(multicast_drops_counted);
	CPPUNIT_TEST(anycast_the_nearest);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_, state_;
	FakeDatapath dp_;
	// What group_hops() answers: its status and next hops.
	int status_ = 0;
	std::vector<ilp::Endpoint> hops_;
	std::string asked_;

	std::unique_ptr<ServiceHost> host(const char *module, const char *name)
	{
		auto f = dir_.path() / (std::string(name) + ".so");
		fs::copy_file(module, f, fs::copy_options::overwrite_existing);
		fs::permissions(f, fs::perms(0644));
		HostOptions o;
		o.group_hops = [this](const std::string &g, const ilp::Endpoint &from,
				      std::vector<ilp::Endpoint> &out) {
			asked_ = g + " from " + from.to_string();
			out = hops_;
			return status_;
		};
		return std::make_unique<ServiceHost>(ModuleLoader().load(f), dp_, state_.path(), o);
	}
	void members(std::size_t n)
	{
		hops_.clear();
		for (std::size_t i = 0; i < n; i++)
			hops_.push_back(
			    ilp::Endpoint::parse("10.2.0." + std::to_string(i + 1) + ":1000"));
	}
	FakeDatapath::Executed packet(ServiceHost &h, const Miss &m)
	{
		auto n = dp_.executed().size();
		CPPUNIT_ASSERT(h.submit(m));
		CPPUNIT_ASSERT(dp_.wait_executed(n + 1));
		return dp_.executed().at(n);
	}
	std::string status(ServiceHost &h)
	{
		std::promise<std::string> p;
		std::string req = "status";
		h.control(h.id(), std::nullopt, {req.begin(), req.end()},
			  [&](int, std::vector<std::uint8_t> body) {
				  p.set_value(std::string(body.begin(), body.end()));
			  });
		return p.get_future().get();
	}

public:
	void multicast_one_decision_per_copy()
	{
		auto h = host(MULTICAST_MODULE, "multicast");
		CPPUNIT_ASSERT_EQUAL(10u, h->id());
		members(3);
		auto e = packet(*h, group_miss(sender, 10, conn_of(group), group, "m0"));
		CPPUNIT_ASSERT_EQUAL(group + " from " + sender, asked_);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), e.actions.forward.size());
		CPPUNIT_ASSERT_EQUAL(std::string("10.2.0.3:1000"),
				     e.actions.forward[2].to_string());
		CPPUNIT_ASSERT(e.install);
		CPPUNIT_ASSERT(dp_.sent().empty());
		CPPUNIT_ASSERT(status(*h).find("cached 1") != std::string::npos);
	}

	void multicast_beyond_sixteen()
	{
		auto h = host(MULTICAST_MODULE, "multicast");
		members(20);
		auto e = packet(*h, group_miss(sender, 10, conn_of(group), group, "big"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(ILP_DECISION_MAX_HOPS), e.actions.forward.size());
		CPPUNIT_ASSERT(!e.install);
		CPPUNIT_ASSERT(dp_.wait_sent(4));
		auto sent = dp_.sent();
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), sent.size());
		for (std::size_t i = 0; i < 4; i++) {
			CPPUNIT_ASSERT_EQUAL(hops_[16 + i].to_string(), sent[i].to.to_string());
			CPPUNIT_ASSERT_EQUAL(10u, sent[i].service);
			CPPUNIT_ASSERT_EQUAL(conn_of(group), sent[i].conn);
			CPPUNIT_ASSERT_EQUAL(std::string("big"), sent[i].text());
			// The application's TLVs, the group's among them; none of ILP's own.
			ilpw_tlv_iter it{sent[i].metadata.data(),
					 static_cast<u32>(sent[i].metadata.size())};
			ilpw_tlv t;
			int n = 0;
			while (ilpw_tlv_next(&it, &t) > 0) {
				CPPUNIT_ASSERT(t.type > ILP_TLV_OWN_MAX);
				n++;
			}
			CPPUNIT_ASSERT_EQUAL(2, n);
		}
		CPPUNIT_ASSERT(status(*h).find("beyond_cache 1 copies_sent 4") !=
			       std::string::npos);
	}

	void multicast_drops_counted()
	{
		auto h = host(MULTICAST_MODULE, "multicast");
		members(2);
		auto dropped = [&](const Miss &m) { return packet(*h, m).actions.drop; };
		CPPUNIT_ASSERT(dropped(group_miss(sender, 10, conn_of(group), "", "none")));
		CPPUNIT_ASSERT(dropped(group_miss(sender, 10, conn_of(group), "news", "bad")));
		CPPUNIT_ASSERT(dropped(group_miss(sender, 10, 7, group, "other connection")));
		status_ = -EPERM;
		CPPUNIT_ASSERT(dropped(group_miss(sender, 10, conn_of(group), group, "no sender")));
		status_ = 0;
		hops_.clear();
		auto e = packet(*h, group_miss(sender, 10, conn_of(group), group, "nobody"));
		CPPUNIT_ASSERT(e.actions.drop && !e.install);
		CPPUNIT_ASSERT_EQUAL(std::string("no_group 2 wrong_connection 1 not_sender 1 "
						 "no_members 1 failed 0 cached 0 beyond_cache 0 "
						 "copies_sent 0"),
				     status(*h));
	}

	void anycast_the_nearest()
	{
		auto h = host(ANYCAST_MODULE, "anycast");
		CPPUNIT_ASSERT_EQUAL(11u, h->id());
		members(5);
		auto e = packet(*h, group_miss(sender, 11, conn_of(group), group, "a0"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), e.actions.forward.size());
		CPPUNIT_ASSERT_EQUAL(std::string("10.2.0.1:1000"),
				     e.actions.forward[0].to_string());
		CPPUNIT_ASSERT(e.install);
		status_ = -EPERM;
		CPPUNIT_ASSERT(
		    packet(*h, group_miss(sender, 11, conn_of(group), group, "a1")).actions.drop);
		CPPUNIT_ASSERT(status(*h).find("not_sender 1") != std::string::npos);
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(GroupServicesTest);

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The decision cache and the upcall listener: the attributes libilp puts
// in requests and reads from the kernel's messages, as
// include/uapi/linux/ilp.h lays them out.  No module needed: messages are
// built here the way the kernel builds them.
#include <cstring>
#include <string>

#include <cppunit/extensions/HelperMacros.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

#include <ilp/control.hpp>
#include <ilp/family.hpp>
#include <ilp/listener.hpp>
#include <ilp/netlink.hpp>

#include "control_attrs.hpp"

using ilp::Actions;
using ilp::Endpoint;
using ilp::Flow;
using ilp::nl::Attrs;
using ilp::nl::NetlinkError;
using ilp::nl::Request;

namespace
{

constexpr std::uint16_t family_id = 0x30;

Request message(std::uint8_t cmd)
{
	return Request(family_id, 0, cmd, ILP_GENL_VERSION);
}

} // namespace

class CacheTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CacheTest);
	CPPUNIT_TEST(actions__forward_hops_round_trip_in_order);
	CPPUNIT_TEST(actions__drop_is_a_flag_and_none_is_an_empty_nest);
	CPPUNIT_TEST(actions__forward_and_drop_together_are_refused);
	CPPUNIT_TEST(actions__more_than_max_forward_are_refused);
	CPPUNIT_TEST(actions__hop_without_port_is_the_default_port);
	CPPUNIT_TEST(flow__is_sent_by_address_only);
	CPPUNIT_TEST(cache_entry__reads_counters_and_actions);
	CPPUNIT_TEST(cache_entry__never_used_has_no_used_ms);
	CPPUNIT_TEST(cache_entry__without_flow_is_a_protocol_error);
	CPPUNIT_TEST(upcall__reads_every_attribute);
	CPPUNIT_TEST(upcall__without_data_is_a_protocol_error);
	CPPUNIT_TEST(upcall__bad_address_length_is_a_protocol_error);
	CPPUNIT_TEST(upcall__flow_is_prev_service_conn);
	CPPUNIT_TEST(listener__without_module_says_how_to_load_it);
	CPPUNIT_TEST_SUITE_END();

public:
	void actions__forward_hops_round_trip_in_order()
	{
		Actions a;
		a.forward = {Endpoint::parse("192.0.2.1"), Endpoint::parse("[2001:db8::2]:1001"),
			     Endpoint::parse("198.51.100.3:7")};
		auto req = message(ILP_CMD_CACHE_ADD);
		ilp::detail::put_actions(req, a);
		auto top = Attrs::of_message(req.header(), ILP_A_MAX);
		const nlattr *nest = top.get(ILP_A_ACTIONS);
		CPPUNIT_ASSERT(nest);
		CPPUNIT_ASSERT(nest->nla_type & NLA_F_NESTED);
		auto inner = Attrs::of_nest(nest, ILP_ACT_A_MAX);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), inner.all(ILP_ACT_A_FORWARD).size());
		CPPUNIT_ASSERT(!inner.has(ILP_ACT_A_DROP));
		// Each hop: ILP_PEER_A_ADDR (4 or 16 bytes) and ILP_PEER_A_PORT.
		auto hop = Attrs::of_nest(inner.all(ILP_ACT_A_FORWARD)[1], ILP_PEER_A_MAX);
		CPPUNIT_ASSERT_EQUAL(std::size_t(16), hop.bytes(ILP_PEER_A_ADDR)->size());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), *hop.u16(ILP_PEER_A_PORT));

		auto back = ilp::detail::parse_actions(nest);
		CPPUNIT_ASSERT(back == a);
	}

	void actions__drop_is_a_flag_and_none_is_an_empty_nest()
	{
		Actions drop;
		drop.drop = true;
		auto req = message(ILP_CMD_EXECUTE);
		ilp::detail::put_actions(req, drop);
		auto top = Attrs::of_message(req.header(), ILP_A_MAX);
		auto inner = Attrs::of_nest(top.get(ILP_A_ACTIONS), ILP_ACT_A_MAX);
		CPPUNIT_ASSERT(inner.flag(ILP_ACT_A_DROP));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), inner.bytes(ILP_ACT_A_DROP)->size());
		CPPUNIT_ASSERT(ilp::detail::parse_actions(top.get(ILP_A_ACTIONS)) == drop);

		auto none = message(ILP_CMD_EXECUTE);
		ilp::detail::put_actions(none, Actions{});
		auto t = Attrs::of_message(none.header(), ILP_A_MAX);
		CPPUNIT_ASSERT(t.has(ILP_A_ACTIONS));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), t.bytes(ILP_A_ACTIONS)->size());
		CPPUNIT_ASSERT(ilp::detail::parse_actions(t.get(ILP_A_ACTIONS)) == Actions{});
	}

	void actions__forward_and_drop_together_are_refused()
	{
		Actions a;
		a.forward = {Endpoint::parse("192.0.2.1")};
		a.drop = true;
		auto req = message(ILP_CMD_CACHE_ADD);
		try {
			ilp::detail::put_actions(req, a);
			CPPUNIT_FAIL("forward and drop accepted");
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT_EQUAL(EINVAL, e.code().value());
		}
	}

	void actions__more_than_max_forward_are_refused()
	{
		Actions a;
		a.forward.assign(ILP_MAX_FORWARD, Endpoint::parse("192.0.2.1"));
		auto ok = message(ILP_CMD_CACHE_ADD);
		ilp::detail::put_actions(ok, a);
		a.forward.push_back(Endpoint::parse("192.0.2.2"));
		auto req = message(ILP_CMD_CACHE_ADD);
		try {
			ilp::detail::put_actions(req, a);
			CPPUNIT_FAIL("17 next hops accepted");
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT_EQUAL(EINVAL, e.code().value());
			CPPUNIT_ASSERT(std::strstr(e.what(), "at most 16"));
		}
	}

	void actions__hop_without_port_is_the_default_port()
	{
		const std::uint8_t addr[4] = {192, 0, 2, 9};
		auto req = message(ILP_CMD_CACHE_GET);
		auto *acts = req.nest_start(ILP_A_ACTIONS);
		auto *fwd = req.nest_start(ILP_ACT_A_FORWARD);
		req.put_bytes(ILP_PEER_A_ADDR, addr);
		req.nest_end(fwd);
		req.nest_end(acts);
		auto top = Attrs::of_message(req.header(), ILP_A_MAX);
		auto a = ilp::detail::parse_actions(top.get(ILP_A_ACTIONS));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), a.forward.size());
		CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.9:1000"), a.forward[0].to_string());
	}

	void flow__is_sent_by_address_only()
	{
		for (const char *prev : {"192.0.2.1:40000", "[2001:db8::1]:1000"}) {
			Flow f{Endpoint::parse(prev), 0xdeadbeef, 0x0123456789abcdefULL};
			auto req = message(ILP_CMD_CACHE_DEL);
			auto *nest = req.nest_start(ILP_A_CACHE);
			ilp::detail::put_flow(req, f);
			req.nest_end(nest);
			auto top = Attrs::of_message(req.header(), ILP_A_MAX);
			auto a = Attrs::of_nest(top.get(ILP_A_CACHE), ILP_CACHE_A_MAX);
			CPPUNIT_ASSERT_EQUAL(std::uint32_t(0xdeadbeef),
					     *a.u32(ILP_CACHE_A_SERVICE));
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(0x0123456789abcdefULL),
					     *a.u64(ILP_CACHE_A_CONN));
			// No port: the kernel keys flows by address and refuses one.
			CPPUNIT_ASSERT(!a.has(ILP_CACHE_A_PREV_PORT));
			CPPUNIT_ASSERT_EQUAL(f.prev.addr_bytes().size(),
					     a.get(ILP_CACHE_A_PREV_ADDR)->nla_len -
						 std::size_t(NLA_HDRLEN));
		}
	}

	void cache_entry__reads_counters_and_actions()
	{
		const std::uint8_t prev[4] = {192, 0, 2, 1};
		const std::uint8_t hop[4] = {198, 51, 100, 2};
		auto req = message(ILP_CMD_CACHE_GET);
		auto *cache = req.nest_start(ILP_A_CACHE);
		req.put_bytes(ILP_CACHE_A_PREV_ADDR, prev);
		req.put_u16(ILP_CACHE_A_PREV_PORT, 1000);
		req.put_u32(ILP_CACHE_A_SERVICE, 7);
		req.put_u64(ILP_CACHE_A_CONN, 4660);
		req.put_u64(ILP_CACHE_A_PACKETS, 3);
		req.put_u64(ILP_CACHE_A_BYTES, 300);
		req.put_u64(ILP_CACHE_A_USED_MS, 120);
		req.nest_end(cache);
		auto *acts = req.nest_start(ILP_A_ACTIONS);
		auto *fwd = req.nest_start(ILP_ACT_A_FORWARD);
		req.put_bytes(ILP_PEER_A_ADDR, hop);
		req.put_u16(ILP_PEER_A_PORT, 1000);
		req.nest_end(fwd);
		req.nest_end(acts);

		auto e = ilp::detail::parse_cache_entry(req.header());
		CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:1000"), e.flow.prev.to_string());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(7), e.flow.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(4660), e.flow.conn);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), e.packets);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(300), e.bytes);
		CPPUNIT_ASSERT(e.used_ms.has_value());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(120), *e.used_ms);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), e.actions.forward.size());
		CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.2:1000"),
				     e.actions.forward[0].to_string());
		CPPUNIT_ASSERT(!e.actions.drop);
	}

	void cache_entry__never_used_has_no_used_ms()
	{
		const std::uint8_t prev[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					       0,    0,    0,    0,    0, 0, 0, 1};
		auto req = message(ILP_CMD_CACHE_GET);
		auto *cache = req.nest_start(ILP_A_CACHE);
		req.put_bytes(ILP_CACHE_A_PREV_ADDR, prev);
		req.put_u16(ILP_CACHE_A_PREV_PORT, 1000);
		req.put_u32(ILP_CACHE_A_SERVICE, 1);
		req.put_u64(ILP_CACHE_A_CONN, 0);
		req.put_u64(ILP_CACHE_A_PACKETS, 0);
		req.put_u64(ILP_CACHE_A_BYTES, 0);
		req.nest_end(cache);
		auto *acts = req.nest_start(ILP_A_ACTIONS);
		req.put_flag(ILP_ACT_A_DROP);
		req.nest_end(acts);

		auto e = ilp::detail::parse_cache_entry(req.header());
		CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::1]:1000"), e.flow.prev.to_string());
		CPPUNIT_ASSERT(!e.used_ms.has_value());
		CPPUNIT_ASSERT(e.actions.drop);
		CPPUNIT_ASSERT(e.actions.forward.empty());
	}

	void cache_entry__without_flow_is_a_protocol_error()
	{
		auto req = message(ILP_CMD_CACHE_GET);
		auto *cache = req.nest_start(ILP_A_CACHE);
		req.put_u64(ILP_CACHE_A_PACKETS, 1);
		req.nest_end(cache);
		try {
			ilp::detail::parse_cache_entry(req.header());
			CPPUNIT_FAIL("an entry without a flow parsed");
		} catch (const NetlinkError &e) {
			CPPUNIT_ASSERT_EQUAL(EPROTO, e.code().value());
		}
	}

	// An ILP_CMD_UPCALL message as the kernel sends it.
	static Request upcall_message(std::span<const std::uint8_t> prev, bool with_data)
	{
		static const std::uint8_t data[] = {0x00, 0x00, 0x00, 0x04, 1, 2, 3};
		auto req = message(ILP_CMD_UPCALL);
		auto *pkt = req.nest_start(ILP_A_PACKET);
		req.put_bytes(ILP_PKT_A_PREV_ADDR, prev);
		req.put_u16(ILP_PKT_A_PREV_PORT, 40001);
		req.put_u32(ILP_PKT_A_SERVICE, 9);
		req.put_u64(ILP_PKT_A_CONN, 1ULL << 40);
		if (with_data)
			req.put_bytes(ILP_PKT_A_DATA, data);
		req.nest_end(pkt);
		return req;
	}

	void upcall__reads_every_attribute()
	{
		const std::uint8_t prev[4] = {203, 0, 113, 5};
		auto req = upcall_message(prev, true);
		auto up = ilp::parse_upcall(req.header());
		CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.5:40001"), up.prev.to_string());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(9), up.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1ULL << 40), up.conn);
		CPPUNIT_ASSERT_EQUAL(std::size_t(7), up.data.size());
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(3), up.data[6]);
	}

	void upcall__without_data_is_a_protocol_error()
	{
		const std::uint8_t prev[4] = {203, 0, 113, 5};
		auto req = upcall_message(prev, false);
		try {
			ilp::parse_upcall(req.header());
			CPPUNIT_FAIL("an upcall without data parsed");
		} catch (const NetlinkError &e) {
			CPPUNIT_ASSERT_EQUAL(EPROTO, e.code().value());
		}
	}

	void upcall__bad_address_length_is_a_protocol_error()
	{
		const std::uint8_t prev[5] = {203, 0, 113, 5, 1};
		auto req = upcall_message(prev, true);
		try {
			ilp::parse_upcall(req.header());
			CPPUNIT_FAIL("a 5-byte address parsed");
		} catch (const NetlinkError &e) {
			CPPUNIT_ASSERT_EQUAL(EPROTO, e.code().value());
		}
	}

	void upcall__flow_is_prev_service_conn()
	{
		ilp::Upcall up;
		up.prev = Endpoint::parse("[2001:db8::7]:1000");
		up.service = 5;
		up.conn = 6;
		Flow want{up.prev, 5, 6};
		CPPUNIT_ASSERT(up.flow() == want);
	}

	void listener__without_module_says_how_to_load_it()
	{
		if (ilp::loaded_af("/sys/module/ilp/parameters/family"))
			return; // module present: the VM selftests cover it
		try {
			ilp::Listener l;
			CPPUNIT_FAIL("Listener() succeeded without the module");
		} catch (const ilp::ModuleNotLoaded &e) {
			CPPUNIT_ASSERT_EQUAL(ENOENT, e.code().value());
		}
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(CacheTest);

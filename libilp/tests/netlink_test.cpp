// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The netlink message codec and the generic netlink socket, the latter
// against this machine's own kernel (its "nlctrl" family is always there).
#include <algorithm>
#include <chrono>
#include <cstring>

#include <sys/socket.h>

#include <cppunit/extensions/HelperMacros.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <ilp/netlink.hpp>

using ilp::nl::Attrs;
using ilp::nl::NetlinkError;
using ilp::nl::Request;

namespace
{

// An NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK and extack:
// header, nlmsgerr (with the request's header only), then TLVs.
std::vector<std::uint8_t> error_message(int error, const char *msg)
{
	std::vector<std::uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
	auto *nlh = mnl_nlmsg_put_header(buf.data());
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | (msg ? NLM_F_ACK_TLVS : 0);
	auto *e = static_cast<nlmsgerr *>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
	e->error = -error;
	e->msg.nlmsg_len = 64; // the request's length; its body is not echoed
	if (msg)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	buf.resize(nlh->nlmsg_len);
	return buf;
}

} // namespace

class NetlinkTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(NetlinkTest);
	CPPUNIT_TEST(request__builds_header_and_aligned_attributes);
	CPPUNIT_TEST(attrs__round_trip_scalars_strings_and_nests);
	CPPUNIT_TEST(attrs__bytes_flags_and_repeated_u8);
	CPPUNIT_TEST(request__moved_keeps_its_message);
	CPPUNIT_TEST(attrs__wrong_length_is_an_error);
	CPPUNIT_TEST(attrs__types_above_max_are_ignored);
	CPPUNIT_TEST(attrs__truncated_attribute_stops_parsing);
	CPPUNIT_TEST(parse_error__ack_has_no_error);
	CPPUNIT_TEST(parse_error__reads_errno_and_extack);
	CPPUNIT_TEST(error__what_names_context_errno_and_extack);
	CPPUNIT_TEST(socket__resolves_nlctrl_of_this_kernel);
	CPPUNIT_TEST(socket__unknown_family_is_nullopt);
	CPPUNIT_TEST(socket__kernel_error_is_thrown);
	CPPUNIT_TEST(socket__kernel_extack_is_in_the_error);
	CPPUNIT_TEST(socket__dump_reads_every_part);
	CPPUNIT_TEST(attrs__all_lists_repeated_nests_in_order);
	CPPUNIT_TEST(request__capacity_makes_room_for_a_packet);
	CPPUNIT_TEST(request__attribute_over_64k_is_refused);
	CPPUNIT_TEST(socket__receive_times_out_with_nothing);
	CPPUNIT_TEST(socket__receive_buffer_is_set);
	CPPUNIT_TEST(socket__overrun_is_counted_and_reading_goes_on);
	CPPUNIT_TEST(socket__receive_skips_other_sockets);
	CPPUNIT_TEST_SUITE_END();

public:
	void request__builds_header_and_aligned_attributes()
	{
		Request r(0x20, NLM_F_ACK, 7, 1);
		r.put_u8(1, 0xab).put_str(2, "ilp");
		const nlmsghdr *h = r.header();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x20), h->nlmsg_type);
		CPPUNIT_ASSERT(h->nlmsg_flags & NLM_F_REQUEST);
		CPPUNIT_ASSERT(h->nlmsg_flags & NLM_F_ACK);
		const auto *g = static_cast<const genlmsghdr *>(mnl_nlmsg_get_payload(h));
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(7), g->cmd);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(1), g->version);
		// 16 header + 4 genl + 8 (u8, padded) + 8 ("ilp\0")
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(36), h->nlmsg_len);
		CPPUNIT_ASSERT_EQUAL(std::size_t(36), r.bytes().size());
	}

	void attrs__round_trip_scalars_strings_and_nests()
	{
		Request r(0x20, 0, 1, 1);
		r.put_u8(1, 8).put_u16(2, 1600).put_u32(3, 0xdeadbeef).put_u64(4, 1ULL << 40);
		r.put_str(5, "hello");
		auto *nest = r.nest_start(6);
		r.put_u32(1, 42);
		r.nest_end(nest);

		auto a = Attrs::of_message(r.header(), 6);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(8), *a.u8(1));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1600), *a.u16(2));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(0xdeadbeef), *a.u32(3));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1ULL << 40), *a.u64(4));
		CPPUNIT_ASSERT_EQUAL(std::string("hello"), *a.str(5));
		auto inner = Attrs::of_nest(a.get(6), 1);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(42), *inner.u32(1));
		CPPUNIT_ASSERT(!a.has(0));
		CPPUNIT_ASSERT(!Attrs::of_nest(nullptr, 3).has(1));
	}

	void attrs__bytes_flags_and_repeated_u8()
	{
		const std::uint8_t key[5] = {1, 2, 3, 4, 5};
		Request r(0x20, 0, 1, 1);
		auto *nest = r.nest_start(1);
		r.put_bytes(1, key).put_flag(2).put_u8(3, 1).put_u8(4, 9).put_u8(3, 0);
		r.put_bytes(5, {});
		r.nest_end(nest);
		// The kernel's strict validation refuses nests without it.
		CPPUNIT_ASSERT(nest->nla_type & NLA_F_NESTED);

		auto top = Attrs::of_message(r.header(), 1);
		auto a = Attrs::of_nest(top.get(1), 6);
		auto b = a.bytes(1);
		CPPUNIT_ASSERT(b.has_value());
		CPPUNIT_ASSERT_EQUAL(std::size_t(5), b->size());
		CPPUNIT_ASSERT(std::equal(b->begin(), b->end(), key));
		CPPUNIT_ASSERT(a.bytes(5).has_value());
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), a.bytes(5)->size());
		CPPUNIT_ASSERT(!a.bytes(6).has_value());
		CPPUNIT_ASSERT(a.flag(2));
		CPPUNIT_ASSERT(!a.flag(6));
		// A flag has no payload.
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), a.bytes(2)->size());
		// u8() sees the last of a repeated attribute, u8_all() each.
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0), *a.u8(3));
		auto all = a.u8_all(3);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), all.size());
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(1), all[0]);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0), all[1]);
		CPPUNIT_ASSERT(a.u8_all(6).empty());
		CPPUNIT_ASSERT(a.u8_all(100).empty());           // above the maximum: ignored
		CPPUNIT_ASSERT_THROW(a.u8_all(1), NetlinkError); // 5 bytes, not 1
		// Top-level repeats too.
		Request t(0x20, 0, 1, 1);
		t.put_u8(2, 7).put_u8(2, 8);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2),
				     Attrs::of_message(t.header(), 2).u8_all(2).size());
		CPPUNIT_ASSERT(Attrs::of_nest(nullptr, 3).u8_all(1).empty());
	}

	void request__moved_keeps_its_message()
	{
		Request r(0x20, NLM_F_ACK, 7, 1);
		r.put_u32(1, 77);
		Request moved(std::move(r));
		moved.put_u32(2, 78);
		auto a = Attrs::of_message(moved.header(), 2);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(77), *a.u32(1));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(78), *a.u32(2));
		Request other(0x21, 0, 1, 1);
		other = std::move(moved);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x20), other.header()->nlmsg_type);
		CPPUNIT_ASSERT_EQUAL(std::size_t(other.header()->nlmsg_len), other.bytes().size());
	}

	void attrs__wrong_length_is_an_error()
	{
		Request r(0x20, 0, 1, 1);
		r.put_u16(1, 5);
		auto a = Attrs::of_message(r.header(), 1);
		CPPUNIT_ASSERT_THROW(a.u32(1), NetlinkError);
		CPPUNIT_ASSERT_THROW(a.u64(1), NetlinkError);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(5), *a.u16(1));
	}

	void attrs__types_above_max_are_ignored()
	{
		Request r(0x20, 0, 1, 1);
		r.put_u32(9, 1).put_u32(2, 2);
		auto a = Attrs::of_message(r.header(), 3);
		CPPUNIT_ASSERT(!a.has(9));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), *a.u32(2));
	}

	void attrs__truncated_attribute_stops_parsing()
	{
		Request r(0x20, 0, 1, 1);
		r.put_u32(1, 1).put_u32(2, 2);
		// Claim the second attribute is longer than the message.
		auto *h = r.header();
		auto *second =
		    reinterpret_cast<nlattr *>(reinterpret_cast<char *>(h) + h->nlmsg_len - 8);
		second->nla_len = 200;
		auto a = Attrs::of_message(h, 2);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(1), *a.u32(1));
		CPPUNIT_ASSERT(!a.has(2));
	}

	void parse_error__ack_has_no_error()
	{
		auto m = error_message(0, nullptr);
		auto e = ilp::nl::parse_error(reinterpret_cast<const nlmsghdr *>(m.data()));
		CPPUNIT_ASSERT_EQUAL(0, e.error);
		CPPUNIT_ASSERT(e.extack.empty());
	}

	void parse_error__reads_errno_and_extack()
	{
		auto m = error_message(EINVAL, "Unknown attribute type");
		auto e = ilp::nl::parse_error(reinterpret_cast<const nlmsghdr *>(m.data()));
		CPPUNIT_ASSERT_EQUAL(EINVAL, e.error);
		CPPUNIT_ASSERT_EQUAL(std::string("Unknown attribute type"), e.extack);
	}

	void error__what_names_context_errno_and_extack()
	{
		NetlinkError e(EPERM, "resetting counters", "needs CAP_NET_ADMIN");
		CPPUNIT_ASSERT_EQUAL(
		    std::string("resetting counters: Operation not permitted: needs CAP_NET_ADMIN"),
		    std::string(e.what()));
		CPPUNIT_ASSERT_EQUAL(EPERM, e.code().value());
	}

	void socket__resolves_nlctrl_of_this_kernel()
	{
		ilp::nl::GenlSocket s;
		auto f = s.resolve("nlctrl");
		CPPUNIT_ASSERT(f.has_value());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(GENL_ID_CTRL), f->id);
	}

	void socket__unknown_family_is_nullopt()
	{
		ilp::nl::GenlSocket s;
		CPPUNIT_ASSERT(!s.resolve("ilp-nosuch").has_value());
	}

	void socket__kernel_error_is_thrown()
	{
		// nlctrl has no command 200: the kernel answers EOPNOTSUPP.
		ilp::nl::GenlSocket s;
		Request r(GENL_ID_CTRL, NLM_F_ACK, 200, 1);
		try {
			s.transact(r, [](const nlmsghdr *) {});
			CPPUNIT_FAIL("no error from the kernel");
		} catch (const NetlinkError &e) {
			CPPUNIT_ASSERT_EQUAL(EOPNOTSUPP, e.code().value());
		}
	}

	void socket__kernel_extack_is_in_the_error()
	{
		// A family name longer than GENL_NAMSIZ fails nlctrl's policy,
		// and the kernel says so in an extack message.
		ilp::nl::GenlSocket s;
		try {
			s.resolve("a-family-name-longer-than-sixteen");
			CPPUNIT_FAIL("no error from the kernel");
		} catch (const NetlinkError &e) {
			CPPUNIT_ASSERT_EQUAL(EINVAL, e.code().value());
			CPPUNIT_ASSERT(!e.extack().empty());
			CPPUNIT_ASSERT(std::string(e.what()).find(e.extack()) != std::string::npos);
		}
	}

	void socket__dump_reads_every_part()
	{
		// Dumping every family takes several reads on any kernel and
		// must include nlctrl itself.
		ilp::nl::GenlSocket s;
		Request r(GENL_ID_CTRL, NLM_F_DUMP, CTRL_CMD_GETFAMILY, 1);
		int families = 0;
		bool saw_nlctrl = false;
		s.transact(r, [&](const nlmsghdr *nlh) {
			families++;
			auto a = Attrs::of_message(nlh, CTRL_ATTR_MAX);
			if (a.str(CTRL_ATTR_FAMILY_NAME) == "nlctrl")
				saw_nlctrl = true;
		});
		CPPUNIT_ASSERT(families > 1);
		CPPUNIT_ASSERT(saw_nlctrl);
	}

	void attrs__all_lists_repeated_nests_in_order()
	{
		Request r(0x20, 0, 1, 1);
		auto *outer = r.nest_start(1);
		for (std::uint32_t v : {10u, 20u, 30u}) {
			auto *n = r.nest_start(2);
			r.put_u32(1, v);
			r.nest_end(n);
		}
		r.put_flag(3);
		r.nest_end(outer);
		auto a = Attrs::of_nest(Attrs::of_message(r.header(), 1).get(1), 3);
		auto all = a.all(2);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), all.size());
		for (std::size_t i = 0; i < all.size(); i++)
			CPPUNIT_ASSERT_EQUAL(std::uint32_t(10 * (i + 1)),
					     *Attrs::of_nest(all[i], 1).u32(1));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), a.all(3).size());
		CPPUNIT_ASSERT(a.all(1).empty());
		CPPUNIT_ASSERT(a.all(100).empty()); // above the maximum: ignored
	}

	void request__capacity_makes_room_for_a_packet()
	{
		std::vector<std::uint8_t> packet(60000, 0xab);
		Request small(0x20, NLM_F_ACK, 1, 1);
		CPPUNIT_ASSERT_THROW(small.put_bytes(1, packet), NetlinkError);
		Request big(0x20, NLM_F_ACK, 1, 1, packet.size() + 256);
		big.put_u32(2, 5).put_bytes(1, packet);
		auto a = Attrs::of_message(big.header(), 2);
		CPPUNIT_ASSERT_EQUAL(packet.size(), a.bytes(1)->size());
		CPPUNIT_ASSERT(std::equal(packet.begin(), packet.end(), a.bytes(1)->begin()));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(5), *a.u32(2));
		// A capacity below the default is the default.
		Request tiny(0x20, 0, 1, 1, 8);
		tiny.put_bytes(1, std::vector<std::uint8_t>(1000));
	}

	void request__attribute_over_64k_is_refused()
	{
		// nla_len is 16 bits, the 4-byte header included.
		Request r(0x20, 0, 1, 1, 70000);
		r.put_bytes(1, std::vector<std::uint8_t>(65531));
		Request over(0x20, 0, 1, 1, 70000);
		try {
			over.put_bytes(1, std::vector<std::uint8_t>(65532));
			CPPUNIT_FAIL("a 65532-byte attribute built");
		} catch (const NetlinkError &e) {
			CPPUNIT_ASSERT_EQUAL(EMSGSIZE, e.code().value());
		}
	}

	void socket__receive_times_out_with_nothing()
	{
		ilp::nl::GenlSocket s;
		int calls = 0;
		auto start = std::chrono::steady_clock::now();
		CPPUNIT_ASSERT(!s.receive([&](const nlmsghdr *) { calls++; }, 30));
		CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start >=
			       std::chrono::milliseconds(25));
		CPPUNIT_ASSERT(!s.receive([&](const nlmsghdr *) { calls++; }, 0));
		CPPUNIT_ASSERT_EQUAL(0, calls);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), s.overruns());
	}

	void socket__receive_buffer_is_set()
	{
		ilp::nl::GenlSocket s;
		s.set_receive_buffer(65536);
		// The kernel doubles it (and SO_RCVBUF caps it at rmem_max,
		// at least 2 * 65536 on any Linux this builds on).
		CPPUNIT_ASSERT(s.receive_buffer() >= 65536);
		CPPUNIT_ASSERT_THROW(s.set_receive_buffer(0), NetlinkError);
		CPPUNIT_ASSERT(s.fd() >= 0);
		CPPUNIT_ASSERT(s.portid() != 0);
	}

	void socket__overrun_is_counted_and_reading_goes_on()
	{
		// Requests sent without reading the replies fill a small
		// receive buffer: the kernel drops the rest and reports
		// ENOBUFS, as it does for upcalls a slow listener cannot take.
		ilp::nl::GenlSocket s;
		s.set_receive_buffer(1); // the kernel's minimum
		Request r(GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
		r.put_str(CTRL_ATTR_FAMILY_NAME, "nlctrl");
		r.header()->nlmsg_pid = 0;
		for (int i = 0; i < 64; i++) {
			r.header()->nlmsg_seq = 1000 + i;
			auto out = r.bytes();
			CPPUNIT_ASSERT(send(s.fd(), out.data(), out.size(), 0) >= 0);
		}
		int families = 0;
		while (s.receive(
		    [&](const nlmsghdr *nlh) {
			    if (nlh->nlmsg_type == GENL_ID_CTRL)
				    families++;
		    },
		    0)) {
		}
		CPPUNIT_ASSERT(s.overruns() >= 1);
		CPPUNIT_ASSERT(families >= 1);
		CPPUNIT_ASSERT(families < 64);
		// And the socket still works.
		CPPUNIT_ASSERT(s.resolve("nlctrl").has_value());
	}

	void socket__receive_skips_other_sockets()
	{
		// Only the kernel sends upcalls.  Another socket may send to
		// ours with CAP_NET_ADMIN only: without it, nothing to check.
		ilp::nl::GenlSocket s;
		ilp::nl::GenlSocket other;
		Request r(0x30, 0, 1, 1);
		r.put_u32(1, 7);
		r.header()->nlmsg_seq = 0;
		r.header()->nlmsg_pid = 0;
		sockaddr_nl to{};
		to.nl_family = AF_NETLINK;
		to.nl_pid = s.portid();
		auto out = r.bytes();
		if (sendto(other.fd(), out.data(), out.size(), 0, reinterpret_cast<sockaddr *>(&to),
			   sizeof(to)) < 0) {
			CPPUNIT_ASSERT_EQUAL(EPERM, errno);
			return;
		}
		int calls = 0;
		CPPUNIT_ASSERT(s.receive([&](const nlmsghdr *) { calls++; }, 1000));
		CPPUNIT_ASSERT_EQUAL(0, calls);
		// Nor does transact() keep it for receive().
		if (sendto(other.fd(), out.data(), out.size(), 0, reinterpret_cast<sockaddr *>(&to),
			   sizeof(to)) < 0)
			CPPUNIT_FAIL("second send failed");
		CPPUNIT_ASSERT(s.resolve("nlctrl").has_value());
		CPPUNIT_ASSERT(!s.receive([&](const nlmsghdr *) { calls++; }, 0));
		CPPUNIT_ASSERT_EQUAL(0, calls);
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(NetlinkTest);

// SPDX-License-Identifier: GPL-2.0-or-later
//
// Finding and replacing the UDP payload of an Ethernet frame: what is
// ours to rewrite and what is left alone, lengths and checksums of the
// result, and no read outside a frame cut at any length (this program is
// built with _GLIBCXX_ASSERTIONS, so an out-of-bounds span index aborts).
#include <numeric>
#include <vector>

#include <cppunit/extensions/HelperMacros.h>

#include "frames.hpp"
#include "pcap_io.hpp"

using namespace ilpctl::pcap;
using frames::FrameSpec;

namespace
{

std::vector<std::uint8_t> bytes(std::size_t n, std::uint8_t first = 1)
{
	std::vector<std::uint8_t> b(n);
	std::iota(b.begin(), b.end(), first);
	return b;
}

std::vector<std::uint8_t> frame(const FrameSpec &s, std::size_t payload_len = 24)
{
	return frames::build_frame(s, bytes(payload_len));
}

} // namespace

class PcapIoTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PcapIoTest);
	CPPUNIT_TEST(locate__ipv4_udp);
	CPPUNIT_TEST(locate__ipv4_with_options);
	CPPUNIT_TEST(locate__ipv6_udp_after_hop_by_hop);
	CPPUNIT_TEST(locate__behind_one_and_two_vlan_tags);
	CPPUNIT_TEST(locate__trailer_is_not_payload);
	CPPUNIT_TEST(locate__leaves_alone_what_is_not_whole_udp);
	CPPUNIT_TEST(locate__inconsistent_udp_length);
	CPPUNIT_TEST(locate__cut_at_every_length);
	CPPUNIT_TEST(checksum__ipv4_header_known_value);
	CPPUNIT_TEST(replace__ipv4_matches_independent_build);
	CPPUNIT_TEST(replace__ipv6_matches_independent_build);
	CPPUNIT_TEST(replace__keeps_vlan_options_and_trailer);
	CPPUNIT_TEST(replace__refuses_what_does_not_fit_udp);
	CPPUNIT_TEST_SUITE_END();

public:
	void locate__ipv4_udp()
	{
		FrameSpec s{.src_port = 1234, .dst_port = 1000};
		auto f = frame(s, 30);
		auto l = locate_udp(f);
		CPPUNIT_ASSERT(l.status == UdpStatus::Ok);
		CPPUNIT_ASSERT_EQUAL(4, l.udp.ip_version);
		CPPUNIT_ASSERT_EQUAL(std::size_t(14), l.udp.ip_off);
		CPPUNIT_ASSERT_EQUAL(std::size_t(34), l.udp.udp_off);
		CPPUNIT_ASSERT_EQUAL(frames::payload_offset(s), l.udp.payload_off());
		CPPUNIT_ASSERT_EQUAL(std::size_t(30), l.udp.payload_len());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1234), l.udp.src_port);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), l.udp.dst_port);
	}

	void locate__ipv4_with_options()
	{
		FrameSpec s{.ipv4_options = true};
		auto l = locate_udp(frame(s));
		CPPUNIT_ASSERT(l.status == UdpStatus::Ok);
		CPPUNIT_ASSERT_EQUAL(std::size_t(38), l.udp.udp_off);
	}

	void locate__ipv6_udp_after_hop_by_hop()
	{
		for (bool hbh : {false, true}) {
			FrameSpec s{.ip = 6, .ipv6_hop_by_hop = hbh};
			auto l = locate_udp(frame(s, 50));
			CPPUNIT_ASSERT(l.status == UdpStatus::Ok);
			CPPUNIT_ASSERT_EQUAL(6, l.udp.ip_version);
			CPPUNIT_ASSERT_EQUAL(frames::l4_offset(s), l.udp.udp_off);
			CPPUNIT_ASSERT_EQUAL(std::size_t(50), l.udp.payload_len());
		}
	}

	void locate__behind_one_and_two_vlan_tags()
	{
		for (int tags : {1, 2})
			for (int ip : {4, 6}) {
				FrameSpec s{.ip = ip, .vlan_tags = tags};
				auto l = locate_udp(frame(s));
				CPPUNIT_ASSERT(l.status == UdpStatus::Ok);
				CPPUNIT_ASSERT_EQUAL(frames::ip_offset(s), l.udp.ip_off);
				CPPUNIT_ASSERT_EQUAL(frames::payload_offset(s),
						     l.udp.payload_off());
			}
	}

	void locate__trailer_is_not_payload()
	{
		FrameSpec s{.trailer = 6};
		auto f = frame(s, 4);
		auto l = locate_udp(f);
		CPPUNIT_ASSERT(l.status == UdpStatus::Ok);
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), l.udp.payload_len());
		CPPUNIT_ASSERT_EQUAL(f.size() - 6, l.udp.end);
	}

	void locate__leaves_alone_what_is_not_whole_udp()
	{
		auto not_udp = [](std::vector<std::uint8_t> f) {
			return locate_udp(f).status == UdpStatus::NotUdp;
		};
		CPPUNIT_ASSERT(not_udp(frame({.ip = 0})));               // ARP
		CPPUNIT_ASSERT(not_udp(frame({.proto = 6})));            // TCP
		CPPUNIT_ASSERT(not_udp(frame({.ip = 6, .proto = 6})));   // TCP
		CPPUNIT_ASSERT(not_udp(frame({.ipv4_fragment = true}))); // first fragment
		auto later = frame({});
		later[20] = 0x00; // fragment offset 8, MF clear: the last fragment
		later[21] = 0x01;
		CPPUNIT_ASSERT(not_udp(later));
		// Three VLAN tags: more than we look through.
		auto three = frame({.vlan_tags = 2});
		three.insert(three.begin() + 12, {0x81, 0x00, 0x00, 0x01});
		CPPUNIT_ASSERT(not_udp(three));
		// IPv6 routing header (43) and jumbogram.
		auto rh = frame({.ip = 6, .ipv6_hop_by_hop = true});
		rh[54] = 43;
		CPPUNIT_ASSERT(not_udp(rh));
		auto jumbo = frame({.ip = 6});
		jumbo[18] = jumbo[19] = 0;
		CPPUNIT_ASSERT(not_udp(jumbo));
		// IHL below 5, IP version wrong for the ethertype.
		auto ihl = frame({});
		ihl[14] = 0x44;
		CPPUNIT_ASSERT(not_udp(ihl));
		auto ver = frame({});
		ver[14] = 0x65;
		CPPUNIT_ASSERT(not_udp(ver));
		// An IPv4 total length too short for the UDP header.
		auto tiny = frame({});
		tiny[16] = 0;
		tiny[17] = 27;
		CPPUNIT_ASSERT(not_udp(tiny));
	}

	void locate__inconsistent_udp_length()
	{
		auto f = frame({}, 20);
		f[39] += 1; // UDP length one more than IP says
		auto l = locate_udp(f);
		CPPUNIT_ASSERT(l.status == UdpStatus::BadLength);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), l.udp.dst_port);
	}

	void locate__cut_at_every_length()
	{
		for (FrameSpec s : {FrameSpec{.vlan_tags = 1, .ipv4_options = true, .trailer = 2},
				    FrameSpec{.ip = 6, .vlan_tags = 2, .ipv6_hop_by_hop = true}}) {
			auto full = frame(s, 40);
			auto end = full.size() - s.trailer;
			for (std::size_t len = 0; len <= full.size(); len++) {
				// An exact-size copy: reading past it is caught.
				std::vector<std::uint8_t> cut(
				    full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
				auto st = locate_udp(cut).status;
				if (len < frames::payload_offset(s))
					CPPUNIT_ASSERT(st == UdpStatus::NotUdp);
				else if (len < end)
					CPPUNIT_ASSERT(st == UdpStatus::Truncated);
				else
					CPPUNIT_ASSERT(st == UdpStatus::Ok);
			}
		}
	}

	void checksum__ipv4_header_known_value()
	{
		// The example header of RFC 1071's usual illustration: 0xb861.
		std::vector<std::uint8_t> h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
					       0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
					       0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0xb861), ipv4_header_checksum(h));
		h[10] = 0xb8;
		h[11] = 0x61;
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), ipv4_header_checksum(h));
	}

	void replace__ipv4_matches_independent_build()
	{
		// Growing, shrinking, emptying, and an odd length.
		for (std::size_t from : {0u, 13u, 100u})
			for (std::size_t to : {0u, 1u, 57u, 1400u}) {
				FrameSpec s{};
				auto f = frame(s, from);
				auto l = locate_udp(f);
				auto payload = bytes(to, 9);
				std::vector<std::uint8_t> out;
				CPPUNIT_ASSERT(replace_udp_payload(f, l.udp, payload, out));
				CPPUNIT_ASSERT(out == frames::build_frame(s, payload));
			}
	}

	void replace__ipv6_matches_independent_build()
	{
		for (std::size_t to : {0u, 1u, 57u, 1400u}) {
			FrameSpec s{.ip = 6, .ipv6_hop_by_hop = true};
			auto f = frame(s, 32);
			auto l = locate_udp(f);
			auto payload = bytes(to, 200);
			std::vector<std::uint8_t> out;
			CPPUNIT_ASSERT(replace_udp_payload(f, l.udp, payload, out));
			CPPUNIT_ASSERT(out == frames::build_frame(s, payload));
			auto nl = locate_udp(out);
			CPPUNIT_ASSERT(nl.status == UdpStatus::Ok);
			CPPUNIT_ASSERT_EQUAL(
			    std::uint16_t(out[nl.udp.udp_off + 6] << 8 | out[nl.udp.udp_off + 7]),
			    udp6_checksum(out, nl.udp));
		}
	}

	void replace__keeps_vlan_options_and_trailer()
	{
		FrameSpec s{.vlan_tags = 2, .ipv4_options = true, .trailer = 5};
		auto f = frame(s, 3);
		std::fill(f.end() - 5, f.end(), 0xee); // a trailer that is not zeros
		auto payload = bytes(77);
		std::vector<std::uint8_t> out;
		CPPUNIT_ASSERT(replace_udp_payload(f, locate_udp(f).udp, payload, out));
		auto want = frames::build_frame(s, payload);
		std::fill(want.end() - 5, want.end(), 0xee);
		CPPUNIT_ASSERT(out == want);
	}

	void replace__refuses_what_does_not_fit_udp()
	{
		auto f4 = frame({});
		auto f6 = frame({.ip = 6, .ipv6_hop_by_hop = true});
		std::vector<std::uint8_t> out;
		// IPv4: the total length counts the 20-byte header and 8 of UDP.
		CPPUNIT_ASSERT(replace_udp_payload(f4, locate_udp(f4).udp,
						   std::vector<std::uint8_t>(65535 - 28), out));
		CPPUNIT_ASSERT(!replace_udp_payload(f4, locate_udp(f4).udp,
						    std::vector<std::uint8_t>(65535 - 27), out));
		// IPv6: the payload length counts the extension header and UDP.
		CPPUNIT_ASSERT(replace_udp_payload(f6, locate_udp(f6).udp,
						   std::vector<std::uint8_t>(65535 - 16), out));
		CPPUNIT_ASSERT(!replace_udp_payload(f6, locate_udp(f6).udp,
						    std::vector<std::uint8_t>(65535 - 15), out));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(PcapIoTest);

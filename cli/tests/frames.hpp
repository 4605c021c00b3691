// SPDX-License-Identifier: GPL-2.0-or-later
//
// Ethernet frames for the tests of "ilpctl pcap", built here rather than
// with cli/pcap_io.cpp, so that the tests check that code instead of
// repeating it: lengths are laid out field by field and checksums are
// summed over a buffer built for the purpose.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace frames
{

struct FrameSpec {
	int ip = 4;                   // 4, 6, or 0 for an ARP frame
	int vlan_tags = 0;            // 0, 1 (802.1Q) or 2 (802.1ad outside 802.1Q)
	bool ipv4_options = false;    // 4 bytes of options (IHL 6)
	bool ipv4_fragment = false;   // More Fragments set
	bool ipv6_hop_by_hop = false; // an 8-byte hop-by-hop options header
	std::uint8_t proto = 17;      // 17 UDP, 6 TCP
	std::uint16_t src_port = 40000;
	std::uint16_t dst_port = 1000;
	std::size_t trailer = 0; // bytes after the IP datagram (Ethernet padding)
};

inline void put16(std::vector<std::uint8_t> &v, std::size_t off, unsigned x)
{
	v.at(off) = static_cast<std::uint8_t>(x >> 8);
	v.at(off + 1) = static_cast<std::uint8_t>(x);
}

inline void append(std::vector<std::uint8_t> &v, std::initializer_list<unsigned> bytes)
{
	for (unsigned b : bytes)
		v.push_back(static_cast<std::uint8_t>(b));
}

// RFC 1071, the textbook way: 32-bit accumulator, folded at the end.
inline std::uint16_t inet_checksum(std::span<const std::uint8_t> b)
{
	std::uint32_t sum = 0;
	for (std::size_t i = 0; i < b.size(); i += 2)
		sum += static_cast<std::uint32_t>(b[i] << 8 | (i + 1 < b.size() ? b[i + 1] : 0));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<std::uint16_t>(~sum);
}

// Offset of the IP header (after Ethernet and tags).
inline std::size_t ip_offset(const FrameSpec &s)
{
	return 14 + 4 * static_cast<std::size_t>(s.vlan_tags);
}

// Offset of the transport header.
inline std::size_t l4_offset(const FrameSpec &s)
{
	if (s.ip == 4)
		return ip_offset(s) + (s.ipv4_options ? 24 : 20);
	return ip_offset(s) + 40 + (s.ipv6_hop_by_hop ? 8 : 0);
}

// Offset of the UDP (or TCP) payload.
inline std::size_t payload_offset(const FrameSpec &s)
{
	return l4_offset(s) + (s.proto == 17 ? 8 : 20);
}

// The frame @s describes carrying @payload, with the checksums ILP's
// tools write: IPv4 header checksum right, UDP checksum 0 over IPv4 and
// right over IPv6.
inline std::vector<std::uint8_t> build_frame(const FrameSpec &s,
					     std::span<const std::uint8_t> payload)
{
	std::vector<std::uint8_t> f;
	append(f, {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01}); // dst, src
	if (s.vlan_tags == 2)
		append(f, {0x88, 0xa8, 0x00, 0x07});
	if (s.vlan_tags >= 1)
		append(f, {0x81, 0x00, 0x00, 0x2a});
	if (s.ip == 0) {
		// ARP request: who has 192.0.2.2, tell 192.0.2.1.
		append(f, {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0,   0, 0, 0,
			   0x01, 192,  0, 2, 1,    0, 0, 0, 0, 0, 0,    192, 0, 2, 2});
		f.resize(f.size() + s.trailer);
		return f;
	}

	std::size_t l4_len = (s.proto == 17 ? 8 : 20) + payload.size();
	std::size_t ip = f.size() + 2;
	if (s.ip == 4) {
		append(f, {0x08, 0x00});
		std::size_t ihl = s.ipv4_options ? 24 : 20;
		append(f, {0x40 | static_cast<unsigned>(ihl / 4),
			   0,
			   0,
			   0,
			   0x12,
			   0x34,
			   s.ipv4_fragment ? 0x20u : 0x40u,
			   0,
			   64,
			   s.proto,
			   0,
			   0,
			   192,
			   0,
			   2,
			   1,
			   192,
			   0,
			   2,
			   2});
		if (s.ipv4_options)
			append(f, {1, 1, 1, 0}); // NOP NOP NOP EOL
		put16(f, ip + 2, static_cast<unsigned>(ihl + l4_len));
		put16(f, ip + 10, inet_checksum(std::span<const std::uint8_t>(f).subspan(ip, ihl)));
	} else {
		append(f, {0x86, 0xdd});
		append(f, {0x60, 0, 0, 0, 0, 0, s.ipv6_hop_by_hop ? 0u : s.proto, 64});
		append(f, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
		append(f, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
		if (s.ipv6_hop_by_hop)
			append(f, {s.proto, 0, 1, 4, 0, 0, 0, 0}); // PadN
		put16(f, ip + 4, static_cast<unsigned>((s.ipv6_hop_by_hop ? 8 : 0) + l4_len));
	}

	std::size_t l4 = f.size();
	if (s.proto == 17) {
		append(f, {0, 0, 0, 0, 0, 0, 0, 0});
		put16(f, l4 + 4, static_cast<unsigned>(l4_len));
	} else {
		append(f, {0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0x01, 0, 0, 0, 0, 0});
	}
	put16(f, l4, s.src_port);
	put16(f, l4 + 2, s.dst_port);
	f.insert(f.end(), payload.begin(), payload.end());

	if (s.ip == 6 && s.proto == 17) {
		// Pseudo-header, then the datagram with its checksum field 0.
		std::vector<std::uint8_t> p(f.begin() + static_cast<std::ptrdiff_t>(ip + 8),
					    f.begin() + static_cast<std::ptrdiff_t>(ip + 40));
		append(p, {0, 0, static_cast<unsigned>(l4_len >> 8),
			   static_cast<unsigned>(l4_len) & 0xff, 0, 0, 0, 17});
		p.insert(p.end(), f.begin() + static_cast<std::ptrdiff_t>(l4), f.end());
		std::uint16_t c = inet_checksum(p);
		put16(f, l4 + 6, c == 0 ? 0xffff : c);
	}
	f.resize(f.size() + s.trailer);
	return f;
}

} // namespace frames

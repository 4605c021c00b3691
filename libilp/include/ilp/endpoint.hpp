// SPDX-License-Identifier: LGPL-2.1-or-later
//
// An ILP endpoint on the underlay: the IPv4 or IPv6 address and UDP port of
// a node's ILP instance, as peers are named to the kernel and on the
// command line.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/ilp.h>

namespace ilp
{

struct Endpoint {
	sa_family_t family = AF_INET; // AF_INET or AF_INET6
	// The address in network byte order: for AF_INET, its first 4
	// bytes (the rest stay zero).
	in6_addr addr{};
	std::uint16_t port = ILP_UDP_PORT; // host byte order

	// Parses "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT", where ADDR is
	// dotted IPv4 or IPv6 (an IPv6 address takes a port only in
	// brackets) and PORT is 1 to 65535, ILP_UDP_PORT when left out.
	// Throws ilp::Error(EINVAL) naming what is wrong.
	static Endpoint parse(std::string_view text);

	// An endpoint of @bytes (4: IPv4, 16: IPv6, network order) and
	// @port; throws ilp::Error(EINVAL) for any other length.
	static Endpoint from_bytes(std::span<const std::uint8_t> bytes, std::uint16_t port);

	// The 4 or 16 address bytes, network order.
	std::span<const std::uint8_t> addr_bytes() const noexcept;

	// "192.0.2.1" or "2001:db8::1".
	std::string addr_string() const;
	// "192.0.2.1:1000" or "[2001:db8::1]:1000": what parse() reads.
	std::string to_string() const;

	bool operator==(const Endpoint &other) const noexcept;
	// The same node: family and address, whatever the ports (a peer
	// sends from ports other than the one it listens on).
	bool same_address(const Endpoint &other) const noexcept;
};

} // namespace ilp

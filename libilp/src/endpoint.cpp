// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/endpoint.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "ilp/error.hpp"

namespace ilp
{

namespace
{

[[noreturn]] void bad(std::string_view text, const std::string &why)
{
	throw Error(EINVAL, "bad endpoint '" + std::string(text) + "': " + why);
}

std::uint16_t parse_port(std::string_view whole, std::string_view s)
{
	unsigned v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535)
		bad(whole,
		    "the port must be a number from 1 to 65535, not '" + std::string(s) + "'");
	return static_cast<std::uint16_t>(v);
}

bool parse_addr(int family, std::string_view s, in6_addr &out)
{
	// inet_pton() wants a C string; an address is short.
	if (s.size() >= INET6_ADDRSTRLEN)
		return false;
	char buf[INET6_ADDRSTRLEN];
	std::memcpy(buf, s.data(), s.size());
	buf[s.size()] = '\0';
	in6_addr a{};
	if (inet_pton(family, buf, &a) != 1)
		return false;
	out = a;
	return true;
}

} // namespace

Endpoint Endpoint::parse(std::string_view text)
{
	Endpoint ep;
	if (text.empty())
		bad(text, "empty");
	if (text.front() == '[') {
		auto close = text.find(']');
		if (close == std::string_view::npos)
			bad(text, "no ']' after the IPv6 address");
		auto rest = text.substr(close + 1);
		if (!parse_addr(AF_INET6, text.substr(1, close - 1), ep.addr))
			bad(text, "'" + std::string(text.substr(1, close - 1)) +
				      "' is not an IPv6 address");
		ep.family = AF_INET6;
		if (!rest.empty()) {
			if (rest.front() != ':')
				bad(text, "expected ':PORT' after ']'");
			ep.port = parse_port(text, rest.substr(1));
		}
		return ep;
	}
	auto colons = std::count(text.begin(), text.end(), ':');
	if (colons >= 2) {
		// A bare IPv6 address: no port, which would be ambiguous.
		if (!parse_addr(AF_INET6, text, ep.addr))
			bad(text, "not an IPv4 or IPv6 address (an IPv6 address takes a port "
				  "only in brackets: [ADDR]:PORT)");
		ep.family = AF_INET6;
		return ep;
	}
	auto colon = text.find(':');
	auto host = text.substr(0, colon);
	if (!parse_addr(AF_INET, host, ep.addr))
		bad(text, "'" + std::string(host) + "' is not an IPv4 address");
	ep.family = AF_INET;
	if (colon != std::string_view::npos)
		ep.port = parse_port(text, text.substr(colon + 1));
	return ep;
}

Endpoint Endpoint::from_bytes(std::span<const std::uint8_t> bytes, std::uint16_t port)
{
	Endpoint ep;
	if (bytes.size() == 4)
		ep.family = AF_INET;
	else if (bytes.size() == 16)
		ep.family = AF_INET6;
	else
		throw Error(EINVAL, "an address of " + std::to_string(bytes.size()) +
					" bytes (expected 4 for IPv4 or 16 for IPv6)");
	std::memcpy(ep.addr.s6_addr, bytes.data(), bytes.size());
	ep.port = port;
	return ep;
}

std::span<const std::uint8_t> Endpoint::addr_bytes() const noexcept
{
	return {addr.s6_addr, family == AF_INET6 ? std::size_t(16) : std::size_t(4)};
}

std::string Endpoint::addr_string() const
{
	char buf[INET6_ADDRSTRLEN] = "";
	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, &addr, buf, sizeof(buf));
	return buf;
}

std::string Endpoint::to_string() const
{
	if (family == AF_INET6)
		return "[" + addr_string() + "]:" + std::to_string(port);
	return addr_string() + ":" + std::to_string(port);
}

bool Endpoint::same_address(const Endpoint &other) const noexcept
{
	auto a = addr_bytes();
	auto b = other.addr_bytes();
	return family == other.family && std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool Endpoint::operator==(const Endpoint &other) const noexcept
{
	auto a = addr_bytes();
	auto b = other.addr_bytes();
	return family == other.family && port == other.port &&
	       std::equal(a.begin(), a.end(), b.begin(), b.end());
}

} // namespace ilp

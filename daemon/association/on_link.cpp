// SPDX-License-Identifier: GPL-2.0-or-later
//
// on_link(): each interface address and netmask of getifaddrs(), IPv4
// and IPv6 (an IPv4-mapped endpoint compared as IPv4).
#include <cstring>
#include <memory>

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include "association/on_link.hpp"

namespace ilpd
{

namespace
{

struct IfaddrsFree {
	void operator()(ifaddrs *p) const noexcept { freeifaddrs(p); }
};

// @a within @net/@mask, all @len bytes.
bool within(const std::uint8_t *a, const std::uint8_t *net, const std::uint8_t *mask,
	    std::size_t len)
{
	for (std::size_t i = 0; i < len; i++)
		if ((a[i] & mask[i]) != (net[i] & mask[i]))
			return false;
	return true;
}

} // namespace

bool on_link(const ilp::Endpoint &addr)
{
	// An IPv4-mapped endpoint is compared as IPv4.
	std::uint8_t want4[4];
	std::uint8_t want6[16];
	bool v4 = addr.family == AF_INET;
	if (v4) {
		std::memcpy(want4, addr.addr.s6_addr, 4);
	} else if (IN6_IS_ADDR_V4MAPPED(&addr.addr)) {
		std::memcpy(want4, addr.addr.s6_addr + 12, 4);
		v4 = true;
	} else {
		std::memcpy(want6, addr.addr.s6_addr, 16);
	}
	ifaddrs *raw = nullptr;
	if (getifaddrs(&raw) != 0)
		return false;
	std::unique_ptr<ifaddrs, IfaddrsFree> all(raw);
	for (auto *i = raw; i; i = i->ifa_next) {
		if (!i->ifa_addr || !i->ifa_netmask || !(i->ifa_flags & IFF_UP))
			continue;
		if (v4 && i->ifa_addr->sa_family == AF_INET) {
			auto *a = reinterpret_cast<const std::uint8_t *>(
			    &reinterpret_cast<const sockaddr_in *>(i->ifa_addr)->sin_addr);
			auto *m = reinterpret_cast<const std::uint8_t *>(
			    &reinterpret_cast<const sockaddr_in *>(i->ifa_netmask)->sin_addr);
			if (std::memcmp(a, want4, 4) != 0 && within(want4, a, m, 4))
				return true;
		} else if (!v4 && i->ifa_addr->sa_family == AF_INET6) {
			auto *a =
			    reinterpret_cast<const sockaddr_in6 *>(i->ifa_addr)->sin6_addr.s6_addr;
			auto *m = reinterpret_cast<const sockaddr_in6 *>(i->ifa_netmask)
				      ->sin6_addr.s6_addr;
			if (std::memcmp(a, want6, 16) != 0 && within(want6, a, m, 16))
				return true;
		}
	}
	return false;
}

} // namespace ilpd

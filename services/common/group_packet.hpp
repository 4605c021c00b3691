// SPDX-License-Identifier: GPL-2.0-or-later
//
// What the group services (multicast, anycast) read of a packet
// (docs/multipoint.md): its group, named in TLV 0x0101 by the name's text,
// and its application TLVs (those a module may send again).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ilp/group.hpp>
#include <ilp/service.h>
#include <ilp_wire.h>
#include <linux/ilp.h>

namespace ilp::service::groups
{

inline constexpr std::uint16_t kGroupTlv = 0x0101;

// The group the packet names, or nothing (none, or not a name).
inline std::optional<ilp::group::Name> group_of(const ilp_packet &pkt)
{
	ilpw_tlv_iter it{pkt.metadata, static_cast<u32>(pkt.metadata_len)};
	ilpw_tlv t;
	while (ilpw_tlv_next(&it, &t) > 0)
		if ((t.type & ~ILP_TLV_CRITICAL) == kGroupTlv)
			return ilp::group::parse_name(
			    std::string(reinterpret_cast<const char *>(t.val), t.len));
	return std::nullopt;
}

// The packet's TLVs but ILP's own, which send() may not set.
inline std::vector<std::uint8_t> application_tlvs(const ilp_packet &pkt)
{
	std::vector<std::uint8_t> md(pkt.metadata_len);
	std::size_t off = 0;
	ilpw_tlv_iter it{pkt.metadata, static_cast<u32>(pkt.metadata_len)};
	ilpw_tlv t;
	while (ilpw_tlv_next(&it, &t) > 0)
		if ((t.type & ~ILP_TLV_CRITICAL) > ILP_TLV_OWN_MAX)
			ilpw_tlv_put(md.data(), md.size(), &off, t.type, t.val, t.len);
	md.resize(off);
	return md;
}

} // namespace ilp::service::groups

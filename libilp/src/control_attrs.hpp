// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Helpers shared by the control_*.cpp files: reading the attributes the
// object commands have in common.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>

#include "ilp/control.hpp"
#include "ilp/netlink.hpp"
#include "ilp/psp_kdf.hpp"

namespace ilp::detail
{

// A PSP version attribute (u8, 0 or 1); @fallback when absent.
inline psp::Version version_attr(const nl::Attrs &a, std::uint16_t type, psp::Version fallback)
{
	auto v = a.u8(type);
	if (!v)
		return fallback;
	if (*v > 1)
		throw nl::NetlinkError(EPROTO, "the kernel sent PSP version " + std::to_string(*v) +
						   ", which this libilp does not know");
	return static_cast<psp::Version>(*v);
}

inline std::uint8_t version_u8(psp::Version v)
{
	return static_cast<std::uint8_t>(v);
}

// The decision cache's attributes (control_cache.cpp).  put_actions()
// adds an ILP_A_ACTIONS nest and throws ilp::Error(EINVAL) for actions the
// kernel would refuse; put_flow() adds the flow's ILP_CACHE_A_* to the
// ILP_A_CACHE nest being built.  The parsers throw nl::NetlinkError(EPROTO)
// for what the kernel should not have sent.
void put_actions(nl::Request &req, const Actions &actions);
Actions parse_actions(const nlattr *nest);
void put_flow(nl::Request &req, const Flow &flow);
Flow parse_flow(const nl::Attrs &cache);
CacheEntry parse_cache_entry(const nlmsghdr *nlh);

} // namespace ilp::detail

// SPDX-License-Identifier: GPL-2.0-or-later
//
// Whether an address is on one of this host's subnets: what a host
// checks before it dials another for a direct pipe an SN suggested
// (docs/control.md, "Direct pipes"), since only the host knows its
// interfaces' prefixes.
#pragma once

#include <ilp/endpoint.hpp>

namespace ilpd
{

// True when @addr is within the prefix of an address of an interface
// that is up (getifaddrs), and is not that address itself.
bool on_link(const ilp::Endpoint &addr);

} // namespace ilpd

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Out-of-band service control (paper section 3.2, the second way to
// invoke a service): an app asks a service module a question without
// sending it a packet.  The local ilpd carries the request over its TLS
// control channel to the host's first-hop SN (or the SN named), whose
// module answers through its on_control entry point (docs/services.md);
// or, with `local`, this node's own module answers.  The request goes
// through ilpd's app socket ($ILP_APP_SOCKET, default /run/ilp/app.sock),
// on either datapath: the kernel's has no other way to reach the channel.
//
// What a request and an answer mean is the service's own; the QoS and
// group services define theirs.  Requests are at most 1000 bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <ilp/endpoint.hpp>

namespace ilp
{

// Where a control request goes, and how long the app waits.
struct ControlTarget {
	// The SN whose module answers (its ILP address); nullopt: the
	// host's first associated first-hop SN.
	std::optional<Endpoint> sn;
	// This node's own module instead of an SN's.
	bool local = false;
	// The longest wait for the answer; ilpd itself gives up after 10 s.
	std::chrono::milliseconds timeout{15000};
};

// The module's answer: its status (0, or a negative errno it chose) and
// its reply bytes.
struct ControlAnswer {
	int status = 0;
	std::vector<std::uint8_t> body;
};

// Sends @request to @service's module and waits for the answer.  Throws
// ilp::Error with the errno of what went wrong on the way: ENOENT or
// ECONNREFUSED (no ilpd), ENOTCONN (no association with the SN),
// EMSGSIZE (over 1000 bytes), ETIMEDOUT, ECONNRESET (the channel broke),
// EOPNOTSUPP (ilpd serves no control), EPROTO (an ilpd too old to know
// it), EINVAL (service 0 or 0xffffffff).  A module's refusal is not an
// exception: it is the answer's status.
ControlAnswer control_service(std::uint32_t service, std::span<const std::uint8_t> request,
			      const ControlTarget &to = {});

} // namespace ilp

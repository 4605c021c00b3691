// SPDX-License-Identifier: GPL-2.0-or-later
//
// What the host checks and translates at the service ABI
// (include/ilp/service.h), apart from the calls themselves: the TLVs a
// service is entitled to set, the packet a rewritten decision makes, and
// the version 1 structs of older modules.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include <ilp/service.h>

#include "environment/service_abi_v1.h"

namespace ilpd
{

// Where a service's TLVs go.
enum class TlvUse {
	// send(): a packet that starts at this node.  None of ILP's own
	// TLVs (0x0001-0x00ff): the source and destination hosts are set by
	// the hosts, not by a node on the way.
	send,
	// A decision's rewrite of a packet it relays: also ILP_TLV_SRC_HOST
	// and ILP_TLV_DST_HOST (a mobility service re-addressing a packet,
	// a relay hiding its client), each with a well-formed value; no
	// other type of ILP's own.
	rewrite,
};

// A TLV of ILP's own that the service may not set where it set it.
struct TlvNotEntitled : std::invalid_argument {
	using std::invalid_argument::invalid_argument;
};

// Throws std::invalid_argument, saying why, unless @tlvs are whole,
// padded TLVs of at most ILP_DECISION_MAX_METADATA bytes that a service
// may set for @use (TlvNotEntitled when only the types are wrong).
void check_service_tlvs(std::span<const std::uint8_t> tlvs, TlvUse use);

// The ILP header and payload that the copies of @d carry: the header of
// @packet (its flags, service and connection) with @d's TLVs and payload
// in place of those rewritten.  Throws std::invalid_argument for a bad
// rewrite (unknown bits, a null buffer, TLVs check_service_tlvs refuses).
std::vector<std::uint8_t> rewrite_packet(std::span<const std::uint8_t> packet,
					 const ilp_decision &d);

// Version 1 modules: their packet from ours, our decision from theirs.
ilp_packet_v1 to_v1(const ilp_packet &pkt);
ilp_decision from_v1(const ilp_decision_v1 &d);

} // namespace ilpd

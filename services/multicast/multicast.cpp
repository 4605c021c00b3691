// SPDX-License-Identifier: GPL-2.0-or-later
//
// multicast: a packet from a registered sender reaches every member of its
// group once (docs/multipoint.md, "Multicast").  A packet names its group
// in the TLV 0x0101 (the name's text, KEYHEX:LABEL) and travels on the
// group's connection, ilp::group::connection_of(); on a miss the module
// asks ilpd where its copies go (group_hops(): this SN's members, the SNs
// of its edomain and the edomains with members, by where the packet came
// from) and installs one decision with a next hop each, so that later
// packets of the flow never reach it.
//
// A decision holds at most ILP_DECISION_MAX_HOPS (16) next hops.  With
// more, the first 16 copies go by the decision and the module sends the
// others itself (send(), the packet's application TLVs and payload, on
// the same service and connection); nothing is installed, so every packet
// of such a flow reaches the module (counted as beyond_cache).
//
// Dropped and counted (common/group_service.hpp): no group or a malformed
// one (no_group), another connection than its group's (wrong_connection),
// a host that is not a registered sender (not_sender), no member to reach
// (no_members; not installed, so a member that joins later gets the next
// packet).  Configuration: idle-timeout-ms.  "ilpctl service control 10
// local status" prints the counts.
#include "../common/group_service.hpp"

namespace
{

using namespace ilp::service::groups;

constexpr std::uint32_t multicast_id = 10;

class Multicast : public GroupService
{
public:
	Multicast(const ilp::service::Context &ctx, std::span<const std::uint8_t>)
	    : GroupService(ctx, {"cached", "beyond_cache", "copies_sent"})
	{
	}

	int handle(const ilp_packet &pkt, ilp_decision &out)
	{
		std::uint32_t n = 0;
		if (!ask(pkt, n))
			return 0;
		const std::uint32_t direct = std::min<std::uint32_t>(n, ILP_DECISION_MAX_HOPS);
		forward(out, std::span(hops_).first(direct), n <= ILP_DECISION_MAX_HOPS);
		if (n <= ILP_DECISION_MAX_HOPS) {
			count(kCached);
			return 0;
		}
		// Beyond what a decision holds: the rest sent from here, for
		// every packet.
		count(kBeyondCache);
		auto md = application_tlvs(pkt);
		for (std::uint32_t i = direct; i < n; i++)
			if (ctx_.ops->send(ctx_.env, pkt.flow.service, &hops_[i], pkt.flow.conn,
					   md.data(), md.size(), pkt.payload, pkt.payload_len) == 0)
				count(kCopiesSent);
		return 0;
	}

private:
	enum Own { kCached, kBeyondCache, kCopiesSent };
};

} // namespace

ILP_SERVICE_MODULE(Multicast, multicast_id, 1, "multicast",
		   "delivers a registered sender's packets to every member of its group once");

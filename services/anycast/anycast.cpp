// SPDX-License-Identifier: GPL-2.0-or-later
//
// anycast: each packet of a flow from a registered sender reaches exactly
// one member of its group, the nearest, and the same one while it stays
// (docs/multipoint.md, "Anycast").  The packet names its group as
// multicast's do (TLV 0x0101, on the group's connection).  On a miss the
// module takes the first of the next hops group_hops() gives, which come
// nearest first: a member at this SN, then an SN of this edomain with
// members, then another edomain's (through its gateway); each SN on the
// way does the same, so one copy reaches one member.  The decision is
// installed: the flow stays with that member (flow affinity through the
// cache).  When the member leaves, ilpd removes the group's entries and
// the next packet is decided again, to another member.
//
// Dropped and counted as multicast's (no_group, wrong_connection,
// not_sender, no_members).  Configuration: idle-timeout-ms.  "ilpctl
// service control 11 local status" prints the counts.
#include "../common/group_service.hpp"

namespace
{

using namespace ilp::service::groups;

constexpr std::uint32_t anycast_id = 11;

class Anycast : public GroupService
{
public:
	Anycast(const ilp::service::Context &ctx, std::span<const std::uint8_t>)
	    : GroupService(ctx, {"cached"})
	{
	}

	int handle(const ilp_packet &pkt, ilp_decision &out)
	{
		std::uint32_t n = 0;
		if (!ask(pkt, n))
			return 0;
		forward(out, std::span(hops_).first(1), true);
		count(0);
		return 0;
	}
};

} // namespace

ILP_SERVICE_MODULE(Anycast, anycast_id, 1, "anycast",
		   "delivers each packet of a flow to one member of its group, the nearest");

// SPDX-License-Identifier: GPL-2.0-or-later
//
// p2p - service 9: IP-like delivery from host to host, across edomains
//
// A host sends to another host named by its ILP address (the packet's
// ILP_TLV_DST_HOST, which the sender's datapath puts there).  On a miss,
// every SN on the way asks ilpd where that host is (route_host(): the
// host is its own, at another SN of its edomain, or in another edomain
// behind a gateway or a pipe of its own) and forwards there, installing
// the decision: after a flow's first packet at each SN, its packets never
// reach a service.  When an entry is evicted, the next packet of its flow
// comes here again and is decided again the same way (appendix B.1).
//
// A packet that cannot be routed now is dropped, not installed (the next
// one is asked about again), and counted by reason:
//	no_destination	no DST_HOST TLV, or a malformed one
//	unknown		no edomain has the host (ENOENT)
//	out_of_reach	not found while a store is out of reach (EAGAIN)
//	unreachable	in an edomain no gateway or pipe reaches now
//	loop		the next hop is the hop it came from (stale records
//			in two SNs' copies that point at each other)
//
// Configuration:
//	idle-timeout-ms = MS	of the installed entries (ilpd's default)
//
// Control ("status"): the counters above and those routed by way.
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

#include <ilp/service.hpp>
#include <ilp_wire.h>
#include <linux/ilp.h>
#include <sys/socket.h>

namespace
{

constexpr std::uint32_t p2p_id = 9;

// How packets went, as counted: the four ways of enum ilp_route_via,
// then the reasons for a drop.
enum Outcome : std::size_t {
	kHost,
	kSn,
	kGateway,
	kPipe,
	kNoDestination,
	kUnknown,
	kOutOfReach,
	kUnreachable,
	kLoop,
	kOutcomes
};
constexpr std::array<const char *, kOutcomes> outcome_names = {
    "host",    "sn",           "gateway",     "pipe", "no_destination",
    "unknown", "out_of_reach", "unreachable", "loop"};

// The destination host of @pkt, from its DST_HOST TLV.
std::optional<ilp_node> destination(const ilp_packet &pkt)
{
	ilpw_tlv_iter it{pkt.metadata, static_cast<u32>(pkt.metadata_len)};
	ilpw_tlv t;
	while (ilpw_tlv_next(&it, &t) > 0) {
		if (t.type != ILP_TLV_DST_HOST)
			continue;
		// Address (4 or 16 bytes), then port, in network order.
		if (t.len != 4 + 2 && t.len != 16 + 2)
			return std::nullopt;
		ilp_node n{};
		const std::size_t alen = t.len - 2u;
		n.family = alen == 4 ? AF_INET : AF_INET6;
		std::memcpy(n.addr, t.val, alen);
		n.port = static_cast<std::uint16_t>(t.val[alen] << 8 | t.val[alen + 1]);
		return n;
	}
	return std::nullopt;
}

// The same node as the cache sees it: family and address, not the port.
bool same_node(const ilp_node &a, const ilp_node &b)
{
	std::size_t len = a.family == AF_INET ? 4 : 16;
	return a.family == b.family && std::memcmp(a.addr, b.addr, len) == 0;
}

std::optional<std::uint32_t> parse_timeout(const char *text)
{
	std::string_view s(text);
	std::uint32_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || v == 0)
		return std::nullopt;
	return v;
}

class P2p
{
public:
	P2p(const ilp::service::Context &ctx, std::span<const std::uint8_t>) : ctx_(ctx)
	{
		if (!ILP_HAS_MEMBER(ilp_env_ops, ctx.ops, route_host)) {
			ctx.ops->log(ctx.env, ILP_LOG_ERROR, "this ilpd cannot route to hosts");
			throw std::system_error(EOPNOTSUPP, std::generic_category());
		}
		if (const char *v = ctx.ops->config_get(ctx.env, "idle-timeout-ms")) {
			auto t = parse_timeout(v);
			if (!t) {
				ctx.ops->log(ctx.env, ILP_LOG_ERROR,
					     "idle-timeout-ms %s: not 1 to %u", v, UINT32_MAX);
				throw std::system_error(EINVAL, std::generic_category());
			}
			idle_timeout_ms_ = *t;
		}
	}

	int handle(const ilp_packet &pkt, ilp_decision &out)
	{
		auto dst = destination(pkt);
		if (!dst)
			return drop(kNoDestination);
		ilp_route route{};
		route.size = sizeof(route);
		int rc = ctx_.ops->route_host(ctx_.env, &*dst, &route);
		switch (rc) {
		case 0:
			break;
		case -ENOENT:
			return drop(kUnknown);
		case -EAGAIN:
			return drop(kOutOfReach);
		default:
			return drop(kUnreachable);
		}
		if (same_node(route.next_hop, pkt.peer.node))
			return drop(kLoop);
		if (route.via < ILP_ROUTE_HOST || route.via > ILP_ROUTE_PIPE)
			return drop(kUnreachable); // a way this module does not know
		counts_[route.via - ILP_ROUTE_HOST]++;
		out.actions = ILP_ACTION_FORWARD;
		out.n_hops = 1;
		out.hops[0] = route.next_hop;
		out.install = 1;
		out.idle_timeout_ms = idle_timeout_ms_;
		return 0;
	}

	int config_changed(const char *key, const char *value)
	{
		if (std::string_view(key) != "idle-timeout-ms")
			return -EINVAL; // no other key: a typo should not pass silently
		if (!value) {
			idle_timeout_ms_ = 0;
			return 0;
		}
		auto t = parse_timeout(value);
		if (!t)
			return -EINVAL;
		idle_timeout_ms_ = *t;
		return 0;
	}

	int on_control(std::uint32_t, const ilp_node *, std::span<const std::uint8_t> request,
		       std::span<std::uint8_t> reply, std::size_t &written)
	{
		std::string_view req(reinterpret_cast<const char *>(request.data()),
				     request.size());
		if (req != "status")
			return -EINVAL;
		char text[400];
		std::size_t n = 0;
		for (std::size_t i = 0; i < kOutcomes; i++) {
			int w = std::snprintf(text + n, sizeof(text) - n, "%s%s %llu", i ? " " : "",
					      outcome_names[i],
					      static_cast<unsigned long long>(counts_[i]));
			if (w < 0 || static_cast<std::size_t>(w) >= sizeof(text) - n)
				return -ENOSPC;
			n += static_cast<std::size_t>(w);
		}
		if (n > reply.size())
			return -ENOSPC;
		std::memcpy(reply.data(), text, n);
		written = n;
		return 0;
	}

private:
	// Not installed: the flow's next packet is decided again.
	int drop(Outcome why)
	{
		counts_[why]++;
		return 0;
	}

	ilp::service::Context ctx_;
	std::uint32_t idle_timeout_ms_ = 0; // 0: ilpd's default
	std::array<std::uint64_t, kOutcomes> counts_{};
};

} // namespace

ILP_SERVICE_MODULE(P2p, p2p_id, 1, "p2p", "delivers to a host by its ILP address, across edomains");

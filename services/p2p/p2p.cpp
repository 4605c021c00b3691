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
// Direct pipes (the paper's section 3.2): a flow for another edomain
// goes through this edomain's gateway, unless this SN holds a pipe with
// the destination's SN.  With direct-pipe set, p2p asks ilpd to open one
// (open_pipe()) for such a flow: at its first packet ("always"), or once
// its rate through the gateway passes PPS packets a second (read from its
// cache entry each second).  Until the pipe is up the flow goes on
// through the gateway; a timer asks route_host() again every 100 ms for
// the flows waiting, and moves each onto the pipe when it is up (its
// cache entry replaced).  ilpd closes the pipe once idle; the flow's
// entry goes with it, and its next packet is decided again.
//
// Direct connectivity between hosts (section 3.2): a flow from a host of
// this SN to another host of this SN, when both allow direct pipes, is
// forwarded as any other, and p2p asks ilpd (open_direct()) to have the
// sender set up a direct pipe with the other host.  The sender checks
// that the two share a subnet and dials it; once the pipe is up, both
// hosts' datapaths send to each other straight and this SN sees no more
// of the flow (its entry idles out).
//
// Configuration:
//	idle-timeout-ms = MS	of the installed entries (ilpd's default)
//	direct-pipe = never | always | PPS	(never)
//	direct-hosts = yes | no	(yes)
//
// Control ("status"): the counters above, those routed by way, the pipes
// asked for and the flows moved onto them, the direct pipes between hosts
// asked for.
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include <ilp/service.hpp>
#include <ilp_wire.h>
#include <linux/ilp.h>
#include <sys/socket.h>

#include "../common/config.hpp"

namespace
{

namespace config = ilp::service::config;

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
	kPipesAsked,  // open_pipe() calls that started a pipe
	kMoved,       // flows moved from a gateway onto a pipe
	kDirectAsked, // open_direct() calls that asked a host
	kOutcomes
};
constexpr std::array<const char *, kOutcomes> outcome_names = {
    "host",         "sn",          "gateway", "pipe",        "no_destination", "unknown",
    "out_of_reach", "unreachable", "loop",    "pipes_asked", "moved",          "direct_asked"};

using Clock = std::chrono::steady_clock;
// How often the flows waiting for a pipe are routed again, how long they
// wait at most by default (pipe-wait-ms), and how many are followed at
// once (more go on through the gateway).
constexpr std::uint32_t retry_ms = 100;
constexpr std::uint32_t default_pipe_wait_ms = 10000;
constexpr std::size_t max_followed = 4096;
// How often the rates of flows through a gateway are read.
constexpr std::uint32_t rate_every_ms = 1000;

struct FlowKey {
	std::uint64_t conn;
	std::uint32_t service;
	std::uint16_t family;
	std::array<std::uint8_t, 16> addr;
	bool operator==(const FlowKey &) const = default;
};
struct FlowHash {
	std::size_t operator()(const FlowKey &k) const noexcept
	{
		std::size_t h = std::hash<std::uint64_t>()(k.conn) ^ k.service;
		for (auto b : k.addr)
			h = h * 131 + b;
		return h;
	}
};

FlowKey key_of(const ilp_flow &f)
{
	FlowKey k{f.conn, f.service, f.prev.family, {}};
	std::memcpy(k.addr.data(), f.prev.addr, k.addr.size());
	return k;
}

// A flow p2p sent through others and follows: for its rate, or until a
// pipe with its destination's SN is up.
struct Followed {
	ilp_flow flow;
	ilp_node dst;
	ilp_route route;           // as first decided
	bool waiting = false;      // for a pipe asked for
	Clock::time_point since;   // the wait's start
	std::uint64_t packets = 0; // at the last rate reading
};

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

// direct-pipe: never (@out unset), always (0) or a rate in packets/s;
// false for anything else, @out left as it was.
bool parse_direct(std::string_view s, std::optional<std::uint32_t> &out)
{
	if (s == "never") {
		out.reset();
		return true;
	}
	if (s == "always") {
		out = 0;
		return true;
	}
	std::uint32_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || v == 0)
		return false;
	out = v;
	return true;
}

bool parse_yes_no(std::string_view s, bool &out)
{
	if (s != "yes" && s != "no")
		return false;
	out = s == "yes";
	return true;
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
			auto t = config::parse_ms(v);
			if (!t) {
				ctx.ops->log(ctx.env, ILP_LOG_ERROR,
					     "idle-timeout-ms %s: not 1 to %u", v, UINT32_MAX);
				throw std::system_error(EINVAL, std::generic_category());
			}
			idle_timeout_ms_ = *t;
		}
		if (const char *v = ctx.ops->config_get(ctx.env, "pipe-wait-ms")) {
			auto t = config::parse_ms(v);
			if (!t) {
				ctx.ops->log(ctx.env, ILP_LOG_ERROR, "pipe-wait-ms %s: not 1 to %u",
					     v, UINT32_MAX);
				throw std::system_error(EINVAL, std::generic_category());
			}
			pipe_wait_ms_ = *t;
		}
		if (const char *v = ctx.ops->config_get(ctx.env, "direct-pipe")) {
			if (!parse_direct(v, direct_)) {
				ctx.ops->log(ctx.env, ILP_LOG_ERROR,
					     "direct-pipe %s: not never, always or a rate", v);
				throw std::system_error(EINVAL, std::generic_category());
			}
		}
		if (const char *v = ctx.ops->config_get(ctx.env, "direct-hosts")) {
			if (!parse_yes_no(v, direct_hosts_)) {
				ctx.ops->log(ctx.env, ILP_LOG_ERROR,
					     "direct-hosts %s: not yes or no", v);
				throw std::system_error(EINVAL, std::generic_category());
			}
		}
		if (direct_ && !ILP_HAS_MEMBER(ilp_env_ops, ctx.ops, open_pipe)) {
			ctx.ops->log(ctx.env, ILP_LOG_ERROR, "this ilpd opens no pipes on demand");
			throw std::system_error(EOPNOTSUPP, std::generic_category());
		}
	}

	~P2p()
	{
		if (timer_)
			ctx_.ops->timer_cancel(ctx_.env, timer_);
	}
	P2p(const P2p &) = delete;
	P2p &operator=(const P2p &) = delete;

	// The timer: the waiting flows routed again, the rates read.
	void tick(std::uint64_t)
	{
		timer_ = 0;
		const auto now = Clock::now();
		const bool read_rates = direct_ && *direct_ && now >= next_rate_;
		if (read_rates)
			next_rate_ = now + std::chrono::milliseconds(rate_every_ms);
		for (auto it = followed_.begin(); it != followed_.end();) {
			auto &f = it->second;
			bool done = false;
			if (f.waiting) {
				done = try_move(f) ||
				       now - f.since > std::chrono::milliseconds(pipe_wait_ms_);
			} else if (read_rates) {
				ilp_flow_stats st{};
				if (ctx_.ops->cache_stats(ctx_.env, &f.flow, &st) != 0) {
					done = true; // the entry is gone: so is the flow
				} else {
					auto per_s =
					    (st.packets - f.packets) * 1000 / rate_every_ms;
					f.packets = st.packets;
					if (per_s >= *direct_)
						done = ask(f, now);
				}
			}
			it = done ? followed_.erase(it) : std::next(it);
		}
		arm();
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
		if (direct_ && through_others(route))
			route = follow(pkt.flow, *dst, route);
		if (route.via == ILP_ROUTE_HOST && direct_hosts_ && pkt.peer.node.family &&
		    ILP_HAS_MEMBER(ilp_env_ops, ctx_.ops, open_direct) &&
		    ctx_.ops->open_direct(ctx_.env, &pkt.peer.node, &*dst) == -EINPROGRESS)
			counts_[kDirectAsked]++;
		counts_[route.via - ILP_ROUTE_HOST]++;
		decide(route, out);
		return 0;
	}

	int config_changed(const char *key, const char *value)
	{
		if (std::string_view(key) == "direct-hosts")
			return parse_yes_no(value ? value : "yes", direct_hosts_) ? 0 : -EINVAL;
		if (std::string_view(key) == "direct-pipe") {
			std::optional<std::uint32_t> d;
			if (!parse_direct(value ? value : "never", d) ||
			    (d && !ILP_HAS_MEMBER(ilp_env_ops, ctx_.ops, open_pipe)))
				return -EINVAL;
			direct_ = d;
			if (!direct_)
				followed_.clear();
			return 0;
		}
		if (std::string_view(key) == "pipe-wait-ms")
			return config::change_ms(value, pipe_wait_ms_, default_pipe_wait_ms);
		if (std::string_view(key) != "idle-timeout-ms")
			return -EINVAL; // no other key: a typo should not pass silently
		return config::change_ms(value, idle_timeout_ms_, 0);
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

	void decide(const ilp_route &route, ilp_decision &out) const
	{
		out.actions = ILP_ACTION_FORWARD;
		out.n_hops = 1;
		out.hops[0] = route.next_hop;
		out.install = 1;
		out.idle_timeout_ms = idle_timeout_ms_;
	}

	// A route to another edomain's host through other SNs: a pipe with
	// the host's own SN would skip them.
	static bool through_others(const ilp_route &r)
	{
		bool elsewhere = r.via == ILP_ROUTE_GATEWAY || r.via == ILP_ROUTE_PIPE;
		return elsewhere && r.sn.family && !same_node(r.next_hop, r.sn);
	}

	// A flow that goes through others: a pipe asked for now ("always"),
	// or its rate followed.  Returns the route for its first packet: the
	// pipe's when it is up already.
	ilp_route follow(const ilp_flow &flow, const ilp_node &dst, const ilp_route &route)
	{
		if (followed_.size() >= max_followed)
			return route;
		Followed f{flow, dst, route, false, Clock::now(), 0};
		if (*direct_ == 0 && ask(f, f.since)) {
			// Up already (or not to be had): nothing to wait for.
			ilp_route now{};
			now.size = sizeof(now);
			if (ctx_.ops->route_host(ctx_.env, &dst, &now) == 0 &&
			    now.via == ILP_ROUTE_PIPE && same_node(now.next_hop, now.sn))
				return now;
			return route;
		}
		followed_.insert_or_assign(key_of(flow), f);
		arm();
		return route;
	}

	// Asks for a pipe with @f's destination SN: false when it is being
	// set up (@f now waits for it), true when there is nothing to wait
	// for: up already (and @f, if installed, moved onto it) or refused.
	bool ask(Followed &f, Clock::time_point now)
	{
		int rc = ctx_.ops->open_pipe(ctx_.env, &f.route);
		if (rc == -EINPROGRESS) {
			counts_[kPipesAsked]++;
			f.waiting = true;
			f.since = now;
			return false;
		}
		if (rc == 0)
			try_move(f);
		else if (!refusal_logged_) {
			refusal_logged_ = true;
			ctx_.ops->log(ctx_.env, ILP_LOG_WARN, "no pipe on demand: %s (logged once)",
				      std::strerror(-rc));
		}
		return true;
	}

	// @f moved onto a pipe with its destination's SN, if one is up.
	bool try_move(const Followed &f)
	{
		ilp_route r{};
		r.size = sizeof(r);
		if (ctx_.ops->route_host(ctx_.env, &f.dst, &r) != 0 || r.via != ILP_ROUTE_PIPE ||
		    !same_node(r.next_hop, r.sn))
			return false;
		ilp_decision d{};
		d.size = sizeof(d);
		decide(r, d);
		if (ctx_.ops->cache_install(ctx_.env, &f.flow, &d) == 0)
			counts_[kMoved]++;
		return true;
	}

	void arm()
	{
		if (timer_ || followed_.empty())
			return;
		std::int64_t id = ctx_.ops->timer_add(ctx_.env, retry_ms,
						      ilp::service::timer<P2p, &P2p::tick>, 0);
		if (id > 0)
			timer_ = id;
	}

	ilp::service::Context ctx_;
	std::uint32_t idle_timeout_ms_ = 0; // 0: ilpd's default
	// How long a flow waits for the pipe it asked for, on the gateway meanwhile.
	std::uint32_t pipe_wait_ms_ = default_pipe_wait_ms;
	// direct-pipe: unset never; 0 always; else the rate in packets/s.
	std::optional<std::uint32_t> direct_;
	bool direct_hosts_ = true;
	std::unordered_map<FlowKey, Followed, FlowHash> followed_;
	std::int64_t timer_ = 0;
	Clock::time_point next_rate_{};
	bool refusal_logged_ = false;
	std::array<std::uint64_t, kOutcomes> counts_{};
};

} // namespace

ILP_SERVICE_MODULE(P2p, p2p_id, 1, "p2p", "delivers to a host by its ILP address, across edomains");

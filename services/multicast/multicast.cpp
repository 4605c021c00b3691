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
// A packet is dropped and counted when it names no group or a malformed
// one (no_group), travels on another connection than its group's
// (wrong_connection), comes from a host that is not a registered sender
// (not_sender), or has no member to reach (no_members; not installed, so
// a member that joins later gets the next packet).
//
// Configuration: idle-timeout-ms (of the entries it installs; ilpd's
// default otherwise).  "ilpctl service control multicast local status"
// prints the counts.
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <ilp/group.hpp>
#include <ilp/service.hpp>

#include <ilp_wire.h>
#include <linux/ilp.h>

namespace
{

constexpr std::uint32_t multicast_id = 10;
constexpr std::uint16_t kGroupTlv = 0x0101;
constexpr std::uint32_t kMaxHops = 1024; // asked of ilpd at most

enum Outcome {
	kCached,      // decided and installed
	kBeyondCache, // more next hops than a decision holds
	kNoGroup,
	kWrongConnection,
	kNotSender,
	kNoMembers,
	kFailed,     // group_hops() failed otherwise
	kCopiesSent, // copies the module sent itself
	kOutcomes
};
constexpr std::array<const char *, kOutcomes> outcome_names = {
    "cached",     "beyond_cache", "no_group", "wrong_connection",
    "not_sender", "no_members",   "failed",   "copies_sent"};

std::optional<std::uint32_t> parse_ms(const char *text)
{
	std::string_view s(text);
	std::uint32_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || v == 0)
		return std::nullopt;
	return v;
}

class Multicast
{
public:
	Multicast(const ilp::service::Context &ctx, std::span<const std::uint8_t>) : ctx_(ctx)
	{
		if (!ILP_HAS_MEMBER(ilp_env_ops, ctx.ops, group_hops)) {
			ctx.ops->log(ctx.env, ILP_LOG_ERROR, "this ilpd keeps no groups");
			throw std::system_error(EOPNOTSUPP, std::generic_category());
		}
		if (const char *v = ctx.ops->config_get(ctx.env, "idle-timeout-ms")) {
			auto t = parse_ms(v);
			if (!t) {
				ctx.ops->log(ctx.env, ILP_LOG_ERROR,
					     "idle-timeout-ms %s: not 1 to %u", v, UINT32_MAX);
				throw std::system_error(EINVAL, std::generic_category());
			}
			idle_timeout_ms_ = *t;
		}
		hops_.resize(kMaxHops);
	}

	int handle(const ilp_packet &pkt, ilp_decision &out)
	{
		auto name = group_of(pkt);
		if (!name)
			return drop(kNoGroup);
		if (pkt.flow.conn != ilp::group::connection_of(*name))
			return drop(kWrongConnection);
		const auto text = name->text();
		std::uint32_t n = 0;
		int rc = ctx_.ops->group_hops(ctx_.env, text.c_str(), &pkt.peer.node, hops_.data(),
					      kMaxHops, &n);
		if (rc == -EPERM)
			return drop(kNotSender);
		if (rc)
			return drop(kFailed);
		if (n == 0)
			return drop(kNoMembers);
		const std::uint32_t direct = std::min<std::uint32_t>(n, ILP_DECISION_MAX_HOPS);
		out.actions = ILP_ACTION_FORWARD;
		out.n_hops = direct;
		for (std::uint32_t i = 0; i < direct; i++)
			out.hops[i] = hops_[i];
		if (n <= ILP_DECISION_MAX_HOPS) {
			out.install = 1;
			out.idle_timeout_ms = idle_timeout_ms_;
			counts_[kCached]++;
			return 0;
		}
		// Beyond what a decision holds: the rest sent from here, for
		// every packet.
		counts_[kBeyondCache]++;
		auto md = application_tlvs(pkt);
		for (std::uint32_t i = direct; i < n; i++)
			if (ctx_.ops->send(ctx_.env, pkt.flow.service, &hops_[i], pkt.flow.conn,
					   md.data(), md.size(), pkt.payload, pkt.payload_len) == 0)
				counts_[kCopiesSent]++;
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
		auto t = parse_ms(value);
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
		std::string text;
		for (std::size_t i = 0; i < kOutcomes; i++)
			text += std::string(i ? " " : "") + outcome_names[i] + " " +
				std::to_string(counts_[i]);
		written = std::min(text.size(), reply.size());
		std::memcpy(reply.data(), text.data(), written);
		return 0;
	}

private:
	int drop(Outcome why)
	{
		counts_[why]++;
		return 0; // out's actions 0: dropped, and nothing installed
	}

	static std::optional<ilp::group::Name> group_of(const ilp_packet &pkt)
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
	static std::vector<std::uint8_t> application_tlvs(const ilp_packet &pkt)
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

	ilp::service::Context ctx_;
	std::uint32_t idle_timeout_ms_ = 0; // 0: ilpd's default
	std::vector<ilp_node> hops_;
	std::array<std::uint64_t, kOutcomes> counts_{};
};

} // namespace

ILP_SERVICE_MODULE(Multicast, multicast_id, 1, "multicast",
		   "delivers a registered sender's packets to every member of its group once");

// SPDX-License-Identifier: GPL-2.0-or-later
//
// What the group services (multicast, anycast; docs/multipoint.md) share:
// the packet checked (its group, its connection), ilpd asked where its
// copies may go (group_hops()), the drops counted by reason, and their
// configuration (idle-timeout-ms) and status.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <ilp/service.hpp>

#include "config.hpp"
#include "group_packet.hpp"

namespace ilp::service::groups
{

class GroupService
{
public:
	// The counts: the drops every group service has, then @own's.
	enum Drop { kNoGroup, kWrongConnection, kNotSender, kNoMembers, kFailed, kDrops };

	GroupService(const ilp::service::Context &ctx, std::vector<std::string> own)
	    : ctx_(ctx), names_{"no_group", "wrong_connection", "not_sender", "no_members",
				"failed"}
	{
		if (!ILP_HAS_MEMBER(ilp_env_ops, ctx.ops, group_hops)) {
			ctx.ops->log(ctx.env, ILP_LOG_ERROR, "this ilpd keeps no groups");
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
		names_.insert(names_.end(), own.begin(), own.end());
		counts_.resize(names_.size());
		hops_.resize(kMaxHops);
	}

	int config_changed(const char *key, const char *value)
	{
		if (std::string_view(key) != "idle-timeout-ms")
			return -EINVAL; // no other key: a typo should not pass silently
		return config::change_ms(value, idle_timeout_ms_, 0);
	}

	// "status": each count, "NAME N" separated by spaces.
	int on_control(std::uint32_t, const ilp_node *, std::span<const std::uint8_t> request,
		       std::span<std::uint8_t> reply, std::size_t &written)
	{
		std::string_view req(reinterpret_cast<const char *>(request.data()),
				     request.size());
		if (req != "status")
			return -EINVAL;
		std::string text;
		for (std::size_t i = 0; i < names_.size(); i++)
			text += (i ? " " : "") + names_[i] + " " + std::to_string(counts_[i]);
		written = std::min(text.size(), reply.size());
		std::memcpy(reply.data(), text.data(), written);
		return 0;
	}

protected:
	static constexpr std::uint32_t kMaxHops = 1024; // asked of ilpd at most

	// Where @pkt's copies may go, into hops_, their count into @n (at
	// least 1); false when the packet is to be dropped (counted).
	bool ask(const ilp_packet &pkt, std::uint32_t &n)
	{
		auto name = group_of(pkt);
		if (!name)
			return drop(kNoGroup);
		if (pkt.flow.conn != ilp::group::connection_of(*name))
			return drop(kWrongConnection);
		const auto text = name->text();
		n = 0;
		int rc = ctx_.ops->group_hops(ctx_.env, text.c_str(), &pkt.peer.node, hops_.data(),
					      kMaxHops, &n);
		if (rc == -EPERM)
			return drop(kNotSender);
		if (rc)
			return drop(kFailed);
		if (n == 0)
			return drop(kNoMembers);
		return true;
	}
	bool drop(std::size_t why)
	{
		counts_[why]++;
		return false; // the decision's actions stay 0: dropped, nothing installed
	}
	void count(std::size_t own) { counts_[kDrops + own]++; }
	// A decision forwarding to @hops, installed.
	void forward(ilp_decision &out, std::span<const ilp_node> hops, bool install) const
	{
		out.actions = ILP_ACTION_FORWARD;
		out.n_hops = static_cast<std::uint32_t>(hops.size());
		std::copy(hops.begin(), hops.end(), out.hops);
		out.install = install;
		out.idle_timeout_ms = idle_timeout_ms_;
	}

	ilp::service::Context ctx_;
	std::vector<ilp_node> hops_;

private:
	std::uint32_t idle_timeout_ms_ = 0; // 0: ilpd's default
	std::vector<std::string> names_;
	std::vector<std::uint64_t> counts_;
};

} // namespace ilp::service::groups

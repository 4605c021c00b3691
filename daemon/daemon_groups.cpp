// SPDX-License-Identifier: GPL-2.0-or-later
//
// Groups in ilpd (docs/multipoint.md): on an SN, its hosts' requests
// (kGroupService over their associations) and their records in the core;
// on a host, the requests it makes and holds; "ilpctl group" on both.
#include <ctime>
#include <future>

#include <ilp/error.hpp>
#include <ilp/group_control.hpp>

#include "daemon.hpp"
#include "edomain/edomain_core.hpp"
#include "log.hpp"
#include "multipoint/core_groups.hpp"
#include "multipoint/fanout.hpp"
#include "multipoint/host_groups.hpp"
#include "multipoint/memberships.hpp"

namespace ilpd
{

using json = nlohmann::json;

void Daemon::serve_groups(const ControlFrom &from, std::vector<std::uint8_t> request,
			  ControlAnswer done)
{
	auto answer = [&](int status, const std::string &text) {
		done(status, std::vector<std::uint8_t>(text.begin(), text.end()));
	};
	std::shared_ptr<multipoint::Memberships> m;
	{
		std::lock_guard lock(groups_mu_);
		m = memberships_;
	}
	if (!m)
		return answer(-EOPNOTSUPP, "this node is not an SN: it keeps no groups");
	if (from.sn)
		return answer(-EPERM, "an SN is no member of a group: its hosts are");
	auto a = m->request(from.endpoint, std::string(request.begin(), request.end()),
			    static_cast<std::uint64_t>(std::time(nullptr)));
	if (a.status == 0) {
		// Not kept: the last owner of it must be stop_groups(), before
		// the core goes.
		std::lock_guard lock(groups_mu_);
		if (core_groups_)
			core_groups_->changed();
	}
	// A flood is counted, not logged line by line.
	if (a.status == -EBUSY)
		log::debug("groups: ", from.endpoint.to_string(), " refused: ", a.text);
	else if (a.status != 0)
		log::info("groups: ", from.endpoint.to_string(), " refused: ", a.text);
	answer(a.status, a.text);
}

int Daemon::group_hops(const std::string &group, const ilp::Endpoint &from,
		       std::vector<ilp::Endpoint> &hops)
{
	if (!ilp::group::parse_name(group))
		return -EINVAL;
	// Before groups_mu_: whoever holds associations_mu_ may be waiting
	// on the association thread, which takes groups_mu_ (serve_groups).
	auto peers = peers_up();
	// Held throughout: stop_groups() waits for this call before the
	// core goes.
	std::lock_guard lock(groups_mu_);
	const auto &m = memberships_;
	const auto &cg = core_groups_;
	if (!m)
		return -EOPNOTSUPP;
	multipoint::FanoutView v;
	v.members = m->members(group);
	v.senders = m->senders(group);
	v.peers = peers.get();
	if (cg && core_ && core_->self()) {
		// core_ outlives core_groups_ (stop_groups() first).
		v.edomain = core_->edomain();
		v.self = core_->self();
		v.member_sns = cg->member_sns(group);
		v.member_edomains = cg->member_edomains(group);
		v.gateway_to = [this](const std::string &e) { return core_->gateway_to(e); };
		v.is_gateway = [this](const ilp::Endpoint &sn) { return core_->is_gateway(sn); };
	}
	return multipoint::fan_out(v, from, hops);
}

// The cache entries of @group's connection go: its next packets are
// decided again, with where its members are now.  Rare (a membership's
// change), so the datapath's whole cache is read for them.
void Daemon::flush_group(const std::string &group)
{
	auto name = ilp::group::parse_name(group);
	if (!name)
		return;
	const auto conn = ilp::group::connection_of(*name);
	std::size_t n = 0;
	try {
		for (const auto &e : dp_->entries())
			if (e.flow.conn == conn && dp_->remove(e.flow))
				n++;
	} catch (const std::exception &e) {
		log::warn("groups: the cache entries of ", group, " stay: ", e.what());
		return;
	}
	if (n)
		log::debug("groups: ", group, " changed: ", n, " cache entries removed");
}

void Daemon::start_groups()
{
	if (opts_.role_sn) {
		auto m = std::make_shared<multipoint::Memberships>(
		    [this](const multipoint::Name &g, multipoint::Role r) -> std::optional<bool> {
			    // Under the lock: the last owner of core_groups_ must
			    // be stop_groups(), before the core goes.  Without a
			    // core, or one that does not know this SN's
			    // address: grants only.
			    std::lock_guard lock(groups_mu_);
			    return core_groups_ ? core_groups_->is_open(g, r)
						: std::optional<bool>(false);
		    });
		// Without a core (or one that knows not this SN's address) too:
		// its thread ends expired and departed memberships.
		auto cg = std::make_shared<multipoint::CoreGroups>(
		    core_.get(), *m,
		    [this] {
			    auto up = peers_up();
			    return up ? up->hosts : std::vector<ilp::Endpoint>{};
		    },
		    [this](const std::string &group) { flush_group(group); });
		std::lock_guard lock(groups_mu_);
		memberships_ = std::move(m);
		core_groups_ = std::move(cg);
		return;
	}
	if (!opts_.control.enabled())
		return;
	auto hg = std::make_shared<multipoint::HostGroups>([this](const std::string &line) {
		// Asked under associations_mu_, waited for without it: apps'
		// requests and the routes read it meanwhile.
		auto p = std::make_shared<std::promise<multipoint::HostGroups::Reply>>();
		auto f = p->get_future();
		{
			std::lock_guard lock(associations_mu_);
			if (!associations_)
				throw ilp::Error(ENOTCONN, "this node runs no control channel");
			associations_->control_async(
			    std::nullopt, ilp::group::kGroupService, {line.begin(), line.end()},
			    [p](ControlOutcome o) {
				    if (o.error)
					    p->set_exception(std::make_exception_ptr(
						ilp::Error(o.error, o.what)));
				    else
					    p->set_value(
						{o.reply.status, std::string(o.reply.body.begin(),
									     o.reply.body.end())});
			    });
		}
		// control_async() answers within 10 s; more is a node stopping.
		if (f.wait_for(std::chrono::seconds(15)) != std::future_status::ready)
			throw ilp::Error(ETIMEDOUT, "no answer from the SN");
		return f.get();
	});
	std::lock_guard lock(associations_mu_);
	host_groups_ = std::move(hg);
}

void Daemon::stop_groups()
{
	// Apps' group requests read it under associations_mu_ (app_control).
	std::shared_ptr<multipoint::HostGroups> hg;
	{
		std::lock_guard lock(associations_mu_);
		hg = std::move(host_groups_);
	}
	hg.reset(); // its thread stopped
	std::shared_ptr<multipoint::CoreGroups> cg;
	std::shared_ptr<multipoint::Memberships> m;
	{
		std::lock_guard lock(groups_mu_);
		cg = std::move(core_groups_);
		m = std::move(memberships_);
	}
	// The core groups first: their thread reads the memberships.
	cg.reset(); // its records withdrawn from the core
	m.reset();
}

void Daemon::group_handlers(ControlHandlers &h)
{
	h["group.show"] = [this](const json &) {
		if (host_groups_)
			return host_groups_->show();
		std::lock_guard lock(groups_mu_);
		if (core_groups_)
			return core_groups_->show();
		if (memberships_)
			return memberships_->show();
		throw ControlError("ilpd keeps no groups (neither an SN nor a host with a "
				   "control channel)",
				   EOPNOTSUPP);
	};
	h["group.request"] = [this](const json &args) {
		if (!args.contains("line") || !args["line"].is_string())
			throw ControlError("'line' missing or not a string");
		if (!host_groups_)
			throw ControlError(opts_.role_sn ? "an SN's hosts join groups, not the SN"
							 : "ilpd runs no control channel",
					   EOPNOTSUPP);
		auto reply = guarded([&] { return host_groups_->request(args["line"]); });
		if (reply.status != 0)
			throw ControlError("the SN refused: " + reply.text, -reply.status);
		auto j = json::parse(reply.text, nullptr, false);
		return j.is_discarded() ? json(reply.text) : j;
	};
}

} // namespace ilpd

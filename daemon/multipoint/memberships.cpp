// SPDX-License-Identifier: GPL-2.0-or-later
//
// An SN's memberships and registrations: each request checked (rate,
// form, the owner's leave, the host's limit) before it changes anything.
#include <algorithm>
#include <cerrno>

#include "log.hpp"
#include "multipoint/memberships.hpp"

namespace ilpd::multipoint
{

using ilp::group::Request;

Memberships::Memberships(IsOpen is_open, Limits limits)
    : is_open_(std::move(is_open)), limits_(limits)
{
}

Memberships::Answer Memberships::refuse(int status, const std::string &counter, std::string why)
{
	counts_["refused_" + counter]++;
	return {status, std::move(why)};
}

std::map<std::string, std::uint64_t> &Memberships::table(Group &g, Role role)
{
	return role == Role::Member ? g.members : g.senders;
}

std::size_t Memberships::held(const std::string &host) const
{
	std::size_t n = 0;
	for (const auto &[name, g] : groups_)
		n += g.members.count(host) + g.senders.count(host);
	return n;
}

void Memberships::prune(const std::string &group)
{
	auto it = groups_.find(group);
	if (it == groups_.end())
		return;
	auto &g = it->second;
	for (auto e = g.endpoints.begin(); e != g.endpoints.end();)
		e = g.members.contains(e->first) || g.senders.contains(e->first)
			? std::next(e)
			: g.endpoints.erase(e);
	if (g.members.empty() && g.senders.empty())
		groups_.erase(it);
}

Memberships::Answer Memberships::request(const ilp::Endpoint &host, const std::string &line,
					 std::uint64_t unix_now, Clock::time_point now)
{
	const auto who = host.to_string();
	{
		// A flood is refused before it is even read.
		std::lock_guard lock(mu_);
		auto [b, fresh] = buckets_.try_emplace(who, Bucket{limits_.burst, now});
		auto &bucket = b->second;
		if (!fresh) {
			std::chrono::duration<double> dt = now - bucket.at;
			bucket.tokens = std::min(
			    limits_.burst, bucket.tokens + dt.count() * limits_.requests_per_s);
			bucket.at = now;
		}
		if (bucket.tokens < 1)
			return refuse(-EBUSY, "rate", "too many group requests from this host");
		bucket.tokens -= 1;
	}
	std::string why;
	auto r = ilp::group::parse_request(line, &why);
	if (!r) {
		std::lock_guard lock(mu_);
		return refuse(-EINVAL, "malformed", why);
	}
	if (r->op == Request::Op::Show) {
		auto j = held_by(host);
		std::lock_guard lock(mu_);
		counts_["shows"]++;
		return {0, j.dump()};
	}
	const Role role = ilp::group::role_of(r->op);
	const bool adds = r->op == Request::Op::Join || r->op == Request::Op::Register;
	std::uint64_t expires = 0;
	if (adds) {
		// The owner's leave: a grant for this host, else an open group.
		// Asked outside the lock: the lookup service's copy has its own.
		if (r->grant) {
			auto no =
			    ilp::group::check_grant(*r->grant, role, host.addr_string(), unix_now);
			if (no) {
				std::lock_guard lock(mu_);
				return refuse(-EPERM, "grant", *no);
			}
			expires = r->grant->expires;
		} else {
			auto open =
			    is_open_ ? is_open_(r->group, role) : std::optional<bool>(false);
			std::lock_guard lock(mu_);
			if (!open)
				return refuse(-EAGAIN, "unknown",
					      "the lookup service is out of reach: whether " +
						  r->group.text() + " is open is not known");
			if (!*open)
				return refuse(-EPERM, "closed",
					      "no grant, and the owner has not posted " +
						  r->group.text() + " open to a " +
						  ilp::group::role_name(role));
		}
	}
	std::lock_guard lock(mu_);
	const auto name = r->group.text();
	if (!adds) {
		auto it = groups_.find(name);
		if (it == groups_.end() || !table(it->second, role).erase(who))
			return refuse(-ENOENT, "absent",
				      "this host is not a " +
					  std::string(ilp::group::role_name(role)) + " of " + name);
		prune(name);
		counts_[r->op == Request::Op::Leave ? "leaves" : "unregisters"]++;
		log::info("group ", name, ": ", who, " is no longer a ",
			  ilp::group::role_name(role));
		return {0, "ok"};
	}
	auto git = groups_.find(name);
	const bool again = git != groups_.end() && table(git->second, role).contains(who);
	if (!again && held(who) >= limits_.groups_per_host)
		return refuse(-EUSERS, "limit",
			      "this host is in " + std::to_string(limits_.groups_per_host) +
				  " groups already");
	auto &g = groups_.try_emplace(name, Group{r->group, {}, {}, {}}).first->second;
	table(g, role)[who] = expires;
	g.endpoints[who] = host;
	counts_[r->op == Request::Op::Join ? "joins" : "registers"]++;
	if (!again)
		log::info("group ", name, ": ", who, " is a ", ilp::group::role_name(role),
			  r->grant ? " by grant" : ", the group being open");
	return {0, "ok"};
}

std::size_t Memberships::forget(const ilp::Endpoint &host)
{
	const auto who = host.to_string();
	std::lock_guard lock(mu_);
	std::size_t n = 0;
	std::vector<std::string> touched;
	for (auto &[name, g] : groups_) {
		auto k = g.members.erase(who) + g.senders.erase(who);
		if (k)
			touched.push_back(name);
		n += k;
	}
	for (const auto &name : touched)
		prune(name);
	buckets_.erase(who);
	if (n) {
		counts_["forgotten"] += n;
		log::info("groups: ", who, " is not associated any more: its ", n,
			  " memberships and registrations go");
	}
	return n;
}

std::size_t Memberships::retain(const std::vector<ilp::Endpoint> &up)
{
	std::set<std::string> keep;
	for (const auto &h : up)
		keep.insert(h.to_string());
	std::vector<ilp::Endpoint> gone;
	{
		std::lock_guard lock(mu_);
		for (const auto &[name, g] : groups_)
			for (const auto &[who, ep] : g.endpoints)
				if (!keep.contains(who))
					gone.push_back(ep);
	}
	std::size_t n = 0;
	for (const auto &h : gone)
		n += forget(h);
	return n;
}

std::size_t Memberships::expire(std::uint64_t unix_now)
{
	std::lock_guard lock(mu_);
	std::size_t n = 0;
	std::vector<std::string> touched;
	for (auto &[name, g] : groups_)
		for (auto *t : {&g.members, &g.senders})
			for (auto it = t->begin(); it != t->end();) {
				if (it->second && it->second <= unix_now) {
					log::info("group ", name, ": the grant of ", it->first,
						  " expired");
					it = t->erase(it);
					touched.push_back(name);
					n++;
				} else {
					++it;
				}
			}
	for (const auto &name : touched)
		prune(name);
	if (n)
		counts_["expired"] += n;
	return n;
}

std::vector<ilp::Endpoint> Memberships::members(const std::string &group) const
{
	std::lock_guard lock(mu_);
	std::vector<ilp::Endpoint> out;
	if (auto it = groups_.find(group); it != groups_.end())
		for (const auto &[who, until] : it->second.members)
			out.push_back(it->second.endpoints.at(who));
	return out;
}

std::vector<ilp::Endpoint> Memberships::senders(const std::string &group) const
{
	std::lock_guard lock(mu_);
	std::vector<ilp::Endpoint> out;
	if (auto it = groups_.find(group); it != groups_.end())
		for (const auto &[who, until] : it->second.senders)
			out.push_back(it->second.endpoints.at(who));
	return out;
}

bool Memberships::is_sender(const std::string &group, const ilp::Endpoint &host) const
{
	std::lock_guard lock(mu_);
	auto it = groups_.find(group);
	return it != groups_.end() && it->second.senders.contains(host.to_string());
}

Memberships::Groups Memberships::groups() const
{
	std::lock_guard lock(mu_);
	Groups out;
	for (const auto &[name, g] : groups_) {
		if (!g.members.empty())
			out.members.insert(name);
		if (!g.senders.empty())
			out.senders.insert(name);
	}
	return out;
}

namespace
{
nlohmann::json hosts_json(const std::map<std::string, std::uint64_t> &t)
{
	auto a = nlohmann::json::array();
	for (const auto &[who, until] : t) {
		nlohmann::json h{{"host", who}};
		if (until)
			h["expires"] = until;
		a.push_back(std::move(h));
	}
	return a;
}
} // namespace

nlohmann::json Memberships::show() const
{
	std::lock_guard lock(mu_);
	auto gs = nlohmann::json::array();
	for (const auto &[name, g] : groups_)
		gs.push_back({{"group", name},
			      {"members", hosts_json(g.members)},
			      {"senders", hosts_json(g.senders)}});
	nlohmann::json counts = nlohmann::json::object();
	for (const auto &[k, v] : counts_)
		counts[k] = v;
	return {{"groups", std::move(gs)}, {"counts", std::move(counts)}};
}

nlohmann::json Memberships::held_by(const ilp::Endpoint &host) const
{
	const auto who = host.to_string();
	std::lock_guard lock(mu_);
	auto member = nlohmann::json::array(), sender = nlohmann::json::array();
	for (const auto &[name, g] : groups_) {
		if (g.members.contains(who))
			member.push_back(name);
		if (g.senders.contains(who))
			sender.push_back(name);
	}
	return {{"member", std::move(member)}, {"sender", std::move(sender)}};
}

} // namespace ilpd::multipoint

// SPDX-License-Identifier: GPL-2.0-or-later
//
// CoreGroups: this SN's groups published in its edomain's core and, for
// the edomain, at the lookup service; the others' followed by watches.
#include <ctime>

#include <ilp/error.hpp>

#include "edomain/group_records.hpp"
#include "log.hpp"
#include "multipoint/core_groups.hpp"

namespace ilpd::multipoint
{

namespace
{
using json = nlohmann::json;
constexpr const char *kMember = "member/";
constexpr const char *kSender = "sender/";

// "NAME/SN" (a key without its prefix): NAME and SN, or nothing.
std::optional<std::pair<std::string, std::string>> split(const std::string &key)
{
	auto slash = key.find('/');
	if (slash == std::string::npos || !ilp::group::parse_name(key.substr(0, slash)))
		return std::nullopt;
	return std::pair{key.substr(0, slash), key.substr(slash + 1)};
}
} // namespace

CoreGroups::CoreGroups(const EdomainCore *core, Memberships &local, HostsUp hosts_up,
		       ViewChanged view_changed)
    : core_(core && core->self() ? core : nullptr), local_(local), hosts_up_(std::move(hosts_up)),
      view_changed_(std::move(view_changed))
{
	if (core && !core->self())
		log::warn("groups: this SN's groups stay its own: it has no address in its "
			  "edomain ('edomain-address', or an IP in its certificate)");
	if (core_) {
		self_ = core_->self()->to_string();
		members_ = std::make_unique<store::Mirror>(core_->core_store(), kMember);
		senders_ = std::make_unique<store::Mirror>(core_->core_store(), kSender);
	}
	thread_ = std::thread([this] { loop(); });
}

CoreGroups::~CoreGroups()
{
	{
		std::lock_guard lock(mu_);
		stop_ = true;
	}
	cv_.notify_all();
	thread_.join();
	withdraw_all();
	senders_.reset();
	members_.reset();
}

void CoreGroups::changed()
{
	{
		std::lock_guard lock(mu_);
		dirty_ = true;
	}
	cv_.notify_all();
}

void CoreGroups::loop()
{
	for (;;) {
		std::string err;
		try {
			publish_once();
		} catch (const store::StoreError &e) {
			err = e.what();
		}
		compare_views();
		std::unique_lock lock(mu_);
		if (err != error_ && !err.empty())
			log::warn("groups: cannot publish this SN's groups in the core: ", err);
		else if (err.empty() && !error_.empty())
			log::info("groups: this SN's groups are published in the core again");
		error_ = err;
		if (cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || dirty_; }) &&
		    stop_)
			return;
		dirty_ = false;
	}
}

std::map<std::string, std::set<std::string>> CoreGroups::by_group(const store::Mirror &m) const
{
	std::map<std::string, std::set<std::string>> out;
	for (const auto &[key, value] : m.snapshot())
		if (auto s = split(key))
			out[s->first].insert(s->second);
	return out;
}

void CoreGroups::publish_once()
{
	local_.expire(static_cast<std::uint64_t>(std::time(nullptr)));
	if (hosts_up_)
		local_.retain(hosts_up_());
	if (!core_)
		return; // no core: this SN's groups stay its own
	const auto here = local_.groups();
	const auto value = json{{"sn", self_}}.dump();
	auto &store = core_->core_store();
	// member/NAME/SELF and sender/NAME/SELF: put what is missing, remove
	// what is not true any more (this run's, or a killed run's).
	for (auto [prefix, mirror, names] : {std::tuple{kMember, members_.get(), &here.members},
					     std::tuple{kSender, senders_.get(), &here.senders}}) {
		const std::string p = prefix;
		auto have = mirror->snapshot();
		const bool synced = mirror->status().synced;
		std::set<std::string> want;
		for (const auto &name : *names)
			want.insert(name + "/" + self_);
		for (const auto &k : want) {
			auto it = have.find(k);
			if (!synced || it == have.end() || it->second != value)
				store.put(p + k, value);
			published_.insert(p + k);
		}
		std::set<std::string> stale;
		for (const auto &k : published_)
			if (k.starts_with(p) && !want.contains(k.substr(p.size())))
				stale.insert(k);
		if (synced)
			for (const auto &[k, v] : have)
				if (auto s = split(k); s && s->second == self_ && !want.contains(k))
					stale.insert(p + k);
		for (const auto &k : stale) {
			store.del(k);
			published_.erase(k);
		}
	}
	// The edomain's memberships at the lookup service, from the core's
	// copy: only once that copy is whole, so that no SN withdraws a
	// membership another SN's record still holds.
	n_published_ = published_.size();
	auto *lookup = core_->lookup_store();
	auto *lg = core_->lookup_groups();
	if (!lookup || !lg || !members_->status().synced)
		return;
	try {
		const auto &edomain = core_->edomain();
		auto with_members = by_group(*members_);
		for (const auto &name : here.members)
			with_members[name].insert(self_); // ours, if the copy lags
		auto have = lg->snapshot();
		for (const auto &[name, sns] : with_members) {
			auto n = ilp::group::parse_name(name);
			auto key = groups::member_key(*n, edomain);
			auto v = groups::member_value(edomain);
			auto it = have.find(key.substr(std::string(groups::kPrefix).size()));
			if (!lg->status().synced || it == have.end() || it->second != v)
				lookup->put(key, v);
			lookup_published_.insert(key);
		}
		if (lg->status().synced) {
			const std::string tail = "/member/" + edomain;
			for (const auto &[k, v] : have) {
				if (!k.ends_with(tail))
					continue;
				auto name = k.substr(0, k.size() - tail.size());
				if (!with_members.contains(name) && ilp::group::parse_name(name)) {
					lookup->del(groups::kPrefix + k);
					lookup_published_.erase(groups::kPrefix + k);
				}
			}
		}
		n_lookup_published_ = lookup_published_.size();
		std::lock_guard lock(mu_);
		if (!lookup_error_.empty())
			log::info(
			    "groups: the edomain's memberships are at the lookup service again");
		lookup_error_.clear();
	} catch (const store::StoreError &e) {
		std::lock_guard lock(mu_);
		if (lookup_error_ != e.what())
			log::warn("groups: cannot keep the edomain's memberships at the lookup "
				  "service: ",
				  e.what());
		lookup_error_ = e.what();
	}
}

void CoreGroups::compare_views()
{
	if (!view_changed_)
		return;
	auto here = local_.groups();
	std::set<std::string> names = here.members;
	names.insert(here.senders.begin(), here.senders.end());
	for (const auto &[name, view] : views_)
		names.insert(name);
	if (members_)
		for (const auto &[name, sns] : by_group(*members_))
			names.insert(name);
	std::map<std::string, std::string> now;
	// A group's view as text, its hosts here and where else it has
	// members; a group not seen before was the empty one.
	auto view = [&](const std::string &name) {
		auto texts = [](const std::vector<ilp::Endpoint> &list) {
			auto a = json::array();
			for (const auto &e : list)
				a.push_back(e.to_string());
			return a;
		};
		return json{{"members", texts(local_.members(name))},
			    {"senders", texts(local_.senders(name))},
			    {"sns", texts(member_sns(name))},
			    {"edomains", member_edomains(name)}}
		    .dump();
	};
	const auto empty = json{
	    {"members", json::array()},
	    {"senders", json::array()},
	    {"sns", json::array()},
	    {"edomains",
	     json::array()}}.dump();
	for (const auto &name : names) {
		auto text = view(name);
		auto it = views_.find(name);
		if (text != (it == views_.end() ? empty : it->second))
			view_changed_(name);
		now[name] = std::move(text);
	}
	views_ = std::move(now);
}

void CoreGroups::withdraw_all()
{
	// Best effort: a core out of reach keeps them until this SN's next
	// run removes them (as a killed run's).
	if (!core_)
		return;
	try {
		for (const auto &k : published_)
			core_->core_store().del(k);
		auto *lookup = core_->lookup_store();
		if (!lookup)
			return;
		// The edomain's memberships that only this SN held.
		auto others = by_group(*members_);
		for (const auto &k : lookup_published_) {
			auto rest = k.substr(std::string(groups::kPrefix).size());
			auto name = rest.substr(0, rest.find('/'));
			auto it = others.find(name);
			bool other = false;
			if (it != others.end())
				for (const auto &sn : it->second)
					other = other || sn != self_;
			if (!other)
				lookup->del(k);
		}
	} catch (const store::StoreError &e) {
		log::warn("groups: this SN's groups stay in the core until its next run: ",
			  e.what());
	}
	published_.clear();
	lookup_published_.clear();
}

std::vector<ilp::Endpoint> CoreGroups::member_sns(const std::string &group) const
{
	std::vector<ilp::Endpoint> out;
	if (!members_)
		return out;
	for (const auto &[key, value] : members_->find_prefix(group + "/")) {
		auto sn = key.substr(group.size() + 1);
		if (sn == self_)
			continue;
		try {
			out.push_back(ilp::Endpoint::parse(sn));
		} catch (const std::exception &) {
			// Not an SN's address: a record nobody should have
			// written, left out.
		}
	}
	return out;
}

std::vector<std::string> CoreGroups::member_edomains(const std::string &group) const
{
	std::vector<std::string> out;
	auto *lg = core_ ? core_->lookup_groups() : nullptr;
	if (!lg)
		return out;
	const std::string p = group + "/member/";
	for (const auto &[key, value] : lg->find_prefix(p)) {
		auto e = key.substr(p.size());
		if (e != core_->edomain() && ilp::group::is_word(e))
			out.push_back(e);
	}
	return out;
}

std::optional<bool> CoreGroups::is_open(const Name &group, Role role) const
{
	auto *lg = core_ ? core_->lookup_groups() : nullptr;
	if (!lg)
		return false; // no lookup service: grants only
	auto st = lg->status();
	if (!st.synced && st.revision == 0)
		return std::nullopt; // never listed yet
	const auto rest = group.text() + "/statement/" + ilp::group::open_statement_id(role);
	auto found = lg->find_prefix(rest);
	auto it = found.find(rest);
	if (it == found.end())
		return false;
	// Checked again here: a store is not taken at its word.
	auto r = groups::parse(groups::kPrefix + rest, it->second);
	auto *s = r ? std::get_if<groups::Statement>(&*r) : nullptr;
	return s && s->text == "yes";
}

json CoreGroups::show() const
{
	auto j = local_.show();
	for (auto &g : j["groups"]) {
		auto name = g["group"].get<std::string>();
		auto sns = json::array();
		for (const auto &sn : member_sns(name))
			sns.push_back(sn.to_string());
		g["member_sns"] = std::move(sns);
		g["member_edomains"] = member_edomains(name);
	}
	if (!core_)
		return j;
	auto ms = members_->status();
	std::lock_guard lock(mu_);
	j["core"] = {{"synced", ms.synced},
		     {"published", n_published_.load()},
		     {"error", error_.empty() ? json(nullptr) : json(error_)}};
	j["lookup"] = {{"published", n_lookup_published_.load()},
		       {"error", lookup_error_.empty() ? json(nullptr) : json(lookup_error_)}};
	return j;
}

} // namespace ilpd::multipoint

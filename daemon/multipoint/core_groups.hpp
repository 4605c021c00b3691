// SPDX-License-Identifier: GPL-2.0-or-later
//
// Groups beyond one SN (docs/multipoint.md, the paper's section 6.2): what
// an SN's hosts hold goes up to its edomain's core, and from there to the
// lookup service; what the others hold comes down by watches.
//
// In the edomain's core, each SN keeps
//
//	member/NAME/SN		{"sn": SN}	the SN has members of NAME
//	sender/NAME/SN		{"sn": SN}	the SN has a registered sender
//
// and every SN follows both prefixes (a watch, store/mirror.hpp), so that
// it knows which SNs of its edomain have members.  At the lookup service
// an edomain has group/NAME/member/EDOMAIN (edomain/group_records.hpp)
// while the core has any member/NAME/ record: every SN of the edomain
// keeps that true, so that the edomain speaks through whichever of its SNs
// is up, and all agree, since they read the same core.  Every SN follows
// the lookup service's "group/" records (EdomainCore), so it knows which
// other edomains have members.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <ilp/endpoint.hpp>

#include "edomain/edomain_core.hpp"
#include "multipoint/memberships.hpp"
#include "store/mirror.hpp"

namespace ilpd::multipoint
{

class CoreGroups
{
public:
	// The hosts associated with this SN now (about once a second).
	using HostsUp = std::function<std::vector<ilp::Endpoint>()>;
	// Where a group's packets go from here changed (its members or
	// senders here, the SNs or edomains with members): decisions made
	// for it are stale.  Called on the thread.
	using ViewChanged = std::function<void(const std::string &group)>;
	// @core (nullptr: none, or one without this SN's address: the
	// groups stay this SN's own) and @local must outlive this.  Starts a
	// thread that, each second (and as soon as @local changes, by
	// changed()), ends the memberships whose grant expired or whose host
	// went, keeps the records true and tells @view_changed what changed;
	// it removes this SN's own records when it goes.
	CoreGroups(const EdomainCore *core, Memberships &local, HostsUp hosts_up,
		   ViewChanged view_changed = {});
	~CoreGroups();
	CoreGroups(const CoreGroups &) = delete;
	CoreGroups &operator=(const CoreGroups &) = delete;

	// The local memberships changed: publish now, not in a second.
	void changed();

	// The other SNs of this edomain with members of @group.
	std::vector<ilp::Endpoint> member_sns(const std::string &group) const;
	// The other edomains with members of @group (the lookup service's
	// records; none without one).
	std::vector<std::string> member_edomains(const std::string &group) const;
	// Whether the owner of @group posted it open to @role at the lookup
	// service, by a statement whose signature holds; nullopt while the
	// lookup service's records are not followed (or with none).
	std::optional<bool> is_open(const Name &group, Role role) const;

	// "ilpctl group show" on an SN: this SN's groups with, for each, the
	// SNs of the edomain and the edomains that have members.
	nlohmann::json show() const;

private:
	void loop();
	void publish_once();
	void withdraw_all();
	void compare_views();
	// member/ or sender/ records: NAME -> the SNs (by ADDR:PORT).
	std::map<std::string, std::set<std::string>> by_group(const store::Mirror &m) const;

	const EdomainCore *core_;
	Memberships &local_;
	HostsUp hosts_up_;
	ViewChanged view_changed_;
	// Per group with a member or sender here, what it was last seen as.
	std::map<std::string, std::string> views_;
	std::string self_; // this SN, ADDR:PORT
	std::unique_ptr<store::Mirror> members_, senders_;
	// Keys this SN put, on its thread; their counts for show().
	std::set<std::string> published_, lookup_published_;
	std::atomic<std::size_t> n_published_{0}, n_lookup_published_{0};

	mutable std::mutex mu_;
	std::condition_variable cv_;
	bool stop_ = false, dirty_ = false;
	std::string error_, lookup_error_;
	std::thread thread_;
};

} // namespace ilpd::multipoint

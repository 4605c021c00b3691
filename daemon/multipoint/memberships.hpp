// SPDX-License-Identifier: GPL-2.0-or-later
//
// An SN's hosts' memberships and sender registrations (docs/multipoint.md,
// the paper's section 6.2): what its hosts asked with kGroupService
// requests (ilp/group_control.hpp), each checked before anything changes:
// an owner's grant for that host and role, not expired, or the owner's
// "open" statement at the lookup service.  What this SN holds is what the
// edomain's core is told (member/ and sender/ records, edomain_core.hpp);
// nothing of it is kept across a restart: the hosts ask again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <ilp/endpoint.hpp>
#include <ilp/group_control.hpp>

namespace ilpd::multipoint
{

using ilp::group::Name;
using ilp::group::Role;

// Whether the owner of @group has posted it open for @role (its
// statement checked): true or false, or nullopt when that cannot be known
// now (no lookup service reached yet).
using IsOpen = std::function<std::optional<bool>(const Name &group, Role role)>;

struct Limits {
	std::size_t groups_per_host = 64; // memberships and registrations, each
	double requests_per_s = 20;       // a host's requests, refilled
	double burst = 40;                // ... up to this many at once
};

class Memberships
{
public:
	using Clock = std::chrono::steady_clock;
	explicit Memberships(IsOpen is_open, Limits limits = {});

	struct Answer {
		int status = 0; // 0 or a negative errno
		std::string text;
	};
	// @host's request @line (it came over @host's association), at Unix
	// time @unix_now.  A refused request changes nothing but the counts.
	Answer request(const ilp::Endpoint &host, const std::string &line, std::uint64_t unix_now,
		       Clock::time_point now = Clock::now());
	// @host's association went: what it held goes with it.
	std::size_t forget(const ilp::Endpoint &host);
	// Those of hosts not in @up (associated now) go: a host that comes
	// back asks again.  How many went.
	std::size_t retain(const std::vector<ilp::Endpoint> &up);
	// Memberships and registrations whose grant expired go; how many.
	std::size_t expire(std::uint64_t unix_now);

	// The members and senders of @group here, by endpoint.
	std::vector<ilp::Endpoint> members(const std::string &group) const;
	std::vector<ilp::Endpoint> senders(const std::string &group) const;
	bool is_sender(const std::string &group, const ilp::Endpoint &host) const;
	// The groups with a member here, and with a sender: what the core
	// is told.
	struct Groups {
		std::set<std::string> members, senders;
	};
	Groups groups() const;
	// "ilpctl group show" on the SN: every group and its hosts, and the
	// counts of requests taken and refused.
	nlohmann::json show() const;
	// What the SN holds for @host (its "show" request).
	nlohmann::json held_by(const ilp::Endpoint &host) const;

private:
	// Per group, per host (ADDR:PORT): when it ends (Unix time; 0 never).
	struct Group {
		Name name;
		std::map<std::string, std::uint64_t> members, senders;
		std::map<std::string, ilp::Endpoint> endpoints;
	};
	struct Bucket {
		double tokens;
		Clock::time_point at;
	};
	Answer refuse(int status, const std::string &counter, std::string why);
	Answer change(const ilp::Endpoint &host, const ilp::group::Request &r,
		      std::uint64_t unix_now);
	std::size_t held(const std::string &host) const;
	std::map<std::string, std::uint64_t> &table(Group &g, Role role);
	void prune(const std::string &group);

	IsOpen is_open_;
	Limits limits_;
	mutable std::mutex mu_;
	std::map<std::string, Group> groups_; // by the group's name text
	std::map<std::string, Bucket> buckets_;
	std::map<std::string, std::uint64_t> counts_;
};

} // namespace ilpd::multipoint

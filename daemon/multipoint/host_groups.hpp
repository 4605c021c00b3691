// SPDX-License-Identifier: GPL-2.0-or-later
//
// A host's side of groups (docs/multipoint.md): the requests its apps and
// its admin make (ilp/group_control.hpp) go to its first-hop SN, and what
// they joined or registered is held here, so that the SN's state can be
// rebuilt from the host: every few seconds the host asks its SN what it
// holds for it ("show") and asks again for what the SN has forgotten (an
// SN whose ilpd restarted, the paper's host-driven state reconstruction).
// The SN never needs its core to replay a host's memberships.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

namespace ilpd::multipoint
{

class HostGroups
{
public:
	// One request to the first-hop SN's kGroupService: its status and
	// text; throws ilp::Error when it cannot be asked (no association).
	struct Reply {
		int status = 0;
		std::string text;
	};
	using Send = std::function<Reply(const std::string &line)>;
	explicit HostGroups(Send send, std::chrono::milliseconds refresh = std::chrono::seconds(2));
	~HostGroups();
	HostGroups(const HostGroups &) = delete;
	HostGroups &operator=(const HostGroups &) = delete;

	// @line sent to the SN now (throws ilp::Error as Send does, EINVAL
	// for a line that is not a request); what it joined or registered
	// is held from now on, what it left is not.
	Reply request(const std::string &line);
	// What the SN answered to @line, sent another way (an app's request
	// through the app socket): held or let go as request() does.
	void record(const std::string &line, const Reply &reply);
	// "ilpctl group show" on a host: what it holds, and how often its
	// SN had to be told again.
	nlohmann::json show() const;

private:
	void loop();
	void refresh_once();

	Send send_;
	const std::chrono::milliseconds refresh_;
	mutable std::mutex mu_;
	std::condition_variable cv_;
	// "member NAME" or "sender NAME" -> the request that made it.
	std::map<std::string, std::string> held_;
	std::uint64_t rebuilt_ = 0, dropped_ = 0;
	std::string last_error_;
	bool stop_ = false;
	std::thread thread_;
};

} // namespace ilpd::multipoint

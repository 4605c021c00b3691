// SPDX-License-Identifier: GPL-2.0-or-later
//
// HostGroups: a host's requests to its SN, held, and asked again when the
// SN has forgotten them.
#include <cerrno>

#include <ilp/error.hpp>
#include <ilp/group_control.hpp>

#include "log.hpp"
#include "multipoint/host_groups.hpp"

namespace ilpd::multipoint
{

using ilp::group::Request;

namespace
{
std::string held_key(const Request &r)
{
	return std::string(ilp::group::role_name(ilp::group::role_of(r.op))) + " " + r.group.text();
}
} // namespace

HostGroups::HostGroups(Send send, std::chrono::milliseconds refresh)
    : send_(std::move(send)), refresh_(refresh)
{
	thread_ = std::thread([this] { loop(); });
}

HostGroups::~HostGroups()
{
	{
		std::lock_guard lock(mu_);
		stop_ = true;
	}
	cv_.notify_all();
	thread_.join();
}

HostGroups::Reply HostGroups::request(const std::string &line)
{
	std::string why;
	auto r = ilp::group::parse_request(line, &why);
	if (!r)
		throw ilp::Error(EINVAL, why);
	auto reply = send_(line);
	record(line, reply);
	return reply;
}

void HostGroups::record(const std::string &line, const Reply &reply)
{
	auto r = ilp::group::parse_request(line);
	if (!r || r->op == Request::Op::Show)
		return;
	const bool adds = r->op == Request::Op::Join || r->op == Request::Op::Register;
	std::lock_guard lock(mu_);
	if (adds && reply.status == 0)
		held_[held_key(*r)] = line;
	else if (!adds && (reply.status == 0 || reply.status == -ENOENT))
		held_.erase(held_key(*r));
}

void HostGroups::loop()
{
	std::unique_lock lock(mu_);
	while (!cv_.wait_for(lock, refresh_, [&] { return stop_; })) {
		if (held_.empty())
			continue;
		lock.unlock();
		refresh_once();
		lock.lock();
	}
}

void HostGroups::refresh_once()
{
	std::map<std::string, std::string> held;
	{
		std::lock_guard lock(mu_);
		held = held_;
	}
	std::string err;
	try {
		auto reply = send_("show");
		auto j = nlohmann::json::parse(reply.text, nullptr, false);
		if (reply.status != 0 || !j.is_object())
			throw ilp::Error(EPROTO, "the SN's answer to show: " + reply.text);
		std::set<std::string> there;
		for (const char *role : {"member", "sender"})
			if (j.contains(role) && j[role].is_array())
				for (const auto &g : j[role])
					if (g.is_string())
						there.insert(std::string(role) + " " +
							     g.get<std::string>());
		for (const auto &[key, line] : held) {
			if (there.contains(key))
				continue;
			{
				// Left meanwhile: not asked again.
				std::lock_guard lock(mu_);
				auto it = held_.find(key);
				if (it == held_.end() || it->second != line)
					continue;
			}
			auto again = send_(line);
			std::lock_guard lock(mu_);
			if (again.status == 0) {
				rebuilt_++;
				log::info("groups: the SN had forgotten this host's ", key,
					  ": asked again");
			} else if (again.status != -EAGAIN && again.status != -EBUSY) {
				// Refused now (a grant expired, a group closed):
				// not asked again.
				held_.erase(key);
				dropped_++;
				log::warn("groups: ", key, " refused by the SN now: ", again.text);
			}
		}
	} catch (const std::exception &e) {
		err = e.what();
	}
	std::lock_guard lock(mu_);
	if (err != last_error_ && !err.empty())
		log::debug("groups: cannot ask the SN: ", err);
	last_error_ = err;
}

nlohmann::json HostGroups::show() const
{
	std::lock_guard lock(mu_);
	auto member = nlohmann::json::array(), sender = nlohmann::json::array();
	for (const auto &[key, line] : held_) {
		auto sp = key.find(' ');
		(key.starts_with("member") ? member : sender).push_back(key.substr(sp + 1));
	}
	return {{"member", member},
		{"sender", sender},
		{"rebuilt", rebuilt_},
		{"dropped", dropped_},
		{"last_error",
		 last_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_error_)}};
}

} // namespace ilpd::multipoint

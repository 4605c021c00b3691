// SPDX-License-Identifier: GPL-2.0-or-later
//
// A Datapath for tests of the service environment and of service modules:
// it moves no packet, it records what it is asked (execute, install,
// remove, send) with the thread that asked, and keeps installed entries
// so that entry() answers.  The real datapaths have tests of their own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <ilp_wire.h>

#include "datapath/datapath.hpp"

#include "test_util.hpp"

class FakeDatapath : public ilpd::Datapath
{
public:
	struct Executed {
		ilpd::Miss miss;
		ilpd::Actions actions;
		bool install;
		std::thread::id thread;
	};
	struct Sent {
		ilp::Endpoint to;
		std::uint32_t service;
		std::uint64_t conn;
		std::vector<std::uint8_t> metadata, payload;
		std::thread::id thread;

		std::string text() const { return {payload.begin(), payload.end()}; }
	};

	std::string kind() const override { return "fake"; }
	void start(ilpd::MissHandler) override {}
	void stop() override {}

	void execute(const ilpd::Miss &miss, const ilpd::Actions &actions, bool install) override
	{
		std::lock_guard g(mu_);
		executed_.push_back({miss, actions, install, std::this_thread::get_id()});
		if (install)
			entries_[key(miss.flow())] = actions;
		cv_.notify_all();
	}
	void install(const ilpd::Flow &flow, const ilpd::Actions &actions) override
	{
		std::lock_guard g(mu_);
		installs_.push_back({flow, actions});
		entries_[key(flow)] = actions;
		cv_.notify_all();
	}
	bool remove(const ilpd::Flow &flow) override
	{
		std::lock_guard g(mu_);
		return entries_.erase(key(flow)) > 0;
	}
	std::optional<ilpd::CacheEntry> entry(const ilpd::Flow &flow) override
	{
		std::lock_guard g(mu_);
		auto it = entries_.find(key(flow));
		if (it == entries_.end())
			return std::nullopt;
		ilpd::CacheEntry e;
		e.flow = flow;
		e.actions = it->second;
		return e;
	}
	std::vector<ilpd::CacheEntry> entries() override { return {}; }
	void send(const ilp::Endpoint &to, std::uint32_t service, std::uint64_t conn,
		  std::span<const std::uint8_t> metadata,
		  std::span<const std::uint8_t> payload) override
	{
		std::lock_guard g(mu_);
		sent_.push_back({to,
				 service,
				 conn,
				 {metadata.begin(), metadata.end()},
				 {payload.begin(), payload.end()},
				 std::this_thread::get_id()});
		cv_.notify_all();
	}
	ilpd::DatapathStats stats() override { return {}; }

	// Waits up to @timeout until @n calls of execute() (or send()) were
	// made; returns whether they were.
	bool wait_executed(std::size_t n,
			   std::chrono::milliseconds timeout = std::chrono::seconds(5))
	{
		std::unique_lock lk(mu_);
		return cv_.wait_for(lk, timeout, [&] { return executed_.size() >= n; });
	}
	bool wait_sent(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5))
	{
		std::unique_lock lk(mu_);
		return cv_.wait_for(lk, timeout, [&] { return sent_.size() >= n; });
	}

	std::vector<Executed> executed()
	{
		std::lock_guard g(mu_);
		return executed_;
	}
	std::vector<Sent> sent()
	{
		std::lock_guard g(mu_);
		return sent_;
	}
	std::vector<std::pair<ilpd::Flow, ilpd::Actions>> installs()
	{
		std::lock_guard g(mu_);
		return installs_;
	}

private:
	// The cache's key: the previous hop's port does not count.
	static std::string key(const ilpd::Flow &f)
	{
		return f.prev.addr_string() + "/" + std::to_string(f.service) + "/" +
		       std::to_string(f.conn);
	}

	std::mutex mu_;
	std::condition_variable cv_;
	std::vector<Executed> executed_;
	std::vector<Sent> sent_;
	std::vector<std::pair<ilpd::Flow, ilpd::Actions>> installs_;
	std::map<std::string, ilpd::Actions> entries_;
};

// A miss as a datapath hands it up: an ILP header (no TLVs) and @payload.
inline ilpd::Miss make_miss(const std::string &prev, std::uint32_t service, std::uint64_t conn,
			    const std::string &payload)
{
	ilpd::Miss m;
	m.prev = ilp::Endpoint::parse(prev);
	m.service = service;
	m.conn = conn;
	m.data.resize(ILPW_HDR_LEN + payload.size());
	std::size_t hdr_len = 0;
	if (ilpw_hdr_build(m.data.data(), m.data.size(), 0, service, conn, nullptr, 0, &hdr_len) !=
	    ILPW_OK)
		throw std::runtime_error("ilpw_hdr_build failed");
	std::copy(payload.begin(), payload.end(), m.data.begin() + static_cast<long>(hdr_len));
	m.data.resize(hdr_len + payload.size());
	return m;
}

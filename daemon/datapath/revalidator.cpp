// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/revalidator.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>

#include "log.hpp"

namespace ilpd
{

bool Revalidator::FlowLess::operator()(const Flow &a, const Flow &b) const
{
	// The caches ignore the previous hop's port; so does this.
	if (a.service != b.service || a.conn != b.conn)
		return std::tie(a.service, a.conn) < std::tie(b.service, b.conn);
	if (a.prev.family != b.prev.family)
		return a.prev.family < b.prev.family;
	return std::memcmp(&a.prev.addr, &b.prev.addr, sizeof(a.prev.addr)) < 0;
}

Revalidator::Revalidator(Datapath &dp, Ms period, Ms default_timeout, TimeoutOf timeout_of,
			 Removed removed)
    : dp_(dp), period_(period), default_timeout_(default_timeout),
      timeout_of_(std::move(timeout_of)), removed_(std::move(removed))
{
	thread_ = std::thread([this] {
		std::unique_lock lock(mu_);
		while (!cv_.wait_for(lock, period_, [this] { return stopping_; })) {
			lock.unlock();
			try {
				pass();
			} catch (const std::exception &e) {
				log::warn("revalidator: ", e.what());
			}
			lock.lock();
		}
	});
}

Revalidator::~Revalidator()
{
	{
		std::lock_guard lock(mu_);
		stopping_ = true;
	}
	cv_.notify_all();
	thread_.join();
}

std::size_t Revalidator::pass(std::chrono::steady_clock::time_point now)
{
	std::size_t removed = 0;
	std::set<Flow, FlowLess> present;
	for (const auto &e : dp_.entries()) {
		Ms timeout = default_timeout_;
		if (timeout_of_)
			timeout = timeout_of_(e.flow).value_or(default_timeout_);
		Ms idle;
		if (e.used_ms) {
			idle = Ms(*e.used_ms);
			first_seen_.erase(e.flow);
		} else {
			auto [it, fresh] = first_seen_.try_emplace(e.flow, now);
			idle = std::chrono::duration_cast<Ms>(now - it->second);
		}
		if (idle >= timeout) {
			if (dp_.remove(e.flow)) {
				removed++;
				// Without this, a service host would keep the
				// timeout of every flow it ever installed.
				if (removed_)
					removed_(e.flow);
			}
			first_seen_.erase(e.flow);
			continue;
		}
		present.insert(e.flow);
	}
	// Forget entries that went some other way (evicted, flushed).
	std::erase_if(first_seen_, [&](const auto &kv) { return !present.count(kv.first); });
	expired_ += removed;
	if (removed)
		log::debug("revalidator: ", removed, " idle entries removed");
	return removed;
}

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
//
// Mirror: list once, then watch from the listing's revision + 1; on a
// lost store, back off (doubling, capped) and watch again from the last
// applied revision + 1; on Compacted, list again.
#include <algorithm>

#include "log.hpp"
#include "store/mirror.hpp"

namespace ilpd::store
{

Mirror::Mirror(Store &store, std::string prefix, OnChange on_change,
	       std::chrono::milliseconds retry_max)
    : store_(store), prefix_(std::move(prefix)), on_change_(std::move(on_change)),
      retry_max_(retry_max), thread_([this] { run(); })
{
}

Mirror::~Mirror()
{
	{
		std::lock_guard lock(mu_);
		stop_ = true;
	}
	cv_.notify_all();
	thread_.join();
}

Mirror::Map Mirror::snapshot() const
{
	std::lock_guard lock(mu_);
	return map_;
}

Mirror::Map Mirror::find_prefix(const std::string &prefix) const
{
	std::lock_guard lock(mu_);
	Map out;
	for (auto it = map_.lower_bound(prefix); it != map_.end() && it->first.starts_with(prefix);
	     ++it)
		out.insert(*it);
	return out;
}

Mirror::Status Mirror::status() const
{
	std::lock_guard lock(mu_);
	return status_;
}

bool Mirror::wait_for(Revision revision, std::chrono::milliseconds timeout) const
{
	std::unique_lock lock(mu_);
	return cv_.wait_for(lock, timeout, [&] { return status_.revision >= revision; });
}

void Mirror::sleep_for(std::chrono::milliseconds d)
{
	std::unique_lock lock(mu_);
	cv_.wait_for(lock, d, [&] { return stop_; });
}

void Mirror::relist()
{
	auto l = store_.list(prefix_);
	Map fresh;
	for (auto &r : l.records)
		fresh.emplace(r.key.substr(prefix_.size()), std::move(r.value));
	Map copy;
	{
		std::lock_guard lock(mu_);
		if (status_.revision)
			status_.resyncs++;
		map_ = std::move(fresh);
		// The listing's revision may be older than changes outside the
		// prefix; what matters is that the watch starts after it.
		status_.revision = std::max(status_.revision, l.revision);
		copy = map_;
	}
	cv_.notify_all();
	if (on_change_)
		on_change_(copy);
}

void Mirror::apply(const Event &e)
{
	Map copy;
	{
		std::lock_guard lock(mu_);
		auto key = e.key.substr(prefix_.size());
		if (e.kind == Event::Kind::Put)
			map_[key] = e.value;
		else
			map_.erase(key);
		status_.revision = e.revision;
		copy = map_;
	}
	cv_.notify_all();
	if (on_change_)
		on_change_(copy);
}

void Mirror::run()
{
	bool listed = false;
	auto backoff = std::chrono::milliseconds(100);
	for (;;) {
		{
			std::lock_guard lock(mu_);
			if (stop_)
				return;
		}
		try {
			if (!listed) {
				relist();
				listed = true;
			}
			Revision from;
			{
				std::lock_guard lock(mu_);
				from = status_.revision + 1;
			}
			auto w = store_.watch(prefix_, from);
			{
				std::lock_guard lock(mu_);
				status_.synced = true;
				if (!logged_error_.empty())
					log::info("following '", prefix_, "': back, from revision ",
						  from);
				logged_error_.clear();
			}
			backoff = std::chrono::milliseconds(100);
			for (;;) {
				{
					std::lock_guard lock(mu_);
					if (stop_)
						return;
				}
				// Short waits, so that stopping is prompt.
				for (const auto &e : w->wait(std::chrono::milliseconds(200)))
					apply(e);
			}
		} catch (const StoreError &e) {
			{
				std::lock_guard lock(mu_);
				// Logged once per reason and outage, not once per
				// retry.
				if (logged_error_ != e.what())
					log::warn("following '", prefix_, "': ", e.what());
				logged_error_ = e.what();
				status_.synced = false;
				status_.last_error = e.what();
				if (e.kind() == StoreError::Kind::Compacted)
					listed = false;
				else if (listed)
					status_.reconnects++;
			}
			if (e.kind() == StoreError::Kind::Compacted)
				continue;
			sleep_for(backoff);
			backoff = std::min(backoff * 2, retry_max_);
		}
	}
}

} // namespace ilpd::store

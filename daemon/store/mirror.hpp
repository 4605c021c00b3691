// SPDX-License-Identifier: GPL-2.0-or-later
//
// A local copy of a prefix of the core store, kept up to date by a watch
// on a thread of its own: what an SN knows of its edomain's core (the
// gateway map, memberships) and keeps using while the core is out of
// reach.  When the store comes back the mirror watches again from the
// revision after the last change it applied, so that it misses nothing;
// only when that history is gone (compacted) does it list the prefix
// again.
//
//	Mirror gateways(store, "gateway/", [](const Mirror::Map &m) { ... });
//	auto now = gateways.snapshot();
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.hpp"

namespace ilpd::store
{

class Mirror
{
public:
	// Keys without the prefix, and their values.
	using Map = std::map<std::string, std::string>;
	// Called on the mirror's thread after each change is applied (and
	// after the first listing), with the whole copy.
	using OnChange = std::function<void(const Map &)>;

	struct Status {
		bool synced = false;          // listed once, and the watch is up now
		Revision revision = 0;        // of the last change applied
		std::uint64_t resyncs = 0;    // listings after the first (history was gone)
		std::uint64_t reconnects = 0; // watches made again after a failure
		std::string last_error;       // why the store was last out of reach
	};

	// @store must outlive the mirror.
	Mirror(Store &store, std::string prefix, OnChange on_change = {},
	       std::chrono::milliseconds retry_max = std::chrono::seconds(5));
	~Mirror();
	Mirror(const Mirror &) = delete;
	Mirror &operator=(const Mirror &) = delete;

	Map snapshot() const;
	// The entries whose keys start with @prefix (of the keys without the
	// mirror's own): a range of the copy, not all of it.
	Map find_prefix(const std::string &prefix) const;
	Status status() const;
	// Waits until the copy has applied @revision (true) or @timeout
	// passed (false): for a writer that wants to read its own write.
	bool wait_for(Revision revision, std::chrono::milliseconds timeout) const;

private:
	void run();
	void relist();
	void apply(const Event &e);
	void sleep_for(std::chrono::milliseconds d);

	Store &store_;
	const std::string prefix_;
	const OnChange on_change_;
	const std::chrono::milliseconds retry_max_;

	mutable std::mutex mu_;
	mutable std::condition_variable cv_; // changes, and stop
	Map map_;
	Status status_;
	std::string logged_error_; // the last error logged, until synced again
	bool stop_ = false;
	std::thread thread_;
};

} // namespace ilpd::store

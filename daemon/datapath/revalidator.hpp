// SPDX-License-Identifier: GPL-2.0-or-later
//
// The revalidator: idle expiry of decision-cache entries, for both
// datapaths.  Neither cache times entries out itself (docs/decision-cache.md
// says why); every period this thread reads each entry's last use and
// removes those idle longer than their timeout: the one the service gave
// when it installed the entry, else the daemon's default (idle-timeout-ms).
// An entry never hit counts as used when first seen here, so an entry
// installed for a flow that never comes back goes after one timeout too.
// Each removal is reported, so that whoever keeps per-flow state for the
// entry (a service host's timeouts) can let it go with it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "datapath/datapath.hpp"

namespace ilpd
{

class Revalidator
{
public:
	using Ms = std::chrono::milliseconds;
	// @timeout_of: a flow's idle timeout, or nullopt for the default.
	using TimeoutOf = std::function<std::optional<Ms>(const Flow &)>;
	// Told of each flow whose entry a pass removed, on the revalidator's
	// thread (ServiceRegistry::forget, as docs/services.md asks).
	using Removed = std::function<void(const Flow &)>;

	Revalidator(Datapath &dp, Ms period, Ms default_timeout, TimeoutOf timeout_of,
		    Removed removed = {});
	~Revalidator();

	// One pass now (the thread calls it every period); returns how many
	// entries it removed.  @now is for tests.
	std::size_t
	pass(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

	std::uint64_t expired() const noexcept { return expired_; }

private:
	struct FlowLess {
		bool operator()(const Flow &a, const Flow &b) const;
	};

	Datapath &dp_;
	Ms period_, default_timeout_;
	TimeoutOf timeout_of_;
	Removed removed_;
	// When entries never hit were first seen.
	std::map<Flow, std::chrono::steady_clock::time_point, FlowLess> first_seen_;
	std::atomic<std::uint64_t> expired_{0};
	std::mutex mu_;
	std::condition_variable cv_;
	bool stopping_ = false;
	std::thread thread_;
};

} // namespace ilpd

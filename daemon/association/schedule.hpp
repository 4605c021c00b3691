// SPDX-License-Identifier: GPL-2.0-or-later
//
// When association does things again: the reconnect backoff of a channel
// that broke, and the master-key rotation schedule.  Both are plain
// arithmetic on time points, for the manager's timers and for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace ilpd
{

// Exponential backoff with jitter, capped: the first retry after @min,
// each next one twice as late up to @max, every delay drawn uniformly
// from [d/2, d] ("equal jitter"), so that the hosts of an SN that
// restarted do not all come back in the same instant and never wait
// more than @max.  reset() after a channel that came up.
class Backoff
{
public:
	using Duration = std::chrono::milliseconds;

	Backoff(Duration min, Duration max, std::uint64_t seed = std::random_device{}());

	// The delay before the next attempt; each call doubles the next.
	Duration next();
	void reset() noexcept { attempt_ = 0; }
	unsigned attempts() const noexcept { return attempt_; }

private:
	Duration min_, max_;
	unsigned attempt_ = 0;
	std::mt19937_64 rng_;
};

// Master-key rotation every @interval from @start.  A rotation that comes
// late (the machine slept, the thread was held up) is done once, not once
// per interval missed, and the next is due an interval after it.
class RotationSchedule
{
public:
	using Clock = std::chrono::steady_clock;

	RotationSchedule(Clock::duration interval, Clock::time_point start);

	Clock::time_point due() const noexcept { return due_; }
	// Whether a rotation is due at @now; if so, the next is scheduled.
	bool take(Clock::time_point now);
	// A rotation done out of schedule (ilpctl key rotate): the next is
	// an interval after it.
	void rotated(Clock::time_point now);
	Clock::duration interval() const noexcept { return interval_; }

private:
	Clock::duration interval_;
	Clock::time_point due_;
};

} // namespace ilpd

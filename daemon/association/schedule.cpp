// SPDX-License-Identifier: GPL-2.0-or-later
#include "association/schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace ilpd
{

Backoff::Backoff(Duration min, Duration max, std::uint64_t seed)
    : min_(min), max_(std::max(min, max)), rng_(seed)
{
	if (min.count() <= 0)
		throw std::invalid_argument("backoff: the first delay must be positive");
}

Backoff::Duration Backoff::next()
{
	// min * 2^attempt, without overflowing: stop doubling at the cap.
	Duration d = min_;
	for (unsigned i = 0; i < attempt_ && d < max_; i++)
		d *= 2;
	d = std::min(d, max_);
	attempt_++;
	std::uniform_int_distribution<Duration::rep> pick(d.count() / 2, d.count());
	return Duration(pick(rng_));
}

RotationSchedule::RotationSchedule(Clock::duration interval, Clock::time_point start)
    : interval_(interval), due_(start + interval)
{
	if (interval.count() <= 0)
		throw std::invalid_argument("rotation interval must be positive");
}

bool RotationSchedule::take(Clock::time_point now)
{
	if (now < due_)
		return false;
	due_ = now + interval_;
	return true;
}

void RotationSchedule::rotated(Clock::time_point now)
{
	due_ = now + interval_;
}

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
#include "environment/daemon_log.hpp"

#include "log.hpp"

namespace ilpd::daemon_log
{

namespace
{

LogLevel level_of(ilp_log_level l)
{
	switch (l) {
	case ILP_LOG_ERROR:
		return LogLevel::Error;
	case ILP_LOG_WARN:
		return LogLevel::Warn;
	case ILP_LOG_INFO:
		return LogLevel::Info;
	case ILP_LOG_DEBUG:
		return LogLevel::Debug;
	}
	return LogLevel::Info;
}

} // namespace

bool enabled(ilp_log_level level)
{
	return log::enabled(level_of(level));
}

void write(ilp_log_level level, const std::string &msg)
{
	log::write(level_of(level), msg);
}

} // namespace ilpd::daemon_log

// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.hpp"

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace ilpd::log
{

namespace
{

LogLevel threshold = LogLevel::Info;
std::mutex out_lock;

const char *name(LogLevel l)
{
	switch (l) {
	case LogLevel::Error:
		return "error";
	case LogLevel::Warn:
		return "warn";
	case LogLevel::Info:
		return "info";
	case LogLevel::Debug:
		return "debug";
	}
	return "?";
}

// sd-daemon(3) priorities: err 3, warning 4, info 6, debug 7.
int priority(LogLevel l)
{
	switch (l) {
	case LogLevel::Error:
		return 3;
	case LogLevel::Warn:
		return 4;
	case LogLevel::Info:
		return 6;
	case LogLevel::Debug:
		return 7;
	}
	return 6;
}

} // namespace

void set_level(LogLevel level)
{
	threshold = level;
}

bool enabled(LogLevel level)
{
	return static_cast<int>(level) <= static_cast<int>(threshold);
}

void write(LogLevel level, const std::string &msg)
{
	static const bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
	std::lock_guard<std::mutex> g(out_lock);
	if (journal)
		std::fprintf(stderr, "<%d>%s\n", priority(level), msg.c_str());
	else
		std::fprintf(stderr, "ilpd: %s: %s\n", name(level), msg.c_str());
}

} // namespace ilpd::log

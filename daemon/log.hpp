// SPDX-License-Identifier: GPL-2.0-or-later
//
// Logging to stderr with levels.  Under systemd (JOURNAL_STREAM set) each
// line starts with the sd-daemon "<N>" priority prefix so that the journal
// records the level; on a terminal it reads "ilpd: warn: ...".
#pragma once

#include <sstream>
#include <string>

#include "options.hpp"

namespace ilpd::log
{

void set_level(LogLevel level);
bool enabled(LogLevel level);
void write(LogLevel level, const std::string &msg);

template <typename... T>
void at(LogLevel level, const T &...parts)
{
	if (!enabled(level))
		return;
	std::ostringstream os;
	(os << ... << parts);
	write(level, os.str());
}

template <typename... T>
void error(const T &...p)
{
	at(LogLevel::Error, p...);
}
template <typename... T>
void warn(const T &...p)
{
	at(LogLevel::Warn, p...);
}
template <typename... T>
void info(const T &...p)
{
	at(LogLevel::Info, p...);
}
template <typename... T>
void debug(const T &...p)
{
	at(LogLevel::Debug, p...);
}

} // namespace ilpd::log

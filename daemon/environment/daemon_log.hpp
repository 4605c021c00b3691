// SPDX-License-Identifier: GPL-2.0-or-later
//
// The daemon's log (log.hpp) as the service environment uses it, at the
// levels of the module ABI.  A header of its own so that the environment's
// files need not include options.hpp (through log.hpp) next to
// datapath/datapath.hpp: both declare an ilpd::Datapath.
#pragma once

#include <sstream>
#include <string>

#include <ilp/service.h>

namespace ilpd::daemon_log
{

bool enabled(ilp_log_level level);
void write(ilp_log_level level, const std::string &msg);

template <typename... T>
void at(ilp_log_level level, const T &...parts)
{
	if (!enabled(level))
		return;
	std::ostringstream os;
	(os << ... << parts);
	write(level, os.str());
}

} // namespace ilpd::daemon_log

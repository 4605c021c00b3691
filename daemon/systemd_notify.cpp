// SPDX-License-Identifier: GPL-2.0-or-later
#include "systemd_notify.hpp"

#include <cstring>

#include <systemd/sd-daemon.h>

#include "log.hpp"

namespace ilpd
{

namespace
{

// A failed notification is worth a warning, never a failed start: systemd
// would then time the start out and say so itself.
void notify(const std::string &state)
{
	int r = sd_notify(0, state.c_str());
	if (r < 0)
		log::warn("sd_notify: ", std::strerror(-r));
	else if (r > 0)
		log::debug("told systemd: ", state);
}

} // namespace

void notify_ready(const std::string &status)
{
	notify("READY=1\nSTATUS=" + status);
}

void notify_stopping()
{
	notify("STOPPING=1\nSTATUS=shutting down");
}

} // namespace ilpd

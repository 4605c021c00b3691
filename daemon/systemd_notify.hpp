// SPDX-License-Identifier: GPL-2.0-or-later
//
// Telling systemd how ilpd is doing (sd_notify(3), for Type=notify): that it
// is ready once its datapath, control socket and services are up, so that
// units ordered after it find ilpctl answering, and that it is stopping.
// Outside systemd (no NOTIFY_SOCKET), nothing is sent.
#pragma once

#include <string>

namespace ilpd
{

// "READY=1" with a STATUS= line saying what runs.
void notify_ready(const std::string &status);
// "STOPPING=1": the shutdown has begun.
void notify_stopping();

} // namespace ilpd

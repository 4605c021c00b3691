// SPDX-License-Identifier: GPL-2.0-or-later
//
// The control socket's datapath commands (instance.*, key.*, sa.*,
// peer.*, cache.*, stats.*): what ilpctl asks of ilp.ko over netlink,
// asked of ilpd's userspace datapath instead, so that one ilpctl serves
// both (docs/control-socket.md).  Each result has the shape "ilpctl -j"
// prints for the command, on either datapath.
//
// On the kernel datapath ilpd answers these with an error that sends the
// client to the module: ilpctl talks to ilp.ko itself there.
#pragma once

#include <functional>

#include "control/control_server.hpp"

namespace ilpd
{

class UserDatapath;

// The sockets' counters of "ilpctl stats" (the app server's): open,
// created, refused.
struct SocketCounts {
	std::uint64_t open = 0;
	std::uint64_t created = 0;
	std::uint64_t refused = 0;
};
using SocketCounter = std::function<SocketCounts()>;

// Adds the datapath commands over @dp to @handlers.  @dp and whatever
// @sockets uses must outlive the control server.
void add_datapath_commands(ControlHandlers &handlers, UserDatapath &dp, SocketCounter sockets);

// The same commands, each refused: ilpd runs the kernel datapath.
void add_kernel_datapath_refusals(ControlHandlers &handlers);

} // namespace ilpd

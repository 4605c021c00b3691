// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The upcall listener: the one socket of a network namespace that the
// kernel sends the packets its decision cache has no entry for
// (ILP_CMD_UPCALL).  The listener decides and hands each packet back with
// its actions through ilp::Control::execute(), on a socket of its own: a
// Listener's socket only reads upcalls.
//
//	ilp::Listener listener;
//	ilp::Control ctl;
//	for (;;)
//		if (auto up = listener.next(1000))
//			ctl.execute(*up, decide(*up), true);
//
// When the listener is slower than the packets, the kernel drops what its
// socket's receive buffer cannot take: the namespace's cache_lost counter
// (ilp::Stats) counts them, and overruns() how often it happened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "ilp/control.hpp"
#include "ilp/netlink.hpp"

namespace ilp
{

class Listener
{
public:
	// Opens a socket and registers it (ILP_CMD_LISTEN) as the
	// namespace's listener, in place of any other.  With
	// @receive_buffer > 0, sets the socket's receive buffer to that
	// many bytes first (see set_receive_buffer()).  Needs
	// CAP_NET_ADMIN; throws ModuleNotLoaded without the module.  The
	// registration ends when the Listener goes away.
	explicit Listener(int receive_buffer = 0);

	// The next upcall, waiting up to @timeout_ms for it (-1: no limit,
	// 0: only one already there).  nullopt when the time passed or a
	// signal interrupted the wait.
	std::optional<Upcall> next(int timeout_ms);

	// Up to @max upcalls: waits up to @timeout_ms for the first as
	// next() does, then takes those already there without waiting.
	std::vector<Upcall> next_batch(int timeout_ms, std::size_t max);

	// The socket's receive buffer, which holds the upcalls not yet
	// read: see nl::GenlSocket::set_receive_buffer().
	void set_receive_buffer(int bytes) { sock_.set_receive_buffer(bytes); }
	int receive_buffer() const { return sock_.receive_buffer(); }

	// How many times the kernel found the receive buffer full and
	// dropped upcalls (each time, one or more).
	std::uint64_t overruns() const noexcept { return sock_.overruns(); }

	// To wait for upcalls in an event loop: readable when next(0) may
	// return one.
	int fd() const noexcept { return sock_.fd(); }

private:
	// Reads what the socket holds into queue_: false when @timeout_ms
	// passed (or a signal came) first.
	bool receive(int timeout_ms);

	nl::GenlSocket sock_;
	nl::FamilyInfo family_{};
	std::deque<Upcall> queue_;
};

// The upcall in @nlh, an ILP_CMD_UPCALL message (genl header included).
// Throws nl::NetlinkError(EPROTO) for one without the previous hop,
// service, connection or data.
Upcall parse_upcall(const nlmsghdr *nlh);

} // namespace ilp

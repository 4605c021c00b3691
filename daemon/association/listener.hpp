// SPDX-License-Identifier: GPL-2.0-or-later
//
// The control port: accepts TCP connections and makes each a Channel.  A
// peer that floods connections, or connects and says nothing, cannot
// exhaust ilpd: at most max_handshaking connections are in their TLS
// handshake at once (more are dropped at accept, counted, and logged at
// most every few seconds), and each has the handshake timer to finish.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "association/channel.hpp"
#include "association/tls.hpp"

namespace ilpd::ctl
{

class Listener
{
public:
	using tcp = boost::asio::ip::tcp;
	// The handlers of the channel of a connection from @remote.  It may
	// throw to refuse the connection (closed at once, logged).
	using MakeHandlers = std::function<Channel::Handlers(const tcp::endpoint &remote)>;

	// Listens on @at (port 0: any).  Throws boost::system::system_error
	// if it cannot bind.  @contexts must outlive the listener and its
	// channels.
	Listener(boost::asio::io_context &io, tcp::endpoint at, TlsContexts &contexts,
		 ChannelTimers timers, std::size_t max_handshaking, MakeHandlers make);
	// Stops accepting; the channels already accepted go on.
	~Listener();
	Listener(const Listener &) = delete;
	Listener &operator=(const Listener &) = delete;

	tcp::endpoint local() const;
	// Connections dropped at accept because max_handshaking were in
	// their handshake.
	std::uint64_t refused() const noexcept;
	// Connections in their TLS handshake now.
	std::size_t handshaking() const noexcept;

private:
	struct State;
	std::shared_ptr<State> state_;
};

} // namespace ilpd::ctl

// SPDX-License-Identifier: GPL-2.0-or-later
//
// One control channel: a long-lived TLS 1.3 connection to another ilpd
// that carries the frames of messages.hpp.  It keeps the peer alive
// (KEEPALIVE after a quiet spell), gives up on a silent one (the
// dead-peer timer), and answers a frame that does not parse with an
// ERROR and a close.  What it does not do is decide: the owner's
// handlers get each message and the reason it closed.
//
// Everything runs on the io_context's one thread: no locks.  A channel
// keeps itself alive (its pending operations hold it) until it is closed;
// dropping the last outside pointer does not close it.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <ilp/endpoint.hpp>

#include "association/messages.hpp"
#include "association/tls.hpp"

namespace ilpd::ctl
{

struct ChannelTimers {
	// From accept (or the start of connect) to the end of the TLS
	// handshake: a peer that connects and says nothing is dropped then.
	std::chrono::milliseconds handshake{10000};
	// KEEPALIVE after this long without sending anything.
	std::chrono::milliseconds keepalive{10000};
	// Close (ERROR timeout) after this long without a whole frame.
	std::chrono::milliseconds dead{30000};
};

class Channel : public std::enable_shared_from_this<Channel>
{
	struct Private {
	};

public:
	using tcp = boost::asio::ip::tcp;

	// Called on the io_context's thread, never from within accept(),
	// connect(), send() or close().
	struct Handlers {
		// The handshake is done and identity() is known.
		std::function<void(Channel &)> on_up;
		// Each frame, in order.  A ProtocolError it throws closes the
		// channel with an ERROR of that code and reason (so that
		// check_binding() can be called here); any other exception,
		// with an ERROR internal.
		std::function<void(Channel &, Message &&)> on_message;
		// Exactly once, with a line for the log that names the peer
		// and why ("127.0.0.1:40312 (CN=sn2,O=a): no frame for 30000
		// ms").  No handler is called after it.
		std::function<void(Channel &, const std::string &why)> on_closed;
	};

	// Frames queued and not yet written, beyond which a peer that does
	// not read is dropped.
	static constexpr std::size_t kMaxQueued = 256 * 1024;

	// Server side: @socket was accept()ed; starts the TLS handshake.
	// @contexts must outlive the channel.
	static std::shared_ptr<Channel> accept(tcp::socket socket, TlsContexts &contexts,
					       ChannelTimers timers, Handlers handlers);
	// Client side: connects to @to (from @from, if given: the address
	// an anonymous host is bound by) and does TLS with
	// contexts.client(@edomain), which throws for an edomain with no
	// bundle.
	static std::shared_ptr<Channel> connect(boost::asio::io_context &io, tcp::endpoint to,
						TlsContexts &contexts, const std::string &edomain,
						ChannelTimers timers, Handlers handlers,
						std::optional<boost::asio::ip::address> from = {});

	Channel(Private, tcp::socket socket, boost::asio::ssl::context &tls, TlsContexts &contexts,
		ChannelTimers timers, Handlers handlers);
	Channel(const Channel &) = delete;
	Channel &operator=(const Channel &) = delete;
	~Channel();

	// Queued and written in order (before the handshake is done: once
	// it is).  A no-op once closing.  Throws what encode() throws.
	void send(const Message &m);
	// Sends ERROR (if the handshake is done), then closes.
	void close(ErrorCode code, const std::string &reason);
	// Closes without a word: TLS close_notify.
	void close();

	// Not yet closing: handshaking or up.
	bool is_open() const noexcept { return state_ < State::Closing; }
	// The handshake is done and it is not closing.
	bool is_up() const noexcept { return state_ == State::Up; }
	const PeerIdentity &identity() const noexcept { return identity_; }
	tcp::endpoint remote() const { return remote_; }
	// The address this node has on the connection (known once up): the
	// one HELLO announces, as the route toward the peer picked it.
	tcp::endpoint local() const { return local_; }
	// Bytes of frames received and sent, for ilpctl.
	std::uint64_t bytes_in() const noexcept { return bytes_in_; }
	std::uint64_t bytes_out() const noexcept { return bytes_out_; }
	// The remote address (port 0; an IPv4-mapped IPv6 one as IPv4), for
	// check_binding().
	ilp::Endpoint source() const;
	// "10.0.0.2:1001 (CN=sn1,O=a)", for logs.
	std::string name() const;

private:
	enum class State { Connecting, Handshaking, Up, Closing, Closed };

	void start_connect(tcp::endpoint to, std::optional<boost::asio::ip::address> from);
	void start_handshake(boost::asio::ssl::stream_base::handshake_type type);
	void handshake_done(const boost::system::error_code &ec);
	void start_read();
	void read_done(const boost::system::error_code &ec, std::size_t n);
	void deliver(Message &&m);
	void start_write();
	void write_done(const boost::system::error_code &ec);
	void arm_keepalive();
	void arm_dead();
	void begin_close(const std::string &why);
	void drained();
	void abort(const std::string &why);
	void notify_closed(const std::string &why);

	boost::asio::ssl::stream<tcp::socket> stream_;
	TlsContexts &contexts_;
	ChannelTimers timers_;
	Handlers handlers_;
	State state_ = State::Handshaking;
	tcp::endpoint remote_;
	tcp::endpoint local_;
	std::uint64_t bytes_in_ = 0, bytes_out_ = 0;
	PeerIdentity identity_;
	FrameReader reader_;
	std::array<std::uint8_t, 2048> rbuf_;
	std::deque<SecretBytes> queue_;
	std::size_t queued_ = 0;
	bool reading_ = false, writing_ = false, shutting_down_ = false, notified_ = false;
	std::chrono::steady_clock::time_point last_rx_{}, last_tx_{};
	// The handshake's deadline, then the bound on a close's goodbye.
	boost::asio::steady_timer deadline_;
	boost::asio::steady_timer keepalive_, dead_;
};

// @e's address as ILP names it: port 0, an IPv4-mapped one as IPv4.
ilp::Endpoint endpoint_of(const boost::asio::ip::address &a);

} // namespace ilpd::ctl

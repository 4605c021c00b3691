// SPDX-License-Identifier: GPL-2.0-or-later
#include "association/channel.hpp"

#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <openssl/crypto.h>

namespace ilpd::ctl
{

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace
{

// How long a close waits for its last frames and the peer's close_notify
// before it drops the connection.
constexpr std::chrono::milliseconds kMaxLinger{2000};

std::string millis(std::chrono::milliseconds d)
{
	return std::to_string(d.count()) + " ms";
}

} // namespace

ilp::Endpoint endpoint_of(const asio::ip::address &a)
{
	if (a.is_v4() || (a.is_v6() && a.to_v6().is_v4_mapped())) {
		auto b = a.is_v4()
			     ? a.to_v4().to_bytes()
			     : asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_bytes();
		return ilp::Endpoint::from_bytes(b, 0);
	}
	auto b = a.to_v6().to_bytes();
	return ilp::Endpoint::from_bytes(b, 0);
}

Channel::Channel(Private, tcp::socket socket, asio::ssl::context &tls, TlsContexts &contexts,
		 ChannelTimers timers, Handlers handlers)
    : stream_(std::move(socket), tls), contexts_(contexts), timers_(timers),
      handlers_(std::move(handlers)), deadline_(stream_.get_executor()),
      keepalive_(stream_.get_executor()), dead_(stream_.get_executor())
{
}

Channel::~Channel() = default;

std::shared_ptr<Channel> Channel::accept(tcp::socket socket, TlsContexts &contexts,
					 ChannelTimers timers, Handlers handlers)
{
	boost::system::error_code ec;
	auto remote = socket.remote_endpoint(ec);
	auto ch = std::make_shared<Channel>(Private{}, std::move(socket), contexts.server(),
					    contexts, timers, std::move(handlers));
	ch->remote_ = remote;
	ch->start_handshake(asio::ssl::stream_base::server);
	return ch;
}

std::shared_ptr<Channel> Channel::connect(asio::io_context &io, tcp::endpoint to,
					  TlsContexts &contexts, const std::string &edomain,
					  ChannelTimers timers, Handlers handlers,
					  std::optional<asio::ip::address> from)
{
	auto &tls = contexts.client(edomain);
	auto ch = std::make_shared<Channel>(Private{}, tcp::socket(io), tls, contexts, timers,
					    std::move(handlers));
	ch->remote_ = to;
	ch->start_connect(to, from);
	return ch;
}

ilp::Endpoint Channel::source() const
{
	return endpoint_of(remote_.address());
}

std::string Channel::name() const
{
	std::ostringstream os;
	os << remote_;
	if (!identity_.subject.empty())
		os << " (" << identity_.subject << ")";
	return os.str();
}

void Channel::start_connect(tcp::endpoint to, std::optional<asio::ip::address> from)
{
	state_ = State::Connecting;
	// The deadline covers the TCP connect too: a black-holed SYN must
	// not hold a channel for the kernel's minutes of retries.
	deadline_.expires_after(timers_.handshake);
	deadline_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
		if (!ec && self->state_ < State::Up)
			self->abort("TLS handshake not done within " +
				    millis(self->timers_.handshake));
	});
	auto &sock = stream_.lowest_layer();
	boost::system::error_code ec;
	if (from) {
		sock.open(to.protocol(), ec);
		if (!ec)
			sock.bind(tcp::endpoint(*from, 0), ec);
		if (ec) {
			// Reported from the io_context, as every close is.
			asio::post(stream_.get_executor(), [self = shared_from_this(),
							    why = ec.message(), a = *from] {
				self->abort("cannot bind to " + a.to_string() + ": " + why);
			});
			return;
		}
	}
	sock.async_connect(to, [self = shared_from_this()](const boost::system::error_code &e) {
		if (self->state_ != State::Connecting)
			return;
		if (e)
			self->abort("cannot connect: " + e.message());
		else
			self->start_handshake(asio::ssl::stream_base::client);
	});
}

void Channel::start_handshake(asio::ssl::stream_base::handshake_type type)
{
	if (type == asio::ssl::stream_base::server) {
		deadline_.expires_after(timers_.handshake);
		deadline_.async_wait(
		    [self = shared_from_this()](const boost::system::error_code &ec) {
			    if (!ec && self->state_ < State::Up)
				    self->abort("TLS handshake not done within " +
						millis(self->timers_.handshake));
		    });
	}
	state_ = State::Handshaking;
	stream_.async_handshake(type,
				[self = shared_from_this()](const boost::system::error_code &ec) {
					self->handshake_done(ec);
				});
}

void Channel::handshake_done(const boost::system::error_code &ec)
{
	if (state_ != State::Handshaking)
		return;
	if (ec) {
		abort(handshake_failure(stream_.native_handle(), ec));
		return;
	}
	state_ = State::Up;
	deadline_.cancel();
	{
		boost::system::error_code lec;
		local_ = stream_.lowest_layer().local_endpoint(lec);
	}
	identity_ = identity_of(stream_.native_handle(), contexts_);
	last_rx_ = last_tx_ = Clock::now();
	arm_dead();
	arm_keepalive();
	if (handlers_.on_up)
		handlers_.on_up(*this);
	if (state_ != State::Up)
		return;
	start_read();
	if (!writing_ && !queue_.empty())
		start_write();
}

void Channel::start_read()
{
	reading_ = true;
	stream_.async_read_some(
	    asio::buffer(rbuf_),
	    [self = shared_from_this()](const boost::system::error_code &ec, std::size_t n) {
		    self->read_done(ec, n);
	    });
}

void Channel::read_done(const boost::system::error_code &ec, std::size_t n)
{
	reading_ = false;
	if (state_ == State::Closing) {
		// The read was cancelled (or ended) so that the goodbye can
		// go out: see drained().
		if (!writing_)
			drained();
		return;
	}
	if (state_ != State::Up)
		return;
	if (ec) {
		if (ec == asio::error::eof) {
			// close_notify: answer it with ours, dropping what is queued
			// and not yet on its way.
			while (queue_.size() > (writing_ ? 1 : 0)) {
				queued_ -= queue_.back().size();
				queue_.pop_back();
			}
			begin_close(name() + ": the peer closed the channel");
		} else {
			abort(ec == asio::ssl::error::stream_truncated
				  ? "the peer dropped the connection"
			      : ec.category() == asio::error::get_ssl_category()
				  ? handshake_failure(stream_.native_handle(), ec)
				  : "read failed: " + ec.message());
		}
		return;
	}
	bytes_in_ += n;
	reader_.feed(std::span<const std::uint8_t>(rbuf_.data(), n));
	// What was read may be an SA_OFFER's key: the reader holds it now, in
	// memory it wipes.
	OPENSSL_cleanse(rbuf_.data(), n);
	for (;;) {
		std::optional<Message> m;
		try {
			m = reader_.next();
		} catch (const ProtocolError &e) {
			close(e.code(), e.what());
			return;
		}
		if (!m)
			break;
		last_rx_ = Clock::now();
		deliver(std::move(*m));
		if (state_ != State::Up)
			return;
	}
	start_read();
}

void Channel::deliver(Message &&m)
{
	const bool error = std::holds_alternative<ErrorMsg>(m);
	const std::string what = error ? describe(m) : std::string();
	try {
		if (handlers_.on_message)
			handlers_.on_message(*this, std::move(m));
	} catch (const ProtocolError &e) {
		close(e.code(), e.what());
		return;
	} catch (const std::exception &e) {
		close(ErrorCode::Internal, std::string("internal error: ") + e.what());
		return;
	}
	// The sender of an ERROR closes after it; so do we, without a word.
	if (error && state_ == State::Up)
		begin_close(name() + ": the peer sent " + what);
}

void Channel::send(const Message &m)
{
	if (!is_open())
		return;
	SecretBytes frame = encode(m);
	queued_ += frame.size();
	queue_.push_back(std::move(frame));
	last_tx_ = Clock::now();
	if (queued_ > kMaxQueued) {
		const std::string why =
		    "the peer does not read: " + std::to_string(queued_) + " bytes queued";
		state_ = State::Closing; // nothing more is queued
		asio::post(stream_.get_executor(),
			   [self = shared_from_this(), why] { self->abort(why); });
		return;
	}
	if (state_ == State::Up && !writing_)
		start_write();
}

void Channel::start_write()
{
	writing_ = true;
	asio::async_write(stream_, asio::buffer(queue_.front()),
			  [self = shared_from_this()](const boost::system::error_code &ec,
						      std::size_t) { self->write_done(ec); });
}

void Channel::write_done(const boost::system::error_code &ec)
{
	writing_ = false;
	if (state_ == State::Closed)
		return;
	if (ec) {
		if (state_ == State::Closing)
			drained();
		else
			abort("write failed: " + ec.message());
		return;
	}
	queued_ -= queue_.front().size();
	bytes_out_ += queue_.front().size();
	queue_.pop_front();
	if (!queue_.empty())
		start_write();
	else if (state_ == State::Closing)
		drained();
}

void Channel::arm_keepalive()
{
	keepalive_.expires_at(last_tx_ + timers_.keepalive);
	keepalive_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
		if (ec || self->state_ != State::Up)
			return;
		if (Clock::now() >= self->last_tx_ + self->timers_.keepalive)
			self->send(Keepalive{});
		if (self->state_ == State::Up)
			self->arm_keepalive();
	});
}

void Channel::arm_dead()
{
	dead_.expires_at(last_rx_ + timers_.dead);
	dead_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
		if (ec || self->state_ != State::Up)
			return;
		// Frames move last_rx_ on without touching the timer; it is
		// checked when it fires.
		if (Clock::now() >= self->last_rx_ + self->timers_.dead)
			self->close(ErrorCode::Timeout,
				    "no frame for " + millis(self->timers_.dead));
		else
			self->arm_dead();
	});
}

void Channel::close(ErrorCode code, const std::string &reason)
{
	if (!is_open())
		return;
	if (state_ != State::Up) {
		abort(reason);
		return;
	}
	send(ErrorMsg{code, fit_reason(reason)});
	if (state_ == State::Up)
		begin_close(name() + ": sent ERROR " + error_name(code) + ": " + reason);
}

void Channel::close()
{
	if (!is_open())
		return;
	if (state_ != State::Up)
		abort("closed before the handshake was done");
	else
		begin_close(name() + ": closed by this side");
}

// Up -> Closing: the queue goes out, then close_notify, within the linger
// bound; nothing is read or delivered any more.
void Channel::begin_close(const std::string &why)
{
	state_ = State::Closing;
	keepalive_.cancel();
	dead_.cancel();
	deadline_.expires_after(std::min(timers_.handshake, kMaxLinger));
	deadline_.async_wait([self = shared_from_this()](const boost::system::error_code &ec) {
		if (!ec && self->state_ == State::Closing)
			self->abort("");
	});
	notify_closed(why);
	if (writing_ || state_ != State::Closing)
		return;
	if (!queue_.empty())
		start_write();
	else
		drained();
}

// Closing, nothing left to write: stop the read (the SSL stream allows
// one reader, and the shutdown reads the peer's close_notify), then shut
// TLS down.
void Channel::drained()
{
	if (shutting_down_ || state_ != State::Closing)
		return;
	if (reading_) {
		boost::system::error_code ec;
		stream_.lowest_layer().cancel(ec);
		return; // read_done() calls back
	}
	shutting_down_ = true;
	stream_.async_shutdown(
	    [self = shared_from_this()](const boost::system::error_code &) { self->abort(""); });
}

// Drops the connection at once; @why is for on_closed if it has not been
// called yet.
void Channel::abort(const std::string &why)
{
	if (state_ == State::Closed)
		return;
	state_ = State::Closed;
	deadline_.cancel();
	keepalive_.cancel();
	dead_.cancel();
	boost::system::error_code ec;
	stream_.lowest_layer().close(ec);
	queue_.clear();
	queued_ = 0;
	if (!notified_)
		notify_closed(name() + ": " + (why.empty() ? std::string("closed") : why));
}

void Channel::notify_closed(const std::string &why)
{
	if (notified_)
		return;
	notified_ = true;
	auto on_closed = std::move(handlers_.on_closed);
	handlers_.on_closed = nullptr;
	if (on_closed)
		on_closed(*this, why);
	// The other handlers may be running (a close from on_message): they
	// go later, with whatever they hold (often a pointer to us).
	asio::post(stream_.get_executor(), [self = shared_from_this()] {
		self->handlers_.on_up = nullptr;
		self->handlers_.on_message = nullptr;
	});
}

} // namespace ilpd::ctl

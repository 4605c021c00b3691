// SPDX-License-Identifier: GPL-2.0-or-later
#include "association/listener.hpp"

#include <chrono>

#include <boost/asio/steady_timer.hpp>

#include "log.hpp"

namespace ilpd::ctl
{

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace
{

// A flood is logged once, then at most this often, with its count.
constexpr std::chrono::seconds kLogEvery{10};
// After accept() fails (EMFILE, ENOBUFS), the pause before the next try:
// the error would otherwise repeat at once, in a busy loop.
constexpr std::chrono::milliseconds kAcceptRetry{100};

} // namespace

// Shared with the pending accept, so that the listener can go while it
// is still queued in the io_context.
struct Listener::State {
	State(asio::io_context &io, TlsContexts &c) : acceptor(io), retry(io), contexts(c) {}

	tcp::acceptor acceptor;
	asio::steady_timer retry;
	TlsContexts &contexts;
	ChannelTimers timers;
	std::size_t max_handshaking = 0;
	MakeHandlers make;
	std::size_t handshaking = 0;
	std::uint64_t refused = 0;
	std::uint64_t refused_unlogged = 0;
	Clock::time_point logged{};

	void accept(const std::shared_ptr<State> &self);
	void admit(const std::shared_ptr<State> &self, tcp::socket socket);
	void refuse(tcp::socket &socket);
};

void Listener::State::accept(const std::shared_ptr<State> &self)
{
	acceptor.async_accept([self](const boost::system::error_code &ec, tcp::socket socket) {
		if (ec == asio::error::operation_aborted || !self->acceptor.is_open())
			return;
		if (ec) {
			log::warn("control port: accept failed: ", ec.message());
			self->retry.expires_after(kAcceptRetry);
			self->retry.async_wait([self](const boost::system::error_code &e) {
				if (!e && self->acceptor.is_open())
					self->accept(self);
			});
			return;
		}
		self->admit(self, std::move(socket));
		self->accept(self);
	});
}

void Listener::State::refuse(tcp::socket &socket)
{
	boost::system::error_code ec;
	// A reset, not a FIN: no TIME_WAIT here for each connection of a flood.
	socket.set_option(asio::socket_base::linger(true, 0), ec);
	socket.close(ec);
}

void Listener::State::admit(const std::shared_ptr<State> &self, tcp::socket socket)
{
	boost::system::error_code ec;
	const tcp::endpoint remote = socket.remote_endpoint(ec);
	if (handshaking >= max_handshaking) {
		refuse(socket);
		++refused;
		++refused_unlogged;
		const auto now = Clock::now();
		if (logged == Clock::time_point{} || now - logged >= kLogEvery) {
			log::warn("control port: refused ", refused_unlogged,
				  " connection(s), the latest from ", remote, ": ", handshaking,
				  " handshakes in progress, the most allowed");
			refused_unlogged = 0;
			logged = now;
		}
		return;
	}
	Channel::Handlers h;
	try {
		h = make(remote);
	} catch (const std::exception &e) {
		log::info("control port: refused ", remote, ": ", e.what());
		refuse(socket);
		return;
	}
	++handshaking;
	// The connection leaves the handshake once: up, or closed before.
	auto left = std::make_shared<bool>(false);
	auto leave = [self, left] {
		if (!*left) {
			*left = true;
			--self->handshaking;
		}
	};
	h.on_up = [leave, up = std::move(h.on_up)](Channel &c) {
		leave();
		if (up)
			up(c);
	};
	h.on_closed = [leave, closed = std::move(h.on_closed)](Channel &c, const std::string &why) {
		leave();
		if (closed)
			closed(c, why);
	};
	Channel::accept(std::move(socket), contexts, timers, std::move(h));
}

Listener::Listener(asio::io_context &io, tcp::endpoint at, TlsContexts &contexts,
		   ChannelTimers timers, std::size_t max_handshaking, MakeHandlers make)
    : state_(std::make_shared<State>(io, contexts))
{
	state_->timers = timers;
	state_->max_handshaking = max_handshaking;
	state_->make = std::move(make);
	auto &a = state_->acceptor;
	a.open(at.protocol());
	a.set_option(asio::socket_base::reuse_address(true));
	a.bind(at);
	a.listen();
	state_->accept(state_);
}

Listener::~Listener()
{
	boost::system::error_code ec;
	state_->acceptor.close(ec);
	state_->retry.cancel();
}

Listener::tcp::endpoint Listener::local() const
{
	return state_->acceptor.local_endpoint();
}

std::uint64_t Listener::refused() const noexcept
{
	return state_->refused;
}

std::size_t Listener::handshaking() const noexcept
{
	return state_->handshaking;
}

} // namespace ilpd::ctl

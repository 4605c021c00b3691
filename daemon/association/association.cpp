// SPDX-License-Identifier: GPL-2.0-or-later
#include "association/association.hpp"

#include <algorithm>
#include <variant>

namespace ilpd
{

using ctl::ErrorCode;
using ctl::ProtocolError;

namespace
{

constexpr auto kNotYet = Association::Clock::time_point::max();

} // namespace

const char *to_string(Association::State s)
{
	switch (s) {
	case Association::State::AwaitHello:
		return "hello";
	case Association::State::Keying:
		return "keying";
	case Association::State::Up:
		return "up";
	}
	return "?";
}

Association::Association(SaPlane &plane, ctl::Hello local, ilp::psp::Version version,
			 std::vector<std::uint32_t> retiring)
    : plane_(plane), local_(std::move(local)), version_(version)
{
	info_.started = Clock::now();
	for (auto spi : retiring)
		retiring_.push_back({spi, kNotYet});
}

std::optional<ilp::Endpoint> Association::peer() const
{
	if (!info_.peer)
		return std::nullopt;
	return info_.peer->endpoint;
}

std::vector<ctl::Message> Association::on_hello(const ctl::Hello &peer, Clock::time_point now)
{
	if (info_.peer)
		throw ProtocolError(ErrorCode::Unexpected, "a second HELLO");
	info_.peer = peer;
	info_.state = State::Keying;
	return {offer(now)};
}

// The SA is bound to the peer's address: the datapath takes packets under
// it from that address only, whatever their source port.
ctl::Message Association::offer(Clock::time_point now)
{
	ilp::Endpoint bound = info_.peer->endpoint;
	bound.port = 0;
	auto sa = plane_.allocate(version_, bound);
	given_.push_back(sa.spi);
	ctl::SaOffer o;
	o.seq = next_seq_++;
	o.spi = sa.spi;
	o.version = sa.version;
	auto key = sa.key.bytes();
	o.key.assign(key.begin(), key.end());
	pending_seq_ = o.seq;
	pending_spi_ = o.spi;
	if (o.seq > 1) {
		info_.rekeys++;
		info_.last_rekey = now;
	}
	return o;
}

std::vector<ctl::Message> Association::on_message(const ctl::Message &m, Clock::time_point now)
{
	if (!info_.peer)
		throw ProtocolError(ErrorCode::Unexpected,
				    std::string(ctl::type_name(ctl::type_of(m))) + " before HELLO");
	std::vector<ctl::Message> out;
	if (const auto *o = std::get_if<ctl::SaOffer>(&m)) {
		if (o->seq <= peer_seq_)
			throw ProtocolError(ErrorCode::Replay,
					    "SA_OFFER seq " + std::to_string(o->seq) +
						" after seq " + std::to_string(peer_seq_));
		if (o->seq != peer_seq_ + 1)
			throw ProtocolError(ErrorCode::Unexpected,
					    "SA_OFFER seq " + std::to_string(o->seq) +
						" skips from seq " + std::to_string(peer_seq_));
		// Two successive SAs are never the same one: the SPI moves on
		// under a key, and a rotation changes the key's slot bit.
		if (installed_ && o->spi == info_.spi_out)
			throw ProtocolError(ErrorCode::Replay, "SA_OFFER of SPI " +
								   std::to_string(o->spi) +
								   ", the one already installed");
		ilp::TxSaSpec tx;
		tx.spi = o->spi;
		tx.version = o->version;
		tx.key.size = o->key.size();
		std::copy(o->key.begin(), o->key.end(), tx.key.key.bytes().begin());
		plane_.install_tx(info_.peer->endpoint, tx);
		peer_seq_ = o->seq;
		installed_ = true;
		info_.spi_out = o->spi;
		out.push_back(ctl::SaAck{o->seq, o->spi});
	} else if (const auto *a = std::get_if<ctl::SaAck>(&m)) {
		if (!pending_seq_ || a->seq != *pending_seq_ || a->spi != pending_spi_)
			throw ProtocolError(ErrorCode::Unexpected,
					    "SA_ACK of seq " + std::to_string(a->seq) + " SPI " +
						std::to_string(a->spi) +
						", not the offer in flight");
		pending_seq_.reset();
		acked_ = true;
		info_.spi_in = a->spi;
		// Every SA given out before this one is superseded now.
		for (auto spi : given_)
			if (spi != a->spi)
				retiring_.push_back({spi, now});
		given_ = {a->spi};
		for (auto &r : retiring_)
			if (r.since == kNotYet)
				r.since = now;
		if (rekey_after_ack_) {
			rekey_after_ack_ = false;
			out.push_back(offer(now));
		}
	} else if (std::holds_alternative<ctl::Rekey>(m)) {
		auto more = rekey(now);
		out.insert(out.end(), more.begin(), more.end());
	} else {
		throw ProtocolError(ErrorCode::Unexpected,
				    std::string(ctl::type_name(ctl::type_of(m))) +
					" is not part of keying");
	}
	update_state(now);
	return out;
}

std::vector<ctl::Message> Association::rekey(Clock::time_point now)
{
	if (!info_.peer)
		return {};
	if (pending_seq_) {
		rekey_after_ack_ = true;
		return {};
	}
	return {offer(now)};
}

void Association::update_state(Clock::time_point now)
{
	if (info_.state != State::Up && installed_ && acked_) {
		info_.state = State::Up;
		info_.up_since = now;
	}
}

void Association::adopt_retiring(std::vector<std::uint32_t> spis, Clock::time_point now)
{
	for (auto spi : spis)
		if (std::find(given_.begin(), given_.end(), spi) == given_.end())
			retiring_.push_back({spi, now});
}

bool Association::retire_pending(Clock::time_point now, Clock::duration grace) const
{
	return std::any_of(retiring_.begin(), retiring_.end(), [&](const Retiring &r) {
		return r.since != kNotYet && now - r.since >= grace;
	});
}

Counted Association::retire_due(Clock::time_point now, Clock::duration grace,
				const TrafficSnapshot &counts)
{
	Counted gone;
	std::erase_if(retiring_, [&](const Retiring &r) {
		if (r.since == kNotYet || now - r.since < grace)
			return false;
		if (auto it = counts.rx.find(r.spi); it != counts.rx.end())
			gone += it->second;
		plane_.retire_rx(r.spi);
		return true;
	});
	return gone;
}

std::vector<std::uint32_t> Association::rx_spis() const
{
	std::vector<std::uint32_t> spis(given_.rbegin(), given_.rend());
	for (const auto &r : retiring_)
		spis.push_back(r.spi);
	return spis;
}

void Association::withdraw()
{
	for (auto spi : rx_spis())
		plane_.retire_rx(spi);
	given_.clear();
	retiring_.clear();
	if (info_.peer)
		plane_.remove_peer(info_.peer->endpoint);
	installed_ = acked_ = false;
	info_.state = info_.peer ? State::Keying : State::AwaitHello;
}

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
//
// One association (a host with its first-hop SN) or pipe (two SNs, or two
// hosts directly): the keying protocol of docs/control.md for one peer
// over one channel.  No I/O: it is given what the peer sent and returns
// what to send back, and keys the node through its SaPlane, so that tests
// drive two of them against two real datapaths.
//
// Each side, as the receiver, allocates an SA for the other and offers
// it (SA_OFFER); the other installs it as its transmit SA and says so
// (SA_ACK).  The association is up once both directions are installed:
// the peer's offer installed here, and this side's offer acknowledged.
// Rekeying is another offer; the receive SA it supersedes stays valid for
// a grace period after the new one is acknowledged, for the packets
// already on their way, and is then retired.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "association/messages.hpp"
#include "association/sa_plane.hpp"

namespace ilpd
{

class Association
{
public:
	using Clock = std::chrono::steady_clock;
	enum class State { AwaitHello, Keying, Up };

	// What "ilpctl assoc show" tells of it (never a key).
	struct Info {
		State state = State::AwaitHello;
		std::optional<ctl::Hello> peer;
		std::uint32_t spi_in = 0;  // the receive SA the peer sends with (acknowledged)
		std::uint32_t spi_out = 0; // the transmit SA installed for the peer
		std::uint64_t rekeys = 0;  // offers made after the first
		Clock::time_point started{}, up_since{}, last_rekey{};
	};

	// @retiring: receive SAs an earlier association with the same peer
	// gave out, retired once this one's first offer is acknowledged.
	Association(SaPlane &plane, ctl::Hello local, ilp::psp::Version version,
		    std::vector<std::uint32_t> retiring = {});
	Association(const Association &) = delete;
	Association &operator=(const Association &) = delete;

	// This side's HELLO, to send first.
	ctl::Hello hello() const { return local_; }

	// The peer's HELLO, its binding to the channel's identity already
	// checked: returns this side's first offer.  Throws
	// ctl::ProtocolError (Unexpected) for a second HELLO.
	std::vector<ctl::Message> on_hello(const ctl::Hello &peer, Clock::time_point now);

	// SA_OFFER, SA_ACK or REKEY from the peer: what to send back.
	// Throws ctl::ProtocolError for a message out of order (Unexpected)
	// or an offer of the SPI already installed (Replay).
	std::vector<ctl::Message> on_message(const ctl::Message &m, Clock::time_point now);

	// A new offer (after a master-key rotation, or as asked): now, or
	// once the offer in flight is acknowledged.  Nothing before HELLO.
	std::vector<ctl::Message> rekey(Clock::time_point now);

	// Receive SAs an earlier association with the same peer gave out,
	// superseded by this one's (which is up): retired after the grace.
	void adopt_retiring(std::vector<std::uint32_t> spis, Clock::time_point now);

	// Whether retire_due() would retire any now.
	bool retire_pending(Clock::time_point now, Clock::duration grace) const;

	// Retires the superseded receive SAs whose grace period has passed:
	// what they had opened, by @counts (the datapath forgets an SA's
	// counts with it), taken before.
	Counted retire_due(Clock::time_point now, Clock::duration grace,
			   const TrafficSnapshot &counts = {});

	// The receive SAs given out on this association, current first: the
	// next association with the peer retires them (a channel that broke
	// leaves the SAs working meanwhile).
	std::vector<std::uint32_t> rx_spis() const;

	// Withdraws it: the peer's transmit SA, its cache entries and every
	// receive SA given to it.
	void withdraw();

	State state() const noexcept { return info_.state; }
	bool up() const noexcept { return info_.state == State::Up; }
	const Info &info() const noexcept { return info_; }
	// The peer's ILP endpoint (after HELLO).
	std::optional<ilp::Endpoint> peer() const;

private:
	ctl::Message offer(Clock::time_point now);
	void update_state(Clock::time_point now);

	SaPlane &plane_;
	ctl::Hello local_;
	ilp::psp::Version version_;
	Info info_;
	std::uint32_t next_seq_ = 1; // of this side's next offer
	std::uint32_t peer_seq_ = 0; // of the peer's last offer
	std::optional<std::uint32_t> pending_seq_;
	std::uint32_t pending_spi_ = 0;
	bool rekey_after_ack_ = false;
	bool installed_ = false;           // a transmit SA from the peer
	bool acked_ = false;               // an offer of ours acknowledged
	std::vector<std::uint32_t> given_; // receive SAs given out, not yet retiring
	struct Retiring {
		std::uint32_t spi;
		Clock::time_point since; // acknowledged successor's time; max(): not yet
	};
	std::vector<Retiring> retiring_;
};

const char *to_string(Association::State s);

} // namespace ilpd

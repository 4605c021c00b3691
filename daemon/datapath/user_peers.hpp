// SPDX-License-Identifier: GPL-2.0-or-later
//
// The userspace datapath's peers, each with the transmit SA it gave us
// (SPI, version, key), and the sealing of packets for them.
//
// Why not one psp::TxSa per peer: a TxSa's OpenSSL context serves one
// thread at a time, and a TxSa per thread would number IVs from 1 in
// each, repeating nonces under one key (fatal for AES-GCM).  So the IV
// counter is the SA's, shared by all threads (one atomic), and each
// thread seals with a context of its own (a Sealer).  The bytes on the
// wire are those psp::TxSa writes: crypt offset 0, no VC (the profile of
// every ILP hop, docs/protocol.md).
//
// Peers change at run time (ilpctl peer add|set|del), RCU-style: a
// PeerTable is immutable once built; a change builds a new table and the
// datapath swaps it in, while packet threads go on with the one they
// hold.  A peer's SA (TxSaState) is shared between the tables that have
// the peer, so that "peer set ADDR direct on" keeps its IV counter.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <linux/ilp.h>

#include <ilp/endpoint.hpp>
#include <ilp/psp.hpp>

#include "datapath/peer_ports.hpp"
#include "datapath/traffic.hpp"
#include "datapath/udp_io.hpp"
#include "datapath/user_config.hpp"

namespace ilpd
{

// A transmit SA: immutable but for its IV counter.
struct TxSaState {
	TxSaState(std::uint32_t spi, ilp::psp::Version version, const ilp::psp::SaKey &key);

	const std::uint32_t spi;
	const ilp::psp::Version version;
	const ilp::psp::SaKey key;
	// Unique in the process: which Sealer context is this SA's.
	const std::uint64_t serial;
	ilp::psp::IvCounter iv;
};

class TxPeer
{
public:
	// @sa nullptr: a peer without a transmit SA (yet).
	TxPeer(const ilp::Endpoint &endpoint, bool direct, std::string where,
	       std::shared_ptr<TxSaState> sa);
	TxPeer(const TxPeer &) = delete;
	TxPeer &operator=(const TxPeer &) = delete;

	const ilp::Endpoint &endpoint() const noexcept { return endpoint_; }
	bool direct() const noexcept { return direct_; }
	const std::string &where() const noexcept { return where_; }
	// nullptr without one.
	const std::shared_ptr<TxSaState> &sa() const noexcept { return sa_; }
	// What was sealed for it, under any of its SAs.
	Traffic &traffic() const noexcept { return *traffic_; }

	// This node's source address toward the peer and the path MTU,
	// looked up again when a second old (addresses and routes change).
	// Throws ilp::Error without a route.
	udp::Route route() const;

	// The same peer with another SA, or another "direct": the route
	// cache goes along.
	std::shared_ptr<const TxPeer> with_sa(std::shared_ptr<TxSaState> sa) const;
	std::shared_ptr<const TxPeer> with_direct(bool direct) const;

private:
	struct RouteCache {
		std::mutex mu;
		std::optional<udp::Route> route;
		std::chrono::steady_clock::time_point at;
	};

	ilp::Endpoint endpoint_;
	bool direct_;
	std::string where_;
	std::shared_ptr<TxSaState> sa_;
	std::shared_ptr<RouteCache> route_ = std::make_shared<RouteCache>();
	std::shared_ptr<Traffic> traffic_ = std::make_shared<Traffic>();
};

class PeerTable
{
public:
	PeerTable() = default;
	// Reads each peer's key file.  Throws ilp::Error naming the peer's
	// origin: "ilpd.conf:4: peer 10.0.1.2:1000: cannot read keyfile ...".
	explicit PeerTable(const std::vector<UserPeerConfig> &peers);

	// The peer at @ep (address and port), or nullptr.
	const TxPeer *find(const ilp::Endpoint &ep) const noexcept;
	std::shared_ptr<const TxPeer> get(const ilp::Endpoint &ep) const noexcept;
	std::size_t size() const noexcept { return peers_.size(); }
	const std::vector<std::shared_ptr<const TxPeer>> &list() const noexcept { return peers_; }
	// Which port each peer's address receives on (peer_ports.hpp).
	const PeerPorts &ports() const noexcept { return ports_; }

	// A copy with @peer added, or in place of the peer at its endpoint.
	PeerTable with(std::shared_ptr<const TxPeer> peer) const;
	// A copy without the peer at @ep.
	PeerTable without(const ilp::Endpoint &ep) const;

private:
	void add(std::shared_ptr<const TxPeer> peer);
	void reindex();

	struct Hash {
		std::size_t operator()(const ilp::Endpoint &ep) const noexcept;
	};
	std::vector<std::shared_ptr<const TxPeer>> peers_;
	std::unordered_map<ilp::Endpoint, std::size_t, Hash> index_;
	PeerPorts ports_;
};

// One thread's AES-GCM contexts, one per transmit SA, made on first use.
class Sealer
{
public:
	Sealer() = default;
	explicit Sealer(const PeerTable &) {}

	// The length of @plain_len bytes of ILP header and payload sealed.
	static constexpr std::size_t sealed_size(std::size_t plain_len)
	{
		return ILPW_PSP_HDR_LEN + plain_len + ILPW_PSP_ICV_LEN;
	}

	// Writes PSP header, @plain encrypted and the ICV to @out (which
	// must not overlap @plain) under @peer's SA; @out_len gets the
	// length.  Returns nullopt, or why the packet is dropped instead
	// (no_tx_sa for a peer without one).
	std::optional<ilp_drop_reason> seal(const TxPeer &peer, std::span<const std::uint8_t> plain,
					    std::span<std::uint8_t> out,
					    std::size_t &out_len) noexcept;

private:
	// Contexts of SAs replaced or gone stay until the map is this big,
	// then all go (they are remade on the next packet).
	static constexpr std::size_t max_contexts = 4096;
	std::unordered_map<std::uint64_t, ilp::psp::Aead> aeads_;
};

} // namespace ilpd

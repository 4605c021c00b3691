// SPDX-License-Identifier: GPL-2.0-or-later
//
// The userspace datapath's peers, each with the transmit SA it gave us
// (SPI, version, key from its key file), and the sealing of packets for
// them.
//
// Why not one psp::TxSa per peer: a TxSa's OpenSSL context serves one
// thread at a time, and a TxSa per thread would number IVs from 1 in
// each, repeating nonces under one key (fatal for AES-GCM).  So the IV
// counter is the peer's, shared by all threads (one atomic), and each
// thread seals with a context of its own (a Sealer).  The bytes on the
// wire are those psp::TxSa writes: crypt offset 0, no VC (the profile of
// every ILP hop, docs/protocol.md).
//
// The table is fixed once built, so the packet path reads it without a
// lock.
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

#include "datapath/udp_io.hpp"
#include "datapath/user_config.hpp"

namespace ilpd
{

class TxPeer
{
public:
	TxPeer(const UserPeerConfig &config, const ilp::psp::SaKey &key, std::size_t index);
	TxPeer(const TxPeer &) = delete;
	TxPeer &operator=(const TxPeer &) = delete;

	const ilp::Endpoint &endpoint() const noexcept { return endpoint_; }
	bool direct() const noexcept { return direct_; }
	const std::string &where() const noexcept { return where_; }
	std::uint32_t spi() const noexcept { return spi_; }
	ilp::psp::Version version() const noexcept { return version_; }
	std::span<const std::uint8_t> key() const noexcept { return key_.bytes(); }
	// Its place in the table: a Sealer's slot for it.
	std::size_t index() const noexcept { return index_; }
	// The next IV of the SA; nullopt once its space is spent.
	std::optional<std::uint64_t> take_iv() noexcept { return iv_.take(); }

	// This node's source address toward the peer and the path MTU,
	// looked up again when a second old (addresses and routes change).
	// Throws ilp::Error without a route.
	udp::Route route();

private:
	ilp::Endpoint endpoint_;
	bool direct_;
	std::string where_;
	std::uint32_t spi_;
	ilp::psp::Version version_;
	ilp::psp::SaKey key_;
	std::size_t index_;
	ilp::psp::IvCounter iv_;

	std::mutex route_mu_;
	std::optional<udp::Route> route_;
	std::chrono::steady_clock::time_point route_at_;
};

class PeerTable
{
public:
	PeerTable() = default;
	// Reads each peer's key file.  Throws ilp::Error naming the peer's
	// origin: "ilpd.conf:4: peer 10.0.1.2:1000: cannot read keyfile ...".
	explicit PeerTable(const std::vector<UserPeerConfig> &peers);

	// The peer at @ep (address and port), or nullptr.
	TxPeer *find(const ilp::Endpoint &ep) const noexcept;
	std::size_t size() const noexcept { return peers_.size(); }

private:
	struct Hash {
		std::size_t operator()(const ilp::Endpoint &ep) const noexcept;
	};
	std::vector<std::unique_ptr<TxPeer>> peers_;
	std::unordered_map<ilp::Endpoint, std::size_t, Hash> index_;
};

// One thread's AES-GCM contexts, one per peer, made on first use.
class Sealer
{
public:
	explicit Sealer(const PeerTable &peers) : aeads_(peers.size()) {}

	// The length of @plain_len bytes of ILP header and payload sealed.
	static constexpr std::size_t sealed_size(std::size_t plain_len)
	{
		return ILPW_PSP_HDR_LEN + plain_len + ILPW_PSP_ICV_LEN;
	}

	// Writes PSP header, @plain encrypted and the ICV to @out (which
	// must not overlap @plain) under @peer's SA; @out_len gets the
	// length.  Returns nullopt, or why the packet is dropped instead.
	std::optional<ilp_drop_reason> seal(TxPeer &peer, std::span<const std::uint8_t> plain,
					    std::span<std::uint8_t> out,
					    std::size_t &out_len) noexcept;

private:
	std::vector<std::optional<ilp::psp::Aead>> aeads_;
};

} // namespace ilpd

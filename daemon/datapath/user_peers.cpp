// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/user_peers.hpp"

#include <cerrno>
#include <string>

#include <ilp/error.hpp>
#include <ilp/key_files.hpp>

namespace ilpd
{

TxPeer::TxPeer(const UserPeerConfig &config, const ilp::psp::SaKey &key, std::size_t index)
    : endpoint_(config.endpoint), direct_(config.direct), where_(config.where), spi_(config.spi),
      version_(config.version), key_(key), index_(index)
{
}

udp::Route TxPeer::route()
{
	auto now = std::chrono::steady_clock::now();
	std::lock_guard lock(route_mu_);
	if (!route_ || now - route_at_ > std::chrono::seconds(1)) {
		route_.reset();
		route_ = udp::route_to(endpoint_);
		route_at_ = now;
	}
	return *route_;
}

PeerTable::PeerTable(const std::vector<UserPeerConfig> &peers)
{
	for (const auto &p : peers) {
		std::string who = p.where + ": peer " + p.endpoint.to_string() + ": ";
		if (!(p.spi & 0x7fffffffu))
			throw ilp::Error(EINVAL, who + "SPI " + std::to_string(p.spi) +
						     " has its low 31 bits zero");
		ilp::psp::SaKey key;
		try {
			key = ilp::read_sa_key(p.keyfile.string());
		} catch (const ilp::Error &e) {
			throw ilp::Error(e.code().value(),
					 who + "cannot read keyfile: " + e.what());
		}
		if (key.size != ilp::psp::key_size(p.version))
			throw ilp::Error(
			    EINVAL, who + "keyfile " + p.keyfile.string() + " holds a " +
					std::to_string(key.size) + "-byte key, PSP version " +
					std::to_string(static_cast<int>(p.version)) + " takes " +
					std::to_string(ilp::psp::key_size(p.version)));
		auto [it, fresh] = index_.try_emplace(p.endpoint, peers_.size());
		if (!fresh)
			throw ilp::Error(EEXIST, who + "listed twice (also at " +
						     peers_[it->second]->where() + ")");
		peers_.push_back(std::make_unique<TxPeer>(p, key, peers_.size()));
	}
}

TxPeer *PeerTable::find(const ilp::Endpoint &ep) const noexcept
{
	auto it = index_.find(ep);
	return it == index_.end() ? nullptr : peers_[it->second].get();
}

std::size_t PeerTable::Hash::operator()(const ilp::Endpoint &ep) const noexcept
{
	// FNV-1a over what operator== compares.
	std::uint64_t h = 0xcbf29ce484222325ull;
	auto mix = [&h](std::uint8_t b) { h = (h ^ b) * 0x100000001b3ull; };
	mix(static_cast<std::uint8_t>(ep.family));
	for (auto b : ep.addr_bytes())
		mix(b);
	mix(static_cast<std::uint8_t>(ep.port >> 8));
	mix(static_cast<std::uint8_t>(ep.port));
	return static_cast<std::size_t>(h);
}

std::optional<ilp_drop_reason> Sealer::seal(TxPeer &peer, std::span<const std::uint8_t> plain,
					    std::span<std::uint8_t> out,
					    std::size_t &out_len) noexcept
{
	if (out.size() < sealed_size(plain.size()))
		return ILP_DROP_TOO_BIG;
	auto &aead = aeads_[peer.index()];
	if (!aead) {
		try {
			aead.emplace(peer.version(), peer.key());
		} catch (const std::exception &) {
			return ILP_DROP_NOMEM;
		}
	}
	// As the kernel (kmod/tx.c): a spent IV space leaves the peer
	// without a usable SA until it gives a new one.
	auto iv = peer.take_iv();
	if (!iv)
		return ILP_DROP_NO_TX_SA;
	ilpw_psp psp{};
	psp.next_hdr = ILPW_PSP_NEXTHDR_ILP;
	psp.version = static_cast<std::uint8_t>(peer.version());
	psp.spi = peer.spi();
	psp.iv = *iv;
	ilpw_psp_layout layout;
	if (ilpw_psp_build(out.data(), out.size(), &psp, plain.size(), &layout))
		return ILP_DROP_TOO_BIG;
	std::uint8_t nonce[ILPW_PSP_NONCE_LEN];
	ilpw_psp_nonce(&psp, nonce);
	// Crypt offset 0 and no VC: everything after the header is
	// encrypted, straight from @plain.
	if (!aead->seal(out.first(layout.icv_off + ILPW_PSP_ICV_LEN), layout, nonce, plain.data()))
		return ILP_DROP_NOMEM;
	out_len = layout.icv_off + ILPW_PSP_ICV_LEN;
	return std::nullopt;
}

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/user_peers.hpp"

#include <atomic>
#include <cerrno>
#include <string>

#include <ilp/error.hpp>
#include <ilp/key_files.hpp>

namespace ilpd
{

namespace
{

std::atomic<std::uint64_t> next_serial{1};

} // namespace

TxSaState::TxSaState(std::uint32_t spi_, ilp::psp::Version version_, const ilp::psp::SaKey &key_)
    : spi(spi_), version(version_), key(key_),
      serial(next_serial.fetch_add(1, std::memory_order_relaxed))
{
}

TxPeer::TxPeer(const ilp::Endpoint &endpoint, bool direct, std::string where,
	       std::shared_ptr<TxSaState> sa)
    : endpoint_(endpoint), direct_(direct), where_(std::move(where)), sa_(std::move(sa))
{
}

udp::Route TxPeer::route() const
{
	auto now = std::chrono::steady_clock::now();
	std::lock_guard lock(route_->mu);
	if (!route_->route || now - route_->at > std::chrono::seconds(1)) {
		route_->route.reset();
		route_->route = udp::route_to(endpoint_);
		route_->at = now;
	}
	return *route_->route;
}

std::shared_ptr<const TxPeer> TxPeer::with_sa(std::shared_ptr<TxSaState> sa) const
{
	auto p = std::make_shared<TxPeer>(endpoint_, direct_, where_, std::move(sa));
	p->route_ = route_;
	p->traffic_ = traffic_;
	return p;
}

std::shared_ptr<const TxPeer> TxPeer::with_direct(bool direct) const
{
	auto p = std::make_shared<TxPeer>(endpoint_, direct, where_, sa_);
	p->route_ = route_;
	p->traffic_ = traffic_;
	return p;
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
		if (auto *other = find(p.endpoint))
			throw ilp::Error(EEXIST,
					 who + "listed twice (also at " + other->where() + ")");
		add(std::make_shared<TxPeer>(p.endpoint, p.direct, p.where,
					     std::make_shared<TxSaState>(p.spi, p.version, key)));
	}
	reindex();
}

void PeerTable::add(std::shared_ptr<const TxPeer> peer)
{
	index_.emplace(peer->endpoint(), peers_.size());
	peers_.push_back(std::move(peer));
}

void PeerTable::reindex()
{
	index_.clear();
	std::vector<ilp::Endpoint> at;
	for (std::size_t i = 0; i < peers_.size(); i++) {
		index_.emplace(peers_[i]->endpoint(), i);
		at.push_back(peers_[i]->endpoint());
	}
	ports_.assign(at);
}

const TxPeer *PeerTable::find(const ilp::Endpoint &ep) const noexcept
{
	auto it = index_.find(ep);
	return it == index_.end() ? nullptr : peers_[it->second].get();
}

std::shared_ptr<const TxPeer> PeerTable::get(const ilp::Endpoint &ep) const noexcept
{
	auto it = index_.find(ep);
	return it == index_.end() ? nullptr : peers_[it->second];
}

PeerTable PeerTable::with(std::shared_ptr<const TxPeer> peer) const
{
	PeerTable t = *this;
	if (auto it = t.index_.find(peer->endpoint()); it != t.index_.end())
		t.peers_[it->second] = std::move(peer);
	else
		t.peers_.push_back(std::move(peer));
	t.reindex();
	return t;
}

PeerTable PeerTable::without(const ilp::Endpoint &ep) const
{
	PeerTable t;
	for (const auto &p : peers_)
		if (!(p->endpoint() == ep))
			t.peers_.push_back(p);
	t.reindex();
	return t;
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

std::optional<ilp_drop_reason> Sealer::seal(const TxPeer &peer, std::span<const std::uint8_t> plain,
					    std::span<std::uint8_t> out,
					    std::size_t &out_len) noexcept
{
	TxSaState *sa = peer.sa().get();
	if (!sa)
		return ILP_DROP_NO_TX_SA;
	if (out.size() < sealed_size(plain.size()))
		return ILP_DROP_TOO_BIG;
	auto it = aeads_.find(sa->serial);
	if (it == aeads_.end()) {
		try {
			if (aeads_.size() >= max_contexts)
				aeads_.clear();
			it = aeads_.try_emplace(sa->serial, sa->version, sa->key.bytes()).first;
		} catch (const std::exception &) {
			return ILP_DROP_NOMEM;
		}
	}
	// As the kernel (kmod/tx.c): a spent IV space leaves the peer
	// without a usable SA until it gives a new one.
	auto iv = sa->iv.take();
	if (!iv)
		return ILP_DROP_NO_TX_SA;
	ilpw_psp psp{};
	psp.next_hdr = ILPW_PSP_NEXTHDR_ILP;
	psp.version = static_cast<std::uint8_t>(sa->version);
	psp.spi = sa->spi;
	psp.iv = *iv;
	ilpw_psp_layout layout;
	if (ilpw_psp_build(out.data(), out.size(), &psp, plain.size(), &layout))
		return ILP_DROP_TOO_BIG;
	std::uint8_t nonce[ILPW_PSP_NONCE_LEN];
	ilpw_psp_nonce(&psp, nonce);
	// Crypt offset 0 and no VC: everything after the header is
	// encrypted, straight from @plain.
	if (!it->second.seal(out.first(layout.icv_off + ILPW_PSP_ICV_LEN), layout, nonce,
			     plain.data()))
		return ILP_DROP_NOMEM;
	out_len = layout.icv_off + ILPW_PSP_ICV_LEN;
	peer.traffic().add(plain.size());
	return std::nullopt;
}

} // namespace ilpd

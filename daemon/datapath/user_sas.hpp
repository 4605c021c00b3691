// SPDX-License-Identifier: GPL-2.0-or-later
//
// The receiving side of the userspace datapath's keys: the two master
// keys and the receive SAs allocated under them, each bound to the peer
// it was given to (interfaces: "ilpctl sa alloc peer ADDR").  A packet
// under an SPI bound to a peer is taken only from that peer's address;
// from another it is dropped and counted (sa_peer_mismatch), as the
// kernel does.
//
// A slot's key comes from ilpd's master-keys file or from "ilpctl key
// set|rotate".  Under a key set with ilpctl, ilpd alone gives out SAs, so
// an SPI it did not allocate is unknown (psp_unknown_spi).  Under a key
// from the file, whoever reads the file may derive SAs from it itself (the
// key exchange outside ilpd that the file was made for), so SPIs ilpd did
// not allocate are still taken, bound to nobody.
//
// Receive threads read an immutable snapshot (RxKeys), swapped whole on
// every change (RCU-style), and rebuild their own psp::Receiver when its
// generation moves.  The allocations are kept in the state directory,
// under a fingerprint of their master key (never the key), so that an SPI
// is not handed out twice under one key across restarts: two senders on
// one SA key would repeat each other's nonces.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <ilp/endpoint.hpp>
#include <ilp/key_files.hpp>
#include <ilp/psp_kdf.hpp>

#include "datapath/traffic.hpp"

namespace ilpd
{

// A receive SA: its SPI, version and the address of the peer it is for
// (port 0: flows are keyed by address, the source port is a flow hash).
struct RxSaBinding {
	std::uint32_t spi = 0;
	ilp::psp::Version version = ilp::psp::Version::AesGcm128;
	ilp::Endpoint peer;
	// The packets opened under it (not kept across restarts).
	std::shared_ptr<Traffic> traffic = std::make_shared<Traffic>();
};

// What the receive threads need, immutable.
struct RxKeys {
	std::uint64_t generation = 0;
	std::optional<ilp::psp::MasterKey> keys[2];
	unsigned active = 0;
	// Whether slot's SPIs must be allocated ones (its key came from
	// ilpctl), or may be any (from the master-keys file).
	bool tracked[2] = {false, false};
	std::unordered_map<std::uint32_t, RxSaBinding> sas;
	// SPIs of untracked slots that were withdrawn: unknown, as any SPI
	// of a tracked slot that is not in @sas.
	std::unordered_set<std::uint32_t> withdrawn;
};

class RxSaTable
{
public:
	// @state: the file the allocations are kept in; empty: none kept.
	// Throws ilp::Error for a state file that does not parse.
	explicit RxSaTable(std::filesystem::path state);

	// The keys of ilpd's master-keys file (untracked slots).
	void set_file_keys(const ilp::MasterKeyFile &file);
	// "ilpctl key set SLOT FILE [active]": a key replacing another
	// forgets the SAs of the slot (their keys came from the old one).
	// Its SPIs are numbered from @first_spi on, or past those the state
	// file says were allocated under it, whichever is further.
	void set_key(unsigned slot, const ilp::psp::MasterKey &key, bool make_active,
		     std::uint32_t first_spi = 1);
	// "ilpctl key rotate": @key goes into the inactive slot, which
	// becomes active.
	void rotate(const ilp::psp::MasterKey &key, std::uint32_t first_spi = 1);
	// "key set SLOT generate", "key rotate" without a file: a random key
	// that never leaves this process (nor its state file).
	void generate(unsigned slot, bool make_active);
	void rotate_generated();

	// "key show": per slot, the next SPI it allocates (slot bit
	// included; 0 without a key) and whether its key was generated.
	struct SlotInfo {
		std::uint32_t next_spi = 0;
		bool generated = false;
	};
	SlotInfo slot_info(unsigned slot) const;

	// A new SA under the active key for @peer's address, and its key for
	// the sender.  Throws ilp::Error: ENOKEY without a master key, ENOSPC
	// when the key's SPIs are spent, or the errno of the state file.
	struct Allocated {
		RxSaBinding sa;
		ilp::psp::SaKey key;
	};
	Allocated allocate(ilp::psp::Version version, const ilp::Endpoint &peer);
	// Withdraws the SA of @spi, as ILP_CMD_SA_DEL: its packets are
	// dropped from the next batch on (psp_unknown_spi), and the SPI is
	// not handed out again (the key's numbering only moves forward).
	// Under a key from the master-keys file, where SPIs ilpd did not
	// allocate are taken, the SPI is remembered as withdrawn so that it
	// is not taken either.  Throws ilp::Error: ENOENT when no SA has
	// @spi, or the errno of the state file (the SA then stays).
	void remove(std::uint32_t spi);

	std::shared_ptr<const RxKeys> snapshot() const noexcept { return snap_.load(); }
	// The SAs, by SPI.
	std::vector<RxSaBinding> list() const;

private:
	// The allocations kept for a key, by fingerprint, for keys not
	// installed now too (a key set again after a restart).
	struct Kept {
		std::uint32_t next_spi = 1;
		std::vector<RxSaBinding> sas;
		// SPIs withdrawn while their key was from the master-keys
		// file; under an ilpctl key they are unknown anyway.
		std::vector<std::uint32_t> withdrawn;
	};

	void install(unsigned slot, const ilp::psp::MasterKey &key, bool tracked,
		     std::uint32_t first_spi = 1);
	static ilp::psp::MasterKey random_key();
	std::uint32_t slot_next_spi(unsigned slot) const;
	void publish();
	void save();
	void load();

	std::filesystem::path state_;
	mutable std::mutex mu_; // writers; readers take snapshots
	std::optional<ilp::psp::MasterKey> keys_[2];
	bool tracked_[2] = {false, false};
	bool generated_[2] = {false, false};
	unsigned active_ = 0;
	std::uint64_t generation_ = 0;
	std::unordered_map<std::string, Kept> kept_; // by fingerprint
	std::string fingerprint_[2];
	std::atomic<std::shared_ptr<const RxKeys>> snap_;
};

} // namespace ilpd

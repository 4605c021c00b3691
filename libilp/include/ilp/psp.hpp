// SPDX-License-Identifier: LGPL-2.1-or-later
//
// PSP in userspace, with OpenSSL: AES-GCM seal and open of one hop's
// packets, transmit SAs, and the receiver's side (two master keys, SPI
// allocation, key derivation with a cache of ready AEAD contexts).
//
// Errors on the packet path are return values (enum ilpw_err, the same
// reasons the kernel counts); errors in set-up are thrown as ilp::Error.
// No per-packet allocation: contexts are made once per key and reused.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>

#include "ilp/psp_kdf.hpp"
#include <ilp_wire.h> // wire/: the header code shared with ilp.ko

namespace ilp::psp
{

// One AES-GCM key with its OpenSSL contexts, reused for every packet.
class Aead
{
public:
	Aead(Version version, std::span<const std::uint8_t> key);
	Aead(Aead &&) noexcept;
	Aead &operator=(Aead &&) noexcept;
	~Aead();

	// Encrypts the ciphertext region of @pkt and writes the ICV, per
	// @layout.  The plaintext is read from @src (layout.ct_len bytes)
	// when given, else from @pkt itself (in place).  Returns false only
	// if OpenSSL fails.
	bool seal(std::span<std::uint8_t> pkt, const ilpw_psp_layout &layout,
		  const std::uint8_t (&nonce)[ILPW_PSP_NONCE_LEN],
		  const std::uint8_t *src = nullptr);
	// Verifies the ICV (in constant time, inside OpenSSL) and decrypts
	// in place.  Returns false when the packet does not authenticate.
	bool open(std::span<std::uint8_t> pkt, const ilpw_psp_layout &layout,
		  const std::uint8_t (&nonce)[ILPW_PSP_NONCE_LEN]);

private:
	struct Contexts;
	std::unique_ptr<Contexts> ctx_;
};

// IVs for one SA: a counter that starts at 1 and never repeats, shared
// safely by every thread that sends on the SA.
class IvCounter
{
public:
	// The next IV; nullopt once the 64-bit space is spent (the SA must
	// be replaced, never wrapped).
	std::optional<std::uint64_t> take() noexcept;

private:
	std::atomic<std::uint64_t> next_{1};
};

// Options of the PSP header a transmit SA writes.
struct TxOptions {
	std::uint8_t crypt_off = 0; // 4-byte words left in clear after the IV
	std::optional<std::uint64_t> vc;
};

// A transmit SA: the SPI and key the peer (the receiver) gave us.
class TxSa
{
public:
	TxSa(std::uint32_t spi, Version version, std::span<const std::uint8_t> key,
	     TxOptions opts = {});

	std::uint32_t spi() const noexcept { return spi_; }
	Version version() const noexcept { return version_; }

	// Space a packet with @payload_len bytes of ILP header and payload
	// takes once sealed.
	std::size_t sealed_size(std::size_t payload_len) const noexcept;

	// Writes PSP header, encrypted @payload and ICV to @out; @out_len
	// gets the packet length.  @payload and @out must not overlap.
	ilpw_err seal(std::span<const std::uint8_t> payload, std::span<std::uint8_t> out,
		      std::size_t &out_len);

private:
	std::uint32_t spi_;
	Version version_;
	TxOptions opts_;
	Aead aead_;
	IvCounter iv_;
};

// What open() found in a packet that authenticated.
struct Opened {
	ilpw_psp psp;                      // the PSP header
	std::span<std::uint8_t> plaintext; // ILP header and payload, in place
};

// The receiving side of a node: two master keys (the SPI's top bit picks
// one), SPI allocation, and opening of packets.  Not thread-safe: one per
// receiving thread, or a lock around it.
class Receiver
{
public:
	// @track_spis: refuse SPIs this receiver never allocated (a node);
	// false for tools that only hold the keys (pcap decryption).
	explicit Receiver(bool track_spis = true);

	// Installs @key in @slot (0 or 1) and makes that slot the one new
	// SPIs come from.  SPIs of the other slot keep working.
	void set_master_key(unsigned slot, const MasterKey &key);
	// Master-key rotation: @fresh replaces the inactive slot's key and
	// becomes active.  SAs under the previously active key still open;
	// those under the key replaced stop.
	void rotate(const MasterKey &fresh);
	bool has_key(unsigned slot) const noexcept { return keys_[slot].has_value(); }
	unsigned active_slot() const noexcept { return active_; }

	// A new SPI under the active key, never handed out before under it.
	std::uint32_t allocate_spi();
	// The key a sender needs for @spi (sent to it over the control
	// channel).
	SaKey sa_key(std::uint32_t spi, Version version) const;

	// Parses, authenticates and decrypts @pkt (a UDP payload) in place.
	ilpw_err open(std::span<std::uint8_t> pkt, Opened &out);

private:
	Aead &aead_for(std::uint32_t spi, Version version);

	bool track_spis_;
	std::optional<MasterKey> keys_[2];
	std::uint32_t next_spi_[2] = {1, 1}; // low 31 bits, per key
	unsigned active_ = 0;
	// Ready contexts by (version, SPI), so that the KDF and the key
	// schedule run once per SA, not per packet; bounded.
	std::unordered_map<std::uint64_t, Aead> cache_;
	static constexpr std::size_t cache_limit = 4096;
	void forget_slot(unsigned slot);
};

} // namespace ilp::psp

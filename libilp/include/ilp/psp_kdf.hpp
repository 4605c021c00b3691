// SPDX-License-Identifier: LGPL-2.1-or-later
//
// PSP key derivation: a receiver keeps two 256-bit master keys and derives
// the key of each security association from its SPI, so it stores no
// per-peer receive key.  NIST SP 800-108 counter mode with AES-256-CMAC as
// the PRF, as the PSP Architecture Specification defines it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ilp::psp
{

// PSP versions ILP uses: the AEAD and its key size.
enum class Version : std::uint8_t {
	AesGcm128 = 0,
	AesGcm256 = 1,
};

constexpr std::size_t key_size(Version v)
{
	return v == Version::AesGcm128 ? 16 : 32;
}

// Key material that is wiped when it goes out of scope.
template <std::size_t N>
class Secret
{
public:
	Secret() = default;
	explicit Secret(std::span<const std::uint8_t, N> bytes);
	Secret(const Secret &) = default;
	Secret &operator=(const Secret &) = default;
	~Secret();

	std::span<const std::uint8_t, N> bytes() const noexcept { return bytes_; }
	std::span<std::uint8_t, N> bytes() noexcept { return bytes_; }

private:
	std::array<std::uint8_t, N> bytes_{};
};

using MasterKey = Secret<32>;

// An SA key: 16 bytes used for version 0, all 32 for version 1.
struct SaKey {
	Secret<32> key;
	std::size_t size;

	std::span<const std::uint8_t> bytes() const noexcept { return key.bytes().first(size); }
};

// The two master keys of a node; the SPI's top bit selects one.
struct MasterKeys {
	MasterKey key[2];
};

// Derives the key of the SA with @spi for @version.  Throws ilp::Error
// when OpenSSL fails.
SaKey derive_sa_key(const MasterKeys &masters, std::uint32_t spi, Version version);

} // namespace ilp::psp

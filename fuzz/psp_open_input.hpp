// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What psp_open_fuzz and the seed generator (make_seeds) must agree on:
// the receiver's fixed keys and SPIs, and how a fuzz input becomes a packet.
// Sharing it is what keeps the committed seeds opening with the target's
// keys.
//
// An input is a selector byte and then:
//
//   selector bit 0 clear ("raw"): the packet, as is.  Everything the
//     parser rejects is reached this way.
//   selector bit 0 set ("framed"): a valid PSP header is written for the
//     fuzzer, so that its mutations reach the AEAD instead of dying in the
//     parser (a random SPI is almost never one the receiver allocated).
//       bits 1-3: index into spi_table() (6 and 7 were never allocated)
//       bit 4: version; bit 5: V (VC present); bits 6, 7: D, S (where
//       byte 3 of the header has them)
//     then a byte with the crypt offset (low 6 bits, reduced to one that
//     fits the packet) and the reserved bits (top 2), the 8-byte IV, and
//     the rest of the packet after the 16-byte header: VC when V is set,
//     ciphertext, ICV.  Too short for a header and an ICV: opened raw.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <span>
#include <vector>

#include <ilp/psp.hpp>

namespace ilp_fuzz
{

inline constexpr std::uint8_t framed = 0x01;
inline constexpr unsigned spis_per_slot = 3;

// Fixed master keys: fuzzing is about parsing and the AEAD path, not
// secrecy.
inline ilp::psp::MasterKey master_key(unsigned slot)
{
	std::array<std::uint8_t, 32> b;
	std::iota(b.begin(), b.end(), static_cast<std::uint8_t>(slot ? 0x41 : 0x01));
	return ilp::psp::MasterKey(std::span<const std::uint8_t, 32>(b));
}

// Both master keys installed, three SPIs allocated under each (slot 1 is
// left active, as after a rotation).
inline void set_up(ilp::psp::Receiver &rx)
{
	for (unsigned slot : {0u, 1u}) {
		rx.set_master_key(slot, master_key(slot));
		for (unsigned i = 0; i < spis_per_slot; i++)
			rx.allocate_spi();
	}
}

// The SPIs set_up() allocates, in order, then one past the end of each
// slot (never allocated: ILPW_E_PSP_UNKNOWN_SPI).
inline const std::array<std::uint32_t, 8> &spi_table()
{
	static const std::array<std::uint32_t, 8> t = {
	    1, 2, 3, 0x80000001u, 0x80000002u, 0x80000003u, 4, 0x80000004u,
	};
	return t;
}

// The packet an input stands for (see the top of this file); an exactly
// sized vector, so that ASan catches a read one byte past its end.
inline std::vector<std::uint8_t> packet_from_input(std::span<const std::uint8_t> in)
{
	if (in.empty())
		return {};
	const std::uint8_t sel = in[0];
	auto rest = in.subspan(1);
	if (!(sel & framed) || rest.size() < 1 + 8)
		return {rest.begin(), rest.end()};
	const std::uint8_t cfg = rest[0];
	auto iv = rest.subspan(1, 8);
	auto body = rest.subspan(9); // what follows the 16-byte header

	ilpw_psp psp{};
	psp.next_hdr = ILPW_PSP_NEXTHDR_ILP;
	psp.spi = spi_table()[(sel >> 1) & 7];
	psp.version = (sel >> 4) & 1;
	psp.has_vc = sel & 0x20;
	psp.sample = sel & 0x80;
	psp.drop = sel & 0x40;
	psp.rsvd = cfg >> 6;
	for (std::uint8_t b : iv)
		psp.iv = psp.iv << 8 | b;

	const std::size_t len = ILPW_PSP_HDR_LEN + body.size();
	const std::size_t hdr_len = ilpw_psp_hdr_len(&psp);
	if (len < hdr_len + ILPW_PSP_ICV_LEN)
		return {rest.begin(), rest.end()};
	// The largest offset that keeps the clear part out of the ICV.
	const std::size_t max_off = std::min<std::size_t>(
	    ILPW_PSP_MAX_CRYPT_OFF, (len - ILPW_PSP_HDR_LEN - ILPW_PSP_ICV_LEN) / 4);
	psp.crypt_off = static_cast<std::uint8_t>((cfg & 0x3f) % (max_off + 1));

	std::vector<std::uint8_t> pkt(len);
	ilpw_psp_layout layout;
	if (ilpw_psp_build(pkt.data(), pkt.size(), &psp, len - hdr_len - ILPW_PSP_ICV_LEN,
			   &layout) != ILPW_OK)
		return {rest.begin(), rest.end()}; // longer than a PSP payload can be
	// The VC the builder wrote is replaced by the input's: with crypt
	// offset 0 it is ciphertext.
	std::copy(body.begin(), body.end(), pkt.begin() + ILPW_PSP_HDR_LEN);
	return pkt;
}

// The framed input that packet_from_input() turns back into @pkt, a packet
// sealed for spi_table()[@spi_index]: how a seed for the AEAD path is made.
inline std::vector<std::uint8_t> framed_input(std::span<const std::uint8_t> pkt, unsigned spi_index)
{
	std::vector<std::uint8_t> in;
	in.push_back(static_cast<std::uint8_t>(framed | spi_index << 1 |
					       ((pkt[3] >> 2) & 1) << 4 | // version
					       (pkt[3] & 0x02) << 4 |     // V
					       (pkt[3] & 0xc0)));         // S, D
	in.push_back(pkt[2]);                            // crypt offset and reserved bits
	in.insert(in.end(), pkt.begin() + 8, pkt.end()); // IV, then the rest
	return in;
}

} // namespace ilp_fuzz

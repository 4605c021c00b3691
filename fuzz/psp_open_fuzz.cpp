// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libFuzzer target: arbitrary packets into ilp::psp::Receiver::open, the
// first code a node runs on what arrives from the network.  Both master
// keys are installed and SPIs allocated under each, so that the SPI and key
// checks, the key derivation and the AEAD all run; psp_open_input.hpp says
// how an input becomes a packet.
//
// Beyond the sanitizers, it checks what open() promises: a rejection names
// a PSP reason, and an accepted packet's plaintext lies inside the packet,
// between the PSP header and the ICV.
#include <algorithm>

#include "check.hpp"
#include "psp_open_input.hpp"

namespace
{

// One receiver for the whole run, as on a node: its cache of AEAD
// contexts fills as SPIs are seen, which is part of what is fuzzed.
ilp::psp::Receiver &receiver()
{
	static ilp::psp::Receiver rx = [] {
		ilp::psp::Receiver r(true);
		ilp_fuzz::set_up(r);
		return r;
	}();
	return rx;
}

bool allocated(std::uint32_t spi)
{
	const auto &t = ilp_fuzz::spi_table();
	return std::find(t.begin(), t.begin() + 2 * ilp_fuzz::spis_per_slot, spi) !=
	       t.begin() + 2 * ilp_fuzz::spis_per_slot;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	// Set up before the first input, so that libFuzzer's leak check
	// does not count the receiver's allocations against an input.
	receiver();
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	std::vector<std::uint8_t> pkt = ilp_fuzz::packet_from_input({data, size});
	ilp::psp::Opened out{};
	const ilpw_err err = receiver().open(pkt, out);
	if (err != ILPW_OK) {
		// Only the PSP reasons: open() never looks at the ILP header.
		CHECK(err >= ILPW_E_PSP_TRUNC && err <= ILPW_E_PSP_AUTH);
		return 0;
	}

	// Authenticated: only a packet sealed with our keys gets here (the
	// seeds), and only for an SPI we handed out.
	CHECK(allocated(out.psp.spi));
	CHECK(out.psp.version <= 1);
	const std::size_t hdr_len = ilpw_psp_hdr_len(&out.psp);
	const std::uint8_t *begin = pkt.data();
	const std::uint8_t *end = pkt.data() + pkt.size();
	CHECK(out.plaintext.data() == begin + hdr_len);
	CHECK(out.plaintext.data() + out.plaintext.size() <= end);
	CHECK(out.plaintext.size() == pkt.size() - hdr_len - ILPW_PSP_ICV_LEN);

	// What a node does next: parse the decrypted ILP header.
	ilpw_hdr hdr;
	if (ilpw_hdr_parse(out.plaintext.data(), out.plaintext.size(), &hdr, nullptr, nullptr) ==
	    ILPW_OK) {
		CHECK(hdr.hdr_len <= out.plaintext.size());
		CHECK(hdr.tlv + hdr.tlv_len <= end);
	}
	return 0;
}

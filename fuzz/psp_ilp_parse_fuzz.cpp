// SPDX-License-Identifier: LGPL-2.1-or-later
//
// libFuzzer target: arbitrary bytes into the wire code ilp.ko and libilp
// share (wire/ilp_wire.c).  The PSP header is parsed; when it is valid, the
// bytes between it and the ICV are parsed as the ILP header, as if they had
// been decrypted, and its TLVs are walked.
//
// Beyond the sanitizers, it checks properties of the parsers and builders:
// the layout is consistent with the packet; building a parsed PSP header
// gives back the same bytes; ilpw_hdr_parse's verdict is the one walking the
// TLVs gives; and re-encoding the TLVs of a valid header (pads dropped) gives
// a header that parses to the same fields and TLVs.
#include <cstring>
#include <memory>
#include <vector>

#include <ilp_wire.h>

#include "check.hpp"

namespace
{

// The critical TLV types this "caller" knows: the odd ones, so that both
// outcomes of the callback are reached.
bool known_odd(std::uint16_t type, void *)
{
	return type & 1;
}

void check_psp(const std::uint8_t *data, std::size_t size, const ilpw_psp &psp,
	       const ilpw_psp_layout &layout)
{
	CHECK(layout.hdr_len == ilpw_psp_hdr_len(&psp));
	CHECK(layout.aad_len == ILPW_PSP_HDR_LEN + 4u * psp.crypt_off);
	CHECK(layout.icv_off == size - ILPW_PSP_ICV_LEN);
	CHECK(layout.hdr_len <= layout.icv_off && layout.aad_len <= layout.icv_off);
	CHECK(layout.aad_len + layout.ct_len == layout.icv_off);

	// Every bit of the header is a field of ilpw_psp, so building it
	// again must give the same bytes and the same layout.
	std::vector<std::uint8_t> buf(size);
	ilpw_psp_layout again;
	const std::size_t payload_len = size - layout.hdr_len - ILPW_PSP_ICV_LEN;
	const ilpw_err err = ilpw_psp_build(buf.data(), buf.size(), &psp, payload_len, &again);
	if (payload_len > 0xffff) {
		CHECK(err == ILPW_E_INVAL); // longer than an IP packet can carry
		return;
	}
	CHECK(err == ILPW_OK);
	CHECK(std::memcmp(buf.data(), data, layout.hdr_len) == 0);
	CHECK(std::memcmp(&again, &layout, sizeof(layout)) == 0);

	std::uint8_t nonce[ILPW_PSP_NONCE_LEN];
	ilpw_psp_nonce(&psp, nonce);
	CHECK(std::memcmp(nonce, data + 4, sizeof(nonce)) == 0); // SPI || IV
}

struct Tlv {
	std::uint16_t type;
	std::vector<std::uint8_t> val;
	bool operator==(const Tlv &) const = default;
};

// Walks the TLVs of @hdr; returns what ilpw_hdr_parse() should have said.
ilpw_err walk(const ilpw_hdr &hdr, std::vector<Tlv> &tlvs)
{
	const std::uint8_t *end = hdr.tlv + hdr.tlv_len;
	ilpw_tlv_iter it;
	ilpw_tlv tlv;
	int rc;
	ilpw_tlv_iter_init(&it, &hdr);
	while ((rc = ilpw_tlv_next(&it, &tlv)) > 0) {
		CHECK(tlv.type != ILPW_TLV_PAD);
		CHECK(tlv.val >= hdr.tlv + ILPW_TLV_HDR_LEN && tlv.val + tlv.len <= end);
		tlvs.push_back({tlv.type, {tlv.val, tlv.val + tlv.len}});
		if ((tlv.type & ILPW_TLV_CRITICAL) && !known_odd(tlv.type, nullptr))
			return ILPW_E_TLV_CRITICAL;
	}
	CHECK(rc == 0 || rc == -ILPW_E_TLV_TRUNC);
	return rc ? ILPW_E_TLV_TRUNC : ILPW_OK;
}

void check_ilp(const std::uint8_t *p, std::size_t len)
{
	ilpw_hdr hdr;
	const ilpw_err err = ilpw_hdr_parse(p, len, &hdr, known_odd, nullptr);
	CHECK(ilpw_strerror(err) != nullptr);
	if (err != ILPW_OK && err != ILPW_E_TLV_TRUNC && err != ILPW_E_TLV_CRITICAL)
		return; // the fixed part is bad: no TLVs to look at
	CHECK(hdr.hdr_len >= ILPW_HDR_LEN && hdr.hdr_len <= len && hdr.hdr_len % 4 == 0);
	CHECK(hdr.tlv == p + ILPW_HDR_LEN && hdr.tlv_len == hdr.hdr_len - ILPW_HDR_LEN);

	std::vector<Tlv> tlvs;
	CHECK(walk(hdr, tlvs) == err);
	if (err != ILPW_OK)
		return;

	// Re-encode the TLVs, without the pads, and build a header of them.
	// Each TLV takes the same room as before, so hdr.tlv_len is enough.
	std::vector<std::uint8_t> enc(hdr.tlv_len);
	std::size_t enc_len = 0;
	for (const Tlv &t : tlvs)
		CHECK(ilpw_tlv_put(enc.data(), enc.size(), &enc_len, t.type, t.val.data(),
				   static_cast<std::uint16_t>(t.val.size())) == ILPW_OK);
	std::vector<std::uint8_t> out(ILPW_HDR_LEN + enc_len);
	std::size_t out_len = 0;
	CHECK(ilpw_hdr_build(out.data(), out.size(), hdr.flags, hdr.service, hdr.conn, enc.data(),
			     enc_len, &out_len) == ILPW_OK);
	CHECK(out_len == out.size());

	ilpw_hdr again;
	CHECK(ilpw_hdr_parse(out.data(), out.size(), &again, known_odd, nullptr) == ILPW_OK);
	CHECK(again.version == hdr.version && again.flags == hdr.flags &&
	      again.service == hdr.service && again.conn == hdr.conn);
	CHECK(again.hdr_len == out_len);
	std::vector<Tlv> tlvs_again;
	CHECK(walk(again, tlvs_again) == ILPW_OK);
	CHECK(tlvs_again == tlvs);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
	ilpw_psp psp;
	ilpw_psp_layout layout;
	const ilpw_err err = ilpw_psp_parse(data, size, &psp, &layout);
	CHECK(ilpw_strerror(err) != nullptr);
	if (err != ILPW_OK)
		return 0;
	check_psp(data, size, psp, layout);

	// The ILP header and payload, from the PSP header to the ICV, in a
	// buffer of their own: ASan then catches a read past the ICV offset,
	// which in the packet would still be inside libFuzzer's buffer.
	const std::size_t len = layout.icv_off - layout.hdr_len;
	std::unique_ptr<std::uint8_t[]> ilp(new std::uint8_t[len]);
	std::memcpy(ilp.get(), data + layout.hdr_len, len);
	check_ilp(ilp.get(), len);
	return 0;
}

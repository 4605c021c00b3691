// SPDX-License-Identifier: LGPL-2.1-or-later
//
// PSP and ILP conformance: seal/open round trips for both versions, with
// and without a crypt offset and a VC, and every rejection with its own
// reason.  What a conforming peer must accept or refuse.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/psp.hpp>

using namespace ilp::psp;

namespace
{

MasterKey key_of(std::uint8_t fill)
{
	std::array<std::uint8_t, 32> b;
	std::iota(b.begin(), b.end(), fill);
	return MasterKey(std::span<const std::uint8_t, 32>(b));
}

// An ILP header for service 7, connection 0x1122334455667788, with one TLV,
// followed by @data_len bytes of payload.
std::vector<std::uint8_t> ilp_packet(std::size_t data_len)
{
	std::uint8_t tlvs[16];
	std::size_t tlv_len = 0;
	const char meta[] = "hi!";
	CPPUNIT_ASSERT_EQUAL(ILPW_OK, ilpw_tlv_put(tlvs, sizeof(tlvs), &tlv_len, 0x0101, meta, 3));
	std::vector<std::uint8_t> p(ILPW_HDR_LEN + tlv_len + data_len);
	std::size_t hdr_len = 0;
	CPPUNIT_ASSERT_EQUAL(ILPW_OK,
			     ilpw_hdr_build(p.data(), p.size(), 0, 7, 0x1122334455667788ULL, tlvs,
					    tlv_len, &hdr_len));
	for (std::size_t i = hdr_len; i < p.size(); i++)
		p[i] = static_cast<std::uint8_t>(i * 7);
	return p;
}

struct Hop {
	Receiver rx;
	std::uint32_t spi;
	std::optional<TxSa> tx;

	explicit Hop(Version v, TxOptions opts = {})
	{
		rx.set_master_key(0, key_of(1));
		spi = rx.allocate_spi();
		auto key = rx.sa_key(spi, v);
		tx.emplace(spi, v, key.bytes(), opts);
	}

	std::vector<std::uint8_t> seal(const std::vector<std::uint8_t> &payload)
	{
		std::vector<std::uint8_t> out(tx->sealed_size(payload.size()));
		std::size_t len = 0;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, tx->seal(payload, out, len));
		CPPUNIT_ASSERT_EQUAL(out.size(), len);
		return out;
	}
};

} // namespace

class PspConformanceTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PspConformanceTest);
	CPPUNIT_TEST(round_trip__v0_and_v1);
	CPPUNIT_TEST(round_trip__crypt_offset_leaves_prefix_clear);
	CPPUNIT_TEST(round_trip__vc_is_encrypted_with_offset_zero);
	CPPUNIT_TEST(round_trip__ilp_header_and_tlvs_survive);
	CPPUNIT_TEST(seal__ivs_never_repeat);
	CPPUNIT_TEST(reject__tampered_icv);
	CPPUNIT_TEST(reject__tampered_byte_inside_aad);
	CPPUNIT_TEST(reject__tampered_ciphertext);
	CPPUNIT_TEST(reject__wrong_spi);
	CPPUNIT_TEST(reject__spi_never_allocated);
	CPPUNIT_TEST(reject__master_key_absent);
	CPPUNIT_TEST(reject__reserved_versions);
	CPPUNIT_TEST(reject__hdr_ext_len_inconsistent_with_v);
	CPPUNIT_TEST(reject__always_one_bit_clear);
	CPPUNIT_TEST(reject__next_header_not_ilp);
	CPPUNIT_TEST(reject__spi_zero);
	CPPUNIT_TEST(reject__crypt_offset_past_payload);
	CPPUNIT_TEST(reject__truncated_at_every_length);
	CPPUNIT_TEST(reject__ilp_header_length_past_packet);
	CPPUNIT_TEST(reject__ilp_header_length_below_fixed_part);
	CPPUNIT_TEST(reject__ilp_unknown_version);
	CPPUNIT_TEST(reject__tlv_length_past_header);
	CPPUNIT_TEST(reject__unknown_critical_tlv_unless_known);
	CPPUNIT_TEST(rotation__old_key_still_opens_then_stops);
	CPPUNIT_TEST(spi__never_reused_under_one_key);
	CPPUNIT_TEST(errors__each_has_its_own_name);
	CPPUNIT_TEST_SUITE_END();

	static ilpw_err open(Receiver &rx, std::vector<std::uint8_t> &pkt, Opened *out = nullptr)
	{
		Opened o;
		auto err = rx.open(pkt, o);
		if (out)
			*out = o;
		return err;
	}

public:
	void round_trip__v0_and_v1()
	{
		for (auto v : {Version::AesGcm128, Version::AesGcm256}) {
			Hop hop(v);
			auto payload = ilp_packet(100);
			auto pkt = hop.seal(payload);
			// Encrypted: the payload does not appear in clear.
			CPPUNIT_ASSERT(std::search(pkt.begin(), pkt.end(), payload.begin() + 16,
						   payload.end()) == pkt.end());
			Opened o;
			CPPUNIT_ASSERT_EQUAL(ILPW_OK, open(hop.rx, pkt, &o));
			CPPUNIT_ASSERT(std::equal(payload.begin(), payload.end(),
						  o.plaintext.begin(), o.plaintext.end()));
			CPPUNIT_ASSERT_EQUAL(static_cast<std::uint8_t>(v), o.psp.version);
			CPPUNIT_ASSERT_EQUAL(hop.spi, o.psp.spi);
		}
	}

	void round_trip__crypt_offset_leaves_prefix_clear()
	{
		Hop hop(Version::AesGcm128,
			{.crypt_off = 4, .vc = std::nullopt}); // 16 bytes: the fixed ILP header
		auto payload = ilp_packet(64);
		auto pkt = hop.seal(payload);
		CPPUNIT_ASSERT(std::equal(payload.begin(), payload.begin() + 16, pkt.begin() + 16));
		CPPUNIT_ASSERT(!std::equal(payload.begin() + 16, payload.end(), pkt.begin() + 32));
		Opened o;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, open(hop.rx, pkt, &o));
		CPPUNIT_ASSERT(std::equal(payload.begin(), payload.end(), o.plaintext.begin()));
		// The clear prefix is authenticated all the same.
		pkt[20] ^= 1;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_AUTH, open(hop.rx, pkt));
	}

	void round_trip__vc_is_encrypted_with_offset_zero()
	{
		Hop hop(Version::AesGcm256, {.crypt_off = 0, .vc = 0x0102030405060708ULL});
		auto payload = ilp_packet(10);
		auto pkt = hop.seal(payload);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(2), pkt[1]); // Hdr Ext Len with VC
		Opened o;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, open(hop.rx, pkt, &o));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0x0102030405060708ULL), o.psp.vc);
		CPPUNIT_ASSERT_EQUAL(payload.size(), o.plaintext.size());
		CPPUNIT_ASSERT(std::equal(payload.begin(), payload.end(), o.plaintext.begin()));
	}

	void round_trip__ilp_header_and_tlvs_survive()
	{
		Hop hop(Version::AesGcm128);
		auto payload = ilp_packet(5);
		auto pkt = hop.seal(payload);
		Opened o;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, open(hop.rx, pkt, &o));
		ilpw_hdr h;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, ilpw_hdr_parse(o.plaintext.data(), o.plaintext.size(),
							     &h, nullptr, nullptr));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(7), h.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0x1122334455667788ULL), h.conn);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(24), h.hdr_len);
		ilpw_tlv_iter it;
		ilpw_tlv t;
		ilpw_tlv_iter_init(&it, &h);
		CPPUNIT_ASSERT_EQUAL(1, ilpw_tlv_next(&it, &t));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x0101), t.type);
		CPPUNIT_ASSERT_EQUAL(0, std::memcmp(t.val, "hi!", 3));
		CPPUNIT_ASSERT_EQUAL(0, ilpw_tlv_next(&it, &t));
	}

	void seal__ivs_never_repeat()
	{
		Hop hop(Version::AesGcm128);
		auto payload = ilp_packet(1);
		std::vector<std::uint64_t> ivs;
		for (int i = 0; i < 100; i++) {
			auto pkt = hop.seal(payload);
			Opened o;
			CPPUNIT_ASSERT_EQUAL(ILPW_OK, open(hop.rx, pkt, &o));
			ivs.push_back(o.psp.iv);
		}
		std::sort(ivs.begin(), ivs.end());
		CPPUNIT_ASSERT(std::adjacent_find(ivs.begin(), ivs.end()) == ivs.end());
	}

	void reject__tampered_icv()
	{
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(20));
		pkt.back() ^= 0x80;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_AUTH, open(hop.rx, pkt));
	}

	void reject__tampered_byte_inside_aad()
	{
		// The reserved bits of byte 2 are ignored but authenticated,
		// and so is the IV.
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(20));
		auto copy = pkt;
		pkt[2] |= 0x40;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_AUTH, open(hop.rx, pkt));
		copy[15] ^= 1;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_AUTH, open(hop.rx, copy));
	}

	void reject__tampered_ciphertext()
	{
		Hop hop(Version::AesGcm256);
		auto pkt = hop.seal(ilp_packet(20));
		pkt[30] ^= 4;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_AUTH, open(hop.rx, pkt));
	}

	void reject__wrong_spi()
	{
		// Another allocated SPI derives another key: the ICV fails.
		Hop hop(Version::AesGcm128);
		hop.rx.allocate_spi();
		auto pkt = hop.seal(ilp_packet(20));
		pkt[7] += 1;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_AUTH, open(hop.rx, pkt));
	}

	void reject__spi_never_allocated()
	{
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(20));
		pkt[7] += 5;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_UNKNOWN_SPI, open(hop.rx, pkt));
	}

	void reject__master_key_absent()
	{
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(20));
		pkt[4] |= 0x80; // slot 1, which holds no key
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_NO_KEY, open(hop.rx, pkt));
	}

	void reject__reserved_versions()
	{
		for (std::uint8_t v = 2; v < 16; v++) {
			Hop hop(Version::AesGcm128);
			auto pkt = hop.seal(ilp_packet(20));
			pkt[3] = static_cast<std::uint8_t>((pkt[3] & ~0x3c) | v << 2);
			CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_VERSION, open(hop.rx, pkt));
		}
	}

	void reject__hdr_ext_len_inconsistent_with_v()
	{
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(20));
		auto with_v = pkt;
		pkt[1] = 2; // says VC, V clear
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_HDRLEN, open(hop.rx, pkt));
		with_v[3] |= 0x02; // V set, Hdr Ext Len 1
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_HDRLEN, open(hop.rx, with_v));
	}

	void reject__always_one_bit_clear()
	{
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(20));
		pkt[3] &= ~0x01;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_ALWAYS1, open(hop.rx, pkt));
	}

	void reject__next_header_not_ilp()
	{
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(20));
		pkt[0] = 17; // UDP
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_NEXTHDR, open(hop.rx, pkt));
	}

	void reject__spi_zero()
	{
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(20));
		std::fill(pkt.begin() + 4, pkt.begin() + 8, 0);
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_SPI, open(hop.rx, pkt));
		pkt[4] = 0x80; // slot 1, low bits still zero
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_SPI, open(hop.rx, pkt));
	}

	void reject__crypt_offset_past_payload()
	{
		Hop hop(Version::AesGcm128);
		auto pkt = hop.seal(ilp_packet(0)); // 24 bytes of PSP payload
		pkt[2] = 7;                         // 28 bytes clear: past it
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_CRYPT_OFF, open(hop.rx, pkt));
		pkt[2] = 6; // exactly the payload: allowed, then the ICV fails
		CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_AUTH, open(hop.rx, pkt));
	}

	void reject__truncated_at_every_length()
	{
		Hop hop(Version::AesGcm128);
		auto full = hop.seal(ilp_packet(0));
		for (std::size_t len = 0; len < ILPW_PSP_HDR_LEN + ILPW_PSP_ICV_LEN; len++) {
			std::vector<std::uint8_t> cut(full.begin(), full.begin() + len);
			CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_TRUNC, open(hop.rx, cut));
		}
		// Longer but cut short: the ICV is wrong, never a crash.
		for (std::size_t len = ILPW_PSP_HDR_LEN + ILPW_PSP_ICV_LEN; len < full.size();
		     len++) {
			std::vector<std::uint8_t> cut(full.begin(), full.begin() + len);
			CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_AUTH, open(hop.rx, cut));
		}
		// With a VC the header is 24 bytes.
		Hop vc(Version::AesGcm128, {.crypt_off = 0, .vc = 1});
		auto fv = vc.seal(ilp_packet(0));
		for (std::size_t len = 0; len < 24 + ILPW_PSP_ICV_LEN; len++) {
			std::vector<std::uint8_t> cut(fv.begin(), fv.begin() + len);
			CPPUNIT_ASSERT_EQUAL(ILPW_E_PSP_TRUNC, open(vc.rx, cut));
		}
		// The ILP header: every length below the fixed part.
		auto ilp = ilp_packet(0);
		for (std::size_t len = 0; len < ILPW_HDR_LEN; len++) {
			ilpw_hdr h;
			CPPUNIT_ASSERT_EQUAL(ILPW_E_ILP_TRUNC,
					     ilpw_hdr_parse(ilp.data(), len, &h, nullptr, nullptr));
		}
	}

	void reject__ilp_header_length_past_packet()
	{
		auto p = ilp_packet(0);
		p[3] = 7; // 28 bytes of header in a 24-byte packet
		ilpw_hdr h;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_ILP_PAST_END,
				     ilpw_hdr_parse(p.data(), p.size(), &h, nullptr, nullptr));
	}

	void reject__ilp_header_length_below_fixed_part()
	{
		auto p = ilp_packet(0);
		p[3] = 3;
		ilpw_hdr h;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_ILP_HDRLEN,
				     ilpw_hdr_parse(p.data(), p.size(), &h, nullptr, nullptr));
	}

	void reject__ilp_unknown_version()
	{
		auto p = ilp_packet(0);
		p[0] = 1 << 4;
		ilpw_hdr h;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_ILP_VERSION,
				     ilpw_hdr_parse(p.data(), p.size(), &h, nullptr, nullptr));
	}

	void reject__tlv_length_past_header()
	{
		auto p = ilp_packet(8); // the TLV is bytes 16-23
		p[19] = 9;              // value of 9 bytes: past the header
		ilpw_hdr h;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_TLV_TRUNC,
				     ilpw_hdr_parse(p.data(), p.size(), &h, nullptr, nullptr));
	}

	void reject__unknown_critical_tlv_unless_known()
	{
		auto p = ilp_packet(0);
		p[16] |= 0x80; // type 0x8101: critical
		ilpw_hdr h;
		CPPUNIT_ASSERT_EQUAL(ILPW_E_TLV_CRITICAL,
				     ilpw_hdr_parse(p.data(), p.size(), &h, nullptr, nullptr));
		auto knows = [](std::uint16_t type, void *) { return type == 0x8101; };
		CPPUNIT_ASSERT_EQUAL(ILPW_OK,
				     ilpw_hdr_parse(p.data(), p.size(), &h, knows, nullptr));
	}

	void rotation__old_key_still_opens_then_stops()
	{
		Hop hop(Version::AesGcm128);
		auto old_pkt = hop.seal(ilp_packet(4));
		hop.rx.rotate(key_of(50)); // slot 1 active now
		CPPUNIT_ASSERT_EQUAL(1u, hop.rx.active_slot());
		std::uint32_t spi = hop.rx.allocate_spi();
		CPPUNIT_ASSERT(spi & 0x80000000u);
		auto copy = old_pkt;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, open(hop.rx, copy)); // old SA in flight
		TxSa fresh(spi, Version::AesGcm128, hop.rx.sa_key(spi, Version::AesGcm128).bytes());
		std::vector<std::uint8_t> pkt(fresh.sealed_size(24));
		std::size_t len;
		auto payload = ilp_packet(0);
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, fresh.seal(payload, pkt, len));
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, open(hop.rx, pkt));
		hop.rx.rotate(key_of(90)); // replaces slot 0: the old SA is gone
		CPPUNIT_ASSERT(open(hop.rx, old_pkt) != ILPW_OK);
	}

	void spi__never_reused_under_one_key()
	{
		Receiver rx;
		rx.set_master_key(0, key_of(1));
		std::vector<std::uint32_t> spis;
		for (int i = 0; i < 1000; i++)
			spis.push_back(rx.allocate_spi());
		std::sort(spis.begin(), spis.end());
		CPPUNIT_ASSERT(std::adjacent_find(spis.begin(), spis.end()) == spis.end());
		CPPUNIT_ASSERT(std::none_of(spis.begin(), spis.end(),
					    [](std::uint32_t s) { return (s & 0x7fffffff) == 0; }));
	}

	void errors__each_has_its_own_name()
	{
		std::vector<std::string> names;
		for (int e = 0; e < __ILPW_E_MAX; e++)
			names.emplace_back(ilpw_strerror(static_cast<ilpw_err>(e)));
		std::sort(names.begin(), names.end());
		CPPUNIT_ASSERT(std::adjacent_find(names.begin(), names.end()) == names.end());
		CPPUNIT_ASSERT_EQUAL(
		    std::string("unknown"),
		    std::string(ilpw_strerror(static_cast<ilpw_err>(__ILPW_E_MAX))));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(PspConformanceTest);

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// PSP key derivation against the test vectors of the PSP Architecture
// Specification.
#include <cstdio>
#include <string>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/psp_kdf.hpp>

using namespace ilp::psp;

namespace
{

std::array<std::uint8_t, 32> unhex32(const char *hex)
{
	std::array<std::uint8_t, 32> out{};
	for (std::size_t i = 0; i < out.size(); i++)
		std::sscanf(hex + 2 * i, "%2hhx", &out[i]);
	return out;
}

std::string hex(std::span<const std::uint8_t> b)
{
	std::string s;
	char buf[3];
	for (auto c : b) {
		std::snprintf(buf, sizeof(buf), "%02x", c);
		s += buf;
	}
	return s;
}

MasterKeys spec_masters()
{
	auto k0 = unhex32("34448a064292601b11a0978f56a2d34cf3fc35ede1a6bc04f8db3e5243a2b0ca");
	auto k1 = unhex32("563952565d3a78ae773ec1b779f2f2d99f4a7f53a6fbb9b07d5b71f39364d739");
	return MasterKeys{{MasterKey(std::span<const std::uint8_t, 32>(k0)),
			   MasterKey(std::span<const std::uint8_t, 32>(k1))}};
}

} // namespace

class PspKdfTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(PspKdfTest);
	CPPUNIT_TEST(derive__v0_spi_with_msb_clear_uses_key0);
	CPPUNIT_TEST(derive__v0_spi_with_msb_set_uses_key1);
	CPPUNIT_TEST(derive__v1_gives_a_256_bit_key);
	CPPUNIT_TEST(derive__distinct_spis_give_distinct_keys);
	CPPUNIT_TEST_SUITE_END();

public:
	void derive__v0_spi_with_msb_clear_uses_key0()
	{
		auto k = derive_sa_key(spec_masters(), 0x12345678, Version::AesGcm128);
		CPPUNIT_ASSERT_EQUAL(std::string("96c22dc799198090b74b70ae468e4e30"),
				     hex(k.bytes()));
	}

	void derive__v0_spi_with_msb_set_uses_key1()
	{
		auto k = derive_sa_key(spec_masters(), 0x9A345678, Version::AesGcm128);
		CPPUNIT_ASSERT_EQUAL(std::string("3946da2554eae46ad1ef77a64372edc4"),
				     hex(k.bytes()));
	}

	void derive__v1_gives_a_256_bit_key()
	{
		auto k = derive_sa_key(spec_masters(), 0x12345678, Version::AesGcm256);
		CPPUNIT_ASSERT_EQUAL(
		    std::string("2b7d72074e42ca334487f2990e3f8c4037e436f38283449b76463e9b7fb2e3de"),
		    hex(k.bytes()));
	}

	void derive__distinct_spis_give_distinct_keys()
	{
		auto a = derive_sa_key(spec_masters(), 1, Version::AesGcm256);
		auto b = derive_sa_key(spec_masters(), 2, Version::AesGcm256);
		CPPUNIT_ASSERT(hex(a.bytes()) != hex(b.bytes()));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(PspKdfTest);

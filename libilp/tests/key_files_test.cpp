// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The master-keys file of "ilpctl pcap": what it accepts, and errors that
// name the file and line without quoting key material.
#include <algorithm>
#include <string>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/error.hpp>

#include "temp_dir.hpp"
#include <ilp/key_files.hpp>

using namespace ilp;

namespace
{

const std::string hex0 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const std::string hex1 = "FFEEDDCCBBAA99887766554433221100FFEEDDCCBBAA99887766554433221100";

// hex0 is the bytes 0 to 31.
bool is_hex0(const ilp::psp::MasterKey &k)
{
	auto b = k.bytes();
	for (std::size_t i = 0; i < b.size(); i++)
		if (b[i] != i)
			return false;
	return true;
}

// hex1 is 0xff, 0xee, ... 0x00, twice.
bool is_hex1(const ilp::psp::MasterKey &k)
{
	auto b = k.bytes();
	for (std::size_t i = 0; i < b.size(); i++)
		if (b[i] != 0xff - 0x11 * (i % 16))
			return false;
	return true;
}

bool all_zero(const ilp::psp::MasterKey &k)
{
	auto b = k.bytes();
	return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

std::string sa_key_error_of(const std::string &text)
{
	try {
		ilp::parse_sa_key(text, "sa.key");
	} catch (const ilp::Error &e) {
		return e.what();
	}
	return "no error";
}

std::string error_of(const std::string &text)
{
	try {
		ilp::parse_master_keys(text, "keys.conf");
	} catch (const ilp::Error &e) {
		return e.what();
	}
	return "no error";
}

} // namespace

class MasterKeysTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(MasterKeysTest);
	CPPUNIT_TEST(parse__both_keys_comments_blank_lines_crlf);
	CPPUNIT_TEST(parse__one_key_is_enough);
	CPPUNIT_TEST(parse__no_key_refused);
	CPPUNIT_TEST(parse__bad_lines_name_file_and_line);
	CPPUNIT_TEST(parse__errors_never_quote_the_key);
	CPPUNIT_TEST(read__file);
	CPPUNIT_TEST(read__missing_file_named);
	CPPUNIT_TEST(sa_key__16_or_32_bytes);
	CPPUNIT_TEST(sa_key__errors_name_line_never_the_key);
	CPPUNIT_TEST(sa_key__read_file);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_;

public:
	void parse__both_keys_comments_blank_lines_crlf()
	{
		auto f = ilp::parse_master_keys("# node sn1, rotated 2024-05-01\n"
						"\n"
						"  key1 =" +
						    hex1 + "   # the new one\r\n" + "key0=" + hex0 +
						    "\n",
						"k");
		CPPUNIT_ASSERT(f.present[0] && f.present[1]);
		CPPUNIT_ASSERT(is_hex0(f.keys.key[0]));
		CPPUNIT_ASSERT(is_hex1(f.keys.key[1]));
	}

	void parse__one_key_is_enough()
	{
		auto f = ilp::parse_master_keys("key1 = " + hex1, "k"); // no final newline
		CPPUNIT_ASSERT(!f.present[0] && f.present[1]);
		CPPUNIT_ASSERT(all_zero(f.keys.key[0]));
		CPPUNIT_ASSERT(is_hex1(f.keys.key[1]));
	}

	void parse__no_key_refused()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("keys.conf: sets neither key0 nor key1"),
				     error_of(""));
		CPPUNIT_ASSERT_EQUAL(std::string("keys.conf: sets neither key0 nor key1"),
				     error_of("# nothing\n\n   \n"));
	}

	void parse__bad_lines_name_file_and_line()
	{
		CPPUNIT_ASSERT_EQUAL(
		    std::string("keys.conf:3: expected 'key0 = <64 hex digits>' or 'key1 = ...'"),
		    error_of("# keys\n\n" + hex0 + "\n"));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("keys.conf:1: unknown key (expected key0 or key1)"),
		    error_of("key2 = " + hex0 + "\n"));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("keys.conf:2: key0 must be 64 hex digits (got 62 characters)"),
		    error_of("\nkey0 = " + hex0.substr(2) + "\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("keys.conf:1: key1 must be 64 hex digits (got 0 "
						 "characters)"),
				     error_of("key1 =\n"));
		auto not_hex = hex0;
		not_hex[40] = 'g';
		CPPUNIT_ASSERT_EQUAL(std::string("keys.conf:1: key0 must be 64 hex digits (got 64 "
						 "characters, not all hex)"),
				     error_of("key0 = " + not_hex));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("keys.conf:4: key0 already set on line 2"),
		    error_of("#\nkey0 = " + hex0 + "\nkey1 = " + hex1 + "\nkey0 = " + hex1 + "\n"));
	}

	void parse__errors_never_quote_the_key()
	{
		auto bad = hex0;
		bad[63] = 'x';
		for (const auto &text :
		     {hex0 + "\n", "key0 " + hex0 + "\n", "key0 = " + bad, "key0 = " + hex0 + hex0,
		      "key0 = " + hex0 + "\nkey0 = " + hex1, "kee0 = " + hex0})
			for (const auto &part : {hex0.substr(0, 16), hex1.substr(0, 16)})
				CPPUNIT_ASSERT(error_of(text).find(part) == std::string::npos);
	}

	void read__file()
	{
		auto p = dir_.write("master.keys", "key0 = " + hex0 + "\n");
		auto f = ilp::read_master_keys(p.string());
		CPPUNIT_ASSERT(f.present[0] && !f.present[1]);
		CPPUNIT_ASSERT(is_hex0(f.keys.key[0]));

		auto bad = dir_.write("bad.keys", "# one\n# two\nkey0 = 12\n");
		try {
			ilp::read_master_keys(bad.string());
			CPPUNIT_FAIL("no error");
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT(std::string(e.what()).starts_with(bad.string() + ":3: "));
		}
	}

	void read__missing_file_named()
	{
		auto p = (dir_.path() / "absent.keys").string();
		try {
			ilp::read_master_keys(p);
			CPPUNIT_FAIL("no error");
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT_EQUAL(
			    std::string("master keys " + p + ": No such file or directory"),
			    std::string(e.what()));
			CPPUNIT_ASSERT_EQUAL(ENOENT, e.code().value());
		}
	}

	void sa_key__16_or_32_bytes()
	{
		// As "ilpctl sa alloc" prints it, with a comment around.
		auto k = ilp::parse_sa_key("# from sn1\n" + hex0 + "\n", "k");
		CPPUNIT_ASSERT_EQUAL(std::size_t(32), k.size);
		auto b = k.bytes();
		for (std::size_t i = 0; i < b.size(); i++)
			CPPUNIT_ASSERT_EQUAL(std::uint8_t(i), b[i]);

		auto short_key = ilp::parse_sa_key("  " + hex1.substr(0, 32) + "  \r\n\n", "k");
		CPPUNIT_ASSERT_EQUAL(std::size_t(16), short_key.size);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0xff), short_key.bytes()[0]);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0x00), short_key.bytes()[15]);
	}

	void sa_key__errors_name_line_never_the_key()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("sa.key: holds no SA key"), sa_key_error_of(""));
		CPPUNIT_ASSERT_EQUAL(std::string("sa.key: holds no SA key"),
				     sa_key_error_of("# none\n\n"));
		CPPUNIT_ASSERT_EQUAL(std::string("sa.key:2: expected an SA key of 32 or 64 hex "
						 "digits (got 62 characters)"),
				     sa_key_error_of("\n" + hex0.substr(2)));
		auto not_hex = hex0;
		not_hex[3] = 'z';
		CPPUNIT_ASSERT_EQUAL(std::string("sa.key:1: expected an SA key of 32 or 64 hex "
						 "digits (got 64 characters, not all hex)"),
				     sa_key_error_of(not_hex));
		CPPUNIT_ASSERT_EQUAL(std::string("sa.key:3: a second key (the first is on line 1)"),
				     sa_key_error_of(hex0 + "\n\n" + hex1 + "\n"));
		// A master-keys file is not an SA key file.
		CPPUNIT_ASSERT(sa_key_error_of("key0 = " + hex0).starts_with("sa.key:1: expected"));
		for (const auto &text : {"key0 = " + hex0, not_hex, hex0 + "\n" + hex1, hex0 + hex1,
					 hex0 + " " + hex1})
			for (const auto &part : {hex0.substr(8, 16), hex1.substr(8, 16)})
				CPPUNIT_ASSERT(sa_key_error_of(text).find(part) ==
					       std::string::npos);
	}

	void sa_key__read_file()
	{
		auto p = dir_.write("sa.key", hex1.substr(0, 32) + "\n");
		CPPUNIT_ASSERT_EQUAL(std::size_t(16), ilp::read_sa_key(p.string()).size);
		auto absent = (dir_.path() / "absent.key").string();
		try {
			ilp::read_sa_key(absent);
			CPPUNIT_FAIL("no error");
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT_EQUAL(
			    std::string("SA key " + absent + ": No such file or directory"),
			    std::string(e.what()));
		}
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(MasterKeysTest);

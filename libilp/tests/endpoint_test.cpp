// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Endpoint: the forms parse() reads, what it refuses, and the round
// trip through to_string() and the netlink address bytes.
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>

#include <ilp/endpoint.hpp>
#include <ilp/error.hpp>

using ilp::Endpoint;

namespace
{

// The message of the error parse(@text) throws, or "no error".
std::string error_of(const std::string &text)
{
	try {
		Endpoint::parse(text);
	} catch (const ilp::Error &e) {
		CPPUNIT_ASSERT_EQUAL(EINVAL, e.code().value());
		return e.what();
	}
	return "no error";
}

std::string bytes_hex(const Endpoint &ep)
{
	std::string s;
	char b[3];
	for (auto x : ep.addr_bytes()) {
		std::snprintf(b, sizeof(b), "%02x", x);
		s += b;
	}
	return s;
}

} // namespace

class EndpointTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(EndpointTest);
	CPPUNIT_TEST(parse__ipv4_default_port);
	CPPUNIT_TEST(parse__ipv4_with_port);
	CPPUNIT_TEST(parse__bare_ipv6_default_port);
	CPPUNIT_TEST(parse__bracketed_ipv6_with_and_without_port);
	CPPUNIT_TEST(parse__port_range);
	CPPUNIT_TEST(parse__bad_addresses);
	CPPUNIT_TEST(parse__bad_brackets);
	CPPUNIT_TEST(to_string__round_trips);
	CPPUNIT_TEST(from_bytes__4_or_16_only);
	CPPUNIT_TEST(equality__family_address_port);
	CPPUNIT_TEST_SUITE_END();

public:
	void parse__ipv4_default_port()
	{
		auto ep = Endpoint::parse("192.0.2.1");
		CPPUNIT_ASSERT_EQUAL(sa_family_t(AF_INET), ep.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), ep.port);
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), ep.addr_bytes().size());
		CPPUNIT_ASSERT_EQUAL(std::string("c0000201"), bytes_hex(ep));
		CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1"), ep.addr_string());
	}

	void parse__ipv4_with_port()
	{
		auto ep = Endpoint::parse("10.1.2.3:4789");
		CPPUNIT_ASSERT_EQUAL(sa_family_t(AF_INET), ep.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(4789), ep.port);
		CPPUNIT_ASSERT_EQUAL(std::string("0a010203"), bytes_hex(ep));
	}

	void parse__bare_ipv6_default_port()
	{
		auto ep = Endpoint::parse("2001:db8::1");
		CPPUNIT_ASSERT_EQUAL(sa_family_t(AF_INET6), ep.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), ep.port);
		CPPUNIT_ASSERT_EQUAL(std::string("20010db8000000000000000000000001"),
				     bytes_hex(ep));
		// Colons make it IPv6, never ADDR:PORT: "2001:db8::1:2000" is
		// an address.
		auto ambiguous = Endpoint::parse("2001:db8::1:2000");
		CPPUNIT_ASSERT_EQUAL(sa_family_t(AF_INET6), ambiguous.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), ambiguous.port);
		CPPUNIT_ASSERT_EQUAL(std::string("2001:db8::1:2000"), ambiguous.addr_string());
		// An IPv4-mapped address stays IPv6.
		CPPUNIT_ASSERT_EQUAL(sa_family_t(AF_INET6),
				     Endpoint::parse("::ffff:1.2.3.4").family);
	}

	void parse__bracketed_ipv6_with_and_without_port()
	{
		auto ep = Endpoint::parse("[fe80::2]:2000");
		CPPUNIT_ASSERT_EQUAL(sa_family_t(AF_INET6), ep.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(2000), ep.port);
		CPPUNIT_ASSERT_EQUAL(std::string("fe800000000000000000000000000002"),
				     bytes_hex(ep));
		auto bare = Endpoint::parse("[::1]");
		CPPUNIT_ASSERT_EQUAL(sa_family_t(AF_INET6), bare.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), bare.port);
	}

	void parse__port_range()
	{
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1), Endpoint::parse("1.2.3.4:1").port);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(65535), Endpoint::parse("[::1]:65535").port);
		const std::string why = "the port must be a number from 1 to 65535";
		for (const char *bad : {"1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "1.2.3.4:-1",
					"1.2.3.4:+5", "1.2.3.4:0x10", "1.2.3.4:12a",
					"[::1]:", "[::1]:99999999999999999999", "1.2.3.4: 80"})
			CPPUNIT_ASSERT_MESSAGE(bad, error_of(bad).find(why) != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(std::string("bad endpoint '1.2.3.4:0': the port must be a "
						 "number from 1 to 65535, not '0'"),
				     error_of("1.2.3.4:0"));
	}

	void parse__bad_addresses()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("bad endpoint '': empty"), error_of(""));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("bad endpoint '256.1.1.1': '256.1.1.1' is not an IPv4 address"),
		    error_of("256.1.1.1"));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("bad endpoint 'sn1.example:1000': 'sn1.example' is not an IPv4 "
				"address"),
		    error_of("sn1.example:1000"));
		// No names, no shorthand IPv4, no scope IDs (the kernel takes none).
		for (const char *bad : {"localhost", "1.2.3", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4 ",
					"fe80::1%eth0", "2001:db8:::1", "[fe80::1%1]:1000"})
			CPPUNIT_ASSERT_MESSAGE(bad, error_of(bad) != "no error");
		CPPUNIT_ASSERT_EQUAL(
		    std::string("bad endpoint '2001:db8::g': not an IPv4 or IPv6 address (an IPv6 "
				"address takes a port only in brackets: [ADDR]:PORT)"),
		    error_of("2001:db8::g"));
		// A very long string is refused, not overflowed.
		CPPUNIT_ASSERT(error_of(std::string(200, ':')) != "no error");
		CPPUNIT_ASSERT(error_of("[" + std::string(200, '1') + "]") != "no error");
	}

	void parse__bad_brackets()
	{
		CPPUNIT_ASSERT_EQUAL(
		    std::string("bad endpoint '[::1': no ']' after the IPv6 address"),
		    error_of("[::1"));
		CPPUNIT_ASSERT_EQUAL(std::string("bad endpoint '[::1]1000': expected ':PORT' "
						 "after ']'"),
				     error_of("[::1]1000"));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("bad endpoint '[1.2.3.4]:80': '1.2.3.4' is not an IPv6 address"),
		    error_of("[1.2.3.4]:80"));
		CPPUNIT_ASSERT(error_of("[]") != "no error");
		CPPUNIT_ASSERT(error_of("[]:1000") != "no error");
	}

	void to_string__round_trips()
	{
		for (const char *s : {"192.0.2.1:1000", "10.0.0.1:65535", "[2001:db8::1]:1000",
				      "[::]:7", "[::ffff:1.2.3.4]:1000"}) {
			auto ep = Endpoint::parse(s);
			CPPUNIT_ASSERT_EQUAL(std::string(s), ep.to_string());
			CPPUNIT_ASSERT(Endpoint::parse(ep.to_string()) == ep);
		}
		CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1:1000"),
				     Endpoint::parse("192.0.2.1").to_string());
	}

	void from_bytes__4_or_16_only()
	{
		const std::uint8_t v4[4] = {198, 51, 100, 7};
		auto a = Endpoint::from_bytes(v4, 1234);
		CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.7:1234"), a.to_string());
		std::uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
		v6[15] = 9;
		auto b = Endpoint::from_bytes(v6, 1000);
		CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::9]:1000"), b.to_string());
		CPPUNIT_ASSERT(b == Endpoint::parse("2001:db8::9"));
		std::uint8_t odd[5] = {};
		CPPUNIT_ASSERT_THROW(Endpoint::from_bytes(odd, 1000), ilp::Error);
		CPPUNIT_ASSERT_THROW(Endpoint::from_bytes({}, 1000), ilp::Error);
	}

	void equality__family_address_port()
	{
		CPPUNIT_ASSERT(Endpoint::parse("1.2.3.4") == Endpoint::parse("1.2.3.4:1000"));
		CPPUNIT_ASSERT(!(Endpoint::parse("1.2.3.4") == Endpoint::parse("1.2.3.4:1001")));
		CPPUNIT_ASSERT(!(Endpoint::parse("1.2.3.4") == Endpoint::parse("1.2.3.5")));
		// The same (zero) bytes, different families.
		CPPUNIT_ASSERT(!(Endpoint::parse("0.0.0.0") == Endpoint::parse("::")));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(EndpointTest);

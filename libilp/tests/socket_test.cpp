// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Address (its text form and struct sockaddr_ilp), ilp::Metadata (TLVs
// built, parsed, refused) and what ilp::Socket does without the module,
// which the build machines do not load.
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>
#include <fcntl.h>

#include <ilp/error.hpp>
#include <ilp/socket.hpp>

using ilp::Address;
using ilp::Endpoint;
using ilp::Metadata;

namespace
{

// The message of the error Address::parse(@text) throws, or "no error".
std::string parse_error(const std::string &text)
{
	try {
		Address::parse(text);
	} catch (const ilp::Error &e) {
		CPPUNIT_ASSERT_EQUAL(EINVAL, e.code().value());
		return e.what();
	}
	return "no error";
}

std::string hex(std::span<const std::byte> bytes)
{
	std::string s;
	char b[3];
	for (auto x : bytes) {
		std::snprintf(b, sizeof(b), "%02x", std::to_integer<unsigned>(x));
		s += b;
	}
	return s;
}

std::vector<std::byte> unhex(const std::string &s)
{
	std::vector<std::byte> out;
	for (std::size_t i = 0; i + 1 < s.size(); i += 2)
		out.push_back(std::byte(std::stoul(s.substr(i, 2), nullptr, 16)));
	return out;
}

// The errno of the ilp::Error @f throws, 0 if none.
template <typename F>
int error_code(F f)
{
	try {
		f();
	} catch (const ilp::Error &e) {
		return e.code().value();
	}
	return 0;
}

constexpr int af = 19;

} // namespace

class SocketTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SocketTest);
	CPPUNIT_TEST(address__sockaddr_ipv4);
	CPPUNIT_TEST(address__sockaddr_ipv6_with_sn);
	CPPUNIT_TEST(address__from_sockaddr_defaults_and_errors);
	CPPUNIT_TEST(address__parse_forms);
	CPPUNIT_TEST(address__parse_errors);
	CPPUNIT_TEST(address__to_string_round_trips);
	CPPUNIT_TEST(metadata__typed_values_on_the_wire);
	CPPUNIT_TEST(metadata__padding);
	CPPUNIT_TEST(metadata__parse_round_trip_and_find);
	CPPUNIT_TEST(metadata__typed_readers_check_length);
	CPPUNIT_TEST(metadata__malformed_refused);
	CPPUNIT_TEST(metadata__own_types);
	CPPUNIT_TEST(metadata__host_tlvs);
	CPPUNIT_TEST(metadata__size_limit);
	CPPUNIT_TEST(socket__without_module);
	CPPUNIT_TEST(socket__bad_flags);
	CPPUNIT_TEST_SUITE_END();

public:
	void address__sockaddr_ipv4()
	{
		Address a;
		a.service = 4242;
		a.conn = 0x0102030405060708ULL;
		a.host = Endpoint::parse("192.0.2.1:1001");
		auto sa = a.to_sockaddr(af);
		CPPUNIT_ASSERT_EQUAL(af, int(sa.silp_family));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), sa.silp_flags);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(4242), sa.silp_service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0x0102030405060708ULL),
				     std::uint64_t(sa.silp_conn));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET), sa.silp_host.family);
		CPPUNIT_ASSERT_EQUAL(htons(1001), sa.silp_host.port);
		CPPUNIT_ASSERT_EQUAL(inet_addr("192.0.2.1"), sa.silp_host.addr.v4);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), sa.silp_sn.family);
		auto back = Address::from_sockaddr(sa);
		CPPUNIT_ASSERT(back == a);
		CPPUNIT_ASSERT(!back.sn);
	}

	void address__sockaddr_ipv6_with_sn()
	{
		Address a;
		a.service = 7;
		a.host = Endpoint::parse("2001:db8::1");
		a.sn = Endpoint::parse("198.51.100.9:2000");
		auto sa = a.to_sockaddr(af);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), std::uint64_t(sa.silp_conn));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET6), sa.silp_host.family);
		CPPUNIT_ASSERT_EQUAL(htons(1000), sa.silp_host.port);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0x20), sa.silp_host.addr.v6[0]);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0x0d), sa.silp_host.addr.v6[2]);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(1), sa.silp_host.addr.v6[15]);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET), sa.silp_sn.family);
		CPPUNIT_ASSERT_EQUAL(htons(2000), sa.silp_sn.port);
		CPPUNIT_ASSERT_EQUAL(inet_addr("198.51.100.9"), sa.silp_sn.addr.v4);
		CPPUNIT_ASSERT(Address::from_sockaddr(sa) == a);

		// And an IPv6 SN.
		a.sn = Endpoint::parse("[fe80::2]:1000");
		sa = a.to_sockaddr(af);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET6), sa.silp_sn.family);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0xfe), sa.silp_sn.addr.v6[0]);
		CPPUNIT_ASSERT(Address::from_sockaddr(sa) == a);
	}

	void address__from_sockaddr_defaults_and_errors()
	{
		// A local address (getsockname): no host, no SN.
		sockaddr_ilp sa{};
		sa.silp_family = af;
		sa.silp_service = 9;
		sa.silp_conn = 77;
		auto local = Address::from_sockaddr(sa);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(9), local.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(77), local.conn);
		CPPUNIT_ASSERT(!local.host);
		CPPUNIT_ASSERT(!local.sn);
		CPPUNIT_ASSERT_EQUAL(std::string("9/77"), local.to_string());

		// Port 0 is the default port; the scope ID is not kept.
		sa.silp_host.family = AF_INET6;
		sa.silp_host.scope_id = 3;
		sa.silp_host.addr.v6[15] = 1;
		auto a = Address::from_sockaddr(sa);
		CPPUNIT_ASSERT(a.host == Endpoint::parse("[::1]:1000"));

		sa.silp_sn.family = AF_UNIX;
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { Address::from_sockaddr(sa); }));
		sa.silp_sn.family = 0;
		sa.silp_host.family = 12345;
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { Address::from_sockaddr(sa); }));
	}

	void address__parse_forms()
	{
		auto a = Address::parse("4242");
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(4242), a.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(ILP_CONN_ANY), a.conn);
		CPPUNIT_ASSERT(!a.host && !a.sn);

		a = Address::parse("4242/17@192.0.2.7");
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(17), a.conn);
		CPPUNIT_ASSERT(a.host == Endpoint::parse("192.0.2.7:1000"));
		CPPUNIT_ASSERT(!a.sn);

		a = Address::parse("0x10/0xffffffffffffffff@[2001:db8::1]:1001 via 198.51.100.1");
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(16), a.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0xffffffffffffffffULL), a.conn);
		CPPUNIT_ASSERT(a.host == Endpoint::parse("[2001:db8::1]:1001"));
		CPPUNIT_ASSERT(a.sn == Endpoint::parse("198.51.100.1:1000"));

		// A bare IPv6 host and SN take no port.
		a = Address::parse("7@2001:db8::2 via fe80::1");
		CPPUNIT_ASSERT(a.host == Endpoint::parse("[2001:db8::2]:1000"));
		CPPUNIT_ASSERT(a.sn == Endpoint::parse("[fe80::1]:1000"));

		CPPUNIT_ASSERT_EQUAL(std::uint32_t(4294967294u),
				     Address::parse("4294967294").service);
	}

	void address__parse_errors()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("bad ILP address '': no service"),
				     parse_error(""));
		CPPUNIT_ASSERT_EQUAL(std::string("bad ILP address '@192.0.2.1': no service"),
				     parse_error("@192.0.2.1"));
		const std::string service = "the service must be a number from 1 to 4294967294";
		for (const char *bad : {"0", "4294967295", "4294967296", "x", "-1", "+7", "7 ",
					"0x", "12a@192.0.2.1"})
			CPPUNIT_ASSERT_MESSAGE(bad,
					       parse_error(bad).find(service) != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(
		    std::string("bad ILP address '0@192.0.2.1': the service must be "
				"a number from 1 to 4294967294, not '0'"),
		    parse_error("0@192.0.2.1"));
		const std::string conn = "the connection must be a 64-bit number";
		for (const char *bad : {"7/", "7/x", "7/-1", "7/18446744073709551616", "7/1/2"})
			CPPUNIT_ASSERT_MESSAGE(bad,
					       parse_error(bad).find(conn) != std::string::npos);
		CPPUNIT_ASSERT_EQUAL(std::string("bad ILP address '7@': no host after '@'"),
				     parse_error("7@"));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("bad ILP address '7@192.0.2.1:0': host: bad endpoint "
				"'192.0.2.1:0': the port must be a number from 1 "
				"to 65535, not '0'"),
		    parse_error("7@192.0.2.1:0"));
		CPPUNIT_ASSERT_EQUAL(std::string("bad ILP address '7@192.0.2.1 via sn1': SN: bad "
						 "endpoint 'sn1': 'sn1' is not an IPv4 address"),
				     parse_error("7@192.0.2.1 via sn1"));
		CPPUNIT_ASSERT(parse_error("7@192.0.2.1 via ") != "no error");
		CPPUNIT_ASSERT(parse_error("7@localhost") != "no error");
		CPPUNIT_ASSERT(parse_error("7@192.0.2.1@192.0.2.2") != "no error");
		CPPUNIT_ASSERT(parse_error("7@192.0.2.1  via 192.0.2.2") != "no error");
	}

	void address__to_string_round_trips()
	{
		for (const char *s :
		     {"4242", "4242/17", "1@192.0.2.7:1000", "4242/17@192.0.2.7:1001",
		      "7@[2001:db8::1]:1000 via 198.51.100.1:1000",
		      "4294967294/18446744073709551615@[::1]:65535 via [fe80::1]:2"}) {
			auto a = Address::parse(s);
			CPPUNIT_ASSERT_EQUAL(std::string(s), a.to_string());
			CPPUNIT_ASSERT(Address::parse(a.to_string()) == a);
			CPPUNIT_ASSERT(Address::from_sockaddr(a.to_sockaddr(af)) == a);
		}
		CPPUNIT_ASSERT_EQUAL(std::string("16/255@192.0.2.7:1000"),
				     Address::parse("0x10/0xff@192.0.2.7").to_string());
	}

	void metadata__typed_values_on_the_wire()
	{
		Metadata md;
		md.add_u8(0x0100, 0xab)
		    .add_u16(0x0101, 0x1234)
		    .add_u32(0x8102, 0xdeadbeef)
		    .add_u64(0x0103, 0x0102030405060708ULL)
		    .add_string(0x0104, "hello");
		CPPUNIT_ASSERT_EQUAL(std::string("01000001ab000000"
						 "0101000212340000"
						 "81020004deadbeef"
						 "01030008"
						 "0102030405060708"
						 "0104000568656c6c6f000000"),
				     hex(md.bytes()));
		CPPUNIT_ASSERT_EQUAL(std::size_t(5), md.count());
		CPPUNIT_ASSERT_EQUAL(std::size_t(48), md.size());
		CPPUNIT_ASSERT(!md.empty());
		CPPUNIT_ASSERT(Metadata().empty());
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), Metadata().count());
	}

	void metadata__padding()
	{
		// Value lengths 0..8: a 4-byte header, the value, zeros to 4.
		const std::size_t want[] = {4, 8, 8, 8, 8, 12, 12, 12, 12};
		for (std::size_t n = 0; n <= 8; n++) {
			std::vector<std::byte> v(n, std::byte{0xff});
			Metadata md;
			md.add(0x0200, v);
			CPPUNIT_ASSERT_EQUAL(want[n], md.size());
			for (std::size_t i = 4 + n; i < md.size(); i++)
				CPPUNIT_ASSERT(md.bytes()[i] == std::byte{0});
			CPPUNIT_ASSERT_EQUAL(n, md.begin()->value.size());
		}
		// Padding TLVs (type 0) are kept but not iterated.
		auto md = Metadata::parse(unhex("00000000"
						"01000001aa000000"
						"0000000200000000"
						"01010000"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(24), md.size());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), md.count());
		auto it = md.begin();
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x0100), it->type);
		++it;
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x0101), it->type);
		CPPUNIT_ASSERT(it->value.empty());
		CPPUNIT_ASSERT(++it == md.end());
		CPPUNIT_ASSERT(Metadata::parse(unhex("0000000000000000")).empty());
	}

	void metadata__parse_round_trip_and_find()
	{
		Metadata md;
		md.add_string(0x0300, "a").add_u32(0x8301, 5).add_string(0x0300, "second");
		auto back = Metadata::parse(md.bytes());
		CPPUNIT_ASSERT(back == md);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), back.count());

		auto t = back.find(0x0300);
		CPPUNIT_ASSERT(t);
		CPPUNIT_ASSERT_EQUAL(std::string("a"), t->as_string());
		// The critical bit is not part of what find() compares.
		auto c = back.find(0x0301);
		CPPUNIT_ASSERT(c);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x8301), c->type);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x0301), c->base_type());
		CPPUNIT_ASSERT(c->critical());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(5), c->as_u32());
		CPPUNIT_ASSERT(back.find(0x8300));
		CPPUNIT_ASSERT(!back.find(0x0302));

		std::vector<std::string> seen;
		for (const auto &tlv : back)
			seen.push_back(std::to_string(tlv.type) + "=" +
				       std::to_string(tlv.value.size()));
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), seen.size());
		CPPUNIT_ASSERT_EQUAL(std::string("768=1"), seen[0]);
		CPPUNIT_ASSERT_EQUAL(std::string("33537=4"), seen[1]);
		CPPUNIT_ASSERT_EQUAL(std::string("768=6"), seen[2]);

		CPPUNIT_ASSERT(Metadata::parse({}).empty());
	}

	void metadata__typed_readers_check_length()
	{
		Metadata md;
		md.add_u16(0x0400, 0xbeef).add_u64(0x0401, 1);
		auto t = *md.find(0x0400);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0xbeef), t.as_u16());
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { t.as_u8(); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { t.as_u32(); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { t.as_u64(); }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), md.find(0x0401)->as_u64());
		try {
			t.as_u32();
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT_EQUAL(
			    std::string("TLV type 0x0400: a value of 2 bytes is not a "
					"u32 (4 bytes)"),
			    std::string(e.what()));
		}
	}

	void metadata__malformed_refused()
	{
		auto parse = [](const std::string &h) { Metadata::parse(unhex(h)); };
		// Not a multiple of 4.
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { parse("010000"); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { parse("0100000100"); }));
		// A value (or its padding) past the end.
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { parse("01000001"); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { parse("0100000500000000"); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { parse("010000000101ffff"); }));
		// Even a padding TLV must fit.
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { parse("00000004"); }));
		try {
			parse("010000000123000800000000");
			CPPUNIT_FAIL("parsed");
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT_EQUAL(
			    std::string("malformed metadata: the TLV of type 0x0123 at "
					"byte 4 has a value of 8 bytes, past the end (12 "
					"bytes)"),
			    std::string(e.what()));
		}
	}

	void metadata__own_types()
	{
		Metadata md;
		for (std::uint16_t type : {0x0001, 0x0002, 0x00ff, 0x8001, 0x80ff})
			CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { md.add_u8(type, 1); }));
		// Type 0 is padding.
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { md.add_u8(0, 1); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { md.add_u8(0x8000, 1); }));
		CPPUNIT_ASSERT(md.empty());
		try {
			md.add_u8(2, 1);
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT_EQUAL(std::string("TLV type 0x0002 is one of ILP's own "
							 "(0x0001-0x00ff), which applications may "
							 "not send"),
					     std::string(e.what()));
		}
		md.add_u8(0x0100, 1).add_u8(0xffff, 2);
		CPPUNIT_ASSERT(!md.has_own());
		for (const auto &t : md)
			CPPUNIT_ASSERT(!t.own());

		// Received metadata has them; without_own() leaves them out.
		auto rx = Metadata::parse(unhex("00010006c0000201"
						"03e80000"
						"01000001aa000000"
						"80ff0000"));
		CPPUNIT_ASSERT(rx.has_own());
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), rx.count());
		auto it = rx.begin();
		CPPUNIT_ASSERT(it->own());
		CPPUNIT_ASSERT(!(++it)->own());
		CPPUNIT_ASSERT((++it)->own());
		auto app = rx.without_own();
		CPPUNIT_ASSERT(!app.has_own());
		CPPUNIT_ASSERT_EQUAL(std::string("01000001aa000000"), hex(app.bytes()));
	}

	void metadata__host_tlvs()
	{
		// ILP_TLV_SRC_HOST 192.0.2.1 port 1000, ILP_TLV_DST_HOST
		// [2001:db8::7]:1001.
		auto md = Metadata::parse(unhex("00010006c000020103e80000"
						"0002001220010db8000000000000000000000007"
						"03e90000"));
		CPPUNIT_ASSERT(md.src_host() == Endpoint::parse("192.0.2.1:1000"));
		CPPUNIT_ASSERT(md.dst_host() == Endpoint::parse("[2001:db8::7]:1001"));
		CPPUNIT_ASSERT(!Metadata().src_host());
		CPPUNIT_ASSERT(!Metadata().dst_host());

		auto bad = Metadata::parse(unhex("00010005c000020103000000"));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { bad.src_host(); }));
		CPPUNIT_ASSERT(!bad.dst_host());
	}

	void metadata__size_limit()
	{
		// 1020 value bytes and a header: ILP_METADATA_MAX exactly.
		Metadata md;
		md.add(0x0500, std::vector<std::byte>(ILP_METADATA_MAX - 4));
		CPPUNIT_ASSERT_EQUAL(std::size_t(ILP_METADATA_MAX), md.size());
		CPPUNIT_ASSERT_EQUAL(EMSGSIZE, error_code([&] { md.add_u8(0x0501, 0); }));
		CPPUNIT_ASSERT_EQUAL(std::size_t(ILP_METADATA_MAX), md.size());

		Metadata big;
		CPPUNIT_ASSERT_EQUAL(
		    EMSGSIZE, error_code([&] { big.add(0x0500, std::vector<std::byte>(70000)); }));
		CPPUNIT_ASSERT_EQUAL(EMSGSIZE, error_code([&] {
					     big.add(0x0500,
						     std::vector<std::byte>(ILP_METADATA_MAX - 3));
				     }));
		CPPUNIT_ASSERT(big.empty());
		// Parsing takes more: a received packet also has ILP's own TLVs.
		auto rx = unhex("00010006c000020103e80000");
		auto app = md.bytes();
		rx.insert(rx.end(), app.begin(), app.end());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), Metadata::parse(rx).count());
	}

	void socket__without_module()
	{
		if (std::filesystem::exists("/sys/module/ilp"))
			return; // loaded here: nothing to check
		try {
			ilp::Socket sock;
			CPPUNIT_FAIL("opened an AF_ILP socket without the module");
		} catch (const std::system_error &e) {
			CPPUNIT_ASSERT_EQUAL(EAFNOSUPPORT, e.code().value());
			std::string what = e.what();
			CPPUNIT_ASSERT_MESSAGE(what, what.find("opening an AF_ILP socket (address "
							       "family 19)") == 0);
			CPPUNIT_ASSERT_MESSAGE(what,
					       what.find("is ilp.ko loaded? (modprobe ilp)") !=
						   std::string::npos);
		}
		CPPUNIT_ASSERT_EQUAL(EAFNOSUPPORT, error_code([] {
					     ilp::Socket sock(SOCK_NONBLOCK | SOCK_CLOEXEC);
				     }));
	}

	void socket__bad_flags()
	{
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([] { ilp::Socket sock(O_APPEND); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([] { ilp::Socket sock(SOCK_STREAM); }));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(SocketTest);

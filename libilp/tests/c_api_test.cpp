// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C API of ilp/ilp.h: the family and socket without the module (as on
// the build machines), the address helpers, the TLV encoder and reader,
// and that what it writes is what ilp::Metadata reads.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <arpa/inet.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sys/socket.h>

#include <ilp/group_control.hpp>
#include <ilp/ilp.h>
#include <ilp/socket.hpp>

namespace
{

bool module_loaded()
{
	return std::filesystem::exists("/sys/module/ilp");
}

std::string format(const sockaddr_ilp &sa)
{
	char buf[ILP_ADDRSTRLEN];
	CPPUNIT_ASSERT_EQUAL(0, ilp_addr_format(&sa, buf, sizeof(buf)));
	return buf;
}

} // namespace

class CApiTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(CApiTest);
	CPPUNIT_TEST(family__without_module);
	CPPUNIT_TEST(socket__flags_and_without_module);
	CPPUNIT_TEST(addr__init);
	CPPUNIT_TEST(addr__set_host_and_sn);
	CPPUNIT_TEST(addr__parse_and_format);
	CPPUNIT_TEST(endpoint__parse);
	CPPUNIT_TEST(tlv__put_next_round_trip);
	CPPUNIT_TEST(tlv__put_no_room);
	CPPUNIT_TEST(tlv__next_skips_padding);
	CPPUNIT_TEST(tlv__next_malformed);
	CPPUNIT_TEST(tlv__same_bytes_as_metadata);
	CPPUNIT_TEST(tlv__host);
	CPPUNIT_TEST(group__connection_and_errors);
	CPPUNIT_TEST_SUITE_END();

public:
	void family__without_module()
	{
		errno = 0;
		int af = ilp_family();
		int err = errno;
		if (module_loaded()) {
			CPPUNIT_ASSERT(af > 0);
			return;
		}
		CPPUNIT_ASSERT_EQUAL(-1, af);
		CPPUNIT_ASSERT_EQUAL(EAFNOSUPPORT, err);
	}

	void socket__flags_and_without_module()
	{
		errno = 0;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_socket(SOCK_STREAM));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		if (module_loaded())
			return;
		for (int flags : {0, int(SOCK_CLOEXEC), SOCK_NONBLOCK | SOCK_CLOEXEC}) {
			errno = 0;
			int fd = ilp_socket(flags);
			int err = errno;
			CPPUNIT_ASSERT_EQUAL(-1, fd);
			CPPUNIT_ASSERT_EQUAL(EAFNOSUPPORT, err);
		}
	}

	void addr__init()
	{
		sockaddr_ilp sa;
		std::memset(&sa, 0xa5, sizeof(sa));
		ilp_addr_init(&sa, 4242, 17);
		CPPUNIT_ASSERT_EQUAL(module_loaded() ? ilp_family() : ILP_AF_DEFAULT,
				     int(sa.silp_family));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), sa.silp_flags);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(4242), sa.silp_service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(17), std::uint64_t(sa.silp_conn));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), sa.silp_host.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), sa.silp_sn.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), sa.silp_sn.port);
		CPPUNIT_ASSERT_EQUAL(std::string("4242/17"), format(sa));
	}

	void addr__set_host_and_sn()
	{
		sockaddr_ilp sa;
		ilp_addr_init(&sa, 7, 0);
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_set_host(&sa, "192.0.2.1", 0));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET), sa.silp_host.family);
		CPPUNIT_ASSERT_EQUAL(htons(1000), sa.silp_host.port);
		CPPUNIT_ASSERT_EQUAL(inet_addr("192.0.2.1"), sa.silp_host.addr.v4);
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_set_sn(&sa, "2001:db8::5", 1001));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET6), sa.silp_sn.family);
		CPPUNIT_ASSERT_EQUAL(htons(1001), sa.silp_sn.port);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(5), sa.silp_sn.addr.v6[15]);
		CPPUNIT_ASSERT_EQUAL(std::string("7@192.0.2.1:1000 via [2001:db8::5]:1001"),
				     format(sa));

		// Addresses only: no names, ports or brackets.  A failure
		// changes nothing.
		for (const char *bad :
		     {"localhost", "192.0.2.1:1000", "[::1]", "", "1.2.3", "fe80::1%eth0"}) {
			errno = 0;
			CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, -1, ilp_addr_set_host(&sa, bad, 0));
			CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		}
		CPPUNIT_ASSERT_EQUAL(-1, ilp_addr_set_host(&sa, nullptr, 0));
		CPPUNIT_ASSERT_EQUAL(-1, ilp_addr_set_host(nullptr, "192.0.2.1", 0));
		CPPUNIT_ASSERT_EQUAL(std::string("7@192.0.2.1:1000 via [2001:db8::5]:1001"),
				     format(sa));

		// No SN.
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_set_sn(&sa, nullptr, 0));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), sa.silp_sn.family);
		CPPUNIT_ASSERT_EQUAL(std::string("7@192.0.2.1:1000"), format(sa));
	}

	void addr__parse_and_format()
	{
		sockaddr_ilp sa;
		const char *text = "4242/17@[2001:db8::1]:1001 via 198.51.100.1:1000";
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_parse(&sa, text));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(4242), sa.silp_service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(17), std::uint64_t(sa.silp_conn));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET6), sa.silp_host.family);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET), sa.silp_sn.family);
		CPPUNIT_ASSERT_EQUAL(std::string(text), format(sa));

		errno = 0;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_addr_parse(&sa, "0@192.0.2.1"));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		CPPUNIT_ASSERT_EQUAL(-1, ilp_addr_parse(&sa, nullptr));

		// Too small a buffer: ENOSPC, for the NUL too.
		char buf[ILP_ADDRSTRLEN];
		std::size_t need = std::strlen(text) + 1;
		errno = 0;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_addr_format(&sa, buf, need - 1));
		CPPUNIT_ASSERT_EQUAL(ENOSPC, errno);
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_format(&sa, buf, need));
		CPPUNIT_ASSERT_EQUAL(std::string(text), std::string(buf));

		// The longest address fits ILP_ADDRSTRLEN.
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_parse(&sa, "4294967294/18446744073709551615@"
							    "[ffff:ffff:ffff:ffff:ffff:ffff:"
							    "255.255.255.255]:65535 via "
							    "[ffff:ffff:ffff:ffff:ffff:ffff:"
							    "255.255.255.255]:65535"));
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_format(&sa, buf, sizeof(buf)));

		// An unknown family.
		sa.silp_host.family = 99;
		errno = 0;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_addr_format(&sa, buf, sizeof(buf)));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
	}

	void endpoint__parse()
	{
		ilp_inaddr a;
		CPPUNIT_ASSERT_EQUAL(0, ilp_endpoint_parse(&a, "[2001:db8::1]:1005"));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET6), a.family);
		CPPUNIT_ASSERT_EQUAL(htons(1005), a.port);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0x20), a.addr.v6[0]);
		CPPUNIT_ASSERT_EQUAL(0, ilp_endpoint_parse(&a, "192.0.2.9"));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET), a.family);
		CPPUNIT_ASSERT_EQUAL(htons(1000), a.port);
		CPPUNIT_ASSERT_EQUAL(inet_addr("192.0.2.9"), a.addr.v4);
		for (const char *bad : {"", "192.0.2.1:0", "sn1", "[::1"}) {
			errno = 0;
			CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, -1, ilp_endpoint_parse(&a, bad));
			CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		}
	}

	void tlv__put_next_round_trip()
	{
		unsigned char buf[64];
		std::size_t off = 0;
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_put(buf, sizeof(buf), &off, 0x0100, "abc", 3));
		CPPUNIT_ASSERT_EQUAL(std::size_t(8), off);
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_put(buf, sizeof(buf), &off, 0x8101, nullptr, 0));
		CPPUNIT_ASSERT_EQUAL(std::size_t(12), off);
		const unsigned char four[4] = {1, 2, 3, 4};
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_put(buf, sizeof(buf), &off, 0x0102, four, 4));
		CPPUNIT_ASSERT_EQUAL(std::size_t(20), off);
		const unsigned char want[20] = {0x01, 0x00, 0x00, 0x03, 'a',  'b',  'c',
						0,    0x81, 0x01, 0x00, 0x00, 0x01, 0x02,
						0x00, 0x04, 1,    2,    3,    4};
		CPPUNIT_ASSERT(std::memcmp(buf, want, sizeof(want)) == 0);

		std::size_t pos = 0;
		std::uint16_t type = 0, vlen = 0;
		const void *val = nullptr;
		CPPUNIT_ASSERT_EQUAL(1, ilp_tlv_next(buf, off, &pos, &type, &val, &vlen));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x0100), type);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(3), vlen);
		CPPUNIT_ASSERT(std::memcmp(val, "abc", 3) == 0);
		CPPUNIT_ASSERT(val == buf + 4);
		CPPUNIT_ASSERT_EQUAL(1, ilp_tlv_next(buf, off, &pos, &type, &val, &vlen));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x8101), type);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0), vlen);
		CPPUNIT_ASSERT_EQUAL(1, ilp_tlv_next(buf, off, &pos, &type, &val, &vlen));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x0102), type);
		CPPUNIT_ASSERT(std::memcmp(val, four, 4) == 0);
		CPPUNIT_ASSERT_EQUAL(std::size_t(20), pos);
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_next(buf, off, &pos, &type, &val, &vlen));
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_next(buf, off, &pos, &type, &val, &vlen));
		// Nothing at all.
		pos = 0;
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_next(nullptr, 0, &pos, &type, &val, &vlen));
	}

	void tlv__put_no_room()
	{
		unsigned char buf[12];
		std::size_t off = 4;
		errno = 0;
		// 4 + 5 padded to 12 does not fit in the 8 bytes left.
		CPPUNIT_ASSERT_EQUAL(-1, ilp_tlv_put(buf, sizeof(buf), &off, 0x0100, "hello", 5));
		CPPUNIT_ASSERT_EQUAL(ENOSPC, errno);
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), off);
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_put(buf, sizeof(buf), &off, 0x0100, "hell", 4));
		CPPUNIT_ASSERT_EQUAL(std::size_t(12), off);
		CPPUNIT_ASSERT_EQUAL(-1, ilp_tlv_put(buf, sizeof(buf), &off, 0x0100, nullptr, 0));
		off = 13;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_tlv_put(buf, sizeof(buf), &off, 0x0100, nullptr, 0));
		CPPUNIT_ASSERT_EQUAL(ENOSPC, errno);
		// Bad arguments.
		off = 0;
		errno = 0;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_tlv_put(buf, sizeof(buf), &off, 0x0100, nullptr, 1));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		CPPUNIT_ASSERT_EQUAL(-1, ilp_tlv_put(buf, sizeof(buf), nullptr, 0x0100, "x", 1));
	}

	void tlv__next_skips_padding()
	{
		const unsigned char buf[] = {0, 0, 0, 0, 0,    0, 0, 2, 0xee, 0xee, 0, 0,
					     1, 0, 0, 1, 0x7f, 0, 0, 0, 0,    0,    0, 0};
		std::size_t pos = 0;
		std::uint16_t type, vlen;
		const void *val;
		CPPUNIT_ASSERT_EQUAL(1, ilp_tlv_next(buf, sizeof(buf), &pos, &type, &val, &vlen));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x0100), type);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1), vlen);
		CPPUNIT_ASSERT_EQUAL(0x7f, int(*static_cast<const unsigned char *>(val)));
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_next(buf, sizeof(buf), &pos, &type, &val, &vlen));
		CPPUNIT_ASSERT_EQUAL(sizeof(buf), pos);
	}

	void tlv__next_malformed()
	{
		std::uint16_t type, vlen;
		const void *val;
		auto next = [&](const unsigned char *buf, std::size_t len, std::size_t &pos) {
			errno = 0;
			return ilp_tlv_next(buf, len, &pos, &type, &val, &vlen);
		};
		// A value past the end.
		const unsigned char past[] = {1, 0, 0, 5, 1, 2, 3, 4};
		std::size_t pos = 0;
		CPPUNIT_ASSERT_EQUAL(-1, next(past, sizeof(past), pos));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), pos);
		// A value that fits but its padding does not.
		const unsigned char unpadded[] = {1, 0, 0, 1, 9, 1, 0, 0, 2, 0, 0};
		pos = 0;
		CPPUNIT_ASSERT_EQUAL(-1, next(unpadded, 5, pos));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), pos);
		// A good TLV, then a torn header: the first is read, then -1
		// with the offset at the bad one.
		pos = 0;
		CPPUNIT_ASSERT_EQUAL(1, next(unpadded, 10, pos));
		CPPUNIT_ASSERT_EQUAL(std::size_t(8), pos);
		CPPUNIT_ASSERT_EQUAL(-1, next(unpadded, 10, pos));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		CPPUNIT_ASSERT_EQUAL(std::size_t(8), pos);
		// Behind a padding TLV.
		const unsigned char hidden[] = {0, 0, 0, 0, 1, 0, 0, 8, 0, 0, 0, 0};
		pos = 0;
		CPPUNIT_ASSERT_EQUAL(-1, next(hidden, sizeof(hidden), pos));
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), pos);
		// An offset past the end, missing arguments.
		pos = sizeof(past) + 1;
		CPPUNIT_ASSERT_EQUAL(-1, next(past, sizeof(past), pos));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		pos = 0;
		CPPUNIT_ASSERT_EQUAL(-1,
				     ilp_tlv_next(past, sizeof(past), &pos, nullptr, &val, &vlen));
		CPPUNIT_ASSERT_EQUAL(-1, ilp_tlv_next(nullptr, 4, &pos, &type, &val, &vlen));
	}

	void tlv__same_bytes_as_metadata()
	{
		unsigned char buf[64];
		std::size_t off = 0;
		const unsigned char v32[4] = {0xde, 0xad, 0xbe, 0xef};
		ilp_tlv_put(buf, sizeof(buf), &off, 0x0200, "text", 4);
		ilp_tlv_put(buf, sizeof(buf), &off, 0x8201, v32, 4);
		ilp_tlv_put(buf, sizeof(buf), &off, 0x0202, "z", 1);
		ilp::Metadata md;
		md.add_string(0x0200, "text").add_u32(0x8201, 0xdeadbeef).add_string(0x0202, "z");
		CPPUNIT_ASSERT_EQUAL(md.size(), off);
		CPPUNIT_ASSERT(std::memcmp(md.bytes().data(), buf, off) == 0);
		auto parsed = ilp::Metadata::parse(std::as_bytes(std::span(buf, off)));
		CPPUNIT_ASSERT(parsed == md);
	}

	void tlv__host()
	{
		const unsigned char v4[6] = {192, 0, 2, 1, 0x03, 0xe8};
		ilp_inaddr a;
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_host(v4, sizeof(v4), &a));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET), a.family);
		CPPUNIT_ASSERT_EQUAL(inet_addr("192.0.2.1"), a.addr.v4);
		CPPUNIT_ASSERT_EQUAL(htons(1000), a.port);
		unsigned char v6[18] = {0x20, 0x01, 0x0d, 0xb8};
		v6[15] = 7;
		v6[16] = 0x03;
		v6[17] = 0xe9;
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_host(v6, sizeof(v6), &a));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(AF_INET6), a.family);
		CPPUNIT_ASSERT_EQUAL(htons(1001), a.port);
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(7), a.addr.v6[15]);
		errno = 0;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_tlv_host(v6, 17, &a));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
	}

	void group__connection_and_errors()
	{
		const std::string name = std::string(64, 'a') + ":news";
		std::uint64_t conn = 0;
		CPPUNIT_ASSERT_EQUAL(0, ilp_group_connection(name.c_str(), &conn));
		CPPUNIT_ASSERT_EQUAL(ilp::group::connection_of(*ilp::group::parse_name(name)),
				     conn);
		CPPUNIT_ASSERT(conn != 0);
		errno = 0;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_group_connection("news", &conn));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		CPPUNIT_ASSERT_EQUAL(-1, ilp_group_connection(name.c_str(), nullptr));
		CPPUNIT_ASSERT_EQUAL(-1, ilp_group_join(nullptr, nullptr));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		CPPUNIT_ASSERT_EQUAL(-1, ilp_group_join(name.c_str(), "ilp-grant-1 junk"));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		// No ilpd behind the app socket: the way there fails, clearly.
		::setenv("ILP_APP_SOCKET", "/nonexistent/app.sock", 1);
		CPPUNIT_ASSERT_EQUAL(-1, ilp_group_join(name.c_str(), nullptr));
		CPPUNIT_ASSERT(errno == ENOENT || errno == ECONNREFUSED);
		::unsetenv("ILP_APP_SOCKET");
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(CApiTest);

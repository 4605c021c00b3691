// SPDX-License-Identifier: GPL-2.0-or-later
//
// The SVCB RDATA parser of first-hop discovery (association/discovery.hpp,
// docs/control.md "Discovering first-hop SNs"): records ILP reads, and
// every malformed one refused with its reason.  The lookups themselves
// are tested against a real DNS server by assoc_netns_test.sh.
#include <initializer_list>
#include <string>
#include <vector>

#include <cppunit/extensions/HelperMacros.h>

#include "association/discovery.hpp"

using namespace ilpd;

namespace
{

using Bytes = std::vector<std::uint8_t>;

// Builds RDATA: SvcPriority, TargetName, then SvcParams as given (in the
// order given, so that tests can put them out of order).
struct Rdata {
	Bytes b;

	explicit Rdata(std::uint16_t priority) { u16(priority); }

	Rdata &u16(std::uint16_t v)
	{
		b.push_back(static_cast<std::uint8_t>(v >> 8));
		b.push_back(static_cast<std::uint8_t>(v));
		return *this;
	}
	Rdata &raw(std::initializer_list<std::uint8_t> bytes)
	{
		b.insert(b.end(), bytes);
		return *this;
	}
	// "sn1.example.test" as labels; "." or "" for the root.
	Rdata &name(const std::string &text)
	{
		std::size_t start = 0;
		while (start < text.size() && text != ".") {
			auto dot = text.find('.', start);
			auto label =
			    text.substr(start, dot == std::string::npos ? dot : dot - start);
			b.push_back(static_cast<std::uint8_t>(label.size()));
			b.insert(b.end(), label.begin(), label.end());
			if (dot == std::string::npos)
				break;
			start = dot + 1;
		}
		b.push_back(0);
		return *this;
	}
	Rdata &param(std::uint16_t key, const Bytes &value)
	{
		u16(key);
		u16(static_cast<std::uint16_t>(value.size()));
		b.insert(b.end(), value.begin(), value.end());
		return *this;
	}
	Rdata &port(std::uint16_t key, std::uint16_t port)
	{
		return param(
		    key, {static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port)});
	}
};

Bytes keys(std::initializer_list<std::uint16_t> ks)
{
	Bytes out;
	for (auto k : ks) {
		out.push_back(static_cast<std::uint8_t>(k >> 8));
		out.push_back(static_cast<std::uint8_t>(k));
	}
	return out;
}

// The reason parse_svcb() refuses @rdata with; "" if it accepts it.
std::string refusal(const Bytes &rdata)
{
	try {
		parse_svcb(rdata);
	} catch (const SvcbError &e) {
		return e.what();
	}
	return "";
}

} // namespace

class DiscoveryTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(DiscoveryTest);
	CPPUNIT_TEST(service_mode__every_param);
	CPPUNIT_TEST(service_mode__defaults_and_root_target);
	CPPUNIT_TEST(service_mode__other_keys_ignored);
	CPPUNIT_TEST(alias_mode__params_ignored);
	CPPUNIT_TEST(malformed__truncated);
	CPPUNIT_TEST(malformed__target_name);
	CPPUNIT_TEST(malformed__key_order);
	CPPUNIT_TEST(malformed__lengths);
	CPPUNIT_TEST(malformed__port_values);
	CPPUNIT_TEST(malformed__mandatory);
	CPPUNIT_TEST(malformed__alias_layout);
	CPPUNIT_TEST_SUITE_END();

	// What dnsmasq serves in assoc_netns_test.sh, and docs/control.md's
	// example: every key ILP reads.
	void service_mode__every_param()
	{
		Rdata r(1);
		r.name("SN1.Example.test")
		    .param(kSvcMandatory, keys({kSvcPort, kSvcIlpPort}))
		    .port(kSvcPort, 1001)
		    .param(kSvcIpv4Hint, {10, 0, 1, 2, 192, 0, 2, 1})
		    .param(kSvcIpv6Hint, {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})
		    .port(kSvcIlpPort, 1000);
		auto rec = parse_svcb(r.b);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1), rec.priority);
		CPPUNIT_ASSERT(!rec.alias());
		CPPUNIT_ASSERT_EQUAL(std::string("sn1.example.test"), rec.target);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1001), rec.port.value());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(1000), rec.ilp_port.value());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), rec.ipv4_hints.size());
		CPPUNIT_ASSERT_EQUAL(std::string("10.0.1.2"), rec.ipv4_hints[0].addr_string());
		CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1"), rec.ipv4_hints[1].addr_string());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), rec.ipv6_hints.size());
		CPPUNIT_ASSERT_EQUAL(std::string("fd00::2"), rec.ipv6_hints[0].addr_string());
	}

	void service_mode__defaults_and_root_target()
	{
		Rdata r(7);
		r.name(".");
		auto rec = parse_svcb(r.b);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(7), rec.priority);
		CPPUNIT_ASSERT_EQUAL(std::string("."), rec.target);
		CPPUNIT_ASSERT(!rec.port && !rec.ilp_port);
		CPPUNIT_ASSERT(rec.ipv4_hints.empty() && rec.ipv6_hints.empty());
		// A 63-byte label and '_' (an attrleaf name) are hostname enough.
		Rdata l(1);
		l.name("_ilp." + std::string(63, 'a') + ".test");
		CPPUNIT_ASSERT_EQUAL(std::string("_ilp." + std::string(63, 'a') + ".test"),
				     parse_svcb(l.b).target);
	}

	void service_mode__other_keys_ignored()
	{
		// alpn (1) and ech (5) are another protocol's, not mandatory.
		Rdata r(1);
		r.name("sn1.test")
		    .param(1, {2, 'h', '2'})
		    .port(kSvcPort, 2001)
		    .param(5, {1, 2, 3})
		    .param(kSvcIlpPort - 1, {});
		auto rec = parse_svcb(r.b);
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(2001), rec.port.value());
		CPPUNIT_ASSERT(!rec.ilp_port);
	}

	void alias_mode__params_ignored()
	{
		// RFC 9460 section 2.4.2: an AliasMode record's SvcParams are
		// ignored, so a port of the wrong length there is no error.
		Rdata r(0);
		r.name("_ilp.pool.example.test").param(kSvcPort, {1, 2, 3}).param(9, {});
		auto rec = parse_svcb(r.b);
		CPPUNIT_ASSERT(rec.alias());
		CPPUNIT_ASSERT_EQUAL(std::string("_ilp.pool.example.test"), rec.target);
		CPPUNIT_ASSERT(!rec.port);
		Rdata none(0);
		none.name(".");
		CPPUNIT_ASSERT_EQUAL(std::string("."), parse_svcb(none.b).target);
	}

	void malformed__truncated()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("RDATA of 0 bytes: truncated before SvcPriority"),
				     refusal({}));
		CPPUNIT_ASSERT_EQUAL(std::string("RDATA of 1 bytes: truncated before SvcPriority"),
				     refusal({0}));
		CPPUNIT_ASSERT_EQUAL(std::string("TargetName truncated"), refusal({0, 1}));
		// A label longer than what is left; a name with no root label.
		CPPUNIT_ASSERT_EQUAL(std::string("TargetName truncated"),
				     refusal({0, 1, 5, 'a', 'b'}));
		CPPUNIT_ASSERT_EQUAL(std::string("TargetName truncated"),
				     refusal({0, 1, 2, 'a', 'b'}));
		// A SvcParam cut in its key, its length, or its value.
		auto whole = Rdata(1).name("sn.test").port(kSvcPort, 1001).b;
		for (std::size_t cut = 1; cut <= 3; cut++) {
			Bytes b(whole.begin(), whole.end() - 6 + cut);
			CPPUNIT_ASSERT_EQUAL(std::string("SvcParam truncated: ") +
						 std::to_string(cut) +
						 " bytes left, a key and length take 4",
					     refusal(b));
		}
		Bytes b(whole.begin(), whole.end() - 1);
		CPPUNIT_ASSERT_EQUAL(std::string("SvcParam port of 2 bytes, 1 left in the RDATA"),
				     refusal(b));
	}

	void malformed__target_name()
	{
		// Compressed (RFC 9460 forbids it in RDATA), and an extended
		// label type.
		CPPUNIT_ASSERT(refusal({0, 1, 0xc0, 0x0c}).starts_with("TargetName compressed"));
		CPPUNIT_ASSERT(refusal({0, 1, 0x41, 'a', 0}).starts_with("TargetName compressed"));
		// 4 labels of 63 bytes: 257 bytes on the wire.
		Rdata long_name(1);
		long_name.name(std::string(63, 'a') + "." + std::string(63, 'b') + "." +
			       std::string(63, 'c') + "." + std::string(63, 'd'));
		CPPUNIT_ASSERT_EQUAL(std::string("TargetName longer than 255 bytes"),
				     refusal(long_name.b));
		// Bytes that would be ambiguous or unsafe once written as text.
		for (std::uint8_t c : {std::uint8_t('.'), std::uint8_t('\n'), std::uint8_t(' '),
				       std::uint8_t('\\'), std::uint8_t(0xc3)})
			CPPUNIT_ASSERT(refusal({0, 1, 3, 'a', c, 'b', 0})
					   .starts_with("TargetName label with a byte"));
	}

	void malformed__key_order()
	{
		auto r = Rdata(1).name("sn.test").port(kSvcIlpPort, 1000).port(kSvcPort, 1001);
		CPPUNIT_ASSERT_EQUAL(
		    std::string("SvcParams out of order: port after key65380 (ILP port)"),
		    refusal(r.b));
		r = Rdata(1).name("sn.test").port(kSvcPort, 1001).port(kSvcPort, 1002);
		CPPUNIT_ASSERT_EQUAL(std::string("duplicate SvcParam port"), refusal(r.b));
		r = Rdata(1).name("sn.test").param(9, {}).param(9, {1});
		CPPUNIT_ASSERT_EQUAL(std::string("duplicate SvcParam key9"), refusal(r.b));
		r = Rdata(1).name("sn.test").param(65535, {});
		CPPUNIT_ASSERT_EQUAL(std::string("SvcParam key 65535, which is reserved"),
				     refusal(r.b));
	}

	void malformed__lengths()
	{
		// A length past the end of the RDATA, and hints of bad sizes.
		auto r = Rdata(1).name("sn.test").u16(kSvcPort).u16(200).u16(1001);
		CPPUNIT_ASSERT_EQUAL(std::string("SvcParam port of 200 bytes, 2 left in the RDATA"),
				     refusal(r.b));
		r = Rdata(1).name("sn.test").param(kSvcIpv4Hint, {10, 0, 1, 2, 3});
		CPPUNIT_ASSERT_EQUAL(
		    std::string("ipv4hint of 5 bytes, not a non-zero multiple of 4"), refusal(r.b));
		r = Rdata(1).name("sn.test").param(kSvcIpv4Hint, {});
		CPPUNIT_ASSERT_EQUAL(
		    std::string("ipv4hint of 0 bytes, not a non-zero multiple of 4"), refusal(r.b));
		r = Rdata(1).name("sn.test").param(kSvcIpv6Hint, Bytes(15, 1));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("ipv6hint of 15 bytes, not a non-zero multiple of 16"),
		    refusal(r.b));
	}

	void malformed__port_values()
	{
		auto r = Rdata(1).name("sn.test").param(kSvcPort, {3});
		CPPUNIT_ASSERT_EQUAL(std::string("port of 1 bytes, not 2"), refusal(r.b));
		r = Rdata(1).name("sn.test").param(kSvcPort, {0, 3, 0xe9});
		CPPUNIT_ASSERT_EQUAL(std::string("port of 3 bytes, not 2"), refusal(r.b));
		r = Rdata(1).name("sn.test").port(kSvcPort, 0);
		CPPUNIT_ASSERT_EQUAL(std::string("port 0"), refusal(r.b));
		r = Rdata(1).name("sn.test").param(kSvcIlpPort, {});
		CPPUNIT_ASSERT_EQUAL(std::string("key65380 (ILP port) of 0 bytes, not 2"),
				     refusal(r.b));
		r = Rdata(1).name("sn.test").param(kSvcIlpPort, {0, 0, 3, 0xe8});
		CPPUNIT_ASSERT_EQUAL(std::string("key65380 (ILP port) of 4 bytes, not 2"),
				     refusal(r.b));
		r = Rdata(1).name("sn.test").port(kSvcIlpPort, 0);
		CPPUNIT_ASSERT_EQUAL(std::string("key65380 (ILP port) 0"), refusal(r.b));
	}

	void malformed__mandatory()
	{
		auto with = [](const Bytes &mandatory) {
			return Rdata(1)
			    .name("sn.test")
			    .param(kSvcMandatory, mandatory)
			    .param(1, {2, 'h', '2'})
			    .port(kSvcPort, 1001)
			    .port(kSvcIlpPort, 1000)
			    .b;
		};
		CPPUNIT_ASSERT_EQUAL(std::string(""), refusal(with(keys({kSvcPort, kSvcIlpPort}))));
		// alpn is in the record, but ILP does not read it: a client
		// that does not know a mandatory key must skip the record.
		CPPUNIT_ASSERT_EQUAL(std::string("mandatory lists key1, which ILP does not read"),
				     refusal(with(keys({1, kSvcPort}))));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("mandatory lists ipv4hint, absent from the record"),
		    refusal(with(keys({kSvcPort, kSvcIpv4Hint}))));
		CPPUNIT_ASSERT_EQUAL(std::string("mandatory lists itself"),
				     refusal(with(keys({kSvcMandatory, kSvcPort}))));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("mandatory's keys not in strictly increasing order"),
		    refusal(with(keys({kSvcIlpPort, kSvcPort}))));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("mandatory's keys not in strictly increasing order"),
		    refusal(with(keys({kSvcPort, kSvcPort}))));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("mandatory of 0 bytes, not a non-zero multiple of 2"),
		    refusal(with({})));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("mandatory of 3 bytes, not a non-zero multiple of 2"),
		    refusal(with({0, 3, 0})));
	}

	void malformed__alias_layout()
	{
		// Values are ignored in AliasMode, the layout is not.
		auto r = Rdata(0).name("_ilp.pool.test").port(kSvcIlpPort, 1).port(kSvcPort, 1);
		CPPUNIT_ASSERT(refusal(r.b).starts_with("SvcParams out of order"));
		r = Rdata(0).name("_ilp.pool.test").raw({0, 3, 0});
		CPPUNIT_ASSERT(refusal(r.b).starts_with("SvcParam truncated"));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(DiscoveryTest);

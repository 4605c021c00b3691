// SPDX-License-Identifier: GPL-2.0-or-later
//
// The messages of the control channel between ilpd instances: each type
// through encode() and back, the bytes on the wire, every way a frame or
// a body can be malformed, and the frame reader over a byte stream.
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include <cppunit/extensions/HelperMacros.h>

#include "association/messages.hpp"

using namespace ilpd::ctl;
using Bytes = std::vector<std::uint8_t>;

namespace
{

Bytes bytes(std::initializer_list<int> list)
{
	Bytes b;
	for (int v : list)
		b.push_back(static_cast<std::uint8_t>(v));
	return b;
}

Bytes operator+(Bytes a, const Bytes &b)
{
	a.insert(a.end(), b.begin(), b.end());
	return a;
}

Bytes text(const std::string &s)
{
	return Bytes(s.begin(), s.end());
}

Bytes frame_bytes(const Message &m)
{
	auto f = encode(m);
	return Bytes(f.begin(), f.end());
}

// The body of @m's frame, to break.
Bytes body_of(const Message &m)
{
	auto f = frame_bytes(m);
	return Bytes(f.begin() + kHeaderSize, f.end());
}

Bytes header(int version, int type, std::size_t length)
{
	return bytes(
	    {version, type, static_cast<int>(length >> 8), static_cast<int>(length & 0xff)});
}

struct Refusal {
	bool thrown = false;
	ErrorCode code{};
	std::string reason;
};

Refusal refusal_of(Type type, const Bytes &body)
{
	Refusal r;
	try {
		decode(type, body);
	} catch (const ProtocolError &e) {
		r.thrown = true;
		r.code = e.code();
		r.reason = e.what();
	}
	return r;
}

// decode() refuses @body as malformed, with a reason that starts with the
// type's name and contains @why.
void assert_malformed(Type type, const Bytes &body, const std::string &why,
		      CppUnit::SourceLine line)
{
	Refusal r = refusal_of(type, body);
	std::string context = std::string(type_name(type)) + " body of " +
			      std::to_string(body.size()) + " bytes; reason: " + r.reason;
	CppUnit::Asserter::failIf(!r.thrown, "accepted: " + context, line);
	CppUnit::Asserter::failIf(r.code != ErrorCode::Malformed, "not Malformed: " + context,
				  line);
	CppUnit::Asserter::failIf(r.reason.find(std::string(type_name(type)) + ": ") != 0,
				  "reason does not name the type: " + context, line);
	CppUnit::Asserter::failIf(r.reason.find(why) == std::string::npos,
				  "reason does not say '" + why + "': " + context, line);
}
#define ASSERT_MALFORMED(type, body, why) assert_malformed(type, body, why, CPPUNIT_SOURCELINE())

// What FrameReader::next() throws for @stream, which must hold no
// complete valid frame before the bad one.
Refusal reader_refusal(const Bytes &stream)
{
	FrameReader reader;
	reader.feed(stream);
	Refusal r;
	try {
		while (reader.next()) {
		}
	} catch (const ProtocolError &e) {
		r.thrown = true;
		r.code = e.code();
		r.reason = e.what();
	}
	return r;
}

Hello hello4()
{
	return Hello{.role = Role::Host,
		     .direct = true,
		     .endpoint = ilp::Endpoint::parse("192.0.2.1:1000"),
		     .edomain = ""};
}

Hello hello6()
{
	return Hello{.role = Role::Sn,
		     .direct = false,
		     .endpoint = ilp::Endpoint::parse("[2001:db8::1]:4000"),
		     .edomain = "edomain-a.example"};
}

SecretBytes key_of(std::size_t n, std::uint8_t first)
{
	SecretBytes k;
	for (std::size_t i = 0; i < n; i++)
		k.push_back(static_cast<std::uint8_t>(first + 7 * i));
	return k;
}

SaOffer offer(ilp::psp::Version v)
{
	return SaOffer{
	    .seq = 1, .spi = 0x12345678, .version = v, .key = key_of(ilp::psp::key_size(v), 0xa1)};
}

// One of each type, as a channel would send them.
std::vector<Message> one_of_each()
{
	return {hello4(),
		hello6(),
		offer(ilp::psp::Version::AesGcm128),
		offer(ilp::psp::Version::AesGcm256),
		SaAck{.seq = 7, .spi = 0x80000001},
		Rekey{.reason = kRekeyIvExhaustion},
		Keepalive{},
		ErrorMsg{.code = ErrorCode::Identity, .reason = "edomain \xc3\xa9 != sn1"},
		Bye{},
		SvcRequest{.service = 42, .request_id = 9, .payload = bytes({1, 2, 3})},
		SvcReply{.request_id = 9, .status = -2, .payload = {}}};
}

} // namespace

class ControlMessagesTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ControlMessagesTest);
	CPPUNIT_TEST(round_trip__every_type);
	CPPUNIT_TEST(round_trip__limits);
	CPPUNIT_TEST(encode__bytes_on_the_wire);
	CPPUNIT_TEST(reader__truncated_header_waits);
	CPPUNIT_TEST(reader__truncated_body_waits);
	CPPUNIT_TEST(decode__truncated_body_of_each_type);
	CPPUNIT_TEST(decode__trailing_bytes_of_each_fixed_size_type);
	CPPUNIT_TEST(reader__oversized_length_refused_from_the_header);
	CPPUNIT_TEST(reader__frame_versions_0_and_2);
	CPPUNIT_TEST(reader__unknown_types);
	CPPUNIT_TEST(decode__unknown_type);
	CPPUNIT_TEST(reader__bad_body_is_malformed);
	CPPUNIT_TEST(reader__refusal_is_final);
	CPPUNIT_TEST(hello__bad_role);
	CPPUNIT_TEST(hello__reserved_flags);
	CPPUNIT_TEST(hello__port_0);
	CPPUNIT_TEST(hello__bad_family);
	CPPUNIT_TEST(hello__name_too_long);
	CPPUNIT_TEST(hello__bad_names);
	CPPUNIT_TEST(hello__edomain_and_role);
	CPPUNIT_TEST(sa_offer__spi_0);
	CPPUNIT_TEST(sa_offer__seq_0);
	CPPUNIT_TEST(sa_offer__unknown_psp_version);
	CPPUNIT_TEST(sa_offer__key_length_not_the_versions);
	CPPUNIT_TEST(sa_ack__spi_and_seq_0);
	CPPUNIT_TEST(rekey__unknown_reason);
	CPPUNIT_TEST(error__reason_too_long);
	CPPUNIT_TEST(error__reason_with_nul);
	CPPUNIT_TEST(error__reason_not_utf8);
	CPPUNIT_TEST(error__unknown_code);
	CPPUNIT_TEST(svc__payload_too_long);
	CPPUNIT_TEST(svc_reply__positive_status);
	CPPUNIT_TEST(reader__one_byte_at_a_time);
	CPPUNIT_TEST(reader__several_frames_in_one_feed);
	CPPUNIT_TEST(describe__sa_offer_shows_no_key);
	CPPUNIT_TEST(describe__escapes_peer_text);
	CPPUNIT_TEST(encode__rejects_bad_fields);
	CPPUNIT_TEST(fit_reason__makes_any_text_a_reason);
	CPPUNIT_TEST(names__every_type_and_code);
	CPPUNIT_TEST_SUITE_END();

public:
	void round_trip__every_type()
	{
		for (const Message &m : one_of_each()) {
			auto f = frame_bytes(m);
			CPPUNIT_ASSERT_EQUAL(int(kVersion), int(f[0]));
			CPPUNIT_ASSERT_EQUAL(int(type_of(m)), int(f[1]));
			CPPUNIT_ASSERT_EQUAL(f.size() - kHeaderSize, std::size_t(f[2] << 8 | f[3]));

			Message back = decode(type_of(m), body_of(m));
			CPPUNIT_ASSERT_MESSAGE(describe(m) + " came back as " + describe(back),
					       back == m);

			FrameReader reader;
			reader.feed(f);
			auto read = reader.next();
			CPPUNIT_ASSERT_MESSAGE(describe(m), read && *read == m);
			CPPUNIT_ASSERT(!reader.next());
			CPPUNIT_ASSERT_EQUAL(std::size_t(0), reader.buffered());
		}
		// The addresses came back as themselves, not merely equal.
		auto h = std::get<Hello>(decode(Type::Hello, body_of(hello6())));
		CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::1]:4000"), h.endpoint.to_string());
		CPPUNIT_ASSERT_EQUAL(std::string("edomain-a.example"), h.edomain);
		auto o = std::get<SaOffer>(
		    decode(Type::SaOffer, body_of(offer(ilp::psp::Version::AesGcm256))));
		CPPUNIT_ASSERT(o.version == ilp::psp::Version::AesGcm256);
		CPPUNIT_ASSERT_EQUAL(std::size_t(32), o.key.size());
	}

	void round_trip__limits()
	{
		std::vector<Message> limits = {
		    Hello{.role = Role::Sn,
			  .direct = true,
			  .endpoint = ilp::Endpoint::parse("[::1]:65535"),
			  .edomain = std::string(kMaxName, 'z')},
		    Hello{.role = Role::Sn,
			  .endpoint = ilp::Endpoint::parse("10.0.0.1:1"),
			  .edomain = "0"},
		    SaOffer{.seq = 0xffffffff,
			    .spi = 0xffffffff,
			    .version = ilp::psp::Version::AesGcm128,
			    .key = key_of(16, 0)},
		    SaOffer{.seq = 1,
			    .spi = 1,
			    .version = ilp::psp::Version::AesGcm256,
			    .key = key_of(32, 0)},
		    Rekey{.reason = kRekeyAdmin},
		    ErrorMsg{.code = ErrorCode::Timeout, .reason = std::string(kMaxReason, 'x')},
		    ErrorMsg{.code = ErrorCode::Malformed, .reason = ""},
		    SvcRequest{.service = 0xffffffff,
			       .request_id = 0,
			       .payload = Bytes(kMaxServicePayload, 0xee)},
		    SvcReply{.request_id = 1,
			     .status = INT32_MIN,
			     .payload = Bytes(kMaxServicePayload, 0)},
		    SvcReply{.request_id = 1, .status = 0, .payload = bytes({0})},
		};
		for (const Message &m : limits) {
			Message back = decode(type_of(m), body_of(m));
			CPPUNIT_ASSERT_MESSAGE(describe(m), back == m);
		}
		// The largest message still fits a frame.
		CPPUNIT_ASSERT_EQUAL(kHeaderSize + 8 + kMaxServicePayload,
				     frame_bytes(limits[7]).size());
	}

	void encode__bytes_on_the_wire()
	{
		CPPUNIT_ASSERT(frame_bytes(hello4()) ==
			       bytes({1, 1, 0, 10, 1, 1, 0x03, 0xe8, 4, 192, 0, 2, 1, 0}));
		auto h6 = hello6();
		h6.edomain = "a.b";
		CPPUNIT_ASSERT(frame_bytes(h6) ==
			       bytes({1, 1, 0, 25, 2, 0, 0x0f, 0xa0, 6, 0x20, 0x01, 0x0d, 0xb8}) +
				   Bytes(11, 0) + bytes({1, 3, 'a', '.', 'b'}));
		SaOffer o{.seq = 0x01020304,
			  .spi = 0x80000005,
			  .version = ilp::psp::Version::AesGcm128,
			  .key = SecretBytes(16, 0x5a)};
		CPPUNIT_ASSERT(frame_bytes(o) ==
			       bytes({1, 2, 0, 25, 1, 2, 3, 4, 0x80, 0, 0, 5, 0}) +
				   Bytes(16, 0x5a));
		o.version = ilp::psp::Version::AesGcm256;
		o.key = SecretBytes(32, 0x5a);
		CPPUNIT_ASSERT(frame_bytes(o) ==
			       bytes({1, 2, 0, 41, 1, 2, 3, 4, 0x80, 0, 0, 5, 1}) +
				   Bytes(32, 0x5a));
		CPPUNIT_ASSERT(frame_bytes(SaAck{.seq = 2, .spi = 0xdeadbeef}) ==
			       bytes({1, 3, 0, 8, 0, 0, 0, 2, 0xde, 0xad, 0xbe, 0xef}));
		CPPUNIT_ASSERT(frame_bytes(Rekey{.reason = kRekeyIvExhaustion}) ==
			       bytes({1, 4, 0, 1, 1}));
		CPPUNIT_ASSERT(frame_bytes(Keepalive{}) == bytes({1, 5, 0, 0}));
		CPPUNIT_ASSERT(
		    frame_bytes(ErrorMsg{.code = ErrorCode::UnknownType, .reason = "no"}) ==
		    bytes({1, 6, 0, 4, 0, 9, 'n', 'o'}));
		CPPUNIT_ASSERT(frame_bytes(Bye{}) == bytes({1, 7, 0, 0}));
		CPPUNIT_ASSERT(frame_bytes(SvcRequest{.service = 0x0a0b0c0d,
						      .request_id = 0x100,
						      .payload = bytes({0xff})}) ==
			       bytes({1, 8, 0, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 1, 0, 0xff}));
		CPPUNIT_ASSERT(
		    frame_bytes(SvcReply{.request_id = 3, .status = -2, .payload = {}}) ==
		    bytes({1, 9, 0, 8, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xfe}));
	}

	void reader__truncated_header_waits()
	{
		// Up to 3 bytes of a header, even of a bad one, are not a frame yet.
		for (const Bytes &h : {header(1, 5, 0), header(2, 0, 0xffff)}) {
			for (std::size_t n = 0; n < kHeaderSize; n++) {
				FrameReader reader;
				reader.feed(Bytes(h.begin(), h.begin() + n));
				CPPUNIT_ASSERT(!reader.next());
				CPPUNIT_ASSERT_EQUAL(n, reader.buffered());
			}
		}
	}

	void reader__truncated_body_waits()
	{
		// A frame whose body is not all in is not given out; its
		// missing byte completes it.
		for (const Message &m : one_of_each()) {
			auto f = frame_bytes(m);
			if (f.size() == kHeaderSize)
				continue;
			FrameReader reader;
			reader.feed(Bytes(f.begin(), f.end() - 1));
			CPPUNIT_ASSERT(!reader.next());
			CPPUNIT_ASSERT_EQUAL(f.size() - 1, reader.buffered());
			reader.feed(Bytes(f.end() - 1, f.end()));
			auto read = reader.next();
			CPPUNIT_ASSERT_MESSAGE(describe(m), read && *read == m);
		}
	}

	void decode__truncated_body_of_each_type()
	{
		// Every prefix of a fixed-layout body is refused.
		for (const Message &m : {Message(hello4()), Message(hello6()),
					 Message(offer(ilp::psp::Version::AesGcm128)),
					 Message(offer(ilp::psp::Version::AesGcm256)),
					 Message(SaAck{.seq = 1, .spi = 1}), Message(Rekey{})}) {
			auto body = body_of(m);
			for (std::size_t n = 0; n < body.size(); n++)
				ASSERT_MALFORMED(type_of(m), Bytes(body.begin(), body.begin() + n),
						 "");
		}
		// The fields before the text or payload.
		ASSERT_MALFORMED(Type::Hello, bytes({1, 0, 3}), "ends in the ILP port");
		ASSERT_MALFORMED(Type::Hello, bytes({1, 0, 3, 0xe8, 4, 192, 0, 2}),
				 "ends in the address");
		ASSERT_MALFORMED(Type::Hello, bytes({2, 0, 3, 0xe8, 4, 192, 0, 2, 1, 3, 'a'}),
				 "ends in the edomain");
		ASSERT_MALFORMED(Type::SaOffer, bytes({0, 0, 0, 1, 0, 0, 0, 1}),
				 "ends in the PSP version");
		ASSERT_MALFORMED(Type::SaOffer, bytes({0, 0, 0, 1, 0, 0, 0, 1, 0}) + Bytes(15, 1),
				 "key of 15 bytes for PSP version 0");
		ASSERT_MALFORMED(Type::Error, bytes({}), "ends in the code");
		ASSERT_MALFORMED(Type::Error, bytes({0}), "ends in the code");
		for (std::size_t n = 0; n < 8; n++) {
			ASSERT_MALFORMED(Type::SvcRequest, Bytes(n, 1), "body of");
			ASSERT_MALFORMED(Type::SvcReply, Bytes(n, 0), "body of");
		}
		ASSERT_MALFORMED(Type::SvcRequest, Bytes(7, 1), "ends in the request ID");
		ASSERT_MALFORMED(Type::SvcReply, Bytes(7, 0), "ends in the status");
	}

	void decode__trailing_bytes_of_each_fixed_size_type()
	{
		for (const Message &m :
		     {Message(hello4()), Message(hello6()), Message(SaAck{.seq = 1, .spi = 1}),
		      Message(Rekey{}), Message(Keepalive{}), Message(Bye{})}) {
			ASSERT_MALFORMED(type_of(m), body_of(m) + bytes({0}),
					 "1 bytes after the last field");
			ASSERT_MALFORMED(type_of(m), body_of(m) + Bytes(5, 0xff),
					 "5 bytes after the last field");
		}
		// An SA_OFFER's length is fixed by its version.
		ASSERT_MALFORMED(Type::SaOffer,
				 body_of(offer(ilp::psp::Version::AesGcm128)) + bytes({0}),
				 "key of 17 bytes for PSP version 0");
		ASSERT_MALFORMED(Type::SaOffer,
				 body_of(offer(ilp::psp::Version::AesGcm256)) + bytes({0}),
				 "key of 33 bytes for PSP version 1");
	}

	void reader__oversized_length_refused_from_the_header()
	{
		for (std::size_t length : {kMaxBody + 1, std::size_t(0xffff)}) {
			FrameReader reader;
			reader.feed(header(1, int(Type::SvcRequest), length));
			try {
				reader.next();
				CPPUNIT_FAIL("a header of length " + std::to_string(length) +
					     " waited for its body");
			} catch (const ProtocolError &e) {
				CPPUNIT_ASSERT(e.code() == ErrorCode::Malformed);
				CPPUNIT_ASSERT_EQUAL(std::string("frame of ") +
							 std::to_string(length) +
							 " bytes, more than 1024",
						     std::string(e.what()));
			}
		}
		// The largest allowed waits for its body.
		FrameReader reader;
		reader.feed(header(1, int(Type::SvcRequest), kMaxBody));
		CPPUNIT_ASSERT(!reader.next());
	}

	void reader__frame_versions_0_and_2()
	{
		for (int version : {0, 2, 255}) {
			Bytes f = frame_bytes(Keepalive{});
			f[0] = static_cast<std::uint8_t>(version);
			Refusal r = reader_refusal(f);
			CPPUNIT_ASSERT(r.thrown);
			CPPUNIT_ASSERT(r.code == ErrorCode::Version);
			CPPUNIT_ASSERT_EQUAL(std::string("frame version ") +
						 std::to_string(version) + ", this ilpd speaks 1",
					     r.reason);
		}
	}

	void reader__unknown_types()
	{
		std::vector<int> types = {0};
		for (int t = 10; t <= 255; t++)
			types.push_back(t);
		for (int t : types) {
			Refusal r = reader_refusal(header(1, t, 0));
			CPPUNIT_ASSERT_MESSAGE("type " + std::to_string(t), r.thrown);
			CPPUNIT_ASSERT(r.code == ErrorCode::UnknownType);
			CPPUNIT_ASSERT_EQUAL("unknown message type " + std::to_string(t), r.reason);
		}
	}

	void decode__unknown_type()
	{
		for (int t : {0, 10, 255}) {
			Refusal r = refusal_of(static_cast<Type>(t), {});
			CPPUNIT_ASSERT(r.thrown);
			CPPUNIT_ASSERT(r.code == ErrorCode::UnknownType);
		}
	}

	void reader__bad_body_is_malformed()
	{
		// A valid KEEPALIVE, then a REKEY whose body has a byte too many.
		FrameReader reader;
		reader.feed(frame_bytes(Keepalive{}) + header(1, 4, 2) + bytes({0, 0}));
		CPPUNIT_ASSERT(reader.next() == Message(Keepalive{}));
		try {
			reader.next();
			CPPUNIT_FAIL("a REKEY of 2 bytes was accepted");
		} catch (const ProtocolError &e) {
			CPPUNIT_ASSERT(e.code() == ErrorCode::Malformed);
			CPPUNIT_ASSERT_EQUAL(
			    std::string("REKEY: 1 bytes after the last field (body of 2 bytes)"),
			    std::string(e.what()));
		}
	}

	void reader__refusal_is_final()
	{
		FrameReader reader;
		reader.feed(header(2, 5, 0));
		CPPUNIT_ASSERT_THROW(reader.next(), ProtocolError);
		// What follows a bad frame is not read as frames.
		reader.feed(frame_bytes(Keepalive{}));
		try {
			reader.next();
			CPPUNIT_FAIL("the reader went on after a bad frame");
		} catch (const ProtocolError &e) {
			CPPUNIT_ASSERT(e.code() == ErrorCode::Version);
		}
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), reader.buffered());
	}

	void hello__bad_role()
	{
		for (int role : {0, 3, 255}) {
			auto body = body_of(hello4());
			body[0] = static_cast<std::uint8_t>(role);
			ASSERT_MALFORMED(Type::Hello, body,
					 "role " + std::to_string(role) +
					     " is neither host (1) nor sn (2)");
		}
	}

	void hello__reserved_flags()
	{
		for (int flags : {0x02, 0x03, 0x80, 0xff}) {
			auto body = body_of(hello4());
			body[1] = static_cast<std::uint8_t>(flags);
			ASSERT_MALFORMED(Type::Hello, body, "reserved flag bits set");
		}
		// Bit 0 alone is the direct flag, both ways.
		auto body = body_of(hello4());
		body[1] = 0;
		CPPUNIT_ASSERT(!std::get<Hello>(decode(Type::Hello, body)).direct);
		body[1] = 1;
		CPPUNIT_ASSERT(std::get<Hello>(decode(Type::Hello, body)).direct);
	}

	void hello__port_0()
	{
		auto body = body_of(hello4());
		body[2] = body[3] = 0;
		ASSERT_MALFORMED(Type::Hello, body, "ILP port 0");
	}

	void hello__bad_family()
	{
		// 2 and 10 are AF_INET and AF_INET6: the wire says 4 and 6.
		for (int family : {0, 2, 5, 10, 255}) {
			auto body = body_of(hello4());
			body[4] = static_cast<std::uint8_t>(family);
			ASSERT_MALFORMED(Type::Hello, body,
					 "address family " + std::to_string(family) + " (4 or 6)");
		}
		// An IPv4 address read as IPv6 runs out of bytes.
		auto body = body_of(hello4());
		body[4] = 6;
		ASSERT_MALFORMED(Type::Hello, body, "ends in the address");
	}

	void hello__name_too_long()
	{
		auto sn = bytes({2, 0, 3, 0xe8, 4, 192, 0, 2, 1});
		ASSERT_MALFORMED(Type::Hello, sn + bytes({64}) + Bytes(64, 'a'),
				 "edomain of 64 bytes, more than 63");
		ASSERT_MALFORMED(Type::Hello, sn + bytes({255}) + Bytes(255, 'a'),
				 "edomain of 255 bytes, more than 63");
		auto h = std::get<Hello>(decode(Type::Hello, sn + bytes({63}) + Bytes(63, 'a')));
		CPPUNIT_ASSERT_EQUAL(std::string(63, 'a'), h.edomain);
	}

	void hello__bad_names()
	{
		auto sn = bytes({2, 0, 3, 0xe8, 4, 192, 0, 2, 1});
		for (std::string name :
		     std::vector<std::string>{"Edomain", "a_b", "a b", std::string("a\0b", 3),
					      "\xc3\xa9", "a/b", "a\n"}) {
			ASSERT_MALFORMED(Type::Hello, sn + bytes({int(name.size())}) + text(name),
					 "has a character other than [a-z0-9.-]");
		}
		for (std::string name : {"-a", "a-", ".a", "a.", "-", "."}) {
			ASSERT_MALFORMED(Type::Hello, sn + bytes({int(name.size())}) + text(name),
					 "starts or ends with '-' or '.'");
		}
		for (std::string name : {"a", "a-b.c0", "0.9", "x--y..z"}) {
			auto h = std::get<Hello>(
			    decode(Type::Hello, sn + bytes({int(name.size())}) + text(name)));
			CPPUNIT_ASSERT_EQUAL(name, h.edomain);
		}
	}

	void hello__edomain_and_role()
	{
		auto sn = body_of(hello6());
		sn.resize(sn.size() - hello6().edomain.size());
		sn.back() = 0;
		ASSERT_MALFORMED(Type::Hello, sn, "an SN with no edomain");
		auto host = body_of(hello4());
		host.back() = 1;
		ASSERT_MALFORMED(Type::Hello, host + text("a"), "a host with an edomain");
	}

	void sa_offer__spi_0()
	{
		// The datapath refuses an SPI whose low 31 bits are 0.
		for (std::uint32_t spi : {0x00000000u, 0x80000000u}) {
			auto o = offer(ilp::psp::Version::AesGcm128);
			auto body = body_of(o);
			for (int i = 0; i < 4; i++)
				body[4 + i] = static_cast<std::uint8_t>(spi >> (24 - 8 * i));
			ASSERT_MALFORMED(Type::SaOffer, body, "SPI 0x");
			ASSERT_MALFORMED(Type::SaOffer, body, "its low 31 bits are 0");
		}
	}

	void sa_offer__seq_0()
	{
		auto body = body_of(offer(ilp::psp::Version::AesGcm128));
		body[3] = 0;
		ASSERT_MALFORMED(Type::SaOffer, body, "seq 0");
	}

	void sa_offer__unknown_psp_version()
	{
		// GMAC (2, 3) would leave the ILP header in clear.
		for (int version : {2, 3, 255}) {
			for (std::size_t key : {16, 32}) {
				auto body =
				    bytes({0, 0, 0, 1, 0, 0, 0, 1, version}) + Bytes(key, 1);
				ASSERT_MALFORMED(Type::SaOffer, body,
						 "unknown PSP version " + std::to_string(version));
			}
		}
	}

	void sa_offer__key_length_not_the_versions()
	{
		auto fixed = bytes({0, 0, 0, 1, 0, 0, 0, 1});
		struct Case {
			int version;
			std::size_t key;
		};
		for (Case c :
		     {Case{0, 32}, Case{0, 0}, Case{0, 20}, Case{1, 16}, Case{1, 31}, Case{1, 0}}) {
			ASSERT_MALFORMED(Type::SaOffer,
					 fixed + bytes({c.version}) + Bytes(c.key, 0x33),
					 "key of " + std::to_string(c.key) +
					     " bytes for PSP version " + std::to_string(c.version));
		}
		CPPUNIT_ASSERT_EQUAL(
		    std::string("SA_OFFER: key of 20 bytes for PSP version 0"),
		    refusal_of(Type::SaOffer, fixed + bytes({0}) + Bytes(20, 0)).reason);
	}

	void sa_ack__spi_and_seq_0()
	{
		ASSERT_MALFORMED(Type::SaAck, bytes({0, 0, 0, 1, 0, 0, 0, 0}), "SPI 0x00000000");
		ASSERT_MALFORMED(Type::SaAck, bytes({0, 0, 0, 1, 0x80, 0, 0, 0}), "SPI 0x80000000");
		ASSERT_MALFORMED(Type::SaAck, bytes({0, 0, 0, 0, 0, 0, 0, 1}), "seq 0");
	}

	void rekey__unknown_reason()
	{
		for (int reason : {2, 255})
			ASSERT_MALFORMED(Type::Rekey, bytes({reason}),
					 "unknown reason " + std::to_string(reason));
		CPPUNIT_ASSERT(decode(Type::Rekey, bytes({0})) ==
			       Message(Rekey{.reason = kRekeyAdmin}));
	}

	void error__reason_too_long()
	{
		auto code = bytes({0, 1});
		ASSERT_MALFORMED(Type::Error, code + Bytes(256, 'x'),
				 "reason of 256 bytes, more than 255");
		ASSERT_MALFORMED(Type::Error, code + Bytes(kMaxBody - 2, 'x'),
				 "reason of 1022 bytes");
		auto e = std::get<ErrorMsg>(decode(Type::Error, code + Bytes(255, 'x')));
		CPPUNIT_ASSERT_EQUAL(std::size_t(255), e.reason.size());
	}

	void error__reason_with_nul()
	{
		ASSERT_MALFORMED(Type::Error, bytes({0, 1, 'a', 0, 'b'}), "reason with a NUL byte");
		ASSERT_MALFORMED(Type::Error, bytes({0, 1, 0}), "reason with a NUL byte");
	}

	void error__reason_not_utf8()
	{
		for (const Bytes &bad :
		     {bytes({0xff}), bytes({0x80}), bytes({0xc0, 0x80}), bytes({0xe0, 0x80, 0x80}),
		      bytes({0xed, 0xa0, 0x80}), bytes({0xf4, 0x90, 0x80, 0x80}),
		      bytes({'a', 0xe2, 0x82})}) {
			ASSERT_MALFORMED(Type::Error, bytes({0, 8}) + bad,
					 "reason that is not UTF-8");
		}
		auto e = std::get<ErrorMsg>(
		    decode(Type::Error, bytes({0, 8, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80})));
		CPPUNIT_ASSERT_EQUAL(std::string("\xe2\x82\xac\xf0\x9f\x98\x80"), e.reason);
	}

	void error__unknown_code()
	{
		for (int code : {0, 11, 0x100, 0xffff})
			ASSERT_MALFORMED(Type::Error, bytes({code >> 8, code & 0xff}) + text("why"),
					 "unknown error code " + std::to_string(code));
		for (int code = 1; code <= 10; code++) {
			auto e = std::get<ErrorMsg>(decode(Type::Error, bytes({0, code})));
			CPPUNIT_ASSERT_EQUAL(code, int(e.code));
		}
	}

	void svc__payload_too_long()
	{
		auto fixed = bytes({0, 0, 0, 1, 0, 0, 0, 2});
		ASSERT_MALFORMED(Type::SvcRequest, fixed + Bytes(kMaxServicePayload + 1, 0),
				 "payload of 1001 bytes, more than 1000");
		ASSERT_MALFORMED(Type::SvcRequest, fixed + Bytes(kMaxBody - 8, 0),
				 "payload of 1016 bytes");
		// A reply's status is -2 (ENOENT) here.
		ASSERT_MALFORMED(Type::SvcReply,
				 bytes({0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe}) +
				     Bytes(kMaxServicePayload + 1, 0),
				 "payload of 1001 bytes, more than 1000");
		auto r = std::get<SvcRequest>(decode(Type::SvcRequest, fixed + Bytes(1000, 7)));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1000), r.payload.size());
	}

	void svc_reply__positive_status()
	{
		ASSERT_MALFORMED(Type::SvcReply, bytes({0, 0, 0, 1, 0, 0, 0, 1}), "status 1");
		ASSERT_MALFORMED(Type::SvcReply, bytes({0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff}),
				 "status 2147483647");
	}

	void reader__one_byte_at_a_time()
	{
		auto messages = one_of_each();
		Bytes stream;
		std::vector<std::size_t> ends;
		for (const Message &m : messages) {
			stream = stream + frame_bytes(m);
			ends.push_back(stream.size());
		}
		FrameReader reader;
		std::vector<Message> read;
		for (std::size_t i = 0; i < stream.size(); i++) {
			reader.feed(std::span(stream).subspan(i, 1));
			auto m = reader.next();
			bool frame_ends = ends[read.size()] == i + 1;
			CPPUNIT_ASSERT_MESSAGE("byte " + std::to_string(i), bool(m) == frame_ends);
			if (m) {
				CPPUNIT_ASSERT(!reader.next());
				read.push_back(std::move(*m));
			}
		}
		CPPUNIT_ASSERT_EQUAL(messages.size(), read.size());
		for (std::size_t i = 0; i < read.size(); i++)
			CPPUNIT_ASSERT_MESSAGE(describe(messages[i]), read[i] == messages[i]);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), reader.buffered());
	}

	void reader__several_frames_in_one_feed()
	{
		auto messages = one_of_each();
		Bytes stream;
		for (const Message &m : messages)
			stream = stream + frame_bytes(m);
		Bytes partial = frame_bytes(SaAck{.seq = 3, .spi = 3});
		stream = stream + Bytes(partial.begin(), partial.begin() + 6);

		FrameReader reader;
		reader.feed(stream);
		for (const Message &m : messages) {
			auto read = reader.next();
			CPPUNIT_ASSERT_MESSAGE(describe(m), read && *read == m);
		}
		CPPUNIT_ASSERT(!reader.next());
		CPPUNIT_ASSERT_EQUAL(std::size_t(6), reader.buffered());
		reader.feed(std::span(partial).subspan(6));
		CPPUNIT_ASSERT(reader.next() == Message(SaAck{.seq = 3, .spi = 3}));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), reader.buffered());
	}

	void describe__sa_offer_shows_no_key()
	{
		for (auto v : {ilp::psp::Version::AesGcm128, ilp::psp::Version::AesGcm256}) {
			SaOffer o{.seq = 5,
				  .spi = 0x80000042,
				  .version = v,
				  .key = key_of(ilp::psp::key_size(v), 0xc3)};
			std::string d = describe(o);
			CPPUNIT_ASSERT_EQUAL(
			    "SA_OFFER seq=5 spi=0x80000042 psp-version=" + std::to_string(int(v)) +
				" key=(" + std::to_string(o.key.size()) + " bytes)",
			    d);
			// No run of 3 key bytes, in hex of either case or raw.
			for (std::size_t i = 0; i + 3 <= o.key.size(); i++) {
				char lower[7], upper[7];
				std::snprintf(lower, sizeof(lower), "%02x%02x%02x", o.key[i],
					      o.key[i + 1], o.key[i + 2]);
				std::snprintf(upper, sizeof(upper), "%02X%02X%02X", o.key[i],
					      o.key[i + 1], o.key[i + 2]);
				std::string raw(o.key.begin() + i, o.key.begin() + i + 3);
				CPPUNIT_ASSERT(d.find(lower) == std::string::npos);
				CPPUNIT_ASSERT(d.find(upper) == std::string::npos);
				CPPUNIT_ASSERT(d.find(raw) == std::string::npos);
			}
		}
	}

	void describe__escapes_peer_text()
	{
		CPPUNIT_ASSERT_EQUAL(
		    std::string("ERROR code=refused reason=\"no\\x0aINFO forged \\\"line\\\"\""),
		    describe(ErrorMsg{.code = ErrorCode::Refused,
				      .reason = "no\nINFO forged \"line\""}));
		CPPUNIT_ASSERT_EQUAL(
		    std::string("HELLO role=host endpoint=192.0.2.1:1000 direct=yes"),
		    describe(hello4()));
		CPPUNIT_ASSERT_EQUAL(std::string("HELLO role=sn endpoint=[2001:db8::1]:4000 "
						 "edomain=\"edomain-a.example\" direct=no"),
				     describe(hello6()));
		for (const Message &m : one_of_each())
			CPPUNIT_ASSERT(describe(m).starts_with(type_name(type_of(m))));
	}

	void encode__rejects_bad_fields()
	{
		auto refused = [](const Message &m, const std::string &why) {
			try {
				encode(m);
			} catch (const std::invalid_argument &e) {
				std::string what = e.what();
				CPPUNIT_ASSERT_MESSAGE(what, what.find(why) != std::string::npos);
				CPPUNIT_ASSERT_MESSAGE(what,
						       what.starts_with(type_name(type_of(m))));
				return;
			}
			CPPUNIT_FAIL("encoded: " + describe(m));
		};
		auto h = hello4();
		h.role = static_cast<Role>(3);
		refused(h, "role 3");
		h = hello4();
		h.endpoint.family = AF_UNIX;
		refused(h, "address family");
		h = hello4();
		h.endpoint.port = 0;
		refused(h, "ILP port 0");
		h = hello6();
		h.edomain = std::string(64, 'a');
		refused(h, "edomain of 64 bytes");
		h.edomain = "Upper";
		refused(h, "[a-z0-9.-]");
		h.edomain = "a.";
		refused(h, "starts or ends");
		h.edomain = "";
		refused(h, "an SN with no edomain");
		h = hello4();
		h.edomain = "a";
		refused(h, "a host with an edomain");

		auto o = offer(ilp::psp::Version::AesGcm128);
		o.spi = 0;
		refused(o, "SPI 0x00000000");
		o = offer(ilp::psp::Version::AesGcm128);
		o.seq = 0;
		refused(o, "seq 0");
		o = offer(ilp::psp::Version::AesGcm128);
		o.version = static_cast<ilp::psp::Version>(2);
		refused(o, "unknown PSP version 2");
		o = offer(ilp::psp::Version::AesGcm128);
		o.key.push_back(0);
		refused(o, "key of 17 bytes for PSP version 0");
		o = offer(ilp::psp::Version::AesGcm256);
		o.key.resize(16);
		refused(o, "key of 16 bytes for PSP version 1");

		refused(SaAck{.seq = 1, .spi = 0x80000000}, "SPI 0x80000000");
		refused(SaAck{.seq = 0, .spi = 1}, "seq 0");
		refused(Rekey{.reason = 2}, "unknown reason 2");
		refused(ErrorMsg{.code = static_cast<ErrorCode>(0), .reason = ""},
			"unknown error code 0");
		refused(ErrorMsg{.code = static_cast<ErrorCode>(11), .reason = ""},
			"unknown error code 11");
		refused(ErrorMsg{.code = ErrorCode::Internal, .reason = std::string(256, 'x')},
			"reason of 256 bytes");
		refused(ErrorMsg{.code = ErrorCode::Internal, .reason = std::string("a\0b", 3)},
			"NUL");
		refused(ErrorMsg{.code = ErrorCode::Internal, .reason = "\xff"}, "not UTF-8");
		refused(SvcRequest{.service = 1, .request_id = 1, .payload = Bytes(1001, 0)},
			"payload of 1001 bytes");
		refused(SvcReply{.request_id = 1, .status = 0, .payload = Bytes(1001, 0)},
			"payload of 1001 bytes");
		refused(SvcReply{.request_id = 1, .status = 5, .payload = {}}, "status 5");
	}

	void fit_reason__makes_any_text_a_reason()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("plain"), fit_reason("plain"));
		CPPUNIT_ASSERT_EQUAL(std::string("a?b?c\xc3\xa9"),
				     fit_reason(std::string("a\0b\xff"
							    "c\xc3\xa9",
							    7)));
		// A 2-byte character across the limit is left out whole.
		std::string long_text = std::string(254, 'x') + "\xc3\xa9" + "tail";
		std::string fitted = fit_reason(long_text);
		CPPUNIT_ASSERT_EQUAL(std::string(254, 'x'), fitted);
		CPPUNIT_ASSERT_EQUAL(kMaxReason, fit_reason(std::string(1000, 'y')).size());
		// What it makes is always accepted.
		for (const std::string &t :
		     {long_text, std::string(300, '\0'),
		      std::string("\xe2\x82", 2) + std::string(300, '\x80')}) {
			ErrorMsg e{.code = ErrorCode::Internal, .reason = fit_reason(t)};
			CPPUNIT_ASSERT(decode(Type::Error, body_of(e)) == Message(e));
		}
	}

	void names__every_type_and_code()
	{
		const char *types[] = {"HELLO", "SA_OFFER", "SA_ACK",  "REKEY",    "KEEPALIVE",
				       "ERROR", "BYE",      "SVC_REQ", "SVC_REPLY"};
		for (int t = 1; t <= 9; t++)
			CPPUNIT_ASSERT_EQUAL(std::string(types[t - 1]),
					     std::string(type_name(static_cast<Type>(t))));
		CPPUNIT_ASSERT_EQUAL(std::string("unknown"),
				     std::string(type_name(static_cast<Type>(0))));
		const char *codes[] = {"malformed",    "version", "unexpected", "replay",
				       "identity",     "refused", "duplicate",  "internal",
				       "unknown-type", "timeout"};
		for (int c = 1; c <= 10; c++)
			CPPUNIT_ASSERT_EQUAL(std::string(codes[c - 1]),
					     std::string(error_name(static_cast<ErrorCode>(c))));
		CPPUNIT_ASSERT_EQUAL(std::string("unknown"),
				     std::string(error_name(static_cast<ErrorCode>(11))));
		// Message's alternatives are in the order of Type.
		CPPUNIT_ASSERT(type_of(SvcReply{}) == Type::SvcReply);
		CPPUNIT_ASSERT(type_of(Hello{}) == Type::Hello);
		CPPUNIT_ASSERT(type_of(ErrorMsg{}) == Type::Error);
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(ControlMessagesTest);

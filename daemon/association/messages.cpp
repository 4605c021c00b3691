// SPDX-License-Identifier: GPL-2.0-or-later
#include "association/messages.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

namespace ilpd::ctl
{

namespace
{

constexpr std::uint8_t kFlagDirect = 0x01;
constexpr std::uint8_t kFamily4 = 4, kFamily6 = 6;
// The datapath drops a packet whose SPI has its low 31 bits zero (the top
// bit only selects the master key), so no SA can have such an SPI.
constexpr std::uint32_t kSpiMask = 0x7fffffff;

std::string type_prefix(Type type)
{
	return std::string(type_name(type)) + ": ";
}

// The length of the well-formed UTF-8 character at @s[@i], or 0 when
// there is none (a stray continuation byte, an overlong form, a
// surrogate, past U+10FFFF, cut short).
std::size_t utf8_char(std::string_view s, std::size_t i)
{
	auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
	unsigned char c = byte(i);
	std::size_t n;
	std::uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (s.size() - i < n)
		return 0;
	for (std::size_t k = 1; k < n; k++) {
		if ((byte(i + k) & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (byte(i + k) & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool valid_utf8(std::string_view s)
{
	for (std::size_t i = 0; i < s.size();) {
		std::size_t n = utf8_char(s, i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

// Text from the peer, for a log line: printable ASCII as it is, any
// other byte as \xNN, so that a reason cannot forge log lines.
std::string quoted(std::string_view s)
{
	std::string out = "\"";
	for (unsigned char c : s) {
		if (c == '"' || c == '\\') {
			out += '\\';
			out += static_cast<char>(c);
		} else if (c >= 0x20 && c < 0x7f) {
			out += static_cast<char>(c);
		} else {
			char hex[5];
			std::snprintf(hex, sizeof(hex), "\\x%02x", c);
			out += hex;
		}
	}
	return out + "\"";
}

std::string spi_string(std::uint32_t spi)
{
	char s[11];
	std::snprintf(s, sizeof(s), "0x%08x", spi);
	return s;
}

// The rules of each message's fields, shared by encode() (a bug of ours:
// std::invalid_argument) and decode() (the peer's: ProtocolError).  Each
// returns what is wrong, or "" when nothing is.

std::string edomain_problem(std::string_view name)
{
	if (name.size() > kMaxName)
		return "edomain of " + std::to_string(name.size()) + " bytes, more than " +
		       std::to_string(kMaxName);
	for (unsigned char c : name) {
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return "edomain " + quoted(name) + " has a character other than [a-z0-9.-]";
	}
	if (!name.empty() && (name.front() == '-' || name.front() == '.' || name.back() == '-' ||
			      name.back() == '.'))
		return "edomain " + quoted(name) + " starts or ends with '-' or '.'";
	return "";
}

std::string problem(const Hello &m)
{
	if (m.role != Role::Host && m.role != Role::Sn)
		return "role " + std::to_string(static_cast<unsigned>(m.role)) +
		       " is neither host (1) nor sn (2)";
	if (m.endpoint.family != AF_INET && m.endpoint.family != AF_INET6)
		return "address family " + std::to_string(m.endpoint.family) +
		       " is neither IPv4 nor IPv6";
	if (m.endpoint.port == 0)
		return "ILP port 0";
	if (auto why = edomain_problem(m.edomain); !why.empty())
		return why;
	if (m.role == Role::Sn && m.edomain.empty())
		return "an SN with no edomain";
	if (m.role == Role::Host && !m.edomain.empty())
		return "a host with an edomain (" + quoted(m.edomain) + ")";
	return "";
}

std::string spi_problem(std::uint32_t spi)
{
	if (!(spi & kSpiMask))
		return "SPI " + spi_string(spi) + " (its low 31 bits are 0)";
	return "";
}

std::string problem(const SaOffer &m)
{
	if (m.seq == 0)
		return "seq 0 (the first offer is 1)";
	if (auto why = spi_problem(m.spi); !why.empty())
		return why;
	if (m.version != ilp::psp::Version::AesGcm128 && m.version != ilp::psp::Version::AesGcm256)
		return "unknown PSP version " + std::to_string(static_cast<unsigned>(m.version));
	if (m.key.size() != ilp::psp::key_size(m.version))
		return "key of " + std::to_string(m.key.size()) + " bytes for PSP version " +
		       std::to_string(static_cast<unsigned>(m.version));
	return "";
}

std::string problem(const SaAck &m)
{
	if (m.seq == 0)
		return "seq 0 (the first offer is 1)";
	return spi_problem(m.spi);
}

std::string problem(const Rekey &m)
{
	if (m.reason != kRekeyAdmin && m.reason != kRekeyIvExhaustion)
		return "unknown reason " + std::to_string(m.reason);
	return "";
}

std::string problem(const Keepalive &)
{
	return "";
}

std::string problem(const ErrorMsg &m)
{
	if (std::string_view(error_name(m.code)) == "unknown")
		return "unknown error code " + std::to_string(static_cast<unsigned>(m.code));
	if (m.reason.size() > kMaxReason)
		return "reason of " + std::to_string(m.reason.size()) + " bytes, more than " +
		       std::to_string(kMaxReason);
	if (m.reason.find('\0') != std::string::npos)
		return "reason with a NUL byte";
	if (!valid_utf8(m.reason))
		return "reason that is not UTF-8";
	return "";
}

std::string problem(const Bye &)
{
	return "";
}

std::string payload_problem(std::size_t size)
{
	if (size > kMaxServicePayload)
		return "payload of " + std::to_string(size) + " bytes, more than " +
		       std::to_string(kMaxServicePayload);
	return "";
}

std::string problem(const SvcRequest &m)
{
	return payload_problem(m.payload.size());
}

std::string problem(const SvcReply &m)
{
	if (m.status > 0)
		return "status " + std::to_string(m.status) + " (0 or a negative errno)";
	return payload_problem(m.payload.size());
}

// Big-endian fields out of a body; any read past its end, or any byte
// left after the last field, is the peer's error.
class BodyReader
{
public:
	BodyReader(Type type, std::span<const std::uint8_t> body) : type_(type), body_(body) {}

	std::uint8_t u8(const char *field) { return take(1, field)[0]; }
	std::uint16_t u16(const char *field)
	{
		auto b = take(2, field);
		return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
	}
	std::uint32_t u32(const char *field)
	{
		auto b = take(4, field);
		return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 |
		       std::uint32_t(b[2]) << 8 | b[3];
	}
	std::span<const std::uint8_t> take(std::size_t n, const char *field)
	{
		if (body_.size() - at_ < n)
			fail("body of " + std::to_string(body_.size()) + " bytes ends in the " +
			     field);
		auto b = body_.subspan(at_, n);
		at_ += n;
		return b;
	}
	std::span<const std::uint8_t> rest()
	{
		auto b = body_.subspan(at_);
		at_ = body_.size();
		return b;
	}
	void end() const
	{
		if (at_ != body_.size())
			fail(std::to_string(body_.size() - at_) +
			     " bytes after the last field (body of " +
			     std::to_string(body_.size()) + " bytes)");
	}

	[[noreturn]] void fail(const std::string &why) const
	{
		throw ProtocolError(ErrorCode::Malformed, type_prefix(type_) + why);
	}

private:
	Type type_;
	std::span<const std::uint8_t> body_;
	std::size_t at_ = 0;
};

template <class M>
M checked(const BodyReader &r, M m)
{
	if (auto why = problem(m); !why.empty())
		r.fail(why);
	return m;
}

std::string text_of(std::span<const std::uint8_t> b)
{
	return std::string(b.begin(), b.end());
}

Message decode_hello(BodyReader &r)
{
	Hello m;
	m.role = static_cast<Role>(r.u8("role"));
	std::uint8_t flags = r.u8("flags");
	if (flags & ~kFlagDirect)
		r.fail("reserved flag bits set (flags " + std::to_string(flags) + ")");
	m.direct = flags & kFlagDirect;
	std::uint16_t port = r.u16("ILP port");
	std::uint8_t family = r.u8("address family");
	if (family != kFamily4 && family != kFamily6)
		r.fail("address family " + std::to_string(family) + " (4 or 6)");
	auto addr = r.take(family == kFamily4 ? 4 : 16, "address");
	m.endpoint = ilp::Endpoint::from_bytes(addr, port);
	std::uint8_t name_len = r.u8("edomain length");
	if (name_len > kMaxName)
		r.fail("edomain of " + std::to_string(name_len) + " bytes, more than " +
		       std::to_string(kMaxName));
	m.edomain = text_of(r.take(name_len, "edomain"));
	r.end();
	return checked(r, std::move(m));
}

Message decode_sa_offer(BodyReader &r)
{
	SaOffer m;
	m.seq = r.u32("seq");
	m.spi = r.u32("SPI");
	m.version = static_cast<ilp::psp::Version>(r.u8("PSP version"));
	auto key = r.rest();
	m.key.assign(key.begin(), key.end());
	return checked(r, std::move(m));
}

Message decode_body(Type type, BodyReader &r)
{
	switch (type) {
	case Type::Hello:
		return decode_hello(r);
	case Type::SaOffer:
		return decode_sa_offer(r);
	case Type::SaAck: {
		SaAck m;
		m.seq = r.u32("seq");
		m.spi = r.u32("SPI");
		r.end();
		return checked(r, m);
	}
	case Type::Rekey: {
		Rekey m;
		m.reason = r.u8("reason");
		r.end();
		return checked(r, m);
	}
	case Type::Keepalive:
		r.end();
		return Keepalive{};
	case Type::Error: {
		ErrorMsg m;
		m.code = static_cast<ErrorCode>(r.u16("code"));
		m.reason = text_of(r.rest());
		return checked(r, std::move(m));
	}
	case Type::Bye:
		r.end();
		return Bye{};
	case Type::SvcRequest: {
		SvcRequest m;
		m.service = r.u32("service");
		m.request_id = r.u32("request ID");
		auto p = r.rest();
		m.payload.assign(p.begin(), p.end());
		return checked(r, std::move(m));
	}
	case Type::SvcReply: {
		SvcReply m;
		m.request_id = r.u32("request ID");
		m.status = static_cast<std::int32_t>(r.u32("status"));
		auto p = r.rest();
		m.payload.assign(p.begin(), p.end());
		return checked(r, std::move(m));
	}
	}
	throw ProtocolError(ErrorCode::UnknownType,
			    "unknown message type " + std::to_string(static_cast<unsigned>(type)));
}

class BodyWriter
{
public:
	explicit BodyWriter(SecretBytes &out) : out_(out) {}

	void u8(std::uint8_t v) { out_.push_back(v); }
	void u16(std::uint16_t v)
	{
		u8(static_cast<std::uint8_t>(v >> 8));
		u8(static_cast<std::uint8_t>(v));
	}
	void u32(std::uint32_t v)
	{
		u16(static_cast<std::uint16_t>(v >> 16));
		u16(static_cast<std::uint16_t>(v));
	}
	template <class Bytes>
	void bytes(const Bytes &b)
	{
		out_.insert(out_.end(), b.begin(), b.end());
	}

private:
	SecretBytes &out_;
};

void encode_body(BodyWriter &w, const Hello &m)
{
	w.u8(static_cast<std::uint8_t>(m.role));
	w.u8(m.direct ? kFlagDirect : 0);
	w.u16(m.endpoint.port);
	w.u8(m.endpoint.family == AF_INET ? kFamily4 : kFamily6);
	w.bytes(m.endpoint.addr_bytes());
	w.u8(static_cast<std::uint8_t>(m.edomain.size()));
	w.bytes(m.edomain);
}

void encode_body(BodyWriter &w, const SaOffer &m)
{
	w.u32(m.seq);
	w.u32(m.spi);
	w.u8(static_cast<std::uint8_t>(m.version));
	w.bytes(m.key);
}

void encode_body(BodyWriter &w, const SaAck &m)
{
	w.u32(m.seq);
	w.u32(m.spi);
}

void encode_body(BodyWriter &w, const Rekey &m)
{
	w.u8(m.reason);
}

void encode_body(BodyWriter &, const Keepalive &) {}

void encode_body(BodyWriter &w, const ErrorMsg &m)
{
	w.u16(static_cast<std::uint16_t>(m.code));
	w.bytes(m.reason);
}

void encode_body(BodyWriter &, const Bye &) {}

void encode_body(BodyWriter &w, const SvcRequest &m)
{
	w.u32(m.service);
	w.u32(m.request_id);
	w.bytes(m.payload);
}

void encode_body(BodyWriter &w, const SvcReply &m)
{
	w.u32(m.request_id);
	w.u32(static_cast<std::uint32_t>(m.status));
	w.bytes(m.payload);
}

std::string rekey_reason_name(std::uint8_t reason)
{
	switch (reason) {
	case kRekeyAdmin:
		return "admin";
	case kRekeyIvExhaustion:
		return "iv-exhaustion";
	}
	return std::to_string(reason);
}

std::string details(const Hello &m)
{
	std::string s =
	    std::string(" role=") +
	    (m.role == Role::Sn     ? "sn"
	     : m.role == Role::Host ? "host"
				    : "?") +
	    " endpoint=" +
	    (m.endpoint.family == AF_INET || m.endpoint.family == AF_INET6 ? m.endpoint.to_string()
									   : "?");
	if (!m.edomain.empty())
		s += " edomain=" + quoted(m.edomain);
	return s + " direct=" + (m.direct ? "yes" : "no");
}

std::string details(const SaOffer &m)
{
	// The key's length only: its bytes never reach a log.
	return " seq=" + std::to_string(m.seq) + " spi=" + spi_string(m.spi) +
	       " psp-version=" + std::to_string(static_cast<unsigned>(m.version)) + " key=(" +
	       std::to_string(m.key.size()) + " bytes)";
}

std::string details(const SaAck &m)
{
	return " seq=" + std::to_string(m.seq) + " spi=" + spi_string(m.spi);
}

std::string details(const Rekey &m)
{
	return " reason=" + rekey_reason_name(m.reason);
}

std::string details(const Keepalive &)
{
	return "";
}

std::string details(const ErrorMsg &m)
{
	return std::string(" code=") + error_name(m.code) + " reason=" + quoted(m.reason);
}

std::string details(const Bye &)
{
	return "";
}

std::string details(const SvcRequest &m)
{
	return " service=" + std::to_string(m.service) +
	       " request-id=" + std::to_string(m.request_id) + " payload=(" +
	       std::to_string(m.payload.size()) + " bytes)";
}

std::string details(const SvcReply &m)
{
	return " request-id=" + std::to_string(m.request_id) +
	       " status=" + std::to_string(m.status) + " payload=(" +
	       std::to_string(m.payload.size()) + " bytes)";
}

} // namespace

Type type_of(const Message &m) noexcept
{
	return static_cast<Type>(m.index() + 1);
}

SecretBytes encode(const Message &m)
{
	Type type = type_of(m);
	std::string why = std::visit([](const auto &v) { return problem(v); }, m);
	if (!why.empty())
		throw std::invalid_argument(type_prefix(type) + why);

	SecretBytes frame;
	frame.reserve(kHeaderSize + kMaxBody);
	BodyWriter w(frame);
	w.u8(kVersion);
	w.u8(static_cast<std::uint8_t>(type));
	w.u16(0); // the body's length, below
	std::visit([&](const auto &v) { encode_body(w, v); }, m);
	// Every valid message fits (the largest, SVC_REQ, is 1008 bytes).
	std::size_t length = frame.size() - kHeaderSize;
	frame[2] = static_cast<std::uint8_t>(length >> 8);
	frame[3] = static_cast<std::uint8_t>(length);
	return frame;
}

Message decode(Type type, std::span<const std::uint8_t> body)
{
	BodyReader r(type, body);
	return decode_body(type, r);
}

const char *type_name(Type type) noexcept
{
	switch (type) {
	case Type::Hello:
		return "HELLO";
	case Type::SaOffer:
		return "SA_OFFER";
	case Type::SaAck:
		return "SA_ACK";
	case Type::Rekey:
		return "REKEY";
	case Type::Keepalive:
		return "KEEPALIVE";
	case Type::Error:
		return "ERROR";
	case Type::Bye:
		return "BYE";
	case Type::SvcRequest:
		return "SVC_REQ";
	case Type::SvcReply:
		return "SVC_REPLY";
	}
	return "unknown";
}

const char *error_name(ErrorCode code) noexcept
{
	switch (code) {
	case ErrorCode::Malformed:
		return "malformed";
	case ErrorCode::Version:
		return "version";
	case ErrorCode::Unexpected:
		return "unexpected";
	case ErrorCode::Replay:
		return "replay";
	case ErrorCode::Identity:
		return "identity";
	case ErrorCode::Refused:
		return "refused";
	case ErrorCode::Duplicate:
		return "duplicate";
	case ErrorCode::Internal:
		return "internal";
	case ErrorCode::UnknownType:
		return "unknown-type";
	case ErrorCode::Timeout:
		return "timeout";
	}
	return "unknown";
}

std::string describe(const Message &m)
{
	return type_name(type_of(m)) + std::visit([](const auto &v) { return details(v); }, m);
}

std::string fit_reason(std::string_view text)
{
	std::string out;
	for (std::size_t i = 0; i < text.size();) {
		std::size_t n = text[i] == '\0' ? 0 : utf8_char(text, i);
		std::size_t width = n ? n : 1;
		if (out.size() + width > kMaxReason)
			break;
		if (n)
			out.append(text.substr(i, n));
		else
			out += '?';
		i += width;
	}
	return out;
}

void FrameReader::feed(std::span<const std::uint8_t> bytes)
{
	if (failed_)
		return;
	buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::optional<Message> FrameReader::next()
{
	if (failed_)
		throw *failed_;
	if (buf_.size() < kHeaderSize)
		return std::nullopt;
	try {
		if (buf_[0] != kVersion)
			throw ProtocolError(ErrorCode::Version,
					    "frame version " + std::to_string(buf_[0]) +
						", this ilpd speaks " + std::to_string(kVersion));
		std::size_t length = std::size_t(buf_[2]) << 8 | buf_[3];
		if (length > kMaxBody)
			throw ProtocolError(ErrorCode::Malformed,
					    "frame of " + std::to_string(length) +
						" bytes, more than " + std::to_string(kMaxBody));
		auto type = static_cast<Type>(buf_[1]);
		if (std::string_view(type_name(type)) == "unknown")
			throw ProtocolError(ErrorCode::UnknownType,
					    "unknown message type " + std::to_string(buf_[1]));
		if (buf_.size() < kHeaderSize + length)
			return std::nullopt;
		Message m = decode(type, std::span(buf_).subspan(kHeaderSize, length));
		// Move what follows to the front, and wipe the tail it leaves:
		// the frame may have held a key.
		std::size_t used = kHeaderSize + length, left = buf_.size() - used;
		std::copy(buf_.begin() + used, buf_.end(), buf_.begin());
		OPENSSL_cleanse(buf_.data() + left, used);
		buf_.resize(left);
		return m;
	} catch (const ProtocolError &e) {
		failed_ = e;
		OPENSSL_cleanse(buf_.data(), buf_.size());
		buf_.clear();
		throw;
	}
}

} // namespace ilpd::ctl

// SPDX-License-Identifier: GPL-2.0-or-later
//
// The messages of the control channel between ilpd instances
// (docs/control.md): their frames on the wire, and a strict parser.
// Everything that is not exactly a valid message is refused with a
// ProtocolError, which carries the code to send back in an ERROR.
//
//	ilpd::ctl::FrameReader reader;
//	reader.feed(bytes_read);
//	while (auto m = reader.next())
//		handle(std::move(*m));
//	...
//	write(ilpd::ctl::encode(ilpd::ctl::SaAck{.seq = 1, .spi = spi}));
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <openssl/crypto.h>

#include <ilp/endpoint.hpp>
#include <ilp/psp_kdf.hpp>

namespace ilpd::ctl
{

inline constexpr std::uint8_t kVersion = 1; // ILP_CTL_VERSION
inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::size_t kMaxBody = 1024;
inline constexpr std::size_t kMaxReason = 255;
inline constexpr std::size_t kMaxServicePayload = 1000;
inline constexpr std::size_t kMaxName = 63;

enum class Type : std::uint8_t {
	Hello = 1,
	SaOffer,
	SaAck,
	Rekey,
	Keepalive,
	Error,
	Bye,
	SvcRequest,
	SvcReply,
};

enum class Role : std::uint8_t {
	Host = 1,
	Sn = 2,
};

enum class ErrorCode : std::uint16_t {
	Malformed = 1,
	Version,
	Unexpected,
	Replay,
	Identity,
	Refused,
	Duplicate,
	Internal,
	UnknownType,
	Timeout,
};

// An allocator whose memory is overwritten before it is freed: the
// buffers that hold keys (an SA_OFFER's, and the frames that carry one)
// leave nothing behind, whatever copies, moves or reallocations the
// vector made on the way.
template <class T>
struct WipingAllocator {
	using value_type = T;

	WipingAllocator() noexcept = default;
	template <class U>
	WipingAllocator(const WipingAllocator<U> &) noexcept
	{
	}

	T *allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
	void deallocate(T *p, std::size_t n) noexcept
	{
		OPENSSL_cleanse(p, n * sizeof(T));
		std::allocator<T>().deallocate(p, n);
	}

	template <class U>
	bool operator==(const WipingAllocator<U> &) const noexcept
	{
		return true;
	}
};

// Bytes that may be secret: wiped when their memory is freed.
using SecretBytes = std::vector<std::uint8_t, WipingAllocator<std::uint8_t>>;

// The first message each side sends: who it is.
struct Hello {
	Role role = Role::Host;
	bool direct = false;    // direct host-to-host pipes allowed
	ilp::Endpoint endpoint; // its ILP address and the UDP port its packets arrive on
	std::string edomain;    // an SN's edomain; empty for a host

	friend bool operator==(const Hello &, const Hello &) = default;
};

// "Here is an SA I, the receiver, allocated for you: send to me with it."
struct SaOffer {
	std::uint32_t seq = 0; // 1, 2, ... per channel and direction
	std::uint32_t spi = 0; // nonzero
	ilp::psp::Version version = ilp::psp::Version::AesGcm128;
	SecretBytes key; // ilp::psp::key_size(version) bytes

	friend bool operator==(const SaOffer &, const SaOffer &) = default;
};

// The offer of @seq is installed as the sender's transmit SA.
struct SaAck {
	std::uint32_t seq = 0;
	std::uint32_t spi = 0;

	friend bool operator==(const SaAck &, const SaAck &) = default;
};

inline constexpr std::uint8_t kRekeyAdmin = 0;
inline constexpr std::uint8_t kRekeyIvExhaustion = 1;

// "Offer me a new SA."
struct Rekey {
	std::uint8_t reason = kRekeyAdmin; // kRekeyAdmin or kRekeyIvExhaustion

	friend bool operator==(const Rekey &, const Rekey &) = default;
};

struct Keepalive {
	friend bool operator==(const Keepalive &, const Keepalive &) = default;
};

// The sender closes the channel after it.
struct ErrorMsg {
	ErrorCode code = ErrorCode::Internal;
	std::string reason; // UTF-8, at most kMaxReason bytes, no NUL (see fit_reason())

	friend bool operator==(const ErrorMsg &, const ErrorMsg &) = default;
};

// The sender withdraws the association.
struct Bye {
	friend bool operator==(const Bye &, const Bye &) = default;
};

struct SvcRequest {
	std::uint32_t service = 0;
	std::uint32_t request_id = 0;
	std::vector<std::uint8_t> payload; // at most kMaxServicePayload bytes

	friend bool operator==(const SvcRequest &, const SvcRequest &) = default;
};

struct SvcReply {
	std::uint32_t request_id = 0;
	std::int32_t status = 0;           // 0, or a negative errno
	std::vector<std::uint8_t> payload; // at most kMaxServicePayload bytes

	friend bool operator==(const SvcReply &, const SvcReply &) = default;
};

// In the order of Type: index() + 1 is the message's type.
using Message =
    std::variant<Hello, SaOffer, SaAck, Rekey, Keepalive, ErrorMsg, Bye, SvcRequest, SvcReply>;

// Anything that is not a valid message: the code to send back in ERROR,
// and a reason for the log ("SA_OFFER: key of 20 bytes for PSP version 0").
class ProtocolError : public std::runtime_error
{
public:
	ProtocolError(ErrorCode code, const std::string &reason)
	    : std::runtime_error(reason), code_(code)
	{
	}

	ErrorCode code() const noexcept { return code_; }

private:
	ErrorCode code_;
};

Type type_of(const Message &m) noexcept;

// The whole frame, header and body.  Throws std::invalid_argument for a
// field the peer would refuse: this side's bug, not the peer's.  The
// frame of an SA_OFFER holds its key, hence SecretBytes.
SecretBytes encode(const Message &m);

// The body of a frame of @type.  Throws ProtocolError.
Message decode(Type type, std::span<const std::uint8_t> body);

// "HELLO", "SA_OFFER", ...; "unknown" for a value that is none.
const char *type_name(Type type) noexcept;
// "malformed", "version", ...; "unknown" for a value that is none.
const char *error_name(ErrorCode code) noexcept;

// One line for the log.  Never the bytes of a key; text from the peer
// (an ERROR's reason, an edomain) with control characters escaped.
std::string describe(const Message &m);

// @text made a valid ERROR reason: cut to kMaxReason bytes at a character
// boundary, NULs and bytes that are not UTF-8 replaced by '?'.  For
// reasons built from what the peer or OpenSSL said.
std::string fit_reason(std::string_view text);

// Frames out of a byte stream.  feed() what the socket read; next() gives
// each complete frame's message, in order, and nothing until one is
// complete.  A bad header throws ProtocolError as soon as its 4 bytes are
// in (version: Version; length over kMaxBody: Malformed; type:
// UnknownType), so an oversized frame is refused before its body is read.
// After a ProtocolError the stream has no frame boundaries left: next()
// throws it again.
class FrameReader
{
public:
	void feed(std::span<const std::uint8_t> bytes);
	std::optional<Message> next();
	std::size_t buffered() const noexcept { return buf_.size(); }

private:
	SecretBytes buf_; // may hold a key
	std::optional<ProtocolError> failed_;
};

} // namespace ilpd::ctl

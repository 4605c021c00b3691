// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A small generic-netlink client over libmnl: one socket, requests built
// attribute by attribute, replies handed to a callback, errors raised as
// ilp::NetlinkError carrying the kernel's extack message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ilp/error.hpp"

struct mnl_socket;
struct nlmsghdr;
struct nlattr;

namespace ilp::nl
{

// An error answered by the kernel (or met talking to it).  what() reads
// "CONTEXT: strerror(code)[: extack message]".
class NetlinkError : public ilp::Error
{
public:
	NetlinkError(int err, const std::string &context, std::string extack = {});
	const std::string &extack() const noexcept { return extack_; }

private:
	std::string extack_;
};

// Builds one request in a buffer of its own.  The buffer is wiped when the
// request goes away: some requests carry keys.
class Request
{
public:
	// @capacity: the most bytes the message may take, at least libmnl's
	// MNL_SOCKET_BUFFER_SIZE (the default), which every request fits
	// but those carrying a packet.  An attribute that does not fit
	// throws NetlinkError(EMSGSIZE).
	Request(std::uint16_t type, std::uint16_t flags, std::uint8_t cmd, std::uint8_t version,
		std::size_t capacity = 0);
	Request(Request &&other) noexcept;
	Request &operator=(Request &&other) noexcept;
	Request(const Request &) = delete;
	Request &operator=(const Request &) = delete;
	~Request();

	Request &put_u8(std::uint16_t type, std::uint8_t v);
	Request &put_u16(std::uint16_t type, std::uint16_t v);
	Request &put_u32(std::uint16_t type, std::uint32_t v);
	Request &put_u64(std::uint16_t type, std::uint64_t v);
	Request &put_str(std::uint16_t type, std::string_view v);
	Request &put_bytes(std::uint16_t type, std::span<const std::uint8_t> v);
	// A flag: an attribute with no payload, present or not.
	Request &put_flag(std::uint16_t type);
	nlattr *nest_start(std::uint16_t type);
	void nest_end(nlattr *nest);

	nlmsghdr *header() noexcept { return hdr_; }
	const nlmsghdr *header() const noexcept { return hdr_; }
	std::span<const std::uint8_t> bytes() const noexcept;

private:
	void wipe() noexcept;

	std::vector<std::uint8_t> buf_;
	nlmsghdr *hdr_;
};

// The attributes of one nesting level, indexed by type.  Types above the
// maximum the caller knows are ignored (newer kernels may send more).
class Attrs
{
public:
	// Attributes of a generic netlink message, after its genl header.
	static Attrs of_message(const nlmsghdr *nlh, std::uint16_t max_type);
	// Attributes nested inside @nest.
	static Attrs of_nest(const nlattr *nest, std::uint16_t max_type);

	const nlattr *get(std::uint16_t type) const noexcept;
	bool has(std::uint16_t type) const noexcept { return get(type) != nullptr; }
	std::optional<std::uint8_t> u8(std::uint16_t type) const;
	std::optional<std::uint16_t> u16(std::uint16_t type) const;
	std::optional<std::uint32_t> u32(std::uint16_t type) const;
	std::optional<std::uint64_t> u64(std::uint16_t type) const;
	std::optional<std::string> str(std::uint16_t type) const;
	// The payload of a binary attribute, pointing into the message.
	std::optional<std::span<const std::uint8_t>> bytes(std::uint16_t type) const;
	// A flag attribute: true when present.
	bool flag(std::uint16_t type) const noexcept { return has(type); }
	// Every value of a u8 attribute that may repeat, in order (get()
	// and u8() see only the last one).
	std::vector<std::uint8_t> u8_all(std::uint16_t type) const;
	// Every attribute of @type, in order: for repeated nests.
	std::vector<const nlattr *> all(std::uint16_t type) const;

private:
	explicit Attrs(std::uint16_t max_type) : table_(max_type + 1u, nullptr) {}
	std::vector<const nlattr *> table_;
	// The attributes parsed, for the repeated ones.
	const void *start_ = nullptr;
	std::size_t len_ = 0;
};

struct FamilyInfo {
	std::uint16_t id;
	std::uint32_t version;
	std::uint32_t max_attr;
	// Its multicast groups: name and ID.
	std::vector<std::pair<std::string, std::uint32_t>> groups{};
};

// One NETLINK_GENERIC socket with extended acks enabled.
class GenlSocket
{
public:
	using Handler = std::function<void(const nlmsghdr *)>;

	GenlSocket();
	GenlSocket(GenlSocket &&) noexcept;
	GenlSocket &operator=(GenlSocket &&) noexcept;
	~GenlSocket();

	// Looks a family up by name; nullopt when the kernel has none by
	// that name (its module is not loaded).
	std::optional<FamilyInfo> resolve(std::string_view name);

	// Sends @req (sequence number and port filled in here) and calls
	// @handler for each reply until the final ack or NLMSG_DONE.  A
	// dump whose result the kernel marked inconsistent is retried a
	// few times before NetlinkError(EINTR) is thrown.  An error the
	// kernel answers names @what ("adding a peer") when given.
	void transact(Request &req, const Handler &handler, const std::string &what = {});

	// Reads messages nobody asked for on this socket (upcalls): waits up
	// to @timeout_ms (-1: no limit) for a datagram from the kernel and
	// calls @handler for each message in it.  Error and control
	// messages (NLMSG_ERROR, NLMSG_DONE...) and datagrams from other
	// sockets than the kernel's are skipped.  Returns false when the
	// time passed, or a signal interrupted the wait, before anything
	// came; true otherwise, even when nothing reached @handler.
	// Unsolicited messages that arrived while transact() waited for a
	// reply (sequence number and port 0) were kept, and come first.
	// Socket overruns (ENOBUFS: the kernel dropped messages for this
	// socket, its receive buffer being full) are not errors: they
	// return true and count in overruns().  Use a socket for this
	// alone: its transact() would skip the upcalls in the way.
	bool receive(const Handler &handler, int timeout_ms);

	// How many times messages for this socket were lost: receive
	// queue overruns (each may have lost many) and messages too big
	// to read whole.
	std::uint64_t overruns() const noexcept { return overruns_; }

	// Sets the socket's receive buffer (SO_RCVBUFFORCE, or SO_RCVBUF
	// capped at net.core.rmem_max without CAP_NET_ADMIN); the kernel
	// doubles @bytes for its bookkeeping.  receive_buffer() reads back
	// what the kernel set.
	void set_receive_buffer(int bytes);
	// Joins multicast group @group (an ID from resolve()): its messages
	// come to receive().  Needs what the family asks (CAP_NET_ADMIN for
	// ilp's "events").
	void join(std::uint32_t group);
	int receive_buffer() const;

	// The file descriptor, to wait on in an event loop, and the port.
	int fd() const noexcept;
	std::uint32_t portid() const noexcept { return portid_; }

private:
	void transact_once(Request &req, const Handler &handler, bool &interrupted,
			   const std::string &what);
	void keep_unsolicited(const nlmsghdr *nlh);

	struct MnlClose {
		void operator()(mnl_socket *s) const noexcept;
	};
	std::unique_ptr<mnl_socket, MnlClose> sock_;
	std::uint32_t portid_ = 0;
	std::uint32_t seq_ = 0;
	std::vector<std::uint8_t> rxbuf_;
	// Unsolicited messages met by transact(), for receive().
	std::deque<std::vector<std::uint8_t>> unsolicited_;
	std::uint64_t overruns_ = 0;
};

// Decodes an NLMSG_ERROR message: the error code (0 for an ack, else a
// positive errno) and the extack message, if any.
struct ErrorReply {
	int error;
	std::string extack;
};
ErrorReply parse_error(const nlmsghdr *nlh);

} // namespace ilp::nl

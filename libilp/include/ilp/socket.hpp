// SPDX-License-Identifier: LGPL-2.1-or-later
//
// AF_ILP sockets for applications: ilp::Socket sends and receives the
// datagrams of one ILP service, ilp::Address names the other end (service,
// connection, host and the SN to go through), ilp::Metadata builds and
// reads the TLVs that travel in the ILP header.
//
//	ilp::Socket sock;
//	sock.connect(ilp::Address::parse("4242@192.0.2.7"));
//	ilp::Metadata md;
//	md.add_string(0x0100, "hello");
//	sock.send(std::as_bytes(std::span(text)), &md);
//	std::array<std::byte, 2048> buf;
//	auto r = sock.receive(buf);
//
// Errors are thrown as ilp::Error (a std::system_error whose code() is the
// errno) with a message naming the operation and, where it helps, what to
// do about it (load the module, associate the host with an SN...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include <linux/ilp.h>

#include "ilp/endpoint.hpp"

namespace ilp
{

namespace app
{
class Transport;
}

// The address of an AF_ILP socket or of the other end of one.
//
// Its text form, what parse() reads and to_string() writes:
//
//	SERVICE[/CONN][@HOST[:PORT]][ via SN[:PORT]]
//
// SERVICE and CONN are numbers, decimal or hexadecimal with "0x"; HOST and
// SN are endpoints as Endpoint::parse() reads them ("192.0.2.1",
// "192.0.2.1:1001", "2001:db8::1", "[2001:db8::1]:1001"); PORT defaults to
// ILP_UDP_PORT.  For example "4242/17@192.0.2.7 via 198.51.100.1".
//
// IPv6 scope IDs are not represented: the kernel keys its peers by address
// and port only, and from_sockaddr() drops silp_host.scope_id.
struct Address {
	std::uint32_t service = 0;
	// ILP_CONN_ANY (0): when binding, every connection of the service;
	// when sending, the connection the socket is bound to.
	std::uint64_t conn = ILP_CONN_ANY;
	// The host: absent only in a local address (Socket::local_address()),
	// which has none.  Sending and connecting need one.
	std::optional<Endpoint> host;
	// The SN to go through to reach @host; absent: the host's association
	// (or @host directly, when it is a direct peer).  In a received
	// packet's sender: the SN the packet came through, absent when it
	// came directly.
	std::optional<Endpoint> sn;

	// Reads the text form above.  Throws ilp::Error(EINVAL) naming what
	// is wrong: a service outside 1..4294967294 (the kernel takes no
	// other), a connection that is not a 64-bit number, a bad endpoint.
	static Address parse(std::string_view text);

	// The address in @sa.  A port of 0 reads as ILP_UDP_PORT, as the
	// kernel takes it.  Throws ilp::Error(EINVAL) when silp_host or
	// silp_sn has a family other than AF_INET, AF_INET6 or 0 (none).
	// silp_family is not checked: see af_ilp().
	static Address from_sockaddr(const sockaddr_ilp &sa);

	// The address as the kernel takes it, silp_family set to @family
	// (pass the family a socket was opened with; Socket does).
	sockaddr_ilp to_sockaddr(int family) const;

	// The text form: "4242/17@192.0.2.7:1000 via [2001:db8::1]:1000";
	// "/CONN" only when the connection is not ILP_CONN_ANY.
	std::string to_string() const;

	bool operator==(const Address &other) const = default;
};

// One TLV of a Metadata: a view into the Metadata's bytes, valid while the
// Metadata lives unchanged.
struct Tlv {
	std::uint16_t type = 0; // as on the wire, ILP_TLV_CRITICAL bit included
	std::span<const std::byte> value;

	// The type without its critical bit.
	std::uint16_t base_type() const noexcept { return type & ~ILP_TLV_CRITICAL; }
	bool critical() const noexcept { return (type & ILP_TLV_CRITICAL) != 0; }
	// One of ILP's own types (0x0001-0x00ff, critical bit aside), which
	// the kernel adds and applications may not send.
	bool own() const noexcept { return base_type() >= 1 && base_type() <= ILP_TLV_OWN_MAX; }

	// The value as an unsigned number in network order, or as text.
	// Throws ilp::Error(EINVAL) when the value is not 1, 2, 4 or 8 bytes
	// long as asked.
	std::uint8_t as_u8() const;
	std::uint16_t as_u16() const;
	std::uint32_t as_u32() const;
	std::uint64_t as_u64() const;
	std::string as_string() const;
};

// The TLV metadata of a packet, encoded as on the wire: each TLV a 16-bit
// type, a 16-bit value length, the value and zero padding to 4 bytes (see
// docs/protocol.md).  A Metadata is always well formed: add() builds
// valid TLVs, parse() refuses anything else.
class Metadata
{
public:
	class Iterator
	{
	public:
		using iterator_category = std::forward_iterator_tag;
		using value_type = Tlv;
		using difference_type = std::ptrdiff_t;
		using pointer = const Tlv *;
		using reference = const Tlv &;

		Iterator() = default;
		const Tlv &operator*() const noexcept { return tlv_; }
		const Tlv *operator->() const noexcept { return &tlv_; }
		Iterator &operator++() noexcept
		{
			next();
			return *this;
		}
		Iterator operator++(int) noexcept
		{
			auto old = *this;
			next();
			return old;
		}
		bool operator==(const Iterator &other) const noexcept { return pos_ == other.pos_; }

	private:
		friend class Metadata;
		Iterator(std::span<const std::byte> bytes, std::size_t pos) noexcept;
		// Skips padding (type 0) from pos_ on and decodes the TLV there.
		void settle() noexcept;
		// Moves past tlv_, then settles.
		void next() noexcept;

		std::span<const std::byte> bytes_;
		std::size_t pos_ = 0; // where tlv_ starts; bytes_.size() at the end
		Tlv tlv_;
	};

	Metadata() = default;

	// The TLV area in @bytes, as the kernel delivers it
	// (ILP_CMSG_METADATA) or as ILP_SO_METADATA holds it.  Throws
	// ilp::Error(EINVAL) when it is not a multiple of 4 bytes or a TLV
	// runs past its end.  ILP's own types are accepted (a received
	// packet has them); padding TLVs (type 0) are kept but skipped by
	// iteration.
	static Metadata parse(std::span<const std::byte> bytes);

	// Appends a TLV.  Builds metadata to send, so throws ilp::Error:
	// EINVAL for type 0 (padding) or one of ILP's own types, EMSGSIZE
	// when the metadata would pass ILP_METADATA_MAX bytes.  The typed
	// forms encode numbers in network order.
	Metadata &add(std::uint16_t type, std::span<const std::byte> value);
	Metadata &add_u8(std::uint16_t type, std::uint8_t v);
	Metadata &add_u16(std::uint16_t type, std::uint16_t v);
	Metadata &add_u32(std::uint16_t type, std::uint32_t v);
	Metadata &add_u64(std::uint16_t type, std::uint64_t v);
	Metadata &add_string(std::uint16_t type, std::string_view v);

	// The TLVs in order, padding skipped.
	Iterator begin() const noexcept { return Iterator(bytes_, 0); }
	Iterator end() const noexcept { return Iterator(bytes_, bytes_.size()); }
	// How many TLVs, padding not counted.
	std::size_t count() const noexcept;
	bool empty() const noexcept { return begin() == end(); }

	// The first TLV of @type, compared without the critical bit.
	std::optional<Tlv> find(std::uint16_t type) const noexcept;

	// Whether any TLV is of one of ILP's own types (which a socket
	// cannot send), and a copy without them (to pass received metadata
	// on).
	bool has_own() const noexcept;
	Metadata without_own() const;

	// ILP's own TLVs decoded: the host that sent the packet
	// (ILP_TLV_SRC_HOST) and the host it is for (ILP_TLV_DST_HOST), as
	// the kernel adds them.  nullopt when absent; ilp::Error(EINVAL)
	// when the value is not 4 or 16 address bytes and a port.
	std::optional<Endpoint> src_host() const;
	std::optional<Endpoint> dst_host() const;

	// The encoded TLVs, a multiple of 4 bytes.
	std::span<const std::byte> bytes() const noexcept { return bytes_; }
	std::size_t size() const noexcept { return bytes_.size(); }

	bool operator==(const Metadata &other) const = default;

private:
	std::optional<Endpoint> host_tlv(std::uint16_t type) const;

	std::vector<std::byte> bytes_;
};

// What Socket::receive() read.
struct Received {
	// Payload bytes now in the buffer; with MSG_TRUNC in the flags, the
	// packet's whole payload length, which may be more.
	std::size_t size = 0;
	// The payload did not fit the buffer: the rest is lost.
	bool truncated = false;
	// The sender: its service and connection, the host it came from and
	// the SN it came through.  send_to(from, ...) answers it the same way.
	Address from;
	// The packet's whole TLV area, ILP's own TLVs included, when
	// set_receive_metadata(true) asked for it.
	std::optional<Metadata> metadata;
};

// An AF_ILP datagram socket.  Move-only; closed when it goes away.  Calls
// a signal interrupts (EINTR) are restarted.
//
// Without ilp.ko (socket(AF_ILP) fails with EAFNOSUPPORT), the same API
// runs over the local ilpd's app socket, for nodes on ilpd's userspace
// datapath (docs/app-socket.md): $ILP_APP_SOCKET, by default
// /run/ilp/app.sock.  $ILP_TRANSPORT=kernel or unix forces one transport.
// The errnos are the kernel's; fd() is then the UNIX socket packets arrive
// on, which polls, blocks and reads the same way.
class Socket
{
public:
	// Opens a socket of the family af_ilp() names, or else connects to
	// ilpd's app socket.  @flags: any of SOCK_NONBLOCK and SOCK_CLOEXEC
	// (others: ilp::Error(EINVAL)).  Throws ilp::Error(EAFNOSUPPORT)
	// saying to load ilp.ko or start ilpd when neither is there (with
	// ILP_TRANSPORT=unix: the errno of the app socket's connect()).
	explicit Socket(int flags = SOCK_CLOEXEC);
	Socket(Socket &&other) noexcept;
	Socket &operator=(Socket &&other) noexcept;
	Socket(const Socket &) = delete;
	Socket &operator=(const Socket &) = delete;
	~Socket();

	// Receives the packets of (@service, @conn); ILP_CONN_ANY: of every
	// connection of @service that no other socket is bound to.
	// EADDRINUSE when another socket has it, EACCES for a service up to
	// ILP_SERVICE_RESERVED_MAX without CAP_NET_BIND_SERVICE.  A socket
	// that sends or connects first is bound by the kernel to the
	// destination's service and connection (a random one if that is 0).
	void bind(std::uint32_t service, std::uint64_t conn = ILP_CONN_ANY);

	// Makes @to the destination of send().  @to needs a host.
	void connect(const Address &to);
	// Forgets the destination (connect(AF_UNSPEC)).
	void disconnect();

	// Sends @data to the connected destination, or to @to.  @metadata:
	// this packet's TLVs instead of the socket's sticky ones
	// (set_metadata()), an empty Metadata for none at all; nullptr: the
	// sticky ones.  Returns the bytes sent.
	std::size_t send(std::span<const std::byte> data, const Metadata *metadata = nullptr);
	std::size_t send_to(const Address &to, std::span<const std::byte> data,
			    const Metadata *metadata = nullptr);

	// Waits for a packet (unless the socket is non-blocking or @flags has
	// MSG_DONTWAIT) and reads its payload into @buf.  @flags: any of
	// MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT.  With nothing to read on a
	// non-blocking socket throws ilp::Error(EAGAIN): try_receive() returns
	// nullopt instead.  After shutdown(SHUT_RD) with nothing queued,
	// returns size 0 and no sender.
	Received receive(std::span<std::byte> buf, int flags = 0);
	std::optional<Received> try_receive(std::span<std::byte> buf, int flags = 0);

	// Sticky metadata: sent with every packet that brings none of its own.
	void set_metadata(const Metadata &metadata);
	void clear_metadata();
	Metadata metadata() const;

	// Whether receive() also reads each packet's TLVs.
	void set_receive_metadata(bool on);

	// The (service, connection) the socket is bound to (0, 0 when it is
	// not); no host.
	Address local_address() const;
	// The connected destination; ilp::Error(ENOTCONN) when there is none.
	Address peer_address() const;

	// SHUT_RD, SHUT_WR or SHUT_RDWR.  Sending after SHUT_WR fails with
	// EPIPE; receiving after SHUT_RD returns what is queued, then size 0.
	void shutdown(int how);

	void set_nonblocking(bool on);

	// The descriptor, to poll() or to pass to the calls this class does
	// not wrap; -1 after a move.  Still owned by the Socket.
	int fd() const noexcept { return fd_; }
	// The address family number the socket was opened with: AF_UNIX
	// over the app socket.
	int family() const noexcept { return family_; }
	// "kernel" (AF_ILP) or "unix" (ilpd's app socket).
	const char *transport() const noexcept;

private:
	std::optional<Received> do_receive(std::span<std::byte> buf, int flags, bool may_fail);
	std::optional<Received> do_app_receive(std::span<std::byte> buf, int flags, bool may_fail);
	std::size_t do_send(const Address *to, std::span<const std::byte> data,
			    const Metadata *metadata);

	int fd_ = -1;
	int family_ = 0;
	bool receive_metadata_ = false;
	// Room for the control message of a packet's metadata, when asked.
	std::vector<std::byte> control_;
	// Over the app socket: the connection to ilpd, which owns fd_.
	std::unique_ptr<app::Transport> app_;
};

} // namespace ilp

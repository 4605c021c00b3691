// SPDX-License-Identifier: GPL-2.0-or-later
//
// UDP socket I/O of the userspace datapath: owned descriptors, the
// instance's sockets (IPv4 and IPv6 on one port), conversion between
// ilp::Endpoint and socket addresses, and batches of datagrams received
// with recvmmsg() and sent with sendmmsg() from buffers allocated once,
// so that the packet path makes no allocation and few system calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include <netinet/in.h>
#include <sys/socket.h>

#include <ilp/endpoint.hpp>
#include <ilp/unique_fd.hpp>

namespace ilpd::udp
{

// A file descriptor, closed when its owner goes.
using Fd = ilp::UniqueFd;

// The largest datagram a receive buffer must hold: a UDP payload cannot
// be longer (IPv6 jumbograms aside, which ILP does not use).
constexpr std::size_t max_datagram = 65536;

// A UDP socket bound to @port on every address: AF_INET6 with
// IPV6_V6ONLY off, so that IPv4 arrives on it too (as v4-mapped
// addresses), or AF_INET where the kernel has no IPv6.  With
// @reuseport, more sockets may bind the same port and the kernel spreads
// datagrams over them by flow (SO_REUSEPORT), one per receive thread.
// Port 0 picks a free port (see bound_port()).  Throws ilp::Error.
Fd open_socket(std::uint16_t port, bool reuseport);

// The family (AF_INET or AF_INET6) and port a socket is bound to.
int socket_family(int fd);
std::uint16_t bound_port(int fd);

// @ep as an address for a socket of @family: on an AF_INET6 socket, IPv4
// endpoints become v4-mapped.  Returns the length, 0 when @family cannot
// reach @ep (IPv6 on an IPv4-only socket).
socklen_t to_sockaddr(const ilp::Endpoint &ep, int family, sockaddr_storage &out) noexcept;

// The endpoint a datagram came from, v4-mapped addresses as IPv4 (so
// that a peer is one endpoint whichever socket saw it).
ilp::Endpoint from_sockaddr(const sockaddr_storage &ss) noexcept;

// What the routing table says about sending to @to: this node's source
// address toward it, and the path's MTU.
struct Route {
	ilp::Endpoint source; // port left 0: the caller's own
	unsigned mtu = 0;
};
// Throws ilp::Error (ENETUNREACH and the like) when there is no route.
Route route_to(const ilp::Endpoint &to);

// Datagrams received in one recvmmsg() call.
class RecvBatch
{
public:
	explicit RecvBatch(std::size_t size);

	// Receives what is queued on @fd without waiting, up to size().
	// Returns the number of datagrams (0: none, or an error other than
	// EINTR, which the caller's poll() will show again).
	std::size_t receive(int fd);

	std::size_t size() const noexcept { return size_; }
	std::span<std::uint8_t> packet(std::size_t i) noexcept;
	const sockaddr_storage &source(std::size_t i) const noexcept { return names_[i]; }
	// Longer than the buffer: the rest was cut off.
	bool truncated(std::size_t i) const noexcept;

private:
	std::size_t size_;
	std::unique_ptr<std::uint8_t[]> bufs_;
	std::unique_ptr<mmsghdr[]> msgs_;
	std::unique_ptr<iovec[]> iovs_;
	std::unique_ptr<sockaddr_storage[]> names_;
};

// Datagrams waiting for one sendmmsg() call: the caller writes a packet
// into slot(), then commit()s it with its destination.
class SendBatch
{
public:
	explicit SendBatch(std::size_t size);

	std::span<std::uint8_t> slot() noexcept;
	// Queues the @len bytes written to slot() for @to on a socket of
	// @family; false when the family cannot reach @to (nothing queued).
	bool commit(std::size_t len, const ilp::Endpoint &to, int family) noexcept;
	bool full() const noexcept { return count_ == size_; }
	bool empty() const noexcept { return count_ == 0; }

	// Sends everything queued on @fd; a datagram the kernel refuses is
	// reported to @on_error with the errno and skipped.  Returns the
	// number sent.
	template <typename OnError>
	std::size_t flush(int fd, OnError &&on_error)
	{
		std::size_t sent = 0;
		for (std::size_t i = 0; i < count_;) {
			int err = 0;
			std::size_t n = send_from(fd, i, err);
			sent += n;
			i += n;
			if (err) {
				on_error(err);
				i++;
			}
		}
		count_ = 0;
		return sent;
	}

private:
	// One sendmmsg() of the datagrams from @first on: how many went,
	// and in @err the errno of the one that stopped it, if any.
	std::size_t send_from(int fd, std::size_t first, int &err) noexcept;

	std::size_t size_;
	std::size_t count_ = 0;
	std::unique_ptr<std::uint8_t[]> bufs_;
	std::unique_ptr<mmsghdr[]> msgs_;
	std::unique_ptr<iovec[]> iovs_;
	std::unique_ptr<sockaddr_storage[]> names_;
};

} // namespace ilpd::udp

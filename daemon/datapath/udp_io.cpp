// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/udp_io.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <unistd.h>

#include <ilp/error.hpp>

namespace ilpd::udp
{

namespace
{

[[noreturn]] void fail(int err, const std::string &what)
{
	throw ilp::Error(err, what + ": " + std::strerror(err));
}

} // namespace

Fd open_socket(std::uint16_t port, bool reuseport)
{
	int one = 1, off = 0;
	Fd fd(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	bool v6 = bool(fd);
	if (!v6) {
		if (errno != EAFNOSUPPORT)
			fail(errno, "socket");
		fd = Fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
		if (!fd)
			fail(errno, "socket");
	}
	if (v6 && setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0)
		fail(errno, "IPV6_V6ONLY");
	if (reuseport && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		fail(errno, "SO_REUSEPORT");
	// Room for bursts while a thread is busy; best effort, the
	// administrator's limits (net.core.rmem_max) apply.
	int buf = 4 << 20;
	setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));

	sockaddr_storage ss{};
	socklen_t len;
	if (v6) {
		auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_any;
		len = sizeof(*a);
	} else {
		auto *a = reinterpret_cast<sockaddr_in *>(&ss);
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*a);
	}
	if (bind(fd.get(), reinterpret_cast<sockaddr *>(&ss), len) < 0)
		fail(errno, "binding UDP port " + std::to_string(port));
	return fd;
}

int socket_family(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) < 0)
		fail(errno, "getsockname");
	return ss.ss_family;
}

std::uint16_t bound_port(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) < 0)
		fail(errno, "getsockname");
	return from_sockaddr(ss).port;
}

socklen_t to_sockaddr(const ilp::Endpoint &ep, int family, sockaddr_storage &out) noexcept
{
	std::memset(&out, 0, sizeof(sockaddr_in6));
	if (family == AF_INET6) {
		auto *a = reinterpret_cast<sockaddr_in6 *>(&out);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(ep.port);
		if (ep.family == AF_INET6) {
			a->sin6_addr = ep.addr;
		} else {
			a->sin6_addr.s6_addr[10] = 0xff;
			a->sin6_addr.s6_addr[11] = 0xff;
			std::memcpy(&a->sin6_addr.s6_addr[12], ep.addr.s6_addr, 4);
		}
		return sizeof(*a);
	}
	if (ep.family != AF_INET)
		return 0;
	auto *a = reinterpret_cast<sockaddr_in *>(&out);
	a->sin_family = AF_INET;
	a->sin_port = htons(ep.port);
	std::memcpy(&a->sin_addr, ep.addr.s6_addr, 4);
	return sizeof(*a);
}

ilp::Endpoint from_sockaddr(const sockaddr_storage &ss) noexcept
{
	ilp::Endpoint ep;
	if (ss.ss_family == AF_INET6) {
		const auto *a = reinterpret_cast<const sockaddr_in6 *>(&ss);
		ep.port = ntohs(a->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			ep.family = AF_INET;
			std::memcpy(ep.addr.s6_addr, &a->sin6_addr.s6_addr[12], 4);
		} else {
			ep.family = AF_INET6;
			ep.addr = a->sin6_addr;
		}
		return ep;
	}
	const auto *a = reinterpret_cast<const sockaddr_in *>(&ss);
	ep.family = AF_INET;
	ep.port = ntohs(a->sin_port);
	std::memcpy(ep.addr.s6_addr, &a->sin_addr, 4);
	return ep;
}

Route route_to(const ilp::Endpoint &to)
{
	// A connected UDP socket asks the routing table without sending
	// anything: getsockname() then gives the source address it chose
	// and IP_MTU the path's MTU.
	Fd fd(socket(to.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (!fd)
		fail(errno, "socket");
	sockaddr_storage ss;
	socklen_t len = to_sockaddr(to, to.family, ss);
	if (connect(fd.get(), reinterpret_cast<sockaddr *>(&ss), len) < 0)
		fail(errno, "no route to " + to.to_string());
	sockaddr_storage local{};
	socklen_t llen = sizeof(local);
	if (getsockname(fd.get(), reinterpret_cast<sockaddr *>(&local), &llen) < 0)
		fail(errno, "getsockname");
	Route r;
	r.source = from_sockaddr(local);
	r.source.port = 0;
	int mtu = 0;
	socklen_t mlen = sizeof(mtu);
	if (to.family == AF_INET ? getsockopt(fd.get(), IPPROTO_IP, IP_MTU, &mtu, &mlen)
				 : getsockopt(fd.get(), IPPROTO_IPV6, IPV6_MTU, &mtu, &mlen))
		fail(errno, "reading the path MTU to " + to.to_string());
	r.mtu = static_cast<unsigned>(mtu);
	return r;
}

RecvBatch::RecvBatch(std::size_t size)
    : size_(size),
      // Not zeroed: pages are only touched as datagrams fill them.
      bufs_(std::make_unique_for_overwrite<std::uint8_t[]>(size * max_datagram)),
      msgs_(std::make_unique<mmsghdr[]>(size)), iovs_(std::make_unique<iovec[]>(size)),
      names_(std::make_unique<sockaddr_storage[]>(size))
{
}

std::size_t RecvBatch::receive(int fd)
{
	for (std::size_t i = 0; i < size_; i++) {
		iovs_[i] = {bufs_.get() + i * max_datagram, max_datagram};
		msgs_[i].msg_hdr = {};
		msgs_[i].msg_hdr.msg_name = &names_[i];
		msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
		msgs_[i].msg_hdr.msg_iov = &iovs_[i];
		msgs_[i].msg_hdr.msg_iovlen = 1;
		msgs_[i].msg_len = 0;
	}
	int n = recvmmsg(fd, msgs_.get(), static_cast<unsigned>(size_), MSG_DONTWAIT, nullptr);
	return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::span<std::uint8_t> RecvBatch::packet(std::size_t i) noexcept
{
	std::size_t len = msgs_[i].msg_len;
	return {bufs_.get() + i * max_datagram, len < max_datagram ? len : max_datagram};
}

bool RecvBatch::truncated(std::size_t i) const noexcept
{
	return msgs_[i].msg_hdr.msg_flags & MSG_TRUNC;
}

SendBatch::SendBatch(std::size_t size)
    : size_(size), bufs_(std::make_unique_for_overwrite<std::uint8_t[]>(size * max_datagram)),
      msgs_(std::make_unique<mmsghdr[]>(size)), iovs_(std::make_unique<iovec[]>(size)),
      names_(std::make_unique<sockaddr_storage[]>(size))
{
}

std::span<std::uint8_t> SendBatch::slot() noexcept
{
	return {bufs_.get() + count_ * max_datagram, max_datagram};
}

bool SendBatch::commit(std::size_t len, const ilp::Endpoint &to, int family) noexcept
{
	std::size_t i = count_;
	socklen_t nlen = to_sockaddr(to, family, names_[i]);
	if (!nlen)
		return false;
	iovs_[i] = {bufs_.get() + i * max_datagram, len};
	msgs_[i].msg_hdr = {};
	msgs_[i].msg_hdr.msg_name = &names_[i];
	msgs_[i].msg_hdr.msg_namelen = nlen;
	msgs_[i].msg_hdr.msg_iov = &iovs_[i];
	msgs_[i].msg_hdr.msg_iovlen = 1;
	count_++;
	return true;
}

std::size_t SendBatch::send_from(int fd, std::size_t first, int &err) noexcept
{
	for (;;) {
		int n = sendmmsg(fd, msgs_.get() + first, static_cast<unsigned>(count_ - first), 0);
		if (n > 0) {
			err = 0;
			return static_cast<std::size_t>(n);
		}
		if (n == 0) { // not for a non-empty batch; never loop on it
			err = EIO;
			return 0;
		}
		if (errno != EINTR) {
			err = errno;
			return 0;
		}
	}
}

} // namespace ilpd::udp

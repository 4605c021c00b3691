// SPDX-License-Identifier: LGPL-2.1-or-later
#include "app_transport.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "ilp/error.hpp"

namespace ilp::app
{

std::string socket_path()
{
	const char *env = std::getenv(path_env);
	return env && *env ? env : default_path;
}

Choice transport_choice()
{
	const char *env = std::getenv(transport_env);
	std::string_view v = env ? env : "";
	if (v.empty() || v == "auto")
		return Choice::Auto;
	if (v == "kernel")
		return Choice::Kernel;
	if (v == "unix")
		return Choice::Unix;
	throw Error(EINVAL, std::string(transport_env) + "=" + std::string(v) +
				": expected kernel, unix or auto");
}

namespace
{

void close_fd(int &fd) noexcept
{
	if (fd >= 0)
		::close(fd);
	fd = -1;
}

} // namespace

std::optional<Transport> Transport::open(const std::string &path, int flags, int &err,
					 std::string &why)
{
	Transport t;
	sockaddr_un sun{};
	sun.sun_family = AF_UNIX;
	if (path.size() >= sizeof(sun.sun_path)) {
		err = ENAMETOOLONG;
		why = "the app socket path " + path + " is too long";
		return std::nullopt;
	}
	std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
	t.ctl_ = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (t.ctl_ < 0) {
		err = errno;
		why = "opening a UNIX socket";
		return std::nullopt;
	}
	int rc;
	do
		rc = ::connect(t.ctl_, reinterpret_cast<const sockaddr *>(&sun), sizeof(sun));
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		err = errno;
		why = "connecting to ilpd's app socket " + path;
		return std::nullopt;
	}
	int pair[2];
	if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		err = errno;
		why = "making the data channel";
		return std::nullopt;
	}
	t.data_ = pair[0];
	if ((flags & SOCK_NONBLOCK) && ::fcntl(t.data_, F_SETFL, O_NONBLOCK) < 0) {
		err = errno;
		::close(pair[1]);
		why = "making the socket non-blocking";
		return std::nullopt;
	}
	// The close-on-exec wish applies to what the app holds; ilpd's end
	// goes away with the message.
	if (!(flags & SOCK_CLOEXEC)) {
		::fcntl(t.data_, F_SETFD, 0);
		::fcntl(t.ctl_, F_SETFD, 0);
	}
	sockaddr_ilp none{};
	err = t.call(MsgType::Hello, none, {}, {}, pair[1]);
	::close(pair[1]);
	if (err) {
		why = "greeting ilpd on its app socket " + path;
		return std::nullopt;
	}
	t.buf_.resize(max_message);
	return t;
}

Transport::Transport(Transport &&other) noexcept
    : ctl_(std::exchange(other.ctl_, -1)), data_(std::exchange(other.data_, -1)),
      bound_(other.bound_), connected_(other.connected_), dest_(other.dest_),
      sticky_(std::move(other.sticky_)), shut_rd_(other.shut_rd_), shut_wr_(other.shut_wr_),
      buf_(std::move(other.buf_))
{
}

Transport &Transport::operator=(Transport &&other) noexcept
{
	if (this != &other) {
		close_all();
		ctl_ = std::exchange(other.ctl_, -1);
		data_ = std::exchange(other.data_, -1);
		bound_ = other.bound_;
		connected_ = other.connected_;
		dest_ = other.dest_;
		sticky_ = std::move(other.sticky_);
		shut_rd_ = other.shut_rd_;
		shut_wr_ = other.shut_wr_;
		buf_ = std::move(other.buf_);
	}
	return *this;
}

Transport::~Transport()
{
	close_all();
}

void Transport::close_all() noexcept
{
	close_fd(ctl_);
	close_fd(data_);
}

int Transport::call(MsgType type, const sockaddr_ilp &addr, std::span<const std::byte> md,
		    std::span<const std::byte> payload, int send_fd)
{
	MsgHeader h;
	h.type = type;
	h.md_len = static_cast<std::uint32_t>(md.size());
	h.addr = addr;
	h.addr.silp_family = 0;
	iovec iov[3] = {{&h, sizeof(h)},
			{const_cast<std::byte *>(md.data()), md.size()},
			{const_cast<std::byte *>(payload.data()), payload.size()}};
	msghdr msg{};
	msg.msg_iov = iov;
	msg.msg_iovlen = 3;
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
	if (send_fd >= 0) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		auto *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		std::memcpy(CMSG_DATA(c), &send_fd, sizeof(int));
	}
	ssize_t n;
	do
		n = ::sendmsg(ctl_, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EPIPE ? ECONNRESET : errno;

	MsgHeader r;
	do
		n = ::recv(ctl_, &r, sizeof(r), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	if (n == 0)
		return ECONNRESET; // ilpd went away
	if (static_cast<std::size_t>(n) < sizeof(r) || r.version != protocol_version ||
	    r.type != MsgType::Reply)
		return EPROTO;
	// Every reply says how the socket is bound: a send that failed may
	// have bound it all the same, as the kernel's does.
	if (type != MsgType::Hello) {
		bound_ = r.addr;
		bound_.silp_family = 0;
	}
	return r.error;
}

int Transport::bind(std::uint32_t service, std::uint64_t conn)
{
	sockaddr_ilp a{};
	a.silp_service = service;
	a.silp_conn = conn;
	return call(MsgType::Bind, a, {}, {});
}

int Transport::connect(const sockaddr_ilp &to)
{
	if (int err = call(MsgType::Connect, to, {}, {}))
		return err;
	dest_ = to;
	// The connection the socket was bound to, if it chose one.
	if (bound_.silp_service == to.silp_service)
		dest_.silp_conn = bound_.silp_conn;
	connected_ = true;
	return 0;
}

int Transport::send(const sockaddr_ilp *to, std::span<const std::byte> data,
		    const std::vector<std::byte> *md)
{
	if (shut_wr_)
		return EPIPE;
	if (data.size() > 0xffff)
		return EMSGSIZE;
	if (!to) {
		if (!connected_)
			return EDESTADDRREQ;
		to = &dest_;
	}
	const auto &tlvs = md ? *md : sticky_;
	return call(MsgType::Send, *to, tlvs, data);
}

int Transport::receive(std::span<std::byte> buf, int flags, Incoming &in)
{
	if (flags & ~(MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT))
		return EOPNOTSUPP;
	int rflags = flags & (MSG_PEEK | MSG_DONTWAIT);
	// After SHUT_RD, what is queued, then end of file rather than a wait.
	if (shut_rd_)
		rflags |= MSG_DONTWAIT;
	ssize_t n;
	do
		n = ::recv(data_, buf_.data(), buf_.size(), rflags);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;
		if (shut_rd_ && (err == EAGAIN || err == EWOULDBLOCK)) {
			in = Incoming{};
			return 0;
		}
		return err;
	}
	if (n == 0)
		return ECONNRESET; // ilpd closed the data channel
	MsgHeader h;
	if (static_cast<std::size_t>(n) < sizeof(h))
		return EPROTO;
	std::memcpy(&h, buf_.data(), sizeof(h));
	if (h.version != protocol_version || h.type != MsgType::Data ||
	    h.md_len > static_cast<std::size_t>(n) - sizeof(h))
		return EPROTO;
	auto payload = std::span(buf_).subspan(sizeof(h) + h.md_len,
					       static_cast<std::size_t>(n) - sizeof(h) - h.md_len);
	std::size_t copied = std::min(payload.size(), buf.size());
	std::memcpy(buf.data(), payload.data(), copied);
	in.truncated = copied < payload.size();
	in.size = (flags & MSG_TRUNC) ? payload.size() : copied;
	in.from = h.addr;
	in.metadata = std::span<const std::byte>(buf_).subspan(sizeof(h), h.md_len);
	return 0;
}

int Transport::peer(sockaddr_ilp &out) const
{
	if (!connected_)
		return ENOTCONN;
	out = dest_;
	return 0;
}

int Transport::shutdown(int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return EINVAL;
	if (how != SHUT_WR)
		shut_rd_ = true;
	if (how != SHUT_RD)
		shut_wr_ = true;
	return 0;
}

} // namespace ilp::app

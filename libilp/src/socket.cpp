// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <utility>

#include "app_transport.hpp"
#include "ilp/error.hpp"
#include "ilp/family.hpp"
#include "ilp/number.hpp"

namespace ilp
{

namespace
{

constexpr std::size_t tlv_hdr_len = 4;
// The largest TLV area a packet can carry: a UDP datagram holds no more.
constexpr std::size_t tlv_area_max = 65535;

std::size_t padded(std::size_t value_len)
{
	return tlv_hdr_len + ((value_len + 3) & ~std::size_t(3));
}

std::uint16_t get_be16(const std::byte *p)
{
	return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
					  std::to_integer<unsigned>(p[1]));
}

std::string hex16(std::uint16_t v)
{
	char buf[8];
	std::snprintf(buf, sizeof(buf), "0x%04x", v);
	return buf;
}

[[noreturn]] void bad_address(std::string_view text, const std::string &why)
{
	throw Error(EINVAL, "bad ILP address '" + std::string(text) + "': " + why);
}

Endpoint parse_endpoint(std::string_view text, const char *what, std::string_view part)
{
	try {
		return Endpoint::parse(part);
	} catch (const Error &e) {
		bad_address(text, std::string(what) + ": " + e.what());
	}
}

std::optional<Endpoint> from_inaddr(const ilp_inaddr &a, const char *what)
{
	std::uint16_t port = a.port ? ntohs(a.port) : std::uint16_t(ILP_UDP_PORT);
	switch (a.family) {
	case 0:
		return std::nullopt;
	case AF_INET: {
		std::uint8_t v4[4];
		std::memcpy(v4, &a.addr.v4, sizeof(v4));
		return Endpoint::from_bytes(v4, port);
	}
	case AF_INET6:
		return Endpoint::from_bytes(a.addr.v6, port);
	default:
		throw Error(EINVAL, std::string("an ILP address whose ") + what + " has family " +
					std::to_string(a.family) +
					" (expected AF_INET, AF_INET6 or 0 for none)");
	}
}

ilp_inaddr to_inaddr(const Endpoint &ep)
{
	ilp_inaddr a{};
	a.family = ep.family;
	a.port = htons(ep.port);
	auto bytes = ep.addr_bytes();
	if (ep.family == AF_INET6)
		std::memcpy(a.addr.v6, bytes.data(), bytes.size());
	else
		std::memcpy(&a.addr.v4, bytes.data(), bytes.size());
	return a;
}

// Appends one TLV, unchecked, to @out.
void append_tlv(std::vector<std::byte> &out, std::uint16_t type, std::span<const std::byte> value)
{
	auto at = out.size();
	out.resize(at + padded(value.size()), std::byte{0});
	out[at] = std::byte(type >> 8);
	out[at + 1] = std::byte(type & 0xff);
	out[at + 2] = std::byte(value.size() >> 8);
	out[at + 3] = std::byte(value.size() & 0xff);
	std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(at + 4));
}

template <typename T>
std::span<const std::byte> be_bytes(T v, std::byte (&buf)[sizeof(T)])
{
	for (std::size_t i = 0; i < sizeof(T); i++)
		buf[i] = std::byte((v >> (8 * (sizeof(T) - 1 - i))) & 0xff);
	return buf;
}

template <typename T>
T from_be(const Tlv &tlv, const char *name)
{
	if (tlv.value.size() != sizeof(T))
		throw Error(EINVAL, "TLV type " + hex16(tlv.type) + ": a value of " +
					std::to_string(tlv.value.size()) + " bytes is not a " +
					name + " (" + std::to_string(sizeof(T)) + " bytes)");
	T v = 0;
	for (auto b : tlv.value)
		v = static_cast<T>((v << 8) | std::to_integer<T>(b));
	return v;
}

// What the errno of a failed connect or send means for ILP, beyond
// strerror(): where the packet could not go, and what to do about it.
std::string path_hint(int err, const Address *to)
{
	switch (err) {
	case ENETUNREACH:
		return " (no SN and no direct peer to send through: associate this host with an "
		       "SN, 'ilpctl instance set sn ADDR', name one in the address, or make the "
		       "destination a direct peer, 'ilpctl peer set ADDR direct on')";
	case ENOKEY:
		return " (the first hop is a peer without a transmit SA: see 'ilpctl peer')";
	case ENETDOWN:
		return " (no ILP instance in this network namespace: 'ilpctl instance add')";
	case EMSGSIZE:
		return " (the payload and its metadata do not fit in a packet to the first hop)";
	case EDESTADDRREQ:
		return " (the socket is not connected: connect() it or use send_to())";
	case EPIPE:
		return " (the socket was shut down for sending)";
	case EADDRINUSE:
		return " (the socket was not bound, and another socket has the destination's "
		       "service and connection: bind() it first)";
	case EINVAL:
		if (to && to->conn == ILP_CONN_ANY)
			return " (connection 0 names the connection this socket is bound to, and "
			       "it is bound to no particular connection of that service)";
		return {};
	default:
		return {};
	}
}

[[noreturn]] void fail(int err, const std::string &what, const std::string &hint = {})
{
	throw Error(err, what + ": " + std::strerror(err) + hint);
}

std::string sending_to(const Address *to)
{
	return to ? "sending to " + to->to_string() : "sending to the connected destination";
}

void check_host(const Address &to, const std::string &what)
{
	if (!to.host)
		throw Error(EINVAL, what + ": the address names no host");
}

} // namespace

// ---------------------------------------------------------------- Address

Address Address::parse(std::string_view text)
{
	Address a;
	auto head = text;
	if (auto via = text.find(" via "); via != std::string_view::npos) {
		head = text.substr(0, via);
		a.sn = parse_endpoint(text, "SN", text.substr(via + 5));
	}
	auto ids = head;
	if (auto at = head.find('@'); at != std::string_view::npos) {
		ids = head.substr(0, at);
		if (at + 1 == head.size())
			bad_address(text, "no host after '@'");
		a.host = parse_endpoint(text, "host", head.substr(at + 1));
	}
	auto service_text = ids;
	if (auto slash = ids.find('/'); slash != std::string_view::npos) {
		service_text = ids.substr(0, slash);
		auto c = parse_uint<std::uint64_t>(ids.substr(slash + 1));
		if (!c)
			bad_address(text, "the connection must be a 64-bit number, not '" +
					      std::string(ids.substr(slash + 1)) + "'");
		a.conn = *c;
	}
	if (service_text.empty())
		bad_address(text, "no service");
	auto s = parse_uint<std::uint32_t>(service_text);
	if (!s || *s == 0 || *s == UINT32_MAX)
		bad_address(text, "the service must be a number from 1 to 4294967294, not '" +
				      std::string(service_text) + "'");
	a.service = *s;
	return a;
}

Address Address::from_sockaddr(const sockaddr_ilp &sa)
{
	Address a;
	a.service = sa.silp_service;
	a.conn = sa.silp_conn;
	a.host = from_inaddr(sa.silp_host, "host");
	a.sn = from_inaddr(sa.silp_sn, "SN");
	return a;
}

sockaddr_ilp Address::to_sockaddr(int family) const
{
	sockaddr_ilp sa{};
	sa.silp_family = static_cast<__kernel_sa_family_t>(family);
	sa.silp_service = service;
	sa.silp_conn = conn;
	if (host)
		sa.silp_host = to_inaddr(*host);
	if (sn)
		sa.silp_sn = to_inaddr(*sn);
	return sa;
}

std::string Address::to_string() const
{
	auto s = std::to_string(service);
	if (conn != ILP_CONN_ANY)
		s += "/" + std::to_string(conn);
	if (host)
		s += "@" + host->to_string();
	if (sn)
		s += " via " + sn->to_string();
	return s;
}

// ---------------------------------------------------------------- Tlv

std::uint8_t Tlv::as_u8() const
{
	return from_be<std::uint8_t>(*this, "u8");
}

std::uint16_t Tlv::as_u16() const
{
	return from_be<std::uint16_t>(*this, "u16");
}

std::uint32_t Tlv::as_u32() const
{
	return from_be<std::uint32_t>(*this, "u32");
}

std::uint64_t Tlv::as_u64() const
{
	return from_be<std::uint64_t>(*this, "u64");
}

std::string Tlv::as_string() const
{
	std::string s(value.size(), '\0');
	std::transform(value.begin(), value.end(), s.begin(),
		       [](std::byte b) { return static_cast<char>(b); });
	return s;
}

// ---------------------------------------------------------------- Metadata

Metadata::Iterator::Iterator(std::span<const std::byte> bytes, std::size_t pos) noexcept
    : bytes_(bytes), pos_(pos)
{
	settle();
}

void Metadata::Iterator::settle() noexcept
{
	// The bytes were checked when the Metadata was made: every TLV fits.
	while (pos_ < bytes_.size()) {
		auto type = get_be16(&bytes_[pos_]);
		auto len = get_be16(&bytes_[pos_ + 2]);
		if (type != 0) {
			tlv_ = Tlv{type, bytes_.subspan(pos_ + tlv_hdr_len, len)};
			return;
		}
		pos_ += padded(len);
	}
	tlv_ = Tlv{};
}

void Metadata::Iterator::next() noexcept
{
	if (pos_ >= bytes_.size())
		return;
	pos_ += padded(tlv_.value.size());
	settle();
}

Metadata Metadata::parse(std::span<const std::byte> bytes)
{
	if (bytes.size() % 4)
		throw Error(EINVAL, "malformed metadata: " + std::to_string(bytes.size()) +
					" bytes, not a multiple of 4");
	for (std::size_t pos = 0; pos < bytes.size();) {
		// A multiple of 4 bytes and padded TLVs: a whole header is left.
		auto len = get_be16(&bytes[pos + 2]);
		if (padded(len) > bytes.size() - pos)
			throw Error(EINVAL, "malformed metadata: the TLV of type " +
						hex16(get_be16(&bytes[pos])) + " at byte " +
						std::to_string(pos) + " has a value of " +
						std::to_string(len) + " bytes, past the end (" +
						std::to_string(bytes.size()) + " bytes)");
		pos += padded(len);
	}
	Metadata md;
	md.bytes_.assign(bytes.begin(), bytes.end());
	return md;
}

Metadata &Metadata::add(std::uint16_t type, std::span<const std::byte> value)
{
	Tlv t{type, {}};
	if (t.base_type() == 0)
		throw Error(EINVAL, "TLV type " + hex16(type) + " is padding, not a TLV to send");
	if (t.own())
		throw Error(EINVAL, "TLV type " + hex16(type) + " is one of ILP's own (0x0001-" +
					hex16(ILP_TLV_OWN_MAX) +
					"), which applications may not send");
	if (value.size() > ILP_METADATA_MAX || size() + padded(value.size()) > ILP_METADATA_MAX)
		throw Error(EMSGSIZE, "metadata of more than " + std::to_string(ILP_METADATA_MAX) +
					  " bytes: a TLV with a value of " +
					  std::to_string(value.size()) +
					  " bytes does not fit after " + std::to_string(size()));
	append_tlv(bytes_, type, value);
	return *this;
}

Metadata &Metadata::add_u8(std::uint16_t type, std::uint8_t v)
{
	std::byte buf[1];
	return add(type, be_bytes(v, buf));
}

Metadata &Metadata::add_u16(std::uint16_t type, std::uint16_t v)
{
	std::byte buf[2];
	return add(type, be_bytes(v, buf));
}

Metadata &Metadata::add_u32(std::uint16_t type, std::uint32_t v)
{
	std::byte buf[4];
	return add(type, be_bytes(v, buf));
}

Metadata &Metadata::add_u64(std::uint16_t type, std::uint64_t v)
{
	std::byte buf[8];
	return add(type, be_bytes(v, buf));
}

Metadata &Metadata::add_string(std::uint16_t type, std::string_view v)
{
	return add(type, std::as_bytes(std::span(v.data(), v.size())));
}

std::size_t Metadata::count() const noexcept
{
	return static_cast<std::size_t>(std::distance(begin(), end()));
}

std::optional<Tlv> Metadata::find(std::uint16_t type) const noexcept
{
	auto base = static_cast<std::uint16_t>(type & ~ILP_TLV_CRITICAL);
	for (const auto &t : *this)
		if (t.base_type() == base)
			return t;
	return std::nullopt;
}

bool Metadata::has_own() const noexcept
{
	return std::any_of(begin(), end(), [](const Tlv &t) { return t.own(); });
}

Metadata Metadata::without_own() const
{
	Metadata md;
	for (const auto &t : *this)
		if (!t.own())
			append_tlv(md.bytes_, t.type, t.value);
	return md;
}

std::optional<Endpoint> Metadata::host_tlv(std::uint16_t type) const
{
	auto t = find(type);
	if (!t)
		return std::nullopt;
	auto n = t->value.size();
	if (n != 6 && n != 18)
		throw Error(EINVAL, "TLV type " + hex16(type) + " of " + std::to_string(n) +
					" bytes (expected 6 or 18: an IPv4 or IPv6 address "
					"and a port)");
	auto port = get_be16(&t->value[n - 2]);
	auto addr = t->value.first(n - 2);
	return Endpoint::from_bytes(
	    std::span(reinterpret_cast<const std::uint8_t *>(addr.data()), addr.size()), port);
}

std::optional<Endpoint> Metadata::src_host() const
{
	return host_tlv(ILP_TLV_SRC_HOST);
}

std::optional<Endpoint> Metadata::dst_host() const
{
	return host_tlv(ILP_TLV_DST_HOST);
}

// ---------------------------------------------------------------- Socket

namespace
{

int open_kernel(int flags, int family)
{
	int fd = ::socket(family, SOCK_DGRAM | flags, ILP_PROTO_DGRAM);
	return fd < 0 ? -errno : fd;
}

[[noreturn]] void fail_open(int err, int family, const std::string &extra)
{
	fail(err, "opening an AF_ILP socket (address family " + std::to_string(family) + ")",
	     err == EAFNOSUPPORT ? ": is ilp.ko loaded? (modprobe ilp)" + extra : extra);
}

} // namespace

Socket::Socket(int flags)
{
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		throw Error(EINVAL, "opening an AF_ILP socket: flags " + std::to_string(flags) +
					" (only SOCK_NONBLOCK and SOCK_CLOEXEC go)");
	auto choice = app::transport_choice();
	family_ = af_ilp();
	int err = EAFNOSUPPORT;
	if (choice != app::Choice::Unix) {
		int fd = open_kernel(flags, family_);
		if (fd >= 0) {
			fd_ = fd;
			return;
		}
		err = -fd;
		if (err != EAFNOSUPPORT || choice == app::Choice::Kernel)
			fail_open(err, family_, "");
	}
	// No AF_ILP here: the local ilpd's userspace datapath, transparently.
	auto path = app::socket_path();
	int app_err = 0;
	std::string why;
	auto t = app::Transport::open(path, flags, app_err, why);
	if (!t) {
		std::string extra =
		    ", or is ilpd running? (" + why + ": " + std::strerror(app_err) + ")";
		// Asked for by name, ilpd's own error is the one that matters.
		if (choice == app::Choice::Unix)
			fail(app_err, "opening an ILP socket over " + path, " (is ilpd running?)");
		fail_open(err, family_, extra);
	}
	app_ = std::make_unique<app::Transport>(std::move(*t));
	fd_ = app_->data_fd();
	family_ = AF_UNIX;
}

Socket::Socket(Socket &&other) noexcept
    : fd_(std::exchange(other.fd_, -1)), family_(other.family_),
      receive_metadata_(other.receive_metadata_), control_(std::move(other.control_)),
      app_(std::move(other.app_))
{
}

Socket &Socket::operator=(Socket &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0 && !app_)
			::close(fd_);
		fd_ = std::exchange(other.fd_, -1);
		family_ = other.family_;
		receive_metadata_ = other.receive_metadata_;
		control_ = std::move(other.control_);
		app_ = std::move(other.app_);
	}
	return *this;
}

Socket::~Socket()
{
	// Over the app socket the transport owns fd_.
	if (fd_ >= 0 && !app_)
		::close(fd_);
}

const char *Socket::transport() const noexcept
{
	return app_ ? "unix" : "kernel";
}

void Socket::bind(std::uint32_t service, std::uint64_t conn)
{
	Address a;
	a.service = service;
	a.conn = conn;
	int err;
	if (app_) {
		err = app_->bind(service, conn);
	} else {
		auto sa = a.to_sockaddr(family_);
		err = ::bind(fd_, reinterpret_cast<const sockaddr *>(&sa), sizeof(sa)) ? errno : 0;
	}
	if (!err)
		return;
	std::string hint;
	if (err == EADDRINUSE)
		hint = " (another socket is bound to it)";
	else if (err == EACCES)
		hint = " (services 1 to " + std::to_string(ILP_SERVICE_RESERVED_MAX) +
		       " need CAP_NET_BIND_SERVICE)";
	else if (err == EINVAL)
		hint = " (the socket is bound already, or the service is 0 or 4294967295)";
	fail(err,
	     "binding to " + a.to_string() + (conn == ILP_CONN_ANY ? " (every connection)" : ""),
	     hint);
}

void Socket::connect(const Address &to)
{
	std::string what = "connecting to " + to.to_string();
	check_host(to, what);
	auto sa = to.to_sockaddr(family_);
	int err;
	if (app_)
		err = app_->connect(sa);
	else
		err =
		    ::connect(fd_, reinterpret_cast<const sockaddr *>(&sa), sizeof(sa)) ? errno : 0;
	if (err)
		fail(err, what, path_hint(err, &to));
}

void Socket::disconnect()
{
	if (app_) {
		app_->disconnect();
		return;
	}
	sockaddr_ilp sa{};
	sa.silp_family = AF_UNSPEC;
	if (::connect(fd_, reinterpret_cast<const sockaddr *>(&sa), sizeof(sa)) < 0)
		fail(errno, "disconnecting");
}

std::size_t Socket::send(std::span<const std::byte> data, const Metadata *metadata)
{
	return do_send(nullptr, data, metadata);
}

std::size_t Socket::send_to(const Address &to, std::span<const std::byte> data,
			    const Metadata *metadata)
{
	check_host(to, sending_to(&to));
	return do_send(&to, data, metadata);
}

std::size_t Socket::do_send(const Address *to, std::span<const std::byte> data,
			    const Metadata *metadata)
{
	if (metadata) {
		if (metadata->has_own())
			throw Error(EINVAL, sending_to(to) +
						": the metadata has one of ILP's own TLVs, which "
						"applications may not send (see "
						"Metadata::without_own())");
		if (metadata->size() > ILP_METADATA_MAX)
			throw Error(EMSGSIZE, sending_to(to) + ": " +
						  std::to_string(metadata->size()) +
						  " bytes of metadata (at most " +
						  std::to_string(ILP_METADATA_MAX) + ")");
	}
	sockaddr_ilp sa{};
	if (to)
		sa = to->to_sockaddr(family_);
	if (app_) {
		std::vector<std::byte> md;
		if (metadata)
			md.assign(metadata->bytes().begin(), metadata->bytes().end());
		if (int err = app_->send(to ? &sa : nullptr, data, metadata ? &md : nullptr))
			fail(err, sending_to(to), path_hint(err, to));
		return data.size();
	}
	iovec iov{const_cast<std::byte *>(data.data()), data.size()};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (to) {
		msg.msg_name = &sa;
		msg.msg_namelen = sizeof(sa);
	}
	alignas(cmsghdr) std::byte control[CMSG_SPACE(ILP_METADATA_MAX)];
	if (metadata) {
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(metadata->size());
		auto *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_ILP;
		cmsg->cmsg_type = ILP_CMSG_METADATA;
		cmsg->cmsg_len = CMSG_LEN(metadata->size());
		auto md = metadata->bytes();
		std::copy(md.begin(), md.end(), reinterpret_cast<std::byte *>(CMSG_DATA(cmsg)));
	}
	ssize_t n;
	do
		n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;
		fail(err, sending_to(to), path_hint(err, to));
	}
	return static_cast<std::size_t>(n);
}

Received Socket::receive(std::span<std::byte> buf, int flags)
{
	return *do_receive(buf, flags, false);
}

std::optional<Received> Socket::try_receive(std::span<std::byte> buf, int flags)
{
	return do_receive(buf, flags, true);
}

std::optional<Received> Socket::do_app_receive(std::span<std::byte> buf, int flags, bool may_fail)
{
	app::Incoming in;
	if (int err = app_->receive(buf, flags, in)) {
		if (may_fail && (err == EAGAIN || err == EWOULDBLOCK))
			return std::nullopt;
		fail(err, "receiving", err == ECONNRESET ? " (ilpd went away)" : "");
	}
	Received r;
	r.size = in.size;
	r.truncated = in.truncated;
	// A packet always has a host; none means end of file after SHUT_RD.
	if (in.from.silp_host.family)
		r.from = Address::from_sockaddr(in.from);
	if (receive_metadata_ && in.from.silp_host.family)
		r.metadata = Metadata::parse(in.metadata);
	return r;
}

std::optional<Received> Socket::do_receive(std::span<std::byte> buf, int flags, bool may_fail)
{
	if (app_)
		return do_app_receive(buf, flags, may_fail);
	sockaddr_ilp name{};
	iovec iov{buf.data(), buf.size()};
	msghdr msg{};
	msg.msg_name = &name;
	msg.msg_namelen = sizeof(name);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	// Without set_receive_metadata(), a little room for metadata all the
	// same, should the option have been set on fd() directly.
	alignas(cmsghdr) std::byte small[CMSG_SPACE(ILP_METADATA_MAX)];
	if (receive_metadata_) {
		msg.msg_control = control_.data();
		msg.msg_controllen = control_.size();
	} else {
		msg.msg_control = small;
		msg.msg_controllen = sizeof(small);
	}
	ssize_t n;
	do
		n = ::recvmsg(fd_, &msg, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;
		if (may_fail && (err == EAGAIN || err == EWOULDBLOCK))
			return std::nullopt;
		fail(err, "receiving");
	}
	Received r;
	r.size = static_cast<std::size_t>(n);
	r.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
	if (msg.msg_namelen >= sizeof(name))
		r.from = Address::from_sockaddr(name);
	// Metadata cut short (MSG_CTRUNC) is left out rather than misread.
	if (!(msg.msg_flags & MSG_CTRUNC)) {
		for (auto *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_ILP || c->cmsg_type != ILP_CMSG_METADATA)
				continue;
			const auto *data = reinterpret_cast<const std::byte *>(CMSG_DATA(c));
			r.metadata = Metadata::parse({data, c->cmsg_len - CMSG_LEN(0)});
		}
	}
	return r;
}

void Socket::set_metadata(const Metadata &metadata)
{
	if (metadata.has_own())
		throw Error(EINVAL,
			    "setting the socket's metadata: it has one of ILP's own TLVs, "
			    "which applications may not send (see Metadata::without_own())");
	auto md = metadata.bytes();
	int err = 0;
	if (app_) {
		if (md.size() > ILP_METADATA_MAX)
			err = EMSGSIZE;
		else
			app_->set_metadata({md.begin(), md.end()});
	} else if (::setsockopt(fd_, SOL_ILP, ILP_SO_METADATA, md.data(),
				static_cast<socklen_t>(md.size())) < 0) {
		err = errno;
	}
	if (err)
		fail(err, "setting the socket's metadata",
		     err == EMSGSIZE ? " (at most " + std::to_string(ILP_METADATA_MAX) + " bytes)"
				     : "");
}

void Socket::clear_metadata()
{
	if (app_) {
		app_->set_metadata({});
		return;
	}
	if (::setsockopt(fd_, SOL_ILP, ILP_SO_METADATA, nullptr, 0) < 0)
		fail(errno, "clearing the socket's metadata");
}

Metadata Socket::metadata() const
{
	if (app_)
		return Metadata::parse(app_->metadata());
	std::byte buf[ILP_METADATA_MAX];
	socklen_t len = sizeof(buf);
	if (::getsockopt(fd_, SOL_ILP, ILP_SO_METADATA, buf, &len) < 0)
		fail(errno, "reading the socket's metadata");
	return Metadata::parse({buf, std::min<std::size_t>(len, sizeof(buf))});
}

void Socket::set_receive_metadata(bool on)
{
	// Over the app socket every packet brings its TLVs: only the flag.
	int v = on;
	if (!app_ && ::setsockopt(fd_, SOL_ILP, ILP_SO_RECVMETADATA, &v, sizeof(v)) < 0)
		fail(errno, std::string(on ? "asking" : "no longer asking") +
				" for each packet's metadata");
	receive_metadata_ = on;
	if (on && control_.empty() && !app_)
		control_.resize(CMSG_SPACE(tlv_area_max));
}

Address Socket::local_address() const
{
	if (app_)
		return Address::from_sockaddr(app_->local());
	sockaddr_ilp sa{};
	socklen_t len = sizeof(sa);
	if (::getsockname(fd_, reinterpret_cast<sockaddr *>(&sa), &len) < 0)
		fail(errno, "reading the socket's address");
	return Address::from_sockaddr(sa);
}

Address Socket::peer_address() const
{
	sockaddr_ilp sa{};
	socklen_t len = sizeof(sa);
	int err = 0;
	if (app_)
		err = app_->peer(sa);
	else if (::getpeername(fd_, reinterpret_cast<sockaddr *>(&sa), &len) < 0)
		err = errno;
	if (err)
		fail(err, "reading the socket's destination",
		     err == ENOTCONN ? " (connect() gives it one)" : "");
	return Address::from_sockaddr(sa);
}

void Socket::shutdown(int how)
{
	if (int err = app_ ? app_->shutdown(how) : (::shutdown(fd_, how) < 0 ? errno : 0))
		fail(err, "shutting the socket down");
}

void Socket::set_nonblocking(bool on)
{
	int fl = ::fcntl(fd_, F_GETFL);
	if (fl < 0)
		fail(errno, "reading the socket's flags");
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (::fcntl(fd_, F_SETFL, fl) < 0)
		fail(errno, std::string("making the socket ") + (on ? "non-blocking" : "blocking"));
}

} // namespace ilp

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/netlink.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <sys/socket.h>

namespace ilp::nl
{

namespace
{

// Large enough for any one read of a dump (the kernel fills at most 32 KiB
// per part); libmnl 1.0.5 calls this MNL_SOCKET_DUMP_SIZE.
constexpr std::size_t rx_buffer_size = 32768;
// What receive() reads into: an upcall carries a whole packet, up to 64 KiB.
constexpr std::size_t unsolicited_buffer_size = 131072;
// The most unsolicited messages transact() keeps for receive(); beyond,
// they count as an overrun.
constexpr std::size_t max_unsolicited = 4096;

std::size_t request_capacity(std::size_t capacity)
{
	return std::max(capacity, static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE));
}

std::string describe(int err, const std::string &context, const std::string &extack)
{
	std::string s = context + ": " + std::strerror(err);
	if (!extack.empty())
		s += ": " + extack;
	return s;
}

template <typename T>
std::optional<T> fixed(const nlattr *a)
{
	if (!a)
		return std::nullopt;
	if (mnl_attr_get_payload_len(a) != sizeof(T))
		throw NetlinkError(EPROTO, "attribute " + std::to_string(mnl_attr_get_type(a)) +
					       " has length " +
					       std::to_string(mnl_attr_get_payload_len(a)));
	T v;
	std::memcpy(&v, mnl_attr_get_payload(a), sizeof(T));
	return v;
}

// Calls @fn for each attribute of the @len bytes at @start, up to the
// first one that does not fit.
template <typename Fn>
void for_each_attr(const void *start, std::size_t len, Fn fn)
{
	const auto *a = static_cast<const nlattr *>(start);
	auto rem = static_cast<int>(len);
	// mnl_attr_ok() checks that each attribute fits in what remains.
	for (; mnl_attr_ok(a, rem); rem -= MNL_ALIGN(a->nla_len),
				    a = reinterpret_cast<const nlattr *>(
					reinterpret_cast<const char *>(a) + MNL_ALIGN(a->nla_len)))
		fn(a);
}

void parse_into(std::vector<const nlattr *> &table, const void *start, std::size_t len)
{
	for_each_attr(start, len, [&](const nlattr *a) {
		auto type = mnl_attr_get_type(a);
		if (type < table.size())
			table[type] = a;
	});
}

// Wipes the bytes of a buffer that a reply was read into (replies may
// carry keys) when it goes out of scope, however that happens.
class WipeOnExit
{
public:
	WipeOnExit(void *p, std::size_t n) noexcept : p_(p), n_(n) {}
	WipeOnExit(const WipeOnExit &) = delete;
	WipeOnExit &operator=(const WipeOnExit &) = delete;
	~WipeOnExit() { OPENSSL_cleanse(p_, n_); }

private:
	void *p_;
	std::size_t n_;
};

// Reads one datagram into @buf: its length (with MSG_TRUNC in @flags, the
// whole datagram's, even if longer than @buf), or -1 and errno.  @from is
// the port that sent it (0: the kernel); @truncated says it did not fit.
ssize_t recv_datagram(int fd, std::vector<std::uint8_t> &buf, int flags, std::uint32_t &from,
		      bool &truncated)
{
	sockaddr_nl addr{};
	iovec iov{buf.data(), buf.size()};
	msghdr msg{};
	msg.msg_name = &addr;
	msg.msg_namelen = sizeof(addr);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	ssize_t n = recvmsg(fd, &msg, flags);
	from = addr.nl_pid;
	truncated = msg.msg_flags & MSG_TRUNC;
	return n;
}

} // namespace

NetlinkError::NetlinkError(int err, const std::string &context, std::string extack)
    : ilp::Error(err, describe(err, context, extack)), extack_(std::move(extack))
{
}

Request::Request(std::uint16_t type, std::uint16_t flags, std::uint8_t cmd, std::uint8_t version,
		 std::size_t capacity)
    : buf_(request_capacity(capacity))
{
	hdr_ = mnl_nlmsg_put_header(buf_.data());
	hdr_->nlmsg_type = type;
	hdr_->nlmsg_flags = NLM_F_REQUEST | flags;
	auto *genl =
	    static_cast<genlmsghdr *>(mnl_nlmsg_put_extra_header(hdr_, sizeof(genlmsghdr)));
	genl->cmd = cmd;
	genl->version = version;
}

Request::Request(Request &&other) noexcept : buf_(std::move(other.buf_)), hdr_(other.hdr_)
{
	// A moved vector keeps its storage, so hdr_ still points into it.
	other.hdr_ = nullptr;
}

Request &Request::operator=(Request &&other) noexcept
{
	if (this != &other) {
		wipe();
		buf_ = std::move(other.buf_);
		hdr_ = other.hdr_;
		other.hdr_ = nullptr;
	}
	return *this;
}

Request::~Request()
{
	wipe();
}

void Request::wipe() noexcept
{
	if (hdr_)
		OPENSSL_cleanse(buf_.data(), hdr_->nlmsg_len);
}

Request &Request::put_u8(std::uint16_t type, std::uint8_t v)
{
	if (!mnl_attr_put_u8_check(hdr_, buf_.size(), type, v))
		throw NetlinkError(EMSGSIZE, "building request");
	return *this;
}

Request &Request::put_u16(std::uint16_t type, std::uint16_t v)
{
	if (!mnl_attr_put_u16_check(hdr_, buf_.size(), type, v))
		throw NetlinkError(EMSGSIZE, "building request");
	return *this;
}

Request &Request::put_u32(std::uint16_t type, std::uint32_t v)
{
	if (!mnl_attr_put_u32_check(hdr_, buf_.size(), type, v))
		throw NetlinkError(EMSGSIZE, "building request");
	return *this;
}

Request &Request::put_u64(std::uint16_t type, std::uint64_t v)
{
	if (!mnl_attr_put_u64_check(hdr_, buf_.size(), type, v))
		throw NetlinkError(EMSGSIZE, "building request");
	return *this;
}

Request &Request::put_str(std::uint16_t type, std::string_view v)
{
	std::string s(v);
	if (!mnl_attr_put_strz_check(hdr_, buf_.size(), type, s.c_str()))
		throw NetlinkError(EMSGSIZE, "building request");
	return *this;
}

Request &Request::put_bytes(std::uint16_t type, std::span<const std::uint8_t> v)
{
	// nla_len is 16 bits, header included.
	if (v.size() > UINT16_MAX - MNL_ATTR_HDRLEN)
		throw NetlinkError(EMSGSIZE, "building request: an attribute of " +
						 std::to_string(v.size()) + " bytes");
	if (!mnl_attr_put_check(hdr_, buf_.size(), type, v.size(), v.data()))
		throw NetlinkError(EMSGSIZE, "building request");
	return *this;
}

Request &Request::put_flag(std::uint16_t type)
{
	if (!mnl_attr_put_check(hdr_, buf_.size(), type, 0, nullptr))
		throw NetlinkError(EMSGSIZE, "building request");
	return *this;
}

nlattr *Request::nest_start(std::uint16_t type)
{
	auto *n = mnl_attr_nest_start_check(hdr_, buf_.size(), type);
	if (!n)
		throw NetlinkError(EMSGSIZE, "building request");
	return n;
}

void Request::nest_end(nlattr *nest)
{
	mnl_attr_nest_end(hdr_, nest);
}

std::span<const std::uint8_t> Request::bytes() const noexcept
{
	return {buf_.data(), hdr_->nlmsg_len};
}

Attrs Attrs::of_message(const nlmsghdr *nlh, std::uint16_t max_type)
{
	Attrs attrs(max_type);
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(genlmsghdr)))
		throw NetlinkError(EPROTO, "short generic netlink message");
	const auto *start =
	    static_cast<const char *>(mnl_nlmsg_get_payload_offset(nlh, sizeof(genlmsghdr)));
	std::size_t len = nlh->nlmsg_len - MNL_NLMSG_HDRLEN - MNL_ALIGN(sizeof(genlmsghdr));
	parse_into(attrs.table_, start, len);
	attrs.start_ = start;
	attrs.len_ = len;
	return attrs;
}

Attrs Attrs::of_nest(const nlattr *nest, std::uint16_t max_type)
{
	Attrs attrs(max_type);
	if (!nest)
		return attrs;
	attrs.start_ = mnl_attr_get_payload(nest);
	attrs.len_ = mnl_attr_get_payload_len(nest);
	parse_into(attrs.table_, attrs.start_, attrs.len_);
	return attrs;
}

const nlattr *Attrs::get(std::uint16_t type) const noexcept
{
	return type < table_.size() ? table_[type] : nullptr;
}

std::optional<std::uint8_t> Attrs::u8(std::uint16_t type) const
{
	return fixed<std::uint8_t>(get(type));
}
std::optional<std::uint16_t> Attrs::u16(std::uint16_t type) const
{
	return fixed<std::uint16_t>(get(type));
}
std::optional<std::uint32_t> Attrs::u32(std::uint16_t type) const
{
	return fixed<std::uint32_t>(get(type));
}
std::optional<std::uint64_t> Attrs::u64(std::uint16_t type) const
{
	return fixed<std::uint64_t>(get(type));
}

std::optional<std::string> Attrs::str(std::uint16_t type) const
{
	const nlattr *a = get(type);
	if (!a)
		return std::nullopt;
	const char *p = static_cast<const char *>(mnl_attr_get_payload(a));
	std::size_t n = mnl_attr_get_payload_len(a);
	return std::string(p, strnlen(p, n));
}

std::optional<std::span<const std::uint8_t>> Attrs::bytes(std::uint16_t type) const
{
	const nlattr *a = get(type);
	if (!a)
		return std::nullopt;
	return std::span<const std::uint8_t>(
	    static_cast<const std::uint8_t *>(mnl_attr_get_payload(a)),
	    mnl_attr_get_payload_len(a));
}

std::vector<std::uint8_t> Attrs::u8_all(std::uint16_t type) const
{
	std::vector<std::uint8_t> out;
	if (type >= table_.size())
		return out;
	for_each_attr(start_, len_, [&](const nlattr *a) {
		if (mnl_attr_get_type(a) == type)
			out.push_back(*fixed<std::uint8_t>(a));
	});
	return out;
}

std::vector<const nlattr *> Attrs::all(std::uint16_t type) const
{
	std::vector<const nlattr *> out;
	if (type >= table_.size())
		return out;
	for_each_attr(start_, len_, [&](const nlattr *a) {
		if (mnl_attr_get_type(a) == type)
			out.push_back(a);
	});
	return out;
}

ErrorReply parse_error(const nlmsghdr *nlh)
{
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(nlmsgerr))
		throw NetlinkError(EPROTO, "short netlink error message");
	const auto *e = static_cast<const nlmsgerr *>(mnl_nlmsg_get_payload(nlh));
	ErrorReply r{-e->error, {}};
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return r;
	// The TLVs follow the echoed request: its header only when capped.
	std::size_t off = sizeof(nlmsgerr);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(nlmsghdr);
	std::size_t payload = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
	if (off > payload)
		return r;
	std::vector<const nlattr *> table(NLMSGERR_ATTR_MAX + 1, nullptr);
	parse_into(table, reinterpret_cast<const char *>(e) + off, payload - off);
	if (const nlattr *msg = table[NLMSGERR_ATTR_MSG]) {
		const char *p = static_cast<const char *>(mnl_attr_get_payload(msg));
		r.extack.assign(p, strnlen(p, mnl_attr_get_payload_len(msg)));
	}
	return r;
}

void GenlSocket::MnlClose::operator()(mnl_socket *s) const noexcept
{
	mnl_socket_close(s);
}

GenlSocket::GenlSocket() : rxbuf_(rx_buffer_size)
{
	sock_.reset(mnl_socket_open(NETLINK_GENERIC));
	if (!sock_)
		throw NetlinkError(errno, "opening a generic netlink socket");
	if (mnl_socket_bind(sock_.get(), 0, MNL_SOCKET_AUTOPID) < 0)
		throw NetlinkError(errno, "binding a generic netlink socket");
	portid_ = mnl_socket_get_portid(sock_.get());
	int one = 1;
	// Best effort: older kernels lack these and still work.
	mnl_socket_setsockopt(sock_.get(), NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(sock_.get(), NETLINK_CAP_ACK, &one, sizeof(one));
}

GenlSocket::GenlSocket(GenlSocket &&) noexcept = default;
GenlSocket &GenlSocket::operator=(GenlSocket &&) noexcept = default;
GenlSocket::~GenlSocket() = default;

std::optional<FamilyInfo> GenlSocket::resolve(std::string_view name)
{
	Request req(GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
	req.put_str(CTRL_ATTR_FAMILY_NAME, name);
	std::optional<FamilyInfo> info;
	try {
		transact(req, [&](const nlmsghdr *nlh) {
			auto a = Attrs::of_message(nlh, CTRL_ATTR_MAX);
			auto id = a.u16(CTRL_ATTR_FAMILY_ID);
			if (!id)
				throw NetlinkError(EPROTO, "family reply without an id");
			info = FamilyInfo{*id, a.u32(CTRL_ATTR_VERSION).value_or(0),
					  a.u32(CTRL_ATTR_MAXATTR).value_or(0)};
			if (const nlattr *groups = a.get(CTRL_ATTR_MCAST_GROUPS)) {
				// Each group is a nest of its own, numbered.
				const auto *g =
				    static_cast<const nlattr *>(mnl_attr_get_payload(groups));
				int left = static_cast<int>(mnl_attr_get_payload_len(groups));
				for (; mnl_attr_ok(g, left); g = mnl_attr_next(g)) {
					left -= static_cast<int>(NLA_ALIGN(g->nla_len));
					auto ga = Attrs::of_nest(g, CTRL_ATTR_MCAST_GRP_MAX);
					auto gname = ga.str(CTRL_ATTR_MCAST_GRP_NAME);
					auto gid = ga.u32(CTRL_ATTR_MCAST_GRP_ID);
					if (gname && gid)
						info->groups.emplace_back(*gname, *gid);
				}
			}
		});
	} catch (const NetlinkError &e) {
		if (e.code().value() == ENOENT)
			return std::nullopt;
		throw;
	}
	return info;
}

void GenlSocket::join(std::uint32_t group)
{
	unsigned int g = group;
	if (setsockopt(fd(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
		throw NetlinkError(errno, "joining multicast group " + std::to_string(group));
}

void GenlSocket::transact(Request &req, const Handler &handler, const std::string &what)
{
	constexpr int attempts = 5;
	bool dump = req.header()->nlmsg_flags & NLM_F_DUMP;
	for (int i = 0;; i++) {
		bool interrupted = false;
		if (!dump) {
			transact_once(req, handler, interrupted, what);
			return;
		}
		// Buffer a dump's replies so that a retried one does not
		// hand the caller duplicates.  (No dump carries a key: those
		// only come in replies to single requests.)
		std::vector<std::vector<std::uint8_t>> msgs;
		transact_once(
		    req,
		    [&](const nlmsghdr *nlh) {
			    const auto *p = reinterpret_cast<const std::uint8_t *>(nlh);
			    msgs.emplace_back(p, p + nlh->nlmsg_len);
		    },
		    interrupted, what);
		if (!interrupted) {
			for (auto &m : msgs)
				handler(reinterpret_cast<const nlmsghdr *>(m.data()));
			return;
		}
		if (i + 1 == attempts)
			throw NetlinkError(EINTR, "dump kept changing while read");
	}
}

void GenlSocket::transact_once(Request &req, const Handler &handler, bool &interrupted,
			       const std::string &what)
{
	nlmsghdr *hdr = req.header();
	hdr->nlmsg_seq = ++seq_;
	hdr->nlmsg_pid = 0;
	auto out = req.bytes();
	// A signal (one a caller catches to stop, say) does not fail the
	// request half-way.
	while (mnl_socket_sendto(sock_.get(), out.data(), out.size()) < 0)
		if (errno != EINTR)
			throw NetlinkError(errno, "sending a netlink request");

	for (;;) {
		std::uint32_t from = 0;
		bool truncated = false;
		ssize_t n = recv_datagram(fd(), rxbuf_, 0, from, truncated);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw NetlinkError(errno, "reading a netlink reply");
		WipeOnExit wipe(rxbuf_.data(), static_cast<std::size_t>(n));
		if (truncated)
			throw NetlinkError(ENOSPC, "reading a netlink reply");
		if (from != 0)
			continue; // another process's socket, not the kernel
		const auto *nlh = reinterpret_cast<const nlmsghdr *>(rxbuf_.data());
		int rem = static_cast<int>(n);
		for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_seq == 0 && nlh->nlmsg_pid == 0) {
				keep_unsolicited(nlh); // an upcall, for receive()
				continue;
			}
			if (nlh->nlmsg_seq != hdr->nlmsg_seq || nlh->nlmsg_pid != portid_)
				continue; // not ours (a stale reply)
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				interrupted = true;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				auto err = parse_error(nlh);
				if (err.error)
					throw NetlinkError(
					    err.error,
					    what.empty() ? "kernel refused the request" : what,
					    err.extack);
				return;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int err = 0;
				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
					std::memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(int));
				if (err < 0)
					throw NetlinkError(
					    -err, what.empty() ? "kernel failed the dump" : what);
				return;
			}
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue; // NLMSG_NOOP, NLMSG_OVERRUN
			handler(nlh);
			if (!(nlh->nlmsg_flags & NLM_F_MULTI) && !(hdr->nlmsg_flags & NLM_F_ACK))
				return;
		}
	}
}

void GenlSocket::keep_unsolicited(const nlmsghdr *nlh)
{
	if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;
	if (unsolicited_.size() >= max_unsolicited) {
		overruns_++;
		return;
	}
	const auto *p = reinterpret_cast<const std::uint8_t *>(nlh);
	unsolicited_.emplace_back(p, p + nlh->nlmsg_len);
}

bool GenlSocket::receive(const Handler &handler, int timeout_ms)
{
	if (!unsolicited_.empty()) {
		while (!unsolicited_.empty()) {
			auto m = std::move(unsolicited_.front());
			unsolicited_.pop_front();
			WipeOnExit wipe(m.data(), m.size());
			handler(reinterpret_cast<const nlmsghdr *>(m.data()));
		}
		return true;
	}

	pollfd pfd{fd(), POLLIN, 0};
	int ready = poll(&pfd, 1, timeout_ms);
	if (ready < 0 && errno == EINTR)
		return false;
	if (ready < 0)
		throw NetlinkError(errno, "waiting for netlink messages");
	if (ready == 0)
		return false;

	if (rxbuf_.size() < unsolicited_buffer_size)
		rxbuf_.resize(unsolicited_buffer_size);
	std::uint32_t from = 0;
	bool truncated = false;
	ssize_t n = recv_datagram(fd(), rxbuf_, MSG_DONTWAIT | MSG_TRUNC, from, truncated);
	if (n < 0) {
		switch (errno) {
		case ENOBUFS:
			// The kernel dropped messages; the socket goes on.
			overruns_++;
			return true;
		case EAGAIN:
			return true; // woken for nothing: the caller waits again
		case EINTR:
			return false;
		default:
			throw NetlinkError(errno, "reading netlink messages");
		}
	}
	auto len = static_cast<std::size_t>(n);
	if (truncated) {
		// Lost; make room for the next one that big.
		OPENSSL_cleanse(rxbuf_.data(), rxbuf_.size());
		overruns_++;
		rxbuf_.resize(len);
		return true;
	}
	WipeOnExit wipe(rxbuf_.data(), len);
	if (from != 0)
		return true; // another process's socket, not the kernel
	const auto *nlh = reinterpret_cast<const nlmsghdr *>(rxbuf_.data());
	int rem = static_cast<int>(len);
	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			handler(nlh);
	return true;
}

void GenlSocket::set_receive_buffer(int bytes)
{
	if (bytes <= 0)
		throw NetlinkError(EINVAL, "setting a receive buffer of " + std::to_string(bytes) +
					       " bytes");
	// SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped instead.
	if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) == 0)
		return;
	if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0)
		throw NetlinkError(errno, "setting the netlink receive buffer to " +
					      std::to_string(bytes) + " bytes");
}

int GenlSocket::receive_buffer() const
{
	int bytes = 0;
	socklen_t len = sizeof(bytes);
	if (getsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &bytes, &len) < 0)
		throw NetlinkError(errno, "reading the netlink receive buffer size");
	return bytes;
}

int GenlSocket::fd() const noexcept
{
	return mnl_socket_get_fd(sock_.get());
}

} // namespace ilp::nl

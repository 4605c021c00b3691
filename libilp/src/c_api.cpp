// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The C-callable surface of ilp/ilp.h, on the C++ API.  No exception
// crosses into C: each becomes -1 and errno.
#include "ilp/ilp.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <system_error>

#include "ilp/error.hpp"
#include "ilp/family.hpp"
#include "ilp/group_control.hpp"
#include "ilp/service_control.hpp"
#include "ilp/socket.hpp"

namespace
{

// Runs @f, turning what it throws into errno and -1.
template <typename F>
int guard(F f) noexcept
{
	try {
		return f();
	} catch (const std::system_error &e) {
		errno = e.code().value() ? e.code().value() : EINVAL;
	} catch (const std::bad_alloc &) {
		errno = ENOMEM;
	} catch (...) {
		errno = EINVAL;
	}
	return -1;
}

int fail(int err) noexcept
{
	errno = err;
	return -1;
}

// The family ilp_socket() uses: the loaded module's, else the default.
int run_time_family() noexcept
{
	try {
		return ilp::af_ilp();
	} catch (...) {
		return ILP_AF_DEFAULT;
	}
}

std::uint16_t get_be16(const unsigned char *p)
{
	return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

int set_inaddr(ilp_inaddr *a, const char *ip, std::uint16_t port)
{
	ilp_inaddr out{};
	if (!ip)
		return fail(EINVAL);
	if (inet_pton(AF_INET, ip, &out.addr.v4) == 1)
		out.family = AF_INET;
	else if (inet_pton(AF_INET6, ip, out.addr.v6) == 1)
		out.family = AF_INET6;
	else
		return fail(EINVAL);
	out.port = htons(port ? port : std::uint16_t(ILP_UDP_PORT));
	*a = out;
	return 0;
}

// Runs @f, turning what it throws into errno and -1, for the calls that
// return a length.
template <typename F>
ssize_t guard_len(F f) noexcept
{
	ssize_t n = -1;
	guard([&] {
		n = f();
		return 0;
	});
	return n;
}

} // namespace

// The C socket: an ilp::Socket, whichever its transport.
struct ilp_sock {
	ilp::Socket sock;
	bool receiving_metadata = false;
};

namespace
{

// The family to write into addresses: AF_ILP's, also over the app
// socket, so that they can be passed to ilp_sock_sendto() as they are.
int ilp_socket_family(const ilp_sock *s) noexcept
{
	return s->sock.family() == AF_UNIX ? run_time_family() : s->sock.family();
}

} // namespace

extern "C" {

int ilp_family(void)
{
	return guard([] {
		auto af = ilp::loaded_af(ILP_AF_SYSFS_PATH);
		return af ? *af : fail(EAFNOSUPPORT);
	});
}

int ilp_socket(int flags)
{
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(EINVAL);
	return ::socket(run_time_family(), SOCK_DGRAM | flags, ILP_PROTO_DGRAM);
}

void ilp_addr_init(struct sockaddr_ilp *sa, uint32_t service, uint64_t conn)
{
	std::memset(sa, 0, sizeof(*sa));
	sa->silp_family = static_cast<__kernel_sa_family_t>(run_time_family());
	sa->silp_service = service;
	sa->silp_conn = conn;
}

int ilp_addr_set_host(struct sockaddr_ilp *sa, const char *ip, uint16_t port)
{
	if (!sa)
		return fail(EINVAL);
	return set_inaddr(&sa->silp_host, ip, port);
}

int ilp_addr_set_sn(struct sockaddr_ilp *sa, const char *ip, uint16_t port)
{
	if (!sa)
		return fail(EINVAL);
	if (!ip) {
		std::memset(&sa->silp_sn, 0, sizeof(sa->silp_sn));
		return 0;
	}
	return set_inaddr(&sa->silp_sn, ip, port);
}

int ilp_endpoint_parse(struct ilp_inaddr *out, const char *text)
{
	if (!out || !text)
		return fail(EINVAL);
	return guard([&] {
		ilp::Address a;
		a.host = ilp::Endpoint::parse(text);
		*out = a.to_sockaddr(0).silp_host;
		return 0;
	});
}

int ilp_addr_parse(struct sockaddr_ilp *sa, const char *text)
{
	if (!sa || !text)
		return fail(EINVAL);
	return guard([&] {
		*sa = ilp::Address::parse(text).to_sockaddr(run_time_family());
		return 0;
	});
}

int ilp_addr_format(const struct sockaddr_ilp *sa, char *buf, size_t size)
{
	if (!sa || (!buf && size))
		return fail(EINVAL);
	return guard([&] {
		auto s = ilp::Address::from_sockaddr(*sa).to_string();
		if (s.size() >= size)
			return fail(ENOSPC);
		std::memcpy(buf, s.c_str(), s.size() + 1);
		return 0;
	});
}

int ilp_tlv_put(void *buf, size_t cap, size_t *off, uint16_t type, const void *val, uint16_t len)
{
	if ((!buf && cap) || !off || (!val && len))
		return fail(EINVAL);
	std::size_t need = 4 + ((std::size_t(len) + 3) & ~std::size_t(3));
	if (*off > cap || cap - *off < need)
		return fail(ENOSPC);
	auto *p = static_cast<unsigned char *>(buf) + *off;
	p[0] = static_cast<unsigned char>(type >> 8);
	p[1] = static_cast<unsigned char>(type & 0xff);
	p[2] = static_cast<unsigned char>(len >> 8);
	p[3] = static_cast<unsigned char>(len & 0xff);
	if (len)
		std::memcpy(p + 4, val, len);
	std::memset(p + 4 + len, 0, need - 4 - len);
	*off += need;
	return 0;
}

int ilp_tlv_next(const void *buf, size_t len, size_t *off, uint16_t *type, const void **val,
		 uint16_t *vlen)
{
	if ((!buf && len) || !off || !type || !val || !vlen || *off > len)
		return fail(EINVAL);
	const auto *base = static_cast<const unsigned char *>(buf);
	for (;;) {
		std::size_t rem = len - *off;
		if (rem == 0)
			return 0;
		if (rem < 4)
			return fail(EINVAL);
		const auto *p = base + *off;
		std::uint16_t t = get_be16(p);
		std::uint16_t l = get_be16(p + 2);
		std::size_t need = 4 + ((std::size_t(l) + 3) & ~std::size_t(3));
		if (need > rem)
			return fail(EINVAL);
		*off += need;
		if (t == 0)
			continue;
		*type = t;
		*val = p + 4;
		*vlen = l;
		return 1;
	}
}

int ilp_tlv_host(const void *val, uint16_t vlen, struct ilp_inaddr *out)
{
	if (!val || !out || (vlen != 6 && vlen != 18))
		return fail(EINVAL);
	const auto *p = static_cast<const unsigned char *>(val);
	ilp_inaddr a{};
	a.family = vlen == 6 ? AF_INET : AF_INET6;
	if (vlen == 6)
		std::memcpy(&a.addr.v4, p, 4);
	else
		std::memcpy(a.addr.v6, p, 16);
	std::memcpy(&a.port, p + vlen - 2, 2);
	*out = a;
	return 0;
}

struct ilp_sock *ilp_sock_open(int flags)
{
	ilp_sock *out = nullptr;
	guard([&] {
		// The C caller owns it until ilp_sock_close().
		out = std::make_unique<ilp_sock>(ilp::Socket(flags)).release();
		return 0;
	});
	return out;
}

void ilp_sock_close(struct ilp_sock *s)
{
	// Owned by the C caller from ilp_sock_open() to here.
	std::unique_ptr<ilp_sock> owned(s);
}

int ilp_sock_fd(const struct ilp_sock *s)
{
	return s ? s->sock.fd() : fail(EINVAL);
}

int ilp_sock_bind(struct ilp_sock *s, uint32_t service, uint64_t conn)
{
	if (!s)
		return fail(EINVAL);
	return guard([&] {
		s->sock.bind(service, conn);
		return 0;
	});
}

int ilp_sock_connect(struct ilp_sock *s, const struct sockaddr_ilp *to)
{
	if (!s || !to)
		return fail(EINVAL);
	return guard([&] {
		s->sock.connect(ilp::Address::from_sockaddr(*to));
		return 0;
	});
}

ssize_t ilp_sock_sendto(struct ilp_sock *s, const void *buf, size_t len,
			const struct sockaddr_ilp *to, const void *md, size_t md_len)
{
	if (!s || (!buf && len) || (!md && md_len))
		return fail(EINVAL);
	return guard_len([&] {
		std::span data(static_cast<const std::byte *>(buf), len);
		std::optional<ilp::Metadata> tlvs;
		if (md)
			tlvs = ilp::Metadata::parse({static_cast<const std::byte *>(md), md_len});
		const ilp::Metadata *mdp = tlvs ? &*tlvs : nullptr;
		auto n = to ? s->sock.send_to(ilp::Address::from_sockaddr(*to), data, mdp)
			    : s->sock.send(data, mdp);
		return static_cast<ssize_t>(n);
	});
}

ssize_t ilp_sock_recvfrom(struct ilp_sock *s, void *buf, size_t len, int flags,
			  struct sockaddr_ilp *from, void *md, size_t *md_len)
{
	if (!s || (!buf && len) || (md && !md_len))
		return fail(EINVAL);
	return guard_len([&]() -> ssize_t {
		if (md && !s->receiving_metadata) {
			s->sock.set_receive_metadata(true);
			s->receiving_metadata = true;
		}
		auto r = s->sock.receive({static_cast<std::byte *>(buf), len}, flags);
		if (from)
			*from =
			    r.from.host ? r.from.to_sockaddr(ilp_socket_family(s)) : sockaddr_ilp{};
		if (md) {
			auto tlvs = r.metadata ? r.metadata->bytes() : std::span<const std::byte>();
			std::memcpy(md, tlvs.data(), std::min(*md_len, tlvs.size()));
			*md_len = tlvs.size();
		}
		return static_cast<ssize_t>(r.size);
	});
}

} // extern "C"

int ilp_service_control(uint32_t service, const struct ilp_inaddr *sn, int flags, const void *req,
			size_t req_len, void *reply, size_t *reply_len, int *status, int timeout_ms)
{
	if ((flags & ~ILP_CONTROL_LOCAL) || (req_len && !req) || !status || !reply_len ||
	    (*reply_len && !reply) || timeout_ms < 0)
		return fail(EINVAL);
	return guard([&] {
		ilp::ControlTarget to;
		to.local = flags & ILP_CONTROL_LOCAL;
		if (timeout_ms)
			to.timeout = std::chrono::milliseconds(timeout_ms);
		if (sn && sn->family) {
			sockaddr_ilp sa{};
			sa.silp_sn = *sn;
			to.sn = ilp::Address::from_sockaddr(sa).sn;
		}
		auto a = ilp::control_service(
		    service, {static_cast<const std::uint8_t *>(req), req_len}, to);
		if (*reply_len && !a.body.empty())
			std::memcpy(reply, a.body.data(), std::min(*reply_len, a.body.size()));
		*reply_len = a.body.size();
		*status = a.status;
		return 0;
	});
}

namespace
{

// A group's name from C, or EINVAL.
ilp::group::Group group_from(const char *text)
{
	std::string why;
	auto name = text ? ilp::group::parse_name(text, &why) : std::nullopt;
	if (!name)
		throw ilp::Error(EINVAL, text ? why : "no group");
	return ilp::group::Group(*name);
}

std::optional<ilp::group::Grant> grant_from(const char *text)
{
	if (!text)
		return std::nullopt;
	std::string why;
	auto g = ilp::group::parse_grant(text, &why);
	if (!g)
		throw ilp::Error(EINVAL, why);
	return g;
}

} // namespace

int ilp_group_join(const char *group, const char *grant)
{
	return guard([&] {
		group_from(group).join(grant_from(grant));
		return 0;
	});
}

int ilp_group_leave(const char *group)
{
	return guard([&] {
		group_from(group).leave();
		return 0;
	});
}

int ilp_group_register(const char *group, const char *grant)
{
	return guard([&] {
		group_from(group).register_sender(grant_from(grant));
		return 0;
	});
}

int ilp_group_unregister(const char *group)
{
	return guard([&] {
		group_from(group).unregister_sender();
		return 0;
	});
}

int ilp_group_connection(const char *group, uint64_t *conn)
{
	if (!conn)
		return fail(EINVAL);
	return guard([&] {
		*conn = group_from(group).connection();
		return 0;
	});
}

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::control_service(): one connection to ilpd's app socket per request
// (CONTROL needs no HELLO), so that a request in flight holds up no
// socket of the app's.
#include "ilp/service_control.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "app_protocol.hpp"
#include "app_transport.hpp"
#include "ilp/error.hpp"
#include "ilp/socket.hpp"
#include "ilp/unique_fd.hpp"

namespace ilp
{

namespace
{

Error sys_error(int err, const std::string &what)
{
	return Error(err, what + ": " + std::strerror(err));
}

} // namespace

ControlAnswer control_service(std::uint32_t service, std::span<const std::uint8_t> request,
			      const ControlTarget &to)
{
	if (service == 0 || service == ~0u)
		throw Error(EINVAL, "service control: service " + std::to_string(service) +
					" is not one a module can serve");
	if (request.size() > app::max_control_request)
		throw Error(EMSGSIZE, "service control: a request carries at most " +
					  std::to_string(app::max_control_request) + " bytes");
	auto path = app::socket_path();
	sockaddr_un sun{};
	sun.sun_family = AF_UNIX;
	if (path.size() >= sizeof(sun.sun_path))
		throw Error(ENAMETOOLONG, "the app socket path " + path + " is too long");
	std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
	UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (!fd)
		throw sys_error(errno, "service control: a UNIX socket");
	int rc;
	do
		rc = ::connect(fd.get(), reinterpret_cast<const sockaddr *>(&sun), sizeof(sun));
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		throw sys_error(errno, "service control: connecting to ilpd's app socket " + path);

	app::MsgHeader h;
	h.type = app::MsgType::Control;
	h.flags = to.local ? app::control_local : 0;
	Address a;
	a.service = service;
	a.sn = to.sn;
	h.addr = a.to_sockaddr(0);
	h.addr.silp_family = 0;
	iovec out[2] = {{&h, sizeof(h)},
			{const_cast<std::uint8_t *>(request.data()), request.size()}};
	msghdr msg{};
	msg.msg_iov = out;
	msg.msg_iovlen = request.empty() ? 1 : 2;
	ssize_t n;
	do
		n = ::sendmsg(fd.get(), &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		throw sys_error(errno, "service control: writing to ilpd");

	pollfd p{fd.get(), POLLIN, 0};
	do
		rc = ::poll(&p, 1, static_cast<int>(to.timeout.count()));
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		throw Error(ETIMEDOUT, "service control: no answer from ilpd within " +
					   std::to_string(to.timeout.count()) + " ms");
	if (rc < 0)
		throw sys_error(errno, "service control: waiting for ilpd");
	// The largest answer: the header and a module's whole reply.
	std::vector<std::uint8_t> buf(sizeof(app::MsgHeader) + 65536);
	do
		n = ::recv(fd.get(), buf.data(), buf.size(), MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		throw sys_error(errno, "service control: reading ilpd's answer");
	if (n == 0)
		throw Error(ECONNRESET, "service control: ilpd closed the connection");
	if (static_cast<std::size_t>(n) < sizeof(h) || static_cast<std::size_t>(n) > buf.size())
		throw Error(EPROTO, "service control: a malformed answer from ilpd");
	app::MsgHeader r;
	std::memcpy(&r, buf.data(), sizeof(r));
	if (r.version != app::protocol_version || r.type != app::MsgType::Reply)
		throw Error(EPROTO, "service control: a malformed answer from ilpd");
	if (r.error == EPROTO)
		throw Error(EPROTO, "service control: this ilpd does not know it (too old?)");
	if (r.error)
		throw sys_error(r.error, "service control for service " + std::to_string(service));
	ControlAnswer answer;
	answer.status = r.status;
	answer.body.assign(buf.begin() + sizeof(r), buf.begin() + n);
	return answer;
}

} // namespace ilp

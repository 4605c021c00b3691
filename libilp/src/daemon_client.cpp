// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/daemon_client.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ilp/error.hpp"

namespace ilp
{

namespace
{

std::string socket_hint(int err, const std::string &path)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
		return "is ilpd running? (socket " + path + ")";
	case EACCES:
	case EPERM:
		return "permission denied (socket " + path + "; run as root)";
	default:
		return "cannot connect to ilpd: " + std::string(std::strerror(err)) + " (socket " +
		       path + ")";
	}
}

// Overwrites every string in @j.
void wipe_strings(nlohmann::json &j) noexcept
{
	if (j.is_string()) {
		auto &s = j.get_ref<std::string &>();
		OPENSSL_cleanse(s.data(), s.size());
	} else if (j.is_structured()) {
		for (auto &v : j)
			wipe_strings(v);
	}
}

timeval to_timeval(std::chrono::milliseconds ms)
{
	return {.tv_sec = static_cast<time_t>(ms.count() / 1000),
		.tv_usec = static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

} // namespace

std::string DaemonClient::default_path()
{
	const char *env = std::getenv("ILPD_SOCKET");
	return env && *env ? env : default_socket;
}

DaemonClient::DaemonClient(std::string path) : path_(std::move(path))
{
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	if (path_.empty() || path_.size() >= sizeof(sa.sun_path))
		throw Error(ENAMETOOLONG, "bad socket path '" + path_ + "': it must have 1 to " +
					      std::to_string(sizeof(sa.sun_path) - 1) +
					      " characters");
	std::memcpy(sa.sun_path, path_.c_str(), path_.size() + 1);

	fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd_ < 0)
		throw Error(errno, "cannot create a socket: " + std::string(std::strerror(errno)));
	// connect() waits on a full listen backlog, and send() on a full
	// buffer, as long as SO_SNDTIMEO lets them: a wedged daemon must not
	// hang its client forever.
	set_timeout(timeout_);
	int rc;
	do
		rc = connect(fd_, reinterpret_cast<const sockaddr *>(&sa), sizeof(sa));
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int err = errno;
		close_fd();
		if (err == EAGAIN)
			throw Error(ETIMEDOUT,
				    "ilpd did not accept the connection (socket " + path_ + ")");
		throw Error(err, socket_hint(err, path_));
	}
}

DaemonClient::~DaemonClient()
{
	close_fd();
}

DaemonClient::DaemonClient(DaemonClient &&other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), timeout_(other.timeout_)
{
}

DaemonClient &DaemonClient::operator=(DaemonClient &&other) noexcept
{
	if (this != &other) {
		close_fd();
		path_ = std::move(other.path_);
		fd_ = std::exchange(other.fd_, -1);
		timeout_ = other.timeout_;
	}
	return *this;
}

void DaemonClient::close_fd() noexcept
{
	if (fd_ >= 0)
		close(fd_);
	fd_ = -1;
}

void DaemonClient::fail(int err, const std::string &what)
{
	close_fd();
	throw Error(err, what + " (socket " + path_ + ")");
}

void DaemonClient::set_timeout(std::chrono::milliseconds timeout)
{
	timeout_ = timeout;
	if (fd_ < 0)
		return;
	timeval tv = to_timeval(timeout);
	setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

nlohmann::json DaemonClient::call(const std::string &cmd, nlohmann::json args)
{
	if (fd_ < 0)
		throw Error(ENOTCONN, "the connection to ilpd was closed after an error (socket " +
					  path_ + ")");
	if (args.is_null())
		args = nlohmann::json::object();
	if (!args.is_object())
		throw Error(EINVAL, "the arguments of '" + cmd + "' must be a JSON object");
	args["cmd"] = cmd;
	args["version"] = protocol_version;
	// Invalid UTF-8 (a file name, say) is replaced rather than thrown on:
	// the daemon then says what it does not know.
	std::string req = args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
	// Requests may carry keys (key.set, peer.add): the copies made here
	// are wiped when this call ends, however it ends.
	struct Wipe {
		nlohmann::json &args;
		std::string &req;
		~Wipe()
		{
			wipe_strings(args);
			OPENSSL_cleanse(req.data(), req.size());
		}
	} wipe{args, req};

	ssize_t n;
	do
		n = send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;
		if (err == EPIPE || err == ECONNRESET)
			fail(ECONNRESET, "ilpd closed the connection");
		if (err == EAGAIN)
			fail(ETIMEDOUT, "ilpd did not take the request within " +
					    std::to_string(timeout_.count()) + " ms");
		fail(err, "cannot send to ilpd: " + std::string(std::strerror(err)));
	}

	// Wait for the reply, then learn its size before reading it: a
	// SOCK_SEQPACKET message is read whole or truncated.
	using clock = std::chrono::steady_clock;
	auto deadline = clock::now() + timeout_;
	for (;;) {
		auto left =
		    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
		if (left.count() < 0)
			left = std::chrono::milliseconds(0);
		pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
		int rc = poll(&p, 1, static_cast<int>(left.count()));
		if (rc > 0)
			break;
		if (rc == 0)
			fail(ETIMEDOUT, "ilpd did not answer '" + cmd + "' within " +
					    std::to_string(timeout_.count()) + " ms");
		if (errno != EINTR)
			fail(errno, "waiting for ilpd: " + std::string(std::strerror(errno)));
	}
	do
		n = recv(fd_, nullptr, 0, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		fail(errno, "cannot read from ilpd: " + std::string(std::strerror(errno)));
	if (n == 0)
		fail(ECONNRESET, "ilpd closed the connection");
	if (static_cast<std::size_t>(n) > max_reply_size)
		fail(EMSGSIZE, "ilpd sent a reply of " + std::to_string(n) + " bytes, over the " +
				   std::to_string(max_reply_size) + " a client takes");
	std::string buf(static_cast<std::size_t>(n), '\0');
	do
		n = recv(fd_, buf.data(), buf.size(), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		fail(errno, "cannot read from ilpd: " + std::string(std::strerror(errno)));
	buf.resize(static_cast<std::size_t>(n));

	nlohmann::json reply = nlohmann::json::parse(buf, nullptr, false);
	if (reply.is_discarded() || !reply.is_object())
		fail(EPROTO, "ilpd sent a reply that is not a JSON object");
	auto version = reply.find("version");
	if (version == reply.end() || !version->is_number_integer() ||
	    version->get<long long>() != protocol_version)
		fail(EPROTO,
		     "ilpd speaks control protocol version " +
			 (version == reply.end() ? std::string("(none)") : version->dump()) +
			 ", this client version " + std::to_string(protocol_version) +
			 ": are ilpd and its client from the same release?");
	auto ok = reply.find("ok");
	if (ok == reply.end() || !ok->is_boolean())
		fail(EPROTO, "ilpd sent a reply without \"ok\"");
	if (!ok->get<bool>()) {
		// A refusal leaves the connection usable: the reply was whole.
		int err = EINVAL;
		if (auto e = reply.find("errno"); e != reply.end() && e->is_number_integer() &&
						  e->get<long long>() > 0 &&
						  e->get<long long>() < 4096)
			err = e->get<int>();
		auto msg = reply.find("error");
		throw Error(err, msg != reply.end() && msg->is_string()
				     ? msg->get<std::string>()
				     : "ilpd refused '" + cmd + "' without saying why");
	}
	auto result = reply.find("result");
	return result == reply.end() ? nlohmann::json() : std::move(*result);
}

} // namespace ilp

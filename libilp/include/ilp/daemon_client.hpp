// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A client of ilpd's control socket (docs/control-socket.md): a UNIX
// SOCK_SEQPACKET socket carrying one JSON object per message.
//
//	ilp::DaemonClient ilpd;
//	auto services = ilpd.call("service.list");
//	ilpd.call("service.config", {{"name", "relay"}, {"set", {{"next-hop", "10.0.2.1"}}}});
//
// nlohmann::json is part of this interface: it is header-only and packaged
// by the distributions (Debian: nlohmann-json3-dev), and the replies are
// JSON documents whose shape the daemon owns, so a typed copy here would
// only lag behind it.  A program that includes this header needs
// nlohmann/json.hpp on its include path.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace ilp
{

class DaemonClient
{
public:
	// The version of the protocol this library speaks: every reply
	// carries it, and a reply with another is refused.
	static constexpr int protocol_version = 1;
	// The largest request ilpd reads and the largest reply a client
	// accepts, in bytes.
	static constexpr std::size_t max_request_size = 64 * 1024;
	static constexpr std::size_t max_reply_size = 1024 * 1024;
	// ilpd's default run-dir + "/ilpd.sock".
	static constexpr const char *default_socket = "/run/ilp/ilpd.sock";

	// $ILPD_SOCKET when it is set and not empty, else default_socket.
	static std::string default_path();

	// Connects to the socket at @path.  Throws ilp::Error: ENOENT or
	// ECONNREFUSED "is ilpd running? (socket PATH)", EACCES or EPERM
	// "permission denied (socket PATH; run as root)", others with
	// strerror.
	explicit DaemonClient(std::string path = default_path());
	~DaemonClient();
	DaemonClient(const DaemonClient &) = delete;
	DaemonClient &operator=(const DaemonClient &) = delete;
	DaemonClient(DaemonClient &&other) noexcept;
	DaemonClient &operator=(DaemonClient &&other) noexcept;

	// Sends the command @cmd ("service.list") with the members of @args
	// (an object, or null for none) and returns the reply's "result"
	// (null when it has none).  Throws ilp::Error with the daemon's
	// message and the errno it gave (EINVAL if none) when the daemon
	// refuses the request; EPROTO for a reply that is not one of the
	// protocol or of another version, EMSGSIZE for a reply over
	// max_reply_size, ETIMEDOUT when no reply came within timeout(),
	// ECONNRESET when ilpd closed the connection.  After any error but a
	// refusal the connection is closed and further calls fail: a late
	// reply must not be taken for the answer to the next request.
	nlohmann::json call(const std::string &cmd, nlohmann::json args = {});

	// How long call() waits for a reply: 30 s unless set.
	void set_timeout(std::chrono::milliseconds timeout);
	std::chrono::milliseconds timeout() const noexcept { return timeout_; }

	const std::string &path() const noexcept { return path_; }

private:
	void close_fd() noexcept;
	[[noreturn]] void fail(int err, const std::string &what);

	std::string path_;
	int fd_ = -1;
	std::chrono::milliseconds timeout_{30000};
};

} // namespace ilp

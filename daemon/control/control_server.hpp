// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpd's control socket, which ilpctl talks to (docs/control-socket.md):
// a UNIX SOCK_SEQPACKET socket, mode 0600, one JSON object per message.
// The daemon registers a handler per command; a thread of the server's
// own accepts clients and answers their requests, one at a time, in the
// order each client sent them.
//
//	ilpd::ControlServer control(ilpd::control_socket_path(opts.run_dir), {
//		{"service.list", [&](const nlohmann::json &) { return list(); }},
//		{"service.unload", [&](const nlohmann::json &args) {
//			 unload(args.at("name"));
//			 return nlohmann::json();
//		 }},
//	});
//
// Handlers run on the server's thread, so they must take the daemon's
// locks themselves, and should be quick: while one runs, every client
// waits.
#pragma once

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include <sys/types.h>

#include <ilp/error.hpp>
#include <ilp/unique_fd.hpp>
#include <nlohmann/json.hpp>

namespace ilpd
{

// Thrown by a handler to refuse a request: the client gets @message and
// @err ("no service 'x'", ENOENT).  Any other std::exception gives its
// what() too, with the errno of a std::system_error.
class ControlError : public ilp::Error
{
public:
	explicit ControlError(std::string message, int err = EINVAL)
	    : ilp::Error(err, std::move(message))
	{
	}
};

// Runs @f, a handler's body, with the errors of the layers below turned
// into the client's: an ilp::Error keeps its errno, anything else is
// EINVAL with its message.
template <typename F>
auto guarded(F f) -> decltype(f())
{
	try {
		return f();
	} catch (const ControlError &) {
		throw;
	} catch (const ilp::Error &e) {
		throw ControlError(e.what(), e.code().value());
	} catch (const std::exception &e) {
		throw ControlError(e.what());
	}
}

// A handler gets the request's members but "cmd" and "version" (an
// object) and returns the reply's "result" (null for none).
using ControlHandler = std::function<nlohmann::json(const nlohmann::json &args)>;
using ControlHandlers = std::map<std::string, ControlHandler>;

// Where the server reports what no client is told: clients refused, a
// failing accept().  One line, no trailing newline.
using ControlLog = std::function<void(const std::string &message)>;

// run-dir + "/ilpd.sock".
inline std::filesystem::path control_socket_path(const std::filesystem::path &run_dir)
{
	return run_dir / "ilpd.sock";
}

class ControlServer
{
public:
	// Binds and listens on @path, mode 0600, and starts serving.  A
	// socket file left at @path by a daemon that died is replaced; one a
	// live daemon answers on is not (ilp::Error EADDRINUSE "another ilpd
	// is running"), nor is a file that is not a socket.  The directory
	// must exist (systemd's RuntimeDirectory=).
	ControlServer(std::filesystem::path path, ControlHandlers handlers, ControlLog log = {});
	// Stops the thread, closes every connection and removes the socket
	// file (if it is still the one this server made).
	~ControlServer();
	ControlServer(const ControlServer &) = delete;
	ControlServer &operator=(const ControlServer &) = delete;

	const std::filesystem::path &path() const noexcept { return path_; }

	// The most clients served at once; more are told so and closed.
	static constexpr std::size_t max_clients = 64;

private:
	using Fd = ilp::UniqueFd;

	void bind_socket();
	void serve();
	void report(const std::string &message) const;

	std::filesystem::path path_;
	ControlHandlers handlers_;
	ControlLog log_;
	Fd listen_fd_;
	Fd stop_fd_; // an eventfd: written to stop the thread
	dev_t dev_ = 0;
	ino_t ino_ = 0; // of the socket file, to remove only our own
	std::thread thread_;
};

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
#include "control/control_server.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <openssl/crypto.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ilp/daemon_client.hpp>

namespace ilpd
{

namespace
{

using nlohmann::json;

// The protocol's constants are libilp's, which the clients use.
constexpr int protocol_version = ilp::DaemonClient::protocol_version;
constexpr std::size_t max_request = ilp::DaemonClient::max_request_size;
constexpr std::size_t max_reply = ilp::DaemonClient::max_reply_size;

std::string dump(const json &j)
{
	// Text from outside (a file name, a request echoed in a parse error)
	// may not be UTF-8: replace what is not rather than throw.
	return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string error_reply(const std::string &message, int err)
{
	return dump(
	    {{"version", protocol_version}, {"ok", false}, {"error", message}, {"errno", err}});
}

// nlohmann's messages start with "[json.exception.parse_error.101] ",
// which says nothing to an admin.
std::string json_message(const json::exception &e)
{
	std::string_view m = e.what();
	if (m.starts_with("[json.exception.")) {
		if (auto end = m.find("] "); end != m.npos)
			m.remove_prefix(end + 2);
	}
	return std::string(m);
}

// Overwrites every string in @j: requests may carry keys (key.set,
// peer.add), which should not linger in freed memory.
void wipe_strings(json &j) noexcept
{
	if (j.is_string()) {
		auto &s = j.get_ref<std::string &>();
		OPENSSL_cleanse(s.data(), s.size());
	} else if (j.is_structured()) {
		for (auto &v : j)
			wipe_strings(v);
	}
}

std::string reply_to(const ControlHandlers &handlers, std::string_view message)
{
	json req;
	try {
		req = json::parse(message);
	} catch (const json::parse_error &e) {
		return error_reply("bad request: " + json_message(e), EINVAL);
	}
	if (!req.is_object())
		return error_reply("bad request: not a JSON object", EINVAL);
	auto cmd = req.find("cmd");
	if (cmd == req.end() || !cmd->is_string())
		return error_reply("bad request: no \"cmd\" string", EINVAL);
	// A request may say which version its client speaks; one that does
	// not is taken as ours (the reply's version lets the client check).
	if (auto v = req.find("version"); v != req.end() && *v != protocol_version)
		return error_reply("ilpd speaks control protocol version " +
				       std::to_string(protocol_version) + ", the client version " +
				       dump(*v),
				   EPROTONOSUPPORT);
	std::string name = cmd->get<std::string>();
	auto h = handlers.find(name);
	if (h == handlers.end())
		return error_reply("unknown command '" + name + "'", EOPNOTSUPP);
	req.erase("cmd");
	req.erase("version");

	json result;
	struct Wipe {
		json &req;
		~Wipe() { wipe_strings(req); }
	} wipe{req};
	try {
		result = h->second(req);
	} catch (const json::exception &e) {
		// args.at("name") or .get<std::string>() in a handler: the
		// request lacked a member or had one of the wrong type.
		return error_reply("bad request: " + json_message(e), EINVAL);
	} catch (const std::system_error &e) {
		int err = e.code().category() == std::generic_category() ||
				  e.code().category() == std::system_category()
			      ? e.code().value()
			      : EINVAL;
		return error_reply(e.what(), err);
	} catch (const std::exception &e) {
		return error_reply(e.what(), EINVAL);
	}
	std::string reply = dump({{"version", protocol_version}, {"ok", true}, {"result", result}});
	if (reply.size() > max_reply)
		return error_reply("the reply to '" + name + "' would take " +
				       std::to_string(reply.size()) + " bytes, over the limit of " +
				       std::to_string(max_reply),
				   EMSGSIZE);
	return reply;
}

sockaddr_un socket_address(const std::filesystem::path &path)
{
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	const std::string &s = path.native();
	if (s.empty() || s.size() >= sizeof(sa.sun_path))
		throw ilp::Error(ENAMETOOLONG,
				 "control socket path '" + s + "': it must have 1 to " +
				     std::to_string(sizeof(sa.sun_path) - 1) + " characters");
	std::memcpy(sa.sun_path, s.c_str(), s.size() + 1);
	return sa;
}

std::string errno_text(const std::string &what, int err)
{
	return what + ": " + std::strerror(err);
}

} // namespace

ControlServer::ControlServer(std::filesystem::path path, ControlHandlers handlers, ControlLog log)
    : path_(std::move(path)), handlers_(std::move(handlers)), log_(std::move(log))
{
	bind_socket();
	try {
		stop_fd_ = Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
		if (stop_fd_.get() < 0)
			throw ilp::Error(errno, errno_text("eventfd", errno));
		thread_ = std::thread(&ControlServer::serve, this);
	} catch (...) {
		unlink(path_.c_str());
		throw;
	}
}

ControlServer::~ControlServer()
{
	std::uint64_t one = 1;
	if (write(stop_fd_.get(), &one, sizeof(one)) < 0)
		report(errno_text("cannot stop the control socket's thread", errno));
	thread_.join();
	// Another ilpd cannot have bound the path while we listened, but an
	// admin may have moved ours away and started one: leave its socket.
	struct stat st;
	if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
		unlink(path_.c_str());
}

void ControlServer::bind_socket()
{
	const sockaddr_un sa = socket_address(path_);
	const auto *addr = reinterpret_cast<const sockaddr *>(&sa);
	const std::string where = " (control socket " + path_.native() + ")";
	listen_fd_ = Fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (listen_fd_.get() < 0)
		throw ilp::Error(errno, errno_text("cannot create the control socket", errno));

	if (bind(listen_fd_.get(), addr, sizeof(sa)) < 0) {
		if (errno != EADDRINUSE)
			throw ilp::Error(errno, errno_text("cannot bind", errno) + where);
		// The file is there.  A daemon that died leaves it behind; only
		// one that nobody answers on may be replaced.
		struct stat st;
		if (lstat(path_.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
			throw ilp::Error(EEXIST,
					 path_.native() +
					     " exists and is not a socket: not replacing it");
		Fd probe(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
		if (probe.get() < 0)
			throw ilp::Error(errno, errno_text("cannot create a socket", errno));
		if (connect(probe.get(), addr, sizeof(sa)) == 0 || errno == EAGAIN)
			throw ilp::Error(EADDRINUSE, "another ilpd is running" + where);
		if (errno != ECONNREFUSED)
			throw ilp::Error(
			    errno, errno_text("cannot probe the socket in the way", errno) + where);
		if (unlink(path_.c_str()) < 0 && errno != ENOENT)
			throw ilp::Error(
			    errno, errno_text("cannot remove the stale socket", errno) + where);
		if (bind(listen_fd_.get(), addr, sizeof(sa)) < 0)
			throw ilp::Error(errno, errno_text("cannot bind", errno) + where);
	}
	// Nobody can connect before listen(), so the mode is right before the
	// first client could come (an fchmod() on the socket would not reach
	// the file).
	struct stat st;
	if (chmod(path_.c_str(), 0600) < 0 || lstat(path_.c_str(), &st) < 0 ||
	    listen(listen_fd_.get(), 16) < 0) {
		int err = errno;
		unlink(path_.c_str());
		throw ilp::Error(err, errno_text("cannot set up the socket", err) + where);
	}
	dev_ = st.st_dev;
	ino_ = st.st_ino;
}

void ControlServer::report(const std::string &message) const
{
	if (!log_)
		return;
	try {
		log_(message);
	} catch (...) {
		// A log that fails has nowhere to say so.
	}
}

void ControlServer::serve()
{
	struct Client {
		Fd fd;
		std::deque<std::string> out; // replies not sent yet, in order
	};
	std::vector<Client> clients;
	std::vector<char> buf(max_request);
	std::vector<pollfd> pfds;
	bool accept_paused = false;

	// Sends what @c has queued, as far as its socket takes it: false when
	// the client is gone.
	auto flush = [&](Client &c) {
		while (!c.out.empty()) {
			const std::string &m = c.out.front();
			if (send(c.fd.get(), m.data(), m.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >=
			    0) {
				c.out.pop_front();
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return true; // POLLOUT says when to go on
			if (errno == EMSGSIZE) {
				// Over what the socket buffer (net.core.wmem_max)
				// lets one message be.
				c.out.front() =
				    error_reply("the reply of " + std::to_string(m.size()) +
						    " bytes does not fit the socket's buffer",
						EMSGSIZE);
				continue;
			}
			return false;
		}
		return true;
	};

	// Takes the clients waiting on the listening socket.
	auto accept_clients = [&] {
		for (;;) {
			Fd fd(accept4(listen_fd_.get(), nullptr, nullptr,
				      SOCK_CLOEXEC | SOCK_NONBLOCK));
			if (fd.get() < 0) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				if (errno != EAGAIN) {
					// Out of fds or memory: try again later
					// rather than spin on a readable socket.
					report(errno_text("control socket: accept", errno));
					accept_paused = true;
				}
				return;
			}
			ucred cred{};
			socklen_t len = sizeof(cred);
			if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
				report(errno_text("control socket: SO_PEERCRED", errno));
				continue;
			}
			// The file's mode keeps others out; this keeps them out
			// too when an admin loosened it, or passed an fd on.
			std::string refusal;
			int err = EACCES;
			if (cred.uid != 0 && cred.uid != geteuid()) {
				refusal = "permission denied: uid " + std::to_string(cred.uid) +
					  " may not use ilpd's control socket";
				report("control socket: refused pid " + std::to_string(cred.pid) +
				       ", uid " + std::to_string(cred.uid));
			} else if (clients.size() >= max_clients) {
				refusal = "ilpd serves " + std::to_string(max_clients) +
					  " clients already; try again later";
				err = EBUSY;
				report("control socket: too many clients");
			}
			if (!refusal.empty()) {
				std::string m = error_reply(refusal, err);
				(void)send(fd.get(), m.data(), m.size(),
					   MSG_DONTWAIT | MSG_NOSIGNAL);
				continue;
			}
			// Room for a reply up to the limit, as far as
			// net.core.wmem_max allows.
			int sndbuf = static_cast<int>(max_reply + 64 * 1024);
			setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
			clients.push_back({std::move(fd), {}});
		}
	};

	// Reads one request of @c and queues its reply: false when the
	// client is gone.
	auto read_request = [&](Client &c) {
		iovec iov{.iov_base = buf.data(), .iov_len = buf.size()};
		msghdr msg{};
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		ssize_t n;
		do
			n = recvmsg(c.fd.get(), &msg, MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return false;
		// SOCK_SEQPACKET drops the rest of a message too long for the
		// buffer; the connection stays in step.
		if (msg.msg_flags & MSG_TRUNC)
			c.out.push_back(error_reply("bad request: over the limit of " +
							std::to_string(max_request) + " bytes",
						    EMSGSIZE));
		else
			c.out.push_back(reply_to(
			    handlers_, std::string_view(buf.data(), static_cast<size_t>(n))));
		OPENSSL_cleanse(buf.data(), std::min(buf.size(), static_cast<std::size_t>(n)));
		return flush(c);
	};

	for (;;) {
		pfds.clear();
		pfds.push_back({.fd = stop_fd_.get(), .events = POLLIN, .revents = 0});
		pfds.push_back({.fd = listen_fd_.get(),
				.events = static_cast<short>(accept_paused ? 0 : POLLIN),
				.revents = 0});
		// A client with replies pending is not read from until they
		// are sent: one that does not read cannot make us queue more.
		for (const auto &c : clients)
			pfds.push_back(
			    {.fd = c.fd.get(),
			     .events = static_cast<short>(c.out.empty() ? POLLIN : POLLOUT),
			     .revents = 0});
		int rc = poll(pfds.data(), pfds.size(), accept_paused ? 100 : -1);
		if (rc < 0) {
			if (errno != EINTR) {
				report(errno_text("control socket: poll", errno));
				accept_paused = true; // and so a 100 ms timeout
			}
			continue;
		}
		if (pfds[0].revents)
			return;
		if (rc == 0)
			accept_paused = false;

		// Each ready client gets one request answered per round, so
		// that a busy one does not starve the others.
		for (std::size_t i = clients.size(); i-- > 0;) {
			short ev = pfds[i + 2].revents;
			if (!ev)
				continue;
			bool alive;
			try {
				if (!clients[i].out.empty())
					alive = flush(clients[i]);
				else if (ev & POLLIN)
					alive = read_request(clients[i]);
				else
					alive = !(ev & (POLLHUP | POLLERR | POLLNVAL));
			} catch (const std::exception &e) {
				report(std::string("control socket: ") + e.what());
				alive = false;
			}
			if (!alive)
				clients.erase(clients.begin() + static_cast<std::ptrdiff_t>(i));
		}
		if (pfds[1].revents) {
			try {
				accept_clients();
			} catch (const std::exception &e) {
				report(std::string("control socket: ") + e.what());
			}
		}
	}
}

} // namespace ilpd

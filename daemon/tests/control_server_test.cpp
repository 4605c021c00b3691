// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpd's control socket: a real ControlServer on a temporary path, talked
// to by a real ilp::DaemonClient, and by raw sockets for what a client
// would never send.  Fake servers check how the client takes replies it
// must refuse.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/daemon_client.hpp>
#include <ilp/error.hpp>

#include "control/control_server.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace ilpd;

namespace
{

// A socket the test drives by hand; closed when it goes away.
class RawSocket
{
public:
	RawSocket() : fd_(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0))
	{
		if (fd_ < 0)
			throw std::system_error(errno, std::generic_category(), "socket");
	}
	RawSocket(const RawSocket &) = delete;
	RawSocket &operator=(const RawSocket &) = delete;
	~RawSocket() { close(fd_); }

	int fd() const { return fd_; }

	static sockaddr_un address(const fs::path &path)
	{
		sockaddr_un sa{};
		sa.sun_family = AF_UNIX;
		std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
		return sa;
	}

	void connect_to(const fs::path &path)
	{
		auto sa = address(path);
		if (connect(fd_, reinterpret_cast<const sockaddr *>(&sa), sizeof(sa)) < 0)
			throw std::system_error(errno, std::generic_category(), "connect");
	}

	// Bound and, with @backlog >= 0, listening.
	void bind_to(const fs::path &path, int backlog)
	{
		auto sa = address(path);
		if (bind(fd_, reinterpret_cast<const sockaddr *>(&sa), sizeof(sa)) < 0)
			throw std::system_error(errno, std::generic_category(), "bind");
		if (backlog >= 0 && listen(fd_, backlog) < 0)
			throw std::system_error(errno, std::generic_category(), "listen");
	}

	void send_message(const std::string &m)
	{
		if (send(fd_, m.data(), m.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(m.size()))
			throw std::system_error(errno, std::generic_category(), "send");
	}

	// The next message, waiting at most 5 s; "" when the peer closed.
	std::string receive()
	{
		pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
		if (poll(&p, 1, 5000) != 1)
			throw std::runtime_error("no message within 5 s");
		std::string buf(256 * 1024, '\0');
		ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
		if (n < 0)
			throw std::system_error(errno, std::generic_category(), "recv");
		buf.resize(static_cast<std::size_t>(n));
		return buf;
	}

	json receive_json() { return json::parse(receive()); }

private:
	int fd_;
};

// A server at @path that takes one client, reads its first request, lets
// @answer write to the connection, then closes it.
class FakeServer
{
public:
	FakeServer(const fs::path &path, std::function<void(int fd)> answer)
	{
		listener_.bind_to(path, 1);
		thread_ = std::thread([this, answer] {
			// A client that never comes must not hang the test.
			pollfd p{.fd = listener_.fd(), .events = POLLIN, .revents = 0};
			if (poll(&p, 1, 5000) != 1)
				return;
			int fd = accept(listener_.fd(), nullptr, nullptr);
			if (fd < 0)
				return;
			char buf[4096];
			if (recv(fd, buf, sizeof(buf), 0) > 0)
				answer(fd);
			close(fd);
		});
	}
	FakeServer(const FakeServer &) = delete;
	FakeServer &operator=(const FakeServer &) = delete;
	~FakeServer() { thread_.join(); }

private:
	RawSocket listener_;
	std::thread thread_;
};

ControlHandlers test_handlers()
{
	return {
	    {"echo", [](const json &args) { return args; }},
	    {"nothing", [](const json &) { return json(); }},
	    {"no-service",
	     [](const json &) -> json { throw ControlError("no service 'nope'", ENOENT); }},
	    {"boom", [](const json &) -> json { throw std::runtime_error("boom"); }},
	    {"needs-name",
	     [](const json &args) { return json(args.at("name").get<std::string>()); }},
	};
}

// Calls @f and returns the ilp::Error it throws.
template <typename F>
ilp::Error error_of(F f)
{
	try {
		f();
	} catch (const ilp::Error &e) {
		return e;
	}
	CPPUNIT_FAIL("no ilp::Error thrown");
	throw std::logic_error("unreachable");
}

bool contains(const std::string &s, const std::string &part)
{
	return s.find(part) != s.npos;
}

} // namespace

class ControlServerTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ControlServerTest);
	CPPUNIT_TEST(call__answered);
	CPPUNIT_TEST(call__unknown_command);
	CPPUNIT_TEST(call__handler_errors_keep_the_connection);
	CPPUNIT_TEST(call__missing_argument_is_bad_request);
	CPPUNIT_TEST(raw__garbage_is_bad_request_and_connection_lives);
	CPPUNIT_TEST(raw__oversized_request_refused_and_connection_lives);
	CPPUNIT_TEST(raw__pipelined_requests_answered_in_order);
	CPPUNIT_TEST(raw__other_protocol_version_refused);
	CPPUNIT_TEST(server__several_clients_at_once);
	CPPUNIT_TEST(server__second_server_refused);
	CPPUNIT_TEST(server__stale_socket_replaced);
	CPPUNIT_TEST(server__file_that_is_not_a_socket_kept);
	CPPUNIT_TEST(server__socket_mode_0600_and_removed_at_exit);
	CPPUNIT_TEST(server__other_uid_refused);
	CPPUNIT_TEST(client__no_daemon);
	CPPUNIT_TEST(client__stale_socket_means_no_daemon);
	CPPUNIT_TEST(client__permission_denied_hint);
	CPPUNIT_TEST(client__other_version_refused);
	CPPUNIT_TEST(client__reply_over_1mib_refused);
	CPPUNIT_TEST(client__closed_connection);
	CPPUNIT_TEST(client__default_path_from_environment);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_;

	fs::path sock() const { return dir_.path() / "ilpd.sock"; }

public:
	void call__answered()
	{
		ControlServer server(sock(), test_handlers());
		ilp::DaemonClient client(sock().string());
		CPPUNIT_ASSERT_EQUAL(json({{"a", 1}, {"b", "x"}}).dump(),
				     client.call("echo", {{"a", 1}, {"b", "x"}}).dump());
		// "cmd" and "version" are the protocol's, not the handler's.
		CPPUNIT_ASSERT_EQUAL(json::object().dump(), client.call("echo").dump());
		CPPUNIT_ASSERT(client.call("nothing").is_null());
	}

	void call__unknown_command()
	{
		ControlServer server(sock(), test_handlers());
		ilp::DaemonClient client(sock().string());
		auto e = error_of([&] { client.call("x"); });
		CPPUNIT_ASSERT_EQUAL(std::string("unknown command 'x'"), std::string(e.what()));
	}

	void call__handler_errors_keep_the_connection()
	{
		ControlServer server(sock(), test_handlers());
		ilp::DaemonClient client(sock().string());
		auto e = error_of([&] { client.call("no-service"); });
		CPPUNIT_ASSERT_EQUAL(std::string("no service 'nope'"), std::string(e.what()));
		CPPUNIT_ASSERT_EQUAL(ENOENT, e.code().value());
		e = error_of([&] { client.call("boom"); });
		CPPUNIT_ASSERT_EQUAL(std::string("boom"), std::string(e.what()));
		CPPUNIT_ASSERT_EQUAL(EINVAL, e.code().value());
		CPPUNIT_ASSERT_EQUAL(json({{"n", 2}}).dump(),
				     client.call("echo", {{"n", 2}}).dump());
	}

	void call__missing_argument_is_bad_request()
	{
		ControlServer server(sock(), test_handlers());
		ilp::DaemonClient client(sock().string());
		auto e = error_of([&] { client.call("needs-name"); });
		CPPUNIT_ASSERT_EQUAL(std::string("bad request: key 'name' not found"),
				     std::string(e.what()));
		CPPUNIT_ASSERT_EQUAL(json("relay").dump(),
				     client.call("needs-name", {{"name", "relay"}}).dump());
	}

	void raw__garbage_is_bad_request_and_connection_lives()
	{
		ControlServer server(sock(), test_handlers());
		RawSocket raw;
		raw.connect_to(sock());
		for (std::string garbage : {std::string("\x01\xff garbage"), std::string("[1,2]"),
					    std::string("{\"x\":1}")}) {
			raw.send_message(garbage);
			json r = raw.receive_json();
			CPPUNIT_ASSERT_EQUAL(false, r.at("ok").get<bool>());
			CPPUNIT_ASSERT_EQUAL(1, r.at("version").get<int>());
			CPPUNIT_ASSERT_MESSAGE(
			    r.dump(),
			    r.at("error").get<std::string>().starts_with("bad request: "));
		}
		raw.send_message(R"({"cmd":"echo","n":1})");
		json r = raw.receive_json();
		CPPUNIT_ASSERT_EQUAL(json({{"version", 1}, {"ok", true}, {"result", {{"n", 1}}}}),
				     r);
	}

	void raw__oversized_request_refused_and_connection_lives()
	{
		ControlServer server(sock(), test_handlers());
		RawSocket raw;
		raw.connect_to(sock());
		std::string big = R"({"cmd":"echo","pad":")" + std::string(70 * 1024, 'x') + "\"}";
		raw.send_message(big);
		json r = raw.receive_json();
		CPPUNIT_ASSERT_EQUAL(false, r.at("ok").get<bool>());
		CPPUNIT_ASSERT_MESSAGE(r.dump(), contains(r.at("error").get<std::string>(),
							  "over the limit of 65536"));
		raw.send_message(R"({"cmd":"nothing"})");
		CPPUNIT_ASSERT_EQUAL(true, raw.receive_json().at("ok").get<bool>());
	}

	void raw__pipelined_requests_answered_in_order()
	{
		ControlServer server(sock(), test_handlers());
		RawSocket raw;
		raw.connect_to(sock());
		for (int i = 0; i < 20; i++)
			raw.send_message(json({{"cmd", i % 3 ? "echo" : "boom"}, {"n", i}}).dump());
		for (int i = 0; i < 20; i++) {
			json r = raw.receive_json();
			if (i % 3)
				CPPUNIT_ASSERT_EQUAL(i, r.at("result").at("n").get<int>());
			else
				CPPUNIT_ASSERT_EQUAL(std::string("boom"),
						     r.at("error").get<std::string>());
		}
	}

	void raw__other_protocol_version_refused()
	{
		ControlServer server(sock(), test_handlers());
		RawSocket raw;
		raw.connect_to(sock());
		raw.send_message(R"({"cmd":"nothing","version":2})");
		json r = raw.receive_json();
		CPPUNIT_ASSERT_EQUAL(false, r.at("ok").get<bool>());
		CPPUNIT_ASSERT_MESSAGE(
		    r.dump(), contains(r.at("error").get<std::string>(), "protocol version 1"));
	}

	void server__several_clients_at_once()
	{
		ControlServer server(sock(), test_handlers());
		// One client holds a request half-way (sent, reply unread) and
		// another connected but idle: neither holds up the third.
		RawSocket pending, idle;
		pending.connect_to(sock());
		idle.connect_to(sock());
		pending.send_message(R"({"cmd":"echo","who":"pending"})");
		ilp::DaemonClient a(sock().string()), b(sock().string());
		for (int i = 0; i < 10; i++) {
			CPPUNIT_ASSERT_EQUAL(i, a.call("echo", {{"n", i}}).at("n").get<int>());
			CPPUNIT_ASSERT_EQUAL(-i, b.call("echo", {{"n", -i}}).at("n").get<int>());
		}
		CPPUNIT_ASSERT_EQUAL(
		    std::string("pending"),
		    pending.receive_json().at("result").at("who").get<std::string>());
	}

	void server__second_server_refused()
	{
		ControlServer first(sock(), test_handlers());
		auto e = error_of([&] { ControlServer second(sock(), {}); });
		CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "another ilpd is running"));
		CPPUNIT_ASSERT_EQUAL(EADDRINUSE, e.code().value());
		// The first still serves, on its own file.
		ilp::DaemonClient client(sock().string());
		CPPUNIT_ASSERT(client.call("nothing").is_null());
	}

	void server__stale_socket_replaced()
	{
		{
			RawSocket dead;
			dead.bind_to(sock(), 4); // a daemon that died: no unlink
		}
		CPPUNIT_ASSERT(fs::is_socket(sock()));
		ControlServer server(sock(), test_handlers());
		ilp::DaemonClient client(sock().string());
		CPPUNIT_ASSERT_EQUAL(json({{"n", 1}}).dump(),
				     client.call("echo", {{"n", 1}}).dump());
	}

	void server__file_that_is_not_a_socket_kept()
	{
		dir_.write("ilpd.sock", "not a socket\n");
		auto e = error_of([&] { ControlServer server(sock(), {}); });
		CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "is not a socket"));
		CPPUNIT_ASSERT(fs::is_regular_file(sock()));
	}

	void server__socket_mode_0600_and_removed_at_exit()
	{
		{
			ControlServer server(sock(), test_handlers());
			struct stat st;
			CPPUNIT_ASSERT_EQUAL(0, lstat(sock().c_str(), &st));
			CPPUNIT_ASSERT(S_ISSOCK(st.st_mode));
			CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 07777));
		}
		CPPUNIT_ASSERT(!fs::exists(sock()));
	}

	// Root alone can take another uid; the check runs as root in CI.
	static bool can_switch_uid()
	{
		if (geteuid() == 0)
			return true;
		std::cerr << " (skipped: needs root) ";
		return false;
	}

	// Runs @child in a child process as uid and gid 65534 (nobody) and
	// returns its exit status.
	int as_nobody(const std::function<int()> &child)
	{
		fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_exec |
						 fs::perms::others_exec);
		pid_t pid = fork();
		if (pid == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(100);
			_exit(child());
		}
		int status = 0;
		waitpid(pid, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
	}

	void server__other_uid_refused()
	{
		if (!can_switch_uid())
			return;
		ControlServer server(sock(), test_handlers());
		// The mode keeps others out; loosened, SO_PEERCRED still does.
		chmod(sock().c_str(), 0666);
		auto path = RawSocket::address(sock());
		// Only system calls in the child: the server's thread may hold
		// a lock of malloc's at the fork.
		int rc = as_nobody([&path] {
			int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
			if (connect(fd, reinterpret_cast<const sockaddr *>(&path), sizeof(path)) <
			    0)
				return 1;
			char buf[512] = {};
			pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
			if (poll(&p, 1, 5000) != 1 || recv(fd, buf, sizeof(buf) - 1, 0) <= 0)
				return 2;
			if (!std::strstr(buf, "permission denied: uid 65534") ||
			    !std::strstr(buf, "\"ok\":false"))
				return 3;
			// Then the server closes the connection.
			if (poll(&p, 1, 5000) != 1 || recv(fd, buf, sizeof(buf), 0) != 0)
				return 4;
			return 0;
		});
		CPPUNIT_ASSERT_EQUAL(0, rc);
		ilp::DaemonClient root(sock().string());
		CPPUNIT_ASSERT(root.call("nothing").is_null());
	}

	void client__no_daemon()
	{
		auto path = (dir_.path() / "absent.sock").string();
		auto e = error_of([&] { ilp::DaemonClient client(path); });
		CPPUNIT_ASSERT_EQUAL(ENOENT, e.code().value());
		CPPUNIT_ASSERT_EQUAL("is ilpd running? (socket " + path + ")",
				     std::string(e.what()));
	}

	void client__stale_socket_means_no_daemon()
	{
		RawSocket dead;
		dead.bind_to(sock(), -1); // bound, not listening
		auto e = error_of([&] { ilp::DaemonClient client(sock().string()); });
		CPPUNIT_ASSERT_EQUAL(ECONNREFUSED, e.code().value());
		CPPUNIT_ASSERT(contains(e.what(), "is ilpd running?"));
	}

	void client__permission_denied_hint()
	{
		if (!can_switch_uid())
			return;
		RawSocket listener; // no thread: the child may use malloc
		listener.bind_to(sock(), 1);
		chmod(sock().c_str(), 0600);
		std::string path = sock().string();
		int rc = as_nobody([&path] {
			try {
				ilp::DaemonClient client(path);
			} catch (const ilp::Error &e) {
				return e.code().value() == EACCES &&
					       std::string(e.what()) ==
						   "permission denied (socket " + path +
						       "; run as root)"
					   ? 0
					   : 1;
			}
			return 2;
		});
		CPPUNIT_ASSERT_EQUAL(0, rc);
	}

	void client__other_version_refused()
	{
		FakeServer fake(sock(), [](int fd) {
			std::string m = R"({"version":2,"ok":true,"result":null})";
			send(fd, m.data(), m.size(), MSG_NOSIGNAL);
		});
		ilp::DaemonClient client(sock().string());
		auto e = error_of([&] { client.call("daemon.status"); });
		CPPUNIT_ASSERT_EQUAL(EPROTO, e.code().value());
		CPPUNIT_ASSERT_MESSAGE(e.what(),
				       contains(e.what(), "ilpd speaks control protocol version 2, "
							  "this client version 1"));
	}

	void client__reply_over_1mib_refused()
	{
		FakeServer fake(sock(), [](int fd) {
			// {"version":1,"ok":true,"result":"xxx..."}: 1 MiB and 1.
			std::string m = R"({"version":1,"ok":true,"result":")";
			m += std::string(ilp::DaemonClient::max_reply_size + 1 - m.size() - 2, 'x');
			m += "\"}";
			int size = 4 * 1024 * 1024;
			setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
			if (send(fd, m.data(), m.size(), MSG_NOSIGNAL) < 0)
				std::cerr << " (the fake server cannot send 1 MiB: "
					  << std::strerror(errno) << ") ";
		});
		ilp::DaemonClient client(sock().string());
		auto e = error_of([&] { client.call("service.list"); });
		if (e.code().value() == ECONNRESET) {
			std::cerr << " (skipped: the fake server could not send 1 MiB) ";
			return;
		}
		CPPUNIT_ASSERT_EQUAL_MESSAGE(e.what(), EMSGSIZE, e.code().value());
		CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "1048577 bytes"));
	}

	void client__closed_connection()
	{
		FakeServer fake(sock(), [](int) {});
		ilp::DaemonClient client(sock().string());
		auto e = error_of([&] { client.call("daemon.status"); });
		CPPUNIT_ASSERT_EQUAL(ECONNRESET, e.code().value());
		CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "ilpd closed the connection"));
		// Not usable after that.
		e = error_of([&] { client.call("daemon.status"); });
		CPPUNIT_ASSERT_EQUAL(ENOTCONN, e.code().value());
	}

	void client__default_path_from_environment()
	{
		unsetenv("ILPD_SOCKET");
		CPPUNIT_ASSERT_EQUAL(std::string("/run/ilp/ilpd.sock"),
				     ilp::DaemonClient::default_path());
		setenv("ILPD_SOCKET", "", 1);
		CPPUNIT_ASSERT_EQUAL(std::string("/run/ilp/ilpd.sock"),
				     ilp::DaemonClient::default_path());
		setenv("ILPD_SOCKET", sock().c_str(), 1);
		CPPUNIT_ASSERT_EQUAL(sock().string(), ilp::DaemonClient::default_path());
		ControlServer server(sock(), test_handlers());
		ilp::DaemonClient client;
		unsetenv("ILPD_SOCKET");
		CPPUNIT_ASSERT(client.call("nothing").is_null());
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(ControlServerTest);

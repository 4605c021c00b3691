// SPDX-License-Identifier: GPL-2.0-or-later
//
// Out-of-band service control through the app socket: a real AppServer,
// libilp's ilp::control_service() and ilp_service_control() as apps call
// them, and raw CONTROL messages.  The Controller here stands where the
// daemon puts its association manager (whose channel to a real SN the
// netns test drives): it records what the server handed it and answers
// when the test says, so that the tests can hold an answer back.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/error.hpp>
#include <ilp/ilp.h>
#include <ilp/service_control.hpp>
#include <ilp/socket.hpp>

#include "app_protocol.hpp"
#include "apps/app_server.hpp"
#include "datapath/udp_io.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using namespace ilpd;
using namespace std::chrono_literals;

namespace
{

std::vector<std::uint8_t> bytes(const std::string &s)
{
	return {s.begin(), s.end()};
}

std::string text(const std::vector<std::uint8_t> &b)
{
	return {b.begin(), b.end()};
}

int error_code(const std::function<void()> &f)
{
	try {
		f();
	} catch (const std::system_error &e) {
		return e.code().value();
	}
	return 0;
}

// What the server handed over, and the means to answer it.
struct Asked {
	AppControl request;
	AppServer::ControlDone done;
};

class Controller
{
public:
	// "hold" in a request keeps its answer back until answer_held();
	// "fail N" ends it with errno N; anything else is echoed back with
	// status -7.
	AppServer::Controller hook()
	{
		return [this](AppControl r, AppServer::ControlDone done) {
			std::unique_lock lock(mu_);
			auto t = text(r.request);
			seen_.push_back(r);
			if (t == "hold") {
				held_.push_back({std::move(r), std::move(done)});
				cv_.notify_all();
				return;
			}
			lock.unlock();
			if (t.starts_with("fail "))
				return done(std::stoi(t.substr(5)), 0, {});
			// From another thread, as the association thread answers.
			std::thread([r = std::move(r), done = std::move(done)] {
				done(0, -7,
				     bytes("service " + std::to_string(r.service) + ": " +
					   text(r.request)));
			}).detach();
		};
	}
	bool wait_held(std::size_t n)
	{
		std::unique_lock lock(mu_);
		return cv_.wait_for(lock, 5s, [&] { return held_.size() >= n; });
	}
	void answer_held(const std::string &body)
	{
		std::vector<Asked> held;
		{
			std::lock_guard lock(mu_);
			held.swap(held_);
		}
		for (auto &a : held)
			a.done(0, 0, bytes(body));
	}
	std::vector<AppControl> seen()
	{
		std::lock_guard lock(mu_);
		return seen_;
	}

private:
	std::mutex mu_;
	std::condition_variable cv_;
	std::vector<Asked> held_;
	std::vector<AppControl> seen_;
};

// A raw connection to the app socket, to send what libilp would not.
udp::Fd raw_connect(const std::filesystem::path &path)
{
	udp::Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	sockaddr_un sun{};
	sun.sun_family = AF_UNIX;
	std::strcpy(sun.sun_path, path.c_str());
	if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) < 0)
		throw std::system_error(errno, std::generic_category(), "connect");
	return fd;
}

// Sends @h and @payload; returns the reply's header (error -1: none came).
ilp::app::MsgHeader raw_call(int fd, const ilp::app::MsgHeader &h, const std::string &payload)
{
	std::vector<char> msg(sizeof(h) + payload.size());
	std::memcpy(msg.data(), &h, sizeof(h));
	std::memcpy(msg.data() + sizeof(h), payload.data(), payload.size());
	ilp::app::MsgHeader r;
	r.error = -1;
	if (::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) < 0)
		return r;
	timeval tv{5, 0};
	::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[4096];
	auto n = ::recv(fd, buf, sizeof(buf), 0);
	if (n >= static_cast<ssize_t>(sizeof(r)))
		std::memcpy(&r, buf, sizeof(r));
	return r;
}

} // namespace

class AppControlTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AppControlTest);
	CPPUNIT_TEST(control__request_and_answer_pass_through);
	CPPUNIT_TEST(control__an_answer_held_back_holds_up_no_other_app);
	CPPUNIT_TEST(control__errors_reach_the_app_as_their_errno);
	CPPUNIT_TEST(control__malformed_requests_refused_connection_kept);
	CPPUNIT_TEST(control__app_or_server_gone_before_the_answer);
	CPPUNIT_TEST(control__timeout_on_the_app_side);
	CPPUNIT_TEST(control__c_api);
	CPPUNIT_TEST(kernel_node__serves_control_only);
	CPPUNIT_TEST(control__without_controller_eopnotsupp);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_;
	Controller ctl_;
	std::unique_ptr<AppServer> server_;

	static AppServer::Sender no_sender() { return {}; }
	static AppServer::Sender dummy_sender()
	{
		return [](const ilp::Endpoint &, const std::optional<ilp::Endpoint> &,
			  std::uint32_t, std::uint64_t, std::span<const std::uint8_t>,
			  std::span<const std::uint8_t>) {};
	}
	void start(AppServer::Sender send, bool with_controller = true)
	{
		server_ = std::make_unique<AppServer>(
		    dir_.path() / "app.sock", std::move(send), AppServer::Log{},
		    with_controller ? ctl_.hook() : AppServer::Controller{});
		::setenv("ILP_APP_SOCKET", server_->path().c_str(), 1);
	}

public:
	void tearDown() override
	{
		server_.reset();
		::unsetenv("ILP_APP_SOCKET");
		::unsetenv("ILP_TRANSPORT");
	}

	void control__request_and_answer_pass_through()
	{
		start(dummy_sender());
		auto a = ilp::control_service(8, bytes("status"));
		CPPUNIT_ASSERT_EQUAL(-7, a.status);
		CPPUNIT_ASSERT_EQUAL(std::string("service 8: status"), text(a.body));

		ilp::ControlTarget to;
		to.sn = ilp::Endpoint::parse("10.0.1.2:1000");
		a = ilp::control_service(4242, {}, to);
		CPPUNIT_ASSERT_EQUAL(std::string("service 4242: "), text(a.body));
		to = {};
		to.local = true;
		ilp::control_service(9, bytes("x"), to);

		auto seen = ctl_.seen();
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), seen.size());
		CPPUNIT_ASSERT(!seen[0].sn && !seen[0].local);
		CPPUNIT_ASSERT(seen[1].sn);
		CPPUNIT_ASSERT_EQUAL(std::string("10.0.1.2:1000"), seen[1].sn->to_string());
		CPPUNIT_ASSERT(seen[1].request.empty());
		CPPUNIT_ASSERT(seen[2].local && !seen[2].sn);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), server_->stats().controls);

		// The largest request passes whole.
		std::string big(ilp::app::max_control_request, 'q');
		a = ilp::control_service(8, bytes(big));
		CPPUNIT_ASSERT_EQUAL("service 8: " + big, text(a.body));
	}

	void control__an_answer_held_back_holds_up_no_other_app()
	{
		start(dummy_sender());
		auto slow = std::async(std::launch::async,
				       [] { return ilp::control_service(8, bytes("hold")); });
		CPPUNIT_ASSERT(ctl_.wait_held(1));
		// Another app's request, and an app socket's bind, meanwhile.
		auto a = ilp::control_service(8, bytes("quick"));
		CPPUNIT_ASSERT_EQUAL(std::string("service 8: quick"), text(a.body));
		::setenv("ILP_TRANSPORT", "unix", 1);
		ilp::Socket s;
		s.bind(4242);
		CPPUNIT_ASSERT(slow.wait_for(100ms) == std::future_status::timeout);
		ctl_.answer_held("late");
		CPPUNIT_ASSERT(slow.wait_for(5s) == std::future_status::ready);
		CPPUNIT_ASSERT_EQUAL(std::string("late"), text(slow.get().body));

		// On one connection, a request after a held one waits for it:
		// the replies come in order.
		auto fd = raw_connect(server_->path());
		ilp::app::MsgHeader h;
		h.type = ilp::app::MsgType::Control;
		h.addr.silp_service = 8;
		std::string first = "hold", second = "next";
		std::vector<char> m1(sizeof(h) + first.size()), m2(sizeof(h) + second.size());
		std::memcpy(m1.data(), &h, sizeof(h));
		std::memcpy(m1.data() + sizeof(h), first.data(), first.size());
		std::memcpy(m2.data(), &h, sizeof(h));
		std::memcpy(m2.data() + sizeof(h), second.data(), second.size());
		CPPUNIT_ASSERT(::send(fd.get(), m1.data(), m1.size(), 0) > 0);
		CPPUNIT_ASSERT(::send(fd.get(), m2.data(), m2.size(), 0) > 0);
		CPPUNIT_ASSERT(ctl_.wait_held(1));
		std::this_thread::sleep_for(50ms);
		// "next" has not reached the Controller: hold, quick, hold.
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), ctl_.seen().size());
		ctl_.answer_held("first");
		char buf[256];
		auto n = ::recv(fd.get(), buf, sizeof(buf), 0);
		CPPUNIT_ASSERT_EQUAL(std::string("first"), std::string(buf + sizeof(h), buf + n));
		n = ::recv(fd.get(), buf, sizeof(buf), 0);
		CPPUNIT_ASSERT_EQUAL(std::string("service 8: next"),
				     std::string(buf + sizeof(h), buf + n));
	}

	void control__errors_reach_the_app_as_their_errno()
	{
		start(dummy_sender());
		for (int err : {ENOTCONN, ETIMEDOUT, ECONNRESET, EMSGSIZE}) {
			int got = error_code(
			    [&] { ilp::control_service(8, bytes("fail " + std::to_string(err))); });
			CPPUNIT_ASSERT_EQUAL(err, got);
		}
		// Refused before they reach ilpd.
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([] { ilp::control_service(0, {}); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL,
				     error_code([] { ilp::control_service(0xffffffffu, {}); }));
		std::vector<std::uint8_t> big(ilp::app::max_control_request + 1);
		CPPUNIT_ASSERT_EQUAL(EMSGSIZE, error_code([&] { ilp::control_service(8, big); }));
		// The message says what failed.
		try {
			ilp::control_service(8, bytes("fail " + std::to_string(ENOTCONN)));
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT(std::string(e.what()).find("service 8") !=
				       std::string::npos);
		}
	}

	void control__malformed_requests_refused_connection_kept()
	{
		start(dummy_sender());
		auto fd = raw_connect(server_->path());
		ilp::app::MsgHeader h;
		h.type = ilp::app::MsgType::Control;
		h.addr.silp_service = 0;
		CPPUNIT_ASSERT_EQUAL(EINVAL, raw_call(fd.get(), h, "x").error);
		h.addr.silp_service = 8;
		h.flags = 2; // not one defined
		CPPUNIT_ASSERT_EQUAL(EINVAL, raw_call(fd.get(), h, "x").error);
		h.flags = 0;
		h.md_len = 1; // CONTROL carries no TLVs
		CPPUNIT_ASSERT_EQUAL(EINVAL, raw_call(fd.get(), h, "x").error);
		h.md_len = 0;
		h.addr.silp_sn.family = 77;
		CPPUNIT_ASSERT_EQUAL(EAFNOSUPPORT, raw_call(fd.get(), h, "x").error);
		h.addr.silp_sn.family = 0;
		CPPUNIT_ASSERT_EQUAL(
		    EMSGSIZE,
		    raw_call(fd.get(), h, std::string(ilp::app::max_control_request + 1, 'x'))
			.error);
		// None of those reached the Controller, and the connection
		// still serves.
		CPPUNIT_ASSERT(ctl_.seen().empty());
		auto r = raw_call(fd.get(), h, "ok");
		CPPUNIT_ASSERT_EQUAL(0, r.error);
		CPPUNIT_ASSERT_EQUAL(-7, r.status);
		CPPUNIT_ASSERT_EQUAL(8u, r.addr.silp_service);
	}

	void control__app_or_server_gone_before_the_answer()
	{
		start(dummy_sender());
		{
			auto fd = raw_connect(server_->path());
			ilp::app::MsgHeader h;
			h.type = ilp::app::MsgType::Control;
			h.addr.silp_service = 8;
			std::vector<char> m(sizeof(h) + 4);
			std::memcpy(m.data(), &h, sizeof(h));
			std::memcpy(m.data() + sizeof(h), "hold", 4);
			CPPUNIT_ASSERT(::send(fd.get(), m.data(), m.size(), 0) > 0);
			CPPUNIT_ASSERT(ctl_.wait_held(1));
		} // the app closes its connection
		ctl_.answer_held("nobody hears this");
		// The app's connection goes once it is polled again.
		CPPUNIT_ASSERT(eventually([&] { return server_->stats().clients == 0; }));
		CPPUNIT_ASSERT_EQUAL(std::string("service 8: again"),
				     text(ilp::control_service(8, bytes("again")).body));

		// The server goes with a request in flight; its answer later
		// touches nothing freed.
		auto held = std::async(std::launch::async, [] {
			return error_code([] { ilp::control_service(8, bytes("hold")); });
		});
		CPPUNIT_ASSERT(ctl_.wait_held(1));
		server_.reset();
		ctl_.answer_held("too late");
		CPPUNIT_ASSERT(held.wait_for(5s) == std::future_status::ready);
		CPPUNIT_ASSERT_EQUAL(ECONNRESET, held.get());
	}

	void control__timeout_on_the_app_side()
	{
		start(dummy_sender());
		ilp::ControlTarget to;
		to.timeout = 200ms;
		auto t0 = std::chrono::steady_clock::now();
		CPPUNIT_ASSERT_EQUAL(
		    ETIMEDOUT, error_code([&] { ilp::control_service(8, bytes("hold"), to); }));
		CPPUNIT_ASSERT(std::chrono::steady_clock::now() - t0 < 4s);
		ctl_.answer_held("after the app gave up");
		CPPUNIT_ASSERT_EQUAL(std::string("service 8: fine"),
				     text(ilp::control_service(8, bytes("fine")).body));
	}

	void control__c_api()
	{
		start(dummy_sender());
		char reply[64];
		std::size_t len = sizeof(reply);
		int status = 1;
		CPPUNIT_ASSERT_EQUAL(
		    0, ilp_service_control(8, nullptr, 0, "status", 6, reply, &len, &status, 0));
		CPPUNIT_ASSERT_EQUAL(-7, status);
		CPPUNIT_ASSERT_EQUAL(std::string("service 8: status"), std::string(reply, len));
		// A short buffer: the length of the whole, the part that fits.
		len = 4;
		CPPUNIT_ASSERT_EQUAL(
		    0, ilp_service_control(8, nullptr, 0, "status", 6, reply, &len, &status, 0));
		CPPUNIT_ASSERT_EQUAL(std::size_t(17), len);
		CPPUNIT_ASSERT_EQUAL(std::string("serv"), std::string(reply, 4));
		// An SN by address, and local.
		sockaddr_ilp sa{};
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_set_sn(&sa, "10.0.1.2", 1000));
		len = sizeof(reply);
		CPPUNIT_ASSERT_EQUAL(0, ilp_service_control(8, &sa.silp_sn, ILP_CONTROL_LOCAL, "",
							    0, reply, &len, &status, 1000));
		auto seen = ctl_.seen();
		CPPUNIT_ASSERT(seen.back().local && seen.back().sn);
		// Errors as -1 and errno.
		len = sizeof(reply);
		CPPUNIT_ASSERT_EQUAL(
		    -1, ilp_service_control(8, nullptr, 0, "fail 107", 8, reply, &len, &status, 0));
		CPPUNIT_ASSERT_EQUAL(ENOTCONN, errno);
		CPPUNIT_ASSERT_EQUAL(
		    -1, ilp_service_control(8, nullptr, 4, "", 0, reply, &len, &status, 0));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		CPPUNIT_ASSERT_EQUAL(
		    -1, ilp_service_control(8, nullptr, 0, "", 0, reply, &len, nullptr, 0));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
	}

	void kernel_node__serves_control_only()
	{
		start(no_sender());
		CPPUNIT_ASSERT_EQUAL(std::string("service 8: status"),
				     text(ilp::control_service(8, bytes("status")).body));
		// Apps have AF_ILP there: the socket transport is refused.
		::setenv("ILP_TRANSPORT", "unix", 1);
		int err = error_code([] { ilp::Socket s; });
		CPPUNIT_ASSERT_EQUAL(EOPNOTSUPP, err);
	}

	void control__without_controller_eopnotsupp()
	{
		start(dummy_sender(), false);
		CPPUNIT_ASSERT_EQUAL(EOPNOTSUPP,
				     error_code([] { ilp::control_service(8, bytes("status")); }));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(AppControlTest);

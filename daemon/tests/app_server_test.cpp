// SPDX-License-Identifier: GPL-2.0-or-later
//
// The app socket for real: two UserDatapath nodes on 127.0.0.1, direct
// peers of each other, each with an AppServer on a socket of its own, and
// ilp::Socket over the UNIX transport as applications use it.  Checks the
// protocol's answers (errnos as AF_ILP gives them), delivery with the
// sender and metadata, and that an app that does not read loses its own
// packets, counted, without holding up the datapath.
#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/error.hpp>
#include <ilp/ilp.h>
#include <ilp/psp_kdf.hpp>
#include <ilp/socket.hpp>

#include "app_protocol.hpp"
#include "apps/app_server.hpp"
#include "datapath/udp_io.hpp"
#include "datapath/user_datapath.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using namespace ilpd;
using namespace std::chrono_literals;
namespace psp = ilp::psp;

namespace
{

constexpr std::uint32_t service = 4242;

int error_code(const std::function<void()> &f)
{
	try {
		f();
	} catch (const std::system_error &e) {
		return e.code().value();
	}
	return 0;
}

std::span<const std::byte> bytes(const std::string &s)
{
	return std::as_bytes(std::span(s));
}

} // namespace

class AppServerTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AppServerTest);
	CPPUNIT_TEST(send__reaches_the_peer_app_with_sender_and_metadata);
	CPPUNIT_TEST(bind__errnos_as_af_ilp);
	CPPUNIT_TEST(bind__reserved_service_needs_privilege);
	CPPUNIT_TEST(send__errnos_as_af_ilp);
	CPPUNIT_TEST(close__frees_the_binding);
	CPPUNIT_TEST(deliver__full_queue_drops_counted_others_unaffected);
	CPPUNIT_TEST(open__no_daemon_is_eafnosupport_or_its_errno);
	CPPUNIT_TEST(c_api__sock_functions_over_the_app_socket);
	CPPUNIT_TEST(server__live_socket_refused_stale_one_replaced);
	CPPUNIT_TEST(protocol__raw_requests_answered_as_documented);
	CPPUNIT_TEST_SUITE_END();

	struct Node {
		psp::MasterKeys keys;
		UserConfig config;
		std::unique_ptr<UserDatapath> dp;
		std::unique_ptr<AppServer> apps;
		ilp::Endpoint endpoint() const
		{
			auto ep = ilp::Endpoint::parse("127.0.0.1");
			ep.port = config.port;
			return ep;
		}
	};

	TempDir dir_;
	Node h1_, h2_;
	std::map<std::uint16_t, udp::Fd> held_;
	std::uint32_t next_spi_ = 1;

	void keys(Node &n, const std::string &name)
	{
		std::random_device rd;
		for (auto &b : n.keys.key[0].bytes())
			b = static_cast<std::uint8_t>(rd());
		n.config.master_keys =
		    dir_.write(name + ".master", "key0 = " + hex(n.keys.key[0].bytes()) + "\n");
		auto fd = udp::open_socket(0, false);
		n.config.port = udp::bound_port(fd.get());
		held_[n.config.port] = std::move(fd);
	}
	// @from's transmit SA to @to, as @to would allocate it.
	void peer(Node &from, const Node &to)
	{
		auto spi = next_spi_++;
		auto key = psp::derive_sa_key(to.keys, spi, psp::Version::AesGcm128);
		auto file = dir_.write("sa" + std::to_string(spi), hex(key.bytes()) + "\n");
		from.config.peers.push_back(
		    {to.endpoint(), spi, psp::Version::AesGcm128, file, true, "test"});
	}
	void up(Node &n, const std::string &name)
	{
		held_.erase(n.config.port);
		n.dp = std::make_unique<UserDatapath>(n.config);
		auto *dp = n.dp.get();
		n.apps = std::make_unique<AppServer>(
		    dir_.path() / name / "app.sock",
		    [dp](const ilp::Endpoint &dst, const std::optional<ilp::Endpoint> &sn,
			 std::uint32_t svc, std::uint64_t conn, std::span<const std::uint8_t> md,
			 std::span<const std::uint8_t> payload) {
			    dp->send_from_host(dst, sn, svc, conn, md, payload);
		    });
		n.dp->set_local_delivery(n.apps.get());
		n.dp->start(nullptr);
	}
	// An app of @n, over the UNIX transport whatever this machine has.
	static ilp::Socket app(const Node &n, int flags = SOCK_CLOEXEC)
	{
		::setenv("ILP_TRANSPORT", "unix", 1);
		::setenv("ILP_APP_SOCKET", n.apps->path().c_str(), 1);
		return ilp::Socket(flags);
	}
	ilp::Address to_h2(std::uint64_t conn) const
	{
		ilp::Address a;
		a.service = service;
		a.conn = conn;
		a.host = h2_.endpoint();
		return a;
	}
	static std::optional<ilp::Received> wait_receive(ilp::Socket &s, std::span<std::byte> buf)
	{
		pollfd p{s.fd(), POLLIN, 0};
		if (::poll(&p, 1, 5000) != 1)
			return std::nullopt;
		return s.try_receive(buf);
	}

public:
	void setUp() override
	{
		::chmod(dir_.path().c_str(), 0755);
		keys(h1_, "h1");
		keys(h2_, "h2");
		peer(h1_, h2_);
		peer(h2_, h1_);
		up(h1_, "h1");
		up(h2_, "h2");
	}
	void tearDown() override
	{
		for (Node *n : {&h1_, &h2_})
			if (n->dp)
				n->dp->stop();
		::unsetenv("ILP_TRANSPORT");
		::unsetenv("ILP_APP_SOCKET");
	}

	void send__reaches_the_peer_app_with_sender_and_metadata()
	{
		auto server = app(h2_, SOCK_CLOEXEC | SOCK_NONBLOCK);
		CPPUNIT_ASSERT_EQUAL(std::string("unix"), std::string(server.transport()));
		server.bind(service);
		server.set_receive_metadata(true);
		std::array<std::byte, 2048> buf;
		CPPUNIT_ASSERT(!server.try_receive(buf)); // non-blocking, nothing yet

		auto client = app(h1_);
		client.connect(to_h2(77));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(77), client.local_address().conn);
		CPPUNIT_ASSERT(client.peer_address() == to_h2(77));
		ilp::Metadata md;
		md.add_string(0x0100, "tag");
		CPPUNIT_ASSERT_EQUAL(std::size_t(5), client.send(bytes("hello"), &md));

		auto r = wait_receive(server, buf);
		CPPUNIT_ASSERT(r);
		CPPUNIT_ASSERT_EQUAL(
		    std::string("hello"),
		    std::string(reinterpret_cast<const char *>(buf.data()), r->size));
		CPPUNIT_ASSERT_EQUAL(service, r->from.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(77), r->from.conn);
		CPPUNIT_ASSERT_EQUAL(h1_.endpoint().to_string(), r->from.host->to_string());
		CPPUNIT_ASSERT(!r->from.sn); // came directly
		CPPUNIT_ASSERT(r->metadata);
		CPPUNIT_ASSERT_EQUAL(std::string("tag"), r->metadata->find(0x0100)->as_string());
		CPPUNIT_ASSERT_EQUAL(h1_.endpoint().to_string(),
				     r->metadata->src_host()->to_string());

		// The reply goes back the way it came, to the client's binding.
		auto back = r->metadata->without_own();
		server.send_to(r->from, bytes("world!"), &back);
		std::array<std::byte, 4> small;
		auto rr = client.receive(small, MSG_TRUNC);
		CPPUNIT_ASSERT(rr.truncated);
		CPPUNIT_ASSERT_EQUAL(std::size_t(6), rr.size);
		CPPUNIT_ASSERT_EQUAL(h2_.endpoint().to_string(), rr.from.host->to_string());
		CPPUNIT_ASSERT(!rr.metadata); // not asked for
		// Counted just after the write the app may already have read.
		CPPUNIT_ASSERT(eventually([&] { return h2_.apps->stats().delivered == 1; }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), h1_.apps->stats().sent);
	}

	void bind__errnos_as_af_ilp()
	{
		auto a = app(h2_), b = app(h2_);
		a.bind(service, 5);
		CPPUNIT_ASSERT_EQUAL(EADDRINUSE, error_code([&] { b.bind(service, 5); }));
		// The catch-all and an exact connection are different bindings.
		b.bind(service);
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { a.bind(service, 6); }));
		auto c = app(h2_);
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { c.bind(0); }));
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] { c.bind(~0u); }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), h2_.apps->stats().bindings);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), a.local_address().conn);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(0), c.local_address().service);
	}

	void bind__reserved_service_needs_privilege()
	{
		if (::geteuid() != 0) {
			CPPUNIT_ASSERT_EQUAL(EACCES, error_code([&] { app(h2_).bind(80); }));
			return;
		}
		app(h2_).bind(80); // root may
		// An unprivileged process (nobody, no capabilities) may not.
		std::string path = h2_.apps->path();
		pid_t pid = ::fork();
		if (pid == 0) {
			int rc = 10;
			if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
				try {
					::setenv("ILP_TRANSPORT", "unix", 1);
					::setenv("ILP_APP_SOCKET", path.c_str(), 1);
					ilp::Socket s;
					int err = error_code([&] { s.bind(81); });
					rc = err == EACCES ? 0 : 11;
					if (!rc)
						s.bind(5001); // above 1023: anyone
				} catch (...) {
					rc = 12;
				}
			}
			::_exit(rc);
		}
		int status = 0;
		::waitpid(pid, &status, 0);
		CPPUNIT_ASSERT(WIFEXITED(status));
		CPPUNIT_ASSERT_EQUAL(0, WEXITSTATUS(status));
	}

	void send__errnos_as_af_ilp()
	{
		auto s = app(h1_);
		CPPUNIT_ASSERT_EQUAL(ENOTCONN, error_code([&] { s.peer_address(); }));
		CPPUNIT_ASSERT_EQUAL(EDESTADDRREQ, error_code([&] { s.send(bytes("x")); }));
		auto nowhere = to_h2(9);
		nowhere.host = ilp::Endpoint::parse("192.0.2.99");
		CPPUNIT_ASSERT_EQUAL(ENETUNREACH,
				     error_code([&] { s.send_to(nowhere, bytes("x")); }));
		std::vector<std::byte> big(70000);
		CPPUNIT_ASSERT_EQUAL(EMSGSIZE, error_code([&] { s.send_to(to_h2(9), big); }));
		// Connection 0 names the bound one; bound to 9 by the first send.
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(9), s.local_address().conn);
		s.send_to(to_h2(0), bytes("ok"));
		auto t = app(h1_);
		t.bind(service + 1);
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([&] {
					     auto a = to_h2(0);
					     a.service = service + 1;
					     t.send_to(a, bytes("x"));
				     }));
		s.shutdown(SHUT_WR);
		CPPUNIT_ASSERT_EQUAL(EPIPE, error_code([&] { s.send_to(to_h2(9), bytes("x")); }));
		// Sticky metadata stays on the client; too much is EMSGSIZE.
		ilp::Metadata md;
		md.add_string(0x0200, "sticky");
		t.set_metadata(md);
		CPPUNIT_ASSERT(t.metadata() == md);
		t.clear_metadata();
		CPPUNIT_ASSERT(t.metadata().empty());
	}

	void close__frees_the_binding()
	{
		{
			auto a = app(h2_);
			a.bind(service, 3);
			CPPUNIT_ASSERT(h2_.apps->claims(service, 3));
		}
		CPPUNIT_ASSERT(eventually([&] { return !h2_.apps->claims(service, 3); }));
		CPPUNIT_ASSERT(eventually([&] { return h2_.apps->stats().clients == 0; }));
		auto b = app(h2_);
		b.bind(service, 3);
	}

	void deliver__full_queue_drops_counted_others_unaffected()
	{
		auto lazy = app(h2_); // never reads
		lazy.bind(service, 1);
		auto busy = app(h2_);
		busy.bind(service, 2);
		auto c1 = app(h1_), c2 = app(h1_);
		c1.connect(to_h2(1));
		c2.connect(to_h2(2));
		std::string payload(1000, 'x');
		// More than the data channel's socket buffer holds.
		for (int i = 0; i < 2000; i++)
			c1.send(bytes(payload));
		CPPUNIT_ASSERT(eventually([&] { return h2_.apps->stats().dropped > 0; }));
		c2.send(bytes("still here"));
		std::array<std::byte, 64> buf;
		auto r = wait_receive(busy, buf);
		CPPUNIT_ASSERT(r);
		CPPUNIT_ASSERT_EQUAL(
		    std::string("still here"),
		    std::string(reinterpret_cast<const char *>(buf.data()), r->size));
		auto st = h2_.apps->stats();
		CPPUNIT_ASSERT(st.delivered > 1);
		CPPUNIT_ASSERT(st.delivered + st.dropped <= 2001);
	}

	void open__no_daemon_is_eafnosupport_or_its_errno()
	{
		::setenv("ILP_APP_SOCKET", (dir_.path() / "none.sock").c_str(), 1);
		::setenv("ILP_TRANSPORT", "unix", 1);
		CPPUNIT_ASSERT_EQUAL(ENOENT, error_code([] { ilp::Socket s; }));
		::setenv("ILP_TRANSPORT", "bogus", 1);
		CPPUNIT_ASSERT_EQUAL(EINVAL, error_code([] { ilp::Socket s; }));
		if (::access("/sys/module/ilp", F_OK) == 0)
			return;
		::unsetenv("ILP_TRANSPORT");
		try {
			ilp::Socket s;
			CPPUNIT_FAIL("a socket without ilp.ko or ilpd");
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT_EQUAL(EAFNOSUPPORT, e.code().value());
			std::string what = e.what();
			CPPUNIT_ASSERT_MESSAGE(what,
					       what.find("is ilpd running?") != std::string::npos);
		}
	}

	void c_api__sock_functions_over_the_app_socket()
	{
		::setenv("ILP_TRANSPORT", "unix", 1);
		::setenv("ILP_APP_SOCKET", h2_.apps->path().c_str(), 1);
		ilp_sock *server = ilp_sock_open(SOCK_CLOEXEC | SOCK_NONBLOCK);
		CPPUNIT_ASSERT(server);
		CPPUNIT_ASSERT_EQUAL(0, ilp_sock_bind(server, service, ILP_CONN_ANY));
		errno = 0;
		CPPUNIT_ASSERT_EQUAL(-1, ilp_sock_bind(server, service, 4));
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno);
		char buf[64];
		CPPUNIT_ASSERT_EQUAL(ssize_t(-1), ilp_sock_recvfrom(server, buf, sizeof(buf), 0,
								    nullptr, nullptr, nullptr));
		CPPUNIT_ASSERT_EQUAL(EAGAIN, errno);

		::setenv("ILP_APP_SOCKET", h1_.apps->path().c_str(), 1);
		ilp_sock *client = ilp_sock_open(SOCK_CLOEXEC);
		CPPUNIT_ASSERT(client);
		sockaddr_ilp to;
		CPPUNIT_ASSERT_EQUAL(
		    0, ilp_addr_parse(&to, ("4242/5@" + h2_.endpoint().to_string()).c_str()));
		unsigned char md[16];
		size_t off = 0;
		CPPUNIT_ASSERT_EQUAL(0, ilp_tlv_put(md, sizeof(md), &off, 0x0100, "c!", 2));
		CPPUNIT_ASSERT_EQUAL(ssize_t(4), ilp_sock_sendto(client, "from", 4, &to, md, off));

		pollfd p{ilp_sock_fd(server), POLLIN, 0};
		CPPUNIT_ASSERT_EQUAL(1, ::poll(&p, 1, 5000));
		sockaddr_ilp from{};
		unsigned char got[256];
		size_t got_len = sizeof(got);
		CPPUNIT_ASSERT_EQUAL(ssize_t(4), ilp_sock_recvfrom(server, buf, sizeof(buf), 0,
								   &from, got, &got_len));
		CPPUNIT_ASSERT_EQUAL(std::string("from"), std::string(buf, 4));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(5), std::uint64_t(from.silp_conn));
		char text[ILP_ADDRSTRLEN];
		CPPUNIT_ASSERT_EQUAL(0, ilp_addr_format(&from, text, sizeof(text)));
		CPPUNIT_ASSERT_EQUAL("4242/5@" + h1_.endpoint().to_string(), std::string(text));
		// The whole TLV area: ILP's own source host, then the sender's.
		size_t at = 0;
		uint16_t type = 0, vlen = 0;
		const void *val = nullptr;
		bool found = false;
		while (ilp_tlv_next(got, got_len, &at, &type, &val, &vlen) == 1)
			found |= type == 0x0100 &&
				 std::string(static_cast<const char *>(val), vlen) == "c!";
		CPPUNIT_ASSERT(found);

		// The reply to the sender as received; connected sends too.
		CPPUNIT_ASSERT_EQUAL(ssize_t(2),
				     ilp_sock_sendto(server, "ok", 2, &from, nullptr, 0));
		CPPUNIT_ASSERT_EQUAL(ssize_t(2), ilp_sock_recvfrom(client, buf, sizeof(buf), 0,
								   nullptr, nullptr, nullptr));
		CPPUNIT_ASSERT_EQUAL(0, ilp_sock_connect(client, &to));
		CPPUNIT_ASSERT_EQUAL(ssize_t(3),
				     ilp_sock_sendto(client, "abc", 3, nullptr, nullptr, 0));
		ilp_sock_close(client);
		ilp_sock_close(server);
		ilp_sock_close(nullptr);
	}

	void server__live_socket_refused_stale_one_replaced()
	{
		auto none = [](const ilp::Endpoint &, const std::optional<ilp::Endpoint> &,
			       std::uint32_t, std::uint64_t, std::span<const std::uint8_t>,
			       std::span<const std::uint8_t>) {};
		CPPUNIT_ASSERT_EQUAL(EADDRINUSE,
				     error_code([&] { AppServer again(h1_.apps->path(), none); }));
		// A socket file nobody listens on, as a daemon killed leaves it.
		auto stale = dir_.path() / "stale.sock";
		{
			udp::Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET, 0));
			sockaddr_un sun{};
			sun.sun_family = AF_UNIX;
			std::strcpy(sun.sun_path, stale.c_str());
			CPPUNIT_ASSERT_EQUAL(
			    0, ::bind(fd.get(), reinterpret_cast<sockaddr *>(&sun), sizeof(sun)));
		}
		{
			AppServer s(stale, none);
			struct stat st;
			CPPUNIT_ASSERT_EQUAL(0, ::stat(stale.c_str(), &st));
			CPPUNIT_ASSERT_EQUAL(0666u, unsigned(st.st_mode & 0777));
		}
		CPPUNIT_ASSERT(!std::filesystem::exists(stale));
		auto file = dir_.write("plain", "x");
		CPPUNIT_ASSERT_EQUAL(EEXIST, error_code([&] { AppServer s(file, none); }));
	}

	// A raw connection to the app socket, speaking the protocol of
	// docs/app-socket.md without libilp.
	struct Raw {
		udp::Fd fd;
		explicit Raw(const std::filesystem::path &path)
		    : fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0))
		{
			sockaddr_un sun{};
			sun.sun_family = AF_UNIX;
			std::strcpy(sun.sun_path, path.c_str());
			if (::connect(fd.get(), reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) <
			    0)
				throw std::runtime_error("connect");
		}
		// Sends @h (and @pass as SCM_RIGHTS); the reply's header, or
		// nullopt when ilpd closed the connection.
		std::optional<ilp::app::MsgHeader>
		call(const ilp::app::MsgHeader &h, int pass = -1,
		     std::size_t len = sizeof(ilp::app::MsgHeader))
		{
			iovec iov{const_cast<ilp::app::MsgHeader *>(&h), len};
			msghdr msg{};
			msg.msg_iov = &iov;
			msg.msg_iovlen = 1;
			alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
			if (pass >= 0) {
				msg.msg_control = control;
				msg.msg_controllen = sizeof(control);
				auto *c = CMSG_FIRSTHDR(&msg);
				c->cmsg_level = SOL_SOCKET;
				c->cmsg_type = SCM_RIGHTS;
				c->cmsg_len = CMSG_LEN(sizeof(int));
				std::memcpy(CMSG_DATA(c), &pass, sizeof(int));
			}
			if (::sendmsg(fd.get(), &msg, MSG_NOSIGNAL) < 0)
				return std::nullopt;
			ilp::app::MsgHeader r;
			ssize_t n = ::recv(fd.get(), &r, sizeof(r), 0);
			if (n != static_cast<ssize_t>(sizeof(r)))
				return std::nullopt;
			return r;
		}
		bool closed()
		{
			pollfd p{fd.get(), POLLIN, 0};
			char c;
			return ::poll(&p, 1, 5000) == 1 && ::recv(fd.get(), &c, 1, 0) == 0;
		}
	};

	void protocol__raw_requests_answered_as_documented()
	{
		namespace proto = ilp::app;
		CPPUNIT_ASSERT_EQUAL(std::size_t(80), sizeof(proto::MsgHeader));
		proto::MsgHeader bind;
		bind.type = proto::MsgType::Bind;
		bind.addr.silp_service = service;

		// Anything before HELLO: EPROTO, and the connection goes.
		Raw early(h2_.apps->path());
		auto r = early.call(bind);
		CPPUNIT_ASSERT(r);
		CPPUNIT_ASSERT_EQUAL(proto::MsgType::Reply, r->type);
		CPPUNIT_ASSERT_EQUAL(EPROTO, r->error);
		CPPUNIT_ASSERT(early.closed());

		// Another version: EPROTO too.
		Raw other(h2_.apps->path());
		proto::MsgHeader v2;
		v2.version = 2;
		v2.type = proto::MsgType::Hello;
		r = other.call(v2);
		CPPUNIT_ASSERT(r && r->error == EPROTO);

		// HELLO without a descriptor, then with one; BIND answers with
		// the binding; a short message is EPROTO.
		Raw raw(h2_.apps->path());
		proto::MsgHeader hello;
		hello.type = proto::MsgType::Hello;
		r = raw.call(hello);
		CPPUNIT_ASSERT(r && r->error == EPROTO);
		Raw good(h2_.apps->path());
		int pair[2];
		CPPUNIT_ASSERT_EQUAL(0,
				     ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair));
		udp::Fd mine(pair[0]);
		r = good.call(hello, pair[1]);
		::close(pair[1]);
		CPPUNIT_ASSERT(r && r->error == 0);
		bind.addr.silp_conn = 12;
		r = good.call(bind);
		CPPUNIT_ASSERT(r && r->error == 0);
		CPPUNIT_ASSERT_EQUAL(service, r->addr.silp_service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(12), std::uint64_t(r->addr.silp_conn));

		// A packet for (service, 12) arrives on the data channel as DATA.
		auto client = app(h1_);
		client.send_to(to_h2(12), bytes("raw"));
		pollfd p{mine.get(), POLLIN, 0};
		CPPUNIT_ASSERT_EQUAL(1, ::poll(&p, 1, 5000));
		std::array<std::byte, 512> buf;
		ssize_t n = ::recv(mine.get(), buf.data(), buf.size(), 0);
		CPPUNIT_ASSERT(n > static_cast<ssize_t>(sizeof(proto::MsgHeader)));
		proto::MsgHeader d;
		std::memcpy(&d, buf.data(), sizeof(d));
		CPPUNIT_ASSERT_EQUAL(proto::MsgType::Data, d.type);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(12), std::uint64_t(d.addr.silp_conn));
		auto from = ilp::Address::from_sockaddr(d.addr);
		CPPUNIT_ASSERT_EQUAL(h1_.endpoint().to_string(), from.host->to_string());
		std::string payload(reinterpret_cast<const char *>(buf.data()) + sizeof(d) +
					d.md_len,
				    static_cast<std::size_t>(n) - sizeof(d) - d.md_len);
		CPPUNIT_ASSERT_EQUAL(std::string("raw"), payload);

		// A SEND whose destination has no host: EAFNOSUPPORT, as sendto().
		proto::MsgHeader send;
		send.type = proto::MsgType::Send;
		send.addr.silp_service = service;
		send.addr.silp_conn = 12;
		r = good.call(send);
		CPPUNIT_ASSERT(r && r->error == EAFNOSUPPORT);
		r = good.call(send, -1, 10);
		CPPUNIT_ASSERT(r && r->error == EPROTO);
		CPPUNIT_ASSERT(good.closed());
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(AppServerTest);

// SPDX-License-Identifier: GPL-2.0-or-later
#include "apps/app_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <system_error>

#include <ilp/error.hpp>
#include <ilp/socket.hpp>
#include <ilp_wire.h>

#include "app_protocol.hpp"

namespace ilpd
{

namespace app = ilp::app;

namespace
{

constexpr unsigned cap_net_bind_service = 10;
constexpr std::size_t max_clients = 1024;

// Whether the process @pid had CAP_NET_BIND_SERVICE in its effective set
// when it connected; a process gone or unreadable has not.
bool has_bind_cap(pid_t pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(in, line)) {
		if (line.rfind("CapEff:", 0) != 0)
			continue;
		try {
			auto caps = std::stoull(line.substr(7), nullptr, 16);
			return (caps >> cap_net_bind_service) & 1;
		} catch (const std::exception &) {
			return false;
		}
	}
	return false;
}

bool valid_service(std::uint32_t s)
{
	return s && s != ~0u;
}

bool valid_family(std::uint16_t f, bool optional)
{
	return f == AF_INET || f == AF_INET6 || (optional && f == 0);
}

// The sender of a delivered packet as recvfrom() on AF_ILP gives it
// (kmod/sock_recv.c): the host of ILP_TLV_SRC_HOST and, when that is not
// the previous hop, the previous hop as the SN it came through.
sockaddr_ilp sender(const Miss &packet, const ilpw_hdr &hdr)
{
	ilp::Address a;
	a.service = hdr.service;
	a.conn = hdr.conn;
	ilpw_tlv_iter it;
	ilpw_tlv t;
	ilpw_tlv_iter_init(&it, &hdr);
	while (ilpw_tlv_next(&it, &t) > 0) {
		if (t.type != ILP_TLV_SRC_HOST || (t.len != 6 && t.len != 18))
			continue;
		auto port = static_cast<std::uint16_t>((t.val[t.len - 2] << 8) | t.val[t.len - 1]);
		a.host = ilp::Endpoint::from_bytes({t.val, t.len - 2u}, port);
		break;
	}
	if (!a.host) {
		a.host = packet.prev;
	} else if (a.host->family != packet.prev.family ||
		   !std::ranges::equal(a.host->addr_bytes(), packet.prev.addr_bytes())) {
		a.sn = packet.prev;
		// The cache keys hops by address; the SN listens on the ILP port.
		if (!a.sn->port)
			a.sn->port = ILP_UDP_PORT;
	}
	if (!a.host->port)
		a.host->port = ILP_UDP_PORT;
	return a.to_sockaddr(0);
}

void reply(int fd, int error, const sockaddr_ilp &bound, int status = 0,
	   std::span<const std::uint8_t> body = {})
{
	app::MsgHeader h;
	h.type = app::MsgType::Reply;
	h.error = error;
	h.status = status;
	h.addr = bound;
	h.addr.silp_family = 0;
	iovec iov[2] = {{&h, sizeof(h)}, {const_cast<std::uint8_t *>(body.data()), body.size()}};
	msghdr msg{};
	msg.msg_iov = iov;
	msg.msg_iovlen = body.empty() ? 1 : 2;
	// A client gone by now is noticed by the next poll().
	(void)::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

} // namespace

struct AppServer::Client {
	udp::Fd ctl;
	udp::Fd data; // ilpd's end of the data channel, non-blocking
	bool may_bind_reserved = false;
	bool bound = false;
	Key key{0, 0};
	// A CONTROL in flight: the server reads no more of this app's
	// requests until its answer is written (by the Controller's thread).
	std::atomic<bool> waiting{false};
};

struct AppServer::Answered {
	udp::Fd wake; // an eventfd: readable when some app was answered
	std::atomic<std::uint64_t> count{0};
};

AppServer::AppServer(std::filesystem::path path, Sender send, Log log, Controller control)
    : path_(std::move(path)), send_(std::move(send)), log_(std::move(log)),
      control_(std::move(control)), answered_(std::make_shared<Answered>())
{
	std::error_code ec;
	if (path_.has_parent_path())
		std::filesystem::create_directories(path_.parent_path(), ec);
	sockaddr_un sun{};
	sun.sun_family = AF_UNIX;
	auto p = path_.string();
	if (p.size() >= sizeof(sun.sun_path))
		throw ilp::Error(ENAMETOOLONG, "the app socket path " + p + " is too long");
	std::memcpy(sun.sun_path, p.c_str(), p.size() + 1);
	listen_ = udp::Fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (!listen_)
		throw ilp::Error(errno, "the app socket: " + std::string(std::strerror(errno)));
	// A file left by a daemon that died is replaced; one a live daemon
	// answers on is not, nor is anything but a socket.
	struct stat st;
	if (::lstat(p.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			throw ilp::Error(EEXIST,
					 "the app socket " + p + " exists and is not a socket");
		udp::Fd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
		if (probe &&
		    (::connect(probe.get(), reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) == 0 ||
		     errno == EAGAIN))
			throw ilp::Error(EADDRINUSE, "another ilpd is running: it answers on " + p);
		::unlink(p.c_str());
	}
	if (::bind(listen_.get(), reinterpret_cast<sockaddr *>(&sun), sizeof(sun)) < 0 ||
	    ::chmod(p.c_str(), 0666) < 0 || ::listen(listen_.get(), 64) < 0) {
		int err = errno;
		throw ilp::Error(err, "the app socket " + p + ": " + std::strerror(err));
	}
	stop_ = udp::Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	answered_->wake = udp::Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (!stop_ || !answered_->wake) {
		int err = errno;
		::unlink(p.c_str());
		throw ilp::Error(err, "eventfd: " + std::string(std::strerror(err)));
	}
	thread_ = std::thread([this] { run(); });
}

AppServer::~AppServer()
{
	std::uint64_t one = 1;
	(void)::write(stop_.get(), &one, sizeof(one));
	if (thread_.joinable())
		thread_.join();
	{
		std::unique_lock lock(mu_);
		bindings_.clear();
	}
	clients_.clear();
	::unlink(path_.c_str());
}

AppStats AppServer::stats() const
{
	AppStats s;
	{
		std::shared_lock lock(mu_);
		s.bindings = bindings_.size();
	}
	s.clients = clients_now_.load();
	s.delivered = delivered_.load();
	s.dropped = dropped_.load();
	s.sent = sent_.load();
	s.send_errors = send_errors_.load();
	s.controls = answered_->count.load();
	return s;
}

std::shared_ptr<AppServer::Client> AppServer::lookup(std::uint32_t service,
						     std::uint64_t conn) const
{
	std::shared_lock lock(mu_);
	auto it = bindings_.find({service, conn});
	if (it == bindings_.end())
		it = bindings_.find({service, ILP_CONN_ANY});
	return it == bindings_.end() ? nullptr : it->second;
}

bool AppServer::claims(std::uint32_t service, std::uint64_t conn)
{
	return lookup(service, conn) != nullptr;
}

void AppServer::deliver(const Miss &packet)
{
	auto c = lookup(packet.service, packet.conn);
	ilpw_hdr hdr;
	if (!c || ilpw_hdr_parse(packet.data.data(), packet.data.size(), &hdr, nullptr, nullptr)) {
		dropped_++;
		return;
	}
	app::MsgHeader h;
	h.type = app::MsgType::Data;
	h.md_len = hdr.tlv_len;
	h.addr = sender(packet, hdr);
	h.addr.silp_family = 0;
	iovec iov[3] = {{&h, sizeof(h)},
			{const_cast<std::uint8_t *>(hdr.tlv), hdr.tlv_len},
			{const_cast<std::uint8_t *>(packet.data.data()) + hdr.hdr_len,
			 packet.data.size() - hdr.hdr_len}};
	msghdr msg{};
	msg.msg_iov = iov;
	msg.msg_iovlen = 3;
	ssize_t n;
	do
		n = ::sendmsg(c->data.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	// EAGAIN: the app's queue is full; anything else: the app is going.
	if (n < 0)
		dropped_++;
	else
		delivered_++;
}

void AppServer::run()
{
	std::vector<pollfd> fds;
	std::vector<std::shared_ptr<Client>> polled;
	for (;;) {
		fds.clear();
		polled.clear();
		fds.push_back({stop_.get(), POLLIN, 0});
		fds.push_back({listen_.get(), POLLIN, 0});
		fds.push_back({answered_->wake.get(), POLLIN, 0});
		for (const auto &c : clients_) {
			if (c->waiting.load(std::memory_order_acquire))
				continue;
			fds.push_back({c->ctl.get(), POLLIN, 0});
			polled.push_back(c);
		}
		if (::poll(fds.data(), fds.size(), -1) < 0) {
			if (errno == EINTR || errno == ENOMEM)
				continue;
			if (log_)
				log_(std::string("poll: ") + std::strerror(errno));
			return;
		}
		if (fds[0].revents)
			return;
		if (fds[1].revents)
			accept_clients();
		if (fds[2].revents) {
			// Only the wakeup: the loop polls the answered apps again.
			std::uint64_t n;
			(void)::read(answered_->wake.get(), &n, sizeof(n));
		}
		std::vector<std::shared_ptr<Client>> gone;
		for (std::size_t i = 3; i < fds.size(); i++) {
			if (!fds[i].revents)
				continue;
			auto &c = polled[i - 3];
			if (!serve(c))
				gone.push_back(c);
		}
		for (const auto &c : gone)
			drop_client(c);
	}
}

void AppServer::accept_clients()
{
	for (;;) {
		int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && log_)
				log_(std::string("accept: ") + std::strerror(errno));
			return;
		}
		// Each app costs ilpd descriptors: a bound on them keeps a local
		// user from exhausting ilpd's.
		if (clients_.size() >= max_clients) {
			::close(fd);
			if (!refused_++ && log_)
				log_("more than " + std::to_string(max_clients) +
				     " apps: refusing new ones");
			continue;
		}
		auto c = std::make_shared<Client>();
		c->ctl = udp::Fd(fd);
		ucred cred{};
		socklen_t len = sizeof(cred);
		if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			if (log_)
				log_(std::string("SO_PEERCRED: ") + std::strerror(errno));
			continue;
		}
		c->may_bind_reserved = cred.uid == 0 || has_bind_cap(cred.pid);
		clients_.push_back(std::move(c));
		clients_now_++;
	}
}

void AppServer::drop_client(const std::shared_ptr<Client> &c)
{
	if (c->bound) {
		std::unique_lock lock(mu_);
		bindings_.erase(c->key);
	}
	std::erase(clients_, c);
	clients_now_--;
	// A receive thread may still hold it: the channel closes with the
	// last reference.
}

bool AppServer::serve(const std::shared_ptr<Client> &cp)
{
	Client &c = *cp;
	if (buf_.empty())
		buf_.resize(app::max_message);
	iovec iov{buf_.data(), buf_.size()};
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	ssize_t n;
	do
		n = ::recvmsg(c.ctl.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK;
	if (n == 0)
		return false; // the app closed its socket
	// Any descriptor passed is ours now, taken or not.
	udp::Fd passed;
	for (auto *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		int fds[4];
		std::size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		std::memcpy(fds, CMSG_DATA(cm), std::min(k, std::size_t(4)) * sizeof(int));
		for (std::size_t j = 0; j < k && j < 4; j++) {
			if (!passed)
				passed = udp::Fd(fds[j]);
			else
				::close(fds[j]);
		}
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		reply(c.ctl.get(), EMSGSIZE, {});
		return true;
	}
	auto whole = std::span(buf_).first(static_cast<std::size_t>(n));
	app::MsgHeader h;
	if (whole.size() >= sizeof(h)) {
		std::memcpy(&h, whole.data(), sizeof(h));
		if (h.version == app::protocol_version && h.type == app::MsgType::Control) {
			int err = 0;
			if (start_control(cp, h, whole.subspan(sizeof(h)), err))
				return true; // answered later
			reply(c.ctl.get(), err, h.addr);
			return true;
		}
	}
	int err = handle(c, whole, passed);
	sockaddr_ilp bound{};
	if (c.bound) {
		bound.silp_service = c.key.first;
		bound.silp_conn = c.key.second;
	}
	reply(c.ctl.get(), err, bound);
	return err != EPROTO;
}

int AppServer::handle(Client &c, std::span<const std::byte> msg, udp::Fd &passed)
{
	app::MsgHeader h;
	if (msg.size() < sizeof(h))
		return EPROTO;
	std::memcpy(&h, msg.data(), sizeof(h));
	if (h.version != app::protocol_version || h.md_len > msg.size() - sizeof(h))
		return EPROTO;
	if (!send_ && (h.type == app::MsgType::Hello || h.type == app::MsgType::Bind ||
		       h.type == app::MsgType::Connect || h.type == app::MsgType::Send))
		return EOPNOTSUPP; // a kernel node: apps have AF_ILP
	if (h.type == app::MsgType::Hello) {
		if (c.data || !passed)
			return EPROTO;
		int fl = ::fcntl(passed.get(), F_GETFL);
		if (fl < 0 || ::fcntl(passed.get(), F_SETFL, fl | O_NONBLOCK) < 0)
			return errno;
		c.data = std::move(passed);
		return 0;
	}
	if (!c.data)
		return EPROTO; // HELLO first
	const sockaddr_ilp &a = h.addr;
	switch (h.type) {
	case app::MsgType::Bind:
		if (!valid_service(a.silp_service))
			return EINVAL;
		if (a.silp_service <= ILP_SERVICE_RESERVED_MAX && !c.may_bind_reserved)
			return EACCES;
		return bind(c, a.silp_service, a.silp_conn);
	case app::MsgType::Connect:
		if (!valid_service(a.silp_service))
			return EINVAL;
		if (!valid_family(a.silp_host.family, false) ||
		    !valid_family(a.silp_sn.family, true))
			return EAFNOSUPPORT;
		return autobind(c, a.silp_service, a.silp_conn);
	case app::MsgType::Send:
		break;
	default:
		return EPROTO;
	}

	// A send, checked as kmod/sock_send.c checks sendmsg().
	if (!valid_service(a.silp_service))
		return EINVAL;
	if (!valid_family(a.silp_host.family, false) || !valid_family(a.silp_sn.family, true))
		return EAFNOSUPPORT;
	auto md = msg.subspan(sizeof(h), h.md_len);
	auto payload = msg.subspan(sizeof(h) + h.md_len);
	if (payload.size() > 0xffff)
		return EMSGSIZE;
	if (int err = autobind(c, a.silp_service, a.silp_conn))
		return err;
	std::uint64_t conn = a.silp_conn;
	if (conn == ILP_CONN_ANY) {
		// No connection named: the one the socket is bound to.
		if (c.key.first != a.silp_service || c.key.second == ILP_CONN_ANY)
			return EINVAL;
		conn = c.key.second;
	}
	try {
		auto to = ilp::Address::from_sockaddr(a);
		send_(*to.host, to.sn, a.silp_service, conn,
		      {reinterpret_cast<const std::uint8_t *>(md.data()), md.size()},
		      {reinterpret_cast<const std::uint8_t *>(payload.data()), payload.size()});
		sent_++;
		return 0;
	} catch (const std::system_error &e) {
		send_errors_++;
		return e.code().value() ? e.code().value() : EIO;
	} catch (const std::exception &e) {
		send_errors_++;
		if (log_)
			log_(std::string("an app's send: ") + e.what());
		return EIO;
	}
}

bool AppServer::start_control(const std::shared_ptr<Client> &c, const app::MsgHeader &h,
			      std::span<const std::byte> payload, int &err)
{
	const sockaddr_ilp &a = h.addr;
	err = 0;
	if (!control_)
		err = EOPNOTSUPP;
	else if (h.md_len || (h.flags & ~app::control_local))
		err = EINVAL;
	else if (!valid_service(a.silp_service))
		err = EINVAL;
	else if (!valid_family(a.silp_sn.family, true))
		err = EAFNOSUPPORT;
	else if (payload.size() > app::max_control_request)
		err = EMSGSIZE;
	if (err)
		return false;
	AppControl req;
	req.service = a.silp_service;
	req.local = h.flags & app::control_local;
	if (a.silp_sn.family) {
		sockaddr_ilp only_sn{};
		only_sn.silp_sn = a.silp_sn;
		req.sn = ilp::Address::from_sockaddr(only_sn).sn;
	}
	auto p = reinterpret_cast<const std::uint8_t *>(payload.data());
	req.request.assign(p, p + payload.size());

	c->waiting.store(true, std::memory_order_release);
	std::weak_ptr<Client> weak = c;
	std::weak_ptr<Answered> wake = answered_;
	sockaddr_ilp to{};
	to.silp_service = a.silp_service;
	to.silp_sn = a.silp_sn;
	control_(std::move(req),
		 [weak, wake, to](int error, int status, std::vector<std::uint8_t> body) {
			 auto w = wake.lock();
			 auto client = weak.lock();
			 if (!w || !client)
				 return; // the server or the app went first
			 // Counted before the reply goes, so an app that reads
			 // the counter after its answer sees its own request.
			 w->count++;
			 reply(client->ctl.get(), error, to, status, body);
			 client->waiting.store(false, std::memory_order_release);
			 std::uint64_t one = 1;
			 (void)::write(w->wake.get(), &one, sizeof(one));
		 });
	return true;
}

int AppServer::bind(Client &c, std::uint32_t service, std::uint64_t conn)
{
	if (c.bound)
		return EINVAL;
	std::unique_lock lock(mu_);
	// The shared_ptr in the table is the one clients_ holds.
	auto self = std::find_if(clients_.begin(), clients_.end(),
				 [&](const auto &p) { return p.get() == &c; });
	if (self == clients_.end())
		return EINVAL;
	if (!bindings_.emplace(Key{service, conn}, *self).second)
		return EADDRINUSE;
	c.bound = true;
	c.key = {service, conn};
	return 0;
}

// As kmod's ilp_sock_autobind(): a socket that sends first is bound to
// the destination's service and connection, a random one for 0.
int AppServer::autobind(Client &c, std::uint32_t service, std::uint64_t conn)
{
	if (c.bound)
		return 0;
	static thread_local std::mt19937_64 rng(std::random_device{}());
	int err = 0;
	for (int tries = 8; tries; tries--) {
		std::uint64_t k = conn;
		while (k == ILP_CONN_ANY)
			k = rng();
		err = bind(c, service, k);
		if (err != EADDRINUSE || conn != ILP_CONN_ANY)
			break;
	}
	return err;
}

} // namespace ilpd

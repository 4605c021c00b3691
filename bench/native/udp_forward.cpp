// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * udp_forward - the baseline of the native benchmark (bench/native/run.sh):
 * a userspace UDP forwarder that does what ilpd's userspace datapath does
 * with a datagram, minus ILP.
 *
 *   udp_forward --port PORT (--to ADDR:PORT | --echo)
 *
 * Binds UDP PORT as ilpd's userspace datapath binds its port (an IPv6
 * socket that takes IPv4 too, on every address, 4 MiB buffers), and reads
 * and sends as its receive thread does (daemon/datapath/user_datapath.cpp,
 * udp_io.cpp): poll(), then up to 8 recvmmsg() of 32 datagrams without
 * waiting, each datagram copied into a send batch of up to 64 that one
 * sendmmsg() sends.  No PSP, no header parsing, no cache lookup: the copy
 * stands for the sealing, which writes each datagram anew.  With --to
 * every datagram goes to ADDR:PORT (the cache-hit path's shape), with
 * --echo back to where it came from (the null service's).  Runs until it
 * is killed.
 *
 * Exit status 2 for a command line that does not parse, 1 on other errors.
 */
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ilp/endpoint.hpp>
#include <ilp/error.hpp>
#include <ilp/unique_fd.hpp>

namespace
{

// ilpd's batches (user_datapath.cpp).
constexpr unsigned rx_batch = 32;
constexpr unsigned tx_batch = 64;
constexpr int rx_rounds = 8;
constexpr std::size_t max_datagram = 65536;

struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

const char usage_text[] = "usage: udp_forward --port PORT (--to ADDR:PORT | --echo)\n";

struct Options {
	std::uint16_t port = 0;
	std::optional<ilp::Endpoint> to;
	bool echo = false;
};

Options parse_args(int argc, char **argv)
{
	Options o;
	bool have_port = false;
	for (int i = 1; i < argc; i++) {
		std::string_view opt = argv[i];
		if (opt == "-h" || opt == "--help") {
			std::fputs(usage_text, stdout);
			std::exit(0);
		}
		if (opt == "--echo") {
			o.echo = true;
			continue;
		}
		if (i + 1 == argc)
			throw UsageError(std::string(opt) + " needs a value");
		std::string_view value = argv[++i];
		if (opt == "--port") {
			auto [end, ec] =
			    std::from_chars(value.data(), value.data() + value.size(), o.port);
			if (value.empty() || ec != std::errc() ||
			    end != value.data() + value.size() || !o.port)
				throw UsageError("--port takes a UDP port, 1 to 65535");
			have_port = true;
		} else if (opt == "--to") {
			try {
				o.to = ilp::Endpoint::parse(std::string(value));
			} catch (const ilp::Error &e) {
				throw UsageError(std::string("--to: ") + e.what());
			}
			if (!o.to->port)
				throw UsageError("--to needs a port");
		} else {
			throw UsageError("unknown option '" + std::string(opt) + "'");
		}
	}
	if (!have_port)
		throw UsageError("--port is required");
	if (o.echo == o.to.has_value())
		throw UsageError("one of --to and --echo");
	return o;
}

// As a v6 socket's peer: IPv4 as ::ffff:a.b.c.d.
sockaddr_in6 v6_address(const ilp::Endpoint &ep)
{
	sockaddr_in6 a{};
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(ep.port);
	if (ep.family == AF_INET6) {
		a.sin6_addr = ep.addr;
	} else {
		a.sin6_addr.s6_addr[10] = 0xff;
		a.sin6_addr.s6_addr[11] = 0xff;
		std::memcpy(&a.sin6_addr.s6_addr[12], ep.addr.s6_addr, 4);
	}
	return a;
}

using Socket = ilp::UniqueFd;

// Buffers of one direction's batch, allocated once.
struct Batch {
	explicit Batch(unsigned n) : buf(n * max_datagram), iov(n), addr(n), msgs(n)
	{
		for (unsigned i = 0; i < n; i++) {
			iov[i] = {buf.data() + i * max_datagram, max_datagram};
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &addr[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(addr[i]);
		}
	}
	std::vector<std::uint8_t> buf;
	std::vector<iovec> iov;
	std::vector<sockaddr_in6> addr;
	std::vector<mmsghdr> msgs;
};

int run(const Options &o)
{
	Socket sock(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (sock.get() < 0)
		throw ilp::Error(errno, std::string("socket: ") + std::strerror(errno));
	int off = 0, buf = 4 << 20;
	setsockopt(sock.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(sock.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	sockaddr_in6 any{};
	any.sin6_family = AF_INET6;
	any.sin6_port = htons(o.port);
	any.sin6_addr = in6addr_any;
	if (bind(sock.get(), reinterpret_cast<sockaddr *>(&any), sizeof(any)) < 0)
		throw ilp::Error(errno, "binding UDP port " + std::to_string(o.port) + ": " +
					    std::strerror(errno));
	const sockaddr_in6 to = o.to ? v6_address(*o.to) : sockaddr_in6{};

	Batch in(rx_batch), out(tx_batch);
	unsigned queued = 0;
	auto flush = [&] {
		for (unsigned first = 0; first < queued;) {
			int n = sendmmsg(sock.get(), out.msgs.data() + first, queued - first, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				first++; // as ilpd: that datagram is dropped
				continue;
			}
			first += static_cast<unsigned>(n);
		}
		queued = 0;
	};

	pollfd p{sock.get(), POLLIN, 0};
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			throw ilp::Error(errno, std::string("poll: ") + std::strerror(errno));
		}
		for (int round = 0; round < rx_rounds; round++) {
			for (auto &m : in.msgs)
				m.msg_hdr.msg_namelen = sizeof(sockaddr_in6);
			int n =
			    recvmmsg(sock.get(), in.msgs.data(), rx_batch, MSG_DONTWAIT, nullptr);
			if (n <= 0)
				break;
			for (int i = 0; i < n; i++) {
				std::size_t len = in.msgs[i].msg_len;
				std::memcpy(out.iov[queued].iov_base, in.iov[i].iov_base, len);
				out.iov[queued].iov_len = len;
				out.addr[queued] = o.echo ? in.addr[i] : to;
				out.msgs[queued].msg_hdr.msg_namelen = sizeof(sockaddr_in6);
				if (++queued == tx_batch)
					flush();
			}
			flush();
			if (n < static_cast<int>(rx_batch))
				break;
		}
	}
}

} // namespace

int main(int argc, char **argv)
{
	try {
		return run(parse_args(argc, argv));
	} catch (const UsageError &e) {
		std::fprintf(stderr, "udp_forward: %s\n%s", e.what(), usage_text);
		return 2;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "udp_forward: %s\n", e.what());
		return 1;
	}
}

// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilp_rtt - what an application sees of a path through SNs: the round
// trip of a new connection's first packet (the misses, the services and
// their lookups at every SN on the way), that of a decided connection
// (cache hits), and the rate a decided connection sustains.  Against an
// echo server (ilp_app_tool chat --echo) at HOST, over whichever
// transport libilp picks (AF_ILP with the module):
//
//	ilp_rtt SERVICE/CONN@HOST FIRSTS PINGS BURST
//	ilp_rtt echo SERVICE
//
// FIRSTS new connections, CONN to CONN + FIRSTS - 1, one at a time, each
// one packet and its echo; then on connection CONN + FIRSTS, PINGS round
// trips one after another; then BURST packets with at most 32 in flight.
// Prints
//	first_rtt_us MEDIAN P90 lost N
//	steady_rtt_us MEDIAN P90 lost N
//	rate_pps R lost N
// A packet whose echo is not back within 2 s is lost.  "echo" is the
// server: bound to every connection of SERVICE, it sends each packet back
// to its sender with "echo:" before it, and prints nothing, so that it is
// not what bounds the rate.  Part of the VM benchmark of p2p
// (bench/vm/p2p_bench.sh); not a test.
#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <ilp/error.hpp>
#include <ilp/number.hpp>
#include <ilp/socket.hpp>

namespace
{

using Clock = std::chrono::steady_clock;
constexpr auto kLost = std::chrono::seconds(2);
constexpr unsigned kWindow = 32;

// Waits for the echo of @text on @s: the round trip, or nothing.
std::optional<std::chrono::microseconds> round_trip(ilp::Socket &s, const std::string &text)
{
	std::array<std::byte, 2048> buf;
	auto start = Clock::now();
	s.send(std::as_bytes(std::span(text)));
	for (;;) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(start + kLost -
										  Clock::now());
		pollfd p{s.fd(), POLLIN, 0};
		if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
			return std::nullopt;
		auto got = s.receive(buf);
		if (std::string(reinterpret_cast<const char *>(buf.data()), got.size) ==
		    "echo:" + text)
			return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
										     start);
	}
}

void print(const char *what, std::vector<std::chrono::microseconds> v, unsigned lost)
{
	std::sort(v.begin(), v.end());
	auto at = [&](double q) {
		return v.empty()
			   ? 0LL
			   : static_cast<long long>(
				 v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]
				     .count());
	};
	std::printf("%s %lld %lld lost %u\n", what, at(0.5), at(0.9), lost);
}

int run(const ilp::Address &first, unsigned firsts, unsigned pings, unsigned burst)
{
	std::vector<std::chrono::microseconds> rtts;
	unsigned lost = 0;
	for (unsigned i = 0; i < firsts; i++) {
		ilp::Socket s;
		ilp::Address to = first;
		to.conn = first.conn + i;
		s.bind(to.service, to.conn);
		s.connect(to);
		if (auto r = round_trip(s, "f" + std::to_string(i)))
			rtts.push_back(*r);
		else
			lost++;
	}
	print("first_rtt_us", rtts, lost);

	ilp::Socket s;
	ilp::Address to = first;
	to.conn = first.conn + firsts;
	s.bind(to.service, to.conn);
	s.connect(to);
	for (unsigned i = 0; i < 5; i++)
		round_trip(s, "w" + std::to_string(i)); // decided everywhere
	rtts.clear();
	lost = 0;
	for (unsigned i = 0; i < pings; i++) {
		if (auto r = round_trip(s, "p" + std::to_string(i)))
			rtts.push_back(*r);
		else
			lost++;
	}
	print("steady_rtt_us", rtts, lost);

	// The burst: a window of kWindow in flight, topped up as echoes come.
	std::array<std::byte, 2048> buf;
	const std::string one = "b";
	unsigned sent = 0, back = 0;
	auto start = Clock::now(), last = start;
	while (back < burst) {
		while (sent < burst && sent - back < kWindow) {
			s.send(std::as_bytes(std::span(one)));
			sent++;
		}
		pollfd p{s.fd(), POLLIN, 0};
		if (::poll(&p, 1, static_cast<int>(kLost.count() * 1000)) <= 0)
			break; // the rest are lost
		s.receive(buf);
		back++;
		last = Clock::now();
	}
	auto secs = std::chrono::duration<double>(last - start).count();
	std::printf("rate_pps %.0f lost %u\n", secs > 0 ? back / secs : 0.0, burst - back);
	return 0;
}

[[noreturn]] void echo(std::uint32_t service)
{
	ilp::Socket s;
	s.bind(service, ILP_CONN_ANY);
	std::printf("bound %u\n", service);
	std::fflush(stdout);
	std::array<std::byte, 2048> buf;
	std::vector<std::byte> out;
	const auto prefix = std::as_bytes(std::span(std::string_view("echo:")));
	for (;;) {
		auto got = s.receive(buf);
		out.assign(prefix.begin(), prefix.end());
		out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(got.size));
		s.send_to(got.from, out);
	}
}

} // namespace

int main(int argc, char **argv)
{
	try {
		if (argc == 3 && std::string_view(argv[1]) == "echo") {
			auto service = ilp::parse_uint<std::uint32_t>(argv[2]);
			if (!service || !*service)
				throw ilp::Error(EINVAL, "echo takes a service ID");
			echo(*service);
		}
		if (argc != 5)
			throw ilp::Error(
			    EINVAL,
			    "usage: ilp_rtt SERVICE/CONN@HOST FIRSTS PINGS BURST | echo SERVICE");
		auto firsts = ilp::parse_uint<std::uint32_t>(argv[2]);
		auto pings = ilp::parse_uint<std::uint32_t>(argv[3]);
		auto burst = ilp::parse_uint<std::uint32_t>(argv[4]);
		if (!firsts || !pings || !burst || !*pings || !*burst)
			throw ilp::Error(EINVAL, "FIRSTS, PINGS and BURST are numbers, PINGS and "
						 "BURST from 1");
		return run(ilp::Address::parse(argv[1]), *firsts, *pings, *burst);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ilp_rtt: %s\n", e.what());
		return 1;
	}
}

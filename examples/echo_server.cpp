// SPDX-License-Identifier: LGPL-2.1-or-later
//
// echo_server - sends every packet of an ILP service back to its sender
//
//	echo_server SERVICE [--count N]
//
// Binds to every connection of SERVICE and, for each packet, prints
//	from SERVICE/CONN@HOST:PORT[ via SN:PORT]: B bytes, T TLVs
// (T: the packet's metadata, ILP's own TLVs included) and sends the payload
// back to the sender, the way it came.  Runs until killed, or until N
// packets with --count.  Exit status 1 when it cannot bind, 2 for a
// command line that does not parse.
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ilp/error.hpp>
#include <ilp/socket.hpp>

namespace
{

const char usage[] = "usage: echo_server SERVICE [--count N]\n";

template <typename T>
std::optional<T> number(std::string_view s)
{
	T v{};
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		return std::nullopt;
	return v;
}

} // namespace

int main(int argc, char **argv)
{
	std::optional<std::uint32_t> service;
	unsigned long count = 0; // 0: no limit
	for (int i = 1; i < argc; i++) {
		std::string_view arg = argv[i];
		if (arg == "-h" || arg == "--help") {
			std::fputs(usage, stdout);
			return 0;
		}
		if (arg == "--count" && i + 1 < argc) {
			auto n = number<unsigned long>(argv[++i]);
			if (!n || !*n) {
				std::fprintf(stderr,
					     "echo_server: --count takes a number from 1\n");
				return 2;
			}
			count = *n;
		} else if (!service && !arg.starts_with("-")) {
			service = number<std::uint32_t>(arg);
			if (!service || !*service || *service == UINT32_MAX) {
				std::fprintf(stderr, "echo_server: SERVICE must be a number from 1 "
						     "to 4294967294\n");
				return 2;
			}
		} else {
			std::fputs(usage, stderr);
			return 2;
		}
	}
	if (!service) {
		std::fputs(usage, stderr);
		return 2;
	}

	try {
		ilp::Socket sock;
		sock.bind(*service); // every connection of the service
		sock.set_receive_metadata(true);
		std::printf("listening on service %u\n", *service);
		std::fflush(stdout);
		std::vector<std::byte> buf(65536); // the largest payload fits
		for (unsigned long n = 0; !count || n < count; n++) {
			auto r = sock.receive(buf);
			std::printf("from %s: %zu bytes, %zu TLVs\n", r.from.to_string().c_str(),
				    r.size, r.metadata ? r.metadata->count() : 0);
			std::fflush(stdout);
			try {
				sock.send_to(r.from, std::span(buf).first(r.size));
			} catch (const ilp::Error &e) {
				// One sender we cannot answer is no reason to stop.
				std::fprintf(stderr, "echo_server: %s\n", e.what());
			}
		}
	} catch (const std::system_error &e) {
		std::fprintf(stderr, "echo_server: %s\n", e.what());
		return 1;
	}
	return 0;
}

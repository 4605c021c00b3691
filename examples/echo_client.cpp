// SPDX-License-Identifier: LGPL-2.1-or-later
//
// echo_client - pings an echo_server over ILP
//
//	echo_client SERVICE HOST[:PORT] [--sn SN[:PORT]] [--count N]
//		    [--metadata TYPE=TEXT]...
//
// Connects to SERVICE on HOST (through SN, else through this host's
// association), sends N (default 3) packets "ping 1", "ping 2"..., each
// with the TLVs of --metadata (TYPE a number from 0x0100 to 0xffff, TEXT
// its value) as the socket's metadata, and waits up to 5 s for each echo.
// Prints "echoed K/N" and exits 0 only when every echo came back intact;
// 1 otherwise or when it cannot send, 2 for a command line that does not
// parse.
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ilp/error.hpp>
#include <ilp/socket.hpp>

namespace
{

const char usage[] = "usage: echo_client SERVICE HOST[:PORT] [--sn SN[:PORT]] [--count N]\n"
		     "                   [--metadata TYPE=TEXT]...\n";
constexpr auto echo_timeout = std::chrono::seconds(5);

struct UsageError {
	std::string message;
};

// A number, decimal or hexadecimal with "0x".
template <typename T>
T number(const char *what, std::string_view s)
{
	int base = 10;
	if (s.starts_with("0x")) {
		s.remove_prefix(2);
		base = 16;
	}
	T v{};
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size())
		throw UsageError{std::string(what) + " takes a number, not '" + std::string(s) +
				 "'"};
	return v;
}

struct Options {
	ilp::Address to;
	unsigned long count = 3;
	ilp::Metadata metadata;
};

Options parse_args(int argc, char **argv)
{
	Options o;
	std::vector<std::string_view> args;
	for (int i = 1; i < argc; i++) {
		std::string_view arg = argv[i];
		if (arg == "-h" || arg == "--help") {
			std::fputs(usage, stdout);
			std::exit(0);
		}
		if (!arg.starts_with("--")) {
			args.push_back(arg);
			continue;
		}
		if (i + 1 == argc)
			throw UsageError{std::string(arg) + " needs a value"};
		std::string_view value = argv[++i];
		try {
			if (arg == "--sn") {
				o.to.sn = ilp::Endpoint::parse(value);
			} else if (arg == "--count") {
				o.count = number<unsigned long>("--count", value);
				if (!o.count)
					throw UsageError{"--count must be at least 1"};
			} else if (arg == "--metadata") {
				auto eq = value.find('=');
				if (eq == std::string_view::npos)
					throw UsageError{"--metadata takes TYPE=TEXT"};
				o.metadata.add_string(
				    number<std::uint16_t>("--metadata TYPE", value.substr(0, eq)),
				    value.substr(eq + 1));
			} else {
				throw UsageError{"unknown option '" + std::string(arg) + "'"};
			}
		} catch (const ilp::Error &e) {
			throw UsageError{std::string(arg) + ": " + e.what()};
		}
	}
	if (args.size() != 2)
		throw UsageError{};
	o.to.service = number<std::uint32_t>("SERVICE", args[0]);
	if (!o.to.service || o.to.service == UINT32_MAX)
		throw UsageError{"SERVICE must be a number from 1 to 4294967294"};
	try {
		o.to.host = ilp::Endpoint::parse(args[1]);
	} catch (const ilp::Error &e) {
		throw UsageError{e.what()};
	}
	return o;
}

// Whether @got is "ping J" for a J before @i.
bool earlier_ping(const std::string &got, unsigned long i)
{
	unsigned long j = 0;
	auto digits = std::string_view(got).substr(std::min<std::size_t>(got.size(), 5));
	std::from_chars(digits.data(), digits.data() + digits.size(), j);
	return j >= 1 && j < i && got == "ping " + std::to_string(j);
}

// Waits for the echo of "ping @i": true when it came back intact.
bool await_echo(ilp::Socket &sock, unsigned long i)
{
	const std::string expected = "ping " + std::to_string(i);
	auto deadline = std::chrono::steady_clock::now() + echo_timeout;
	std::vector<std::byte> buf(65536);
	for (;;) {
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		    deadline - std::chrono::steady_clock::now());
		pollfd p{sock.fd(), POLLIN, 0};
		int ready = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
		if (ready == 0) {
			std::printf("%s: no echo within 5 s\n", expected.c_str());
			return false;
		}
		auto r = sock.try_receive(buf, MSG_DONTWAIT);
		if (!r)
			continue; // a signal, or nothing after all
		std::string got(reinterpret_cast<const char *>(buf.data()), r->size);
		if (got == expected && !r->truncated) {
			std::printf("%s: echoed by %s\n", expected.c_str(),
				    r->from.to_string().c_str());
			return true;
		}
		// The late echo of an earlier ping: not this one's.
		if (earlier_ping(got, i))
			continue;
		std::printf("%s: the echo differs: '%s'\n", expected.c_str(), got.c_str());
		return false;
	}
}

} // namespace

int main(int argc, char **argv)
{
	Options o;
	try {
		o = parse_args(argc, argv);
	} catch (const UsageError &e) {
		if (e.message.empty())
			std::fputs(usage, stderr);
		else
			std::fprintf(stderr, "echo_client: %s\n", e.message.c_str());
		return 2;
	}

	unsigned long echoed = 0;
	try {
		ilp::Socket sock;
		if (!o.metadata.empty())
			sock.set_metadata(o.metadata); // sent with every packet
		sock.connect(o.to);
		std::printf("%s -> %s\n", sock.local_address().to_string().c_str(),
			    sock.peer_address().to_string().c_str());
		for (unsigned long i = 1; i <= o.count; i++) {
			std::string ping = "ping " + std::to_string(i);
			sock.send(std::as_bytes(std::span(ping)));
			echoed += await_echo(sock, i);
		}
	} catch (const std::system_error &e) {
		std::fprintf(stderr, "echo_client: %s\n", e.what());
		return 1;
	}
	std::printf("echoed %lu/%lu\n", echoed, o.count);
	return echoed == o.count ? 0 : 1;
}

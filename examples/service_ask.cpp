// SPDX-License-Identifier: LGPL-2.1-or-later
//
// service_ask - asks a service module a question out of band
//
//	service_ask SERVICE [REQUEST] [--sn SN] [--local]
//
// Sends REQUEST (text; none: empty) to the module of SERVICE on this
// host's first-hop SN (or on SN, or with --local on this node), through
// the local ilpd and its control channel, with ilp::control_service().
// Prints "status N" and, on the next line, the module's answer.  Exits 0
// when the module answered with status 0, 3 when it answered with another
// status, 1 when no answer came (no ilpd, no association, timeout), 2 for
// a command line that does not parse.  The relay that ilpd ships (service
// 8) answers "status" with its counts.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <ilp/error.hpp>
#include <ilp/service_control.hpp>

namespace
{

const char usage[] = "usage: service_ask SERVICE [REQUEST] [--sn SN] [--local]\n";

struct UsageError {
	std::string message;
};

struct Options {
	std::uint32_t service = 0;
	std::string request;
	ilp::ControlTarget to;
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
		} else if (arg == "--local") {
			o.to.local = true;
		} else if (arg == "--sn") {
			if (i + 1 == argc)
				throw UsageError{"--sn needs an address"};
			try {
				o.to.sn = ilp::Endpoint::parse(argv[++i]);
			} catch (const std::exception &e) {
				throw UsageError{std::string("--sn: ") + e.what()};
			}
		} else if (arg.starts_with("--")) {
			throw UsageError{"unknown option " + std::string(arg)};
		} else {
			args.push_back(arg);
		}
	}
	if (args.empty() || args.size() > 2)
		throw UsageError{""};
	unsigned long long v = 0;
	auto [end, ec] = std::from_chars(args[0].data(), args[0].data() + args[0].size(), v);
	if (ec != std::errc() || end != args[0].data() + args[0].size() || v == 0 ||
	    v >= 0xffffffffull)
		throw UsageError{"SERVICE must be a number from 1 to 4294967294"};
	o.service = static_cast<std::uint32_t>(v);
	if (args.size() == 2)
		o.request = args[1];
	if (o.to.local && o.to.sn)
		throw UsageError{"--local and --sn name different modules: one of them"};
	return o;
}

} // namespace

int main(int argc, char **argv)
{
	Options o;
	try {
		o = parse_args(argc, argv);
	} catch (const UsageError &e) {
		if (!e.message.empty())
			std::fprintf(stderr, "service_ask: %s\n", e.message.c_str());
		std::fputs(usage, stderr);
		return 2;
	}
	try {
		std::vector<std::uint8_t> request(o.request.begin(), o.request.end());
		auto a = ilp::control_service(o.service, request, o.to);
		std::printf("status %d\n%.*s\n", a.status, static_cast<int>(a.body.size()),
			    reinterpret_cast<const char *>(a.body.data()));
		return a.status ? 3 : 0;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "service_ask: %s\n", e.what());
		return 1;
	}
}

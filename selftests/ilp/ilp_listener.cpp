// SPDX-License-Identifier: GPL-2.0
/*
 * ilp_listener - the namespace's upcall listener, with one fixed decision,
 * for the selftests
 *
 *   ilp_listener [--forward ADDR[:PORT]]... [--drop] [--to-dst-host]
 *		  [--install] [--delay-ms N] [--count N] [--rcvbuf BYTES] [--quiet]
 *
 * Registers as the listener (ILP_CMD_LISTEN), prints "listening" once it
 * is, then for each packet the kernel sends up: waits N ms when --delay-ms
 * says so (a slow listener), prints
 *	upcall service S conn C prev ADDR:PORT len L
 * (L: payload bytes after the ILP header, as "ilp_send --listen" counts
 * them; no line with --quiet), and has the kernel execute the decision
 * (ILP_CMD_EXECUTE): forward a copy to each --forward peer (port default
 * 1000), or drop with --drop (ILP_ACT_A_DROP); with neither, no action at
 * all (which drops too).  --to-dst-host forwards instead to the host that
 * the packet's ILP_TLV_DST_HOST names (drops without one), as a relay
 * serving AF_ILP hosts would.  --install also puts the decision in the cache
 * for the packet's flow.  An EXECUTE the kernel refuses is printed on
 * stderr and counted, and the listener goes on.
 *
 * Exits 0 after --count upcalls (default: no limit), or on SIGTERM or
 * SIGINT, printing "handled N" (upcalls executed or refused) and then
 * "errors E overruns O" (EXECUTEs refused; times the socket's receive
 * buffer overflowed, --rcvbuf setting its size).  Exit status 1 when it
 * cannot register, 2 for a command line that does not parse.
 */
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <linux/ilp.h>

#include <ilp/control.hpp>
#include <ilp/endpoint.hpp>
#include <ilp/error.hpp>
#include <ilp/listener.hpp>
#include <ilp/number.hpp>
#include <ilp_wire.h>

namespace
{

struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

struct Options {
	ilp::Actions actions;
	bool install = false;
	bool to_dst_host = false;
	unsigned delay_ms = 0;
	unsigned long count = 0; // 0: no limit
	int rcvbuf = 0;
	bool quiet = false;
};

const char usage_text[] =
    "usage: ilp_listener [--forward ADDR[:PORT]]... [--drop] [--to-dst-host] [--install]\n"
    "                    [--delay-ms N] [--count N] [--rcvbuf BYTES] [--quiet]\n";

// How long to wait for upcalls between looks at the signal flag.
constexpr int poll_ms = 100;
// Upcalls read at once.
constexpr std::size_t batch = 64;

volatile std::sig_atomic_t stop = 0;

void on_signal(int)
{
	stop = 1;
}

template <typename T>
T number(const std::string &opt, std::string_view s)
{
	if (auto v = ilp::parse_uint<T>(s))
		return *v;
	throw UsageError(opt + " takes a number, not '" + std::string(s) + "'");
}

Options parse_args(int argc, char **argv)
{
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string opt = argv[i];
		if (opt == "-h" || opt == "--help") {
			std::fputs(usage_text, stdout);
			std::exit(0);
		}
		if (opt == "--drop") {
			o.actions.drop = true;
			continue;
		}
		if (opt == "--to-dst-host") {
			o.to_dst_host = true;
			continue;
		}
		if (opt == "--install") {
			o.install = true;
			continue;
		}
		if (opt == "--quiet") {
			o.quiet = true;
			continue;
		}
		if (opt != "--forward" && opt != "--delay-ms" && opt != "--count" &&
		    opt != "--rcvbuf")
			throw UsageError("unknown option '" + opt + "'");
		if (i + 1 == argc)
			throw UsageError(opt + " needs a value");
		std::string value = argv[++i];
		if (opt == "--forward") {
			try {
				o.actions.forward.push_back(ilp::Endpoint::parse(value));
			} catch (const ilp::Error &e) {
				throw UsageError("--forward: " + std::string(e.what()));
			}
		} else if (opt == "--delay-ms") {
			o.delay_ms = number<unsigned>(opt, value);
		} else if (opt == "--count") {
			o.count = number<unsigned long>(opt, value);
			if (!o.count)
				throw UsageError("--count must be at least 1");
		} else {
			o.rcvbuf = number<int>(opt, value);
			if (o.rcvbuf <= 0)
				throw UsageError("--rcvbuf must be at least 1");
		}
	}
	if (o.actions.drop && !o.actions.forward.empty())
		throw UsageError("--forward and --drop do not go together");
	if (o.actions.forward.size() > ILP_MAX_FORWARD)
		throw UsageError("at most " + std::to_string(ILP_MAX_FORWARD) + " --forward");
	return o;
}

// Forward to the ILP_TLV_DST_HOST of @data, or drop.
ilp::Actions dst_host_actions(const std::vector<std::uint8_t> &data)
{
	ilp::Actions a;
	ilpw_hdr hdr;
	if (ilpw_hdr_parse(data.data(), data.size(), &hdr, nullptr, nullptr))
		return a;
	ilpw_tlv_iter it;
	ilpw_tlv t;
	ilpw_tlv_iter_init(&it, &hdr);
	while (ilpw_tlv_next(&it, &t) > 0) {
		if (t.type != ILP_TLV_DST_HOST || (t.len != 6 && t.len != 18))
			continue;
		std::uint16_t port =
		    static_cast<std::uint16_t>(t.val[t.len - 2] << 8 | t.val[t.len - 1]);
		a.forward.push_back(ilp::Endpoint::from_bytes({t.val, t.len - 2u}, port));
		break;
	}
	return a;
}

// Sleeps @ms, or less when a signal asks us to stop.
void sleep_ms(unsigned ms)
{
	timespec ts{static_cast<std::time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop) {
	}
}

// The payload bytes after the ILP header; all of @data if it does not
// parse (the kernel parsed it before sending it up).
std::size_t payload_len(const std::vector<std::uint8_t> &data)
{
	ilpw_hdr hdr;
	if (ilpw_hdr_parse(data.data(), data.size(), &hdr, nullptr, nullptr))
		return data.size();
	return data.size() - hdr.hdr_len;
}

void set_signals()
{
	struct sigaction sa = {};
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; // no SA_RESTART: a signal ends the wait for upcalls
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);
}

int run(const Options &o)
{
	set_signals();
	ilp::Listener listener(o.rcvbuf);
	ilp::Control ctl;
	std::printf("listening\n");
	std::fflush(stdout);

	unsigned long handled = 0;
	unsigned long errors = 0;
	while (!stop && (!o.count || handled < o.count)) {
		std::size_t max = batch;
		if (o.count && o.count - handled < max)
			max = o.count - handled;
		for (const auto &up : listener.next_batch(poll_ms, max)) {
			if (stop)
				break;
			if (!o.quiet) {
				std::printf("upcall service %u conn %llu prev %s len %zu\n",
					    up.service, static_cast<unsigned long long>(up.conn),
					    up.prev.to_string().c_str(), payload_len(up.data));
				std::fflush(stdout);
			}
			if (o.delay_ms)
				sleep_ms(o.delay_ms);
			try {
				ctl.execute(up,
					    o.to_dst_host ? dst_host_actions(up.data) : o.actions,
					    o.install);
			} catch (const std::exception &e) {
				errors++;
				std::fprintf(stderr, "ilp_listener: %s\n", e.what());
			}
			handled++;
		}
	}
	std::printf("handled %lu\nerrors %lu overruns %llu\n", handled, errors,
		    static_cast<unsigned long long>(listener.overruns()));
	std::fflush(stdout);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	try {
		return run(parse_args(argc, argv));
	} catch (const UsageError &e) {
		std::fprintf(stderr, "ilp_listener: %s\n%s", e.what(), usage_text);
		return 2;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ilp_listener: %s\n", e.what());
		return 1;
	}
}

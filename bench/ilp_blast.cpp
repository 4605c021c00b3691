// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ilp_blast - the packet generator of the forwarding benchmarks
 * (bench/vm/forward_bench.sh, bench/native/run.sh): as many UDP datagrams
 * as one thread can send, for a given time.
 *
 *   ilp_blast --to ADDR[:PORT] --seconds S [--size BYTES]
 *	       [--spi SPI --version 0|1 --keyfile FILE]
 *	       [--service S] [--conn C] [--conn-range R] [--src-port P]
 *	       [--from ADDR] [--ring N] [--batch B] [--rate PPS]
 *	       [--warmup W] [--sink ADDR:PORT | --replies] [--linger L]
 *
 * With an SA (--spi, --version, --keyfile: the SA key file as "ilpctl sa
 * alloc" prints it), builds a ring of N packets (default 4096) before it
 * starts: each an ILP header for service S (default 1) and connection
 * C + i % R (defaults C 1, R 1), BYTES of payload (default 200), sealed
 * with PSP.  Without an SA, the ring holds plain UDP payloads of BYTES.
 * Then replays the ring with sendmmsg(2), B datagrams a call (default 64),
 * for S seconds, to ADDR:PORT (port default 1000) from UDP port P (else an
 * ephemeral one) of address --from (else any), as fast as it can or, with
 * --rate, at PPS packets a second (in batches of about a millisecond's
 * worth), and prints
 *
 *	sent N packets in S s (R packets/s)
 *
 * and, when some calls failed (ENOBUFS, ICMP errors reported on the
 * socket), "errors E".  With --warmup, it sends for W seconds first and
 * counts only the S seconds after them.
 *
 * It can be the sink too, so that what arrives is counted over the very
 * window the sending is: --sink binds a UDP socket at ADDR:PORT, --replies
 * takes what comes back to the sending socket (from a node that returns
 * packets to their sender), and a thread of its own counts the datagrams
 * arriving there during the window (and for L more seconds with --linger,
 * for packets still on their way):
 *
 *	received N packets in S s (R packets/s)
 *	total sent N received M
 *
 * the last line over the whole run, warm-up and linger included, to
 * compare with the forwarder's own counters.
 * The receiving thread only counts: it neither opens nor checks what it
 * gets.  Nothing is sealed, allocated or copied
 *per packet in the loop: what it measures downstream is the forwarding, not this generator's
 *crypto.  The replayed packets repeat their PSP IVs, which a real sender must never do; PSP
 *receivers have no replay check (docs/protocol.md), so they authenticate.
 *
 * Exit status 2 for a command line that does not parse, 1 on other errors.
 */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <ilp/endpoint.hpp>
#include <ilp/error.hpp>
#include <ilp/number.hpp>
#include <ilp/psp.hpp>
#include <ilp/unique_fd.hpp>
#include <ilp_wire.h>

#include <ilp/key_files.hpp>

namespace
{

namespace psp = ilp::psp;

struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

struct Options {
	std::optional<ilp::Endpoint> to;
	double seconds = 0;
	std::size_t size = 200;
	std::optional<std::uint32_t> spi;
	std::optional<psp::Version> version;
	std::string keyfile;
	std::uint32_t service = 1;
	std::uint64_t conn = 1;
	std::uint64_t conn_range = 1;
	std::optional<std::uint16_t> src_port;
	std::size_t ring = 4096;
	unsigned batch = 64;
	double rate = 0; // packets/s; 0: as fast as possible
	std::optional<ilp::Endpoint> from;
	double warmup = 0;
	double linger = 0;
	std::optional<ilp::Endpoint> sink;
	bool replies = false;
};

constexpr std::size_t max_datagram = 65507;
// sendmmsg(2) takes at most UIO_MAXIOV messages a call.
constexpr unsigned max_batch = 1024;

const char usage_text[] =
    "usage: ilp_blast --to ADDR[:PORT] --seconds S [--size BYTES]\n"
    "                 [--spi SPI --version 0|1 --keyfile FILE]\n"
    "                 [--service S] [--conn C] [--conn-range R] [--src-port P]\n"
    "                 [--from ADDR] [--ring N] [--batch B] [--rate PPS]\n"
    "                 [--warmup W] [--sink ADDR:PORT | --replies] [--linger L]\n";

template <typename T>
T number(const std::string &opt, std::string_view s)
{
	if (auto v = ilp::parse_uint<T>(s))
		return *v;
	throw UsageError(opt + " takes a number (decimal or 0x...), not '" + std::string(s) + "'");
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
		if (opt == "--replies") {
			o.replies = true;
			continue;
		}
		if (i + 1 == argc)
			throw UsageError(opt.starts_with("--") ? opt + " needs a value"
							       : "unknown argument '" + opt + "'");
		std::string value = argv[++i];
		if (opt == "--to") {
			try {
				o.to = ilp::Endpoint::parse(value);
			} catch (const ilp::Error &e) {
				throw UsageError(std::string("--to: ") + e.what());
			}
		} else if (opt == "--seconds") {
			char *end = nullptr;
			o.seconds = std::strtod(value.c_str(), &end);
			if (value.empty() || *end || !std::isfinite(o.seconds) || o.seconds <= 0)
				throw UsageError("--seconds takes a positive number, not '" +
						 value + "'");
		} else if (opt == "--warmup" || opt == "--linger") {
			char *end = nullptr;
			double v = std::strtod(value.c_str(), &end);
			if (value.empty() || *end || !std::isfinite(v) || v < 0)
				throw UsageError(opt + " takes seconds, not '" + value + "'");
			(opt == "--warmup" ? o.warmup : o.linger) = v;
		} else if (opt == "--from" || opt == "--sink") {
			try {
				(opt == "--from" ? o.from : o.sink) = ilp::Endpoint::parse(value);
			} catch (const ilp::Error &e) {
				throw UsageError(opt + ": " + e.what());
			}
			if (opt == "--sink" && !o.sink->port)
				throw UsageError("--sink needs a port");
		} else if (opt == "--rate") {
			char *end = nullptr;
			o.rate = std::strtod(value.c_str(), &end);
			if (value.empty() || *end || !std::isfinite(o.rate) || o.rate < 0)
				throw UsageError("--rate takes packets per second, not '" + value +
						 "'");
		} else if (opt == "--size") {
			o.size = number<std::size_t>(opt, value);
		} else if (opt == "--spi") {
			auto spi = number<std::uint32_t>(opt, value);
			if (!(spi & 0x7fffffffu))
				throw UsageError("--spi: the low 31 bits must not be all 0");
			o.spi = spi;
		} else if (opt == "--version") {
			if (value == "0")
				o.version = psp::Version::AesGcm128;
			else if (value == "1")
				o.version = psp::Version::AesGcm256;
			else
				throw UsageError("--version takes 0 or 1, not '" + value + "'");
		} else if (opt == "--keyfile") {
			o.keyfile = value;
		} else if (opt == "--service") {
			o.service = number<std::uint32_t>(opt, value);
		} else if (opt == "--conn") {
			o.conn = number<std::uint64_t>(opt, value);
		} else if (opt == "--conn-range") {
			o.conn_range = number<std::uint64_t>(opt, value);
			if (!o.conn_range)
				throw UsageError("--conn-range must be at least 1");
		} else if (opt == "--src-port") {
			o.src_port = number<std::uint16_t>(opt, value);
			if (!*o.src_port)
				throw UsageError("--src-port takes a UDP port, 1 to 65535");
		} else if (opt == "--ring") {
			o.ring = number<std::size_t>(opt, value);
			if (!o.ring || o.ring > (1u << 20))
				throw UsageError("--ring takes 1 to 1048576 packets");
		} else if (opt == "--batch") {
			o.batch = number<unsigned>(opt, value);
			if (!o.batch || o.batch > max_batch)
				throw UsageError("--batch takes 1 to " + std::to_string(max_batch));
		} else {
			throw UsageError("unknown option '" + opt + "'");
		}
	}
	if (!o.to)
		throw UsageError("--to is required");
	if (o.seconds <= 0)
		throw UsageError("--seconds is required");
	bool any_sa = o.spi || o.version || !o.keyfile.empty();
	if (any_sa && (!o.spi || !o.version || o.keyfile.empty()))
		throw UsageError("an SA takes all of --spi, --version and --keyfile");
	if (!any_sa && o.conn_range > 1)
		throw UsageError("--conn-range needs an SA (plain UDP has no connections)");
	if (o.sink && o.replies)
		throw UsageError("--sink and --replies: one or the other");
	if (o.from && o.from->family != o.to->family)
		throw UsageError("--from and --to must be of one address family");
	return o;
}

socklen_t to_sockaddr(const ilp::Endpoint &ep, sockaddr_storage &ss)
{
	std::memset(&ss, 0, sizeof(ss));
	if (ep.family == AF_INET6) {
		auto *s6 = reinterpret_cast<sockaddr_in6 *>(&ss);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ep.port);
		s6->sin6_addr = ep.addr;
		return sizeof(*s6);
	}
	auto *s4 = reinterpret_cast<sockaddr_in *>(&ss);
	s4->sin_family = AF_INET;
	s4->sin_port = htons(ep.port);
	std::memcpy(&s4->sin_addr, ep.addr.s6_addr, 4);
	return sizeof(*s4);
}

using Socket = ilp::UniqueFd;

// A UDP socket bound to @at, with room for bursts.
Socket bound_socket(const ilp::Endpoint &at)
{
	Socket s(socket(at.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (s.get() < 0)
		throw ilp::Error(errno, std::string("socket: ") + std::strerror(errno));
	sockaddr_storage ss;
	socklen_t len = to_sockaddr(at, ss);
	if (bind(s.get(), reinterpret_cast<sockaddr *>(&ss), len) < 0)
		throw ilp::Error(errno, "binding " + at.to_string() + ": " + std::strerror(errno));
	return s;
}

// Counts, on a thread of its own, the datagrams that arrive on a socket
// (not owned), until it is destroyed.  Reads in batches, into buffers
// that are overwritten: only the count is kept.
class Counter
{
public:
	explicit Counter(int fd) : fd_(fd), slots_(batch * slot), iov_(batch), msgs_(batch)
	{
		int rcvbuf = 4 << 20;
		if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
			setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		// Blocking reads wake up at least this often to see @stop_.
		timeval tv{0, 100000};
		setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		for (std::size_t i = 0; i < batch; i++) {
			iov_[i] = {slots_.data() + i * slot, slot};
			msgs_[i].msg_hdr.msg_iov = &iov_[i];
			msgs_[i].msg_hdr.msg_iovlen = 1;
		}
		thread_ = std::thread([this] { loop(); });
	}
	Counter(const Counter &) = delete;
	Counter &operator=(const Counter &) = delete;
	~Counter()
	{
		stop_.store(true);
		thread_.join();
	}

	unsigned long long count() const noexcept { return count_.load(std::memory_order_relaxed); }

private:
	static constexpr std::size_t batch = 64;
	// Longer datagrams are truncated, and still counted.
	static constexpr std::size_t slot = 2048;

	void loop()
	{
		while (!stop_.load(std::memory_order_relaxed)) {
			int n = recvmmsg(fd_, msgs_.data(), batch, MSG_WAITFORONE, nullptr);
			// Errors (the timeout, an ICMP error queued on a
			// connected socket) count nothing; the loop goes on.
			if (n > 0)
				count_.fetch_add(static_cast<unsigned>(n),
						 std::memory_order_relaxed);
		}
	}

	int fd_;
	std::vector<std::uint8_t> slots_;
	std::vector<iovec> iov_;
	std::vector<mmsghdr> msgs_;
	std::atomic<bool> stop_{false};
	std::atomic<unsigned long long> count_{0};
	std::thread thread_;
};

// The datagrams to replay, back to back in one buffer: @count of them,
// @stride bytes apart, @len bytes each.
struct Ring {
	std::vector<std::uint8_t> buf;
	std::size_t count = 0;
	std::size_t stride = 0;
	std::size_t len = 0;
};

Ring sealed_ring(const Options &o)
{
	auto key = ilp::read_sa_key(o.keyfile);
	if (key.size != psp::key_size(*o.version))
		throw ilp::Error(EINVAL, o.keyfile + ": a " + std::to_string(key.size) +
					     "-byte key for PSP version " +
					     std::to_string(static_cast<int>(*o.version)));
	psp::TxSa tx(*o.spi, *o.version, key.bytes());
	std::vector<std::uint8_t> clear(ILPW_HDR_LEN + o.size);
	Ring r;
	r.count = o.ring;
	r.stride = tx.sealed_size(clear.size());
	if (r.stride > max_datagram)
		throw UsageError("--size " + std::to_string(o.size) +
				 " does not fit in a UDP datagram once sealed");
	r.buf.resize(r.count * r.stride);
	for (std::size_t i = 0; i < r.count; i++) {
		std::size_t hlen = 0;
		if (auto err = ilpw_hdr_build(clear.data(), clear.size(), 0, o.service,
					      o.conn + i % o.conn_range, nullptr, 0, &hlen))
			throw ilp::Error(EINVAL, std::string("building the ILP header: ") +
						     ilpw_strerror(err));
		for (std::size_t j = 0; j < o.size; j++)
			clear[hlen + j] = static_cast<std::uint8_t>(i + j);
		std::size_t len = 0;
		std::span<std::uint8_t> out(r.buf.data() + i * r.stride, r.stride);
		if (auto err = tx.seal(clear, out, len))
			throw ilp::Error(EIO, std::string("sealing: ") + ilpw_strerror(err));
		if (i && len != r.len)
			throw ilp::Error(EIO, "sealed packets of different lengths");
		r.len = len;
	}
	return r;
}

// Plain UDP: every slot of the ring points at the same payload.
Ring plain_ring(const Options &o)
{
	if (o.size > max_datagram)
		throw UsageError("--size " + std::to_string(o.size) +
				 " does not fit in a UDP datagram");
	Ring r;
	r.count = o.ring;
	r.stride = 0;
	r.len = o.size;
	r.buf.resize(std::max<std::size_t>(o.size, 1));
	for (std::size_t j = 0; j < o.size; j++)
		r.buf[j] = static_cast<std::uint8_t>(j);
	return r;
}

int run(const Options &o)
{
	Ring ring = o.spi ? sealed_ring(o) : plain_ring(o);

	sockaddr_storage dst;
	socklen_t dstlen = to_sockaddr(*o.to, dst);
	Socket sock(socket(o.to->family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (sock.get() < 0)
		throw ilp::Error(errno, std::string("socket: ") + std::strerror(errno));
	int sndbuf = 4 << 20;
	if (setsockopt(sock.get(), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(sock.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (o.src_port || o.from) {
		ilp::Endpoint any;
		any.family = o.to->family;
		if (o.from)
			any = *o.from;
		any.port = o.src_port.value_or(0);
		sockaddr_storage src;
		socklen_t srclen = to_sockaddr(any, src);
		int one = 1;
		setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(sock.get(), reinterpret_cast<sockaddr *>(&src), srclen) < 0)
			throw ilp::Error(errno, "binding " + any.to_string() + ": " +
						    std::strerror(errno));
	}
	// Connected: the route is looked up once, not per datagram.
	if (connect(sock.get(), reinterpret_cast<sockaddr *>(&dst), dstlen) < 0)
		throw ilp::Error(errno, "connecting to " + o.to->to_string() + ": " +
					    std::strerror(errno));

	// The sink: a socket of its own, or the sending one for replies.
	std::optional<Socket> sink_sock;
	std::optional<Counter> counter;
	if (o.sink) {
		sink_sock.emplace(bound_socket(*o.sink));
		counter.emplace(sink_sock->get());
	} else if (o.replies) {
		counter.emplace(sock.get());
	}

	// One message header per slot, built once.
	std::vector<iovec> iov(ring.count);
	std::vector<mmsghdr> msgs(ring.count);
	for (std::size_t i = 0; i < ring.count; i++) {
		iov[i].iov_base = ring.buf.data() + i * ring.stride;
		iov[i].iov_len = ring.len;
		msgs[i] = mmsghdr{};
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	// Paced: batches of a millisecond's worth, each leaving on schedule.
	unsigned batch = o.batch;
	if (o.rate > 0)
		batch = static_cast<unsigned>(std::clamp(o.rate / 1000, 1.0, double(o.batch)));

	using clock = std::chrono::steady_clock;
	auto seconds = [](double s) {
		return std::chrono::duration_cast<clock::duration>(
		    std::chrono::duration<double>(s));
	};
	const auto start = clock::now();
	const auto window = start + seconds(o.warmup);
	const auto deadline = window + seconds(o.seconds);
	unsigned long long sent = 0;
	unsigned long long errors = 0;
	// What had been sent and received when the window opened.
	std::optional<clock::time_point> opened;
	unsigned long long sent_before = 0, received_before = 0;
	std::size_t pos = 0;
	auto now = start;
	while (now < deadline) {
		if (!opened && now >= window) {
			opened = now;
			sent_before = sent;
			received_before = counter ? counter->count() : 0;
		}
		if (o.rate > 0) {
			auto due =
			    start + std::chrono::duration_cast<clock::duration>(
					std::chrono::duration<double>(double(sent) / o.rate));
			if (due > now) {
				std::this_thread::sleep_until(std::min(due, deadline));
				now = clock::now();
				if (now >= deadline)
					break;
			}
		}
		auto n = static_cast<unsigned>(std::min<std::size_t>(batch, ring.count - pos));
		int r = sendmmsg(sock.get(), &msgs[pos], n, 0);
		if (r < 0) {
			// A full queue, or an ICMP error (port unreachable...)
			// reported on the connected socket: go on.
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
			    errno != ECONNREFUSED && errno != EHOSTUNREACH && errno != ENETUNREACH)
				throw ilp::Error(errno, "sending to " + o.to->to_string() + ": " +
							    std::strerror(errno) + " (after " +
							    std::to_string(sent) + " sent)");
			errors++;
		} else {
			sent += static_cast<unsigned>(r);
			pos += static_cast<unsigned>(r);
			if (pos == ring.count)
				pos = 0;
		}
		now = clock::now();
	}
	if (!opened)
		opened = start; // a window shorter than one batch
	unsigned long long received = counter ? counter->count() : 0;
	if (counter && o.linger > 0) {
		std::this_thread::sleep_for(seconds(o.linger));
		received = counter->count();
	}
	double elapsed = std::chrono::duration<double>(now - *opened).count();
	const unsigned long long sent_total = sent;
	sent -= sent_before;
	std::printf("sent %llu packets in %.3f s (%.0f packets/s)\n", sent, elapsed,
		    static_cast<double>(sent) / elapsed);
	if (counter) {
		const unsigned long long received_total = received;
		received -= received_before;
		std::printf("received %llu packets in %.3f s (%.0f packets/s)\n", received, elapsed,
			    static_cast<double>(received) / elapsed);
		std::printf("total sent %llu received %llu\n", sent_total, received_total);
	}
	if (errors)
		std::printf("errors %llu\n", errors);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	try {
		return run(parse_args(argc, argv));
	} catch (const UsageError &e) {
		std::fprintf(stderr, "ilp_blast: %s\n%s", e.what(), usage_text);
		return 2;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ilp_blast: %s\n", e.what());
		return 1;
	}
}

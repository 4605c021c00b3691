// SPDX-License-Identifier: GPL-2.0
/*
 * ilp_send - craft ILP/PSP packets over UDP for the selftests, with libilp
 *
 *   ilp_send --to ADDR[:PORT] --spi SPI --version 0|1 --keyfile FILE
 *	    [--service S] [--conn C] [--conn-range R] [--count N]
 *	    [--interval-us U] [--size BYTES] [--mode MODE] [--src-port P] [--tos T]
 *	    [--quiet]
 *	Seal COUNT packets (default 1) under the transmit SA SPI/FILE and send
 *	them to ADDR:PORT (port default 1000), then print "sent N" (unless
 *	--quiet).  Each
 *	carries an ILP header for service S (default 1) and connection C
 *	(default 1) and BYTES of payload (default 64).  With --conn-range R the
 *	packets cycle through connections C, C+1, ..., C+R-1 (R flows); with
 *	--interval-us U they leave every U microseconds (a steady rate)
 *	instead of as fast as they can.  --src-port P sends from UDP port P
 *	(else an ephemeral port, a new one each run): the receiver's decision
 *	cache keys flows by the previous hop's address and port, so runs
 *	meant to be one flow need it.  FILE holds the SA key in hex, as
 *	"ilpctl sa alloc" prints it.  MODE says what to break:
 *	  valid		nothing (the default)
 *	  garbage	random bytes, as long as a valid packet
 *	  truncated	the first 10 bytes of a valid packet
 *	  tamper-icv	a bit of the ICV flipped
 *	  tamper-aad	a bit of the IV flipped (authenticated, not encrypted)
 *	  bad-version	PSP version set to 5 after sealing
 *	  no-key-slot	the SPI's top bit (master key slot) flipped after sealing
 *	  bad-next-header  PSP Next Header set to 17 after sealing
 *	  ilp-past-end	ILP Header Length past the end of the packet, sealed
 *			validly (so it authenticates)
 *	  bad-ilp-version  ILP version 1, sealed validly
 *
 *   ilp_send --listen PORT --master-keys FILE [--count N] [--timeout-ms T]
 *	    [--listen-count-only] [--quiet]
 *	Receive UDP datagrams on PORT (IPv4 and IPv6; 0 picks a free port,
 *	named on stderr) and open them as a node holding the master keys of
 *	FILE would, accepting any SPI.  Print one line per datagram:
 *	"ok service S conn C len L" (L: payload bytes after the ILP header) or
 *	"drop REASON" (the names of docs/protocol.md).  Exit 0 once COUNT
 *	datagrams (default 1) have arrived, 1 when T ms (default 5000) pass
 *	first.  With --listen-count-only, for many packets, print instead one
 *	line at the end, "received N ok M" (datagrams, and those that opened
 *	and parsed), whether COUNT arrived or the time ran out.  --quiet
 *	prints no line per datagram either.
 *
 *   ilp_send --derive-key --master-keys FILE --spi SPI --version 0|1
 *	Print the key of that SA in hex, as the receiver derives it: what
 *	"ilpctl sa alloc" must print for the same master key and SPI.
 *
 * Exit status 2 for a command line that does not parse.
 */
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

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

// A command line that does not parse: exit status 2.
struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

enum class Mode {
	Valid,
	Garbage,
	Truncated,
	TamperIcv,
	TamperAad,
	BadVersion,
	NoKeySlot,
	BadNextHeader,
	IlpPastEnd,
	BadIlpVersion,
};

struct ModeName {
	const char *name;
	Mode mode;
};

const ModeName modes[] = {
    {"valid", Mode::Valid},
    {"garbage", Mode::Garbage},
    {"truncated", Mode::Truncated},
    {"tamper-icv", Mode::TamperIcv},
    {"tamper-aad", Mode::TamperAad},
    {"bad-version", Mode::BadVersion},
    {"no-key-slot", Mode::NoKeySlot},
    {"bad-next-header", Mode::BadNextHeader},
    {"ilp-past-end", Mode::IlpPastEnd},
    {"bad-ilp-version", Mode::BadIlpVersion},
};

struct Options {
	// send
	std::optional<ilp::Endpoint> to;
	std::optional<std::uint32_t> spi;
	std::optional<psp::Version> version;
	std::string keyfile;
	std::uint32_t service = 1;
	std::uint64_t conn = 1;
	std::uint64_t conn_range = 1;
	unsigned long interval_us = 0;
	unsigned long count = 1;
	std::size_t size = 64;
	Mode mode = Mode::Valid;
	bool quiet = false;
	std::optional<std::uint16_t> src_port;
	// The outer DS field (IP_TOS / IPV6_TCLASS): DSCP and ECN, e.g. CE.
	std::optional<std::uint8_t> tos;
	// listen
	std::optional<std::uint16_t> listen;
	std::string master_keys;
	int timeout_ms = 5000;
	bool count_only = false;
	// derive
	bool derive = false;
};

constexpr std::size_t truncated_len = 10;
// The largest UDP payload over IPv4.
constexpr std::size_t max_datagram = 65507;

const char usage_text[] =
    "usage: ilp_send --to ADDR[:PORT] --spi SPI --version 0|1 --keyfile FILE\n"
    "                [--service S] [--conn C] [--conn-range R] [--count N]\n"
    "                [--interval-us U] [--size BYTES] [--mode MODE] [--src-port P]\n"
    "                [--tos T] [--quiet]\n"
    "       ilp_send --listen PORT --master-keys FILE [--count N] [--timeout-ms T]\n"
    "                [--listen-count-only] [--quiet]\n"
    "       ilp_send --derive-key --master-keys FILE --spi SPI --version 0|1\n"
    "MODE: valid garbage truncated tamper-icv tamper-aad bad-version no-key-slot\n"
    "      bad-next-header ilp-past-end bad-ilp-version\n";

using ilp::parse_uint;

template <typename T>
T number(const std::string &opt, const std::string &value)
{
	auto v = parse_uint<T>(value);
	if (!v)
		throw UsageError(opt + " takes a number (decimal or 0x...), not '" + value + "'");
	return *v;
}

Options parse_args(int argc, char **argv)
{
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string opt = argv[i];
		if (opt == "--derive-key") {
			o.derive = true;
			continue;
		}
		if (opt == "--listen-count-only") {
			o.count_only = true;
			continue;
		}
		if (opt == "--quiet") {
			o.quiet = true;
			continue;
		}
		if (opt == "-h" || opt == "--help") {
			std::fputs(usage_text, stdout);
			std::exit(0);
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
		} else if (opt == "--spi") {
			auto spi = parse_uint<std::uint32_t>(value);
			if (!spi || !(*spi & 0x7fffffffu))
				throw UsageError(
				    "--spi takes a 32-bit SPI whose low 31 bits are not "
				    "all 0, not '" +
				    value + "'");
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
		} else if (opt == "--interval-us") {
			o.interval_us = number<unsigned long>(opt, value);
		} else if (opt == "--count") {
			o.count = number<unsigned long>(opt, value);
			if (!o.count)
				throw UsageError("--count must be at least 1");
		} else if (opt == "--tos") {
			o.tos = number<std::uint8_t>(opt, value);
		} else if (opt == "--size") {
			o.size = number<std::size_t>(opt, value);
		} else if (opt == "--mode") {
			bool found = false;
			for (const auto &m : modes)
				if (value == m.name) {
					o.mode = m.mode;
					found = true;
				}
			if (!found)
				throw UsageError("unknown --mode '" + value + "'");
		} else if (opt == "--listen") {
			o.listen = number<std::uint16_t>(opt, value);
		} else if (opt == "--master-keys") {
			o.master_keys = value;
		} else if (opt == "--timeout-ms") {
			o.timeout_ms = number<int>(opt, value);
		} else {
			throw UsageError("unknown option '" + opt + "'");
		}
	}
	int actions = (o.to ? 1 : 0) + (o.listen ? 1 : 0) + (o.derive ? 1 : 0);
	if (actions != 1)
		throw UsageError("give one of --to, --listen and --derive-key");
	if (o.to && (!o.spi || !o.version || o.keyfile.empty()))
		throw UsageError("--to needs --spi, --version and --keyfile");
	if ((o.listen || o.derive) && o.master_keys.empty())
		throw UsageError("--master-keys FILE is required");
	if (o.derive && (!o.spi || !o.version))
		throw UsageError("--derive-key needs --spi and --version");
	if (o.src_port && !o.to)
		throw UsageError("--src-port goes with --to");
	if (o.count_only && !o.listen)
		throw UsageError("--listen-count-only goes with --listen");
	return o;
}

void put_be16(std::uint8_t *p, std::uint16_t v)
{
	p[0] = static_cast<std::uint8_t>(v >> 8);
	p[1] = static_cast<std::uint8_t>(v);
}

// The ILP header and payload of one packet of connection @conn, broken
// first if @mode says so.
std::vector<std::uint8_t> plaintext(const Options &o, std::uint64_t conn)
{
	std::vector<std::uint8_t> p(ILPW_HDR_LEN + o.size);
	std::size_t hlen = 0;
	if (auto err = ilpw_hdr_build(p.data(), p.size(), 0, o.service, conn, nullptr, 0, &hlen))
		throw ilp::Error(EINVAL,
				 std::string("building the ILP header: ") + ilpw_strerror(err));
	for (std::size_t i = 0; i < o.size; i++)
		p[hlen + i] = static_cast<std::uint8_t>(i);
	if (o.mode == Mode::IlpPastEnd)
		// One word more than the packet holds.
		put_be16(&p[2], static_cast<std::uint16_t>(p.size() / 4 + 1));
	else if (o.mode == Mode::BadIlpVersion)
		p[0] = 1 << 4;
	return p;
}

// Breaks the sealed packet @pkt as @mode says.  Offsets are those of the
// PSP header (docs/protocol.md): 0 Next Header, 3 version, 4-7 SPI, 8-15 IV.
void break_sealed(Mode mode, std::vector<std::uint8_t> &pkt)
{
	switch (mode) {
	case Mode::Garbage:
		if (RAND_bytes(pkt.data(), static_cast<int>(pkt.size())) != 1)
			throw ilp::Error(EIO, "RAND_bytes failed");
		break;
	case Mode::Truncated:
		pkt.resize(truncated_len);
		break;
	case Mode::TamperIcv:
		pkt.back() ^= 0x01;
		break;
	case Mode::TamperAad:
		pkt[15] ^= 0x01;
		break;
	case Mode::BadVersion:
		pkt[3] = static_cast<std::uint8_t>((pkt[3] & ~0x3cu) | 5u << 2);
		break;
	case Mode::NoKeySlot:
		pkt[4] ^= 0x80;
		break;
	case Mode::BadNextHeader:
		pkt[0] = 17;
		break;
	default:
		break;
	}
}

// Fills @ss with @ep; returns its length.
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

int run_send(const Options &o)
{
	auto key = ilp::read_sa_key(o.keyfile);
	if (key.size != psp::key_size(*o.version))
		throw ilp::Error(EINVAL,
				 o.keyfile + ": a " + std::to_string(key.size) +
				     "-byte key for PSP version " +
				     std::to_string(static_cast<int>(*o.version)) +
				     " (the key is 16 bytes for version 0, 32 for version 1)");
	psp::TxSa tx(*o.spi, *o.version, key.bytes());
	if (tx.sealed_size(ILPW_HDR_LEN + o.size) > max_datagram)
		throw UsageError("--size " + std::to_string(o.size) +
				 " does not fit in a UDP datagram once sealed");

	sockaddr_storage ss;
	socklen_t sslen = to_sockaddr(*o.to, ss);
	Socket sock(socket(o.to->family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	if (sock.get() < 0)
		throw ilp::Error(errno, std::string("socket: ") + std::strerror(errno));
	if (o.src_port) {
		// Any address, port P; other senders may share it.
		ilp::Endpoint any;
		any.family = o.to->family;
		any.port = *o.src_port;
		sockaddr_storage src;
		socklen_t srclen = to_sockaddr(any, src);
		int one = 1;
		setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(sock.get(), reinterpret_cast<sockaddr *>(&src), srclen) < 0)
			throw ilp::Error(errno, "binding UDP source port " +
						    std::to_string(*o.src_port) + ": " +
						    std::strerror(errno));
	}

	if (o.tos) {
		int tos = *o.tos;
		bool v4 = o.to->family == AF_INET;
		if (setsockopt(sock.get(), v4 ? IPPROTO_IP : IPPROTO_IPV6,
			       v4 ? IP_TOS : IPV6_TCLASS, &tos, sizeof(tos)) < 0)
			throw ilp::Error(errno, std::string("IP_TOS: ") + std::strerror(errno));
	}

	auto clear = plaintext(o, o.conn);
	std::vector<std::uint8_t> pkt;
	using clock = std::chrono::steady_clock;
	auto next = clock::now();
	unsigned long sent = 0;
	for (; sent < o.count; sent++) {
		if (o.conn_range > 1 && sent)
			clear = plaintext(o, o.conn + sent % o.conn_range);
		if (o.interval_us && sent) {
			// On a schedule, so that the time spent sending does
			// not slow the rate down.
			next += std::chrono::microseconds(o.interval_us);
			std::this_thread::sleep_until(next);
		}
		pkt.resize(tx.sealed_size(clear.size()));
		std::size_t len = 0;
		if (auto err = tx.seal(clear, pkt, len))
			throw ilp::Error(EIO, std::string("sealing: ") + ilpw_strerror(err));
		pkt.resize(len);
		break_sealed(o.mode, pkt);
		if (sendto(sock.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr *>(&ss),
			   sslen) < 0)
			throw ilp::Error(errno, "sending to " + o.to->to_string() + ": " +
						    std::strerror(errno) + " (after " +
						    std::to_string(sent) + " sent)");
	}
	if (!o.quiet)
		std::printf("sent %lu\n", sent);
	return 0;
}

// A UDP socket on @port for IPv4 and IPv6 alike, or IPv4 only where the
// kernel has no IPv6.
int listen_socket(std::uint16_t port)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		int off = 0;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		sockaddr_in6 a{};
		a.sin6_family = AF_INET6;
		a.sin6_port = htons(port);
		a.sin6_addr = in6addr_any;
		if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0)
			return fd;
		int err = errno;
		close(fd);
		throw ilp::Error(err, "binding UDP port " + std::to_string(port) + ": " +
					  std::strerror(err));
	}
	if (errno != EAFNOSUPPORT)
		throw ilp::Error(errno, std::string("socket: ") + std::strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		throw ilp::Error(errno, std::string("socket: ") + std::strerror(errno));
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0) {
		int err = errno;
		close(fd);
		throw ilp::Error(err, "binding UDP port " + std::to_string(port) + ": " +
					  std::strerror(err));
	}
	return fd;
}

std::uint16_t bound_port(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof(ss);
	if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
	return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
}

int run_listen(const Options &o)
{
	auto keys = ilp::read_master_keys(o.master_keys);
	// Any SPI opens, as for "ilpctl pcap decrypt": the sender's SPIs
	// were allocated elsewhere (by the kernel, or made up by the test).
	psp::Receiver rx(false);
	for (unsigned slot : {1u, 0u})
		if (keys.present[slot])
			rx.set_master_key(slot, keys.keys.key[slot]);

	Socket sock(listen_socket(*o.listen));
	// Room for bursts, best effort (SO_RCVBUFFORCE needs CAP_NET_ADMIN).
	int rcvbuf = 4 << 20;
	if (setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	std::fprintf(stderr, "ilp_send: listening on port %u\n", bound_port(sock.get()));

	using clock = std::chrono::steady_clock;
	auto deadline = clock::now() + std::chrono::milliseconds(o.timeout_ms);
	std::vector<std::uint8_t> buf(max_datagram + 1);
	unsigned long got = 0;
	unsigned long ok = 0;
	int rc = 0;
	while (got < o.count) {
		auto left =
		    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
		if (left.count() <= 0) {
			std::fprintf(stderr, "ilp_send: timed out after %d ms with %lu of %lu\n",
				     o.timeout_ms, got, o.count);
			rc = 1;
			break;
		}
		pollfd pfd{sock.get(), POLLIN, 0};
		int n = poll(&pfd, 1, static_cast<int>(left.count()));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw ilp::Error(errno, std::string("poll: ") + std::strerror(errno));
		if (n == 0)
			continue; // the deadline check above ends it
		ssize_t len = recv(sock.get(), buf.data(), buf.size(), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0)
			throw ilp::Error(errno, std::string("recv: ") + std::strerror(errno));
		got++;
		psp::Opened opened;
		auto pkt = std::span<std::uint8_t>(buf).first(static_cast<std::size_t>(len));
		ilpw_hdr hdr;
		ilpw_err err = rx.open(pkt, opened);
		if (!err)
			err = ilpw_hdr_parse(opened.plaintext.data(), opened.plaintext.size(), &hdr,
					     nullptr, nullptr);
		if (!err)
			ok++;
		if (o.count_only || o.quiet)
			continue;
		if (err)
			std::printf("drop %s\n", ilpw_strerror(err));
		else
			std::printf("ok service %u conn %llu len %zu\n", hdr.service,
				    static_cast<unsigned long long>(hdr.conn),
				    opened.plaintext.size() - hdr.hdr_len);
		std::fflush(stdout);
	}
	if (o.count_only) {
		std::printf("received %lu ok %lu\n", got, ok);
		std::fflush(stdout);
	}
	// The payloads were in clear here.
	OPENSSL_cleanse(buf.data(), buf.size());
	return rc;
}

int run_derive(const Options &o)
{
	auto keys = ilp::read_master_keys(o.master_keys);
	unsigned slot = *o.spi >> 31;
	if (!keys.present[slot])
		throw ilp::Error(ENOKEY, o.master_keys + " sets no key" + std::to_string(slot) +
					     ", which SPI's top bit selects");
	auto key = psp::derive_sa_key(keys.keys, *o.spi, *o.version);
	char hex[65] = "";
	std::size_t i = 0;
	for (auto b : key.bytes())
		i += static_cast<std::size_t>(std::snprintf(hex + i, sizeof(hex) - i, "%02x", b));
	std::printf("%s\n", hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	try {
		auto o = parse_args(argc, argv);
		if (o.to)
			return run_send(o);
		if (o.listen)
			return run_listen(o);
		return run_derive(o);
	} catch (const UsageError &e) {
		std::fprintf(stderr, "ilp_send: %s\n%s", e.what(), usage_text);
		return 2;
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ilp_send: %s\n", e.what());
		return 1;
	}
}

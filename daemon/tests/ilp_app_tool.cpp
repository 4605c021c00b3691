// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilp_app_tool - an application and a key helper for the app socket's
// end-to-end tests (app_e2e_test.sh, netns_relay_test.sh)
//
//	ilp_app_tool derive MASTER_KEYS SPI      the hex SA key a peer that
//	                                         allocated SPI gives us
//	ilp_app_tool chat [--bind SERVICE[/CONN]] [--connect ADDR] [--echo]
//
// chat opens an ilp::Socket (over whichever transport libilp picks) and
// prints "transport T" and "bound SERVICE/CONN", then each packet as
//	recv from ADDR md TYPE=TEXT,... payload TEXT
// (application TLVs only), flushed per line.  Each line read from stdin,
// "send TEXT", sends TEXT with the TLV 0x0100=TEXT to the connected
// destination, or else to the last sender; with --echo every packet is
// answered with "echo:" and its payload, and its metadata.  Errors are
// printed as "error ERRNO MESSAGE" and do not end it; end of stdin does.
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <ilp/error.hpp>
#include <ilp/key_files.hpp>
#include <ilp/number.hpp>
#include <ilp/psp_kdf.hpp>
#include <ilp/socket.hpp>

namespace
{

constexpr std::uint16_t text_tlv = 0x0100;

int derive(const std::string &keys_path, const std::string &spi_text)
{
	auto keys = ilp::read_master_keys(keys_path);
	auto spi = ilp::parse_uint<std::uint32_t>(spi_text);
	if (!spi)
		throw ilp::Error(EINVAL, "SPI " + spi_text + ": not a 32-bit number");
	auto key = ilp::psp::derive_sa_key(keys.keys, *spi, ilp::psp::Version::AesGcm128);
	for (auto b : key.bytes())
		std::printf("%02x", b);
	std::printf("\n");
	return 0;
}

std::string describe(const ilp::Metadata &md)
{
	std::string out;
	for (const auto &t : md) {
		if (t.own())
			continue;
		if (!out.empty())
			out += ',';
		char type[8];
		std::snprintf(type, sizeof(type), "0x%04x", t.type);
		out += type;
		out += '=';
		out += t.as_string();
	}
	return out.empty() ? "-" : out;
}

void report(const ilp::Error &e)
{
	std::printf("error %d %s\n", e.code().value(), e.what());
	std::fflush(stdout);
}

int chat(int argc, char **argv)
{
	std::optional<ilp::Address> bind_to, connect_to;
	bool echo = false;
	for (int i = 2; i < argc; i++) {
		std::string_view a = argv[i];
		if (a == "--bind" && i + 1 < argc)
			bind_to = ilp::Address::parse(argv[++i]);
		else if (a == "--connect" && i + 1 < argc)
			connect_to = ilp::Address::parse(argv[++i]);
		else if (a == "--echo")
			echo = true;
		else
			throw ilp::Error(EINVAL, "unknown argument " + std::string(a));
	}
	ilp::Socket sock;
	sock.set_receive_metadata(true);
	std::printf("transport %s\n", sock.transport());
	try {
		if (bind_to)
			sock.bind(bind_to->service, bind_to->conn);
		if (connect_to)
			sock.connect(*connect_to);
	} catch (const ilp::Error &e) {
		report(e);
		return 1;
	}
	auto local = sock.local_address();
	std::printf("bound %u/%llu\n", local.service, static_cast<unsigned long long>(local.conn));
	std::fflush(stdout);

	std::optional<ilp::Address> last;
	std::array<std::byte, 65536> buf;
	std::string pending;
	pollfd fds[2] = {{sock.fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
	for (;;) {
		if (::poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (fds[0].revents) {
			try {
				auto r = sock.receive(buf);
				std::string text(reinterpret_cast<const char *>(buf.data()),
						 r.size);
				std::string md = r.metadata ? describe(*r.metadata) : "-";
				std::printf("recv from %s md %s payload %s\n",
					    r.from.to_string().c_str(), md.c_str(), text.c_str());
				std::fflush(stdout);
				last = r.from;
				if (echo) {
					std::string back = "echo:" + text;
					auto md_back = r.metadata ? r.metadata->without_own()
								  : ilp::Metadata();
					sock.send_to(r.from, std::as_bytes(std::span(back)),
						     &md_back);
				}
			} catch (const ilp::Error &e) {
				report(e);
				if (e.code().value() == ECONNRESET)
					return 1;
			}
		}
		if (fds[1].revents) {
			char chunk[512];
			ssize_t n = ::read(STDIN_FILENO, chunk, sizeof(chunk));
			if (n <= 0)
				return 0;
			pending.append(chunk, static_cast<std::size_t>(n));
			std::size_t nl;
			while ((nl = pending.find('\n')) != std::string::npos) {
				std::string line = pending.substr(0, nl);
				pending.erase(0, nl + 1);
				if (!line.starts_with("send "))
					continue;
				std::string text = line.substr(5);
				ilp::Metadata md;
				md.add_string(text_tlv, text);
				try {
					auto data = std::as_bytes(std::span(text));
					if (connect_to || !last)
						sock.send(data, &md);
					else
						sock.send_to(*last, data, &md);
					std::printf("sent %s\n", text.c_str());
				} catch (const ilp::Error &e) {
					report(e);
				}
				std::fflush(stdout);
			}
		}
	}
}

} // namespace

int main(int argc, char **argv)
{
	std::string_view cmd = argc > 1 ? argv[1] : "";
	try {
		if (cmd == "derive" && argc == 4)
			return derive(argv[2], argv[3]);
		if (cmd == "chat")
			return chat(argc, argv);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ilp_app_tool: %s\n", e.what());
		return 1;
	}
	std::fprintf(stderr, "usage: ilp_app_tool derive MASTER_KEYS SPI\n"
			     "       ilp_app_tool chat [--bind SERVICE[/CONN]] [--connect ADDR] "
			     "[--echo]\n");
	return 2;
}

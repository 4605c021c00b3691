// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilp_app_tool - an application and a key helper for the app socket's
// end-to-end tests (app_e2e_test.sh, netns_relay_test.sh)
//
//	ilp_app_tool derive MASTER_KEYS SPI      the hex SA key a peer that
//	                                         allocated SPI gives us
//	ilp_app_tool chat [--bind SERVICE[/CONN]] [--connect ADDR] [--echo]
//	                  [--tlv TYPE=TEXT]
//	ilp_app_tool flows SERVICE/CONN@HOST COUNT ROUNDS [TIMEOUT_MS]
//	ilp_app_tool group join|leave|register|unregister GROUP [GRANT_FILE]
//
// chat opens an ilp::Socket (over whichever transport libilp picks) and
// prints "transport T" and "bound SERVICE/CONN", then each packet as
//	recv from ADDR md TYPE=TEXT,... payload TEXT
// (application TLVs only), flushed per line.  Each line read from stdin,
// "send TEXT", sends TEXT with the TLV 0x0100=TEXT to the connected
// destination, or else to the last sender; with --echo every packet is
// answered with "echo:" and its payload, and its metadata; --tlv adds a
// TLV of its own to every packet sent (multicast's group).  Errors are
// printed as "error ERRNO MESSAGE" and do not end it; end of stdin does.
//
// flows opens COUNT sockets, on connections CONN to CONN + COUNT - 1 of
// SERVICE, each connected to the same connection at HOST (an echo server
// there), and sends ROUNDS rounds of one packet per connection, each
// round once the last one's echoes are all back or TIMEOUT_MS (2000)
// passed.  It prints "flows COUNT sent S echoed E" and exits 0 when every
// packet's echo came back on its own connection, 1 otherwise: the tool
// for many concurrent flows through one SN's cache.
//
// group makes an app's group request (ilp::group::Group, through ilpd's
// app socket) and prints "ok", or "error ERRNO MESSAGE" and exits 1.
#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ilp/error.hpp>
#include <ilp/group_control.hpp>
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
	std::optional<std::pair<std::uint16_t, std::string>> extra_tlv;
	for (int i = 2; i < argc; i++) {
		std::string_view a = argv[i];
		if (a == "--bind" && i + 1 < argc)
			bind_to = ilp::Address::parse(argv[++i]);
		else if (a == "--connect" && i + 1 < argc)
			connect_to = ilp::Address::parse(argv[++i]);
		else if (a == "--echo")
			echo = true;
		else if (a == "--tlv" && i + 1 < argc) {
			std::string kv = argv[++i];
			auto eq = kv.find('=');
			if (eq == std::string::npos)
				throw ilp::Error(EINVAL, "--tlv takes TYPE=TEXT");
			extra_tlv = {
			    static_cast<std::uint16_t>(std::stoul(kv.substr(0, eq), nullptr, 0)),
			    kv.substr(eq + 1)};
		} else
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
				if (extra_tlv)
					md.add_string(extra_tlv->first, extra_tlv->second);
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

int flows(int argc, char **argv)
{
	if (argc < 5 || argc > 6)
		throw ilp::Error(EINVAL, "flows takes SERVICE/CONN@HOST COUNT ROUNDS [TIMEOUT_MS]");
	auto first = ilp::Address::parse(argv[2]);
	auto count = ilp::parse_uint<std::uint32_t>(argv[3]);
	auto rounds = ilp::parse_uint<std::uint32_t>(argv[4]);
	auto timeout_ms = argc == 6 ? ilp::parse_uint<std::uint32_t>(argv[5]) : 2000u;
	if (!count || !*count || *count > 1000 || !rounds || !timeout_ms)
		throw ilp::Error(EINVAL, "COUNT 1 to 1000, ROUNDS and TIMEOUT_MS numbers");
	std::vector<ilp::Socket> socks(*count);
	std::vector<pollfd> fds;
	for (std::uint32_t i = 0; i < *count; i++) {
		ilp::Address to = first;
		to.conn = first.conn + i;
		socks[i].bind(to.service, to.conn);
		socks[i].connect(to);
		fds.push_back({socks[i].fd(), POLLIN, 0});
	}
	std::uint64_t sent = 0, echoed = 0;
	std::array<std::byte, 2048> buf;
	for (std::uint32_t r = 0; r < *rounds; r++) {
		std::vector<bool> back(*count);
		std::uint32_t waiting = *count;
		for (std::uint32_t i = 0; i < *count; i++) {
			std::string text = std::to_string(r) + ":" + std::to_string(i);
			socks[i].send(std::as_bytes(std::span(text)));
			sent++;
		}
		auto deadline =
		    std::chrono::steady_clock::now() + std::chrono::milliseconds(*timeout_ms);
		while (waiting) {
			auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			    deadline - std::chrono::steady_clock::now());
			if (left.count() <= 0)
				break;
			if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 &&
			    errno != EINTR)
				return 1;
			for (std::uint32_t i = 0; i < *count; i++) {
				if (!fds[i].revents)
					continue;
				auto got = socks[i].receive(buf);
				std::string text(reinterpret_cast<const char *>(buf.data()),
						 got.size);
				// Its own round's echo on its own connection only.
				if (text == "echo:" + std::to_string(r) + ":" + std::to_string(i) &&
				    !back[i]) {
					back[i] = true;
					waiting--;
					echoed++;
				}
			}
		}
	}
	std::printf("flows %u sent %llu echoed %llu\n", *count,
		    static_cast<unsigned long long>(sent), static_cast<unsigned long long>(echoed));
	return echoed == sent ? 0 : 1;
}

int group(int argc, char **argv)
{
	if (argc < 4 || argc > 5)
		throw ilp::Error(EINVAL, "group join|leave|register|unregister GROUP [GRANT_FILE]");
	std::string_view op = argv[2];
	std::string why;
	auto name = ilp::group::parse_name(argv[3], &why);
	if (!name)
		throw ilp::Error(EINVAL, why);
	std::optional<ilp::group::Grant> grant;
	if (argc == 5) {
		std::ifstream in(argv[4]);
		std::string line;
		if (!std::getline(in, line) || !(grant = ilp::group::parse_grant(line, &why)))
			throw ilp::Error(EINVAL, std::string(argv[4]) + ": not a grant: " + why);
	}
	ilp::group::Group g(*name);
	try {
		if (op == "join")
			g.join(grant);
		else if (op == "leave")
			g.leave();
		else if (op == "register")
			g.register_sender(grant);
		else if (op == "unregister")
			g.unregister_sender();
		else
			throw ilp::Error(EINVAL, "no group request " + std::string(op));
	} catch (const ilp::Error &e) {
		report(e);
		return 1;
	}
	std::printf("ok\n");
	return 0;
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
		if (cmd == "flows")
			return flows(argc, argv);
		if (cmd == "group")
			return group(argc, argv);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "ilp_app_tool: %s\n", e.what());
		return 1;
	}
	std::fprintf(stderr, "usage: ilp_app_tool derive MASTER_KEYS SPI\n"
			     "       ilp_app_tool chat [--bind SERVICE[/CONN]] [--connect ADDR] "
			     "[--echo]\n"
			     "       ilp_app_tool flows SERVICE/CONN@HOST COUNT ROUNDS "
			     "[TIMEOUT_MS]\n");
	return 2;
}

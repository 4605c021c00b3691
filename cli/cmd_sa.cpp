// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl sa alloc|show|del: receive SAs.  "alloc" prints the new SA's key, the
// one time it is ever shown, for the sender: pass it over the control
// channel only.  The key's hex is written from a buffer on the stack that
// is wiped afterwards (not through nlohmann::json, whose copies could not
// be).
#include <cerrno>
#include <cstdio>
#include <iostream>

#include <openssl/crypto.h>

#include <ilp/error.hpp>

#include "args.hpp"
#include "ilpctl.hpp"
#include "plane.hpp"

namespace ilpctl
{

namespace
{

int version_number(ilp::psp::Version v)
{
	return static_cast<int>(v);
}

// Writes @key in hex to @out (room for 2 * 32 + 1).
void to_hex(std::span<const std::uint8_t> key, char (&out)[65])
{
	static const char digits[] = "0123456789abcdef";
	std::size_t i = 0;
	for (auto b : key) {
		out[i++] = digits[b >> 4];
		out[i++] = digits[b & 0xf];
	}
	out[i] = '\0';
}

} // namespace

int cmd_sa_alloc(Context &ctx, Args args)
{
	auto kw = keyword_args("sa", "alloc", args, {"peer", "version"});
	auto version = ilp::psp::Version::AesGcm128;
	if (auto it = kw.find("version"); it != kw.end()) {
		auto v = parse_version(it->second);
		if (!v)
			usage_error("sa", "alloc",
				    "version takes 0 (AES-GCM-128) or 1 (AES-GCM-256), not '" +
					it->second + "'");
		version = *v;
	}
	// The peer the SA is for: only its packets may use it.
	std::optional<ilp::Endpoint> peer;
	if (auto it = kw.find("peer"); it != kw.end()) {
		try {
			peer = ilp::Endpoint::parse(it->second);
		} catch (const ilp::Error &e) {
			usage_error("sa", "alloc", e.what());
		}
	}
	// Both datapaths bind an SA to the peer it is for.
	if (!peer)
		usage_error("sa", "alloc", "peer ADDR is required: the SA is for that peer alone");
	auto ctl = open_plane(ctx);
	auto sa = ctl->sa_alloc(version, peer);
	char hex[65];
	to_hex(sa.key.bytes(), hex);
	// "null" when the plane does not say (JSON), nothing in the text.
	const std::string addr = sa.peer ? sa.peer->addr_string() : std::string();
	const std::string peer_text = sa.peer ? " peer " + addr : std::string();
	const std::string peer_json = sa.peer ? "\"" + addr + "\"" : std::string("null");
	char line[256];
	if (!ctx.json)
		std::snprintf(line, sizeof(line), "spi 0x%08x version %d%s key %s\n", sa.spi,
			      version_number(sa.version), peer_text.c_str(), hex);
	else if (ctx.pretty)
		std::snprintf(line, sizeof(line),
			      "{\n  \"spi\": %u,\n  \"version\": %d,\n  \"peer\": %s,\n  "
			      "\"key\": \"%s\"\n}\n",
			      sa.spi, version_number(sa.version), peer_json.c_str(), hex);
	else
		std::snprintf(line, sizeof(line),
			      "{\"spi\":%u,\"version\":%d,\"peer\":%s,\"key\":\"%s\"}\n", sa.spi,
			      version_number(sa.version), peer_json.c_str(), hex);
	ctx.out << line << std::flush;
	OPENSSL_cleanse(hex, sizeof(hex));
	OPENSSL_cleanse(line, sizeof(line));
	if (!ctx.out)
		throw ilp::Error(EIO, "could not write the new SA: its key is lost (SPI " +
					  spi_string(sa.spi) + " stays allocated, unused)");
	return 0;
}

// Prints nothing, as every command that changes state.
int cmd_sa_del(Context &ctx, Args args)
{
	auto spi = parse_spi(args[0]);
	if (!spi)
		usage_error(
		    "sa", "del",
		    "SPI is a 32-bit SPI whose low 31 bits are not all 0, in hex (0x...) or "
		    "decimal, not '" +
			args[0] + "'");
	auto ctl = open_plane(ctx);
	ctl->sa_del(*spi);
	return 0;
}

int cmd_sa_show(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	auto sas = ctl->sas();
	if (ctx.json) {
		auto arr = nlohmann::json::array();
		for (const auto &s : sas)
			arr.push_back(
			    {{"spi", s.spi},
			     {"version", version_number(s.version)},
			     {"peer", s.peer ? nlohmann::json(s.peer->addr_string()) : nullptr},
			     {"packets", s.packets},
			     {"bytes", s.bytes}});
		ctx.emit(arr);
		return 0;
	}
	for (const auto &s : sas) {
		ctx.out << "spi " << spi_string(s.spi) << " version " << version_number(s.version);
		if (s.peer)
			ctx.out << " peer " << s.peer->addr_string();
		ctx.out << "\n    rx: " << s.packets << " packets, " << s.bytes << " bytes\n";
	}
	return 0;
}

} // namespace ilpctl

// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl sa alloc|show: receive SAs.  "alloc" prints the new SA's key, the
// one time it is ever shown, for the sender: pass it over the control
// channel only.  The key's hex is written from a buffer on the stack that
// is wiped afterwards (not through nlohmann::json, whose copies could not
// be).
#include <cerrno>
#include <cstdio>
#include <iostream>

#include <openssl/crypto.h>

#include <ilp/control.hpp>
#include <ilp/error.hpp>

#include "args.hpp"
#include "ilpctl.hpp"

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
	auto kw = keyword_args("sa", "alloc", args, {"version"});
	auto version = ilp::psp::Version::AesGcm128;
	if (auto it = kw.find("version"); it != kw.end()) {
		auto v = parse_version(it->second);
		if (!v)
			usage_error("sa", "alloc",
				    "version takes 0 (AES-GCM-128) or 1 (AES-GCM-256), not '" +
					it->second + "'");
		version = *v;
	}
	ilp::Control ctl;
	auto sa = ctl.sa_alloc(version);
	char hex[65];
	to_hex(sa.key.bytes(), hex);
	char line[160];
	if (!ctx.json)
		std::snprintf(line, sizeof(line), "spi 0x%08x version %d key %s\n", sa.spi,
			      version_number(sa.version), hex);
	else if (ctx.pretty)
		std::snprintf(line, sizeof(line),
			      "{\n  \"spi\": %u,\n  \"version\": %d,\n  \"key\": \"%s\"\n}\n",
			      sa.spi, version_number(sa.version), hex);
	else
		std::snprintf(line, sizeof(line), "{\"spi\":%u,\"version\":%d,\"key\":\"%s\"}\n",
			      sa.spi, version_number(sa.version), hex);
	ctx.out << line << std::flush;
	OPENSSL_cleanse(hex, sizeof(hex));
	OPENSSL_cleanse(line, sizeof(line));
	if (!ctx.out)
		throw ilp::Error(EIO, "could not write the new SA: its key is lost (SPI " +
					  spi_string(sa.spi) + " stays allocated, unused)");
	return 0;
}

int cmd_sa_show(Context &ctx, Args)
{
	ilp::Control ctl;
	auto sas = ctl.sas();
	if (ctx.json) {
		auto arr = nlohmann::json::array();
		for (const auto &s : sas)
			arr.push_back({{"spi", s.spi}, {"version", version_number(s.version)}});
		ctx.emit(arr);
		return 0;
	}
	for (const auto &s : sas)
		ctx.out << "spi " << spi_string(s.spi) << " version " << version_number(s.version)
			<< '\n';
	return 0;
}

} // namespace ilpctl

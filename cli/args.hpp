// SPDX-License-Identifier: GPL-2.0-or-later
//
// Reading ilpctl's arguments: numbers, PSP versions, SPIs, and the
// "NAME VALUE" pairs of ip(8)-style commands.  Whatever does not parse is
// a UsageError (exit status 2) that ends with the command's usage.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <ilp/number.hpp>
#include <ilp/psp_kdf.hpp>

#include "ilpctl.hpp"

namespace ilpctl
{

// A UsageError with "; usage: ilpctl OBJECT VERB USAGE" from the command
// table, as --help shows it.
[[noreturn]] inline void usage_error(std::string_view object, std::string_view verb,
				     const std::string &why)
{
	for (const auto &c : commands())
		if (c.object == object && c.verb == verb)
			throw UsageError(why + "; usage: ilpctl " + std::string(object) + " " +
					 std::string(verb) + " " + std::string(c.usage));
	throw UsageError(why);
}

using ilp::parse_uint;

// "0" or "1": the PSP version.
inline std::optional<ilp::psp::Version> parse_version(std::string_view s)
{
	if (s == "0")
		return ilp::psp::Version::AesGcm128;
	if (s == "1")
		return ilp::psp::Version::AesGcm256;
	return std::nullopt;
}

// An SPI: 32 bits whose low 31 are not all 0 (PSP reserves those).
inline std::optional<std::uint32_t> parse_spi(std::string_view s)
{
	auto spi = parse_uint<std::uint32_t>(s);
	if (!spi || !(*spi & 0x7fffffffu))
		return std::nullopt;
	return spi;
}

// The "NAME VALUE" pairs of @args, each NAME one of @names and given at
// most once.
inline std::map<std::string, std::string, std::less<>>
keyword_args(std::string_view object, std::string_view verb, Args args,
	     std::initializer_list<std::string_view> names)
{
	std::map<std::string, std::string, std::less<>> out;
	for (std::size_t i = 0; i < args.size(); i += 2) {
		const std::string &name = args[i];
		bool known = false;
		for (auto n : names)
			known = known || n == name;
		if (!known)
			usage_error(object, verb, "unknown argument '" + name + "'");
		if (i + 1 == args.size())
			usage_error(object, verb, "'" + name + "' needs a value");
		if (!out.emplace(name, args[i + 1]).second)
			usage_error(object, verb, "'" + name + "' given twice");
	}
	return out;
}

// Prints an SPI as ip-xfrm does: 0x and 8 hex digits.
inline std::string spi_string(std::uint32_t spi)
{
	char buf[11];
	std::snprintf(buf, sizeof(buf), "0x%08x", spi);
	return buf;
}

} // namespace ilpctl

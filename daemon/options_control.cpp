// SPDX-License-Identifier: GPL-2.0-or-later
//
// The values of the control channel's configuration keys (options.hpp):
// whom to dial, whom to trust, and how long to wait.
#include <cctype>
#include <sstream>
#include <vector>

#include "options.hpp"

namespace ilpd
{

namespace
{

std::vector<std::string> words_of(const std::string &text)
{
	std::istringstream in(text);
	std::vector<std::string> words;
	for (std::string w; in >> w;)
		words.push_back(w);
	return words;
}

} // namespace

// An edomain name as HELLO carries it (docs/control.md): 1 to 63 of
// [a-z0-9.-], neither first nor last a '.' or '-'.
bool valid_edomain(const std::string &name)
{
	if (name.empty() || name.size() > 63)
		return false;
	for (char c : name)
		if (!(std::islower(static_cast<unsigned char>(c)) ||
		      std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-'))
			return false;
	auto edge = [](char c) { return c == '.' || c == '-'; };
	return !edge(name.front()) && !edge(name.back());
}

// Whether "ADDR[:PORT]" text names a port: "a.b.c.d:P" or "[v6]:P".
bool names_port(const std::string &text)
{
	if (!text.empty() && text.front() == '[')
		return text.find("]:") != std::string::npos;
	return text.find(':') != std::string::npos && text.find(':') == text.rfind(':');
}

RemoteConfig parse_remote(const std::string &text, std::uint16_t default_port,
			  const std::string &where, const std::string &key)
{
	auto fail = [&](const std::string &why) {
		throw ConfigError(where + ": '" + key + "': " + why +
				  " (ADDR[:PORT] edomain NAME)");
	};
	auto words = words_of(text);
	if (words.empty())
		fail("no address");
	RemoteConfig r;
	r.where = where;
	try {
		r.control = ilp::Endpoint::parse(words[0]);
	} catch (const std::exception &e) {
		fail(e.what());
	}
	if (!names_port(words[0]))
		r.control.port = default_port;
	for (std::size_t i = 1; i < words.size(); i += 2) {
		if (i + 1 >= words.size())
			fail("'" + words[i] + "' needs a value");
		if (words[i] != "edomain")
			fail("unknown word '" + words[i] + "'");
		if (!valid_edomain(words[i + 1]))
			fail("bad edomain name '" + words[i + 1] + "'");
		r.edomain = words[i + 1];
	}
	if (r.edomain.empty())
		fail("the edomain whose CA signs its certificate is required");
	return r;
}

TrustConfig parse_trust(const std::string &text, const std::string &where)
{
	auto words = words_of(text);
	if (words.size() != 2)
		throw ConfigError(where + ": 'trust': expected 'EDOMAIN CAFILE', got '" + text +
				  "'");
	if (!valid_edomain(words[0]))
		throw ConfigError(where + ": 'trust': bad edomain name '" + words[0] + "'");
	return {words[0], words[1], where};
}

std::chrono::milliseconds parse_duration(const std::string &text, const std::string &where,
					 const std::string &key)
{
	std::size_t end = 0;
	double n = -1;
	try {
		n = std::stod(text, &end);
	} catch (const std::exception &) {
		end = 0;
	}
	std::string unit = end ? text.substr(end) : "";
	double ms_per = 0;
	if (unit.empty() || unit == "s")
		ms_per = 1000;
	else if (unit == "ms")
		ms_per = 1;
	else if (unit == "m")
		ms_per = 60e3;
	else if (unit == "h")
		ms_per = 3600e3;
	else if (unit == "d")
		ms_per = 86400e3;
	double ms = n * ms_per;
	if (!end || ms_per == 0 || !(ms >= 1) || ms > 366 * 86400e3)
		throw ConfigError(where + ": '" + key + "': bad duration '" + text +
				  "' (a number with ms, s, m, h or d; from 1 ms to 366 days)");
	return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

} // namespace ilpd

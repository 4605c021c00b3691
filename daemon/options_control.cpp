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

// The "edomain NAME" after a line's first word (the only pair these lines
// take); "" when there is none.  @fail throws with the reason.
template <typename Fail>
std::string edomain_of(const std::vector<std::string> &words, Fail &fail)
{
	std::string edomain;
	for (std::size_t i = 1; i < words.size(); i += 2) {
		if (i + 1 >= words.size())
			fail("'" + words[i] + "' needs a value");
		if (words[i] != "edomain")
			fail("unknown word '" + words[i] + "'");
		if (!valid_edomain(words[i + 1]))
			fail("bad edomain name '" + words[i + 1] + "'");
		edomain = words[i + 1];
	}
	return edomain;
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
	r.edomain = edomain_of(words, fail);
	if (r.edomain.empty())
		fail("the edomain whose CA signs its certificate is required");
	return r;
}

// A domain name as DNS carries it: labels of 1 to 63 letters, digits and
// '-' (not first or last), at most 253 bytes; a trailing '.' is allowed.
// _ilp. is put in front of it, so it is a domain, not an attrleaf name.
static bool valid_dns_name(const std::string &name)
{
	std::string n = name;
	if (!n.empty() && n.back() == '.')
		n.pop_back();
	if (n.empty() || n.size() > 253)
		return false;
	std::size_t start = 0;
	for (;;) {
		auto dot = n.find('.', start);
		auto label = n.substr(start, dot == std::string::npos ? dot : dot - start);
		if (label.empty() || label.size() > 63 || label.front() == '-' ||
		    label.back() == '-')
			return false;
		for (char c : label)
			if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
				return false;
		if (dot == std::string::npos)
			return true;
		start = dot + 1;
	}
}

DomainConfig parse_first_hop_domain(const std::string &text, const std::string &where)
{
	auto fail = [&](const std::string &why) {
		throw ConfigError(where + ": 'first-hop-domain': " + why +
				  " (DOMAIN edomain NAME)");
	};
	auto words = words_of(text);
	if (words.empty())
		fail("no domain");
	if (!valid_dns_name(words[0]))
		fail("bad domain name '" + words[0] + "'");
	DomainConfig d;
	d.where = where;
	d.domain = words[0];
	if (d.domain.back() == '.')
		d.domain.pop_back();
	for (auto &c : d.domain)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	d.edomain = edomain_of(words, fail);
	// DNS is not what says whom to trust: a forged record can point at
	// an SN, never make ilpd accept its certificate.
	if (d.edomain.empty())
		fail("the edomain whose CA signs its SNs' certificates is required");
	return d;
}

ilp::Endpoint parse_dns_server(const std::string &text, const std::string &where)
{
	ilp::Endpoint e;
	try {
		e = ilp::Endpoint::parse(text);
	} catch (const std::exception &ex) {
		throw ConfigError(where + ": 'dns-server': " + ex.what() + " (ADDR[:PORT])");
	}
	if (!names_port(text))
		e.port = 53;
	return e;
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

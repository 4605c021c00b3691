// SPDX-License-Identifier: GPL-2.0-or-later
#include "association/discovery.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <boost/asio/post.hpp>

#include "log.hpp"

namespace asio = boost::asio;

namespace ilpd
{

namespace
{

constexpr std::uint16_t kDnsTypeA = 1;
constexpr std::uint16_t kDnsTypeAaaa = 28;
// RFC 9460 section 2.1: key 65535 is reserved ("Invalid key").
constexpr std::uint16_t kSvcInvalidKey = 65535;
// AliasMode chains are bounded (RFC 9460 section 2.4.2 asks for a limit),
// so that two records naming each other cannot hold a lookup forever.
constexpr int kMaxAliases = 8;

std::uint16_t be16(const std::uint8_t *p)
{
	return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

std::string key_name(std::uint16_t key)
{
	switch (key) {
	case kSvcMandatory:
		return "mandatory";
	case kSvcPort:
		return "port";
	case kSvcIpv4Hint:
		return "ipv4hint";
	case kSvcIpv6Hint:
		return "ipv6hint";
	case kSvcIlpPort:
		return "key65380 (ILP port)";
	}
	return "key" + std::to_string(key);
}

bool known_key(std::uint16_t key)
{
	return key == kSvcPort || key == kSvcIpv4Hint || key == kSvcIpv6Hint || key == kSvcIlpPort;
}

// A port value: 2 bytes, not 0 (no service listens on port 0).
std::uint16_t port_value(std::uint16_t key, std::span<const std::uint8_t> v)
{
	if (v.size() != 2)
		throw SvcbError(key_name(key) + " of " + std::to_string(v.size()) +
				" bytes, not 2");
	std::uint16_t port = be16(v.data());
	if (port == 0)
		throw SvcbError(key_name(key) + " 0");
	return port;
}

std::vector<ilp::Endpoint> hints(std::uint16_t key, std::span<const std::uint8_t> v,
				 std::size_t size)
{
	if (v.empty() || v.size() % size)
		throw SvcbError(key_name(key) + " of " + std::to_string(v.size()) +
				" bytes, not a non-zero multiple of " + std::to_string(size));
	std::vector<ilp::Endpoint> out;
	for (std::size_t i = 0; i < v.size(); i += size)
		out.push_back(ilp::Endpoint::from_bytes(v.subspan(i, size), 0));
	return out;
}

// The TargetName at @p, uncompressed (RFC 9460 section 2.2), as text.
// Its labels must be hostname labels (letters, digits, '-', and '_' for
// attrleaf names such as an alias's _ilp.OTHER): the name is queried
// again and logged, and a label with a '.' or a control byte in it would
// be neither.
std::string target_name(const std::uint8_t *&p, const std::uint8_t *end)
{
	std::string name;
	std::size_t wire = 0;
	for (;;) {
		if (p == end)
			throw SvcbError("TargetName truncated");
		unsigned len = *p++;
		wire++;
		if (len == 0)
			break;
		if (len & 0xc0)
			throw SvcbError("TargetName compressed or with an extended label type "
					"(0x" +
					[&] {
						char b[3];
						std::snprintf(b, sizeof(b), "%02x", len);
						return std::string(b);
					}() +
					")");
		if (static_cast<std::size_t>(end - p) < len)
			throw SvcbError("TargetName truncated");
		wire += len;
		if (wire > 254) // with the root's 0, at most 255 bytes
			throw SvcbError("TargetName longer than 255 bytes");
		if (!name.empty())
			name += '.';
		for (unsigned i = 0; i < len; i++) {
			unsigned char c = p[i];
			if (!(std::isalnum(c) || c == '-' || c == '_'))
				throw SvcbError("TargetName label with a byte that is not a "
						"letter, digit, '-' or '_'");
			name += static_cast<char>(std::tolower(c));
		}
		p += len;
	}
	return name.empty() ? "." : name;
}

} // namespace

SvcbRecord parse_svcb(std::span<const std::uint8_t> rdata)
{
	const std::uint8_t *p = rdata.data(), *end = rdata.data() + rdata.size();
	if (rdata.size() < 2)
		throw SvcbError("RDATA of " + std::to_string(rdata.size()) +
				" bytes: truncated before SvcPriority");
	SvcbRecord r;
	r.priority = be16(p);
	p += 2;
	r.target = target_name(p, end);
	std::vector<std::uint16_t> mandatory;
	std::set<std::uint16_t> present;
	std::optional<std::uint16_t> last;
	while (p != end) {
		if (end - p < 4)
			throw SvcbError("SvcParam truncated: " + std::to_string(end - p) +
					" bytes left, a key and length take 4");
		std::uint16_t key = be16(p), len = be16(p + 2);
		p += 4;
		if (last && key == *last)
			throw SvcbError("duplicate SvcParam " + key_name(key));
		if (last && key < *last)
			throw SvcbError("SvcParams out of order: " + key_name(key) + " after " +
					key_name(*last));
		if (key == kSvcInvalidKey)
			throw SvcbError("SvcParam key 65535, which is reserved");
		if (end - p < len)
			throw SvcbError("SvcParam " + key_name(key) + " of " + std::to_string(len) +
					" bytes, " + std::to_string(end - p) +
					" left in the RDATA");
		std::span<const std::uint8_t> v(p, len);
		p += len;
		last = key;
		present.insert(key);
		// An AliasMode record's SvcParams mean nothing: only their
		// layout, above, is checked.
		if (r.alias())
			continue;
		switch (key) {
		case kSvcMandatory:
			if (v.empty() || v.size() % 2)
				throw SvcbError("mandatory of " + std::to_string(v.size()) +
						" bytes, not a non-zero multiple of 2");
			for (std::size_t i = 0; i < v.size(); i += 2) {
				std::uint16_t m = be16(v.data() + i);
				if (m == kSvcMandatory)
					throw SvcbError("mandatory lists itself");
				if (!mandatory.empty() && m <= mandatory.back())
					throw SvcbError("mandatory's keys not in strictly "
							"increasing order");
				mandatory.push_back(m);
			}
			break;
		case kSvcPort:
			r.port = port_value(key, v);
			break;
		case kSvcIlpPort:
			r.ilp_port = port_value(key, v);
			break;
		case kSvcIpv4Hint:
			r.ipv4_hints = hints(key, v, 4);
			break;
		case kSvcIpv6Hint:
			r.ipv6_hints = hints(key, v, 16);
			break;
		default:
			// Another protocol's key (alpn, say): ignored unless
			// mandatory, below.
			break;
		}
	}
	// A record whose mandatory keys are not all understood must not be
	// used (RFC 9460 section 8), nor one that says a key is mandatory
	// and leaves it out.
	for (auto m : mandatory) {
		if (!known_key(m))
			throw SvcbError("mandatory lists " + key_name(m) +
					", which ILP does not read");
		if (!present.count(m))
			throw SvcbError("mandatory lists " + key_name(m) +
					", absent from the record");
	}
	return r;
}

DnsResolver::DnsResolver(std::optional<ilp::Endpoint> server) : server_(server) {}

std::vector<std::vector<std::uint8_t>> DnsResolver::query(const std::string &name,
							  std::uint16_t type) const
{
	struct __res_state st;
	std::memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0)
		throw std::runtime_error("cannot read the resolver's configuration");
	struct Closer {
		res_state s;
		~Closer() { res_nclose(s); }
	} closer{&st};
	// A host waits on DNS at start only, and tries again later: a short
	// timeout keeps ilpd's shutdown from waiting long on a lookup.
	st.retrans = 2;
	st.retry = 2;
	st.options |= RES_USE_EDNS0;
	std::string from = "the servers of /etc/resolv.conf";
	if (server_) {
		from = server_->to_string();
		// glibc reads an IPv4 server from nsaddr_list, and an IPv6
		// one from _u._ext.nsaddrs where nsaddr_list's family is 0;
		// res_nclose() frees the latter.
		for (int i = 0; i < MAXNS; i++) {
			std::free(st._u._ext.nsaddrs[i]);
			st._u._ext.nsaddrs[i] = nullptr;
		}
		std::memset(st.nsaddr_list, 0, sizeof(st.nsaddr_list));
		st.nscount = 1;
		if (server_->family == AF_INET) {
			auto &sin = st.nsaddr_list[0];
			sin.sin_family = AF_INET;
			sin.sin_port = htons(server_->port);
			std::memcpy(&sin.sin_addr, server_->addr.s6_addr, 4);
		} else {
			auto *sin6 =
			    static_cast<sockaddr_in6 *>(std::calloc(1, sizeof(sockaddr_in6)));
			if (!sin6)
				throw std::bad_alloc();
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(server_->port);
			sin6->sin6_addr = server_->addr;
			st._u._ext.nsaddrs[0] = sin6;
		}
	}
	std::vector<std::uint8_t> answer(65535);
	int n = res_nquery(&st, name.c_str(), ns_c_in, type, answer.data(),
			   static_cast<int>(answer.size()));
	if (n < 0) {
		switch (st.res_h_errno) {
		case HOST_NOT_FOUND:
		case NO_DATA:
			return {};
		case TRY_AGAIN:
			throw std::runtime_error("no answer from " + from + " for " + name +
						 " (timeout, or server failure)");
		default:
			throw std::runtime_error(from + " refused the query for " + name);
		}
	}
	ns_msg msg;
	if (ns_initparse(answer.data(), n, &msg) != 0)
		throw std::runtime_error("malformed DNS answer from " + from + " for " + name);
	std::vector<std::vector<std::uint8_t>> out;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		ns_rr rr;
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0)
			throw std::runtime_error("malformed DNS answer from " + from + " for " +
						 name);
		// A CNAME on the way is followed by the server; its records
		// are not the ones asked for.
		if (ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		out.emplace_back(ns_rr_rdata(rr), ns_rr_rdata(rr) + ns_rr_rdlen(rr));
	}
	return out;
}

namespace
{

std::vector<ilp::Endpoint> addresses(const DnsResolver &dns, const std::string &domain,
				     const std::string &name, std::uint16_t type, std::size_t size)
{
	std::vector<ilp::Endpoint> out;
	std::vector<std::vector<std::uint8_t>> rdatas;
	// One family's failure leaves the other, and the other targets.
	try {
		rdatas = dns.query(name, type);
	} catch (const std::exception &e) {
		log::warn("first-hop-domain ", domain, ": ", e.what());
		return out;
	}
	for (const auto &rd : rdatas) {
		if (rd.size() != size) {
			log::warn("first-hop-domain ", domain, ": ",
				  type == kDnsTypeA ? "A" : "AAAA", " record of ", name, " of ",
				  rd.size(), " bytes skipped");
			continue;
		}
		out.push_back(ilp::Endpoint::from_bytes(rd, 0));
	}
	return out;
}

} // namespace

std::vector<FirstHop> discover_first_hops(const DnsResolver &dns, const std::string &domain,
					  std::uint16_t default_port)
{
	std::string owner = domain;
	if (!owner.empty() && owner.back() == '.')
		owner.pop_back();
	owner = "_ilp." + owner;
	std::vector<SvcbRecord> service;
	for (int aliases = 0;; aliases++) {
		std::vector<SvcbRecord> records, alias;
		auto rdatas = dns.query(owner, kDnsTypeSvcb);
		if (rdatas.empty())
			throw std::runtime_error("no SVCB record at " + owner);
		for (const auto &rd : rdatas) {
			try {
				records.push_back(parse_svcb(rd));
			} catch (const SvcbError &e) {
				log::warn("first-hop-domain ", domain, ": SVCB record at ", owner,
					  " skipped: ", e.what());
				continue;
			}
			(records.back().alias() ? alias : service).push_back(records.back());
		}
		if (records.empty())
			throw std::runtime_error("no usable SVCB record at " + owner);
		// ServiceMode records beside an AliasMode one are ignored
		// (RFC 9460 section 2.4.2).
		if (alias.empty())
			break;
		service.clear();
		const auto &a = alias.front();
		if (a.target == ".")
			throw std::runtime_error(owner + " says the domain has no ILP service");
		if (aliases == kMaxAliases)
			throw std::runtime_error("more than " + std::to_string(kMaxAliases) +
						 " AliasMode records in a row from _ilp." + domain);
		log::debug("first-hop-domain ", domain, ": ", owner, " is an alias of ", a.target);
		owner = a.target;
	}
	// Lowest SvcPriority first; those of equal priority in random order
	// (RFC 9460 section 2.4.1), which spreads a domain's hosts over its
	// SNs of one priority.
	std::shuffle(service.begin(), service.end(), std::mt19937(std::random_device{}()));
	std::stable_sort(service.begin(), service.end(),
			 [](const auto &a, const auto &b) { return a.priority < b.priority; });
	std::vector<FirstHop> out;
	for (const auto &r : service) {
		std::string target = r.target == "." ? owner : r.target;
		auto v6 = addresses(dns, domain, target, kDnsTypeAaaa, 16);
		auto v4 = addresses(dns, domain, target, kDnsTypeA, 4);
		// Hints stand in for a family the target has no records of.
		if (v6.empty())
			v6 = r.ipv6_hints;
		if (v4.empty())
			v4 = r.ipv4_hints;
		if (v6.empty() && v4.empty()) {
			log::warn("first-hop-domain ", domain, ": ", target,
				  " has no address (no A, AAAA or hint); skipped");
			continue;
		}
		v6.insert(v6.end(), v4.begin(), v4.end());
		for (auto a : v6) {
			a.port = r.port.value_or(default_port);
			FirstHop h;
			h.control = a;
			h.ilp_port = r.ilp_port.value_or(ILP_UDP_PORT);
			h.priority = r.priority;
			h.target = target;
			if (std::none_of(out.begin(), out.end(),
					 [&](const FirstHop &o) { return o.control == h.control; }))
				out.push_back(h);
		}
	}
	return out;
}

FirstHopLookup::FirstHopLookup(asio::io_context &io, DomainConfig domain,
			       std::optional<ilp::Endpoint> dns_server, std::uint16_t default_port,
			       std::chrono::milliseconds retry_max, Found found)
    : io_(io), domain_(std::move(domain)), dns_(dns_server), default_port_(default_port),
      backoff_(std::chrono::milliseconds(500), std::max(retry_max, std::chrono::milliseconds(500))),
      retry_(io), found_(std::move(found))
{
}

FirstHopLookup::~FirstHopLookup()
{
	retry_.cancel();
	if (worker_.joinable())
		worker_.join();
}

void FirstHopLookup::start()
{
	if (worker_.joinable())
		worker_.join();
	// The io thread runs every channel and timer: a DNS timeout must not
	// hold them up.
	worker_ = std::thread([this] {
		std::vector<FirstHop> hops;
		std::string error;
		try {
			hops = discover_first_hops(dns_, domain_.domain, default_port_);
			if (hops.empty())
				error = "no SN with an address found";
		} catch (const std::exception &e) {
			error = e.what();
		}
		asio::post(io_, [this, hops = std::move(hops), error = std::move(error)]() mutable {
			done(std::move(hops), std::move(error));
		});
	});
}

void FirstHopLookup::done(std::vector<FirstHop> hops, std::string error)
{
	if (!error.empty()) {
		auto d = backoff_.next();
		// Said once as a warning, then quietly while it fails the same way.
		log::at(error != last_error_ ? LogLevel::Warn : LogLevel::Debug,
			"first-hop-domain ", domain_.domain, ": ", error, "; again in ", d.count(),
			" ms");
		last_error_ = error;
		retry_.expires_after(d);
		retry_.async_wait([this](const boost::system::error_code &ec) {
			if (!ec)
				start();
		});
		return;
	}
	for (const auto &h : hops)
		log::info("first-hop-domain ", domain_.domain, ": SN ", h.target, " at ",
			  h.control.to_string(), ", ILP port ", h.ilp_port, ", priority ",
			  h.priority);
	found_(hops);
}

} // namespace ilpd

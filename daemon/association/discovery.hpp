// SPDX-License-Identifier: GPL-2.0-or-later
//
// First-hop SN discovery from DNS (docs/control.md, "Discovering first-hop
// SNs"): the SVCB records (RFC 9460) at _ilp.DOMAIN name the SNs that
// serve DOMAIN, each with its control port and ILP port.  The parser is
// strict and separate from the lookups so that every malformed case can
// be tested without a DNS server; the lookups use glibc's resolver
// (res_nquery), from /etc/resolv.conf or one server given.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <ilp/endpoint.hpp>

#include "association/schedule.hpp"
#include "options.hpp"

namespace ilpd
{

// The SvcParamKeys ILP reads.  kSvcIlpPort is in the private-use range
// (65280 to 65534): no key is registered for ILP.
constexpr std::uint16_t kSvcMandatory = 0;
constexpr std::uint16_t kSvcPort = 3;
constexpr std::uint16_t kSvcIpv4Hint = 4;
constexpr std::uint16_t kSvcIpv6Hint = 6;
constexpr std::uint16_t kSvcIlpPort = 65380;

constexpr std::uint16_t kDnsTypeSvcb = 64;

// One SVCB record's RDATA, as RFC 9460 section 2.2 lays it out.
struct SvcbRecord {
	std::uint16_t priority = 0;            // 0: AliasMode
	std::string target;                    // lowercase, no trailing dot; "." for the root
	std::optional<std::uint16_t> port;     // the control channel's TCP port
	std::optional<std::uint16_t> ilp_port; // the ILP datapath's UDP port
	std::vector<ilp::Endpoint> ipv4_hints, ipv6_hints; // ports unset

	bool alias() const noexcept { return priority == 0; }
};

// A malformed record; what() says what is wrong, for the log.
struct SvcbError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// Parses @rdata strictly: priority, an uncompressed TargetName of
// hostname labels, SvcParams in strictly increasing key order whose
// lengths add up to the RDATA's, the values of the keys ILP reads of the
// right length, and every key that "mandatory" lists one ILP reads and
// present.  An AliasMode record's SvcParams are checked for their layout
// only, their values ignored (RFC 9460 section 2.4.2).  Throws SvcbError.
SvcbRecord parse_svcb(std::span<const std::uint8_t> rdata);

// One SN found: where to dial its control channel, the ILP port its
// record announces, and the record's priority.
struct FirstHop {
	ilp::Endpoint control;
	std::uint16_t ilp_port = 1000;
	std::uint16_t priority = 0;
	std::string target; // the name its address came from
};

// Which DNS server answers: @server (UDP and TCP port included), or, when
// unset, those of /etc/resolv.conf.
class DnsResolver
{
public:
	explicit DnsResolver(std::optional<ilp::Endpoint> server = std::nullopt);
	// The RDATA of each record of @type in the answer to @name (IN).
	// An empty list for a name without such records; throws
	// std::runtime_error when the server did not answer, or answered
	// with an error other than "no such name".
	std::vector<std::vector<std::uint8_t>> query(const std::string &name,
						     std::uint16_t type) const;

private:
	std::optional<ilp::Endpoint> server_;
};

// The first hops of @domain, in preference order: the SVCB records at
// _ilp.DOMAIN (AliasMode followed, at most 8 times), lowest SvcPriority
// first and those of equal priority shuffled, each target's IPv6 then
// IPv4 addresses (its A/AAAA records, or its hints when it has none of
// a family).  Malformed records, and targets without an address, are
// skipped with a warning naming the domain.  @default_port is the
// control port of a record without "port".  Throws std::runtime_error
// saying why nothing can be known (no answer, no record, "." target).
std::vector<FirstHop> discover_first_hops(const DnsResolver &dns, const std::string &domain,
					  std::uint16_t default_port);

// Keeps looking @domain up until it gives at least one SN, each lookup on
// a thread of its own (DNS blocks) and the result posted back to @io; a
// lookup that fails or finds nothing is logged and tried again after a
// backoff (from 0.5 s, doubling up to @retry_max).  @found runs on @io's
// thread once, with the SNs.  Destroy it after @io stops running: the
// destructor waits for a lookup in flight.
class FirstHopLookup
{
public:
	using Found = std::function<void(const std::vector<FirstHop> &)>;

	FirstHopLookup(boost::asio::io_context &io, DomainConfig domain,
		       std::optional<ilp::Endpoint> dns_server, std::uint16_t default_port,
		       std::chrono::milliseconds retry_max, Found found);
	~FirstHopLookup();
	FirstHopLookup(const FirstHopLookup &) = delete;
	FirstHopLookup &operator=(const FirstHopLookup &) = delete;

	void start();

private:
	void done(std::vector<FirstHop> hops, std::string error);

	boost::asio::io_context &io_;
	DomainConfig domain_;
	DnsResolver dns_;
	std::uint16_t default_port_;
	Backoff backoff_;
	boost::asio::steady_timer retry_;
	Found found_;
	std::thread worker_;
	std::string last_error_;
};

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
//
// Identity and trust on the control channel (docs/control.md, "TLS and
// certificates"): the TLS 1.3 contexts ilpd's configuration makes, what a
// peer's certificate says once the handshake is done, and the rules that
// bind it to the HELLO the peer then sends.
//
// A certificate binds a node's ILP address in a SAN iPAddress entry and
// its edomain in a SAN URI "ilp:edomain:NAME", and counts for that
// edomain only if the CA bundle configured for that edomain verified it.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include <ilp/endpoint.hpp>

#include "association/messages.hpp"

namespace ilpd::ctl
{

// What an SN asks of the hosts that connect to it.
enum class HostAuth {
	None,     // hosts are bound by their TCP source address; certificates not consulted
	Optional, // a host may present a certificate (then it binds), or be anonymous
	Required, // a host must present a certificate that verifies
};

struct TlsSettings {
	// PEM.  Both empty: this node is anonymous (a host without a
	// certificate).  The key is read once and never logged.
	std::filesystem::path certificate, private_key;
	// edomain -> the CA bundle (PEM) whose certificates speak for it.
	std::map<std::string, std::filesystem::path> trust;
	// The CA bundle that verifies hosts' client certificates (an SN).
	std::filesystem::path host_ca;
	HostAuth host_auth = HostAuth::Optional;
};

// The name trusted_by has for host_ca.
inline constexpr const char *kHostCa = "host-ca";

// What a peer's certificate says, after the handshake.
struct PeerIdentity {
	bool authenticated = false; // it presented a certificate that verified
	std::string subject;        // RFC 2253, e.g. "CN=sn1,O=edomain-a"; "" when anonymous
	// From the SAN URI "ilp:edomain:NAME"; "" when there is none, or
	// more than one naming different edomains.
	std::string edomain;
	std::vector<ilp::Endpoint> addresses; // SAN iPAddress entries (port 0)
	// The edomain whose CA bundle verified the chain, or kHostCa, or ""
	// when anonymous.
	std::string trusted_by;
	std::chrono::system_clock::time_point not_after{};
};

class TlsContexts
{
public:
	// Reads the certificate, key and bundles now.  Throws ilp::Error
	// naming the file for one that is unreadable or not PEM, a key that
	// does not match the certificate, a certificate without its key,
	// HostAuth::Required without host_ca.
	explicit TlsContexts(const TlsSettings &settings);
	~TlsContexts();
	TlsContexts(const TlsContexts &) = delete;
	TlsContexts &operator=(const TlsContexts &) = delete;

	// TLS 1.3 only.  Asks every client for a certificate, verified
	// against every trust bundle and host_ca together (so that an
	// expired or unknown chain fails in the handshake, with OpenSSL's
	// reason); a client without one is let through (check_binding then
	// refuses an anonymous SN) unless host_auth is Required.
	boost::asio::ssl::context &server() { return server_; }
	// TLS 1.3 only; verifies the server against @edomain's bundle alone
	// and presents this node's certificate if it has one.  Throws
	// ilp::Error(ENOENT) for an edomain with no bundle.
	boost::asio::ssl::context &client(const std::string &edomain);

	const TlsSettings &settings() const noexcept { return settings_; }
	bool anonymous() const noexcept { return settings_.certificate.empty(); }

	// The X509_STOREs of each trusted edomain and of host_ca, apart, for
	// identity_of().
	struct Stores;
	const Stores &stores() const noexcept { return *stores_; }

private:
	TlsSettings settings_;
	std::unique_ptr<Stores> stores_;
	boost::asio::ssl::context server_;
	std::map<std::string, std::unique_ptr<boost::asio::ssl::context>> clients_;
};

// The identity of the peer of @ssl, whose handshake is done: its
// certificate's fields, and which bundle verified it (the bundle of the
// edomain the certificate names first, then each other trusted
// edomain's, then host_ca, each tried alone).
PeerIdentity identity_of(SSL *ssl, const TlsContexts &contexts);

// What this node's own certificate (PEM, the first in @file) binds: its
// subject, SAN IPs and edomain, unverified.  Throws ilp::Error naming the
// file.
PeerIdentity identity_of_certificate(const std::filesystem::path &file);

// The binding rules.  An SN peer: authenticated, trusted_by == its
// certificate's edomain == hello.edomain, and hello.endpoint's address
// among the certificate's SAN IPs.  A host peer: an anonymous one is
// refused if @host_auth is Required; one that is anonymous, or any under
// HostAuth::None, must have hello.endpoint's address == @tcp_source's;
// an authenticated one must have it among its SAN IPs.  Throws
// ProtocolError(Refused) for a peer this node does not trust,
// ProtocolError(Identity) for one that claims what its certificate or
// connection does not say; the reason names what did not match.
void check_binding(const PeerIdentity &peer, const Hello &hello, const ilp::Endpoint &tcp_source,
		   HostAuth host_auth);

// The SAN URI that names @edomain: "ilp:edomain:" + @edomain.
std::string edomain_uri(const std::string &edomain);

// For a TLS operation that failed on @ssl with @ec (a handshake, or a
// client's first read: in TLS 1.3 the server refuses a client's
// certificate after the client's side of the handshake is done): a
// reason for the log that says why in words ("refused: the peer's
// certificate did not verify: certificate has expired", "refused: peer
// offers TLS 1.2 at most, ILP requires TLS 1.3", "the peer refused the
// connection: tlsv1 alert unknown ca").
std::string handshake_failure(SSL *ssl, const boost::system::error_code &ec);

} // namespace ilpd::ctl

// SPDX-License-Identifier: GPL-2.0-or-later
#include "association/tls.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ctime>

#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ilp/error.hpp>

namespace ilpd::ctl
{

namespace ssl = boost::asio::ssl;

namespace
{

struct StoreFree {
	void operator()(X509_STORE *s) const noexcept { X509_STORE_free(s); }
};
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

// OpenSSL's queued errors as one line, and the queue emptied.
std::string openssl_errors()
{
	std::string out;
	while (unsigned long e = ERR_get_error()) {
		const char *r = ERR_reason_error_string(e);
		if (!out.empty())
			out += "; ";
		out += r ? r : "unknown error";
	}
	return out.empty() ? "unknown error" : out;
}

[[noreturn]] void fail(const std::string &what, const std::filesystem::path &file)
{
	std::error_code ec;
	if (!std::filesystem::exists(file, ec)) {
		ERR_clear_error();
		throw ilp::Error(ENOENT, what + " " + file.string() + ": no such file");
	}
	throw ilp::Error(EINVAL, what + " " + file.string() + ": " + openssl_errors());
}

StorePtr load_store(const std::filesystem::path &bundle, const std::string &what)
{
	StorePtr s(X509_STORE_new());
	if (!s || X509_STORE_load_file(s.get(), bundle.c_str()) != 1)
		fail("cannot read " + what + " from", bundle);
	return s;
}

// The client's highest TLS version, from its ClientHello, kept on the SSL
// so that a refused old client is told apart from other failures.
int offered_version_index()
{
	static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
	return index;
}

int record_offered_version(SSL *s, int *, void *)
{
	int best = 0;
	const unsigned char *ext = nullptr;
	std::size_t len = 0;
	if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_supported_versions, &ext, &len) == 1 &&
	    len >= 1 && std::size_t(ext[0]) + 1 <= len) {
		for (std::size_t i = 1; i + 1 <= ext[0]; i += 2) {
			int v = ext[i] << 8 | ext[i + 1];
			// GREASE values (RFC 8701) and versions from the future
			if ((v & 0x0f0f) == 0x0a0a || v > TLS1_3_VERSION)
				continue;
			best = std::max(best, v);
		}
	}
	if (best == 0)
		best = int(SSL_client_hello_get0_legacy_version(s));
	SSL_set_ex_data(s, offered_version_index(), reinterpret_cast<void *>(std::intptr_t(best)));
	return SSL_CLIENT_HELLO_SUCCESS;
}

const char *version_name(int v)
{
	switch (v) {
	case TLS1_VERSION:
		return "TLS 1.0";
	case TLS1_1_VERSION:
		return "TLS 1.1";
	case TLS1_2_VERSION:
		return "TLS 1.2";
	case SSL3_VERSION:
		return "SSL 3.0";
	}
	return nullptr;
}

// What both ends of every channel share: TLS 1.3 and nothing older, no
// session tickets (channels are long-lived; a reconnect is rare and
// does a full handshake), buffers freed while idle (many channels).
void common_setup(ssl::context &c, const TlsSettings &s)
{
	SSL_CTX *ctx = c.native_handle();
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, 0);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify_depth(ctx, 8);
	if (s.certificate.empty())
		return;
	if (SSL_CTX_use_certificate_chain_file(ctx, s.certificate.c_str()) != 1)
		fail("cannot read the certificate", s.certificate);
	if (SSL_CTX_use_PrivateKey_file(ctx, s.private_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH ||
		    SSL_CTX_get0_privatekey(ctx)) {
			ERR_clear_error();
			throw ilp::Error(EINVAL, "the private key " + s.private_key.string() +
						     " does not match the certificate " +
						     s.certificate.string());
		}
		fail("cannot read the private key", s.private_key);
	}
}

void load_verify(ssl::context &c, const std::filesystem::path &bundle, const std::string &what)
{
	if (SSL_CTX_load_verify_file(c.native_handle(), bundle.c_str()) != 1)
		fail("cannot read " + what + " from", bundle);
}

std::string rfc2253(X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return {};
	X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
	char *data = nullptr;
	long n = BIO_get_mem_data(b, &data);
	std::string out(data, std::size_t(std::max(n, 0L)));
	BIO_free(b);
	return out;
}

void read_san(X509 *cert, PeerIdentity &id)
{
	auto *names = static_cast<GENERAL_NAMES *>(
	    X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
	if (!names)
		return;
	const std::string prefix = edomain_uri("");
	bool conflict = false;
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *n = sk_GENERAL_NAME_value(names, i);
		if (n->type == GEN_IPADD) {
			const ASN1_OCTET_STRING *ip = n->d.iPAddress;
			int len = ASN1_STRING_length(ip);
			if (len == 4 || len == 16)
				id.addresses.push_back(ilp::Endpoint::from_bytes(
				    {ASN1_STRING_get0_data(ip), std::size_t(len)}, 0));
		} else if (n->type == GEN_URI) {
			const ASN1_IA5STRING *u = n->d.uniformResourceIdentifier;
			std::string uri(reinterpret_cast<const char *>(ASN1_STRING_get0_data(u)),
					std::size_t(ASN1_STRING_length(u)));
			if (uri.size() <= prefix.size() ||
			    uri.compare(0, prefix.size(), prefix) != 0)
				continue;
			std::string name = uri.substr(prefix.size());
			if (id.edomain.empty() && !conflict)
				id.edomain = name;
			else if (id.edomain != name)
				conflict = true;
		}
	}
	GENERAL_NAMES_free(names);
	// A certificate that speaks for two edomains binds neither.
	if (conflict)
		id.edomain.clear();
}

bool verifies(X509_STORE *store, X509 *leaf, STACK_OF(X509) * chain, bool peer_is_client)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!ctx)
		return false;
	bool ok =
	    X509_STORE_CTX_init(ctx, store, leaf, chain) == 1 &&
	    X509_STORE_CTX_set_default(ctx, peer_is_client ? "ssl_client" : "ssl_server") == 1 &&
	    X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

std::string addresses_of(const PeerIdentity &p)
{
	if (p.addresses.empty())
		return "none";
	std::string out;
	for (const auto &a : p.addresses)
		out += (out.empty() ? "" : ", ") + a.addr_string();
	return out;
}

bool among(const ilp::Endpoint &a, const std::vector<ilp::Endpoint> &list)
{
	return std::ranges::any_of(list, [&](const ilp::Endpoint &e) { return a.same_address(e); });
}

} // namespace

struct TlsContexts::Stores {
	std::map<std::string, StorePtr> edomains;
	StorePtr host_ca;
};

TlsContexts::TlsContexts(const TlsSettings &settings)
    : settings_(settings), stores_(std::make_unique<Stores>()), server_(ssl::context::tls_server)
{
	if (settings_.certificate.empty() != settings_.private_key.empty())
		throw ilp::Error(EINVAL, settings_.certificate.empty()
					     ? "a private key without a certificate"
					     : "the certificate " + settings_.certificate.string() +
						   " without its private key");
	if (settings_.host_auth == HostAuth::Required && settings_.host_ca.empty())
		throw ilp::Error(EINVAL,
				 "host certificates are required but no host CA bundle is set");

	common_setup(server_, settings_);
	SSL_CTX_set_client_hello_cb(server_.native_handle(), record_offered_version, nullptr);
	int mode = SSL_VERIFY_PEER;
	if (settings_.host_auth == HostAuth::Required)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(server_.native_handle(), mode, nullptr);

	for (const auto &[edomain, bundle] : settings_.trust) {
		const std::string what = "the CA bundle of edomain " + edomain;
		stores_->edomains.emplace(edomain, load_store(bundle, what));
		load_verify(server_, bundle, what);
		auto c = std::make_unique<ssl::context>(ssl::context::tls_client);
		common_setup(*c, settings_);
		SSL_CTX_set_verify(c->native_handle(), SSL_VERIFY_PEER, nullptr);
		load_verify(*c, bundle, what);
		clients_.emplace(edomain, std::move(c));
	}
	if (!settings_.host_ca.empty()) {
		stores_->host_ca = load_store(settings_.host_ca, "the host CA bundle");
		load_verify(server_, settings_.host_ca, "the host CA bundle");
	}
}

TlsContexts::~TlsContexts() = default;

ssl::context &TlsContexts::client(const std::string &edomain)
{
	auto it = clients_.find(edomain);
	if (it == clients_.end())
		throw ilp::Error(ENOENT, "no CA bundle for edomain '" + edomain + "'");
	return *it->second;
}

std::string edomain_uri(const std::string &edomain)
{
	return "ilp:edomain:" + edomain;
}

PeerIdentity identity_of_certificate(const std::filesystem::path &file)
{
	std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(file.c_str(), "r"), BIO_free);
	if (!bio)
		fail("cannot read the certificate", file);
	std::unique_ptr<X509, decltype(&X509_free)> cert(
	    PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
	if (!cert)
		fail("cannot read the certificate", file);
	PeerIdentity id;
	id.subject = rfc2253(X509_get_subject_name(cert.get()));
	read_san(cert.get(), id);
	return id;
}

PeerIdentity identity_of(SSL *ssl, const TlsContexts &contexts)
{
	PeerIdentity id;
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	if (!leaf)
		return id;
	id.subject = rfc2253(X509_get_subject_name(leaf));
	read_san(leaf, id);
	std::tm tm{};
	if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1)
		id.not_after = std::chrono::system_clock::from_time_t(timegm(&tm));
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return id;

	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	const bool peer_is_client = SSL_is_server(ssl) == 1;
	const auto &stores = contexts.stores();
	auto try_store = [&](const std::string &name, X509_STORE *store) {
		if (!store || !verifies(store, leaf, chain, peer_is_client))
			return false;
		id.trusted_by = name;
		id.authenticated = true;
		return true;
	};
	// The edomain the certificate claims first: when two edomains share
	// a CA, the certificate counts for the one it names.
	if (auto it = stores.edomains.find(id.edomain);
	    it != stores.edomains.end() && try_store(it->first, it->second.get()))
		return id;
	for (const auto &[name, store] : stores.edomains)
		if (name != id.edomain && try_store(name, store.get()))
			return id;
	try_store(kHostCa, stores.host_ca.get());
	return id;
}

void check_binding(const PeerIdentity &peer, const Hello &hello, const ilp::Endpoint &tcp_source,
		   HostAuth host_auth)
{
	const std::string address = hello.endpoint.addr_string();
	if (hello.role == Role::Sn) {
		if (!peer.authenticated)
			throw ProtocolError(ErrorCode::Refused,
					    "an SN must present a certificate of its edomain");
		if (peer.edomain.empty())
			throw ProtocolError(ErrorCode::Identity,
					    "the certificate (" + peer.subject +
						") names no single edomain in a SAN URI " +
						edomain_uri("NAME"));
		if (hello.edomain != peer.edomain)
			throw ProtocolError(ErrorCode::Identity,
					    "HELLO names edomain '" + hello.edomain +
						"' but the certificate (" + peer.subject +
						") is for '" + peer.edomain + "'");
		if (peer.trusted_by != peer.edomain)
			throw ProtocolError(
			    ErrorCode::Refused,
			    "not trusted: the certificate (" + peer.subject + ") for edomain '" +
				peer.edomain + "' was not verified by that edomain's CA bundle" +
				(peer.trusted_by.empty() ? std::string()
							 : " (only by " + peer.trusted_by + "'s)"));
		if (!among(hello.endpoint, peer.addresses))
			throw ProtocolError(ErrorCode::Identity,
					    "HELLO address " + address +
						" is not in the certificate (" + peer.subject +
						"; SAN IPs: " + addresses_of(peer) + ")");
		return;
	}
	if (!peer.authenticated && host_auth == HostAuth::Required)
		throw ProtocolError(ErrorCode::Refused,
				    "this SN requires hosts to present a certificate");
	if (peer.authenticated && host_auth != HostAuth::None) {
		if (!among(hello.endpoint, peer.addresses))
			throw ProtocolError(ErrorCode::Identity,
					    "HELLO address " + address +
						" is not in the certificate (" + peer.subject +
						"; SAN IPs: " + addresses_of(peer) + ")");
		return;
	}
	if (!hello.endpoint.same_address(tcp_source))
		throw ProtocolError(ErrorCode::Identity, "HELLO address " + address +
							     " is not the connection's source " +
							     tcp_source.addr_string());
}

std::string handshake_failure(SSL *ssl, const boost::system::error_code &ec)
{
	if (ec == ssl::error::stream_truncated || ec == boost::asio::error::eof ||
	    ec == boost::asio::error::connection_reset)
		return "the peer closed the connection during the TLS handshake";
	if (ec.category() != boost::asio::error::get_ssl_category())
		return ec.message();
	// asio keeps ERR_get_error()'s code in an int
	const auto code = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
	const int reason = ERR_GET_REASON(code);
	const char *text = ERR_reason_error_string(code);
	const std::string said = text ? text : ec.message();
	switch (reason) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_WRONG_SSL_VERSION:
	case SSL_R_WRONG_VERSION_NUMBER: {
		if (ssl && SSL_is_server(ssl) == 1) {
			auto v = int(reinterpret_cast<std::intptr_t>(
			    SSL_get_ex_data(ssl, offered_version_index())));
			if (const char *name = version_name(v))
				return std::string("refused: peer offers ") + name +
				       " at most, ILP requires TLS 1.3";
		}
		return "refused: peer does not speak TLS 1.3 (" + said + "), ILP requires TLS 1.3";
	}
	case SSL_R_CERTIFICATE_VERIFY_FAILED: {
		long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
		return "refused: the peer's certificate did not verify: " +
		       std::string(v != X509_V_OK ? X509_verify_cert_error_string(v) : said);
	}
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return "the peer closed the connection during the TLS handshake";
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return "refused: the peer presented no certificate and this node requires one";
	}
	// The peer's alert: it refused us ("tlsv1 alert unknown ca",
	// "sslv3 alert certificate expired", "tlsv13 alert certificate
	// required").  In TLS 1.3 a client hears of its certificate's
	// refusal only after its side of the handshake is done.
	if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
		return "the peer refused the connection: " + said;
	return "TLS: " + said;
}

} // namespace ilpd::ctl

// SPDX-License-Identifier: GPL-2.0-or-later
//
// The control channel's TLS, channels and listener, over real loopback
// TCP with a real io_context: certificates the test makes (a CA per
// edomain, a host CA, one CA nobody trusts), the refusals in the
// handshake and their reasons, the binding of a HELLO to a certificate,
// TLS 1.2 refused, the bounds on handshakes, the keepalive and dead-peer
// timers, and a malformed frame answered with an ERROR.
#include <chrono>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <cppunit/extensions/HelperMacros.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ilp/error.hpp>

#include "association/channel.hpp"
#include "association/listener.hpp"
#include "association/messages.hpp"
#include "association/tls.hpp"
#include "temp_dir.hpp"

using namespace ilpd::ctl;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace
{

struct KeyFree {
	void operator()(EVP_PKEY *k) const noexcept { EVP_PKEY_free(k); }
};
struct CertFree {
	void operator()(X509 *x) const noexcept { X509_free(x); }
};

// A certificate and its key, made here and written as PEM.
struct Pki {
	std::unique_ptr<EVP_PKEY, KeyFree> key;
	std::unique_ptr<X509, CertFree> cert;
	fs::path cert_file, key_file;
};

void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const std::string &value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
	if (!e)
		throw std::runtime_error("bad extension " + value);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

// @issuer null: a self-signed CA.  @san: "IP:127.0.0.1,URI:ilp:edomain:a".
// Valid from @from to @to seconds from now.
Pki make(const fs::path &dir, const std::string &name, const std::string &org, const Pki *issuer,
	 const std::string &san, long from = -60, long to = 86400)
{
	Pki p;
	p.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
	p.cert.reset(X509_new());
	X509 *x = p.cert.get();
	X509_set_version(x, 2);
	static long serial = 1;
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, p.key.get());
	X509_NAME *subject = X509_get_subject_name(x);
	auto text = [](const std::string &s) {
		return reinterpret_cast<const unsigned char *>(s.c_str());
	};
	X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, text(org), -1, -1, 0);
	X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, text(name), -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert.get()) : subject);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer->cert.get() : x, x, nullptr, nullptr, 0);
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (!issuer) {
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, &ctx, NID_authority_key_identifier, "keyid");
		add_ext(x, &ctx, NID_basic_constraints, "CA:FALSE");
		add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
		add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
		add_ext(x, &ctx, NID_subject_alt_name, san);
	}
	X509_sign(x, issuer ? issuer->key.get() : p.key.get(), EVP_sha256());

	p.cert_file = dir / (name + ".crt");
	p.key_file = dir / (name + ".key");
	BIO *b = BIO_new_file(p.cert_file.c_str(), "w");
	PEM_write_bio_X509(b, x);
	BIO_free(b);
	b = BIO_new_file(p.key_file.c_str(), "w");
	PEM_write_bio_PrivateKey(b, p.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
	BIO_free(b);
	return p;
}

// What one end of a channel saw.
struct Side {
	std::shared_ptr<Channel> ch;
	bool up = false, closed = false;
	std::string why;
	std::vector<Message> got;
	// Run on each message, after it is recorded.
	std::function<void(Channel &, const Message &)> react;

	Channel::Handlers handlers()
	{
		return {
		    [this](Channel &c) {
			    up = true;
			    ch = c.shared_from_this();
		    },
		    [this](Channel &c, Message &&m) {
			    got.push_back(m);
			    if (react)
				    react(c, got.back());
		    },
		    [this](Channel &c, const std::string &w) {
			    closed = true;
			    why = w;
			    if (!ch)
				    ch = c.shared_from_this();
		    },
		};
	}

	template <class T>
	std::size_t count() const
	{
		std::size_t n = 0;
		for (const auto &m : got)
			n += std::holds_alternative<T>(m);
		return n;
	}
};

bool contains(const std::string &s, const std::string &part)
{
	return s.find(part) != std::string::npos;
}

ilp::Endpoint ep(const std::string &text)
{
	return ilp::Endpoint::parse(text);
}

// A TLS client or server that is not a Channel: to speak old TLS, or to
// write bytes that are not a frame.
struct RawTls {
	asio::ssl::context ctx;
	asio::ssl::stream<tcp::socket> s;
	bool done = false, wrote = false;
	boost::system::error_code ec;
	std::vector<std::uint8_t> read;
	std::array<std::uint8_t, 2048> buf{};

	RawTls(asio::io_context &io, asio::ssl::context::method m, int max_version)
	    : ctx(m), s(io, ctx)
	{
		// The SSL is made: it has copied the context's settings.
		SSL_set_max_proto_version(s.native_handle(), max_version);
		SSL_set_verify(s.native_handle(), SSL_VERIFY_NONE, nullptr);
	}

	// Reads until the connection ends; done then.
	void read_all()
	{
		s.async_read_some(
		    asio::buffer(buf), [this](const boost::system::error_code &e, std::size_t n) {
			    read.insert(read.end(), buf.begin(), buf.begin() + long(n));
			    if (e) {
				    ec = e;
				    done = true;
				    return;
			    }
			    read_all();
		    });
	}
};

} // namespace

class ControlChannelTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ControlChannelTest);
	CPPUNIT_TEST(sn_to_sn__frames_both_ways_in_order);
	CPPUNIT_TEST(handshake__wrong_ca_refused);
	CPPUNIT_TEST(handshake__expired_certificate_refused);
	CPPUNIT_TEST(binding__name_edomain_and_address_must_match);
	CPPUNIT_TEST(binding__edomain_counts_only_from_its_own_ca);
	CPPUNIT_TEST(tls12_client__refused_with_a_clear_reason);
	CPPUNIT_TEST(tls12_server__refused_by_the_client);
	CPPUNIT_TEST(host__anonymous_accepted_when_optional);
	CPPUNIT_TEST(host__anonymous_refused_when_required);
	CPPUNIT_TEST(listener__silent_connection_closed_after_handshake_timeout);
	CPPUNIT_TEST(listener__handshakes_bounded_and_counted);
	CPPUNIT_TEST(timers__silent_peer_closed_live_peer_kept);
	CPPUNIT_TEST(frames__malformed_answered_with_error_and_closed);
	CPPUNIT_TEST(settings__bad_files_named);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_;
	Pki ca_a_, ca_b_, ca_x_, host_ca_;
	Pki sn1_, sn2_, snb_, rogue_, expired_, impostor_, h1_;
	std::list<std::unique_ptr<TlsContexts>> contexts_; // outlive the io_context's channels
	asio::io_context io_;
	asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
	std::list<Side> accepted_;
	ChannelTimers timers_{2000ms, 10000ms, 10000ms};

	template <class P>
	bool run_until(P done, std::chrono::milliseconds limit = 3000ms)
	{
		const auto end = Clock::now() + limit;
		while (!done()) {
			if (Clock::now() >= end)
				return false;
			io_.run_for(5ms);
		}
		return true;
	}

	TlsSettings settings(const Pki *own, HostAuth host_auth = HostAuth::Optional)
	{
		TlsSettings s;
		if (own) {
			s.certificate = own->cert_file;
			s.private_key = own->key_file;
		}
		s.trust = {{"a", ca_a_.cert_file}, {"b", ca_b_.cert_file}};
		s.host_ca = host_ca_.cert_file;
		s.host_auth = host_auth;
		return s;
	}

	TlsContexts &contexts(const TlsSettings &s)
	{
		return *contexts_.emplace_back(std::make_unique<TlsContexts>(s));
	}

	// A listener on 127.0.0.1 whose channels' ends are accepted_.
	std::unique_ptr<Listener> listen(TlsContexts &c, ChannelTimers t, std::size_t max = 16)
	{
		return std::make_unique<Listener>(
		    io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), c, t, max,
		    [this](const tcp::endpoint &) { return accepted_.emplace_back().handlers(); });
	}

	std::shared_ptr<Channel> dial(Side &side, const Listener &l, const Pki *own,
				      const std::string &from, ChannelTimers t,
				      const std::string &edomain = "a")
	{
		return Channel::connect(io_, l.local(), contexts(settings(own)), edomain, t,
					side.handlers(), asio::ip::make_address(from));
	}

	// A client @own (nullptr: anonymous) against a server @server; both
	// ends' reasons once both are closed or both up.
	void pair(const Pki &server, const Pki *own, const std::string &from, Side &client,
		  HostAuth host_auth = HostAuth::Optional)
	{
		auto l = listen(contexts(settings(&server, host_auth)), timers_);
		dial(client, *l, own, from, timers_);
		CPPUNIT_ASSERT(run_until([&] {
			return !accepted_.empty() && ((accepted_.back().up && client.up) ||
						      (accepted_.back().closed && client.closed));
		}));
	}

public:
	void setUp() override
	{
		const auto &d = dir_.path();
		ca_a_ = make(d, "ca-a", "a", nullptr, "");
		ca_b_ = make(d, "ca-b", "b", nullptr, "");
		ca_x_ = make(d, "ca-x", "x", nullptr, "");
		host_ca_ = make(d, "host-ca", "hosts", nullptr, "");
		sn1_ = make(d, "sn1", "a", &ca_a_, "IP:127.0.0.1,URI:ilp:edomain:a");
		sn2_ = make(d, "sn2", "a", &ca_a_, "IP:127.0.0.2,IP:::1,URI:ilp:edomain:a");
		snb_ = make(d, "snb", "b", &ca_b_, "IP:127.0.0.3,URI:ilp:edomain:b");
		// Another CA's certificate claiming a's name and address.
		rogue_ = make(d, "rogue", "a", &ca_x_, "IP:127.0.0.2,URI:ilp:edomain:a");
		expired_ = make(d, "expired", "a", &ca_a_, "IP:127.0.0.2,URI:ilp:edomain:a",
				-2 * 86400, -86400);
		// b's CA, trusted for b, vouching for a name in a.
		impostor_ = make(d, "impostor", "b", &ca_b_, "IP:127.0.0.2,URI:ilp:edomain:a");
		h1_ = make(d, "h1", "hosts", &host_ca_, "IP:127.0.0.5");
	}

	void sn_to_sn__frames_both_ways_in_order()
	{
		Side client;
		pair(sn1_, &sn2_, "127.0.0.2", client);
		Side &server = accepted_.back();
		CPPUNIT_ASSERT(server.up && client.up);

		const PeerIdentity &s = server.ch->identity();
		CPPUNIT_ASSERT(s.authenticated);
		CPPUNIT_ASSERT_EQUAL(std::string("CN=sn2,O=a"), s.subject);
		CPPUNIT_ASSERT_EQUAL(std::string("a"), s.edomain);
		CPPUNIT_ASSERT_EQUAL(std::string("a"), s.trusted_by);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), s.addresses.size());
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.2"), s.addresses[0].addr_string());
		CPPUNIT_ASSERT_EQUAL(std::string("::1"), s.addresses[1].addr_string());
		CPPUNIT_ASSERT(s.not_after > std::chrono::system_clock::now() + 23h);
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.2"), server.ch->source().addr_string());
		const PeerIdentity &c = client.ch->identity();
		CPPUNIT_ASSERT(c.authenticated);
		CPPUNIT_ASSERT_EQUAL(std::string("CN=sn1,O=a"), c.subject);
		CPPUNIT_ASSERT_EQUAL(std::string("a"), c.trusted_by);
		CPPUNIT_ASSERT(contains(client.ch->name(), "(CN=sn1,O=a)"));

		// Each side's HELLO binds to what its certificate says.
		check_binding(s, Hello{Role::Sn, false, ep("127.0.0.2:1000"), "a"},
			      server.ch->source(), HostAuth::Required);
		check_binding(c, Hello{Role::Sn, false, ep("127.0.0.1:1000"), "a"},
			      client.ch->source(), HostAuth::Required);

		constexpr std::uint32_t n = 200;
		for (std::uint32_t i = 1; i <= n; i++) {
			client.ch->send(SaAck{i, 1000 + i});
			server.ch->send(SaAck{i, 5000 + i});
		}
		CPPUNIT_ASSERT(
		    run_until([&] { return server.got.size() >= n && client.got.size() >= n; }));
		CPPUNIT_ASSERT_EQUAL(std::size_t(n), server.got.size());
		CPPUNIT_ASSERT_EQUAL(std::size_t(n), client.got.size());
		for (std::uint32_t i = 1; i <= n; i++) {
			CPPUNIT_ASSERT(server.got[i - 1] == Message(SaAck{i, 1000 + i}));
			CPPUNIT_ASSERT(client.got[i - 1] == Message(SaAck{i, 5000 + i}));
		}

		// A quiet close: close_notify, and each end told once.
		client.ch->close();
		CPPUNIT_ASSERT(!client.ch->is_open());
		CPPUNIT_ASSERT(run_until([&] { return server.closed; }));
		CPPUNIT_ASSERT(contains(server.why, "the peer closed the channel"));
		CPPUNIT_ASSERT(contains(client.why, "closed by this side"));
		client.ch->send(Keepalive{}); // a no-op now
	}

	void handshake__wrong_ca_refused()
	{
		// The client's certificate is from a CA the server does not trust.
		Side client;
		pair(sn1_, &rogue_, "127.0.0.2", client);
		Side &server = accepted_.back();
		CPPUNIT_ASSERT(run_until([&] { return server.closed && client.closed; }));
		CPPUNIT_ASSERT(!server.up);
		CPPUNIT_ASSERT_MESSAGE(
		    server.why, contains(server.why, "certificate did not verify: unable to get "
						     "local issuer certificate"));
		CPPUNIT_ASSERT_MESSAGE(
		    client.why,
		    contains(client.why,
			     "the peer refused the connection: tlsv1 alert unknown ca"));

		// The server's certificate is: the client refuses it.
		Side c2;
		pair(rogue_, &sn2_, "127.0.0.2", c2);
		Side &s2 = accepted_.back();
		CPPUNIT_ASSERT(!c2.up && c2.closed);
		CPPUNIT_ASSERT_MESSAGE(c2.why,
				       contains(c2.why, "certificate did not verify: unable "
							"to get local issuer certificate"));
		CPPUNIT_ASSERT(run_until([&] { return s2.closed; }));
		CPPUNIT_ASSERT(!s2.up);
	}

	void handshake__expired_certificate_refused()
	{
		Side client;
		pair(sn1_, &expired_, "127.0.0.2", client);
		Side &server = accepted_.back();
		CPPUNIT_ASSERT(run_until([&] { return server.closed && client.closed; }));
		CPPUNIT_ASSERT(!server.up);
		CPPUNIT_ASSERT_MESSAGE(server.why, contains(server.why, "certificate has expired"));
		CPPUNIT_ASSERT_MESSAGE(
		    client.why,
		    contains(client.why,
			     "the peer refused the connection: sslv3 alert certificate expired"));

		Side c2;
		pair(expired_, &sn1_, "127.0.0.1", c2);
		CPPUNIT_ASSERT(!c2.up);
		CPPUNIT_ASSERT_MESSAGE(c2.why, contains(c2.why, "certificate has expired"));
	}

	static std::string refusal(const PeerIdentity &p, const Hello &h, const ilp::Endpoint &src,
				   HostAuth a, ErrorCode expect)
	{
		try {
			check_binding(p, h, src, a);
		} catch (const ProtocolError &e) {
			CPPUNIT_ASSERT_EQUAL_MESSAGE(e.what(), int(expect), int(e.code()));
			return e.what();
		}
		CPPUNIT_FAIL("check_binding accepted it");
		return {};
	}

	void binding__name_edomain_and_address_must_match()
	{
		Side client;
		pair(sn1_, &sn2_, "127.0.0.2", client);
		const PeerIdentity &id = accepted_.back().ch->identity();
		const auto src = ep("127.0.0.2");
		const auto A = HostAuth::Optional;

		auto why = refusal(id, Hello{Role::Sn, false, ep("127.0.0.2:1000"), "b"}, src, A,
				   ErrorCode::Identity);
		CPPUNIT_ASSERT_MESSAGE(why, contains(why, "HELLO names edomain 'b'") &&
						contains(why, "is for 'a'"));
		why = refusal(id, Hello{Role::Sn, false, ep("127.0.0.9:1000"), "a"}, src, A,
			      ErrorCode::Identity);
		CPPUNIT_ASSERT_MESSAGE(why, contains(why, "127.0.0.9 is not in the certificate") &&
						contains(why, "127.0.0.2, ::1"));
		// Its other SAN address binds as well.
		check_binding(id, Hello{Role::Sn, false, ep("[::1]:1000"), "a"}, src, A);

		// An SN without a certificate.
		why = refusal(PeerIdentity{}, Hello{Role::Sn, false, ep("127.0.0.2:1000"), "a"},
			      src, A, ErrorCode::Refused);
		CPPUNIT_ASSERT(contains(why, "must present a certificate"));

		// A host with a certificate: bound by its SAN, not its source.
		PeerIdentity host = id;
		host.edomain.clear();
		check_binding(host, Hello{Role::Host, false, ep("127.0.0.2:1000"), ""},
			      ep("10.9.9.9"), A);
		why = refusal(host, Hello{Role::Host, false, ep("127.0.0.7:1000"), ""}, src, A,
			      ErrorCode::Identity);
		CPPUNIT_ASSERT(contains(why, "127.0.0.7 is not in the certificate"));
		// An anonymous host: by its source address, refused if required.
		check_binding(PeerIdentity{}, Hello{Role::Host, false, ep("127.0.0.5:1000"), ""},
			      ep("127.0.0.5"), A);
		why = refusal(PeerIdentity{}, Hello{Role::Host, false, ep("127.0.0.6:1000"), ""},
			      ep("127.0.0.5"), A, ErrorCode::Identity);
		CPPUNIT_ASSERT(contains(why, "127.0.0.6 is not the connection's source 127.0.0.5"));
		why = refusal(PeerIdentity{}, Hello{Role::Host, false, ep("127.0.0.5:1000"), ""},
			      ep("127.0.0.5"), HostAuth::Required, ErrorCode::Refused);
		CPPUNIT_ASSERT(contains(why, "requires hosts to present a certificate"));
		// HostAuth::None: the source address, whatever the certificate.
		refusal(host, Hello{Role::Host, false, ep("127.0.0.2:1000"), ""}, ep("127.0.0.5"),
			HostAuth::None, ErrorCode::Identity);
	}

	void binding__edomain_counts_only_from_its_own_ca()
	{
		// b's CA signed a certificate naming edomain a: the handshake
		// passes (b is trusted), the binding does not.
		Side client;
		pair(sn1_, &impostor_, "127.0.0.2", client);
		Side &server = accepted_.back();
		CPPUNIT_ASSERT(server.up);
		const PeerIdentity &id = server.ch->identity();
		CPPUNIT_ASSERT_EQUAL(std::string("a"), id.edomain);
		CPPUNIT_ASSERT_EQUAL(std::string("b"), id.trusted_by);
		auto why = refusal(id, Hello{Role::Sn, false, ep("127.0.0.2:1000"), "a"},
				   server.ch->source(), HostAuth::Optional, ErrorCode::Refused);
		CPPUNIT_ASSERT_MESSAGE(why,
				       contains(why, "not verified by that edomain's CA bundle"));
	}

	void tls12_client__refused_with_a_clear_reason()
	{
		auto l = listen(contexts(settings(&sn1_)), timers_);
		RawTls raw(io_, asio::ssl::context::tls_client, TLS1_2_VERSION);
		bool failed = false;
		raw.s.lowest_layer().async_connect(
		    l->local(), [&](const boost::system::error_code &e) {
			    CPPUNIT_ASSERT(!e);
			    raw.s.async_handshake(asio::ssl::stream_base::client,
						  [&](const boost::system::error_code &h) {
							  failed = bool(h);
							  raw.done = true;
						  });
		    });
		CPPUNIT_ASSERT(run_until([&] { return raw.done; }));
		CPPUNIT_ASSERT(failed);
		CPPUNIT_ASSERT(
		    run_until([&] { return !accepted_.empty() && accepted_.back().closed; }));
		const Side &server = accepted_.back();
		CPPUNIT_ASSERT(!server.up);
		CPPUNIT_ASSERT_MESSAGE(
		    server.why, contains(server.why, "refused: peer offers TLS 1.2 at most, ILP "
						     "requires TLS 1.3"));
	}

	void tls12_server__refused_by_the_client()
	{
		// A server that speaks TLS 1.2 at most.
		RawTls raw(io_, asio::ssl::context::tls_server, TLS1_2_VERSION);
		SSL_use_certificate_chain_file(raw.s.native_handle(), sn1_.cert_file.c_str());
		SSL_use_PrivateKey_file(raw.s.native_handle(), sn1_.key_file.c_str(),
					SSL_FILETYPE_PEM);
		tcp::acceptor acc(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
		acc.async_accept(raw.s.lowest_layer(), [&](const boost::system::error_code &e) {
			if (!e)
				raw.s.async_handshake(
				    asio::ssl::stream_base::server,
				    [&](const boost::system::error_code &) { raw.done = true; });
		});
		Side client;
		Channel::connect(io_, acc.local_endpoint(), contexts(settings(&sn2_)), "a", timers_,
				 client.handlers());
		CPPUNIT_ASSERT(run_until([&] { return client.closed && raw.done; }));
		CPPUNIT_ASSERT(!client.up);
		CPPUNIT_ASSERT_MESSAGE(client.why, contains(client.why, "ILP requires TLS 1.3"));
	}

	void host__anonymous_accepted_when_optional()
	{
		auto l = listen(contexts(settings(&sn1_, HostAuth::Optional)), timers_);
		Side host;
		dial(host, *l, nullptr, "127.0.0.5", timers_);
		CPPUNIT_ASSERT(run_until(
		    [&] { return !accepted_.empty() && accepted_.back().up && host.up; }));
		Side &sn = accepted_.back();
		// The SN checks the HELLO as the association will, and answers.
		HostAuth auth = HostAuth::Optional;
		sn.react = [&](Channel &c, const Message &m) {
			check_binding(c.identity(), std::get<Hello>(m), c.source(), auth);
			c.send(Hello{Role::Sn, false, ep("127.0.0.1:1000"), "a"});
		};
		CPPUNIT_ASSERT(!sn.ch->identity().authenticated);
		CPPUNIT_ASSERT_EQUAL(std::string(), sn.ch->identity().subject);
		CPPUNIT_ASSERT_EQUAL(std::string(), sn.ch->identity().trusted_by);
		CPPUNIT_ASSERT(host.ch->identity().authenticated);
		host.ch->send(Hello{Role::Host, false, ep("127.0.0.5:1000"), ""});
		CPPUNIT_ASSERT(run_until([&] { return host.got.size() == 1; }));
		CPPUNIT_ASSERT(std::holds_alternative<Hello>(host.got[0]));
		CPPUNIT_ASSERT(sn.ch->is_up() && host.ch->is_up());

		// The same HELLO under Required: refused, and the host is told.
		auth = HostAuth::Required;
		host.ch->send(Hello{Role::Host, false, ep("127.0.0.5:1000"), ""});
		CPPUNIT_ASSERT(run_until([&] { return host.closed && sn.closed; }));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), host.got.size());
		const auto *err = std::get_if<ErrorMsg>(&host.got[1]);
		CPPUNIT_ASSERT(err && err->code == ErrorCode::Refused);
		CPPUNIT_ASSERT(contains(err->reason, "requires hosts to present a certificate"));
		CPPUNIT_ASSERT_MESSAGE(sn.why, contains(sn.why, "sent ERROR refused"));
		CPPUNIT_ASSERT_MESSAGE(host.why, contains(host.why, "the peer sent ERROR"));

		// A host with a certificate from the host CA is authenticated.
		Side h1;
		dial(h1, *l, &h1_, "127.0.0.5", timers_);
		CPPUNIT_ASSERT(
		    run_until([&] { return accepted_.size() == 2 && accepted_.back().up; }));
		const PeerIdentity &id = accepted_.back().ch->identity();
		CPPUNIT_ASSERT(id.authenticated);
		CPPUNIT_ASSERT_EQUAL(std::string(kHostCa), id.trusted_by);
		CPPUNIT_ASSERT_EQUAL(std::string("CN=h1,O=hosts"), id.subject);
	}

	void host__anonymous_refused_when_required()
	{
		// Required: no certificate, no handshake.
		Side host;
		pair(sn1_, nullptr, "127.0.0.5", host, HostAuth::Required);
		Side &sn = accepted_.back();
		CPPUNIT_ASSERT(run_until([&] { return sn.closed && host.closed; }));
		CPPUNIT_ASSERT(!sn.up);
		CPPUNIT_ASSERT_MESSAGE(sn.why, contains(sn.why, "presented no certificate"));
		CPPUNIT_ASSERT_MESSAGE(
		    host.why,
		    contains(host.why,
			     "the peer refused the connection: tlsv13 alert certificate required"));

		// With its certificate it is let in.
		Side h1;
		pair(sn1_, &h1_, "127.0.0.5", h1, HostAuth::Required);
		CPPUNIT_ASSERT(accepted_.back().up && h1.up);
	}

	void listener__silent_connection_closed_after_handshake_timeout()
	{
		auto l = listen(contexts(settings(&sn1_)), {300ms, 10000ms, 10000ms});
		tcp::socket silent(io_);
		silent.connect(l->local());
		const auto start = Clock::now();
		bool eof = false;
		std::array<char, 16> b{};
		silent.async_read_some(asio::buffer(b), [&](const boost::system::error_code &e,
							    std::size_t) { eof = bool(e); });
		CPPUNIT_ASSERT(run_until([&] { return l->handshaking() == 1; }));
		CPPUNIT_ASSERT(run_until([&] { return eof; }));
		const auto took = Clock::now() - start;
		CPPUNIT_ASSERT(took >= 280ms && took < 1500ms);
		CPPUNIT_ASSERT(
		    run_until([&] { return !accepted_.empty() && accepted_.back().closed; }));
		CPPUNIT_ASSERT_MESSAGE(
		    accepted_.back().why,
		    contains(accepted_.back().why, "TLS handshake not done within 300 ms"));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), l->handshaking());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), l->refused());
	}

	void listener__handshakes_bounded_and_counted()
	{
		auto l = listen(contexts(settings(&sn1_)), {500ms, 10000ms, 10000ms}, 2);
		std::deque<tcp::socket> socks;
		std::vector<int> ended(3, 0);
		std::array<char, 16> b{};
		for (int i = 0; i < 3; i++) {
			socks.emplace_back(io_).connect(l->local());
			socks.back().async_read_some(
			    asio::buffer(b),
			    [&, i](const boost::system::error_code &e, std::size_t) {
				    ended[std::size_t(i)] = e ? 1 : 0;
			    });
			if (i < 2)
				CPPUNIT_ASSERT(run_until(
				    [&] { return l->handshaking() == std::size_t(i + 1); }));
		}
		// The third is dropped at once, the first two wait out their time.
		CPPUNIT_ASSERT(run_until([&] { return ended[2] == 1; }, 300ms));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), l->refused());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), l->handshaking());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), accepted_.size());
		CPPUNIT_ASSERT(ended[0] == 0 && ended[1] == 0);

		CPPUNIT_ASSERT(run_until([&] { return ended[0] && ended[1]; }));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), l->handshaking());
		// Room again: a real peer comes up, and is no longer counted as
		// handshaking once it is.
		Side client;
		dial(client, *l, &sn2_, "127.0.0.2", timers_);
		CPPUNIT_ASSERT(run_until(
		    [&] { return client.up && accepted_.size() == 3 && accepted_.back().up; }));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), l->handshaking());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), l->refused());
	}

	void timers__silent_peer_closed_live_peer_kept()
	{
		auto l = listen(contexts(settings(&sn1_)), {2000ms, 60000ms, 300ms});
		Side silent, live;
		dial(silent, *l, &sn2_, "127.0.0.2", {2000ms, 60000ms, 60000ms});
		CPPUNIT_ASSERT(run_until(
		    [&] { return silent.up && accepted_.size() == 1 && accepted_.back().up; }));
		Side &silent_sn = accepted_.back();
		dial(live, *l, &sn2_, "127.0.0.2", {2000ms, 100ms, 60000ms});
		CPPUNIT_ASSERT(run_until(
		    [&] { return live.up && accepted_.size() == 2 && accepted_.back().up; }));
		Side &live_sn = accepted_.back();
		const auto start = Clock::now();

		CPPUNIT_ASSERT(run_until([&] { return silent.closed && silent_sn.closed; }));
		const auto took = Clock::now() - start;
		CPPUNIT_ASSERT(took < 600ms);
		CPPUNIT_ASSERT_MESSAGE(silent_sn.why,
				       contains(silent_sn.why, "no frame for 300 ms"));
		// The silent peer was told why: an ERROR timeout, then the close.
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), silent.got.size());
		const auto *err = std::get_if<ErrorMsg>(&silent.got[0]);
		CPPUNIT_ASSERT(err && err->code == ErrorCode::Timeout);
		CPPUNIT_ASSERT_MESSAGE(silent.why,
				       contains(silent.why, "the peer sent ERROR code=timeout"));

		// Three dead-peer periods on, the one that keeps alive is up.
		io_.run_for(900ms);
		CPPUNIT_ASSERT(live.ch->is_up() && live_sn.ch->is_up());
		CPPUNIT_ASSERT(!live.closed && !live_sn.closed);
		CPPUNIT_ASSERT(live_sn.count<Keepalive>() >= 6);
		// The server sends its own only after 60 s of quiet.
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), live.got.size());
	}

	// Writes @bytes over TLS to a listener's channel; returns the ERROR
	// it answers with.
	ErrorMsg answer_to(const Listener &l, const std::vector<std::uint8_t> &bytes)
	{
		RawTls raw(io_, asio::ssl::context::tls_client, TLS1_3_VERSION);
		raw.s.lowest_layer().async_connect(
		    l.local(), [&](const boost::system::error_code &e) {
			    CPPUNIT_ASSERT(!e);
			    raw.s.async_handshake(
				asio::ssl::stream_base::client,
				[&](const boost::system::error_code &h) {
					CPPUNIT_ASSERT(!h);
					asio::async_write(raw.s, asio::buffer(bytes),
							  [&](auto, auto) { raw.wrote = true; });
					raw.read_all();
				});
		    });
		CPPUNIT_ASSERT(run_until([&] { return raw.done && raw.wrote; }));
		FrameReader r;
		r.feed(raw.read);
		auto m = r.next();
		CPPUNIT_ASSERT(m && std::holds_alternative<ErrorMsg>(*m));
		CPPUNIT_ASSERT(!r.next());
		// The channel closed with TLS close_notify.
		CPPUNIT_ASSERT_MESSAGE(raw.ec.message(), raw.ec == asio::error::eof);
		return std::get<ErrorMsg>(*m);
	}

	void frames__malformed_answered_with_error_and_closed()
	{
		auto l = listen(contexts(settings(&sn1_)), timers_);
		// A healthy channel on the same listener, to show it is untouched.
		Side good;
		dial(good, *l, &sn2_, "127.0.0.2", timers_);
		CPPUNIT_ASSERT(run_until(
		    [&] { return good.up && !accepted_.empty() && accepted_.front().up; }));

		// SA_ACK with a body of 3 bytes.
		auto e = answer_to(*l, {1, 3, 0, 3, 0, 0, 0});
		CPPUNIT_ASSERT_EQUAL(int(ErrorCode::Malformed), int(e.code));
		CPPUNIT_ASSERT(run_until([&] { return accepted_.back().closed; }));
		const std::string why = accepted_.back().why;
		CPPUNIT_ASSERT_MESSAGE(why, contains(why, "127.0.0.1:") &&
						contains(why, "sent ERROR malformed"));

		// A header announcing 2000 bytes: refused before any body.
		e = answer_to(*l, {1, 3, 0x07, 0xd0});
		CPPUNIT_ASSERT_EQUAL(int(ErrorCode::Malformed), int(e.code));
		// An unknown type, and a version from the future.
		e = answer_to(*l, {1, 99, 0, 0});
		CPPUNIT_ASSERT_EQUAL(int(ErrorCode::UnknownType), int(e.code));
		e = answer_to(*l, {2, 5, 0, 0});
		CPPUNIT_ASSERT_EQUAL(int(ErrorCode::Version), int(e.code));

		// The good channel carries on.
		good.ch->send(Rekey{kRekeyAdmin});
		CPPUNIT_ASSERT(run_until([&] { return accepted_.front().got.size() == 1; }));
		CPPUNIT_ASSERT(good.ch->is_up() && accepted_.front().ch->is_up());
	}

	void settings__bad_files_named()
	{
		auto error_of = [](const TlsSettings &s) -> std::string {
			try {
				TlsContexts c(s);
			} catch (const ilp::Error &e) {
				return e.what();
			}
			return "no error";
		};
		TlsSettings s = settings(&sn1_);
		s.certificate = dir_.path() / "absent.crt";
		auto why = error_of(s);
		CPPUNIT_ASSERT_MESSAGE(why, contains(why, "absent.crt: no such file"));

		s = settings(&sn1_);
		s.private_key = sn2_.key_file; // another certificate's key
		why = error_of(s);
		CPPUNIT_ASSERT_MESSAGE(why,
				       contains(why, "sn2.key does not match the certificate"));

		s = settings(&sn1_);
		s.trust["c"] = dir_.write("junk.pem", "not a certificate\n");
		why = error_of(s);
		CPPUNIT_ASSERT_MESSAGE(why, contains(why, "CA bundle of edomain c") &&
						contains(why, "junk.pem"));

		s = settings(&sn1_, HostAuth::Required);
		s.host_ca.clear();
		why = error_of(s);
		CPPUNIT_ASSERT_MESSAGE(why, contains(why, "no host CA bundle"));

		CPPUNIT_ASSERT_EQUAL(std::string("no error"), error_of(settings(nullptr)));
		TlsContexts c(settings(nullptr));
		CPPUNIT_ASSERT_THROW(c.client("nowhere"), ilp::Error);
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(ControlChannelTest);

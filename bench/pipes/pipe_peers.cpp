// SPDX-License-Identifier: GPL-2.0-or-later
//
// The peer SNs of the pipe benchmark (bench/pipes/run.sh): N simulated
// SNs, each on a loopback address of its own with a certificate of its
// own, open one control channel each to a real ilpd (the hub) and keep
// it keyed, while this program measures the hub from /proc.
//
//	pipe_peers --make-ca DIR --hub ADDR [--edomain NAME]
//	pipe_peers --ca DIR --hub ADDR:PORT --count N --hub-pid PID [...]
//
// The first form writes a CA (ca.crt, ca.key) and the hub's certificate
// (hub.crt, hub.key) into DIR.  The second makes N leaf certificates
// from that CA in memory and opens the pipes.  A peer is not an ilpd: it
// speaks the protocol of docs/control.md with the project's codec and
// nothing else (no datapath of its own), answers each of the hub's
// offers with an ack and an offer of its own, as an ilpd that rotates on
// the same schedule would, and sends keepalives.  All the work measured
// is the hub's: TLS 1.3 handshakes, certificate checks, keying into its
// datapath, rotation, retirement.
//
// What it measures, in order: the hub's RSS with no pipe; the bring-up
// (time, hub CPU) and the RSS with N; an idle window (keepalives only)
// from the bring-up's end to the hub's first rotation; then a window of
// --rotations whole rotation intervals, from the first rotation's first
// offer to the one after the last.  Each line it prints is for people;
// the last, "result k=v ...", is for run.sh.  Then it keeps the pipes up
// until SIGTERM, so that run.sh can ask the hub what it sees.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "association/messages.hpp"

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace
{

[[noreturn]] void die(const std::string &why)
{
	std::cerr << "pipe_peers: " << why << "\n";
	std::exit(1);
}

// ---- Certificates ----

struct KeyFree {
	void operator()(EVP_PKEY *k) const noexcept { EVP_PKEY_free(k); }
};
struct CertFree {
	void operator()(X509 *x) const noexcept { X509_free(x); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

struct Identity {
	KeyPtr key;
	CertPtr cert;
};

void extend(X509 *x, X509V3_CTX *ctx, int nid, const std::string &value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
	if (!e)
		die("cannot make extension " + value);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

// An EC P-256 key and its certificate, valid for a week from an hour
// ago (clocks of the hub and this program are the same, but a little
// slack costs nothing).  @ca null: the CA itself, self-signed.  @san:
// "IP:127.1.0.1,URI:ilp:edomain:bench" for a node.
Identity make_identity(const std::string &cn, const Identity *ca, const std::string &san,
		       long serial)
{
	Identity id;
	id.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
	id.cert.reset(X509_new());
	if (!id.key || !id.cert)
		die("key generation failed");
	X509 *x = id.cert.get();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400);
	X509_set_pubkey(x, id.key.get());
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
				   reinterpret_cast<const unsigned char *>("ilp bench"), -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   reinterpret_cast<const unsigned char *>(cn.c_str()), -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca->cert.get()) : name);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, ca ? ca->cert.get() : x, x, nullptr, nullptr, 0);
	if (!ca) {
		extend(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		extend(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		extend(x, &ctx, NID_basic_constraints, "CA:FALSE");
		extend(x, &ctx, NID_key_usage, "critical,digitalSignature");
		extend(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
		extend(x, &ctx, NID_subject_alt_name, san);
	}
	if (!X509_sign(x, ca ? ca->key.get() : id.key.get(), EVP_sha256()))
		die("signing " + cn + " failed");
	return id;
}

void write_identity(const Identity &id, const fs::path &cert, const fs::path &key)
{
	BIO *b = BIO_new_file(cert.c_str(), "w");
	if (!b || !PEM_write_bio_X509(b, id.cert.get()))
		die("cannot write " + cert.string());
	BIO_free(b);
	b = BIO_new_file(key.c_str(), "w");
	if (!b || !PEM_write_bio_PrivateKey(b, id.key.get(), nullptr, nullptr, 0, nullptr, nullptr))
		die("cannot write " + key.string());
	BIO_free(b);
	fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write);
}

Identity read_identity(const fs::path &cert, const fs::path &key)
{
	Identity id;
	BIO *b = BIO_new_file(cert.c_str(), "r");
	if (b)
		id.cert.reset(PEM_read_bio_X509(b, nullptr, nullptr, nullptr));
	BIO_free(b);
	b = BIO_new_file(key.c_str(), "r");
	if (b)
		id.key.reset(PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr));
	BIO_free(b);
	if (!id.cert || !id.key)
		die("cannot read " + cert.string() + " and " + key.string());
	return id;
}

// ---- The hub, from /proc ----

// utime + stime of the whole process (every thread), in seconds.
double hub_cpu(int pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string s{std::istreambuf_iterator<char>(f), {}};
	auto close = s.rfind(')');
	if (close == std::string::npos)
		die("hub " + std::to_string(pid) + " is gone");
	std::istringstream in(s.substr(close + 2));
	std::string field;
	unsigned long long utime = 0, stime = 0;
	// After the name: state is field 3, utime 14, stime 15.
	for (int i = 3; i <= 15 && in >> field; i++) {
		if (i == 14)
			utime = std::stoull(field);
		if (i == 15)
			stime = std::stoull(field);
	}
	return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

long hub_rss_kb(int pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(f, line))
		if (line.rfind("VmRSS:", 0) == 0)
			return std::stol(line.substr(6));
	die("no VmRSS for " + std::to_string(pid));
}

// ---- The peers ----

struct Options {
	fs::path ca_dir;
	tcp::endpoint hub;
	std::string edomain = "bench";
	unsigned count = 0;
	asio::ip::address_v4 first = asio::ip::make_address_v4("127.64.0.1");
	unsigned parallel = 32;
	int hub_pid = 0;
	double settle = 2;
	unsigned rotations = 2;
	double min_idle = 5;
	double timeout = 600;
	std::uint16_t ilp_port = 1000;
};

double since(Clock::time_point a, Clock::time_point b = Clock::now())
{
	return std::chrono::duration<double>(b - a).count();
}

class Simulator;

struct Peer {
	unsigned index = 0;
	asio::ip::address_v4 addr;
	Identity id;
	std::unique_ptr<ssl::stream<tcp::socket>> stream;
	ilpd::ctl::FrameReader reader;
	std::array<std::uint8_t, 2048> rbuf{};
	std::deque<ilpd::ctl::SecretBytes> out;
	bool writing = false;
	bool open = false; // connecting, handshaking or up: not to be redialed
	Clock::time_point started{}, last_tx{};
	// The keying, this side's and the hub's.
	std::uint32_t next_seq = 1, hub_seq = 0, pending = 0, spi = 0;
	bool offer_after_ack = false;
	bool acked_by_hub = false, hub_installed = false, up = false;
	unsigned rekeys = 0; // the hub's offers after its first
	unsigned attempts = 0;
};

class Simulator
{
public:
	Simulator(Options o) : opts_(std::move(o)), sweep_(io_), settle_(io_), signals_(io_) {}

	int run();

private:
	void make_peers();
	void dial(Peer &p);
	void redial(Peer &p, const std::string &why);
	void handshake(Peer &p);
	void read(Peer &p);
	void on_message(Peer &p, ilpd::ctl::Message &&m);
	void send(Peer &p, const ilpd::ctl::Message &m);
	void write(Peer &p);
	void offer(Peer &p);
	void became_up(Peer &p);
	void rotation_seen(unsigned r);
	void arm_sweep();
	void finish();
	void fail(const std::string &why);

	Options opts_;
	asio::io_context io_;
	std::unique_ptr<ssl::context> tls_;
	std::vector<std::unique_ptr<Peer>> peers_;
	std::size_t next_dial_ = 0;
	unsigned in_flight_ = 0, up_ = 0;
	unsigned retries_ = 0, drops_ = 0;
	std::map<std::string, unsigned> why_;
	asio::steady_timer sweep_, settle_;
	asio::signal_set signals_;
	std::mt19937 rng_{std::random_device{}()};
	int status_ = 0;

	// The measurements, in order.
	Clock::time_point t0_ = Clock::now();
	Clock::time_point up_at_{}, idle_at_{}, rot1_at_{}, last_rot_at_{};
	long rss0_ = 0, rss_up_ = 0, rss_end_ = 0;
	double cpu0_ = 0, cpu_up_ = 0, cpu_idle_ = 0, cpu_rot1_ = 0, cpu_end_ = 0;
	double certs_s_ = 0;
	bool idle_started_ = false, done_ = false;
	unsigned rotation_ = 0; // the latest the hub started
	struct Burst {
		Clock::time_point first{}, last{};
		unsigned offers = 0;
	};
	std::map<unsigned, Burst> bursts_;
	std::map<unsigned, unsigned> rekeyed_; // rotation -> pipes whose both directions renewed
};

void Simulator::make_peers()
{
	auto ca = read_identity(opts_.ca_dir / "ca.crt", opts_.ca_dir / "ca.key");
	tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
	SSL_CTX *ctx = tls_->native_handle();
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	// As ilpd's: buffers only while a record is in flight, which is what
	// keeps thousands of idle channels small.
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca.cert.get());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);

	auto t = Clock::now();
	std::uint32_t base = opts_.first.to_uint();
	std::uint32_t a = base;
	for (unsigned i = 0; i < opts_.count; i++, a++) {
		// Skip x.y.z.0 and x.y.z.255: legal on loopback, but they read
		// like network and broadcast addresses in logs.
		while ((a & 0xff) == 0 || (a & 0xff) == 0xff)
			a++;
		if ((a >> 24) != 127)
			die("ran out of 127/8 addresses");
		auto p = std::make_unique<Peer>();
		p->index = i;
		p->addr = asio::ip::address_v4(a);
		std::string ip = p->addr.to_string();
		p->id = make_identity("peer-" + ip, &ca,
				      "IP:" + ip + ",URI:ilp:edomain:" + opts_.edomain, 1000 + i);
		p->spi = 0;
		peers_.push_back(std::move(p));
	}
	certs_s_ = since(t);
	std::printf("certificates: %u EC P-256 leaves signed by one CA in %.2f s\n", opts_.count,
		    certs_s_);
}

void Simulator::dial(Peer &p)
{
	p.open = true;
	p.attempts++;
	in_flight_++;
	p.started = Clock::now();
	p.reader = ilpd::ctl::FrameReader();
	p.out.clear();
	p.writing = false;
	p.next_seq = 1;
	p.hub_seq = 0;
	p.pending = 0;
	p.offer_after_ack = false;
	p.acked_by_hub = p.hub_installed = p.up = false;

	tcp::socket sock(io_);
	boost::system::error_code ec;
	sock.open(tcp::v4(), ec);
	// The port is picked at connect(), per source address, so that
	// thousands of sources do not each reserve one at bind().
	int one = 1;
	if (!ec)
		setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
	if (!ec)
		sock.bind(tcp::endpoint(p.addr, 0), ec);
	if (ec) {
		redial(p, "bind " + p.addr.to_string() + ": " + ec.message());
		return;
	}
	p.stream = std::make_unique<ssl::stream<tcp::socket>>(std::move(sock), *tls_);
	SSL *s = p.stream->native_handle();
	SSL_use_certificate(s, p.id.cert.get());
	SSL_use_PrivateKey(s, p.id.key.get());
	p.stream->lowest_layer().async_connect(opts_.hub,
					       [this, &p](const boost::system::error_code &e) {
						       if (e)
							       redial(p, "connect: " + e.message());
						       else
							       handshake(p);
					       });
}

void Simulator::handshake(Peer &p)
{
	p.stream->async_handshake(ssl::stream_base::client,
				  [this, &p](const boost::system::error_code &e) {
					  if (e) {
						  redial(p, "handshake: " + e.message());
						  return;
					  }
					  ilpd::ctl::Hello h;
					  h.role = ilpd::ctl::Role::Sn;
					  auto b = p.addr.to_bytes();
					  h.endpoint = ilp::Endpoint::from_bytes(b, opts_.ilp_port);
					  h.edomain = opts_.edomain;
					  send(p, h);
					  read(p);
				  });
}

// A channel that failed or broke: closed, and dialed again a little later
// (a reset from the hub's max-handshakes, a timeout under load).
void Simulator::redial(Peer &p, const std::string &why)
{
	if (!p.open)
		return;
	bool was_up = p.up;
	p.open = false;
	if (p.up) {
		p.up = false;
		up_--;
		drops_++;
	} else {
		in_flight_--;
		retries_++;
	}
	why_[why]++;
	if (p.stream) {
		boost::system::error_code ec;
		p.stream->lowest_layer().close(ec);
	}
	// The first few by name; the count is in the summary.
	if (was_up && drops_ <= 5)
		std::printf("pipe %s dropped: %s\n", p.addr.to_string().c_str(), why.c_str());
	if (done_)
		return;
	// Let the stream's handlers see the close before it goes.
	auto t = std::make_shared<asio::steady_timer>(io_);
	t->expires_after(std::chrono::milliseconds(100 + rng_() % 400));
	t->async_wait([this, &p, t](const boost::system::error_code &) {
		p.stream.reset();
		dial(p);
	});
}

void Simulator::read(Peer &p)
{
	p.stream->async_read_some(asio::buffer(p.rbuf),
				  [this, &p](const boost::system::error_code &e, std::size_t n) {
					  if (e) {
						  redial(p, "read: " + e.message());
						  return;
					  }
					  try {
						  p.reader.feed({p.rbuf.data(), n});
						  while (auto m = p.reader.next())
							  on_message(p, std::move(*m));
					  } catch (const ilpd::ctl::ProtocolError &err) {
						  redial(p, std::string("protocol: ") + err.what());
						  return;
					  }
					  if (p.open)
						  read(p);
				  });
}

void Simulator::send(Peer &p, const ilpd::ctl::Message &m)
{
	p.out.push_back(ilpd::ctl::encode(m));
	p.last_tx = Clock::now();
	write(p);
}

void Simulator::write(Peer &p)
{
	if (p.writing || p.out.empty() || !p.open)
		return;
	p.writing = true;
	asio::async_write(*p.stream, asio::buffer(p.out.front()),
			  [this, &p](const boost::system::error_code &e, std::size_t) {
				  p.writing = false;
				  if (e) {
					  redial(p, "write: " + e.message());
					  return;
				  }
				  p.out.pop_front();
				  write(p);
			  });
}

// An SA "allocated" here for the hub: the hub installs it as its
// transmit SA towards this peer, which is the hub's cost; nothing here
// ever opens a packet under it.
void Simulator::offer(Peer &p)
{
	ilpd::ctl::SaOffer o;
	o.seq = p.next_seq++;
	std::uint32_t spi;
	do {
		spi = (rng_() & 0x7fffffffu);
	} while ((spi & 0x7fffffffu) == 0 || spi == p.spi);
	o.spi = spi;
	o.version = ilp::psp::Version::AesGcm128;
	o.key.resize(ilp::psp::key_size(o.version));
	RAND_bytes(o.key.data(), static_cast<int>(o.key.size()));
	p.pending = o.seq;
	p.spi = spi;
	send(p, o);
}

void Simulator::on_message(Peer &p, ilpd::ctl::Message &&m)
{
	using namespace ilpd::ctl;
	if (auto *h = std::get_if<Hello>(&m)) {
		if (h->role != Role::Sn || h->edomain != opts_.edomain)
			throw ProtocolError(ErrorCode::Identity,
					    "the hub is not an SN of " + opts_.edomain);
		offer(p);
	} else if (auto *o = std::get_if<SaOffer>(&m)) {
		if (o->seq != p.hub_seq + 1)
			throw ProtocolError(ErrorCode::Unexpected, "offer out of sequence");
		p.hub_seq = o->seq;
		send(p, SaAck{o->seq, o->spi});
		if (o->seq == 1) {
			p.hub_installed = true;
		} else {
			// The hub rotated: the seq of its offers counts its
			// rotations since this channel came up.
			unsigned r = o->seq - 1;
			auto &b = bursts_[r];
			auto now = Clock::now();
			if (!b.offers++)
				b.first = now;
			b.last = now;
			p.rekeys++;
			if (r > rotation_)
				rotation_seen(r);
			// As an ilpd rotating on the same schedule would: a
			// new SA from this side too.
			if (p.pending)
				p.offer_after_ack = true;
			else
				offer(p);
		}
	} else if (auto *a = std::get_if<SaAck>(&m)) {
		if (!p.pending || a->seq != p.pending || a->spi != p.spi)
			throw ProtocolError(ErrorCode::Unexpected, "ack of no offer in flight");
		p.pending = 0;
		if (a->seq == 1)
			p.acked_by_hub = true;
		else if (p.hub_seq >= 2)
			rekeyed_[p.hub_seq - 1]++;
		if (p.offer_after_ack) {
			p.offer_after_ack = false;
			offer(p);
		}
	} else if (auto *e = std::get_if<ErrorMsg>(&m)) {
		throw ProtocolError(e->code, "the hub refused: " + e->reason);
	} else if (std::holds_alternative<Keepalive>(m)) {
		return;
	} else {
		throw ProtocolError(ErrorCode::Unexpected,
				    std::string("unexpected ") + type_name(type_of(m)));
	}
	if (!p.up && p.hub_installed && p.acked_by_hub)
		became_up(p);
}

void Simulator::became_up(Peer &p)
{
	p.up = true;
	up_++;
	in_flight_--;
	while (in_flight_ < opts_.parallel && next_dial_ < peers_.size())
		dial(*peers_[next_dial_++]);
	if (up_ == opts_.count && !up_at_.time_since_epoch().count()) {
		up_at_ = Clock::now();
		cpu_up_ = hub_cpu(opts_.hub_pid);
		rss_up_ = hub_rss_kb(opts_.hub_pid);
		double s = since(t0_, up_at_);
		std::printf("up: %u pipes in %.2f s (%u retries), hub CPU %.2f s: %.3f ms a pipe\n",
			    up_, s, retries_, cpu_up_ - cpu0_, 1e3 * (cpu_up_ - cpu0_) / up_);
		std::printf("hub RSS: %ld kB with %u pipes, %ld kB with none: %.1f kB a pipe\n",
			    rss_up_, up_, rss0_, double(rss_up_ - rss0_) / up_);
		for (auto &[why, n] : why_)
			std::printf("   retried %u x: %s\n", n, why.c_str());
		std::fflush(stdout);
		if (rotation_) {
			fail("the hub rotated before every pipe was up: raise the rekey interval");
			return;
		}
		settle_.expires_after(std::chrono::duration_cast<Clock::duration>(
		    std::chrono::duration<double>(opts_.settle)));
		settle_.async_wait([this](const boost::system::error_code &e) {
			if (e || rotation_)
				return;
			idle_started_ = true;
			idle_at_ = Clock::now();
			cpu_idle_ = hub_cpu(opts_.hub_pid);
		});
	}
}

void Simulator::rotation_seen(unsigned r)
{
	auto now = Clock::now();
	rotation_ = r;
	double cpu = hub_cpu(opts_.hub_pid);
	std::printf("rotation %u seen at %.2f s\n", r, since(t0_, now));
	std::fflush(stdout);
	if (r == 1) {
		if (!idle_started_) {
			fail("the hub rotated before the idle window began: raise the rekey "
			     "interval");
			return;
		}
		double idle = since(idle_at_, now);
		if (idle < opts_.min_idle) {
			fail("idle window of " + std::to_string(idle) +
			     " s only: raise the rekey interval");
			return;
		}
		rot1_at_ = now;
		cpu_rot1_ = cpu;
	} else if (r == opts_.rotations + 1) {
		last_rot_at_ = now;
		cpu_end_ = cpu;
		rss_end_ = hub_rss_kb(opts_.hub_pid);
		finish();
	}
}

void Simulator::finish()
{
	done_ = true;
	double idle_s = since(idle_at_, rot1_at_), idle_cpu = cpu_rot1_ - cpu_idle_;
	double win_s = since(rot1_at_, last_rot_at_), win_cpu = cpu_end_ - cpu_rot1_;
	unsigned k = opts_.rotations;
	std::printf("idle: %.2f s window, hub CPU %.3f s (%.2f%% of a core): keepalives, ticks\n",
		    idle_s, idle_cpu, 100 * idle_cpu / idle_s);
	std::printf("rekey: %.2f s window, %u rotation(s), hub CPU %.3f s (%.2f%% of a core)\n",
		    win_s, k, win_cpu, 100 * win_cpu / win_s);
	unsigned complete = 0;
	for (unsigned r = 1; r <= k; r++) {
		auto &b = bursts_[r];
		std::printf("   rotation %u: %u offers from the hub over %.3f s, %u pipes rekeyed "
			    "both ways\n",
			    r, b.offers, since(b.first, b.last), rekeyed_[r]);
		complete += rekeyed_[r];
	}
	if (drops_) {
		std::printf("dropped pipes: %u, why:\n", drops_);
		for (auto &[why, n] : why_)
			std::printf("   %u x: %s\n", n, why.c_str());
	}
	std::printf("hub RSS after the rekeys: %ld kB\n", rss_end_);
	rusage ru{};
	getrusage(RUSAGE_SELF, &ru);
	double self = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		      double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	std::printf("this simulator: %.2f s of CPU in all (certificates included)\n", self);
	std::printf("result pipes=%u up_s=%.3f up_cpu=%.3f rss0_kb=%ld rss_kb=%ld rss_end_kb=%ld "
		    "idle_s=%.3f idle_cpu=%.3f win_s=%.3f win_cpu=%.3f rotations=%u rekeys=%u "
		    "burst_s=%.3f retries=%u drops=%u certs_s=%.3f sim_cpu=%.2f\n",
		    opts_.count, since(t0_, up_at_), cpu_up_ - cpu0_, rss0_, rss_up_, rss_end_,
		    idle_s, idle_cpu, win_s, win_cpu, k, complete,
		    since(bursts_[k].first, bursts_[k].last), retries_, drops_, certs_s_, self);
	std::printf("done\n");
	std::fflush(stdout);
	if (complete != k * opts_.count || drops_)
		status_ = 3;
}

void Simulator::fail(const std::string &why)
{
	std::printf("failed: %s\n", why.c_str());
	std::fflush(stdout);
	status_ = 2;
	io_.stop();
}

// Once a second: keepalives for the channels quiet for 10 s (the hub's
// default, against its 30 s dead-peer timer), handshakes that took too
// long, and the overall deadline.
void Simulator::arm_sweep()
{
	sweep_.expires_after(std::chrono::seconds(1));
	sweep_.async_wait([this](const boost::system::error_code &e) {
		if (e)
			return;
		auto now = Clock::now();
		for (auto &p : peers_) {
			if (p->up && now - p->last_tx >= std::chrono::seconds(10))
				send(*p, ilpd::ctl::Keepalive{});
			else if (p->open && !p->up && now - p->started > std::chrono::seconds(20))
				redial(*p, "no keying within 20 s");
		}
		if (!done_ && since(t0_, now) > opts_.timeout) {
			fail("gave up after " + std::to_string(opts_.timeout) +
			     " s: " + std::to_string(up_) + " pipes up, rotation " +
			     std::to_string(rotation_));
			return;
		}
		arm_sweep();
	});
}

int Simulator::run()
{
	// One descriptor per pipe, and a few more.
	rlimit rl{};
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < opts_.count + 64)
		die("RLIMIT_NOFILE is " + std::to_string(rl.rlim_cur) + ", too few for " +
		    std::to_string(opts_.count) + " pipes");
	make_peers();
	cpu0_ = hub_cpu(opts_.hub_pid);
	rss0_ = hub_rss_kb(opts_.hub_pid);
	t0_ = Clock::now();
	signals_.add(SIGTERM);
	signals_.add(SIGINT);
	signals_.async_wait([this](const boost::system::error_code &, int) { io_.stop(); });
	while (in_flight_ < opts_.parallel && next_dial_ < peers_.size())
		dial(*peers_[next_dial_++]);
	arm_sweep();
	io_.run();
	return status_;
}

void make_ca(const fs::path &dir, const std::string &hub, const std::string &edomain)
{
	fs::create_directories(dir);
	auto ca = make_identity("ilp bench CA", nullptr, "", 1);
	auto h = make_identity("hub", &ca, "IP:" + hub + ",URI:ilp:edomain:" + edomain, 2);
	write_identity(ca, dir / "ca.crt", dir / "ca.key");
	write_identity(h, dir / "hub.crt", dir / "hub.key");
}

[[noreturn]] void usage()
{
	std::cerr << "usage: pipe_peers --make-ca DIR --hub ADDR [--edomain NAME]\n"
		     "       pipe_peers --ca DIR --hub ADDR:PORT --count N --hub-pid PID\n"
		     "           [--edomain NAME] [--first ADDR] [--parallel N] [--settle S]\n"
		     "           [--rotations K] [--min-idle S] [--timeout S]\n";
	std::exit(2);
}

} // namespace

int main(int argc, char **argv)
{
	Options o;
	std::optional<fs::path> make_dir;
	std::string hub;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (i + 1 >= argc)
			usage();
		std::string v = argv[++i];
		if (a == "--make-ca")
			make_dir = v;
		else if (a == "--ca")
			o.ca_dir = v;
		else if (a == "--hub")
			hub = v;
		else if (a == "--edomain")
			o.edomain = v;
		else if (a == "--count")
			o.count = std::stoul(v);
		else if (a == "--first")
			o.first = asio::ip::make_address_v4(v);
		else if (a == "--parallel")
			o.parallel = std::max(1ul, std::stoul(v));
		else if (a == "--hub-pid")
			o.hub_pid = std::stoi(v);
		else if (a == "--settle")
			o.settle = std::stod(v);
		else if (a == "--rotations")
			o.rotations = std::max(1ul, std::stoul(v));
		else if (a == "--min-idle")
			o.min_idle = std::stod(v);
		else if (a == "--timeout")
			o.timeout = std::stod(v);
		else
			usage();
	}
	if (make_dir) {
		if (hub.empty())
			usage();
		make_ca(*make_dir, hub, o.edomain);
		return 0;
	}
	if (o.ca_dir.empty() || hub.empty() || !o.count || !o.hub_pid)
		usage();
	auto colon = hub.rfind(':');
	if (colon == std::string::npos)
		usage();
	o.hub = tcp::endpoint(asio::ip::make_address(hub.substr(0, colon)),
			      static_cast<std::uint16_t>(std::stoul(hub.substr(colon + 1))));
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	return Simulator(std::move(o)).run();
}

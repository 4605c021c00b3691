// SPDX-License-Identifier: GPL-2.0-or-later
//
// The userspace datapath, for real: UserDatapath instances on 127.0.0.1
// with their own ports and keys, talking UDP.  h1 sends to h2 through the
// SN sn1, whose MissHandler decides; raw UDP sockets play tampering
// senders and libilp's own PSP (psp::TxSa, psp::Receiver, as the selftest
// tool ilp_send uses it) checks that the packets are those of the wire
// format a kernel node speaks.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/error.hpp>
#include <ilp/key_files.hpp>
#include <ilp/psp.hpp>
#include <ilp_wire.h>

#include "datapath/udp_io.hpp"
#include "datapath/user_datapath.hpp"
#include "datapath/user_peers.hpp"
#include "options.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using namespace ilpd;
using namespace std::chrono_literals;
namespace psp = ilp::psp;

namespace
{

using Bytes = std::vector<std::uint8_t>;

Bytes bytes(const std::string &s)
{
	return {s.begin(), s.end()};
}

ilp::Endpoint local(std::uint16_t port)
{
	auto ep = ilp::Endpoint::parse("127.0.0.1");
	ep.port = port;
	return ep;
}

// An ILP header (with @tlv) and @payload, as a packet's plaintext.
Bytes plaintext(std::uint32_t service, std::uint64_t conn, const Bytes &payload,
		const Bytes &tlv = {})
{
	Bytes p(ILPW_HDR_LEN + tlv.size() + payload.size());
	std::size_t hl = 0;
	if (ilpw_hdr_build(p.data(), p.size(), 0, service, conn, tlv.data(), tlv.size(), &hl))
		throw std::runtime_error("ilpw_hdr_build");
	std::copy(payload.begin(), payload.end(), p.begin() + hl);
	return p;
}

// What a packet's ILP header says, and its payload.
struct Parsed {
	std::uint32_t service = 0;
	std::uint64_t conn = 0;
	std::vector<std::pair<std::uint16_t, Bytes>> tlvs;
	std::string payload;
};

Parsed parse(const Bytes &data)
{
	ilpw_hdr h;
	if (ilpw_hdr_parse(data.data(), data.size(), &h, nullptr, nullptr))
		throw std::runtime_error("ilpw_hdr_parse");
	Parsed p;
	p.service = h.service;
	p.conn = h.conn;
	ilpw_tlv_iter it;
	ilpw_tlv t;
	ilpw_tlv_iter_init(&it, &h);
	while (ilpw_tlv_next(&it, &t) > 0)
		p.tlvs.push_back({t.type, Bytes(t.val, t.val + t.len)});
	p.payload.assign(data.begin() + h.hdr_len, data.end());
	return p;
}

// The value of a host TLV for @ep: address, port.
Bytes host_tlv(const ilp::Endpoint &ep)
{
	auto a = ep.addr_bytes();
	Bytes v(a.begin(), a.end());
	v.push_back(static_cast<std::uint8_t>(ep.port >> 8));
	v.push_back(static_cast<std::uint8_t>(ep.port));
	return v;
}

// A plain UDP socket on 127.0.0.1: a sender that is no node, or a peer
// that is only libilp's PSP.
class RawSocket
{
public:
	RawSocket() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0))
	{
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (!fd_ || bind(fd_.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0)
			throw std::runtime_error("raw socket");
	}
	std::uint16_t port() const { return udp::bound_port(fd_.get()); }
	ilp::Endpoint endpoint() const { return local(port()); }

	void send_to(const ilp::Endpoint &to, const Bytes &pkt)
	{
		sockaddr_storage ss;
		socklen_t len = udp::to_sockaddr(to, AF_INET, ss);
		if (sendto(fd_.get(), pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr *>(&ss),
			   len) != static_cast<ssize_t>(pkt.size()))
			throw std::runtime_error("sendto");
	}
	// A datagram, or nothing after 5 s.
	std::optional<Bytes> receive()
	{
		pollfd p{fd_.get(), POLLIN, 0};
		if (poll(&p, 1, 5000) != 1)
			return std::nullopt;
		Bytes b(udp::max_datagram);
		ssize_t n = recv(fd_.get(), b.data(), b.size(), 0);
		if (n < 0)
			return std::nullopt;
		b.resize(static_cast<std::size_t>(n));
		return b;
	}

private:
	udp::Fd fd_;
};

// Local sockets of a node: claims one service, records what it gets.
class Sockets : public LocalDelivery
{
public:
	explicit Sockets(std::uint32_t service) : service_(service) {}

	bool claims(std::uint32_t service, std::uint64_t) override { return service == service_; }
	void deliver(const Miss &packet) override
	{
		std::lock_guard lock(mu_);
		got_.push_back(packet);
	}
	std::vector<Miss> got()
	{
		std::lock_guard lock(mu_);
		return got_;
	}
	bool wait(std::size_t n)
	{
		return eventually([&] { return got().size() >= n; });
	}

private:
	std::uint32_t service_;
	std::mutex mu_;
	std::vector<Miss> got_;
};

// A MissHandler that records the misses and answers each with @decide.
class Decider
{
public:
	std::function<void(UserDatapath &, const Miss &)> decide;

	MissHandler handler(UserDatapath &dp)
	{
		return [this, &dp](std::vector<Miss> &batch) {
			calls_++;
			for (auto &m : batch) {
				{
					std::lock_guard lock(mu_);
					misses_.push_back(m);
				}
				if (decide)
					decide(dp, m);
			}
		};
	}
	std::vector<Miss> misses()
	{
		std::lock_guard lock(mu_);
		return misses_;
	}
	bool wait(std::size_t n)
	{
		return eventually([&] { return misses().size() >= n; });
	}
	unsigned calls() const { return calls_; }

private:
	std::mutex mu_;
	std::vector<Miss> misses_;
	std::atomic<unsigned> calls_{0};
};

constexpr std::uint32_t service = 4242;

// A datapath's counters once @ready holds of them (or as they are after
// 5 s, for the assertions to report).  Counters are bumped after the work
// they count: "tx_packets" once the send has returned, "missed" once the
// handler has, "delivered" once the socket has the packet; so they may
// trail what the test has already seen arrive.
DatapathStats settled(UserDatapath &dp, const std::function<bool(const DatapathStats &)> &ready)
{
	(void)eventually([&] { return ready(dp.stats()); });
	return dp.stats();
}

} // namespace

class UserDatapathTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(UserDatapathTest);
	CPPUNIT_TEST(forward__miss_then_hit_through_the_sn);
	CPPUNIT_TEST(receive__tampered_packet_is_auth_failure_not_miss);
	CPPUNIT_TEST(execute__unknown_next_hop_is_a_counted_drop);
	CPPUNIT_TEST(execute__fan_out_to_two_next_hops);
	CPPUNIT_TEST(cache__capacity_two_evicts);
	CPPUNIT_TEST(receive__local_socket_claims_miss_before_handler);
	CPPUNIT_TEST(receive__ipv6_beside_ipv4);
	CPPUNIT_TEST(interop__libilp_txsa_packet_opens);
	CPPUNIT_TEST(interop__sealer_writes_txsa_bytes);
	CPPUNIT_TEST(send__to_peer_and_errors);
	CPPUNIT_TEST(send_from_host__errors);
	CPPUNIT_TEST(config__errors_name_file_and_peer);
	CPPUNIT_TEST(config__from_options);
	CPPUNIT_TEST(stop__no_handler_call_after_and_restart);
	CPPUNIT_TEST(runtime__peer_and_sa_added_carry_traffic);
	CPPUNIT_TEST(receive__sa_of_another_peer_is_dropped);
	CPPUNIT_TEST(keys__set_at_run_time_refuse_unallocated_spis);
	CPPUNIT_TEST(keys__allocations_survive_a_restart);
	CPPUNIT_TEST(runtime__peer_changes_during_traffic_keep_the_iv_counter);
	CPPUNIT_TEST(sa_del__withdrawn_spi_is_dropped_and_not_given_again);
	CPPUNIT_TEST(sa_del__kept_across_a_restart);
	CPPUNIT_TEST(peer_del__removes_the_cache_entries_from_and_to_it);
	CPPUNIT_TEST_SUITE_END();

	// One node: its master key, port and configuration.
	struct Node {
		psp::MasterKeys keys;
		std::uint16_t port = 0;
		UserConfig config;
		std::unique_ptr<UserDatapath> dp;

		ilp::Endpoint endpoint() const { return local(port); }
	};

	TempDir dir_;
	// Before nodes_: the nodes' threads call them until tearDown().
	std::vector<std::unique_ptr<Decider>> deciders_;
	std::vector<std::unique_ptr<Sockets>> sockets_;
	std::vector<std::unique_ptr<Node>> nodes_;
	std::uint32_t next_spi_ = 1;

	// A node with a fresh master key on a free port; not yet running.
	Node &node(const std::string &name, unsigned threads = 2)
	{
		auto n = std::make_unique<Node>();
		std::random_device rd;
		for (auto &b : n->keys.key[0].bytes())
			b = static_cast<std::uint8_t>(rd());
		n->config.master_keys =
		    dir_.write(name + ".master", "key0 = " + hex(n->keys.key[0].bytes()) + "\n");
		n->config.port = free_port();
		n->config.handler_threads = threads;
		n->port = n->config.port;
		nodes_.push_back(std::move(n));
		return *nodes_.back();
	}

	// A UDP port nobody uses now (on both families, as the node binds),
	// held until the node binds it so that a test's ports are distinct.
	std::map<std::uint16_t, udp::Fd> held_;
	std::uint16_t free_port()
	{
		auto fd = udp::open_socket(0, false);
		auto port = udp::bound_port(fd.get());
		held_[port] = std::move(fd);
		return port;
	}

	// An SA of @receiver for @sender, as "ilpctl sa alloc" on the
	// receiver and "peer add ... keyfile" on the sender: the key derived
	// from the receiver's master key and the SPI, written in hex.
	struct Sa {
		std::uint32_t spi;
		std::filesystem::path keyfile;
	};
	Sa sa_for(const psp::MasterKeys &receiver, const std::string &name)
	{
		Sa sa{next_spi_++, {}};
		auto key = psp::derive_sa_key(receiver, sa.spi, psp::Version::AesGcm128);
		sa.keyfile = dir_.write(name + ".key", hex(key.bytes()) + "\n");
		return sa;
	}
	void peer(Node &from, const ilp::Endpoint &to, const psp::MasterKeys &to_keys,
		  bool direct = false)
	{
		auto sa = sa_for(to_keys, std::to_string(from.port) + "-" + to.to_string());
		from.config.peers.push_back({to, sa.spi, psp::Version::AesGcm128, sa.keyfile,
					     direct, "test:" + std::to_string(__LINE__)});
	}
	void peer(Node &from, Node &to, bool direct = false)
	{
		peer(from, to.endpoint(), to.keys, direct);
	}
	Decider &decider()
	{
		deciders_.push_back(std::make_unique<Decider>());
		return *deciders_.back();
	}
	Sockets &sockets(std::uint32_t svc)
	{
		sockets_.push_back(std::make_unique<Sockets>(svc));
		return *sockets_.back();
	}
	// Decides "forward to @hops", installed or not.
	static auto forward_to(std::vector<ilp::Endpoint> hops, bool install)
	{
		return [hops, install](UserDatapath &dp, const Miss &m) {
			dp.execute(m, Actions{hops, false, false}, install);
		};
	}
	UserDatapath &up(Node &n)
	{
		held_.erase(n.port);
		n.dp = std::make_unique<UserDatapath>(n.config);
		return *n.dp;
	}

	// h1 -> sn1 -> h2, each peer of the next both ways; h1's default SN
	// is sn1.
	struct Path {
		Node &h1, &sn1, &h2;
	};
	Path path(std::uint32_t sn_capacity = 65536)
	{
		Node &h1 = node("h1"), &sn1 = node("sn1"), &h2 = node("h2");
		peer(h1, sn1);
		peer(sn1, h1);
		peer(sn1, h2);
		peer(h2, sn1);
		h1.config.sn = sn1.endpoint();
		sn1.config.cache_capacity = sn_capacity;
		return {h1, sn1, h2};
	}

public:
	void tearDown() override
	{
		// Stopped before the deciders and sockets they call go.
		for (auto &n : nodes_)
			if (n->dp)
				n->dp->stop();
	}

	void forward__miss_then_hit_through_the_sn()
	{
		auto [h1, sn1, h2] = path();
		Sockets &h2_sockets = sockets(service);
		Decider &d = decider();
		d.decide = forward_to({h2.endpoint()}, true);
		up(h1).start(nullptr);
		up(sn1).start(d.handler(*sn1.dp));
		up(h2).set_local_delivery(&h2_sockets);
		h2.dp->start(nullptr);

		// One service TLV of the sender's: 0x0100, "ab".
		Bytes md = {0x01, 0x00, 0x00, 0x02, 'a', 'b', 0, 0};
		h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, 7, md, bytes("hello"));
		CPPUNIT_ASSERT(d.wait(1));
		auto miss = d.misses().at(0);
		CPPUNIT_ASSERT_EQUAL(h1.endpoint().to_string(), miss.prev.to_string());
		CPPUNIT_ASSERT_EQUAL(service, miss.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), miss.conn);

		CPPUNIT_ASSERT(h2_sockets.wait(1));
		auto got = h2_sockets.got().at(0);
		CPPUNIT_ASSERT_EQUAL(sn1.endpoint().to_string(), got.prev.to_string());
		auto p = parse(got.data);
		CPPUNIT_ASSERT_EQUAL(std::string("hello"), p.payload);
		CPPUNIT_ASSERT_EQUAL(service, p.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(7), p.conn);
		// ILP's own TLVs as the kernel adds them, then the metadata.
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), p.tlvs.size());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(ILP_TLV_SRC_HOST), p.tlvs[0].first);
		CPPUNIT_ASSERT(p.tlvs[0].second == host_tlv(h1.endpoint()));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(ILP_TLV_DST_HOST), p.tlvs[1].first);
		CPPUNIT_ASSERT(p.tlvs[1].second == host_tlv(h2.endpoint()));
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(0x0100), p.tlvs[2].first);
		CPPUNIT_ASSERT(p.tlvs[2].second == bytes("ab"));

		// The decision is cached: the next packet is a hit.
		h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, 7, md, bytes("again"));
		CPPUNIT_ASSERT(h2_sockets.wait(2));
		CPPUNIT_ASSERT_EQUAL(std::string("again"),
				     parse(h2_sockets.got().at(1).data).payload);
		auto st = settled(*sn1.dp, [](const DatapathStats &s) {
			return s.missed == 1 && s.tx_packets == 2;
		});
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), st.hit);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), st.missed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), st.rx_packets);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), st.tx_packets);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), st.dropped);
		CPPUNIT_ASSERT_EQUAL(1u, d.calls());
		auto e = sn1.dp->entry(miss.flow());
		CPPUNIT_ASSERT(e);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), e->packets);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), sn1.dp->entries().size());

		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), h1.dp->sent());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), h1.dp->stats().tx_packets);
		auto h2_st =
		    settled(*h2.dp, [](const DatapathStats &s) { return s.delivered == 2; });
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), h2_st.delivered);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), h2_st.missed);
	}

	void receive__tampered_packet_is_auth_failure_not_miss()
	{
		Node &sn1 = node("sn1");
		Decider &d = decider();
		up(sn1).start(d.handler(*sn1.dp));
		// Sealed for sn1 as a peer would (any SPI under its key: the
		// receiver derives the key), then a ciphertext byte flipped.
		auto sa = sa_for(sn1.keys, "sender");
		psp::TxSa tx(sa.spi, psp::Version::AesGcm128,
			     ilp::read_sa_key(sa.keyfile.string()).bytes());
		auto clear = plaintext(service, 1, bytes("payload"));
		Bytes pkt(tx.sealed_size(clear.size()));
		std::size_t len = 0;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, tx.seal(clear, pkt, len));
		pkt.resize(len);
		pkt[ILPW_PSP_HDR_LEN + 3] ^= 0x20;
		RawSocket raw;
		raw.send_to(sn1.endpoint(), pkt);
		// And one that is not PSP at all.
		raw.send_to(sn1.endpoint(), bytes("short"));

		CPPUNIT_ASSERT(eventually([&] { return sn1.dp->stats().dropped == 2; }));
		auto drops = sn1.dp->drops();
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), drops.at("psp_auth_failed"));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), drops.at("psp_truncated"));
		auto st = sn1.dp->stats();
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), st.missed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), st.rx_packets);
		CPPUNIT_ASSERT_EQUAL(0u, d.calls());
		CPPUNIT_ASSERT(sn1.dp->entries().empty());
	}

	void execute__unknown_next_hop_is_a_counted_drop()
	{
		auto [h1, sn1, h2] = path();
		Decider &d = decider();
		d.decide = forward_to({local(9)}, false); // no peer of sn1
		up(h1).start(nullptr);
		up(sn1).start(d.handler(*sn1.dp));
		h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, 3, {}, bytes("x"));
		CPPUNIT_ASSERT(d.wait(1));
		CPPUNIT_ASSERT(eventually([&] { return sn1.dp->stats().dropped == 1; }));
		// As kmod's ilp_execute(): a next hop that is not a peer.
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), sn1.dp->drops().at("no_peer"));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), sn1.dp->drops().at("no_tx_sa"));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), sn1.dp->stats().tx_packets);

		// More next hops than a decision holds: the caller's error.
		Actions many;
		many.forward.assign(ILP_MAX_FORWARD + 1, h2.endpoint());
		CPPUNIT_ASSERT_THROW(sn1.dp->execute(d.misses().at(0), many, false),
				     std::invalid_argument);
		// A decision to drop is counted as one.
		sn1.dp->execute(d.misses().at(0), Actions{{}, true, false}, false);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), sn1.dp->drops().at("decided"));
	}

	void execute__fan_out_to_two_next_hops()
	{
		auto [h1, sn1, h2] = path();
		// The second next hop is libilp's PSP alone on a UDP socket, as
		// "ilp_send --listen" opens packets: what sn1 seals must open
		// there.
		RawSocket other;
		psp::MasterKeys other_keys;
		other_keys.key[0].bytes()[0] = 0x42;
		peer(sn1, other.endpoint(), other_keys);

		Sockets &h2_sockets = sockets(service);
		Decider &d = decider();
		d.decide = forward_to({h2.endpoint(), other.endpoint()}, true);
		up(h1).start(nullptr);
		up(sn1).start(d.handler(*sn1.dp));
		up(h2).set_local_delivery(&h2_sockets);
		h2.dp->start(nullptr);

		for (std::size_t i = 0; i < 2; i++) {
			h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, 11, {},
					      bytes("fan" + std::to_string(i)));
			// The first decided before the second comes: a hit.
			CPPUNIT_ASSERT(h2_sockets.wait(i + 1));
		}
		psp::Receiver rx(false);
		rx.set_master_key(0, other_keys.key[0]);
		for (int i = 0; i < 2; i++) {
			auto pkt = other.receive();
			CPPUNIT_ASSERT(pkt);
			psp::Opened opened;
			CPPUNIT_ASSERT_EQUAL(ILPW_OK, rx.open(*pkt, opened));
			auto p = parse(Bytes(opened.plaintext.begin(), opened.plaintext.end()));
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(11), p.conn);
			CPPUNIT_ASSERT_EQUAL("fan" + std::to_string(i), p.payload);
			// IVs count up from 1 per SA.
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(i + 1), opened.psp.iv);
		}
		auto st = settled(*sn1.dp, [](const DatapathStats &s) {
			return s.missed == 1 && s.tx_packets == 4;
		});
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(4), st.tx_packets);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), st.hit);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), st.missed);
	}

	void cache__capacity_two_evicts()
	{
		auto [h1, sn1, h2] = path(2);
		Sockets &h2_sockets = sockets(service);
		Decider &d = decider();
		d.decide = forward_to({h2.endpoint()}, true);
		up(h1).start(nullptr);
		up(sn1).start(d.handler(*sn1.dp));
		up(h2).set_local_delivery(&h2_sockets);
		h2.dp->start(nullptr);
		for (std::uint64_t conn = 1; conn <= 3; conn++) {
			h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, conn, {},
					      bytes("c"));
			// One at a time, so that the installs come in order.
			CPPUNIT_ASSERT(h2_sockets.wait(conn));
		}
		auto st = settled(*sn1.dp, [](const DatapathStats &s) { return s.missed == 3; });
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), st.missed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), st.evicted);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), st.entries);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(2), st.capacity);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), sn1.dp->entries().size());
		// The evicted flow is simply a miss again, decided again.
		Flow third{h1.endpoint(), service, 3};
		CPPUNIT_ASSERT(sn1.dp->entry(third));
		unsigned missing = 0;
		for (std::uint64_t conn = 1; conn <= 2; conn++)
			missing += !sn1.dp->entry(Flow{h1.endpoint(), service, conn});
		CPPUNIT_ASSERT_EQUAL(1u, missing);
	}

	void receive__local_socket_claims_miss_before_handler()
	{
		// h1 and h2 direct peers: no SN, so no ILP_TLV_DST_HOST.
		Node &h1 = node("h1"), &h2 = node("h2");
		peer(h1, h2, true);
		peer(h2, h1, true);
		Sockets &h2_sockets = sockets(service);
		Decider &d = decider();
		up(h1).start(nullptr);
		up(h2).set_local_delivery(&h2_sockets);
		h2.dp->start(d.handler(*h2.dp));
		h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, 5, {}, bytes("direct"));
		CPPUNIT_ASSERT(h2_sockets.wait(1));
		auto p = parse(h2_sockets.got().at(0).data);
		CPPUNIT_ASSERT_EQUAL(std::string("direct"), p.payload);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), p.tlvs.size());
		CPPUNIT_ASSERT_EQUAL(std::uint16_t(ILP_TLV_SRC_HOST), p.tlvs[0].first);
		// A service no socket claims goes to the handler.
		h1.dp->send_from_host(h2.endpoint(), std::nullopt, service + 1, 5, {}, bytes("up"));
		CPPUNIT_ASSERT(d.wait(1));
		CPPUNIT_ASSERT_EQUAL(service + 1, d.misses().at(0).service);
		auto st = settled(*h2.dp, [](const DatapathStats &s) {
			return s.missed == 1 && s.delivered == 1;
		});
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), st.delivered);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), st.missed);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), st.hit);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), h2_sockets.got().size());

		// "deliver" decided for a flow no socket claims: no_socket.
		h2.dp->execute(d.misses().at(0), Actions{{}, false, true}, false);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), h2.dp->drops().at("no_socket"));
	}

	void receive__ipv6_beside_ipv4()
	{
		// Where the host has IPv6 (else nothing to test): the node's one
		// socket takes both families, and IPv4 senders are IPv4
		// endpoints (not v4-mapped ones), as on the kernel's two.
		{
			udp::Fd probe(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
			sockaddr_in6 a{};
			a.sin6_family = AF_INET6;
			a.sin6_addr = in6addr_loopback;
			if (!probe ||
			    bind(probe.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0)
				return;
		}
		auto v6 = [](std::uint16_t port) {
			auto ep = ilp::Endpoint::parse("[::1]");
			ep.port = port;
			return ep;
		};
		Node &h1 = node("h1"), &h2 = node("h2");
		peer(h1, v6(h2.port), h2.keys, true);
		peer(h1, h2, true);
		Sockets &s = sockets(service);
		up(h1);
		up(h2).set_local_delivery(&s);
		h2.dp->start(nullptr);
		h1.dp->send_from_host(v6(h2.port), std::nullopt, service, 1, {}, bytes("six"));
		CPPUNIT_ASSERT(s.wait(1));
		h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, 1, {}, bytes("four"));
		CPPUNIT_ASSERT(s.wait(2));
		auto got = s.got();
		CPPUNIT_ASSERT_EQUAL(v6(h1.port).to_string(), got.at(0).prev.to_string());
		auto p = parse(got.at(0).data);
		CPPUNIT_ASSERT_EQUAL(std::string("six"), p.payload);
		CPPUNIT_ASSERT(p.tlvs.at(0).second == host_tlv(v6(h1.port)));
		CPPUNIT_ASSERT_EQUAL(h1.endpoint().to_string(), got.at(1).prev.to_string());
		CPPUNIT_ASSERT(parse(got.at(1).data).tlvs.at(0).second == host_tlv(h1.endpoint()));
	}

	void interop__libilp_txsa_packet_opens()
	{
		Node &sn1 = node("sn1", 1);
		Decider &d = decider();
		up(sn1).start(d.handler(*sn1.dp));
		// As selftests/ilp/ilp_send.cpp does it: read_sa_key, psp::TxSa,
		// ilpw_hdr_build, one datagram from a plain UDP socket.
		auto sa = sa_for(sn1.keys, "ilp_send");
		auto key = ilp::read_sa_key(sa.keyfile.string());
		psp::TxSa tx(sa.spi, psp::Version::AesGcm128, key.bytes());
		auto clear = plaintext(77, 0x1122334455667788ull, bytes("from ilp_send"));
		Bytes pkt(tx.sealed_size(clear.size()));
		std::size_t len = 0;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, tx.seal(clear, pkt, len));
		pkt.resize(len);
		RawSocket raw;
		raw.send_to(sn1.endpoint(), pkt);

		CPPUNIT_ASSERT(d.wait(1));
		auto m = d.misses().at(0);
		CPPUNIT_ASSERT_EQUAL(raw.endpoint().to_string(), m.prev.to_string());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(77), m.service);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0x1122334455667788ull), m.conn);
		CPPUNIT_ASSERT(m.data == clear);
	}

	void interop__sealer_writes_txsa_bytes()
	{
		// The same SA (SPI, key, IV 1 first) sealed by libilp's TxSa and
		// by the datapath's Sealer: the same bytes.
		psp::MasterKeys mk;
		mk.key[0].bytes()[5] = 7;
		for (auto version : {psp::Version::AesGcm128, psp::Version::AesGcm256}) {
			std::uint32_t spi = 0x2a;
			auto key = psp::derive_sa_key(mk, spi, version);
			auto keyfile =
			    dir_.write("k" + std::to_string(int(version)), hex(key.bytes()));
			PeerTable peers({{local(1000), spi, version, keyfile, false, "here"}});
			Sealer sealer(peers);
			psp::TxSa tx(spi, version, key.bytes());
			auto clear = plaintext(1, 2, bytes("same bytes"));
			for (int i = 0; i < 2; i++) {
				Bytes a(tx.sealed_size(clear.size())),
				    b(Sealer::sealed_size(clear.size()));
				std::size_t alen = 0, blen = 0;
				CPPUNIT_ASSERT_EQUAL(ILPW_OK, tx.seal(clear, a, alen));
				CPPUNIT_ASSERT(
				    !sealer.seal(*peers.find(local(1000)), clear, b, blen));
				CPPUNIT_ASSERT_EQUAL(alen, blen);
				CPPUNIT_ASSERT(a == b);
			}
		}
	}

	void send__to_peer_and_errors()
	{
		Node &a = node("a"), &b = node("b");
		peer(a, b);
		Decider &d = decider();
		up(a);
		up(b).start(d.handler(*b.dp));
		Bytes md = {0x01, 0x00, 0x00, 0x01, 'm', 0, 0, 0};
		a.dp->send(b.endpoint(), service, 9, md, bytes("svc"));
		CPPUNIT_ASSERT(d.wait(1));
		auto p = parse(d.misses().at(0).data);
		// A service's own packet: no ILP TLVs added.
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), p.tlvs.size());
		CPPUNIT_ASSERT_EQUAL(std::string("svc"), p.payload);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), a.dp->sent()); // hosts' sends only

		auto errno_of = [](const std::function<void()> &f) {
			try {
				f();
			} catch (const std::system_error &e) {
				return e.code().value();
			}
			return 0;
		};
		CPPUNIT_ASSERT_EQUAL(ENETUNREACH, errno_of([&] {
					     a.dp->send(local(9), service, 9, {}, bytes("x"));
				     }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), a.dp->drops().at("no_peer"));
		CPPUNIT_ASSERT_EQUAL(
		    EINVAL, errno_of([&] { a.dp->send(b.endpoint(), service, 9, Bytes(3), {}); }));
		CPPUNIT_ASSERT_EQUAL(EMSGSIZE, errno_of([&] {
					     a.dp->send(b.endpoint(), service, 9, {}, Bytes(70000));
				     }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), a.dp->drops().at("too_big"));
	}

	void send_from_host__errors()
	{
		Node &h1 = node("h1"), &h2 = node("h2");
		peer(h1, h2); // not direct, and no default SN
		up(h1);
		auto errno_of = [](const std::function<void()> &f) {
			try {
				f();
			} catch (const std::system_error &e) {
				return e.code().value();
			}
			return 0;
		};
		auto to = h2.endpoint();
		CPPUNIT_ASSERT_EQUAL(ENETUNREACH, errno_of([&] {
					     h1.dp->send_from_host(to, std::nullopt, service, 1, {},
								   bytes("x"));
				     }));
		CPPUNIT_ASSERT_EQUAL(ENETUNREACH, errno_of([&] {
					     h1.dp->send_from_host(to, local(9), service, 1, {},
								   bytes("x"));
				     }));
		// Named SN h2 is a peer: fine.
		CPPUNIT_ASSERT_EQUAL(0, errno_of([&] {
					     h1.dp->send_from_host(local(9), to, service, 1, {},
								   bytes("x"));
				     }));
		CPPUNIT_ASSERT_EQUAL(
		    EINVAL,
		    errno_of([&] { h1.dp->send_from_host(local(9), to, 0, 1, {}, bytes("x")); }));
		// ILP's own TLV types are the kernel's to add.
		Bytes own = {0x00, 0x01, 0x00, 0x00};
		CPPUNIT_ASSERT_EQUAL(EINVAL, errno_of([&] {
					     h1.dp->send_from_host(local(9), to, service, 1, own,
								   bytes("x"));
				     }));
		// Over the path MTU (loopback's 65536).
		CPPUNIT_ASSERT_EQUAL(EMSGSIZE, errno_of([&] {
					     h1.dp->send_from_host(local(9), to, service, 1, {},
								   Bytes(65535));
				     }));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), h1.dp->sent());
	}

	void config__errors_name_file_and_peer()
	{
		Node &n = node("n");
		auto error_of = [&](const UserConfig &c) -> std::string {
			try {
				UserDatapath dp(c);
			} catch (const std::runtime_error &e) {
				return e.what();
			}
			return "no error";
		};
		UserConfig c = n.config;
		c.peers.push_back({local(1000), 5, psp::Version::AesGcm128,
				   dir_.path() / "absent.key", false, "ilpd.conf:4"});
		auto msg = error_of(c);
		CPPUNIT_ASSERT_MESSAGE(msg,
				       msg.starts_with("ilpd.conf:4: peer 127.0.0.1:1000: cannot "
						       "read keyfile"));
		CPPUNIT_ASSERT_MESSAGE(msg, msg.find("absent.key") != std::string::npos);

		// A 16-byte key for version 1.
		c.peers.back().keyfile = dir_.write("short.key", std::string(32, 'a') + "\n");
		c.peers.back().version = psp::Version::AesGcm256;
		msg = error_of(c);
		CPPUNIT_ASSERT_MESSAGE(msg, msg.starts_with("ilpd.conf:4: peer 127.0.0.1:1000: "));

		c = n.config;
		c.master_keys = dir_.path() / "absent.master";
		msg = error_of(c);
		CPPUNIT_ASSERT_MESSAGE(msg, msg.find("absent.master") != std::string::npos);

		// The port taken by another node.
		up(n);
		c = n.config;
		msg = error_of(c);
		CPPUNIT_ASSERT_MESSAGE(msg, msg.find(std::to_string(n.port)) != std::string::npos);
	}

	void config__from_options()
	{
		Node &a = node("a"), &b = node("b");
		auto sa = sa_for(b.keys, "a-b");
		Options o;
		o.port = a.port;
		o.master_keys = a.config.master_keys;
		o.handler_threads = 1;
		o.cache_capacity = 3;
		o.sn = b.endpoint();
		PeerConfig p;
		p.endpoint = b.endpoint();
		p.spi = sa.spi;
		p.keyfile = sa.keyfile;
		p.where = "ilpd.conf:4";
		o.peers.push_back(p);
		held_.erase(a.port);
		UserDatapath dp(o);
		CPPUNIT_ASSERT_EQUAL(a.port, dp.port());
		CPPUNIT_ASSERT_EQUAL(std::string("user"), dp.kind());
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), dp.stats().capacity);
		// Through the default SN, b.
		Decider &d = decider();
		up(b).start(d.handler(*b.dp));
		dp.send_from_host(local(9), std::nullopt, service, 1, {}, bytes("via options"));
		CPPUNIT_ASSERT(d.wait(1));
		CPPUNIT_ASSERT_EQUAL(std::string("via options"),
				     parse(d.misses().at(0).data).payload);

		o.peers[0].keyfile = dir_.path() / "gone.key";
		try {
			UserDatapath bad(o);
			CPPUNIT_FAIL("no error for a missing keyfile");
		} catch (const std::runtime_error &e) {
			std::string msg = e.what();
			CPPUNIT_ASSERT_MESSAGE(msg, msg.starts_with("ilpd.conf:4: peer " +
								    b.endpoint().to_string() +
								    ": cannot read keyfile"));
		}
	}

	void stop__no_handler_call_after_and_restart()
	{
		Node &h1 = node("h1"), &h2 = node("h2", 3);
		peer(h1, h2, true);
		Decider &d = decider();
		up(h1);
		up(h2).start(d.handler(*h2.dp));
		h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, 1, {}, bytes("1"));
		CPPUNIT_ASSERT(d.wait(1));
		h2.dp->stop();
		h2.dp->stop(); // twice is fine
		h1.dp->send_from_host(h2.endpoint(), std::nullopt, service, 2, {}, bytes("2"));
		std::this_thread::sleep_for(100ms);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.misses().size());
		// Started again, it reads what queued meanwhile.
		h2.dp->start(d.handler(*h2.dp));
		CPPUNIT_ASSERT(d.wait(2));
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), d.misses().at(1).conn);
		CPPUNIT_ASSERT_THROW(h2.dp->start(nullptr), std::logic_error);
	}

	// What "ilpctl sa alloc peer A" on @rx and "ilpctl peer add" on @tx
	// do, at run time.
	static void connect_at_run_time(Node &tx, Node &rx)
	{
		auto a = rx.dp->rx_sas().allocate(psp::Version::AesGcm128, tx.endpoint());
		tx.dp->peer_add(rx.endpoint(),
				UserDatapath::TxSaSpec{a.sa.spi, a.sa.version, a.key});
	}

	void runtime__peer_and_sa_added_carry_traffic()
	{
		Node &a = node("a"), &b = node("b");
		Decider &d = decider();
		up(a).start(nullptr);
		up(b).start(d.handler(*b.dp));
		// Not a peer yet: refused, counted.
		CPPUNIT_ASSERT_THROW(a.dp->send(b.endpoint(), service, 1, {}, bytes("x")),
				     ilp::Error);
		connect_at_run_time(a, b);
		a.dp->send(b.endpoint(), service, 1, {}, bytes("first"));
		CPPUNIT_ASSERT(d.wait(1));
		CPPUNIT_ASSERT_EQUAL(std::string("first"), parse(d.misses().at(0).data).payload);
		// A new SA for the same peer replaces the old one at once.
		auto n = b.dp->rx_sas().allocate(psp::Version::AesGcm256, a.endpoint());
		a.dp->peer_set(b.endpoint(), {n.sa.spi, n.sa.version, n.key});
		a.dp->send(b.endpoint(), service, 1, {}, bytes("second"));
		CPPUNIT_ASSERT(d.wait(2));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), b.dp->rx_sas().list().size());
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), b.dp->stats().dropped);
		// And a peer deleted is gone for the next packet.
		a.dp->peer_del(b.endpoint());
		CPPUNIT_ASSERT_THROW(a.dp->send(b.endpoint(), service, 1, {}, bytes("x")),
				     ilp::Error);
		CPPUNIT_ASSERT_THROW(a.dp->peer_del(b.endpoint()), ilp::Error);
	}

	void receive__sa_of_another_peer_is_dropped()
	{
		Node &a = node("a"), &b = node("b");
		Decider &d = decider();
		up(a).start(nullptr);
		up(b).start(d.handler(*b.dp));
		// b gives the SA to 127.0.0.2; a (127.0.0.1) uses it anyway.
		auto other = ilp::Endpoint::parse("127.0.0.2");
		auto s = b.dp->rx_sas().allocate(psp::Version::AesGcm128, other);
		a.dp->peer_add(b.endpoint(), UserDatapath::TxSaSpec{s.sa.spi, s.sa.version, s.key});
		a.dp->send(b.endpoint(), service, 1, {}, bytes("stolen"));
		auto st = settled(*b.dp, [](const DatapathStats &x) { return x.dropped == 1; });
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), st.dropped);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), b.dp->drop_counts()[ILP_DROP_SA_PEER]);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), st.rx_packets);
		CPPUNIT_ASSERT(d.misses().empty());
	}

	void keys__set_at_run_time_refuse_unallocated_spis()
	{
		Node &a = node("a"), &b = node("b");
		b.config.master_keys.clear(); // no key until "key set"
		Decider &d = decider();
		up(a).start(nullptr);
		up(b).start(d.handler(*b.dp));
		CPPUNIT_ASSERT_THROW(b.dp->rx_sas().allocate(psp::Version::AesGcm128, a.endpoint()),
				     ilp::Error);
		b.dp->rx_sas().set_key(0, b.keys.key[0], true);
		// An SA derived from the key but never allocated: unknown.
		auto sa = sa_for(b.keys, "unallocated");
		a.dp->peer_add(b.endpoint(),
			       UserDatapath::TxSaSpec{sa.spi, psp::Version::AesGcm128,
						      ilp::read_sa_key(sa.keyfile.string())});
		a.dp->send(b.endpoint(), service, 1, {}, bytes("x"));
		CPPUNIT_ASSERT(
		    eventually([&] { return b.dp->drop_counts()[ILP_DROP_PSP_UNKNOWN_SPI] == 1; }));
		// Allocated ones pass; the key replaced, they stop.
		a.dp->peer_del(b.endpoint());
		connect_at_run_time(a, b);
		a.dp->send(b.endpoint(), service, 1, {}, bytes("y"));
		CPPUNIT_ASSERT(d.wait(1));
		psp::MasterKey other;
		other.bytes()[0] = 1;
		b.dp->rx_sas().set_key(0, other, true);
		CPPUNIT_ASSERT(b.dp->rx_sas().list().empty());
		a.dp->send(b.endpoint(), service, 1, {}, bytes("z"));
		CPPUNIT_ASSERT(
		    eventually([&] { return b.dp->drop_counts()[ILP_DROP_PSP_UNKNOWN_SPI] == 2; }));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.misses().size());
	}

	// Tables swapped under a sender: "direct" toggled and an unrelated
	// peer added and removed while packets go; the SA's IV counter is
	// shared by every table, so the receiver authenticates them all.
	void runtime__peer_changes_during_traffic_keep_the_iv_counter()
	{
		Node &a = node("a"), &b = node("b");
		Decider &d = decider();
		up(a).start(nullptr);
		up(b).start(d.handler(*b.dp));
		connect_at_run_time(a, b);
		std::atomic<bool> done{false};
		std::atomic<unsigned> sent{0};
		std::thread sender([&] {
			for (unsigned i = 0; i < 400; i++) {
				a.dp->send(b.endpoint(), service, i, {}, bytes("p"));
				sent++;
			}
			done = true;
		});
		auto other = ilp::Endpoint::parse("192.0.2.9");
		for (bool on = true; !done; on = !on) {
			a.dp->peer_set_direct(b.endpoint(), on);
			if (on)
				a.dp->peer_add(other, std::nullopt);
			else
				a.dp->peer_del(other);
		}
		sender.join();
		CPPUNIT_ASSERT_EQUAL(400u, sent.load());
		CPPUNIT_ASSERT(d.wait(1));
		auto st = settled(*b.dp, [&](const DatapathStats &x) {
			return x.rx_packets + x.dropped >= 400 || x.rx_packets == d.misses().size();
		});
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), b.dp->drop_counts()[ILP_DROP_PSP_AUTH]);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), st.dropped);
		// One counter went on through every table: IVs 1 to 400 used.
		for (const auto &p : a.dp->peers())
			if (p->endpoint() == b.endpoint())
				CPPUNIT_ASSERT_EQUAL(std::uint64_t(401),
						     p->sa()->iv.take().value_or(0));
	}

	void keys__allocations_survive_a_restart()
	{
		auto state = dir_.path() / "state";
		std::uint32_t first;
		{
			RxSaTable t(state / "rx-sas.json");
			psp::MasterKey k;
			k.bytes()[3] = 7;
			t.set_key(0, k, true);
			first = t.allocate(psp::Version::AesGcm128, local(1)).sa.spi;
		}
		RxSaTable t(state / "rx-sas.json");
		psp::MasterKey k;
		k.bytes()[3] = 7;
		t.set_key(0, k, true);
		// The same key again: its SA is back, and no SPI is given twice.
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), t.list().size());
		CPPUNIT_ASSERT_EQUAL(first, t.list()[0].spi);
		CPPUNIT_ASSERT(t.allocate(psp::Version::AesGcm128, local(1)).sa.spi != first);
	}

	static bool is_enoent(const std::function<void()> &f)
	{
		try {
			f();
		} catch (const ilp::Error &e) {
			return e.code().value() == ENOENT;
		}
		return false;
	}

	// As ILP_CMD_SA_DEL: traffic under the SA passes, then is dropped as
	// an unknown SPI's, though b's key is from its master-keys file (whose
	// slot takes SPIs ilpd did not allocate); a second del is ENOENT.
	void sa_del__withdrawn_spi_is_dropped_and_not_given_again()
	{
		Node &a = node("a"), &b = node("b");
		Decider &d = decider();
		up(a).start(nullptr);
		up(b).start(d.handler(*b.dp));
		auto s = b.dp->rx_sas().allocate(psp::Version::AesGcm128, a.endpoint());
		a.dp->peer_add(b.endpoint(), UserDatapath::TxSaSpec{s.sa.spi, s.sa.version, s.key});
		a.dp->send(b.endpoint(), service, 1, {}, bytes("before"));
		CPPUNIT_ASSERT(d.wait(1));
		b.dp->rx_sas().remove(s.sa.spi);
		CPPUNIT_ASSERT(b.dp->rx_sas().list().empty());
		a.dp->send(b.endpoint(), service, 1, {}, bytes("after"));
		CPPUNIT_ASSERT(
		    eventually([&] { return b.dp->drop_counts()[ILP_DROP_PSP_UNKNOWN_SPI] == 1; }));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), d.misses().size());
		CPPUNIT_ASSERT(is_enoent([&] { b.dp->rx_sas().remove(s.sa.spi); }));
		CPPUNIT_ASSERT(is_enoent([&] { b.dp->rx_sas().remove(0x7fffffff); }));
		auto next = b.dp->rx_sas().allocate(psp::Version::AesGcm128, a.endpoint());
		CPPUNIT_ASSERT(next.sa.spi > s.sa.spi);
	}

	// The state file keeps a withdrawal: under a file key (untracked) the
	// SPI stays refused after a restart; under a key set with ilpctl it is
	// unknown anyway and nothing is kept for it.  Neither SPI comes back.
	void sa_del__kept_across_a_restart()
	{
		auto state = dir_.path() / "state" / "rx-sas.json";
		ilp::MasterKeyFile file;
		file.present[0] = true;
		file.keys.key[0].bytes()[5] = 9;
		psp::MasterKey set;
		set.bytes()[6] = 4;
		std::uint32_t from_file, from_set;
		{
			RxSaTable t(state);
			t.set_file_keys(file);
			from_file = t.allocate(psp::Version::AesGcm128, local(1)).sa.spi;
			t.remove(from_file);
			CPPUNIT_ASSERT(t.snapshot()->withdrawn.contains(from_file));
			t.set_key(1, set, true);
			from_set = t.allocate(psp::Version::AesGcm128, local(1)).sa.spi;
			t.remove(from_set);
			CPPUNIT_ASSERT(!t.snapshot()->withdrawn.contains(from_set));
		}
		RxSaTable t(state);
		t.set_file_keys(file);
		t.set_key(1, set, false);
		auto snap = t.snapshot();
		CPPUNIT_ASSERT(snap->sas.empty());
		CPPUNIT_ASSERT(snap->withdrawn.contains(from_file));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), snap->withdrawn.size());
		CPPUNIT_ASSERT(t.allocate(psp::Version::AesGcm128, local(1)).sa.spi > from_file);
		t.set_key(1, set, true);
		CPPUNIT_ASSERT(t.allocate(psp::Version::AesGcm128, local(1)).sa.spi > from_set);
	}

	// As ILP_CMD_PEER_DEL: the entries from the peer's address (whatever
	// port they were installed with) and those forwarding to it, fan-outs
	// whole, go; a next hop at the peer's address on another port is
	// another peer, and its entries stay.
	void peer_del__removes_the_cache_entries_from_and_to_it()
	{
		Node &a = node("a");
		up(a);
		auto p = ilp::Endpoint::parse("192.0.2.7");
		auto p_other_port = ilp::Endpoint::parse("192.0.2.7:1001");
		auto x = ilp::Endpoint::parse("192.0.2.8");
		auto q = ilp::Endpoint::parse("192.0.2.9");
		a.dp->peer_add(p, std::nullopt);
		a.dp->peer_add(p_other_port, std::nullopt);
		auto flow = [](const ilp::Endpoint &prev, std::uint64_t conn) {
			return Flow{prev, service, conn};
		};
		auto fwd = [](std::vector<ilp::Endpoint> to) {
			Actions act;
			act.forward = std::move(to);
			return act;
		};
		a.dp->install(flow(p, 1), fwd({x}));
		a.dp->install(flow(p_other_port, 2), fwd({x}));
		a.dp->install(flow(q, 3), fwd({x, p}));
		a.dp->install(flow(q, 4), fwd({p}));
		a.dp->install(flow(q, 5), fwd({p_other_port}));
		a.dp->install(flow(q, 6), fwd({x}));
		Actions drop;
		drop.drop = true;
		a.dp->install(flow(x, 7), drop);
		CPPUNIT_ASSERT_EQUAL(std::size_t(7), a.dp->entries().size());
		a.dp->peer_del(p);
		std::vector<std::uint64_t> left;
		for (const auto &e : a.dp->entries())
			left.push_back(e.flow.conn);
		std::sort(left.begin(), left.end());
		CPPUNIT_ASSERT(left == (std::vector<std::uint64_t>{5, 6, 7}));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), a.dp->stats().entries);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), a.dp->stats().evicted);
		// A peer that is not there is ENOENT, and the cache is left alone.
		CPPUNIT_ASSERT(is_enoent([&] { a.dp->peer_del(p); }));
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), a.dp->entries().size());
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(UserDatapathTest);

// SPDX-License-Identifier: GPL-2.0-or-later
//
// The revalidator against a real UserDatapath on 127.0.0.1: entries are
// installed in its cache, sealed packets from a plain UDP socket hit them,
// and the revalidator's own thread expires them.  The policy asserted is
// the documented one (docs/decision-cache.md, docs/services.md,
// revalidator.hpp): an entry goes once it has been idle for its timeout,
// idle counting from its last hit (from when the revalidator first saw it,
// for an entry never hit); the timeout is the one its service gave, else
// the daemon's default; an entry in use stays.
//
// Real time, on machines that may be loaded: every "not yet" is checked
// against a time taken before the packet that reset the idle clock was
// sent (load can only make an entry go later), every "gone" is waited for
// with a generous bound, and the entry kept alive is hit far more often
// than its timeout.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/psp.hpp>
#include <ilp_wire.h>

#include "datapath/revalidator.hpp"
#include "datapath/udp_io.hpp"
#include "datapath/user_datapath.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using namespace ilpd;
using namespace std::chrono_literals;
namespace psp = ilp::psp;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

namespace
{

ilp::Endpoint loopback(std::uint16_t port)
{
	auto ep = ilp::Endpoint::parse("127.0.0.1");
	ep.port = port;
	return ep;
}

// A node's userspace datapath on a free port, with a fresh master key,
// and a sender that seals packets for it as a peer would.
class Sn
{
public:
	explicit Sn(const TempDir &dir)
	{
		std::random_device rd;
		for (auto &b : keys_.key[0].bytes())
			b = static_cast<std::uint8_t>(rd());
		UserConfig c;
		c.master_keys =
		    dir.write("sn.master", "key0 = " + hex(keys_.key[0].bytes()) + "\n");
		c.port = 0;
		c.handler_threads = 1;
		dp_ = std::make_unique<UserDatapath>(c);
		// Entries are installed by the test, so no packet should miss;
		// one that does is counted and dropped.
		dp_->start([this](std::vector<Miss> &batch) {
			std::lock_guard lock(mu_);
			misses_ += batch.size();
			batch.clear();
		});

		sock_ = udp::Fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (!sock_ || bind(sock_.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) < 0)
			throw std::runtime_error("sender socket");
		auto key = psp::derive_sa_key(keys_, 1, psp::Version::AesGcm128);
		tx_ = std::make_unique<psp::TxSa>(1, psp::Version::AesGcm128, key.bytes());
	}
	~Sn() { dp_->stop(); }

	UserDatapath &dp() { return *dp_; }

	// The flow of the sender's packets of @service and @conn.
	Flow flow(std::uint32_t service, std::uint64_t conn) const
	{
		return Flow{loopback(udp::bound_port(sock_.get())), service, conn};
	}

	// Installs a decision (a drop: what it decides does not matter here)
	// for @f.
	void install(const Flow &f)
	{
		Actions drop;
		drop.drop = true;
		dp_->install(f, drop);
	}

	// Sends one packet of @f, and waits until its entry counted it.
	// Returns a time before the datapath took its hit time.
	Clock::time_point hit(const Flow &f)
	{
		auto before = packets(f);
		CPPUNIT_ASSERT(before);
		auto t = Clock::now();
		std::vector<std::uint8_t> clear(ILPW_HDR_LEN + 32);
		std::size_t hlen = 0;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, ilpw_hdr_build(clear.data(), clear.size(), 0,
							     f.service, f.conn, nullptr, 0, &hlen));
		std::vector<std::uint8_t> pkt(tx_->sealed_size(clear.size()));
		std::size_t len = 0;
		CPPUNIT_ASSERT_EQUAL(ILPW_OK, tx_->seal(clear, pkt, len));
		sockaddr_storage ss;
		socklen_t slen = udp::to_sockaddr(loopback(dp_->port()), AF_INET, ss);
		CPPUNIT_ASSERT(sendto(sock_.get(), pkt.data(), len, 0,
				      reinterpret_cast<sockaddr *>(&ss), slen) == ssize_t(len));
		CPPUNIT_ASSERT_MESSAGE("the hit was not counted", eventually(
								      [&] {
									      auto n = packets(f);
									      // Gone is an answer
									      // too: the caller
									      // asserts what it
									      // expects.
									      return !n ||
										     *n > *before;
								      },
								      10s));
		return t;
	}

	// The packets @f's entry counted, or nullopt when it has none.
	std::optional<std::uint64_t> packets(const Flow &f)
	{
		if (auto e = dp_->entry(f))
			return e->packets;
		return std::nullopt;
	}
	bool present(const Flow &f) { return dp_->entry(f).has_value(); }

	std::size_t misses()
	{
		std::lock_guard lock(mu_);
		return misses_;
	}

private:
	psp::MasterKeys keys_;
	std::unique_ptr<UserDatapath> dp_;
	udp::Fd sock_;
	std::unique_ptr<psp::TxSa> tx_;
	std::mutex mu_;
	std::size_t misses_ = 0;
};

// Polls @flows until each is gone (at most @limit) and returns when each
// was first seen gone; a flow still there at the end has no time.
std::map<std::uint64_t, Clock::time_point> wait_gone(Sn &sn, const std::vector<Flow> &flows,
						     Clock::duration limit = 10s)
{
	std::map<std::uint64_t, Clock::time_point> gone;
	auto deadline = Clock::now() + limit;
	while (gone.size() < flows.size() && Clock::now() < deadline) {
		for (const auto &f : flows)
			if (!gone.count(f.conn) && !sn.present(f))
				gone[f.conn] = Clock::now();
		std::this_thread::sleep_for(2ms);
	}
	return gone;
}

// What the revalidator reported removed, from its thread.
class Removals
{
public:
	Revalidator::Removed callback()
	{
		return [this](const Flow &f) {
			std::lock_guard lock(mu_);
			conns_.push_back(f.conn);
		};
	}
	std::vector<std::uint64_t> conns()
	{
		std::lock_guard lock(mu_);
		return conns_;
	}

private:
	std::mutex mu_;
	std::vector<std::uint64_t> conns_;
};

constexpr std::uint32_t service = 4242;
constexpr Ms period = 20ms;

} // namespace

class RevalidatorTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(RevalidatorTest);
	CPPUNIT_TEST(pass__idle_entries_go_the_one_in_use_stays);
	CPPUNIT_TEST(pass__never_hit_goes_one_timeout_after_first_seen);
	CPPUNIT_TEST(pass__service_timeout_wins_over_the_default);
	CPPUNIT_TEST(pass__removals_reported_once_each);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_;

public:
	void pass__idle_entries_go_the_one_in_use_stays()
	{
		constexpr Ms timeout = 600ms;
		Sn sn(dir_);
		const Flow hot = sn.flow(service, 1), cold = sn.flow(service, 2),
			   cold2 = sn.flow(service, 3);
		for (const auto &f : {hot, cold, cold2})
			sn.install(f);
		Removals removals;
		Revalidator rv(sn.dp(), period, timeout, nullptr, removals.callback());

		// Both cold entries hit once, then left idle; the hot one is
		// hit every 20 ms for over three timeouts.
		const auto cold_hit = sn.hit(cold);
		const auto cold2_hit = sn.hit(cold2);
		const auto until = Clock::now() + 3 * timeout;
		std::optional<Clock::time_point> cold_gone, cold2_gone;
		std::uint64_t hot_hits = 0;
		while (Clock::now() < until) {
			sn.hit(hot);
			hot_hits++;
			if (!cold_gone && !sn.present(cold))
				cold_gone = Clock::now();
			if (!cold2_gone && !sn.present(cold2))
				cold2_gone = Clock::now();
			std::this_thread::sleep_for(20ms);
		}

		// The hot entry is there, with every hit counted: it was never
		// removed and installed again.
		CPPUNIT_ASSERT(sn.present(hot));
		CPPUNIT_ASSERT_EQUAL(hot_hits, *sn.packets(hot));
		// The idle ones went, and not before their timeout, counted
		// from their last hit.
		CPPUNIT_ASSERT(cold_gone && cold2_gone);
		CPPUNIT_ASSERT(*cold_gone - cold_hit >= timeout);
		CPPUNIT_ASSERT(*cold2_gone - cold2_hit >= timeout);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), rv.expired());
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), sn.misses());

		// Once left alone, the hot one goes too.
		const auto last = sn.hit(hot);
		auto gone = wait_gone(sn, {hot});
		CPPUNIT_ASSERT(gone.count(hot.conn));
		CPPUNIT_ASSERT(gone[hot.conn] - last >= timeout);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), rv.expired());
	}

	void pass__never_hit_goes_one_timeout_after_first_seen()
	{
		// An entry installed for a flow that never comes back has no
		// last use: it counts as used when the revalidator first sees
		// it, so it goes one timeout later, not at once and not never.
		constexpr Ms timeout = 400ms;
		Sn sn(dir_);
		const Flow f = sn.flow(service, 9);
		const auto installed = Clock::now();
		sn.install(f);
		Revalidator rv(sn.dp(), period, timeout, nullptr);
		auto gone = wait_gone(sn, {f});
		CPPUNIT_ASSERT(gone.count(f.conn));
		CPPUNIT_ASSERT(gone[f.conn] - installed >= timeout);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), rv.expired());
	}

	void pass__service_timeout_wins_over_the_default()
	{
		// Three services: one gave a short timeout, one a long one,
		// one none (the daemon's default applies).
		constexpr std::uint32_t short_svc = 11, long_svc = 12, default_svc = 13;
		constexpr Ms short_timeout = 200ms, default_timeout = 800ms, long_timeout = 2000ms;
		Sn sn(dir_);
		const Flow s = sn.flow(short_svc, 1), l = sn.flow(long_svc, 2),
			   d = sn.flow(default_svc, 3);
		for (const auto &f : {s, l, d})
			sn.install(f);
		Revalidator rv(sn.dp(), period, default_timeout,
			       [&](const Flow &f) -> std::optional<Ms> {
				       if (f.service == short_svc)
					       return short_timeout;
				       if (f.service == long_svc)
					       return long_timeout;
				       return std::nullopt;
			       });
		std::map<std::uint64_t, Clock::time_point> hit;
		for (const auto &f : {s, l, d})
			hit[f.conn] = sn.hit(f);

		auto gone = wait_gone(sn, {s, l, d});
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), gone.size());
		CPPUNIT_ASSERT(gone[s.conn] - hit[s.conn] >= short_timeout);
		CPPUNIT_ASSERT(gone[d.conn] - hit[d.conn] >= default_timeout);
		CPPUNIT_ASSERT(gone[l.conn] - hit[l.conn] >= long_timeout);
		// In the order of their timeouts: each gap is 600 ms or more,
		// far above a pass's period.
		CPPUNIT_ASSERT(gone[s.conn] < gone[d.conn]);
		CPPUNIT_ASSERT(gone[d.conn] < gone[l.conn]);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(3), rv.expired());
	}

	void pass__removals_reported_once_each()
	{
		// What the revalidator removes is reported, so that the
		// service registry forgets the timeouts of those flows; an
		// entry that went another way (removed by its service) is
		// not the revalidator's to report.
		constexpr Ms timeout = 200ms;
		Sn sn(dir_);
		const Flow a = sn.flow(service, 1), b = sn.flow(service, 2),
			   c = sn.flow(service, 3);
		for (const auto &f : {a, b, c})
			sn.install(f);
		Removals removals;
		{
			Revalidator rv(sn.dp(), period, timeout, nullptr, removals.callback());
			CPPUNIT_ASSERT(sn.dp().remove(b));
			auto gone = wait_gone(sn, {a, c});
			CPPUNIT_ASSERT_EQUAL(std::size_t(2), gone.size());
			// A few more passes: nothing is reported twice.
			std::this_thread::sleep_for(5 * period);
			CPPUNIT_ASSERT_EQUAL(std::uint64_t(2), rv.expired());
		}
		auto conns = removals.conns();
		std::sort(conns.begin(), conns.end());
		CPPUNIT_ASSERT(conns == (std::vector<std::uint64_t>{1, 3}));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(RevalidatorTest);

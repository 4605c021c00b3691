// SPDX-License-Identifier: GPL-2.0-or-later
//
// The keying protocol's state machine (association/association.hpp) over
// two real userspace datapaths on loopback: the messages go through the
// codec as they would over the channel, and what the state machines
// install carries real packets, before and after a rekey.  And the
// schedules: reconnect backoff and master-key rotation.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <variant>

#include <cppunit/extensions/HelperMacros.h>

#include "association/association.hpp"
#include "association/messages.hpp"
#include "association/schedule.hpp"
#include "datapath/user_datapath.hpp"
#include "test_util.hpp"

using namespace ilpd;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace
{

constexpr std::uint32_t kService = 8;

// What a node's handler got: its misses' ILP headers and payloads.
struct Inbox {
	std::mutex mu;
	std::condition_variable cv;
	std::deque<std::string> got;

	MissHandler handler()
	{
		return [this](std::vector<Miss> &batch) {
			std::lock_guard lock(mu);
			for (const auto &m : batch)
				got.emplace_back(m.data.begin(), m.data.end());
			cv.notify_all();
		};
	}
	bool wait_for(const std::string &payload)
	{
		std::unique_lock lock(mu);
		return cv.wait_for(lock, 5s, [&] {
			return std::any_of(got.begin(), got.end(), [&](const std::string &g) {
				return g.ends_with(payload);
			});
		});
	}
};

struct Node {
	std::unique_ptr<UserDatapath> dp;
	std::unique_ptr<SaPlane> plane;
	Inbox inbox;

	Node()
	{
		UserConfig c;
		c.port = 0;
		c.handler_threads = 1;
		dp = std::make_unique<UserDatapath>(c);
		plane = make_user_sa_plane(*dp);
		plane->ensure_master_key();
		dp->start(inbox.handler());
	}
	~Node() { dp->stop(); }
	ilp::Endpoint endpoint() const
	{
		auto e = ilp::Endpoint::parse("127.0.0.1");
		e.port = dp->port();
		return e;
	}
	ctl::Hello hello(ctl::Role role) const
	{
		ctl::Hello h;
		h.role = role;
		h.endpoint = endpoint();
		if (role == ctl::Role::Sn)
			h.edomain = "a";
		return h;
	}
	void send(const Node &to, const std::string &text)
	{
		std::vector<std::uint8_t> payload(text.begin(), text.end());
		dp->send(to.endpoint(), kService, 1, {}, payload);
	}
};

// Through the wire format, as the channel would carry it.
ctl::Message over_the_wire(const ctl::Message &m)
{
	auto frame = ctl::encode(m);
	ctl::FrameReader r;
	r.feed(frame);
	auto out = r.next();
	CPPUNIT_ASSERT(out.has_value());
	return std::move(*out);
}

// Delivers @msgs to @to and returns its answers, until both sides are quiet.
void pump(Association &a, std::vector<ctl::Message> to_b, Association &b)
{
	std::vector<ctl::Message> to_a;
	for (int round = 0; round < 10 && (!to_b.empty() || !to_a.empty()); round++) {
		std::vector<ctl::Message> next_a, next_b;
		for (auto &m : to_b)
			for (auto &r : b.on_message(over_the_wire(m), Clock::now()))
				next_a.push_back(std::move(r));
		for (auto &m : to_a)
			for (auto &r : a.on_message(over_the_wire(m), Clock::now()))
				next_b.push_back(std::move(r));
		to_a = std::move(next_a);
		to_b = std::move(next_b);
	}
}

bool has_rx_sa(UserDatapath &dp, std::uint32_t spi)
{
	for (const auto &s : dp.rx_sas().list())
		if (s.spi == spi)
			return true;
	return false;
}

ctl::ErrorCode code_of(const std::function<void()> &f)
{
	try {
		f();
	} catch (const ctl::ProtocolError &e) {
		return e.code();
	}
	CPPUNIT_FAIL("no ProtocolError");
	return ctl::ErrorCode::Internal;
}

} // namespace

class AssociationTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(AssociationTest);
	CPPUNIT_TEST(keying__both_directions_carry_packets_once_up);
	CPPUNIT_TEST(rekey__after_rotation_new_sas_then_the_old_retired);
	CPPUNIT_TEST(rekey__asked_while_an_offer_is_in_flight_waits_for_its_ack);
	CPPUNIT_TEST(order__messages_out_of_step_are_refused);
	CPPUNIT_TEST(withdraw__removes_the_peer_and_its_sas);
	CPPUNIT_TEST(backoff__doubles_with_jitter_up_to_the_cap);
	CPPUNIT_TEST(rotation__due_on_schedule_once_when_late);
	CPPUNIT_TEST_SUITE_END();

	// host h and SN s, associated.
	struct Pair {
		Node h, s;
		Association ah{*h.plane, h.hello(ctl::Role::Host), ilp::psp::Version::AesGcm128};
		Association as{*s.plane, s.hello(ctl::Role::Sn), ilp::psp::Version::AesGcm128};

		void associate()
		{
			auto from_h = ah.on_hello(as.hello(), Clock::now());
			auto from_s = as.on_hello(ah.hello(), Clock::now());
			// Each side's first offer goes to the other, whose ack
			// comes back.
			pump(ah, from_h, as);
			pump(as, from_s, ah);
		}
	};

public:
	void keying__both_directions_carry_packets_once_up()
	{
		Pair p;
		auto first = p.ah.on_hello(p.as.hello(), Clock::now());
		CPPUNIT_ASSERT(!p.ah.up());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), first.size());
		CPPUNIT_ASSERT(std::holds_alternative<ctl::SaOffer>(first[0]));
		auto offer = std::get<ctl::SaOffer>(first[0]);
		// The SA is the host's receive SA, bound to the SN's address.
		CPPUNIT_ASSERT(has_rx_sa(*p.h.dp, offer.spi));

		Pair q;
		q.associate();
		CPPUNIT_ASSERT(q.ah.up());
		CPPUNIT_ASSERT(q.as.up());
		// Each side's out is the other's in.
		CPPUNIT_ASSERT_EQUAL(q.ah.info().spi_out, q.as.info().spi_in);
		CPPUNIT_ASSERT_EQUAL(q.as.info().spi_out, q.ah.info().spi_in);
		q.h.send(q.s, "h to s");
		q.s.send(q.h, "s to h");
		CPPUNIT_ASSERT(q.s.inbox.wait_for("h to s"));
		CPPUNIT_ASSERT(q.h.inbox.wait_for("s to h"));
	}

	void rekey__after_rotation_new_sas_then_the_old_retired()
	{
		Pair p;
		p.associate();
		auto old_in = p.as.info().spi_in; // the SN's receive SA
		p.s.plane->rotate_master_key();
		auto offers = p.as.rekey(Clock::now());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), offers.size());
		pump(p.as, offers, p.ah);
		auto new_in = p.as.info().spi_in;
		CPPUNIT_ASSERT(new_in != old_in);
		// The new key's slot is the other one.
		CPPUNIT_ASSERT((new_in >> 31) != (old_in >> 31));
		CPPUNIT_ASSERT_EQUAL(new_in, p.ah.info().spi_out);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(1), p.as.info().rekeys);
		p.h.send(p.s, "under the new SA");
		CPPUNIT_ASSERT(p.s.inbox.wait_for("under the new SA"));
		// The old SA stays for the grace period, then goes.
		p.as.retire_due(Clock::now(), 1h);
		CPPUNIT_ASSERT(has_rx_sa(*p.s.dp, old_in));
		p.as.retire_due(Clock::now() + 2h, 1h);
		CPPUNIT_ASSERT(!has_rx_sa(*p.s.dp, old_in));
		CPPUNIT_ASSERT(has_rx_sa(*p.s.dp, new_in));
		// A second rotation puts a new key in the first slot again: its
		// SPIs number on, so that no SPI comes back (a late withdrawal
		// by SPI must not hit a newer SA).
		p.s.plane->rotate_master_key();
		pump(p.as, p.as.rekey(Clock::now()), p.ah);
		auto third = p.as.info().spi_in;
		CPPUNIT_ASSERT_EQUAL(old_in >> 31, third >> 31);
		CPPUNIT_ASSERT(third != old_in);
		p.h.send(p.s, "under the third SA");
		CPPUNIT_ASSERT(p.s.inbox.wait_for("under the third SA"));
	}

	void rekey__asked_while_an_offer_is_in_flight_waits_for_its_ack()
	{
		Pair p;
		p.associate();
		auto first = p.as.rekey(Clock::now());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), first.size());
		// A second rekey before the ack: nothing now ...
		CPPUNIT_ASSERT(p.as.rekey(Clock::now()).empty());
		auto acks = p.ah.on_message(over_the_wire(first[0]), Clock::now());
		// ... and the next offer with the ack.
		auto next = p.as.on_message(over_the_wire(acks.at(0)), Clock::now());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), next.size());
		auto o = std::get<ctl::SaOffer>(next[0]);
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(3), o.seq);
	}

	void order__messages_out_of_step_are_refused()
	{
		Pair p;
		// Nothing but HELLO first.
		CPPUNIT_ASSERT(code_of([&] {
				       p.ah.on_message(ctl::SaAck{1, 5}, Clock::now());
			       }) == ctl::ErrorCode::Unexpected);
		auto offers = p.as.on_hello(p.ah.hello(), Clock::now());
		p.ah.on_hello(p.as.hello(), Clock::now());
		CPPUNIT_ASSERT(code_of([&] { p.ah.on_hello(p.as.hello(), Clock::now()); }) ==
			       ctl::ErrorCode::Unexpected);
		auto o = std::get<ctl::SaOffer>(offers.at(0));
		// A seq that skips one.
		auto skip = o;
		skip.seq = 2;
		CPPUNIT_ASSERT(code_of([&] { p.ah.on_message(skip, Clock::now()); }) ==
			       ctl::ErrorCode::Unexpected);
		p.ah.on_message(o, Clock::now());
		// The same offer again: its seq is old.
		CPPUNIT_ASSERT(code_of([&] { p.ah.on_message(o, Clock::now()); }) ==
			       ctl::ErrorCode::Replay);
		// The next seq with the SPI already installed.
		auto again = o;
		again.seq = 2;
		CPPUNIT_ASSERT(code_of([&] { p.ah.on_message(again, Clock::now()); }) ==
			       ctl::ErrorCode::Replay);
		// An ack of an offer never made.
		CPPUNIT_ASSERT(code_of([&] {
				       p.ah.on_message(ctl::SaAck{7, 7}, Clock::now());
			       }) == ctl::ErrorCode::Unexpected);
		// Not keying messages.
		CPPUNIT_ASSERT(code_of([&] { p.ah.on_message(ctl::Keepalive{}, Clock::now()); }) ==
			       ctl::ErrorCode::Unexpected);
	}

	void withdraw__removes_the_peer_and_its_sas()
	{
		Pair p;
		p.associate();
		auto in = p.as.info().spi_in;
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), p.s.dp->peers().size());
		p.as.withdraw();
		CPPUNIT_ASSERT(!has_rx_sa(*p.s.dp, in));
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), p.s.dp->peers().size());
		CPPUNIT_ASSERT(!p.as.up());
	}

	void backoff__doubles_with_jitter_up_to_the_cap()
	{
		Backoff b(100ms, 1000ms, 42);
		const long bounds[] = {100, 200, 400, 800, 1000, 1000, 1000};
		for (long d : bounds) {
			auto got = b.next().count();
			CPPUNIT_ASSERT_MESSAGE(std::to_string(got) + " for " + std::to_string(d),
					       got >= d / 2 && got <= d);
		}
		b.reset();
		CPPUNIT_ASSERT(b.next().count() <= 100);
		// Two hosts with different seeds do not retry in lockstep.
		Backoff x(1000ms, 60000ms, 1), y(1000ms, 60000ms, 2);
		bool differ = false;
		for (int i = 0; i < 5; i++)
			differ |= x.next() != y.next();
		CPPUNIT_ASSERT(differ);
	}

	void rotation__due_on_schedule_once_when_late()
	{
		auto t0 = Clock::now();
		RotationSchedule r(10s, t0);
		CPPUNIT_ASSERT(!r.take(t0 + 9s));
		CPPUNIT_ASSERT(r.take(t0 + 10s));
		CPPUNIT_ASSERT(!r.take(t0 + 11s));
		// Three intervals late: one rotation, the next an interval on.
		CPPUNIT_ASSERT(r.take(t0 + 50s));
		CPPUNIT_ASSERT(!r.take(t0 + 55s));
		CPPUNIT_ASSERT(r.take(t0 + 60s));
		r.rotated(t0 + 65s);
		CPPUNIT_ASSERT(!r.take(t0 + 70s));
		CPPUNIT_ASSERT(r.take(t0 + 75s));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(AssociationTest);

// SPDX-License-Identifier: GPL-2.0-or-later
//
// An SN's memberships and registrations (multipoint/memberships.hpp):
// requests as hosts send them, with grants signed by a real Ed25519 key;
// every refusal (a bad or expired grant, another host's, another owner's,
// a closed group, an unknown one, a flood, too many groups, a malformed
// line) leaves the state as it was.  Whether a group is open is what the
// lookup service says; here the test says it (the daemon's netns test
// has the real lookup service answer).
#include <cerrno>
#include <cstdio>
#include <string>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/group_control.hpp>

#include "ed25519_key.hpp"
#include "multipoint/memberships.hpp"
#include "temp_dir.hpp"

using namespace ilpd::multipoint;
using ilp::group::Grant;
using ilp::group::make_grant;
using ilp::group::Owner;

namespace
{

Owner new_owner(const TempDir &dir, const std::string &name)
{
	return Owner::load(new_ed25519_key(dir.path() / name));
}

constexpr std::uint64_t kNow = 1800000000;
const auto h1 = ilp::Endpoint::parse("10.1.1.1:1000");
const auto h2 = ilp::Endpoint::parse("10.1.2.1:1000");

} // namespace

class MembershipsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(MembershipsTest);
	CPPUNIT_TEST(requests_parse);
	CPPUNIT_TEST(join_by_grant_and_leave);
	CPPUNIT_TEST(refusals_change_nothing);
	CPPUNIT_TEST(open_groups);
	CPPUNIT_TEST(expiry_and_forget);
	CPPUNIT_TEST(floods_are_bounded);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir;
	std::optional<bool> open_member = false, open_sender = false;

	Memberships make(Limits l = {})
	{
		return Memberships(
		    [this](const Name &, Role r) {
			    return r == Role::Member ? open_member : open_sender;
		    },
		    l);
	}
	static std::string join(const Owner &o, const std::string &label,
				const std::optional<Grant> &g = {})
	{
		return "join " + Name{o.public_key(), label}.text() + (g ? " " + g->text() : "");
	}

public:
	void requests_parse()
	{
		auto o = new_owner(dir, "o.pem");
		auto g = make_grant(o, "news", Role::Sender, "10.1.1.1", kNow + 60);
		ilp::group::Request r{ilp::group::Request::Op::Register, g.group, g};
		auto back = ilp::group::parse_request(r.text());
		CPPUNIT_ASSERT(back);
		CPPUNIT_ASSERT_EQUAL(r.text(), back->text());
		CPPUNIT_ASSERT(ilp::group::parse_request("show"));
		const auto name = g.group.text();
		for (const auto &bad :
		     {std::string(), std::string("subscribe ") + name, std::string("join"),
		      std::string("join news"), "leave " + name + " " + g.text(), "show " + name,
		      // a grant for another group than the one named
		      "register " + Name{o.public_key(), "sport"}.text() + " " + g.text(),
		      "join " + name + " ilp-grant-1 junk",
		      "join " + name + std::string(1000, ' ')}) {
			std::string why;
			CPPUNIT_ASSERT_MESSAGE(bad, !ilp::group::parse_request(bad, &why));
			CPPUNIT_ASSERT_MESSAGE(bad, !why.empty());
		}
	}

	void join_by_grant_and_leave()
	{
		auto o = new_owner(dir, "o.pem");
		auto m = make();
		auto name = Name{o.public_key(), "news"}.text();
		auto a = m.request(
		    h1, join(o, "news", make_grant(o, "news", Role::Member, "10.1.1.1", kNow + 60)),
		    kNow);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(a.text, 0, a.status);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.members(name).size());
		CPPUNIT_ASSERT(m.members(name)[0] == h1);
		CPPUNIT_ASSERT(m.groups().members.contains(name));
		CPPUNIT_ASSERT(m.groups().senders.empty());
		// Joining again is no second membership.
		a = m.request(
		    h1, join(o, "news", make_grant(o, "news", Role::Member, "10.1.1.1", kNow + 90)),
		    kNow);
		CPPUNIT_ASSERT_EQUAL(0, a.status);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.members(name).size());
		auto held = nlohmann::json::parse(m.request(h1, "show", kNow).text);
		CPPUNIT_ASSERT_EQUAL(name, held["member"][0].get<std::string>());
		// A sender registers with its own grant; a member grant is not one.
		auto s =
		    m.request(h2,
			      "register " + name + " " +
				  make_grant(o, "news", Role::Member, "10.1.2.1", kNow + 60).text(),
			      kNow);
		CPPUNIT_ASSERT_EQUAL(-EPERM, s.status);
		s = m.request(h2,
			      "register " + name + " " +
				  make_grant(o, "news", Role::Sender, "10.1.2.1", kNow + 60).text(),
			      kNow);
		CPPUNIT_ASSERT_EQUAL_MESSAGE(s.text, 0, s.status);
		CPPUNIT_ASSERT(m.is_sender(name, h2));
		CPPUNIT_ASSERT(!m.is_sender(name, h1));
		CPPUNIT_ASSERT_EQUAL(0, m.request(h1, "leave " + name, kNow).status);
		CPPUNIT_ASSERT(m.members(name).empty());
		CPPUNIT_ASSERT_EQUAL(-ENOENT, m.request(h1, "leave " + name, kNow).status);
		CPPUNIT_ASSERT_EQUAL(0, m.request(h2, "unregister " + name, kNow).status);
		CPPUNIT_ASSERT(m.show()["groups"].empty());
	}

	void refusals_change_nothing()
	{
		auto o = new_owner(dir, "o.pem");
		auto other = new_owner(dir, "x.pem");
		auto m = make();
		auto name = Name{o.public_key(), "news"}.text();
		auto good = make_grant(o, "news", Role::Member, "10.1.1.1", kNow + 60);
		auto refused = [&](const ilp::Endpoint &h, const std::string &line, int status,
				   const std::string &reason) {
			auto a = m.request(h, line, kNow);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(line + ": " + a.text, status, a.status);
			CPPUNIT_ASSERT_MESSAGE(a.text, a.text.find(reason) != std::string::npos);
			CPPUNIT_ASSERT(m.show()["groups"].empty());
		};
		// Another host's grant.
		refused(h2, join(o, "news", good), -EPERM, "not 10.1.2.1");
		// Expired.
		refused(h1, join(o, "news", make_grant(o, "news", Role::Member, "10.1.1.1", kNow)),
			-EPERM, "expired");
		// Another owner's key signing for this owner's group.
		auto forged = make_grant(other, "news", Role::Member, "10.1.1.1", kNow + 60);
		forged.group.key = o.public_key();
		refused(h1, join(o, "news", forged), -EPERM, "signature");
		// A changed signature.
		auto flipped = good;
		flipped.sig[0] ^= 1;
		refused(h1, join(o, "news", flipped), -EPERM, "signature");
		// No grant, and the group is not open.
		refused(h1, join(o, "news"), -EPERM, "not posted");
		// Malformed.
		refused(h1, "join " + name + " ilp-grant-1 member", -EINVAL, "grant");
		refused(h1, "welcome", -EINVAL, "not a group request");
		auto counts = m.show()["counts"];
		CPPUNIT_ASSERT_EQUAL(4, counts["refused_grant"].get<int>());
		CPPUNIT_ASSERT_EQUAL(1, counts["refused_closed"].get<int>());
		CPPUNIT_ASSERT_EQUAL(2, counts["refused_malformed"].get<int>());
	}

	void open_groups()
	{
		auto o = new_owner(dir, "o.pem");
		auto m = make();
		auto name = Name{o.public_key(), "chat"}.text();
		open_member = true;
		CPPUNIT_ASSERT_EQUAL(0, m.request(h1, join(o, "chat"), kNow).status);
		// Open to members is not open to senders.
		CPPUNIT_ASSERT_EQUAL(-EPERM, m.request(h1, "register " + name, kNow).status);
		open_sender = true;
		CPPUNIT_ASSERT_EQUAL(0, m.request(h1, "register " + name, kNow).status);
		// Not known (the lookup service out of reach): asked again later.
		open_member = std::nullopt;
		auto a = m.request(h2, join(o, "chat"), kNow);
		CPPUNIT_ASSERT_EQUAL(-EAGAIN, a.status);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.members(name).size());
		// An open membership does not expire.
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), m.expire(kNow + 1000000));
	}

	void expiry_and_forget()
	{
		auto o = new_owner(dir, "o.pem");
		auto m = make();
		auto news = Name{o.public_key(), "news"}.text(),
		     sport = Name{o.public_key(), "sport"}.text();
		CPPUNIT_ASSERT_EQUAL(
		    0, m.request(h1,
				 join(o, "news",
				      make_grant(o, "news", Role::Member, "10.1.1.1", kNow + 10)),
				 kNow)
			   .status);
		CPPUNIT_ASSERT_EQUAL(
		    0, m.request(h1,
				 join(o, "sport",
				      make_grant(o, "sport", Role::Member, "10.1.1.1", kNow + 100)),
				 kNow)
			   .status);
		CPPUNIT_ASSERT_EQUAL(
		    0, m.request(h2,
				 join(o, "sport",
				      make_grant(o, "sport", Role::Member, "10.1.2.1", kNow + 100)),
				 kNow)
			   .status);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), m.expire(kNow + 9));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.expire(kNow + 10));
		CPPUNIT_ASSERT(m.members(news).empty());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), m.members(sport).size());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.forget(h1));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), m.members(sport).size());
		CPPUNIT_ASSERT(m.members(sport)[0] == h2);
		CPPUNIT_ASSERT_EQUAL(std::size_t(0), m.forget(h1));
	}

	void floods_are_bounded()
	{
		auto o = new_owner(dir, "o.pem");
		open_member = true;
		Limits l;
		l.groups_per_host = 3;
		l.burst = 5;
		l.requests_per_s = 1;
		auto m = make(l);
		auto t = Memberships::Clock::now();
		for (int i = 0; i < 3; i++)
			CPPUNIT_ASSERT_EQUAL(
			    0, m.request(h1, join(o, "g" + std::to_string(i)), kNow, t).status);
		auto a = m.request(h1, join(o, "g3"), kNow, t);
		CPPUNIT_ASSERT_EQUAL(-EUSERS, a.status);
		CPPUNIT_ASSERT_EQUAL(
		    0, m.request(h1, join(o, "g0"), kNow, t).status); // again: no new one
		// The sixth request within the same instant: refused unread.
		CPPUNIT_ASSERT_EQUAL(
		    -EBUSY,
		    m.request(h1, "leave " + Name{o.public_key(), "g0"}.text(), kNow, t).status);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1),
				     m.members(Name{o.public_key(), "g0"}.text()).size());
		// Another host has its own bucket; a second later, one more.
		CPPUNIT_ASSERT_EQUAL(0, m.request(h2, join(o, "g3"), kNow, t).status);
		CPPUNIT_ASSERT_EQUAL(0, m.request(h1, "leave " + Name{o.public_key(), "g0"}.text(),
						  kNow, t + std::chrono::seconds(1))
					    .status);
		auto counts = m.show()["counts"];
		CPPUNIT_ASSERT_EQUAL(1, counts["refused_rate"].get<int>());
		CPPUNIT_ASSERT_EQUAL(1, counts["refused_limit"].get<int>());
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(MembershipsTest);

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Owners' grants (ilp/group.hpp, docs/multipoint.md): made with a real
// Ed25519 key and checked with OpenSSL, their text read back strictly, and
// every way a grant is worth nothing: another role, another host, another
// owner's key, a changed field, an expiry passed.
#include <cstdio>
#include <string>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/error.hpp>
#include <ilp/group.hpp>

#include "ed25519_key.hpp"
#include "temp_dir.hpp"

using namespace ilp::group;

namespace
{

Owner new_owner(const TempDir &dir, const std::string &name)
{
	return Owner::load(new_ed25519_key(dir.path() / name));
}

constexpr std::uint64_t kNow = 1800000000;

} // namespace

class GroupGrantTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(GroupGrantTest);
	CPPUNIT_TEST(roles);
	CPPUNIT_TEST(grant_round_trip);
	CPPUNIT_TEST(grant_refusals);
	CPPUNIT_TEST(malformed_text);
	CPPUNIT_TEST(hosts);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir;

public:
	void roles()
	{
		CPPUNIT_ASSERT(parse_role("member") == Role::Member);
		CPPUNIT_ASSERT(parse_role("sender") == Role::Sender);
		CPPUNIT_ASSERT(!parse_role("Member"));
		CPPUNIT_ASSERT(!parse_role(""));
		CPPUNIT_ASSERT_EQUAL(std::string("open.member"), open_statement_id(Role::Member));
		CPPUNIT_ASSERT_EQUAL(std::string("open.sender"), open_statement_id(Role::Sender));
		CPPUNIT_ASSERT(is_word(open_statement_id(Role::Sender)));
	}

	void grant_round_trip()
	{
		auto o = new_owner(dir, "o.pem");
		auto g = make_grant(o, "news", Role::Member, "10.1.3.1", kNow + 60);
		auto text = g.text();
		CPPUNIT_ASSERT(text.starts_with("ilp-grant-1 member " +
						Name{o.public_key(), "news"}.text() +
						" 10.1.3.1 1800000060 "));
		std::string why;
		auto back = parse_grant(text, &why);
		CPPUNIT_ASSERT_MESSAGE(why, back);
		CPPUNIT_ASSERT_EQUAL(text, back->text());
		CPPUNIT_ASSERT(!check_grant(*back, Role::Member, "10.1.3.1", kNow));
		auto s = make_grant(o, "news", Role::Sender, "fd00::1", kNow + 1);
		CPPUNIT_ASSERT(!check_grant(*parse_grant(s.text()), Role::Sender, "fd00::1", kNow));
	}

	void grant_refusals()
	{
		auto o = new_owner(dir, "o.pem");
		auto other = new_owner(dir, "x.pem");
		auto g = make_grant(o, "news", Role::Member, "10.1.3.1", kNow + 60);
		auto refused = [](const Grant &x, Role r, const std::string &host,
				  std::uint64_t now, const std::string &reason) {
			auto why = check_grant(x, r, host, now);
			CPPUNIT_ASSERT_MESSAGE(reason, why);
			CPPUNIT_ASSERT_MESSAGE(*why, why->find(reason) != std::string::npos);
		};
		refused(g, Role::Sender, "10.1.3.1", kNow, "not a sender");
		refused(g, Role::Member, "10.1.3.2", kNow, "not 10.1.3.2");
		refused(g, Role::Member, "10.1.3.1", kNow + 60, "expired");
		// Each field changed after signing: the signature no longer holds.
		auto later = g;
		later.expires += 3600;
		refused(later, Role::Member, "10.1.3.1", kNow, "signature");
		auto moved = g;
		moved.host = "10.1.3.2";
		refused(moved, Role::Member, "10.1.3.2", kNow, "signature");
		auto relabelled = g;
		relabelled.group.label = "sport";
		refused(relabelled, Role::Member, "10.1.3.1", kNow, "signature");
		auto promoted = g;
		promoted.role = Role::Sender;
		refused(promoted, Role::Sender, "10.1.3.1", kNow, "signature");
		// Another owner's grant for a group it does not own.
		auto forged = make_grant(other, "news", Role::Member, "10.1.3.1", kNow + 60);
		forged.group.key = o.public_key();
		refused(forged, Role::Member, "10.1.3.1", kNow, "signature");
		auto flipped = g;
		flipped.sig[10] ^= 0x40;
		refused(flipped, Role::Member, "10.1.3.1", kNow, "signature");
	}

	void malformed_text()
	{
		auto o = new_owner(dir, "o.pem");
		auto good = make_grant(o, "news", Role::Member, "10.1.3.1", kNow + 60).text();
		auto field = [&](int i, const std::string &to) {
			std::string t = good;
			std::size_t at = 0;
			for (int k = 0; k < i; k++)
				at = t.find(' ', at) + 1;
			auto end = t.find(' ', at);
			return t.replace(at, end == std::string::npos ? t.size() - at : end - at,
					 to);
		};
		for (const auto &bad :
		     {std::string(), std::string("ilp-grant-1"), good + " extra", good.substr(1),
		      field(0, "ilp-grant-2"), field(1, "owner"), field(2, "news"),
		      field(3, "host.example"), field(3, "010.1.3.1"), field(4, "-5"),
		      field(4, "5s"), field(4, ""), field(5, std::string(128, 'G')),
		      field(5, "00")}) {
			std::string why;
			CPPUNIT_ASSERT_MESSAGE(bad, !parse_grant(bad, &why));
			CPPUNIT_ASSERT_MESSAGE(bad, !why.empty());
		}
	}

	void hosts()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("fd00::1"), *canonical_host("FD00:0::1"));
		CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.1"), *canonical_host("10.0.0.1"));
		CPPUNIT_ASSERT(!canonical_host("10.0.0"));
		CPPUNIT_ASSERT(!canonical_host("example.org"));
		auto o = new_owner(dir, "o.pem");
		// The grant holds the host as inet_ntop writes it, whatever it was given.
		CPPUNIT_ASSERT_EQUAL(std::string("fd00::1"),
				     make_grant(o, "news", Role::Member, "FD00::0:1", kNow).host);
		CPPUNIT_ASSERT_THROW(make_grant(o, "news", Role::Member, "h3", kNow), ilp::Error);
		CPPUNIT_ASSERT_THROW(make_grant(o, "News", Role::Member, "10.0.0.1", kNow),
				     ilp::Error);
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(GroupGrantTest);

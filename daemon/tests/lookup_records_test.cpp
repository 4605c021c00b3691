// SPDX-License-Identifier: GPL-2.0-or-later
//
// The lookup service's records and who may write them: owners' Ed25519
// signatures (ilp/group.hpp) made and checked with OpenSSL, group records
// parsed strictly, and the lookup service's and the core's refusals
// (StoreService) against a real SQLite store, request by request as they
// come over the control channel.
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>

#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <ilp/error.hpp>
#include <ilp/group.hpp>

#include "ed25519_key.hpp"
#include "edomain/group_records.hpp"
#include "edomain/store_service.hpp"
#include "store/remote_protocol.hpp"
#include "store/sqlite_store.hpp"

namespace fs = std::filesystem;
using namespace ilpd;

namespace
{

struct TempDir {
	fs::path path;
	TempDir()
	{
		std::string t = (fs::temp_directory_path() / "ilp-lookup-XXXXXX").string();
		if (!mkdtemp(t.data()))
			throw std::runtime_error("mkdtemp failed");
		path = t;
	}
	~TempDir() { fs::remove_all(path); }
};

groups::Statement signed_statement(const ilp::group::Owner &o, const std::string &label,
				   const std::string &id, const std::string &text)
{
	groups::Statement s{{o.public_key(), label}, id, text, {}};
	s.sig = o.sign(ilp::group::statement_message(s.group, id, text));
	return s;
}

} // namespace

class LookupRecordsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(LookupRecordsTest);
	CPPUNIT_TEST(sign_and_verify);
	CPPUNIT_TEST(names);
	CPPUNIT_TEST(records);
	CPPUNIT_TEST(lookup_service_refusals);
	CPPUNIT_TEST(core_refusals);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir;

	// What the StoreService answers @from (edomain @edomain, an SN
	// unless @sn is false) for @request to @service.
	static std::pair<int, std::string>
	ask(StoreService &s, std::uint32_t service, const std::string &endpoint,
	    const std::string &edomain, const store::remote::Request &request, bool sn = true)
	{
		std::promise<std::pair<int, std::string>> p;
		auto body = store::remote::encode(request);
		s.answer(service, ControlFrom{ilp::Endpoint::parse(endpoint), sn, edomain},
			 {body.begin(), body.end()}, [&](int status, std::vector<std::uint8_t> b) {
				 p.set_value({status, std::string(b.begin(), b.end())});
			 });
		return p.get_future().get();
	}
	static store::remote::Request put(const std::string &key, const std::string &value)
	{
		store::remote::Request r;
		r.op = store::remote::Op::Put;
		r.key = key;
		r.value = value;
		return r;
	}
	static store::remote::Request del(const std::string &key)
	{
		store::remote::Request r;
		r.op = store::remote::Op::Del;
		r.key = key;
		return r;
	}

public:
	void sign_and_verify()
	{
		auto o = ilp::group::Owner::load(new_ed25519_key(dir.path / "o.pem"));
		ilp::group::Name g{o.public_key(), "news"};
		auto m = ilp::group::statement_message(g, "open", "open");
		auto sig = o.sign(m);
		CPPUNIT_ASSERT(ilp::group::verify(o.public_key(), m, sig));
		CPPUNIT_ASSERT(!ilp::group::verify(
		    o.public_key(), ilp::group::statement_message(g, "open", "closed"), sig));
		CPPUNIT_ASSERT(!ilp::group::verify(
		    o.public_key(), ilp::group::statement_message(g, "other", "open"), sig));
		auto other = ilp::group::Owner::load(new_ed25519_key(dir.path / "x.pem"));
		CPPUNIT_ASSERT(!ilp::group::verify(other.public_key(), m, sig));
		sig[0] ^= 1;
		CPPUNIT_ASSERT(!ilp::group::verify(o.public_key(), m, sig));
		// Not a key file: a clear error naming it.
		{
			FILE *f = std::fopen((dir.path / "junk.pem").c_str(), "w");
			std::fputs("not a key\n", f);
			std::fclose(f);
		}
		try {
			ilp::group::Owner::load(dir.path / "junk.pem");
			CPPUNIT_FAIL("a junk key file was taken");
		} catch (const ilp::Error &e) {
			CPPUNIT_ASSERT(std::string(e.what()).find("junk.pem") != std::string::npos);
		}
	}

	void names()
	{
		std::string key(64, 'a');
		CPPUNIT_ASSERT(ilp::group::parse_name(key + ":news"));
		CPPUNIT_ASSERT_EQUAL(key + ":news", ilp::group::parse_name(key + ":news")->text());
		std::string why;
		for (const auto &bad : {std::string("news"), key + ":", key + ":News",
					key.substr(1) + ":news", std::string(64, 'g') + ":news",
					key + ":" + std::string(65, 'l'), key + ":a/b"}) {
			CPPUNIT_ASSERT_MESSAGE(bad, !ilp::group::parse_name(bad, &why));
			CPPUNIT_ASSERT(!why.empty());
		}
	}

	void records()
	{
		auto o = ilp::group::Owner::load(new_ed25519_key(dir.path / "o.pem"));
		auto s = signed_statement(o, "news", "open", "open");
		auto key = groups::statement_key(s), value = groups::statement_value(s);
		auto r = groups::parse(key, value);
		CPPUNIT_ASSERT(r && std::holds_alternative<groups::Statement>(*r));
		CPPUNIT_ASSERT_EQUAL(std::string("open"), std::get<groups::Statement>(*r).text);
		// Another text under the same signature, another ID: refused.
		auto forged = s;
		forged.text = "closed";
		std::string why;
		CPPUNIT_ASSERT(!groups::parse(key, groups::statement_value(forged), &why));
		CPPUNIT_ASSERT_EQUAL(std::string("a statement its group's owner did not sign"),
				     why);
		forged = s;
		forged.id = "other";
		CPPUNIT_ASSERT(
		    !groups::parse(groups::statement_key(forged), groups::statement_value(forged)));
		auto m = groups::member_key(s.group, "a");
		CPPUNIT_ASSERT(groups::parse(m, groups::member_value("a")));
		for (const auto &[k, v] :
		     std::initializer_list<std::pair<std::string, std::string>>{
			 {m, groups::member_value("b")},
			 {m, "not json"},
			 {m, R"({"edomain":"a","more":1})"},
			 {"group/" + s.group.text(), groups::member_value("a")},
			 {"group/" + s.group.text() + "/other/x", "{}"},
			 {key, R"({"text":"open"})"},
			 {key, R"({"text":"open","sig":"zz"})"},
			 {"host/x", "{}"}})
			CPPUNIT_ASSERT_MESSAGE(k + " " + v, !groups::parse(k, v));
	}

	void lookup_service_refusals()
	{
		auto st = store::open_sqlite_store(dir.path / "lookup.db");
		StoreService svc(nullptr, st.get(), "a");
		const auto lookup = store::remote::kLookupService;
		const std::string sn3 = "10.1.0.3:1000";
		auto own = R"({"sn":"10.1.0.3:1000","host":"10.1.3.1:1000","edomain":"b"})";
		CPPUNIT_ASSERT_EQUAL(
		    0,
		    ask(svc, lookup, sn3, "b", put("host/10.1.3.1:1000/10.1.0.3:1000", own)).first);
		// Another SN's record, or its own naming another edomain.
		CPPUNIT_ASSERT_EQUAL(
		    -EPERM,
		    ask(svc, lookup, sn3, "b", put("host/10.1.1.1:1000/10.1.0.1:1000", own)).first);
		CPPUNIT_ASSERT_EQUAL(
		    -EPERM,
		    ask(svc, lookup, sn3, "b",
			put("host/10.1.3.1:1000/10.1.0.3:1000",
			    R"({"sn":"10.1.0.3:1000","host":"10.1.3.1:1000","edomain":"a"})"))
			.first);
		CPPUNIT_ASSERT_EQUAL(-EPERM, ask(svc, lookup, "10.1.0.1:1000", "a",
						 del("host/10.1.3.1:1000/10.1.0.3:1000"))
						 .first);
		// A statement its owner signed, carried by any SN; a forged one
		// by none.
		auto o = ilp::group::Owner::load(new_ed25519_key(dir.path / "o.pem"));
		auto s = signed_statement(o, "news", "open", "open");
		CPPUNIT_ASSERT_EQUAL(0,
				     ask(svc, lookup, sn3, "b",
					 put(groups::statement_key(s), groups::statement_value(s)))
					 .first);
		auto forged = s;
		forged.text = "closed";
		auto [status, why] =
		    ask(svc, lookup, sn3, "b",
			put(groups::statement_key(forged), groups::statement_value(forged)));
		CPPUNIT_ASSERT_EQUAL(-EPERM, status);
		CPPUNIT_ASSERT(why.find("did not sign") != std::string::npos);
		CPPUNIT_ASSERT(st->get(groups::statement_key(s))->value.find(R"("text":"open")") !=
			       std::string::npos); // not the forged text
		CPPUNIT_ASSERT_EQUAL(
		    -EPERM, ask(svc, lookup, sn3, "b", del(groups::statement_key(s))).first);
		// Memberships: its own edomain's only.
		CPPUNIT_ASSERT_EQUAL(
		    0, ask(svc, lookup, sn3, "b",
			   put(groups::member_key(s.group, "b"), groups::member_value("b")))
			   .first);
		CPPUNIT_ASSERT_EQUAL(
		    -EPERM, ask(svc, lookup, sn3, "b",
				put(groups::member_key(s.group, "a"), groups::member_value("a")))
				.first);
		CPPUNIT_ASSERT_EQUAL(-EPERM, ask(svc, lookup, "10.1.0.1:1000", "a",
						 del(groups::member_key(s.group, "b")))
						 .first);
		CPPUNIT_ASSERT_EQUAL(
		    0, ask(svc, lookup, sn3, "b", del(groups::member_key(s.group, "b"))).first);
		// A host, and a compaction, are refused; reading is anyone's.
		store::remote::Request rev;
		CPPUNIT_ASSERT_EQUAL(-EPERM,
				     ask(svc, lookup, "10.1.3.1:1000", "", rev, false).first);
		store::remote::Request compact;
		compact.op = store::remote::Op::Compact;
		compact.revision = 1;
		CPPUNIT_ASSERT_EQUAL(-EPERM, ask(svc, lookup, sn3, "b", compact).first);
		CPPUNIT_ASSERT_EQUAL(0, ask(svc, lookup, sn3, "b", rev).first);
		// No core here: the core's requests are not this node's.
		CPPUNIT_ASSERT_EQUAL(-EOPNOTSUPP,
				     ask(svc, store::remote::kCoreService, sn3, "b", rev).first);
	}

	void core_refusals()
	{
		auto st = store::open_sqlite_store(dir.path / "core.db");
		StoreService svc(st.get(), nullptr, "a");
		const auto core = store::remote::kCoreService;
		CPPUNIT_ASSERT_EQUAL(
		    0, ask(svc, core, "10.1.0.2:1000", "a", put("gateway/b/10.1.0.1:1000", "{}"))
			   .first);
		auto [status, why] =
		    ask(svc, core, "10.1.0.3:1000", "b", put("gateway/a/10.1.0.3:1000", "{}"));
		CPPUNIT_ASSERT_EQUAL(-EPERM, status);
		CPPUNIT_ASSERT_EQUAL(std::string("the core of edomain a serves its own SNs only"),
				     why);
		CPPUNIT_ASSERT(!st->get("gateway/a/10.1.0.3:1000"));
	}
};
CPPUNIT_TEST_SUITE_REGISTRATION(LookupRecordsTest);

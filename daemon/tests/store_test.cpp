// SPDX-License-Identifier: GPL-2.0-or-later
//
// The core store (store/store.hpp): one suite, run against SqliteStore on
// a file, against EtcdStore on a real etcd member this program starts on
// loopback, and against RemoteStore talking to a StoreServer over SQLite
// (the requests and replies of the control channel, without the channel:
// the netns tests carry them between ilpds); then what only one of them
// has: the remote store's pages and its refusal of malformed messages, SQLite's durability across
// a reopen and its refusal of a file that is not a store, and a
// three-member etcd cluster that loses a member (kill -9) and loses
// nothing: writes go on, and a watch made again from the revision after
// its last event sees every change.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cppunit/extensions/HelperMacros.h>

#include "store/etcd_store.hpp"
#include "store/mirror.hpp"
#include "store/remote_protocol.hpp"
#include "store/remote_store.hpp"
#include "store/sqlite_store.hpp"
#include "store/store_server.hpp"

using namespace ilpd::store;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace
{

struct TempDir {
	fs::path path;
	TempDir()
	{
		std::string t = (fs::temp_directory_path() / "ilp-store-XXXXXX").string();
		if (!mkdtemp(t.data()))
			throw std::runtime_error("mkdtemp failed");
		path = t;
	}
	~TempDir() { fs::remove_all(path); }
};

// A loopback TCP port nobody listens on now.
std::uint16_t free_port()
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) ||
	    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len)) {
		close(fd);
		throw std::runtime_error("no free port");
	}
	close(fd);
	return ntohs(a.sin_port);
}

// etcd members on loopback, each its own process, killed when it goes.
class EtcdCluster
{
public:
	explicit EtcdCluster(unsigned members)
	{
		std::string cluster;
		for (unsigned i = 0; i < members; i++) {
			Member m;
			m.name = "m" + std::to_string(i);
			m.client = "127.0.0.1:" + std::to_string(free_port());
			m.peer = "127.0.0.1:" + std::to_string(free_port());
			cluster += (i ? "," : "") + m.name + "=http://" + m.peer;
			members_.push_back(m);
		}
		cluster_ = cluster;
		for (auto &m : members_)
			start(m, cluster);
		// Ready when a store over all of them answers.
		auto s = store("/ready/");
		for (auto deadline = std::chrono::steady_clock::now() + 60s;;) {
			try {
				s->put("up", "1");
				break;
			} catch (const StoreError &) {
				if (std::chrono::steady_clock::now() > deadline)
					throw std::runtime_error("etcd did not come up; see " +
								 dir_.path.string());
				std::this_thread::sleep_for(200ms);
			}
		}
	}
	~EtcdCluster()
	{
		for (auto &m : members_)
			kill(m);
	}

	std::vector<std::string> endpoints() const
	{
		std::vector<std::string> e;
		for (const auto &m : members_)
			e.push_back(m.client);
		return e;
	}
	std::unique_ptr<Store> store(const std::string &prefix,
				     std::vector<std::string> endpoints = {})
	{
		EtcdOptions o;
		o.endpoints = endpoints.empty() ? this->endpoints() : endpoints;
		o.prefix = prefix;
		o.timeout = 5s;
		return open_etcd_store(o);
	}
	void kill(unsigned i) { kill(members_.at(i)); }
	// Again, on its data directory.
	void restart(unsigned i) { start(members_.at(i), cluster_); }

private:
	struct Member {
		std::string name, client, peer;
		pid_t pid = -1;
	};

	void start(Member &m, const std::string &cluster)
	{
		auto data = dir_.path / m.name;
		auto log = (dir_.path / (m.name + ".log")).string();
		std::vector<std::string> args = {
		    "etcd",
		    "--name=" + m.name,
		    "--data-dir=" + data.string(),
		    "--listen-client-urls=http://" + m.client,
		    "--advertise-client-urls=http://" + m.client,
		    "--listen-peer-urls=http://" + m.peer,
		    "--initial-advertise-peer-urls=http://" + m.peer,
		    "--initial-cluster=" + cluster,
		    "--initial-cluster-state=new",
		    "--initial-cluster-token=ilp-store-test",
		    "--logger=zap",
		    "--log-outputs=" + log,
		};
		m.pid = fork();
		if (m.pid < 0)
			throw std::runtime_error("fork failed");
		if (m.pid == 0) {
			std::vector<char *> argv;
			for (auto &a : args)
				argv.push_back(a.data());
			argv.push_back(nullptr);
			execvp("etcd", argv.data());
			_exit(127);
		}
	}
	void kill(Member &m)
	{
		if (m.pid <= 0)
			return;
		::kill(m.pid, SIGKILL);
		waitpid(m.pid, nullptr, 0);
		m.pid = -1;
	}

	TempDir dir_;
	std::string cluster_;
	std::vector<Member> members_;
};

// Until @cond holds (true) or 20 s passed (false).
bool eventually(const std::function<bool()> &cond)
{
	for (auto deadline = std::chrono::steady_clock::now() + 20s;
	     std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms))
		if (cond())
			return true;
	return false;
}

// Events until @n came (or 10 s passed).
std::vector<Event> collect(Watch &w, std::size_t n)
{
	std::vector<Event> got;
	auto deadline = std::chrono::steady_clock::now() + 10s;
	while (got.size() < n && std::chrono::steady_clock::now() < deadline)
		for (auto &e : w.wait(200ms))
			got.push_back(std::move(e));
	return got;
}

Event put_event(const std::string &key, const std::string &value, Revision rev)
{
	return Event{Event::Kind::Put, key, value, rev};
}
Event del_event(const std::string &key, Revision rev)
{
	return Event{Event::Kind::Delete, key, "", rev};
}

bool fails_with(StoreError::Kind kind, const std::function<void()> &f)
{
	try {
		f();
	} catch (const StoreError &e) {
		return e.kind() == kind;
	}
	return false;
}

} // namespace

namespace CppUnit
{
template <>
struct assertion_traits<Event> {
	static bool equal(const Event &a, const Event &b) { return a == b; }
	static std::string toString(const Event &e)
	{
		return std::string(e.kind == Event::Kind::Put ? "put " : "del ") + e.key + "=" +
		       e.value + "@" + std::to_string(e.revision);
	}
};
} // namespace CppUnit

// What every store must do.  Backend::make() gives a store of its own
// (an empty file, or a key prefix of its own in the shared etcd).
template <typename Backend>
class StoreSuite : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(StoreSuite);
	CPPUNIT_TEST(put_get);
	CPPUNIT_TEST(del);
	CPPUNIT_TEST(list_by_prefix);
	CPPUNIT_TEST(compare_and_swap);
	CPPUNIT_TEST(watch_prefix);
	CPPUNIT_TEST(watch_resumes_from_revision);
	CPPUNIT_TEST(watch_from_now);
	CPPUNIT_TEST(compaction);
	CPPUNIT_TEST(bytes_and_bounds);
	CPPUNIT_TEST_SUITE_END();

	Backend backend;
	std::unique_ptr<Store> s;

public:
	void setUp() override { s = backend.make(); }
	void tearDown() override { s.reset(); }

	void put_get()
	{
		CPPUNIT_ASSERT(!s->get("k"));
		auto r1 = s->put("k", "one");
		CPPUNIT_ASSERT(r1 > 0);
		CPPUNIT_ASSERT_EQUAL(r1, s->revision());
		auto got = s->get("k");
		CPPUNIT_ASSERT(got);
		CPPUNIT_ASSERT_EQUAL(std::string("one"), got->value);
		CPPUNIT_ASSERT_EQUAL(r1, got->created);
		CPPUNIT_ASSERT_EQUAL(r1, got->modified);
		auto r2 = s->put("k", "two");
		CPPUNIT_ASSERT(r2 > r1);
		got = s->get("k");
		CPPUNIT_ASSERT_EQUAL(std::string("two"), got->value);
		CPPUNIT_ASSERT_EQUAL(r1, got->created);
		CPPUNIT_ASSERT_EQUAL(r2, got->modified);
	}

	void del()
	{
		auto r1 = s->put("k", "v");
		auto r2 = s->del("k");
		CPPUNIT_ASSERT(r2 && *r2 > r1);
		CPPUNIT_ASSERT(!s->get("k"));
		CPPUNIT_ASSERT(!s->del("k"));
		CPPUNIT_ASSERT_EQUAL(*r2, s->revision()); // no change
	}

	void list_by_prefix()
	{
		s->put("a/2", "x");
		s->put("b/1", "y");
		s->put("a/1", "z");
		s->put("a", "w");
		auto l = s->list("a/");
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), l.records.size());
		CPPUNIT_ASSERT_EQUAL(std::string("a/1"), l.records[0].key);
		CPPUNIT_ASSERT_EQUAL(std::string("z"), l.records[0].value);
		CPPUNIT_ASSERT_EQUAL(std::string("a/2"), l.records[1].key);
		CPPUNIT_ASSERT_EQUAL(s->revision(), l.revision);
		auto all = s->list("");
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), all.records.size());
		CPPUNIT_ASSERT_EQUAL(std::string("a"), all.records[0].key);
		CPPUNIT_ASSERT(s->list("c").records.empty());
	}

	void compare_and_swap()
	{
		auto r1 = s->compare_and_swap("k", 0, "first");
		CPPUNIT_ASSERT(r1);
		CPPUNIT_ASSERT(!s->compare_and_swap("k", 0, "again")); // exists now
		CPPUNIT_ASSERT(!s->compare_and_swap("k", *r1 - 1, "stale"));
		auto r2 = s->compare_and_swap("k", *r1, "second");
		CPPUNIT_ASSERT(r2 && *r2 > *r1);
		CPPUNIT_ASSERT(!s->compare_and_swap("k", *r1, "lost race"));
		CPPUNIT_ASSERT_EQUAL(std::string("second"), s->get("k")->value);
		CPPUNIT_ASSERT_EQUAL(*r2, s->revision());
	}

	void watch_prefix()
	{
		auto w = s->watch("w/", s->revision() + 1);
		auto r1 = s->put("w/a", "1");
		s->put("x/b", "outside");
		auto r2 = *s->del("w/a");
		auto got = collect(*w, 2);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), got.size());
		CPPUNIT_ASSERT_EQUAL(put_event("w/a", "1", r1), got[0]);
		CPPUNIT_ASSERT_EQUAL(del_event("w/a", r2), got[1]);
		CPPUNIT_ASSERT(w->wait(100ms).empty());
	}

	// A watcher that went away asks again from the revision after its
	// last event: it gets what changed meanwhile, and nothing twice.
	void watch_resumes_from_revision()
	{
		auto r1 = s->put("g/1", "a");
		auto r2 = s->put("g/2", "b");
		auto r3 = s->put("g/1", "c");
		auto w = s->watch("g/", r1);
		auto got = collect(*w, 3);
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), got.size());
		CPPUNIT_ASSERT_EQUAL(put_event("g/1", "a", r1), got[0]);
		CPPUNIT_ASSERT_EQUAL(put_event("g/2", "b", r2), got[1]);
		CPPUNIT_ASSERT_EQUAL(put_event("g/1", "c", r3), got[2]);
		w.reset();
		auto r4 = s->put("g/3", "d");
		w = s->watch("g/", r3 + 1);
		got = collect(*w, 1);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), got.size());
		CPPUNIT_ASSERT_EQUAL(put_event("g/3", "d", r4), got[0]);
	}

	void watch_from_now()
	{
		s->put("n/old", "x");
		auto w = s->watch("n/", 0);
		// Nothing before the watch; the change after it.
		CPPUNIT_ASSERT(w->wait(300ms).empty());
		auto r = s->put("n/new", "y");
		auto got = collect(*w, 1);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), got.size());
		CPPUNIT_ASSERT_EQUAL(put_event("n/new", "y", r), got[0]);
	}

	void compaction()
	{
		auto r1 = s->put("c/1", "a");
		auto r2 = s->put("c/2", "b");
		s->compact(r2);
		s->compact(r1); // already: nothing
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Compacted, [&] {
			auto w = s->watch("c/", r1);
			collect(*w, 1);
		}));
		auto w = s->watch("c/", r2);
		auto got = collect(*w, 1);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), got.size());
		CPPUNIT_ASSERT_EQUAL(put_event("c/2", "b", r2), got[0]);
		// The keys stay.
		CPPUNIT_ASSERT_EQUAL(std::string("a"), s->get("c/1")->value);
		CPPUNIT_ASSERT(
		    fails_with(StoreError::Kind::Invalid, [&] { s->compact(s->revision() + 10); }));
	}

	void bytes_and_bounds()
	{
		std::string key("b/\0\xff\x01", 5), value("\0\0zero\xfe", 7);
		s->put(key, value);
		CPPUNIT_ASSERT(s->get(key)->value == value);
		s->put("b/\xff\xff", "top");
		auto l = s->list(std::string("b/\xff", 3));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), l.records.size());
		CPPUNIT_ASSERT_EQUAL(std::string("b/\xff\xff"), l.records[0].key);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), s->list("b/").records.size());
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Invalid, [&] { s->put("", "v"); }));
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Invalid,
					  [&] { s->put(std::string(kMaxKey + 1, 'k'), "v"); }));
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Invalid,
					  [&] { s->put("k", std::string(kMaxValue + 1, 'v')); }));
	}
};

namespace
{

struct SqliteBackend {
	TempDir dir;
	int n = 0;
	std::unique_ptr<Store> make()
	{
		return open_sqlite_store(dir.path / ("store" + std::to_string(n++) + ".db"));
	}
};

// One member for the whole program; each test a prefix of its own.
EtcdCluster &shared_etcd()
{
	static EtcdCluster one(1);
	return one;
}

struct EtcdBackend {
	std::unique_ptr<Store> make()
	{
		static int n = 0;
		return shared_etcd().store("/test" + std::to_string(n++) + "/");
	}
};

} // namespace

namespace
{

// A RemoteStore whose requests go to a StoreServer over its own SQLite
// file; @answer, when set, stands between them (to break replies).
struct RemoteBackend {
	SqliteBackend files;
	std::vector<std::unique_ptr<Store>> stores;
	std::vector<std::unique_ptr<StoreServer>> servers;
	std::function<RemoteAnswer(RemoteAnswer)> answer;

	std::unique_ptr<Store> make()
	{
		stores.push_back(files.make());
		servers.push_back(std::make_unique<StoreServer>(*stores.back()));
		auto *server = servers.back().get();
		return open_remote_store(
		    "remote test", [this, server](std::string request, std::chrono::milliseconds,
						  std::function<void(RemoteAnswer)> done) {
			    server->handle(std::move(request), {},
					   [this, done](int status, std::string body) {
						   RemoteAnswer a{0, {}, status, std::move(body)};
						   done(answer ? answer(std::move(a)) : a);
					   });
		    });
	}
};

} // namespace

using SqliteStoreTest = StoreSuite<SqliteBackend>;
using EtcdStoreTest = StoreSuite<EtcdBackend>;
using RemoteStoreTest = StoreSuite<RemoteBackend>;
CPPUNIT_TEST_SUITE_REGISTRATION(SqliteStoreTest);
CPPUNIT_TEST_SUITE_REGISTRATION(EtcdStoreTest);
CPPUNIT_TEST_SUITE_REGISTRATION(RemoteStoreTest);

// What only the remote store has: pages, since a control request and its
// reply carry at most 1000 bytes; a server that refuses what is not a
// request, whatever it is; a client that refuses a reply that is not
// one, and a node out of reach that is a store out of reach.
class RemoteOnlyTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(RemoteOnlyTest);
	CPPUNIT_TEST(lists_in_pages);
	CPPUNIT_TEST(watches_in_pages);
	CPPUNIT_TEST(server_refuses_malformed);
	CPPUNIT_TEST(client_refuses_malformed);
	CPPUNIT_TEST(out_of_reach);
	CPPUNIT_TEST_SUITE_END();

	RemoteBackend backend;

public:
	void lists_in_pages()
	{
		auto s = backend.make();
		for (int i = 0; i < 60; i++)
			s->put("host/" + std::to_string(100 + i), std::string(100, 'v'));
		s->put("other", "x");
		auto l = s->list("host/");
		CPPUNIT_ASSERT_EQUAL(std::size_t(60), l.records.size());
		for (int i = 0; i < 60; i++)
			CPPUNIT_ASSERT_EQUAL("host/" + std::to_string(100 + i), l.records[i].key);
		CPPUNIT_ASSERT_EQUAL(s->revision(), l.revision);
		// A value that fills a request on its own is refused, not cut.
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Invalid,
					  [&] { s->put("big", std::string(990, 'v')); }));
		CPPUNIT_ASSERT_EQUAL(std::string(100, 'v'), s->get("host/100")->value);
	}

	void watches_in_pages()
	{
		auto s = backend.make();
		auto from = s->revision() + 1;
		for (int i = 0; i < 40; i++)
			s->put("w/" + std::to_string(i), std::string(200, 'x'));
		auto w = s->watch("w/", from);
		auto got = collect(*w, 40);
		CPPUNIT_ASSERT_EQUAL(std::size_t(40), got.size());
		for (int i = 0; i < 40; i++)
			CPPUNIT_ASSERT_EQUAL(from + i, got[i].revision);
	}

	void server_refuses_malformed()
	{
		auto file = backend.files.make();
		StoreServer server(*file);
		for (const char *bad :
		     {"", "[]", "{", "not json", "{\"op\":1}", "{\"op\":\"drop\"}",
		      "{\"op\":\"put\",\"k\":\"a\"}", "{\"op\":\"put\",\"v\":\"a\"}",
		      "{\"op\":\"put\",\"k\":\"\",\"v\":\"a\"}", "{\"op\":\"get\",\"k\":5}",
		      "{\"op\":\"cas\",\"k\":\"a\",\"v\":\"b\",\"x\":-1}",
		      "{\"op\":\"watch\",\"k\":\"a\",\"f\":0,\"w\":0}",
		      "{\"op\":\"watch\",\"k\":\"a\",\"f\":1,\"w\":999999}",
		      "{\"op\":\"get\",\"k\":\"\u0100\"}", "{\"op\":\"compact\"}"}) {
			auto [status, why] = server.run(bad);
			CPPUNIT_ASSERT_EQUAL_MESSAGE(bad, -EINVAL, status);
			CPPUNIT_ASSERT_MESSAGE(bad, !why.empty());
		}
		CPPUNIT_ASSERT_EQUAL(Revision(0), file->revision()); // nothing written
		auto [status, body] = server.run(R"({"op":"put","k":"a","v":"b"})");
		CPPUNIT_ASSERT_EQUAL(0, status);
		CPPUNIT_ASSERT_EQUAL(std::string(R"({"r":1})"), body);
		// A check that refuses: -EPERM, its reason, nothing done.
		auto refused = server.run(R"({"op":"del","k":"a"})", [](const remote::Request &) {
			return std::optional<std::string>("not yours");
		});
		CPPUNIT_ASSERT_EQUAL(-EPERM, refused.first);
		CPPUNIT_ASSERT_EQUAL(std::string("not yours"), refused.second);
		CPPUNIT_ASSERT(file->get("a"));
	}

	void client_refuses_malformed()
	{
		auto s = backend.make();
		s->put("k", "v");
		for (const char *bad :
		     {"", "[1]", "{\"r\":\"x\"}", "{\"r\":-3}", "{\"rec\":[\"k\",\"v\",0,0]}",
		      "{\"rec\":[\"k\"]}", "{\"recs\":5}", "{\"ev\":[[\"x\",\"k\",\"\",1]]}"}) {
			backend.answer = [bad](RemoteAnswer a) {
				a.body = bad;
				return a;
			};
			CPPUNIT_ASSERT_MESSAGE(bad, fails_with(StoreError::Kind::Corrupt, [&] {
						       s->get("k");
						       s->revision();
						       s->list("");
					       }));
		}
		backend.answer = {};
		CPPUNIT_ASSERT_EQUAL(std::string("v"), s->get("k")->value);
	}

	void out_of_reach()
	{
		auto s = open_remote_store(
		    "remote 10.9.9.9", [](std::string, std::chrono::milliseconds,
					  std::function<void(RemoteAnswer)> done) {
			    done({ENOTCONN, "no association up with 10.9.9.9", 0, {}});
		    });
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Unavailable, [&] { s->get("k"); }));
		auto w = s->watch("k", 1);
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Unavailable, [&] { w->wait(100ms); }));
		Mirror m(*s, "k");
		CPPUNIT_ASSERT(eventually([&] {
			return m.status().last_error.find("no association up with 10.9.9.9") !=
			       std::string::npos;
		}));
		CPPUNIT_ASSERT(!m.status().synced);
	}
};
CPPUNIT_TEST_SUITE_REGISTRATION(RemoteOnlyTest);

class SqliteOnlyTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(SqliteOnlyTest);
	CPPUNIT_TEST(durable_across_reopen);
	CPPUNIT_TEST(not_a_store);
	CPPUNIT_TEST(second_opener_watches_first);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir;

public:
	void durable_across_reopen()
	{
		auto file = dir.path / "core.db";
		Revision r2;
		{
			auto s = open_sqlite_store(file);
			s->put("m/a", "1");
			r2 = s->put("m/b", "2");
		}
		auto s = open_sqlite_store(file);
		CPPUNIT_ASSERT_EQUAL(r2, s->revision());
		CPPUNIT_ASSERT_EQUAL(std::string("2"), s->get("m/b")->value);
		CPPUNIT_ASSERT(s->put("m/c", "3") > r2);
		// The history too: a watcher from before the restart resumes.
		auto w = s->watch("m/", r2);
		auto got = collect(*w, 2);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), got.size());
		CPPUNIT_ASSERT_EQUAL(std::string("m/b"), got[0].key);
		CPPUNIT_ASSERT_EQUAL(std::string("m/c"), got[1].key);
	}

	void not_a_store()
	{
		auto file = dir.path / "garbage.db";
		std::ofstream(file) << std::string(8192, 'x');
		try {
			open_sqlite_store(file);
			CPPUNIT_FAIL("a file of garbage opened as a store");
		} catch (const StoreError &e) {
			CPPUNIT_ASSERT(e.kind() == StoreError::Kind::Corrupt);
			CPPUNIT_ASSERT(std::string(e.what()).find(file.string()) !=
				       std::string::npos);
		}
	}

	// Another process's writes (here another connection) reach a watch.
	void second_opener_watches_first()
	{
		auto file = dir.path / "shared.db";
		auto a = open_sqlite_store(file);
		auto b = open_sqlite_store(file);
		auto w = a->watch("s/", 0);
		auto r = b->put("s/x", "from b");
		auto got = collect(*w, 1);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), got.size());
		CPPUNIT_ASSERT_EQUAL(put_event("s/x", "from b", r), got[0]);
	}
};
CPPUNIT_TEST_SUITE_REGISTRATION(SqliteOnlyTest);

class EtcdOnlyTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(EtcdOnlyTest);
	CPPUNIT_TEST(no_member_answers);
	CPPUNIT_TEST(skips_a_dead_endpoint);
	CPPUNIT_TEST(three_members_lose_one);
	CPPUNIT_TEST_SUITE_END();

public:
	void no_member_answers()
	{
		EtcdOptions o;
		auto dead = "127.0.0.1:" + std::to_string(free_port());
		o.endpoints = {dead};
		auto s = open_etcd_store(o);
		try {
			s->put("k", "v");
			CPPUNIT_FAIL("a put with no etcd succeeded");
		} catch (const StoreError &e) {
			CPPUNIT_ASSERT(e.kind() == StoreError::Kind::Unavailable);
			CPPUNIT_ASSERT(std::string(e.what()).find(dead) != std::string::npos);
		}
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Unavailable, [&] { s->watch("", 0); }));
		o.endpoints = {"no-port"};
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Invalid, [&] { open_etcd_store(o); }));
	}

	void skips_a_dead_endpoint()
	{
		auto dead = "127.0.0.1:" + std::to_string(free_port());
		auto eps = shared_etcd().endpoints();
		eps.insert(eps.begin(), dead);
		auto s = shared_etcd().store("/skip/", eps);
		auto r = s->put("k", "v");
		CPPUNIT_ASSERT_EQUAL(r, s->get("k")->modified);
		auto w = s->watch("", r);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), collect(*w, 1).size());
	}

	// kill -9 of the member a watch is on: the other two keep the
	// quorum, writes go on, and the watch made again from the revision
	// after its last event sees every change, none twice.
	void three_members_lose_one()
	{
		EtcdCluster c(3);
		auto eps = c.endpoints();
		auto s = c.store("/ha/");
		auto first = s->put("m/0", "before");
		auto w = c.store("/ha/", {eps[0]})->watch("m/", first);
		auto got = collect(*w, 1);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), got.size());
		Revision last = got.back().revision;

		c.kill(0);
		std::vector<Revision> written;
		for (int i = 1; i <= 5; i++)
			written.push_back(s->put("m/" + std::to_string(i), "after"));
		CPPUNIT_ASSERT(fails_with(StoreError::Kind::Unavailable, [&] { collect(*w, 1); }));

		w = c.store("/ha/", {eps[1], eps[2]})->watch("m/", last + 1);
		got = collect(*w, written.size());
		CPPUNIT_ASSERT_EQUAL(written.size(), got.size());
		for (std::size_t i = 0; i < written.size(); i++)
			CPPUNIT_ASSERT_EQUAL(
			    put_event("m/" + std::to_string(i + 1), "after", written[i]), got[i]);
		CPPUNIT_ASSERT_EQUAL(std::size_t(6), s->list("m/").records.size());
	}
};
CPPUNIT_TEST_SUITE_REGISTRATION(EtcdOnlyTest);

// The mirror of a prefix (store/mirror.hpp): what an SN keeps of its
// core, and catches up with after the core was out of reach.
class MirrorTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(MirrorTest);
	CPPUNIT_TEST(follows_a_prefix);
	CPPUNIT_TEST(catches_up_after_an_outage);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir;

public:
	void follows_a_prefix()
	{
		auto s = open_sqlite_store(dir.path / "core.db");
		s->put("gw/b", "10.0.3.1:1000");
		s->put("other", "x");
		std::atomic<int> calls{0};
		Mirror m(*s, "gw/", [&](const Mirror::Map &) { calls++; });
		CPPUNIT_ASSERT(eventually([&] { return m.status().synced; }));
		CPPUNIT_ASSERT(m.snapshot() == Mirror::Map({{"b", "10.0.3.1:1000"}}));
		auto r = s->put("gw/c", "10.0.4.1:1000");
		CPPUNIT_ASSERT(m.wait_for(r, 5s));
		s->del("gw/b");
		s->put("outside", "y");
		CPPUNIT_ASSERT(eventually([&] {
			return m.snapshot() == Mirror::Map({{"c", "10.0.4.1:1000"}});
		}));
		CPPUNIT_ASSERT(calls >= 3);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), m.status().reconnects);
	}

	// The member the mirror is on goes (kill -9); the others take writes
	// meanwhile; the mirror keeps its copy, and when its member is back
	// it has every change, without listing again.
	void catches_up_after_an_outage()
	{
		EtcdCluster c(3);
		auto eps = c.endpoints();
		auto writer = c.store("/mirror/", {eps[1], eps[2]});
		writer->put("gw/a", "1");
		auto reader = c.store("/mirror/", {eps[0]});
		Mirror m(*reader, "gw/", {}, 500ms);
		CPPUNIT_ASSERT(eventually([&] { return m.status().synced; }));
		CPPUNIT_ASSERT(m.snapshot() == Mirror::Map({{"a", "1"}}));

		c.kill(0);
		writer->put("gw/b", "2");
		writer->del("gw/a");
		auto last = writer->put("gw/c", "3");
		CPPUNIT_ASSERT(eventually([&] { return !m.status().synced; }));
		CPPUNIT_ASSERT(m.snapshot() == Mirror::Map({{"a", "1"}})); // kept meanwhile
		CPPUNIT_ASSERT(!m.status().last_error.empty());

		c.restart(0);
		CPPUNIT_ASSERT(m.wait_for(last, 30s));
		CPPUNIT_ASSERT(m.snapshot() == Mirror::Map({{"b", "2"}, {"c", "3"}}));
		CPPUNIT_ASSERT(m.status().reconnects >= 1);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(0), m.status().resyncs);
	}
};
CPPUNIT_TEST_SUITE_REGISTRATION(MirrorTest);

// SPDX-License-Identifier: GPL-2.0-or-later
//
// ServiceHost: the execution environment of one module, with real modules
// of modules/ and a fake datapath.  Isolation: a module that throws is
// counted and goes on; a module that blocks fills only its own queue while
// another module's packets keep flowing; the watchdog marks it stalled.
// And the env calls: timers on the worker, checkpoints written atomically
// and restored, configuration.
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <cppunit/extensions/HelperMacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include "environment/service_host.hpp"
#include "fake_datapath.hpp"
#include "temp_dir.hpp"
#include "test_modules.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace ilpd;

namespace
{

const char *const sender = "192.0.2.1:1234";

std::string slurp(const fs::path &p)
{
	std::ifstream in(p);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

} // namespace

class ServiceHostTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ServiceHostTest);
	CPPUNIT_TEST(status__describes_the_module);
	CPPUNIT_TEST(handle__decision_goes_to_the_datapath);
	CPPUNIT_TEST(handle__install_records_idle_timeout);
	CPPUNIT_TEST(handle__drop_and_failure_counted);
	CPPUNIT_TEST(isolation__throwing_module_counted_and_goes_on);
	CPPUNIT_TEST(isolation__throw_from_every_entry_point_caught);
	CPPUNIT_TEST(control__answered_on_the_worker_and_throws_caught);
	CPPUNIT_TEST(abi_v1__module_called_with_its_own_structs);
	CPPUNIT_TEST(packet__names_the_previous_hops_peer);
	CPPUNIT_TEST(rewrite__copies_carry_the_new_payload_and_tlvs);
	CPPUNIT_TEST(rewrite__ilps_own_tlvs_only_as_entitled);
	CPPUNIT_TEST(rewrite__never_installed);
	CPPUNIT_TEST(isolation__blocked_module_fills_only_its_own_queue);
	CPPUNIT_TEST(watchdog__marks_stalled_and_recovered);
	CPPUNIT_TEST(timers__fire_on_the_worker_and_cancel);
	CPPUNIT_TEST(checkpoint__written_atomically_and_restored);
	CPPUNIT_TEST(config__admin_module_and_persistence);
	CPPUNIT_TEST(cache__other_services_flows_refused);
	CPPUNIT_TEST_SUITE_END();

	TempDir modules_, state_;
	FakeDatapath dp_;

	std::unique_ptr<ServiceHost> host(const std::string &module, HostOptions opts = {},
					  const std::map<std::string, std::string> &config = {})
	{
		ModuleLoader loader;
		return std::make_unique<ServiceHost>(loader.load(install_module(modules_, module)),
						     dp_, state_.path(), opts, config);
	}

	// Sends the command @cmd to the good module and returns its answer.
	std::string ask(ServiceHost &h, const std::string &cmd)
	{
		auto n = dp_.sent().size();
		CPPUNIT_ASSERT(h.submit(make_miss(sender, h.id(), 1, cmd)));
		CPPUNIT_ASSERT_MESSAGE("no answer to " + cmd, dp_.wait_sent(n + 1));
		return dp_.sent().at(n).text();
	}

public:
	void status__describes_the_module()
	{
		auto h = host("good", {}, {{"color", "blue"}});
		ServiceStatus s = h->status();
		CPPUNIT_ASSERT_EQUAL(std::string("good"), s.name);
		CPPUNIT_ASSERT_EQUAL(100u, s.id);
		CPPUNIT_ASSERT_EQUAL(std::string("a module for the tests"), s.description);
		CPPUNIT_ASSERT(s.path == modules_.path() / "good.so");
		CPPUNIT_ASSERT(!s.stalled);
		CPPUNIT_ASSERT_EQUAL(std::string("blue"), s.config.at("color"));
	}

	void handle__decision_goes_to_the_datapath()
	{
		auto h = host("good");
		CPPUNIT_ASSERT(h->submit(make_miss(sender, 100, 5, "hello")));
		CPPUNIT_ASSERT(dp_.wait_executed(1));
		auto e = dp_.executed().at(0);
		CPPUNIT_ASSERT_EQUAL(5ul, e.miss.conn);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), e.actions.forward.size());
		CPPUNIT_ASSERT_EQUAL(std::string(sender), e.actions.forward[0].to_string());
		CPPUNIT_ASSERT(!e.actions.drop && !e.install);
		CPPUNIT_ASSERT(e.thread != std::this_thread::get_id());
		CPPUNIT_ASSERT_EQUAL(1ul, h->status().counters.packets);
	}

	void handle__install_records_idle_timeout()
	{
		HostOptions o;
		o.default_idle_timeout = 777ms;
		auto h = host("good", o);
		h->submit(make_miss(sender, 100, 5, "install 1234"));
		CPPUNIT_ASSERT(dp_.wait_executed(1));
		CPPUNIT_ASSERT(dp_.executed().at(0).install);
		CPPUNIT_ASSERT_EQUAL(1ul, h->status().counters.installed);

		Flow flow{ilp::Endpoint::parse(sender), 100, 5};
		CPPUNIT_ASSERT(h->idle_timeout(flow) == 1234ms);
		// The cache ignores the previous hop's port; so does this.
		flow.prev.port = 999;
		CPPUNIT_ASSERT(h->idle_timeout(flow) == 1234ms);
		CPPUNIT_ASSERT(h->idle_timeout({flow.prev, 100, 6}) == 777ms);
		CPPUNIT_ASSERT(!h->own_idle_timeout({flow.prev, 100, 6}));
		h->forget(flow);
		CPPUNIT_ASSERT(h->idle_timeout(flow) == 777ms);
	}

	void handle__drop_and_failure_counted()
	{
		auto h = host("good");
		h->submit(make_miss(sender, 100, 1, "drop"));
		h->submit(make_miss(sender, 100, 2, "fail"));
		h->submit(make_miss(sender, 100, 3, "after"));
		CPPUNIT_ASSERT(dp_.wait_executed(2));
		auto e = dp_.executed();
		CPPUNIT_ASSERT(e.at(0).actions.drop);
		CPPUNIT_ASSERT_EQUAL(3ul, e.at(1).miss.conn); // the failed one: no execute
		auto c = h->status().counters;
		CPPUNIT_ASSERT_EQUAL(3ul, c.packets);
		CPPUNIT_ASSERT_EQUAL(1ul, c.dropped);
		CPPUNIT_ASSERT_EQUAL(1ul, c.errors);
	}

	void isolation__throwing_module_counted_and_goes_on()
	{
		auto h = host("throws");
		for (int i = 0; i < 3; i++) {
			h->submit(make_miss(sender, 400, 10 + i, "throw"));
			h->submit(make_miss(sender, 400, 20 + i, "fine"));
		}
		CPPUNIT_ASSERT(dp_.wait_executed(3));
		for (const auto &e : dp_.executed())
			CPPUNIT_ASSERT(e.miss.conn >= 20); // the thrown ones were dropped
		CPPUNIT_ASSERT(eventually([&] { return h->status().counters.packets == 6; }));
		CPPUNIT_ASSERT_EQUAL(3ul, h->status().counters.errors);
	}

	void isolation__throw_from_every_entry_point_caught()
	{
		// init(): the load is refused, with the helper's errno (-EIO
		// for a std::runtime_error), and this process goes on.
		try {
			host("throws", {}, {{"throw-init", "yes"}});
			CPPUNIT_FAIL("a throwing init() loaded");
		} catch (const LoadError &e) {
			std::string what = e.what();
			CPPUNIT_ASSERT_MESSAGE(what,
					       what.find("init() refused the load: Input/output "
							 "error") != std::string::npos);
		}
		auto h = host("throws");
		// handle(): each kind of exception, then packets still handled.
		h->submit(make_miss(sender, 400, 1, "throw"));
		h->submit(make_miss(sender, 400, 2, "throw-alloc"));
		h->submit(make_miss(sender, 400, 3, "throw-int"));
		h->submit(make_miss(sender, 400, 4, "fine"));
		CPPUNIT_ASSERT(dp_.wait_executed(1));
		CPPUNIT_ASSERT_EQUAL(4ul, dp_.executed().at(0).miss.conn);
		CPPUNIT_ASSERT(eventually([&] { return h->status().counters.errors == 3; }));
		// A timer that throws: caught in the module; the next packet
		// is handled after it fired.
		h->submit(make_miss(sender, 400, 5, "timer"));
		CPPUNIT_ASSERT(dp_.wait_executed(2)); // "timer" itself: a drop
		std::this_thread::sleep_for(50ms);
		h->submit(make_miss(sender, 400, 6, "fine"));
		CPPUNIT_ASSERT(dp_.wait_executed(3));
		CPPUNIT_ASSERT_EQUAL(6ul, dp_.executed().at(2).miss.conn);
		// config_changed(): rejected with -EINVAL (std::invalid_argument).
		auto err = h->configure("throw", "1");
		CPPUNIT_ASSERT(err && err->find("Invalid argument") != std::string::npos);
		CPPUNIT_ASSERT(!h->configure("other", "1"));
	}

	// Out-of-band control: the module's on_control() answers; one that
	// throws answers -EIO and goes on; a module without it -EOPNOTSUPP.
	void control__answered_on_the_worker_and_throws_caught()
	{
		auto ask = [](ServiceHost &h, const std::string &req,
			      std::optional<ilp::Endpoint> from = std::nullopt) {
			auto p = std::make_shared<std::promise<std::pair<int, std::string>>>();
			auto f = p->get_future();
			h.control(
			    400, from, std::vector<std::uint8_t>(req.begin(), req.end()),
			    [p](int status, std::vector<std::uint8_t> body) {
				    p->set_value({status, std::string(body.begin(), body.end())});
			    });
			CPPUNIT_ASSERT(f.wait_for(5s) == std::future_status::ready);
			return f.get();
		};
		auto h = host("throws");
		auto from = ilp::Endpoint::parse("10.0.1.1:1234");
		auto a = ask(*h, "hello", from);
		CPPUNIT_ASSERT_EQUAL(0, a.first);
		CPPUNIT_ASSERT_EQUAL(std::string("ack:hello from port 1234"), a.second);
		a = ask(*h, "local");
		CPPUNIT_ASSERT_EQUAL(0, a.first);
		CPPUNIT_ASSERT_EQUAL(std::string("ack:local"), a.second);
		CPPUNIT_ASSERT_EQUAL(-EIO, ask(*h, "throw").first);
		CPPUNIT_ASSERT_EQUAL(std::string("ack:after"), ask(*h, "after").second);
		auto g = host("good");
		auto p = std::make_shared<std::promise<int>>();
		g->control(g->id(), std::nullopt, {},
			   [p](int status, std::vector<std::uint8_t>) { p->set_value(status); });
		CPPUNIT_ASSERT_EQUAL(-EOPNOTSUPP, p->get_future().get());
	}

	void abi_v1__module_called_with_its_own_structs()
	{
		auto h = host("legacy_v1");
		CPPUNIT_ASSERT_EQUAL(1u, h->status().abi);
		h->submit(make_miss(sender, 150, 5, "hello"));
		CPPUNIT_ASSERT(dp_.wait_executed(1));
		auto e = dp_.executed().at(0);
		CPPUNIT_ASSERT_EQUAL(std::string(sender), e.actions.forward.at(0).to_string());
		CPPUNIT_ASSERT(!e.install);
		// Its decision's install and idle timeout, at their v1 offsets.
		h->submit(make_miss(sender, 150, 6, "install"));
		CPPUNIT_ASSERT(dp_.wait_executed(2));
		CPPUNIT_ASSERT(dp_.executed().at(1).install);
		Flow flow{ilp::Endpoint::parse(sender), 150, 6};
		CPPUNIT_ASSERT(h->idle_timeout(flow) == 4321ms);
		// Version 1's send(), without a service: the module's.
		h->submit(make_miss(sender, 150, 7, "send"));
		CPPUNIT_ASSERT(dp_.wait_sent(1));
		auto sent = dp_.sent().at(0);
		CPPUNIT_ASSERT_EQUAL(std::string("sent"), sent.text());
		CPPUNIT_ASSERT_EQUAL(150u, sent.service);
		CPPUNIT_ASSERT_EQUAL(7ul, sent.conn);
		CPPUNIT_ASSERT_EQUAL(0ul, h->status().counters.errors);
	}

	void packet__names_the_previous_hops_peer()
	{
		auto h = host("good");
		auto m = make_miss(sender, 100, 1, "peer");
		m.known_peer = true;
		auto n = dp_.sent().size();
		h->submit(m);
		CPPUNIT_ASSERT(dp_.wait_sent(n + 1));
		CPPUNIT_ASSERT_EQUAL(std::string("peer 1 1234"), dp_.sent().at(n).text());
		CPPUNIT_ASSERT_EQUAL(std::string("peer 0 1234"), ask(*h, "peer"));
	}

	// The TLVs and payload of an executed packet.
	static std::pair<std::vector<std::uint8_t>, std::string> parts(const Miss &m)
	{
		ilpw_hdr hdr{};
		CPPUNIT_ASSERT(ilpw_hdr_parse(m.data.data(), m.data.size(), &hdr, nullptr,
					      nullptr) == ILPW_OK);
		CPPUNIT_ASSERT_EQUAL(m.service, hdr.service);
		CPPUNIT_ASSERT_EQUAL(m.conn, hdr.conn);
		return {{hdr.tlv, hdr.tlv + hdr.tlv_len},
			{m.data.begin() + hdr.hdr_len, m.data.end()}};
	}

	void rewrite__copies_carry_the_new_payload_and_tlvs()
	{
		auto h = host("good");
		h->submit(make_miss(sender, 100, 1, "rewrite-payload fresh"));
		h->submit(make_miss(sender, 100, 2, "rewrite-md"));
		h->submit(make_miss(sender, 100, 3, "rewrite-dst"));
		CPPUNIT_ASSERT(dp_.wait_executed(3));
		auto e = dp_.executed();
		auto [md1, p1] = parts(e.at(0).miss);
		CPPUNIT_ASSERT(md1.empty());
		CPPUNIT_ASSERT_EQUAL(std::string("fresh"), p1);
		CPPUNIT_ASSERT_EQUAL(std::string(sender),
				     e.at(0).actions.forward.at(0).to_string());
		auto [md2, p2] = parts(e.at(1).miss);
		CPPUNIT_ASSERT(
		    (md2 == std::vector<std::uint8_t>{0x01, 0x00, 0x00, 0x04, 'm', 'd', '!', '!'}));
		CPPUNIT_ASSERT_EQUAL(std::string("rewrite-md"), p2); // the payload kept
		auto [md3, p3] = parts(e.at(2).miss);
		CPPUNIT_ASSERT_EQUAL(std::size_t(12), md3.size());
		CPPUNIT_ASSERT_EQUAL(std::uint8_t(0x02), md3[1]); // DST_HOST, for a relayed copy
		CPPUNIT_ASSERT_EQUAL(0ul, h->status().counters.errors);
	}

	void rewrite__ilps_own_tlvs_only_as_entitled()
	{
		auto h = host("good");
		// 0x0003 is ILP's own and not SRC/DST_HOST: a bad decision.
		h->submit(make_miss(sender, 100, 1, "rewrite-own"));
		h->submit(make_miss(sender, 100, 2, "after"));
		CPPUNIT_ASSERT(dp_.wait_executed(1));
		CPPUNIT_ASSERT_EQUAL(2ul, dp_.executed().at(0).miss.conn);
		CPPUNIT_ASSERT_EQUAL(1ul, h->status().counters.errors);
		// A packet that starts here carries no host TLV of a service's.
		CPPUNIT_ASSERT_EQUAL(std::string("send-own ") + std::to_string(-EPERM),
				     ask(*h, "send-own"));
	}

	void rewrite__never_installed()
	{
		auto h = host("good");
		h->submit(make_miss(sender, 100, 1, "rewrite-install"));
		CPPUNIT_ASSERT(dp_.wait_executed(1));
		auto e = dp_.executed().at(0);
		CPPUNIT_ASSERT(!e.install);
		CPPUNIT_ASSERT_EQUAL(std::string("x"), parts(e.miss).second);
		CPPUNIT_ASSERT_EQUAL(0ul, h->status().counters.installed);
	}

	void isolation__blocked_module_fills_only_its_own_queue()
	{
		HostOptions o;
		o.queue_depth = 16;
		auto sleepy = host("sleepy", o);
		auto good = host("good");

		// The datapath's thread is never held up by the blocked module.
		const int n = 200;
		int accepted = 0;
		auto t0 = std::chrono::steady_clock::now();
		for (int i = 0; i < n; i++)
			accepted += sleepy->submit(make_miss(sender, 500, i, "zzz"));
		auto took = std::chrono::steady_clock::now() - t0;
		CPPUNIT_ASSERT_MESSAGE("submit() waited for the module", took < 500ms);
		auto c = sleepy->status().counters;
		CPPUNIT_ASSERT(c.queue_full > 0);
		CPPUNIT_ASSERT_EQUAL(std::uint64_t(n), c.queue_full + accepted);
		CPPUNIT_ASSERT(c.queued <= 16);

		// Meanwhile the other module answers at once, not after 2 s.
		t0 = std::chrono::steady_clock::now();
		for (int i = 0; i < 10; i++)
			CPPUNIT_ASSERT(good->submit(make_miss(sender, 100, i, "ping")));
		CPPUNIT_ASSERT_MESSAGE("the healthy module waited for the blocked one",
				       dp_.wait_executed(10, 500ms));
		CPPUNIT_ASSERT(std::chrono::steady_clock::now() - t0 < 500ms);
		for (const auto &e : dp_.executed())
			CPPUNIT_ASSERT_EQUAL(100u, e.miss.service);
		CPPUNIT_ASSERT_EQUAL(10ul, good->status().counters.packets);
		CPPUNIT_ASSERT_EQUAL(0ul, good->status().counters.queue_full);
	}

	void watchdog__marks_stalled_and_recovered()
	{
		HostOptions o;
		o.stall_after = 100ms;
		auto h = host("sleepy", o);
		CPPUNIT_ASSERT(!h->status().stalled);
		h->submit(make_miss(sender, 500, 1, "zzz"));
		CPPUNIT_ASSERT(eventually([&] { return h->status().stalled; }, 1500ms));
		CPPUNIT_ASSERT_EQUAL(1ul, h->status().counters.stalls);
		// handle() returns after 2 s: no longer stalled.
		CPPUNIT_ASSERT(dp_.wait_executed(1, 3s));
		CPPUNIT_ASSERT(eventually([&] { return !h->status().stalled; }, 1s));
		CPPUNIT_ASSERT_EQUAL(1ul, h->status().counters.stalls);
	}

	void timers__fire_on_the_worker_and_cancel()
	{
		auto h = host("good");
		h->submit(make_miss(sender, 100, 1, "timer 100 2"));
		h->submit(make_miss(sender, 100, 1, "timer 50 1"));
		h->submit(make_miss(sender, 100, 1, "timer 150 3"));
		CPPUNIT_ASSERT_EQUAL(std::string("cancel 0"), ask(*h, "cancel 3"));
		CPPUNIT_ASSERT_EQUAL(std::string("cancel -2"), ask(*h, "cancel 3")); // ENOENT
		CPPUNIT_ASSERT(dp_.wait_sent(4));
		std::this_thread::sleep_for(400ms); // timer 3 would have fired by now
		auto sent = dp_.sent();
		CPPUNIT_ASSERT_EQUAL(std::size_t(4), sent.size());
		CPPUNIT_ASSERT_EQUAL(std::string("fired 1"), sent[2].text());
		CPPUNIT_ASSERT_EQUAL(std::string("fired 2"), sent[3].text());
		// On the module's worker: where its packets are handled.
		auto worker = dp_.executed().at(0).thread;
		CPPUNIT_ASSERT(worker != std::this_thread::get_id());
		CPPUNIT_ASSERT(sent[2].thread == worker && sent[3].thread == worker);
		CPPUNIT_ASSERT_EQUAL(100u, sent[2].service);
	}

	void checkpoint__written_atomically_and_restored()
	{
		const fs::path file = state_.path() / "services" / "good.state";
		{
			auto h = host("good");
			CPPUNIT_ASSERT_EQUAL(std::string("saved none"), ask(*h, "saved"));
			CPPUNIT_ASSERT_EQUAL(std::string("checkpoint 0"),
					     ask(*h, "checkpoint first"));
			CPPUNIT_ASSERT_EQUAL(std::string("first"), slurp(file));

			// Replaced by a rename, not rewritten in place: a link
			// to the old file keeps the old content whole.
			fs::create_hard_link(file, state_.path() / "old");
			CPPUNIT_ASSERT_EQUAL(std::string("checkpoint 0"),
					     ask(*h, "checkpoint second"));
			CPPUNIT_ASSERT_EQUAL(std::string("second"), slurp(file));
			CPPUNIT_ASSERT_EQUAL(std::string("first"), slurp(state_.path() / "old"));
			CPPUNIT_ASSERT(!fs::exists(file.string() + ".tmp"));
			struct stat st;
			CPPUNIT_ASSERT_EQUAL(0, ::stat(file.c_str(), &st));
			CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 07777));
		}
		// A new host (a restarted daemon) gives it back to init().
		auto h = host("good");
		CPPUNIT_ASSERT_EQUAL(std::string("saved second"), ask(*h, "saved"));
	}

	void config__admin_module_and_persistence()
	{
		{
			auto h = host("good", {}, {{"color", "blue"}});
			CPPUNIT_ASSERT_EQUAL(std::string("get blue"), ask(*h, "get color"));
			CPPUNIT_ASSERT(!h->configure("color", "red"));
			CPPUNIT_ASSERT_EQUAL(std::string("get red"), ask(*h, "get color"));

			auto no = h->configure("bad", "1");
			CPPUNIT_ASSERT(no);
			CPPUNIT_ASSERT(no->find("rejects bad=1") != std::string::npos);
			CPPUNIT_ASSERT_EQUAL(std::string("get none"), ask(*h, "get bad"));
			CPPUNIT_ASSERT(h->configure("no spaces", "1"));
			CPPUNIT_ASSERT(h->configure("color", std::string("a\nb")));

			// The module's own settings.
			CPPUNIT_ASSERT_EQUAL(std::string("set 0"), ask(*h, "set size 3"));
			CPPUNIT_ASSERT_EQUAL(std::string("get 3"), ask(*h, "get size"));
			auto cfg = h->status().config;
			CPPUNIT_ASSERT(cfg == (std::map<std::string, std::string>{{"color", "red"},
										  {"size", "3"}}));
			CPPUNIT_ASSERT(!h->configure("size", std::nullopt));
			CPPUNIT_ASSERT_EQUAL(std::string("get none"), ask(*h, "get size"));
			CPPUNIT_ASSERT_EQUAL(std::string("set 0"), ask(*h, "set shape round"));
		}
		{
			// Persisted: back after a restart.
			auto h = host("good");
			auto cfg = h->status().config;
			CPPUNIT_ASSERT(cfg == (std::map<std::string, std::string>{
						  {"color", "red"}, {"shape", "round"}}));
		}
		// ilpd.conf's settings win over the saved ones.
		auto h = host("good", {}, {{"color", "green"}});
		CPPUNIT_ASSERT_EQUAL(std::string("get green"), ask(*h, "get color"));
	}

	void cache__other_services_flows_refused()
	{
		auto h = host("good");
		CPPUNIT_ASSERT_EQUAL(std::string("install-other -1"), ask(*h, "install-other"));
		CPPUNIT_ASSERT(dp_.installs().empty());
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(ServiceHostTest);

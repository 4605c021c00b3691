// SPDX-License-Identifier: GPL-2.0-or-later
//
// ServiceRegistry: loading a plugin directory, routing misses to their
// service's module, and unloading.
#include <chrono>

#include <cppunit/extensions/HelperMacros.h>

#include "environment/service_registry.hpp"
#include "fake_datapath.hpp"
#include "temp_dir.hpp"
#include "test_modules.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace ilpd;

class ServiceRegistryTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ServiceRegistryTest);
	CPPUNIT_TEST(load_dir__loads_and_reports_refusals);
	CPPUNIT_TEST(load_dir__only_named_services);
	CPPUNIT_TEST(dispatch__routes_by_service);
	CPPUNIT_TEST(dispatch__routes_a_range_to_its_module);
	CPPUNIT_TEST(load_and_unload_by_name);
	CPPUNIT_TEST(configure__goes_to_the_service);
	CPPUNIT_TEST(idle_timeout__from_the_service);
	CPPUNIT_TEST_SUITE_END();

	TempDir modules_, state_;
	FakeDatapath dp_;

	static std::vector<std::string> names(const std::vector<ServiceStatus> &list)
	{
		std::vector<std::string> out;
		for (const auto &s : list)
			out.push_back(s.name);
		return out;
	}

public:
	void load_dir__loads_and_reports_refusals()
	{
		install_module(modules_, "good");
		install_module(modules_, "throws");
		install_module(modules_, "bad_abi");
		ServiceRegistry r(dp_, state_.path());
		auto failures = r.load_dir(modules_.path());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), failures.size());
		CPPUNIT_ASSERT(failures[0].path == modules_.path() / "bad_abi.so");
		CPPUNIT_ASSERT(names(r.list()) == std::vector<std::string>({"good", "throws"}));
		// Loading it again: each one a duplicate now.
		CPPUNIT_ASSERT_EQUAL(std::size_t(3), r.load_dir(modules_.path()).size());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.list().size());
	}

	void load_dir__only_named_services()
	{
		install_module(modules_, "good");
		install_module(modules_, "throws");
		ServiceRegistry r(dp_, state_.path());
		auto failures = r.load_dir(modules_.path(), {"throws", "absent"});
		CPPUNIT_ASSERT(names(r.list()) == std::vector<std::string>({"throws"}));
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), failures.size());
		CPPUNIT_ASSERT(failures[0].error.find("\"absent\"") != std::string::npos);
	}

	void dispatch__routes_a_range_to_its_module()
	{
		install_module(modules_, "good");  // 100
		install_module(modules_, "range"); // 600 to 609, drops
		install_module(modules_, "range_overlap");
		ServiceRegistry r(dp_, state_.path());
		auto failures = r.load_dir(modules_.path());
		// 609 to 613 overlaps the range loaded first (name order).
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), failures.size());
		CPPUNIT_ASSERT(failures[0].path == modules_.path() / "range_overlap.so");
		std::vector<Miss> batch;
		for (std::uint32_t id : {599u, 600u, 605u, 609u, 610u, 100u})
			batch.push_back(make_miss("192.0.2.1:1000", id, id, "a"));
		r.dispatch(batch);
		CPPUNIT_ASSERT(dp_.wait_executed(4));
		CPPUNIT_ASSERT(eventually([&] { return r.no_service() == 2; })); // 599, 610
		auto st = r.status("range");
		CPPUNIT_ASSERT(st && st->id == 600 && st->last_id == 609);
		CPPUNIT_ASSERT(
		    eventually([&] { return r.status("range")->counters.dropped == 3; }));
		CPPUNIT_ASSERT(r.configure("range", "k", "v") == std::nullopt);
	}

	void dispatch__routes_by_service()
	{
		install_module(modules_, "good");
		install_module(modules_, "throws");
		ServiceRegistry r(dp_, state_.path());
		r.load_dir(modules_.path());
		std::vector<Miss> batch;
		batch.push_back(make_miss("192.0.2.1:1000", 100, 1, "a"));
		batch.push_back(make_miss("192.0.2.1:1000", 77, 2, "nobody"));
		batch.push_back(make_miss("192.0.2.1:1000", 400, 3, "b"));
		batch.push_back(make_miss("192.0.2.1:1000", 100, 4, "c"));
		batch.push_back(make_miss("192.0.2.1:1000", 78, 5, "nobody"));
		auto handler = r.handler();
		handler(batch);
		CPPUNIT_ASSERT(batch.empty());
		CPPUNIT_ASSERT_EQUAL(2ul, r.no_service());
		CPPUNIT_ASSERT(dp_.wait_executed(3));
		auto list = r.list();
		CPPUNIT_ASSERT_EQUAL(2ul, list.at(0).counters.packets); // good, 100
		CPPUNIT_ASSERT_EQUAL(1ul, list.at(1).counters.packets); // throws, 400
		for (const auto &e : dp_.executed())
			CPPUNIT_ASSERT(e.miss.service == 100 || e.miss.service == 400);
	}

	void load_and_unload_by_name()
	{
		auto f = install_module(modules_, "good");
		ServiceRegistry r(dp_, state_.path(), {}, {{"good", {{"color", "blue"}}}});
		ServiceStatus s = r.load(f);
		CPPUNIT_ASSERT_EQUAL(100u, s.id);
		CPPUNIT_ASSERT_EQUAL(std::string("blue"), s.config.at("color"));
		CPPUNIT_ASSERT_THROW(r.load(f), LoadError); // a duplicate now
		CPPUNIT_ASSERT(r.status("good"));

		CPPUNIT_ASSERT(r.unload("good"));
		CPPUNIT_ASSERT(!r.unload("good"));
		CPPUNIT_ASSERT(!r.status("good"));
		std::vector<Miss> batch;
		batch.push_back(make_miss("192.0.2.1:1000", 100, 1, "a"));
		r.dispatch(batch);
		CPPUNIT_ASSERT_EQUAL(1ul, r.no_service());
		// And back; then unloaded by its path.
		r.load(f);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.list().size());
		CPPUNIT_ASSERT(r.unload(f.string()));
		CPPUNIT_ASSERT(r.list().empty());
	}

	void configure__goes_to_the_service()
	{
		install_module(modules_, "good");
		ServiceRegistry r(dp_, state_.path());
		r.load_dir(modules_.path());
		CPPUNIT_ASSERT(!r.configure("good", "color", "red"));
		CPPUNIT_ASSERT_EQUAL(std::string("red"), r.status("good")->config.at("color"));
		CPPUNIT_ASSERT(r.configure("good", "bad", "1"));
		auto no = r.configure("absent", "color", "red");
		CPPUNIT_ASSERT(no && no->find("absent") != std::string::npos);
	}

	void idle_timeout__from_the_service()
	{
		install_module(modules_, "good");
		ServiceRegistry r(dp_, state_.path());
		r.load_dir(modules_.path());
		std::vector<Miss> batch;
		batch.push_back(make_miss("192.0.2.1:1000", 100, 9, "install 4321"));
		r.dispatch(batch);
		CPPUNIT_ASSERT(dp_.wait_executed(1));
		Flow flow{ilp::Endpoint::parse("192.0.2.1:1000"), 100, 9};
		CPPUNIT_ASSERT(eventually([&] { return r.idle_timeout(flow).has_value(); }));
		CPPUNIT_ASSERT(*r.idle_timeout(flow) == 4321ms);
		CPPUNIT_ASSERT(!r.idle_timeout({flow.prev, 100, 10}));
		CPPUNIT_ASSERT(!r.idle_timeout({flow.prev, 55, 9}));
		r.forget(flow);
		CPPUNIT_ASSERT(!r.idle_timeout(flow));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(ServiceRegistryTest);

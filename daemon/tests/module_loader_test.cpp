// SPDX-License-Identifier: GPL-2.0-or-later
//
// ModuleLoader: what it loads and each reason it refuses a module, with
// real modules built from modules/.
#include <algorithm>
#include <filesystem>

#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include "environment/module_loader.hpp"
#include "temp_dir.hpp"
#include "test_modules.hpp"

namespace fs = std::filesystem;
using namespace ilpd;

class ModuleLoaderTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ModuleLoaderTest);
	CPPUNIT_TEST(load__good_module);
	CPPUNIT_TEST(load__version_1_module_loads);
	CPPUNIT_TEST(load__id_range);
	CPPUNIT_TEST(load__overlapping_range_refused);
	CPPUNIT_TEST(load__range_with_reserved_id_refused);
	CPPUNIT_TEST(load__descriptor_smaller_than_v2_refused);
	CPPUNIT_TEST(load__bad_abi_version_refused);
	CPPUNIT_TEST(load__no_symbol_refused);
	CPPUNIT_TEST(load__missing_handle_refused);
	CPPUNIT_TEST(load__reserved_id_refused);
	CPPUNIT_TEST(load__bad_name_refused);
	CPPUNIT_TEST(load__taken_id_and_name_refused);
	CPPUNIT_TEST(load__not_a_module_refused);
	CPPUNIT_TEST(load_dir__duplicate_id_refused_others_loaded);
	CPPUNIT_TEST(load_dir__world_writable_dir_refused);
	CPPUNIT_TEST(load_dir__group_writable_module_refused);
	CPPUNIT_TEST(load__group_writable_dir_refused);
	CPPUNIT_TEST(load__foreign_owner_refused);
	CPPUNIT_TEST(load_dir__missing_dir_refused);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_;
	ModuleLoader loader_;

	// The message of the LoadError that loading @file throws.
	std::string refusal(const fs::path &file, const ModuleLoader::Taken &taken = {})
	{
		try {
			loader_.load(file, taken);
		} catch (const LoadError &e) {
			return e.what();
		}
		CPPUNIT_FAIL("loaded " + file.string());
		return "";
	}

	static bool has(const std::string &text, const std::string &part)
	{
		if (text.find(part) != std::string::npos)
			return true;
		CPPUNIT_FAIL("\"" + part + "\" is not in: " + text);
		return false;
	}

public:
	void load__good_module()
	{
		auto f = install_module(dir_, "good");
		Module m = loader_.load(f);
		CPPUNIT_ASSERT_EQUAL(100u, m.id());
		CPPUNIT_ASSERT_EQUAL(std::string("good"), m.name());
		CPPUNIT_ASSERT_EQUAL(std::string("a module for the tests"), m.description());
		CPPUNIT_ASSERT(m.path() == f);
		CPPUNIT_ASSERT(m.descriptor().handle != nullptr);
	}

	void load__version_1_module_loads()
	{
		// Built against the version 1 header as released.
		Module m = loader_.load(install_module(dir_, "legacy_v1"));
		CPPUNIT_ASSERT_EQUAL(1u, m.abi());
		CPPUNIT_ASSERT_EQUAL(150u, m.id());
		CPPUNIT_ASSERT_EQUAL(150u, m.last_id());
		CPPUNIT_ASSERT_EQUAL(std::string("legacy"), m.name());
		CPPUNIT_ASSERT(m.v1() != nullptr && m.v1()->handle != nullptr);
		// Its functions take version 1's structs: never called as ours.
		CPPUNIT_ASSERT(m.descriptor().handle == nullptr);
	}

	void load__id_range()
	{
		Module m = loader_.load(install_module(dir_, "range"));
		CPPUNIT_ASSERT_EQUAL(std::uint32_t(ILP_SERVICE_ABI_VERSION), m.abi());
		CPPUNIT_ASSERT_EQUAL(600u, m.id());
		CPPUNIT_ASSERT_EQUAL(609u, m.last_id());
		CPPUNIT_ASSERT(m.serves(600) && m.serves(605) && m.serves(609));
		CPPUNIT_ASSERT(!m.serves(599) && !m.serves(610));
	}

	void load__overlapping_range_refused()
	{
		// 609 to 613 against 600 to 609; and a lone ID inside a range.
		auto e = refusal(install_module(dir_, "range_overlap"), {{{600, 609}}, {}});
		has(e, "duplicate service ID 609 to 613, a loaded module has 600 to 609");
		has(refusal(install_module(dir_, "good"), {{{50, 60}, {95, 105}}, {}}),
		    "a loaded module has 95 to 105");
		// Beside, not over: loads.
		loader_.load(install_module(dir_, "range_overlap"), {{{600, 608}, {614, 700}}, {}});
	}

	void load__range_with_reserved_id_refused()
	{
		has(refusal(install_module(dir_, "range_reserved")),
		    "service IDs 4294967280 to 4294967295 hold IDs reserved for ilpd");
	}

	void load__descriptor_smaller_than_v2_refused()
	{
		has(refusal(install_module(dir_, "small_size")), "its descriptor is 16 bytes");
	}

	void load__bad_abi_version_refused()
	{
		auto f = install_module(dir_, "bad_abi");
		auto e = refusal(f);
		has(e, f.string());
		has(e, "ABI version 99");
	}

	void load__no_symbol_refused()
	{
		auto f = install_module(dir_, "no_symbol");
		auto e = refusal(f);
		has(e, f.string());
		has(e, "no ilp_service_v2 (nor ilp_service_v1) symbol");
	}

	void load__missing_handle_refused()
	{
		auto f = install_module(dir_, "no_handle");
		auto e = refusal(f);
		has(e, f.string());
		has(e, "no handle()");
	}

	void load__reserved_id_refused()
	{
		auto e = refusal(install_module(dir_, "zero_id"));
		has(e, "zero_id.so");
		has(e, "service ID 0 is reserved");
	}

	void load__bad_name_refused()
	{
		// Names go into file names: "../evil" must not.
		auto e = refusal(install_module(dir_, "bad_name"));
		has(e, "bad_name.so");
		has(e, "name");
	}

	void load__taken_id_and_name_refused()
	{
		auto f = install_module(dir_, "good");
		has(refusal(f, {{{100, 100}}, {}}), "duplicate service ID 100");
		// A range that holds it.
		has(refusal(f, {{{90, 110}}, {}}), "a loaded module has 90 to 110");
		has(refusal(f, {{}, {"good"}}), "duplicate service name \"good\"");
	}

	void load__not_a_module_refused()
	{
		auto f = dir_.write("junk.so", "not an ELF file");
		fs::permissions(f, fs::perms(0644));
		auto e = refusal(f);
		has(e, "cannot load " + f.string());
	}

	void load_dir__duplicate_id_refused_others_loaded()
	{
		install_module(dir_, "good");
		install_module(dir_, "dup_a");
		install_module(dir_, "dup_b");
		install_module(dir_, "bad_abi");
		dir_.write("README", "not a module: ignored");
		DirLoad r = loader_.load_dir(dir_.path());

		std::vector<std::string> names;
		for (const auto &m : r.modules)
			names.push_back(m.name());
		// In name order: dup_a comes first and wins ID 300.
		CPPUNIT_ASSERT(names == std::vector<std::string>({"dup_a", "good"}));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), r.failures.size());
		CPPUNIT_ASSERT(r.failures[0].path == dir_.path() / "bad_abi.so");
		has(r.failures[0].error, "ABI version");
		CPPUNIT_ASSERT(r.failures[1].path == dir_.path() / "dup_b.so");
		has(r.failures[1].error, "dup_b.so");
		has(r.failures[1].error, "duplicate service ID 300");
	}

	void load_dir__world_writable_dir_refused()
	{
		install_module(dir_, "good");
		fs::permissions(dir_.path(), fs::perms(0777));
		try {
			loader_.load_dir(dir_.path());
			CPPUNIT_FAIL("a world-writable plugin directory was accepted");
		} catch (const LoadError &e) {
			has(e.what(), dir_.path().string());
			has(e.what(), "world-writable");
		}
		// A single module of it too: whoever may write there may
		// replace the module.
		has(refusal(dir_.path() / "good.so"), "world-writable");
	}

	void load__group_writable_dir_refused()
	{
		auto f = install_module(dir_, "good");
		fs::permissions(dir_.path(), fs::perms(0770));
		has(refusal(f), "group-writable");
	}

	void load_dir__group_writable_module_refused()
	{
		install_module(dir_, "good", fs::perms(0664));
		install_module(dir_, "dup_a");
		DirLoad r = loader_.load_dir(dir_.path());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.modules.size());
		CPPUNIT_ASSERT_EQUAL(std::string("dup_a"), r.modules[0].name());
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), r.failures.size());
		has(r.failures[0].error, (dir_.path() / "good.so").string());
		has(r.failures[0].error, "group-writable");
	}

	void load__foreign_owner_refused()
	{
		auto f = install_module(dir_, "good");
		if (::geteuid() == 0) {
			// Root can give the file away: to nobody.
			CPPUNIT_ASSERT_EQUAL(0, ::chown(f.c_str(), 65534, 65534));
			has(refusal(f), "owned by uid 65534");
		} else {
			// Not root: the files are ours, so a loader for
			// another daemon user refuses them.
			ModuleLoader other(::geteuid() + 1);
			try {
				other.load(f);
				CPPUNIT_FAIL("a module of a foreign owner was accepted");
			} catch (const LoadError &e) {
				has(e.what(), "owned by uid");
			}
		}
	}

	void load_dir__missing_dir_refused()
	{
		try {
			loader_.load_dir(dir_.path() / "absent");
			CPPUNIT_FAIL("a missing plugin directory was accepted");
		} catch (const LoadError &e) {
			has(e.what(), (dir_.path() / "absent").string());
		}
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(ModuleLoaderTest);

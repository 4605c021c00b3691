// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Finding the AF_ILP number from the module's sysfs parameter.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/family.hpp>

#include "temp_dir.hpp"

namespace fs = std::filesystem;

class FamilyTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(FamilyTest);
	CPPUNIT_TEST(loaded_af__reads_the_number);
	CPPUNIT_TEST(loaded_af__absent_file_means_not_loaded);
	CPPUNIT_TEST(loaded_af__garbage_is_an_error);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_;

	fs::path write(const std::string &content) { return dir_.write("family", content); }

public:
	void loaded_af__reads_the_number()
	{
		CPPUNIT_ASSERT_EQUAL(23, *ilp::loaded_af(write("23\n")));
	}

	void loaded_af__absent_file_means_not_loaded()
	{
		CPPUNIT_ASSERT(!ilp::loaded_af(dir_.path() / "absent").has_value());
	}

	void loaded_af__garbage_is_an_error()
	{
		CPPUNIT_ASSERT_THROW(ilp::loaded_af(write("econet\n")), std::runtime_error);
		CPPUNIT_ASSERT_THROW(ilp::loaded_af(write("-1\n")), std::runtime_error);
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(FamilyTest);

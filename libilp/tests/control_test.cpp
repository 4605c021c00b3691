// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The "ilp" family client where the module is absent (this build machine's
// kernel cannot load it; the selftests in the VM cover the loaded case).
#include <cstring>

#include <cppunit/extensions/HelperMacros.h>

#include <ilp/control.hpp>
#include <ilp/family.hpp>

class ControlTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(ControlTest);
	CPPUNIT_TEST(control__without_module_says_how_to_load_it);
	CPPUNIT_TEST_SUITE_END();

public:
	void control__without_module_says_how_to_load_it()
	{
		if (ilp::loaded_af("/sys/module/ilp/parameters/family"))
			return; // module present: nothing to check here
		try {
			ilp::Control ctl;
			CPPUNIT_FAIL("Control() succeeded without the module");
		} catch (const ilp::ModuleNotLoaded &e) {
			CPPUNIT_ASSERT_EQUAL(ENOENT, e.code().value());
			CPPUNIT_ASSERT(std::strstr(e.what(), "modprobe ilp"));
		}
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(ControlTest);

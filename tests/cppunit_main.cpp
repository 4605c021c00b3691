// SPDX-License-Identifier: GPL-2.0-or-later
//
// The main() of every CppUnit test program: runs the suites registered in
// the program (or only those named on the command line) and prints one
// line per test, so that a CTest log shows what ran.
#include <iostream>

#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>

int main(int argc, char **argv)
{
	CppUnit::TestResult controller;
	CppUnit::TestResultCollector result;
	CppUnit::BriefTestProgressListener progress;
	controller.addListener(&result);
	controller.addListener(&progress);

	CppUnit::TestRunner runner;
	runner.addTest(CppUnit::TestFactoryRegistry::getRegistry().makeTest());
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			runner.run(controller, argv[i]);
	} else {
		runner.run(controller);
	}

	CppUnit::CompilerOutputter out(&result, std::cerr);
	out.write();
	return result.wasSuccessful() ? 0 : 1;
}

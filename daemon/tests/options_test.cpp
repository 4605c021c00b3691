// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpd's configuration: file and flags, and errors that name the line.
#include <filesystem>
#include <fstream>

#include <cppunit/extensions/HelperMacros.h>

#include "options.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace ilpd;

class OptionsTest : public CppUnit::TestFixture
{
	CPPUNIT_TEST_SUITE(OptionsTest);
	CPPUNIT_TEST(parse__defaults_without_a_file);
	CPPUNIT_TEST(parse__file_keys);
	CPPUNIT_TEST(parse__flag_beats_file);
	CPPUNIT_TEST(parse__both_roles);
	CPPUNIT_TEST(parse__unknown_key_names_line);
	CPPUNIT_TEST(parse__bad_value_names_line);
	CPPUNIT_TEST(parse__malformed_line_names_line);
	CPPUNIT_TEST(parse__duplicate_key_names_both_lines);
	CPPUNIT_TEST(parse__bad_flag_names_flag);
	CPPUNIT_TEST(parse__relative_state_dir_refused);
	CPPUNIT_TEST(parse__missing_explicit_file_refused);
	CPPUNIT_TEST_SUITE_END();

	TempDir dir_;

	std::string conf(const std::string &text) { return dir_.write("ilpd.conf", text).string(); }

	static std::string error_of(const std::vector<std::string> &args)
	{
		Options o;
		try {
			parse_options(args, o);
		} catch (const ConfigError &e) {
			return e.what();
		}
		return "no error";
	}

public:
	void parse__defaults_without_a_file()
	{
		Options o;
		o.config = dir_.path() / "absent.conf"; // default path, absent: fine
		CPPUNIT_ASSERT(parse_options({}, o) == Parsed::Run);
		CPPUNIT_ASSERT(o.role_host && !o.role_sn);
		CPPUNIT_ASSERT(o.datapath == Datapath::Auto);
		CPPUNIT_ASSERT(o.log_level == LogLevel::Info);
	}

	void parse__file_keys()
	{
		Options o;
		auto f =
		    conf("# comment\nrole = sn\n\ndatapath=user  # trailing\nlog-level = debug\n"
			 "state-dir = /srv/ilp\n");
		parse_options({"--config", f}, o);
		CPPUNIT_ASSERT(o.role_sn && !o.role_host);
		CPPUNIT_ASSERT(o.datapath == Datapath::User);
		CPPUNIT_ASSERT(o.log_level == LogLevel::Debug);
		CPPUNIT_ASSERT_EQUAL(std::string("/srv/ilp"), o.state_dir.string());
	}

	void parse__flag_beats_file()
	{
		Options o;
		auto f = conf("datapath = user\n");
		parse_options({"--config", f, "--datapath", "kernel"}, o);
		CPPUNIT_ASSERT(o.datapath == Datapath::Kernel);
	}

	void parse__both_roles()
	{
		Options o;
		parse_options({"--config", conf(""), "--role", "host,sn"}, o);
		CPPUNIT_ASSERT(o.role_host && o.role_sn);
	}

	void parse__unknown_key_names_line()
	{
		auto f = conf("role = sn\n\nfrobnicate = 1\n");
		CPPUNIT_ASSERT_EQUAL(f + ":3: unknown key 'frobnicate'", error_of({"-c", f}));
	}

	void parse__bad_value_names_line()
	{
		auto f = conf("role = sn\ndatapath = fast\n");
		CPPUNIT_ASSERT_EQUAL(
		    f + ":2: invalid value 'fast' for 'datapath' (one of: auto, kernel, user)",
		    error_of({"-c", f}));
	}

	void parse__malformed_line_names_line()
	{
		auto f = conf("role sn\n");
		CPPUNIT_ASSERT_EQUAL(f + ":1: expected 'key = value', got 'role sn'",
				     error_of({"-c", f}));
	}

	void parse__duplicate_key_names_both_lines()
	{
		auto f = conf("role = sn\nrole = host\n");
		CPPUNIT_ASSERT_EQUAL(f + ":2: 'role' already set on line 1", error_of({"-c", f}));
	}

	void parse__bad_flag_names_flag()
	{
		CPPUNIT_ASSERT_EQUAL(std::string("--log-level: invalid value 'loud' for "
						 "'log-level' (one of: debug, error, info, warn)"),
				     error_of({"-c", conf(""), "--log-level", "loud"}));
	}

	void parse__relative_state_dir_refused()
	{
		auto f = conf("state-dir = var/ilp\n");
		CPPUNIT_ASSERT_EQUAL(f + ":1: 'state-dir' must be an absolute path",
				     error_of({"-c", f}));
	}

	void parse__missing_explicit_file_refused()
	{
		auto f = (dir_.path() / "nope.conf").string();
		CPPUNIT_ASSERT_EQUAL(f + ": cannot open", error_of({"-c", f}));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(OptionsTest);

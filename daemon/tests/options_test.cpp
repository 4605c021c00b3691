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
	CPPUNIT_TEST(parse__relative_paths_in_the_file_from_its_directory);
	CPPUNIT_TEST(parse__relative_path_flags_from_the_working_directory);
	CPPUNIT_TEST(parse__empty_path_names_line);
	CPPUNIT_TEST(parse__bad_number_names_line);
	CPPUNIT_TEST(parse__section_line_names_line);
	CPPUNIT_TEST(parse__missing_explicit_file_refused);
	CPPUNIT_TEST(parse__peers_repeat_and_keyfiles_beside_the_file);
	CPPUNIT_TEST(parse__bad_peer_names_its_own_line);
	CPPUNIT_TEST(parse__peer_flag_and_file_lines);
	CPPUNIT_TEST(parse__out_of_range_names_line);
	CPPUNIT_TEST(parse__service_config);
	CPPUNIT_TEST(parse__bad_sn_names_line);
	CPPUNIT_TEST(parse__control_channel_keys);
	CPPUNIT_TEST(parse__control_channel_errors_name_lines);
	CPPUNIT_TEST(parse__first_hop_domain);
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
		CPPUNIT_ASSERT(o.datapath == DatapathKind::Auto);
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
		CPPUNIT_ASSERT(o.datapath == DatapathKind::User);
		CPPUNIT_ASSERT(o.log_level == LogLevel::Debug);
		CPPUNIT_ASSERT_EQUAL(std::string("/srv/ilp"), o.state_dir.string());
	}

	void parse__flag_beats_file()
	{
		Options o;
		auto f = conf("datapath = user\n");
		parse_options({"--config", f, "--datapath", "kernel"}, o);
		CPPUNIT_ASSERT(o.datapath == DatapathKind::Kernel);
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

	void parse__relative_paths_in_the_file_from_its_directory()
	{
		// Every path key may be relative; in the file, it is the
		// file's directory they start from, not ilpd's working one.
		Options o;
		auto f = conf("state-dir = var/ilp\nrun-dir = ./run\nplugin-dir = ../plugins\n"
			      "master-keys = keys/node.keys\n"
			      "peer = 10.0.1.2 spi 1 version 0 keyfile ../sn1.key\n");
		parse_options({"-c", f}, o);
		CPPUNIT_ASSERT(dir_.path() / "var/ilp" == o.state_dir);
		CPPUNIT_ASSERT(dir_.path() / "run" == o.run_dir);
		CPPUNIT_ASSERT((dir_.path().parent_path() / "plugins") == o.plugin_dir);
		CPPUNIT_ASSERT(dir_.path() / "keys/node.keys" == o.master_keys);
		CPPUNIT_ASSERT((dir_.path().parent_path() / "sn1.key") == o.peers.at(0).keyfile);
	}

	void parse__relative_path_flags_from_the_working_directory()
	{
		// As flags, the same keys start from the working directory, and
		// come out absolute, as every other path.
		Options o;
		const fs::path cwd = fs::current_path();
		parse_options({"-c", conf(""), "--state-dir", "st", "--run-dir", "/abs/run",
			       "--plugin-dir", "p/../plugins", "--master-keys", "node.keys",
			       "--peer", "10.0.1.2 spi 1 version 0 keyfile sn1.key"},
			      o);
		CPPUNIT_ASSERT(cwd / "st" == o.state_dir);
		CPPUNIT_ASSERT_EQUAL(std::string("/abs/run"), o.run_dir.string());
		CPPUNIT_ASSERT(cwd / "plugins" == o.plugin_dir);
		CPPUNIT_ASSERT(cwd / "node.keys" == o.master_keys);
		CPPUNIT_ASSERT(cwd / "sn1.key" == o.peers.at(0).keyfile);
		CPPUNIT_ASSERT(o.state_dir.is_absolute() && o.plugin_dir.is_absolute());
	}

	void parse__empty_path_names_line()
	{
		auto f = conf("role = sn\nstate-dir =\n");
		CPPUNIT_ASSERT_EQUAL(f + ":2: 'state-dir' is an empty path", error_of({"-c", f}));
	}

	void parse__bad_number_names_line()
	{
		// Found by Boost's parser, which names the key only: the line
		// is the one that set it.
		auto f = conf("role = sn\n\nhandler-threads = many\n");
		auto err = error_of({"-c", f});
		CPPUNIT_ASSERT_MESSAGE(err, err.starts_with(f + ":3: "));
		CPPUNIT_ASSERT_MESSAGE(err, err.find("handler-threads") != std::string::npos);
		CPPUNIT_ASSERT_MESSAGE(err, err.find("many") != std::string::npos);
	}

	void parse__section_line_names_line()
	{
		auto f = conf("role = sn\n[ilpd]\n");
		CPPUNIT_ASSERT_EQUAL(f + ":2: expected 'key = value', got '[ilpd]'",
				     error_of({"-c", f}));
	}

	void parse__missing_explicit_file_refused()
	{
		auto f = (dir_.path() / "nope.conf").string();
		CPPUNIT_ASSERT_EQUAL(f + ": cannot open", error_of({"-c", f}));
	}

	void parse__peers_repeat_and_keyfiles_beside_the_file()
	{
		Options o;
		auto f = conf("datapath = user\nmaster-keys = node.keys\n"
			      "peer = 10.0.1.2 spi 0x80000001 version 0 keyfile sn1.key\n"
			      "peer = [2001:db8::2]:1200 spi 7 version 1 keyfile /k/h2.key direct\n"
			      "sn = 10.0.1.2\n");
		parse_options({"-c", f}, o);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), o.peers.size());
		CPPUNIT_ASSERT_EQUAL(std::string("10.0.1.2:1000"), o.peers[0].endpoint.to_string());
		CPPUNIT_ASSERT_EQUAL(0x80000001u, o.peers[0].spi);
		CPPUNIT_ASSERT((dir_.path() / "sn1.key") == o.peers[0].keyfile);
		CPPUNIT_ASSERT(!o.peers[0].direct);
		CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::2]:1200"),
				     o.peers[1].endpoint.to_string());
		CPPUNIT_ASSERT(o.peers[1].version == ilp::psp::Version::AesGcm256);
		CPPUNIT_ASSERT_EQUAL(std::string("/k/h2.key"), o.peers[1].keyfile.string());
		CPPUNIT_ASSERT(o.peers[1].direct);
		CPPUNIT_ASSERT_EQUAL(f + ":4", o.peers[1].where);
		CPPUNIT_ASSERT((dir_.path() / "node.keys") == o.master_keys);
		CPPUNIT_ASSERT(o.sn && o.sn->to_string() == "10.0.1.2:1000");
	}

	void parse__bad_peer_names_its_own_line()
	{
		auto f = conf("peer = 10.0.1.2 spi 1 keyfile a.key\n"
			      "# the next one has no SPI\n"
			      "peer = 10.0.2.2 keyfile b.key\n");
		CPPUNIT_ASSERT_EQUAL(f + ":3: 'peer': spi and keyfile are required "
					 "(ADDR[:PORT] spi SPI version V keyfile FILE [direct])",
				     error_of({"-c", f}));
		f = conf("peer = 10.0.1.2 spi 1 version 2 keyfile a.key\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(
		    f + ":1: 'peer': version must be 0 or 1, not '2'"));
		f = conf("peer = 10.0.1.300 spi 1 keyfile a.key\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(f + ":1: 'peer': "));
	}

	void parse__peer_flag_and_file_lines()
	{
		auto f = conf("\npeer = 10.0.1.2 spi 0 keyfile a.key\n");
		// The flag's peer is fine; the file's, second in order, is not.
		CPPUNIT_ASSERT(error_of({"-c", f, "--peer", "10.0.9.9 spi 5 keyfile /x"})
				   .starts_with(f + ":2: 'peer': bad SPI '0'"));
		CPPUNIT_ASSERT(
		    error_of({"-c", conf(""), "--peer", "10.0.9.9 spi 5 keyfile /x bogus 1"})
			.starts_with("--peer: 'peer': unknown word 'bogus'"));
	}

	void parse__out_of_range_names_line()
	{
		auto f = conf("role = sn\nhandler-threads = 0\n");
		CPPUNIT_ASSERT_EQUAL(f + ":2: 'handler-threads' must be from 1 to 64",
				     error_of({"-c", f}));
		f = conf("port = 70000\n");
		CPPUNIT_ASSERT_EQUAL(f + ":1: 'port' must be from 1 to 65535", error_of({"-c", f}));
		// Not a number at all: Boost's parser says so, with the line.
		f = conf("cache-capacity = many\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(f + ":1: "));
	}

	void parse__service_config()
	{
		Options o;
		auto f = conf("service-config = relay next-hop=10.0.2.1\n"
			      "service-config = relay idle-timeout-ms=500\nservice = relay\n");
		parse_options({"-c", f}, o);
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), o.service_config.size());
		CPPUNIT_ASSERT_EQUAL(std::string("relay"), o.service_config[1].service);
		CPPUNIT_ASSERT_EQUAL(std::string("idle-timeout-ms"), o.service_config[1].key);
		CPPUNIT_ASSERT_EQUAL(std::string("500"), o.service_config[1].value);
		CPPUNIT_ASSERT_EQUAL(std::size_t(1), o.services.size());
		f = conf("service-config = relay\n");
		CPPUNIT_ASSERT_EQUAL(
		    f + ":1: 'service-config': expected 'NAME KEY=VALUE', got 'relay'",
		    error_of({"-c", f}));
	}

	void parse__bad_sn_names_line()
	{
		auto f = conf("role = host\nsn = nowhere\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(f + ":2: 'sn': "));
	}

	void parse__control_channel_keys()
	{
		Options o;
		auto f = conf("role = host\n"
			      "trust = a ca-a.pem\n"
			      "trust = b /etc/ca-b.pem\n"
			      "first-hop = 10.0.1.2 edomain a\n"
			      "first-hop = [fd00::2]:2001 edomain b\n"
			      "rekey-interval = 90m\n"
			      "control-keepalive = 500ms\n");
		parse_options({"-c", f}, o);
		const auto &c = o.control;
		CPPUNIT_ASSERT(c.enabled());
		// A host does not listen unless told.
		CPPUNIT_ASSERT(!c.listen.value_or(false));
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), c.trust.size());
		CPPUNIT_ASSERT(c.trust[0].ca.is_absolute());
		CPPUNIT_ASSERT_EQUAL(std::string("10.0.1.2:1001"),
				     c.first_hops[0].control.to_string());
		CPPUNIT_ASSERT_EQUAL(std::string("[fd00::2]:2001"),
				     c.first_hops[1].control.to_string());
		CPPUNIT_ASSERT_EQUAL(std::string("b"), c.first_hops[1].edomain);
		CPPUNIT_ASSERT_EQUAL(std::int64_t(90 * 60 * 1000),
				     std::int64_t(c.rekey_interval.count()));
		CPPUNIT_ASSERT_EQUAL(std::int64_t(500), std::int64_t(c.keepalive.count()));
		// Pipes on demand: allowed, closed after 30 s idle, by default.
		CPPUNIT_ASSERT(c.direct_pipes);
		CPPUNIT_ASSERT_EQUAL(std::int64_t(30000), std::int64_t(c.direct_pipe_idle.count()));
		// An SN with a certificate listens by default; without one it
		// runs no control channel, its SAs given by an admin.
		Options bare;
		parse_options({"-c", conf("role = sn\n")}, bare);
		CPPUNIT_ASSERT(!bare.control.enabled());
		Options sn;
		parse_options({"-c", conf("role = sn\nedomain = a\ncertificate = c.pem\n"
					  "private-key = c.key\n")},
			      sn);
		CPPUNIT_ASSERT(sn.control.listen.value_or(false));
		CPPUNIT_ASSERT(sn.control.enabled());
	}

	// First hops from DNS: the edomain is configured and must be trusted;
	// errors name the line.
	void parse__first_hop_domain()
	{
		Options o;
		auto f = conf("role = host\n"
			      "trust = a ca-a.pem\n"
			      "first-hop-domain = Example.NET. edomain a\n"
			      "first-hop-domain = b.example edomain a\n"
			      "dns-server = 127.0.0.1\n");
		parse_options({"-c", f}, o);
		const auto &c = o.control;
		CPPUNIT_ASSERT(c.enabled());
		CPPUNIT_ASSERT(c.first_hops.empty());
		CPPUNIT_ASSERT_EQUAL(std::size_t(2), c.first_hop_domains.size());
		CPPUNIT_ASSERT_EQUAL(std::string("example.net"), c.first_hop_domains[0].domain);
		CPPUNIT_ASSERT_EQUAL(std::string("a"), c.first_hop_domains[0].edomain);
		CPPUNIT_ASSERT_EQUAL(f + ":4", c.first_hop_domains[1].where);
		CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:53"), c.dns_server->to_string());
		Options v6;
		parse_options({"-c", conf("dns-server = [::1]:5353\n")}, v6);
		CPPUNIT_ASSERT_EQUAL(std::string("[::1]:5353"), v6.control.dns_server->to_string());
		CPPUNIT_ASSERT(!v6.control.enabled());

		f = conf("role = host\n\nfirst-hop-domain = example.net edomain a\n");
		CPPUNIT_ASSERT_EQUAL(
		    f + ":3: 'first-hop-domain': edomain 'a' has no 'trust' line (its CA bundle)",
		    error_of({"-c", f}));
		f = conf("trust = a ca.pem\nfirst-hop-domain = example.net\n");
		CPPUNIT_ASSERT(
		    error_of({"-c", f}).starts_with(f + ":2: 'first-hop-domain': the edomain"));
		for (const char *bad : {"-x.net", "a..net", "a_b.net", "", "."}) {
			f = conf(std::string("trust = a ca.pem\nfirst-hop-domain = ") + bad +
				 " edomain a\n");
			CPPUNIT_ASSERT(
			    error_of({"-c", f}).starts_with(f + ":2: 'first-hop-domain': "));
		}
		f = conf("trust = a ca.pem\nfirst-hop-domain = " + std::string(64, 'x') +
			 ".net edomain a\n");
		CPPUNIT_ASSERT(
		    error_of({"-c", f}).starts_with(f + ":2: 'first-hop-domain': bad domain name"));
		f = conf("dns-server = ns.example\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(f + ":1: 'dns-server': "));
	}

	void parse__control_channel_errors_name_lines()
	{
		auto f = conf("role = host\n\nfirst-hop = 10.0.1.2 edomain a\n");
		CPPUNIT_ASSERT_EQUAL(
		    f + ":3: 'first-hop': edomain 'a' has no 'trust' line (its CA bundle)",
		    error_of({"-c", f}));
		f = conf("trust = a ca.pem\nfirst-hop = 10.0.1.2\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(f + ":2: 'first-hop': the edomain"));
		f = conf("trust = A! ca.pem\n");
		CPPUNIT_ASSERT(
		    error_of({"-c", f}).starts_with(f + ":1: 'trust': bad edomain name"));
		f = conf("rekey-interval = soon\n");
		CPPUNIT_ASSERT(
		    error_of({"-c", f}).starts_with(f + ":1: 'rekey-interval': bad duration"));
		f = conf("role = sn\ndirect-pipe-idle = 0s\n");
		CPPUNIT_ASSERT(
		    error_of({"-c", f}).starts_with(f + ":2: 'direct-pipe-idle': bad duration"));
		f = conf("direct-pipes = maybe\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(
		    f + ":1: invalid value 'maybe' for 'direct-pipes'"));
		f = conf("control-keepalive = 30s\ncontrol-dead-peer = 10s\n");
		CPPUNIT_ASSERT(
		    error_of({"-c", f}).starts_with(f + ":2: 'control-dead-peer' must be"));
		f = conf("role = sn\ncontrol-listen = yes\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(f +
							       ":2: an SN with a control channel "
							       "needs its 'edomain'"));
		f = conf("certificate = c.pem\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(
		    f + ":1: 'certificate' and 'private-key' go together"));
		f = conf("role = host\ntrust = a ca.pem\npipe = 10.0.1.2 edomain a\n");
		CPPUNIT_ASSERT(error_of({"-c", f}).starts_with(f + ":3: 'pipe' is for an SN"));
		f = conf("trust = a ca.pem\nneighbour = 10.0.5.2 edomain a\n");
		CPPUNIT_ASSERT(
		    error_of({"-c", f}).starts_with(f + ":2: 'neighbour' needs 'direct = yes'"));
		f = conf("direct = yes\n");
		CPPUNIT_ASSERT(
		    error_of({"-c", f}).starts_with(f + ":1: direct pipes need this host's"));
	}
};

CPPUNIT_TEST_SUITE_REGISTRATION(OptionsTest);

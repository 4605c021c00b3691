// SPDX-License-Identifier: GPL-2.0-or-later
#include "options.hpp"

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <boost/program_options.hpp>

#include <ilp/error.hpp>
#include <ilp/version.hpp>

namespace po = boost::program_options;

namespace ilpd
{

namespace
{

po::options_description config_keys()
{
	po::options_description d("configuration (file keys and flags)");
	d.add_options()("role", po::value<std::string>()->default_value("host"),
			"host, sn, or host,sn for both")(
	    "datapath", po::value<std::string>()->default_value("auto"),
	    "auto (kernel when ilp.ko is loaded), kernel or user")(
	    "log-level", po::value<std::string>()->default_value("info"),
	    "error, warn, info or debug")("state-dir",
					  po::value<std::string>()->default_value("/var/lib/ilp"),
					  "where checkpointed service state is kept")(
	    "run-dir", po::value<std::string>()->default_value("/run/ilp"),
	    "where the control socket (ilpd.sock) and the applications' socket "
	    "(app.sock) are made")("plugin-dir",
				   po::value<std::string>()->default_value(ILPD_PLUGIN_DIR),
				   "where service modules are found")(
	    "service", po::value<std::vector<std::string>>()->composing(),
	    "a service module to load at start, by name (repeatable; none given: all "
	    "in plugin-dir)")("service-config", po::value<std::vector<std::string>>()->composing(),
			      "NAME KEY=VALUE: a service's configuration (repeatable)")(
	    "handler-threads", po::value<unsigned>()->default_value(2),
	    "threads reading misses from the datapath (1 to 64)")(
	    "idle-timeout-ms", po::value<std::uint32_t>()->default_value(30000),
	    "idle time after which a cache entry goes, unless its service says")(
	    "revalidate-ms", po::value<std::uint32_t>()->default_value(1000),
	    "how often the revalidator looks for idle cache entries")(
	    "port", po::value<unsigned>()->default_value(1000),
	    "UDP port of the userspace datapath")(
	    "master-keys", po::value<std::string>(),
	    "the userspace datapath's master-keys file (as ilpctl key set reads)")(
	    "peer", po::value<std::vector<std::string>>()->composing(),
	    "ADDR[:PORT] spi SPI version V keyfile FILE [direct]: a peer of the "
	    "userspace datapath with its transmit SA (repeatable)")(
	    "sn", po::value<std::string>(), "the host's default SN, ADDR[:PORT]")(
	    "cache-capacity", po::value<std::uint32_t>()->default_value(65536),
	    "entries of the userspace datapath's decision cache");
	// The control channel between ilpd instances (docs/control.md).
	d.add_options()("control-port", po::value<unsigned>()->default_value(1001),
			"TCP port of the control channel, listened on and dialed")(
	    "control-listen", po::value<std::string>(),
	    "yes or no: accept control channels (default: yes for an SN)")(
	    "certificate", po::value<std::string>(), "this node's certificate (PEM)")(
	    "private-key", po::value<std::string>(),
	    "its private key (PEM)")("edomain", po::value<std::string>(), "the SN's edomain")(
	    "trust", po::value<std::vector<std::string>>()->composing(),
	    "EDOMAIN CAFILE: the CA bundle of a trusted edomain (repeatable)")(
	    "host-ca", po::value<std::string>(), "CA bundle of hosts' client certificates")(
	    "host-auth", po::value<std::string>()->default_value("optional"),
	    "none, optional or required: client certificates of hosts")(
	    "first-hop", po::value<std::vector<std::string>>()->composing(),
	    "ADDR[:PORT] edomain NAME: an SN this host associates with (repeatable; "
	    "the first is the default SN)")(
	    "first-hop-domain", po::value<std::vector<std::string>>()->composing(),
	    "DOMAIN edomain NAME: SNs this host associates with, found in DNS (the "
	    "SVCB records at _ilp.DOMAIN; repeatable)")(
	    "dns-server", po::value<std::string>(),
	    "ADDR[:PORT]: the DNS server first-hop-domain asks (default: those of "
	    "/etc/resolv.conf)")(
	    "pipe", po::value<std::vector<std::string>>()->composing(),
	    "ADDR[:PORT] edomain NAME: an SN this SN keeps a pipe with (repeatable)")(
	    "direct", po::value<std::string>()->default_value("no"),
	    "yes or no: this host sets up direct pipes with other hosts that allow them")(
	    "neighbour", po::value<std::vector<std::string>>()->composing(),
	    "ADDR[:PORT] edomain NAME: a host this host keeps a direct pipe with "
	    "(repeatable; needs direct = yes)")(
	    "direct-pipes", po::value<std::string>()->default_value("yes"),
	    "yes or no: this SN opens pipes with SNs of other edomains when a service asks")(
	    "direct-pipe-idle", po::value<std::string>()->default_value("30s"),
	    "time without a packet after which a pipe opened on demand is closed")(
	    "psp-version", po::value<unsigned>()->default_value(0),
	    "PSP version of the SAs given out: 0 (AES-GCM-128) or 1 (AES-GCM-256)")(
	    "rekey-interval", po::value<std::string>()->default_value("1d"),
	    "master-key rotation period, with new SAs for every peer")(
	    "control-keepalive", po::value<std::string>()->default_value("10s"),
	    "quiet time after which a keepalive is sent")(
	    "control-dead-peer", po::value<std::string>()->default_value("30s"),
	    "silence after which a channel is closed")(
	    "control-handshake", po::value<std::string>()->default_value("10s"),
	    "time a connection has to finish its TLS handshake")(
	    "reconnect-max", po::value<std::string>()->default_value("30s"),
	    "longest wait between redials of a broken channel")(
	    "max-handshakes", po::value<unsigned>()->default_value(64),
	    "connections in their handshake at once; more are refused");
	// The edomain core (docs/edomains.md).
	d.add_options()("core", po::value<std::string>(),
			"sqlite [FILE] or etcd HOST:PORT[,...] [prefix P]: the edomain's core "
			"store (an SN)")(
	    "gateway", po::value<std::vector<std::string>>()->composing(),
	    "EDOMAIN: this SN is its edomain's gateway to EDOMAIN (repeatable; needs core)")(
	    "edomain-address", po::value<std::string>(),
	    "ADDR: where this SN's edomain reaches it (default: its certificate's first IP)")(
	    "lookup", po::value<std::string>(),
	    "sqlite [FILE] or etcd HOST:PORT[,...] [prefix P]: the lookup service's store, "
	    "where hosts of other edomains are found (needs core)");
	return d;
}

// Where each key was set in the file, to name the line in errors.
struct FileKeys {
	std::string file;
	// Lines of each key; several only for repeatable keys.
	std::map<std::string, std::vector<int>> lines_of;

	std::string where(const std::string &key) const
	{
		auto it = lines_of.find(key);
		if (it == lines_of.end())
			return "--" + key;
		return file + ":" + std::to_string(it->second.front());
	}

	// Where value @index of the @total values of repeatable @key came
	// from: the command line's come first, then the file's.
	std::string where(const std::string &key, std::size_t index, std::size_t total) const
	{
		auto it = lines_of.find(key);
		std::size_t from_file = it == lines_of.end() ? 0 : it->second.size();
		std::size_t from_flags = total - from_file;
		if (index < from_flags)
			return "--" + key;
		return file + ":" + std::to_string(it->second[index - from_flags]);
	}
};

std::string trim(const std::string &s)
{
	auto b = s.find_first_not_of(" \t\r");
	auto e = s.find_last_not_of(" \t\r");
	return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Goes over the file's lines before Boost's parser reads it, for what that
// parser cannot say: which line.  Every line must be "key = value" with a
// known key ('#' starts a comment), a key not repeatable is set once; the
// line of each key is noted, so that an error Boost finds in a value
// (which names the key only) is told with the line that set it.  No
// "[section]" lines: Boost would take one as a prefix of the keys after it.
FileKeys scan_config(const std::string &file, const po::options_description &desc)
{
	std::ifstream in(file);
	if (!in)
		throw ConfigError(file + ": cannot open");
	FileKeys keys;
	keys.file = file;
	std::string line;
	for (int n = 1; std::getline(in, line); n++) {
		auto hash = line.find('#');
		if (hash != std::string::npos)
			line.erase(hash);
		line = trim(line);
		if (line.empty())
			continue;
		const std::string at = file + ":" + std::to_string(n) + ": ";
		auto eq = line.find('=');
		std::string key = eq == std::string::npos ? "" : trim(line.substr(0, eq));
		if (key.empty() || line.front() == '[')
			throw ConfigError(at + "expected 'key = value', got '" + line + "'");
		const auto *opt_desc = desc.find_nothrow(key, false);
		if (!opt_desc)
			throw ConfigError(at + "unknown key '" + key + "'");
		bool repeatable = opt_desc->semantic()->is_composing();
		if (!repeatable && keys.lines_of.count(key))
			throw ConfigError(at + "'" + key + "' already set on line " +
					  std::to_string(keys.lines_of[key].front()));
		keys.lines_of[key].push_back(n);
	}
	if (in.bad())
		throw ConfigError(file + ": read error");
	return keys;
}

// Reads @file with Boost's own config-file parser into @vm (after the
// command line, so a flag wins), its errors told with the line of the key.
void read_config(const std::string &file, const po::options_description &desc,
		 po::variables_map &vm, FileKeys &keys)
{
	keys = scan_config(file, desc);
	std::ifstream in(file);
	if (!in)
		throw ConfigError(file + ": cannot open");
	try {
		po::store(po::parse_config_file(in, desc, false), vm);
	} catch (const po::error_with_option_name &e) {
		std::string key = e.get_option_name();
		key.erase(0, key.find_first_not_of('-'));
		auto it = keys.lines_of.find(key);
		if (it == keys.lines_of.end())
			throw ConfigError(file + ": " + e.what());
		throw ConfigError(file + ":" + std::to_string(it->second.front()) + ": " +
				  e.what());
	} catch (const po::error &e) {
		throw ConfigError(file + ": " + e.what());
	}
}

template <typename T>
T pick(const std::string &value, const std::map<std::string, T> &choices, const std::string &where,
       const std::string &key)
{
	auto it = choices.find(value);
	if (it != choices.end())
		return it->second;
	std::string allowed;
	for (const auto &[name, _] : choices)
		allowed += (allowed.empty() ? "" : ", ") + name;
	throw ConfigError(where + ": invalid value '" + value + "' for '" + key +
			  "' (one of: " + allowed + ")");
}

std::vector<std::string> split_words(const std::string &text)
{
	std::istringstream in(text);
	std::vector<std::string> words;
	for (std::string w; in >> w;)
		words.push_back(w);
	return words;
}

// The control channel's keys, checked together: an SN needs its edomain,
// a certificate needs its key, a first hop or pipe needs a trusted edomain.
template <typename Resolve>
void read_control_options(const po::variables_map &vm, const FileKeys &file_keys, Resolve &resolve,
			  Options &opts)
{
	auto where = [&](const std::string &key) { return file_keys.where(key); };
	ControlOptions &c = opts.control;
	unsigned port = vm["control-port"].as<unsigned>();
	if (port < 1 || port > 65535)
		throw ConfigError(where("control-port") +
				  ": 'control-port' must be from 1 to 65535");
	c.port = static_cast<std::uint16_t>(port);
	if (vm.count("control-listen"))
		c.listen = pick<bool>(vm["control-listen"].as<std::string>(),
				      {{"yes", true}, {"no", false}}, where("control-listen"),
				      "control-listen");
	auto path = [&](const std::string &key) {
		return resolve(vm[key].as<std::string>(), where(key), key);
	};
	if (vm.count("certificate"))
		c.certificate = path("certificate");
	if (vm.count("private-key"))
		c.private_key = path("private-key");
	// An SN with a certificate listens unless told not to; one without
	// runs with the SAs an admin gives it, as before the control channel.
	if (!c.listen && opts.role_sn && !c.certificate.empty())
		c.listen = true;
	if (c.certificate.empty() != c.private_key.empty())
		throw ConfigError(where(c.certificate.empty() ? "private-key" : "certificate") +
				  ": 'certificate' and 'private-key' go together");
	if (vm.count("host-ca"))
		c.host_ca = path("host-ca");
	c.host_auth = pick<HostAuthMode>(vm["host-auth"].as<std::string>(),
					 {{"none", HostAuthMode::None},
					  {"optional", HostAuthMode::Optional},
					  {"required", HostAuthMode::Required}},
					 where("host-auth"), "host-auth");
	if (vm.count("edomain")) {
		c.edomain = vm["edomain"].as<std::string>();
		if (!valid_edomain(c.edomain))
			throw ConfigError(where("edomain") + ": bad edomain name '" + c.edomain +
					  "' (1 to 63 of a-z, 0-9, '.' and '-')");
	}
	auto list = [&](const std::string &key, auto each) {
		if (!vm.count(key))
			return;
		const auto &values = vm[key].as<std::vector<std::string>>();
		for (std::size_t i = 0; i < values.size(); i++)
			each(values[i], file_keys.where(key, i, values.size()));
	};
	list("trust", [&](const std::string &v, const std::string &at) {
		auto t = parse_trust(v, at);
		t.ca = resolve(t.ca, at, "trust");
		c.trust.push_back(std::move(t));
	});
	auto trusted = [&](const RemoteConfig &r, const std::string &key) {
		for (const auto &t : c.trust)
			if (t.edomain == r.edomain)
				return;
		throw ConfigError(r.where + ": '" + key + "': edomain '" + r.edomain +
				  "' has no 'trust' line (its CA bundle)");
	};
	list("first-hop", [&](const std::string &v, const std::string &at) {
		c.first_hops.push_back(parse_remote(v, c.port, at, "first-hop"));
		trusted(c.first_hops.back(), "first-hop");
	});
	list("first-hop-domain", [&](const std::string &v, const std::string &at) {
		auto d = parse_first_hop_domain(v, at);
		RemoteConfig r;
		r.edomain = d.edomain;
		r.where = at;
		trusted(r, "first-hop-domain");
		c.first_hop_domains.push_back(std::move(d));
	});
	if (vm.count("dns-server"))
		c.dns_server =
		    parse_dns_server(vm["dns-server"].as<std::string>(), where("dns-server"));
	list("pipe", [&](const std::string &v, const std::string &at) {
		c.pipes.push_back(parse_remote(v, c.port, at, "pipe"));
		trusted(c.pipes.back(), "pipe");
	});
	c.direct = pick<bool>(vm["direct"].as<std::string>(), {{"yes", true}, {"no", false}},
			      where("direct"), "direct");
	c.direct_pipes =
	    pick<bool>(vm["direct-pipes"].as<std::string>(), {{"yes", true}, {"no", false}},
		       where("direct-pipes"), "direct-pipes");
	list("neighbour", [&](const std::string &v, const std::string &at) {
		c.neighbours.push_back(parse_remote(v, c.port, at, "neighbour"));
		trusted(c.neighbours.back(), "neighbour");
	});
	if (!c.neighbours.empty() && !c.direct)
		throw ConfigError(c.neighbours.front().where +
				  ": 'neighbour' needs 'direct = yes' (both hosts must allow it)");
	// A host that allows direct pipes takes its neighbours' channels too,
	// and shows them its certificate: hosts authenticate each other.
	if (c.direct && c.certificate.empty())
		throw ConfigError(where("direct") + ": direct pipes need this host's "
						    "'certificate' and 'private-key'");
	if (!c.listen && c.direct)
		c.listen = true;
	if (!c.pipes.empty() && !opts.role_sn)
		throw ConfigError(c.pipes.front().where + ": 'pipe' is for an SN (role sn)");
	if (opts.role_sn && c.enabled()) {
		auto at = vm.count("control-listen") ? where("control-listen") : where("role");
		if (c.edomain.empty())
			throw ConfigError(at +
					  ": an SN with a control channel needs its 'edomain'");
		if (c.certificate.empty())
			throw ConfigError(at + ": an SN with a control channel needs its "
					       "'certificate' and 'private-key'");
	}
	unsigned v = vm["psp-version"].as<unsigned>();
	if (v > 1)
		throw ConfigError(where("psp-version") + ": 'psp-version' must be 0 or 1");
	c.psp_version = v ? ilp::psp::Version::AesGcm256 : ilp::psp::Version::AesGcm128;
	auto duration = [&](const std::string &key) {
		return parse_duration(vm[key].as<std::string>(), where(key), key);
	};
	c.rekey_interval = duration("rekey-interval");
	c.keepalive = duration("control-keepalive");
	c.dead_peer = duration("control-dead-peer");
	c.handshake = duration("control-handshake");
	c.reconnect_max = duration("reconnect-max");
	c.direct_pipe_idle = duration("direct-pipe-idle");
	if (c.dead_peer <= c.keepalive)
		throw ConfigError(where("control-dead-peer") +
				  ": 'control-dead-peer' must be longer than 'control-keepalive'");
	c.max_handshaking = vm["max-handshakes"].as<unsigned>();
	if (c.max_handshaking < 1 || c.max_handshaking > 4096)
		throw ConfigError(where("max-handshakes") +
				  ": 'max-handshakes' must be from 1 to 4096");
}

} // namespace

PeerConfig parse_peer(const std::string &text, const std::string &where)
{
	auto fail = [&](const std::string &why) {
		throw ConfigError(where + ": 'peer': " + why +
				  " (ADDR[:PORT] spi SPI version V keyfile FILE [direct])");
	};
	auto words = split_words(text);
	if (words.empty())
		fail("no address");
	PeerConfig peer;
	peer.where = where;
	try {
		peer.endpoint = ilp::Endpoint::parse(words[0]);
	} catch (const std::exception &e) {
		fail(e.what());
	}
	bool have_spi = false, have_key = false;
	for (std::size_t i = 1; i < words.size(); i++) {
		const std::string &w = words[i];
		if (w == "direct") {
			peer.direct = true;
			continue;
		}
		if (i + 1 >= words.size())
			fail("'" + w + "' needs a value");
		const std::string &v = words[++i];
		if (w == "spi") {
			std::size_t end = 0;
			unsigned long spi = 0;
			try {
				spi = std::stoul(v, &end, 0);
			} catch (const std::exception &) {
				end = 0;
			}
			if (end != v.size() || spi == 0 || spi > 0xffffffffUL)
				fail("bad SPI '" + v + "'");
			peer.spi = static_cast<std::uint32_t>(spi);
			have_spi = true;
		} else if (w == "version") {
			if (v == "0")
				peer.version = ilp::psp::Version::AesGcm128;
			else if (v == "1")
				peer.version = ilp::psp::Version::AesGcm256;
			else
				fail("version must be 0 or 1, not '" + v + "'");
		} else if (w == "keyfile") {
			peer.keyfile = v;
			have_key = true;
		} else {
			fail("unknown word '" + w + "'");
		}
	}
	if (!have_spi || !have_key)
		fail("spi and keyfile are required");
	return peer;
}

ServiceSetting parse_service_setting(const std::string &text, const std::string &where)
{
	auto words = split_words(text);
	auto eq = words.size() == 2 ? words[1].find('=') : std::string::npos;
	if (eq == std::string::npos || eq == 0)
		throw ConfigError(where + ": 'service-config': expected 'NAME KEY=VALUE', got '" +
				  text + "'");
	return {words[0], words[1].substr(0, eq), words[1].substr(eq + 1), where};
}

const char *to_string(DatapathKind d)
{
	switch (d) {
	case DatapathKind::Auto:
		return "auto";
	case DatapathKind::Kernel:
		return "kernel";
	case DatapathKind::User:
		return "user";
	}
	return "?";
}

Parsed parse_options(const std::vector<std::string> &args, Options &opts)
{
	po::options_description generic("ilpd options");
	generic.add_options()("help,h", "print this help and exit")("version,V",
								    "print the version and exit")(
	    "config,c", po::value<std::string>(),
	    "configuration file (default /etc/ilp/ilpd.conf, if it exists)");
	auto keys = config_keys();
	po::options_description all;
	all.add(generic).add(keys);

	po::variables_map vm;
	try {
		po::store(po::command_line_parser(args).options(all).run(), vm);
	} catch (const po::error &e) {
		throw ConfigError(e.what());
	}
	if (vm.count("help")) {
		std::cout << "usage: ilpd [options]\n\n" << all << '\n';
		return Parsed::ExitOk;
	}
	if (vm.count("version")) {
		std::cout << "ilpd " << ilp::version << '\n';
		return Parsed::ExitOk;
	}

	FileKeys file_keys;
	bool explicit_config = vm.count("config");
	std::string config =
	    explicit_config ? vm["config"].as<std::string>() : opts.config.string();
	if (explicit_config || std::filesystem::exists(config)) {
		read_config(config, keys, vm, file_keys);
		opts.config = config;
	}
	po::notify(vm);

	auto where = [&](const std::string &key) { return file_keys.where(key); };
	std::string role = vm["role"].as<std::string>();
	std::stringstream roles(role);
	for (std::string r; std::getline(roles, r, ',');) {
		if (r == "host")
			opts.role_host = true;
		else if (r == "sn")
			opts.role_sn = true;
		else
			throw ConfigError(where("role") + ": invalid value '" + role +
					  "' for 'role' (host, sn or host,sn)");
	}
	if (!opts.role_host && !opts.role_sn)
		throw ConfigError(where("role") + ": 'role' is empty (host, sn or host,sn)");
	opts.datapath = pick<DatapathKind>(vm["datapath"].as<std::string>(),
					   {{"auto", DatapathKind::Auto},
					    {"kernel", DatapathKind::Kernel},
					    {"user", DatapathKind::User}},
					   where("datapath"), "datapath");
	opts.log_level = pick<LogLevel>(vm["log-level"].as<std::string>(),
					{{"error", LogLevel::Error},
					 {"warn", LogLevel::Warn},
					 {"info", LogLevel::Info},
					 {"debug", LogLevel::Debug}},
					where("log-level"), "log-level");
	// Every path may be relative: one in the file is taken from the
	// file's directory (wherever ilpd was started from), one given as a
	// flag from the working directory, as a shell user expects.  ilpd
	// keeps them absolute, so that what it logs and uses is the same path.
	const std::filesystem::path config_dir =
	    std::filesystem::absolute(opts.config).parent_path();
	auto resolve = [&](const std::filesystem::path &p, const std::string &from,
			   const std::string &key) {
		if (p.empty())
			throw ConfigError(from + ": '" + key + "' is an empty path");
		if (p.is_absolute())
			return p.lexically_normal();
		auto base = from.starts_with("--") ? std::filesystem::current_path() : config_dir;
		return (base / p).lexically_normal();
	};
	auto path = [&](const std::string &key) {
		return resolve(vm[key].as<std::string>(), where(key), key);
	};
	opts.state_dir = path("state-dir");
	opts.run_dir = path("run-dir");
	opts.plugin_dir = path("plugin-dir");

	auto in_range = [&](const std::string &key, unsigned long v, unsigned long lo,
			    unsigned long hi) {
		if (v < lo || v > hi)
			throw ConfigError(where(key) + ": '" + key + "' must be from " +
					  std::to_string(lo) + " to " + std::to_string(hi));
		return v;
	};
	opts.handler_threads =
	    in_range("handler-threads", vm["handler-threads"].as<unsigned>(), 1, 64);
	opts.idle_timeout_ms =
	    in_range("idle-timeout-ms", vm["idle-timeout-ms"].as<std::uint32_t>(), 1, 86400000);
	opts.revalidate_ms =
	    in_range("revalidate-ms", vm["revalidate-ms"].as<std::uint32_t>(), 10, 3600000);
	opts.port = in_range("port", vm["port"].as<unsigned>(), 1, 65535);
	opts.cache_capacity =
	    in_range("cache-capacity", vm["cache-capacity"].as<std::uint32_t>(), 1, 1u << 24);

	if (vm.count("master-keys"))
		opts.master_keys = path("master-keys");
	if (vm.count("sn")) {
		try {
			opts.sn = ilp::Endpoint::parse(vm["sn"].as<std::string>());
		} catch (const std::exception &e) {
			throw ConfigError(where("sn") + ": 'sn': " + e.what());
		}
	}
	if (vm.count("peer")) {
		const auto &list = vm["peer"].as<std::vector<std::string>>();
		for (std::size_t i = 0; i < list.size(); i++) {
			std::string at = file_keys.where("peer", i, list.size());
			PeerConfig peer = parse_peer(list[i], at);
			peer.keyfile = resolve(peer.keyfile, at, "keyfile");
			opts.peers.push_back(std::move(peer));
		}
	}
	read_control_options(vm, file_keys, resolve, opts);
	if (vm.count("core")) {
		auto at = file_keys.where("core");
		if (!opts.role_sn)
			throw ConfigError(at + ": 'core' is for an SN (role sn)");
		if (opts.control.edomain.empty())
			throw ConfigError(at + ": 'core' needs this SN's 'edomain'");
		static_cast<StoreConfig &>(opts.core) =
		    parse_store("core", vm["core"].as<std::string>(), at, opts.state_dir);
	}
	if (vm.count("lookup")) {
		auto at = file_keys.where("lookup");
		if (opts.core.kind == CoreConfig::Kind::None)
			throw ConfigError(at + ": 'lookup' needs a 'core'");
		opts.core.lookup =
		    parse_store("lookup", vm["lookup"].as<std::string>(), at, opts.state_dir);
	}
	if (vm.count("gateway")) {
		const auto &values = vm["gateway"].as<std::vector<std::string>>();
		for (std::size_t i = 0; i < values.size(); i++) {
			auto at = file_keys.where("gateway", i, values.size());
			if (opts.core.kind == CoreConfig::Kind::None)
				throw ConfigError(at +
						  ": 'gateway' needs a 'core' to publish it in");
			if (!valid_edomain(values[i]))
				throw ConfigError(at + ": bad edomain name '" + values[i] + "'");
			if (values[i] == opts.control.edomain)
				throw ConfigError(at + ": 'gateway " + values[i] +
						  "' names this SN's own edomain");
			opts.core.gateway_for.push_back(values[i]);
		}
	}
	if (vm.count("edomain-address")) {
		auto at = file_keys.where("edomain-address");
		if (opts.core.kind == CoreConfig::Kind::None)
			throw ConfigError(at + ": 'edomain-address' needs a 'core'");
		try {
			opts.core.address =
			    ilp::Endpoint::parse(vm["edomain-address"].as<std::string>());
		} catch (const ilp::Error &e) {
			throw ConfigError(at + ": 'edomain-address': " + e.what());
		}
	}
	if (vm.count("service"))
		opts.services = vm["service"].as<std::vector<std::string>>();
	if (vm.count("service-config")) {
		const auto &list = vm["service-config"].as<std::vector<std::string>>();
		for (std::size_t i = 0; i < list.size(); i++) {
			std::string at = file_keys.where("service-config", i, list.size());
			opts.service_config.push_back(parse_service_setting(list[i], at));
		}
	}
	return Parsed::Run;
}

} // namespace ilpd

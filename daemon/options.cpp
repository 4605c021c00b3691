// SPDX-License-Identifier: GPL-2.0-or-later
#include "options.hpp"

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <boost/program_options.hpp>

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
					  "where checkpointed service state is kept");
	return d;
}

// Where each key was set in the file, to name the line in errors.
struct FileKeys {
	std::string file;
	std::map<std::string, int> line_of;

	std::string where(const std::string &key) const
	{
		auto it = line_of.find(key);
		if (it == line_of.end())
			return "--" + key;
		return file + ":" + std::to_string(it->second);
	}
};

// Reads "key = value" lines ('#' starts a comment); rejects what Boost
// would reject too, but with the line number it cannot give.
po::parsed_options read_config(const std::string &file, const po::options_description &desc,
			       FileKeys &keys)
{
	std::ifstream in(file);
	po::parsed_options parsed(&desc);
	std::string line;
	keys.file = file;
	for (int n = 1; std::getline(in, line); n++) {
		auto hash = line.find('#');
		if (hash != std::string::npos)
			line.erase(hash);
		auto trim = [](std::string s) {
			auto b = s.find_first_not_of(" \t\r");
			auto e = s.find_last_not_of(" \t\r");
			return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
		};
		line = trim(line);
		if (line.empty())
			continue;
		auto eq = line.find('=');
		if (eq == std::string::npos)
			throw ConfigError(file + ":" + std::to_string(n) +
					  ": expected 'key = value', got '" + line + "'");
		std::string key = trim(line.substr(0, eq));
		std::string value = trim(line.substr(eq + 1));
		if (!desc.find_nothrow(key, false))
			throw ConfigError(file + ":" + std::to_string(n) + ": unknown key '" + key +
					  "'");
		if (keys.line_of.count(key))
			throw ConfigError(file + ":" + std::to_string(n) + ": '" + key +
					  "' already set on line " +
					  std::to_string(keys.line_of[key]));
		keys.line_of[key] = n;
		po::option opt(key, {value});
		opt.original_tokens = {key, value};
		parsed.options.push_back(opt);
	}
	if (in.bad())
		throw ConfigError(file + ": read error");
	return parsed;
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

} // namespace

const char *to_string(Datapath d)
{
	switch (d) {
	case Datapath::Auto:
		return "auto";
	case Datapath::Kernel:
		return "kernel";
	case Datapath::User:
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
		if (!std::ifstream(config))
			throw ConfigError(config + ": cannot open");
		try {
			po::store(read_config(config, keys, file_keys), vm);
		} catch (const po::error &e) {
			throw ConfigError(config + ": " + e.what());
		}
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
	opts.datapath = pick<Datapath>(
	    vm["datapath"].as<std::string>(),
	    {{"auto", Datapath::Auto}, {"kernel", Datapath::Kernel}, {"user", Datapath::User}},
	    where("datapath"), "datapath");
	opts.log_level = pick<LogLevel>(vm["log-level"].as<std::string>(),
					{{"error", LogLevel::Error},
					 {"warn", LogLevel::Warn},
					 {"info", LogLevel::Info},
					 {"debug", LogLevel::Debug}},
					where("log-level"), "log-level");
	opts.state_dir = vm["state-dir"].as<std::string>();
	if (opts.state_dir.empty() || opts.state_dir.is_relative())
		throw ConfigError(where("state-dir") + ": 'state-dir' must be an absolute path");
	return Parsed::Run;
}

} // namespace ilpd

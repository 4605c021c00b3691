// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpd's configuration: every key of /etc/ilp/ilpd.conf is also a
// command-line flag (the command line wins).  Unknown keys and bad values
// are errors that name the file and line.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace ilpd
{

enum class Datapath { Auto, Kernel, User };
enum class LogLevel { Error, Warn, Info, Debug };

struct Options {
	bool role_host = false;
	bool role_sn = false;
	Datapath datapath = Datapath::Auto;
	LogLevel log_level = LogLevel::Info;
	std::filesystem::path state_dir = "/var/lib/ilp";
	std::filesystem::path config = "/etc/ilp/ilpd.conf";
};

// What the caller should do after parsing.
enum class Parsed { Run, ExitOk };

struct ConfigError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// Parses @args (argv without argv[0]) and the configuration file.  Throws
// ConfigError with a message naming the file and line, or the flag.
// Prints --help and --version output to stdout and returns ExitOk.
Parsed parse_options(const std::vector<std::string> &args, Options &opts);

const char *to_string(Datapath d);

} // namespace ilpd

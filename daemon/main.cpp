// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpd - the ILP daemon, one program for hosts and service nodes.
//
// Runs in the foreground (systemd's Type=exec), logs to stderr, and shuts
// down cleanly on SIGTERM or SIGINT.  Exit status: 0 after a clean
// shutdown, 1 when start-up failed, 2 for a bad configuration.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include <ilp/control.hpp>
#include <ilp/version.hpp>

#include "log.hpp"
#include "options.hpp"

using namespace ilpd;

namespace
{

// Picks the datapath: "auto" means the kernel's when ilp.ko is loaded.
DatapathKind choose_datapath(DatapathKind wanted, std::string &detail)
{
	if (wanted == DatapathKind::User)
		return DatapathKind::User;
	try {
		ilp::Control ctl;
		detail = "ilp.ko " + ctl.version().version;
		return DatapathKind::Kernel;
	} catch (const ilp::ModuleNotLoaded &) {
		if (wanted == DatapathKind::Kernel)
			throw;
		detail = "ilp.ko not loaded";
		return DatapathKind::User;
	}
}

} // namespace

int main(int argc, char **argv)
{
	Options opts;
	try {
		if (parse_options({argv + 1, argv + argc}, opts) == Parsed::ExitOk)
			return 0;
	} catch (const ConfigError &e) {
		std::cerr << "ilpd: " << e.what() << '\n';
		return 2;
	}
	log::set_level(opts.log_level);

	// Block the signals we wait for before any thread exists, so that
	// every later thread inherits the mask and sigwait() gets them.
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

	try {
		std::string detail;
		DatapathKind dp = choose_datapath(opts.datapath, detail);
		std::string roles = opts.role_host && opts.role_sn ? "host,sn"
				    : opts.role_sn                 ? "sn"
								   : "host";
		log::info("ilpd ", ilp::version, " started: role ", roles, ", datapath ",
			  to_string(dp), " (", detail, ")");
	} catch (const std::exception &e) {
		log::error(e.what());
		return 1;
	}

	int sig = 0;
	sigwait(&sigs, &sig);
	log::info("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ", shutting down");
	return 0;
}

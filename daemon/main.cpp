// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpd - the ILP daemon, one program for hosts and service nodes.
//
// Runs in the foreground, logs to stderr, tells systemd (Type=notify) when
// it is ready and when it stops, and shuts down cleanly on SIGTERM or
// SIGINT.  Exit status: 0 after a clean shutdown, 1 when start-up failed, 2
// for a bad configuration.
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <ilp/version.hpp>

#include "daemon.hpp"
#include "log.hpp"
#include "options.hpp"
#include "systemd_notify.hpp"

using namespace ilpd;

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

	std::unique_ptr<Daemon> daemon;
	try {
		daemon = std::make_unique<Daemon>(opts);
		std::string roles = opts.role_host && opts.role_sn ? "host,sn"
				    : opts.role_sn                 ? "sn"
								   : "host";
		log::info("ilpd ", ilp::version, " started: role ", roles, ", datapath ",
			  daemon->datapath_kind(), ", control socket ",
			  control_socket_path(opts.run_dir).string());
		// Only now: the datapath runs, the services are loaded and
		// the control socket listens, so ilpctl gets an answer.
		notify_ready("role " + roles + ", datapath " + daemon->datapath_kind());
	} catch (const std::exception &e) {
		log::error(e.what());
		return 1;
	}

	int sig = 0;
	sigwait(&sigs, &sig);
	log::info("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT", ", shutting down");
	notify_stopping();
	daemon.reset();
	log::info("stopped");
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
//
// control_echo_server SOCKET: a ControlServer on SOCKET whose handlers
// answer as ilpd would, from fixed state, for cli/tests/daemon_control_test.sh
// to check what ilpctl makes of the replies.  Runs until SIGTERM or SIGINT,
// then removes SOCKET.
//
// The state: services "relay" (id 8) and "echo" (id 9); "service load"
// takes a path ending in "/counter.so" (id 10) and refuses others;
// "service unload" and "service config" know the services loaded.
#include <csignal>
#include <iostream>
#include <string>

#include <pthread.h>

#include "control/control_server.hpp"

using nlohmann::json;

namespace
{

json services = json::array({
    {{"name", "relay"},
     {"id", 8},
     {"description", "relays to a configured next hop"},
     {"path", "/usr/lib/ilp/services/relay.so"},
     {"packets", 12},
     {"errors", 0},
     {"queue_full", 0},
     {"dropped", 0},
     {"installed", 4},
     {"stalled", false},
     {"config", {{"next-hop", "10.0.2.1:1000"}}}},
    {{"name", "echo"},
     {"id", 9},
     {"description", "answers each packet with itself"},
     {"path", "/usr/lib/ilp/services/echo.so"},
     {"packets", 3},
     {"errors", 1},
     {"queue_full", 2},
     {"dropped", 5},
     {"installed", 0},
     {"stalled", true},
     {"config", json::object()}},
});

json &find_service(const json &args)
{
	const auto name = args.at("name").get<std::string>();
	for (auto &s : services)
		if (s["name"] == name)
			return s;
	throw ilpd::ControlError("no service '" + name + "'", ENOENT);
}

ilpd::ControlHandlers handlers()
{
	return {
	    {"daemon.status",
	     [](const json &) {
		     json brief = json::array();
		     for (const auto &s : services)
			     brief.push_back({{"name", s["name"]},
					      {"id", s["id"]},
					      {"packets", s["packets"]},
					      {"errors", s["errors"]}});
		     return json{{"uptime_s", 3723}, {"datapath", "user"}, {"roles", {"sn"}},
				 {"upcalls", 42},    {"no_service", 3},    {"services", brief}};
	     }},
	    {"service.list", [](const json &) { return services; }},
	    {"service.load",
	     [](const json &args) {
		     const auto path = args.at("path").get<std::string>();
		     if (!path.ends_with("/counter.so"))
			     throw ilpd::ControlError(
				 "cannot load " + path + ": No such file or directory", ENOENT);
		     services.push_back({{"name", "counter"},
					 {"id", 10},
					 {"description", ""},
					 {"path", path},
					 {"packets", 0},
					 {"errors", 0},
					 {"queue_full", 0},
					 {"dropped", 0},
					 {"installed", 0},
					 {"stalled", false},
					 {"config", json::object()}});
		     return services.back();
	     }},
	    {"service.unload",
	     [](const json &args) {
		     json &s = find_service(args);
		     for (auto it = services.begin(); it != services.end(); ++it)
			     if (&*it == &s) {
				     services.erase(it);
				     break;
			     }
		     return json();
	     }},
	    {"service.config",
	     [](const json &args) {
		     json &s = find_service(args);
		     // Named: a range-for over items() of a temporary would dangle.
		     const json set = args.value("set", json::object());
		     for (const auto &[k, v] : set.items()) {
			     if (!v.is_string())
				     throw ilpd::ControlError("the value of '" + k +
							      "' is not a string");
			     s["config"][k] = v;
		     }
		     return s["config"];
	     }},
	};
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		std::cerr << "usage: control_echo_server SOCKET\n";
		return 2;
	}
	// As ilpd: the signals are blocked before the server's thread
	// starts, so that it inherits the mask and sigwait() gets them.
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
	try {
		ilpd::ControlServer server(argv[1], handlers(), [](const std::string &m) {
			std::cerr << "control_echo_server: " << m << '\n';
		});
		int sig = 0;
		sigwait(&sigs, &sig);
	} catch (const std::exception &e) {
		std::cerr << "control_echo_server: " << e.what() << '\n';
		return 1;
	}
	return 0;
}

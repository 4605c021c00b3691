// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl's command table and what every command handler gets.  Commands
// live in one table (name, usage, argument counts, handler) so that the
// help text and the dispatcher cannot drift apart.
#pragma once

#include <iosfwd>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ilpctl
{

struct Context {
	bool json = false;   // -j: JSON on stdout instead of text
	bool pretty = false; // -p: indent the JSON
	std::ostream &out;
	std::string socket{}; // -S: ilpd's control socket; empty: the default
	std::string netns{};  // -n: the network namespace entered; empty: none

	// Prints @j as one JSON document (for -j).
	void emit(const nlohmann::json &j) const;
};

using Args = std::span<const std::string>;

struct Command {
	std::string_view object; // "stats"
	std::string_view verb;   // "show"; empty for a command with no verb
	std::string_view usage;  // arguments after the verb, for the help
	std::string_view help;   // one line
	int min_args;
	int max_args;
	bool changes_state; // needs CAP_NET_ADMIN
	int (*run)(Context &, Args);
};

std::span<const Command> commands();

// Thrown for a command line that does not parse; exit status 2.
struct UsageError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// Handlers, one file per object.
int cmd_version(Context &, Args);
int cmd_stats_show(Context &, Args);
int cmd_stats_reset(Context &, Args);
int cmd_socket_show(Context &, Args);
int cmd_instance_add(Context &, Args);
int cmd_instance_del(Context &, Args);
int cmd_instance_show(Context &, Args);
int cmd_instance_set(Context &, Args);
int cmd_key_set(Context &, Args);
int cmd_key_rotate(Context &, Args);
int cmd_key_show(Context &, Args);
int cmd_sa_alloc(Context &, Args);
int cmd_sa_show(Context &, Args);
int cmd_sa_del(Context &, Args);
int cmd_peer_add(Context &, Args);
int cmd_peer_set(Context &, Args);
int cmd_peer_del(Context &, Args);
int cmd_peer_show(Context &, Args);
int cmd_cache_show(Context &, Args);
int cmd_cache_add(Context &, Args);
int cmd_cache_del(Context &, Args);
int cmd_cache_flush(Context &, Args);
int cmd_cache_set_capacity(Context &, Args);
int cmd_cache_set(Context &, Args);
int cmd_pcap_decrypt(Context &, Args);
int cmd_pcap_encrypt(Context &, Args);
int cmd_service_list(Context &, Args);
int cmd_service_load(Context &, Args);
int cmd_service_unload(Context &, Args);
int cmd_service_config(Context &, Args);
int cmd_service_control(Context &, Args);
int cmd_daemon_status(Context &, Args);
int cmd_assoc_show(Context &, Args);
int cmd_assoc_add(Context &, Args);
int cmd_assoc_del(Context &, Args);
int cmd_pipe_show(Context &, Args);
int cmd_edomain_show(Context &, Args);
int cmd_edomain_resolve(Context &, Args);
int cmd_lookup_show(Context &, Args);
int cmd_lookup_statement(Context &, Args);
int cmd_group_show(Context &, Args);
int cmd_group_join(Context &, Args);
int cmd_group_leave(Context &, Args);
int cmd_group_register(Context &, Args);
int cmd_group_unregister(Context &, Args);
int cmd_group_grant(Context &, Args);

} // namespace ilpctl

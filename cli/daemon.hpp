// SPDX-License-Identifier: GPL-2.0-or-later
//
// What the commands that ask ilpd (service, daemon) share: the connection
// to its control socket and reading its replies.  The replies are ilpd's
// JSON (docs/control-socket.md); -j prints them as they came, the text
// output picks members out and shows a missing one as "-", so that an
// older or newer ilpd still gets its state shown.
#pragma once

#include <cerrno>
#include <string>

#include <ilp/daemon_client.hpp>
#include <ilp/error.hpp>

#include "ilpctl.hpp"

namespace ilpctl
{

// Connected to -S's socket, else $ILPD_SOCKET's, else the default.
inline ilp::DaemonClient connect_daemon(const Context &ctx)
{
	return ilp::DaemonClient(ctx.socket.empty() ? ilp::DaemonClient::default_path()
						    : ctx.socket);
}

// Member @key of @obj as text: a string as it is, a number or a boolean
// as JSON writes it, "-" when @obj does not have it.
inline std::string field(const nlohmann::json &obj, const char *key)
{
	if (!obj.is_object())
		return "-";
	auto it = obj.find(key);
	if (it == obj.end() || it->is_null())
		return "-";
	return it->is_string() ? it->get<std::string>() : it->dump();
}

// @j, which @what says ilpd sends as an array (or an object).
inline const nlohmann::json &expect(const nlohmann::json &j, nlohmann::json::value_t type,
				    const std::string &what)
{
	if (j.type() != type)
		throw ilp::Error(EPROTO,
				 "ilpd sent " + what + " that is not a JSON " +
				     (type == nlohmann::json::value_t::array ? "array" : "object"));
	return j;
}

} // namespace ilpctl

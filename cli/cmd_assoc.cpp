// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl assoc and pipe: the associations (a host with its SNs) and pipes
// (between SNs) that ilpd keeps over its control channel, asked of it over
// its control socket (docs/control.md).  Never a key: ilpd sends none.
//
//   peer 10.0.0.2:1000 first-hop up (CN=sn1,O=ilp)
//       control 10.0.0.2:1001 out, edomain a
//       spi in 0x80000002 out 0x00000003, rekeys 2, up 1m2s, last rekey 4s ago
//       channel 1 bytes in 1234 out 2345
//       data rx 10 packets 1200 bytes, tx 12 packets 1500 bytes
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

#include "daemon.hpp"
#include "ilpctl.hpp"

namespace ilpctl
{

namespace
{

std::string hex_spi(const nlohmann::json &v)
{
	if (!v.is_number_unsigned())
		return "-";
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%08x", v.get<std::uint32_t>());
	return buf;
}

std::string ago(const nlohmann::json &v)
{
	if (!v.is_number())
		return "-";
	auto s = static_cast<std::uint64_t>(v.get<double>());
	const std::uint64_t h = s / 3600, m = s / 60 % 60;
	std::string out;
	if (h)
		out += std::to_string(h) + "h";
	if (h || m)
		out += std::to_string(m) + "m";
	return out + std::to_string(s % 60) + "s";
}

void print_links(Context &ctx, const nlohmann::json &list)
{
	for (const auto &a : list) {
		ctx.out << "peer " << field(a, "peer") << ' ' << field(a, "kind") << ' '
			<< field(a, "state");
		if (a.contains("identity") && a["identity"].is_string())
			ctx.out << " (" << a["identity"].get<std::string>() << ')';
		ctx.out << '\n'
			<< "    control " << field(a, "control") << ' ' << field(a, "direction")
			<< ", edomain " << field(a, "edomain") << '\n'
			<< "    spi in " << hex_spi(a.value("spi_in", nlohmann::json())) << " out "
			<< hex_spi(a.value("spi_out", nlohmann::json())) << ", rekeys "
			<< field(a, "rekeys") << ", up " << ago(a.value("age_s", nlohmann::json()))
			<< ", last rekey ";
		auto last = a.value("last_rekey_s", nlohmann::json());
		ctx.out << (last.is_number() ? ago(last) + " ago" : std::string("never")) << '\n'
			<< "    channel " << field(a, "channels") << " bytes in "
			<< field(a, "bytes_in") << " out " << field(a, "bytes_out") << '\n'
			<< "    data rx " << field(a, "rx_packets") << " packets "
			<< field(a, "rx_bytes") << " bytes, tx " << field(a, "tx_packets")
			<< " packets " << field(a, "tx_bytes") << " bytes\n";
		if (a.contains("last_error") && a["last_error"].is_string())
			ctx.out << "    last error: " << a["last_error"].get<std::string>() << '\n';
	}
}

int show(Context &ctx, const char *cmd)
{
	auto list = connect_daemon(ctx).call(cmd);
	expect(list, nlohmann::json::value_t::array, "a list");
	if (ctx.json)
		ctx.emit(list);
	else
		print_links(ctx, list);
	return 0;
}

} // namespace

int cmd_assoc_show(Context &ctx, Args)
{
	return show(ctx, "assoc.show");
}

int cmd_pipe_show(Context &ctx, Args)
{
	return show(ctx, "pipe.show");
}

// assoc add ADDR[:PORT] edomain NAME [pipe]
int cmd_assoc_add(Context &ctx, Args args)
{
	nlohmann::json req{{"remote", args[0]}};
	for (std::size_t i = 1; i < args.size(); i++) {
		if (args[i] == "pipe") {
			req["pipe"] = true;
		} else if (args[i] == "edomain" && i + 1 < args.size()) {
			req["edomain"] = args[++i];
		} else {
			throw ilp::Error(EINVAL, "assoc add: unexpected '" + args[i] +
						     "' (ADDR[:PORT] edomain NAME [pipe])");
		}
	}
	if (!req.contains("edomain"))
		throw ilp::Error(EINVAL, "assoc add: the edomain whose CA signs the SN's "
					 "certificate is required (edomain NAME)");
	auto a = connect_daemon(ctx).call("assoc.add", req);
	if (ctx.json)
		ctx.emit(a);
	return 0;
}

int cmd_assoc_del(Context &ctx, Args args)
{
	connect_daemon(ctx).call("assoc.del", {{"peer", args[0]}});
	return 0;
}

} // namespace ilpctl

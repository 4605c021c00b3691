// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl peer add|set|del|show: the nodes this one sends to, each with the
// transmit SA that node allocated for us ("ilpctl sa alloc" there).  The
// SA's key comes from a file (keyfile), never the command line, and is
// never shown.
#include <cerrno>
#include <iostream>

#include <ilp/error.hpp>

#include "args.hpp"
#include "ilpctl.hpp"
#include "plane.hpp"
#include <ilp/key_files.hpp>

namespace ilpctl
{

namespace
{

ilp::Endpoint parse_peer(std::string_view verb, const std::string &text)
{
	try {
		return ilp::Endpoint::parse(text);
	} catch (const ilp::Error &e) {
		usage_error("peer", verb, e.what());
	}
}

// The peer and, when @args name one, its transmit SA; @required: they must.
struct PeerArgs {
	ilp::Endpoint peer;
	std::optional<ilp::TxSaSpec> tx;
	std::optional<bool> direct;
};

// "set" needs a transmit SA or "direct on|off"; "add" needs neither.
PeerArgs parse_peer_args(std::string_view verb, Args args, bool required)
{
	PeerArgs p{parse_peer(verb, args[0]), std::nullopt, std::nullopt};
	auto kw =
	    keyword_args("peer", verb, args.subspan(1), {"spi", "version", "keyfile", "direct"});
	if (auto it = kw.find("direct"); it != kw.end()) {
		if (it->second != "on" && it->second != "off")
			usage_error("peer", verb,
				    "direct takes on or off, not '" + it->second + "'");
		p.direct = it->second == "on";
		kw.erase(it);
	}
	if (kw.empty() && (!required || p.direct))
		return p;
	if (kw.size() != 3)
		usage_error("peer", verb, "spi, version and keyfile go together");
	ilp::TxSaSpec tx;
	const auto &spi = kw.find("spi")->second;
	auto s = parse_spi(spi);
	if (!s)
		usage_error(
		    "peer", verb,
		    "spi takes a 32-bit SPI whose low 31 bits are not all 0, in hex (0x...) "
		    "or decimal, not '" +
			spi + "'");
	tx.spi = *s;
	const auto &version = kw.find("version")->second;
	auto v = parse_version(version);
	if (!v)
		usage_error("peer", verb,
			    "version takes 0 (AES-GCM-128) or 1 (AES-GCM-256), not '" + version +
				"'");
	tx.version = *v;
	const auto &path = kw.find("keyfile")->second;
	tx.key = ilp::read_sa_key(path);
	if (tx.key.size != ilp::psp::key_size(tx.version))
		throw ilp::Error(EINVAL,
				 path + ": a " + std::to_string(tx.key.size) +
				     "-byte key for PSP version " + version +
				     " (the key is 16 bytes for version 0, 32 for version 1)");
	p.tx = tx;
	return p;
}

int version_number(ilp::psp::Version v)
{
	return static_cast<int>(v);
}

} // namespace

int cmd_peer_add(Context &ctx, Args args)
{
	auto p = parse_peer_args("add", args, false);
	auto ctl = open_plane(ctx);
	ctl->peer_add(p.peer, p.tx);
	if (p.direct)
		ctl->peer_set_direct(p.peer, *p.direct);
	return 0;
}

int cmd_peer_set(Context &ctx, Args args)
{
	auto p = parse_peer_args("set", args, true);
	auto ctl = open_plane(ctx);
	if (p.tx)
		ctl->peer_set(p.peer, *p.tx);
	if (p.direct)
		ctl->peer_set_direct(p.peer, *p.direct);
	return 0;
}

int cmd_peer_del(Context &ctx, Args args)
{
	auto peer = parse_peer("del", args[0]);
	auto ctl = open_plane(ctx);
	ctl->peer_del(peer);
	return 0;
}

int cmd_peer_show(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	auto peers = ctl->peers();
	if (ctx.json) {
		auto arr = nlohmann::json::array();
		for (const auto &p : peers) {
			nlohmann::json tx = nullptr;
			if (p.tx)
				tx = {{"spi", p.tx->spi},
				      {"version", version_number(p.tx->version)}};
			arr.push_back({{"address", p.endpoint.addr_string()},
				       {"port", p.endpoint.port},
				       {"tx", tx},
				       {"direct", p.direct},
				       {"tx_packets", p.tx_packets},
				       {"tx_bytes", p.tx_bytes}});
		}
		ctx.emit(arr);
		return 0;
	}
	for (const auto &p : peers) {
		ctx.out << "peer " << p.endpoint.to_string();
		if (p.tx)
			ctx.out << " tx spi " << spi_string(p.tx->spi) << " version "
				<< version_number(p.tx->version);
		else
			ctx.out << " tx none";
		if (p.direct)
			ctx.out << " direct";
		ctx.out << "\n    tx: " << p.tx_packets << " packets, " << p.tx_bytes << " bytes\n";
	}
	return 0;
}

} // namespace ilpctl

// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl key set|rotate|show: the namespace's two PSP master keys.  Keys
// come from files (key_files.hpp), never the command line, or are made by
// the datapath itself ("generate"), and are never shown: "show" tells
// which slots hold one, which is active, and where each slot's SPIs go on.
#include <cerrno>
#include <cstdio>
#include <iostream>

#include <ilp/error.hpp>
#include <ilp/key_files.hpp>

#include "args.hpp"
#include "daemon.hpp"
#include "ilpctl.hpp"
#include "plane.hpp"

namespace ilpctl
{

namespace
{

// After FILE: "active" and "next-spi N" in any order (@allow_active:
// "key set" takes it, "key rotate" always makes the key active).
struct KeyFlags {
	bool active = false;
	std::uint32_t first_spi = 1;
};

KeyFlags key_flags(std::string_view verb, Args args, bool allow_active)
{
	KeyFlags f;
	bool spi_given = false;
	for (std::size_t i = 0; i < args.size(); i++) {
		if (allow_active && args[i] == "active" && !f.active) {
			f.active = true;
		} else if (args[i] == "next-spi" && !spi_given && i + 1 < args.size()) {
			auto n = parse_uint<std::uint32_t>(args[++i]);
			if (!n || !(*n & 0x7fffffffu))
				usage_error(
				    "key", verb,
				    "next-spi takes an SPI, 1 to 0x7fffffff (the slot bit is "
				    "ignored), not '" +
					args[i] + "'");
			f.first_spi = *n & 0x7fffffffu;
			spi_given = true;
		} else {
			usage_error("key", verb,
				    std::string("expected ") +
					(allow_active ? "'active' or " : "") +
					"'next-spi N' after FILE, not '" + args[i] + "'");
		}
	}
	return f;
}

} // namespace

int cmd_key_set(Context &ctx, Args args)
{
	unsigned slot;
	if (args[0] == "0")
		slot = 0;
	else if (args[0] == "1")
		slot = 1;
	else
		usage_error("key", "set", "SLOT is 0 or 1, not '" + args[0] + "'");
	if (args[1] == "generate") {
		bool active = false;
		if (args.size() > 2) {
			if (args.size() > 3 || args[2] != "active")
				usage_error("key", "set",
					    "expected 'active' after generate, not '" + args[2] +
						"'");
			active = true;
		}
		open_plane(ctx)->key_generate(slot, active);
		return 0;
	}
	auto flags = key_flags("set", args.subspan(2), true);
	const std::string &path = args[1];
	auto file = ilp::read_master_keys(path);
	if (!file.present[slot])
		throw ilp::Error(ENOKEY, path + " sets no key" + std::to_string(slot));
	open_plane(ctx)->key_set(slot, file.keys.key[slot], flags.active, flags.first_spi);
	return 0;
}

namespace
{

// Whether a running ilpd with a control channel took the rotation; false
// when there is no ilpd, or one without associations.
bool rotate_through_daemon(Context &ctx)
{
	std::optional<ilp::DaemonClient> ilpd;
	try {
		ilpd.emplace(connect_daemon(ctx));
	} catch (const ilp::Error &) {
		if (!ctx.socket.empty())
			throw;
		return false;
	}
	try {
		auto r = ilpd->call("assoc.rotate");
		if (ctx.json)
			ctx.emit(r);
		return true;
	} catch (const ilp::Error &e) {
		if (e.code().value() == EOPNOTSUPP)
			return false;
		throw;
	}
}

} // namespace

int cmd_key_rotate(Context &ctx, Args args)
{
	if (args.empty()) {
		// With associations, ilpd rotates: it hands every peer a new
		// SA from the new key at once, before the old key goes.
		if (ctx.netns.empty() && rotate_through_daemon(ctx))
			return 0;
		open_plane(ctx)->key_rotate_generated();
		return 0;
	}
	auto flags = key_flags("rotate", args.subspan(1), false);
	const std::string &path = args[0];
	auto file = ilp::read_master_keys(path);
	// The datapath picks the slot (the inactive one): a file naming both
	// would leave it unclear which key is meant.
	if (file.present[0] && file.present[1])
		throw ilp::Error(EINVAL, path +
					     " sets both key0 and key1; rotation takes a file "
					     "with one key (which slot it names does not matter)");
	open_plane(ctx)->key_rotate(file.keys.key[file.present[0] ? 0 : 1], flags.first_spi);
	return 0;
}

int cmd_key_show(Context &ctx, Args)
{
	auto info = open_plane(ctx)->keys();
	if (ctx.json) {
		auto present = nlohmann::json::array();
		auto generated = nlohmann::json::array();
		for (unsigned s = 0; s < 2; s++) {
			if (info.present[s])
				present.push_back(s);
			if (info.generated[s])
				generated.push_back(s);
		}
		ctx.emit({{"active_slot",
			   info.active_slot ? nlohmann::json(*info.active_slot) : nullptr},
			  {"present_slots", present},
			  {"generated_slots", generated},
			  {"next_spi", {info.next_spi[0], info.next_spi[1]}},
			  {"aead_driver",
			   info.aead_driver ? nlohmann::json(*info.aead_driver) : nullptr}});
		return 0;
	}
	if (!info.present[0] && !info.present[1]) {
		ctx.out << "no master key\n";
		return 0;
	}
	for (unsigned s = 0; s < 2; s++) {
		ctx.out << "key" << s << ' ' << (info.present[s] ? "present" : "absent");
		if (info.active_slot == s)
			ctx.out << " active";
		if (info.generated[s])
			ctx.out << " generated";
		if (info.present[s] && info.next_spi[s])
			ctx.out << " next-spi " << spi_string(info.next_spi[s]);
		ctx.out << '\n';
	}
	if (info.aead_driver)
		ctx.out << "aead " << *info.aead_driver << '\n';
	return 0;
}

} // namespace ilpctl

// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl key set|rotate|show: the namespace's two PSP master keys.  Keys
// come from files (master_keys.hpp), never the command line, and are
// never shown: "show" tells which slots hold one and which is active.
#include <cerrno>
#include <iostream>

#include <ilp/error.hpp>

#include "args.hpp"
#include "ilpctl.hpp"
#include "plane.hpp"
#include <ilp/key_files.hpp>

namespace ilpctl
{

int cmd_key_set(Context &ctx, Args args)
{
	unsigned slot;
	if (args[0] == "0")
		slot = 0;
	else if (args[0] == "1")
		slot = 1;
	else
		usage_error("key", "set", "SLOT is 0 or 1, not '" + args[0] + "'");
	bool active = false;
	if (args.size() > 2) {
		if (args[2] != "active")
			usage_error("key", "set",
				    "expected 'active' after FILE, not '" + args[2] + "'");
		active = true;
	}
	const std::string &path = args[1];
	auto file = ilp::read_master_keys(path);
	if (!file.present[slot])
		throw ilp::Error(ENOKEY, path + " sets no key" + std::to_string(slot));
	auto ctl = open_plane(ctx);
	ctl->key_set(slot, file.keys.key[slot], active);
	return 0;
}

int cmd_key_rotate(Context &ctx, Args args)
{
	const std::string &path = args[0];
	auto file = ilp::read_master_keys(path);
	// The kernel picks the slot (the inactive one): a file naming both
	// would leave it unclear which key is meant.
	if (file.present[0] && file.present[1])
		throw ilp::Error(EINVAL, path +
					     " sets both key0 and key1; rotation takes a file "
					     "with one key (which slot it names does not matter)");
	auto ctl = open_plane(ctx);
	ctl->key_rotate(file.keys.key[file.present[0] ? 0 : 1]);
	return 0;
}

int cmd_key_show(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	auto info = ctl->keys();
	if (ctx.json) {
		auto present = nlohmann::json::array();
		for (unsigned s = 0; s < 2; s++)
			if (info.present[s])
				present.push_back(s);
		ctx.emit({{"active_slot",
			   info.active_slot ? nlohmann::json(*info.active_slot) : nullptr},
			  {"present_slots", present},
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
		ctx.out << '\n';
	}
	if (info.aead_driver)
		ctx.out << "aead " << *info.aead_driver << '\n';
	return 0;
}

} // namespace ilpctl

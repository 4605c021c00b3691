// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Control: the PSP master keys.  Keys go to the kernel and never come
// back; the request buffer that carried one is wiped (nl::Request does).
#include "ilp/control.hpp"

#include <cerrno>
#include <string>
#include <utility>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

namespace ilp
{

static_assert(decltype(std::declval<const psp::MasterKey &>().bytes())::extent ==
	      ILP_MASTER_KEY_LEN);

void Control::key_set(unsigned slot, const psp::MasterKey &key, bool make_active)
{
	if (slot > 1)
		throw Error(EINVAL, "master key slot " + std::to_string(slot) + ": must be 0 or 1");
	auto req = request(ILP_CMD_KEY_SET, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_KEY);
	req.put_u8(ILP_KEY_A_SLOT, static_cast<std::uint8_t>(slot));
	req.put_bytes(ILP_KEY_A_MASTER, key.bytes());
	if (make_active)
		req.put_flag(ILP_KEY_A_ACTIVE);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "installing master key " + std::to_string(slot));
}

void Control::key_rotate(const psp::MasterKey &key)
{
	auto req = request(ILP_CMD_KEY_ROTATE, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_KEY);
	req.put_bytes(ILP_KEY_A_MASTER, key.bytes());
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "rotating the master keys");
}

KeyInfo Control::keys()
{
	auto req = request(ILP_CMD_KEY_GET, NLM_F_ACK);
	KeyInfo info;
	sock_.transact(
	    req,
	    [&](const nlmsghdr *nlh) {
		    auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		    auto a = nl::Attrs::of_nest(top.get(ILP_A_KEY), ILP_KEY_A_MAX);
		    if (auto active = a.u8(ILP_KEY_A_ACTIVE_SLOT))
			    info.active_slot = *active;
		    // One ILP_KEY_A_SLOT_PRESENT per slot holding a key.
		    for (auto slot : a.u8_all(ILP_KEY_A_SLOT_PRESENT))
			    if (slot < 2)
				    info.present[slot] = true;
	    },
	    "reading the master key slots");
	return info;
}

} // namespace ilp

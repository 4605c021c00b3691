// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Control: the namespace's ILP instance.
#include "ilp/control.hpp"

#include <cerrno>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

namespace ilp
{

void Control::instance_add(std::optional<std::uint16_t> port)
{
	auto req = request(ILP_CMD_INSTANCE_NEW, NLM_F_ACK);
	if (port) {
		auto *nest = req.nest_start(ILP_A_INSTANCE);
		req.put_u16(ILP_INSTANCE_A_PORT, *port);
		req.nest_end(nest);
	}
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "creating the ILP instance");
}

void Control::instance_del()
{
	auto req = request(ILP_CMD_INSTANCE_DEL, NLM_F_ACK);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "destroying the ILP instance");
}

std::optional<InstanceInfo> Control::instance()
{
	auto req = request(ILP_CMD_INSTANCE_GET, NLM_F_ACK);
	std::optional<InstanceInfo> info;
	try {
		sock_.transact(
		    req,
		    [&](const nlmsghdr *nlh) {
			    auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
			    auto a =
				nl::Attrs::of_nest(top.get(ILP_A_INSTANCE), ILP_INSTANCE_A_MAX);
			    InstanceInfo i;
			    i.port = a.u16(ILP_INSTANCE_A_PORT).value_or(ILP_UDP_PORT);
			    if (auto sn = a.bytes(ILP_INSTANCE_A_SN_ADDR))
				    i.default_sn = Endpoint::from_bytes(
					*sn, a.u16(ILP_INSTANCE_A_SN_PORT).value_or(ILP_UDP_PORT));
			    info = i;
		    },
		    "reading the ILP instance");
	} catch (const nl::NetlinkError &e) {
		if (e.code().value() == ENOENT)
			return std::nullopt;
		throw;
	}
	return info;
}

void Control::instance_set_sn(const std::optional<Endpoint> &sn)
{
	auto req = request(ILP_CMD_INSTANCE_SET, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_INSTANCE);
	if (sn) {
		req.put_bytes(ILP_INSTANCE_A_SN_ADDR, sn->addr_bytes());
		req.put_u16(ILP_INSTANCE_A_SN_PORT, sn->port);
	} else {
		req.put_bytes(ILP_INSTANCE_A_SN_ADDR, {});
	}
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {},
	    sn ? "making " + sn->to_string() + " the default SN" : "removing the default SN");
}

} // namespace ilp

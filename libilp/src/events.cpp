// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/events.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

#include "control_attrs.hpp"
#include "ilp/control.hpp"

namespace ilp
{

SaEvents::SaEvents()
{
	auto f = sock_.resolve(ILP_GENL_NAME);
	if (!f)
		throw ModuleNotLoaded();
	for (const auto &[name, id] : f->groups)
		if (name == ILP_MCGRP_EVENTS) {
			sock_.join(id);
			return;
		}
	throw nl::NetlinkError(EPROTO, "the ilp family has no \"" ILP_MCGRP_EVENTS "\" group");
}

std::vector<SaExhausting> SaEvents::read()
{
	std::vector<SaExhausting> out;
	auto one = [&](const nlmsghdr *nlh) {
		const auto *g = static_cast<const genlmsghdr *>(mnl_nlmsg_get_payload(nlh));
		if (g->cmd != ILP_CMD_SA_EXHAUSTING)
			return;
		auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		const nlattr *nest = top.get(ILP_A_PEER);
		if (!nest)
			return;
		auto a = nl::Attrs::of_nest(nest, ILP_PEER_A_MAX);
		auto addr = a.bytes(ILP_PEER_A_ADDR);
		auto spi = a.u32(ILP_PEER_A_TX_SPI);
		if (!addr || !spi)
			return;
		SaExhausting e;
		try {
			e.peer = Endpoint::from_bytes(
			    *addr, a.u16(ILP_PEER_A_PORT).value_or(ILP_UDP_PORT));
		} catch (const Error &) {
			return; // not an address: nothing to rekey
		}
		e.spi = *spi;
		e.version = detail::version_attr(a, ILP_PEER_A_TX_VERSION, psp::Version::AesGcm128);
		out.push_back(e);
	};
	while (sock_.receive(one, 0)) {
	}
	return out;
}

} // namespace ilp

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Control: receive SAs.  The kernel allocates the SPI and derives the
// key; the key comes back once, in the reply to the allocation.  Each SA is
// bound to the address of the peer it was allocated for.
#include "ilp/control.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

#include "control_attrs.hpp"

namespace ilp
{

RxSa Control::sa_alloc(psp::Version version, const Endpoint &peer)
{
	auto req = request(ILP_CMD_SA_ALLOC, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_SA);
	req.put_u8(ILP_SA_A_VERSION, detail::version_u8(version));
	req.put_bytes(ILP_SA_A_PEER_ADDR, peer.addr_bytes());
	req.nest_end(nest);
	RxSa sa;
	sa.peer = Endpoint::from_bytes(peer.addr_bytes(), 0);
	bool got = false;
	sock_.transact(
	    req,
	    [&](const nlmsghdr *nlh) {
		    auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		    auto a = nl::Attrs::of_nest(top.get(ILP_A_SA), ILP_SA_A_MAX);
		    auto spi = a.u32(ILP_SA_A_SPI);
		    auto key = a.bytes(ILP_SA_A_KEY);
		    if (!spi || !key)
			    throw nl::NetlinkError(EPROTO, "the kernel allocated an SA without "
							   "sending its SPI and key");
		    sa.spi = *spi;
		    sa.version = detail::version_attr(a, ILP_SA_A_VERSION, version);
		    if (key->size() != psp::key_size(sa.version))
			    throw nl::NetlinkError(
				EPROTO, "the kernel sent an SA key of " +
					    std::to_string(key->size()) +
					    " bytes for PSP version " +
					    std::to_string(detail::version_u8(sa.version)));
		    std::copy(key->begin(), key->end(), sa.key.key.bytes().begin());
		    sa.key.size = key->size();
		    got = true;
	    },
	    "allocating a receive SA");
	if (!got)
		throw nl::NetlinkError(EPROTO, "the kernel allocated an SA without replying");
	return sa;
}

void Control::sa_del(std::uint32_t spi)
{
	auto req = request(ILP_CMD_SA_DEL, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_SA);
	req.put_u32(ILP_SA_A_SPI, spi);
	req.nest_end(nest);
	char spi_hex[11];
	std::snprintf(spi_hex, sizeof(spi_hex), "0x%08x", spi);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, std::string("withdrawing receive SA ") + spi_hex);
}

std::vector<RxSaInfo> Control::sas()
{
	auto req = request(ILP_CMD_SA_GET, NLM_F_DUMP);
	std::vector<RxSaInfo> out;
	sock_.transact(
	    req,
	    [&](const nlmsghdr *nlh) {
		    auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		    auto a = nl::Attrs::of_nest(top.get(ILP_A_SA), ILP_SA_A_MAX);
		    RxSaInfo s;
		    s.spi = a.u32(ILP_SA_A_SPI).value_or(0);
		    s.version = detail::version_attr(a, ILP_SA_A_VERSION, psp::Version::AesGcm128);
		    if (auto peer = a.bytes(ILP_SA_A_PEER_ADDR)) {
			    try {
				    s.peer = Endpoint::from_bytes(*peer, 0);
			    } catch (const Error &e) {
				    throw nl::NetlinkError(EPROTO, std::string("the kernel sent an "
									       "SA's peer as ") +
								       e.what());
			    }
		    }
		    s.packets = a.u64(ILP_SA_A_PACKETS).value_or(0);
		    s.bytes = a.u64(ILP_SA_A_BYTES).value_or(0);
		    out.push_back(s);
	    },
	    "listing the receive SAs");
	return out;
}

} // namespace ilp

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Control: peers and their transmit SAs.  A peer is named by its
// address (4 or 16 bytes, network order) and UDP port (host order).
#include "ilp/control.hpp"

#include <cerrno>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

#include "control_attrs.hpp"

namespace ilp
{

namespace
{

void put_endpoint(nl::Request &req, const Endpoint &peer)
{
	req.put_bytes(ILP_PEER_A_ADDR, peer.addr_bytes());
	req.put_u16(ILP_PEER_A_PORT, peer.port);
}

void put_tx_sa(nl::Request &req, const TxSaSpec &tx)
{
	if (!(tx.spi & 0x7fffffffu))
		throw Error(EINVAL, "SPI " + std::to_string(tx.spi) + " has its low 31 bits zero");
	if (tx.key.size != psp::key_size(tx.version))
		throw Error(EINVAL, "a " + std::to_string(tx.key.size) +
					"-byte key for PSP version " +
					std::to_string(detail::version_u8(tx.version)) +
					" (the key is 16 bytes for version 0, 32 for version 1)");
	req.put_u32(ILP_PEER_A_TX_SPI, tx.spi);
	req.put_u8(ILP_PEER_A_TX_VERSION, detail::version_u8(tx.version));
	req.put_bytes(ILP_PEER_A_TX_KEY, tx.key.bytes());
}

} // namespace

void Control::peer_add(const Endpoint &peer, const std::optional<TxSaSpec> &tx)
{
	auto req = request(ILP_CMD_PEER_NEW, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_PEER);
	put_endpoint(req, peer);
	if (tx)
		put_tx_sa(req, *tx);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "adding peer " + peer.to_string());
}

void Control::peer_set(const Endpoint &peer, const TxSaSpec &tx)
{
	auto req = request(ILP_CMD_PEER_SET, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_PEER);
	put_endpoint(req, peer);
	put_tx_sa(req, tx);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "setting the transmit SA of peer " + peer.to_string());
}

void Control::peer_del(const Endpoint &peer)
{
	auto req = request(ILP_CMD_PEER_DEL, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_PEER);
	put_endpoint(req, peer);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "removing peer " + peer.to_string());
}

void Control::peer_set_direct(const Endpoint &peer, bool direct)
{
	auto req = request(ILP_CMD_PEER_SET, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_PEER);
	put_endpoint(req, peer);
	req.put_u8(ILP_PEER_A_DIRECT, direct ? 1 : 0);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {},
	    std::string(direct ? "allowing" : "disallowing") + " direct sending to peer " +
		peer.to_string());
}

std::vector<PeerInfo> Control::peers()
{
	auto req = request(ILP_CMD_PEER_GET, NLM_F_DUMP);
	std::vector<PeerInfo> out;
	sock_.transact(
	    req,
	    [&](const nlmsghdr *nlh) {
		    auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		    auto a = nl::Attrs::of_nest(top.get(ILP_A_PEER), ILP_PEER_A_MAX);
		    auto addr = a.bytes(ILP_PEER_A_ADDR);
		    if (!addr)
			    throw nl::NetlinkError(EPROTO, "the kernel listed a peer without "
							   "an address");
		    PeerInfo p;
		    try {
			    p.endpoint = Endpoint::from_bytes(
				*addr, a.u16(ILP_PEER_A_PORT).value_or(ILP_UDP_PORT));
		    } catch (const Error &e) {
			    throw nl::NetlinkError(EPROTO, std::string("peer list: ") + e.what());
		    }
		    if (auto spi = a.u32(ILP_PEER_A_TX_SPI)) {
			    PeerInfo::TxSa tx;
			    tx.spi = *spi;
			    tx.version = detail::version_attr(a, ILP_PEER_A_TX_VERSION,
							      psp::Version::AesGcm128);
			    p.tx = tx;
		    }
		    p.direct = a.u8(ILP_PEER_A_DIRECT).value_or(0) != 0;
		    p.tx_packets = a.u64(ILP_PEER_A_TX_PACKETS).value_or(0);
		    p.tx_bytes = a.u64(ILP_PEER_A_TX_BYTES).value_or(0);
		    out.push_back(p);
	    },
	    "listing the peers");
	return out;
}

} // namespace ilp

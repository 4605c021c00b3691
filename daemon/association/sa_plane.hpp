// SPDX-License-Identifier: GPL-2.0-or-later
//
// What association needs of the node's datapath: its master keys, the
// receive SAs it allocates for peers, the transmit SAs peers give it, and
// the host's default SN.  Two implementations, one per datapath: netlink
// into ilp.ko (the same calls as "ilpctl sa alloc", "peer add", ...), or
// the userspace datapath's tables in this process.  Association code
// cannot tell them apart, so a kernel node and a userspace node key each
// other the same way.
//
// Every call is made from the association thread; each implementation is
// also safe beside the control socket's own changes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <ilp/control.hpp>
#include <ilp/endpoint.hpp>
#include <ilp/psp_kdf.hpp>

namespace ilpd
{

class UserDatapath;

// Packets and bytes (ILP header and payload) that a datapath counted.
struct Counted {
	std::uint64_t packets = 0;
	std::uint64_t bytes = 0;
	Counted &operator+=(const Counted &o) noexcept
	{
		packets += o.packets;
		bytes += o.bytes;
		return *this;
	}
};

// The datapath's counts at one moment: what was opened under each
// receive SA, by SPI, and what was sealed for each peer, by its
// endpoint's to_string().
struct TrafficSnapshot {
	std::unordered_map<std::uint32_t, Counted> rx;
	std::unordered_map<std::string, Counted> tx;
};

class SaPlane
{
public:
	virtual ~SaPlane() = default;

	// "kernel" or "user".
	virtual std::string kind() const = 0;

	// Gives the node a master key when it has none (a generated one, as
	// "ilpctl key set 0 generate active" would), so that SAs can be
	// allocated.
	virtual void ensure_master_key() = 0;

	// A new receive SA bound to @peer's address, from the active master
	// key: the SPI and key to send to the peer over the channel.
	virtual ilp::RxSa allocate(ilp::psp::Version version, const ilp::Endpoint &peer) = 0;

	// Installs what @peer gave us as the transmit SA for it, adding the
	// peer when it is not one yet.  Packets in flight use the old SA or
	// the new one, never neither.
	virtual void install_tx(const ilp::Endpoint &peer, const ilp::TxSaSpec &tx) = 0;

	// Removes a receive SA this node gave out; false when it was gone.
	virtual bool retire_rx(std::uint32_t spi) = 0;

	// Removes @peer: its transmit SA and its decision-cache entries; false
	// when it was not a peer.
	virtual bool remove_peer(const ilp::Endpoint &peer) = 0;

	// Whether local sockets may send to @peer, a host, without an SN (a
	// direct pipe).
	virtual void set_direct(const ilp::Endpoint &peer, bool direct) = 0;

	// The host's default SN (nullopt: none).
	virtual void set_sn(const std::optional<ilp::Endpoint> &sn) = 0;
	virtual std::optional<ilp::Endpoint> sn() = 0;

	// Transmit SAs near the end of their IVs, which their peers must
	// replace: a descriptor readable when exhausted() has some, or -1
	// when this datapath does not tell (the userspace one drops a
	// packet with no IV left, counted, and a rekey comes with the next
	// rotation).
	virtual int exhaustion_fd() { return -1; }
	virtual std::vector<ilp::Endpoint> exhausted() { return {}; }

	// A generated master key replaces the inactive slot and becomes the
	// active one: SAs allocated from now on come from it, and those of
	// the key it replaced stop working.
	virtual void rotate_master_key() = 0;

	// Every receive SA's and every peer's counts: one dump of each
	// table, so that a caller reads them once for all its links.
	virtual TrafficSnapshot traffic() = 0;
};

// Over ilp.ko's instance in this network namespace.  Throws
// ilp::ModuleNotLoaded without the module.
std::unique_ptr<SaPlane> make_kernel_sa_plane();

// Over @dp, which must outlive the plane.
std::unique_ptr<SaPlane> make_user_sa_plane(UserDatapath &dp);

} // namespace ilpd

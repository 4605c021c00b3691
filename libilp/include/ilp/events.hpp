// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp/events.hpp - what ilp.ko tells whoever keys its peers, unasked: a
// transmit SA near the end of its IVs (ILP_CMD_SA_EXHAUSTING on the
// family's "events" multicast group).  The keying side gets the peer to
// hand out a new SA before a packet has to be dropped for want of a nonce.
//
//	ilp::SaEvents events;          // CAP_NET_ADMIN
//	poll(events.fd(), POLLIN) ... for (auto &e : events.read()) rekey(e.peer);
#pragma once

#include <cstdint>
#include <vector>

#include <ilp/endpoint.hpp>
#include <ilp/netlink.hpp>
#include <ilp/psp_kdf.hpp>

namespace ilp
{

struct SaExhausting {
	Endpoint peer; // as "peer add" named it, address and port
	std::uint32_t spi = 0;
	psp::Version version = psp::Version::AesGcm128;
};

class SaEvents
{
public:
	// Joins the "events" group of this network namespace's ilp family.
	// Throws ModuleNotLoaded without the module, nl::NetlinkError
	// (EPERM) without CAP_NET_ADMIN.
	SaEvents();

	// Readable when read() has something.
	int fd() const noexcept { return sock_.fd(); }
	// The events that arrived, without waiting.  Those the socket lost
	// (its buffer full) are counted in overruns(): the SAs they named
	// are still near their end, and the kernel tells once per SA.
	std::vector<SaExhausting> read();
	std::uint64_t overruns() const noexcept { return sock_.overruns(); }

private:
	nl::GenlSocket sock_;
};

} // namespace ilp

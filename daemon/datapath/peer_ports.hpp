// SPDX-License-Identifier: GPL-2.0-or-later
//
// Which UDP port a previous hop listens on.
//
// A sender's kernel datapath picks each packet's UDP source port from a
// hash of its flow (as VXLAN and Geneve do, so that the network spreads
// flows over paths and queues), so the source port of a miss is not the
// port its sender receives on.  A service that answers the previous hop
// ("return to sender", a relay's way back) needs the latter: the port of
// the configured peer at that address.  This table maps an address to the
// port of its peer, so that the datapath can hand services a previous hop
// they can send to.  Addresses with no peer, or with peers on several
// ports (two instances behind one address), keep their source port.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include <ilp/endpoint.hpp>

namespace ilpd
{

class PeerPorts
{
public:
	// Replaces the table with the peers at @peers.
	void assign(std::span<const ilp::Endpoint> peers);

	// The port of the one peer at @addr's address, if there is one.
	std::optional<std::uint16_t> port_of(const ilp::Endpoint &addr) const;

	// Whether @addr's address is in the table at all (as one peer or
	// several): an address that is not may be a peer added since.
	bool knows(const ilp::Endpoint &addr) const;

	// Sets @prev's port to its peer's, when the table has exactly one;
	// returns whether it did (@prev is then that known peer).
	bool resolve(ilp::Endpoint &prev) const;

private:
	using Key = std::array<std::uint8_t, 17>; // family, then the address
	static Key key_of(const ilp::Endpoint &ep) noexcept;
	struct KeyHash {
		std::size_t operator()(const Key &k) const noexcept;
	};
	// nullopt: several peers share the address.
	std::unordered_map<Key, std::optional<std::uint16_t>, KeyHash> ports_;
};

} // namespace ilpd

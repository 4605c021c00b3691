// SPDX-License-Identifier: GPL-2.0-or-later
#include "datapath/peer_ports.hpp"

#include <cstring>
#include <string_view>

namespace ilpd
{

PeerPorts::Key PeerPorts::key_of(const ilp::Endpoint &ep) noexcept
{
	Key k{};
	k[0] = ep.family == AF_INET6 ? 6 : 4;
	std::memcpy(k.data() + 1, &ep.addr, sizeof(ep.addr));
	return k;
}

std::size_t PeerPorts::KeyHash::operator()(const Key &k) const noexcept
{
	return std::hash<std::string_view>{}(
	    std::string_view(reinterpret_cast<const char *>(k.data()), k.size()));
}

void PeerPorts::assign(std::span<const ilp::Endpoint> peers)
{
	ports_.clear();
	for (const auto &p : peers) {
		auto [it, fresh] = ports_.try_emplace(key_of(p), p.port);
		if (!fresh && it->second != p.port)
			it->second.reset();
	}
}

std::optional<std::uint16_t> PeerPorts::port_of(const ilp::Endpoint &addr) const
{
	auto it = ports_.find(key_of(addr));
	return it == ports_.end() ? std::nullopt : it->second;
}

bool PeerPorts::knows(const ilp::Endpoint &addr) const
{
	return ports_.contains(key_of(addr));
}

bool PeerPorts::resolve(ilp::Endpoint &prev) const
{
	auto port = port_of(prev);
	if (port)
		prev.port = *port;
	return port.has_value();
}

} // namespace ilpd

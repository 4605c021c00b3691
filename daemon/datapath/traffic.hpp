// SPDX-License-Identifier: GPL-2.0-or-later
//
// Traffic through one SA or peer of the userspace datapath: what
// ilp.ko's ILP_SA_A_PACKETS and ILP_PEER_A_TX_PACKETS count.  Shared by
// every snapshot of the SA or peer (the tables are copied on change), so
// that the counts live as long as the SA or peer does.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ilpd
{

struct Traffic {
	std::atomic<std::uint64_t> packets{0};
	std::atomic<std::uint64_t> bytes{0};
	void add(std::size_t len) noexcept
	{
		packets.fetch_add(1, std::memory_order_relaxed);
		bytes.fetch_add(len, std::memory_order_relaxed);
	}
};

} // namespace ilpd

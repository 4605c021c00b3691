// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ilp/control.hpp"

#include <cerrno>
#include <iterator>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

#include <ilp_wire.h>

namespace ilp
{

namespace
{

// The wire checks count under the names the wire code gives them: the
// two enums list them in the same order, ilpw_err from 1.
constexpr unsigned wire_err(ilp_drop_reason r)
{
	return static_cast<unsigned>(r) + 1;
}
static_assert(wire_err(ILP_DROP_PSP_TRUNC) == ILPW_E_PSP_TRUNC);
static_assert(wire_err(ILP_DROP_PSP_VERSION) == ILPW_E_PSP_VERSION);
static_assert(wire_err(ILP_DROP_PSP_HDRLEN) == ILPW_E_PSP_HDRLEN);
static_assert(wire_err(ILP_DROP_PSP_ALWAYS1) == ILPW_E_PSP_ALWAYS1);
static_assert(wire_err(ILP_DROP_PSP_NEXTHDR) == ILPW_E_PSP_NEXTHDR);
static_assert(wire_err(ILP_DROP_PSP_SPI) == ILPW_E_PSP_SPI);
static_assert(wire_err(ILP_DROP_PSP_CRYPT_OFF) == ILPW_E_PSP_CRYPT_OFF);
static_assert(wire_err(ILP_DROP_PSP_NO_KEY) == ILPW_E_PSP_NO_KEY);
static_assert(wire_err(ILP_DROP_PSP_UNKNOWN_SPI) == ILPW_E_PSP_UNKNOWN_SPI);
static_assert(wire_err(ILP_DROP_PSP_AUTH) == ILPW_E_PSP_AUTH);
static_assert(wire_err(ILP_DROP_ILP_TRUNC) == ILPW_E_ILP_TRUNC);
static_assert(wire_err(ILP_DROP_ILP_VERSION) == ILPW_E_ILP_VERSION);
static_assert(wire_err(ILP_DROP_ILP_HDRLEN) == ILPW_E_ILP_HDRLEN);
static_assert(wire_err(ILP_DROP_ILP_PAST_END) == ILPW_E_ILP_PAST_END);
static_assert(wire_err(ILP_DROP_TLV_TRUNC) == ILPW_E_TLV_TRUNC);
static_assert(wire_err(ILP_DROP_TLV_CRITICAL) == ILPW_E_TLV_CRITICAL);
static_assert(ILP_DROP_NOMEM == ILP_DROP_TLV_CRITICAL + 1, "a wire check without a name here");

// The reasons after the wire checks, from ILP_DROP_NOMEM on, in order.
struct ReasonName {
	ilp_drop_reason reason;
	const char *name;
};
constexpr ReasonName other_reasons[] = {
    {ILP_DROP_NOMEM, "nomem"},
    {ILP_DROP_NO_LISTENER, "no_listener"},
    {ILP_DROP_DECIDED, "decided"},
    {ILP_DROP_NO_PEER, "no_peer"},
    {ILP_DROP_NO_TX_SA, "no_tx_sa"},
    {ILP_DROP_NO_ROUTE, "no_route"},
    {ILP_DROP_TOO_BIG, "too_big"},
    {ILP_DROP_NO_SOCKET, "no_socket"},
    {ILP_DROP_RCVBUF, "rcvbuf"},
    {ILP_DROP_MTU, "mtu"},
    {ILP_DROP_SA_PEER, "sa_peer_mismatch"},
    {ILP_DROP_PSP_AUTH_LIMITED, "psp_auth_limited"},
    {ILP_DROP_TX_IV_SPENT, "tx_iv_spent"},
};
static_assert(std::size(other_reasons) == __ILP_DROP_MAX - ILP_DROP_NOMEM,
	      "a drop reason without a name here");

constexpr bool other_reasons_in_order()
{
	for (std::size_t i = 0; i < std::size(other_reasons); i++)
		if (other_reasons[i].reason != ILP_DROP_NOMEM + i)
			return false;
	return true;
}
static_assert(other_reasons_in_order(), "other_reasons[] out of enum ilp_drop_reason's order");

} // namespace

const char *drop_reason_name(unsigned reason) noexcept
{
	if (reason <= ILP_DROP_TLV_CRITICAL)
		return ilpw_strerror(static_cast<ilpw_err>(reason + 1));
	if (reason < __ILP_DROP_MAX)
		return other_reasons[reason - ILP_DROP_NOMEM].name;
	return "unknown";
}

ModuleNotLoaded::ModuleNotLoaded()
    : Error(ENOENT, "the kernel has no '" ILP_GENL_NAME
		    "' netlink family: is ilp.ko loaded? (modprobe ilp)")
{
}

Control::Control()
{
	auto f = sock_.resolve(ILP_GENL_NAME);
	if (!f)
		throw ModuleNotLoaded();
	family_ = *f;
}

nl::Request Control::request(std::uint8_t cmd, std::uint16_t flags, std::size_t capacity)
{
	return nl::Request(family_.id, flags, cmd, ILP_GENL_VERSION, capacity);
}

ModuleInfo Control::version()
{
	auto req = request(ILP_CMD_VERSION_GET, NLM_F_ACK);
	ModuleInfo info{};
	info.genl_version = family_.version;
	sock_.transact(req, [&](const nlmsghdr *nlh) {
		auto a = nl::Attrs::of_message(nlh, ILP_A_MAX);
		info.version = a.str(ILP_A_VERSION).value_or("unknown");
		info.family = a.u32(ILP_A_FAMILY).value_or(0);
		info.wire_version = a.u8(ILP_A_WIRE_VERSION).value_or(0);
	});
	return info;
}

Stats Control::stats()
{
	auto req = request(ILP_CMD_STATS_GET, NLM_F_ACK);
	Stats st;
	sock_.transact(req, [&](const nlmsghdr *nlh) {
		auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		auto a = nl::Attrs::of_nest(top.get(ILP_A_STATS), ILP_STATS_A_MAX);
		st.sockets_open = a.u32(ILP_STATS_A_SOCKETS_OPEN).value_or(0);
		st.sockets_created = a.u64(ILP_STATS_A_SOCKETS_CREATED).value_or(0);
		st.sockets_refused = a.u64(ILP_STATS_A_SOCKETS_REFUSED).value_or(0);
		st.rx_packets = a.u64(ILP_STATS_A_RX_PACKETS).value_or(0);
		st.rx_bytes = a.u64(ILP_STATS_A_RX_BYTES).value_or(0);
		st.tx_packets = a.u64(ILP_STATS_A_TX_PACKETS).value_or(0);
		st.cache_hit = a.u64(ILP_STATS_A_CACHE_HIT).value_or(0);
		st.cache_missed = a.u64(ILP_STATS_A_CACHE_MISSED).value_or(0);
		st.cache_lost = a.u64(ILP_STATS_A_CACHE_LOST).value_or(0);
		st.cache_evicted = a.u64(ILP_STATS_A_CACHE_EVICTED).value_or(0);
		st.cache_entries = a.u32(ILP_STATS_A_CACHE_ENTRIES).value_or(0);
		st.cache_capacity = a.u32(ILP_STATS_A_CACHE_CAPACITY).value_or(0);
		st.cache_throttled = a.u64(ILP_STATS_A_CACHE_THROTTLED).value_or(0);
		st.upcall_rate = a.u32(ILP_STATS_A_UPCALL_RATE).value_or(0);
		st.upcall_burst = a.u32(ILP_STATS_A_UPCALL_BURST).value_or(0);
		st.delivered = a.u64(ILP_STATS_A_DELIVERED).value_or(0);
		st.sent = a.u64(ILP_STATS_A_SENT).value_or(0);
		// Attribute type reason + 1: type 0 stays free (padding).
		auto drops = nl::Attrs::of_nest(a.get(ILP_STATS_A_DROPS), __ILP_DROP_MAX);
		for (unsigned r = 0; r < __ILP_DROP_MAX; r++)
			st.drops[r] = drops.u64(static_cast<std::uint16_t>(r + 1)).value_or(0);
	});
	return st;
}

void Control::reset_stats()
{
	auto req = request(ILP_CMD_STATS_RESET, NLM_F_ACK);
	sock_.transact(req, [](const nlmsghdr *) {});
}

std::vector<SocketInfo> Control::sockets()
{
	auto req = request(ILP_CMD_SOCK_GET, NLM_F_DUMP);
	std::vector<SocketInfo> out;
	sock_.transact(req, [&](const nlmsghdr *nlh) {
		auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
		auto a = nl::Attrs::of_nest(top.get(ILP_A_SOCK), ILP_SOCK_A_MAX);
		SocketInfo s;
		s.inode = a.u64(ILP_SOCK_A_INODE).value_or(0);
		s.uid = a.u32(ILP_SOCK_A_UID).value_or(0);
		s.type = a.u16(ILP_SOCK_A_TYPE).value_or(0);
		s.rmem = a.u32(ILP_SOCK_A_RMEM).value_or(0);
		s.wmem = a.u32(ILP_SOCK_A_WMEM).value_or(0);
		out.push_back(s);
	});
	return out;
}

} // namespace ilp

// SPDX-License-Identifier: LGPL-2.1-or-later
//
// ilp::Control: the decision cache, and executing the decisions on the
// packets the listener got (ilp/listener.hpp).  A flow is named by the
// previous hop's address (4 or 16 bytes, network order) and UDP port (host
// order), the service ID and the connection ID; next hops as peers are.
#include <cerrno>
#include <string>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ilp.h>

#include "control_attrs.hpp"
#include "ilp/control.hpp"

namespace ilp
{

namespace detail
{

namespace
{

// Everything of a request but a packet's data and its next hops.
constexpr std::size_t request_overhead = 512;
// An ILP_ACT_A_FORWARD nest: header, IPv6 address, port.
constexpr std::size_t forward_size = 4 + 20 + 8;

std::string flow_string(const Flow &f)
{
	return f.prev.to_string() + " service " + std::to_string(f.service) + " conn " +
	       std::to_string(f.conn);
}

Endpoint endpoint_attr(const nl::Attrs &a, std::uint16_t addr_type, std::uint16_t port_type,
		       const char *what)
{
	auto addr = a.bytes(addr_type);
	if (!addr)
		throw nl::NetlinkError(EPROTO, std::string("the kernel sent ") + what +
						   " without its address");
	// A flow's previous hop is an address only: no port means 0.
	auto port = a.u16(port_type).value_or(0);
	try {
		return Endpoint::from_bytes(*addr, port);
	} catch (const Error &e) {
		throw nl::NetlinkError(EPROTO, std::string(what) + ": " + e.what());
	}
}

} // namespace

void put_actions(nl::Request &req, const Actions &actions)
{
	if (actions.drop && (!actions.forward.empty() || actions.deliver))
		throw Error(EINVAL, "a decision either forwards and delivers or drops, not both");
	if (actions.forward.size() > ILP_MAX_FORWARD)
		throw Error(EINVAL, std::to_string(actions.forward.size()) +
					" next hops (at most " + std::to_string(ILP_MAX_FORWARD) +
					")");
	auto *nest = req.nest_start(ILP_A_ACTIONS);
	for (const auto &hop : actions.forward) {
		auto *fwd = req.nest_start(ILP_ACT_A_FORWARD);
		req.put_bytes(ILP_PEER_A_ADDR, hop.addr_bytes());
		req.put_u16(ILP_PEER_A_PORT, hop.port);
		req.nest_end(fwd);
	}
	if (actions.drop)
		req.put_flag(ILP_ACT_A_DROP);
	if (actions.deliver)
		req.put_flag(ILP_ACT_A_DELIVER);
	req.nest_end(nest);
}

Actions parse_actions(const nlattr *nest)
{
	Actions out;
	auto a = nl::Attrs::of_nest(nest, ILP_ACT_A_MAX);
	for (const nlattr *fwd : a.all(ILP_ACT_A_FORWARD)) {
		auto hop = nl::Attrs::of_nest(fwd, ILP_PEER_A_MAX);
		auto addr = hop.bytes(ILP_PEER_A_ADDR);
		if (!addr)
			throw nl::NetlinkError(EPROTO,
					       "the kernel sent a next hop without an address");
		try {
			out.forward.push_back(Endpoint::from_bytes(
			    *addr, hop.u16(ILP_PEER_A_PORT).value_or(ILP_UDP_PORT)));
		} catch (const Error &e) {
			throw nl::NetlinkError(EPROTO, std::string("next hop: ") + e.what());
		}
	}
	out.drop = a.flag(ILP_ACT_A_DROP);
	out.deliver = a.flag(ILP_ACT_A_DELIVER);
	return out;
}

void put_flow(nl::Request &req, const Flow &flow)
{
	// The kernel keys flows by the previous hop's address alone and
	// refuses a port (ILP_CACHE_A_PREV_PORT), which would mean nothing.
	req.put_bytes(ILP_CACHE_A_PREV_ADDR, flow.prev.addr_bytes());
	req.put_u32(ILP_CACHE_A_SERVICE, flow.service);
	req.put_u64(ILP_CACHE_A_CONN, flow.conn);
}

Flow parse_flow(const nl::Attrs &cache)
{
	Flow f;
	f.prev =
	    endpoint_attr(cache, ILP_CACHE_A_PREV_ADDR, ILP_CACHE_A_PREV_PORT, "a cache entry");
	auto service = cache.u32(ILP_CACHE_A_SERVICE);
	auto conn = cache.u64(ILP_CACHE_A_CONN);
	if (!service || !conn)
		throw nl::NetlinkError(EPROTO, "the kernel sent a cache entry without its "
					       "service and connection");
	f.service = *service;
	f.conn = *conn;
	return f;
}

CacheEntry parse_cache_entry(const nlmsghdr *nlh)
{
	auto top = nl::Attrs::of_message(nlh, ILP_A_MAX);
	if (!top.has(ILP_A_CACHE))
		throw nl::NetlinkError(EPROTO, "the kernel sent a cache entry without "
					       "ILP_A_CACHE");
	auto a = nl::Attrs::of_nest(top.get(ILP_A_CACHE), ILP_CACHE_A_MAX);
	CacheEntry e;
	e.flow = parse_flow(a);
	e.packets = a.u64(ILP_CACHE_A_PACKETS).value_or(0);
	e.bytes = a.u64(ILP_CACHE_A_BYTES).value_or(0);
	e.used_ms = a.u64(ILP_CACHE_A_USED_MS);
	e.actions = parse_actions(top.get(ILP_A_ACTIONS));
	return e;
}

} // namespace detail

void Control::execute(const Upcall &upcall, const Actions &actions, bool install)
{
	auto req = request(ILP_CMD_EXECUTE, NLM_F_ACK,
			   upcall.data.size() + detail::request_overhead +
			       actions.forward.size() * detail::forward_size);
	auto *pkt = req.nest_start(ILP_A_PACKET);
	req.put_bytes(ILP_PKT_A_PREV_ADDR, upcall.prev.addr_bytes());
	req.put_u16(ILP_PKT_A_PREV_PORT, upcall.prev.port);
	req.put_u32(ILP_PKT_A_SERVICE, upcall.service);
	req.put_u64(ILP_PKT_A_CONN, upcall.conn);
	req.put_bytes(ILP_PKT_A_DATA, upcall.data);
	req.nest_end(pkt);
	detail::put_actions(req, actions);
	if (install) {
		// Empty: the flow is the packet's.
		auto *cache = req.nest_start(ILP_A_CACHE);
		req.nest_end(cache);
	}
	sock_.transact(
	    req, [](const nlmsghdr *) {},
	    "executing the decision for " + detail::flow_string(upcall.flow()));
}

void Control::cache_add(const Flow &flow, const Actions &actions)
{
	auto req =
	    request(ILP_CMD_CACHE_ADD, NLM_F_ACK,
		    detail::request_overhead + actions.forward.size() * detail::forward_size);
	auto *nest = req.nest_start(ILP_A_CACHE);
	detail::put_flow(req, flow);
	req.nest_end(nest);
	detail::put_actions(req, actions);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "adding the cache entry of " + detail::flow_string(flow));
}

void Control::cache_del(const Flow &flow)
{
	auto req = request(ILP_CMD_CACHE_DEL, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_CACHE);
	detail::put_flow(req, flow);
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {},
	    "removing the cache entry of " + detail::flow_string(flow));
}

std::optional<CacheEntry> Control::cache_get(const Flow &flow)
{
	auto req = request(ILP_CMD_CACHE_GET, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_CACHE);
	detail::put_flow(req, flow);
	req.nest_end(nest);
	std::optional<CacheEntry> entry;
	try {
		sock_.transact(
		    req, [&](const nlmsghdr *nlh) { entry = detail::parse_cache_entry(nlh); },
		    "reading the cache entry of " + detail::flow_string(flow));
	} catch (const nl::NetlinkError &e) {
		if (e.code().value() == ENOENT)
			return std::nullopt;
		throw;
	}
	return entry;
}

std::vector<CacheEntry> Control::cache()
{
	auto req = request(ILP_CMD_CACHE_GET, NLM_F_DUMP);
	std::vector<CacheEntry> out;
	sock_.transact(
	    req, [&](const nlmsghdr *nlh) { out.push_back(detail::parse_cache_entry(nlh)); },
	    "listing the decision cache");
	return out;
}

void Control::cache_flush()
{
	auto req = request(ILP_CMD_CACHE_FLUSH, NLM_F_ACK);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "flushing the decision cache");
}

void Control::cache_set_capacity(std::uint32_t capacity)
{
	CacheSettings s;
	s.capacity = capacity;
	cache_set(s);
}

void Control::cache_set(const CacheSettings &s)
{
	auto req = request(ILP_CMD_CACHE_SET, NLM_F_ACK);
	auto *nest = req.nest_start(ILP_A_CACHE);
	std::string what;
	auto put = [&](std::uint16_t type, std::optional<std::uint32_t> v, const char *name) {
		if (!v)
			return;
		req.put_u32(type, *v);
		what += (what.empty() ? "" : ", ") + std::string(name) + " " + std::to_string(*v);
	};
	put(ILP_CACHE_A_CAPACITY, s.capacity, "capacity");
	put(ILP_CACHE_A_UPCALL_RATE, s.upcall_rate, "upcall rate");
	put(ILP_CACHE_A_UPCALL_BURST, s.upcall_burst, "upcall burst");
	req.nest_end(nest);
	sock_.transact(
	    req, [](const nlmsghdr *) {}, "setting the decision cache's " + what);
}

} // namespace ilp

// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpctl cache show|add|del|flush|set-capacity: the decision cache of an
// SN, which says what to do with the packets of a flow (previous hop,
// service, connection) without asking the listener.  "show" lists the
// entries in the manner of ovs-dpctl dump-flows:
//
//   prev(192.0.2.1),service(7),conn(4660), packets:3, bytes:300, used:0.120s,
//   actions:forward(198.51.100.2:1000)
//
// (one line per entry).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <tuple>

#include <linux/ilp.h>

#include <ilp/error.hpp>

#include "args.hpp"
#include "ilpctl.hpp"
#include "plane.hpp"

namespace ilpctl
{

namespace
{

ilp::Endpoint parse_endpoint(std::string_view verb, const std::string &text)
{
	try {
		return ilp::Endpoint::parse(text);
	} catch (const ilp::Error &e) {
		usage_error("cache", verb, e.what());
	}
}

struct CacheArgs {
	ilp::Flow flow;
	ilp::Actions actions;
};

// PREV[:PORT] service S conn C, then with @with_actions one or more
// "forward ADDR[:PORT]" and "deliver", or "drop".
CacheArgs parse_cache_args(std::string_view verb, Args args, bool with_actions)
{
	CacheArgs c;
	c.flow.prev = parse_endpoint(verb, args[0]);
	std::optional<std::uint32_t> service;
	std::optional<std::uint64_t> conn;
	bool drop = false;
	for (std::size_t i = 1; i < args.size();) {
		const std::string &name = args[i];
		if (with_actions && name == "deliver") {
			if (c.actions.deliver)
				usage_error("cache", verb, "'deliver' given twice");
			c.actions.deliver = true;
			i++;
			continue;
		}
		if (with_actions && name == "drop") {
			if (drop)
				usage_error("cache", verb, "'drop' given twice");
			drop = true;
			i++;
			continue;
		}
		if (name != "service" && name != "conn" && !(with_actions && name == "forward"))
			usage_error("cache", verb, "unknown argument '" + name + "'");
		if (i + 1 == args.size())
			usage_error("cache", verb, "'" + name + "' needs a value");
		const std::string &value = args[i + 1];
		i += 2;
		if (name == "service") {
			if (service)
				usage_error("cache", verb, "'service' given twice");
			service = parse_uint<std::uint32_t>(value);
			if (!service)
				usage_error("cache", verb,
					    "service takes a 32-bit service ID, not '" + value +
						"'");
		} else if (name == "conn") {
			if (conn)
				usage_error("cache", verb, "'conn' given twice");
			conn = parse_uint<std::uint64_t>(value);
			if (!conn)
				usage_error("cache", verb,
					    "conn takes a 64-bit connection ID, not '" + value +
						"'");
		} else {
			c.actions.forward.push_back(parse_endpoint(verb, value));
		}
	}
	if (!service || !conn)
		usage_error("cache", verb, "service and conn are required");
	c.flow.service = *service;
	c.flow.conn = *conn;
	if (!with_actions)
		return c;
	if (drop && (!c.actions.forward.empty() || c.actions.deliver))
		usage_error("cache", verb, "forward or deliver and drop do not go together");
	if (!drop && c.actions.forward.empty() && !c.actions.deliver)
		usage_error("cache", verb,
			    "give forward ADDR[:PORT] (one or more), deliver, or drop");
	if (c.actions.forward.size() > ILP_MAX_FORWARD)
		usage_error("cache", verb,
			    "at most " + std::to_string(ILP_MAX_FORWARD) + " forward next hops");
	c.actions.drop = drop;
	return c;
}

nlohmann::json endpoint_json(const ilp::Endpoint &ep)
{
	return {{"address", ep.addr_string()}, {"port", ep.port}};
}

// "forward(A),forward(B),deliver" or "drop" (no action at all drops too).
std::string actions_string(const ilp::Actions &a)
{
	if (a.forward.empty() && !a.deliver)
		return "drop";
	std::string s = a.deliver ? "deliver" : "";
	for (const auto &hop : a.forward) {
		if (!s.empty())
			s += ',';
		s += "forward(" + hop.to_string() + ")";
	}
	return s;
}

// "never" or seconds, as ovs-dpctl prints them: "0.120s".
std::string used_string(const std::optional<std::uint64_t> &ms)
{
	if (!ms)
		return "never";
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%" PRIu64 ".%03us", *ms / 1000,
		      static_cast<unsigned>(*ms % 1000));
	return buf;
}

// In a stable order: by previous hop, then service and connection.
bool flow_less(const ilp::Flow &a, const ilp::Flow &b)
{
	auto key = [](const ilp::Flow &f) {
		auto bytes = f.prev.addr_bytes();
		return std::make_tuple(f.prev.family,
				       std::vector<std::uint8_t>(bytes.begin(), bytes.end()),
				       f.prev.port, f.service, f.conn);
	};
	return key(a) < key(b);
}

} // namespace

int cmd_cache_show(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	auto entries = ctl->cache();
	std::sort(entries.begin(), entries.end(),
		  [](const auto &a, const auto &b) { return flow_less(a.flow, b.flow); });
	if (ctx.json) {
		auto arr = nlohmann::json::array();
		for (const auto &e : entries) {
			auto forward = nlohmann::json::array();
			for (const auto &hop : e.actions.forward)
				forward.push_back(endpoint_json(hop));
			arr.push_back(
			    {{"prev", e.flow.prev.addr_string()},
			     {"service", e.flow.service},
			     {"conn", e.flow.conn},
			     {"packets", e.packets},
			     {"bytes", e.bytes},
			     {"used_ms", e.used_ms ? nlohmann::json(*e.used_ms) : nullptr},
			     {"actions",
			      {{"forward", forward},
			       {"deliver", e.actions.deliver},
			       {"drop", e.actions.drop ||
					    (e.actions.forward.empty() && !e.actions.deliver)}}}});
		}
		ctx.emit(arr);
		return 0;
	}
	for (const auto &e : entries)
		ctx.out << "prev(" << e.flow.prev.addr_string() << "),service(" << e.flow.service
			<< "),conn(" << e.flow.conn << "), packets:" << e.packets
			<< ", bytes:" << e.bytes << ", used:" << used_string(e.used_ms)
			<< ", actions:" << actions_string(e.actions) << '\n';
	return 0;
}

int cmd_cache_add(Context &ctx, Args args)
{
	auto c = parse_cache_args("add", args, true);
	auto ctl = open_plane(ctx);
	ctl->cache_add(c.flow, c.actions);
	return 0;
}

int cmd_cache_del(Context &ctx, Args args)
{
	auto c = parse_cache_args("del", args, false);
	auto ctl = open_plane(ctx);
	ctl->cache_del(c.flow);
	return 0;
}

int cmd_cache_flush(Context &ctx, Args)
{
	auto ctl = open_plane(ctx);
	ctl->cache_flush();
	return 0;
}

int cmd_cache_set_capacity(Context &ctx, Args args)
{
	auto n = parse_uint<std::uint32_t>(args[0]);
	if (!n || !*n)
		usage_error("cache", "set-capacity",
			    "N takes a number of entries, 1 to 4294967295, not '" + args[0] + "'");
	auto ctl = open_plane(ctx);
	model::CacheSettings s;
	s.capacity = *n;
	ctl->cache_set(s);
	return 0;
}

int cmd_cache_set(Context &ctx, Args args)
{
	model::CacheSettings s;
	if (args.size() % 2)
		usage_error("cache", "set", "'" + args.back() + "' needs a value");
	for (std::size_t i = 0; i < args.size(); i += 2) {
		const auto &key = args[i];
		auto v = parse_uint<std::uint32_t>(args[i + 1]);
		if (!v)
			usage_error("cache", "set",
				    key + " takes a number, not '" + args[i + 1] + "'");
		if (key == "capacity" && *v)
			s.capacity = *v;
		else if (key == "capacity")
			usage_error("cache", "set", "capacity takes 1 to 4294967295 entries");
		else if (key == "upcall-rate")
			s.upcall_rate = *v;
		else if (key == "upcall-burst" && *v)
			s.upcall_burst = *v;
		else if (key == "upcall-burst")
			usage_error("cache", "set", "upcall-burst takes 1 or more");
		else
			usage_error("cache", "set", "unknown keyword '" + key + "'");
	}
	auto ctl = open_plane(ctx);
	ctl->cache_set(s);
	return 0;
}

} // namespace ilpctl

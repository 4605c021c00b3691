// SPDX-License-Identifier: GPL-2.0-or-later
//
// relay - service 8: a two-way relay through one next hop
//
// A packet from anyone but the next hop goes to the next hop, and the relay
// learns which previous hop the connection came from; a packet from the
// next hop goes back to the previous hop learned for its connection (and
// is dropped when there is none).  Both decisions are installed in the
// decision cache, so only a connection's first packet each way reaches the
// relay.  Hops are told apart by address: the cache ignores the previous
// hop's port, and so does the relay.
//
// A connection's origin is fixed by its first packet: the authenticated
// previous hop it came from (ilpd hands the relay the peer the packet's
// SA is bound to).  A packet of a known connection from a third peer is
// dropped and counted (takeovers, logged), and never re-points the
// connection's way back: a peer that learned a connection ID cannot
// divert its replies.  The origin is forgotten only when the table drops
// the connection (the least recently used of max_learned).
//
// Configuration:
//	next-hop = ADDR[:PORT]		where packets go; without it, every
//					packet is dropped
//	idle-timeout-ms = MS		of the installed entries (30000)
//
// The learned table is the relay's state: without it, replies of the
// connections it relays would be dropped after a restart of ilpd.  It is
// checkpointed at most once a second (a timer, so that the packet path
// never writes a file), at fini() too, and restored by init().
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <list>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <ilp/endpoint.hpp>
#include <ilp/error.hpp>
#include <ilp/service.h>

namespace
{

constexpr std::uint32_t relay_id = 8;
constexpr std::uint32_t default_idle_timeout_ms = 30000;
constexpr std::uint32_t checkpoint_every_ms = 1000;
// Connections remembered; the least recently learned or used goes first.
// Bounded, since anyone who can reach the relay can make it learn.
constexpr std::size_t max_learned = 65536;

// The checkpoint: magic, count, then per connection its ID and its
// origin's family, port and address; little-endian.
constexpr char magic[8] = {'I', 'L', 'P', 'R', 'L', 'Y', '0', '1'};
constexpr std::size_t entry_len = 8 + 2 + 2 + 16;

struct Learned {
	std::uint64_t conn;
	ilp_node origin;
};

struct Relay {
	const ilp_env_ops *ops;
	ilp_env *env;
	std::optional<ilp_node> next_hop;
	std::uint32_t idle_timeout_ms = default_idle_timeout_ms;
	std::list<Learned> lru; // oldest first
	std::unordered_map<std::uint64_t, std::list<Learned>::iterator> by_conn;
	bool dirty = false;          // learned since the last checkpoint
	std::int64_t timer = 0;      // the pending checkpoint's, 0: none
	std::uint64_t takeovers = 0; // packets of a connection from another origin, dropped
};

std::optional<ilp_node> parse_next_hop(const char *text)
{
	try {
		ilp::Endpoint ep = ilp::Endpoint::parse(text);
		ilp_node n{};
		n.family = ep.family;
		n.port = ep.port;
		auto b = ep.addr_bytes();
		std::memcpy(n.addr, b.data(), b.size());
		return n;
	} catch (const ilp::Error &) {
		return std::nullopt;
	}
}

std::optional<std::uint32_t> parse_timeout(const char *text)
{
	std::string_view s(text);
	std::uint32_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || v == 0)
		return std::nullopt;
	return v;
}

// The same node, for the cache: family and address, not the port.
bool same_node(const ilp_node &a, const ilp_node &b)
{
	std::size_t len = a.family == AF_INET ? 4 : 16;
	return a.family == b.family && std::memcmp(a.addr, b.addr, len) == 0;
}

bool same_endpoint(const ilp_node &a, const ilp_node &b)
{
	return same_node(a, b) && a.port == b.port;
}

void put_le(std::vector<std::uint8_t> &out, std::uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_le(const std::uint8_t *p, int bytes)
{
	std::uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
	return v;
}

std::vector<std::uint8_t> serialize(const Relay &r)
{
	std::vector<std::uint8_t> out(magic, magic + sizeof(magic));
	out.reserve(sizeof(magic) + 4 + r.lru.size() * entry_len);
	put_le(out, r.lru.size(), 4);
	for (const auto &l : r.lru) {
		put_le(out, l.conn, 8);
		put_le(out, l.origin.family, 2);
		put_le(out, l.origin.port, 2);
		out.insert(out.end(), l.origin.addr, l.origin.addr + 16);
	}
	return out;
}

// Learns @conn's origin, or finds it learned: false when @conn came from
// another origin (by address), which stays.
bool remember(Relay &r, std::uint64_t conn, const ilp_node &origin)
{
	auto it = r.by_conn.find(conn);
	if (it != r.by_conn.end()) {
		if (!same_node(it->second->origin, origin))
			return false;
		r.lru.splice(r.lru.end(), r.lru, it->second); // most recent now
		if (same_endpoint(it->second->origin, origin))
			return true; // nothing new to save
		// The origin's port (the peer's, as configured) changed.
		it->second->origin = origin;
	} else {
		r.lru.push_back({conn, origin});
		r.by_conn[conn] = std::prev(r.lru.end());
		if (r.lru.size() > max_learned) {
			r.by_conn.erase(r.lru.front().conn);
			r.lru.pop_front();
		}
	}
	r.dirty = true;
	return true;
}

// False (the table left as it was) for anything but a whole checkpoint.
bool restore(Relay &r, const std::uint8_t *p, std::size_t len)
{
	if (len < sizeof(magic) + 4 || std::memcmp(p, magic, sizeof(magic)) != 0)
		return false;
	std::uint64_t n = get_le(p + sizeof(magic), 4);
	p += sizeof(magic) + 4;
	len -= sizeof(magic) + 4;
	if (len != n * entry_len)
		return false;
	for (std::uint64_t i = 0; i < n; i++, p += entry_len) {
		ilp_node origin{};
		origin.family = static_cast<std::uint16_t>(get_le(p + 8, 2));
		origin.port = static_cast<std::uint16_t>(get_le(p + 10, 2));
		std::memcpy(origin.addr, p + 12, 16);
		if (origin.family != AF_INET && origin.family != AF_INET6)
			return false;
		if (!remember(r, get_le(p, 8), origin))
			return false; // a connection twice: not a checkpoint of ours
	}
	r.dirty = false;
	return true;
}

void save(Relay &r)
{
	auto data = serialize(r);
	int rc = r.ops->checkpoint(r.env, data.data(), data.size());
	if (rc == 0)
		r.dirty = false;
	else
		r.ops->log(r.env, ILP_LOG_WARN, "checkpoint of %zu connections failed: %s",
			   r.lru.size(), std::strerror(-rc));
}

void checkpoint_timer(void *state, std::uint64_t)
{
	auto &r = *static_cast<Relay *>(state);
	r.timer = 0;
	if (r.dirty)
		save(r);
}

// Saves the table within a second, once however many connections come.
void schedule_checkpoint(Relay &r)
{
	if (!r.dirty || r.timer)
		return;
	std::int64_t id = r.ops->timer_add(r.env, checkpoint_every_ms, checkpoint_timer, 0);
	if (id > 0)
		r.timer = id;
}

void forward(ilp_decision *out, const ilp_node &to, std::uint32_t idle_timeout_ms)
{
	out->actions = ILP_ACTION_FORWARD;
	out->n_hops = 1;
	out->hops[0] = to;
	out->install = 1;
	out->idle_timeout_ms = idle_timeout_ms;
}

int relay_init(const ilp_env_ops *ops, ilp_env *env, const void *saved, std::size_t saved_len,
	       void **state)
{
	try {
		auto r = std::make_unique<Relay>();
		r->ops = ops;
		r->env = env;
		if (const char *v = ops->config_get(env, "next-hop")) {
			r->next_hop = parse_next_hop(v);
			if (!r->next_hop) {
				ops->log(env, ILP_LOG_ERROR, "next-hop %s: not ADDR[:PORT]", v);
				return -EINVAL;
			}
		} else {
			ops->log(env, ILP_LOG_WARN, "no next-hop configured: dropping packets");
		}
		if (const char *v = ops->config_get(env, "idle-timeout-ms")) {
			auto t = parse_timeout(v);
			if (!t) {
				ops->log(env, ILP_LOG_ERROR, "idle-timeout-ms %s: not 1 to %u", v,
					 UINT32_MAX);
				return -EINVAL;
			}
			r->idle_timeout_ms = *t;
		}
		if (saved) {
			if (restore(*r, static_cast<const std::uint8_t *>(saved), saved_len))
				ops->log(env, ILP_LOG_INFO, "%zu connections restored",
					 r->lru.size());
			else
				// Losing the table loses replies, not more:
				// no reason to refuse the load.
				ops->log(env, ILP_LOG_WARN,
					 "checkpoint unreadable (%zu bytes): ignored", saved_len);
		}
		*state = r.release(); // fini() deletes it
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
}

void relay_fini(void *state)
{
	std::unique_ptr<Relay> r(static_cast<Relay *>(state));
	// The env is valid until fini() returns: the last second's learning
	// is not lost on a clean stop.
	if (r->dirty)
		save(*r);
}

int relay_handle(void *state, const ilp_packet *pkt, ilp_decision *out)
{
	auto &r = *static_cast<Relay *>(state);
	if (!r.next_hop)
		return 0; // a drop, not installed: next-hop may come
	// The authenticated previous hop, as configured when it is a peer.
	const ilp_node &prev = pkt->peer.node;
	const std::uint64_t conn = pkt->flow.conn;
	try {
		if (same_node(prev, *r.next_hop)) {
			auto it = r.by_conn.find(conn);
			if (it == r.by_conn.end())
				return 0; // a reply on a connection never relayed
			r.lru.splice(r.lru.end(), r.lru, it->second);
			forward(out, it->second->origin, r.idle_timeout_ms);
			return 0;
		}
		if (!remember(r, conn, prev)) {
			// Not installed: each attempt is seen and counted.
			auto n = ++r.takeovers;
			if (n == 1 || n % 1000 == 0)
				r.ops->log(r.env, ILP_LOG_WARN,
					   "dropped a packet of connection %llu from another "
					   "peer than its origin (%llu takeover attempts so far)",
					   static_cast<unsigned long long>(conn),
					   static_cast<unsigned long long>(n));
			return 0;
		}
		schedule_checkpoint(r);
		forward(out, *r.next_hop, r.idle_timeout_ms);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
}

int relay_config_changed(void *state, const char *key, const char *value)
{
	auto &r = *static_cast<Relay *>(state);
	std::string_view k(key);
	if (k == "next-hop") {
		if (!value) {
			r.next_hop.reset();
			return 0;
		}
		auto n = parse_next_hop(value);
		if (!n)
			return -EINVAL;
		r.next_hop = n;
		return 0;
	}
	if (k == "idle-timeout-ms") {
		if (!value) {
			r.idle_timeout_ms = default_idle_timeout_ms;
			return 0;
		}
		auto t = parse_timeout(value);
		if (!t)
			return -EINVAL;
		r.idle_timeout_ms = *t;
		return 0;
	}
	return -EINVAL; // no other key: a typo should not pass silently
}

// Out-of-band control (docs/control.md, "Service control"): "status"
// answers what the relay knows, as text, to a host asking its SN.
int relay_on_control(void *state, std::uint32_t, const ilp_node *, const std::uint8_t *request,
		     std::size_t request_len, std::uint8_t *reply, std::size_t *reply_len)
{
	auto &r = *static_cast<Relay *>(state);
	std::string_view req(reinterpret_cast<const char *>(request), request_len);
	if (req != "status")
		return -EINVAL;
	char text[160];
	int n = std::snprintf(text, sizeof(text), "connections %zu takeovers %llu next-hop %s",
			      r.lru.size(), static_cast<unsigned long long>(r.takeovers),
			      r.next_hop ? "set" : "unset");
	if (n < 0 || static_cast<std::size_t>(n) > *reply_len)
		return -ENOSPC;
	std::memcpy(reply, text, static_cast<std::size_t>(n));
	*reply_len = static_cast<std::size_t>(n);
	return 0;
}

const ilp_service relay_service = {
    ILP_SERVICE_INIT,
    .service_id = relay_id,
    .service_count = 1,
    .name = "relay",
    .description = "two-way relay of connections through a next hop",
    .init = relay_init,
    .fini = relay_fini,
    .handle = relay_handle,
    .config_changed = relay_config_changed,
    .on_control = relay_on_control,
};

} // namespace

ILP_SERVICE_EXPORT(relay_service);

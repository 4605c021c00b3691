// SPDX-License-Identifier: GPL-2.0-or-later
//
// The ilpd plane: ilpd's userspace datapath through its control socket
// (libilp's ilp::DaemonClient; the commands in docs/control-socket.md).
// ilpd's results have the shape "ilpctl -j" prints; they are read into
// the model here and printed by the same formatter as the kernel's, so a
// member missing or of another type is an error (EPROTO) rather than
// something printed differently.
#include <cerrno>
#include <string>

#include <openssl/crypto.h>

#include <ilp/daemon_client.hpp>
#include <ilp/error.hpp>
#include <ilp/key_files.hpp>
#include <ilp/version.hpp>

#include "plane.hpp"

namespace ilpctl
{

namespace
{

using nlohmann::json;

[[noreturn]] void bad_reply(const std::string &cmd, const std::string &why)
{
	throw ilp::Error(EPROTO, "ilpd's reply to '" + cmd + "' " + why +
				     ": are ilpd and ilpctl from the same release?");
}

// A reader of one reply, naming the command in its errors.
struct Reader {
	std::string cmd;

	const json &member(const json &obj, const char *key) const
	{
		if (!obj.is_object() || !obj.contains(key))
			bad_reply(cmd, std::string("has no '") + key + "'");
		return obj.at(key);
	}
	template <typename T>
	T num(const json &obj, const char *key) const
	{
		const json &v = member(obj, key);
		if (!v.is_number_unsigned())
			bad_reply(cmd, std::string("has a '") + key + "' that is not a number");
		return v.get<T>();
	}
	bool flag(const json &obj, const char *key) const
	{
		const json &v = member(obj, key);
		if (!v.is_boolean())
			bad_reply(cmd, std::string("has a '") + key + "' that is not a boolean");
		return v.get<bool>();
	}
	std::string str(const json &obj, const char *key) const
	{
		const json &v = member(obj, key);
		if (!v.is_string())
			bad_reply(cmd, std::string("has a '") + key + "' that is not a string");
		return v.get<std::string>();
	}
	ilp::Endpoint address(const std::string &text) const
	{
		try {
			return ilp::Endpoint::parse(text.find(':') != text.npos ? "[" + text + "]"
										: text);
		} catch (const ilp::Error &) {
			bad_reply(cmd, "has '" + text + "' for an address");
		}
	}
	// {"address": A, "port": P}
	ilp::Endpoint endpoint(const json &obj) const
	{
		auto ep = address(str(obj, "address"));
		ep.port = num<std::uint16_t>(obj, "port");
		return ep;
	}
	ilp::psp::Version version(const json &obj) const
	{
		auto v = num<unsigned>(obj, "version");
		if (v > 1)
			bad_reply(cmd, "has PSP version " + std::to_string(v));
		return v ? ilp::psp::Version::AesGcm256 : ilp::psp::Version::AesGcm128;
	}
	const json &array(const json &j) const
	{
		if (!j.is_array())
			bad_reply(cmd, "is not an array");
		return j;
	}
};

json endpoint_json(const ilp::Endpoint &ep)
{
	return {{"address", ep.addr_string()}, {"port", ep.port}};
}

std::string hex_of(std::span<const std::uint8_t> bytes)
{
	static const char digits[] = "0123456789abcdef";
	std::string s;
	for (auto b : bytes) {
		s += digits[b >> 4];
		s += digits[b & 0xf];
	}
	return s;
}

json tx_json(const model::TxSaSpec &tx)
{
	return {{"spi", tx.spi},
		{"version", static_cast<int>(tx.version)},
		{"key", hex_of(tx.key.bytes())}};
}

class DaemonPlane : public Plane
{
public:
	explicit DaemonPlane(ilp::DaemonClient client) : ilpd_(std::move(client)) {}

	model::Plane describe() override
	{
		auto v = call("version");
		Reader r{"version"};
		model::Plane p;
		p.name = "ilpd";
		p.where = "socket " + ilpd_.path();
		p.ilpd_version = r.str(v, "ilpd");
		p.datapath = r.str(v, "datapath");
		return p;
	}

	model::Stats stats() override
	{
		auto j = call("stats.show");
		Reader r{"stats.show"};
		model::Stats st;
		const auto &s = r.member(j, "sockets");
		st.sockets_open = r.num<std::uint32_t>(s, "open");
		st.sockets_created = r.num<std::uint64_t>(s, "created");
		st.sockets_refused = r.num<std::uint64_t>(s, "refused");
		st.delivered = r.num<std::uint64_t>(s, "delivered");
		st.sent = r.num<std::uint64_t>(s, "sent");
		st.rx_packets = r.num<std::uint64_t>(r.member(j, "rx"), "packets");
		st.rx_bytes = r.num<std::uint64_t>(r.member(j, "rx"), "bytes");
		st.tx_packets = r.num<std::uint64_t>(r.member(j, "tx"), "packets");
		const auto &c = r.member(j, "cache");
		st.cache_hit = r.num<std::uint64_t>(c, "hit");
		st.cache_missed = r.num<std::uint64_t>(c, "missed");
		st.cache_lost = r.num<std::uint64_t>(c, "lost");
		st.cache_evicted = r.num<std::uint64_t>(c, "evicted");
		st.cache_entries = r.num<std::uint32_t>(c, "entries");
		st.cache_capacity = r.num<std::uint32_t>(c, "capacity");
		st.cache_throttled = r.num<std::uint64_t>(c, "throttled");
		st.upcall_rate = r.num<std::uint32_t>(c, "upcall_rate");
		st.upcall_burst = r.num<std::uint32_t>(c, "upcall_burst");
		// By name: a reason this ilpctl does not know is left out, one
		// ilpd does not count stays 0.
		const auto &drops = r.member(j, "drops");
		for (unsigned i = 0; i < st.drops.size(); i++)
			if (drops.contains(ilp::drop_reason_name(i)))
				st.drops[i] = r.num<std::uint64_t>(drops, ilp::drop_reason_name(i));
		return st;
	}
	void reset_stats() override { call("stats.reset"); }

	void instance_add(std::optional<std::uint16_t> port) override
	{
		json args = json::object();
		if (port)
			args["port"] = *port;
		call("instance.add", args);
	}
	void instance_del() override { call("instance.del"); }
	std::optional<model::Instance> instance() override
	{
		auto j = call("instance.show");
		if (j.is_null())
			return std::nullopt;
		Reader r{"instance.show"};
		model::Instance inst;
		inst.port = r.num<std::uint16_t>(j, "port");
		if (const auto &sn = r.member(j, "sn"); !sn.is_null())
			inst.default_sn = r.endpoint(sn);
		return inst;
	}
	void instance_set_sn(const std::optional<ilp::Endpoint> &sn) override
	{
		call("instance.set", {{"sn", sn ? endpoint_json(*sn) : json(nullptr)}});
	}

	void key_set(unsigned slot, const ilp::psp::MasterKey &key, bool make_active,
		     std::uint32_t first_spi) override
	{
		call("key.set", {{"slot", slot},
				 {"key", hex_of(key.bytes())},
				 {"active", make_active},
				 {"first_spi", first_spi}});
	}
	void key_rotate(const ilp::psp::MasterKey &key, std::uint32_t first_spi) override
	{
		call("key.rotate", {{"key", hex_of(key.bytes())}, {"first_spi", first_spi}});
	}
	void key_generate(unsigned slot, bool make_active) override
	{
		call("key.set", {{"slot", slot}, {"generate", true}, {"active", make_active}});
	}
	void key_rotate_generated() override { call("key.rotate", {{"generate", true}}); }
	model::Keys keys() override
	{
		auto j = call("key.show");
		Reader r{"key.show"};
		model::Keys k;
		if (const auto &a = r.member(j, "active_slot"); !a.is_null())
			k.active_slot = r.num<unsigned>(j, "active_slot");
		for (const auto &s : r.array(r.member(j, "present_slots"))) {
			if (!s.is_number_unsigned() || s.get<unsigned>() > 1)
				bad_reply("key.show", "names a slot that is not 0 or 1");
			k.present[s.get<unsigned>()] = true;
		}
		if (const auto &d = r.member(j, "aead_driver"); !d.is_null())
			k.aead_driver = r.str(j, "aead_driver");
		const auto &next = r.array(r.member(j, "next_spi"));
		if (next.size() != 2)
			bad_reply("key.show", "has a next_spi that is not one per slot");
		for (unsigned s = 0; s < 2; s++) {
			if (!next[s].is_number_unsigned())
				bad_reply("key.show", "has a next_spi that is not a number");
			k.next_spi[s] = next[s].get<std::uint32_t>();
		}
		for (const auto &s : r.array(r.member(j, "generated_slots"))) {
			if (!s.is_number_unsigned() || s.get<unsigned>() > 1)
				bad_reply("key.show", "names a slot that is not 0 or 1");
			k.generated[s.get<unsigned>()] = true;
		}
		return k;
	}

	model::NewSa sa_alloc(ilp::psp::Version version,
			      const std::optional<ilp::Endpoint> &peer) override
	{
		if (!peer)
			throw ilp::Error(EINVAL, "ilpd binds every SA to the peer it is for: give "
						 "peer ADDR");
		auto j = call("sa.alloc", {{"psp_version", static_cast<int>(version)},
					   {"peer", peer->addr_string()}});
		Reader r{"sa.alloc"};
		model::NewSa sa;
		sa.spi = r.num<std::uint32_t>(j, "spi");
		sa.version = r.version(j);
		sa.peer = r.address(r.str(j, "peer"));
		std::string hex = r.str(j, "key");
		try {
			sa.key = ilp::parse_sa_key(hex, "ilpd's reply");
		} catch (const ilp::Error &) {
			OPENSSL_cleanse(hex.data(), hex.size());
			OPENSSL_cleanse(j["key"].get_ref<std::string &>().data(), hex.size());
			bad_reply("sa.alloc", "has a key that is not one");
		}
		OPENSSL_cleanse(hex.data(), hex.size());
		auto &k = j["key"].get_ref<std::string &>();
		OPENSSL_cleanse(k.data(), k.size());
		return sa;
	}
	std::vector<model::Sa> sas() override
	{
		auto j = call("sa.show");
		Reader r{"sa.show"};
		std::vector<model::Sa> out;
		for (const auto &s : r.array(j)) {
			const auto &p = r.member(s, "peer");
			out.push_back({r.num<std::uint32_t>(s, "spi"), r.version(s),
				       p.is_null() ? std::nullopt
						   : std::optional(r.address(r.str(s, "peer"))),
				       r.num<std::uint64_t>(s, "packets"),
				       r.num<std::uint64_t>(s, "bytes")});
		}
		return out;
	}

	void sa_del(std::uint32_t spi) override { call("sa.del", {{"spi", spi}}); }

	void peer_add(const ilp::Endpoint &peer, const std::optional<model::TxSaSpec> &tx) override
	{
		json args = endpoint_json(peer);
		args["tx"] = tx ? tx_json(*tx) : json(nullptr);
		call("peer.add", std::move(args));
	}
	void peer_set(const ilp::Endpoint &peer, const model::TxSaSpec &tx) override
	{
		json args = endpoint_json(peer);
		args["tx"] = tx_json(tx);
		call("peer.set", std::move(args));
	}
	void peer_set_direct(const ilp::Endpoint &peer, bool direct) override
	{
		json args = endpoint_json(peer);
		args["direct"] = direct;
		call("peer.set", std::move(args));
	}
	void peer_del(const ilp::Endpoint &peer) override { call("peer.del", endpoint_json(peer)); }
	std::vector<model::Peer> peers() override
	{
		auto j = call("peer.show");
		Reader r{"peer.show"};
		std::vector<model::Peer> out;
		for (const auto &p : r.array(j)) {
			model::Peer m;
			m.endpoint = r.endpoint(p);
			if (const auto &tx = r.member(p, "tx"); !tx.is_null())
				m.tx = model::Peer::TxSa{r.num<std::uint32_t>(tx, "spi"),
							 r.version(tx)};
			m.direct = r.flag(p, "direct");
			m.tx_packets = r.num<std::uint64_t>(p, "tx_packets");
			m.tx_bytes = r.num<std::uint64_t>(p, "tx_bytes");
			out.push_back(m);
		}
		return out;
	}

	std::vector<model::CacheEntry> cache() override
	{
		auto j = call("cache.show");
		Reader r{"cache.show"};
		std::vector<model::CacheEntry> out;
		for (const auto &e : r.array(j)) {
			model::CacheEntry m;
			m.flow.prev = r.address(r.str(e, "prev"));
			m.flow.service = r.num<std::uint32_t>(e, "service");
			m.flow.conn = r.num<std::uint64_t>(e, "conn");
			m.packets = r.num<std::uint64_t>(e, "packets");
			m.bytes = r.num<std::uint64_t>(e, "bytes");
			if (!r.member(e, "used_ms").is_null())
				m.used_ms = r.num<std::uint64_t>(e, "used_ms");
			const auto &a = r.member(e, "actions");
			for (const auto &hop : r.array(r.member(a, "forward")))
				m.actions.forward.push_back(r.endpoint(hop));
			m.actions.deliver = r.flag(a, "deliver");
			m.actions.drop = r.flag(a, "drop");
			out.push_back(m);
		}
		return out;
	}
	void cache_add(const model::Flow &flow, const model::Actions &actions) override
	{
		json forward = json::array();
		for (const auto &hop : actions.forward)
			forward.push_back(endpoint_json(hop));
		json args = flow_json(flow);
		args["actions"] = {
		    {"forward", forward}, {"deliver", actions.deliver}, {"drop", actions.drop}};
		call("cache.add", std::move(args));
	}
	void cache_del(const model::Flow &flow) override { call("cache.del", flow_json(flow)); }
	void cache_flush() override { call("cache.flush"); }
	void cache_set(const model::CacheSettings &s) override
	{
		json args = json::object();
		if (s.capacity)
			args["capacity"] = *s.capacity;
		if (s.upcall_rate)
			args["upcall_rate"] = *s.upcall_rate;
		if (s.upcall_burst)
			args["upcall_burst"] = *s.upcall_burst;
		call("cache.set", std::move(args));
	}

private:
	static json flow_json(const model::Flow &f)
	{
		return {{"prev", endpoint_json(f.prev)}, {"service", f.service}, {"conn", f.conn}};
	}
	json call(const std::string &cmd, json args = {})
	{
		return ilpd_.call(cmd, std::move(args));
	}

	ilp::DaemonClient ilpd_;
};

} // namespace

std::unique_ptr<Plane> daemon_plane(const std::string &socket)
{
	return std::make_unique<DaemonPlane>(ilp::DaemonClient(socket));
}

std::unique_ptr<Plane> open_plane(const Context &ctx)
{
	if (!ctx.socket.empty())
		return daemon_plane(ctx.socket);
	if (!ctx.netns.empty())
		return netlink_plane();
	try {
		return netlink_plane();
	} catch (const ilp::ModuleNotLoaded &module) {
		auto path = ilp::DaemonClient::default_path();
		try {
			return daemon_plane(path);
		} catch (const ilp::Error &e) {
			int err = e.code().value();
			if (err != ENOENT && err != ECONNREFUSED)
				throw;
			throw ilp::Error(ENOENT, std::string(module.what()) +
						     "; nor does ilpd answer: is ilpd running? "
						     "(socket " +
						     path + ")");
		}
	}
}

} // namespace ilpctl

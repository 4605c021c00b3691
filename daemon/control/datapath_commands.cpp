// SPDX-License-Identifier: GPL-2.0-or-later
#include "control/datapath_commands.hpp"

#include <cerrno>
#include <string>

#include <linux/ilp.h>
#include <openssl/crypto.h>

#include <ilp/control.hpp>
#include <ilp/key_files.hpp>
#include <ilp/version.hpp>

#include "datapath/user_datapath.hpp"

namespace ilpd
{

namespace
{

using nlohmann::json;

// A member of @args, of @type, that must be there.
const json &need(const json &args, const char *key, json::value_t type, const char *what)
{
	auto it = args.find(key);
	if (it == args.end() || it->type() != type) {
		// Numbers: any unsigned JSON number will do.
		if (it != args.end() && type == json::value_t::number_unsigned &&
		    it->is_number_unsigned())
			return *it;
		throw ControlError(std::string("'") + key + "' missing or not " + what);
	}
	return *it;
}

std::uint64_t need_uint(const json &args, const char *key, std::uint64_t max)
{
	auto v = need(args, key, json::value_t::number_unsigned, "a number").get<std::uint64_t>();
	if (v > max)
		throw ControlError(std::string("'") + key + "' is over " + std::to_string(max));
	return v;
}

// {"address": "10.0.1.2", "port": 1000}; port 1000 when left out.
ilp::Endpoint endpoint_of(const json &j, const char *what)
{
	if (!j.is_object())
		throw ControlError(std::string(what) + " is not an object");
	auto addr = need(j, "address", json::value_t::string, "a string").get<std::string>();
	ilp::Endpoint ep;
	try {
		ep = ilp::Endpoint::parse(addr.find(':') != addr.npos ? "[" + addr + "]" : addr);
	} catch (const ilp::Error &e) {
		throw ControlError(std::string(what) + ": " + e.what());
	}
	if (j.contains("port")) {
		auto port = need_uint(j, "port", 65535);
		if (!port)
			throw ControlError(std::string(what) + ": port 0");
		ep.port = static_cast<std::uint16_t>(port);
	}
	return ep;
}

json endpoint_json(const ilp::Endpoint &ep)
{
	return {{"address", ep.addr_string()}, {"port", ep.port}};
}

// @key: "version" in nested objects; at the top of a request "version" is
// the protocol's, so sa.alloc names it "psp_version".
ilp::psp::Version version_of(const json &args, const char *key = "version")
{
	auto v = args.contains(key) ? need_uint(args, key, 1) : 0;
	return v ? ilp::psp::Version::AesGcm256 : ilp::psp::Version::AesGcm128;
}

int version_number(ilp::psp::Version v)
{
	return static_cast<int>(v);
}

// A master key, as 64 hex digits in @args["key"].
ilp::psp::MasterKey master_key_of(const json &args)
{
	std::string text =
	    "key0 = " + need(args, "key", json::value_t::string, "a string").get<std::string>();
	ilp::MasterKeyFile f;
	try {
		f = ilp::parse_master_keys(text, "the request's key");
	} catch (const ilp::Error &e) {
		OPENSSL_cleanse(text.data(), text.size());
		throw ControlError(e.what());
	}
	OPENSSL_cleanse(text.data(), text.size());
	return f.keys.key[0];
}

// The transmit SA of a peer request: {"spi", "version", "key"}.
UserDatapath::TxSaSpec tx_of(const json &j)
{
	if (!j.is_object())
		throw ControlError("'tx' is not an object");
	UserDatapath::TxSaSpec tx;
	tx.spi = static_cast<std::uint32_t>(need_uint(j, "spi", 0xffffffffu));
	if (!(tx.spi & 0x7fffffffu))
		throw ControlError("spi takes a 32-bit SPI whose low 31 bits are not all 0");
	tx.version = version_of(j);
	std::string hex = need(j, "key", json::value_t::string, "a string").get<std::string>();
	try {
		tx.key = ilp::parse_sa_key(hex, "the request's key");
	} catch (const ilp::Error &e) {
		OPENSSL_cleanse(hex.data(), hex.size());
		throw ControlError(e.what());
	}
	OPENSSL_cleanse(hex.data(), hex.size());
	if (tx.key.size != ilp::psp::key_size(tx.version))
		throw ControlError("a " + std::to_string(tx.key.size) +
				   "-byte key for PSP version " +
				   std::to_string(version_number(tx.version)) +
				   " (the key is 16 bytes for version 0, 32 for version 1)");
	return tx;
}

Flow flow_of(const json &args)
{
	Flow f;
	f.prev = endpoint_of(need(args, "prev", json::value_t::object, "an object"), "prev");
	f.service = static_cast<std::uint32_t>(need_uint(args, "service", 0xffffffffu));
	f.conn =
	    need(args, "conn", json::value_t::number_unsigned, "a number").get<std::uint64_t>();
	return f;
}

Actions actions_of(const json &j)
{
	if (!j.is_object())
		throw ControlError("'actions' is not an object");
	Actions a;
	if (auto fw = j.find("forward"); fw != j.end()) {
		if (!fw->is_array())
			throw ControlError("'forward' is not an array");
		if (fw->size() > ILP_MAX_FORWARD)
			throw ControlError("at most " + std::to_string(ILP_MAX_FORWARD) +
					   " forward next hops");
		for (const auto &hop : *fw)
			a.forward.push_back(endpoint_of(hop, "a forward next hop"));
	}
	a.deliver = j.value("deliver", false);
	a.drop = j.value("drop", false);
	if (a.drop && (a.deliver || !a.forward.empty()))
		throw ControlError("forward or deliver and drop do not go together");
	return a;
}

json cache_entry_json(const CacheEntry &e)
{
	json forward = json::array();
	for (const auto &hop : e.actions.forward)
		forward.push_back(endpoint_json(hop));
	return {{"prev", e.flow.prev.addr_string()},
		{"service", e.flow.service},
		{"conn", e.flow.conn},
		{"packets", e.packets},
		{"bytes", e.bytes},
		{"used_ms", e.used_ms ? json(*e.used_ms) : json(nullptr)},
		{"actions",
		 {{"forward", forward},
		  {"deliver", e.actions.deliver},
		  {"drop", e.actions.drop || (e.actions.forward.empty() && !e.actions.deliver)}}}};
}

json stats_json(const ilp::Stats &st)
{
	json drops = json::object();
	for (unsigned r = 0; r < st.drops.size(); r++)
		drops[ilp::drop_reason_name(r)] = st.drops[r];
	return {{"sockets",
		 {{"open", st.sockets_open},
		  {"created", st.sockets_created},
		  {"refused", st.sockets_refused},
		  {"delivered", st.delivered},
		  {"sent", st.sent}}},
		{"rx", {{"packets", st.rx_packets}, {"bytes", st.rx_bytes}}},
		{"tx", {{"packets", st.tx_packets}}},
		{"cache",
		 {{"hit", st.cache_hit},
		  {"missed", st.cache_missed},
		  {"lost", st.cache_lost},
		  {"evicted", st.cache_evicted},
		  {"entries", st.cache_entries},
		  {"capacity", st.cache_capacity},
		  {"throttled", st.cache_throttled},
		  {"upcall_rate", st.upcall_rate},
		  {"upcall_burst", st.upcall_burst}}},
		{"drops", drops}};
}

const char *const datapath_commands[] = {
    "instance.add", "instance.del", "instance.show", "instance.set", "key.set",   "key.rotate",
    "key.show",     "sa.alloc",     "sa.show",       "sa.del",       "peer.add",  "peer.set",
    "peer.del",     "peer.show",    "cache.show",    "cache.add",    "cache.del", "cache.flush",
    "cache.set",    "stats.show",   "stats.reset",
};

} // namespace

void add_datapath_commands(ControlHandlers &h, UserDatapath &dp, SocketCounter sockets)
{
	UserDatapath *d = &dp;
	h["version"] = [](const json &) {
		return json{{"ilpd", ilp::version}, {"datapath", "user"}};
	};
	// The instance is ilpd's own, there while it runs.
	h["instance.add"] = [d](const json &) -> json {
		throw ControlError("an instance exists: ilpd's userspace datapath, on port " +
				       std::to_string(d->port()),
				   EEXIST);
	};
	h["instance.del"] = [](const json &) -> json {
		throw ControlError("the userspace datapath's instance is ilpd's: stop ilpd to "
				   "remove it",
				   EOPNOTSUPP);
	};
	h["instance.show"] = [d](const json &) {
		auto sn = d->sn();
		return json{{"port", d->port()}, {"sn", sn ? endpoint_json(*sn) : json(nullptr)}};
	};
	h["instance.set"] = [d](const json &args) {
		auto it = args.find("sn");
		if (it == args.end())
			throw ControlError("'sn' missing");
		d->set_sn(it->is_null() ? std::nullopt : std::optional(endpoint_of(*it, "the SN")));
		return json();
	};

	// "generate": the key is made here and never leaves ilpd.
	h["key.set"] = [d](const json &args) {
		return guarded([&] {
			auto slot = static_cast<unsigned>(need_uint(args, "slot", 1));
			bool active = args.value("active", false);
			if (args.value("generate", false)) {
				d->rx_sas().generate(slot, active);
				return json();
			}
			auto first = args.contains("first_spi")
					 ? need_uint(args, "first_spi", 0xffffffffu)
					 : 1;
			d->rx_sas().set_key(slot, master_key_of(args), active,
					    static_cast<std::uint32_t>(first));
			return json();
		});
	};
	h["key.rotate"] = [d](const json &args) {
		return guarded([&] {
			if (args.value("generate", false)) {
				d->rx_sas().rotate_generated();
				return json();
			}
			auto first = args.contains("first_spi")
					 ? need_uint(args, "first_spi", 0xffffffffu)
					 : 1;
			d->rx_sas().rotate(master_key_of(args), static_cast<std::uint32_t>(first));
			return json();
		});
	};
	h["key.show"] = [d](const json &) {
		auto keys = d->rx_sas().snapshot();
		json present = json::array();
		for (unsigned s = 0; s < 2; s++)
			if (keys->keys[s])
				present.push_back(s);
		bool any = keys->keys[0] || keys->keys[1];
		json generated = json::array(), next = json::array();
		for (unsigned s = 0; s < 2; s++) {
			auto info = d->rx_sas().slot_info(s);
			if (info.generated)
				generated.push_back(s);
			next.push_back(info.next_spi);
		}
		return json{{"active_slot", any ? json(keys->active) : json(nullptr)},
			    {"present_slots", present},
			    {"generated_slots", generated},
			    {"next_spi", next},
			    {"aead_driver", "openssl"}};
	};

	// The key goes into this reply and nowhere else (never a log).
	h["sa.alloc"] = [d](const json &args) {
		return guarded([&] {
			auto peer =
			    endpoint_of(json{{"address", need(args, "peer", json::value_t::string,
							      "a string")}},
					"peer");
			auto a = d->rx_sas().allocate(version_of(args, "psp_version"), peer);
			static const char digits[] = "0123456789abcdef";
			std::string hex;
			for (auto b : a.key.bytes()) {
				hex += digits[b >> 4];
				hex += digits[b & 0xf];
			}
			json reply{{"spi", a.sa.spi},
				   {"version", version_number(a.sa.version)},
				   {"peer", a.sa.peer.addr_string()},
				   {"key", hex}};
			OPENSSL_cleanse(hex.data(), hex.size());
			return reply;
		});
	};
	h["sa.show"] = [d](const json &) {
		json list = json::array();
		for (const auto &s : d->rx_sas().list())
			list.push_back({{"spi", s.spi},
					{"version", version_number(s.version)},
					{"peer", s.peer.addr_string()},
					{"packets", s.traffic->packets.load()},
					{"bytes", s.traffic->bytes.load()}});
		return list;
	};

	h["sa.del"] = [d](const json &args) {
		return guarded([&] {
			d->rx_sas().remove(
			    static_cast<std::uint32_t>(need_uint(args, "spi", 0xffffffffu)));
			return json();
		});
	};

	h["peer.add"] = [d](const json &args) {
		return guarded([&] {
			auto peer = endpoint_of(args, "the peer");
			std::optional<UserDatapath::TxSaSpec> tx;
			if (auto it = args.find("tx"); it != args.end() && !it->is_null())
				tx = tx_of(*it);
			d->peer_add(peer, tx);
			if (auto it = args.find("direct"); it != args.end() && it->is_boolean())
				d->peer_set_direct(peer, it->get<bool>());
			return json();
		});
	};
	h["peer.set"] = [d](const json &args) {
		return guarded([&] {
			auto peer = endpoint_of(args, "the peer");
			auto tx = args.find("tx");
			auto direct = args.find("direct");
			bool has_tx = tx != args.end() && !tx->is_null();
			bool has_direct = direct != args.end() && direct->is_boolean();
			if (!has_tx && !has_direct)
				throw ControlError("peer.set needs 'tx' or 'direct'");
			if (has_tx)
				d->peer_set(peer, tx_of(*tx));
			if (has_direct)
				d->peer_set_direct(peer, direct->get<bool>());
			return json();
		});
	};
	h["peer.del"] = [d](const json &args) {
		return guarded([&] {
			d->peer_del(endpoint_of(args, "the peer"));
			return json();
		});
	};
	h["peer.show"] = [d](const json &) {
		json list = json::array();
		for (const auto &p : d->peers()) {
			json tx = nullptr;
			if (const auto &sa = p->sa())
				tx = {{"spi", sa->spi}, {"version", version_number(sa->version)}};
			list.push_back({{"address", p->endpoint().addr_string()},
					{"port", p->endpoint().port},
					{"tx", tx},
					{"direct", p->direct()},
					{"tx_packets", p->traffic().packets.load()},
					{"tx_bytes", p->traffic().bytes.load()}});
		}
		return list;
	};

	h["cache.show"] = [d](const json &) {
		json list = json::array();
		for (const auto &e : d->entries())
			list.push_back(cache_entry_json(e));
		return list;
	};
	h["cache.add"] = [d](const json &args) {
		return guarded([&] {
			d->install(
			    flow_of(args),
			    actions_of(need(args, "actions", json::value_t::object, "an object")));
			return json();
		});
	};
	h["cache.del"] = [d](const json &args) {
		if (!d->remove(flow_of(args)))
			throw ControlError("no entry for that flow", ENOENT);
		return json();
	};
	h["cache.flush"] = [d](const json &) {
		d->flush_cache();
		return json();
	};
	h["cache.set"] = [d](const json &args) {
		return guarded([&] {
			// The userspace datapath has no per-CPU upcall bound: its
			// misses queue to services, which count what they drop.
			for (const char *k : {"upcall_rate", "upcall_burst"})
				if (args.contains(k))
					throw ControlError(
					    std::string("the userspace datapath has no ") +
						(k[7] == 'r' ? "upcall-rate" : "upcall-burst") +
						" (misses queue to the services, which count what "
						"they cannot take)",
					    EOPNOTSUPP);
			if (args.contains("capacity")) {
				auto n = need_uint(args, "capacity", 0xffffffffu);
				if (!n)
					throw ControlError(
					    "capacity takes 1 to 4294967295 entries");
				d->set_cache_capacity(static_cast<std::uint32_t>(n));
			}
			return json();
		});
	};

	h["stats.show"] = [d, sockets](const json &) {
		auto st = d->counters();
		if (sockets) {
			auto s = sockets();
			st.sockets_open = static_cast<std::uint32_t>(s.open);
			st.sockets_created = s.created;
			st.sockets_refused = s.refused;
		}
		return stats_json(st);
	};
	h["stats.reset"] = [d](const json &) {
		d->reset_stats();
		return json();
	};
}

void add_kernel_datapath_refusals(ControlHandlers &h)
{
	h["version"] = [](const json &) {
		return json{{"ilpd", ilp::version}, {"datapath", "kernel"}};
	};
	for (const char *cmd : datapath_commands)
		h[cmd] = [](const json &) -> json {
			throw ControlError("ilpd runs the kernel datapath: ilpctl talks to ilp.ko "
					   "over netlink for this (leave out -S)",
					   EOPNOTSUPP);
		};
}

} // namespace ilpd

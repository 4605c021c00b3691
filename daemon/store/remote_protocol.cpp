// SPDX-License-Identifier: GPL-2.0-or-later
//
// The remote store's messages: JSON objects with short field names (a
// page holds more), parsed strictly: an unknown op, a missing or mistyped
// field, a key out of bounds are refused.
#include <cerrno>

#include <nlohmann/json.hpp>

#include "store/remote_protocol.hpp"

namespace ilpd::store::remote
{

namespace
{

using json = nlohmann::json;

constexpr const char *kOps[] = {"put", "get", "del", "list", "cas", "rev", "watch", "compact"};

[[noreturn]] void bad(StoreError::Kind kind, const std::string &why)
{
	throw StoreError(kind, why);
}

// Keys and values are bytes; JSON strings are text.  Each byte goes as
// the code point of the same number (ISO 8859-1's mapping), so that
// ASCII, what the records hold, stays as it is and any byte string
// survives the trip.
std::string text(const std::string &bytes)
{
	std::string t;
	t.reserve(bytes.size());
	for (unsigned char c : bytes) {
		if (c < 0x80) {
			t += static_cast<char>(c);
		} else {
			t += static_cast<char>(0xc0 | (c >> 6));
			t += static_cast<char>(0x80 | (c & 0x3f));
		}
	}
	return t;
}

// The bytes back; nlohmann's parser checked the UTF-8 already.
std::string bytes_of(const std::string &t, StoreError::Kind kind)
{
	std::string b;
	b.reserve(t.size());
	for (std::size_t i = 0; i < t.size(); i++) {
		auto c = static_cast<unsigned char>(t[i]);
		if (c < 0x80) {
			b += static_cast<char>(c);
		} else if ((c == 0xc2 || c == 0xc3) && i + 1 < t.size()) {
			b += static_cast<char>(((c & 0x03) << 6) |
					       (static_cast<unsigned char>(t[++i]) & 0x3f));
		} else {
			bad(kind, "a string with a character beyond U+00FF");
		}
	}
	return b;
}

json parse_object(const std::string &payload, StoreError::Kind kind, const char *what)
{
	json j = json::parse(payload, nullptr, false);
	if (j.is_discarded() || !j.is_object())
		bad(kind, std::string(what) + ": not a JSON object");
	return j;
}

template <class T>
std::optional<T> field(const json &j, const char *name, StoreError::Kind kind)
{
	auto it = j.find(name);
	if (it == j.end())
		return std::nullopt;
	if constexpr (std::is_same_v<T, std::string>) {
		if (!it->is_string())
			bad(kind, std::string("'") + name + "' is not a string");
		return bytes_of(it->get<std::string>(), kind);
	} else if constexpr (std::is_same_v<T, bool>) {
		if (!it->is_boolean())
			bad(kind, std::string("'") + name + "' is not a boolean");
	} else {
		if (!it->is_number_integer())
			bad(kind, std::string("'") + name + "' is not an integer");
	}
	return it->get<T>();
}

json record_json(const Record &r)
{
	return json::array({text(r.key), text(r.value), r.created, r.modified});
}

Record record_of(const json &j)
{
	const auto k = StoreError::Kind::Corrupt;
	if (!j.is_array() || j.size() != 4 || !j[0].is_string() || !j[1].is_string() ||
	    !j[2].is_number_integer() || !j[3].is_number_integer())
		bad(k, "a record that is not [key, value, created, modified]");
	Record r{bytes_of(j[0].get<std::string>(), k), bytes_of(j[1].get<std::string>(), k),
		 j[2].get<Revision>(), j[3].get<Revision>()};
	if (r.key.empty() || r.created <= 0 || r.modified < r.created)
		bad(k, "a record with no key or impossible revisions");
	return r;
}

json event_json(const Event &e)
{
	return json::array(
	    {e.kind == Event::Kind::Put ? "p" : "d", text(e.key), text(e.value), e.revision});
}

Event event_of(const json &j)
{
	const auto k = StoreError::Kind::Corrupt;
	if (!j.is_array() || j.size() != 4 || !j[0].is_string() || !j[1].is_string() ||
	    !j[2].is_string() || !j[3].is_number_integer())
		bad(k, "an event that is not [kind, key, value, revision]");
	auto kind = j[0].get<std::string>();
	if (kind != "p" && kind != "d")
		bad(k, "an event of kind '" + kind + "'");
	Event e{kind == "p" ? Event::Kind::Put : Event::Kind::Delete,
		bytes_of(j[1].get<std::string>(), k), bytes_of(j[2].get<std::string>(), k),
		j[3].get<Revision>()};
	if (e.key.empty() || e.revision <= 0)
		bad(k, "an event with no key or revision");
	return e;
}

} // namespace

std::string encode(const Request &r)
{
	json j{{"op", kOps[static_cast<int>(r.op)]}};
	switch (r.op) {
	case Op::Put:
	case Op::Cas:
		check_key(r.key);
		check_value(r.value);
		j["k"] = text(r.key);
		j["v"] = text(r.value);
		if (r.op == Op::Cas)
			j["x"] = r.revision;
		break;
	case Op::Get:
	case Op::Del:
		j["k"] = text(r.key);
		break;
	case Op::List:
		j["k"] = text(r.key);
		if (!r.after.empty())
			j["a"] = text(r.after);
		break;
	case Op::Watch:
		j["k"] = text(r.key);
		j["f"] = r.revision;
		j["w"] = r.wait_ms;
		break;
	case Op::Compact:
		j["f"] = r.revision;
		break;
	case Op::Rev:
		break;
	}
	auto out = j.dump();
	if (out.size() > kMaxPayload)
		bad(StoreError::Kind::Invalid,
		    "a request of " + std::to_string(out.size()) + " bytes (at most " +
			std::to_string(kMaxPayload) +
			" over the control channel: " + "a key and value of some 900 bytes)");
	return out;
}

Request parse_request(const std::string &payload)
{
	const auto k = StoreError::Kind::Invalid;
	auto j = parse_object(payload, k, "a store request");
	auto op = field<std::string>(j, "op", k);
	if (!op)
		bad(k, "a store request with no 'op'");
	Request r;
	int i = 0;
	for (; i < static_cast<int>(std::size(kOps)) && *op != kOps[i]; i++)
		;
	if (i == static_cast<int>(std::size(kOps)))
		bad(k, "no store op '" + *op + "'");
	r.op = static_cast<Op>(i);
	auto need_key = [&](bool prefix) {
		auto key = field<std::string>(j, "k", k);
		if (!key)
			bad(k, "'" + *op + "' needs 'k'");
		if (!prefix)
			check_key(*key);
		else if (key->size() > kMaxKey)
			check_key(*key); // names the bound
		r.key = *key;
	};
	switch (r.op) {
	case Op::Put:
	case Op::Cas:
		need_key(false);
		if (auto v = field<std::string>(j, "v", k))
			r.value = *v;
		else
			bad(k, "'" + *op + "' needs 'v'");
		if (r.op == Op::Cas) {
			auto x = field<Revision>(j, "x", k);
			if (!x || *x < 0)
				bad(k, "'cas' needs 'x', a revision");
			r.revision = *x;
		}
		break;
	case Op::Get:
	case Op::Del:
		need_key(false);
		break;
	case Op::List:
		need_key(true);
		r.after = field<std::string>(j, "a", k).value_or("");
		break;
	case Op::Watch: {
		need_key(true);
		auto f = field<Revision>(j, "f", k);
		auto w = field<std::int64_t>(j, "w", k);
		if (!f || *f < 1)
			bad(k, "'watch' needs 'f', a revision from 1");
		if (!w || *w < 0 || *w > kMaxWaitMs)
			bad(k, "'watch' needs 'w', 0 to " + std::to_string(kMaxWaitMs) + " ms");
		r.revision = *f;
		r.wait_ms = *w;
		break;
	}
	case Op::Compact: {
		auto f = field<Revision>(j, "f", k);
		if (!f || *f < 1)
			bad(k, "'compact' needs 'f', a revision from 1");
		r.revision = *f;
		break;
	}
	case Op::Rev:
		break;
	}
	return r;
}

std::string encode(const Reply &r)
{
	const auto k = StoreError::Kind::Corrupt;
	json j = json::object();
	if (r.revision)
		j["r"] = *r.revision;
	if (r.record)
		j["rec"] = record_json(*r.record);
	if (r.more)
		j["more"] = true;
	// Items one at a time while they fit; the rest in the next page,
	// which "more" asks for.
	auto fill = [&](const char *name, const auto &items, auto to_json) {
		if (items.empty())
			return;
		j[name] = json::array();
		bool more = r.more;
		j["more"] = true; // counted in the size, as it may be sent
		for (const auto &item : items) {
			j[name].push_back(to_json(item));
			if (j.dump().size() > kMaxPayload) {
				j[name].erase(j[name].size() - 1);
				more = true;
				break;
			}
		}
		if (j[name].empty())
			bad(k, "a record too big for the control channel");
		if (!more)
			j.erase("more");
	};
	fill("recs", r.records, record_json);
	fill("ev", r.events, event_json);
	auto out = j.dump();
	if (out.size() > kMaxPayload)
		bad(k, "a reply too big for the control channel");
	return out;
}

Reply parse_reply(const std::string &payload)
{
	const auto k = StoreError::Kind::Corrupt;
	auto j = parse_object(payload, k, "a store reply");
	Reply r;
	r.revision = field<Revision>(j, "r", k);
	if (r.revision && *r.revision < 0)
		bad(k, "a negative revision");
	if (auto it = j.find("rec"); it != j.end())
		r.record = record_of(*it);
	for (const char *name : {"recs", "ev"}) {
		auto it = j.find(name);
		if (it == j.end())
			continue;
		if (!it->is_array())
			bad(k, std::string("'") + name + "' is not an array");
		for (const auto &item : *it) {
			if (*name == 'r')
				r.records.push_back(record_of(item));
			else
				r.events.push_back(event_of(item));
		}
	}
	r.more = field<bool>(j, "more", k).value_or(false);
	return r;
}

int status_of(StoreError::Kind kind)
{
	switch (kind) {
	case StoreError::Kind::Unavailable:
		return -EAGAIN;
	case StoreError::Kind::Compacted:
		return -ESTALE;
	case StoreError::Kind::Invalid:
		return -EINVAL;
	case StoreError::Kind::Corrupt:
		return -EIO;
	}
	return -EIO;
}

StoreError::Kind kind_of(int status)
{
	switch (status) {
	case -ESTALE:
		return StoreError::Kind::Compacted;
	case -EINVAL:
	case -EPERM:
		return StoreError::Kind::Invalid;
	case -EIO:
		return StoreError::Kind::Corrupt;
	default:
		return StoreError::Kind::Unavailable;
	}
}

} // namespace ilpd::store::remote

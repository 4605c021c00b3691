// SPDX-License-Identifier: GPL-2.0-or-later
//
// EtcdStore: each Store call is one POST to a member's JSON gateway
// (Boost.Beast over Boost.Asio, with a deadline); a Watch is one POST to
// /v3/watch whose chunked response streams one JSON message per line.
#include <algorithm>
#include <atomic>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "store/etcd_store.hpp"

namespace ilpd::store
{

namespace
{

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

std::string base64(const std::string &in)
{
	std::string out(4 * ((in.size() + 2) / 3), '\0');
	int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
				reinterpret_cast<const unsigned char *>(in.data()),
				static_cast<int>(in.size()));
	out.resize(n);
	return out;
}

std::string unbase64(const std::string &in)
{
	if (in.size() % 4)
		throw StoreError(StoreError::Kind::Corrupt, "etcd sent bad base64");
	std::string out(in.size() / 4 * 3, '\0');
	int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
				reinterpret_cast<const unsigned char *>(in.data()),
				static_cast<int>(in.size()));
	if (n < 0)
		throw StoreError(StoreError::Kind::Corrupt, "etcd sent bad base64");
	// EVP_DecodeBlock counts the padding as zero bytes.
	std::size_t pad = in.ends_with("==") ? 2 : in.ends_with("=") ? 1 : 0;
	out.resize(static_cast<std::size_t>(n) - pad);
	return out;
}

// The gateway writes int64s as strings, and leaves out zero values.
std::int64_t int_of(const json &obj, const char *key)
{
	auto it = obj.find(key);
	if (it == obj.end())
		return 0;
	if (it->is_number_integer())
		return it->get<std::int64_t>();
	if (it->is_string()) {
		const auto &s = it->get_ref<const std::string &>();
		try {
			std::size_t used = 0;
			auto v = std::stoll(s, &used);
			if (used == s.size())
				return v;
		} catch (const std::exception &) {
		}
	}
	throw StoreError(StoreError::Kind::Corrupt,
			 std::string("etcd sent a '") + key + "' that is not a number");
}

std::string bytes_of(const json &obj, const char *key)
{
	auto it = obj.find(key);
	if (it == obj.end())
		return {};
	if (!it->is_string())
		throw StoreError(StoreError::Kind::Corrupt,
				 std::string("etcd sent a '") + key + "' that is not a string");
	return unbase64(it->get<std::string>());
}

// A key etcd sent, without the store's prefix (@strip bytes).
std::string key_of(const json &kv, std::size_t strip)
{
	auto key = bytes_of(kv, "key");
	if (key.size() < strip)
		throw StoreError(StoreError::Kind::Corrupt, "etcd sent a key outside the prefix");
	return key.substr(strip);
}

Revision revision_of(const json &reply)
{
	auto it = reply.find("header");
	if (it == reply.end() || !it->is_object())
		throw StoreError(StoreError::Kind::Corrupt, "etcd sent a reply with no header");
	return int_of(*it, "revision");
}

// A member that cannot be reached (or says it cannot serve): the next
// one is tried.
struct Unreachable : std::runtime_error {
	using std::runtime_error::runtime_error;
};

struct HostPort {
	std::string host, port;
};

HostPort split(const std::string &endpoint)
{
	auto colon = endpoint.rfind(':');
	if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size())
		throw StoreError(StoreError::Kind::Invalid,
				 "etcd endpoint '" + endpoint + "' is not HOST:PORT");
	auto host = endpoint.substr(0, colon);
	if (host.size() > 2 && host.front() == '[' && host.back() == ']')
		host = host.substr(1, host.size() - 2);
	return {host, endpoint.substr(colon + 1)};
}

class Gateway
{
public:
	explicit Gateway(const EtcdOptions &o) : opts_(o)
	{
		if (opts_.endpoints.empty())
			throw StoreError(StoreError::Kind::Invalid, "no etcd endpoint");
		for (const auto &e : opts_.endpoints)
			split(e);
	}

	const EtcdOptions &options() const noexcept { return opts_; }

	// The member to try first: the one that last answered.
	std::size_t preferred() const noexcept { return current_.load(std::memory_order_relaxed); }

	// POSTs @body to @path on the members in turn.
	json call(const std::string &path, const json &body)
	{
		std::string why;
		auto first = preferred();
		for (std::size_t i = 0; i < opts_.endpoints.size(); i++) {
			auto at = (first + i) % opts_.endpoints.size();
			try {
				auto reply = post(opts_.endpoints[at], path, body.dump());
				current_.store(at, std::memory_order_relaxed);
				return reply;
			} catch (const Unreachable &e) {
				why += (why.empty() ? "" : "; ") + opts_.endpoints[at] + ": " +
				       e.what();
			}
		}
		throw StoreError(StoreError::Kind::Unavailable,
				 "etcd: no member answers (" + why + ")");
	}

private:
	json post(const std::string &endpoint, const std::string &path, std::string body)
	{
		auto [host, port] = split(endpoint);
		asio::io_context io;
		beast::tcp_stream stream(io);
		tcp::resolver resolver(io);
		http::request<http::string_body> req{http::verb::post, path, 11};
		req.set(http::field::host, endpoint);
		req.set(http::field::content_type, "application/json");
		req.body() = std::move(body);
		req.prepare_payload();
		beast::flat_buffer buf;
		http::response<http::string_body> res;
		beast::error_code result;
		tcp::resolver::results_type where;
		try {
			where = resolver.resolve(host, port);
		} catch (const std::exception &e) {
			throw Unreachable(e.what());
		}
		stream.expires_after(opts_.timeout);
		stream.async_connect(where, [&](beast::error_code connected,
						const tcp::endpoint &) {
			if (connected) {
				result = connected;
				return;
			}
			http::async_write(stream, req, [&](beast::error_code written, std::size_t) {
				if (written) {
					result = written;
					return;
				}
				http::async_read(
				    stream, buf, res,
				    [&](beast::error_code read, std::size_t) { result = read; });
			});
		});
		io.run();
		if (result)
			throw Unreachable(result.message());
		json reply = json::parse(res.body(), nullptr, false);
		if (reply.is_discarded())
			throw StoreError(StoreError::Kind::Corrupt,
					 "etcd at " + endpoint + " sent " +
					     std::to_string(res.result_int()) + " with no JSON");
		if (res.result() == http::status::ok)
			return reply;
		std::string msg = reply.value("message", reply.value("error", std::string("?")));
		// gRPC's UNAVAILABLE (14): no leader, or the member is
		// stopping: another member may serve.
		if (res.result_int() == 503 || reply.value("code", 0) == 14)
			throw Unreachable(msg);
		throw Refused(msg);
	}

public:
	// What a member refused (a bad request, a compacted revision).
	struct Refused : std::runtime_error {
		using std::runtime_error::runtime_error;
	};

private:
	EtcdOptions opts_;
	// Calls may come from several threads (a mirror's and the caller's).
	std::atomic<std::size_t> current_{0};
};

class EtcdWatch : public Watch
{
public:
	EtcdWatch(const EtcdOptions &opts, std::size_t member, const std::string &key,
		  const std::string &range_end, Revision from, std::size_t strip)
	    : socket_(io_), timer_(io_), strip_(strip)
	{
		endpoint_ = opts.endpoints[member % opts.endpoints.size()];
		auto [host, port] = split(endpoint_);
		json create{{"key", base64(key)}};
		if (!range_end.empty())
			create["range_end"] = base64(range_end);
		if (from)
			create["start_revision"] = std::to_string(from);
		http::request<http::string_body> req{http::verb::post, "/v3/watch", 11};
		req.set(http::field::host, endpoint_);
		req.set(http::field::content_type, "application/json");
		req.body() = json{{"create_request", create}}.dump();
		req.prepare_payload();
		parser_.eager(true);
		parser_.body_limit(boost::none);

		beast::error_code result = asio::error::timed_out;
		bool done = false;
		tcp::resolver resolver(io_);
		tcp::resolver::results_type where;
		try {
			where = resolver.resolve(host, port);
		} catch (const std::exception &e) {
			unavailable(e.what());
		}
		asio::async_connect(
		    socket_, where, [&](beast::error_code connected, const tcp::endpoint &) {
			    if (connected) {
				    result = connected;
				    done = true;
				    return;
			    }
			    http::async_write(socket_, req,
					      [&](beast::error_code written, std::size_t) {
						      result = written;
						      done = true;
					      });
		    });
		run_until(std::chrono::steady_clock::now() + opts.timeout, done);
		if (result)
			unavailable(result.message());
	}

	std::vector<Event> wait(std::chrono::milliseconds timeout) override
	{
		auto deadline = std::chrono::steady_clock::now() + timeout;
		for (;;) {
			auto events = take_messages();
			if (!events.empty())
				return events;
			if (std::chrono::steady_clock::now() >= deadline)
				return {};
			read_some(deadline);
		}
	}

private:
	[[noreturn]] void unavailable(const std::string &why)
	{
		throw StoreError(StoreError::Kind::Unavailable,
				 "etcd watch at " + endpoint_ + ": " + why);
	}

	// Runs the loop until @done or @deadline; then cancels what is left.
	void run_until(std::chrono::steady_clock::time_point deadline, bool &done)
	{
		io_.restart();
		timer_.expires_at(deadline);
		timer_.async_wait([&](beast::error_code ec) {
			if (!ec && !done)
				socket_.cancel();
		});
		while (!done && io_.run_one())
			;
		timer_.cancel();
		io_.run(); // the timer's handler, and a cancelled read's
	}

	void read_some(std::chrono::steady_clock::time_point deadline)
	{
		char chunk[8192];
		beast::error_code result;
		std::size_t got = 0;
		bool done = false;
		socket_.async_read_some(asio::buffer(chunk),
					[&](beast::error_code ec, std::size_t n) {
						result = ec;
						got = n;
						done = true;
					});
		run_until(deadline, done);
		if (result == asio::error::operation_aborted)
			return; // the deadline: nothing came
		if (result)
			unavailable(result == asio::error::eof ? "the member closed the stream"
							       : result.message());
		raw_.append(chunk, got);
		while (!raw_.empty()) {
			beast::error_code ec;
			auto used = parser_.put(asio::buffer(raw_), ec);
			raw_.erase(0, used);
			if (ec == http::error::need_more)
				break;
			if (ec)
				throw StoreError(StoreError::Kind::Corrupt, "etcd watch at " +
										endpoint_ + ": " +
										ec.message());
			if (used == 0)
				break;
		}
		if (parser_.is_header_done() && parser_.get().result() != http::status::ok)
			unavailable("answered " + std::to_string(parser_.get().result_int()));
		if (parser_.is_done())
			unavailable("the member ended the stream");
	}

	// The complete messages (one per line) that came so far.
	std::vector<Event> take_messages()
	{
		std::vector<Event> events;
		auto &body = parser_.get().body();
		std::size_t nl;
		while ((nl = body.find('\n')) != std::string::npos) {
			std::string line = body.substr(0, nl);
			body.erase(0, nl + 1);
			if (line.find_first_not_of(" \r\t") == std::string::npos)
				continue;
			message(json::parse(line, nullptr, false), events);
		}
		return events;
	}

	void message(const json &m, std::vector<Event> &events)
	{
		if (!m.is_object())
			throw StoreError(StoreError::Kind::Corrupt,
					 "etcd watch at " + endpoint_ +
					     " sent a line that is not JSON");
		if (auto e = m.find("error"); e != m.end())
			unavailable(e->is_object() ? e->value("message", std::string("an error"))
						   : std::string("an error"));
		auto r = m.find("result");
		if (r == m.end() || !r->is_object())
			return;
		if (auto c = int_of(*r, "compact_revision"))
			throw StoreError(StoreError::Kind::Compacted,
					 "etcd: the revisions before " + std::to_string(c) +
					     " are compacted");
		if (r->value("canceled", false))
			unavailable("the member cancelled the watch: " +
				    r->value("cancel_reason", std::string("no reason given")));
		auto list = r->find("events");
		if (list == r->end())
			return;
		for (const auto &e : *list) {
			const auto &kv = e.at("kv");
			Event ev;
			ev.kind = e.value("type", std::string("PUT")) == "DELETE"
				      ? Event::Kind::Delete
				      : Event::Kind::Put;
			ev.key = key_of(kv, strip_);
			ev.value = bytes_of(kv, "value");
			ev.revision = int_of(kv, "mod_revision");
			events.push_back(std::move(ev));
		}
	}

	asio::io_context io_;
	tcp::socket socket_;
	asio::steady_timer timer_;
	std::string endpoint_;
	std::size_t strip_;
	std::string raw_;
	http::response_parser<http::string_body> parser_;
};

class EtcdStore : public Store
{
public:
	explicit EtcdStore(const EtcdOptions &o) : gw_(o) {}

	std::string kind() const override { return "etcd"; }

	Revision put(const std::string &key, const std::string &value) override
	{
		check_key(key);
		check_value(value);
		return revision_of(
		    call("/v3/kv/put", {{"key", base64(full(key))}, {"value", base64(value)}}));
	}

	std::optional<Record> get(const std::string &key) override
	{
		check_key(key);
		auto reply = call("/v3/kv/range", {{"key", base64(full(key))}});
		auto recs = records(reply);
		if (recs.empty())
			return std::nullopt;
		return recs.front();
	}

	std::optional<Revision> del(const std::string &key) override
	{
		check_key(key);
		auto reply = call("/v3/kv/deleterange", {{"key", base64(full(key))}});
		if (int_of(reply, "deleted") == 0)
			return std::nullopt;
		return revision_of(reply);
	}

	Listing list(const std::string &prefix) override
	{
		auto from = full(prefix);
		auto reply = call("/v3/kv/range",
				  {{"key", base64(from)}, {"range_end", base64(prefix_end(from))}});
		return {records(reply), revision_of(reply)};
	}

	std::optional<Revision> compare_and_swap(const std::string &key, Revision expected,
						 const std::string &value) override
	{
		check_key(key);
		check_value(value);
		auto k = base64(full(key));
		json compare = expected ? json{{"key", k},
					       {"target", "MOD"},
					       {"result", "EQUAL"},
					       {"mod_revision", std::to_string(expected)}}
					: json{{"key", k},
					       {"target", "CREATE"},
					       {"result", "EQUAL"},
					       {"create_revision", "0"}};
		auto reply = call(
		    "/v3/kv/txn",
		    {{"compare", json::array({compare})},
		     {"success",
		      json::array({{{"request_put", {{"key", k}, {"value", base64(value)}}}}})}});
		if (!reply.value("succeeded", false))
			return std::nullopt;
		return revision_of(reply);
	}

	Revision revision() override
	{
		auto k = base64(gw_.options().prefix);
		return revision_of(call("/v3/kv/range", {{"key", k}, {"count_only", true}}));
	}

	std::unique_ptr<Watch> watch(const std::string &prefix, Revision from) override
	{
		if (from < 0)
			throw StoreError(StoreError::Kind::Invalid,
					 "a watch from a negative revision");
		auto key = full(prefix);
		// Each member in turn, as for the other calls.
		const auto &eps = gw_.options().endpoints;
		std::string why;
		for (std::size_t i = 0; i < eps.size(); i++) {
			try {
				return std::make_unique<EtcdWatch>(
				    gw_.options(), gw_.preferred() + i, key, prefix_end(key), from,
				    gw_.options().prefix.size());
			} catch (const StoreError &e) {
				if (e.kind() != StoreError::Kind::Unavailable)
					throw;
				why += (why.empty() ? "" : "; ") + std::string(e.what());
			}
		}
		throw StoreError(StoreError::Kind::Unavailable,
				 "etcd: no member to watch (" + why + ")");
	}

	void compact(Revision revision) override
	{
		try {
			gw_.call("/v3/kv/compaction",
				 {{"revision", std::to_string(revision)}, {"physical", true}});
		} catch (const Gateway::Refused &e) {
			// As SqliteStore: compacting what is compacted already
			// is nothing.
			if (std::string(e.what()).find("has been compacted") != std::string::npos)
				return;
			throw StoreError(StoreError::Kind::Invalid,
					 std::string("etcd: ") + e.what());
		}
	}

private:
	std::string full(const std::string &key) const { return gw_.options().prefix + key; }

	json call(const std::string &path, const json &body)
	{
		try {
			return gw_.call(path, body);
		} catch (const Gateway::Refused &e) {
			throw StoreError(StoreError::Kind::Invalid,
					 std::string("etcd: ") + e.what());
		}
	}

	std::vector<Record> records(const json &reply) const
	{
		std::vector<Record> out;
		auto kvs = reply.find("kvs");
		if (kvs == reply.end())
			return out;
		if (!kvs->is_array())
			throw StoreError(StoreError::Kind::Corrupt,
					 "etcd sent 'kvs' that is not a list");
		auto strip = gw_.options().prefix.size();
		for (const auto &kv : *kvs) {
			Record r;
			r.key = key_of(kv, strip);
			r.value = bytes_of(kv, "value");
			r.created = int_of(kv, "create_revision");
			r.modified = int_of(kv, "mod_revision");
			out.push_back(std::move(r));
		}
		return out;
	}

	Gateway gw_;
};

} // namespace

std::unique_ptr<Store> open_etcd_store(const EtcdOptions &options)
{
	return std::make_unique<EtcdStore>(options);
}

} // namespace ilpd::store

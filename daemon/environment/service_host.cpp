// SPDX-License-Identifier: GPL-2.0-or-later
#include "environment/service_host.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <ilp_wire.h>

#include "environment/atomic_file.hpp"
#include "environment/daemon_log.hpp"
#include "environment/service_abi.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The daemon's side of one loaded module, as the module sees it: opaque.
struct ilp_env {
	ilpd::ServiceHost::Impl *host;
};

namespace ilpd
{

namespace
{

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// Bounds on what a module may make the daemon hold or write.
constexpr std::size_t max_checkpoint = 64u << 20;
constexpr std::size_t max_config_file = 1u << 20;
constexpr std::size_t max_timers = 65536;
// Packets the worker takes off the queue at once: fewer lock round trips,
// and timers still get their turn between batches.
constexpr std::size_t batch_size = 32;
// How long configure() waits for a busy module before giving up.
constexpr Ms configure_wait = 5000ms;

std::int64_t now_ns()
{
	return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
	    .count();
}

std::string errno_text(int rc)
{
	return std::strerror(rc < 0 ? -rc : rc);
}

int errno_of(const std::system_error &e)
{
	int v = e.code().value();
	return v > 0 ? -v : -EIO;
}

ilp::Endpoint to_endpoint(const ilp_node &n)
{
	std::size_t len;
	if (n.family == AF_INET)
		len = 4;
	else if (n.family == AF_INET6)
		len = 16;
	else
		throw std::invalid_argument("hop of unknown address family " +
					    std::to_string(n.family));
	if (n.port == 0)
		throw std::invalid_argument("hop with port 0");
	return ilp::Endpoint::from_bytes({n.addr, len}, n.port);
}

ilp_node to_node(const ilp::Endpoint &e)
{
	ilp_node n{};
	n.family = e.family;
	n.port = e.port;
	auto b = e.addr_bytes();
	std::copy(b.begin(), b.end(), n.addr);
	return n;
}

ilp_flow to_flow(const Flow &f)
{
	ilp_flow out{};
	out.prev = to_node(f.prev);
	out.service = f.service;
	out.conn = f.conn;
	return out;
}

Flow from_flow(const ilp_flow &f)
{
	Flow out;
	// The cache ignores the previous hop's port: a module may leave it 0.
	ilp_node prev = f.prev;
	if (prev.port == 0)
		prev.port = ILP_UDP_PORT;
	out.prev = to_endpoint(prev);
	out.service = f.service;
	out.conn = f.conn;
	return out;
}

// Throws std::invalid_argument for a decision the datapath cannot act on.
Actions to_actions(const ilp_decision &d)
{
	Actions a;
	if (d.actions & ~static_cast<std::uint32_t>(ILP_ACTION_FORWARD | ILP_ACTION_DELIVER))
		throw std::invalid_argument("unknown action bits " + std::to_string(d.actions));
	if (d.actions & ILP_ACTION_FORWARD) {
		if (d.n_hops == 0 || d.n_hops > ILP_DECISION_MAX_HOPS)
			throw std::invalid_argument("forward to " + std::to_string(d.n_hops) +
						    " hops");
		for (std::uint32_t i = 0; i < d.n_hops; i++)
			a.forward.push_back(to_endpoint(d.hops[i]));
	}
	a.deliver = (d.actions & ILP_ACTION_DELIVER) != 0;
	a.drop = a.forward.empty() && !a.deliver;
	return a;
}

// The per-flow records are keyed as the cache is: without the previous
// hop's port (the service is the host's own).
struct FlowKey {
	sa_family_t family;
	in6_addr addr;
	std::uint64_t conn;

	bool operator==(const FlowKey &o) const noexcept
	{
		return family == o.family && conn == o.conn &&
		       std::memcmp(&addr, &o.addr, sizeof(addr)) == 0;
	}
};

FlowKey key_of(const Flow &f)
{
	return {f.prev.family, f.prev.addr, f.conn};
}

struct FlowKeyHash {
	std::size_t operator()(const FlowKey &k) const noexcept
	{
		// FNV-1a over the address, then the connection mixed in.
		std::uint64_t h = 1469598103934665603ull ^ k.family;
		const auto *p = reinterpret_cast<const std::uint8_t *>(&k.addr);
		for (std::size_t i = 0; i < sizeof(k.addr); i++)
			h = (h ^ p[i]) * 1099511628211ull;
		h ^= k.conn + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
		return static_cast<std::size_t>(h);
	}
};

// Keys and values go into NAME.conf as "KEY=VALUE" lines.
bool valid_key(const std::string &k)
{
	return !k.empty() && k.size() <= 64 && std::all_of(k.begin(), k.end(), [](char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		       c == '-' || c == '_' || c == '.';
	});
}

bool valid_value(const std::string &v)
{
	return v.size() <= 4096 && v.find_first_of(std::string("\n\r\0", 3)) == std::string::npos;
}

bool any_tlv(u16, void *)
{
	// The datapath has judged the critical TLVs already.
	return true;
}

} // namespace

struct ServiceHost::Impl {
	Impl(Module m, Datapath &d, const fs::path &state_dir, HostOptions o);
	~Impl() { stop(); }

	// Declared first, destroyed last: nothing may call into the module
	// once it is unloaded.
	Module module;
	const ilp_service &svc;
	Datapath &dp;
	const std::string name;
	const std::uint32_t id, last_id; // the services it serves
	bool serves(std::uint32_t service) const noexcept
	{
		return service >= id && service <= last_id;
	}
	const fs::path state_file, config_file;
	const HostOptions opts;
	ilp_env env{this};
	void *state = nullptr; // the module's, from init()

	// The queue and the tasks (configure()) for the worker.
	std::mutex mu;
	std::condition_variable cv;
	std::deque<Miss> queue;
	std::deque<std::function<void()>> tasks;
	std::atomic<bool> stopping{false};

	// Timers: the worker's alone, so no lock.  Cancelled ones stay in
	// the heap until their time comes (or a rebuild).
	struct Timer {
		ilp_timer_fn fn;
		std::uint64_t cookie;
	};
	std::map<std::int64_t, Timer> timers;
	using HeapItem = std::pair<Clock::time_point, std::int64_t>;
	std::priority_queue<HeapItem, std::vector<HeapItem>, std::greater<>> heap;
	std::int64_t next_timer = 1;

	// Written by the worker only; locked for readers elsewhere (status).
	mutable std::mutex config_mu;
	std::map<std::string, std::string> config;

	struct FlowRecord {
		std::uint32_t idle_timeout_ms; // 0: the default
		Clock::time_point installed;
	};
	mutable std::mutex flows_mu;
	std::unordered_map<FlowKey, FlowRecord, FlowKeyHash> flows;

	std::atomic<std::uint64_t> packets{0}, errors{0}, queue_full{0}, dropped{0}, installed{0},
	    stalls{0};

	// The watchdog: when the current call into the module began (0:
	// none) and what it is.
	std::atomic<std::int64_t> busy_since{0};
	std::atomic<const char *> busy_in{""};
	std::atomic<bool> stalled{false};
	std::mutex watch_mu; // orders the stalled/recovered transitions

	std::thread worker, watchdog;
	std::mutex wd_mu;
	std::condition_variable wd_cv;
	bool wd_stop = false;

	// Marks a call into the module for the watchdog.
	struct Busy {
		Impl &h;
		std::int64_t since;
		Busy(Impl &host, const char *what) : h(host), since(now_ns())
		{
			h.busy_in.store(what);
			h.busy_since.store(since);
		}
		Busy(const Busy &) = delete;
		Busy &operator=(const Busy &) = delete;
		~Busy() { h.end_call(since); }
	};

	template <typename... T>
	void log(ilp_log_level l, const T &...parts) const
	{
		daemon_log::at(l, name, ": ", parts...);
	}

	// Counts an error; logs the first and every 1000th, so that a module
	// failing on every packet cannot flood the journal.
	void error(const std::string &msg)
	{
		auto n = ++errors;
		if (n == 1 || n % 1000 == 0)
			log(ILP_LOG_WARN, msg, " (", n, n == 1 ? " error" : " errors",
			    " so far; then logging every 1000th)");
	}

	void end_call(std::int64_t since);
	void watchdog_loop();
	void run(std::promise<void> &ready, std::optional<std::vector<std::uint8_t>> &saved);
	void loop();
	void handle(Miss &miss);
	int call_handle(const ilp_packet &pkt, ilp_decision &d);
	void run_timers();
	std::optional<Clock::time_point> next_deadline();
	std::optional<std::string> apply_config(const std::string &key,
						const std::optional<std::string> &value);
	void load_config(const std::map<std::string, std::string> &given);
	void persist_config();
	void record(const Flow &flow, std::uint32_t idle_timeout_ms);
	void stop();
};

namespace
{

// --- struct ilp_env_ops: each entry turns exceptions into errno values,
// since none may cross into a C module.

// Runs @body (returning 0 or a negative errno) with the exceptions of the
// daemon's layer mapped to errno values.
template <typename F>
int errno_from(F &&body)
{
	try {
		return body();
	} catch (const std::system_error &e) {
		return errno_of(e);
	} catch (const std::invalid_argument &) {
		return -EINVAL;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EIO;
	}
}

int env_send(ilp_env *env, std::uint32_t service, const ilp_node *to, std::uint64_t conn,
	     const std::uint8_t *metadata, std::size_t metadata_len, const std::uint8_t *payload,
	     std::size_t payload_len)
{
	if (!env || !to || (!metadata && metadata_len) || (!payload && payload_len))
		return -EINVAL;
	auto &h = *env->host;
	if (!h.serves(service))
		return -EPERM;
	try {
		check_service_tlvs({metadata, metadata_len}, TlvUse::send);
	} catch (const TlvNotEntitled &) {
		return -EPERM;
	} catch (const std::invalid_argument &) {
		return -EINVAL;
	}
	return errno_from([&] {
		h.dp.send(to_endpoint(*to), service, conn, {metadata, metadata_len},
			  {payload, payload_len});
		return 0;
	});
}

// Version 1's send(): the module's one service.
int env_send_v1(ilp_env *env, const ilp_node *to, std::uint64_t conn, const std::uint8_t *metadata,
		std::size_t metadata_len, const std::uint8_t *payload, std::size_t payload_len)
{
	if (!env)
		return -EINVAL;
	return env_send(env, env->host->id, to, conn, metadata, metadata_len, payload, payload_len);
}

int env_cache_install(ilp_env *env, const ilp_flow *flow, const ilp_decision *d)
{
	if (!env || !flow || !d)
		return -EINVAL;
	auto &h = *env->host;
	if (!h.serves(flow->service))
		return -EPERM;
	// The cache holds actions, not packets.
	if (ILP_HAS_MEMBER(ilp_decision, d, rewrite) && d->rewrite)
		return -EINVAL;
	return errno_from([&] {
		Flow f = from_flow(*flow);
		Actions a = to_actions(*d);
		h.record(f, d->idle_timeout_ms); // before the entry, as in handle()
		try {
			h.dp.install(f, a);
		} catch (...) {
			std::lock_guard g(h.flows_mu);
			h.flows.erase(key_of(f));
			throw;
		}
		h.installed++;
		return 0;
	});
}

int env_cache_install_v1(ilp_env *env, const ilp_flow *flow, const ilp_decision_v1 *d)
{
	if (!d)
		return -EINVAL;
	ilp_decision d2 = from_v1(*d);
	return env_cache_install(env, flow, &d2);
}

int env_cache_remove(ilp_env *env, const ilp_flow *flow)
{
	if (!env || !flow)
		return -EINVAL;
	auto &h = *env->host;
	if (!h.serves(flow->service))
		return -EPERM;
	return errno_from([&] {
		Flow f = from_flow(*flow);
		bool had = h.dp.remove(f);
		std::lock_guard g(h.flows_mu);
		h.flows.erase(key_of(f));
		return had ? 0 : -ENOENT;
	});
}

int env_cache_stats(ilp_env *env, const ilp_flow *flow, ilp_flow_stats *out)
{
	if (!env || !flow || !out)
		return -EINVAL;
	auto &h = *env->host;
	if (!h.serves(flow->service))
		return -EPERM;
	return errno_from([&] {
		Flow f = from_flow(*flow);
		auto e = h.dp.entry(f);
		if (!e)
			return -ENOENT;
		*out = {};
		out->packets = e->packets;
		out->bytes = e->bytes;
		if (e->used_ms) {
			out->idle_ms = *e->used_ms;
		} else {
			// Never hit: idle since it was installed, if by us.
			std::lock_guard g(h.flows_mu);
			auto it = h.flows.find(key_of(f));
			if (it != h.flows.end())
				out->idle_ms = static_cast<std::uint64_t>(
				    std::chrono::duration_cast<Ms>(Clock::now() -
								   it->second.installed)
					.count());
		}
		return 0;
	});
}

const char *env_config_get(ilp_env *env, const char *key)
{
	if (!env || !key)
		return nullptr;
	auto &h = *env->host;
	std::lock_guard g(h.config_mu);
	auto it = h.config.find(key);
	// Stays valid until the worker changes that key: not before the
	// module returns, since only the worker changes the map.
	return it == h.config.end() ? nullptr : it->second.c_str();
}

int env_config_set(ilp_env *env, const char *key, const char *value)
{
	if (!env || !key)
		return -EINVAL;
	auto &h = *env->host;
	try {
		std::string k = key;
		if (!valid_key(k) || (value && !valid_value(value)))
			return -EINVAL;
		{
			std::lock_guard g(h.config_mu);
			if (value)
				h.config[k] = value;
			else
				h.config.erase(k);
		}
		h.persist_config();
		return 0;
	} catch (const std::system_error &e) {
		h.log(ILP_LOG_WARN, "cannot save its configuration: ", e.what());
		return errno_of(e);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EIO;
	}
}

int env_checkpoint(ilp_env *env, const void *data, std::size_t len)
{
	if (!env || (!data && len))
		return -EINVAL;
	auto &h = *env->host;
	if (len > max_checkpoint)
		return -EFBIG;
	try {
		write_file_atomically(h.state_file, {static_cast<const std::uint8_t *>(data), len});
		return 0;
	} catch (const std::system_error &e) {
		h.log(ILP_LOG_WARN, "checkpoint failed: ", e.what());
		return errno_of(e);
	} catch (...) {
		return -EIO;
	}
}

std::int64_t env_timer_add(ilp_env *env, std::uint32_t delay_ms, ilp_timer_fn fn,
			   std::uint64_t cookie)
{
	if (!env || !fn)
		return -EINVAL;
	auto &h = *env->host;
	if (h.timers.size() >= max_timers)
		return -ENOSPC;
	try {
		std::int64_t id = h.next_timer++;
		h.timers.emplace(id, ServiceHost::Impl::Timer{fn, cookie});
		h.heap.emplace(Clock::now() + Ms(delay_ms), id);
		return id;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
}

int env_timer_cancel(ilp_env *env, std::int64_t id)
{
	if (!env)
		return -EINVAL;
	auto &h = *env->host;
	if (h.timers.erase(id) == 0)
		return -ENOENT;
	// A module that adds and cancels long timers would grow the heap
	// with dead entries until their time comes: rebuild it instead.
	if (h.heap.size() > 2 * h.timers.size() + 64) {
		decltype(h.heap) fresh;
		auto items = std::move(h.heap);
		while (!items.empty()) {
			if (h.timers.contains(items.top().second))
				fresh.push(items.top());
			items.pop();
		}
		h.heap = std::move(fresh);
	}
	return 0;
}

__attribute__((format(printf, 3, 4))) void env_log(ilp_env *env, ilp_log_level level,
						   const char *fmt, ...)
{
	if (!env || !fmt)
		return;
	auto &h = *env->host;
	if (!daemon_log::enabled(level))
		return;
	try {
		char buf[512];
		va_list ap, ap2;
		va_start(ap, fmt);
		va_copy(ap2, ap);
		int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		std::string line;
		if (n < 0) {
			line = "(unprintable log line)";
		} else if (static_cast<std::size_t>(n) < sizeof(buf)) {
			line = buf;
		} else {
			line.resize(static_cast<std::size_t>(n) + 1);
			std::vsnprintf(line.data(), line.size(), fmt, ap2);
			line.resize(static_cast<std::size_t>(n));
		}
		va_end(ap2);
		h.log(level, line);
	} catch (...) {
		// Logging must not fail the module.
	}
}

int env_route_host(ilp_env *env, const ilp_node *host, ilp_route *out)
{
	if (!env || !host || !out || out->size < sizeof(std::uint32_t))
		return -EINVAL;
	auto &h = *env->host;
	if (!h.opts.route_host)
		return -EOPNOTSUPP;
	return errno_from([&] {
		HostRoute r;
		int rc = h.opts.route_host(to_endpoint(*host), r);
		if (rc)
			return rc;
		// Only what the module's struct covers.
		ilp_route full{};
		full.size = std::min<std::uint32_t>(out->size, sizeof(ilp_route));
		full.via = static_cast<std::uint32_t>(r.via);
		full.next_hop = to_node(r.next_hop);
		if (r.sn)
			full.sn = to_node(*r.sn);
		r.edomain.copy(full.edomain, sizeof(full.edomain) - 1);
		std::memcpy(out, &full, full.size);
		return 0;
	});
}

int env_open_pipe(ilp_env *env, const ilp_route *route)
{
	if (!env || !route || !ILP_HAS_MEMBER(ilp_route, route, edomain))
		return -EINVAL;
	auto &h = *env->host;
	if (!h.opts.open_pipe)
		return -EOPNOTSUPP;
	if (route->sn.family != AF_INET && route->sn.family != AF_INET6)
		return -EINVAL;
	return errno_from([&] {
		std::string edomain(route->edomain,
				    strnlen(route->edomain, sizeof(route->edomain)));
		return h.opts.open_pipe(to_endpoint(route->sn), edomain);
	});
}

int env_open_direct(ilp_env *env, const ilp_node *from, const ilp_node *to)
{
	if (!env || !from || !to)
		return -EINVAL;
	auto &h = *env->host;
	if (!h.opts.open_direct)
		return -EOPNOTSUPP;
	for (const auto *n : {from, to})
		if (n->family != AF_INET && n->family != AF_INET6)
			return -EINVAL;
	return errno_from([&] { return h.opts.open_direct(to_endpoint(*from), to_endpoint(*to)); });
}

int env_group_hops(ilp_env *env, const char *group, const ilp_node *from, ilp_node *hops,
		   std::uint32_t max, std::uint32_t *n)
{
	if (!env || !group || !from || (!hops && max) || !n)
		return -EINVAL;
	auto &h = *env->host;
	if (!h.opts.group_hops)
		return -EOPNOTSUPP;
	if (from->family != AF_INET && from->family != AF_INET6)
		return -EINVAL;
	return errno_from([&] {
		std::vector<ilp::Endpoint> out;
		int rc = h.opts.group_hops(std::string(group, strnlen(group, 256)),
					   to_endpoint(*from), out);
		if (rc)
			return rc;
		*n = static_cast<std::uint32_t>(out.size());
		if (out.size() > max)
			return -ENOSPC;
		for (std::size_t i = 0; i < out.size(); i++)
			hops[i] = to_node(out[i]);
		return 0;
	});
}

const ilp_env_ops env_ops = {
    .abi_version = ILP_SERVICE_ABI_VERSION,
    .size = sizeof(ilp_env_ops),
    .send = env_send,
    .cache_install = env_cache_install,
    .cache_remove = env_cache_remove,
    .cache_stats = env_cache_stats,
    .config_get = env_config_get,
    .config_set = env_config_set,
    .checkpoint = env_checkpoint,
    .timer_add = env_timer_add,
    .timer_cancel = env_timer_cancel,
    .log = env_log,
    .route_host = env_route_host,
    .open_pipe = env_open_pipe,
    .open_direct = env_open_direct,
    .group_hops = env_group_hops,
};

const ilp_env_ops_v1 env_ops_v1 = {
    .abi_version = ILP_SERVICE_ABI_VERSION_1,
    .send = env_send_v1,
    .cache_install = env_cache_install_v1,
    .cache_remove = env_cache_remove,
    .cache_stats = env_cache_stats,
    .config_get = env_config_get,
    .config_set = env_config_set,
    .checkpoint = env_checkpoint,
    .timer_add = env_timer_add,
    .timer_cancel = env_timer_cancel,
    .log = env_log,
};

} // namespace

ServiceHost::Impl::Impl(Module m, Datapath &d, const fs::path &state_dir, HostOptions o)
    : module(std::move(m)), svc(module.descriptor()), dp(d), name(module.name()), id(module.id()),
      last_id(module.last_id()), state_file(state_dir / "services" / (name + ".state")),
      config_file(state_dir / "services" / (name + ".conf")), opts(o)
{
	if (opts.queue_depth == 0)
		throw std::invalid_argument("queue depth 0");
}

void ServiceHost::Impl::end_call(std::int64_t since)
{
	busy_since.store(0);
	if (!stalled.load())
		return;
	std::lock_guard g(watch_mu);
	if (stalled.exchange(false))
		log(ILP_LOG_INFO, "recovered: its ", busy_in.load(), "() returned after ",
		    (now_ns() - since) / 1000000, " ms");
}

void ServiceHost::Impl::watchdog_loop()
{
	const Ms period =
	    std::clamp(std::chrono::duration_cast<Ms>(opts.stall_after / 4), Ms(5), Ms(250));
	std::unique_lock lk(wd_mu);
	while (!wd_cv.wait_for(lk, period, [this] { return wd_stop; })) {
		std::int64_t since = busy_since.load();
		if (since == 0 || stalled.load())
			continue;
		if (std::chrono::nanoseconds(now_ns() - since) <= opts.stall_after)
			continue;
		std::lock_guard g(watch_mu);
		stalled.store(true);
		// The call may have returned meanwhile (end_call() saw
		// stalled false): then this was no stall.
		if (busy_since.load() != since) {
			stalled.store(false);
			continue;
		}
		stalls++;
		log(ILP_LOG_WARN, "stalled: its ", busy_in.load(),
		    "() has been running for more than ", opts.stall_after.count(),
		    " ms; its packets wait and are dropped once ", opts.queue_depth, " are queued");
	}
}

void ServiceHost::Impl::run(std::promise<void> &ready,
			    std::optional<std::vector<std::uint8_t>> &saved)
{
	const std::string who = name + " (" + module.path().string() + ")";
	int rc;
	try {
		Busy b(*this, "init");
		const void *data = saved ? saved->data() : nullptr;
		std::size_t len = saved ? saved->size() : 0;
		rc = module.v1() ? module.v1()->init(&env_ops_v1, &env, data, len, &state)
				 : svc.init(&env_ops, &env, data, len, &state);
	} catch (const std::exception &e) {
		ready.set_exception(
		    std::make_exception_ptr(LoadError(who + ": init() threw: " + e.what())));
		return;
	} catch (...) {
		ready.set_exception(
		    std::make_exception_ptr(LoadError(who + ": init() threw an exception")));
		return;
	}
	if (rc != 0) {
		ready.set_exception(std::make_exception_ptr(
		    LoadError(who + ": init() refused the load: " + errno_text(rc))));
		return;
	}
	saved.reset(); // init() has taken what it needs
	ready.set_value();

	loop();

	if (svc.fini) {
		try {
			Busy b(*this, "fini");
			svc.fini(state);
		} catch (...) {
			log(ILP_LOG_WARN, "fini() threw an exception");
		}
	}
}

void ServiceHost::Impl::loop()
{
	std::vector<Miss> batch;
	batch.reserve(batch_size);
	std::unique_lock lk(mu);
	while (!stopping) {
		if (!tasks.empty()) {
			auto task = std::move(tasks.front());
			tasks.pop_front();
			lk.unlock();
			task();
			lk.lock();
			continue;
		}
		if (!queue.empty()) {
			while (!queue.empty() && batch.size() < batch_size) {
				batch.push_back(std::move(queue.front()));
				queue.pop_front();
			}
			lk.unlock();
			for (auto &m : batch) {
				if (stopping)
					break;
				handle(m);
			}
			batch.clear();
			// Timers are due even while packets keep coming.
			run_timers();
			lk.lock();
			continue;
		}
		auto next = next_deadline();
		if (next && *next <= Clock::now()) {
			lk.unlock();
			run_timers();
			lk.lock();
			continue;
		}
		if (next)
			cv.wait_until(lk, *next);
		else
			cv.wait(lk);
	}
}

int ServiceHost::Impl::call_handle(const ilp_packet &pkt, ilp_decision &d)
{
	if (const ilp_service_v1 *v1 = module.v1()) {
		ilp_packet_v1 p1 = to_v1(pkt);
		ilp_decision_v1 d1{};
		int rc = v1->handle(state, &p1, &d1);
		d = from_v1(d1);
		return rc;
	}
	return svc.handle(state, &pkt, &d);
}

void ServiceHost::Impl::handle(Miss &miss)
{
	packets++;
	ilpw_hdr hdr{};
	if (ilpw_hdr_parse(miss.data.data(), miss.data.size(), &hdr, any_tlv, nullptr) != ILPW_OK) {
		error("a packet with a malformed ILP header was dropped");
		return;
	}
	const Flow flow = miss.flow();
	ilp_packet pkt{};
	pkt.size = sizeof(pkt);
	pkt.flow = to_flow(flow);
	pkt.metadata = hdr.tlv;
	pkt.metadata_len = hdr.tlv_len;
	pkt.payload = miss.data.data() + hdr.hdr_len;
	pkt.payload_len = miss.data.size() - hdr.hdr_len;
	pkt.peer.node = pkt.flow.prev;
	pkt.peer.flags = miss.known_peer ? ILP_PEER_KNOWN : 0;

	ilp_decision d{}; // zeroed: a drop
	d.size = sizeof(d);
	int rc;
	try {
		Busy b(*this, "handle");
		rc = call_handle(pkt, d);
	} catch (const std::exception &e) {
		error(std::string("handle() threw: ") + e.what() + "; the packet was dropped");
		return;
	} catch (...) {
		error("handle() threw an exception; the packet was dropped");
		return;
	}
	if (rc != 0) {
		error("handle() failed: " + errno_text(rc) + "; the packet was dropped");
		return;
	}
	Actions actions;
	std::optional<Miss> rewritten;
	try {
		actions = to_actions(d);
		if (d.rewrite && !actions.drop) {
			// Copied now: the module's buffers are valid until it
			// is called again.
			rewritten.emplace(Miss{miss.prev, miss.service, miss.conn,
					       rewrite_packet(miss.data, d), miss.known_peer});
		}
	} catch (const std::invalid_argument &e) {
		error(std::string("handle() made a bad decision: ") + e.what() +
		      "; the packet was dropped");
		return;
	}
	if (actions.drop)
		dropped++;
	// A rewritten decision is not cached (the cache holds actions, not
	// packets): each packet of its flow comes here.
	const bool install = d.install && !rewritten;
	// The timeout before the entry: the revalidator must never see the
	// entry without it.
	if (install) {
		installed++;
		record(flow, d.idle_timeout_ms);
	}
	try {
		dp.execute(rewritten ? *rewritten : miss, actions, install);
	} catch (const std::exception &e) {
		if (install) {
			installed--;
			std::lock_guard g(flows_mu);
			flows.erase(key_of(flow));
		}
		error(std::string("the datapath could not act on a decision: ") + e.what());
	}
}

std::optional<Clock::time_point> ServiceHost::Impl::next_deadline()
{
	while (!heap.empty() && !timers.contains(heap.top().second))
		heap.pop();
	if (heap.empty())
		return std::nullopt;
	return heap.top().first;
}

void ServiceHost::Impl::run_timers()
{
	const auto now = Clock::now();
	while (!stopping && !heap.empty() && heap.top().first <= now) {
		auto tid = heap.top().second;
		heap.pop();
		auto it = timers.find(tid);
		if (it == timers.end())
			continue; // cancelled
		Timer t = it->second;
		timers.erase(it);
		try {
			Busy b(*this, "timer");
			t.fn(state, t.cookie);
		} catch (const std::exception &e) {
			error(std::string("a timer threw: ") + e.what());
		} catch (...) {
			error("a timer threw an exception");
		}
	}
}

void ServiceHost::Impl::record(const Flow &flow, std::uint32_t idle_timeout_ms)
{
	std::lock_guard g(flows_mu);
	flows[key_of(flow)] = {idle_timeout_ms, Clock::now()};
}

std::optional<std::string> ServiceHost::Impl::apply_config(const std::string &key,
							   const std::optional<std::string> &value)
{
	const std::string what = value ? key + "=" + *value : key + " (unset)";
	int rc = 0;
	if (svc.config_changed) {
		try {
			Busy b(*this, "config_changed");
			rc = svc.config_changed(state, key.c_str(),
						value ? value->c_str() : nullptr);
		} catch (const std::exception &e) {
			errors++;
			return name + ": config_changed() threw: " + e.what();
		} catch (...) {
			errors++;
			return name + ": config_changed() threw an exception";
		}
	}
	if (rc != 0)
		return name + " rejects " + what + ": " + errno_text(rc);
	{
		std::lock_guard g(config_mu);
		if (value)
			config[key] = *value;
		else
			config.erase(key);
	}
	log(ILP_LOG_INFO, "configured ", what);
	try {
		persist_config();
	} catch (const std::exception &e) {
		// In effect now, only not after a restart.
		log(ILP_LOG_WARN, "cannot save its configuration: ", e.what());
	}
	return std::nullopt;
}

void ServiceHost::Impl::persist_config()
{
	std::string text;
	{
		std::lock_guard g(config_mu);
		for (const auto &[k, v] : config)
			text += k + "=" + v + "\n";
	}
	write_file_atomically(config_file,
			      {reinterpret_cast<const std::uint8_t *>(text.data()), text.size()});
}

void ServiceHost::Impl::load_config(const std::map<std::string, std::string> &given)
{
	std::optional<std::vector<std::uint8_t>> data;
	try {
		data = read_file(config_file, max_config_file);
	} catch (const std::exception &e) {
		throw LoadError(name + ": cannot read its configuration: " + e.what());
	}
	std::lock_guard g(config_mu);
	if (data) {
		std::string text(data->begin(), data->end());
		std::size_t pos = 0;
		for (unsigned line = 1; pos < text.size(); line++) {
			auto end = text.find('\n', pos);
			if (end == std::string::npos)
				end = text.size();
			std::string l = text.substr(pos, end - pos);
			pos = end + 1;
			if (l.empty())
				continue;
			auto eq = l.find('=');
			if (eq == std::string::npos || !valid_key(l.substr(0, eq)))
				throw LoadError(config_file.string() + ":" + std::to_string(line) +
						": not KEY=VALUE");
			config[l.substr(0, eq)] = l.substr(eq + 1);
		}
	}
	for (const auto &[k, v] : given) {
		if (!valid_key(k) || !valid_value(v))
			throw LoadError(name + ": invalid configuration " + k + "=" + v);
		config[k] = v;
	}
}

void ServiceHost::Impl::stop()
{
	{
		std::lock_guard g(mu);
		stopping = true;
	}
	cv.notify_all();
	if (worker.joinable())
		worker.join();
	{
		std::lock_guard g(wd_mu);
		wd_stop = true;
	}
	wd_cv.notify_all();
	if (watchdog.joinable())
		watchdog.join();
}

ServiceHost::ServiceHost(Module module, Datapath &dp, const fs::path &state_dir, HostOptions opts,
			 const std::map<std::string, std::string> &config)
    : impl_(std::make_unique<Impl>(std::move(module), dp, state_dir, opts))
{
	Impl &h = *impl_;
	h.load_config(config);
	std::optional<std::vector<std::uint8_t>> saved;
	try {
		saved = read_file(h.state_file, max_checkpoint);
	} catch (const std::exception &e) {
		throw LoadError(h.name + ": cannot read its checkpoint: " + e.what());
	}

	const bool restored = saved.has_value();

	// The worker owns the promise and the checkpoint: it may still be
	// inside set_value() when this constructor returns.
	auto ready = std::make_shared<std::promise<void>>();
	auto started = ready->get_future();
	// The watchdog first: it watches init() too.
	h.watchdog = std::thread([&h] { h.watchdog_loop(); });
	h.worker =
	    std::thread([&h, ready, saved = std::move(saved)]() mutable { h.run(*ready, saved); });
	started.get(); // throws init()'s refusal; ~Impl stops the threads
	h.log(ILP_LOG_INFO, "service ", h.id,
	      h.last_id != h.id ? " to " + std::to_string(h.last_id) : std::string(),
	      " (ABI version ", h.module.abi(), ") loaded from ", h.module.path().string(),
	      restored ? ", its checkpoint restored" : "");
}

ServiceHost::~ServiceHost()
{
	impl_->stop();
	impl_->log(ILP_LOG_INFO, "unloaded");
}

bool ServiceHost::submit(Miss miss)
{
	Impl &h = *impl_;
	std::unique_lock lk(h.mu);
	if (h.stopping || h.queue.size() >= h.opts.queue_depth) {
		lk.unlock();
		auto n = ++h.queue_full;
		if (n == 1 || n % 1000 == 0)
			h.log(ILP_LOG_WARN, "queue full: ", n,
			      " packets dropped so far (then logging every 1000th)");
		return false;
	}
	const bool was_empty = h.queue.empty();
	h.queue.push_back(std::move(miss));
	lk.unlock();
	// The worker only sleeps with an empty queue.
	if (was_empty)
		h.cv.notify_one();
	return true;
}

std::optional<std::string> ServiceHost::configure(const std::string &key,
						  const std::optional<std::string> &value)
{
	Impl &h = *impl_;
	if (!valid_key(key))
		return "invalid configuration key \"" + key + "\"";
	if (value && !valid_value(*value))
		return "invalid value for " + key;

	enum { Pending, Running, Abandoned };
	auto verdict = std::make_shared<std::promise<std::optional<std::string>>>();
	auto phase = std::make_shared<std::atomic<int>>(Pending);
	auto answer = verdict->get_future();
	{
		std::lock_guard g(h.mu);
		if (h.stopping)
			return h.name + " is stopping";
		h.tasks.push_back([&h, verdict, phase, key, value] {
			int expected = Pending;
			if (phase->compare_exchange_strong(expected, Running))
				verdict->set_value(h.apply_config(key, value));
		});
	}
	h.cv.notify_one();
	if (answer.wait_for(configure_wait + h.opts.stall_after) == std::future_status::timeout) {
		int expected = Pending;
		if (phase->compare_exchange_strong(expected, Abandoned))
			return h.name + " is not responding (stalled?): " + key + " not changed";
		// config_changed() is running: its verdict comes.
	}
	try {
		return answer.get();
	} catch (const std::future_error &) {
		return h.name + " is stopping: " + key + " not changed";
	}
}

void ServiceHost::control(std::uint32_t service, const std::optional<ilp::Endpoint> &from,
			  std::vector<std::uint8_t> request, ControlDone done)
{
	Impl &h = *impl_;
	if (!h.svc.on_control) {
		done(-EOPNOTSUPP, {});
		return;
	}
	{
		std::lock_guard g(h.mu);
		if (h.stopping) {
			done(-ESHUTDOWN, {});
			return;
		}
		h.tasks.push_back([&h, service, from, req = std::move(request),
				   done = std::move(done)] {
			std::vector<std::uint8_t> reply(ILP_CONTROL_MAX);
			std::size_t len = reply.size();
			ilp_node node{};
			if (from)
				node = to_node(*from);
			int rc;
			try {
				Impl::Busy b(h, "on_control");
				rc = h.svc.on_control(h.state, service, from ? &node : nullptr,
						      req.data(), req.size(), reply.data(), &len);
			} catch (const std::exception &e) {
				// A C++ module that let one escape: counted, and
				// the request fails, as handle()'s would.
				h.errors++;
				h.log(ILP_LOG_WARN, "on_control() threw: ", e.what());
				rc = -EIO;
				len = 0;
			}
			if (rc > 0 || len > ILP_CONTROL_MAX)
				rc = -EPROTO, len = 0;
			reply.resize(rc < 0 ? 0 : len);
			done(rc, std::move(reply));
		});
	}
	h.cv.notify_one();
}

std::optional<std::chrono::milliseconds> ServiceHost::own_idle_timeout(const Flow &flow) const
{
	std::lock_guard g(impl_->flows_mu);
	auto it = impl_->flows.find(key_of(flow));
	if (it == impl_->flows.end() || it->second.idle_timeout_ms == 0)
		return std::nullopt;
	return Ms(it->second.idle_timeout_ms);
}

std::chrono::milliseconds ServiceHost::idle_timeout(const Flow &flow) const
{
	return own_idle_timeout(flow).value_or(impl_->opts.default_idle_timeout);
}

void ServiceHost::forget(const Flow &flow)
{
	std::lock_guard g(impl_->flows_mu);
	impl_->flows.erase(key_of(flow));
}

ServiceStatus ServiceHost::status() const
{
	const Impl &h = *impl_;
	ServiceStatus s;
	s.name = h.name;
	s.id = h.id;
	s.last_id = h.last_id;
	s.abi = h.module.abi();
	s.description = h.module.description();
	s.path = h.module.path();
	s.counters.packets = h.packets.load();
	s.counters.errors = h.errors.load();
	s.counters.queue_full = h.queue_full.load();
	s.counters.dropped = h.dropped.load();
	s.counters.installed = h.installed.load();
	s.counters.stalls = h.stalls.load();
	{
		std::lock_guard g(impl_->mu);
		s.counters.queued = h.queue.size();
	}
	s.stalled = h.stalled.load();
	std::lock_guard g(h.config_mu);
	s.config = h.config;
	return s;
}

std::uint32_t ServiceHost::id() const noexcept
{
	return impl_->id;
}

std::uint32_t ServiceHost::last_id() const noexcept
{
	return impl_->last_id;
}

bool ServiceHost::serves(std::uint32_t service) const noexcept
{
	return impl_->serves(service);
}

const std::string &ServiceHost::name() const noexcept
{
	return impl_->name;
}

const fs::path &ServiceHost::path() const noexcept
{
	return impl_->module.path();
}

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
//
// EdomainCore: the store and its gateway mirror, and a publisher thread
// that keeps this SN's own gateway records in the store (put again when
// they are missing: a core that lost them, or that was not there when
// ilpd started), and removes them when ilpd stops.
#include <ilp/error.hpp>

#include "edomain/edomain_core.hpp"
#include "edomain/group_records.hpp"
#include "log.hpp"
#include "store/etcd_store.hpp"
#include "store/remote_protocol.hpp"
#include "store/sqlite_store.hpp"

namespace ilpd
{

namespace
{

using json = nlohmann::json;
constexpr const char *kGateways = "gateway/";
constexpr const char *kHosts = "host/";

std::string describe(const StoreConfig &c);

std::unique_ptr<store::Store> open_store(const StoreConfig &c, std::uint32_t service,
					 const EdomainCore::RemoteCalls &remote)
{
	if (c.kind == CoreConfig::Kind::Remote) {
		if (!remote)
			throw ilp::Error(EINVAL, c.where + ": '" + describe(c) +
						     "' needs the control channel");
		return store::open_remote_store(describe(c), remote(c, service));
	}
	if (c.kind == CoreConfig::Kind::Sqlite)
		return store::open_sqlite_store(c.file);
	store::EtcdOptions o;
	o.endpoints = c.endpoints;
	o.prefix = c.prefix;
	return store::open_etcd_store(o);
}

std::string describe(const StoreConfig &c)
{
	if (c.kind == CoreConfig::Kind::Sqlite)
		return "sqlite " + c.file.string();
	if (c.kind == CoreConfig::Kind::Remote)
		return "ilp " + (c.node.port ? c.node.to_string() : c.node.addr_string());
	std::string eps;
	for (const auto &e : c.endpoints)
		eps += (eps.empty() ? "" : ",") + e;
	return "etcd " + eps;
}

} // namespace

EdomainCore::EdomainCore(const CoreConfig &config, std::string edomain,
			 std::optional<ilp::Endpoint> self, HostsNow hosts, RemoteCalls remote)
    : config_(config), edomain_(std::move(edomain)), self_(self),
      store_(open_store(config, store::remote::kCoreService, remote)), hosts_now_(std::move(hosts))
{
	if (!config_.gateway_for.empty() && !self_)
		throw ilp::Error(EINVAL, config_.where +
					     ": a gateway needs 'edomain-address' or a certificate "
					     "with an IP");
	mirror_ = std::make_unique<store::Mirror>(*store_, kGateways);
	hosts_mirror_ = std::make_unique<store::Mirror>(*store_, kHosts);
	log::info("edomain ", edomain_, ": core ", describe(config_));
	if (config_.lookup.kind != StoreConfig::Kind::None) {
		lookup_store_ = open_store(config_.lookup, store::remote::kLookupService, remote);
		lookup_mirror_ = std::make_unique<store::Mirror>(*lookup_store_, kHosts);
		groups_mirror_ = std::make_unique<store::Mirror>(*lookup_store_, groups::kPrefix);
		log::info("edomain ", edomain_, ": lookup service ", describe(config_.lookup));
	}
	if (self_)
		publisher_ = std::thread([this] { publish_loop(); });
	else if (hosts_now_)
		log::warn("edomain ", edomain_,
			  ": this SN's hosts are not published (no 'edomain-address' and no IP "
			  "in the certificate)");
}

EdomainCore::~EdomainCore()
{
	{
		std::lock_guard lock(mu_);
		stop_ = true;
	}
	cv_.notify_all();
	if (publisher_.joinable())
		publisher_.join();
	groups_mirror_.reset();
	lookup_mirror_.reset();
	hosts_mirror_.reset();
	mirror_.reset();
}

store::Store *EdomainCore::own_core() const
{
	return config_.kind == StoreConfig::Kind::Remote ? nullptr : store_.get();
}

store::Store *EdomainCore::own_lookup() const
{
	return config_.lookup.kind == StoreConfig::Kind::Remote ? nullptr : lookup_store_.get();
}

std::string EdomainCore::own_key(const std::string &edomain) const
{
	return kGateways + edomain + "/" + self_->to_string();
}

std::string EdomainCore::own_value() const
{
	return json{{"sn", self_->to_string()}}.dump();
}

std::string EdomainCore::host_value(const ilp::Endpoint &host) const
{
	return json{{"sn", self_->to_string()}, {"host", host.to_string()}}.dump();
}

std::string EdomainCore::lookup_value(const ilp::Endpoint &host) const
{
	return json{{"sn", self_->to_string()}, {"host", host.to_string()}, {"edomain", edomain_}}
	    .dump();
}

// Puts what is missing or different, and removes this SN's records that
// are not wanted any more (a gateway role or a host gone, or left by a
// run that was killed): @want is full keys to values.
void EdomainCore::reconcile(store::Store &st, const store::Mirror &mirror,
			    const std::string &prefix,
			    const std::map<std::string, std::string> &want,
			    std::set<std::string> &published)
{
	auto have = mirror.snapshot();
	bool synced = mirror.status().synced;
	for (const auto &[key, value] : want) {
		auto it = have.find(key.substr(prefix.size()));
		// Ours, whichever run of ours put it.
		if (!synced || it == have.end() || it->second != value)
			st.put(key, value);
		published.insert(key);
	}
	std::set<std::string> stale;
	for (const auto &key : published)
		if (!want.contains(key))
			stale.insert(key);
	if (synced)
		for (const auto &[key, value] : have) {
			auto r = parse_record(key, value, prefix == kHosts);
			// (A lookup record parses as a host record too.)
			if (r && r->sn == *self_ && !want.contains(prefix + key))
				stale.insert(prefix + key);
		}
	for (const auto &key : stale) {
		st.del(key);
		published.erase(key);
	}
}

void EdomainCore::publish_once()
{
	std::map<std::string, std::string> gws;
	for (const auto &e : config_.gateway_for)
		gws[own_key(e)] = own_value();
	auto before = gateways_published_;
	reconcile(*store_, *mirror_, kGateways, gws, gateways_published_);
	for (const auto &k : gateways_published_)
		if (!before.contains(k))
			log::info("edomain ", edomain_, ": published this SN as the gateway to ",
				  k.substr(std::string(kGateways).size(),
					   k.rfind('/') - std::string(kGateways).size()));
	if (!hosts_now_)
		return;
	std::map<std::string, std::string> hosts, registered;
	for (const auto &h : hosts_now_()) {
		auto key = kHosts + h.to_string() + "/" + self_->to_string();
		hosts[key] = host_value(h);
		registered[key] = lookup_value(h);
	}
	reconcile(*store_, *hosts_mirror_, kHosts, hosts, hosts_published_);
	{
		std::lock_guard lock(mu_);
		hosts_here_ = hosts_published_.size();
	}
	// The lookup service's copy of the same, with the edomain: failing
	// there does not keep the core's from being kept.
	if (lookup_store_)
		try {
			reconcile(*lookup_store_, *lookup_mirror_, kHosts, registered,
				  lookup_published_);
			std::lock_guard lock(mu_);
			lookup_here_ = lookup_published_.size();
			lookup_error_.clear();
		} catch (const store::StoreError &e) {
			std::lock_guard lock(mu_);
			if (lookup_error_ != e.what())
				log::warn(
				    "edomain ", edomain_,
				    ": cannot register this SN's hosts at the lookup service: ",
				    e.what());
			lookup_error_ = e.what();
		}
}

void EdomainCore::publish_loop()
{
	for (;;) {
		try {
			publish_once();
			std::lock_guard lock(mu_);
			publish_error_.clear();
		} catch (const store::StoreError &e) {
			std::lock_guard lock(mu_);
			if (publish_error_ != e.what())
				log::warn("edomain ", edomain_,
					  ": cannot publish this SN's records: ", e.what());
			publish_error_ = e.what();
		}
		std::unique_lock lock(mu_);
		if (cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; }))
			break;
	}
	// Stopping: the gateways and the hosts are this SN's no more.
	try {
		for (const auto &e : config_.gateway_for)
			store_->del(own_key(e));
		for (const auto &key : hosts_published_)
			store_->del(key);
	} catch (const store::StoreError &e) {
		log::warn("edomain ", edomain_, ": cannot withdraw this SN's records: ", e.what());
	}
	try {
		for (const auto &key : lookup_published_)
			lookup_store_->del(key);
	} catch (const store::StoreError &e) {
		log::warn("edomain ", edomain_,
			  ": cannot withdraw this SN's hosts from the lookup service: ", e.what());
	}
}

std::optional<EdomainCore::Record> EdomainCore::parse_record(const std::string &key,
							     const std::string &value, bool host,
							     std::string *why)
{
	std::string reason;
	auto slash = key.find('/');
	json v = json::parse(value, nullptr, false);
	Record r;
	if (slash == std::string::npos || slash == 0)
		reason = host ? "no host in the key" : "no edomain in the key";
	else if (!v.is_object() || !v.contains("sn") || !v["sn"].is_string() ||
		 (host && (!v.contains("host") || !v["host"].is_string())))
		reason = host ? "not {\"sn\": \"ADDR:PORT\", \"host\": \"ADDR:PORT\"}"
			      : "not {\"sn\": \"ADDR:PORT\"}";
	else
		try {
			r.sn = ilp::Endpoint::parse(v["sn"].get<std::string>());
			if (host) {
				r.host = ilp::Endpoint::parse(v["host"].get<std::string>());
				if (r.host.to_string() != key.substr(0, slash))
					reason = "the host is not the one the key names";
				if (v.contains("edomain")) {
					if (!v["edomain"].is_string() ||
					    v["edomain"].get<std::string>().empty())
						reason = "an edomain that is not a name";
					else
						r.edomain = v["edomain"].get<std::string>();
				}
			}
			r.name = key.substr(0, slash);
		} catch (const ilp::Error &e) {
			reason = e.what();
		}
	if (reason.empty())
		return r;
	if (why)
		*why = reason;
	return std::nullopt;
}

// Logged once per key, counted in show()'s "refused".
void EdomainCore::refuse(const std::string &key, const std::string &why) const
{
	std::lock_guard lock(mu_);
	if (refused_.insert(key).second)
		log::warn("edomain ", edomain_, ": core record '", key, "' refused: ", why);
}

std::map<std::string, std::vector<EdomainCore::Gateway>> EdomainCore::gateways() const
{
	std::map<std::string, std::vector<Gateway>> out;
	for (const auto &[key, value] : mirror_->snapshot()) {
		std::string why;
		auto r = parse_record(key, value, false, &why);
		if (!r) {
			refuse(kGateways + key, why);
			continue;
		}
		out[r->name].push_back({key, r->sn});
	}
	return out;
}

std::optional<ilp::Endpoint> EdomainCore::gateway_to(const std::string &edomain) const
{
	// The first well-formed record by key, as gateways() orders them.
	for (const auto &[key, value] : mirror_->find_prefix(edomain + "/")) {
		std::string why;
		if (auto r = parse_record(key, value, false, &why))
			return r->sn;
		refuse(kGateways + key, why);
	}
	return std::nullopt;
}

bool EdomainCore::is_gateway(const ilp::Endpoint &sn) const
{
	for (const auto &[edomain, list] : gateways())
		for (const auto &g : list)
			if (g.sn.same_address(sn))
				return true;
	return false;
}

std::vector<EdomainCore::HostAt> EdomainCore::hosts() const
{
	std::vector<HostAt> out;
	for (const auto &[key, value] : hosts_mirror_->snapshot()) {
		std::string why;
		auto r = parse_record(key, value, true, &why);
		if (!r) {
			refuse(kHosts + key, why);
			continue;
		}
		out.push_back({r->sn, r->host});
	}
	return out;
}

std::vector<EdomainCore::HostAt> EdomainCore::resolve(const ilp::Endpoint &host,
						      bool with_port) const
{
	// Keys start with the host's ADDR:PORT ("[V6]:PORT"): the records
	// of one address are one range of the mirror.
	auto text = host.to_string();
	auto prefix = with_port ? text + "/" : text.substr(0, text.rfind(':') + 1);
	std::vector<HostAt> out;
	for (const auto &[key, value] : hosts_mirror_->find_prefix(prefix)) {
		std::string why;
		auto r = parse_record(key, value, true, &why);
		if (!r) {
			refuse(kHosts + key, why);
			continue;
		}
		out.push_back({r->sn, r->host});
	}
	return out;
}

std::vector<EdomainCore::Elsewhere> EdomainCore::find_elsewhere(const ilp::Endpoint &host) const
{
	std::vector<Elsewhere> out;
	if (!lookup_mirror_)
		return out;
	for (const auto &[key, value] : lookup_mirror_->find_prefix(host.to_string() + "/")) {
		std::string why;
		auto r = parse_record(key, value, true, &why);
		if (!r || r->edomain.empty()) {
			refuse("lookup: " + std::string(kHosts) + key,
			       r ? "no edomain in the lookup record" : why);
			continue;
		}
		if (r->edomain != edomain_)
			out.push_back({r->sn, r->host, r->edomain});
	}
	return out;
}

EdomainCore::Reach EdomainCore::reach() const
{
	return {mirror_->status().synced && hosts_mirror_->status().synced,
		!lookup_mirror_ || lookup_mirror_->status().synced};
}

json EdomainCore::lookup_show() const
{
	if (!lookup_mirror_)
		return nullptr;
	auto st = lookup_mirror_->status();
	std::map<std::string, std::size_t> per;
	std::size_t bad = 0;
	for (const auto &[key, value] : lookup_mirror_->snapshot()) {
		auto r = parse_record(key, value, true);
		if (r && !r->edomain.empty())
			per[r->edomain]++;
		else
			bad++;
	}
	json edomains = json::array();
	for (const auto &[e, n] : per)
		edomains.push_back({{"edomain", e}, {"hosts", n}});
	// Groups: the records the mirror holds, each checked again here (a
	// statement's signature too): a store is not taken at its word.
	std::map<std::string, json> by_group;
	for (const auto &[key, value] : groups_mirror_->snapshot()) {
		std::string why;
		auto full = std::string(groups::kPrefix) + key;
		auto r = groups::parse(full, value, &why);
		if (!r) {
			refuse(full, why);
			bad++;
			continue;
		}
		auto visit = [&](const auto &rec) -> json & {
			auto &g = by_group[rec.group.text()];
			if (g.is_null())
				g = {{"group", rec.group.text()},
				     {"owner",
				      ilp::group::hex(rec.group.key.data(), rec.group.key.size())},
				     {"label", rec.group.label},
				     {"members", json::array()},
				     {"statements", json::array()}};
			return g;
		};
		if (auto *m = std::get_if<groups::Member>(&*r))
			visit(*m)["members"].push_back(m->edomain);
		else if (auto *s = std::get_if<groups::Statement>(&*r))
			visit(*s)["statements"].push_back({{"id", s->id}, {"text", s->text}});
	}
	json group_list = json::array();
	for (auto &[name, g] : by_group)
		group_list.push_back(std::move(g));
	std::lock_guard lock(mu_);
	return {{"store", describe(config_.lookup)},
		{"kind", lookup_store_->kind()},
		{"synced", st.synced},
		{"revision", st.revision},
		{"reconnects", st.reconnects},
		{"last_error", st.last_error.empty() ? json(nullptr) : json(st.last_error)},
		{"edomains", edomains},
		{"groups", group_list},
		{"registered_here", lookup_here_},
		{"register_error", lookup_error_.empty() ? json(nullptr) : json(lookup_error_)},
		{"malformed", bad}};
}

void EdomainCore::post_statement(const std::string &group, const std::string &id,
				 const std::string &text, const std::string &sig_hex)
{
	if (!lookup_store_)
		throw ilp::Error(EOPNOTSUPP, "ilpd has no lookup service (no 'lookup' in its "
					     "configuration)");
	std::string why;
	auto name = groups::parse_name(group, &why);
	if (!name)
		throw ilp::Error(EINVAL, group + ": " + why);
	groups::Statement s{*name, id, text, {}};
	if (!ilp::group::unhex(sig_hex, s.sig.data(), s.sig.size()))
		throw ilp::Error(EINVAL, "the signature is 128 lowercase hex digits");
	auto key = groups::statement_key(s), value = groups::statement_value(s);
	// The checks the lookup service makes, made here first: a clear
	// error for the admin, and nothing sent that it would refuse.
	if (!groups::parse(key, value, &why))
		throw ilp::Error(EINVAL, why);
	try {
		lookup_store_->put(key, value);
	} catch (const store::StoreError &e) {
		throw ilp::Error(e.kind() == store::StoreError::Kind::Unavailable ? EAGAIN
				 : e.kind() == store::StoreError::Kind::Invalid   ? EPERM
										  : EIO,
				 e.what());
	}
}

json EdomainCore::show() const
{
	auto st = mirror_->status();
	json core{{"store", describe(config_)},
		  {"kind", store_->kind()},
		  {"synced", st.synced},
		  {"revision", st.revision},
		  {"reconnects", st.reconnects},
		  {"resyncs", st.resyncs},
		  {"last_error", st.last_error.empty() ? json(nullptr) : json(st.last_error)}};
	json gws = json::array();
	for (const auto &[edomain, list] : gateways()) {
		// The first is the one every SN of the edomain uses.
		const auto &g = list.front();
		gws.push_back({{"edomain", edomain},
			       {"sn", g.sn.to_string()},
			       {"self", self_ && g.sn == *self_},
			       {"others", list.size() - 1}});
	}
	auto n_hosts = hosts().size();
	std::lock_guard lock(mu_);
	json published = json::array();
	for (const auto &e : config_.gateway_for)
		published.push_back(e);
	return {{"edomain", edomain_},
		{"core", core},
		{"gateways", gws},
		{"gateway_for", published},
		{"hosts", n_hosts},
		{"hosts_here", hosts_here_},
		{"publish_error", publish_error_.empty() ? json(nullptr) : json(publish_error_)},
		{"refused", refused_.size()}};
}

} // namespace ilpd

// SPDX-License-Identifier: GPL-2.0-or-later
//
// EdomainCore: the store and its gateway mirror, and a publisher thread
// that keeps this SN's own gateway records in the store (put again when
// they are missing: a core that lost them, or that was not there when
// ilpd started), and removes them when ilpd stops.
#include <ilp/error.hpp>

#include "edomain/edomain_core.hpp"
#include "log.hpp"
#include "store/etcd_store.hpp"
#include "store/sqlite_store.hpp"

namespace ilpd
{

namespace
{

using json = nlohmann::json;
constexpr const char *kGateways = "gateway/";

std::unique_ptr<store::Store> open_store(const CoreConfig &c)
{
	if (c.kind == CoreConfig::Kind::Sqlite)
		return store::open_sqlite_store(c.file);
	store::EtcdOptions o;
	o.endpoints = c.endpoints;
	o.prefix = c.prefix;
	return store::open_etcd_store(o);
}

std::string describe(const CoreConfig &c)
{
	if (c.kind == CoreConfig::Kind::Sqlite)
		return "sqlite " + c.file.string();
	std::string eps;
	for (const auto &e : c.endpoints)
		eps += (eps.empty() ? "" : ",") + e;
	return "etcd " + eps;
}

} // namespace

EdomainCore::EdomainCore(const CoreConfig &config, std::string edomain,
			 std::optional<ilp::Endpoint> self)
    : config_(config), edomain_(std::move(edomain)), self_(self), store_(open_store(config))
{
	if (!config_.gateway_for.empty() && !self_)
		throw ilp::Error(EINVAL, config_.where +
					     ": a gateway needs 'edomain-address' or a certificate "
					     "with an IP");
	mirror_ = std::make_unique<store::Mirror>(*store_, kGateways);
	log::info("edomain ", edomain_, ": core ", describe(config_));
	if (!config_.gateway_for.empty())
		publisher_ = std::thread([this] { publish_loop(); });
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
	mirror_.reset();
}

std::string EdomainCore::own_key(const std::string &edomain) const
{
	return kGateways + edomain + "/" + self_->to_string();
}

std::string EdomainCore::own_value() const
{
	return json{{"sn", self_->to_string()}}.dump();
}

void EdomainCore::publish_loop()
{
	for (;;) {
		try {
			auto have = mirror_->snapshot();
			bool synced = mirror_->status().synced;
			for (const auto &e : config_.gateway_for) {
				auto key = own_key(e);
				auto it = have.find(key.substr(std::string(kGateways).size()));
				if (synced && it != have.end() && it->second == own_value())
					continue;
				store_->put(key, own_value());
				log::info("edomain ", edomain_,
					  ": published this SN as the gateway to ", e);
			}
			std::lock_guard lock(mu_);
			publish_error_.clear();
		} catch (const store::StoreError &e) {
			std::lock_guard lock(mu_);
			if (publish_error_ != e.what())
				log::warn("edomain ", edomain_,
					  ": cannot publish the gateways: ", e.what());
			publish_error_ = e.what();
		}
		std::unique_lock lock(mu_);
		if (cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; }))
			break;
	}
	// Stopping: the gateways are this SN's no more.
	try {
		for (const auto &e : config_.gateway_for)
			store_->del(own_key(e));
	} catch (const store::StoreError &e) {
		log::warn("edomain ", edomain_, ": cannot withdraw the gateways: ", e.what());
	}
}

std::map<std::string, std::vector<EdomainCore::Gateway>> EdomainCore::gateways() const
{
	std::map<std::string, std::vector<Gateway>> out;
	for (const auto &[key, value] : mirror_->snapshot()) {
		auto slash = key.find('/');
		std::string why;
		json v = json::parse(value, nullptr, false);
		std::optional<ilp::Endpoint> sn;
		if (slash == std::string::npos || slash == 0)
			why = "no edomain in the key";
		else if (!v.is_object() || !v.contains("sn") || !v["sn"].is_string())
			why = "not {\"sn\": \"ADDR:PORT\"}";
		else
			try {
				sn = ilp::Endpoint::parse(v["sn"].get<std::string>());
			} catch (const ilp::Error &e) {
				why = e.what();
			}
		if (!why.empty()) {
			std::lock_guard lock(mu_);
			if (refused_.insert(key).second)
				log::warn("edomain ", edomain_, ": core record '", kGateways, key,
					  "' refused: ", why);
			continue;
		}
		out[key.substr(0, slash)].push_back({key, *sn});
	}
	return out;
}

std::optional<ilp::Endpoint> EdomainCore::gateway_to(const std::string &edomain) const
{
	auto all = gateways();
	auto it = all.find(edomain);
	if (it == all.end() || it->second.empty())
		return std::nullopt;
	return it->second.front().sn;
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
	std::lock_guard lock(mu_);
	json published = json::array();
	for (const auto &e : config_.gateway_for)
		published.push_back(e);
	return {{"edomain", edomain_},
		{"core", core},
		{"gateways", gws},
		{"gateway_for", published},
		{"publish_error", publish_error_.empty() ? json(nullptr) : json(publish_error_)},
		{"refused", refused_.size()}};
}

} // namespace ilpd

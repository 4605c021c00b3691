// SPDX-License-Identifier: GPL-2.0-or-later
//
// An SN's view of its edomain's core (docs/edomains.md): the store it
// opens (SQLite or etcd, store/), the gateway map it learns from there
// (which SN of this edomain holds the pipe to each other edomain), and
// the entries it publishes itself when it is a gateway.  The map is a
// Mirror of the store's "gateway/" prefix: it stays as it was while the
// core is out of reach, and catches up when the core is back.
//
// Records, each under "gateway/EDOMAIN/SN" with SN the gateway's
// ADDR:PORT, hold {"sn": "ADDR:PORT"}.  Several gateways to one edomain
// may be published; every SN picks the first by key, so that all agree.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include <ilp/endpoint.hpp>

#include "options.hpp"
#include "store/mirror.hpp"
#include "store/store.hpp"

namespace ilpd
{

class EdomainCore
{
public:
	// Opens the store @config names (throws store::StoreError naming it
	// when it cannot be opened; an etcd that does not answer yet is no
	// error: the map fills when it does).  @self: where this SN's
	// edomain reaches it, required when it is a gateway.
	EdomainCore(const CoreConfig &config, std::string edomain,
		    std::optional<ilp::Endpoint> self);
	~EdomainCore();
	EdomainCore(const EdomainCore &) = delete;
	EdomainCore &operator=(const EdomainCore &) = delete;

	// The SN of this edomain that holds the pipe to @edomain.
	std::optional<ilp::Endpoint> gateway_to(const std::string &edomain) const;
	// "ilpctl edomain show": the core's state and the map.
	nlohmann::json show() const;

private:
	struct Gateway {
		std::string key; // the record's key, for the order
		ilp::Endpoint sn;
	};
	// The map out of the mirror's copy: edomain -> its gateways, by key.
	std::map<std::string, std::vector<Gateway>> gateways() const;
	void publish_loop();
	std::string own_key(const std::string &edomain) const;
	std::string own_value() const;

	CoreConfig config_;
	std::string edomain_;
	std::optional<ilp::Endpoint> self_;
	std::unique_ptr<store::Store> store_;
	std::unique_ptr<store::Mirror> mirror_;

	mutable std::mutex mu_;
	std::condition_variable cv_;
	bool stop_ = false;
	mutable std::set<std::string> refused_; // malformed records, logged once each
	std::string publish_error_;
	std::thread publisher_;
};

} // namespace ilpd

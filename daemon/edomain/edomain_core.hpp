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
// Each SN also publishes the hosts associated with it now, under
// "host/HOST/SN" (both ADDR:PORT) as {"sn": "ADDR:PORT", "host":
// "ADDR:PORT"}: where a packet for a host of this edomain goes.  An SN
// removes its records that are not true any more, those a killed run
// left too, and all of its own when it stops.
#pragma once

#include <condition_variable>
#include <functional>
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
#include "store/remote_store.hpp"
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
	// @hosts: the hosts associated with this SN now (called on the
	// core's thread, about once a second).
	using HostsNow = std::function<std::vector<ilp::Endpoint>()>;
	// @remote: how requests reach a store another SN holds ("ilp ADDR"),
	// for @service (store::remote::kCoreService or kLookupService).
	using RemoteCalls =
	    std::function<store::RemoteCall(const StoreConfig &, std::uint32_t service)>;
	EdomainCore(const CoreConfig &config, std::string edomain,
		    std::optional<ilp::Endpoint> self, HostsNow hosts = {},
		    RemoteCalls remote = {});
	~EdomainCore();
	EdomainCore(const EdomainCore &) = delete;
	EdomainCore &operator=(const EdomainCore &) = delete;

	// The SN of this edomain that holds the pipe to @edomain.
	std::optional<ilp::Endpoint> gateway_to(const std::string &edomain) const;
	// Whether the SN at @sn (its address, any port) is a gateway of this
	// edomain to any other, by the core's records.
	bool is_gateway(const ilp::Endpoint &sn) const;
	// Where a host of this edomain is: the SN it is associated with
	// (several: one per IESP it uses) and the host's endpoint.
	struct HostAt {
		ilp::Endpoint sn, host;
	};
	// The SNs the host at @host is associated with, by the core's
	// records (on its port too with @with_port).
	std::vector<HostAt> resolve(const ilp::Endpoint &host, bool with_port) const;
	// Every host record of the edomain.
	std::vector<HostAt> hosts() const;
	// The host at @host (ADDR:PORT) in other edomains, by the lookup
	// service's records (none without a lookup service).
	struct Elsewhere {
		ilp::Endpoint sn, host;
		std::string edomain;
	};
	std::vector<Elsewhere> find_elsewhere(const ilp::Endpoint &host) const;
	// Whether the core and the lookup service (true without one) are
	// followed now: a host not found while one is out of reach is not
	// known to be nowhere.
	struct Reach {
		bool core = false, lookup = false;
	};
	Reach reach() const;
	// "ilpctl lookup show": the lookup service's store and what it
	// holds per edomain and per group; null without one.
	nlohmann::json lookup_show() const;
	// Puts an owner's signed statement for a group at the lookup
	// service (group_records.hpp).  Throws ilp::Error: EOPNOTSUPP with
	// no lookup service, EINVAL for a statement that is not one (a bad
	// signature included), EPERM when the lookup service refuses it,
	// EAGAIN when it is out of reach.
	void post_statement(const std::string &group, const std::string &id,
			    const std::string &text, const std::string &sig_hex);
	// Where this SN's edomain reaches it (none: it publishes nothing).
	const std::optional<ilp::Endpoint> &self() const noexcept { return self_; }
	const std::string &edomain() const noexcept { return edomain_; }
	// "ilpctl edomain show": the core's state and the map.
	nlohmann::json show() const;
	// The stores this node holds itself (SQLite or etcd, not another
	// SN's), which it serves to its peers: nullptr when it does not.
	store::Store *own_core() const;
	store::Store *own_lookup() const;
	// The core's store and the lookup service's (nullptr without one),
	// whoever holds them, and the lookup service's "group/" records as
	// followed here (nullptr without one): for the groups' records
	// (multipoint/core_groups.hpp).
	store::Store &core_store() const noexcept { return *store_; }
	store::Store *lookup_store() const noexcept { return lookup_store_.get(); }
	const store::Mirror *lookup_groups() const noexcept { return groups_mirror_.get(); }

private:
	struct Gateway {
		std::string key; // the record's key, for the order
		ilp::Endpoint sn;
	};
	// The map out of the mirror's copy: edomain -> its gateways, by key.
	std::map<std::string, std::vector<Gateway>> gateways() const;
	void publish_loop();
	void publish_once();
	void reconcile(store::Store &st, const store::Mirror &mirror, const std::string &prefix,
		       const std::map<std::string, std::string> &want,
		       std::set<std::string> &published);
	// A record, gateway/NAME/SN or host/NAME/SN: NAME, the SN, and for a
	// host record the host; or why it is not one.
	struct Record {
		std::string name;
		ilp::Endpoint sn, host;
		std::string edomain; // a lookup record's
	};
	static std::optional<Record> parse_record(const std::string &key, const std::string &value,
						  bool host, std::string *why = nullptr);
	void refuse(const std::string &key, const std::string &why) const;
	std::string host_value(const ilp::Endpoint &host) const;
	std::string lookup_value(const ilp::Endpoint &host) const;
	std::string own_key(const std::string &edomain) const;
	std::string own_value() const;

	CoreConfig config_;
	std::string edomain_;
	std::optional<ilp::Endpoint> self_;
	std::unique_ptr<store::Store> store_;
	std::unique_ptr<store::Mirror> mirror_;
	std::unique_ptr<store::Mirror> hosts_mirror_;
	std::unique_ptr<store::Store> lookup_store_;   // none without 'lookup'
	std::unique_ptr<store::Mirror> lookup_mirror_; // its "host/" records
	std::unique_ptr<store::Mirror> groups_mirror_; // its "group/" records
	HostsNow hosts_now_;
	// Keys this SN put, on the publisher's thread (read by show()).
	std::set<std::string> gateways_published_, hosts_published_, lookup_published_;

	mutable std::mutex mu_;
	std::condition_variable cv_;
	bool stop_ = false;
	mutable std::set<std::string> refused_; // malformed records, logged once each
	std::string publish_error_;
	std::size_t hosts_here_ = 0; // host records this SN keeps
	std::string lookup_error_;
	std::size_t lookup_here_ = 0; // host records this SN keeps at the lookup service
	std::thread publisher_;
};

} // namespace ilpd

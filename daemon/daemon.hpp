// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpd put together: the datapath the configuration chose, the services
// that decide its misses, the revalidator that expires idle cache entries,
// and the control socket through which ilpctl reaches all of them.  Built
// in that order and torn down in the reverse one, so that no miss reaches
// a service that is gone and no ilpctl request a part not yet there.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "apps/app_server.hpp"
#include "association/manager.hpp"
#include "association/sa_plane.hpp"
#include "control/control_server.hpp"
#include "datapath/datapath.hpp"
#include "datapath/revalidator.hpp"
#include "edomain/router.hpp"
#include "environment/service_registry.hpp"
#include "options.hpp"
#include "store/remote_store.hpp"

namespace ilpd
{

class EdomainCore;
class StoreService;
namespace multipoint
{
class Memberships;
class CoreGroups;
class HostGroups;
} // namespace multipoint

class Daemon
{
public:
	// Throws on any failure to start, with a message for the log.
	explicit Daemon(const Options &opts);
	~Daemon();
	Daemon(const Daemon &) = delete;
	Daemon &operator=(const Daemon &) = delete;

	const std::string &datapath_kind() const noexcept { return kind_; }

private:
	nlohmann::json status() const;
	nlohmann::json apps_json() const;
	nlohmann::json cache_json() const;
	ControlHandlers handlers();
	void start_associations();
	void start_core();
	void stop_core();
	void stop_associations();
	// A peer's request for a store this node holds (StoreService).
	void serve_store(std::uint32_t service, const ControlFrom &from,
			 std::vector<std::uint8_t> request, ControlAnswer done);
	store::RemoteCall remote_call(const StoreConfig &c, std::uint32_t service);
	// Groups (daemon_groups.cpp, docs/multipoint.md): a host's request
	// to this SN; their records in the core; a host's side; ilpctl's.
	void serve_groups(const ControlFrom &from, std::vector<std::uint8_t> request,
			  ControlAnswer done);
	void start_groups();
	void stop_groups();
	void group_handlers(ControlHandlers &h);
	void flush_group(const std::string &group);
	// The modules' group_hops() (multipoint/fanout.hpp).
	int group_hops(const std::string &group, const ilp::Endpoint &from,
		       std::vector<ilp::Endpoint> &hops);
	// An app's CONTROL (AppServer::Controller).
	void app_control(AppControl request, AppServer::ControlDone done);

	Options opts_;
	std::string kind_;
	std::chrono::steady_clock::time_point started_;
	std::atomic<std::uint64_t> upcalls_{0};
	// Where packets for hosts go (the modules' route_host()): made
	// first, since the modules hold on to it; routes once the core and
	// the associations are up.
	Router router_;
	std::unique_ptr<Datapath> dp_;
	// The app socket: on the userspace datapath, apps' sockets and their
	// service control; on the kernel's, where apps have AF_ILP, service
	// control only.  Stopped after the datapath, which calls it.
	std::unique_ptr<AppServer> apps_;
	std::unique_ptr<ServiceRegistry> services_;
	std::unique_ptr<Revalidator> revalidator_;
	// Associations and pipes (docs/control.md), keyed through the
	// datapath's SaPlane; none without a control channel configured.
	std::unique_ptr<SaPlane> sa_plane_;
	std::unique_ptr<AssociationManager> associations_;
	// Held by apps' service control while it reads associations_, and
	// by the daemon while it sets or resets it.
	std::mutex associations_mu_;
	// The edomain's core and its gateway map (an SN with 'core').
	std::unique_ptr<EdomainCore> core_;
	// The stores it holds, served to peers (from the association
	// thread, hence the lock); none when it holds none.
	std::mutex store_service_mu_;
	std::shared_ptr<StoreService> store_service_;
	// An SN's hosts' memberships (made before the associations, whose
	// thread asks them), their records in the core (with one; under the
	// lock, reset before the core goes); a host's held requests.
	std::shared_ptr<multipoint::Memberships> memberships_;
	std::mutex groups_mu_;
	std::shared_ptr<multipoint::CoreGroups> core_groups_;
	std::shared_ptr<multipoint::HostGroups> host_groups_;
	std::unique_ptr<ControlServer> control_;
	// The associations up now, for the core's host records and routing.
	std::shared_ptr<const AssociationManager::PeersUp> peers_up();
};

} // namespace ilpd

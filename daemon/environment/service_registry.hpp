// SPDX-License-Identifier: GPL-2.0-or-later
//
// The loaded services: service ID range -> ServiceHost.  dispatch() is the
// datapath's MissHandler: it hands each miss to the host of the module
// serving its service (which queues it; see service_host.hpp) and drops,
// counted as no_service (ilpctl daemon status), those of a service no
// module serves.
//
// Thread-safe: dispatch() from any number of datapath threads; load and
// unload are serialized among themselves and never stop dispatch() for
// longer than a map update.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "datapath/datapath.hpp"
#include "environment/module_loader.hpp"
#include "environment/service_host.hpp"
#include "writer_first_mutex.hpp"

namespace ilpd
{

class ServiceRegistry
{
public:
	// Per service name, the configuration it starts with
	// ("service-config" of ilpd.conf).
	using Config = std::map<std::string, std::map<std::string, std::string>>;

	ServiceRegistry(Datapath &dp, std::filesystem::path state_dir, HostOptions opts = {},
			Config config = {}, ModuleLoader loader = ModuleLoader());
	// Unloads every service.
	~ServiceRegistry();
	ServiceRegistry(const ServiceRegistry &) = delete;
	ServiceRegistry &operator=(const ServiceRegistry &) = delete;

	// Loads the modules of @dir (only those named in @only, unless it
	// is empty).  Returns the refused ones, for the caller to log; a
	// name of @only that no module has is one too.  Throws LoadError
	// when @dir itself is refused.
	std::vector<LoadFailure> load_dir(const std::filesystem::path &dir,
					  const std::vector<std::string> &only = {});
	// Loads one module ("ilpctl service load PATH").  Throws LoadError.
	ServiceStatus load(const std::filesystem::path &file);
	// Unloads the service named @which, or loaded from the path @which
	// (its worker stopped, fini() run); false when there is none.
	bool unload(const std::string &which);

	// The MissHandler: consumes @batch (left empty).
	void dispatch(std::vector<Miss> &batch);
	MissHandler handler()
	{
		return [this](std::vector<Miss> &batch) { dispatch(batch); };
	}

	std::vector<ServiceStatus> list() const; // by service ID
	std::optional<ServiceStatus> status(const std::string &name) const;
	// As ServiceHost::configure; an unknown service is an error too.
	std::optional<std::string> configure(const std::string &name, const std::string &key,
					     const std::optional<std::string> &value);

	// Out-of-band control for @service, as ServiceHost::control; no
	// module serving it: -ENOENT at once.
	void control(std::uint32_t service, const std::optional<ilp::Endpoint> &from,
		     std::vector<std::uint8_t> request, ServiceHost::ControlDone done) const;

	// For the revalidator: the timeout the service gave @flow's entry,
	// nullopt for the default.  And forgetting an entry it removed.
	std::optional<std::chrono::milliseconds> idle_timeout(const Flow &flow) const;
	void forget(const Flow &flow);

	// Misses of a service no module serves.
	std::uint64_t no_service() const noexcept { return no_service_.load(); }

private:
	using HostPtr = std::shared_ptr<ServiceHost>;

	HostPtr find(std::uint32_t id) const;
	// The host serving @service; map_mu_ held.
	const HostPtr *serving(std::uint32_t service) const;
	HostPtr find(const std::string &name) const;
	ModuleLoader::Taken taken() const;
	HostPtr host(Module module);
	void add(HostPtr host);

	Datapath &dp_;
	const std::filesystem::path state_dir_;
	const HostOptions opts_;
	const Config config_;
	const ModuleLoader loader_;

	std::mutex admin_mu_;                    // one load/unload at a time
	mutable WriterFirstMutex map_mu_;        // hosts_; dispatch() reads it per batch
	std::map<std::uint32_t, HostPtr> hosts_; // by the first ID each serves
	std::atomic<std::uint64_t> no_service_{0};
};

} // namespace ilpd

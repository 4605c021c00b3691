// SPDX-License-Identifier: GPL-2.0-or-later
//
// The execution environment of one loaded service module: its worker
// thread, its bounded packet queue, its timers, configuration and
// checkpoint, and the struct ilp_env_ops it calls the daemon through.
//
// Isolation (docs/services.md): the datapath's threads only queue packets
// (submit() never waits for the module), so a module that is slow or
// blocks fills its own queue and loses its own packets, counted as
// queue_full, while the other modules' workers go on.  A C++ exception
// out of handle() is caught and counted; a handle() running longer than
// stall_after marks the service stalled.  A module that crashes the
// process still takes ilpd down: isolation in threads costs nothing per
// packet, a process per module would cost IPC on every miss.
//
// Threads: the module's init(), handle(), timers, config_changed() and
// fini() all run on the worker, and its ilp_env calls are expected from
// there (the ABI promises nothing else, so no env call is made safe from
// other threads).  The public methods below are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datapath/datapath.hpp"
#include "environment/host_route.hpp"
#include "environment/module_loader.hpp"

namespace ilpd
{

struct HostOptions {
	// Packets waiting for the module; more are dropped (queue_full).
	std::size_t queue_depth = 1024;
	// A call into the module running longer marks it stalled.
	std::chrono::milliseconds stall_after{1000};
	// The idle timeout of entries installed without one.
	std::chrono::milliseconds default_idle_timeout{30000};
	// Answers the modules' route_host() (unset: -EOPNOTSUPP).  Called
	// on their workers; must not block.
	RouteHost route_host;
	// Answers the modules' open_pipe() (unset: -EOPNOTSUPP); the same.
	OpenPipe open_pipe;
	// Answers the modules' open_direct() (unset: -EOPNOTSUPP); the same.
	OpenDirect open_direct;
	// Answers the modules' group_hops() (unset: -EOPNOTSUPP); the same.
	GroupHops group_hops;
};

struct ServiceCounters {
	std::uint64_t packets = 0;    // handed to handle()
	std::uint64_t errors = 0;     // handle() failed or threw, bad decision, datapath error
	std::uint64_t queue_full = 0; // dropped before reaching the module
	std::uint64_t dropped = 0;    // the module decided to drop
	std::uint64_t installed = 0;  // decisions put in the cache
	std::uint64_t queued = 0;     // waiting now
	std::uint64_t stalls = 0;     // times the watchdog found it stuck
};

// What "ilpctl service list" shows of a service.
struct ServiceStatus {
	std::string name;
	std::uint32_t id = 0;      // the first service ID it serves
	std::uint32_t last_id = 0; // the last (id, for most)
	std::uint32_t abi = 0;     // the ABI version it was built for
	std::string description;
	std::filesystem::path path;
	ServiceCounters counters;
	bool stalled = false; // a call into the module is running too long now
	std::map<std::string, std::string> config;
};

class ServiceHost
{
public:
	// Hosts @module: reads its configuration (STATE_DIR/services/NAME.conf,
	// then @config over it: ilpd.conf's settings win) and its checkpoint
	// (NAME.state), starts the worker and runs init() there.  Throws
	// LoadError when init() refuses or a file cannot be read.
	ServiceHost(Module module, Datapath &dp, const std::filesystem::path &state_dir,
		    HostOptions opts = {}, const std::map<std::string, std::string> &config = {});
	// Stops the worker (packets still queued are dropped), runs fini()
	// on it, then unloads the module.
	~ServiceHost();
	ServiceHost(const ServiceHost &) = delete;
	ServiceHost &operator=(const ServiceHost &) = delete;

	// Queues @miss for the module.  Never waits for it: false when the
	// queue is full (the packet is dropped and counted).
	bool submit(Miss miss);

	// The admin changes configuration @key to @value (nullopt: unsets
	// it): the module's config_changed() judges it on the worker.
	// Returns nullopt when accepted (then persisted), else why not.
	std::optional<std::string> configure(const std::string &key,
					     const std::optional<std::string> &value);

	// The idle timeout the module gave when it installed @flow's entry,
	// else the default.  For the revalidator; any thread.
	std::chrono::milliseconds idle_timeout(const Flow &flow) const;
	// Whether the module gave @flow a timeout of its own.
	std::optional<std::chrono::milliseconds> own_idle_timeout(const Flow &flow) const;
	// Forgets what is known of @flow's entry (the revalidator removed it).
	void forget(const Flow &flow);

	// An out-of-band control request for @service (docs/control.md,
	// "Service control") from @from (nullopt: this node's own admin or
	// apps).  Queued for the module's worker, whose on_control() answers
	// it; @done gets the status (0 or a negative errno) and the answer's
	// body, on the worker, or at once here when the module has no
	// on_control (-EOPNOTSUPP) or is stopping (-ESHUTDOWN).  A module
	// that never answers never calls @done: the caller keeps a timeout.
	using ControlDone = std::function<void(int status, std::vector<std::uint8_t> reply)>;
	void control(std::uint32_t service, const std::optional<ilp::Endpoint> &from,
		     std::vector<std::uint8_t> request, ControlDone done);

	ServiceStatus status() const;
	// The services it serves: id() to last_id().
	std::uint32_t id() const noexcept;
	std::uint32_t last_id() const noexcept;
	bool serves(std::uint32_t service) const noexcept;
	const std::string &name() const noexcept;
	const std::filesystem::path &path() const noexcept;

	struct Impl;

private:
	std::unique_ptr<Impl> impl_;
};

} // namespace ilpd

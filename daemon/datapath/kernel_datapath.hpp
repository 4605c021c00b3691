// SPDX-License-Identifier: GPL-2.0-or-later
//
// The kernel datapath: ilp.ko's instance in this network namespace, driven
// over generic netlink.  Packets stay in the kernel; only misses come up
// (ILP_CMD_UPCALL, to this process's listener socket) and go back down
// with their decision (ILP_CMD_EXECUTE).
//
// Threads.  The kernel has one listener socket per namespace, so one
// thread reads it, in batches, and hands each batch to the MissHandler,
// which only queues misses to their services' own threads (see
// environment/): a slow service cannot hold up the reader or another
// service.  Those threads call execute() concurrently; netlink request
// sockets are not shared between threads, so each call leases a control
// socket from a small pool.
//
// A miss's previous hop is handed up with the port its peer entry has,
// not the flow-hashed source port it came from (see peer_ports.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <ilp/control.hpp>
#include <ilp/listener.hpp>

#include "datapath/datapath.hpp"
#include "datapath/peer_ports.hpp"

namespace ilpd
{

class KernelDatapath : public Datapath
{
public:
	// Adopts the namespace's instance, or creates one on @port when
	// there is none.  Throws ilp::ModuleNotLoaded without ilp.ko.
	explicit KernelDatapath(std::uint16_t port, std::size_t batch = 64);
	// The instance's UDP port (the adopted one's, which may differ from
	// the configured one).
	std::uint16_t port() const noexcept { return port_; }
	~KernelDatapath() override;

	std::string kind() const override { return "kernel"; }
	void start(MissHandler handler) override;
	void stop() override;
	void execute(const Miss &miss, const Actions &actions, bool install) override;
	void install(const Flow &flow, const Actions &actions) override;
	bool remove(const Flow &flow) override;
	std::optional<CacheEntry> entry(const Flow &flow) override;
	std::vector<CacheEntry> entries() override;
	void send(const ilp::Endpoint &to, std::uint32_t service, std::uint64_t conn,
		  std::span<const std::uint8_t> metadata,
		  std::span<const std::uint8_t> payload) override;
	DatapathStats stats() override;

	// Whether the instance was made here (and so is removed on exit).
	bool created_instance() const noexcept { return created_; }

private:
	class Lease;
	Lease lease();
	void read_loop(MissHandler handler);
	void resolve_prev_hops(std::vector<Miss> &batch);

	std::mutex pool_mu_;
	std::vector<std::unique_ptr<ilp::Control>> pool_;
	std::unique_ptr<ilp::Listener> listener_;
	std::thread reader_;
	std::atomic<bool> stopping_{false};
	std::atomic<std::uint64_t> execute_errors_{0};
	std::size_t batch_;
	bool created_ = false;
	// The reader thread's alone.
	PeerPorts peer_ports_;
	std::uint16_t port_ = 0;
	std::chrono::steady_clock::time_point peers_read_{};
};

} // namespace ilpd

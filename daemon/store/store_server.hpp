// SPDX-License-Identifier: GPL-2.0-or-later
//
// The other side of RemoteStore: the ilpd that holds a store (its
// edomain's core, or the lookup service's) answers its peers' requests
// for it (docs/store.md, "Over the control channel").  Each request runs
// on a thread of its own, as a watch's long poll waits there for up to
// remote::kMaxWaitMs; at most kMaxInFlight at once, beyond which a
// request is refused as busy (the client's mirror tries again later).
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/remote_protocol.hpp"
#include "store/store.hpp"

namespace ilpd::store
{

class StoreServer
{
public:
	static constexpr std::size_t kMaxInFlight = 64;

	// Whether a request may run: nullopt, or why not (answered -EPERM).
	using Check = std::function<std::optional<std::string>(const remote::Request &)>;
	// The status (0 or a negative errno) and the body to send back.
	using Done = std::function<void(int status, std::string body)>;

	// @store must outlive the server.
	explicit StoreServer(Store &store);
	// Waits for the requests in flight (a long poll ends within 200 ms).
	~StoreServer();
	StoreServer(const StoreServer &) = delete;
	StoreServer &operator=(const StoreServer &) = delete;

	// Runs @payload on a thread of its own; @done is called there, once.
	void handle(std::string payload, Check check, Done done);
	// The same, on the caller's thread.
	std::pair<int, std::string> run(const std::string &payload, const Check &check = {});

private:
	remote::Reply execute(const remote::Request &r);

	Store &store_;
	std::atomic<bool> stop_{false};
	std::mutex mu_;
	std::vector<std::future<void>> in_flight_;
};

} // namespace ilpd::store

// SPDX-License-Identifier: GPL-2.0-or-later
//
// The core store (or the lookup service's) of another ilpd, reached over
// the control channel (docs/store.md, "Over the control channel"): each
// call is a request to that node, which runs it on its own store
// (StoreServer) and answers.  What reaches the other node is up to the
// caller's RemoteCall: ilpd sends it on its association with that SN.
// When there is none, or no answer comes, calls throw StoreError
// (Unavailable), as an etcd out of reach does; a watch is a long poll
// kept outstanding across wait() calls, asked again after the last
// revision it got, so that a watcher that lost the node misses nothing.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "store/store.hpp"

namespace ilpd::store
{

// The answer to one request: @error nonzero (a positive errno, @what in
// words) when none came; otherwise the server's @status (0 or a negative
// errno) and @body.
struct RemoteAnswer {
	int error = 0;
	std::string what;
	int status = 0;
	std::string body;
};
// Sends @request; @done is called once, on any thread, within about
// @timeout.
using RemoteCall = std::function<void(std::string request, std::chrono::milliseconds timeout,
				      std::function<void(RemoteAnswer)> done)>;

// @name says where the store is, for errors and kind() ("remote
// 10.1.0.2:1000").
std::unique_ptr<Store> open_remote_store(std::string name, RemoteCall call);

} // namespace ilpd::store

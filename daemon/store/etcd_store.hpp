// SPDX-License-Identifier: GPL-2.0-or-later
//
// The core store of an edomain whose core must survive the loss of a
// machine: an etcd cluster (Debian's etcd-server), spoken to through its
// v3 API's JSON gateway (POST /v3/kv/range, /v3/kv/put, /v3/kv/txn,
// /v3/watch, ...: the gRPC messages as JSON, bytes in base64, 64-bit
// integers as strings).  The gateway needs no generated gRPC code, and
// every etcd v3 server has it.
//
// Each request goes to the member that last answered, then to the next
// on failure: with one of three members gone, the other two still answer
// (their quorum).  A watch keeps one streaming request open to one member;
// when that member goes the watch throws Unavailable and its owner makes
// a new one, from the revision after the last event it saw.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace ilpd::store
{

struct EtcdOptions {
	// The members' client URLs' host:port, e.g. "127.0.0.1:2379"
	// (plain HTTP: the members are on the edomain's own network or
	// loopback; TLS to etcd is not done yet).
	std::vector<std::string> endpoints;
	// Keys are kept under this prefix, so that one etcd may serve more
	// than ILP; the store's own keys never show it.
	std::string prefix = "/ilp/";
	std::chrono::milliseconds timeout{3000}; // per request and member
};

// Throws StoreError (Invalid) for no endpoint or one that is not
// host:port.  Connects lazily: the first request says whether etcd is
// there.
std::unique_ptr<Store> open_etcd_store(const EtcdOptions &options);

} // namespace ilpd::store

// SPDX-License-Identifier: GPL-2.0-or-later
//
// The node's associations and pipes, kept up by themselves: ilpd dials
// the SNs and peer SNs its configuration names, accepts the channels of
// hosts and SNs that trust it, keys each peer through the datapath
// (association.hpp), redials a channel that broke (with backoff), rotates
// the master key on schedule and hands every peer a new SA when it does.
//
// Everything runs on one thread of its own, an io_context's (Boost.Asio):
// channels, timers, and the datapath calls keying makes.  The control
// socket's commands (ilpctl assoc, pipe, key rotate) are posted to it and
// wait for the answer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <ilp/endpoint.hpp>

#include "association/sa_plane.hpp"
#include "options.hpp"

namespace ilpd
{

// How out-of-band control requests reach this node's service modules
// (ServiceRegistry::control): @done may be called on any thread.
using ControlAnswer = std::function<void(int status, std::vector<std::uint8_t> reply)>;
// Who a request came from, as its HELLO said (and the channel's
// certificate showed).
struct ControlFrom {
	ilp::Endpoint endpoint;
	bool sn = false;
	std::string edomain; // an SN's
};
using ServiceControlHook =
    std::function<void(std::uint32_t service, const ControlFrom &from,
		       std::vector<std::uint8_t> request, ControlAnswer done)>;

// The SVC_REQ an SN sends a host to have it set up a direct pipe with
// another host (docs/control.md, "Direct pipes"): ilpd's own, never a
// module's.  Its payload is the other host's ILP endpoint, ADDR:PORT.
inline constexpr std::uint32_t kDirectService = 0xffffff02;

// What a control request came back with.
struct ControlReply {
	int status = 0; // 0 or a negative errno, the module's
	std::vector<std::uint8_t> body;
};

// A control request's end: the module's answer (error 0), or why none
// came (a positive errno, and @what in words).
struct ControlOutcome {
	int error = 0;
	std::string what;
	ControlReply reply;
};
using ControlDone = std::function<void(ControlOutcome)>;

class AssociationManager
{
public:
	// Reads the certificates and CA bundles, listens if configured
	// (throws ilp::Error naming the file or the address) and starts
	// dialing.  @ilp_port is the datapath's UDP port, which HELLO
	// announces.  @plane must outlive the manager.
	// @services answers the requests peers send to this node's modules
	// (none: they get -EOPNOTSUPP).
	AssociationManager(SaPlane &plane, const ControlOptions &opts, bool role_sn,
			   std::uint16_t ilp_port, ServiceControlHook services = {});
	// Closes every channel (peers redial; the SAs stay, so traffic
	// keeps flowing while ilpd restarts) and stops the thread.
	~AssociationManager();
	AssociationManager(const AssociationManager &) = delete;
	AssociationManager &operator=(const AssociationManager &) = delete;

	// "ilpctl assoc show": every association and pipe (never a key).
	nlohmann::json show();
	// "ilpctl pipe show": those with SNs only.
	nlohmann::json pipes();
	// The peers whose association is up now: what an SN can forward to
	// (docs/edomains.md, "Routing").  From any thread, never waiting for
	// the association thread: a copy made there at each change.
	struct PeersUp {
		std::vector<ilp::Endpoint> hosts;        // hosts associated with this SN
		std::vector<ilp::Endpoint> direct_hosts; // those that allow direct pipes
		struct Sn {
			ilp::Endpoint endpoint;
			std::string edomain;
			bool on_demand = false; // opened by open_pipe()
		};
		std::vector<Sn> sns; // SNs it holds a pipe with
	};
	std::shared_ptr<const PeersUp> peers_up() const;
	// "ilpctl assoc add": dial @remote from now on, as a first hop
	// (a host) or a pipe (an SN).  Throws ilp::Error (EEXIST, EINVAL).
	nlohmann::json add(const RemoteConfig &remote, bool pipe);
	// A pipe with the SN at @sn (its ILP endpoint) of another edomain,
	// @edomain, opened on demand (the modules' open_pipe()): 0 when one
	// is up now; -EINPROGRESS once asked (dialed on the association
	// thread, at @sn's address on this node's control port, and closed
	// by it once idle for direct-pipe-idle); -EPERM (direct-pipes = no,
	// not an SN, or @edomain not trusted), -EINVAL (@edomain this SN's
	// own) or -ENOSPC (kMaxOnDemand opened already).  Any thread, never
	// waits.
	int open_pipe(const ilp::Endpoint &sn, const std::string &edomain);
	// The modules' open_direct() on an SN: asks the host at @from to
	// set up a direct pipe with the host at @to (an SVC_REQ to
	// kDirectService), when both are associated with this SN and both
	// allow direct pipes: -EINPROGRESS; -EPERM, -ENOENT otherwise (see
	// include/ilp/service.h).  Once per pair in 10 s.  Any thread,
	// never waits.
	int open_direct(const ilp::Endpoint &from, const ilp::Endpoint &to);
	// "ilpctl assoc del": withdraw the association with the peer at
	// @address (its ILP or control address): BYE, its SAs and cache
	// entries removed, no more redials.  Throws ilp::Error(ENOENT).
	void del(const ilp::Endpoint &address);
	// "ilpctl key rotate" through the daemon: a new master key, and a
	// new SA for every peer.
	nlohmann::json rotate();
	// Out-of-band service control: @request for @service on the SN at
	// @sn (nullopt: the default SN), answered by its module.  Throws
	// ilp::Error: ENOTCONN without an association up with it,
	// ETIMEDOUT when no answer comes within 10 s.
	ControlReply control(const std::optional<ilp::Endpoint> &sn, std::uint32_t service,
			     std::vector<std::uint8_t> request);
	// The same without waiting: @done runs once, on the association
	// thread, with the answer or the error control() would throw (no
	// association: ENOTCONN; too big: EMSGSIZE; no answer within
	// @timeout: ETIMEDOUT; the channel closed first: ECONNRESET).
	void control_async(const std::optional<ilp::Endpoint> &sn, std::uint32_t service,
			   std::vector<std::uint8_t> request, ControlDone done,
			   std::chrono::milliseconds timeout = std::chrono::seconds(10));

	// Where the control channel listens (port 0 resolved); none when it
	// does not.
	std::optional<ilp::Endpoint> listening() const;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
	std::thread thread_;
};

} // namespace ilpd

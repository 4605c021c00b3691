// SPDX-License-Identifier: GPL-2.0-or-later
//
// The userspace datapath: what ilp.ko does for a node, in ilpd, over
// plain UDP sockets, for machines without the module.  Same wire format
// (wire/ilp_wire.c, PSP as libilp does it), same decision cache semantics
// (DecisionCache), same drop reasons and counters, so that kernel and
// userspace nodes forward to each other.
//
// Threads.  handler_threads UDP sockets share the node's port
// (SO_REUSEPORT: the kernel spreads flows over them, each flow staying on
// one), each read by a thread of its own in batches (recvmmsg).  For each
// datagram a thread does what kmod/rx.c does: PSP open (nothing goes
// further unauthenticated), ILP header parse, cache lookup; a hit is
// carried out at once (copies re-sealed per next hop, sent in batches
// with sendmmsg; local delivery; drop); a miss goes to the local socket
// that claims its flow if any, else into the batch the thread hands to
// the MissHandler after the datagram batch.  The handler does not block
// (it queues to services), so a thread needs no queue of its own: misses
// cost a copy each, hits none beyond the cache's answer.
//
// Service threads call execute(), send() and the cache methods
// concurrently with the receive threads, and the control socket's thread
// changes peers, master keys and SAs while they run: each is an immutable
// table swapped whole (PeerTable, RxKeys), which a receive thread takes
// once per batch, so no lock is held across a packet's crypto.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <linux/ilp.h>

#include "datapath/datapath.hpp"
#include "datapath/decision_cache.hpp"
#include "datapath/peer_ports.hpp"
#include "datapath/udp_io.hpp"
#include "datapath/user_config.hpp"
#include "datapath/user_peers.hpp"
#include "datapath/user_sas.hpp"

namespace ilpd
{

struct Options;

// Local delivery: the application sockets of the userspace datapath (the
// AF_ILP sockets of a kernel node).  Called from receive threads and
// from execute(), concurrently: both must be thread-safe.
struct LocalDelivery {
	virtual ~LocalDelivery() = default;
	// Whether a local socket is bound to (@service, @conn), the exact
	// connection or the service's catch-all.
	virtual bool claims(std::uint32_t service, std::uint64_t conn) = 0;
	// Queues @packet (ILP header and payload, previous hop) on it.
	virtual void deliver(const Miss &packet) = 0;
};

class UserDatapath : public Datapath
{
public:
	// Reads the master keys (if configured: they may come later, with
	// key_set()) and the peers' key files, and binds the sockets;
	// starts no thread.  Throws ilp::Error (a
	// std::runtime_error) whose message names the file, or the peer's
	// configuration line.
	explicit UserDatapath(const Options &opts);
	explicit UserDatapath(const UserConfig &config);
	~UserDatapath() override;
	UserDatapath(const UserDatapath &) = delete;
	UserDatapath &operator=(const UserDatapath &) = delete;

	std::string kind() const override { return "user"; }
	// Throws std::logic_error when already started.
	void start(MissHandler handler) override;
	// Not from the handler itself: stop() joins the thread calling it.
	void stop() override;

	// As a hit would.  A miss whose data has no valid ILP header is
	// dropped and counted under its wire reason, as kmod refuses it;
	// throws std::invalid_argument for more than ILP_MAX_FORWARD next
	// hops.  Never throws for a next hop it cannot send to: that is a
	// drop, counted (no_peer, no_tx_sa, no_route, too_big).
	void execute(const Miss &miss, const Actions &actions, bool install) override;
	void install(const Flow &flow, const Actions &actions) override;
	bool remove(const Flow &flow) override;
	std::optional<CacheEntry> entry(const Flow &flow) override;
	std::vector<CacheEntry> entries() override;
	void set_cache_capacity(std::uint32_t capacity) { cache_.set_capacity(capacity); }
	void flush_cache() { cache_.flush(); }

	// Throws ilp::Error (a std::system_error): ENETUNREACH when @to is
	// not a peer, ENOKEY when its SA's IVs are spent, EMSGSIZE for a
	// packet too big, EINVAL for metadata not whole TLVs, or the errno
	// of the socket.
	void send(const ilp::Endpoint &to, std::uint32_t service, std::uint64_t conn,
		  std::span<const std::uint8_t> metadata,
		  std::span<const std::uint8_t> payload) override;

	// What kmod/sock_send.c does for an AF_ILP socket's datagram to the
	// host @dst_host: the first hop is @sn when given, else @dst_host
	// itself when it is a peer marked direct, else the default SN; the
	// header carries ILP_TLV_SRC_HOST (this host's address toward the
	// first hop, and its port) and, through an SN, ILP_TLV_DST_HOST,
	// then @metadata (whole TLVs, none of ILP's own types).  Errors as
	// the kernel's sendmsg() (ilp::Error): EINVAL (service 0 or ~0, bad
	// metadata), EMSGSIZE (over the path MTU), ENETUNREACH (no first
	// hop), ENOKEY (its SA's IVs spent).
	void send_from_host(const ilp::Endpoint &dst_host, const std::optional<ilp::Endpoint> &sn,
			    std::uint32_t service, std::uint64_t conn,
			    std::span<const std::uint8_t> metadata,
			    std::span<const std::uint8_t> payload);

	// Where packets whose flow a local socket claims go; nullptr: none.
	// The object must outlive the datapath's use of it: set it before
	// start(), or keep a replaced one alive until stop().
	void set_local_delivery(LocalDelivery *delivery) noexcept;

	DatapathStats stats() override;
	// Packets dropped, by enum ilp_drop_reason, and by the name
	// "ilpctl stats" gives each (ilp::drop_reason_name()): every
	// reason, 0 included.
	std::array<std::uint64_t, __ILP_DROP_MAX> drop_counts();
	std::map<std::string, std::uint64_t> drops();
	// Packets send_from_host() sent (the kernel's "sent").
	std::uint64_t sent();

	// The UDP port the sockets are bound to (the configured one, or the
	// one the kernel picked for port 0).
	std::uint16_t port() const noexcept { return port_; }

	// What "ilpctl stats" shows, as the kernel counts it (but the
	// sockets' counters, which are the app server's): counters since
	// the last reset_stats(), gauges as they are.
	ilp::Stats counters();
	void reset_stats();

	// Run-time configuration, from the control socket; each takes
	// effect for the next packet, with no restart.  Errors are
	// ilp::Error with the errno the kernel gives for the same command:
	// EEXIST (peer_add of a peer there), ENOENT (no such peer), EINVAL.
	struct TxSaSpec {
		std::uint32_t spi = 0;
		ilp::psp::Version version = ilp::psp::Version::AesGcm128;
		ilp::psp::SaKey key{};
	};
	void peer_add(const ilp::Endpoint &peer, const std::optional<TxSaSpec> &tx);
	void peer_set(const ilp::Endpoint &peer, const TxSaSpec &tx);
	void peer_set_direct(const ilp::Endpoint &peer, bool direct);
	// Also removes the cache entries from the peer's address and those
	// forwarding to it (DecisionCache::remove_peer()), as the kernel does.
	void peer_del(const ilp::Endpoint &peer);
	std::vector<std::shared_ptr<const TxPeer>> peers() const;

	// The host's default SN (nullopt: none).
	void set_sn(const std::optional<ilp::Endpoint> &sn);
	std::optional<ilp::Endpoint> sn() const;

	// Master keys and receive SAs (user_sas.hpp).
	RxSaTable &rx_sas() noexcept { return sas_; }

private:
	struct Counters;
	struct Worker;
	struct TxContext;
	class TxLease;

	TxLease lease();
	void run(Worker &w);
	void receive(Worker &w, std::size_t i, DecisionCache::Clock::time_point now,
		     LocalDelivery *local);
	// Whether @spi's packet from @from may be opened: the drop reason
	// when not.  @sa is set to its binding when it has one (its traffic
	// is counted once the packet opens).
	static std::optional<ilp_drop_reason> check_spi(const RxKeys &keys, std::uint32_t spi,
							const ilp::Endpoint &from,
							const RxSaBinding *&sa);
	void refresh_keys(Worker &w);
	void act(Worker &w, const Actions &actions, const Flow &flow,
		 std::span<const std::uint8_t> data, LocalDelivery *local);
	void deliver(Worker &w, LocalDelivery &local, const Flow &flow,
		     std::span<const std::uint8_t> data);
	void flush(Worker &w);
	void hand_up(Worker &w);
	// Seals @plain for @peer and sends it from a service thread; the
	// drop reason when it could not.
	std::optional<ilp_drop_reason> transmit(TxContext &tx, const TxPeer &peer,
						std::span<const std::uint8_t> plain);
	// transmit(), counted, as a thrown errno when it fails.
	void transmit_or_throw(TxContext &tx, const TxPeer &peer,
			       std::span<const std::uint8_t> plain);
	ilp::Stats raw_counters();
	// Swaps @change(current table) in, under peers_mu_.
	template <typename F>
	void change_peers(F change);

	std::uint16_t port_ = 0;
	int family_ = AF_INET6; // of the sockets
	mutable std::mutex sn_mu_;
	std::optional<ilp::Endpoint> sn_;
	// The peers, swapped whole (writers serialized by peers_mu_).  Its
	// ports() give what goes up (misses) and to apps the previous hop's
	// peer port rather than its flow-hashed source port
	// (peer_ports.hpp); cache hits need neither, as flows are keyed by
	// address.
	std::mutex peers_mu_;
	std::atomic<std::shared_ptr<const PeerTable>> peers_;
	RxSaTable sas_;
	DecisionCache cache_;
	// What reset_stats() subtracts.
	std::mutex base_mu_;
	ilp::Stats base_{};
	std::atomic<LocalDelivery *> local_{nullptr};

	std::vector<std::unique_ptr<Worker>> workers_;
	// Counters of the other threads (execute, send).
	std::unique_ptr<Counters> shared_;
	udp::Fd stop_fd_; // an eventfd: readable while the threads must stop

	std::mutex run_mu_; // start() and stop()
	bool running_ = false;
	MissHandler handler_;

	std::mutex tx_mu_;
	std::vector<std::unique_ptr<TxContext>> tx_pool_;
};

} // namespace ilpd

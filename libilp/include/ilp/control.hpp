// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The client of the kernel's "ilp" generic netlink family: what ilpctl and
// ilpd use to read and change the module's state.  Every call acts on the
// network namespace the process is in.  Errors are thrown: ModuleNotLoaded
// when the family is absent, nl::NetlinkError for what the kernel refuses.
//
// Key material (master keys, SA keys) travels in ilp::psp::Secret, wiped
// when it goes away, and so do the netlink buffers that carried it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <linux/ilp.h>

#include "ilp/endpoint.hpp"
#include "ilp/error.hpp"
#include "ilp/netlink.hpp"
#include "ilp/psp_kdf.hpp"

namespace ilp
{

class ModuleNotLoaded : public Error
{
public:
	ModuleNotLoaded();
};

struct ModuleInfo {
	std::string version;        // the module's version
	std::uint32_t genl_version; // version of the netlink family
	std::uint32_t family;       // the AF_ILP number
	std::uint8_t wire_version;  // ILP header version spoken
};

struct Stats {
	std::uint32_t sockets_open = 0;
	std::uint64_t sockets_created = 0;
	std::uint64_t sockets_refused = 0;
	std::uint64_t rx_packets = 0; // packets that authenticated
	std::uint64_t rx_bytes = 0;   // their PSP payload bytes
	std::uint64_t tx_packets = 0; // packets sealed and sent to peers
	// The decision cache.
	std::uint64_t cache_hit = 0;     // packets it decided
	std::uint64_t cache_missed = 0;  // packets sent up to the listener
	std::uint64_t cache_lost = 0;    // misses the listener could not take
	std::uint64_t cache_evicted = 0; // entries evicted for room
	std::uint32_t cache_entries = 0; // gauge
	std::uint32_t cache_capacity = 0;
	std::uint64_t cache_throttled = 0; // misses over a CPU's upcall bound (in lost too)
	std::uint32_t upcall_rate = 0;     // upcalls/s each CPU may send, 0 = no bound
	std::uint32_t upcall_burst = 0;
	std::uint64_t delivered = 0; // packets queued to AF_ILP sockets
	std::uint64_t sent = 0;      // packets AF_ILP sockets sent
	// Packets dropped, by enum ilp_drop_reason.
	std::array<std::uint64_t, __ILP_DROP_MAX> drops{};
};

// The name of an enum ilp_drop_reason ("psp_auth_failed"): for the wire
// checks the name ilpw_strerror() gives, as docs/protocol.md lists them.
// "unknown" for a reason this library does not know.
const char *drop_reason_name(unsigned reason) noexcept;

struct SocketInfo {
	std::uint64_t inode = 0;
	std::uint32_t uid = 0;
	std::uint16_t type = 0;
	std::uint32_t rmem = 0;
	std::uint32_t wmem = 0;
};

// The namespace's ILP instance.
struct InstanceInfo {
	std::uint16_t port = ILP_UDP_PORT;
	// The host's association: the SN its AF_ILP sockets send through.
	std::optional<Endpoint> default_sn;
};

// The master-key slots: never the keys themselves.
struct KeyInfo {
	std::optional<unsigned> active_slot; // none before a key is set
	bool present[2] = {false, false};
	// The kernel crypto driver sealing and opening the SAs, e.g.
	// "generic-gcm-aesni-avx"; none from a kernel that does not say.
	std::optional<std::string> aead_driver;
	// Per slot holding a key: the next SPI it allocates (slot bit
	// included; 0 for an empty slot), and whether the kernel generated
	// the key.  Whoever imports a key again passes its next SPI back
	// (key_set's @first_spi), so that no SPI is handed out twice.
	std::uint32_t next_spi[2] = {0, 0};
	bool generated[2] = {false, false};
};

// A receive SA just allocated, with the key its sender needs (to be sent
// over the control channel only).  It authenticates one previous hop,
// @peer: the kernel drops packets under it from any other address.
struct RxSa {
	std::uint32_t spi = 0;
	psp::Version version = psp::Version::AesGcm128;
	Endpoint peer;    // the address it is for; port 0 (SAs bind an address)
	psp::SaKey key{}; // key.size: 16 for version 0, 32 for version 1
};

// A receive SA as listed: no key.
struct RxSaInfo {
	std::uint32_t spi = 0;
	psp::Version version = psp::Version::AesGcm128;
	// The address it is bound to (port 0); none from a module too old
	// to bind SAs.
	std::optional<Endpoint> peer;
	// What was opened under it (ILP header and payload); zero from a
	// module too old to count.
	std::uint64_t packets = 0;
	std::uint64_t bytes = 0;
};

// A transmit SA for a peer: what the peer's sa_alloc() returned.
struct TxSaSpec {
	std::uint32_t spi = 0;
	psp::Version version = psp::Version::AesGcm128;
	psp::SaKey key{};
};

// A peer as listed: its transmit SA without the key, if it has one.
struct PeerInfo {
	struct TxSa {
		std::uint32_t spi = 0;
		psp::Version version = psp::Version::AesGcm128;
	};
	Endpoint endpoint;
	std::optional<TxSa> tx;
	bool direct = false; // a host local sockets reach without an SN
	// What was sealed for it since it was added, under every transmit SA
	// it had (ILP header and payload).
	std::uint64_t tx_packets = 0;
	std::uint64_t tx_bytes = 0;
};

// A flow of the decision cache: the packets of one connection of one
// service that came from one previous hop (address and UDP port).
struct Flow {
	Endpoint prev;
	std::uint32_t service = 0;
	std::uint64_t conn = 0;

	bool operator==(const Flow &other) const noexcept = default;
};

// What to do with a packet: a copy to each of @forward (at most
// ILP_MAX_FORWARD peers, each re-sealed with its transmit SA) and, with
// @deliver, one to the local socket; or @drop.  None of them drops too.
struct Actions {
	std::vector<Endpoint> forward;
	bool drop = false;
	bool deliver = false; // to the local AF_ILP socket bound to the flow

	bool operator==(const Actions &other) const noexcept = default;
};

// A packet the decision cache had no entry for, as the kernel sent it up
// to the listener (see ilp/listener.hpp).
struct Upcall {
	Endpoint prev; // the previous hop
	std::uint32_t service = 0;
	std::uint64_t conn = 0;
	// The decrypted ILP header and payload.
	std::vector<std::uint8_t> data;
	// Set by ilpd's datapaths, not by the kernel: @prev is the one
	// configured peer at its address, its port that peer's.
	bool known_peer = false;

	Flow flow() const { return Flow{prev, service, conn}; }
};

// An entry of the decision cache.
struct CacheEntry {
	Flow flow;
	Actions actions;
	std::uint64_t packets = 0; // that hit it
	std::uint64_t bytes = 0;
	// Milliseconds since the last hit; none if never hit.
	std::optional<std::uint64_t> used_ms;
};

class Control
{
public:
	// Opens a netlink socket and resolves the family.
	Control();

	ModuleInfo version();
	Stats stats();
	void reset_stats();
	std::vector<SocketInfo> sockets();

	// The instance: its UDP sockets on @port (ILP_UDP_PORT when
	// nullopt).  instance() is nullopt when there is none.
	void instance_add(std::optional<std::uint16_t> port);
	void instance_del();
	std::optional<InstanceInfo> instance();
	// The default SN of this host's sockets (nullopt: none).
	void instance_set_sn(const std::optional<Endpoint> &sn);

	// Master keys.  key_set() installs @key in @slot (0 or 1), and
	// makes it the slot new SPIs come from when @make_active;
	// key_rotate() puts @key in the inactive slot and makes it active.
	// An imported key's SPIs are numbered from @first_spi (1 to
	// 0x7fffffff; the slot bit is ignored).  key_generate() and
	// key_rotate() without a key have the kernel make the key, which
	// never leaves it.
	void key_set(unsigned slot, const psp::MasterKey &key, bool make_active,
		     std::uint32_t first_spi = 1);
	void key_rotate(const psp::MasterKey &key, std::uint32_t first_spi = 1);
	void key_generate(unsigned slot, bool make_active);
	void key_rotate();
	KeyInfo keys();

	// Receive SAs: a new SPI under the active master key for the
	// sender at @peer's address (its port does not matter), and the list.
	RxSa sa_alloc(psp::Version version, const Endpoint &peer);
	std::vector<RxSaInfo> sas();
	// Withdraws the receive SA of @spi: its packets are dropped from
	// then on (psp_unknown_spi), and the SPI is never allocated again.
	// Returns once no packet is being decrypted with it.  Throws
	// ilp::Error, ENOENT when no SA has @spi.
	void sa_del(std::uint32_t spi);

	// Peers, by address and port, each with an optional transmit SA.
	void peer_add(const Endpoint &peer, const std::optional<TxSaSpec> &tx);
	void peer_set(const Endpoint &peer, const TxSaSpec &tx);
	void peer_del(const Endpoint &peer);
	// Whether local AF_ILP sockets may send to @peer directly.
	void peer_set_direct(const Endpoint &peer, bool direct);
	std::vector<PeerInfo> peers();

	// Carries out @actions on the packet of @upcall (its data and
	// previous hop go back to the kernel) and, when @install, puts the
	// decision in the cache for the packet's flow as well.
	void execute(const Upcall &upcall, const Actions &actions, bool install);

	// The decision cache.  cache_add() replaces an entry of the same
	// flow; cache_get() is nullopt when the flow has none.  A full
	// cache evicts to make room; cache_set_capacity() sets how many
	// entries it holds; cache_set() sets any of that and the per-CPU
	// bound on upcalls (rate 0: none).
	void cache_add(const Flow &flow, const Actions &actions);
	void cache_del(const Flow &flow);
	std::optional<CacheEntry> cache_get(const Flow &flow);
	std::vector<CacheEntry> cache();
	void cache_flush();
	void cache_set_capacity(std::uint32_t capacity);
	struct CacheSettings {
		std::optional<std::uint32_t> capacity;
		std::optional<std::uint32_t> upcall_rate;
		std::optional<std::uint32_t> upcall_burst;
	};
	void cache_set(const CacheSettings &settings);

private:
	nl::Request request(std::uint8_t cmd, std::uint16_t flags, std::size_t capacity = 0);

	nl::GenlSocket sock_;
	nl::FamilyInfo family_;
};

} // namespace ilp

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
};

// The master-key slots: never the keys themselves.
struct KeyInfo {
	std::optional<unsigned> active_slot; // none before a key is set
	bool present[2] = {false, false};
};

// A receive SA just allocated, with the key its sender needs (to be sent
// over the control channel only).
struct RxSa {
	std::uint32_t spi = 0;
	psp::Version version = psp::Version::AesGcm128;
	psp::SaKey key{}; // key.size: 16 for version 0, 32 for version 1
};

// A receive SA as listed: no key.
struct RxSaInfo {
	std::uint32_t spi = 0;
	psp::Version version = psp::Version::AesGcm128;
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

	// Master keys.  key_set() installs @key in @slot (0 or 1), and
	// makes it the slot new SPIs come from when @make_active;
	// key_rotate() puts @key in the inactive slot and makes it active.
	void key_set(unsigned slot, const psp::MasterKey &key, bool make_active);
	void key_rotate(const psp::MasterKey &key);
	KeyInfo keys();

	// Receive SAs: a new SPI under the active master key, and the list.
	RxSa sa_alloc(psp::Version version);
	std::vector<RxSaInfo> sas();

	// Peers, by address and port, each with an optional transmit SA.
	void peer_add(const Endpoint &peer, const std::optional<TxSaSpec> &tx);
	void peer_set(const Endpoint &peer, const TxSaSpec &tx);
	void peer_del(const Endpoint &peer);
	std::vector<PeerInfo> peers();

private:
	nl::Request request(std::uint8_t cmd, std::uint16_t flags);

	nl::GenlSocket sock_;
	nl::FamilyInfo family_;
};

} // namespace ilp

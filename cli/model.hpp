// SPDX-License-Identifier: GPL-2.0-or-later
//
// What ilpctl's object commands show, whichever datapath answered: the
// kernel's (ilp.ko, over netlink) or ilpd's userspace one (over its
// control socket).  Both planes (plane.hpp) return these structs and one
// formatter per command prints them, as text or JSON, so that the two
// cannot drift.  A field one plane cannot know is still here, and still
// printed: 0 or null (the man page says which).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ilp/control.hpp>
#include <ilp/endpoint.hpp>
#include <ilp/psp_kdf.hpp>

namespace ilpctl::model
{

// The counters of "stats" (the kernel's set; the userspace datapath
// fills the same, with 0 for the upcall bound it does not have).
using Stats = ilp::Stats;
// "instance show": the UDP port and the host's default SN.
using Instance = ilp::InstanceInfo;
using TxSaSpec = ilp::TxSaSpec;
using Peer = ilp::PeerInfo;
using Flow = ilp::Flow;
using Actions = ilp::Actions;
using CacheEntry = ilp::CacheEntry;
using CacheSettings = ilp::Control::CacheSettings;

// "key show": which master-key slots are set and which is active.
struct Keys {
	std::optional<unsigned> active_slot; // none before a key is set
	bool present[2] = {false, false};
	// The AEAD implementation that seals and opens the SAs: the
	// kernel's crypto driver ("generic-gcm-aesni"), or "openssl" on
	// ilpd's datapath; null when the plane does not say.
	std::optional<std::string> aead_driver;
	// Per slot holding a key: the next SPI it allocates (slot bit
	// included; 0 for an empty slot), and whether the datapath generated
	// the key (it never leaves it then).
	std::uint32_t next_spi[2] = {0, 0};
	bool generated[2] = {false, false};
};

// "sa alloc": a receive SA just allocated, with the key its sender needs.
struct NewSa {
	std::uint32_t spi = 0;
	ilp::psp::Version version = ilp::psp::Version::AesGcm128;
	std::optional<ilp::Endpoint> peer; // the peer it is for
	ilp::psp::SaKey key{};
};

// "sa show": a receive SA, never its key.
struct Sa {
	std::uint32_t spi = 0;
	ilp::psp::Version version = ilp::psp::Version::AesGcm128;
	std::optional<ilp::Endpoint> peer; // null when the plane does not say
	// What was opened under it: ILP header and payload.
	std::uint64_t packets = 0;
	std::uint64_t bytes = 0;
};

// "version": who answered.
struct Plane {
	std::string name;  // "kernel" or "ilpd"
	std::string where; // "netlink family ilp", "socket /run/ilp/ilpd.sock"
	// The kernel plane: the module.
	std::optional<ilp::ModuleInfo> module;
	// The ilpd plane: its version and datapath ("user").
	std::optional<std::string> ilpd_version;
	std::optional<std::string> datapath;
};

} // namespace ilpctl::model

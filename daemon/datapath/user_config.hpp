// SPDX-License-Identifier: GPL-2.0-or-later
//
// What the userspace datapath takes from ilpd's Options: a plain struct,
// so that tests and tools can make a datapath without a configuration
// file; user_config() picks it out of Options.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <ilp/endpoint.hpp>
#include <ilp/psp_kdf.hpp>

namespace ilpd
{

struct Options;

// A peer and the transmit SA it gave us (PeerConfig of options.hpp).
struct UserPeerConfig {
	ilp::Endpoint endpoint;
	std::uint32_t spi = 0;
	ilp::psp::Version version = ilp::psp::Version::AesGcm128;
	std::filesystem::path keyfile;
	bool direct = false;
	std::string where; // "FILE:LINE", for messages
};

struct UserConfig {
	std::uint16_t port = 1000;         // 0: any free port (tests)
	std::filesystem::path master_keys; // empty: keys come from ilpctl
	// Where the receive SAs' allocations are kept (user_sas.hpp);
	// empty: not kept (tests).
	std::filesystem::path state_dir;
	std::vector<UserPeerConfig> peers;
	std::optional<ilp::Endpoint> sn; // the host's default SN
	std::uint32_t cache_capacity = 65536;
	unsigned handler_threads = 2; // receive threads, one socket each
};

UserConfig user_config(const Options &opts);

} // namespace ilpd

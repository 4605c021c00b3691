// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The client of the kernel's "ilp" generic netlink family: what ilpctl and
// ilpd use to read and change the module's state.  Every call acts on the
// network namespace the process is in.  Errors are thrown: ModuleNotLoaded
// when the family is absent, nl::NetlinkError for what the kernel refuses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ilp/error.hpp"
#include "ilp/netlink.hpp"

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
};

struct SocketInfo {
	std::uint64_t inode = 0;
	std::uint32_t uid = 0;
	std::uint16_t type = 0;
	std::uint32_t rmem = 0;
	std::uint32_t wmem = 0;
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

private:
	nl::Request request(std::uint8_t cmd, std::uint16_t flags);

	nl::GenlSocket sock_;
	nl::FamilyInfo family_;
};

} // namespace ilp

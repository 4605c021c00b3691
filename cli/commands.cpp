// SPDX-License-Identifier: GPL-2.0-or-later
#include <iostream>

#include "ilpctl.hpp"

namespace ilpctl
{

namespace
{

const Command table[] = {
    {"version", "", "", "show the versions of ilpctl and of the loaded module", 0, 0, false,
     cmd_version},
    {"stats", "show", "", "show the counters of this network namespace", 0, 0, false,
     cmd_stats_show},
    {"stats", "reset", "", "zero the counters of this network namespace", 0, 0, true,
     cmd_stats_reset},
    {"socket", "show", "", "list the AF_ILP sockets of this network namespace", 0, 0, false,
     cmd_socket_show},
    // Options count as arguments here; the handlers check them.
    {"pcap", "decrypt", "--master-keys FILE [--port N] IN OUT",
     "decrypt the ILP packets of an Ethernet capture", 2, 7, false, cmd_pcap_decrypt},
    {"pcap", "encrypt", "--master-keys FILE --spi SPI [--version 0|1] [--port N] IN OUT",
     "encrypt a capture's UDP payloads to the ILP port as one PSP SA", 2, 11, false,
     cmd_pcap_encrypt},
};

} // namespace

std::span<const Command> commands()
{
	return table;
}

void Context::emit(const nlohmann::json &j) const
{
	out << j.dump(pretty ? 2 : -1) << '\n';
}

} // namespace ilpctl

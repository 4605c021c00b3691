// SPDX-License-Identifier: GPL-2.0-or-later
#include <iostream>

#include <linux/ilp.h>

#include "ilpctl.hpp"

namespace ilpctl
{

namespace
{

const Command table[] = {
    {"version", "", "", "show ilpctl's version and the datapath's it talks to", 0, 0, false,
     cmd_version},
    {"stats", "show", "", "show the counters of this network namespace", 0, 0, false,
     cmd_stats_show},
    {"stats", "reset", "", "zero the counters of this network namespace", 0, 0, true,
     cmd_stats_reset},
    {"socket", "show", "", "list the AF_ILP sockets of this network namespace", 0, 0, false,
     cmd_socket_show},
    {"instance", "add", "[port N]", "create the ILP instance, on UDP port N (default 1000)", 0, 2,
     true, cmd_instance_add},
    {"instance", "del", "", "destroy the instance, with its peers and SAs", 0, 0, true,
     cmd_instance_del},
    {"instance", "show", "", "show the instance's UDP port and default SN", 0, 0, false,
     cmd_instance_show},
    {"instance", "set", "sn ADDR[:PORT]|none",
     "the SN this host's AF_ILP sockets send through (its association)", 2, 2, true,
     cmd_instance_set},
    {"key", "set", "SLOT FILE|generate [active] [next-spi N]",
     "install master key SLOT (0 or 1); active: new SAs use it", 2, 5, true, cmd_key_set},
    {"key", "rotate", "[FILE [next-spi N]]",
     "put FILE's key (none: a generated one) in the inactive slot, make it active", 0, 3, true,
     cmd_key_rotate},
    {"key", "show", "", "show which master key slots are set, which is active", 0, 0, false,
     cmd_key_show},
    {"sa", "alloc", "peer ADDR [version 0|1]",
     "allocate a receive SA for a peer: print its SPI and key for it", 2, 4, true, cmd_sa_alloc},
    {"sa", "show", "", "list the receive SAs (never their keys)", 0, 0, false, cmd_sa_show},
    {"sa", "del", "SPI", "withdraw a receive SA: its packets are dropped from now on", 1, 1, true,
     cmd_sa_del},
    // The transmit SA lives with its peer; "sa set" is "peer set" by the SA's name.
    {"sa", "set", "PEER[:PORT] spi SPI version 0|1 keyfile FILE",
     "set the transmit SA a peer allocated for us", 7, 7, true, cmd_peer_set},
    {"peer", "add", "ADDR[:PORT] [spi SPI version 0|1 keyfile FILE] [direct on|off]",
     "add a peer, with the transmit SA it allocated for us", 1, 9, true, cmd_peer_add},
    {"peer", "set", "ADDR[:PORT] [spi SPI version 0|1 keyfile FILE] [direct on|off]",
     "replace a peer's transmit SA; direct: sockets may send to it without an SN", 3, 9, true,
     cmd_peer_set},
    {"peer", "del", "ADDR[:PORT]", "remove a peer", 1, 1, true, cmd_peer_del},
    {"peer", "show", "", "list the peers and their transmit SAs (never keys)", 0, 0, false,
     cmd_peer_show},
    // The handlers check the keywords of "cache add" and "cache del".
    {"cache", "show", "", "list the decision cache's entries and their counters", 0, 0, false,
     cmd_cache_show},
    {"cache", "add", "PREV[:PORT] service S conn C {forward ADDR[:PORT]}... [deliver]|drop",
     "install the decision for a flow, replacing its entry", 1, 6 + 2 * ILP_MAX_FORWARD, true,
     cmd_cache_add},
    {"cache", "del", "PREV[:PORT] service S conn C", "remove the entry of a flow", 1, 5, true,
     cmd_cache_del},
    {"cache", "flush", "", "remove every entry of the decision cache", 0, 0, true, cmd_cache_flush},
    {"cache", "set-capacity", "N", "hold at most N entries (evicting beyond them)", 1, 1, true,
     cmd_cache_set_capacity},
    {"cache", "set", "[capacity N] [upcall-rate R] [upcall-burst B]",
     "set the capacity and each CPU's bound on misses sent up (rate 0: none)", 2, 6, true,
     cmd_cache_set},
    // Options count as arguments here; the handlers check them.
    {"pcap", "decrypt", "--master-keys FILE [--port N] IN OUT",
     "decrypt the ILP packets of an Ethernet capture", 2, 7, false, cmd_pcap_decrypt},
    {"pcap", "encrypt", "--master-keys FILE --spi SPI [--version 0|1] [--port N] IN OUT",
     "encrypt a capture's UDP payloads to the ILP port as one PSP SA", 2, 11, false,
     cmd_pcap_encrypt},
    // ilpd's, over its control socket (-S): root or ilpd's user, not CAP_NET_ADMIN.
    {"service", "list", "", "list ilpd's services, their counters and configuration", 0, 0, false,
     cmd_service_list},
    {"service", "load", "PATH", "load the service module at PATH into ilpd", 1, 1, false,
     cmd_service_load},
    {"service", "unload", "NAME", "unload service NAME from ilpd", 1, 1, false, cmd_service_unload},
    {"service", "config", "NAME [KEY=VALUE]...", "set keys of a service's configuration; show it",
     1, 1 + 256, false, cmd_service_config},
    {"service", "control", "SERVICE [sn ADDR | local] [REQUEST]",
     "send a control request to SERVICE's module on the SN (or this node), print the answer", 1, 4,
     false, cmd_service_control},
    {"daemon", "status", "", "show ilpd's uptime, datapath, roles and services", 0, 0, false,
     cmd_daemon_status},
    {"assoc", "show", "", "list ilpd's associations and pipes: state, identity, SPIs, age", 0, 0,
     false, cmd_assoc_show},
    {"assoc", "add", "ADDR[:PORT] edomain NAME [pipe]",
     "associate with the SN at ADDR (its control port), or keep a pipe with it", 3, 4, false,
     cmd_assoc_add},
    {"assoc", "del", "ADDR", "withdraw the association with ADDR: its SAs and cache entries", 1, 1,
     false, cmd_assoc_del},
    {"pipe", "show", "", "list ilpd's pipes with other SNs", 0, 0, false, cmd_pipe_show},
    {"edomain", "show", "", "show ilpd's edomain core and the gateway map learned from it", 0, 0,
     false, cmd_edomain_show},
    {"edomain", "resolve", "HOST[:PORT]",
     "list the SNs of this edomain that the host is associated with, by the core", 1, 1, false,
     cmd_edomain_resolve},
    {"lookup", "show", "", "show the lookup service's store, its hosts per edomain and its groups",
     0, 0, false, cmd_lookup_show},
    {"lookup", "statement", "LABEL ID TEXT key FILE",
     "sign TEXT with the Ed25519 key in FILE, as statement ID of the group FILE's key owns, "
     "and post it at the lookup service",
     5, 5, false, cmd_lookup_statement},
    {"group", "show", "",
     "on an SN, its hosts' groups and where else they have members; on a host, what it holds", 0, 0,
     false, cmd_group_show},
    {"group", "join", "GROUP [grant FILE]",
     "join GROUP (KEYHEX:LABEL) at the first-hop SN, with the owner's grant in FILE unless the "
     "group is open",
     1, 3, false, cmd_group_join},
    {"group", "leave", "GROUP", "leave GROUP", 1, 1, false, cmd_group_leave},
    {"group", "register", "GROUP [grant FILE]",
     "register as a sender to GROUP at the first-hop SN, with the owner's grant unless open", 1, 3,
     false, cmd_group_register},
    {"group", "unregister", "GROUP", "no longer send to GROUP", 1, 1, false, cmd_group_unregister},
    {"group", "grant", "LABEL member|sender HOST until WHEN key FILE",
     "as the owner of the group LABEL (the Ed25519 key in FILE), grant HOST the role until WHEN "
     "(Unix time or +SECONDS); prints the grant",
     7, 7, false, cmd_group_grant},
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

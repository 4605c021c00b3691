// SPDX-License-Identifier: GPL-2.0-or-later
//
// ilpd's configuration: every key of /etc/ilp/ilpd.conf is also a
// command-line flag (the command line wins).  The file is read by
// Boost.Program_options' config-file parser; unknown keys and bad values
// are errors that name the file and line.  Paths may be relative: from the
// file's directory when set in the file, from the working directory when
// given as a flag; Options holds them absolute.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <ilp/endpoint.hpp>
#include <ilp/psp_kdf.hpp>

namespace ilpd
{

enum class DatapathKind { Auto, Kernel, User };
enum class LogLevel { Error, Warn, Info, Debug };

// A peer of the userspace datapath ("peer = ADDR[:PORT] spi SPI version V
// keyfile FILE [direct]"): its transmit SA, as "ilpctl peer add" gives the
// kernel's.  The kernel datapath takes its peers from ilpctl instead.
struct PeerConfig {
	ilp::Endpoint endpoint;
	std::uint32_t spi = 0;
	ilp::psp::Version version = ilp::psp::Version::AesGcm128;
	std::filesystem::path keyfile;
	bool direct = false; // a host that may be reached without an SN
	std::string where;   // "FILE:LINE" or "--peer", for messages
};

// "service-config = NAME KEY=VALUE": a service's configuration at start.
struct ServiceSetting {
	std::string service, key, value;
	std::string where;
};

// "first-hop = ADDR[:PORT] edomain NAME" (a host's SN) and "pipe = ADDR[:PORT]
// edomain NAME" (an SN's peer SN): whom ilpd dials on its control channel,
// and which edomain's CA bundle must have signed the certificate it shows.
struct RemoteConfig {
	ilp::Endpoint control; // address and TCP port (control-port when none given)
	std::string edomain;
	std::string where;
};

// "first-hop-domain = DOMAIN edomain NAME": a host's SNs, found in DNS (the
// SVCB records at _ilp.DOMAIN, docs/control.md), whose certificates NAME's
// CA bundle must have signed: the edomain is configured, never learned
// from DNS.
struct DomainConfig {
	std::string domain; // lowercase, no trailing dot
	std::string edomain;
	std::string where;
};

// "trust = EDOMAIN CAFILE": the CA bundle of an edomain this node trusts.
struct TrustConfig {
	std::string edomain;
	std::filesystem::path ca;
	std::string where;
};

enum class HostAuthMode { None, Optional, Required };

// The control channel between ilpd instances (docs/control.md).
struct ControlOptions {
	std::uint16_t port = 1001;                      // TCP
	std::optional<bool> listen;                     // unset: an SN listens, a host does not
	std::filesystem::path certificate, private_key; // PEM; none: anonymous (a host)
	std::string edomain;                            // an SN's
	std::vector<TrustConfig> trust;
	std::filesystem::path host_ca; // CA bundle of hosts' client certificates
	HostAuthMode host_auth = HostAuthMode::Optional;
	std::vector<RemoteConfig> first_hops; // a host's SNs, the first the default
	std::vector<RemoteConfig> pipes;      // an SN's peer SNs
	// Direct host-to-host pipes (paper section 3.2): whether this host
	// allows them, and the neighbours it sets one up with.
	bool direct = false;
	std::vector<RemoteConfig> neighbours;
	// Pipes an SN opens on demand with SNs of other edomains (paper
	// section 3.2, when a service asks: the ilp_env_ops open_pipe()),
	// each closed once no packet used it for direct_pipe_idle.
	bool direct_pipes = true;
	std::chrono::milliseconds direct_pipe_idle{std::chrono::seconds(30)};
	std::vector<DomainConfig> first_hop_domains; // after first_hops, in order
	std::optional<ilp::Endpoint> dns_server;     // unset: /etc/resolv.conf's
	ilp::psp::Version psp_version = ilp::psp::Version::AesGcm128;
	std::chrono::milliseconds rekey_interval{std::chrono::hours(24)};
	std::chrono::milliseconds keepalive{std::chrono::seconds(10)};
	std::chrono::milliseconds dead_peer{std::chrono::seconds(30)};
	std::chrono::milliseconds handshake{std::chrono::seconds(10)};
	std::chrono::milliseconds reconnect_max{std::chrono::seconds(30)};
	unsigned max_handshaking = 64;

	// Whether ilpd runs the control channel at all.
	bool enabled() const
	{
		return listen.value_or(false) || !first_hops.empty() || !pipes.empty() ||
		       !first_hop_domains.empty();
	}
};

// A store (docs/store.md): SQLite in a file, an etcd cluster, or the
// store of another ilpd, over the control channel of this node's
// association with it.
struct StoreConfig {
	enum class Kind { None, Sqlite, Etcd, Remote };
	Kind kind = Kind::None;
	std::filesystem::path file;         // sqlite: the store's file
	std::vector<std::string> endpoints; // etcd: its members' HOST:PORT
	std::string prefix = "/ilp/";       // etcd: the keys' prefix
	ilp::Endpoint node;                 // remote: the SN that holds it (port 0: any)
	std::string where;                  // the line, for errors
};

// The edomain core (docs/store.md, docs/edomains.md): the store its SNs
// share, and what this SN publishes there.
struct CoreConfig : StoreConfig {
	// The edomains this SN is its edomain's gateway to (it holds the
	// pipe to each), and the address its edomain's SNs reach it at
	// (unset: its certificate's first IP).
	std::vector<std::string> gateway_for;
	std::optional<ilp::Endpoint> address;
	// The lookup service's store (docs/edomains.md, "The lookup
	// service"): where hosts are found across edomains.
	StoreConfig lookup;
};

struct Options {
	bool role_host = false;
	bool role_sn = false;
	DatapathKind datapath = DatapathKind::Auto;
	LogLevel log_level = LogLevel::Info;
	std::filesystem::path state_dir = "/var/lib/ilp";
	std::filesystem::path config = "/etc/ilp/ilpd.conf";
	// Sockets: the control socket (ilpctl) and the applications' socket
	// of the userspace datapath.
	std::filesystem::path run_dir = "/run/ilp";
	std::filesystem::path plugin_dir = ILPD_PLUGIN_DIR;
	std::vector<std::string> services; // loaded at start; empty: all
	std::vector<ServiceSetting> service_config;
	unsigned handler_threads = 2;
	std::uint32_t idle_timeout_ms = 30000; // of cache entries, by default
	std::uint32_t revalidate_ms = 1000;    // how often the revalidator runs
	// The userspace datapath.
	std::uint16_t port = 1000;
	std::filesystem::path master_keys; // a master-keys file, as ilpctl key reads
	std::vector<PeerConfig> peers;
	std::optional<ilp::Endpoint> sn; // the host's default SN
	std::uint32_t cache_capacity = 65536;
	ControlOptions control;
	CoreConfig core;
};

// What the caller should do after parsing.
enum class Parsed { Run, ExitOk };

struct ConfigError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// Parses @args (argv without argv[0]) and the configuration file.  Throws
// ConfigError with a message naming the file and line, or the flag.
// Prints --help and --version output to stdout and returns ExitOk.
Parsed parse_options(const std::vector<std::string> &args, Options &opts);

const char *to_string(DatapathKind d);

// One "peer" or "service-config" value; @where names its origin in errors.
PeerConfig parse_peer(const std::string &text, const std::string &where);
ServiceSetting parse_service_setting(const std::string &text, const std::string &where);
// "first-hop"/"pipe" values (@default_port when no port is given), "trust"
// values and durations ("30s", "500ms", "1d"; a bare number is seconds).
RemoteConfig parse_remote(const std::string &text, std::uint16_t default_port,
			  const std::string &where, const std::string &key);
bool valid_edomain(const std::string &name);
// A "first-hop-domain" value.
DomainConfig parse_first_hop_domain(const std::string &text, const std::string &where);
// A "dns-server" value, ADDR[:PORT] (53 when no port is given).
ilp::Endpoint parse_dns_server(const std::string &text, const std::string &where);
// Whether "ADDR[:PORT]" text names a port ("a.b.c.d:P" or "[v6]:P").
bool names_port(const std::string &text);
TrustConfig parse_trust(const std::string &text, const std::string &where);
// A "core" or "lookup" (@key) value: "sqlite [FILE]" (FILE relative to
// @state_dir, KEY.db by default), "etcd HOST:PORT[,HOST:PORT...]
// [prefix PREFIX]" or "ilp ADDR[:PORT]" (the SN at ADDR holds it).
StoreConfig parse_store(const std::string &key, const std::string &text, const std::string &where,
			const std::filesystem::path &state_dir);
std::chrono::milliseconds parse_duration(const std::string &text, const std::string &where,
					 const std::string &key);

} // namespace ilpd

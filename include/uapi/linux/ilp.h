/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ilp.h - the interface between ilp.ko and userspace
 *
 * The Interposition-Layer Protocol (ILP) carries packets between hosts and
 * service nodes (SNs), one PSP-encrypted hop at a time.  This header is the
 * whole contract between the kernel module and userspace: the AF_ILP socket
 * family, its address and options, and the "ilp" generic netlink family.
 * docs/protocol.md describes the wire format; docs/netlink.md the commands.
 *
 * Numbering rules: values are never renumbered or reused.  New commands,
 * attributes, options and cmsg types are appended before the __*_MAX marker
 * of their enum.
 */
#ifndef _UAPI_LINUX_ILP_H
#define _UAPI_LINUX_ILP_H

#include <linux/types.h>
#include <linux/socket.h>	/* __kernel_sa_family_t */

/* ------------------------------------------------------------------ */
/* The socket family                                                   */
/* ------------------------------------------------------------------ */

/*
 * Mainline has no free address family number below AF_MAX, so ilp.ko takes
 * a retired one: by default 19 (the former AF_ECONET, removed in Linux 3.5).
 * The module parameter "family" selects another; the number in use is
 * published in /sys/module/ilp/parameters/family.  Applications must read it
 * from there (libilp does) rather than compile this default in.
 */
#define ILP_AF_DEFAULT		19
#define ILP_AF_SYSFS_PATH	"/sys/module/ilp/parameters/family"

/* socket(AF_ILP, SOCK_DGRAM, protocol): protocol 0 or ILP_PROTO_DGRAM. */
#define ILP_PROTO_DGRAM		0

/*
 * An ILP endpoint address: an IPv4 or IPv6 address and the UDP port of the
 * node's ILP instance (0 means the default port, ILP_UDP_PORT).
 */
struct ilp_inaddr {
	__u16	family;		/* AF_INET, AF_INET6, or 0 for "none" */
	__be16	port;		/* network byte order */
	__u32	scope_id;	/* IPv6 link-local scope */
	union {
		__be32	v4;
		__u8	v6[16];
	} addr;
};

/*
 * struct sockaddr_ilp - the address of an AF_ILP socket.
 *
 * @silp_service: ILP service ID (host byte order).
 * @silp_conn: connection ID (host byte order); ILP_CONN_ANY when binding
 *	to every connection of a service.
 * @silp_host: the destination (or source) host.
 * @silp_sn: the SN that serves @silp_host; family 0 lets the kernel use
 *	the host's association.
 */
struct sockaddr_ilp {
	__kernel_sa_family_t	silp_family;	/* AF_ILP */
	__u16			silp_flags;	/* ILP_ADDR_F_*, 0 for now */
	__u32			silp_service;
	__u64			silp_conn;
	struct ilp_inaddr	silp_host;
	struct ilp_inaddr	silp_sn;
};

#define ILP_CONN_ANY		0ULL

/* Services 1..ILP_SERVICE_RESERVED_MAX need CAP_NET_BIND_SERVICE to bind. */
#define ILP_SERVICE_RESERVED_MAX	1023

/* Socket options, at level SOL_ILP. */
#define SOL_ILP			300

enum {
	ILP_SO_UNSPEC,
	ILP_SO_METADATA,	/* sticky TLV metadata sent with every packet */
	ILP_SO_RECVMETADATA,	/* int: deliver ILP_CMSG_METADATA on receive */
	__ILP_SO_MAX,
};

/* Control message types, at level SOL_ILP. */
enum {
	ILP_CMSG_UNSPEC,
	ILP_CMSG_METADATA,	/* TLV metadata of one packet */
	__ILP_CMSG_MAX,
};

/* ------------------------------------------------------------------ */
/* The wire                                                            */
/* ------------------------------------------------------------------ */

#define ILP_UDP_PORT		1000	/* PSP's UDP port */
#define ILP_PSP_NEXTHDR		253	/* PSP Next Header naming ILP (RFC 3692) */
#define ILP_WIRE_VERSION	0	/* ILP header version this module speaks */

/*
 * ILP's own TLVs (types 0x0001-0x00ff; docs/protocol.md).  Their value is
 * an address, 4 (IPv4) or 16 (IPv6) bytes, then a 2-byte port, both in
 * network order.  The sending host's kernel adds them; an application
 * cannot set them in its metadata.
 */
#define ILP_TLV_SRC_HOST	0x0001	/* the host that sent the packet */
#define ILP_TLV_DST_HOST	0x0002	/* the host it is for, when the first hop is an SN */
#define ILP_TLV_OWN_MAX		0x00ff
#define ILP_TLV_CRITICAL	0x8000	/* type bit: drop the packet if unknown */
#define ILP_METADATA_MAX	1024	/* bytes of TLVs a socket may send */

/* ------------------------------------------------------------------ */
/* Generic netlink                                                     */
/* ------------------------------------------------------------------ */

#define ILP_GENL_NAME		"ilp"
#define ILP_GENL_VERSION	1

/*
 * Commands.  Everything that changes state, and reading peers and SAs,
 * needs CAP_NET_ADMIN in the user namespace that owns the network
 * namespace (GENL_UNS_ADMIN_PERM).
 */
enum ilp_cmd {
	ILP_CMD_UNSPEC,

	/*
	 * ILP_CMD_VERSION_GET - describe the module.  No request attributes.
	 * Reply: ILP_A_VERSION, ILP_A_FAMILY, ILP_A_WIRE_VERSION.
	 */
	ILP_CMD_VERSION_GET,

	/*
	 * ILP_CMD_STATS_GET - counters of the caller's network namespace.
	 * Reply: ILP_A_STATS (nest of ILP_STATS_A_*).
	 */
	ILP_CMD_STATS_GET,

	/*
	 * ILP_CMD_STATS_RESET - zero the counters of the caller's network
	 * namespace (gauges such as ILP_STATS_A_SOCKETS_OPEN are not
	 * counters and keep their value).  Admin only.
	 */
	ILP_CMD_STATS_RESET,

	/*
	 * ILP_CMD_SOCK_GET - dump only: one message per AF_ILP socket of the
	 * caller's network namespace, each with ILP_A_SOCK (nest of
	 * ILP_SOCK_A_*).  NLM_F_DUMP_INTR is set if the set of sockets
	 * changed while the dump ran.
	 */
	ILP_CMD_SOCK_GET,

	/*
	 * ILP_CMD_INSTANCE_NEW - create the namespace's ILP instance: its
	 * UDP sockets (IPv4 and IPv6) on ILP_INSTANCE_A_PORT (default
	 * ILP_UDP_PORT).  One instance per namespace.  Admin only.
	 * Request: ILP_A_INSTANCE (nest of ILP_INSTANCE_A_*), optional.
	 */
	ILP_CMD_INSTANCE_NEW,
	/* ILP_CMD_INSTANCE_DEL - destroy it, with its peers and SAs.  Admin. */
	ILP_CMD_INSTANCE_DEL,
	/* ILP_CMD_INSTANCE_GET - reply: ILP_A_INSTANCE. */
	ILP_CMD_INSTANCE_GET,

	/*
	 * ILP_CMD_KEY_SET - install a PSP master key.  Request: ILP_A_KEY
	 * with ILP_KEY_A_SLOT and optionally ILP_KEY_A_ACTIVE (make it the
	 * slot new SPIs come from).  Without ILP_KEY_A_MASTER the kernel
	 * generates the key (get_random_bytes), which never leaves it and
	 * goes with the instance; with it, the key is imported, and
	 * ILP_KEY_A_NEXT_SPI says where its SPI numbering resumes (see
	 * there).  Replacing a slot's key removes the receive SAs under the
	 * old one.  Admin.
	 */
	ILP_CMD_KEY_SET,
	/*
	 * ILP_CMD_KEY_ROTATE - a key replaces the inactive slot and becomes
	 * active; SAs under the previously active key live on.  The key is
	 * generated, or imported from ILP_KEY_A_MASTER (and
	 * ILP_KEY_A_NEXT_SPI), as for ILP_CMD_KEY_SET.  Admin.
	 */
	ILP_CMD_KEY_ROTATE,
	/*
	 * ILP_CMD_KEY_GET - reply: ILP_A_KEY with ILP_KEY_A_ACTIVE_SLOT,
	 * one ILP_KEY_A_SLOT_PRESENT and one ILP_KEY_A_NEXT_SPI per
	 * installed slot, one ILP_KEY_A_SLOT_GENERATED per generated key, and
	 * ILP_KEY_A_AEAD_DRIVER.  Never a key.
	 */
	ILP_CMD_KEY_GET,

	/*
	 * ILP_CMD_SA_ALLOC - allocate a receive SA: a new SPI under the
	 * active master key, for ILP_SA_A_VERSION, bound to the peer
	 * ILP_SA_A_PEER_ADDR (required).  Reply: ILP_A_SA with ILP_SA_A_SPI
	 * and ILP_SA_A_KEY, which the sender needs (send them over the
	 * control channel only).  Admin.
	 */
	ILP_CMD_SA_ALLOC,
	/*
	 * ILP_CMD_SA_GET - dump the receive SAs (SPI, version, peer; no
	 * keys).  Admin.
	 */
	ILP_CMD_SA_GET,

	/*
	 * ILP_CMD_PEER_NEW - add a peer (ILP_A_PEER with ILP_PEER_A_ADDR and
	 * optionally ILP_PEER_A_PORT) and optionally its transmit SA
	 * (ILP_PEER_A_TX_SPI, _TX_VERSION and _TX_KEY together).  Admin.
	 */
	ILP_CMD_PEER_NEW,
	/*
	 * ILP_CMD_PEER_SET - replace a peer's transmit SA; packets in
	 * flight under the old one are not lost.  The same SPI again keeps
	 * its IV counters; another SA (SPI and key) installed for the peer
	 * before is refused (EKEYREJECTED, see ILP_MAX_TX_SAS_INSTALLED).
	 * Admin.
	 */
	ILP_CMD_PEER_SET,
	/*
	 * ILP_CMD_PEER_DEL - remove a peer (by address and port), and the
	 * decision-cache entries from it and to it: those whose previous hop
	 * is its address (flows are keyed by address, so whatever port
	 * another peer at that address has) and those that forward to it.
	 * An entry that forwards to several next hops, the peer one of
	 * them, goes whole: the listener decides the flow again at its next
	 * miss.  Its receive SAs stay (ILP_CMD_SA_DEL withdraws them).
	 * Admin.
	 */
	ILP_CMD_PEER_DEL,
	/* ILP_CMD_PEER_GET - dump the peers (no keys).  Admin, as reading
	 * who talks to whom is. */
	ILP_CMD_PEER_GET,

	/*
	 * ILP_CMD_LISTEN - make the requesting socket the namespace's
	 * upcall listener: misses of the decision cache are sent to it as
	 * ILP_CMD_UPCALL messages.  Closing the socket unregisters it.  While
	 * one listener lives, another socket's request fails with EBUSY.
	 * Admin.
	 */
	ILP_CMD_LISTEN,
	/*
	 * ILP_CMD_UPCALL - kernel to listener: a packet the cache had no
	 * decision for.  ILP_A_PACKET (nest of ILP_PKT_A_*): the previous
	 * hop (ILP_PKT_A_PREV_ADDR, _PREV_PORT), ILP_PKT_A_SERVICE,
	 * ILP_PKT_A_CONN and ILP_PKT_A_DATA (decrypted ILP header and
	 * payload).
	 */
	ILP_CMD_UPCALL,
	/*
	 * ILP_CMD_EXECUTE - carry out ILP_A_ACTIONS on the packet in
	 * ILP_A_PACKET (ILP_PKT_A_DATA and the previous hop, as an upcall
	 * gave them).  With ILP_A_CACHE also install the decision for the
	 * packet's (previous hop, service, connection).  Admin.
	 */
	ILP_CMD_EXECUTE,
	/*
	 * ILP_CMD_CACHE_ADD - install ILP_A_ACTIONS for the flow in
	 * ILP_A_CACHE (ILP_CACHE_A_PREV_ADDR, _SERVICE, _CONN; no
	 * _PREV_PORT, flows are keyed by address), replacing an entry for the
	 * same flow.  Admin.
	 */
	ILP_CMD_CACHE_ADD,
	/* ILP_CMD_CACHE_DEL - remove the entry of the flow in ILP_A_CACHE. Admin. */
	ILP_CMD_CACHE_DEL,
	/*
	 * ILP_CMD_CACHE_GET - do: the entry of one flow; dump: every entry.
	 * Replies: ILP_A_CACHE with the flow, ILP_CACHE_A_PACKETS,
	 * _BYTES, _USED_MS (milliseconds since last hit, absent if never)
	 * and ILP_A_ACTIONS.
	 */
	ILP_CMD_CACHE_GET,
	/* ILP_CMD_CACHE_FLUSH - remove every entry.  Admin. */
	ILP_CMD_CACHE_FLUSH,
	/*
	 * ILP_CMD_CACHE_SET - any of ILP_CACHE_A_CAPACITY: the most entries
	 * the cache holds (beyond it, inserting evicts);
	 * ILP_CACHE_A_UPCALL_RATE and _BURST: each CPU's bound on upcalls
	 * (beyond it, misses count as lost and throttled).  Admin.
	 */
	ILP_CMD_CACHE_SET,

	/*
	 * ILP_CMD_INSTANCE_SET - the host's association: ILP_INSTANCE_A_SN_ADDR
	 * and _SN_PORT name the default SN (a peer) that AF_ILP sockets send
	 * through; an empty ILP_INSTANCE_A_SN_ADDR removes it.  Admin.
	 */
	ILP_CMD_INSTANCE_SET,

	/*
	 * ILP_CMD_SA_EXHAUSTING - kernel to the ILP_MCGRP_EVENTS multicast
	 * group, once per transmit SA: on one CPU the SA has used 15/16 of
	 * its IVs (docs/protocol.md, "IVs").  ILP_A_PEER with
	 * ILP_PEER_A_ADDR, _PORT, _TX_SPI and _TX_VERSION.  Get a new SA
	 * from the peer and install it before they run out: a packet that
	 * would need one more is dropped (ILP_DROP_TX_IV_SPENT), never sent
	 * with a nonce used before.
	 */
	ILP_CMD_SA_EXHAUSTING,

	/*
	 * ILP_CMD_SA_DEL - withdraw a receive SA: ILP_A_SA with ILP_SA_A_SPI
	 * alone.  From then on packets under the SPI are dropped
	 * (ILP_DROP_PSP_UNKNOWN_SPI); those being decrypted with it when the
	 * request comes finish first.  The SPI is never allocated again
	 * under its master key: the numbering only moves forward.  ENOENT
	 * for an SPI that names no SA ("no such SA").  Admin.
	 */
	ILP_CMD_SA_DEL,

	__ILP_CMD_MAX,
};
#define ILP_CMD_MAX (__ILP_CMD_MAX - 1)

/*
 * Multicast groups of the family.  "events": ILP_CMD_SA_EXHAUSTING.
 * Joining needs CAP_NET_ADMIN (the events name peers and SPIs).
 */
#define ILP_MCGRP_EVENTS	"events"

/* Top-level attributes: scalars describing the module, then one nest per
 * kind of object.  Later objects (instances, peers, SAs, keys, the decision
 * cache) get their own nest and their own ILP_<OBJ>_A_* enum.
 */
enum ilp_attr {
	ILP_A_UNSPEC,
	ILP_A_PAD,
	ILP_A_VERSION,		/* string: module version, e.g. "0.1.0" */
	ILP_A_FAMILY,		/* u32: the address family number of AF_ILP */
	ILP_A_WIRE_VERSION,	/* u8: ILP_WIRE_VERSION */
	ILP_A_STATS,		/* nest: ILP_STATS_A_* */
	ILP_A_SOCK,		/* nest: ILP_SOCK_A_* */
	ILP_A_INSTANCE,		/* nest: ILP_INSTANCE_A_* */
	ILP_A_KEY,		/* nest: ILP_KEY_A_* */
	ILP_A_SA,		/* nest: ILP_SA_A_* */
	ILP_A_PEER,		/* nest: ILP_PEER_A_* */
	ILP_A_PACKET,		/* nest: ILP_PKT_A_* */
	ILP_A_ACTIONS,		/* nest: ILP_ACT_A_* */
	ILP_A_CACHE,		/* nest: ILP_CACHE_A_* */
	__ILP_A_MAX,
};
#define ILP_A_MAX (__ILP_A_MAX - 1)

/* Inside ILP_A_STATS.  Counters are u64 and count since the namespace was
 * created or since the last ILP_CMD_STATS_RESET.
 */
enum ilp_stats_attr {
	ILP_STATS_A_UNSPEC,
	ILP_STATS_A_PAD,
	ILP_STATS_A_SOCKETS_OPEN,	/* u32 gauge: AF_ILP sockets now open */
	ILP_STATS_A_SOCKETS_CREATED,	/* u64: successful socket() calls */
	ILP_STATS_A_SOCKETS_REFUSED,	/* u64: socket() calls refused (bad type/protocol) */
	ILP_STATS_A_RX_PACKETS,		/* u64: packets that authenticated */
	ILP_STATS_A_RX_BYTES,		/* u64: their PSP payload bytes */
	ILP_STATS_A_DROPS,		/* nest: one u64 per enum ilp_drop_reason */
	ILP_STATS_A_CACHE_HIT,		/* u64: packets the cache decided */
	ILP_STATS_A_CACHE_MISSED,	/* u64: packets sent up to the listener */
	ILP_STATS_A_CACHE_LOST,		/* u64: misses the listener could not take */
	ILP_STATS_A_CACHE_EVICTED,	/* u64: entries evicted for room */
	ILP_STATS_A_TX_PACKETS,		/* u64: packets sealed and sent to peers */
	ILP_STATS_A_CACHE_ENTRIES,	/* u32 gauge */
	ILP_STATS_A_CACHE_CAPACITY,	/* u32 */
	ILP_STATS_A_CACHE_THROTTLED,	/* u64: misses over a CPU's upcall rate (also in LOST) */
	ILP_STATS_A_UPCALL_RATE,	/* u32: upcalls per second each CPU may send, 0 = no limit */
	ILP_STATS_A_UPCALL_BURST,	/* u32: and how many at once */
	ILP_STATS_A_DELIVERED,		/* u64: packets queued to AF_ILP sockets */
	ILP_STATS_A_SENT,		/* u64: packets AF_ILP sockets sent */
	__ILP_STATS_A_MAX,
};
#define ILP_STATS_A_MAX (__ILP_STATS_A_MAX - 1)

/* Inside ILP_A_SOCK. */
enum ilp_sock_attr {
	ILP_SOCK_A_UNSPEC,
	ILP_SOCK_A_PAD,
	ILP_SOCK_A_INODE,	/* u64: the socket's inode, as in /proc/PID/fd */
	ILP_SOCK_A_UID,		/* u32: owner, in the dumping socket's user ns */
	ILP_SOCK_A_TYPE,	/* u16: SOCK_DGRAM */
	ILP_SOCK_A_RMEM,	/* u32: bytes queued for receive */
	ILP_SOCK_A_WMEM,	/* u32: bytes queued for transmit */
	__ILP_SOCK_A_MAX,
};
#define ILP_SOCK_A_MAX (__ILP_SOCK_A_MAX - 1)

/* Inside ILP_A_INSTANCE. */
enum ilp_instance_attr {
	ILP_INSTANCE_A_UNSPEC,
	ILP_INSTANCE_A_PORT,	/* u16: UDP port, host order */
	ILP_INSTANCE_A_SN_ADDR,	/* binary: 4, 16 or (to clear) 0 bytes: the default SN */
	ILP_INSTANCE_A_SN_PORT,	/* u16: its port, default ILP_UDP_PORT */
	__ILP_INSTANCE_A_MAX,
};
#define ILP_INSTANCE_A_MAX (__ILP_INSTANCE_A_MAX - 1)

#define ILP_MASTER_KEY_LEN	32

/* Inside ILP_A_KEY. */
enum ilp_key_attr {
	ILP_KEY_A_UNSPEC,
	ILP_KEY_A_SLOT,		/* u8: 0 or 1 */
	ILP_KEY_A_MASTER,	/* binary, ILP_MASTER_KEY_LEN bytes; write-only */
	ILP_KEY_A_ACTIVE,	/* flag: make @SLOT the active slot */
	ILP_KEY_A_ACTIVE_SLOT,	/* u8, in replies */
	ILP_KEY_A_SLOT_PRESENT,	/* u8, in replies: a slot holding a key */
	/*
	 * u32.  In ILP_CMD_KEY_SET and _ROTATE, with ILP_KEY_A_MASTER only:
	 * the first SPI number (1..0x7fffffff, default 1) the imported key
	 * hands out.  In ILP_CMD_KEY_GET replies, one per installed slot:
	 * the next SPI it will allocate, slot bit included.  An SPI is never
	 * allocated twice under one key: a generated key cannot come back,
	 * and whoever imports a key again must pass the NEXT_SPI it last
	 * reported (docs/protocol.md, "SPIs and master keys").
	 */
	ILP_KEY_A_NEXT_SPI,
	ILP_KEY_A_SLOT_GENERATED,	/* u8, in replies: a slot whose key the kernel made */
	ILP_KEY_A_AEAD_DRIVER,	/* string, in replies: the crypto driver sealing and
				 * opening (e.g. "generic-gcm-aesni-avx"); absent
				 * without an instance */
	__ILP_KEY_A_MAX,
};
#define ILP_KEY_A_MAX (__ILP_KEY_A_MAX - 1)

/* Inside ILP_A_SA. */
enum ilp_sa_attr {
	ILP_SA_A_UNSPEC,
	ILP_SA_A_SPI,		/* u32: in replies, and the SA ILP_CMD_SA_DEL withdraws */
	ILP_SA_A_VERSION,	/* u8: PSP version, 0 or 1 */
	ILP_SA_A_KEY,		/* binary, 16 or 32 bytes, in ILP_CMD_SA_ALLOC replies only */
	/*
	 * binary, 4 (IPv4) or 16 (IPv6) bytes: the peer the SA is for,
	 * required in ILP_CMD_SA_ALLOC.  A packet under the SA whose outer
	 * source address is another is dropped (ILP_DROP_SA_PEER) before it
	 * is decrypted: the SA authenticates the previous hop that the
	 * decision cache and the upcalls name.
	 */
	ILP_SA_A_PEER_ADDR,
	ILP_SA_A_PAD,		/* alignment of the u64s below; ignore */
	ILP_SA_A_PACKETS,	/* u64, in dumps: packets opened under the SA */
	ILP_SA_A_BYTES,		/* u64, in dumps: their bytes (ILP header and payload) */
	__ILP_SA_A_MAX,
};
#define ILP_SA_A_MAX (__ILP_SA_A_MAX - 1)

/* Inside ILP_A_PEER. */
enum ilp_peer_attr {
	ILP_PEER_A_UNSPEC,
	ILP_PEER_A_ADDR,	/* binary: 4 (IPv4) or 16 (IPv6) bytes */
	ILP_PEER_A_PORT,	/* u16, host order; default ILP_UDP_PORT */
	ILP_PEER_A_TX_SPI,	/* u32 */
	ILP_PEER_A_TX_VERSION,	/* u8: 0 or 1 */
	ILP_PEER_A_TX_KEY,	/* binary: 16 (version 0) or 32 (version 1) bytes; write-only */
	ILP_PEER_A_DIRECT,	/* u8: 1 = a host that AF_ILP sockets may reach directly */
	ILP_PEER_A_PAD,		/* alignment of the u64s below; ignore */
	/*
	 * u64, in dumps: packets sealed for the peer since it was added,
	 * under every transmit SA it had, and their bytes (ILP header and
	 * payload).  What came from it is counted per receive SA
	 * (ILP_SA_A_PACKETS), since an SA binds an address, not a port.
	 */
	ILP_PEER_A_TX_PACKETS,
	ILP_PEER_A_TX_BYTES,
	__ILP_PEER_A_MAX,
};
#define ILP_PEER_A_MAX (__ILP_PEER_A_MAX - 1)

/* Inside ILP_A_PACKET. */
enum ilp_pkt_attr {
	ILP_PKT_A_UNSPEC,
	ILP_PKT_A_PREV_ADDR,	/* binary: 4 or 16 bytes */
	ILP_PKT_A_PREV_PORT,	/* u16: the UDP source port (a flow hash), information only */
	ILP_PKT_A_SERVICE,	/* u32 */
	ILP_PKT_A_CONN,		/* u64 */
	ILP_PKT_A_DATA,		/* binary: ILP header and payload */
	ILP_PKT_A_PAD,
	__ILP_PKT_A_MAX,
};
#define ILP_PKT_A_MAX (__ILP_PKT_A_MAX - 1)

/*
 * Inside ILP_A_ACTIONS: what to do with a packet.  Any number of
 * ILP_ACT_A_FORWARD (a copy to each, re-sealed with that peer's transmit
 * SA), or one ILP_ACT_A_DROP.  No action at all also drops.
 */
enum ilp_act_attr {
	ILP_ACT_A_UNSPEC,
	ILP_ACT_A_FORWARD,	/* nest: ILP_PEER_A_ADDR and ILP_PEER_A_PORT */
	ILP_ACT_A_DROP,		/* flag */
	ILP_ACT_A_DELIVER,	/* flag: to the AF_ILP socket bound to the flow */
	__ILP_ACT_A_MAX,
};
#define ILP_ACT_A_MAX (__ILP_ACT_A_MAX - 1)
#define ILP_MAX_FORWARD	16	/* next hops per decision */

/* Inside ILP_A_CACHE. */
enum ilp_cache_attr {
	ILP_CACHE_A_UNSPEC,
	ILP_CACHE_A_PREV_ADDR,	/* binary: 4 or 16 bytes */
	ILP_CACHE_A_PREV_PORT,	/* u16: refused: flows are keyed by the address alone */
	ILP_CACHE_A_SERVICE,	/* u32 */
	ILP_CACHE_A_CONN,	/* u64 */
	ILP_CACHE_A_PACKETS,	/* u64, in replies */
	ILP_CACHE_A_BYTES,	/* u64, in replies */
	ILP_CACHE_A_USED_MS,	/* u64, in replies: ms since the last hit */
	ILP_CACHE_A_CAPACITY,	/* u32: ILP_CMD_CACHE_SET, 1..ILP_CACHE_MAX_CAPACITY */
	ILP_CACHE_A_PAD,
	ILP_CACHE_A_UPCALL_RATE,	/* u32: ILP_CMD_CACHE_SET: upcalls/s per CPU, 0 = no limit */
	ILP_CACHE_A_UPCALL_BURST,	/* u32: ILP_CMD_CACHE_SET: burst per CPU, >= 1 */
	__ILP_CACHE_A_MAX,
};
#define ILP_CACHE_A_MAX (__ILP_CACHE_A_MAX - 1)
#define ILP_CACHE_DEFAULT_CAPACITY	65536
/*
 * The most entries ILP_CACHE_A_CAPACITY may allow (ILP_CMD_CACHE_SET
 * refuses more): about 128 bytes each with one next hop, so at most some
 * 130 MiB of kernel memory per namespace, charged to the memory cgroup of
 * the process that installs the entries.
 */
#define ILP_CACHE_MAX_CAPACITY		(1U << 20)
/*
 * Per network namespace (one instance each): the most peers
 * (ILP_CMD_PEER_NEW refuses more with ENOSPC) and the most receive SAs
 * (ILP_CMD_SA_ALLOC likewise).  Each holds a prepared AES-GCM transform.
 */
#define ILP_MAX_PEERS			16384
#define ILP_MAX_RX_SAS			65536
/*
 * Misses each CPU may send up to the listener: a token bucket per CPU, so
 * that a flood of new connections arriving on one CPU cannot take the
 * listener's whole socket buffer from the others.
 */
#define ILP_UPCALL_DEFAULT_RATE		20000
#define ILP_UPCALL_DEFAULT_BURST	2000

/*
 * What a packet that fails authentication costs is bounded per receive SA
 * (so per peer, as each SA takes packets from one address): each failure
 * takes a token from the SA's bucket, ILP_AUTH_FAIL_BURST deep and
 * refilled at ILP_AUTH_FAIL_RATE per second; while it is empty, packets
 * under the SA are dropped before decryption (ILP_DROP_PSP_AUTH_LIMITED),
 * so a flood of forgeries costs at most BURST + RATE x seconds AES-GCM
 * passes per SA.  Packets that authenticate take no token.
 */
#define ILP_AUTH_FAIL_RATE		100
#define ILP_AUTH_FAIL_BURST		100

/*
 * An instance remembers each (peer, SPI, key) it has installed as a
 * transmit SA, for its whole life (the key by a hash of it, never the key
 * itself), and refuses to install one again (EKEYREJECTED) unless it is
 * the peer's current SPI, whose IV counters then carry on: a nonce is
 * never used twice under one key.  The same SPI under another key (a
 * receiver re-created numbers its SPIs from 1 again) is a new SA.  At
 * most this many in an instance's life (then ENOSPC: the instance must be
 * re-created, and its peers asked for new SAs).
 */
#define ILP_MAX_TX_SAS_INSTALLED	(1U << 20)

/*
 * Why a received packet was dropped: the index of its counter in
 * ILP_STATS_A_DROPS (attribute type = reason + 1).  The first ones are the
 * wire checks of docs/protocol.md, in their order.
 */
enum ilp_drop_reason {
	ILP_DROP_PSP_TRUNC,
	ILP_DROP_PSP_VERSION,
	ILP_DROP_PSP_HDRLEN,
	ILP_DROP_PSP_ALWAYS1,
	ILP_DROP_PSP_NEXTHDR,
	ILP_DROP_PSP_SPI,
	ILP_DROP_PSP_CRYPT_OFF,
	ILP_DROP_PSP_NO_KEY,
	ILP_DROP_PSP_UNKNOWN_SPI,
	ILP_DROP_PSP_AUTH,
	ILP_DROP_ILP_TRUNC,
	ILP_DROP_ILP_VERSION,
	ILP_DROP_ILP_HDRLEN,
	ILP_DROP_ILP_PAST_END,
	ILP_DROP_TLV_TRUNC,
	ILP_DROP_TLV_CRITICAL,
	ILP_DROP_NOMEM,		/* no memory to process the packet */
	ILP_DROP_NO_LISTENER,	/* a miss with no daemon registered */
	ILP_DROP_DECIDED,	/* the decision was to drop */
	ILP_DROP_NO_PEER,	/* a next hop that is not a peer */
	ILP_DROP_NO_TX_SA,	/* a next hop without a transmit SA */
	ILP_DROP_NO_ROUTE,	/* no route to a next hop */
	ILP_DROP_TOO_BIG,	/* the sealed packet would be too big */
	ILP_DROP_NO_SOCKET,	/* for local delivery, but no socket is bound */
	ILP_DROP_RCVBUF,	/* the socket's receive buffer is full */
	ILP_DROP_MTU,		/* longer than the route's (path) MTU to the next hop */
	ILP_DROP_SA_PEER,	/* the SPI's SA is bound to another peer than the outer source */
	ILP_DROP_PSP_AUTH_LIMITED,	/* not decrypted: its SA is over its
					 * authentication-failure bound */
	ILP_DROP_TX_IV_SPENT,	/* the next hop's transmit SA has no IV left on this CPU */
	__ILP_DROP_MAX,
};

#endif /* _UAPI_LINUX_ILP_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ilp/service.h - the execution environment: the C ABI between ilpd and
 * its service modules (version 2)
 *
 * A service module is a shared object in ilpd's plugin directory that
 * exports one symbol, ILP_SERVICE_SYMBOL, a pointer to a struct
 * ilp_service (ILP_SERVICE_EXPORT defines it, in C and in C++).  ilpd
 * refuses a module of an ABI version it does not know, one without the
 * symbol, and one that serves a service ID another loaded module serves.
 * ilpd still loads version 1 modules (symbol "ilp_service_v1").
 *
 * The module never links against ilpd: everything it may ask of the
 * daemon comes through the struct ilp_env_ops table handed to init(), so
 * a module builds with this header alone (pkg-config: ilp-service).
 *
 * Growing without a version bump: every struct that crosses the ABI and
 * may gain members carries its own size, and members are only ever
 * appended.
 *  - struct ilp_service: the module sets size (ILP_SERVICE_INIT does);
 *    ilpd reads only the members that size covers, so an older module
 *    simply lacks the newer entry points, and a newer one's extra members
 *    are not read by an older ilpd.
 *  - struct ilp_env_ops, struct ilp_packet, struct ilp_decision: ilpd sets
 *    size to what it knows; a module reads (and, in the decision, writes)
 *    only members that size covers: test with ILP_HAS_MEMBER().  A module
 *    that needs an entry older ilpds lack refuses the load in init().
 *
 * Threads: ilpd calls one module's handle(), timer callbacks and
 * config_changed() from one thread at a time (the module's own worker), so
 * a module needs no locks for its own state.  handle() must not block: a
 * module that sleeps only delays its own packets (ilpd drops and counts
 * those it cannot queue), never another service's; see docs/services.md.
 *
 * Nothing may unwind through this ABI: a C++ module catches its own
 * exceptions (<ilp/service.hpp> wraps the entry points to do so).
 *
 * Errors are negative errno values; 0 is success.
 */
#ifndef ILP_SERVICE_H
#define ILP_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped only on an incompatible change; growth goes through sizes. */
#define ILP_SERVICE_ABI_VERSION 2

/* The symbol each module exports: const struct ilp_service *const. */
#define ILP_SERVICE_SYMBOL "ilp_service_v2"
#ifdef __cplusplus
/* A declaration directly in extern "C" is extern: exported from C++ too. */
#define ILP_SERVICE_EXPORT(desc)                                               \
	extern "C" __attribute__((visibility("default"))) const struct ilp_service \
		*const ilp_service_v2 = &(desc)
#else
#define ILP_SERVICE_EXPORT(desc)                                               \
	__attribute__((visibility("default"))) const struct ilp_service *const \
		ilp_service_v2 = &(desc)
#endif

/* Whether @ptr (a struct @type with a size member) covers @member. */
#ifdef __cplusplus
#define ILP__MEMBER_SIZE(type, member) sizeof(type::member)
#else
#define ILP__MEMBER_SIZE(type, member) sizeof(((type *)0)->member)
#endif
#define ILP_HAS_MEMBER(type, ptr, member)                                      \
	((ptr)->size >= offsetof(type, member) + ILP__MEMBER_SIZE(type, member))

/* The most next hops one decision forwards to (as the kernel's cache). */
#define ILP_DECISION_MAX_HOPS 16
/* The most bytes of TLVs a decision's rewrite or send() may carry (as a
 * socket's, ILP_METADATA_MAX of <linux/ilp.h>). */
#define ILP_DECISION_MAX_METADATA 1024

/* An ILP node on the underlay: an instance's address and UDP port. */
struct ilp_node {
	uint16_t family;  /* AF_INET or AF_INET6 */
	uint16_t port;    /* host byte order */
	uint8_t addr[16]; /* network order; AF_INET: the first 4 bytes */
};

/* A flow, as the decision cache keys it: the previous hop's address (its
 * port is ignored), the service and the connection. */
struct ilp_flow {
	struct ilp_node prev;
	uint32_t service;
	uint64_t conn;
};

enum ilp_peer_flags {
	/* The previous hop is a configured peer (ilpctl peer add, --peer):
	 * exactly one peer has its address, and node is that peer. */
	ILP_PEER_KNOWN = 1 << 0,
};

/* The previous hop a packet came from.  Its address is authenticated: the
 * packet was decrypted with a receive SA bound to the peer at that address
 * (docs/services.md).  With ILP_PEER_KNOWN, node is the peer as
 * configured, address and port (where it listens, not the flow-hashed
 * source port it sent from); without, node is the outer source address
 * and UDP source port. */
struct ilp_peer {
	struct ilp_node node;
	uint32_t flags; /* enum ilp_peer_flags */
	uint32_t reserved;
};

/* A packet handed to a service, decrypted and authenticated. */
struct ilp_packet {
	uint32_t size; /* set by ilpd: read no member it does not cover */
	uint32_t reserved;
	struct ilp_flow flow;
	const uint8_t *metadata; /* the header's TLVs, ILP's own included */
	size_t metadata_len;
	const uint8_t *payload;
	size_t payload_len;
	struct ilp_peer peer; /* the previous hop (flow.prev, and what ilpd knows of it) */
};

enum ilp_action {
	ILP_ACTION_DROP = 0,
	ILP_ACTION_FORWARD = 1 << 0, /* a copy to each of hops[] */
	ILP_ACTION_DELIVER = 1 << 1, /* to the local socket bound to the flow */
};

/* What a decision's copies carry instead of the packet's own. */
enum ilp_rewrite {
	ILP_REWRITE_METADATA = 1 << 0, /* metadata/metadata_len: all the TLVs */
	ILP_REWRITE_PAYLOAD = 1 << 1,  /* payload/payload_len */
};

/* What to do with a packet, and optionally with the rest of its flow.
 *
 * A rewrite (rewrite non-zero) replaces, in every copy the decision makes
 * (forwarded and delivered alike), the TLVs and/or the payload; the
 * header's service and connection stay.  The buffers are the module's and
 * must stay valid until handle() returns to ilpd (pointing into the
 * packet is fine: ilpd copies before it moves on).  The TLVs a module may
 * set (docs/services.md): any outside ILP's own range (types 0x0100 and
 * up, either critical bit), and of ILP's own only ILP_TLV_SRC_HOST and
 * ILP_TLV_DST_HOST, which a relaying service may rewrite (a mobility
 * service re-addressing, a relay hiding its client).  A bad rewrite drops
 * the packet, counted as an error.
 *
 * A rewritten decision is executed but never installed: the decision
 * cache holds actions, not packets, so install is ignored (each packet of
 * such a flow reaches the module). */
struct ilp_decision {
	uint32_t size;    /* set by ilpd: write no member it does not cover */
	uint32_t actions; /* enum ilp_action bits; 0 drops */
	uint32_t n_hops;
	/* Non-zero: install the decision in the decision cache for the
	 * packet's flow, so its later packets skip the service. */
	uint32_t install;
	/* With install: the entry goes once idle this long; 0: the
	 * daemon's default (idle-timeout in ilpd.conf). */
	uint32_t idle_timeout_ms;
	uint32_t rewrite; /* enum ilp_rewrite bits; 0: copies as received */
	struct ilp_node hops[ILP_DECISION_MAX_HOPS];
	const uint8_t *metadata; /* with ILP_REWRITE_METADATA: whole TLVs */
	size_t metadata_len;     /* a multiple of 4, at most ILP_DECISION_MAX_METADATA */
	const uint8_t *payload;  /* with ILP_REWRITE_PAYLOAD */
	size_t payload_len;
};

/* A cache entry's use, for services that judge their flows. */
struct ilp_flow_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t idle_ms; /* since the last packet (or the install) */
};

enum ilp_log_level {
	ILP_LOG_ERROR = 0,
	ILP_LOG_WARN = 1,
	ILP_LOG_INFO = 2,
	ILP_LOG_DEBUG = 3,
};

struct ilp_env; /* the daemon's side of one loaded module; opaque */

typedef void (*ilp_timer_fn)(void *state, uint64_t cookie);

/* How route_host()'s next hop leads to the host (docs/edomains.md). */
enum ilp_route_via {
	ILP_ROUTE_HOST = 1,    /* associated with this SN: next_hop is the host */
	ILP_ROUTE_SN = 2,      /* at another SN of this edomain: next_hop is it */
	ILP_ROUTE_GATEWAY = 3, /* in another edomain: this edomain's gateway to it */
	ILP_ROUTE_PIPE = 4,    /* in another edomain: this SN's own pipe to it */
};

#define ILP_EDOMAIN_NAME_MAX 64 /* with the NUL */

/* Where a packet for a host goes next from this SN. */
struct ilp_route {
	uint32_t size; /* set by the caller: ilpd writes no member it does not cover */
	uint32_t via;  /* enum ilp_route_via */
	struct ilp_node next_hop;
	struct ilp_node sn; /* the host's SN, its first hop; family 0: unknown */
	char edomain[ILP_EDOMAIN_NAME_MAX]; /* the host's edomain */
};

/* What a module may ask of the daemon.  Every call is safe from handle(),
 * timers and config_changed(); none blocks.  Entries are appended in
 * later versions: call one only when ILP_HAS_MEMBER(struct ilp_env_ops,
 * ops, NAME) says this ilpd has it. */
struct ilp_env_ops {
	uint32_t abi_version; /* ILP_SERVICE_ABI_VERSION of ilpd */
	uint32_t size;        /* sizeof(struct ilp_env_ops) as ilpd knows it */
	/* Sends a packet of @service (one the module serves) on connection
	 * @conn to @to (a peer with a transmit SA), with @metadata (whole
	 * TLVs, none of ILP's own types: -EPERM) and @payload. */
	int (*send)(struct ilp_env *env, uint32_t service, const struct ilp_node *to,
		    uint64_t conn, const uint8_t *metadata, size_t metadata_len,
		    const uint8_t *payload, size_t payload_len);
	/* Installs @d for @flow (a flow of a service the module serves:
	 * else -EPERM), in place of any entry it had.  A decision with a
	 * rewrite cannot be cached: -EINVAL. */
	int (*cache_install)(struct ilp_env *env, const struct ilp_flow *flow,
			     const struct ilp_decision *d);
	/* Removes @flow's entry: -ENOENT if it has none. */
	int (*cache_remove)(struct ilp_env *env, const struct ilp_flow *flow);
	/* Reads @flow's entry's counters: -ENOENT if it has none. */
	int (*cache_stats)(struct ilp_env *env, const struct ilp_flow *flow,
			   struct ilp_flow_stats *out);
	/* The value of configuration @key, or NULL when unset.  Valid
	 * until the module's next return to the daemon. */
	const char *(*config_get)(struct ilp_env *env, const char *key);
	/* Sets configuration @key (persisted with the daemon's state). */
	int (*config_set)(struct ilp_env *env, const char *key, const char *value);
	/* Saves @len bytes as the module's state: given back to init()
	 * after a restart of the daemon.  Replaces the previous one. */
	int (*checkpoint)(struct ilp_env *env, const void *data, size_t len);
	/* Calls @fn(state, @cookie) once, @delay_ms from now, on the
	 * module's thread.  Returns a timer ID (> 0) or a negative errno. */
	int64_t (*timer_add)(struct ilp_env *env, uint32_t delay_ms, ilp_timer_fn fn,
			     uint64_t cookie);
	/* Cancels a timer that has not fired: -ENOENT otherwise. */
	int (*timer_cancel)(struct ilp_env *env, int64_t id);
	/* Logs a line, prefixed with the module's name. */
	void (*log)(struct ilp_env *env, enum ilp_log_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Where a packet for the host at @host (its address and ILP port)
	 * goes next from this SN, by its edomain's core, the lookup service
	 * and the associations up now; fills @out (its size set by the
	 * caller to sizeof(struct ilp_route)).  Never waits: the records are
	 * local copies.  -ENOENT: found nowhere; -EAGAIN: not found while the
	 * core or the lookup service is out of reach (ask again later);
	 * -EHOSTUNREACH: in an edomain no gateway or pipe reaches now;
	 * -EOPNOTSUPP: this ilpd has no edomain core. */
	int (*route_host)(struct ilp_env *env, const struct ilp_node *host,
			  struct ilp_route *out);
	/* Asks for a pipe of this SN's own with @route's SN, a host's SN in
	 * another edomain (as route_host() gave it), so that packets for
	 * that host go there directly instead of through the gateways (the
	 * paper's direct connectivity between edomains).  0: the pipe is up
	 * now, and route_host() answers ILP_ROUTE_PIPE through it;
	 * -EINPROGRESS: it is being set up (ask route_host() again later);
	 * -EPERM: this SN opens no pipes on demand (direct-pipes = no) or
	 * does not trust that edomain; -EINVAL: @route names no SN, or one
	 * of this edomain; -ENOSPC: too many pipes opened on demand already.
	 * The daemon closes such a pipe once no packet used it for
	 * direct-pipe-idle.  Never waits. */
	int (*open_pipe)(struct ilp_env *env, const struct ilp_route *route);
	/* Asks the host at @from, associated with this SN, to set up a
	 * direct pipe with the host at @to, associated with it too (the
	 * paper's direct connectivity: hosts that share a subnet talk with
	 * no SN on the way), so that their packets stop coming here.  Both
	 * must allow direct pipes (their "direct = yes"); @from decides
	 * whether @to is on one of its subnets, and dials it if so.
	 * -EINPROGRESS: asked (once per pair in 10 s); -EPERM: one of them
	 * does not allow it, or this node is no SN; -ENOENT: one of them is
	 * not a host of this SN.  Never waits. */
	int (*open_direct)(struct ilp_env *env, const struct ilp_node *from,
			   const struct ilp_node *to);
	/* Where the copies of a packet for the group @group (its name,
	 * "KEYHEX:LABEL", NUL-terminated) go from this SN, one next hop
	 * each, for a packet that came from @from (docs/multipoint.md,
	 * "Fan-out"): from a host of this SN, which must be a registered
	 * sender (-EPERM otherwise), to this SN's other members, to the SNs
	 * of its edomain with members and to each edomain with members (its
	 * gateway, or this SN's pipe when it is the gateway), one copy per
	 * next hop; from an SN of this edomain, to this SN's members and to
	 * the edomains with members this SN is the gateway to; from an SN
	 * of another edomain, to this SN's members and the SNs of its
	 * edomain with members.  Writes at most @max to @hops and the count
	 * there is to *@n (-ENOSPC when more than @max).  0 with *@n 0: no
	 * member to reach from here.  -EINVAL: not a group's name;
	 * -EOPNOTSUPP: this ilpd keeps no groups.  Never waits. */
	int (*group_hops)(struct ilp_env *env, const char *group, const struct ilp_node *from,
			  struct ilp_node *hops, uint32_t max, uint32_t *n);
	/* Appended in later versions. */
};

/* What a module exports.  Start it with ILP_SERVICE_INIT. */
struct ilp_service {
	uint32_t abi_version; /* ILP_SERVICE_ABI_VERSION */
	uint32_t size;        /* sizeof(struct ilp_service) as the module was built */
	/* The service IDs it serves: service_id to service_id +
	 * service_count - 1, within 1 to 0xfffffeff (0xffffff00 and up are
	 * ilpd's own); a count of 0 is 1. */
	uint32_t service_id;
	uint32_t service_count;
	const char *name; /* short, [a-z0-9_-]: "relay" */
	const char *description;

	/* Sets up the module's state (*@state, handed to every later call).
	 * @saved/@saved_len: the last checkpoint, or NULL/0.  @ops and
	 * @env stay valid until fini() returns.  Non-zero refuses the load. */
	int (*init)(const struct ilp_env_ops *ops, struct ilp_env *env, const void *saved,
		    size_t saved_len, void **state);
	/* Frees the state.  Optional. */
	void (*fini)(void *state);
	/* Decides @pkt: fills @out (zeroed by the daemon, size set: a drop).
	 * A non-zero return drops the packet and is counted as an error. */
	int (*handle)(void *state, const struct ilp_packet *pkt, struct ilp_decision *out);
	/* Configuration @key changed to @value (NULL: unset).  Non-zero
	 * (a negative errno) rejects the change.  Optional. */
	int (*config_changed)(void *state, const char *key, const char *value);
	/* An out-of-band control request for @service (one the module
	 * serves) from @from: a host or SN over its association's control
	 * channel, or this node's own admin or apps through ilpd (then
	 * @from is NULL).  @request is the request's body; the module writes
	 * its answer's body into @reply, at most *@reply_len bytes, and sets
	 * *@reply_len to what it wrote.  Returns 0 or a negative errno, the
	 * answer's status.  Runs on the module's thread, like handle().
	 * Optional: without it, requests are answered -EOPNOTSUPP.  Added
	 * with ABI version 2's first growth: read only when size covers it. */
	int (*on_control)(void *state, uint32_t service, const struct ilp_node *from,
			  const uint8_t *request, size_t request_len, uint8_t *reply,
			  size_t *reply_len);
	/* Appended in later versions, read by ilpd only when size covers
	 * them. */
};

/* The largest body of a control request or of its answer. */
#define ILP_CONTROL_MAX 1000

/* The first members of every module's descriptor. */
#define ILP_SERVICE_INIT                                                        \
	.abi_version = ILP_SERVICE_ABI_VERSION, .size = sizeof(struct ilp_service)

#ifdef __cplusplus
}
#endif

#endif /* ILP_SERVICE_H */

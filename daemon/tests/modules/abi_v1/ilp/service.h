/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ilp/service.h - the execution environment: the C ABI between ilpd and
 * its service modules
 *
 * A service module is a shared object in ilpd's plugin directory that
 * exports one symbol, ILP_SERVICE_SYMBOL, a struct ilp_service whose
 * first member is the ABI version it was built against.  ilpd refuses a
 * module of another ABI version, one without the symbol, and one whose
 * service ID another loaded module already has.
 *
 * The module never links against ilpd: everything it may ask of the
 * daemon comes through the struct ilp_env_ops table handed to init(), so
 * a module builds with this header alone.
 *
 * Threads: ilpd calls one module's handle(), timer callbacks and
 * config_changed() from one thread at a time (the module's own worker), so
 * a module needs no locks for its own state.  handle() must not block: a
 * module that sleeps only delays its own packets (ilpd drops and counts
 * those it cannot queue), never another service's; see docs/services.md.
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

/* Bumped on any incompatible change of what follows. */
#define ILP_SERVICE_ABI_VERSION 1

/* The symbol each module exports: const struct ilp_service. */
#define ILP_SERVICE_SYMBOL "ilp_service_v1"
#define ILP_SERVICE_EXPORT(desc)                                                  \
	__attribute__((visibility("default"))) const struct ilp_service *const \
		ilp_service_v1 = &(desc)

/* The most next hops one decision forwards to (as the kernel's cache). */
#define ILP_DECISION_MAX_HOPS 16

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

/* A packet handed to a service, decrypted and authenticated. */
struct ilp_packet {
	struct ilp_flow flow;
	const uint8_t *metadata; /* the header's TLVs, ILP's own included */
	size_t metadata_len;
	const uint8_t *payload;
	size_t payload_len;
};

enum ilp_action {
	ILP_ACTION_DROP = 0,
	ILP_ACTION_FORWARD = 1 << 0, /* a copy to each of hops[] */
	ILP_ACTION_DELIVER = 1 << 1, /* to the local socket bound to the flow */
};

/* What to do with a packet, and optionally with the rest of its flow. */
struct ilp_decision {
	uint32_t actions; /* enum ilp_action bits; 0 drops */
	uint32_t n_hops;
	struct ilp_node hops[ILP_DECISION_MAX_HOPS];
	/* Non-zero: install the decision in the decision cache for the
	 * packet's flow, so its later packets skip the service. */
	uint32_t install;
	/* With install: the entry goes once idle this long; 0: the
	 * daemon's default (idle-timeout in ilpd.conf). */
	uint32_t idle_timeout_ms;
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

/* What a module may ask of the daemon.  Every call is safe from handle(),
 * timers and config_changed(); none blocks. */
struct ilp_env_ops {
	uint32_t abi_version;
	/* Sends a packet of the module's service on connection @conn to
	 * @to (a peer with a transmit SA), with @metadata (whole TLVs,
	 * none of ILP's own types) and @payload. */
	int (*send)(struct ilp_env *env, const struct ilp_node *to, uint64_t conn,
		    const uint8_t *metadata, size_t metadata_len, const uint8_t *payload,
		    size_t payload_len);
	/* Installs @d for @flow (a flow of the module's own service), in
	 * place of any entry it had. */
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
};

/* What a module exports. */
struct ilp_service {
	uint32_t abi_version; /* ILP_SERVICE_ABI_VERSION */
	uint32_t service_id;  /* the ILP service ID it serves: 1 to 0xfffffffe */
	const char *name;     /* short, [a-z0-9_-]: "relay" */
	const char *description;

	/* Sets up the module's state (*@state, handed to every later call).
	 * @saved/@saved_len: the last checkpoint, or NULL/0.  @ops and
	 * @env stay valid until fini() returns.  Non-zero refuses the load. */
	int (*init)(const struct ilp_env_ops *ops, struct ilp_env *env, const void *saved,
		    size_t saved_len, void **state);
	/* Frees the state.  Optional. */
	void (*fini)(void *state);
	/* Decides @pkt: fills @out (zeroed by the daemon: a drop).  A
	 * non-zero return drops the packet and is counted as an error. */
	int (*handle)(void *state, const struct ilp_packet *pkt, struct ilp_decision *out);
	/* Configuration @key changed to @value (NULL: unset).  Non-zero
	 * (a negative errno) rejects the change.  Optional. */
	int (*config_changed)(void *state, const char *key, const char *value);
};

#ifdef __cplusplus
}
#endif

#endif /* ILP_SERVICE_H */

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Version 1 of the service ABI, frozen: the structs of <ilp/service.h> as
 * they were before version 2, which ilpd still loads.  Not installed: no
 * new module is built against it.  The members shared with version 2
 * (struct ilp_node, ilp_flow, ilp_flow_stats, the enums, ilp_timer_fn)
 * did not change and come from <ilp/service.h>.
 *
 * Never edit: a built version 1 module has this layout compiled in.
 */
#ifndef ILPD_SERVICE_ABI_V1_H
#define ILPD_SERVICE_ABI_V1_H

#include <ilp/service.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ILP_SERVICE_ABI_VERSION_1 1
#define ILP_SERVICE_SYMBOL_V1 "ilp_service_v1"

struct ilp_packet_v1 {
	struct ilp_flow flow;
	const uint8_t *metadata;
	size_t metadata_len;
	const uint8_t *payload;
	size_t payload_len;
};

struct ilp_decision_v1 {
	uint32_t actions;
	uint32_t n_hops;
	struct ilp_node hops[ILP_DECISION_MAX_HOPS];
	uint32_t install;
	uint32_t idle_timeout_ms;
};

struct ilp_env_ops_v1 {
	uint32_t abi_version;
	int (*send)(struct ilp_env *env, const struct ilp_node *to, uint64_t conn,
		    const uint8_t *metadata, size_t metadata_len, const uint8_t *payload,
		    size_t payload_len);
	int (*cache_install)(struct ilp_env *env, const struct ilp_flow *flow,
			     const struct ilp_decision_v1 *d);
	int (*cache_remove)(struct ilp_env *env, const struct ilp_flow *flow);
	int (*cache_stats)(struct ilp_env *env, const struct ilp_flow *flow,
			   struct ilp_flow_stats *out);
	const char *(*config_get)(struct ilp_env *env, const char *key);
	int (*config_set)(struct ilp_env *env, const char *key, const char *value);
	int (*checkpoint)(struct ilp_env *env, const void *data, size_t len);
	int64_t (*timer_add)(struct ilp_env *env, uint32_t delay_ms, ilp_timer_fn fn,
			     uint64_t cookie);
	int (*timer_cancel)(struct ilp_env *env, int64_t id);
	void (*log)(struct ilp_env *env, enum ilp_log_level level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
};

struct ilp_service_v1 {
	uint32_t abi_version; /* 1 */
	uint32_t service_id;
	const char *name;
	const char *description;
	int (*init)(const struct ilp_env_ops_v1 *ops, struct ilp_env *env, const void *saved,
		    size_t saved_len, void **state);
	void (*fini)(void *state);
	int (*handle)(void *state, const struct ilp_packet_v1 *pkt, struct ilp_decision_v1 *out);
	int (*config_changed)(void *state, const char *key, const char *value);
};

#ifdef __cplusplus
}
#endif

#endif /* ILPD_SERVICE_ABI_V1_H */

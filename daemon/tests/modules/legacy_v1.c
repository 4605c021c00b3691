/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A version 1 module, built against the version 1 header as it was
 * released (abi_v1/ilp/service.h, a verbatim copy): service 150,
 * "legacy".  ilpd must still load it and call it with the version 1
 * structs.  It returns each packet to its sender; "send" makes it answer
 * "sent" through version 1's send(); "install" installs the decision.
 */
#include <string.h>

#include <ilp/service.h>

#if ILP_SERVICE_ABI_VERSION != 1
#error "legacy_v1.c must be built against the version 1 header"
#endif

static const struct ilp_env_ops *legacy_ops;
static struct ilp_env *legacy_env;

static int legacy_init(const struct ilp_env_ops *ops, struct ilp_env *env, const void *saved,
		       size_t saved_len, void **state)
{
	(void)saved;
	(void)saved_len;
	if (ops->abi_version != 1)
		return -22;
	legacy_ops = ops;
	legacy_env = env;
	*state = NULL;
	return 0;
}

static int legacy_handle(void *state, const struct ilp_packet *pkt, struct ilp_decision *out)
{
	(void)state;
	if (pkt->payload_len == 4 && !memcmp(pkt->payload, "send", 4)) {
		return legacy_ops->send(legacy_env, &pkt->flow.prev, pkt->flow.conn, NULL, 0,
					(const uint8_t *)"sent", 4);
	}
	out->actions = ILP_ACTION_FORWARD;
	out->n_hops = 1;
	out->hops[0] = pkt->flow.prev;
	out->install = pkt->payload_len == 7 && !memcmp(pkt->payload, "install", 7);
	out->idle_timeout_ms = out->install ? 4321 : 0;
	return 0;
}

static const struct ilp_service legacy = {
    .abi_version = ILP_SERVICE_ABI_VERSION,
    .service_id = 150,
    .name = "legacy",
    .description = "a version 1 module",
    .init = legacy_init,
    .handle = legacy_handle,
};

ILP_SERVICE_EXPORT(legacy);

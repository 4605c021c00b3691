/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A module whose handle() blocks for 2 s on every packet (service 500,
 * "sleepy"): what the ABI forbids, for the host's isolation test.
 */
#include <time.h>

#include <ilp/service.h>

static int sleepy_init(const struct ilp_env_ops *ops, struct ilp_env *env, const void *saved,
		       size_t saved_len, void **state)
{
	(void)ops;
	(void)env;
	(void)saved;
	(void)saved_len;
	*state = NULL;
	return 0;
}

static int sleepy_handle(void *state, const struct ilp_packet *pkt, struct ilp_decision *out)
{
	struct timespec ts = {.tv_sec = 2};

	(void)state;
	while (nanosleep(&ts, &ts) != 0)
		;
	out->actions = ILP_ACTION_FORWARD;
	out->n_hops = 1;
	out->hops[0] = pkt->flow.prev;
	return 0;
}

static const struct ilp_service sleepy = {
    ILP_SERVICE_INIT,
    .service_id = 500,
    .name = "sleepy",
    .description = "blocks in handle()",
    .init = sleepy_init,
    .handle = sleepy_handle,
};

ILP_SERVICE_EXPORT(sleepy);

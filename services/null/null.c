/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * null - service 7: returns each packet to its sender
 *
 * The least a service can do, for benchmarks of the path a miss takes
 * through ilpd: each packet is forwarded back to its previous hop (its
 * port included).  Configuration:
 *
 *	install = yes|no	install the decision in the decision cache,
 *				so a flow's later packets skip the service
 *				(default no: every packet is a miss)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ilp/service.h>

struct null_state {
	int install;
};

/* 1 or 0 for "yes" or "no"; -EINVAL for anything else. */
static int parse_install(const char *value)
{
	if (!value || !strcmp(value, "no"))
		return 0;
	if (!strcmp(value, "yes"))
		return 1;
	return -EINVAL;
}

static int null_init(const struct ilp_env_ops *ops, struct ilp_env *env, const void *saved,
		     size_t saved_len, void **state)
{
	struct null_state *s;
	int install = parse_install(ops->config_get(env, "install"));

	(void)saved;
	(void)saved_len;
	if (install < 0) {
		ops->log(env, ILP_LOG_ERROR, "install must be yes or no");
		return install;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->install = install;
	*state = s;
	return 0;
}

static void null_fini(void *state)
{
	free(state);
}

static int null_handle(void *state, const struct ilp_packet *pkt, struct ilp_decision *out)
{
	const struct null_state *s = state;

	out->actions = ILP_ACTION_FORWARD;
	out->n_hops = 1;
	out->hops[0] = pkt->flow.prev;
	out->install = s->install;
	return 0;
}

static int null_config_changed(void *state, const char *key, const char *value)
{
	struct null_state *s = state;
	int install;

	if (strcmp(key, "install"))
		return -EINVAL; /* no other key: a typo should not pass silently */
	install = parse_install(value);
	if (install < 0)
		return install;
	s->install = install;
	return 0;
}

static const struct ilp_service null_service = {
    ILP_SERVICE_INIT,
    .service_id = 7,
    .name = "null",
    .description = "returns each packet to its sender (for benchmarks)",
    .init = null_init,
    .fini = null_fini,
    .handle = null_handle,
    .config_changed = null_config_changed,
};

ILP_SERVICE_EXPORT(null_service);
